# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Code objects that die right after their one allocation, so that their addresses are reused
by the next ones (tests/integration/test_pyframes.py): function f<i> is defined at line i + 1
of its own source and allocates there. Even ones are kept alive (the profile must name every
one of them); odd ones die at once (named right, or not at all: never by another's name)."""
import gc

import benchmem


def main():
    keep, alive = [], []
    with benchmem.region("work"):
        for i in range(300):
            src = "\n" * i + f"def f{i}():\n    return bytearray(3000 + {i})\n"
            scope = {}
            exec(compile(src, f"gen{i % 7}.py", "exec"), scope)
            keep.append(scope[f"f{i}"]())
            if i % 2 == 0:
                alive.append(scope[f"f{i}"])
            del scope
            gc.collect()
    return keep, alive


if __name__ == "__main__":
    main()

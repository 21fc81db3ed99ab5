# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Code objects whose file name and name strings die with them and whose memory the next ones'
strings take (tests/integration/test_pyframes.py): generation i compiles function f<i:05d> from
file strreuse/g<i:05d>.py, all names of one length (so a freed one's memory fits the next one
exactly), calls it once (one allocation, named by the daemon only a drain period later) and
drops everything, then makes same-length strings of other text to take any slot left free.
Every 4th generation is kept alive (the profile must name those); the others are named right
or not at all, never with another generation's file name. argv[1]: generations (400)."""
import gc
import sys

import benchmem


def filename(i):
    return f"strreuse/g{i:05d}.py"


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 400
    keep, alive = [], []
    with benchmem.region("work"):
        for i in range(n):
            # the body grows with i % 5: code objects of five sizes, so a freed one's memory
            # is not simply the next one's (the strings are what gets reused first)
            body = "    x = 0\n" * (i % 5)
            src = "\n" * (i % 9) + f"def f{i:05d}():\n{body}    return bytearray(3000 + {i})\n"
            scope = {}
            exec(compile(src, filename(i), "exec"), scope)
            keep.append(scope[f"f{i:05d}"]())
            if i % 4 == 0:
                alive.append(scope[f"f{i:05d}"])
            del scope, src
            gc.collect()
            decoys = [f"strreuse/z{i:05d}.py" for _ in range(4)]
            decoys += [f"q{i:05d}" for _ in range(4)]  # the length of a function's name
            del decoys
    return keep, alive


if __name__ == "__main__":
    main()

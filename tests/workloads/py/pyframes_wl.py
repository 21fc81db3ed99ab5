# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python workload with known allocating functions for tests/integration/test_pyframes.py.
Every block is > 512 bytes, so pymalloc hands it to malloc, where the probes see it. The
"# at:NAME" comments mark the lines the test expects the profiles to name."""
import json
import threading
import zlib

import benchmem


def make_row(i):
    return bytearray(1024 + i % 8)  # at:make_row


def make_rows(n):
    rows = []
    for i in range(n):
        rows.append(make_row(i))  # at:make_rows
    return rows


def chunks(n):
    for _ in range(n):
        yield bytearray(2048)  # at:chunks


def consume(n):
    return list(chunks(n))  # at:consume


class Store:
    def fill(self, n):
        self.items = []
        for _ in range(n):
            self.items.append(bytearray(4096))  # at:fill
        return self


def parse(n):
    doc = json.dumps([{"k": "v" * 1000} for _ in range(n)])
    return json.loads(doc)  # at:parse


def compress(n):
    return zlib.compress(bytes(n), 1)  # at:compress


def deep(n):
    if n:
        return deep(n - 1)  # at:deep_call
    return bytearray(5000)  # at:deep


def worker(n, out):
    mine = []
    for _ in range(n):
        mine.append(bytearray(8192))  # at:worker
    out.append(mine)


def main():
    with benchmem.region("work"):
        out = []
        t = threading.Thread(target=worker, args=(60, out), name="pyworker")
        t.start()
        t.join()
        first = deep(100)  # deeper than the 64 frames kept: the innermost ones stay
        keep = [make_rows(300), consume(200), Store().fill(100), parse(50), compress(1 << 20)]  # at:main
        keep.append(first)
    return keep, out


if __name__ == "__main__":
    main()

#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/pystack.py — malloc-sized allocations (bytearray(1024): past pymalloc's 512-byte
limit, so each is one malloc and one free) made DEPTH Python frames deep, N times, timed by
itself. Prints one `bench=pystack ...` line; events = 2 N allocator calls. A third argument
HOLD keeps the process alive HOLD seconds after that line (make bench reads the probes'
run-time statistics then)."""

import sys
import time


def down(depth, n):
    if depth > 1:
        return down(depth - 1, n)
    t0 = time.monotonic_ns()
    for _ in range(n):
        b = bytearray(1024)
        del b
    return time.monotonic_ns() - t0


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 200000
    depth = int(sys.argv[2]) if len(sys.argv) > 2 else 20
    ns = down(depth, n)
    print(f"bench=pystack n={n} depth={depth} events={2 * n} elapsed_ns={ns}", flush=True)
    if len(sys.argv) > 3:
        time.sleep(float(sys.argv[3]))


if __name__ == "__main__":
    main()

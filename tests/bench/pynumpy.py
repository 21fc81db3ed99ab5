#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/pynumpy.py — NumPy temporaries: ITERATIONS (default 300) rounds of vectorised
arithmetic on 100,000-element arrays (each expression allocates a fresh 800 KB buffer) plus a
handful of small arrays, timed by itself. Prints one `bench=pynumpy ...` line."""

import sys
import time

import numpy as np


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 300
    rng = np.random.default_rng(1)
    a = rng.random(100_000)
    b = rng.random(100_000)
    acc = 0.0
    t0 = time.monotonic_ns()
    for i in range(n):
        c = a * 2.0 + b          # two temporaries
        d = np.sqrt(c) - a       # two more
        e = np.sort(d[::4])      # a copy of a strided view
        small = [np.arange(j % 50 + 1) for j in range(20)]
        acc += float(e[0]) + float(small[-1].sum())
    ns = time.monotonic_ns() - t0
    print(f"bench=pynumpy iterations={n} checksum={int(acc)} elapsed_ns={ns}", flush=True)


if __name__ == "__main__":
    main()

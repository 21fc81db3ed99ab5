#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/pyjson.py — CPython object churn: json.dumps/json.loads of a nested structure,
ITERATIONS times (default 40), timed by itself. Prints one `bench=pyjson ...` line."""

import json
import sys
import time


def build(depth, width, seed=[0]):
    """A nested document of dicts, lists, strings, ints and floats (about width**depth leaves)."""
    seed[0] += 1
    if depth == 0:
        k = seed[0]
        return {"id": k, "name": f"item-{k}", "score": k * 0.5, "tags": ["a", "b", str(k % 7)],
                "ok": k % 2 == 0, "none": None}
    return {f"k{i}": build(depth - 1, width) if i % 2 == 0 else [build(depth - 1, width)]
            for i in range(width)}


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 40
    doc = build(4, 6)
    size = 0
    t0 = time.monotonic_ns()
    for _ in range(n):
        text = json.dumps(doc)
        back = json.loads(text)
        size = len(text)
        del back
    ns = time.monotonic_ns() - t0
    print(f"bench=pyjson iterations={n} json_bytes={size} elapsed_ns={ns}", flush=True)


if __name__ == "__main__":
    main()

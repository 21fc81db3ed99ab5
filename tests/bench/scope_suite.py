# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/scope_suite.py — a pytest-benchmark suite of allocation-heavy functions whose
live bytes are known: what each call leaves live is served by malloc (the object headers come
from pymalloc's arenas, which these do not grow); build_blocks makes 201 malloc calls a call,
so a trace left on during the timed rounds shows in its time. Run plain and under
`benchmem-run -- pytest --benchmark-memory` by tests/integration/test_scope.py and by
`make bench` (bench_scope.py); not collected by the project's own test run (its name)."""
import sys
import pytest

TUPLE = tuple(range(50_000))
KEYS = frozenset(range(20_000))


def build_list():
    return list(TUPLE)


def build_dict():
    return dict.fromkeys(KEYS)


def build_block():
    return bytearray(300_000)


def build_blocks():
    out = [None] * 200  # one block of the list's final size: no growth by realloc
    for i in range(200):
        out[i] = bytearray(600)
    return out


def build_rows():
    return [(i, i) for i in range(2000)]


FUNCS = {"list": build_list, "dict": build_dict, "block": build_block, "blocks": build_blocks,
         "rows": build_rows}
# the bytes each call leaves live and its malloc calls (rows grows its list by realloc: no
# figure known beforehand, the same in every pass)
EXPECTED = {
    "list": sys.getsizeof(build_list()) - sys.getsizeof([]),
    "dict": sys.getsizeof(build_dict()) - sys.getsizeof({}),
    "block": sys.getsizeof(build_block()) - sys.getsizeof(bytearray()),
    "blocks": sys.getsizeof(build_blocks()) - sys.getsizeof([])
    + sum(sys.getsizeof(b) - sys.getsizeof(bytearray()) for b in build_blocks()),
}
ALLOCATIONS = {"list": 1, "dict": 1, "block": 1, "blocks": 201}


@pytest.mark.benchmem(repeats=3)
@pytest.mark.parametrize("kind", list(FUNCS))
def test_build(benchmark, kind):
    benchmark(FUNCS[kind])

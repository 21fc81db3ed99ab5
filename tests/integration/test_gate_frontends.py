# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""One gate, two front ends: the pytest plugin's --benchmark-memory-compare-fail and
`benchmemctl gate` over the same baseline/current pair and rules give the same verdict and the
same hit lines (the plugin asks lib/gate through benchmem.gate; it has no rule of its own).
The numbers come from the scripted fake collector, so every line is known exactly."""
import os
import re
import subprocess
import sys
import time

import pytest

from conftest import BUILD, PYCLIENT
from test_pytest_plugin import run_suite

CTL = str(BUILD / "benchmemctl")
MiB = 1 << 20
RULES = ["peak:10%", "peak:1MiB", "peak:20%+1MiB", "allocations:5"]

SUITE = """
@pytest.mark.benchmem(repeats=3)
@pytest.mark.parametrize("name", ["grow", "zero", "floor", "allocs", "same"])
def test_m(benchmark, name):
    benchmark(work)
"""

# (peak, allocations) of passes 0, 1, 2 per id, before and after. The headline is the
# min-peak pass: test_m[allocs] goes 10 -> 16 allocations (pass 1), while its minimum (1 -> 1)
# and its maximum (2 -> 99) would say otherwise.
BEFORE = {"grow": [(MiB, 10)] * 3, "zero": [(0, 1)] * 3, "floor": [(2 * MiB, 5)] * 3,
          "allocs": [(3000, 1), (1000, 10), (2000, 2)], "same": [(4096, 7)] * 3}
AFTER = {"grow": [(5 * MiB // 2, 10)] * 3, "zero": [(5 * MiB, 1)] * 3,
         "floor": [(2 * MiB * 13 // 10, 5)] * 3,
         "allocs": [(3000, 1), (1000, 16), (2000, 99)], "same": [(4096, 7)] * 3}

# benchmemctl gate's order: rules in order, ids in natural order
WANT = [
    "peak         test_m[floor]: 2.00 MiB \u2192 2.60 MiB (+30.0%) [peak:10%]",
    "peak         test_m[grow]: 1.00 MiB \u2192 2.50 MiB (+150.0%) [peak:10%]",
    "peak         test_m[grow]: 1.00 MiB \u2192 2.50 MiB (+150.0%) [peak:1MiB]",
    "peak         test_m[zero]: 0 B \u2192 5.00 MiB (new) [peak:1MiB]",
    "peak         test_m[grow]: 1.00 MiB \u2192 2.50 MiB (+150.0%) [peak:20%+1MiB]",
    "allocations  test_m[allocs]: 10 \u2192 16 (+60.0%) [allocations:5]",
]


def script(fc, table):
    def numbers(region, r):
        peak, allocs = table[region.split("[")[1].rstrip("]")][r]
        return {"peak_bytes": peak, "total_bytes": peak, "allocations": allocs, "wall_ns": 1}
    fc.numbers = numbers


TIMING = ("--benchmark-min-rounds=1", "--benchmark-max-time=0.0001", "--benchmark-warmup=off")


def plugin_lines(out):
    """The plugin's summary lines (benchmemctl gate's, indented by two)."""
    lines = out.splitlines()
    at = lines.index("Memory regressions over threshold:")
    return [ln[2:] for ln in lines[at + 1:] if ln.startswith("  ")]


def gate(*args):
    return subprocess.run([CTL, "gate", *map(str, args)], capture_output=True, text=True,
                          env=dict(os.environ, NO_COLOR="1"), timeout=60)


@pytest.fixture
def saved(tmp_path, fake_collector, pyenv):
    """The baseline run, saved in pytest-benchmark's storage: (its file, the storage)."""
    script(fake_collector, BEFORE)
    storage = tmp_path / "storage"
    run = run_suite(tmp_path, pyenv(fake_collector.path), SUITE, *TIMING,
                    f"--benchmark-storage=file://{storage}", "--benchmark-save=base")
    assert run.returncode == 0, run.stdout + run.stderr
    (base,) = storage.glob("*/0001_base.json")
    return base, storage


def test_plugin_and_benchmemctl_gate_agree(tmp_path, fake_collector, pyenv, saved):
    base, storage = saved
    script(fake_collector, AFTER)
    run = run_suite(tmp_path, pyenv(fake_collector.path), SUITE, *TIMING,
                    f"--benchmark-storage=file://{storage}", "--benchmark-json=bench.json",
                    *(f"--benchmark-memory-compare-fail={r}" for r in RULES))
    g = gate(base, tmp_path / "suite" / "bench.json",
             *(a for r in RULES for a in ("--fail-on", r)))
    print(run.stdout + "\n" + g.stdout + g.stderr)
    # the same verdict ...
    assert (run.returncode, g.returncode) == (1, 1), run.stdout + run.stderr + g.stderr
    assert "4 failed, 1 passed" in run.stdout, run.stdout
    # ... and the same lines, which are the ones lib/gate prints
    assert [ln[2:] for ln in g.stdout.splitlines()[1:]] == WANT
    assert sorted(plugin_lines(run.stdout)) == sorted(WANT)
    # each failed test names its hits in pytest-benchmem's words, C's parts
    assert "test_m[zero]: memory regression: peak new (0 B -> 5.00 MiB) over peak:1MiB" \
        in run.stdout
    assert ("test_m[grow]: memory regression: peak +150.0% (1.00 MiB -> 2.50 MiB) over "
            "peak:10%; peak +150.0% (1.00 MiB -> 2.50 MiB) over peak:1MiB; peak +150.0% "
            "(1.00 MiB -> 2.50 MiB) over peak:20%+1MiB") in run.stdout
    assert "test_m[allocs]: memory regression: allocations +60.0% (10 -> 16) over " \
        "allocations:5" in run.stdout
    # the compare's base column and change are lib/gate's headline peaks
    assert re.search(r"test_m\[floor\] .*\s2,097,152\s+\+30\.0%$", run.stdout, re.M), run.stdout
    assert re.search(r"test_m\[zero\] .*\s0\s+—$", run.stdout, re.M), run.stdout

    # under rules that nothing breaks both pass
    run = run_suite(tmp_path, pyenv(fake_collector.path), SUITE, *TIMING,
                    f"--benchmark-storage=file://{storage}",
                    "--benchmark-memory-compare-fail=peak:200%")
    g = gate(base, tmp_path / "suite" / "bench.json", "--fail-on", "peak:200%")
    assert (run.returncode, g.returncode) == (0, 0), run.stdout + g.stdout


def test_rss_rule_without_rss_fails_the_test_with_the_gates_reason(tmp_path, fake_collector,
                                                                    pyenv, saved):
    base, storage = saved
    run = run_suite(tmp_path, pyenv(fake_collector.path), SUITE, *TIMING,
                    f"--benchmark-storage=file://{storage}", "--benchmark-json=bench.json",
                    "--benchmark-memory-compare-fail=rss:10%")
    g = gate(base, tmp_path / "suite" / "bench.json", "--fail-on", "rss:10%")
    assert run.returncode == 1 and g.returncode == 2, run.stdout + g.stderr
    assert "5 failed" in run.stdout
    why = ("--fail-on rss:10%: no rss data: no benchmark has rss_bytes in both {} and {} "
           "(mark the benchmarks isolate=True)")
    assert why.format("0001_base", "bench") in g.stderr
    assert ("test_m[same]: memory regression: " + why.format("0001_base", "current")) \
        in run.stdout


@pytest.mark.parametrize("rule,why", [
    ("heap:10%", "'heap:10%': unknown field 'heap' (peak, allocated, allocations, rss)"),
    ("peak:10%+", "'peak:10%+': '' is not a number"),
    ("allocations:10%+5KiB", "'allocations:10%+5KiB': '5KiB' is not a count (allocations "
                             "take a bare number, no unit)"),
    ("time:5%", "'time:5%': time is not a memory field (gate time with pytest-benchmark's "
                "--benchmark-compare-fail)"),
])
def test_bad_rule_is_the_c_parsers_one_line(tmp_path, fake_collector, pyenv, rule, why):
    g = gate("--check", "--fail-on", "peak:1%", "--fail-on", rule)
    assert g.returncode == 2 and g.stderr == f"benchmemctl gate: error: --fail-on {why}\n"
    run = run_suite(tmp_path, pyenv(fake_collector.path), SUITE,
                    "--benchmark-memory-compare-fail=peak:1%",
                    f"--benchmark-memory-compare-fail={rule}")
    assert run.returncode == 4 and run.calls == 0, run.stdout + run.stderr
    assert run.stderr.strip() == f"ERROR: --benchmark-memory-compare-fail {why}"
    assert gate("--check", "--fail-on", "peak:20%+8MiB").returncode == 0


def test_cost_of_one_gate_call(tmp_path):
    """What a gated test with a baseline pays: one benchmemctl run (printed; bounded loosely)."""
    sys.path.insert(0, str(PYCLIENT))
    from benchmem import gate as cgate

    blob = {"peak_bytes": [MiB, 2 * MiB, 3 * MiB], "total_bytes": [1, 2, 3],
            "allocations": [1, 2, 3]}
    n, began = 50, time.perf_counter()
    for _ in range(n):
        verdict = cgate.judge(["peak:10%"], {"t.py::test_a": blob}, {"t.py::test_a": blob})
    each = (time.perf_counter() - began) / n
    print(f"benchmem.gate.judge: {1000 * each:.2f} ms per call")
    assert not verdict and verdict.pairs[0]["cur"]["peak_bytes"] == MiB
    assert each < 0.5


def test_fixture_result_is_the_c_headline(tmp_path, fake_collector, pyenv):
    # the min-peak pass is pass 1: its allocations (10), not their minimum (1)
    script(fake_collector, {"x": [(3000, 1), (1000, 10), (2000, 2)]})
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        @pytest.mark.benchmem(repeats=3)
        @pytest.mark.parametrize("name", ["x"])
        def test_r(benchmark_memory, name):
            benchmark_memory(work)
            assert benchmark_memory.result == {"peak": 1000, "allocated": 1000,
                                               "allocations": 10, "rss": None}
            assert benchmark_memory.peak_bytes == 1000
    """, *TIMING)
    assert run.returncode == 0, run.stdout + run.stderr

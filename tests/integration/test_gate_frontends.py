# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""One gate, two front ends: the pytest plugin's --benchmark-memory-compare-fail and
`benchmemctl gate` over the same baseline/current pair and rules give the same verdict and the
same hit lines (the plugin asks lib/gate through benchmem.gate; it has no rule of its own).
The numbers come from the scripted fake collector, so every line is known exactly."""
import json
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
    """What a gated test with a baseline pays: one benchmemctl run; the same for a test with a
    marker ceiling, and for each entry ASV and pyperf write (its headline). Printed; bounded
    loosely."""
    sys.path.insert(0, str(PYCLIENT))
    from benchmem import gate as cgate
    from benchmem import results

    blob = {"peak_bytes": [MiB, 2 * MiB, 3 * MiB], "total_bytes": [1, 2, 3],
            "allocations": [1, 2, 3]}
    calls = {
        "benchmem.gate.judge": lambda: cgate.judge(["peak:10%"], {"t.py::test_a": blob},
                                                   {"t.py::test_a": blob}),
        "benchmem.gate.ceilings": lambda: cgate.ceilings({"max_peak": 3 * MiB}, "t.py::test_a",
                                                         blob),
        "benchmem.results.entry": lambda: results.entry("t.py::test_a", dict(blob)),
        "benchmem.gate.limit (uncached)": lambda: cgate.limit.__wrapped__("--max-peak",
                                                                          "100 MiB"),
    }
    n, got = 30, {}
    for what, call in calls.items():
        began = time.perf_counter()
        for _ in range(n):
            got[what] = call()
        each = (time.perf_counter() - began) / n
        print(f"{what}: {1000 * each:.2f} ms per call")
        assert each < 0.5, what
    verdict = got["benchmem.gate.judge"]
    assert not verdict and verdict.pairs[0]["cur"]["peak_bytes"] == MiB
    assert not got["benchmem.gate.ceilings"]
    assert got["benchmem.results.entry"]["extra_info"]["benchmem_meta"]["headline"] == {
        "peak_bytes": MiB, "total_bytes": 1, "allocations": 1}
    assert got["benchmem.gate.limit (uncached)"] == 100 * MiB


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


# ---- the marker's ceilings --------------------------------------------------------------------

# id: ((peak, allocated, allocations) of passes 0, 1, 2, the marker's ceilings). Exactly at a
# ceiling passes; one over fails; the worst pass is judged, not the headline (min-peak) pass.
CEILINGS = {
    "at": ([(2 * MiB, 1, 1), (3 * MiB, 1, 1), (MiB, 1, 1)], {"max_peak": "3MiB"}),
    "over": ([(2 * MiB, 1, 1), (3 * MiB + 1, 1, 1), (MiB, 1, 1)], {"max_peak": "3 MiB"}),
    "bytes": ([(999, 1, 1), (1000, 1, 1), (998, 1, 1)], {"max_peak": 999}),
    "alloc_at": ([(1, 5 * MiB, 16)] * 3, {"max_allocated": 5 * MiB, "max_allocations": 16}),
    "alloc_over": ([(1, 5 * MiB + 4096, 10), (1, 1, 17), (1, 1, 1)],
                   {"max_allocated": "5MiB", "max_allocations": "16"}),
    "both": ([(2 * MiB, 1, 40)] * 3, {"max_peak": "1MiB", "max_allocations": 39}),
    "within": ([(MiB, 2 * MiB, 7)] * 3, {"max_peak": "1GiB", "max_allocated": "2MiB"}),
}


def test_marker_ceilings_and_benchmemctl_gate_agree(tmp_path, fake_collector, pyenv):
    def numbers(region, r):
        peak, total, allocs = CEILINGS[region.split("[")[1].rstrip("]")][0][r]
        return {"peak_bytes": peak, "total_bytes": total, "allocations": allocs, "wall_ns": 1}
    fake_collector.numbers = numbers
    params = "".join(f"    pytest.param({name!r}, marks=pytest.mark.benchmem(repeats=3, "
                     f"{', '.join(f'{k}={v!r}' for k, v in kw.items())})),\n"
                     for name, (_, kw) in CEILINGS.items())
    suite = f"@pytest.mark.parametrize('name', [\n{params}])\n" \
        "def test_c(benchmark, name):\n    benchmark(work)\n"
    run = run_suite(tmp_path, pyenv(fake_collector.path), suite, *TIMING, "-rA")
    print(run.stdout)
    failed = set()
    for name, (passes, kw) in CEILINGS.items():
        fullname = f"test_suite.py::test_c[{name}]"
        blob = {k: [p[i] for p in passes]
                for i, k in enumerate(("peak_bytes", "total_bytes", "allocations"))}
        doc = tmp_path / f"{name}.json"
        doc.write_text(json.dumps({"benchmarks": [
            {"fullname": fullname, "name": f"test_c[{name}]",
             "extra_info": {"benchmem": blob}}]}))
        g = gate(doc, doc, *(f"--{k.replace('_', '-')}={v}" for k, v in kw.items()))
        hits = [ln[2:] for ln in g.stdout.splitlines()[1:]] if g.returncode == 1 else []
        assert g.returncode in (0, 1), g.stderr
        # the same verdict: the plugin's test fails exactly when benchmemctl gate exits 1 ...
        outcome = "FAILED" if hits else "PASSED"
        assert re.search(rf"^{outcome} {re.escape(fullname)}( |$)", run.stdout, re.M), \
            (name, g.stdout, run.stdout)
        if hits:
            failed.add(name)
            # ... and the same words: the first hit's line after its kind column
            kind, what = hits[0].split(None, 1)
            assert kind.startswith("max_") and what in run.stdout, (what, run.stdout)
    assert failed == {"over", "bytes", "alloc_over", "both"}
    assert "test_c[over]: peak 3.00 MiB exceeds max_peak 3.00 MiB" in run.stdout
    assert "test_c[bytes]: peak 1000 B exceeds max_peak 999 B" in run.stdout
    assert "test_c[alloc_over]: allocated 5.00 MiB exceeds max_allocated 5.00 MiB" in run.stdout
    assert "test_c[both]: peak 2.00 MiB exceeds max_peak 1.00 MiB" in run.stdout
    assert "4 failed, 3 passed" in run.stdout, run.stdout


def test_marker_sizes_are_the_c_parsers(tmp_path):
    """The marker's values are lib/units' (gate --check --json): same value, C's reason."""
    sys.path.insert(0, str(PYCLIENT))
    from benchmem.sizes import parse_limit

    g = gate("--check", "--json", "--max-peak=18446744073709551614", "--max-allocations= 1 2",
             "--fail-on", "peak:20%+8MiB")
    assert g.returncode == 0 and json.loads(g.stdout) == {
        "rules": ["peak:20%+8MiB"],
        "ceilings": {"max_peak": 18446744073709551614, "max_allocations": 12}}
    assert parse_limit("max_peak", "18446744073709551614") == (1 << 64) - 2
    assert parse_limit("max_allocated", " 2 KiB ") == 2048
    assert parse_limit("max_allocations", "12") == parse_limit("max_allocations", 12) == 12
    for kwarg, value in (("max_peak", "5MB"), ("max_allocations", "5MiB"),
                         ("max_allocated", -1)):
        g = gate("--check", f"--{kwarg.replace('_', '-')}={value}")
        assert g.returncode == 2
        option, why = g.stderr.removeprefix("benchmemctl gate: error: ").rstrip("\n").split(
            ": ", 1)
        with pytest.raises(ValueError) as e:
            parse_limit(kwarg, value)
        assert str(e.value) == f"{kwarg}: {why}"
    with pytest.raises(ValueError, match=r"^max_peak: True is not a size$"):
        parse_limit("max_peak", True)

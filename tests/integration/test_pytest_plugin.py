# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.pytest_plugin: passes, repeats, warmup, ceilings and the --benchmark-json blob,
first against a scripted fake collector (exact pass counts), then under the real daemon."""
import json
import re
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
PY = "/usr/bin/python3"

# Needs python3-pytest-benchmark (packaging/deps.txt): no skip, a missing package must fail.
HEADER = """
import pathlib
import pytest
CALLS = pathlib.Path(__file__).with_name("calls.txt")

def work():
    with CALLS.open("a") as f:
        f.write("w\\n")
    return bytearray(1000)
"""


def run_suite(tmp_path, env, body, *args):
    suite = tmp_path / "suite"
    suite.mkdir(exist_ok=True)
    (suite / "test_suite.py").write_text(HEADER + textwrap.dedent(body))
    cmd = [PY, "-m", "pytest", "-p", "benchmem.pytest_plugin", "-p", "no:cacheprovider",
           "-q", "-rN", *args, "test_suite.py"]
    run = subprocess.run(cmd, cwd=suite, env=env, capture_output=True, text=True, timeout=300)
    calls = suite / "calls.txt"
    run.calls = len(calls.read_text().splitlines()) if calls.exists() else 0
    bench = suite / "bench.json"
    run.bench = json.loads(bench.read_text()) if bench.exists() else None
    return run


def regions(fc, op="start"):
    return [(r["name"], r.get("repeat")) for r in fc.ops(op)]


def assert_ok(run):
    assert run.returncode == 0, run.stdout + run.stderr


# ---- against the fake collector ---------------------------------------------------------------

def test_plain_tests_are_one_region_each_named_by_node_id(tmp_path, fake_collector, pyenv):
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        def test_a():
            work()

        @pytest.mark.parametrize("n,s", [(1, "x y"), (2.5, None)])
        def test_p(n, s):
            work()
    """)
    assert_ok(run)
    assert run.calls == 3
    starts = fake_collector.ops("start")
    assert starts == [
        {"op": "start", "name": "test_suite.py::test_a", "repeat": 0},
        {"op": "start", "name": "test_suite.py::test_p[1-x y]", "repeat": 0,
         "params": {"n": 1, "s": "x y"}},
        {"op": "start", "name": "test_suite.py::test_p[2.5-None]", "repeat": 0,
         "params": {"n": 2.5, "s": None}},
    ]
    assert regions(fake_collector, "stop") == [(s["name"], 0) for s in starts]


def test_adaptive_passes_stop_after_two_without_new_minimum(tmp_path, fake_collector, pyenv):
    # Default fake numbers grow with the repeat: pass 0 is the minimum, passes 1 and 2 are stale.
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        def test_b(benchmark):
            benchmark(work)
    """, "--benchmark-disable")
    assert_ok(run)
    assert regions(fake_collector) == [("test_suite.py::test_b", i) for i in range(3)]
    assert run.calls == 1 + 3 + 1  # warmup, three measured passes, the (disabled) timing call


@pytest.mark.parametrize("peaks,want", [
    ({0: 5000, 1: 4000}, 4),  # new minimum at pass 1, then two stale passes
    ({r: 1000 * (20 - r) for r in range(20)}, 10),  # a new minimum every pass: capped at 10
    ({0: 3000, 1: 3000, 2: 2000, 3: 1000}, 6),
])
def test_adaptive_pass_counts(tmp_path, fake_collector, pyenv, peaks, want):
    fake_collector.numbers = lambda name, r: {"peak_bytes": peaks.get(r, min(peaks.values())),
                                              "total_bytes": 1, "allocations": 1, "wall_ns": 1}
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        def test_c(benchmark):
            benchmark(work)
    """, "--benchmark-disable")
    assert_ok(run)
    assert regions(fake_collector) == [("test_suite.py::test_c", i) for i in range(want)]


def test_fixed_repeats_and_warmup_flag_and_marker(tmp_path, fake_collector, pyenv):
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        def test_flag(benchmark):
            benchmark(work)

        @pytest.mark.benchmem(repeats=2, warmup=0)
        def test_marker(benchmark):
            benchmark(work)
    """, "--benchmark-disable", "--benchmark-memory-repeats=5", "--benchmark-memory-warmup=3")
    assert_ok(run)
    assert regions(fake_collector) == [("test_suite.py::test_flag", i) for i in range(5)] + \
        [("test_suite.py::test_marker", i) for i in range(2)]
    assert run.calls == (3 + 5 + 1) + (0 + 2 + 1)


def test_pedantic_setup_runs_outside_each_region(tmp_path, fake_collector, pyenv):
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        import benchmem

        def make_args():  # not "setup": pytest would run that as the module's xunit setup
            with benchmem.Client() as c:
                c.hello()
            return (3,), {"fill": 7}

        def target(n, fill):
            assert (n, fill) == (3, 7)
            work()

        @pytest.mark.benchmem(repeats=2)
        def test_ped(benchmark):
            benchmark.pedantic(target, setup=make_args, rounds=1)
    """, "--benchmark-disable")
    assert_ok(run)
    seq = [r["op"] + ("" if r["op"] == "hello" else str(r["repeat"])) for r in fake_collector.ops()]
    # warmup: setup only; then each pass: setup, start, stop.
    assert seq == ["hello", "hello", "start0", "stop0", "hello", "start1", "stop1", "hello"]


def test_ceilings_fail_on_the_worst_pass_strictly(tmp_path, fake_collector, pyenv):
    mib = 1 << 20
    fake_collector.numbers = lambda name, r: {"peak_bytes": 117 * mib - 1000 * r,
                                              "total_bytes": 200 * mib, "allocations": 12,
                                              "wall_ns": 1}
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        @pytest.mark.benchmem(max_peak="100MiB")
        def test_x():
            work()

        @pytest.mark.benchmem(max_peak="117MiB", max_allocated=209715200, max_allocations=12)
        def test_at_limits(benchmark):
            benchmark(work)

        @pytest.mark.benchmem(max_peak=117 * 1048576 - 1)
        def test_worst(benchmark):
            benchmark(work)

        @pytest.mark.benchmem(max_allocated="199 MiB")
        def test_alloc():
            work()

        @pytest.mark.benchmem(max_allocations=11)
        def test_count():
            work()
    """, "--benchmark-disable")
    assert run.returncode == 1, run.stdout + run.stderr
    out = run.stdout
    assert "test_x: peak 117.00 MiB exceeds max_peak 100.00 MiB" in out
    assert "test_worst: peak 117.00 MiB exceeds max_peak 117.00 MiB" in out
    assert "test_alloc: allocated 200.00 MiB exceeds max_allocated 199.00 MiB" in out
    assert "test_count: allocations 12 exceeds max_allocations 11" in out
    assert re.search(r"4 failed, 1 passed", out), out
    # test_worst's passes 1 and 2 are under the ceiling; pass 0 (the worst) fails it.
    assert regions(fake_collector).count(("test_suite.py::test_worst", 2)) == 1


def test_benchmark_json_carries_the_series(tmp_path, fake_collector, pyenv):
    def numbers(name, r):
        n = {"peak_bytes": 1000 * (r + 1), "total_bytes": 2000 * (r + 1),
             "allocations": r + 1, "wall_ns": 1}
        if name.endswith("test_rss") or r != 1:
            n["rss_bytes"] = 4096 * (r + 1)
        return n
    fake_collector.numbers = numbers
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        def test_rss(benchmark):
            benchmark(work)

        def test_partial_rss(benchmark):
            benchmark(work)

        def test_plain():
            work()
    """, "--benchmark-json=bench.json", "--benchmark-min-rounds=1",
        "--benchmark-max-time=0.0001", "--benchmark-warmup=off")
    assert_ok(run)
    blobs = {b["fullname"]: b["extra_info"].get("benchmem") for b in run.bench["benchmarks"]}
    assert blobs == {
        "test_suite.py::test_rss": {"peak_bytes": [1000, 2000, 3000],
                                    "total_bytes": [2000, 4000, 6000],
                                    "allocations": [1, 2, 3],
                                    "rss_bytes": [4096, 8192, 12288]},
        "test_suite.py::test_partial_rss": {"peak_bytes": [1000, 2000, 3000],
                                            "total_bytes": [2000, 4000, 6000],
                                            "allocations": [1, 2, 3]},
    }


def test_inert_without_a_collector(tmp_path, pyenv):
    run = run_suite(tmp_path, pyenv(tmp_path / "absent.sock"), """
        @pytest.mark.benchmem(max_peak=0, repeats=3)
        def test_b(benchmark):
            benchmark(work)
    """, "--benchmark-json=bench.json", "--benchmark-min-rounds=1",
        "--benchmark-max-time=0.0001", "--benchmark-warmup=off")
    assert_ok(run)
    assert run.bench["benchmarks"][0]["extra_info"] == {}


def test_untraced_process_turns_the_plugin_off_with_one_warning(tmp_path, fake_collector,
                                                                pyenv):
    fake_collector.errors["test_suite.py::test_a"] = "no_session"
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        def test_a():
            work()

        @pytest.mark.benchmem(max_peak=0)
        def test_b(benchmark):
            benchmark(work)
    """, "--benchmark-disable", "-W", "always")
    assert_ok(run)
    assert "memory regions are off (run pytest under benchmem-run)" in run.stdout
    assert regions(fake_collector) == [("test_suite.py::test_a", 0)]  # never asked again
    assert run.calls == 2  # no warmup or memory passes once off


def test_bad_marker_values_are_errors(tmp_path, fake_collector, pyenv):
    run = run_suite(tmp_path, pyenv(fake_collector.path), """
        @pytest.mark.benchmem(max_allocations="5MiB")
        def test_unit_on_count():
            work()

        @pytest.mark.benchmem(max_peak=True)
        def test_bool():
            work()

        @pytest.mark.benchmem(max_peak="5MB")
        def test_bad_unit():
            work()
    """)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "max_allocations: '5MiB' is not a count" in run.stdout
    assert "max_peak: True is not a size" in run.stdout
    assert "max_peak: '5MB' is not a size (units: B, KiB, MiB, GiB)" in run.stdout  # C's reason


# ---- under the real daemon ----------------------------------------------------------------------

SUITE = """
def test_plain():
    b = bytearray(10_000_000)
    del b

@pytest.mark.parametrize("n", [1_000_000, 4_000_000])
def test_param(n):
    b = bytearray(n)
    del b

def test_bench(benchmark):
    benchmark(bytearray, 2_000_000)

@pytest.mark.benchmem(repeats=4)
def test_bench_fixed(benchmark):
    benchmark(bytearray, 3_000_000)

@pytest.mark.benchmem(max_peak="1MiB")
def test_ceiling():
    b = bytearray(5_000_000)
    del b
"""


def near(got, want, rel=0.02):
    return abs(got - want) <= want * rel


@pytest.mark.root
def test_suite_under_benchmem_run(daemon, tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_suite.py").write_text("import pytest\n" + SUITE)
    out = tmp_path / "out.json"
    cmd = [str(BUILD / "benchmem-run"), "--python-malloc", "--json", str(out), "--",
           PY, "-m", "pytest", "-p", "benchmem.pytest_plugin", "-p", "no:cacheprovider", "-q",
           "--benchmark-json=bench.json", "--benchmark-min-rounds=1",
           "--benchmark-max-time=0.001", "test_suite.py"]
    env = daemon.env()
    env.pop("PYTEST_ADDOPTS", None)
    run = subprocess.run(cmd, cwd=suite, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, f"{run.stdout}\n{run.stderr}\n{daemon.log_tail()}"
    assert re.search(r"test_ceiling: peak 4\.\d\d MiB exceeds max_peak 1\.00 MiB", run.stdout), \
        run.stdout
    assert "1 failed, 5 passed" in run.stdout, run.stdout

    bench = {b["fullname"]: b["extra_info"]["benchmem"]
             for b in json.loads((suite / "bench.json").read_text())["benchmarks"]}
    assert set(bench) == {"test_suite.py::test_bench", "test_suite.py::test_bench_fixed"}
    # bytearray(n) is deterministic under PYTHONMALLOC=malloc: three passes, then stale.
    assert len(bench["test_suite.py::test_bench"]["peak_bytes"]) == 3
    assert all(near(p, 2_000_000) for p in bench["test_suite.py::test_bench"]["peak_bytes"])
    fixed = bench["test_suite.py::test_bench_fixed"]
    assert len(fixed["peak_bytes"]) == 4 and len(fixed["allocations"]) == 4
    assert all(near(p, 3_000_000) for p in fixed["peak_bytes"])

    result = {b.get("fullname") or b.get("name"): b
              for b in json.loads(out.read_text())["benchmarks"]}
    plain = result["test_suite.py::test_plain"]["extra_info"]["benchmem"]
    assert len(plain["peak_bytes"]) == 1 and near(plain["peak_bytes"][0], 10_000_000), plain
    param = result["test_suite.py::test_param[4000000]"]
    assert param["params"] == {"n": 4_000_000}
    assert near(param["extra_info"]["benchmem"]["peak_bytes"][0], 4_000_000)
    assert result["test_suite.py::test_bench_fixed"]["extra_info"]["benchmem"]["peak_bytes"] == \
        fixed["peak_bytes"]

    # both files are readable by pytest-benchmark's own compare, and ours follows our schema
    from test_result_schema import check_result_document
    assert check_result_document(json.loads(out.read_text())) == []
    for f in (suite / "bench.json", out):
        cmp = subprocess.run(
            [PY, "-c", "import sys; from pytest_benchmark.cli import main; "
             "sys.argv = ['pytest-benchmark', 'compare', sys.argv[1]]; main()", str(f)],
            capture_output=True, text=True, timeout=120)
        assert cmp.returncode == 0, cmp.stdout + cmp.stderr
        assert "test_bench_fixed" in cmp.stdout if f.name == "bench.json" else \
            "test_suite.py::test_plain" in cmp.stdout

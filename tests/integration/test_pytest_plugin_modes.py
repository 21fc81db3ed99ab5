# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The installed plugin (build/venv) under a real benchmemd: how pytest gets traced (attach,
private daemon, one-line refusal), isolate/calls/profiles/split table, and the defects of the
drop-in issue, each with the number that showed it."""
import json
import os
import re
import subprocess
import sys
import textwrap

import pytest

from conftest import BUILD, PYCLIENT, venv_python

pytestmark = pytest.mark.root

HEADER = """
import pathlib
import pytest
CALLS = pathlib.Path(__file__).with_name("calls.txt")


def work(n=1_000_000):
    with CALLS.open("a") as f:
        f.write("w\\n")
    return bytearray(n)
"""


def ours(tmp_path, env, body, *args):
    suite = tmp_path / "suite"
    suite.mkdir(exist_ok=True)
    (suite / "test_suite.py").write_text(HEADER + textwrap.dedent(body))
    env = dict(env)
    env.pop("PYTHONPATH", None)
    env.pop("PYTEST_ADDOPTS", None)
    run = subprocess.run(
        [str(venv_python()), "-m", "pytest", "-p", "no:benchmem", "-p", "no:cacheprovider",
         "--benchmark-max-time=0.01", "--benchmark-min-rounds=1", "--benchmark-json=b.json",
         *args, "test_suite.py"], cwd=suite, env=env, capture_output=True, text=True,
        timeout=600)
    calls = suite / "calls.txt"
    run.calls = len(calls.read_text().splitlines()) if calls.exists() else 0
    out = suite / "b.json"
    run.blobs = {b["fullname"]: b["extra_info"].get("benchmem")
                 for b in json.loads(out.read_text())["benchmarks"]} if out.exists() else None
    return run


def test_long_parametrized_id_is_measured(daemon, tmp_path):
    # a 200-character id was cut with "~", which the protocol refuses (bad_name)
    run = ours(tmp_path, daemon.env(), """
        @pytest.mark.benchmem(repeats=2)
        @pytest.mark.parametrize("s", ["x" * 200])
        def test_long(benchmark, s):
            benchmark(work)
    """, "--benchmark-memory")
    assert run.returncode == 0, run.stdout + run.stderr
    (blob,) = run.blobs.values()
    assert len(blob["peak_bytes"]) == 2
    assert all(1_000_000 <= p <= 1_000_000 + 262_144 for p in blob["peak_bytes"]), blob
    sys.path.insert(0, str(PYCLIENT))
    from benchmem.pytest_plugin import region_name
    name = region_name("test_suite.py::test_long[" + "x" * 200 + "]")
    assert len(name) == 128 and re.fullmatch(r"[A-Za-z0-9._:/\[\]=,+ -]+", name)
    assert ".." not in name


def test_isolate_calls_and_split_table(daemon, tmp_path):
    run = ours(tmp_path, daemon.env(), """
        def build():
            return bytearray(8_000_000)

        def grow(_keep=[]):
            _keep.append(bytearray(1_000_000))

        @pytest.mark.benchmem(isolate=True, repeats=2)
        def test_isolated(benchmark):
            benchmark(build)

        @pytest.mark.benchmem(calls=3, repeats=2, warmup=0)
        def test_calls(benchmark):
            benchmark(grow)
    """, "--benchmark-memory", "--benchmark-memory-table=split",
        "--benchmark-memory-columns=peak,rss,allocated")
    assert run.returncode == 0, run.stdout + run.stderr
    iso = run.blobs["test_suite.py::test_isolated"]
    assert set(iso) == {"peak_bytes", "total_bytes", "allocations", "rss_bytes"}
    assert len(iso["rss_bytes"]) == 2 and all(r > 8_000_000 for r in iso["rss_bytes"]), iso
    assert all(8_000_000 <= p <= 8_000_000 + 262_144 for p in iso["peak_bytes"]), iso
    calls = run.blobs["test_suite.py::test_calls"]
    assert "rss_bytes" not in calls  # in-process passes record no rss, as pytest-benchmem
    # three calls inside one region: they stay alive, so the peak holds all three
    assert all(3_000_000 <= p <= 3_000_000 + 262_144 for p in calls["peak_bytes"]), calls
    assert re.search(r"Benchmark\s+peak·min \(MiB\)\s+peak·mean\s+peak·max\s+rss·min",
                     run.stdout), run.stdout


def test_profiles_for_every_id_or_only_the_regressing(daemon, tmp_path):
    body = """
        import os

        @pytest.mark.benchmem(repeats=2)
        def test_a(benchmark):
            benchmark(work, 2_000_000 * int(os.environ.get("GROW", "1")))

        @pytest.mark.benchmem(repeats=2)
        def test_b(benchmark):
            benchmark(work, 1_000_000)
    """
    prof = tmp_path / "prof"
    run = ours(tmp_path, daemon.env(), body, "--benchmark-memory", "--benchmark-autosave",
               f"--benchmark-memory-profile={prof}")
    assert run.returncode == 0, run.stdout + run.stderr
    assert sorted(p.name for p in prof.iterdir()) == ["test_suite.py__test_a.bin",
                                                      "test_suite.py__test_b.bin"]
    stats = subprocess.run([str(venv_python()), "-m", "memray", "stats", "--json", "-o",
                            str(tmp_path / "a.json"), str(prof / "test_suite.py__test_a.bin")],
                           capture_output=True, text=True, timeout=120)
    assert stats.returncode == 0, stats.stdout + stats.stderr
    assert json.loads((tmp_path / "a.json").read_text())["metadata"]["peak_memory"] >= 2_000_000

    prof2 = tmp_path / "prof2"
    run = ours(tmp_path, daemon.env(GROW="2"), body, "--benchmark-memory",
               "--benchmark-memory-compare-fail=peak:10%", f"--benchmark-memory-profile={prof2}")
    assert run.returncode == 1, run.stdout + run.stderr
    assert "1 failed, 1 passed" in run.stdout
    assert re.search(r"test_a: memory regression: peak \+100\.0% \(1\.91 MiB -> 3\.81 MiB\) "
                     r"over peak:10%", run.stdout), run.stdout
    assert [p.name for p in prof2.iterdir()] == ["test_suite.py__test_a.bin"]
    # the compare folds the baseline's peak and the change into the combined table
    assert re.search(r"│\s+peak·min \(KiB\)\s+peak·mean\s+peak·max\s+base \(KiB\)\s+Δ peak",
                     run.stdout), run.stdout
    assert re.search(r"test_b .*│.*\s0\.0%$", run.stdout, re.M), run.stdout


def test_max_time_bounds_adaptive_passes(daemon, tmp_path):
    body = """
        def test_a(benchmark):
            benchmark(work)
    """
    # deterministic code: 3 passes (the second and third tie the first); a spent budget stops
    # at the minimum of 2
    run = ours(tmp_path, daemon.env(), body, "--benchmark-memory")
    assert len(run.blobs["test_suite.py::test_a"]["peak_bytes"]) == 3, run.stdout
    run = ours(tmp_path, daemon.env(), body, "--benchmark-memory",
               "--benchmark-memory-max-time=0")
    assert len(run.blobs["test_suite.py::test_a"]["peak_bytes"]) == 2, run.stdout


def test_private_daemon_when_none_listens(tmp_path):
    env = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "absent.sock"),
               BENCHMEM_DAEMON=str(BUILD / "benchmemd"))
    run = ours(tmp_path, env, """
        @pytest.mark.benchmem(repeats=2)
        def test_a(benchmark):
            benchmark(work, 3_000_000)
    """, "--benchmark-memory")
    assert run.returncode == 0, run.stdout + run.stderr
    assert all(3_000_000 <= p <= 3_000_000 + 262_144
               for p in run.blobs["test_suite.py::test_a"]["peak_bytes"])
    assert "1 attach+detach" in run.stdout


def test_no_way_to_trace_is_one_line(tmp_path):
    env = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "absent.sock"),
               BENCHMEM_DAEMON=str(tmp_path / "no-benchmemd"))
    run = ours(tmp_path, env, """
        def test_a(benchmark):
            benchmark(work)
    """, "--benchmark-memory")
    assert run.returncode == 4, run.stdout + run.stderr
    err = [ln for ln in run.stderr.splitlines() if ln.strip()]
    assert err == [f"ERROR: --benchmark-memory: no benchmemd listens at {tmp_path}/absent.sock "
                   f"and {tmp_path}/no-benchmemd (BENCHMEM_DAEMON) is not an executable to "
                   "start a private one"], run.stderr
    assert run.calls == 0


def test_bad_values_fail_before_any_pass(daemon, tmp_path):
    run = ours(tmp_path, daemon.env(), """
        @pytest.mark.benchmem(max_peak="lots")
        def test_a(benchmark):
            benchmark(work)
    """, "--benchmark-memory")
    assert run.returncode == 1, run.stdout
    assert "max_peak: 'lots' is not a size (units: B, KiB, MiB, GiB)" in run.stdout  # C's
    assert "Traceback" not in run.stdout and run.calls == 0
    run = ours(tmp_path, daemon.env(), "def test_a():\n    pass\n", "--benchmark-memory",
               "--benchmark-memory-columns=peak,bogus")
    assert run.returncode == 4
    assert run.stderr.strip() == ("ERROR: unknown memory metric(s): bogus; choose from peak, "
                                  "allocated, allocations, rss")


def run_script(env, body, *runner):
    return subprocess.run([*runner, sys.executable, "-c", textwrap.dedent(body)], env=env,
                          capture_output=True, text=True, timeout=120)


def test_untraced_script_warns_and_keeps_running(daemon):
    # a collector listens but does not trace this process: was an uncaught no_session
    run = run_script(daemon.env(), """
        import benchmem
        print(benchmem.start("a"), benchmem.stop("a"), benchmem.start("b"))
        with benchmem.region("c") as numbers:
            pass
        print("done", numbers)
    """)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == ["None None None", "done {}"]
    assert run.stderr.count("does not trace this process; regions are off") == 1


def test_empty_region_and_same_name_with_params(daemon, tmp_path):
    out = tmp_path / "r.json"
    run = run_script(daemon.env(), """
        import benchmem
        with benchmem.region("empty"):
            pass
        for n in (1000, 100000):
            with benchmem.region("r", repeat=0, params={"n": n}):
                b = bytearray(n)
                del b
    """, str(BUILD / "benchmem-run"), "--python-malloc", "--quiet", "--json", str(out), "--")
    assert run.returncode == 0, run.stderr
    doc = json.loads(out.read_text())["benchmarks"]
    empty = next(b for b in doc if b["name"] == "empty")["extra_info"]["benchmem"]
    # was 65,569 B: the client's own 64 KiB receive buffer
    assert empty["peak_bytes"][0] < 4096, empty
    rs = [b for b in doc if b["name"] == "r"]
    # was one merged entry whose headline was the smaller one
    assert sorted(b["params"]["n"] for b in rs) == [1000, 100000]
    for b in rs:
        peak = b["extra_info"]["benchmem"]["peak_bytes"]
        assert len(peak) == 1 and b["params"]["n"] <= peak[0] <= b["params"]["n"] + 4096, b


def test_benchmem_run_checks_baseline_and_json_up_front(tmp_path):
    for args, want in (
            (["--baseline", "/nonexistent.json"],
             "benchmem-run: error: --baseline /nonexistent.json: No such file or directory"),
            (["--json", f"{tmp_path}/missing/out.json"],
             f"benchmem-run: error: --json {tmp_path}/missing/out.json: directory "
             f"{tmp_path}/missing: No such file or directory")):
        run = subprocess.run([str(BUILD / "benchmem-run"), *args, "--", "sh", "-c",
                              f"touch {tmp_path}/ran"], capture_output=True, text=True,
                             timeout=60)
        assert run.returncode == 2 and run.stderr.strip() == want, run.stderr
        assert not (tmp_path / "ran").exists()

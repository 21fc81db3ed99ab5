# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem-run on every ground-truth workload: the numbers equal what the workload itself
requested, exactly, run after run, with the embedded collector and with a daemon."""
import json
import os
import subprocess

import pytest

from conftest import BUILD, PYCLIENT, require_tracing, spawn_daemon, stop_daemon
from test_result_schema import check_result_document

WL = BUILD / "workloads"


def run(args, tmp_path, env=None, embedded=True, probe=None):
    out = tmp_path / "result.json"
    e = dict(os.environ, **(env or {}))
    if embedded:
        # never talk to a system daemon by accident
        e["BENCHMEM_SOCKET"] = str(tmp_path / "no-daemon.sock")
    cmd = [str(BUILD / "benchmem-run"), "--json", str(out)] + \
        (["--probe", probe] if probe else []) + ["--"] + [str(a) for a in args]
    p = subprocess.run(cmd, capture_output=True, text=True, env=e, timeout=120)
    doc = json.loads(out.read_text()) if out.exists() else None
    if doc is not None:
        assert check_result_document(doc) == [], "result file breaks schemas/result.schema.json"
    return p, doc


def only_entry(doc):
    assert len(doc["benchmarks"]) == 1, [b["name"] for b in doc["benchmarks"]]
    return doc["benchmarks"][0]


def expected(p):
    return json.loads(p.stdout.strip().splitlines()[-1])


def check_exact(entry, want):
    blob = entry["extra_info"]["benchmem"]
    assert blob["peak_bytes"] == [want["peak_bytes"]]
    assert blob["total_bytes"] == [want["total_bytes"]]
    assert blob["allocations"] == [want["allocations"]]
    assert entry["extra_info"]["benchmem_meta"]["lost_events"] == 0


PROBES = ["hook", "uprobes"]


def check_probe(entry, probe, p, static=False):
    """Which probe traced the run, as the result says (docs/hook.md): a static executable
    cannot preload the hook, so it falls back to uprobes, and --probe hook says so."""
    want = "uprobes" if static or probe == "uprobes" else "hook"
    assert entry["extra_info"]["benchmem_meta"]["probe"] == want
    assert ("traced with uprobes" in p.stderr) == (static and probe == "hook"), p.stderr


@pytest.mark.parametrize("probe", PROBES)
@pytest.mark.parametrize("workload", ["allocators", "realloc", "bigblocks", "forks", "execs"])
def test_whole_command_numbers_are_exact_twice(workload, probe, tmp_path):
    require_tracing()
    for _ in range(2):
        p, doc = run([WL / workload], tmp_path, probe=probe)
        assert p.returncode == 0, p.stderr
        entry = only_entry(doc)
        assert entry["name"] == workload
        check_exact(entry, expected(p))
        check_probe(entry, probe, p)


@pytest.mark.parametrize("probe", PROBES + ["auto"])
@pytest.mark.parametrize("workload", ["allocators", "static_allocators", "threads",
                                      "thread_forks"])
def test_region_marked_with_libbenchmem_is_exact(workload, probe, tmp_path):
    """thread_forks: children forked by a thread, which the hook mode does not follow with
    ptrace (docs/hook.md): each child is found by its hook's hello instead."""
    require_tracing()
    args = [WL / workload] + ([] if workload.startswith("thread") else ["region"])
    for _ in range(2):
        p, doc = run(args, tmp_path, probe=probe)
        assert p.returncode == 0, p.stderr
        entry = only_entry(doc)
        check_exact(entry, expected(p))
        check_probe(entry, probe, p, static=workload.startswith("static"))


def region_c_lines(p):
    """region_c's own lines: what each region asked for and what libbenchmem got back."""
    got = [json.loads(line) for line in p.stdout.splitlines() if line.startswith("{")]
    assert len(got) == 9, p.stdout
    for w in got:
        assert w["rc"] == 0, w
        assert (w["peak"], w["total"], w["allocs"]) == \
            (w["want_peak"], w["want_total"], w["want_allocs"]), w
    return got


@pytest.mark.parametrize("probe", PROBES)
def test_exec_from_a_thread_other_than_the_main_one(probe, tmp_path):
    """A thread execs region_c: the exec stops (the hook asks to be followed first, docs/hook.md)
    and the new image's regions are exact from the first one, in the result file too."""
    require_tracing()
    for _ in range(2):
        p, doc = run([WL / "thread_exec", WL / "region_c"], tmp_path, probe=probe)
        assert p.returncode == 0, p.stderr
        want = {w["region"]: w for w in region_c_lines(p) if w["repeat"] == 0}
        got = {b["name"]: b["extra_info"]["benchmem"] for b in doc["benchmarks"]}
        assert sorted(got) == sorted(want)
        for name, w in want.items():
            assert (got[name]["peak_bytes"][0], got[name]["allocations"][0]) == \
                (w["want_peak"], w["want_allocs"]), name
        assert doc["benchmarks"][0]["extra_info"]["benchmem_meta"]["lost_events"] == 0


def test_known_sizes_behind_the_workloads(tmp_path):
    """The ground truth itself: a check that cannot fail would pass a wrong workload."""
    require_tracing()
    p, _ = run([WL / "threads"], tmp_path)
    assert expected(p) == {"peak_bytes": 13_600_000, "total_bytes": 13_600_000,
                           "allocations": 1600}
    p, _ = run([WL / "bigblocks"], tmp_path)
    assert expected(p)["peak_bytes"] == 96 << 20


@pytest.mark.parametrize("probe", PROBES)
def test_same_numbers_through_the_daemon(daemon, probe, tmp_path):
    for workload in ("allocators", "forks"):
        p, doc = run([WL / workload], tmp_path, env=daemon.env(), embedded=False, probe=probe)
        assert p.returncode == 0, p.stderr + daemon.log_tail()
        check_exact(only_entry(doc), expected(p))
        check_probe(only_entry(doc), probe, p)


def hold_script(tmp_path):
    """A Python script that holds exactly 50 x 1,000,000 bytes inside region 'hold'."""
    script = tmp_path / "hold.py"
    script.write_text(
        "import benchmem\n"
        "with benchmem.region('hold'):\n"
        "    blocks = [bytearray(1_000_000) for _ in range(50)]\n"
        "    del blocks\n")
    return script


def test_python_peak_under_pymalloc_within_two_percent(tmp_path):
    require_tracing()
    script = hold_script(tmp_path)
    p, doc = run(["/usr/bin/python3", script], tmp_path, env={"PYTHONPATH": str(PYCLIENT)})
    assert p.returncode == 0, p.stderr
    entry = only_entry(doc)
    held = 50 * 1_000_000
    peak = entry["extra_info"]["benchmem"]["peak_bytes"][0]
    assert abs(peak - held) / held < 0.02, peak
    assert entry["extra_info"]["benchmem_meta"]["python_allocator"] == "pymalloc"


def test_python_malloc_flag_is_recorded(tmp_path):
    require_tracing()
    script = hold_script(tmp_path)
    out = tmp_path / "r.json"
    e = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "none.sock"), PYTHONPATH=str(PYCLIENT))
    p = subprocess.run([str(BUILD / "benchmem-run"), "--python-malloc", "--json", str(out), "--",
                        "/usr/bin/python3", str(script)], capture_output=True, text=True, env=e,
                       timeout=120)
    assert p.returncode == 0, p.stderr
    entry = only_entry(json.loads(out.read_text()))
    held = 50 * 1_000_000
    peak = entry["extra_info"]["benchmem"]["peak_bytes"][0]
    assert abs(peak - held) / held < 0.02, peak
    assert entry["extra_info"]["benchmem_meta"]["python_allocator"] == "malloc"


@pytest.mark.parametrize("how,code,aborted", [("SEGV", 139, True), ("KILL", 137, True),
                                              ("EXIT", 7, False)])
def test_target_that_dies_still_yields_a_result(how, code, aborted, tmp_path):
    require_tracing()
    p, doc = run([WL / "crash", how], tmp_path)
    assert p.returncode == code, p.stderr
    entry = only_entry(doc)
    assert entry["extra_info"]["benchmem_meta"]["aborted"] == [aborted]
    assert entry["extra_info"]["benchmem"]["peak_bytes"] == [123456]


JEMALLOC = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2"


@pytest.mark.parametrize("probe", PROBES)
@pytest.mark.parametrize("workload", ["threads", "region_c"])
def test_allocator_brought_in_by_ld_preload_is_traced_exactly(workload, probe, tmp_path):
    """jemalloc exports malloc: its entry points are probed, not glibc's it replaces; the
    hook forwards to jemalloc (the next definition), not to glibc."""
    require_tracing()
    assert os.path.exists(JEMALLOC), "libjemalloc2 is in packaging/deps.txt"
    p, doc = run([WL / workload], tmp_path, env={"LD_PRELOAD": JEMALLOC}, probe=probe)
    assert p.returncode == 0, p.stderr
    if workload == "threads":
        check_exact(only_entry(doc), expected(p))
        return
    region_c_lines(p)


def test_system_wide_mode_counts_each_event_once(tmp_path):
    """attach_mode system: one set of breakpoints for every process, the traced map filters;
    a forked tree must not see its events once per process."""
    d = spawn_daemon(tmp_path, tmp_path / "sw.sock", "attach_mode=system")
    try:
        for workload in ("forks", "allocators"):
            p, doc = run([WL / workload], tmp_path, env=d.env(), embedded=False)
            assert p.returncode == 0, p.stderr + d.log_tail()
            check_exact(only_entry(doc), expected(p))
        assert "system-wide" in d.log_tail(200)
    finally:
        stop_daemon(d)

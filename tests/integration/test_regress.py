# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Baselines, gates and memray-format profiles: a heavier run regresses, exits 1, says by
how much, and leaves a .bin whose peak (read back by our own reader) equals the JSON's."""
import json
import os
import re
import subprocess

import pytest

from conftest import BUILD, require_tracing

RUN, CTL, GROW = str(BUILD / "benchmem-run"), str(BUILD / "benchmemctl"), str(BUILD / "workloads/grow")


def run(args, tmp_path, env=None):
    e = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "none.sock"), **(env or {}))
    return subprocess.run([RUN] + args, capture_output=True, text=True, env=e, timeout=120)


def inspect(path):
    p = subprocess.run([CTL, "inspect", "--json", str(path)], capture_output=True, text=True)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def headline(doc):
    bm = doc["benchmarks"][0]["extra_info"]["benchmem"]
    return bm["peak_bytes"][0], bm["allocations"][0]


@pytest.fixture
def baseline(tmp_path):
    require_tracing()
    base = tmp_path / "base.json"
    p = run(["--json", str(base), "--", GROW, "4"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert headline(json.loads(base.read_text())) == (4 << 20, 64)
    return base


def test_heavier_run_regresses_with_message_exit_code_and_profile(baseline, tmp_path):
    head, prof = tmp_path / "head.json", tmp_path / "profiles"
    p = run(["--baseline", str(baseline), "--fail-on", "peak:10%", "--profile-dir", str(prof),
             "--json", str(head), "--", GROW, "8"], tmp_path)
    assert p.returncode == 1, p.stderr
    assert ("benchmem-run: 1 regression(s) over threshold:\n"
            "  peak         grow: 4.00 MiB \u2192 8.00 MiB (+100.0%) [peak:10%]\n" in p.stderr)
    m = re.search(r"benchmem-run: profile of grow: (\S+\.bin)", p.stderr)
    assert m, p.stderr
    binfile = m.group(1)
    assert os.path.dirname(binfile) == str(prof)
    doc = json.loads(head.read_text())
    assert doc["benchmarks"][0]["extra_info"]["benchmem_meta"]["profile"] == binfile
    info = inspect(binfile)
    peak, allocs = headline(doc)
    assert (peak, allocs) == (8 << 20, 128)
    assert info["peak_bytes"] == peak
    assert info["allocations"] == allocs
    assert info["native_traces"] is True
    assert info["file_format"] == 0 and info["version"] == 13


def test_within_threshold_passes_and_writes_no_profile(baseline, tmp_path):
    prof = tmp_path / "profiles"
    p = run(["--baseline", str(baseline), "--fail-on", "peak:10%", "--fail-on",
             "allocations:5%", "--profile-dir", str(prof), "--", GROW, "4"], tmp_path)
    assert p.returncode == 0, p.stderr
    assert "regression" not in p.stderr
    assert not prof.exists() or not list(prof.iterdir())


def test_absolute_threshold_and_ceiling(baseline, tmp_path):
    p = run(["--baseline", str(baseline), "--fail-on", "peak:5MiB", "--profile", "none",
             "--", GROW, "8"], tmp_path)
    assert p.returncode == 0, p.stderr  # +4 MiB is not more than 5 MiB
    p = run(["--max-peak", "6MiB", "--profile", "none", "--", GROW, "8"], tmp_path)
    assert p.returncode == 1
    assert "  max_peak     grow: peak 8.00 MiB exceeds max_peak 6.00 MiB" in p.stderr


def test_profile_all_writes_one_bin_per_region(tmp_path):
    require_tracing()
    prof = tmp_path / "p"
    p = run(["--profile", "all", "--profile-dir", str(prof), "--", GROW, "2"], tmp_path)
    assert p.returncode == 0, p.stderr
    bins = list(prof.glob("*.bin"))
    assert len(bins) == 1
    assert inspect(bins[0])["peak_bytes"] == 2 << 20


@pytest.mark.parametrize("probe", ["uprobes", "hook"])
def test_distinct_stacks_up_to_half_the_store_are_all_kept(probe, tmp_path):
    """8,192 allocations from 8,192 distinct call stacks, in a store of 16,384 (the default):
    each is kept and named, none lost (a STACK_TRACE map lost about one in five here: its
    buckets collide long before it is full; bpf/maps.bpf.h)."""
    require_tracing()
    prof, out = tmp_path / "p", tmp_path / "r.json"
    p = run(["--probe", probe, "--profile", "all", "--profile-dir", str(prof), "--json",
             str(out), "--", str(BUILD / "workloads" / "stacks"), "13"], tmp_path)
    assert p.returncode == 0, p.stderr
    extra = json.loads(out.read_text())["benchmarks"][0]["extra_info"]
    assert extra["benchmem"]["allocations"] == [8192]
    assert "lost_stacks" not in extra["benchmem_meta"], extra["benchmem_meta"]
    top = subprocess.run([CTL, "inspect", extra["benchmem_meta"]["profile"], "--top", "1"],
                         capture_output=True, text=True)
    assert top.returncode == 0, top.stderr
    assert top.stdout.startswith("top 1 of 8192 stacks"), top.stdout
    assert "[native] walk (stacks)" in top.stdout, top.stdout


def test_full_disk_gives_a_clear_error_and_results_still_land(baseline, tmp_path):
    if not os.path.exists("/dev/full"):
        pytest.skip("no /dev/full")
    head = tmp_path / "head.json"
    # a profile directory on a file system with no room: a full tmpfs of 64 KiB
    mnt = tmp_path / "full"
    mnt.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mnt)]).returncode:
        pytest.fail("cannot mount a small tmpfs") if os.environ.get("CI") == "true" else \
            pytest.skip("cannot mount a small tmpfs")
    try:
        # fill it up: dd stops at ENOSPC
        subprocess.run(["dd", "if=/dev/zero", f"of={mnt}/fill", "bs=4k"], capture_output=True)
        p = run(["--baseline", str(baseline), "--fail-on", "peak:10%", "--profile-dir",
                 str(mnt), "--json", str(head), "--", GROW, "100"], tmp_path)
    finally:
        subprocess.run(["umount", str(mnt)])
    assert p.returncode == 1, p.stderr
    assert re.search(r"benchmem-run: warning: no profile of grow: cannot write .*: No space left",
                     p.stderr), p.stderr
    assert headline(json.loads(head.read_text()))[0] == 100 << 20


def test_bad_baseline_is_one_line(tmp_path):
    require_tracing()
    bad = tmp_path / "bad.json"
    bad.write_text("{\"not\": \"a result\"}")
    p = run(["--baseline", str(bad), "--fail-on", "peak:10%", "--", GROW, "1"], tmp_path)
    assert p.returncode == 2
    assert p.stderr.strip().splitlines()[-1] == (
        f"benchmem-run: error: {bad}: not a pytest-benchmark file (no \"benchmarks\" list)")


def test_profiles_through_the_daemon(daemon, baseline, tmp_path):
    e = daemon.env()
    p = subprocess.run([RUN, "--baseline", str(baseline), "--fail-on", "peak:10%", "--",
                        GROW, "8"], capture_output=True, text=True, env=e, timeout=120)
    assert p.returncode == 1, p.stderr + daemon.log_tail()
    m = re.search(r"profile of grow: (\S+\.bin)", p.stderr)
    assert m, p.stderr
    assert m.group(1).startswith(str(tmp_path))  # the daemon's own profile directory
    assert inspect(m.group(1))["peak_bytes"] == 8 << 20


def test_daemon_with_a_full_disk_answers_with_an_io_error_and_keeps_serving(daemon, baseline,
                                                                             tmp_path):
    """The daemon's writer process fails; the client gets a one-line reason, the results
    land, and the daemon serves the next run."""
    prof = tmp_path / "profiles"  # the daemon's profile_dir (--state-dir=tmp_path)
    prof.mkdir(exist_ok=True)
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(prof)]).returncode:
        pytest.fail("cannot mount a small tmpfs")
    head = tmp_path / "head.json"
    try:
        subprocess.run(["dd", "if=/dev/zero", f"of={prof}/fill", "bs=4k"], capture_output=True)
        p = subprocess.run([RUN, "--baseline", str(baseline), "--fail-on", "peak:10%", "--json",
                            str(head), "--", GROW, "100"], capture_output=True, text=True,
                           env=daemon.env(), timeout=120)
    finally:
        subprocess.run(["umount", str(prof)])
    assert p.returncode == 1, p.stderr + daemon.log_tail()
    assert re.search(r"no profile of grow: io: cannot write \S+: No space left on device",
                     p.stderr), p.stderr
    assert headline(json.loads(head.read_text()))[0] == 100 << 20
    p = subprocess.run([RUN, "--quiet", "--", GROW, "1"], capture_output=True, text=True,
                       env=daemon.env(), timeout=120)
    assert p.returncode == 0, p.stderr


def test_benchmemctl_profile_writes_the_bin_of_a_shell_region(tmp_path):
    """A shell script marks a region and asks for its profile; the .bin's peak (our reader)
    equals the region's peak in the result file."""
    require_tracing()
    script = tmp_path / "bench.sh"
    script.write_text(f"#!/bin/sh\nset -e\n{CTL} start phase\n{GROW} 3 >/dev/null\n"
                      f"{CTL} stop phase\n{CTL} profile phase > {tmp_path}/path.txt\n")
    script.chmod(0o755)
    out, prof = tmp_path / "r.json", tmp_path / "p"
    p = run(["--profile", "all", "--profile-dir", str(prof), "--json", str(out), "--",
             str(script)], tmp_path)
    assert p.returncode == 0, p.stderr
    binfile = (tmp_path / "path.txt").read_text().strip()
    assert binfile.startswith(str(prof))
    peak = json.loads(out.read_text())["benchmarks"][0]["extra_info"]["benchmem"]["peak_bytes"]
    assert peak[0] >= 3 << 20
    assert inspect(binfile)["peak_bytes"] == peak[0]

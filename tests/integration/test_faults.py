# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Faults: the traced process killed mid-region, the daemon restarted under a connected client,
and event loss under tight multi-threaded malloc/free loops."""
import json
import os
import signal
import subprocess
import textwrap
from pathlib import Path

import sys

import pytest

from conftest import BUILD, PYCLIENT, ROOT
from conftest import spawn_daemon, stop_daemon
from test_hostile import public_socket_dir

sys.path.insert(0, str(PYCLIENT))
import benchmem  # noqa: E402  (client/python, standard library only)

PY = "/usr/bin/python3"
RUN = str(BUILD / "benchmem-run")

KILLED = textwrap.dedent("""
    import os, time, benchmem
    benchmem.start("faults/killed")
    held = bytearray(3_000_000)
    print(os.getpid(), flush=True)
    time.sleep(600)
""")


@pytest.mark.root
def test_process_killed_mid_region_is_aborted_and_written(daemon, tmp_path):
    script = tmp_path / "killed.py"
    script.write_text(KILLED)
    out = tmp_path / "r.json"
    p = subprocess.Popen([RUN, "--quiet", "--python-malloc", "--json", str(out), "--", PY,
                          str(script)], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         env=daemon.env(), cwd=tmp_path)
    pid = int(p.stdout.readline())
    os.kill(pid, signal.SIGKILL)
    _, err = p.communicate(timeout=60)
    assert p.returncode == 128 + signal.SIGKILL, err
    entry = json.loads(out.read_text())["benchmarks"]
    assert [b["name"] for b in entry] == ["faults/killed"]
    meta, series = entry[0]["extra_info"]["benchmem_meta"], entry[0]["extra_info"]["benchmem"]
    assert meta["aborted"] == [True]
    # bytearray(3_000_000) is one malloc of 3,000,001 bytes, held when the process died
    assert 3_000_001 <= series["peak_bytes"][0] <= 3_000_001 + 65536, series
    # result files are named after the job: benchmem-run's whole-command region (python3)
    files = sorted((tmp_path / "results").glob("*-python3.json"))
    assert len(files) == 1, os.listdir(tmp_path / "results")
    kept = json.loads(files[0].read_text())["benchmarks"][0]
    assert kept["extra_info"]["benchmem_meta"]["aborted"] == [True]
    assert kept["extra_info"]["benchmem"]["peak_bytes"] == series["peak_bytes"]


BEFORE = textwrap.dedent("""
    import benchmem
    with benchmem.region("faults/before"):
        b = bytearray(700_000)
        del b
""")


@pytest.mark.root
def test_daemon_restart_under_a_connected_client(tmp_path):
    sdir = public_socket_dir()
    sock = sdir / "benchmemd.sock"
    d = spawn_daemon(tmp_path, sock)
    try:
        script = tmp_path / "before.py"
        script.write_text(BEFORE)
        p = subprocess.run([RUN, "--quiet", "--python-malloc", "--", PY, str(script)],
                           capture_output=True, text=True, env=d.env(), timeout=60)
        assert p.returncode == 0, p.stderr
        files = sorted((tmp_path / "results").glob("*.json"))
        assert [f.name for f in files] == ["1-python3.json"]  # named after the job
        before = {f: f.read_bytes() for f in files}
        peak = json.loads(before[files[0]])["benchmarks"][0]["extra_info"]["benchmem"][
            "peak_bytes"]
        assert len(peak) == 1 and 700_001 <= peak[0] <= 700_001 + 65536, peak

        client = benchmem.Client(str(sock))
        assert client.hello()["mode"] == "daemon"
        stop_daemon(d)  # SIGTERM with a client connected: exits 0
        with pytest.raises(benchmem.Error) as e:
            client.hello()
        assert e.value.code == "disconnected"
        client.close()
        with pytest.raises(OSError):
            benchmem.Client(str(sock))  # nobody listens (the socket file is gone)

        d = spawn_daemon(tmp_path, sock)  # same socket, same state dir
        with benchmem.Client(str(sock)) as again:
            assert again.hello() == {"protocol": 1, "server": "benchmemd 0.1.0",
                                     "mode": "daemon"}
            assert again.status()["sessions"] == []
        for f, data in before.items():
            assert f.read_bytes() == data, f
            json.loads(data)
        # and the restarted daemon measures as before
        p = subprocess.run([RUN, "--quiet", "--python-malloc", "--", PY, str(script)],
                           capture_output=True, text=True, env=d.env(), timeout=60)
        assert p.returncode == 0, p.stderr
        # session ids restart at 1 with the daemon: the new file must not replace the old one
        after = sorted(f.name for f in (tmp_path / "results").glob("*.json"))
        assert after == ["1-python3-1.json", "1-python3.json"], after
        for f, data in before.items():
            assert f.read_bytes() == data, f
    finally:
        if d.proc.poll() is None:
            stop_daemon(d)
        sdir.rmdir()


LOSSY = r"""
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include "libbenchmem.h"

#define THREADS 4
#define PAIRS 200000

static void *spin(void *arg)
{
	(void)arg;
	for (int i = 0; i < PAIRS; i++) {
		void *volatile p = malloc(64 + (i & 255));
		free(p);
	}
	return NULL;
}

int main(void)
{
	for (int r = 0; r < 3; r++) {
		struct benchmem_result res;
		pthread_t t[THREADS];
		char name[32];
		int rc;

		snprintf(name, sizeof(name), "lost/%d", r);
		benchmem_start(name);
		for (int i = 0; i < THREADS; i++)
			pthread_create(&t[i], NULL, spin, NULL);
		for (int i = 0; i < THREADS; i++)
			pthread_join(t[i], NULL);
		rc = benchmem_stop(name, &res);
		printf("%d %llu %llu\n", rc, (unsigned long long)res.lost_events,
		       (unsigned long long)res.allocations);
		fflush(stdout);
	}
	return 0;
}
"""


@pytest.mark.root
def test_lost_events_are_counted_per_region_and_per_run(daemon, tmp_path):
    src = tmp_path / "lossy.c"
    src.write_text(LOSSY)
    exe = tmp_path / "lossy"
    subprocess.run(["gcc", "-std=gnu11", "-O1", "-Wall", "-Werror", f"-I{ROOT}/client/c", "-o",
                    str(exe), str(src), str(BUILD / "libbenchmem.a"), "-pthread"], check=True)
    out = tmp_path / "r.json"
    p = subprocess.run([RUN, "--quiet", "--json", str(out), "--", str(exe)], capture_output=True,
                       text=True, env=daemon.env(), timeout=120)
    assert p.returncode == 0, p.stderr
    rows = [[int(x) for x in line.split()] for line in p.stdout.splitlines()]
    assert [r[0] for r in rows] == [0, 0, 0], rows
    doc = json.loads(out.read_text())
    entries = {b["name"]: b for b in doc["benchmarks"]}
    assert sorted(entries) == ["lost/0", "lost/1", "lost/2"]
    region_lost = [r[1] for r in rows]
    meta_lost = {e["extra_info"]["benchmem_meta"]["lost_events"] for e in entries.values()}
    assert len(meta_lost) == 1, meta_lost  # the run's count, the same in every entry
    total = meta_lost.pop()
    print(f"\nlost events per region {region_lost}, run total {total}, "
          f"allocations seen {[r[2] for r in rows]} of {4 * 200000} per region")
    # this is a private daemon: every lost event happened in this run, inside a region
    assert sum(region_lost) == total, (region_lost, total)
    if total == 0:
        # nothing lost: every one of the 800,000 malloc calls per region was counted (plus
        # glibc's few per-thread allocations at pthread_create)
        assert all(4 * 200000 <= r[2] <= 4 * 200000 + 64 for r in rows), rows


@pytest.mark.parametrize("probe", ["hook", "uprobes"])
def test_a_full_ring_buffer_loses_events_and_says_how_many(probe, tmp_path):
    """A 4 KiB ring buffer holds ~100 events and the daemon is woken only by its 20 ms timer:
    4 threads of malloc/free overflow it. Every missed allocation must show up as a lost
    event of its region, and the run's total is the regions' sum. The hook's batches (8 KiB)
    get the same ring size: none fits, each is counted lost (docs/hook.md)."""
    d = spawn_daemon(tmp_path, tmp_path / "small.sock", "ring_buffer=4KiB")
    try:
        src = tmp_path / "lossy.c"
        src.write_text(LOSSY)
        exe = tmp_path / "lossy"
        subprocess.run(["gcc", "-std=gnu11", "-O1", "-Wall", "-Werror", f"-I{ROOT}/client/c",
                        "-o", str(exe), str(src), str(BUILD / "libbenchmem.a"), "-pthread"],
                       check=True)
        out = tmp_path / "r.json"
        p = subprocess.run([RUN, "--json", str(out), "--probe", probe, "--", str(exe)],
                           capture_output=True, text=True, env=d.env(), timeout=300)
        assert p.returncode == 0, p.stderr + d.log_tail()
        rows = [[int(x) for x in line.split()] for line in p.stdout.splitlines()]
        assert [r[0] for r in rows] == [0, 0, 0], rows
        doc = json.loads(out.read_text())
        total = {b["extra_info"]["benchmem_meta"]["lost_events"] for b in doc["benchmarks"]}
        assert len(total) == 1
        total = total.pop()
        for rc, lost, seen in rows:
            assert seen < 4 * 200000, rows          # some allocations were lost ...
            assert lost >= 4 * 200000 - seen, rows  # ... and each one is counted
        assert sum(r[1] for r in rows) == total, (rows, total)
        assert "lost events: " + str(total) in p.stderr  # the table says it too
    finally:
        stop_daemon(d)

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Soak: 50 concurrent clients inside ONE traced process each open and close 200 regions while
5 hostile clients send garbage. Every accepted stop reply is in the results, exactly, and the
daemon's resident memory comes back to what it was after a short warm-up."""
import json
import random
import socket
import subprocess
import textwrap
import threading

import pytest

from conftest import BUILD
from test_hostile import code_of, connect, read_line

PY = "/usr/bin/python3"
CLIENTS, REGIONS = 50, 200  # 10,000 regions: about 3 s of daemon time on 2 cores

SOAK = textwrap.dedent("""
    import json, sys, threading, benchmem
    clients, regions = int(sys.argv[1]), int(sys.argv[2])
    replies, errors = {}, []

    def work(i):
        name = f"soak/c{i:02d}"
        got = replies[name] = []
        try:
            with benchmem.Client() as c:
                for r in range(regions):
                    c.start(name)
                    block = bytearray(1000 * (i + 1))      # held across the stop
                    n = c.stop(name)
                    del block
                    got.append([n["repeat"], n["peak_bytes"], n["total_bytes"],
                                n["allocations"], n["lost_events"]])
        except Exception as e:
            errors.append(f"{name}: {e!r}")

    threads = [threading.Thread(target=work, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"replies": replies, "errors": errors}))
""")

GARBAGE = [b"{nope\n", b"[]\n", b'{"op":"frob"}\n', b'{"op":"hello","x":1}\n', b"\x00\x01\n",
           b'{"op":"start","name":"a/../b"}\n', b'{"op":"stop","name":"soak/c00"}\n',
           b'{"op":"start","name":"soak/c00"}\n', b'{"op":"results","session":4000000000}\n']
GARBAGE_CODES = {"bad_json", "unknown_op", "bad_request", "bad_name", "no_session"}


def hostile(sock, stop, seed, tally):
    """Sends garbage until @stop: each line must get an error; an over-long line must close."""
    rng = random.Random(seed)
    s = connect(sock)
    try:
        while not stop.is_set():
            if rng.random() < 0.05:
                s.sendall(b"z" * 5000 + b"\n")
                assert code_of(read_line(s)) == "too_long"
                assert read_line(s) == "closed"
                s.close()
                s = connect(sock)
                tally["too_long"] += 1
                continue
            s.sendall(rng.choice(GARBAGE))
            code = code_of(read_line(s))
            assert code in GARBAGE_CODES, code
            tally[code] = tally.get(code, 0) + 1
    except BaseException as e:  # reported by the test
        tally["failure"] = repr(e)
    finally:
        s.close()


def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def wait_sessions_gone(sock):
    """The daemon drops a run's session once benchmem-run has disconnected."""
    with connect(sock) as s:
        for _ in range(100000):
            s.sendall(b'{"op":"status"}\n')
            st = read_line(s)
            if st["sessions"] == []:
                return
        pytest.fail(f"sessions left after the run: {st}")


def traced_run(daemon, tmp_path, clients, regions, tag):
    script = tmp_path / "soak.py"
    script.write_text(SOAK)
    out = tmp_path / f"{tag}.json"
    p = subprocess.run([str(BUILD / "benchmem-run"), "--quiet", "--python-malloc", "--json",
                        str(out), "--", PY, str(script), str(clients), str(regions)],
                       capture_output=True, text=True, env=daemon.env(), timeout=300,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr + daemon.log_tail()
    wait_sessions_gone(daemon.sock)
    return json.loads(p.stdout), json.loads(out.read_text())


@pytest.mark.root
def test_soak_50_clients_200_regions_with_hostile_neighbours(daemon, tmp_path):
    pid = daemon.proc.pid
    rss_start = rss_kib(pid)
    # warm-up: the same shape, small
    traced_run(daemon, tmp_path, CLIENTS, 4, "warmup")
    rss_warm = rss_kib(pid)

    stop, tallies = threading.Event(), [{"too_long": 0} for _ in range(5)]
    hostiles = [threading.Thread(target=hostile, args=(daemon.sock, stop, i, tallies[i]))
                for i in range(5)]
    for t in hostiles:
        t.start()
    try:
        out, doc = traced_run(daemon, tmp_path, CLIENTS, REGIONS, "soak")
    finally:
        stop.set()
        for t in hostiles:
            t.join()
    rss_end = rss_kib(pid)
    garbage = sum(v for t in tallies for k, v in t.items() if k != "failure")
    figures = (f"soak {CLIENTS}x{REGIONS} regions; {garbage} garbage requests from 5 hostile "
               f"clients; daemon VmRSS start {rss_start} KiB, after warm-up {rss_warm} KiB, "
               f"after soak {rss_end} KiB ({(rss_end - rss_warm) * 100 / rss_warm:+.1f}%)")
    print("\n" + figures)

    assert [t.get("failure") for t in tallies] == [None] * 5, tallies
    assert all(sum(t.values()) > 0 for t in tallies), tallies
    assert out["errors"] == [], out["errors"][:5]
    replies = out["replies"]
    assert sorted(replies) == [f"soak/c{i:02d}" for i in range(CLIENTS)]
    entries = {b["name"]: b for b in doc["benchmarks"]}
    assert sorted(entries) == sorted(replies), sorted(entries)[:5]
    accepted = 0
    for name, rows in replies.items():
        i = int(name[-2:])
        assert [r[0] for r in rows] == list(range(REGIONS)), name
        series = entries[name]["extra_info"]["benchmem"]
        # every accepted stop reply is in the results, in order, with the same numbers
        assert series["peak_bytes"] == [r[1] for r in rows], name
        assert series["total_bytes"] == [r[2] for r in rows], name
        assert series["allocations"] == [r[3] for r in rows], name
        # each pass held its bytearray(1000 * (i + 1)): one malloc of that size + 1 at least
        assert min(series["peak_bytes"]) >= 1000 * (i + 1) + 1, (name, min(series["peak_bytes"]))
        accepted += len(rows)
    assert accepted == CLIENTS * REGIONS
    assert doc["benchmarks"][0]["extra_info"]["benchmem_meta"]["lost_events"] == 0
    assert abs(rss_end - rss_warm) <= rss_warm // 10, figures

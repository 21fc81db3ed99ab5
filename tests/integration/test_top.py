# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""`benchmemctl top` and the watch op: a real terminal (tmux) shows the exact live bytes and peak
of a traced workload that holds them, sorts its functions, switches session and quits cleanly;
`top --once --json` gives the same numbers and hides root's sessions from another user; a
watcher that stops reading is dropped under load without the daemon's memory growing or its
other clients waiting."""
import json
import os
import pwd
import re
import shutil
import socket
import subprocess
import threading
import time

import pytest

from conftest import BUILD, require_tracing, spawn_daemon, stop_daemon, validate_reply
from test_hostile import public_socket_dir

CTL = str(BUILD / "benchmemctl")
HOLD = str(BUILD / "workloads" / "hold")
# what tests/workloads/hold.c holds: one 1,000,000-byte block (hold_big) and 200 blocks of
# 1,000 (hold_many), after a 2,000,000-byte block came and went (the peak)
LIVE, PEAK, TOTAL, ALLOCS = 1_200_000, 2_000_000, 3_200_000, 202
BIG, MANY, MANY_COUNT = 1_000_000, 200_000, 200


class Held:
    """`benchmem-run --profile all -- hold REGION GO` holding its bytes until release()."""

    def __init__(self, daemon, tmp_path, region):
        self.go = tmp_path / f"go-{region}"
        self.region = region
        self.proc = subprocess.Popen(
            [str(BUILD / "benchmem-run"), "--quiet", "--profile", "all", "--", HOLD, region,
             str(self.go)], env=daemon.env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)
        line = self.proc.stdout.readline()
        assert line == "holding\n", (line, self.proc.stderr.read() if not line else "")

    def release(self):
        self.go.touch()
        assert self.proc.wait(timeout=20) == 0, self.proc.stderr.read()


def top_once(daemon, *args, runas=None):
    env = ["env", f"BENCHMEM_SOCKET={daemon.sock}"]
    argv = [*env, CTL, "top", "--once", "--json", *args]
    if runas:
        argv = ["runuser", "-u", runas, "--", *argv]
    return subprocess.run(argv, capture_output=True, text=True, timeout=30, cwd="/")


def snapshot(daemon, *args):
    p = top_once(daemon, *args)
    assert p.returncode == 0, p.stderr
    snap = json.loads(p.stdout)
    validate_reply({"ok": True, "snapshot": snap}, "watch")
    return snap


def session_with_region(snap, region):
    found = [s for s in snap["sessions"] if any(r["name"] == region for r in s["regions"])]
    assert len(found) == 1, snap
    return found[0]


def region_of(session, name):
    return next(r for r in session["regions"] if r["name"] == name)


# ---- (1) a real terminal ------------------------------------------------------------------

class Tmux:
    """A private tmux server (-L) running one command in a 200x50 window."""

    def __init__(self, name, command):
        self.base = ["tmux", "-L", name]
        subprocess.run([*self.base, "new-session", "-d", "-x", "200", "-y", "50", "-s", "top",
                        command], check=True)

    def keys(self, *keys):
        subprocess.run([*self.base, "send-keys", "-t", "top", *keys], check=True)

    def screen(self):
        return subprocess.run([*self.base, "capture-pane", "-p", "-t", "top"],
                              capture_output=True, text=True).stdout

    def wait_for(self, pred, what, timeout=15):
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            text = self.screen()
            if pred(text):
                return text
            time.sleep(0.1)
        pytest.fail(f"the screen never showed {what}:\n{self.screen()}")

    def kill(self):
        subprocess.run([*self.base, "kill-server"], capture_output=True)


def session_row(screen, sid):
    """(selected, owner, live, peak) of session @sid's row in the sessions table."""
    m = re.search(rf"^([> ]){sid}\s+(\S+)\s+(\d+)\s+(\d+)\s+(\d+)\s", screen, re.M)
    return m and (m.group(1) == ">", m.group(2), int(m.group(4)), int(m.group(5)))


def region_row(screen, name):
    m = re.search(rf"^{re.escape(name)}\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s+(\d+)$", screen, re.M)
    return m and tuple(int(g) for g in m.groups())


def function_order(screen):
    """The function names of the functions table, top to bottom."""
    lines = screen.splitlines()
    start = next(i for i, l in enumerate(lines) if l.strip().startswith("TOTAL_B"))
    names = []
    for l in lines[start + 1:]:
        m = re.match(r"^\s*\d+\s+\d+\s+\d+\s+(\S+)\s", l)
        if not m:
            break
        names.append(m.group(1))
    return names


def test_top_screen_shows_exact_bytes_sorts_switches_and_quits(daemon, tmp_path):
    require_tracing()
    if not shutil.which("tmux"):
        pytest.fail("tmux is not installed (packaging/deps.txt lists it)")
    a = Held(daemon, tmp_path, "alpha")
    b = Held(daemon, tmp_path, "beta")
    ids = {r: session_with_region(snapshot(daemon), r)["session"] for r in ("alpha", "beta")}
    first, second = sorted(ids.values())
    exit_file = tmp_path / "top.exit"
    tmux = Tmux(f"bmtop{os.getpid()}",
                f"env BENCHMEM_SOCKET={daemon.sock} {CTL} top --interval 250; "
                f"echo $? > {exit_file}; echo top-exited; sleep 60")
    try:
        # the first session is selected: its row, its regions and its functions
        name_first = "alpha" if ids["alpha"] == first else "beta"
        screen = tmux.wait_for(lambda s: "hold_big" in s and region_row(s, name_first),
                               "the first session's functions")
        assert session_row(screen, first) == (True, "root", LIVE, PEAK), screen
        assert session_row(screen, second) == (False, "root", LIVE, PEAK), screen
        assert region_row(screen, name_first) == (0, LIVE, PEAK, TOTAL, ALLOCS), screen
        assert f"Session {first}:" in screen

        # sort by own bytes: hold_big (1,000,000) above hold_many (200,000), nothing above
        tmux.keys("o")
        screen = tmux.wait_for(lambda s: "Functions by own" in s, "the own sort")
        assert function_order(screen)[:2] == ["hold_big", "hold_many"], screen
        # by count: hold_many's 200 blocks above hold_big's one
        tmux.keys("c")
        screen = tmux.wait_for(lambda s: "Functions by count" in s, "the count sort")
        order = function_order(screen)
        assert order.index("hold_many") < order.index("hold_big"), screen
        assert re.search(rf"^\s*{MANY}\s+{MANY}\s+{MANY_COUNT}\s+hold_many\s", screen, re.M)
        assert re.search(rf"^\s*{BIG}\s+{BIG}\s+1\s+hold_big\s", screen, re.M)
        # right: the functions of the workload's one thread (the same), left: all again
        tmux.keys("Right")
        screen = tmux.wait_for(lambda s: re.search(r"Functions by count, thread \d+", s),
                               "one thread's functions")
        assert re.search(rf"^\s*{MANY}\s+{MANY}\s+{MANY_COUNT}\s+hold_many\s", screen, re.M)
        tmux.keys("Left")
        tmux.wait_for(lambda s: "Functions by count, all threads" in s, "all threads again")

        # down: the second session is selected and its region shown
        name_second = "beta" if name_first == "alpha" else "alpha"
        tmux.keys("Down")
        screen = tmux.wait_for(lambda s: f"Session {second}:" in s and region_row(s, name_second),
                               "the second session")
        assert session_row(screen, second) == (True, "root", LIVE, PEAK), screen
        assert session_row(screen, first) == (False, "root", LIVE, PEAK), screen
        assert region_row(screen, name_second) == (0, LIVE, PEAK, TOTAL, ALLOCS), screen
        assert region_row(screen, name_first) is None

        tmux.keys("q")
        end = time.monotonic() + 10
        while not exit_file.exists() and time.monotonic() < end:
            time.sleep(0.05)
        assert exit_file.read_text().strip() == "0"
        # the terminal is restored: the shell's output is on the normal screen, top's is gone
        screen = tmux.wait_for(lambda s: "top-exited" in s, "the shell after top")
        assert "SESSION" not in screen and "hold_big" not in screen, screen
    finally:
        tmux.kill()
        a.release()
        b.release()


# ---- (2) --once --json and the trust rule --------------------------------------------------

@pytest.fixture
def public_daemon(tmp_path):
    """A daemon whose socket every user can reach."""
    sdir = public_socket_dir()
    d = spawn_daemon(tmp_path, sdir / "benchmemd.sock", "socket_mode=0666")
    yield d
    stop_daemon(d)
    sdir.rmdir()


@pytest.fixture
def other_user():
    require_tracing()
    name = f"bmtop{os.getpid()}"
    subprocess.run(["useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
                    name], check=True, capture_output=True)
    yield pwd.getpwnam(name)
    subprocess.run(["userdel", name], capture_output=True)


def test_top_once_json_exact_numbers_and_other_user_sees_nothing(public_daemon, tmp_path,
                                                                 other_user):
    d = public_daemon
    held = Held(d, tmp_path, "alpha")
    try:
        s = session_with_region(snapshot(d), "alpha")
        assert (s["live_bytes"], s["peak_bytes"], s["total_bytes"], s["allocations"]) == \
            (LIVE, PEAK, TOTAL, ALLOCS)
        assert s["uid"] == 0 and s["profile"] and not s["ended"]
        assert s["command"].endswith("/hold") and s["lost_events"] == 0
        assert s["alloc_rate"] > 0 and "hotspots" not in s  # no focus: no functions
        r = region_of(s, "alpha")
        assert (r["live_bytes"], r["peak_bytes"], r["total_bytes"], r["allocations"]) == \
            (LIVE, PEAK, TOTAL, ALLOCS)

        for sort, first in (("own", "hold_big"), ("count", None), ("total", None)):
            snap = snapshot(d, "--session", str(s["session"]), "--sort", sort)
            hot = session_with_region(snap, "alpha")["hotspots"]
            fns = {f["function"]: f for f in hot["functions"]}
            assert hot["sort"] == sort and not hot["capped"]
            assert (fns["hold_big"]["own_bytes"], fns["hold_big"]["total_bytes"],
                    fns["hold_big"]["count"]) == (BIG, BIG, 1)
            assert (fns["hold_many"]["own_bytes"], fns["hold_many"]["total_bytes"],
                    fns["hold_many"]["count"]) == (MANY, MANY, MANY_COUNT)
            assert fns["main"]["total_bytes"] == LIVE and fns["main"]["own_bytes"] == 0
            key = {"own": "own_bytes", "count": "count", "total": "total_bytes"}[sort]
            assert [f[key] for f in hot["functions"]] == \
                sorted((f[key] for f in hot["functions"]), reverse=True)
            if first:
                assert hot["functions"][0]["function"] == first
            assert [(t["live_bytes"], t["blocks"]) for t in hot["threads"]] == \
                [(LIVE, MANY_COUNT + 1)]
            tid = hot["threads"][0]["tid"]
        snap = snapshot(d, "--session", str(s["session"]))
        assert snap["focus"] == s["session"]
        # one thread's functions: the workload's only thread has them all, pid 1 none
        with socket.socket(socket.AF_UNIX) as c:
            c.connect(str(d.sock))
            f = c.makefile("rw")
            by_thread = {}
            for t in (tid, 1):
                f.write(json.dumps({"op": "watch", "session": s["session"], "thread": t,
                                    "sort": "own"}) + "\n")
                f.flush()
                reply = json.loads(f.readline())
                validate_reply(reply, "watch")
                hot = session_with_region(reply["snapshot"], "alpha")["hotspots"]
                assert hot["thread"] == t
                by_thread[t] = [(x["function"], x["own_bytes"]) for x in hot["functions"]]
        assert by_thread[tid][:2] == [("hold_big", BIG), ("hold_many", MANY)]
        assert by_thread[1] == []

        # the other user: no sessions, and root's is not theirs to focus on
        p = top_once(d, runas=other_user.pw_name)
        assert p.returncode == 0, p.stderr
        theirs = json.loads(p.stdout)
        validate_reply({"ok": True, "snapshot": theirs}, "watch")
        assert theirs["sessions"] == [] and theirs["seq"] == 1
        p = top_once(d, "--session", str(s["session"]), runas=other_user.pw_name)
        assert p.returncode == 1 and "permission" in p.stderr, p.stderr
        p = subprocess.run(["runuser", "-u", other_user.pw_name, "--", "env",
                            f"BENCHMEM_SOCKET={d.sock}", CTL, "top", "--once"],
                           capture_output=True, text=True, timeout=30, cwd="/")
        assert p.returncode == 0 and "no traced sessions you may see" in p.stdout, p.stdout
        assert "/hold" not in p.stdout
    finally:
        held.release()


def test_watch_rejects_fast_rates_and_unknown_sorts(daemon):
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(str(daemon.sock))
        f = c.makefile("rw")
        for req, code in (({"op": "watch", "interval_ms": 100}, "bad_request"),
                          ({"op": "watch", "sort": "peak"}, "bad_request"),
                          ({"op": "watch", "session": 999}, "no_session")):
            f.write(json.dumps(req) + "\n")
            f.flush()
            reply = json.loads(f.readline())
            validate_reply(reply)
            assert reply["error"]["code"] == code, reply
        # a good one streams: seq 1 at once, then 2 about 250 ms later
        t0 = time.monotonic()
        f.write('{"op":"watch","interval_ms":250}\n')
        f.flush()
        seqs = [json.loads(f.readline())["snapshot"]["seq"] for _ in range(3)]
        assert seqs == [1, 2, 3]
        assert 0.4 < time.monotonic() - t0 < 2.0

    # asking again and again does not beat the rate bound: a request flood, then one more,
    # gives one snapshot now and the next no sooner than 250 ms after it
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(str(daemon.sock))
        f = c.makefile("rw")
        f.write('{"op":"watch","interval_ms":60000}\n' * 50)
        f.flush()
        first = json.loads(f.readline())
        t1 = time.monotonic()
        f.write('{"op":"watch","interval_ms":60000}\n')
        f.flush()
        second = json.loads(f.readline())
        gap = time.monotonic() - t1
        assert (first["snapshot"]["seq"], second["snapshot"]["seq"]) == (1, 2)
        assert 0.2 < gap < 1.0, gap
        c.settimeout(0.6)
        with pytest.raises(socket.timeout):
            c.recv(1)  # nothing more: the flood was folded into those two


# ---- (3) a reader that stops, under load ---------------------------------------------------

def rss_kib(pid):
    for line in open(f"/proc/{pid}/status"):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError(f"no VmRSS for pid {pid}")


def spam_status(sock, stop, tally):
    """A client sending status requests as fast as the daemon answers them."""
    with socket.socket(socket.AF_UNIX) as c:
        c.connect(str(sock))
        f = c.makefile("rwb")
        while not stop.is_set():
            f.write(b'{"op":"status"}\n')
            f.flush()
            if not json.loads(f.readline())["ok"]:
                tally["errors"] += 1
            tally["status"] += 1


RSS_BOUND_KIB = 256  # the daemon's VmRSS may not grow more than this across the drop
# hello latency while a watcher is dropped: the 95th percentile stays interactive, and no
# single hello waits as long as a blocked loop would make it (seconds); the worst single
# sample is the scheduler's on a loaded 2-core box (0.26 s seen with 7 builds running)
HELLO_P95_S = 0.200
HELLO_WORST_S = 1.0


def test_slow_watcher_is_dropped_under_load_memory_flat_hello_fast(daemon, tmp_path):
    held = Held(daemon, tmp_path, "alpha")
    pid = daemon.proc.pid
    sid = session_with_region(snapshot(daemon), "alpha")["session"]
    stop, tally = threading.Event(), {"status": 0, "errors": 0}
    spammers = [threading.Thread(target=spam_status, args=(daemon.sock, stop, tally))
                for _ in range(6)]
    slow = socket.socket(socket.AF_UNIX)
    try:
        for t in spammers:
            t.start()
        # warm: the focus session's functions computed a few times (symbol tables cached;
        # glibc keeps the work arrays' heap once its mmap threshold has risen: ~0.9 MiB, once)
        for _ in range(3):
            snapshot(daemon, "--session", str(sid))
        time.sleep(1.0)
        rss_before = rss_kib(pid)
        slow.connect(str(daemon.sock))
        slow.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
        slow.sendall(json.dumps({"op": "watch", "interval_ms": 250,
                                 "session": sid}).encode() + b"\n")
        # never read: the daemon must drop it, while hello keeps answering fast
        t0, lat = time.monotonic(), []
        with socket.socket(socket.AF_UNIX) as h:
            h.connect(str(daemon.sock))
            hf = h.makefile("rwb")
            while "watch snapshots unread" not in daemon.log_tail(400):
                assert time.monotonic() - t0 < 60, daemon.log_tail()
                t = time.monotonic()
                hf.write(b'{"op":"hello"}\n')
                hf.flush()
                assert json.loads(hf.readline())["ok"]
                lat.append(time.monotonic() - t)
                time.sleep(0.02)
        dropped_after = time.monotonic() - t0
        rss_after = rss_kib(pid)
        # the dropped socket holds what was sent before the drop, then ends
        slow.settimeout(10)
        got = b""
        while chunk := slow.recv(65536):
            got += chunk
        lines = got.decode().splitlines()
        for line in lines:
            validate_reply(json.loads(line), "watch")
        assert 2 <= len(lines) < 400
        hellos, worst = len(lat), max(lat)
        print(f"dropped after {dropped_after:.1f}s, {len(lines)} snapshots delivered, "
              f"{hellos} hellos, worst {worst * 1000:.1f} ms, VmRSS {rss_before} -> "
              f"{rss_after} KiB, {tally['status']} status replies")
        p95 = sorted(lat)[int(len(lat) * 0.95)]
        assert p95 < HELLO_P95_S, (p95, worst)
        assert worst < HELLO_WORST_S, worst
        assert rss_after - rss_before < RSS_BOUND_KIB, (rss_before, rss_after)
    finally:
        stop.set()
        for t in spammers:
            t.join()
        slow.close()
        held.release()
    assert tally["errors"] == 0 and tally["status"] > 100, tally

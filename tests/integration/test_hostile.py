# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Hostile clients against the real daemon, the redis protocol.tcl way: send one bad thing,
expect an error reply or a clean close, then check that ANOTHER client is still served and that
the results accepted earlier (a traced "anchor" process with a closed region) are intact."""
import json
import os
import socket
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

from conftest import BUILD, PYCLIENT, require_tracing, spawn_daemon, stop_daemon, names_script

PY = "/usr/bin/python3"
RUN = str(BUILD / "benchmem-run")
LINE_MAX = 4096


# ---- helpers shared by test_soak, test_credentials and test_faults ---------------------------

def public_socket_dir():
    """A directory every user can traverse (pytest's tmp_path lives under a 0700 directory)."""
    path = Path(tempfile.mkdtemp(prefix="bm-sock-", dir="/tmp"))
    path.chmod(0o755)
    return path


def connect(sock, timeout=10):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(str(sock))  # blocking: a full backlog makes us wait, as a real client would
    s.settimeout(timeout)
    return s


def read_line(s):
    """One reply line as a dict, or "closed" when the server closed first (EOF or reset)."""
    buf = b""
    while not buf.endswith(b"\n"):
        try:
            chunk = s.recv(65536)
        except ConnectionResetError:
            chunk = b""
        if not chunk:
            return "closed" if not buf else ("truncated", buf)
        buf += chunk
    return json.loads(buf)


def ask(sock, raw):
    with connect(sock) as s:
        s.sendall(raw)
        return read_line(s)


def code_of(reply):
    assert isinstance(reply, dict) and reply.get("ok") is False, reply
    return reply["error"]["code"]


# ---- fixtures ------------------------------------------------------------------------------

ANCHOR = textwrap.dedent("""
    import json, os, sys, benchmem
    with benchmem.region("anchor/before") as n:
        b = bytearray(1_000_000)
        del b
    print(json.dumps({"pid": os.getpid(), **n}), flush=True)
    sys.stdin.read()
""")


class Anchor:
    """A process traced by the daemon (under benchmem-run) that closed one region, then waits."""

    def __init__(self, d, tmp):
        script = tmp / "anchor.py"
        script.write_text(ANCHOR)
        self.json = tmp / "anchor.json"
        self.proc = subprocess.Popen([RUN, "--quiet", "--python-malloc", "--json", str(self.json),
                                      "--", PY, str(script)], stdin=subprocess.PIPE,
                                     stdout=subprocess.PIPE, env=d.env(), cwd=tmp)
        line = self.proc.stdout.readline()
        assert line, f"anchor did not start\n{d.log_tail()}"
        self.first = json.loads(line)
        self.pid = self.first.pop("pid")
        self.d = d

    def results(self):
        with connect(self.d.sock) as s:
            s.sendall(json.dumps({"op": "results", "pid": self.pid}).encode() + b"\n")
            reply = read_line(s)
        assert reply["ok"] is True, reply
        return reply["result"]

    def check_intact(self):
        """The anchor's accepted region is in results with the numbers its stop reply gave."""
        doc = self.results()
        entry = next(b for b in doc["benchmarks"] if b["name"] == "anchor/before")
        series = entry["extra_info"]["benchmem"]
        assert series["peak_bytes"] == [self.first["peak_bytes"]], (series, self.first)
        assert series["total_bytes"] == [self.first["total_bytes"]], (series, self.first)
        assert series["allocations"] == [self.first["allocations"]], (series, self.first)
        # bytearray(1_000_000) is one malloc of 1,000,001 bytes under --python-malloc
        assert 1_000_001 <= self.first["peak_bytes"] <= 1_000_001 + 65536, self.first
        return doc

    def finish(self):
        self.proc.stdin.close()
        assert self.proc.wait(timeout=30) == 0
        return json.loads(self.json.read_text())


def served(sock):
    """Another, well-behaved client gets its answer."""
    reply = ask(sock, b'{"op":"hello"}\n')
    assert reply == {"ok": True, "protocol": 1, "server": "benchmemd 0.1.0", "mode": "daemon"}


@pytest.fixture(scope="module")
def hd(tmp_path_factory):
    """One daemon for the module, its socket reachable by every user (for the foreign-uid
    case)."""
    require_tracing()
    tmp = tmp_path_factory.mktemp("hostile")
    sdir = public_socket_dir()
    d = spawn_daemon(tmp, sdir / "benchmemd.sock", "socket_mode=0666")
    d.tmp = tmp
    yield d
    stop_daemon(d)
    sdir.rmdir()


@pytest.fixture(scope="module")
def anchor(hd):
    a = Anchor(hd, hd.tmp)
    yield a
    doc = a.finish()
    assert [b["name"] for b in doc["benchmarks"]][0] == "anchor/before"


# ---- one bad line, the connection lives -------------------------------------------------------

BAD_LINES = [
    pytest.param(b"{nope\n", "bad_json", id="malformed-json"),
    pytest.param(b"[1,2]\n", "bad_json", id="array"),
    pytest.param(b"\"op\"\n", "bad_json", id="string"),
    pytest.param(b"42\n", "bad_json", id="number"),
    pytest.param(b"\n", "bad_json", id="empty-line"),
    pytest.param(b'{"op":"frob"}\n', "unknown_op", id="unknown-op"),
    pytest.param(b'{"op":7}\n', "bad_request", id="op-not-a-string"),
    pytest.param(b'{"op":"hello","x":1}\n', "bad_request", id="unknown-member"),
    pytest.param(b'{"op":"hello"}\x00\n', "bad_json", id="nul-after"),
    pytest.param(b'{"op":"he\x00llo"}\n', "bad_json", id="nul-inside"),
    pytest.param(b'\x00\x00\x00\n', "bad_json", id="only-nuls"),
    pytest.param(b'{"op":"hello","op":"hello"}\n', "bad_json", id="duplicate-key"),
    pytest.param(b'{"op":"\xff\xfe"}\n', "bad_json", id="invalid-utf8"),
    pytest.param(b'{"op":"start","name":"a/../b"}\n', "bad_name", id="dotdot-name"),
    pytest.param(b'{"op":"start","name":".."}\n', "bad_name", id="dotdot-alone"),
    pytest.param(b'{"op":"start","name":"a\\nb"}\n', "bad_name", id="newline-name"),
]


@pytest.mark.root
@pytest.mark.parametrize("raw,code", BAD_LINES)
def test_bad_line_gets_an_error_and_others_are_served(hd, anchor, raw, code):
    with connect(hd.sock) as s:
        s.sendall(raw)
        reply = read_line(s)
        assert code_of(reply) == code, reply
        assert "\n" not in reply["error"]["message"]
        # an error is not a close: the same connection still answers
        s.sendall(b'{"op":"status"}\n')
        assert read_line(s)["ok"] is True
    served(hd.sock)
    anchor.check_intact()


@pytest.mark.root
def test_line_of_exactly_4096_bytes_is_served_4097_is_too_long(hd, anchor):
    hello = b'{"op":"hello"}'
    fits = hello + b" " * (LINE_MAX - len(hello) - 1) + b"\n"
    assert len(fits) == LINE_MAX
    assert ask(hd.sock, fits)["ok"] is True
    over = hello + b" " * (LINE_MAX - len(hello)) + b"\n"
    with connect(hd.sock) as s:
        s.sendall(over)
        reply = read_line(s)
        assert code_of(reply) == "too_long"
        assert reply["error"]["message"] == "line exceeds 4096 bytes"
        assert read_line(s) == "closed"
    served(hd.sock)
    anchor.check_intact()


@pytest.mark.root
def test_endless_line_without_newline_is_cut_at_the_limit(hd, anchor):
    with connect(hd.sock) as s:
        try:
            s.sendall(b"x" * 100_000)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server may close before we finish writing
        reply = read_line(s)
        assert reply == "closed" or code_of(reply) == "too_long", reply
        if reply != "closed":
            assert read_line(s) == "closed"
    served(hd.sock)
    anchor.check_intact()


@pytest.mark.root
def test_stop_without_start_is_not_open(hd, anchor):
    with connect(hd.sock) as s:
        s.sendall(json.dumps({"op": "stop", "name": "never/started", "pid": anchor.pid}).encode()
                  + b"\n")
        assert code_of(read_line(s)) == "not_open"
        s.sendall(json.dumps({"op": "stop", "name": "anchor/before", "pid": anchor.pid}).encode()
                  + b"\n")
        assert code_of(read_line(s)) == "not_open"  # closed already: a second stop is refused
        s.sendall(json.dumps({"op": "stop", "name": "x", "session": 4000000000}).encode()
                  + b"\n")
        assert code_of(read_line(s)) == "no_session"
        s.sendall(b'{"op":"stop","name":"x"}\n')  # the test process is in no session
        assert code_of(read_line(s)) == "no_session"
    served(hd.sock)
    doc = anchor.check_intact()
    assert "never/started" not in [b["name"] for b in doc["benchmarks"]]


@pytest.mark.root
def test_region_name_with_slash_is_accepted_and_dotdot_refused(hd, anchor):
    name = "tests/t.py::test_x[a/b]"
    with connect(hd.sock) as s:
        for bad in ("../../etc/x", "a/..", "/..", "x/../../y"):
            s.sendall(json.dumps({"op": "start", "name": bad, "pid": anchor.pid}).encode() + b"\n")
            assert code_of(read_line(s)) == "bad_name", bad
        s.sendall(json.dumps({"op": "start", "name": name, "pid": anchor.pid}).encode() + b"\n")
        assert read_line(s) == {"ok": True, "region": name, "repeat": 0}
        s.sendall(json.dumps({"op": "stop", "name": name, "pid": anchor.pid}).encode() + b"\n")
        stop = read_line(s)
    assert stop["ok"] is True and stop["region"] == name, stop
    doc = anchor.check_intact()
    assert [b["name"] for b in doc["benchmarks"] if "etc" in b["name"] or ".." in b["name"]] == []
    entry = next(b for b in doc["benchmarks"] if b["name"] == name)
    assert entry["extra_info"]["benchmem"]["peak_bytes"] == [stop["peak_bytes"]]


SLASH_SCRIPT = names_script('dir/sub::t[a/b]', 500_000)


@pytest.mark.root
def test_file_names_derived_from_a_slash_name_stay_inside_the_directories(hd, tmp_path):
    script = tmp_path / "slash.py"
    script.write_text(SLASH_SCRIPT)
    out = tmp_path / "r.json"
    p = subprocess.run([RUN, "--quiet", "--python-malloc", "--profile", "all", "--json", str(out),
                        "--", PY, str(script)], capture_output=True, text=True, env=hd.env(),
                       timeout=60, cwd=tmp_path)
    assert p.returncode == 0, p.stderr + hd.log_tail()
    assert p.stdout.split() == ["bad_name"]
    doc = json.loads(out.read_text())
    assert [b["name"] for b in doc["benchmarks"]] == ["dir/sub::t[a/b]"]
    peak = doc["benchmarks"][0]["extra_info"]["benchmem"]["peak_bytes"][0]
    assert 500_001 <= peak <= 500_001 + 65536, peak
    # the profile benchmem-run asked for: a file directly inside profile_dir
    prof_dir = (hd.tmp / "profiles").resolve()
    line = next(x for x in p.stderr.splitlines() if "profile of dir/sub::t[a/b]:" in x)
    path = Path(line.split(": ", 2)[2].split(" (")[0])
    assert path.resolve().parent == prof_dir, line
    assert path.name.endswith("-dir_sub__t_a_b_-0.bin") and path.is_file(), path
    # the result file the daemon wrote when the session ended: directly inside result_dir
    res_dir = (hd.tmp / "results").resolve()
    files = sorted(res_dir.glob("*-python3.json"))  # named after the job, not the region
    assert len(files) == 1, sorted(os.listdir(res_dir))
    assert json.loads(files[0].read_text())["benchmarks"][0]["extra_info"]["benchmem"][
        "peak_bytes"] == [peak]
    # nothing escaped: no file anywhere else under the state dir or in /etc
    for root, dirs, names in os.walk(hd.tmp):
        for n in names:
            assert "etc" not in n and ".." not in n, (root, n)
    assert not Path("/etc/x").exists()


DISCONNECT_SCRIPT = textwrap.dedent("""
    import json, os, subprocess, sys, benchmem
    a = benchmem.Client()
    a.start("left/open")
    held = bytearray(2_000_000)
    a.close()                       # the connection that opened the region is gone
    with benchmem.Client() as b:    # a second connection of the same process sees it open
        st = [s for s in b.status()["sessions"] if s["root_pid"] == os.getpid()]
        print(json.dumps(st[0]["open_regions"]), flush=True)
    # a child (same process tree, same session) stops it on its own connection
    child = subprocess.run([sys.executable, "-c",
        "import json, benchmem; print(json.dumps(benchmem.stop('left/open')))"],
        capture_output=True, text=True)
    print(child.stdout.strip() or child.stderr, flush=True)
    del held
""")


@pytest.mark.root
def test_region_outlives_the_connection_that_opened_it(hd, tmp_path):
    script = tmp_path / "left.py"
    script.write_text(DISCONNECT_SCRIPT)
    out = tmp_path / "r.json"
    p = subprocess.run([RUN, "--quiet", "--python-malloc", "--json", str(out), "--", PY,
                        str(script)], capture_output=True, text=True, env=hd.env(), timeout=60,
                       cwd=tmp_path)
    assert p.returncode == 0, p.stderr + hd.log_tail()
    lines = p.stdout.strip().splitlines()
    assert len(lines) == 2, p.stdout + p.stderr
    assert "left/open" in json.loads(lines[0]), lines[0]
    stop = json.loads(lines[1])
    assert stop["region"] == "left/open" and stop["repeat"] == 0, stop
    # held across the stop: 2,000,001 bytes, plus what the child's interpreter start-up holds
    assert 2_000_001 <= stop["peak_bytes"] <= 2_000_001 + 4 * 2**20, stop
    entry = next(b for b in json.loads(out.read_text())["benchmarks"] if b["name"] == "left/open")
    assert entry["extra_info"]["benchmem"]["peak_bytes"] == [stop["peak_bytes"]]
    assert entry["extra_info"]["benchmem_meta"]["aborted"] == [False]
    served(hd.sock)


FOREIGN = textwrap.dedent("""
    import json, socket, sys
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    f = s.makefile("rwb")
    pid = int(sys.argv[2])
    for req in ({"op": "attach", "pid": pid}, {"op": "start", "name": "x", "pid": pid},
                {"op": "stop", "name": "anchor/before", "pid": pid},
                {"op": "results", "pid": pid}, {"op": "detach", "pid": pid},
                {"op": "status"}):
        f.write(json.dumps(req).encode() + b"\\n"); f.flush()
        print(f.readline().decode().strip())
""")


@pytest.mark.root
def test_pid_the_client_does_not_own_is_refused_and_logged(hd, anchor):
    p = subprocess.run(["runuser", "-u", "nobody", "--", PY, "-c", FOREIGN, str(hd.sock),
                        str(anchor.pid)], capture_output=True, text=True, timeout=30, cwd="/")
    assert p.returncode == 0, p.stderr
    replies = [json.loads(x) for x in p.stdout.splitlines()]
    assert [code_of(r) for r in replies[:5]] == ["permission"] * 5, replies
    # status shows nobody's sessions only: none
    assert replies[5]["ok"] is True and replies[5]["sessions"] == [], replies[5]
    log = hd.log_path.read_text()
    uid = int(subprocess.check_output(["id", "-u", "nobody"]))
    assert f"uid {uid} refused: pid {anchor.pid} belongs to uid 0, you are uid {uid}" in log
    served(hd.sock)
    doc = anchor.check_intact()
    assert "x" not in [b["name"] for b in doc["benchmarks"]]


# ---- more clients than max_clients -----------------------------------------------------------

@pytest.mark.root
def test_300_connections_beyond_max_clients_get_limit(tmp_path):
    sdir = public_socket_dir()
    d = spawn_daemon(tmp_path, sdir / "benchmemd.sock", "max_clients=8")
    conns = []
    try:
        for _ in range(300):
            conns.append(connect(d.sock))
        # each extra client is told why, then closed; the first 8 hear nothing unasked
        refused = []
        for s in conns[8:]:
            reply = read_line(s)
            refused.append(code_of(reply))
            assert read_line(s) == "closed"
        assert refused == ["limit"] * 292
        for s in conns[:8]:
            s.sendall(b'{"op":"hello"}\n')
            assert read_line(s)["ok"] is True
        # the daemon keeps serving: a ninth client is refused while 8 are connected ...
        with connect(d.sock) as s:
            assert code_of(read_line(s)) == "limit"  # unasked: it is closed right away
            assert read_line(s) == "closed"
        conns[0].close()
        for _ in range(10000):  # until the daemon has seen the close
            conns[1].sendall(b'{"op":"status"}\n')
            seen = read_line(conns[1])["clients"]
            if seen == 7:
                break
        else:
            pytest.fail(f"status still counts {seen} clients after one of 8 closed")
        # ... and a new client is served again once one left
        conns[0] = connect(d.sock)
        conns[0].sendall(b'{"op":"status"}\n')
        reply = read_line(conns[0])
        assert reply["ok"] is True and reply["clients"] == 8, reply
        assert d.log_path.read_text().count("refused: 8 clients connected") == 293
    finally:
        for s in conns:
            s.close()
        stop_daemon(d)
        sdir.rmdir()

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Credentials (SO_PEERCRED): an unprivileged user measures its own processes through the root
daemon, and may not attach to root's or another user's, nor make anyone write outside the
allowed directories."""
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import textwrap
from pathlib import Path

import pytest

from conftest import BUILD, PYCLIENT, require_tracing, names_script
from conftest import spawn_daemon, stop_daemon
from test_hostile import public_socket_dir

PY = "/usr/bin/python3"
RUN = str(BUILD / "benchmem-run")

RAW = textwrap.dedent("""
    import json, socket, sys
    s = socket.socket(socket.AF_UNIX)
    s.connect(sys.argv[1])
    f = s.makefile("rwb")
    for req in sys.argv[2:]:
        f.write(req.encode() + b"\\n"); f.flush()
        print(f.readline().decode().strip(), flush=True)
""")


@pytest.fixture(scope="module")
def users():
    """Two throw-away system users; removed afterwards."""
    require_tracing()
    names = [f"benchtest{os.getpid()}", f"benchtest{os.getpid()}b"]
    made = []
    try:
        for n in names:
            subprocess.run(["useradd", "--system", "--no-create-home", "--shell",
                            "/usr/sbin/nologin", n], check=True, capture_output=True)
            made.append(n)
        yield [pwd.getpwnam(n) for n in names]
    finally:
        for n in made:
            subprocess.run(["userdel", n], capture_output=True)


@pytest.fixture(scope="module")
def cd(tmp_path_factory):
    """A daemon whose socket every user can reach (socket_mode=0666)."""
    require_tracing()
    tmp = tmp_path_factory.mktemp("cred")
    sdir = public_socket_dir()
    d = spawn_daemon(tmp, sdir / "benchmemd.sock", "socket_mode=0666")
    d.tmp = tmp
    yield d
    stop_daemon(d)
    sdir.rmdir()


@pytest.fixture
def workdir(users):
    """A directory the first user owns and may write."""
    path = Path(tempfile.mkdtemp(prefix="bm-cred-", dir="/tmp"))
    os.chown(path, users[0].pw_uid, users[0].pw_gid)
    yield path
    shutil.rmtree(path)


def as_user(user, argv, cd, **kw):
    env = ["env", f"BENCHMEM_SOCKET={cd.sock}", f"PYTHONPATH={PYCLIENT}", "PYTEST_ADDOPTS="]
    return subprocess.run(["runuser", "-u", user.pw_name, "--", *env, *argv],
                          capture_output=True, text=True, timeout=60, cwd="/", **kw)


def raw_as(user, cd, *reqs):
    p = as_user(user, [PY, "-c", RAW, str(cd.sock), *[json.dumps(r) for r in reqs]], cd)
    assert p.returncode == 0, p.stderr
    return [json.loads(x) for x in p.stdout.splitlines()]


@pytest.mark.root
def test_user_measures_its_own_process(users, cd, workdir):
    out = workdir / "r.json"
    p = as_user(users[0], [RUN, "--socket", str(cd.sock), "--quiet", "--json", str(out), "--",
                           str(BUILD / "workloads" / "realloc")], cd)
    assert p.returncode == 0, p.stderr + cd.log_tail()
    want = json.loads(p.stdout.strip().splitlines()[-1])
    assert out.stat().st_uid == users[0].pw_uid  # written by the client, as the user
    entry = json.loads(out.read_text())["benchmarks"]
    assert [b["name"] for b in entry] == ["realloc"]
    series = entry[0]["extra_info"]["benchmem"]
    assert (series["peak_bytes"], series["total_bytes"], series["allocations"]) == \
        ([want["peak_bytes"]], [want["total_bytes"]], [want["allocations"]])
    log = cd.log_path.read_text()
    assert f"uid {users[0].pw_uid} refused" not in log


@pytest.mark.root
def test_user_cannot_attach_to_roots_process(users, cd):
    victim = subprocess.Popen(["sleep", "60"])
    try:
        r = raw_as(users[0], cd, {"op": "attach", "pid": victim.pid})
        assert r[0]["ok"] is False and r[0]["error"]["code"] == "permission", r
        uid = users[0].pw_uid
        assert f"uid {uid} refused: pid {victim.pid} belongs to uid 0, you are uid {uid}" \
            in cd.log_path.read_text()
        assert victim.poll() is None  # untouched
    finally:
        victim.kill()
        victim.wait()


@pytest.mark.root
def test_user_cannot_attach_to_another_users_process_but_may_to_its_own(users, cd):
    me, other = users
    theirs = subprocess.Popen(["sleep", "60"], user=other.pw_uid, group=other.pw_gid)
    mine = subprocess.Popen(["sleep", "60"], user=me.pw_uid, group=me.pw_gid)
    try:
        r = raw_as(me, cd, {"op": "attach", "pid": theirs.pid}, {"op": "attach", "pid": mine.pid},
                   {"op": "status"})
        assert r[0]["ok"] is False and r[0]["error"]["code"] == "permission", r
        assert r[0]["error"]["message"] == \
            f"pid {theirs.pid} belongs to uid {other.pw_uid}, you are uid {me.pw_uid}"
        assert r[1]["ok"] is True, r  # the control: its own process is fine
        sessions = r[2]["sessions"]
        assert [(s["root_pid"], s["uid"]) for s in sessions] == [(mine.pid, me.pw_uid)], sessions
        # the other user cannot touch the first one's session (it outlives the connection)
        r2 = raw_as(other, cd, {"op": "results", "session": r[1]["session"]},
                    {"op": "detach", "pid": mine.pid}, {"op": "status"})
        assert [x["ok"] is False and x["error"]["code"] for x in r2[:2]] == \
            ["permission", "permission"], r2
        assert r2[2]["sessions"] == [], r2
        r3 = raw_as(me, cd, {"op": "detach", "pid": mine.pid})
        assert r3 == [{"ok": True, "session": r[1]["session"]}], r3
    finally:
        for p in (theirs, mine):
            p.kill()
            p.wait()


NAMES = names_script('cred/a/b', 300_000)


@pytest.mark.root
def test_user_cannot_write_outside_allowed_directories(users, cd, workdir):
    me = users[0]
    # benchmem-run writes --json itself, as the user: the OS refuses what the user cannot write
    for target in (Path("/root/benchmem-cred.json"), Path("/etc/benchmem-cred.json")):
        p = as_user(me, [RUN, "--socket", str(cd.sock), "--quiet", "--json", str(target), "--",
                         "/bin/true"], cd)
        assert p.returncode == 2, p.stderr
        assert "Permission denied" in p.stderr, p.stderr
        assert not target.exists()
    # the daemon writes only into its result_dir/profile_dir, with sanitised names
    script = workdir / "names.py"
    script.write_text(NAMES)
    os.chown(script, me.pw_uid, me.pw_gid)
    out = workdir / "r.json"
    p = as_user(me, [RUN, "--socket", str(cd.sock), "--quiet", "--python-malloc", "--profile",
                     "all", "--json", str(out), "--", PY, str(script)], cd)
    assert p.returncode == 0, p.stderr + cd.log_tail()
    assert p.stdout.split() == ["bad_name"]
    doc = json.loads(out.read_text())
    assert [b["name"] for b in doc["benchmarks"]] == ["cred/a/b"]
    peak = doc["benchmarks"][0]["extra_info"]["benchmem"]["peak_bytes"]
    assert len(peak) == 1 and 300_001 <= peak[0] <= 300_001 + 65536, peak
    profiles = list((cd.tmp / "profiles").glob("*-cred_a_b-0.bin"))
    assert len(profiles) == 1 and profiles[0].stat().st_size > 0, profiles
    results = list((cd.tmp / "results").glob("*-python3.json"))  # named after the job
    assert len(results) == 1, os.listdir(cd.tmp / "results")
    assert json.loads(results[0].read_text())["benchmarks"][0]["extra_info"]["benchmem"][
        "peak_bytes"] == peak
    for root, _, names in os.walk(cd.tmp):
        assert not [n for n in names if "etc" in n or ".." in n], (root, names)
    assert not Path("/etc/x").exists()

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Context from the client: benchmem-run fills commit_info/machine_info from ITS working
directory (running git itself) and sends them with launch; a daemon started in another
repository stores them verbatim. The protocol bounds and checks the member."""
import json
import os
import socket
import subprocess

import pytest

from conftest import BUILD, spawn_daemon, stop_daemon

RUN, GROW = str(BUILD / "benchmem-run"), str(BUILD / "workloads/grow")
GIT_ENV = {"GIT_AUTHOR_NAME": "A U Thor", "GIT_AUTHOR_EMAIL": "a@example.org",
           "GIT_COMMITTER_NAME": "C O Mitter", "GIT_COMMITTER_EMAIL": "c@example.org",
           "GIT_AUTHOR_DATE": "2023-11-14T23:13:20+01:00",
           "GIT_COMMITTER_DATE": "2023-11-14T20:43:20-02:30"}


def git(repo, *args):
    env = dict(os.environ, **GIT_ENV)
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True,
                          text=True, env=env).stdout.strip()


def make_repo(path, branch):
    path.mkdir()
    git(path, "init", "-q", "-b", branch)
    (path / "f.txt").write_text("one\n")
    git(path, "add", "f.txt")
    git(path, "commit", "-q", "-m", "first")
    return git(path, "rev-parse", "HEAD")


@pytest.fixture
def elsewhere_daemon(tmp_path, monkeypatch):
    """benchmemd whose working directory is ANOTHER git repository."""
    other = tmp_path / "daemon-repo"
    make_repo(other, "daemon-branch")
    state = tmp_path / "state"
    state.mkdir()
    monkeypatch.chdir(other)
    d = spawn_daemon(state, tmp_path / "benchmemd.sock")
    monkeypatch.chdir(tmp_path)
    yield d, state
    stop_daemon(d)


def run_in(cwd, sock, out):
    p = subprocess.run([RUN, "--socket", str(sock), "--json", str(out), "--", GROW, "1"],
                       cwd=cwd, capture_output=True, text=True, timeout=120)
    assert p.returncode == 0, p.stderr
    return json.loads(out.read_text())


def test_result_describes_the_clients_repository(elsewhere_daemon, tmp_path):
    d, state = elsewhere_daemon
    proj = tmp_path / "proj"
    head = make_repo(proj, "feature")
    (proj / "f.txt").write_text("two\n")                     # a tracked change: dirty

    doc = run_in(proj, d.sock, tmp_path / "a.json")
    ci = doc["commit_info"]
    print("commit_info (dirty, on a branch):", ci)
    assert ci == {"id": head, "time": "2023-11-14T20:43:20-02:30",
                  "author_time": "2023-11-14T23:13:20+01:00", "dirty": True,
                  "project": "proj", "branch": "feature"}
    assert doc["machine_info"]["system"] == "Linux" and doc["machine_info"]["node"]
    # the daemon's own result file carries the same, never the daemon's directory
    files = [json.loads(p.read_text()) for p in state.rglob("*-grow*.json")]
    assert files and all(f["commit_info"] == ci for f in files)

    git(proj, "checkout", "-q", "--", "f.txt")                 # clean
    (proj / "untracked.txt").write_text("x")                   # untracked does not count
    git(proj, "checkout", "-q", "--detach")
    ci = run_in(proj, d.sock, tmp_path / "b.json")["commit_info"]
    print("commit_info (clean, detached):", ci)
    assert (ci["id"], ci["dirty"], ci["branch"]) == (head, False, "(detached head)")

    plain = tmp_path / "plain"                                 # no repository at all
    plain.mkdir()
    ci = run_in(plain, d.sock, tmp_path / "c.json")["commit_info"]
    assert ci == {"id": None, "time": None, "author_time": None, "dirty": None,
                  "project": "plain", "branch": None}


def ask(sock, req):
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.connect(str(sock))
        s.sendall(json.dumps(req).encode() + b"\n")
        return json.loads(s.makefile().readline())


@pytest.mark.parametrize("context,msg", [
    ({"foo": {}}, '"context" takes only commit_info and machine_info, not "foo"'),
    ({"commit_info": []}, '"context.commit_info" must be an object'),
    ({"commit_info": {"id": 5}}, '"context.commit_info.id" has the wrong type'),
    ({"commit_info": {"sha": "x"}}, '"context.commit_info" has an unknown member "sha"'),
    ({"machine_info": {"python_build": [1]}},
     '"context.machine_info.python_build" has the wrong type'),
    ({"machine_info": {"node": "n" * 3000}}, '"context" is larger than 2048 bytes'),
    ("x", '"context" must be an object'),
])
def test_bad_context_is_a_clear_bad_request(elsewhere_daemon, context, msg):
    d, _ = elsewhere_daemon
    reply = ask(d.sock, {"op": "attach", "pid": os.getpid(), "context": context})
    assert reply == {"ok": False, "error": {"code": "bad_request", "message": msg}}
    reply = ask(d.sock, {"op": "start", "name": "x", "context": {}})
    assert reply["error"]["code"] == "bad_request"


def test_python_client_sends_the_same_commit_info(elsewhere_daemon, tmp_path):
    """The Python client collects commit_info with the same git commands as benchmem-run and
    sends it with attach; the result carries it."""
    import sys
    from conftest import PYCLIENT
    sys.path.insert(0, str(PYCLIENT))
    import benchmem

    d, _ = elsewhere_daemon
    proj = tmp_path / "proj"
    head = make_repo(proj, "feature")
    c_side = run_in(proj, d.sock, tmp_path / "a.json")["commit_info"]
    ctx = benchmem.context(proj)
    assert ctx["commit_info"] == c_side and c_side["id"] == head
    assert ctx["machine_info"]["python_version"] == ".".join(map(str, sys.version_info[:3]))
    sleeper = subprocess.Popen([sys.executable, "-c", "import time; print(1, flush=True); "
                                "time.sleep(30)"], stdout=subprocess.PIPE)
    sleeper.stdout.readline()                                  # its allocator is mapped
    try:
        with benchmem.Client(str(d.sock)) as c:
            sid = c.attach(sleeper.pid, context=ctx)
            doc = c.results(session=sid)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert doc["commit_info"] == c_side
    assert doc["machine_info"]["python_version"] == ctx["machine_info"]["python_version"]

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Trust on a shared box (issue 12, design.md "Trust"): a user never gains privilege or another
process's data through the root daemon — set-uid/set-gid images end the session before they run
(launch) or are refused (attach), a failed attach leaves the process untraced, and stopping the
daemon lets the users' benchmarks run on unless they asked otherwise."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BUILD, PYCLIENT, require_tracing, spawn_daemon, stop_daemon
from test_credentials import as_user, raw_as, users, cd  # noqa: F401 (fixtures)
from test_hostile import public_socket_dir

import sys
sys.path.insert(0, str(PYCLIENT))
import benchmem  # noqa: E402

PY = "/usr/bin/python3"
RUN = str(BUILD / "benchmem-run")
SECRET = 3_000_000  # the block the privileged image allocates: must never reach the user

PRIV = r"""
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <unistd.h>

int main(int argc, char **argv)
{
	const char *mode = argc > 1 ? argv[1] : "alloc";
	char *volatile p;

	if (!strcmp(mode, "nodump"))
		prctl(PR_SET_DUMPABLE, 0);
	if (strcmp(mode, "alloc")) {
		printf("ready %d %d\n", (int)geteuid(), (int)getegid());
		fflush(stdout);
		for (;;)
			pause();
	}
	p = malloc(3000000);
	memset(p, 1, 3000000);
	printf("euid %d egid %d\n", (int)geteuid(), (int)getegid());
	free(p);
	return 0;
}
"""

# a static binary with no allocator at all: no libc, a pause() loop through the syscall
NOALLOC = r"""
void _start(void)
{
	for (;;)
		__asm__ volatile("syscall" : : "a"(34) : "rcx", "r11", "memory");
}
"""


def tracer_pid(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("TracerPid:"):
            return int(line.split()[1])
    raise AssertionError(f"no TracerPid for {pid}")


@pytest.fixture(scope="module")
def bins(users):
    """plain (the user's), suid (root, 4755) and sgid (root, 2755) copies of PRIV, and the
    static NOALLOC, in a directory every user can traverse."""
    d = Path(tempfile.mkdtemp(prefix="bm-trust-", dir="/tmp"))
    d.chmod(0o755)
    (d / "priv.c").write_text(PRIV)
    (d / "noalloc.c").write_text(NOALLOC)
    subprocess.run(["cc", "-O0", "-o", str(d / "plain"), str(d / "priv.c")], check=True)
    subprocess.run(["cc", "-O1", "-static", "-nostdlib", "-ffreestanding", "-fno-pie",
                    "-no-pie", "-o", str(d / "noalloc"), str(d / "noalloc.c")], check=True)
    for name, mode in (("suid", 0o4755), ("sgid", 0o2755)):
        shutil.copy(d / "plain", d / name)
        os.chown(d / name, 0, 0)
        os.chmod(d / name, mode)
    os.chown(d / "plain", users[0].pw_uid, users[0].pw_gid)
    yield d
    shutil.rmtree(d)


def start_as(user, argv):
    """@argv as @user (real ids the user's); waits for its "ready EUID EGID" line."""
    p = subprocess.Popen(argv, user=user.pw_uid, group=user.pw_gid, extra_groups=[],
                         stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    assert line[0] == "ready", line
    return p, int(line[1]), int(line[2])


def results_files(d):
    return sorted((d.tmp / "results").glob("*.json")) if (d.tmp / "results").exists() else []


# Under the hook a dynamically linked python (the hook preloaded) execs the image; from a
# thread other than the main one too, which ptrace must still follow in a user's session.
EXEC_FROM = """
import os, sys, threading
argv = sys.argv[2:]
if sys.argv[1] == "thread":
    threading.Thread(target=os.execv, args=(argv[0], argv)).start()
    threading.Event().wait(30)
os.execv(argv[0], argv)
"""
LAUNCHERS = {
    "auto": lambda img: ["--", img, "alloc"],  # the hook for plain, uprobes for set-id ones
    "uprobes": lambda img: ["--probe", "uprobes", "--", img, "alloc"],
    "hook": lambda img: ["--probe", "hook", "--", PY, "-c", EXEC_FROM, "main", img, "alloc"],
    "hook-thread": lambda img: ["--probe", "hook", "--", PY, "-c", EXEC_FROM, "thread", img,
                                "alloc"],
}


@pytest.mark.root
@pytest.mark.parametrize("launcher", list(LAUNCHERS))
@pytest.mark.parametrize("image", ["suid", "sgid"])
def test_setid_exec_under_launch_ends_the_session_with_permission(users, cd, bins, image,
                                                                  launcher, tmp_path):
    me = users[0]
    cmd = LAUNCHERS[launcher]
    work = Path(tempfile.mkdtemp(prefix="bm-trust-w-", dir="/tmp"))
    os.chown(work, me.pw_uid, me.pw_gid)
    try:
        # the control: the user's own copy is measured, secret-sized block included
        p = as_user(me, [RUN, "--socket", str(cd.sock), "--quiet", "--json",
                         str(work / "plain.json"), *cmd(str(bins / "plain"))], cd)
        assert p.returncode == 0, p.stderr + cd.log_tail()
        assert p.stdout.split()[:4] == ["euid", str(me.pw_uid), "egid", str(me.pw_gid)]
        extra = json.loads((work / "plain.json").read_text())["benchmarks"][0]["extra_info"]
        peak = extra["benchmem"]["peak_bytes"]
        assert peak[0] >= SECRET, peak
        assert extra["benchmem_meta"]["probe"] == ("uprobes" if launcher == "uprobes" else
                                                   "hook"), extra["benchmem_meta"]
        before = results_files(cd)

        p = as_user(me, [RUN, "--socket", str(cd.sock), "--quiet", "--json",
                         str(work / "priv.json"), *cmd(str(bins / image))], cd)
        # the image ran as it would under an unprivileged tracer's absence: privileged, but
        # untraced — we saw none of it
        euid, egid = (0, me.pw_gid) if image == "suid" else (me.pw_uid, 0)
        assert p.stdout.split() == ["euid", str(euid), "egid", str(egid)], p.stdout
        assert p.returncode == 2, p.stderr + cd.log_tail()
        ids = (f"uids {me.pw_uid}/0/0/0 and gids {me.pw_gid}/{me.pw_gid}/{me.pw_gid}/"
               f"{me.pw_gid}" if image == "suid" else
               f"uids {me.pw_uid}/{me.pw_uid}/{me.pw_uid}/{me.pw_uid} and gids "
               f"{me.pw_gid}/0/0/0")
        assert "cannot fetch the results: permission: session " in p.stderr, p.stderr
        assert "was ended and detached: pid " in p.stderr and ids in p.stderr, p.stderr
        assert "a set-uid or set-gid program" in p.stderr, p.stderr
        assert not (work / "priv.json").exists()  # no numbers, not even aborted ones
        assert str(SECRET) not in p.stderr + p.stdout
        assert results_files(cd) == before  # nor a result file in the daemon's directory
        assert "ended, detached: pid" in cd.log_path.read_text()
        # the ended session refuses everything and is gone with the client
        assert raw_as(me, cd, {"op": "status"})[0]["sessions"] == []
    finally:
        shutil.rmtree(work)


@pytest.mark.root
def test_attach_needs_every_id_the_users_and_a_dumpable_process(users, cd, bins):
    me = users[0]
    procs = []
    try:
        suid, euid, _ = start_as(me, [str(bins / "suid"), "sleep"])
        sgid, _, egid = start_as(me, [str(bins / "sgid"), "sleep"])
        nodump, _, _ = start_as(me, [str(bins / "plain"), "nodump"])
        plain, _, _ = start_as(me, [str(bins / "plain"), "sleep"])
        procs = [suid, sgid, nodump, plain]
        assert (euid, egid) == (0, 0)  # real ids the user's, effective ones root's
        r = raw_as(me, cd, *[{"op": "attach", "pid": p.pid} for p in procs],
                   {"op": "detach", "pid": plain.pid})
        u, g = me.pw_uid, me.pw_gid
        assert [x["ok"] is False and x["error"]["code"] for x in r[:3]] == \
            ["permission"] * 3, r
        assert r[0]["error"]["message"].startswith(
            f"pid {suid.pid} runs with uids {u}/0/0/0 and gids {g}/{g}/{g}/{g}"), r[0]
        assert r[1]["error"]["message"].startswith(
            f"pid {sgid.pid} runs with uids {u}/{u}/{u}/{u} and gids {g}/0/0/0"), r[1]
        assert r[2]["error"]["message"] == f"pid {nodump.pid} is not dumpable", r[2]
        assert r[3]["ok"] is True and r[4]["ok"] is True, r  # the control
        for p in procs:
            assert tracer_pid(p.pid) == 0 and p.poll() is None
        # root may (it could ptrace them itself)
        with benchmem.Client(str(cd.sock)) as c:
            s = c.attach(suid.pid, context={})
            assert tracer_pid(suid.pid) == cd.proc.pid
            # ... but the session is root's then, not the user's
            r = raw_as(me, cd, {"op": "results", "session": s})
            assert r[0]["error"] == {"code": "permission",
                                     "message": f"session {s} belongs to uid 0"}, r
            c.detach(session=s)
        assert tracer_pid(suid.pid) == 0 and suid.poll() is None
    finally:
        for p in procs:
            p.kill()
            p.wait()


@pytest.mark.root
def test_failed_attach_leaves_the_process_untraced_and_running(users, cd, bins):
    me = users[0]
    static = subprocess.Popen([str(bins / "noalloc")], user=me.pw_uid, group=me.pw_gid,
                              extra_groups=[])
    threaded = subprocess.Popen(
        [PY, "-c", "import threading, time, sys\n"
         "e = threading.Event()\n"
         "t = threading.Thread(target=lambda: (print(threading.get_native_id(), flush=True),"
         " e.wait()))\n"
         "t.start(); time.sleep(600)"],
        user=me.pw_uid, group=me.pw_gid, extra_groups=[], stdout=subprocess.PIPE, text=True)
    try:
        tid = int(threaded.stdout.readline())
        time.sleep(0.2)  # the static one is in its pause() loop
        r = raw_as(me, cd, {"op": "attach", "pid": static.pid}, {"op": "attach", "pid": tid})
        assert r[0]["ok"] is False and r[0]["error"]["code"] == "attach_failed", r
        assert r[0]["error"]["message"] == \
            f"cannot trace pid {static.pid}: it maps no allocator (malloc) we can probe", r
        assert r[1]["ok"] is False and r[1]["error"]["code"] == "attach_failed", r
        assert r[1]["error"]["message"] == \
            f"pid {tid} is a thread of process {threaded.pid}: name the process", r
        for pid in (static.pid, threaded.pid, tid):
            assert tracer_pid(pid) == 0, pid
        assert static.poll() is None and threaded.poll() is None
        # untraced means traceable again: strace -p, or a second attach as root, works
        with benchmem.Client(str(cd.sock)) as c:
            s = c.attach(threaded.pid, context={})
            assert tracer_pid(threaded.pid) == cd.proc.pid == tracer_pid(tid)
            c.detach(session=s)
        assert tracer_pid(threaded.pid) == 0 == tracer_pid(tid)
        # and killing the daemon would not have killed them: no one traces them
        static.send_signal(signal.SIGTERM)
        assert static.wait(timeout=5) == -signal.SIGTERM
    finally:
        for p in (static, threaded):
            p.kill()
            p.wait()


HOLDER = """
import signal, sys, time
held = []
def grab(*_):
    held.append(bytearray(500_000))
    print("held", flush=True)
signal.signal(signal.SIGUSR1, grab)
print("ready", flush=True)
while True:
    time.sleep(600)
"""


def held_region(tmp_path):
    """The region "held" of the result file the daemon wrote at SIGTERM: aborted, 500,000 B."""
    files = list((tmp_path / "results").glob("1-*.json"))  # named after the job: python3
    assert len(files) == 1, files
    doc = json.loads(files[0].read_text())
    bench = doc["benchmarks"][0]
    assert bench["name"] == "held"
    assert bench["extra_info"]["benchmem_meta"]["aborted"] == [True]
    peak = bench["extra_info"]["benchmem"]["peak_bytes"]
    assert len(peak) == 1 and 500_001 <= peak[0] <= 500_001 + 65536, peak


@pytest.mark.root
@pytest.mark.parametrize("via", ["client", "benchmemctl"])
@pytest.mark.parametrize("kill_flag", [False, True])
def test_daemon_sigterm_detaches_unless_asked_to_kill(tmp_path, kill_flag, via):
    """A daemon traces a process with one open region holding 500,000 B, then gets SIGTERM:
    the process runs on untraced (TracerPid 0), or dies with it when it asked for that (the
    Python client's kill_on_daemon_exit, `benchmemctl attach --kill-on-daemon-exit`); the
    region is written, aborted, either way."""
    sdir = public_socket_dir()
    d = spawn_daemon(tmp_path, sdir / "benchmemd.sock")
    victim = subprocess.Popen([PY, "-c", HOLDER], stdout=subprocess.PIPE, text=True)
    try:
        assert victim.stdout.readline().strip() == "ready"
        with benchmem.Client(str(d.sock)) as c:
            if via == "client":
                s = c.attach(victim.pid, context={}, kill_on_daemon_exit=kill_flag or None)
            else:
                out = subprocess.run([str(BUILD / "benchmemctl"), "attach", str(victim.pid),
                                      *(["--kill-on-daemon-exit"] if kill_flag else [])],
                                     env={**os.environ, "BENCHMEM_SOCKET": str(d.sock)},
                                     capture_output=True, text=True, check=True).stdout
                s = int(out.split()[1])  # "session N"
            c.start("held", session=s)
            victim.send_signal(signal.SIGUSR1)  # it allocates 500,000 bytes, in the region
            assert victim.stdout.readline().strip() == "held"
        assert tracer_pid(victim.pid) == d.proc.pid
        stop_daemon(d)  # SIGTERM: exits 0
        log = d.log_path.read_text()
        if kill_flag:
            assert victim.wait(timeout=5) == -signal.SIGKILL
            assert "killed if we exit" in log and "session 1: killed at shutdown" in log
        else:
            time.sleep(0.2)
            assert victim.poll() is None and tracer_pid(victim.pid) == 0
            assert "session 1: detached at shutdown" in log
        held_region(tmp_path)
    finally:
        if d.proc.poll() is None:
            stop_daemon(d)
        if victim.poll() is None:
            victim.kill()
        victim.wait()
        shutil.rmtree(sdir, ignore_errors=True)


# The traced command checks its own collector's socket: modes, owner, and a connect as
# another user (a forked child that drops to @uid/@gid) next to root's own hello.
SOCKET_CHECK = """
import os, socket, stat, sys
path = os.environ["BENCHMEM_SOCKET"]
st, dst = os.stat(path), os.stat(os.path.dirname(path))
print(oct(stat.S_IMODE(st.st_mode)), st.st_uid, oct(stat.S_IMODE(dst.st_mode)), dst.st_uid)
pid = os.fork()
if pid == 0:
    os.setgroups([])
    os.setgid(int(sys.argv[2]))
    os.setuid(int(sys.argv[1]))
    try:
        socket.socket(socket.AF_UNIX).connect(path)
        print("connected", flush=True)
    except OSError as e:
        print("refused", e.errno, flush=True)
    os._exit(0)
os.waitpid(pid, 0)
s = socket.socket(socket.AF_UNIX)
s.connect(path)
s.sendall(b'{"op":"hello"}\\n')
print(s.recv(200).decode().strip(), flush=True)
"""


@pytest.mark.root
def test_embedded_collector_socket_is_the_invokers_alone(users, tmp_path):
    require_tracing()
    me = users[0]
    script = tmp_path / "check.py"
    script.write_text(SOCKET_CHECK)
    p = subprocess.run([RUN, "--embedded", "--quiet", "--", PY, str(script), str(me.pw_uid),
                        str(me.pw_gid)], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "0o600 0 0o700 0", lines
    assert lines[1] == "refused 13", lines  # EACCES for the other user
    assert json.loads(lines[2])["mode"] == "embedded", lines


@pytest.mark.root
def test_pytest_plugins_private_daemon_socket_is_roots_alone(users, tmp_path):
    from test_pytest_plugin_modes import ours
    me = users[0]
    env = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "absent.sock"),
               BENCHMEM_DAEMON=str(BUILD / "benchmemd"))
    run = ours(tmp_path, env, f"""
        import subprocess, sys
        CHECK = {SOCKET_CHECK!r}

        def test_a(benchmark):
            benchmark(work, 1000)
            out = subprocess.run([sys.executable, "-c", CHECK, "{me.pw_uid}", "{me.pw_gid}"],
                                 capture_output=True, text=True).stdout
            pathlib.Path("sock.txt").write_text(out)
    """, "--benchmark-memory")
    assert run.returncode == 0, run.stdout + run.stderr
    lines = (tmp_path / "suite" / "sock.txt").read_text().splitlines()
    assert lines[0] == "0o600 0 0o700 0", lines
    assert lines[1] == "refused 13", lines
    assert json.loads(lines[2])["mode"] == "daemon", lines


FILES = """
import benchmem
with benchmem.region("trust/files"):
    b = bytearray(200_000)
    del b
"""


@pytest.mark.root
def test_result_and_profile_files_are_the_owners_and_symlinks_are_not_followed(users):
    """result_dir is a directory the user may write (a careless configuration): symlinks the
    user plants there, at the predictable next name or in place of the directory itself,
    never redirect the daemon's writes; files are the user's, 0600; the daemon's dirs 0750."""
    me = users[0]
    base = Path(tempfile.mkdtemp(prefix="bm-files-", dir="/tmp"))
    base.chmod(0o755)
    os.chown(base, me.pw_uid, me.pw_gid)
    results, profiles = base / "results", base / "profiles"
    results.mkdir()
    os.chown(results, me.pw_uid, me.pw_gid)
    victim_dir = Path(tempfile.mkdtemp(prefix="bm-victim-", dir="/tmp"))  # root's, 0700
    victim = victim_dir / "shadow"
    victim.write_text("untouched\n")
    sdir = public_socket_dir()
    # a private state dir moves results/ and profiles/ along: here, into the user's base
    d = spawn_daemon(base, sdir / "benchmemd.sock", "socket_mode=0666")
    script = base / "files.py"
    script.write_text(FILES)

    def run():
        p = as_user(me, [RUN, "--socket", str(d.sock), "--quiet", "--python-malloc",
                         "--name", "trust_files", "--profile", "all", "--", PY, str(script)], d)
        assert p.returncode == 0, p.stderr + d.log_tail()
        return p

    def plant(link, target):
        os.symlink(target, link)
        os.lchown(link, me.pw_uid, me.pw_gid)  # the user's link, as if the user made it

    try:
        plant(results / "1-trust_files.json", victim)
        run()
        assert victim.read_text() == "untouched\n"
        assert (results / "1-trust_files.json").is_symlink()
        f = results / "1-trust_files-1.json"
        st = f.lstat()
        assert (oct(st.st_mode), st.st_uid, st.st_gid) == \
            (oct(0o100600), me.pw_uid, me.pw_gid)
        peak = {b["name"]: b for b in json.loads(f.read_text())["benchmarks"]}[
            "trust/files"]["extra_info"]["benchmem"]["peak_bytes"]
        assert len(peak) == 1 and 200_001 <= peak[0] <= 200_001 + 65536, peak
        st = profiles.stat()  # created by the daemon: root's, 0750, the socket's group
        assert (oct(st.st_mode), st.st_uid) == (oct(0o40750), 0)
        bins_ = list(profiles.glob("1-trust_files-0*.bin"))
        assert len(bins_) == 1, sorted(profiles.iterdir())
        st = bins_[0].lstat()
        assert (oct(st.st_mode), st.st_uid, st.st_gid, st.st_size > 0) == \
            (oct(0o100600), me.pw_uid, me.pw_gid, True)

        # the user swaps the directories themselves for symlinks to root's directory
        results.rename(base / "results.old")
        plant(results, victim_dir)
        profiles.rename(base / "profiles.old")
        plant(profiles, victim_dir)
        p = run()
        assert sorted(x.name for x in victim_dir.iterdir()) == ["shadow"]
        assert victim.read_text() == "untouched\n"
        log = d.log_path.read_text()
        assert f"no free file name for {results}/2-trust_files.json: Too many levels of " \
            "symbolic links" in log, d.log_tail()
        assert f"cannot use {profiles}: Too many levels of symbolic links" in p.stderr, \
            p.stderr
    finally:
        stop_daemon(d)
        shutil.rmtree(sdir, ignore_errors=True)
        shutil.rmtree(base)
        shutil.rmtree(victim_dir)


@pytest.mark.root
@pytest.mark.parametrize("kill_flag", [False, True])
def test_benchmem_run_command_outlives_the_daemon_unless_asked(tmp_path, kill_flag):
    """The launch path: benchmem-run's command survives a daemon SIGTERM (untraced), or dies
    with it under --kill-on-daemon-exit; benchmem-run says it lost its results either way."""
    d = spawn_daemon(tmp_path, tmp_path / "benchmemd.sock")
    pidfile = tmp_path / "cmd.pid"
    script = f"import os, time\nopen({str(pidfile)!r}, 'w').write(str(os.getpid()))\n" \
             "time.sleep(600)\n"
    run = subprocess.Popen([RUN, "--socket", str(d.sock), "--quiet",
                            *(["--kill-on-daemon-exit"] if kill_flag else []), "--", PY, "-c",
                            script], stderr=subprocess.PIPE, text=True)
    pid = None
    try:
        for _ in range(200):
            if pidfile.exists() and pidfile.read_text():
                break
            time.sleep(0.05)
        pid = int(pidfile.read_text())
        assert tracer_pid(pid) == d.proc.pid
        stop_daemon(d)
        if kill_flag:
            assert run.wait(timeout=10) == 2  # its command was killed; no results to fetch
            assert not Path(f"/proc/{pid}").exists()
            assert "session 1: killed at shutdown" in d.log_path.read_text()
        else:
            time.sleep(0.2)
            assert run.poll() is None and tracer_pid(pid) == 0
            os.kill(pid, signal.SIGTERM)
            assert run.wait(timeout=10) == 2
            assert "session 1: detached at shutdown" in d.log_path.read_text()
        assert "cannot fetch the results" in run.stderr.read()
    finally:
        if d.proc.poll() is None:
            stop_daemon(d)
        if pid and Path(f"/proc/{pid}").exists():
            os.kill(pid, signal.SIGKILL)
        if run.poll() is None:
            run.kill()
        run.wait()


EXEC_LATER = """
import os, sys
print("ready 0 0", flush=True)
sys.stdin.readline()
os.execv(sys.argv[1], [sys.argv[1], "alloc"])
"""


@pytest.mark.root
def test_exec_into_setuid_ends_a_users_session_even_when_root_attached_it(users, cd, bins):
    """Root attaches a user's process for them; the process then execs a set-uid image: the
    session (the user's) ends before the image runs, and the user reads only the reason."""
    me = users[0]
    p = subprocess.Popen([PY, "-c", EXEC_LATER, str(bins / "suid")], user=me.pw_uid,
                         group=me.pw_gid, extra_groups=[], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, text=True)
    try:
        assert p.stdout.readline().split()[0] == "ready"
        with benchmem.Client(str(cd.sock)) as c:
            s = c.attach(p.pid, context={})
        r = raw_as(me, cd, {"op": "start", "name": "before", "session": s})
        assert r[0]["ok"] is True, r  # the user's session
        p.stdin.write("go\n")
        p.stdin.flush()
        assert p.stdout.readline().split() == ["euid", "0", "egid", str(me.pw_gid)]
        assert p.wait(timeout=10) == 0
        r = raw_as(me, cd, {"op": "results", "session": s}, {"op": "stop", "name": "before",
                                                              "session": s})
        for x in r:
            assert x["ok"] is False and x["error"]["code"] == "permission", r
            assert x["error"]["message"].startswith(
                f"session {s} was ended and detached: pid {p.pid} runs with uids "
                f"{me.pw_uid}/0/0/0"), r
    finally:
        if p.poll() is None:
            p.kill()
        p.wait()

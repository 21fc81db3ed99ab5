# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A hook process's threads in a user's session (docs/hook.md "Trust"): not followed with
ptrace, since the daemon reaches the process's memory only through a /proc/PID/mem fd bound to
the image it checked. A thread that execs a set-uid image with a raw system call (no exec
stop) leaves nothing the daemon reads or writes, and nothing of that image reaches the user."""
import ctypes
import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from conftest import BUILD
from test_credentials import as_user, cd, users  # noqa: F401 (fixtures)
from test_trust import PY, RUN, SECRET, bins, tracer_pid  # noqa: F401 (fixture)

# execve(2) by number from a thread other than the main one: no libc wrapper, so the hook
# cannot announce it and ptrace, not following that thread, reports no exec stop
RAW_EXEC = """
import ctypes, os, sys, threading
libc = ctypes.CDLL(None, use_errno=True)
MARK = ctypes.create_string_buffer(b"MARK" * 4)
print(os.getpid(), ctypes.addressof(MARK), flush=True)
if len(sys.argv) > 3:
    sys.stdin.readline()
def go():
    args = [a.encode() for a in sys.argv[1:3]]
    env = [f"{k}={v}".encode() for k, v in os.environ.items()]  # LD_PRELOAD: the hook's
    libc.syscall(59, args[0], (ctypes.c_char_p * 3)(*args, None),
                 (ctypes.c_char_p * (len(env) + 1))(*env, None))
    print("execve failed", ctypes.get_errno(), flush=True)
t = threading.Thread(target=go)
t.start()
t.join()
"""

# each thread says whether ptrace follows it: the main one is the daemon's, the others not
TRACERS = """
import threading
def tracer(path):
    for line in open(path):
        if line.startswith("TracerPid:"):
            return int(line.split()[1])
out = []
t = threading.Thread(target=lambda: out.append(tracer("/proc/thread-self/status")))
t.start()
t.join()
print(tracer("/proc/self/status"), out[0])
"""


@pytest.fixture
def work(users):
    d = Path(tempfile.mkdtemp(prefix="bm-uthreads-", dir="/tmp"))
    d.chmod(0o755)
    os.chown(d, users[0].pw_uid, users[0].pw_gid)
    yield d
    for f in d.iterdir():
        f.unlink()
    d.rmdir()


def vm_read(pid, addr, n):
    """process_vm_readv(2) by pid: what the daemon used to do."""
    libc = ctypes.CDLL(None, use_errno=True)
    buf = ctypes.create_string_buffer(n)

    class iovec(ctypes.Structure):
        _fields_ = [("base", ctypes.c_void_p), ("len", ctypes.c_size_t)]
    local, remote = iovec(ctypes.addressof(buf), n), iovec(addr, n)
    got = libc.process_vm_readv(pid, ctypes.byref(local), 1, ctypes.byref(remote), 1, 0)
    return buf.raw[:got] if got > 0 else b""


@pytest.mark.root
def test_kernel_a_proc_mem_fd_never_reaches_the_image_a_thread_execs(users, bins):
    """The claim the daemon relies on: an fd on /proc/PID/mem opened before a non-main thread
    execs a set-uid image (raw execve) reads nothing and writes nothing afterwards, even at an
    address the new image maps, while the pid itself (process_vm_readv, a fresh open) reaches
    the new image."""
    me = users[0]
    p = subprocess.Popen([PY, "-c", RAW_EXEC, str(bins / "suid"), "ready", "wait"],
                         user=me.pw_uid, group=me.pw_gid, extra_groups=[],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        pid, mark = map(int, p.stdout.readline().split())
        fd = os.open(f"/proc/{pid}/mem", os.O_RDWR)
        assert os.pread(fd, 16, mark) == b"MARK" * 4
        p.stdin.write("\n")
        p.stdin.flush()
        # the set-uid image runs in the same process
        assert p.stdout.readline().split() == ["ready", "0", str(me.pw_gid)]
        uids = [x for x in Path(f"/proc/{pid}/status").read_text().splitlines()
                if x.startswith("Uid:")]
        assert uids[0].split()[1:] == [str(me.pw_uid), "0", "0", "0"]
        image = int(Path(f"/proc/{pid}/maps").read_text().split("-")[0], 16)
        for addr in (mark, image):
            assert os.pread(fd, 16, addr) == b""
            assert os.pwrite(fd, b"X", addr) == 0
        fresh = os.open(f"/proc/{pid}/mem", os.O_RDONLY)
        assert os.pread(fresh, 4, image) == b"\x7fELF"  # the file's first page, unchanged
        assert vm_read(pid, image, 4) == b"\x7fELF"
        os.close(fresh)
        os.close(fd)
    finally:
        p.kill()
        p.wait()


def run_as(user, cd, argv, **kw):
    return subprocess.Popen(["runuser", "-u", user.pw_name, "--", RUN, "--socket", str(cd.sock),
                             "--quiet", "--probe", "hook", *argv], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, cwd="/", **kw)


@pytest.mark.root
def test_raw_exec_of_a_setuid_image_from_an_unfollowed_thread(users, cd, bins, work):
    me = users[0]
    # the set-uid image allocates its secret and exits: nothing of it reaches the user
    p = as_user(me, [RUN, "--socket", str(cd.sock), "--quiet", "--probe", "hook", "--json",
                     str(work / "raw.json"), "--", PY, "-c", RAW_EXEC, str(bins / "suid"),
                     "alloc"], cd)
    out = p.stdout.splitlines()
    assert out[1:] == [f"euid 0 egid {me.pw_gid}"], p.stdout + p.stderr  # it ran, set-uid
    assert p.returncode == 0, p.stderr + cd.log_tail()  # benchmem-run ended: its exit status
    doc = (work / "raw.json").read_text()
    assert str(SECRET) not in doc and str(SECRET) not in p.stdout + p.stderr
    assert json.loads(doc)["benchmem"]["command"].startswith("/usr/bin/python3")
    # ptrace never reports the process's end (its traced main thread was released silently
    # by the exec): the whole-command region stays open, so the result has no entry at all
    assert json.loads(doc)["benchmarks"] == [], doc
    # one that stays: the daemon notices its fd reads nothing, says so, and keeps serving
    start = len(cd.log_path.read_text())
    p = run_as(me, cd, ["--", PY, "-c", RAW_EXEC, str(bins / "suid"), "ready"])
    try:
        pid = int(p.stdout.readline().split()[0])
        assert p.stdout.readline().split() == ["ready", "0", str(me.pw_gid)]
        want = f"warning: pid {pid}: exec'd with no exec stop (a thread's raw execve)"
        for _ in range(100):  # the drain timer comes by every BM_DRAIN_MS
            if want in cd.log_path.read_text()[start:]:
                break
            time.sleep(0.05)
        assert want in cd.log_path.read_text()[start:], cd.log_tail()
        assert tracer_pid(pid) == 0
        # ld.so ignores LD_PRELOAD's path for a set-uid image: no hook site to call, and the
        # per-process uprobe links a hook process had are gone (attach__hook)
        maps = Path(f"/proc/{pid}/maps").read_text()
        assert "libbenchmem-hook" not in maps and str(bins / "suid") in maps
        os.kill(pid, signal.SIGTERM)
        assert p.wait(timeout=30) == 128 + signal.SIGTERM, p.stderr.read()
    finally:
        p.kill()
        p.wait()
    # the user's own image exec'd the same way runs the hook but is not read either: the
    # daemon's fd is the old image's (docs/hook.md "Trust")
    p = as_user(me, [RUN, "--socket", str(cd.sock), "--quiet", "--probe", "hook", "--json",
                     str(work / "own.json"), "--", PY, "-c", RAW_EXEC, str(bins / "plain"),
                     "alloc"], cd)
    assert p.returncode == 0, p.stderr + cd.log_tail()
    assert p.stdout.splitlines()[1:] == [f"euid {me.pw_uid} egid {me.pw_gid}"], p.stdout
    assert json.loads((work / "own.json").read_text())["benchmarks"] == []
    # the daemon serves on: the user's own copy is measured, secret-sized block included
    p = as_user(me, [RUN, "--socket", str(cd.sock), "--quiet", "--probe", "hook", "--json",
                     str(work / "plain.json"), "--", str(bins / "plain"), "alloc"], cd)
    assert p.returncode == 0, p.stderr + cd.log_tail()
    [entry] = json.loads((work / "plain.json").read_text())["benchmarks"]
    assert entry["extra_info"]["benchmem"]["peak_bytes"][0] >= SECRET


@pytest.mark.root
def test_a_users_hook_process_threads_are_not_followed(users, cd):
    p = as_user(users[0], [RUN, "--socket", str(cd.sock), "--quiet", "--probe", "hook", "--",
                           PY, "-c", TRACERS], cd)
    assert p.returncode == 0, p.stderr + cd.log_tail()
    main, thread = map(int, p.stdout.split())
    assert (main, thread) == (cd.proc.pid, 0)


@pytest.mark.root
def test_threads_exact_in_a_users_hook_session(users, cd, work):
    for wl in ("threads", "thread_forks"):
        out = work / f"{wl}.json"
        p = as_user(users[0], [RUN, "--socket", str(cd.sock), "--probe", "hook", "--json",
                               str(out), "--", str(BUILD / "workloads" / wl)], cd)
        assert p.returncode == 0, p.stderr + cd.log_tail()
        want = json.loads(p.stdout.strip().splitlines()[-1])
        [entry] = json.loads(out.read_text())["benchmarks"]
        blob = entry["extra_info"]["benchmem"]
        assert (blob["peak_bytes"], blob["total_bytes"], blob["allocations"]) == \
            ([want["peak_bytes"]], [want["total_bytes"]], [want["allocations"]]), wl
        assert entry["extra_info"]["benchmem_meta"]["lost_events"] == 0
        assert entry["extra_info"]["benchmem_meta"]["probe"] == "hook"

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The Debian package on the real system: `make deb`, `dpkg -i`, the packaged daemon serving a
member of group benchmem (and refusing everyone else), then `dpkg --purge`. Needs root; it
installs into /usr, /etc and /var/lib and removes what it installed.

Isolation (decided so that `make test` never disturbs a benchmem the machine uses):
- It installs only onto a machine without benchmem: when the benchmemd package is installed,
  or /etc/benchmem or /var/lib/benchmem exist (a `make install`, a user's results), the install
  test is skipped (failed under CI=true) instead of replacing them: a purge would delete them and
  an earlier version could not be put back exactly. On a clean machine, the purge at the end
  restores the state it found (the group benchmem too, when the test created it).
- It never binds the system socket /run/benchmem/benchmemd.sock: the packaged daemon runs with
  the packaged configuration file but `--socket` in a private directory, so a benchmem-run
  started meanwhile cannot reach it (and lose its results when it goes). Under systemd the
  units are masked while the package is installed, so that postinst's `enable --now` starts
  nothing; the socket activation itself is not exercised here. The system socket's presence
  and identity are the same before and after (asserted)."""
import grp
import json
import os
import pwd
import select
import shutil
import signal
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEB = ROOT / "build" / "benchmemd_0.1.0_amd64.deb"
SYSTEM_SOCK = Path("/run/benchmem/benchmemd.sock")  # never bound by this file (see above)
MEMBER, OUTSIDER = "bmpkg-member", "bmpkg-outsider"

# path -> (mode, group) after installation
INSTALLED = {
    "/usr/sbin/benchmemd": (0o755, "root"),
    "/usr/bin/benchmem-run": (0o755, "root"),
    "/usr/bin/benchmemctl": (0o755, "root"),
    "/usr/lib/libbenchmem.a": (0o644, "root"),
    "/usr/lib/libbenchmem.so.0": (0o644, "root"),
    "/usr/include/libbenchmem.h": (0o644, "root"),
    "/usr/lib/python3/dist-packages/benchmem/__init__.py": (0o644, "root"),
    "/usr/lib/python3/dist-packages/benchmem/pytest_plugin.py": (0o644, "root"),
    "/etc/benchmem/benchmemd.yaml": (0o644, "root"),
    "/lib/systemd/system/benchmemd.service": (0o644, "root"),
    "/lib/systemd/system/benchmemd.socket": (0o644, "root"),
    "/usr/lib/sysusers.d/benchmem.conf": (0o644, "root"),
    "/usr/lib/tmpfiles.d/benchmem.conf": (0o644, "root"),
    "/usr/share/benchmem/schemas/config.schema.json": (0o644, "root"),
    "/usr/share/benchmem/schemas/request.schema.json": (0o644, "root"),
    "/usr/share/doc/benchmemd/copyright": (0o644, "root"),
    "/usr/share/man/man8/benchmemd.8.gz": (0o644, "root"),
    "/usr/share/man/man1/benchmem-run.1.gz": (0o644, "root"),
    "/usr/share/man/man1/benchmemctl.1.gz": (0o644, "root"),
    "/usr/share/bash-completion/completions/benchmemctl": (0o644, "root"),
    "/usr/share/bash-completion/completions/benchmem-run": (0o644, "root"),
    "/usr/share/bash-completion/completions/benchmemd": (0o644, "root"),
    "/var/lib/benchmem": (0o755, "root"),
    "/var/lib/benchmem/results": (0o755, "benchmem"),
    "/var/lib/benchmem/profiles": (0o755, "benchmem"),
}

# Says "r" once libc is mapped (so it can be attached), blocks on stdin, then makes exactly two
# allocations (1 MiB, 4 KiB) and frees both, says "d" and waits to be told to exit. Only
# read/write around them: no stdio buffer is allocated.
CHILD_C = r"""
#include <stdlib.h>
#include <unistd.h>
int main(void)
{
	static void *volatile sink;
	char c;

	if (write(1, "r", 1) != 1 || read(0, &c, 1) != 1)
		return 1;
	sink = malloc(1 << 20);
	free(sink);
	sink = malloc(4096);
	free(sink);
	if (write(1, "d", 1) != 1 || read(0, &c, 1) != 1)
		return 1;
	return 0;
}
"""

# Runs as MEMBER: the protocol by hand (docs/protocol.md) on a child it owns.
CLIENT_PY = r"""
import json, socket, subprocess, sys
s = socket.socket(socket.AF_UNIX)
s.connect(sys.argv[2])
f = s.makefile("rwb")
def rpc(req):
    f.write((json.dumps(req) + "\n").encode())
    f.flush()
    return json.loads(f.readline())
out = {"hello": rpc({"op": "hello"})}
child = subprocess.Popen([sys.argv[1]], stdin=subprocess.PIPE, stdout=subprocess.PIPE)
out["child_ready"] = child.stdout.read(1).decode()
out["attach"] = rpc({"op": "attach", "pid": child.pid})
sid = out["attach"].get("session")
out["start"] = rpc({"op": "start", "name": "pkg", "session": sid})
child.stdin.write(b"g")
child.stdin.flush()
out["child"] = child.stdout.read(1).decode()
out["stop"] = rpc({"op": "stop", "name": "pkg", "session": sid})
out["foreign"] = rpc({"op": "attach", "pid": 1})
child.stdin.write(b"x")
child.stdin.flush()
try:
    out["child_exit"] = child.wait(timeout=30)
except subprocess.TimeoutExpired:  # a zombie its tracer (the daemon) never waited for
    out["child_exit"] = "not reaped in 30 s"
print(json.dumps(out))
"""


def set_aside_empty_dirs(roots):
    """Removes each of @roots that is a tree of directories only (no file, no link); returns
    [(dir, mode)] top-down, to make them again."""
    out = []
    for root in roots:
        if not os.path.isdir(root) or os.path.islink(root):
            continue
        walk = list(os.walk(root))
        if any(files for _, _, files in walk):
            continue
        out += [(d, stat.S_IMODE(os.stat(d).st_mode)) for d, _, _ in walk]
        shutil.rmtree(root)
    return out


def need(cond, reason):
    if cond:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(reason + " (CI=true: a missing capability is a failure)")
    pytest.skip(reason)


def sh(*cmd, check=True, **kw):
    r = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=600, **kw)
    if check:
        assert r.returncode == 0, f"{' '.join(map(str, cmd))} exited {r.returncode}\n" \
                                  f"{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return r


def systemd_is_pid1():
    return Path("/proc/1/comm").read_text().strip() == "systemd"


def group_exists(name):
    try:
        grp.getgrnam(name)
        return True
    except KeyError:
        return False


def drop_user(name):
    try:
        pwd.getpwnam(name)
    except KeyError:
        return
    sh("userdel", name, check=False)


@pytest.fixture
def deb():
    need(os.geteuid() == 0, "needs root (installs the package into the system)")
    need(shutil.which("dpkg-deb") is not None, "needs dpkg-deb")
    sh("make", "--no-print-directory", "-C", ROOT, "deb")
    assert DEB.exists()
    return DEB


def test_deb_metadata_and_contents(deb):
    info = sh("dpkg-deb", "-f", deb, "Package", "Version", "Architecture", "Depends").stdout
    assert "Package: benchmemd\n" in info
    assert "Version: 0.1.0\n" in info
    assert "Architecture: amd64\n" in info
    for lib in ("libbpf1", "libelf1", "zlib1g", "libyaml-0-2", "libjansson4"):
        assert lib in info, info
    listing = sh("dpkg-deb", "-c", deb).stdout
    for path in INSTALLED:
        if not path.startswith("/var/"):
            assert f" .{path}" in listing, path
    assert " ./usr/lib/libbenchmem.so -> libbenchmem.so.0" in listing
    with tempfile.TemporaryDirectory() as ctl:
        sh("dpkg-deb", "-e", deb, ctl)
        assert Path(ctl, "conffiles").read_text().split() == ["/etc/benchmem/benchmemd.yaml"]
        for script in ("postinst", "prerm", "postrm"):
            assert os.stat(Path(ctl, script)).st_mode & 0o777 == 0o755, script
            sh("sh", "-n", Path(ctl, script))


def start_packaged_daemon(log, sock):
    """The packaged daemon with the packaged configuration, as the unit would start it, but on
    the private socket @sock."""
    r, w = os.pipe()
    proc = subprocess.Popen(["/usr/sbin/benchmemd", "--foreground",
                             "--config=/etc/benchmem/benchmemd.yaml", f"--socket={sock}",
                             f"--ready-fd={w}"],
                            stdout=log, stderr=subprocess.STDOUT, pass_fds=(w,))
    os.close(w)
    ready, _, _ = select.select([r], [], [], 15)
    line = os.read(r, 64) if ready else b""
    os.close(r)
    return proc, line


def check_installed():
    for path, (mode, group) in INSTALLED.items():
        st = os.stat(path)
        assert stat.S_IMODE(st.st_mode) == mode, f"{path}: {oct(st.st_mode)}"
        assert grp.getgrgid(st.st_gid).gr_name == group, path
    assert os.readlink("/usr/lib/libbenchmem.so") == "libbenchmem.so.0"
    conf = sh("dpkg-query", "-W", "-f=${Conffiles}", "benchmemd").stdout
    assert "/etc/benchmem/benchmemd.yaml" in conf
    assert "libbenchmem.so.0" in sh("ldconfig", "-p").stdout
    clean_env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    where = sh("/usr/bin/python3", "-c", "import benchmem; print(benchmem.__file__)",
               env=clean_env, cwd="/").stdout.strip()
    assert where == "/usr/lib/python3/dist-packages/benchmem/__init__.py"
    # the installed binary finds its shared libraries
    r = sh("/usr/sbin/benchmemd", "--help", check=False)
    assert r.returncode == 0 and "--config" in r.stdout + r.stderr


def serve_as_member(workdir, sock):
    """Runs CLIENT_PY as MEMBER on CHILD_C against @sock; returns its replies."""
    child = workdir / "child"
    (workdir / "child.c").write_text(CHILD_C)
    sh("gcc", "-O0", "-fno-builtin", "-o", child, workdir / "child.c")
    (workdir / "client.py").write_text(CLIENT_PY)
    for p in (child, workdir / "child.c", workdir / "client.py"):  # not the daemon's socket
        p.chmod(0o755)
    r = sh("runuser", "-u", MEMBER, "--", "/usr/bin/python3", workdir / "client.py", child, sock)
    return json.loads(r.stdout)


def check_serving(workdir, sock):
    st = os.stat(sock)
    assert stat.S_ISSOCK(st.st_mode)
    assert stat.S_IMODE(st.st_mode) == 0o660
    assert grp.getgrgid(st.st_gid).gr_name == "benchmem"
    # not in the group: the socket's mode keeps the outsider out before the daemon sees it
    r = sh("runuser", "-u", OUTSIDER, "--", "/usr/bin/python3", "-c",
           f"import socket; socket.socket(socket.AF_UNIX).connect('{sock}')", check=False)
    assert r.returncode == 1 and "PermissionError" in r.stderr, r.stderr
    out = serve_as_member(workdir, sock)
    assert out["hello"]["ok"] and out["hello"]["mode"] == "daemon", out
    assert out["attach"]["ok"], out
    assert out["start"]["ok"], out
    assert (out["child_ready"], out["child"]) == ("r", "d")
    stop = out["stop"]
    assert stop["ok"], out
    assert (stop["peak_bytes"], stop["total_bytes"], stop["allocations"]) == \
        (1 << 20, (1 << 20) + 4096, 2), stop
    assert stop["lost_events"] == 0, stop
    assert not out["foreign"]["ok"] and out["foreign"]["error"]["code"] == "permission", out
    # The daemon traces the child with ptrace, so the child's parent can reap it only once the
    # daemon has seen the exit: "not reaped" means the daemon missed the tracee's exit.
    assert out["child_exit"] == 0, out


def system_socket_state():
    """What the test must leave as it found: the system socket's presence and identity."""
    try:
        st = os.lstat(SYSTEM_SOCK)
        return (st.st_dev, st.st_ino, st.st_mode, st.st_mtime_ns)
    except FileNotFoundError:
        return None


def test_install_serve_a_group_member_and_purge(deb, tmp_path):
    need(Path("/sys/kernel/btf/vmlinux").exists(), "needs BTF at /sys/kernel/btf/vmlinux")
    installed = sh("dpkg-query", "-W", "-f=${Status}", "benchmemd", check=False).stdout
    need("installed" not in installed,
         "benchmemd is installed on this machine: this test would replace and purge it")
    # empty directories (a root `benchmem-run --profile ...` makes the default profile
    # directory) hold nothing to lose: set aside here, put back as they were at the end
    empty_dirs = set_aside_empty_dirs(("/etc/benchmem", "/var/lib/benchmem"))
    for path in ("/etc/benchmem", "/var/lib/benchmem"):
        need(not os.path.lexists(path), f"{path} exists: the purge at the end would delete it")
    had_group = group_exists("benchmem")
    system_socket = system_socket_state()
    units = ["benchmemd.socket", "benchmemd.service"]
    workdir = Path(tempfile.mkdtemp(prefix="bmpkg-"))
    workdir.chmod(0o755)
    sock = workdir / "benchmemd.sock"
    proc = None
    try:
        if systemd_is_pid1():  # postinst's `enable --now` must start nothing
            sh("systemctl", "mask", *units)
        sh("dpkg", "-i", deb)
        check_installed()
        sh("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin",
           "--groups", "benchmem", MEMBER)
        sh("useradd", "--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OUTSIDER)
        with open(tmp_path / "benchmemd.log", "w") as log:
            proc, line = start_packaged_daemon(log, sock)
            assert line == b"READY\n", (tmp_path / "benchmemd.log").read_text()[-4000:]
            check_serving(workdir, sock)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0, (tmp_path / "benchmemd.log").read_text()[-4000:]
        proc = None
        assert not sock.exists(), "the daemon left its socket behind"
        assert system_socket_state() == system_socket, "the system socket was touched"
        sh("dpkg", "--purge", "benchmemd")
        for path in ("/usr/sbin/benchmemd", "/etc/benchmem", "/var/lib/benchmem",
                     "/lib/systemd/system/benchmemd.socket", "/usr/lib/libbenchmem.so"):
            assert not os.path.lexists(path), path
        assert "libbenchmem.so.0" not in sh("ldconfig", "-p").stdout
    finally:
        if proc:
            proc.kill()
            proc.wait()
        sh("dpkg", "--purge", "benchmemd", check=False)
        if systemd_is_pid1():
            sh("systemctl", "unmask", *units, check=False)
        drop_user(MEMBER)
        drop_user(OUTSIDER)
        if not had_group and group_exists("benchmem"):
            sh("groupdel", "benchmem", check=False)
        for d, mode in empty_dirs:
            os.makedirs(d, exist_ok=True)
            os.chmod(d, mode)
        shutil.rmtree(workdir, ignore_errors=True)

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Integration fixtures: a real benchmemd on a private socket, a scripted fake collector for
client-library tests that need no root, and schema validation helpers."""
import json
import os
import select
import signal
import socket
import subprocess
import textwrap
import threading
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BUILD = ROOT / "build"
SCHEMAS = ROOT / "schemas"
PYCLIENT = ROOT / "client" / "python"
# the pytest plugin's gate and compare run benchmemctl (benchmem.gate): in every child of these
# tests, the one built here
os.environ.setdefault("BENCHMEMCTL", str(BUILD / "benchmemctl"))


# ---- capabilities ----------------------------------------------------------------------

def require_tracing():
    """Skips (locally) or fails (CI=true) a test that needs root, BTF and the built daemon."""
    missing = []
    if os.geteuid() != 0:
        missing.append("root")
    if not Path("/sys/kernel/btf/vmlinux").exists():
        missing.append("BTF at /sys/kernel/btf/vmlinux")
    for exe in ("benchmemd", "benchmem-run"):
        if not (BUILD / exe).exists():
            missing.append(f"build/{exe}")
    if missing:
        reason = "needs " + ", ".join(missing)
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: a missing capability is a failure)")
        pytest.skip(reason)


def venv_python():
    """build/venv/bin/python (`make venv`: the pinned peers of packaging/requirements-peers.txt
    plus client/python installed as a distribution). Skips locally, fails under CI=true."""
    python = BUILD / "venv" / "bin" / "python"
    if not (BUILD / "venv" / ".stamp").exists() or not python.exists():
        reason = "needs build/venv (run `make venv`)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason + " (CI=true: a missing capability is a failure)")
        pytest.skip(reason)
    return python


@pytest.fixture
def venv():
    """The path of build/venv's python; see venv_python()."""
    return venv_python()


# ---- schemas ---------------------------------------------------------------------------

def _validator(name, ref=None):
    import jsonschema

    schema = json.loads((SCHEMAS / name).read_text())
    if ref:
        schema = {k: v for k, v in schema.items() if k not in ("oneOf", "anyOf", "$ref")}
        schema["$ref"] = f"#/$defs/{ref}"
    return jsonschema.Draft202012Validator(schema)


def validate_reply(reply, op=None):
    """Checks @reply (a dict) against schemas/reply.schema.json, and the op's exact shape."""
    _validator("reply.schema.json").validate(reply)
    if op and reply.get("ok"):
        _validator("reply.schema.json", op).validate(reply)


def validate_request(req):
    _validator("request.schema.json").validate(req)


# ---- the real daemon -------------------------------------------------------------------

class Daemon:
    def __init__(self, sock, proc, log_path):
        self.sock, self.proc, self.log_path = sock, proc, log_path

    def log_tail(self, n=60):
        try:
            log = self.log_path.read_text(errors="replace").splitlines()
            return "\n".join([line for line in log if "libbpf:" not in line][-n:])
        except OSError:
            return "(no log)"

    def env(self, **extra):
        """An environment for a client of this daemon (BENCHMEM_SOCKET, PYTHONPATH)."""
        env = dict(os.environ, BENCHMEM_SOCKET=str(self.sock))
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PYCLIENT), os.environ.get("PYTHONPATH")) if p)
        env.update(extra)
        return env


def spawn_daemon(state_dir, sock, *sets, log_name="benchmemd.log"):
    """A real benchmemd on @sock with extra ``--set KEY=VALUE`` settings; returns a Daemon
    once it wrote READY on its ready fd (fails the test otherwise)."""
    require_tracing()
    state_dir, log_path = Path(state_dir), Path(state_dir) / log_name
    # never the installed /etc/benchmem/benchmemd.yaml: a test daemon is configured by its test
    config = state_dir / "benchmemd.yaml"
    if not config.exists():
        config.write_text("# test daemon: defaults, then the test's --set settings\n")
    r, w = os.pipe()
    with open(log_path, "a") as log:
        proc = subprocess.Popen(
            [str(BUILD / "benchmemd"), "--foreground", f"--config={config}", f"--socket={sock}",
             f"--state-dir={state_dir}", f"--ready-fd={w}", "--log-level=debug",
             *[a for s in sets for a in ("--set", s)]],
            stdout=log, stderr=subprocess.STDOUT, pass_fds=(w,))
    os.close(w)
    d = Daemon(Path(sock), proc, log_path)
    ready, _, _ = select.select([r], [], [], 10)
    line = os.read(r, 64) if ready else b""
    os.close(r)
    if line != b"READY\n":
        proc.kill()
        proc.wait()
        pytest.fail(f"benchmemd did not start:\n{d.log_tail()}")
    return d


def stop_daemon(d):
    """SIGTERM; the daemon must exit 0 with no sanitizer report in its log."""
    d.proc.send_signal(signal.SIGTERM)
    assert d.proc.wait(timeout=10) == 0, d.log_tail()
    assert "Sanitizer" not in d.log_tail(400), d.log_tail(400)


@pytest.fixture
def daemon(tmp_path):
    """A real benchmemd on a private socket; fails the test if it is unhealthy."""
    d = spawn_daemon(tmp_path, tmp_path / "benchmemd.sock")
    yield d
    stop_daemon(d)


def names_script(name, size):
    """A Python client script that tries the refused region name "../../etc/x" (printing the
    error code) and then holds @size bytes in region @name."""
    return textwrap.dedent(f"""
        import benchmem
        try:
            benchmem.start("../../etc/x")
        except benchmem.Error as e:
            print(e.code, flush=True)
        with benchmem.region({name!r}):
            b = bytearray({size})
            del b
    """)


# ---- a scripted fake collector ---------------------------------------------------------

class FakeCollector:
    """Speaks the protocol on a Unix socket from a thread. Records every request (with the
    connecting pid) and answers start/stop like a collector whose numbers come from
    ``self.numbers(name, repeat) -> dict`` (default: 1000 * (repeat + 1) bytes)."""

    def __init__(self, path):
        self.path = str(path)
        self.requests = []  # (pid, dict or raw bytes)
        self.open = {}  # (pid, name) -> repeat
        self.next_repeat = {}
        self.errors = {}  # region name -> error code to answer start/stop with
        self.numbers = lambda name, repeat: {"peak_bytes": 1000 * (repeat + 1),
                                             "total_bytes": 2000 * (repeat + 1),
                                             "allocations": repeat + 1,
                                             "rss_bytes": 4096, "wall_ns": 5}
        self.lock = threading.Lock()
        self.srv = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.srv.bind(self.path)
        self.srv.listen(16)
        self.stopping = False
        threading.Thread(target=self._accept, daemon=True).start()

    def close(self):
        self.stopping = True
        self.srv.close()

    def ops(self, op=None):
        with self.lock:
            return [r for _, r in self.requests
                    if isinstance(r, dict) and (op is None or r.get("op") == op)]

    def _accept(self):
        while not self.stopping:
            try:
                conn, _ = self.srv.accept()
            except OSError:
                return
            threading.Thread(target=self._serve, args=(conn,), daemon=True).start()

    def _serve(self, conn):
        creds = conn.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, 12)
        pid = int.from_bytes(creds[:4], "little")
        buf = b""
        with conn:
            while True:
                chunk = conn.recv(65536)
                if not chunk:
                    return
                buf += chunk
                while b"\n" in buf:
                    line, buf = buf.split(b"\n", 1)
                    conn.sendall(json.dumps(self._answer(pid, line)).encode() + b"\n")

    def _answer(self, pid, line):
        try:
            req = json.loads(line)
        except ValueError:
            with self.lock:
                self.requests.append((pid, line))
            return {"ok": False, "error": {"code": "bad_json", "message": "not JSON"}}
        with self.lock:
            self.requests.append((pid, req))
            return self._dispatch(pid, req)

    def _dispatch(self, pid, req):
        op, name = req.get("op"), req.get("name")
        if name in self.errors:
            return _err(self.errors[name], "scripted by the test")
        if op == "hello":
            return {"ok": True, "protocol": 1, "server": "benchmemd 0.0.0", "mode": "embedded"}
        if op == "start":
            if (pid, name) in self.open:
                return _err("already_open", f"region {name} is already open")
            repeat = req.get("repeat", self.next_repeat.get(name, 0))
            self.open[(pid, name)] = repeat
            return {"ok": True, "region": name, "repeat": repeat}
        if op == "stop":
            if (pid, name) not in self.open:
                return _err("not_open", f"region {name} is not open")
            repeat = self.open.pop((pid, name))
            self.next_repeat[name] = repeat + 1
            return {"ok": True, "region": name, "repeat": repeat, "lost_events": 0,
                    **self.numbers(name, repeat)}
        return _err("unknown_op", "fake collector knows hello, start, stop")


def _err(code, message):
    return {"ok": False, "error": {"code": code, "message": message}}


@pytest.fixture
def make_fake_collector():
    """Factory: make_fake_collector(path) -> a FakeCollector listening at path (closed after)."""
    made = []

    def make(path):
        made.append(FakeCollector(path))
        return made[-1]
    yield make
    for fc in made:
        fc.close()


@pytest.fixture
def fake_collector(tmp_path, make_fake_collector):
    return make_fake_collector(tmp_path / "fake.sock")


class _Schemas:
    reply = staticmethod(validate_reply)
    request = staticmethod(validate_request)


@pytest.fixture
def schemas():
    """schemas.request(dict) / schemas.reply(dict, op=None): jsonschema validation."""
    return _Schemas


def memray_cli():
    """The real memray CLI: $BENCHMEM_MEMRAY when set (another install of the pinned release),
    else build/venv's (see venv_python(): skips locally, fails under CI=true without it)."""
    if os.environ.get("BENCHMEM_MEMRAY"):
        return os.environ["BENCHMEM_MEMRAY"]
    return str(venv_python().parent / "memray")


@pytest.fixture
def pyenv():
    """Environment for a /usr/bin/python3 child that imports client/python/benchmem."""
    def make(sock=None, **extra):
        env = dict(os.environ)
        env["PYTHONPATH"] = os.pathsep.join(
            p for p in (str(PYCLIENT), os.environ.get("PYTHONPATH")) if p)
        env.pop("PYTEST_ADDOPTS", None)
        if sock is not None:
            env["BENCHMEM_SOCKET"] = str(sock)
        env.update(extra)
        return env
    return make

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem — mark memory regions for benchmemd from Python (standard library only).

    import benchmem

    with benchmem.region("build"):
        build()

    benchmem.start("load", repeat=0, params={"n": 10})
    load()
    numbers = benchmem.stop("load")   # {"peak_bytes": ..., "total_bytes": ..., ...}

The collector is found at ``$BENCHMEM_SOCKET`` (``benchmem-run`` exports it), else at
``/run/benchmem/benchmemd.sock``. When no collector listens, the module-level ``start``,
``stop`` and ``region`` do nothing and ``stop`` returns ``None``, so a benchmark can keep the
calls permanently; a failed connect is retried at most once per second. A collector that does
not trace the calling process (``no_session``) is treated the same way, with one
``RuntimeWarning`` (as the C library returns ``-ESRCH``). Any other error reply raises
``benchmem.Error`` carrying the server's ``code`` and ``message``.

The module-level functions share one connection per process (reopened after ``fork``, because
the collector identifies the caller's session by the connecting process). ``Client`` is one
explicit connection, for tools that address a session by ``session=`` or ``pid=``.
"""

import contextlib
import json
import os
import platform
import socket
import subprocess
import threading
import time
import warnings

__all__ = ["Error", "Client", "start", "stop", "region", "available", "socket_path", "context"]

DEFAULT_SOCKET = "/run/benchmem/benchmemd.sock"
LINE_MAX = 4096
TIMEOUT_S = 5.0
RETRY_INTERVAL_S = 1.0
RECV_BYTES = 65536
_NEWLINE = 10  # ord("\n")


class Error(Exception):
    """An error reply from the collector (``code`` is one of docs/protocol.md's codes), or
    ``code == "disconnected"`` when the connection broke in the middle of a request."""

    def __init__(self, code, message):
        super().__init__(f"{code}: {message}")
        self.code = code
        self.message = message


def socket_path():
    """The socket the module-level functions use."""
    return os.environ.get("BENCHMEM_SOCKET") or DEFAULT_SOCKET


class Client:
    """One connection to a collector; raises OSError when it cannot connect."""

    def __init__(self, path=None, timeout=TIMEOUT_S):
        self.path = path or socket_path()
        self._sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._sock.settimeout(timeout)
            self._sock.connect(self.path)
        except BaseException:
            self._sock.close()
            raise
        self._buf = b""
        # Made here, before any region starts: a reply read inside a region (start's) must not
        # allocate a receive buffer there, or every region would count 64 KiB of ours.
        self._rx = bytearray(RECV_BYTES)

    def close(self):
        if self._sock is not None:
            self._sock.close()
            self._sock = None

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    @staticmethod
    def encode(op, **members):
        """The request line ``{"op": op, **members}`` (None members left out), as bytes."""
        req = {"op": op}
        req.update({k: v for k, v in members.items() if v is not None})
        line = json.dumps(req, separators=(",", ":"), allow_nan=False).encode() + b"\n"
        if len(line) > LINE_MAX:
            raise Error("too_long", f"request is {len(line)} bytes, more than {LINE_MAX}")
        return line

    def request(self, op, **members):
        """Sends ``{"op": op, **members}`` (members that are None are left out) and returns the
        reply's members without ``ok``. Raises Error on an error reply or a broken connection."""
        return self.request_line(self.encode(op, **members))

    def request_line(self, line):
        """request() of a line made by encode()."""
        self._send(line)
        try:
            reply = self._read_line()
        except OSError as e:
            self.close()
            raise Error("disconnected", str(e)) from None
        return _unwrap(reply)

    def request_lean(self, line):
        """request_line() that allocates nothing when the reply is a success that arrives in
        one read (used for ``start``, whose reply is read inside the region it opens); the
        reply's members are not returned. Raises Error like request()."""
        self._send(line)
        if not self._buf:
            try:
                n = self._sock.recv_into(self._rx)
            except OSError as e:
                self.close()
                raise Error("disconnected", str(e)) from None
            if n and self._rx.startswith(b'{"ok":true') and self._rx.find(b"\n", 0, n) == n - 1:
                return None
            self._buf = bytes(self._rx[:n]) if n else b""
            if not n:
                self.close()
                raise Error("disconnected", "the collector closed the connection")
        try:
            _unwrap(self._read_line())
        except OSError as e:
            self.close()
            raise Error("disconnected", str(e)) from None
        return None

    def _send(self, line):
        if self._sock is None:
            raise Error("disconnected", "the client is closed")
        try:
            self._sock.sendall(line)
        except OSError as e:
            self.close()
            raise Error("disconnected", str(e)) from None

    def _read_line(self):
        # The int, not b"\n": `b"\n" in buf` first tries b"\n" as an integer and makes (then
        # clears) a TypeError, three allocations that stop's read counts in the region it closes.
        while _NEWLINE not in self._buf:
            n = self._sock.recv_into(self._rx)
            if not n:
                raise ConnectionResetError("the collector closed the connection")
            self._buf += self._rx[:n]
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def hello(self):
        return self.request("hello")

    def start(self, name, repeat=None, params=None, group=None, session=None, pid=None):
        return self.request("start", name=name, repeat=repeat, params=params, group=group,
                            session=session, pid=pid)

    def stop(self, name, repeat=None, session=None, pid=None):
        """Returns the region's numbers: peak_bytes, total_bytes, allocations, rss_bytes,
        wall_ns, lost_events, region, repeat."""
        return self.request("stop", name=name, repeat=repeat, session=session, pid=pid)

    def status(self):
        return self.request("status")

    def results(self, session=None, pid=None):
        return self.request("results", session=session, pid=pid)["result"]

    def attach(self, pid, profile=None, python_malloc=None, context=None,
               kill_on_daemon_exit=None):
        """Traces running process @pid; the session's results carry @context (default:
        ``context()`` of the current directory). With @kill_on_daemon_exit, @pid dies when
        the collector stops or dies (by default it runs on, untraced)."""
        ctx = context if context is not None else globals()["context"]()
        return self.request("attach", pid=pid, profile=profile, python_malloc=python_malloc,
                            context=ctx, kill_on_daemon_exit=kill_on_daemon_exit)["session"]

    def profile(self, name, repeat=None, session=None, pid=None):
        """Writes the memray .bin of a closed region; returns its path on the collector's side."""
        return self.request("profile", name=name, repeat=repeat, session=session,
                            pid=pid)["path"]

    def detach(self, session=None, pid=None):
        return self.request("detach", session=session, pid=pid)

    def scope(self, scope, session=None, pid=None):
        """``"regions"``: the session traces only while a region is open (its whole-run
        region neither counts nor is a result); ``"command"``: the whole command."""
        return self.request("scope", scope=scope, session=session, pid=pid)["scope"]


def _git(cwd, *args):
    """git's stdout without the trailing newline, or None when it fails (runs as us)."""
    try:
        p = subprocess.run(["git", "-C", cwd, "--no-pager", *args], capture_output=True,
                           text=True, stdin=subprocess.DEVNULL, timeout=30)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.rstrip("\n") if p.returncode == 0 else None


def _commit_info(cwd):
    """pytest-benchmark's commit_info, as lib/context.c collects it (same git commands)."""
    top = _git(cwd, "rev-parse", "--show-toplevel")
    log = _git(cwd, "log", "-1", "--format=%H%n%cI%n%aI") if top is not None else None
    if log is None or len(log) < 40:
        return {"id": None, "time": None, "author_time": None, "dirty": None,
                "project": os.path.basename(os.path.abspath(top or cwd)) or cwd,
                "branch": None}
    lines = log.split("\n") + [None, None]
    branch = _git(cwd, "rev-parse", "--abbrev-ref", "HEAD") or None
    status = _git(cwd, "status", "--porcelain", "--untracked-files=no")
    return {"id": lines[0], "time": lines[1] or None, "author_time": lines[2] or None,
            "dirty": None if status is None else status != "",
            "project": os.path.basename(top) or top,
            "branch": "(detached head)" if branch == "HEAD" else branch}


def _cpu_brand():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def context(cwd=None):
    """``{"commit_info": ..., "machine_info": ...}`` of @cwd (default: the current directory),
    the ``context`` member of launch/attach: git runs here, as this user, never in benchmemd."""
    cwd = os.fspath(cwd) if cwd is not None else os.getcwd()
    uname = platform.uname()
    machine = {
        "node": uname.node, "processor": uname.machine, "machine": uname.machine,
        "python_compiler": platform.python_compiler(),
        "python_implementation": platform.python_implementation(),
        "python_implementation_version": platform.python_version(),
        "python_version": platform.python_version(),
        "python_build": [str(x) for x in platform.python_build()],
        "release": uname.release, "system": uname.system,
        "cpu": {"brand_raw": _cpu_brand(), "count": os.cpu_count() or 1},
    }
    return {"commit_info": _commit_info(cwd), "machine_info": machine}


def _unwrap(reply):
    if reply.get("ok") is True:
        reply.pop("ok")
        return reply
    err = reply.get("error") or {}
    raise Error(err.get("code", "internal"), err.get("message", "malformed error reply"))


class _Shared:
    """The module-level connection: one per process, reopened after fork, failures cached."""

    def __init__(self):
        self.lock = threading.Lock()
        self.client = None
        self.pid = None
        self.retry_at = 0.0
        self.warned = False

    def get(self):
        """Returns the connected Client or None; call with the lock held."""
        if self.client is not None and self.pid == os.getpid():
            return self.client
        if self.client is not None:
            # Inherited through fork: never speak on the parent's connection. Closing our copy
            # of the descriptor leaves the parent's connection open.
            self.client.close()
            self.client = None
        now = time.monotonic()
        if now < self.retry_at:
            return None
        try:
            self.client = Client()
        except OSError:
            self.retry_at = now + RETRY_INTERVAL_S
            return None
        self.pid = os.getpid()
        return self.client

    def call(self, op, **members):
        return self.call_line(Client.encode(op, **members))

    def call_line(self, line, lean=False):
        """Sends a line made by Client.encode(); the reply's members, or None without a
        collector (or one that does not trace us). @lean: Client.request_lean (a success
        returns {} and allocates nothing)."""
        # acquire()/release(), not `with`: `with` binds __enter__ and __exit__, two method
        # objects (144 B under PYTHONMALLOC=malloc) made inside the region that stop closes.
        lock = self.lock
        lock.acquire()
        try:
            return self._call_locked(line, lean)
        finally:
            lock.release()

    def _call_locked(self, line, lean):
        c = self.get()
        if c is None:
            return None
        try:
            if lean:
                c.request_lean(line)
                return {}
            return c.request_line(line)
        except Error as e:
            if e.code == "disconnected":
                self.client = None
            if e.code != "no_session":
                raise
        # A collector listens but does not trace this process: the same as no collector
        # for a script that keeps its calls permanently (the C library returns -ESRCH).
        if not self.warned:
            self.warned = True
            warnings.warn(f"benchmem: the collector at {c.path} does not trace this "
                          "process; regions are off (run it under benchmem-run)",
                          RuntimeWarning, stacklevel=5)
        return None


_shared = _Shared()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=lambda: setattr(_shared, "lock", threading.Lock()))


def available():
    """True when a collector listens (connecting if needed, at most once per second)."""
    with _shared.lock:
        return _shared.get() is not None


def start(name, repeat=None, params=None, group=None):
    """Opens region ``name`` (repeat defaults to one more than the last closed repeat of that
    name; params is a dict of scalars). Returns the reply dict, or None without a collector."""
    return _shared.call("start", name=name, repeat=repeat, params=params, group=group)


def stop(name, repeat=None):
    """Closes region ``name``; returns its numbers as a dict, or None without a collector."""
    return _shared.call("stop", name=name, repeat=repeat)


@contextlib.contextmanager
def region(name, repeat=None, params=None, group=None):
    """Wraps a block in start/stop. Yields a dict that holds the region's numbers after the
    block ends (empty without a collector). The region is closed even if the block raises."""
    numbers = {}
    # Both lines are made before the region opens and start's reply is read without
    # allocating: the client's own objects are not counted in the region (they would be
    # under PYTHONMALLOC=malloc, where every object is a malloc call).
    start_line = Client.encode("start", name=name, repeat=repeat, params=params, group=group)
    stop_line = Client.encode("stop", name=name, repeat=repeat)
    opened = _shared.call_line(start_line, lean=True) is not None
    try:
        yield numbers
    finally:
        if opened:
            numbers.update(_shared.call_line(stop_line) or {})

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.tracing — how a pytest process gets its memory passes traced.

Three ways, tried in this order by ``Tracer.find(want_attach=...)``:

* **session**: the process is already traced (``benchmem-run`` launched it, or the collector
  cannot attach, such as an older one): regions go straight to the collector, for the whole run.
  Under benchmem-run (``$BENCHMEM_RUN``, which it exports) the session is switched to region
  scope first (``region_scope()``): outside the memory passes nothing is traced, so
  pytest-benchmark's timed rounds run at native speed.
* **attach**: a collector listens (``$BENCHMEM_SOCKET``, else the system socket) and may trace
  us (SO_PEERCRED: we own ourselves). Each batch of memory passes attaches this process and
  detaches it afterwards, so pytest-benchmark's timed rounds run with no probe attached.
* **private**: no collector listens and we are root: start a private ``benchmemd`` (from
  ``$BENCHMEM_DAEMON``, ``PATH`` or ``/usr/sbin``) on a socket in a temporary directory, then
  attach as above. It is stopped at the end of the session.

Otherwise ``Unavailable`` says in one line what to do.
"""

import os
import select
import shutil
import signal
import subprocess
import tempfile
import time
from pathlib import Path

import benchmem


class Unavailable(Exception):
    """No way to trace this process; the text is one line for the user."""


class Batch:
    """One run of memory passes: regions go through ``client``; ``session`` is None for the
    session mode (the collector finds the caller's session itself)."""

    def __init__(self, tracer, client, session):
        self.tracer, self.client, self.session = tracer, client, session
        self._stop_line = None

    def start(self, name, repeat, params):
        """Opens the region. Both request lines are made before it opens and start's reply is
        read without allocating, so the region holds only what the measured code does."""
        line = self.client.encode("start", name=name, repeat=repeat, params=params)
        self._stop_line = self.client.encode("stop", name=name, repeat=repeat)
        self.client.request_lean(line)

    def stop(self, name, repeat):
        line, self._stop_line = self._stop_line, None
        if line is None:
            line = self.client.encode("stop", name=name, repeat=repeat)
        return self.client.request_line(line)

    def profile(self, name, repeat=None):
        return self.client.profile(name, repeat=repeat)

    def close(self):
        self.tracer.end(self)


class Tracer:
    def __init__(self, mode, path, daemon=None, tmpdir=None, profile=False):
        self.mode, self.path = mode, path
        self.daemon, self.tmpdir = daemon, tmpdir
        self.profile = profile
        self.client = None  # the session mode's one connection
        self.attach_s = []  # seconds per attach + detach, for the report

    @classmethod
    def find(cls, want_attach, profile=False):
        """The tracer for this process. @want_attach: attach ourselves if not traced (the
        --benchmark-memory flag or the benchmark_memory fixture); else only the session mode
        is used, and an untraced process is the caller's problem (no_session on start)."""
        path = benchmem.socket_path()
        try:
            probe = benchmem.Client(path)
        except OSError:
            if not want_attach:
                raise Unavailable(f"no collector listens at {path}") from None
            return cls._private(path, profile)
        with probe:
            if not want_attach or not _attachable(probe):
                return cls("session", path, profile=profile)
        return cls("attach", path, profile=profile)

    @classmethod
    def _private(cls, path, profile):
        exe = os.environ.get("BENCHMEM_DAEMON") or shutil.which("benchmemd") or \
            ("/usr/sbin/benchmemd" if os.access("/usr/sbin/benchmemd", os.X_OK) else None)
        if exe is not None and not os.access(exe, os.X_OK):
            raise Unavailable(f"no benchmemd listens at {path} and {exe} (BENCHMEM_DAEMON) "
                              "is not an executable to start a private one")
        if os.geteuid() != 0 or exe is None:
            why = "this process is not root" if os.geteuid() != 0 else "no benchmemd binary"
            raise Unavailable(
                f"no benchmemd listens at {path} and {why} to start a private one: start it "
                "(systemctl start benchmemd.socket), set BENCHMEM_SOCKET, or run pytest "
                "under benchmem-run")
        tmpdir = tempfile.TemporaryDirectory(prefix="benchmem-pytest-")
        sock = os.path.join(tmpdir.name, "benchmemd.sock")
        r, w = os.pipe()
        log = open(os.path.join(tmpdir.name, "benchmemd.log"), "w")
        try:
            proc = subprocess.Popen(
                # root's private collector: the socket is ours alone, in our 0700 tmpdir
                [exe, "--foreground", f"--socket={sock}", f"--state-dir={tmpdir.name}",
                 f"--ready-fd={w}", "--set", "socket_mode=0600"],
                stdout=log, stderr=subprocess.STDOUT, pass_fds=(w,))
        finally:
            os.close(w)
            log.close()
        ready, _, _ = select.select([r], [], [], 10)
        line = os.read(r, 64) if ready else b""
        os.close(r)
        if line != b"READY\n":
            proc.kill()
            proc.wait()
            tail = Path(tmpdir.name, "benchmemd.log").read_text(errors="replace").strip()
            tmpdir.cleanup()
            raise Unavailable(f"the private benchmemd ({exe}) did not start: "
                              f"{tail.splitlines()[-1] if tail else 'no output'}")
        # our spawned children (isolate=True passes) find the same collector
        os.environ["BENCHMEM_SOCKET"] = sock
        return cls("private", sock, daemon=proc, tmpdir=tmpdir, profile=profile)

    def region_scope(self):
        """Session mode: ask the collector to trace our session only while a region is open
        (the hook records nothing, uprobes are detached). False when it cannot: an older
        collector, or this process is in no session (the first start says so)."""
        try:
            with benchmem.Client(self.path) as client:
                return client.scope("regions") == "regions"
        except benchmem.Error as e:
            if e.code in ("unknown_op", "no_session"):
                return False
            raise

    def begin(self):
        """Opens a batch of memory passes (attaches this process in the attach modes)."""
        if self.mode == "session":
            if self.client is None:
                self.client = benchmem.Client(self.path)
            return Batch(self, self.client, None)
        t0 = time.perf_counter()
        client = benchmem.Client(self.path)
        try:
            if getattr(self, "context", None) is None:
                # git runs once per pytest session, not once per test
                self.context = benchmem.context()
            session = client.attach(os.getpid(), profile=self.profile or None,
                                    python_malloc=_python_malloc() or None,
                                    context=self.context)
        except BaseException:
            client.close()
            raise
        self.attach_s.append(time.perf_counter() - t0)
        return Batch(self, client, session)

    def end(self, batch):
        if batch.session is None:
            return
        t0 = time.perf_counter()
        try:
            batch.client.detach(session=batch.session)
        finally:
            # the session's results go with its owner connection
            batch.client.close()
            self.attach_s[-1] += time.perf_counter() - t0

    def close(self):
        if self.client is not None:
            self.client.close()
            self.client = None
        if self.daemon is not None:
            self.daemon.send_signal(signal.SIGTERM)
            try:
                self.daemon.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.daemon.kill()
                self.daemon.wait()
            self.daemon = None
        if self.tmpdir is not None:
            self.tmpdir.cleanup()
            self.tmpdir = None


def _python_malloc():
    return os.environ.get("PYTHONMALLOC", "").startswith("malloc")


def _attachable(client):
    """True when the collector would trace this process now: attach, then detach at once.
    "already traced" (benchmem-run launched us) and older collectors mean session mode."""
    try:
        session = client.attach(os.getpid())
    except benchmem.Error as e:
        if e.code in ("unknown_op", "bad_request") or "already traced" in e.message:
            return False
        raise Unavailable(f"the collector at {client.path} cannot trace this process: "
                          f"{e.message}") from None
    client.detach(session=session)
    return True

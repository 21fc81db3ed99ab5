# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.pyperf_hook — the ``benchmem`` pyperf hook (entry point group ``pyperf.hook``):
``pyperf``'s ``--hook benchmem`` and ``pyperformance run --hook benchmem``.

pyperf makes a fresh hook in each worker process for each series it computes (warmups, then
values; calibration workers compute warmups only) and enters it around every value, i.e. around
``loops`` calls of the benchmark. This hook measures the **values** only (like pytest-benchmem,
warmups are not measured): each value is one pass of the region named after the pyperf
benchmark, so a worker adds its values to the benchmark's series. ``teardown`` writes the
worker's headline into pyperf's run metadata (``benchmem_peak_bytes``, ``benchmem_total_bytes``,
``benchmem_allocations``, ``benchmem_passes``, ``benchmem_python_allocator``) and upserts the
passes into our result document (``$BENCHMEM_JSON``, else ``.benchmem/pyperf.json``): one
entry per benchmark, every worker of a run appended to it (a rerun replaces it). Under
pyperformance its ``group`` is the manifest's benchmark name.

Tracing (benchmem.tracing): under ``benchmem-run`` the tree is traced and the worker opens
regions in that session; with a benchmemd listening, the worker attaches itself from the first
value to teardown; as root with neither, a private benchmemd. pyperf starts workers with a
trimmed environment (PATH, HOME, PYTHONPATH...), so ``BENCHMEM_SOCKET``, ``BENCHMEM_JSON``
and ``BENCHMEMCTL`` (the headline's, benchmem.results) missing from the worker's own
environment are taken from its nearest ancestor that has them (``/proc/PID/environ``, same
user), as if ``--inherit-environ`` had named them. Workers run
with pymalloc unless ``--inherit-environ PYTHONMALLOC`` passes that on.

pyperformance runs benchmarks in virtual environments it creates, which do not have this
package: ``python -m benchmem.pyperf_hook path`` prints a directory to put on ``PYTHONPATH``
(pyperf passes it on) that makes the package and its entry point visible there.
"""

import argparse
import os
import re
import sys

from benchmem import passes as engine
from benchmem import results
from benchmem.tracing import Tracer

# not PYTHONMALLOC: the worker's allocator is fixed at its start; taking the variable later
# would only make the result lie about it (pass it with pyperf's --inherit-environ)
INHERITED = ("BENCHMEM_SOCKET", "BENCHMEM_JSON", "BENCHMEMCTL", "PYPERFORMANCE_RUNID")
ANCESTORS_MAX = 8
METADATA_PREFIX = "benchmem_"
_RUNID_BENCH = re.compile(r"-bm-(.+)-[0-9]+$")


def ancestor_environ(name, pid=None):
    """@name from the environment of the nearest ancestor of @pid (default: us) that has
    it, or None. Only processes we may read (our own user's) are looked at."""
    pid = os.getppid() if pid is None else pid
    for _ in range(ANCESTORS_MAX):
        if pid <= 1:
            return None
        try:
            with open(f"/proc/{pid}/environ", "rb") as f:
                env = f.read().split(b"\0")
            with open(f"/proc/{pid}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            return None
        prefix = name.encode() + b"="
        for item in env:
            if item.startswith(prefix):
                return item[len(prefix):].decode(errors="surrogateescape")
        pid = int(stat[stat.rindex(b")") + 2:].split()[1])
    return None


def inherit_environ():
    """Fills in INHERITED variables pyperf left out of this worker's environment."""
    for name in INHERITED:
        if name not in os.environ:
            value = ancestor_environ(name)
            if value is not None:
                os.environ[name] = value


def _worker_task():
    """(benchmark name, measured?) of the pyperf series that is making this hook: pyperf
    gives a hook no argument, so this reads its caller's frame (pyperf._worker's
    ``WorkerTask._compute_values(self, values, nvalue, is_warmup, calibrate_loops)``)."""
    frame = sys._getframe(1)
    for _ in range(6):
        if frame is None:
            break
        if frame.f_code.co_name == "_compute_values" and "self" in frame.f_locals:
            loc = frame.f_locals
            measured = not loc.get("is_warmup") and not loc.get("calibrate_loops")
            return str(getattr(loc["self"], "name", "")) or None, measured
        frame = frame.f_back
    return None, True


class BenchmemHook:
    """pyperf's hook protocol (pyperf._hooks.HookBase): __enter__/__exit__ around each
    value, teardown(metadata) once per series."""

    def __init__(self):
        name, self.measured = _worker_task()
        self.bench = name or os.path.splitext(os.path.basename(sys.argv[0] or "pyperf"))[0]
        self.region = None
        self.tracer = self.batch = None
        self.series = engine.empty_series()
        if not self.measured:
            return
        from benchmem.names import region_name

        inherit_environ()
        self.region = region_name(self.bench)
        self.tracer = Tracer.find(want_attach=True)

    def __enter__(self):
        if not self.measured:
            return self
        if self.batch is None:
            self.batch = self.tracer.begin()
        self.batch.start(self.region, None, None)
        return self

    def __exit__(self, exc_type, exc, tb):
        if self.batch is not None and self.measured:
            engine.record(self.series, self.batch.stop(self.region, None))

    def teardown(self, metadata):
        if not self.measured:
            return
        mode = self.tracer.mode
        try:
            if self.batch is not None:
                self.batch.close()
        finally:
            self.tracer.close()
        if not self.series["peak_bytes"]:
            return
        runid = os.environ.get("PYPERFORMANCE_RUNID")
        m = _RUNID_BENCH.search(runid or "")
        entry = results.entry(self.region, self.series, name=self.bench,
                              group=m.group(1) if m else None)
        head = entry["extra_info"]["benchmem_meta"]["headline"]  # this worker's, lib/compare's
        for key in ("peak_bytes", "total_bytes", "allocations"):
            metadata[METADATA_PREFIX + key] = head[key]
        metadata[METADATA_PREFIX + "passes"] = len(self.series["peak_bytes"])
        metadata[METADATA_PREFIX + "python_allocator"] = results.python_allocator()
        results.upsert(os.environ.get("BENCHMEM_JSON") or os.path.join(".benchmem",
                                                                       "pyperf.json"),
                       entry, run=f"{runid or ''}:{os.getppid()}",
                       command=f"pyperf --hook benchmem ({os.path.basename(sys.argv[0])})",
                       attach_mode=mode)


# ---- python -m benchmem.pyperf_hook path ----------------------------------------------------

def overlay(dest=None):
    """A directory holding this package (a symlink) and a dist-info that declares its
    pyperf.hook entry point, for PYTHONPATH; made or refreshed, returned."""
    import benchmem

    cache = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"),
                                                             ".cache")
    dest = os.path.abspath(dest or os.path.join(cache, "benchmem", "pyperf-hook"))
    pkg = os.path.dirname(os.path.abspath(benchmem.__file__))
    info = os.path.join(dest, "benchmem-0.1.0.dist-info")
    os.makedirs(info, exist_ok=True)
    link = os.path.join(dest, "benchmem")
    if os.path.islink(link) and os.readlink(link) != pkg:
        os.unlink(link)
    if not os.path.lexists(link):
        os.symlink(pkg, link)
    files = {"METADATA": "Metadata-Version: 2.1\nName: benchmem\nVersion: 0.1.0\n",
             "entry_points.txt": "[pyperf.hook]\n"
                                 "benchmem = benchmem.pyperf_hook:BenchmemHook\n"}
    for fname, text in files.items():
        with open(os.path.join(info, fname), "w") as f:
            f.write(text)
    return dest


def main(argv=None):
    p = argparse.ArgumentParser(prog="python -m benchmem.pyperf_hook",
                                description="helpers for the benchmem pyperf hook")
    sub = p.add_subparsers(dest="cmd", required=True)
    q = sub.add_parser("path", help="print a directory for PYTHONPATH that makes the hook "
                       "visible to interpreters without this package (pyperformance's venvs)")
    q.add_argument("--dir", help="where to make it (default: ~/.cache/benchmem/pyperf-hook)")
    args = p.parse_args(argv)
    print(overlay(args.dir))
    return 0


if __name__ == "__main__":
    sys.exit(main())

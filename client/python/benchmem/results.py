# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.results — our result document (pytest-benchmark JSON whose entries carry
pytest-benchmem's ``extra_info.benchmem`` blob; schemas/result.schema.json), written by the
plugins whose benchmarks run in many processes (ASV runs one process per benchmark, pyperf one
per worker), so ``benchmemctl compare/gate/report`` read their runs like benchmem-run's.

``upsert(path, entry, run=...)`` adds or updates one entry under an exclusive lock on
``PATH.lock``, and rewrites the file atomically (temp file, fsync, rename): processes that run
at the same time (``asv run --parallel``) never lose each other's entries and a reader never
sees half a file. An entry is keyed by its ``fullname``; an existing entry of the same ``run``
token gets the new passes appended (pyperf's workers add to one benchmark), one of another run
is replaced (a rerun of the benchmark).
"""

import datetime
import fcntl
import json
import os
import statistics

import benchmem
from benchmem import gate as cgate
from benchmem import passes as engine

VERSION = "benchmem-python 0.1.0"


def python_allocator():
    """"malloc" when PYTHONMALLOC routes CPython's objects through malloc, else "pymalloc"."""
    return "malloc" if os.environ.get("PYTHONMALLOC", "").startswith("malloc") else "pymalloc"


def stats(seconds):
    """pytest-benchmark's stats dict over per-pass wall times (its own formulas: sample
    stddev, quartiles by its median-of-halves rule, outliers as "a;b"); mean and ops stay
    above 0 so pytest-benchmark's normalize_stats() accepts the entry."""
    data = sorted(max(float(s), 1e-9) for s in seconds) or [1e-9]
    n = len(data)
    mean = statistics.fmean(data)
    stddev = statistics.stdev(data) if n > 1 else 0.0
    if n >= 4:
        half = n // 2
        q1 = statistics.median(data[:half])
        q3 = statistics.median(data[half + n % 2:])
    else:
        q1, q3 = data[0], data[-1]
    iqr = q3 - q1
    lo, hi = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    ld15 = min(v for v in data if v >= lo)
    hd15 = max(v for v in data if v <= hi)
    iqr_out = sum(1 for v in data if v < lo or v > hi)
    sd_out = sum(1 for v in data if abs(v - mean) > stddev) if stddev else 0
    return {"min": data[0], "max": data[-1], "mean": mean, "stddev": stddev, "rounds": n,
            "median": statistics.median(data), "iqr": iqr, "q1": q1, "q3": q3,
            "iqr_outliers": iqr_out, "stddev_outliers": sd_out,
            "outliers": f"{sd_out};{iqr_out}", "ld15iqr": ld15, "hd15iqr": hd15,
            "ops": 1.0 / mean, "total": sum(data), "iterations": 1,
            "data": [max(float(v), 1e-9) for v in seconds]}


def entry(fullname, series, *, name=None, group=None, params=None, param=None, extra=None):
    """One benchmark entry from a passes series (benchmem.passes); @extra is merged into
    extra_info (scalars: they become report dimensions). The per-pass wall times are kept in
    ``stats.data`` (pytest-benchmark's --benchmark-save-data place) so entries can merge. The
    headline is lib/compare's (cmp_headline_of, through one benchmemctl run: benchmem.gate),
    as benchmemd's writer stores it; GateError when there is no benchmemctl."""
    blob = engine.blob(series)
    n = len(blob["peak_bytes"])
    walls = [ns / 1e9 for ns in series.get("wall_ns") or ()] or [0.0] * n
    info = dict(extra or {})
    info["benchmem"] = blob
    info["benchmem_meta"] = {"lost_events": sum(series.get("lost_events") or ()),
                             "aborted": [False] * n, "python_allocator": python_allocator(),
                             "headline": cgate.headline(blob)}
    return {"group": group, "name": name or fullname, "fullname": fullname, "params": params,
            "param": param,
            "options": {"disable_gc": False, "timer": "benchmemd region wall time",
                        "min_rounds": 1, "max_time": 0.0, "min_time": 0.0, "warmup": False},
            "stats": stats(walls), "extra_info": info}


def series_of(e):
    """The passes series of a written entry (the inverse of entry())."""
    blob = e["extra_info"]["benchmem"]
    n = len(blob["peak_bytes"])
    series = {k: list(blob[k]) for k in ("peak_bytes", "total_bytes", "allocations")}
    series["rss_bytes"] = list(blob.get("rss_bytes") or [None] * n)
    series["wall_ns"] = [round(s * 1e9) for s in e["stats"].get("data") or [0.0] * n]
    series["lost_events"] = [e["extra_info"]["benchmem_meta"]["lost_events"]] + [0] * (n - 1)
    return series


def _merged(old, new):
    """@new's passes appended to @old's (the same benchmark in the same run)."""
    a, b = series_of(old), series_of(new)
    series = {k: a[k] + b[k] for k in a}
    extra = {k: v for k, v in new["extra_info"].items() if not k.startswith("benchmem_meta")
             and k != "benchmem"}
    return entry(new["fullname"], series, name=new["name"], group=new["group"],
                 params=new["params"], param=new["param"], extra=extra)


def _load(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except FileNotFoundError:
        return None
    if not isinstance(doc, dict) or not isinstance(doc.get("benchmarks"), list):
        raise ValueError(f"{path} is not a result document (no benchmarks list)")
    return doc


def _write(path, doc):
    tmp = f"{path}.tmp.{os.getpid()}"
    with open(tmp, "w") as f:
        json.dump(doc, f, indent=1)
        f.write("\n")
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def upsert(path, new, run=None, command=None, attach_mode=None, context_dir=None):
    """Adds @new (an entry()) to the document at @path (see the module docstring). @run: the
    token that says which entries belong to the same run (kept as extra_info.benchmem_run);
    @context_dir: where git finds the project of a new document (default: the current
    directory; git runs only when the document is created). Returns the entry as written."""
    path = os.fspath(path)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    if run is not None:
        new["extra_info"]["benchmem_run"] = run
    with open(path + ".lock", "a") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        doc = _load(path)
        if doc is None:
            ctx = benchmem.context(context_dir)
            doc = {"machine_info": ctx["machine_info"], "commit_info": ctx["commit_info"],
                   "benchmarks": [], "version": VERSION,
                   "benchmem": {"command": command, "lost_events": 0,
                                "attach_mode": attach_mode,
                                "python_allocator": python_allocator()}}
        benches = doc["benchmarks"]
        for i, old in enumerate(benches):
            if old.get("fullname") == new["fullname"]:
                if run is not None and old["extra_info"].get("benchmem_run") == run:
                    new = _merged(old, new)
                    new["extra_info"]["benchmem_run"] = run
                benches[i] = new
                break
        else:
            benches.append(new)
        doc["datetime"] = datetime.datetime.now(datetime.timezone.utc).isoformat()
        doc["benchmem"]["lost_events"] = sum(
            b["extra_info"]["benchmem_meta"]["lost_events"] for b in benches)
        _write(path, doc)
    return new

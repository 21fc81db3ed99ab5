# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.passes — pytest-benchmem's pass engine over benchmemd regions.

``measure(batch, name, params, action, ...)`` runs ``warmup`` unmeasured calls, then passes:
each pass runs ``setup()`` unmeasured, opens region ``name`` (``repeat`` = pass index), calls
``action`` ``calls`` times, closes it and collects garbage. Fixed ``repeats=N`` runs exactly N
passes; adaptive (``repeats=None``) runs at least 2 and at most 10 and stops after 2
consecutive passes with no new minimum peak, or when ``max_time`` seconds have passed.
``isolate=True`` runs each pass in a fresh spawned interpreter that calls the action once
(``calls`` times) inside the region and reports its own ``VmHWM`` as ``rss_bytes``.
"""

import gc
import multiprocessing
import pickle
import time
import warnings

MIN_PASSES = 2
MAX_PASSES = 10
PATIENCE = 2
SERIES_KEYS = ("peak_bytes", "total_bytes", "allocations", "rss_bytes")
ISOLATE_PICKLE_WARN = 1 << 20


def empty_series():
    return {k: [] for k in SERIES_KEYS}


def record(series, numbers, rss=None, reply_rss=True):
    """Appends one pass. rss: @rss (an isolated child's own VmHWM) if given, else the
    reply's rss_bytes when @reply_rss (the collector's per-region value), else none."""
    for key in ("peak_bytes", "total_bytes", "allocations"):
        series[key].append(int(numbers[key]))
    if rss is None and reply_rss and numbers.get("has_rss", True):
        rss = numbers.get("rss_bytes")
    series["rss_bytes"].append(None if rss is None else int(rss))
    # what a result document needs besides the blob (benchmem.results): the pass's wall
    # time and lost events (setdefault: a series made before these keys existed)
    series.setdefault("wall_ns", []).append(int(numbers.get("wall_ns") or 0))
    series.setdefault("lost_events", []).append(int(numbers.get("lost_events") or 0))


def blob(series):
    """pytest-benchmem's extra_info.benchmem: three equal-length lists, rss only if complete."""
    out = {k: list(series[k]) for k in ("peak_bytes", "total_bytes", "allocations")}
    rss = series.get("rss_bytes") or []
    if rss and len(rss) == len(out["peak_bytes"]) and all(v is not None for v in rss):
        out["rss_bytes"] = [int(v) for v in rss]
    return out


def _vmhwm():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    return None


def _isolated_pass(conn, name, repeat, params, payload, calls):
    """The child of an isolated pass: one region around @calls calls of the unpickled action."""
    import benchmem

    try:
        setup, action = pickle.loads(payload)
        if setup is not None:
            setup()
        client = benchmem.Client()
        client.start(name, repeat=repeat, params=params)
        try:
            for _ in range(calls):
                action()
        finally:
            numbers = client.stop(name, repeat=repeat)
        conn.send(("ok", numbers, _vmhwm()))
    except BaseException as e:  # noqa: BLE001 - reported to the parent as one line
        conn.send(("error", f"{type(e).__name__}: {e}", None))


def _run_isolated(name, repeat, params, payload, calls):
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_isolated_pass, args=(child, name, repeat, params, payload, calls))
    proc.start()
    child.close()
    try:
        status, numbers, rss = parent.recv()
    except EOFError:
        proc.join()
        raise RuntimeError(f"benchmem: the isolated pass of {name} died before reporting "
                           f"(exit code {proc.exitcode}) - segfault or OOM") from None
    proc.join()
    if status != "ok":
        raise RuntimeError(f"benchmem: the isolated pass of {name} failed: {numbers}")
    return numbers, rss


def isolate_payload(action, setup):
    """Pickles what an isolated pass runs (std pickle: a top-level function, not a lambda)."""
    try:
        payload = pickle.dumps((setup, action))
    except (pickle.PicklingError, AttributeError, TypeError) as e:
        raise ValueError(f"benchmem(isolate=True) needs a top-level picklable function: {e}") \
            from None
    if len(payload) > ISOLATE_PICKLE_WARN:
        warnings.warn(f"benchmem(isolate=True): the pickled action is {len(payload)} bytes; "
                      "the pass would measure deserialising pre-built state", stacklevel=3)
    return payload


def measure(batch, name, params, action, setup=None, repeats=None, warmup=1, calls=1,
            max_time=None, isolate=False, reply_rss=True):
    """Runs the passes in @batch (a tracing.Batch); returns the series. @reply_rss: keep the
    collector's rss_bytes of in-process passes (see record())."""
    series = empty_series()
    if isolate and setup is not None:
        raise ValueError("benchmem(isolate=True) cannot take pedantic's setup (each pass "
                         "runs in a fresh process)")
    payload = isolate_payload(action, setup) if isolate else None
    if not isolate:
        for _ in range(warmup):
            if setup:
                setup()
            action()
        if warmup:
            gc.collect()
    began = time.monotonic()
    best, stale, n = None, 0, 0
    while True:
        if isolate:
            numbers, rss = _run_isolated(name, n, params, payload, calls)
        else:
            if setup:
                setup()
            batch.start(name, n, params)
            try:
                for _ in range(calls):
                    action()
            finally:
                numbers = batch.stop(name, n)
            rss = None
        gc.collect()
        record(series, numbers, rss, reply_rss)
        n += 1
        if repeats is not None:
            if n >= max(1, repeats):
                break
            continue
        peak = int(numbers["peak_bytes"])
        if best is None or peak < best:
            best, stale = peak, 0
        else:
            stale += 1
        if n < MIN_PASSES:
            continue
        if n >= MAX_PASSES or stale >= PATIENCE:
            break
        if max_time is not None and time.monotonic() - began >= max_time:
            break
    return series

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""asv_bench_benchmem — ASV benchmark types whose numbers come from benchmemd.

asv_runner loads the types of ``asv_bench_benchmem.benchmarks.*`` (``export_as_benchmark``)
in every benchmark process. Two types:

* ``benchmem_*`` (and classes ``Benchmem[A-Z_]*``): new benchmarks. ASV's results file gets
  the headline **peak** (bytes allocated inside the benchmark call and not yet freed, at its
  high-water; the minimum over the passes), unit bytes.
* ``peakmem_*`` (and ``PeakMem*``), only when ``BENCHMEM_ASV_PEAKMEM=1`` is in ASV's
  environment: an existing suite's peakmem benchmarks, unedited, measured the same way instead
  of by the process's max RSS. Their ASV ``version`` gets a ``+benchmem`` suffix (hashed), so
  ``asv compare``/``publish`` never set the allocator peak against RSS history of ASV's own
  peakmem.

Both follow ASV's rules: ``setup`` (and ``setup_cache``, in its own process) run before and
outside the measured call, ``teardown`` after; ``params``/``param_names`` give one run per
combination, each its own region and its own entry (``name[p1-p2]``, pytest's id style), so
parametrized results never merge. Passes are pytest-benchmem's (benchmem.passes): one
unmeasured warmup call, then adaptive passes (2 to 10, stop after 2 with no new minimum peak),
with ``setup`` rerun (``teardown`` then ``setup``) before each pass, as ASV does between timing
repeats; adaptive sampling stops at half the benchmark's ``timeout``. Attributes
``benchmem_repeats`` (fixed passes) and ``benchmem_warmup`` override the defaults.

Tracing (benchmem.tracing): under ``benchmem-run -- asv run ...`` the whole tree is traced
and each benchmark opens regions in it; with a benchmemd listening (``$BENCHMEM_SOCKET``, else
the system socket) each benchmark process attaches itself for its passes only; as root with
neither, a private benchmemd per benchmark process.

Besides ASV's results, every entry (with the per-pass series, allocated and allocations) is
upserted into our result document: ``$BENCHMEM_JSON``, else ``.benchmem/asv.json`` beside
asv.conf.json. An entry is replaced when its benchmark runs again; for one file per commit set
``BENCHMEM_JSON`` per ``asv run``.
"""

import os
import sys

from benchmem import passes as engine
from benchmem import results
from benchmem.names import param_id, region_name, scalar_params
from benchmem.tracing import Tracer

CLAIM_ENV = "BENCHMEM_ASV_PEAKMEM"
DEFAULT_TIMEOUT = 60.0
CONF_NAMES = ("asv.conf.json", "asv.conf.jsonc")


def claims_peakmem():
    """True when ASV's peakmem_ benchmarks are ours to measure (see the module docstring)."""
    return os.environ.get(CLAIM_ENV, "").strip().lower() in ("1", "true", "yes", "on")


def conf_dir(bench):
    """The directory of the suite's asv.conf.json: ASV gives its benchmark processes no
    variable that says it, so it is looked up from the benchmark's module upwards (the
    benchmark directory's parent when none is found)."""
    mod = sys.modules.get(getattr(bench.func, "__module__", None) or "")
    start = os.path.dirname(os.path.abspath(getattr(mod, "__file__", None) or os.getcwd()))
    here = start
    while True:
        if any(os.path.exists(os.path.join(here, f)) for f in CONF_NAMES):
            return here
        up = os.path.dirname(here)
        if up == here:
            return os.path.dirname(start)
        here = up


def json_path(bench):
    """Where @bench's entry goes (see the module docstring)."""
    return os.environ.get("BENCHMEM_JSON") or os.path.join(conf_dir(bench), ".benchmem",
                                                           "asv.json")


def identity(bench):
    """(region name, params dict or None, param id or None, group) of @bench's current
    parameter combination."""
    current = tuple(bench._current_params)
    param = "-".join(param_id(v) for v in current) if current else None
    fullname = f"{bench.name}[{param}]" if param is not None else bench.name
    params = scalar_params(zip(bench.param_names, current)) if current else None
    return region_name(fullname), params, param, bench.name


def _attr(bench, name, default):
    from asv_runner.benchmarks._base import _get_first_attr

    return _get_first_attr(bench._attr_sources, name, default)


def measure(bench, args):
    """Runs @bench's passes over ``bench.func(*args)``; writes our entry; returns the
    headline peak (what ASV stores)."""
    name, params, param, group = identity(bench)
    timeout = bench.timeout if bench.timeout else DEFAULT_TIMEOUT
    repeats = _attr(bench, "benchmem_repeats", None)
    warmup = _attr(bench, "benchmem_warmup", 1)
    func = bench.func

    def action():
        func(*args)

    tracer = Tracer.find(want_attach=True)
    try:
        batch = tracer.begin()
        try:
            series = engine.measure(batch, name, params, action, setup=bench.redo_setup,
                                    repeats=repeats, warmup=warmup, max_time=timeout / 2)
        finally:
            batch.close()
        mode = tracer.mode
    finally:
        tracer.close()
    entry = results.entry(name, series, name=name.rsplit(".", 1)[-1], group=group,
                          params=params, param=param,
                          extra={"asv_type": bench.type, "asv_version": bench.version})
    results.upsert(json_path(bench), entry, command="asv run (asv_bench_benchmem)",
                   attach_mode=mode, context_dir=conf_dir(bench))
    return entry["extra_info"]["benchmem_meta"]["headline"]["peak_bytes"]  # lib/compare's


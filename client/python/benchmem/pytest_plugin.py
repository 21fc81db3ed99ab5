# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.pytest_plugin — pytest-benchmem's flags, marker and fixture over benchmemd.

Installed with the package (``pip install ./client/python`` or the .deb), pytest loads it
through the ``pytest11`` entry point; ``benchmem-run`` also adds ``-p benchmem.pytest_plugin``.

* ``pytest --benchmark-memory``: every ``benchmark(...)`` / ``benchmark.pedantic(...)`` first
  runs its memory passes, then pytest-benchmark's untouched timing. The process gets traced as
  benchmem.tracing explains: already traced (benchmem-run), or attached for each batch of
  passes and detached before the timing (so the timed rounds run with no probe), through the
  collector at ``$BENCHMEM_SOCKET`` / the system socket, or through a private benchmemd when
  none listens and we are root. Otherwise a one-line UsageError says what to do.
* Without the flag the plugin works only when ``$BENCHMEM_SOCKET`` names a collector (what
  benchmem-run exports): the ``benchmark`` fixture is measured the same way and a test without
  it is one region named by its node id (one pass, no warmup). A collector that does not trace
  the process turns the plugin off with one warning.
* The ``benchmark_memory`` fixture (and its ``.pedantic``) always measures.
* With pytest-benchmem installed too (same flag, marker and fixture names) this plugin stays
  off unless pytest-benchmem is blocked with ``-p no:benchmem``.
* Passes (benchmem.passes): warmup, adaptive 2..10 with patience 2, fixed repeats, calls,
  isolate, max-time. Marker beats flag beats default.
* Ceilings ``max_peak``/``max_allocated``/``max_allocations`` gate the worst pass (strictly
  greater fails) and are validated before the test runs; their grammar, rule and words are
  lib/gate's, through ``benchmemctl gate --check --json`` and ``gate --max-...`` (one run per
  test with a ceiling). ``--benchmark-memory-compare-fail``
  gates each test's headline against the saved pytest-benchmark run, after its timing: the
  rules, the headlines and the verdict are lib/gate's, through ``benchmemctl gate``
  (benchmem.gate), which also gives the compare's baseline column its headlines.
* Region names: a node id byte outside the protocol's name set becomes ``_``, ".." becomes
  "._"; ids longer than 128 bytes keep their first 111 bytes plus "-" and 16 hex digits of
  their sha1 (every byte of that is in the protocol's set).
"""

import importlib.metadata
import os
import re
import shutil
import warnings
from pathlib import Path

import pytest

import benchmem
from benchmem import gate as cgate
from benchmem import passes as engine
from benchmem import table
from benchmem.fixture import MemoryBenchmark, Sample, pedantic_action
from benchmem.names import region_name, scalar_params
from benchmem.sizes import parse_count, parse_limit, parse_size
from benchmem.tracing import Tracer, Unavailable

SERIES = pytest.StashKey()  # item -> {"peak_bytes": [...], ...} of every measured pass
_STATE = pytest.StashKey()

DEFAULT_WARMUP = 1
_CEILINGS = ("max_peak", "max_allocated", "max_allocations")
_MARKER_KWARGS = {"repeats", "warmup", "isolate", "calls", "profile_native", "max_peak",
                  "max_allocated", "max_allocations"}
# re-exported: earlier code and tests import them from here
blob = engine.blob
__all__ = ["parse_size", "parse_count", "region_name", "blob"]


def _stand_down(pluginmanager):
    """pytest-benchmem is installed and not blocked (-p no:benchmem): its flags, marker and
    fixture have the same names, so this plugin adds nothing and stays off."""
    if pluginmanager.is_blocked("benchmem"):
        return False
    try:
        importlib.metadata.distribution("pytest-benchmem")
    except importlib.metadata.PackageNotFoundError:
        return False
    return True


def pytest_addoption(parser, pluginmanager):
    if _stand_down(pluginmanager):
        return
    g = parser.getgroup("benchmem", "benchmemd memory passes (pytest-benchmem's flags)")
    g.addoption("--benchmark-memory", action="store_true", default=False,
                help="memory passes for every benchmark() before its timing, no test changes")
    g.addoption("--benchmark-memory-repeats", type=int, default=None, metavar="N",
                help="fixed number of measured passes (default: adaptive, 2 to 10)")
    g.addoption("--benchmark-memory-warmup", type=int, default=None, metavar="N",
                help=f"unmeasured runs before measuring (default {DEFAULT_WARMUP})")
    g.addoption("--benchmark-memory-max-time", type=float, default=None, metavar="SECONDS",
                help="wall budget of adaptive passes (ignored with fixed repeats)")
    g.addoption("--benchmark-memory-compare", nargs="?", default=False, const=True,
                metavar="REF", help="compare memory with a saved pytest-benchmark run "
                "(the latest, or REF like 0001)")
    g.addoption("--benchmark-memory-compare-fail", action="append", metavar="FIELD:THRESHOLD",
                help="fail a test whose memory grew past e.g. peak:10%%, peak:5MiB, "
                "allocations:5%%, peak:20%%+8MiB (repeatable; implies the compare)")
    g.addoption("--benchmark-memory-profile", default=None, metavar="DIR",
                help="keep a memray .bin per benchmark in DIR (with a fail gate: the "
                "regressing ones only)")
    g.addoption("--benchmark-memory-profile-native", action="store_true", default=False,
                help="native stacks in the kept .bin (ours always have them; needs -profile)")
    g.addoption("--benchmark-memory-table", choices=["combined", "split"], default="combined",
                help="memory columns right of the timing table (combined) or a table apart")
    g.addoption("--benchmark-memory-columns", default=None,
                metavar="peak,allocated,allocations,rss", help="memory columns, in order")
    g.addoption("--benchmark-memory-stats", default=None, metavar="min,mean,max",
                help="spread columns of a metric measured more than once")


def pytest_configure(config):
    if _stand_down(config.pluginmanager):
        return
    config.addinivalue_line(
        "markers",
        "benchmem(repeats=None, warmup=1, isolate=False, calls=1, profile_native=False, "
        "max_peak=None, max_allocated=None, max_allocations=None): memory passes and "
        "ceilings for this test")
    opts = _validate_options(config)
    flag = config.getoption("benchmark_memory")
    tracer = None
    if flag or os.environ.get("BENCHMEM_SOCKET"):
        try:
            tracer = Tracer.find(want_attach=flag, profile=opts["profile"] is not None)
        except Unavailable as e:
            if flag:
                raise pytest.UsageError(f"--benchmark-memory: {e}") from None
    if tracer is not None and tracer.mode == "session" and os.environ.get("BENCHMEM_RUN"):
        tracer.region_scope()  # timed rounds untraced under benchmem-run (docs/hook.md)
    state = _State(config, tracer, opts)
    config.stash[_STATE] = state
    config.pluginmanager.register(state, "benchmem-state")
    if tracer is not None and config.pluginmanager.hasplugin("benchmark"):
        state.patch()


def _validate_options(config):
    """Every flag is checked here, before any test runs: a bad one is one UsageError line."""
    for opt in ("benchmark_memory_repeats", "benchmark_memory_warmup",
                "benchmark_memory_max_time"):
        value = config.getoption(opt)
        if value is not None and value < 0:
            raise pytest.UsageError(f"--{opt.replace('_', '-')} must be >= 0")
    try:
        metrics = table.parse_list(config.getoption("benchmark_memory_columns"), table.METRICS,
                                   "metric", table.DEFAULT_METRICS)
        stats = table.parse_list(config.getoption("benchmark_memory_stats"), table.STATS,
                                 "stat", table.DEFAULT_STATS)
    except ValueError as e:
        raise pytest.UsageError(str(e)) from None
    gates = list(config.getoption("benchmark_memory_compare_fail") or ())
    try:
        if gates:
            cgate.check(gates)  # lib/gate's grammar, its one-line reason
    except cgate.GateError as e:
        raise pytest.UsageError(str(e)) from None
    profile = config.getoption("benchmark_memory_profile")
    if config.getoption("benchmark_memory_profile_native") and profile is None:
        raise pytest.UsageError("--benchmark-memory-profile-native needs "
                                "--benchmark-memory-profile=DIR")
    compare = config.getoption("benchmark_memory_compare")
    if gates and compare is False:
        compare = True
    if compare is not False:
        try:
            cgate.benchmemctl()  # the compare's headlines and the gate are its
        except cgate.GateError as e:
            raise pytest.UsageError(f"--benchmark-memory-compare: {e}") from None
    return {"metrics": metrics, "stats": stats, "gates": gates, "compare": compare,
            "profile": profile}


def pytest_unconfigure(config):
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.close()


# ---- ceilings and names -------------------------------------------------------------------

def marker_settings(item):
    """The benchmem marker's kwargs, validated: ValueError (one line) on a bad one."""
    marker = item.get_closest_marker("benchmem")
    kw = dict(marker.kwargs) if marker else {}
    unknown = set(kw) - _MARKER_KWARGS
    if unknown:
        raise ValueError(f"benchmem(): unknown keyword(s) {', '.join(sorted(unknown))}")
    out = {"limits": {}}
    for kwarg in _CEILINGS:
        if kw.get(kwarg) is not None:
            out["limits"][kwarg] = parse_limit(kwarg, kw[kwarg])  # lib/units, via benchmemctl
    for kwarg in ("repeats", "warmup", "calls"):
        if kw.get(kwarg) is not None:
            out[kwarg] = parse_count(kw[kwarg], kwarg)
    out["isolate"] = bool(kw.get("isolate", False))
    out["profile_native"] = bool(kw.get("profile_native", False))
    return out


def check_ceilings(test_name, limits, series):
    """The first ceiling the worst pass exceeds, as one line; None when within. The rule
    (the worst pass, strictly greater fails) and the words are lib/gate's, through one
    ``benchmemctl gate --max-...`` run (benchmem.gate.ceilings); none without a ceiling."""
    if not limits:
        return None
    try:
        verdict = cgate.ceilings(limits, test_name, engine.blob(series))
    except cgate.GateError as e:
        return f"{test_name}: {e}"
    if verdict.error is not None:
        return f"{test_name}: {verdict.error}"
    return f"{test_name}: {verdict.hits[0]['what']}" if verdict.hits else None


def region_params(item):
    """The test's parametrize values that are scalars, as the region's params."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    return scalar_params(callspec.params.items())


def _sanitize(fullname):
    return re.sub(r"[^A-Za-z0-9._-]", "_", fullname)


# ---- the session ---------------------------------------------------------------------------

class _State:
    """Per-session state: the tracer, the item being run, the baseline and what was measured."""

    def __init__(self, config, tracer, opts):
        self.config, self.tracer, self.opts = config, tracer, opts
        self.item = None
        self.saved = None
        self.series_by_id = {}
        self.inert = False
        self.baseline, self.baseline_label, self.baseline_name = None, None, None
        self.regressed = {}  # fullname -> its benchmem.gate.Verdict
        self.profiles = []

    def close(self):
        self.unpatch()
        if self.tracer is not None:
            self.tracer.close()

    def need_tracer(self):
        """The tracer for the benchmark_memory fixture (which always measures)."""
        if self.tracer is None:
            try:
                self.tracer = Tracer.find(want_attach=True,
                                          profile=self.opts["profile"] is not None)
            except Unavailable as e:
                pytest.fail(f"benchmark_memory: {e}", pytrace=False)
        return self.tracer

    def went_untraced(self):
        self.inert = True
        warnings.warn(pytest.PytestWarning(
            f"benchmem: the collector at {self.tracer.path} does not trace this "
            "process; memory regions are off (run pytest under benchmem-run)"))

    @pytest.fixture
    def benchmark_memory(self, benchmark, request):
        """Memory passes of a callable (first), then pytest-benchmark's timing of it."""
        return MemoryBenchmark(benchmark, self, request.node)

    # -- hooks --
    @pytest.hookimpl(tryfirst=True)
    def pytest_sessionstart(self, session):
        if self.opts["compare"] is False:
            return
        bs = getattr(self.config, "_benchmarksession", None)
        if bs is None:
            return
        ref = self.opts["compare"]
        loaded = list(bs.storage.load()) if ref is True else list(bs.storage.load(ref))
        if not loaded:
            return
        path, data = loaded[-1]
        self.baseline_label, self.baseline_name = str(path), Path(str(path)).stem
        self.baseline = {b["fullname"]: b["extra_info"]["benchmem"]
                         for b in data.get("benchmarks", ())
                         if isinstance((b.get("extra_info") or {}).get("benchmem"), dict)}

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item):
        """Marker values are checked before the test runs: a bad one is one line, no passes."""
        try:
            marker_settings(item)
        except ValueError as e:
            pytest.fail(str(e), pytrace=False)

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        self.item = item
        plain = self.tracer is not None and self.tracer.mode == "session" and \
            not self.inert and not {"benchmark", "benchmark_memory"} & set(item.fixturenames)
        if not plain:
            try:
                yield
            finally:
                self.item = None
            return
        name, params = region_name(item.nodeid), region_params(item)
        batch = self.tracer.begin()
        try:
            batch.start(name, 0, params)
        except benchmem.Error as e:
            if e.code != "no_session":
                raise
            self.went_untraced()
            yield
            self.item = None
            return
        try:
            outcome = yield
        finally:
            numbers = batch.stop(name, 0)
            self.item = None
        series = item.stash.setdefault(SERIES, engine.empty_series())
        engine.record(series, numbers)
        self.series_by_id[item.nodeid] = series
        if outcome.excinfo is None:
            failed = check_ceilings(item.name, marker_settings(item)["limits"], series)
            if failed:
                pytest.fail(failed, pytrace=False)

    # -- measuring a benchmark --
    def measure(self, fixture, item, action, setup=None):
        """Memory passes of @action for the test @item, before its timing. Returns the gate's
        verdict (checked by the caller after the timing: fail_gate); fails it at once over a
        ceiling."""
        if item is None:
            return []
        settings = marker_settings(item)
        existing = fixture.extra_info.get("benchmem")
        verdict = None
        if isinstance(existing, dict):
            series = existing  # measured already (the flag and the fixture both fired)
        else:
            got = self._passes(item, settings, action, setup)
            if got is None:
                return []
            series, verdict = got
            fixture.extra_info["benchmem"] = engine.blob(series)
            item.stash[SERIES] = series
            self.series_by_id[item.nodeid] = series
        failed = check_ceilings(item.name, settings["limits"], series)
        if failed:
            _mark_used(fixture)
            pytest.fail(failed, pytrace=False)
        return self._gate_of(item, series) if verdict is None else verdict

    def _gate_of(self, item, series):
        """lib/gate's verdict on @item against the baseline (one benchmemctl run); an empty
        list when there is no gate or no baseline entry."""
        base = (self.baseline or {}).get(item.nodeid)
        if not self.opts["gates"] or base is None:
            return []
        try:
            return cgate.judge(self.opts["gates"], {item.nodeid: base},
                               {item.nodeid: engine.blob(series)}, self.baseline_name)
        except cgate.GateError as e:
            pytest.fail(f"{item.name}: {cgate.OPTION}: {e}", pytrace=False)

    def _passes(self, item, settings, action, setup):
        if self.inert:
            return None
        opt = self.config.getoption
        repeats = settings.get("repeats", opt("benchmark_memory_repeats"))
        warmup = settings.get("warmup", opt("benchmark_memory_warmup"))
        name, params = region_name(item.nodeid), region_params(item)
        batch = self.tracer.begin()
        try:
            series = engine.measure(
                batch, name, params, action, setup=setup, repeats=repeats,
                warmup=DEFAULT_WARMUP if warmup is None else warmup,
                calls=max(1, settings.get("calls", 1)),
                max_time=opt("benchmark_memory_max_time"), isolate=settings["isolate"],
                # pytest-benchmem records rss for isolated passes only; under benchmem-run
                # the collector's per-region rss is kept, as before
                reply_rss=self.tracer.mode == "session")
            verdict = self._keep_profile(batch, item, name, series)
        except benchmem.Error as e:
            if e.code != "no_session" or batch.session is not None:
                raise
            self.went_untraced()
            return None
        finally:
            batch.close()
        return series, verdict

    def _keep_profile(self, batch, item, name, series):
        """Copies the passes' profile; under a gate only a regressing id's. Returns the gate's
        verdict when it had to judge (None: not yet judged)."""
        out = self.opts["profile"]
        if out is None:
            return None
        verdict = self._gate_of(item, series) if self.opts["gates"] else None
        if self.opts["gates"] and not verdict:
            return verdict  # under a gate only the regressing ids keep a profile
        src = batch.profile(name)
        dest = Path(out) / f"{_sanitize(item.nodeid)}.bin"
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dest)
        self.profiles.append(dest)
        return verdict

    # -- pytest-benchmark's fixture --
    def patch(self):
        from pytest_benchmark.fixture import BenchmarkFixture

        call, pedantic = BenchmarkFixture.__call__, BenchmarkFixture.pedantic
        state = self

        def patched_call(self, function_to_benchmark, *args, **kwargs):
            gate = state.measure(self, state.item, Sample(function_to_benchmark, args, kwargs))
            result = call(self, function_to_benchmark, *args, **kwargs)
            state.fail_gate(gate)
            return result

        def patched_pedantic(self, target, args=(), kwargs=None, setup=None, rounds=1,
                             warmup_rounds=0, iterations=1):
            prepare, run = pedantic_action(target, args, kwargs, setup)
            gate = state.measure(self, state.item, run, prepare)
            result = pedantic(self, target, args=args, kwargs=kwargs, setup=setup,
                              rounds=rounds, warmup_rounds=warmup_rounds,
                              iterations=iterations)
            state.fail_gate(gate)
            return result

        BenchmarkFixture.__call__ = patched_call
        BenchmarkFixture.pedantic = patched_pedantic
        self.saved = (BenchmarkFixture, call, pedantic)

    def unpatch(self):
        if self.saved:
            cls, call, pedantic = self.saved
            cls.__call__, cls.pedantic = call, pedantic
            self.saved = None

    def fail_gate(self, verdict):
        if verdict and self.item is not None:
            self.regressed[self.item.nodeid] = verdict
            pytest.fail(f"{self.item.name}: memory regression: " + "; ".join(verdict.reasons()),
                        pytrace=False)

    # -- output --
    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session):
        bs = getattr(self.config, "_benchmarksession", None)
        if self.config.getoption("benchmark_memory_table") != "combined":
            return
        if bs is None or not getattr(bs, "groups", None) or not self.series_by_id or \
                not hasattr(bs, "name_format"):
            return
        bs.quiet = True  # pytest-benchmark skips its table; ours has its columns and ours
        self.groups = bs.groups
        if not _quiet_supported():
            bs.groups = []  # pytest-benchmark 3 ignores quiet: its display skips empty groups
        self.combined = True

    def pytest_terminal_summary(self, terminalreporter, config):
        write = terminalreporter.write_line
        bs = getattr(config, "_benchmarksession", None)
        blobs = {k: engine.blob(v) for k, v in self.series_by_id.items()}
        o = self.opts
        pairs = self._pairs(blobs, write) if o["compare"] else None
        if getattr(self, "combined", False):
            lines = table.combined_lines(
                self.groups, bs.columns, bs.sort, bs.name_format,
                lambda **kw: config.hook.pytest_benchmark_scale_unit(config=config, **kw),
                o["metrics"], o["stats"], pairs, self.baseline_label)
        else:
            lines = table.split_lines(blobs, o["metrics"], o["stats"], pairs,
                                      self.baseline_label)
        for line in lines:
            write(line)
        if o["compare"] is not False and blobs and not self.baseline:
            write("benchmem-compare: no prior run with memory to compare against.")
        if self.regressed:
            # benchmemctl gate's lines (pytest-benchmem's, plus the rule)
            write("Memory regressions over threshold:")
            for fullname, verdict in self.regressed.items():
                for line in verdict.lines():
                    write(f"  {line}" if verdict.error is None else f"  {fullname}: {line}")
        if self.profiles:
            write(f"benchmem: saved {len(self.profiles)} memory profile(s) to "
                  f"{o['profile']} - render with:")
            for p in self.profiles:
                write(f"    memray flamegraph {p}")
        if self.tracer is not None and self.tracer.attach_s:
            a = self.tracer.attach_s
            write(f"benchmem: {len(a)} attach+detach, {1000 * sum(a) / len(a):.2f} ms each "
                  "(timed rounds ran untraced)")

    def _pairs(self, blobs, write):
        """{fullname: {"base": headline, "cur": headline}} of the ids measured here and in the
        baseline, from lib/gate (one benchmemctl run); None without a baseline."""
        if self.baseline is None:
            return None
        if not self.baseline:
            return {}  # a baseline without memory: the columns show "—"
        try:
            verdict = cgate.judge([], self.baseline, blobs, self.baseline_name)
        except cgate.GateError as e:
            write(f"benchmem-compare: {e}")
            return None
        return {p["fullname"]: p for p in verdict.pairs}

    @pytest.hookimpl
    def pytest_benchmark_update_json(self, config, benchmarks, output_json):
        for bench in output_json.get("benchmarks", ()):
            extra = bench.setdefault("extra_info", {})
            series = self.series_by_id.get(bench.get("fullname"))
            if "benchmem" not in extra and series:
                extra["benchmem"] = engine.blob(series)


def _quiet_supported():
    import pytest_benchmark

    return int(str(getattr(pytest_benchmark, "__version__", "0")).split(".")[0]) >= 4


def _mark_used(fixture):
    """A test failed on memory before its timing: tell pytest-benchmark the fixture was used
    (no "fixture was not used" warning) and that its stats are void."""
    fixture._mode = fixture._mode or "benchmark(...) (memory ceiling failed)"
    fixture.has_error = True

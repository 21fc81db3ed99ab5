# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.pytest_plugin — one benchmemd region per test, pytest-benchmem's semantics.

Enable with ``-p benchmem.pytest_plugin`` (``benchmem-run`` adds it by setting ``PYTHONPATH``
and ``PYTEST_ADDOPTS``; pip users get the ``pytest11`` entry point from client/python/pyproject.toml).
The plugin is inert unless a collector listens (``benchmem.available()`` at session start).

* A test without pytest-benchmark's ``benchmark`` fixture: its call phase is one region named
  after the test's node id (one pass, no warmup).
* A test using ``benchmark``: ``benchmark(fn, ...)`` / ``benchmark.pedantic(...)`` first run the
  memory passes, then the untouched timing runs. Warmup passes (default 1) run unmeasured; then
  adaptive passes (min 2, max 10, stop after 2 consecutive passes without a new minimum peak) or
  exactly ``--benchmark-memory-repeats=N`` / ``@pytest.mark.benchmem(repeats=N)``. Each pass is
  the region ``<node id>`` with ``repeat`` = pass index. pedantic's ``setup`` runs unmeasured
  before every pass and warmup.
* ``@pytest.mark.benchmem(max_peak="100MiB", max_allocated=..., max_allocations=...)``: the
  worst pass must not exceed the ceiling (strictly greater fails the test).
* The per-pass series are kept on the item (``item.stash[benchmem.pytest_plugin.SERIES]``) and,
  for benchmarks, written into ``--benchmark-json`` as ``extra_info.benchmem``.
* Region names: a node id byte outside the protocol's name set becomes ``_`` and ".." becomes
  "._"; ids longer than 128 bytes are cut to 111 bytes plus "~" and 16 hex digits of their sha1.
"""

import gc
import hashlib
import re
import warnings

import pytest

import benchmem

SERIES = pytest.StashKey()  # item -> {"peak_bytes": [...], ...} of every measured pass

MIN_PASSES = 2
MAX_PASSES = 10
PATIENCE = 2
DEFAULT_WARMUP = 1
NAME_MAX = 128

_UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
# lib/units.c's grammar (via cmp_limit_parse) exactly: blanks anywhere are dropped (C's
# isspace), then ASCII digits and an optional case-sensitive unit; no fractions, no sign.
_BLANKS = str.maketrans("", "", " \t\n\v\f\r")
_SIZE = re.compile(r"([0-9]+)(B|KiB|MiB|GiB)?")
_U64_MAX = (1 << 64) - 1
_NAME_BAD = re.compile(r"[^A-Za-z0-9._:/\[\]=,+ -]")
_CEILINGS = (("max_peak", "peak_bytes", "peak"), ("max_allocated", "total_bytes", "allocated"),
             ("max_allocations", "allocations", "allocations"))


def pytest_addoption(parser):
    group = parser.getgroup("benchmem", "benchmemd memory regions")
    group.addoption("--benchmark-memory-repeats", type=int, default=None, metavar="N",
                    help="fixed number of measured memory passes per benchmark "
                         "(default: adaptive, 2 to 10)")
    group.addoption("--benchmark-memory-warmup", type=int, default=None, metavar="N",
                    help=f"unmeasured passes before measuring (default {DEFAULT_WARMUP})")


def pytest_configure(config):
    config.addinivalue_line(
        "markers",
        "benchmem(repeats=None, warmup=1, max_peak=None, max_allocated=None, "
        "max_allocations=None): memory passes and ceilings for this test")
    for opt in ("benchmark_memory_repeats", "benchmark_memory_warmup"):
        value = config.getoption(opt)
        if value is not None and value < 0:
            raise pytest.UsageError(f"--{opt.replace('_', '-')} must be >= 0")
    if not benchmem.available():
        return
    state = _State(config)
    config.stash[_STATE] = state
    config.pluginmanager.register(state, "benchmem-state")
    if config.pluginmanager.hasplugin("benchmark"):
        _patch_benchmark_fixture(state)
        config.pluginmanager.register(_BenchmarkJson(state), "benchmem-benchmark-json")


def pytest_unconfigure(config):
    state = config.stash.get(_STATE, None)
    if state is not None:
        state.unpatch()


_STATE = pytest.StashKey()


# ---- sizes and ceilings ------------------------------------------------------------------

def parse_size(value, what):
    """``"100MiB"`` / ``"5 GiB"`` / int bytes -> int bytes; ValueError otherwise. Strings follow
    lib/units.c's grammar exactly (benchmemctl gate --max-peak accepts the same strings)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what}: {value!r} is not a size")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{what}: {value} is negative")
        return value
    text = str(value).translate(_BLANKS)
    m = _SIZE.fullmatch(text) if len(text) < 64 else None  # cmp_limit_parse's 64-byte buffer
    if not m:
        raise ValueError(f"{what}: {value!r} is not a size (units B, KiB, MiB, GiB)")
    n = int(m[1]) * _UNITS[m[2] or "B"]
    if int(m[1]) > _U64_MAX or n > _U64_MAX:
        raise ValueError(f"{what}: {value!r} is too large")
    return n


def parse_count(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what}: {value!r} is not a count (a bare non-negative integer)")
    return value


def format_size(n):
    """IEC with two decimals: ``117.00 MiB``; bytes below 1 KiB print as ``512 B``."""
    for unit in ("GiB", "MiB", "KiB"):
        if n >= _UNITS[unit]:
            return f"{n / _UNITS[unit]:.2f} {unit}"
    return f"{n} B"


def check_ceilings(test_name, marker_kwargs, series):
    """Fails the test when the worst pass of a series exceeds its ceiling (strictly)."""
    for kwarg, field, label in _CEILINGS:
        if marker_kwargs.get(kwarg) is None or not series.get(field):
            continue
        if kwarg == "max_allocations":
            limit = parse_count(marker_kwargs[kwarg], kwarg)
            worst = max(series[field])
            shown = (str(worst), str(limit))
        else:
            limit = parse_size(marker_kwargs[kwarg], kwarg)
            worst = max(series[field])
            shown = (format_size(worst), format_size(limit))
        if worst > limit:
            pytest.fail(f"{test_name}: {label} {shown[0]} exceeds {kwarg} {shown[1]}",
                        pytrace=False)


# ---- regions -----------------------------------------------------------------------------

def region_name(nodeid):
    """The protocol-valid region name for a pytest node id (see the module docstring)."""
    name = _NAME_BAD.sub("_", nodeid).replace("..", "._") or "_"
    if len(name) > NAME_MAX:
        digest = hashlib.sha1(nodeid.encode()).hexdigest()[:16]
        name = name[:NAME_MAX - 17] + "~" + digest
    return name


def region_params(item):
    """The test's parametrize values that are scalars, as the region's params."""
    callspec = getattr(item, "callspec", None)
    if callspec is None:
        return None
    params = {}
    for key, value in callspec.params.items():
        if len(params) == 32 or not 0 < len(key) <= NAME_MAX:
            continue
        if value is None or isinstance(value, (bool, int, float)):
            if isinstance(value, float) and value != value:
                continue  # NaN is not JSON
            params[key] = value
        elif isinstance(value, str) and len(value.encode()) <= 1024:
            params[key] = value
    return params or None


def _marker_kwargs(item):
    marker = item.get_closest_marker("benchmem")
    return dict(marker.kwargs) if marker else {}


class _State:
    """Per-session plugin state: the item being run and the original fixture methods."""

    def __init__(self, config):
        self.config = config
        self.item = None
        self.saved = None
        self.series_by_id = {}
        self.inert = False

    def start(self, name, repeat, params):
        """Opens a region; False when the plugin is (or just became) inert. A collector that
        does not trace this process (no_session: pytest was not started by benchmem-run and
        nothing attached it) turns the plugin off with one warning instead of failing tests."""
        if self.inert:
            return False
        try:
            return benchmem.start(name, repeat=repeat, params=params) is not None
        except benchmem.Error as e:
            if e.code != "no_session":
                raise
        self.inert = True
        warnings.warn(pytest.PytestWarning(
            f"benchmem: the collector at {benchmem.socket_path()} does not trace this "
            "process; memory regions are off (run pytest under benchmem-run)"))
        return False

    def unpatch(self):
        if self.saved:
            cls, call, pedantic = self.saved
            cls.__call__, cls.pedantic = call, pedantic
            self.saved = None

    @pytest.hookimpl(hookwrapper=True)
    def pytest_runtest_call(self, item):
        self.item = item
        if "benchmark" in getattr(item, "fixturenames", ()):
            # The patched fixture measures the benchmarked function instead of the test.
            try:
                yield
            finally:
                self.item = None
            return
        name, params = region_name(item.nodeid), region_params(item)
        opened = self.start(name, 0, params)
        try:
            outcome = yield
        finally:
            numbers = benchmem.stop(name, repeat=0) if opened else None
            self.item = None
        if numbers is None:
            return
        _record(item, numbers)
        self.series_by_id[item.nodeid] = item.stash[SERIES]
        if outcome.excinfo is None:
            # Raising here, after the yield, fails the call phase (pluggy 1.0 propagates it).
            check_ceilings(item.name, _marker_kwargs(item), item.stash[SERIES])

    def passes(self, item):
        """(repeats or None for adaptive, warmup) for @item: marker beats flag beats default."""
        kw = _marker_kwargs(item)
        repeats = kw.get("repeats", self.config.getoption("benchmark_memory_repeats"))
        warmup = kw.get("warmup", self.config.getoption("benchmark_memory_warmup"))
        if warmup is None:
            warmup = DEFAULT_WARMUP
        if repeats is not None:
            repeats = max(1, parse_count(repeats, "repeats"))
        return repeats, parse_count(warmup, "warmup")


def _record(item, numbers):
    series = item.stash.setdefault(SERIES, {"peak_bytes": [], "total_bytes": [],
                                            "allocations": [], "rss_bytes": []})
    for key in ("peak_bytes", "total_bytes", "allocations"):
        series[key].append(int(numbers[key]))
    rss = numbers.get("rss_bytes") if numbers.get("has_rss", True) else None
    series["rss_bytes"].append(None if rss is None else int(rss))


def blob(series):
    """pytest-benchmem's extra_info.benchmem: three equal-length lists, rss only if complete."""
    out = {k: list(series[k]) for k in ("peak_bytes", "total_bytes", "allocations")}
    rss = series.get("rss_bytes") or []
    if rss and len(rss) == len(out["peak_bytes"]) and all(v is not None for v in rss):
        out["rss_bytes"] = list(rss)
    return out


def measure(item, state, run, prepare=None):
    """Runs the warmup and memory passes of @run (no arguments: one pass of the benchmarked
    code) as regions of @item; @prepare (pedantic's setup) runs before each, unmeasured.
    Returns the series recorded on @item."""
    if state.inert:
        return None
    repeats, warmup = state.passes(item)
    name, params = region_name(item.nodeid), region_params(item)
    for _ in range(warmup):
        if prepare:
            prepare()
        run()
    if warmup:
        gc.collect()
    best, stale, n = None, 0, 0
    while True:
        if prepare:
            prepare()
        if not state.start(name, n, params):
            break  # the collector went away or does not trace us: nothing to measure
        try:
            run()
        finally:
            numbers = benchmem.stop(name, repeat=n)
        gc.collect()
        n += 1
        if numbers is None:
            break
        _record(item, numbers)
        peak = int(numbers["peak_bytes"])
        if repeats is not None:
            if n >= repeats:
                break
            continue
        if best is None or peak < best:
            best, stale = peak, 0
        else:
            stale += 1
        if n >= MIN_PASSES and (n >= MAX_PASSES or stale >= PATIENCE):
            break
    return item.stash.get(SERIES, None)


def _patch_benchmark_fixture(state):
    from pytest_benchmark.fixture import BenchmarkFixture

    call, pedantic = BenchmarkFixture.__call__, BenchmarkFixture.pedantic

    def memory_first(fixture, run, prepare=None):
        """Memory passes before timing (timing grows the allocator's arenas); ceilings are
        checked here, so a test over its ceiling fails before spending time on timing."""
        item = state.item
        if item is None or "benchmem" in fixture.extra_info:
            return  # not inside a test call, or already measured
        series = measure(item, state, run, prepare)
        if series:
            fixture.extra_info["benchmem"] = blob(series)
            state.series_by_id[item.nodeid] = series
            check_ceilings(item.name, _marker_kwargs(item), series)

    def patched_call(self, function_to_benchmark, *args, **kwargs):
        memory_first(self, lambda: function_to_benchmark(*args, **kwargs))
        return call(self, function_to_benchmark, *args, **kwargs)

    def patched_pedantic(self, target, args=(), kwargs=None, setup=None, rounds=1,
                         warmup_rounds=0, iterations=1):
        pending = []

        def prepare():
            a, kw = args, kwargs or {}
            if setup is not None:
                maybe = setup()
                if maybe is not None:
                    a, kw = maybe
            pending.append((a, kw))

        def run():
            a, kw = pending.pop()
            target(*a, **kw)

        memory_first(self, run, prepare)
        return pedantic(self, target, args=args, kwargs=kwargs, setup=setup, rounds=rounds,
                        warmup_rounds=warmup_rounds, iterations=iterations)

    BenchmarkFixture.__call__ = patched_call
    BenchmarkFixture.pedantic = patched_pedantic
    state.saved = (BenchmarkFixture, call, pedantic)


class _BenchmarkJson:
    """Merges the series into --benchmark-json for benchmarks whose extra_info lacks them."""

    def __init__(self, state):
        self.state = state

    @pytest.hookimpl
    def pytest_benchmark_update_json(self, config, benchmarks, output_json):
        for bench in output_json.get("benchmarks", ()):
            extra = bench.setdefault("extra_info", {})
            series = self.state.series_by_id.get(bench.get("fullname"))
            if "benchmem" not in extra and series:
                extra["benchmem"] = blob(series)

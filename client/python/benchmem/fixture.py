# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.fixture — pytest-benchmem's pedantic split and the ``benchmark_memory`` fixture's
object (memory passes through the plugin's session state, then pytest-benchmark's timing)."""

from benchmem import gate as cgate


class Sample:
    """pedantic's measured half: the target over what the last setup produced (picklable)."""

    def __init__(self, target, args, kwargs):
        self.target, self.args, self.kwargs = target, args, kwargs

    def __call__(self):
        return self.target(*self.args, **self.kwargs)


class Rebuild:
    """pedantic's unmeasured half: run setup, hand what it returns to the sample."""

    def __init__(self, setup, sample):
        self.setup, self.sample = setup, sample

    def __call__(self):
        produced = self.setup()
        if produced is not None:
            self.sample.args, self.sample.kwargs = produced


def pedantic_action(target, args, kwargs, setup):
    """(setup or None, action) of a pedantic call, as pytest-benchmem splits it."""
    sample = Sample(target, tuple(args), dict(kwargs or {}))
    return (None if setup is None else Rebuild(setup, sample)), sample


class MemoryBenchmark:
    """The benchmark_memory fixture: memory passes, then pytest-benchmark's timing."""

    def __init__(self, benchmark, state, item):
        self._benchmark, self._state, self._item = benchmark, state, item

    @property
    def extra_info(self):
        return self._benchmark.extra_info

    @property
    def result(self):
        """The headline of the last measure (lib/compare's cmp_headline_of, through one
        benchmemctl run): {"peak", "allocated", "allocations", "rss"}; None before."""
        b = self._benchmark.extra_info.get("benchmem")
        if not b:
            return None
        h = cgate.headline(b)
        return {"peak": h["peak_bytes"], "allocated": h["total_bytes"],
                "allocations": h["allocations"], "rss": h.get("rss_bytes")}

    @property
    def peak_bytes(self):
        r = self.result
        return None if r is None else r["peak"]

    def _measure(self, action, setup=None):
        self._state.need_tracer()
        return self._state.measure(self._benchmark, self._item, action, setup)

    def __call__(self, function_to_benchmark, *args, **kwargs):
        gate = self._measure(Sample(function_to_benchmark, args, kwargs))
        result = self._state.saved[1](self._benchmark, function_to_benchmark, *args,
                                      **kwargs) if self._state.saved else \
            self._benchmark(function_to_benchmark, *args, **kwargs)
        self._state.fail_gate(gate)
        return result

    def pedantic(self, target, args=(), kwargs=None, setup=None, rounds=1, warmup_rounds=0,
                 iterations=1):
        prepare, run = pedantic_action(target, args, kwargs, setup)
        gate = self._measure(run, prepare)
        timed = self._state.saved[2] if self._state.saved else type(self._benchmark).pedantic
        result = timed(self._benchmark, target, args=args, kwargs=kwargs, setup=setup,
                       rounds=rounds, warmup_rounds=warmup_rounds, iterations=iterations)
        self._state.fail_gate(gate)
        return result




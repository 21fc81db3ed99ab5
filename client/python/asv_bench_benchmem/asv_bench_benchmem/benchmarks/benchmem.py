# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""ASV benchmark types measured by benchmemd (asv_runner imports this module and reads
``export_as_benchmark``; the package docstring says what they measure)."""

import re
import sys
from hashlib import sha256

from asv_runner.benchmarks._base import Benchmark

import asv_bench_benchmem as plugin


class BenchmemBenchmark(Benchmark):
    """``benchmem_*``: the allocator peak of the call, in bytes (benchmemd regions)."""

    name_regex = re.compile("^(Benchmem[A-Z_].+)|(benchmem_.+)$")

    def __init__(self, name, func, attr_sources):
        Benchmark.__init__(self, name, func, attr_sources)
        self.type = "peakmemory"
        self.unit = "bytes"

    def run(self, *param):
        return plugin.measure(self, param)


class PeakMemBenchmark(BenchmemBenchmark):
    """``peakmem_*`` claimed from ASV's own type (BENCHMEM_ASV_PEAKMEM=1): the same
    measurement, under a version of its own so RSS history is never compared with it."""

    name_regex = re.compile("^(PeakMem[A-Z_].+)|(peakmem_.+)$")

    def __init__(self, name, func, attr_sources):
        BenchmemBenchmark.__init__(self, name, func, attr_sources)
        self.version = _ours(self.version)
        self.version_alts = tuple(_ours(v) for v in getattr(self, "version_alts", ()))


def _ours(version):
    return sha256(f"{version}+benchmem".encode()).hexdigest()


def _claim_peakmem():
    """asv_runner matches a name against its types in order and takes the first; its own
    types come first, so claiming peakmem_ means putting ours in front of them. This module
    is imported while asv_runner.benchmarks builds that list: the list exists already."""
    types = getattr(sys.modules.get("asv_runner.benchmarks"), "benchmark_types", None)
    if types is not None and PeakMemBenchmark not in types:
        types.insert(0, PeakMemBenchmark)


if plugin.claims_peakmem():
    _claim_peakmem()

export_as_benchmark = [BenchmemBenchmark]

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The modules asv_runner scans for ``export_as_benchmark`` (see asv_bench_benchmem)."""

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""C++ operator new/delete (rows CXX_NEW, CXX_NEW_ALIGNED, CXX_DELETE of lib/allocators.h):
libstdc++ allocates through malloc, aligned_alloc and free, so every new and every delete
counts exactly once, embedded and through a daemon."""
from test_exact_counts import WL, check_exact, expected, only_entry, run

from conftest import require_tracing

# What tests/workloads/cxx_new.cc asks for: ten held 10,000-byte arrays, then 100 rounds of
# new char[1000], new int, new line (128 bytes, aligned 64), operator new(4096), nothrow
# new char[300], each deleted in the round.
CXX_TRUTH = {"peak_bytes": 10 * 10_000 + 1000 + 4 + 128 + 4096 + 300,
             "total_bytes": 10 * 10_000 + 100 * (1000 + 4 + 128 + 4096 + 300),
             "allocations": 10 + 100 * 5}


def test_cxx_new_and_delete_count_once_embedded(tmp_path):
    require_tracing()
    for _ in range(2):
        p, doc = run([WL / "cxx_new", "region"], tmp_path)
        assert p.returncode == 0, p.stderr
        assert expected(p) == CXX_TRUTH
        entry = only_entry(doc)
        assert entry["name"] == "cxx_new"
        check_exact(entry, CXX_TRUTH)


def test_cxx_new_and_delete_count_once_through_the_daemon(daemon, tmp_path):
    p, doc = run([WL / "cxx_new", "region"], tmp_path, env=daemon.env(), embedded=False)
    assert p.returncode == 0, p.stderr + daemon.log_tail()
    check_exact(only_entry(doc), CXX_TRUTH)

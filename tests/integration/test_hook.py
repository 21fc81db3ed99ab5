# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The in-process hook (docs/hook.md) outside the exact-count tests: inert without a
collector (or with one that does not trace the process), and the --probe option's errors."""
import os
import subprocess
import time

from conftest import BUILD, ROOT

HOOK = BUILD / "libbenchmem-hook.so"
WL = BUILD / "workloads"


def test_preloaded_without_a_collector_changes_nothing(tmp_path):
    """No collector traces this process (another one may probe the sites for its own
    processes: make bench and other tests run beside this one): the hook stops recording at
    its first batch instead of waiting for a daemon that never takes it, and the program's
    output and speed are its own."""
    churn = BUILD / "bench" / "churn"
    if not churn.exists():  # `make test` builds it; a bare pytest run may not have
        subprocess.run(["make", "--no-print-directory", str(churn.relative_to(ROOT))],
                       cwd=ROOT, check=True, capture_output=True, timeout=300)
    native = subprocess.run([str(WL / "allocators")], capture_output=True, text=True,
                            timeout=60)
    env = dict(os.environ, LD_PRELOAD=str(HOOK))
    t0 = time.monotonic()
    hooked = subprocess.run([str(churn), "2000000"], capture_output=True, text=True, env=env,
                            timeout=60)
    took = time.monotonic() - t0
    assert hooked.returncode == 0, hooked.stderr
    assert took < 1.5, took  # 4 M events; a stalled hook would wait 2 s per 64 batches
    again = subprocess.run([str(WL / "allocators")], capture_output=True, text=True, env=env,
                           timeout=60)
    assert (again.returncode, again.stdout) == (native.returncode, native.stdout)


def test_probe_option_errors(tmp_path):
    p = subprocess.run([str(BUILD / "benchmem-run"), "--probe", "trap", "--", "true"],
                       capture_output=True, text=True, timeout=60)
    assert p.returncode == 2
    assert "--probe trap: want auto, hook or uprobes" in p.stderr

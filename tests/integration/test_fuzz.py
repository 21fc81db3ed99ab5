# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""A short libFuzzer run of each target (tests/fuzz/fuzz_*.c) from its seed corpus: every seed,
including the regression inputs kept there, and 10 s of mutations must pass. `make fuzz` runs
the long version (FUZZ_SECONDS, default 300)."""
import base64
import os
import re
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
SECONDS = int(os.environ.get("FUZZ_SECONDS", "10"))


@pytest.mark.parametrize("target", ["proto", "config"])
def test_fuzzer_survives_seeds_and_mutations(target, tmp_path):
    exe = ROOT / "build" / "fuzz" / f"fuzz_{target}"
    build = subprocess.run(["make", "--no-print-directory", "-C", ROOT, str(exe.relative_to(ROOT))],
                           capture_output=True, text=True, timeout=600)
    assert build.returncode == 0, build.stdout + build.stderr
    seeds = ROOT / "tests" / "fuzz" / "corpus" / target
    nr_seeds = len(list(seeds.iterdir()))
    work = tmp_path / "corpus"
    work.mkdir()
    run = subprocess.run([exe, f"-max_total_time={SECONDS}", "-print_final_stats=1",
                          f"-artifact_prefix={tmp_path}/", work, seeds],
                         capture_output=True, text=True, timeout=SECONDS + 120)
    crashes = [f"{p.name}: {base64.b64encode(p.read_bytes()).decode()}"
               for p in tmp_path.glob("crash-*")]
    assert run.returncode == 0, "\n".join(crashes) + "\n" + run.stderr[-6000:]
    executed = re.search(r"^stat::number_of_executed_units:\s+(\d+)", run.stderr, re.M)
    assert executed, run.stderr[-2000:]
    # Every seed ran, plus mutations: a fuzzer that stopped early would show only the seeds.
    assert int(executed[1]) > nr_seeds + 1000, run.stderr[-2000:]

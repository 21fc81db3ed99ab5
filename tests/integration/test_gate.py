# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""One gate: the same pair of result files through `benchmem-run --baseline/--fail-on`,
`benchmemctl gate` and `benchmemctl compare --fail-on` gives the same exit code and the same
hit lines (lib/gate: one matching rule, one message format)."""
import json
import os
import subprocess

import pytest

from conftest import BUILD, require_tracing

RUN, CTL, GROW = str(BUILD / "benchmem-run"), str(BUILD / "benchmemctl"), str(BUILD / "workloads/grow")


def run(args, tmp_path):
    env = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "none.sock"), NO_COLOR="1")
    return subprocess.run([RUN, "--profile", "none"] + args, capture_output=True, text=True,
                          env=env, timeout=120)


def ctl(*args):
    return subprocess.run([CTL] + [str(a) for a in args], capture_output=True, text=True,
                          env=dict(os.environ, NO_COLOR="1"), timeout=60)


def hit_lines(text):
    return [l for l in text.splitlines() if l.startswith("  ")]


@pytest.fixture
def base(tmp_path):
    require_tracing()
    path = tmp_path / "base.json"
    p = run(["--json", str(path), "--", GROW, "4"], tmp_path)
    assert p.returncode == 0, p.stderr
    return path


RULES = ["--fail-on", "peak:10%", "--fail-on", "allocations:5%", "--fail-on", "allocated:1MiB"]


@pytest.mark.parametrize("size,rules,ceilings,code,lines", [
    # 4 MiB in 64 blocks -> 8 MiB in 128 blocks: every rule and the ceiling trip
    (8, RULES, ["--max-peak", "6MiB"], 1, [
        "  peak         grow: 4.00 MiB \u2192 8.00 MiB (+100.0%) [peak:10%]",
        "  allocations  grow: 64 \u2192 128 (+100.0%) [allocations:5%]",
        "  allocated    grow: 4.00 MiB \u2192 8.00 MiB (+100.0%) [allocated:1MiB]",
        "  max_peak     grow: peak 8.00 MiB exceeds max_peak 6.00 MiB"]),
    # the same file on both sides: nothing grew, the ceiling is above the worst pass
    (4, RULES, ["--max-peak", "6MiB"], 0, []),
    # 4 -> 5 MiB: +25% trips peak:10%, +1 MiB is not more than allocated:1MiB
    (5, RULES, [], 1, [
        "  peak         grow: 4.00 MiB \u2192 5.00 MiB (+25.0%) [peak:10%]",
        "  allocations  grow: 64 \u2192 80 (+25.0%) [allocations:5%]"]),
])
def test_same_pair_same_verdict_same_lines(base, tmp_path, size, rules, ceilings, code, lines):
    head = tmp_path / "head.json"
    p = run(["--baseline", str(base), *rules, *ceilings, "--json", str(head), "--", GROW,
             str(size)], tmp_path)
    g = ctl("gate", base, head, *rules, *ceilings)
    # compare takes no ceilings (those are gate's); its rule lines are the same
    c = ctl("compare", base, head, "--columns", "peak", *rules)
    assert (p.returncode, g.returncode) == (code, code), p.stderr + g.stdout + g.stderr
    assert c.returncode == (1 if [l for l in lines if "max_" not in l] else 0), c.stdout
    print("benchmem-run stderr:\n" + p.stderr + "benchmemctl gate stdout:\n" + g.stdout +
          "benchmemctl compare stdout:\n" + c.stdout)
    assert hit_lines(p.stderr) == lines
    assert hit_lines(g.stdout) == lines
    assert hit_lines(c.stdout.split("\n\n")[-1]) == [l for l in lines if "max_" not in l]
    if lines:
        assert f"benchmem-run: {len(lines)} regression(s) over threshold:" in p.stderr
        assert g.stdout.splitlines()[0] == f"{len(lines)} regression(s) over threshold:"
    else:
        assert "regression" not in p.stderr
        assert g.stdout.startswith("no regressions over thresholds")
        assert "no regressions over thresholds" in c.stdout
    assert json.loads(head.read_text())["benchmarks"][0]["name"] == "grow"


def test_only_ids_in_both_runs_are_compared(base, tmp_path):
    """A region named differently in the new run matches nothing: every entry point refuses
    a silent pass with the same reason and exit code 2."""
    head = tmp_path / "head.json"
    assert run(["--name", "other", "--json", str(head), "--", GROW, "8"], tmp_path).returncode == 0
    p = run(["--baseline", str(base), "--fail-on", "peak:10%", "--name", "other", "--", GROW, "8"],
            tmp_path)
    g = ctl("gate", base, head, "--fail-on", "peak:10%")
    c = ctl("compare", base, head, "--fail-on", "peak:10%")
    why = "--fail-on peak:10%: no benchmark has memory data in both "
    assert (p.returncode, g.returncode, c.returncode) == (2, 2, 2)
    assert f"benchmem-run: error: {why}" in p.stderr
    assert f"benchmemctl gate: error: {why}base and head" in g.stderr
    assert f"benchmemctl compare: error: {why}base and head" in c.stderr

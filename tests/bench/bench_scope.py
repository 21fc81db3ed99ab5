# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/bench_scope.py — the `make bench` section on region scope (docs/hook.md): the
min times of a pytest-benchmark suite (scope_suite.py) under `benchmem-run --probe X -- pytest
--benchmark-memory` over a plain run, in both probe modes (run.py passes itself as @h)."""
import json
import os
import shutil
import subprocess
import tempfile

OURS = ("-p", "no:benchmem")  # pytest-benchmem's entry point off: our plugin answers
NEITHER = ("-p", "no:benchmem", "-p", "no:benchmem.pytest_plugin")


def mins(h, cwd, prefix, product, *args):
    """{benchmark: min time} of one run of the suite, or raises h.Skip."""
    out = os.path.join(cwd, "t.json")
    python = os.path.join(h.BUILD, "venv", "bin", "python")
    p = subprocess.run([*prefix, python, "-m", "pytest", *product, "-p", "no:cacheprovider", "-q",
                        "--benchmark-max-time=0.5", "--benchmark-min-rounds=500",
                        f"--benchmark-json={out}", *args, "test_scope_suite.py"],
                       cwd=cwd, capture_output=True, text=True, timeout=600, check=False)
    if p.returncode:
        raise h.Skip(f"pytest exited {p.returncode}: {(p.stdout + p.stderr).strip()[-200:]}")
    with open(out) as f:
        return {b["params"]["kind"]: b["stats"]["min"] for b in json.load(f)["benchmarks"]}


def section(args, h):
    """Best min of alternating runs on each side (noise only ever slows a run down)."""
    runs = min(args.runs, 3)
    print(f"\n== region scope: pytest-benchmark min times under benchmem-run --embedded -- pytest "
          f"--benchmark-memory / plain (tests/bench/scope_suite.py; best of {runs} "
          "alternating runs; issue 13: within 10 %)", flush=True)
    if not os.path.exists(os.path.join(h.BUILD, "venv", "bin", "python")):
        print("  skipped: build/venv missing (make venv: pytest-benchmark)")
        return None
    ratios = {}
    with tempfile.TemporaryDirectory(prefix="benchmem-scope-") as tmp:
        shutil.copy(os.path.join(h.HERE, "scope_suite.py"), os.path.join(tmp, "test_scope_suite.py"))
        for probe in ("hook", "uprobes"):
            plain, traced = {}, {}
            try:
                for _ in range(runs):
                    p = mins(h, tmp, (), NEITHER)
                    t = mins(h, tmp, (h.RUN, "--embedded", "--quiet", "--probe", probe, "--"),
                             OURS, "--benchmark-memory")
                    plain = {k: min(v, plain.get(k, v)) for k, v in p.items()}
                    traced = {k: min(v, traced.get(k, v)) for k, v in t.items()}
            except h.Skip as e:
                h.print_skip("scope_suite", probe, e)
                continue
            ratios[probe] = {k: traced[k] / plain[k] for k in plain}
            worst = max(ratios[probe].values(), key=lambda r: abs(r - 1))
            print(f"  {probe:8s} " + "  ".join(f"{k} x{v:.3f}" for k, v in
                                               sorted(ratios[probe].items()))
                  + f"   worst x{worst:.3f}: {'met' if abs(worst - 1) <= 0.10 else 'NOT met'}",
                  flush=True)
    return ratios

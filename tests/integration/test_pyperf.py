# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""pyperformance manifests measured by the benchmem pyperf hook (benchmem/pyperf_hook.py): the
real pyperformance 1.14 and pyperf of build/venv run a manifest of custom benchmarks in the
directory layout of pyperformance's docs (bm_NAME/pyproject.toml + run_benchmark.py) with
``--hook benchmem``; pyperformance builds its own venv for them, which finds our package and
its entry point through ``python -m benchmem.pyperf_hook path`` on PYTHONPATH. pyperf starts
its workers with a trimmed environment: the hook takes BENCHMEM_SOCKET/BENCHMEM_JSON from its
ancestors. One region and one entry per benchmark; numbers in pyperf's run metadata and ours."""
import json
import os
import subprocess
import textwrap

import jsonschema

from conftest import BUILD, SCHEMAS, venv_python

PROJECT = textwrap.dedent("""
    [project]
    name = "pyperformance_bm_{name}"
    requires-python = ">=3.8"
    dependencies = ["pyperf"]
    urls = {{repository = "https://example.invalid"}}
    version = "1.0"

    [tool.pyperformance]
    name = "{name}"
""")
VARIANT = textwrap.dedent("""
    [project]
    name = "pyperformance_bm_{base}"
    requires-python = ">=3.8"
    dependencies = ["pyperf"]
    urls = {{repository = "https://example.invalid"}}
    version = "1.0"

    [tool.pyperformance]
    name = "{name}"
    extra_opts = ["{name}"]
""")
# pyperf hands a script's own arguments to its workers through add_cmdline_args only
SCRIPT = textwrap.dedent("""
    import pyperf

    SIZES = {sizes!r}


    def work(size):
        {body}


    def add_cmdline_args(cmd, args):
        cmd.append(args.variant)


    if __name__ == "__main__":
        runner = pyperf.Runner(add_cmdline_args=add_cmdline_args)
        runner.argparser.add_argument("variant", nargs="?", default="{name}")
        args = runner.parse_args()
        runner.bench_func(args.variant, work, SIZES[args.variant])
""")
# two benchmarks, churn with a variant (<local:churn>): what one call holds at its peak
BODIES = {"hold": "b = bytearray(size)\n    return b",
          "churn": "return [bytearray(size) for _ in range(4)]"}
SIZES = {"hold": {"hold": 3_000_000}, "churn": {"churn": 250_000, "churn_big": 1_000_000}}
LIVE = {"hold": 3_000_001, "churn": 4 * 250_001, "churn_big": 4 * 1_000_001}


def make_manifest(root):
    bm = root / "benchmarks"
    lines = ["[benchmarks]", "", "name\tmetafile"]
    for base, body in BODIES.items():
        (bm / f"bm_{base}").mkdir(parents=True)
        (bm / f"bm_{base}" / "pyproject.toml").write_text(PROJECT.format(name=base))
        (bm / f"bm_{base}" / "run_benchmark.py").write_text(
            SCRIPT.format(name=base, body=body, sizes=SIZES[base]))
        lines.append(f"{base}\t<local>")
        for variant in SIZES[base]:
            if variant != base:
                (bm / f"bm_{base}" / f"bm_{variant}.toml").write_text(
                    VARIANT.format(base=base, name=variant))
                lines.append(f"{variant}\t<local:{base}>")
    (bm / "MANIFEST").write_text("\n".join(lines) + "\n")
    return bm / "MANIFEST"


def test_pyperformance_manifest_with_hook(daemon, tmp_path):
    manifest = make_manifest(tmp_path)
    py = venv_python()
    hookpath = subprocess.run([str(py), "-m", "benchmem.pyperf_hook", "path", "--dir",
                               str(tmp_path / "hookpath")], check=True, capture_output=True,
                              text=True).stdout.strip()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHMEM", "PYTHON"))}
    env.update(PATH=f"{py.parent}:{env['PATH']}", PYTHONPATH=hookpath,
               BENCHMEM_SOCKET=str(daemon.sock), BENCHMEM_JSON=str(tmp_path / "ours.json"))
    p = subprocess.run([str(py.parent / "pyperformance"), "run", "--manifest", str(manifest),
                        "--hook", "benchmem", "--debug-single-value", "-o",
                        str(tmp_path / "pyperf.json")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]

    doc = json.loads((tmp_path / "ours.json").read_text())
    jsonschema.Draft202012Validator(
        json.loads((SCHEMAS / "result.schema.json").read_text())).validate(doc)
    by = {b["fullname"]: b for b in doc["benchmarks"]}
    assert sorted(by) == sorted(LIVE), "one entry per benchmark of the manifest"
    assert doc["benchmem"]["attach_mode"] == "attach"
    suite = json.loads((tmp_path / "pyperf.json").read_text())
    meta = {}
    for b in suite["benchmarks"]:
        for run in b["runs"]:
            # pyperf keeps what every run (every benchmark) shares a level up
            m = {**suite.get("metadata", {}), **b.get("metadata", {}),
                 **run.get("metadata", {})}
            if run.get("values") and "benchmem_peak_bytes" in m:
                meta.setdefault(b["metadata"]["name"], []).append(m)
    assert sorted(meta) == sorted(LIVE), suite
    for name, live in LIVE.items():
        e = by[name]
        assert e["group"] == name  # the manifest's name, from PYPERFORMANCE_RUNID
        head = e["extra_info"]["benchmem_meta"]["headline"]
        assert abs(head["peak_bytes"] - live) <= live * 0.05 + 256 * 1024, (name, head)
        assert [m["benchmem_peak_bytes"] for m in meta[name]] == \
            e["extra_info"]["benchmem"]["peak_bytes"], (name, meta[name])
        assert all(m["benchmem_python_allocator"] == "pymalloc" for m in meta[name])
    # the variant is its own region: 4 MB against its base's 1 MB
    assert by["churn_big"]["extra_info"]["benchmem_meta"]["headline"]["peak_bytes"] > \
        3 * by["churn"]["extra_info"]["benchmem_meta"]["headline"]["peak_bytes"]


def test_pyperformance_fast_under_benchmem_run(daemon, tmp_path):
    """The README's way: benchmem-run -- pyperformance run ... --fast: several pyperf
    workers, each with warmups (not measured) and values (one pass each); a calibration
    worker measures nothing. The entry holds every worker's values as its passes."""
    manifest = make_manifest(tmp_path)
    py = venv_python()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("BENCHMEM", "PYTHON"))}
    env.update(PATH=f"{py.parent}:{env['PATH']}", XDG_CACHE_HOME=str(tmp_path / "cache"))
    # the README's line, as written: export PYTHONPATH=$(python -m benchmem.pyperf_hook path)
    hookpath = subprocess.run(["python", "-m", "benchmem.pyperf_hook", "path"], env=env,
                              check=True, capture_output=True, text=True).stdout.strip()
    assert hookpath == str(tmp_path / "cache" / "benchmem" / "pyperf-hook")
    env["PYTHONPATH"] = hookpath
    p = subprocess.run([str(BUILD / "benchmem-run"), "--socket", str(daemon.sock), "--quiet",
                        "--json", str(tmp_path / "session.json"), "--",
                        str(py.parent / "pyperformance"), "run", "--manifest", str(manifest),
                        "--hook", "benchmem", "--fast", "-b", "hold", "-o",
                        str(tmp_path / "pyperf.json")], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=900)
    assert p.returncode == 0, p.stdout[-3000:] + p.stderr[-3000:]
    doc = json.loads((tmp_path / ".benchmem" / "pyperf.json").read_text())  # the default
    assert doc["benchmem"]["attach_mode"] == "session"
    (entry,) = doc["benchmarks"]
    assert entry["fullname"] == "hold"
    suite = json.loads((tmp_path / "pyperf.json").read_text())
    (bench,) = suite["benchmarks"]
    measured = [r for r in bench["runs"] if r.get("values")]
    assert len(measured) >= 2, "--fast runs several workers"
    values = sum(len(r["values"]) for r in measured)
    series = entry["extra_info"]["benchmem"]["peak_bytes"]
    assert len(series) == values, (len(series), values)
    for r in measured:
        m = {**suite.get("metadata", {}), **bench.get("metadata", {}), **r["metadata"]}
        assert m["benchmem_passes"] == len(r["values"])
        assert abs(m["benchmem_peak_bytes"] - LIVE["hold"]) <= LIVE["hold"] * 0.05 + 256 * 1024
    # benchmem-run's own result: the same region, the same passes
    session = {b["fullname"]: b for b in json.loads((tmp_path / "session.json").read_text())
               ["benchmarks"]}
    assert session["hold"]["extra_info"]["benchmem"]["peak_bytes"] == series
    # the README's last line
    p = subprocess.run([str(BUILD / "benchmemctl"), "compare", ".benchmem/pyperf.json"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and "hold" in p.stdout, p.stdout + p.stderr

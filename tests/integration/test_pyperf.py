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

from conftest import SCHEMAS, venv_python

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
SCRIPT = textwrap.dedent("""
    import pyperf


    def work():
        {body}


    if __name__ == "__main__":
        runner = pyperf.Runner()
        runner.bench_func("{name}", work)
""")
# live bytes at the peak of one call: a 3 MB buffer; four 250 kB buffers at once
BENCHES = {"hold": ("b = bytearray(3_000_000)\n    return b", 3_000_001),
           "churn": ("return [bytearray(250_000) for _ in range(4)]", 4 * 250_001)}


def make_manifest(root):
    bm = root / "benchmarks"
    for name, (body, _) in BENCHES.items():
        (bm / f"bm_{name}").mkdir(parents=True)
        (bm / f"bm_{name}" / "pyproject.toml").write_text(PROJECT.format(name=name))
        (bm / f"bm_{name}" / "run_benchmark.py").write_text(SCRIPT.format(name=name,
                                                                          body=body))
    lines = ["[benchmarks]", "", "name\tmetafile"] + [f"{n}\t<local>" for n in BENCHES]
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
    assert sorted(by) == sorted(BENCHES), "one entry per benchmark of the manifest"
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
    assert sorted(meta) == sorted(BENCHES), suite
    for name, (_, live) in BENCHES.items():
        e = by[name]
        assert e["group"] == name  # the manifest's name, from PYPERFORMANCE_RUNID
        head = e["extra_info"]["benchmem_meta"]["headline"]
        assert abs(head["peak_bytes"] - live) <= live * 0.05 + 256 * 1024, (name, head)
        assert [m["benchmem_peak_bytes"] for m in meta[name]] == \
            e["extra_info"]["benchmem"]["peak_bytes"], (name, meta[name])
        assert all(m["benchmem_python_allocator"] == "pymalloc" for m in meta[name])
    assert by["hold"]["extra_info"]["benchmem"]["peak_bytes"] != \
        by["churn"]["extra_info"]["benchmem"]["peak_bytes"]

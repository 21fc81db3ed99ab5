# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.results, the result document that the ASV plugin and the pyperf hook write from
many processes: schema-valid, one entry per fullname, passes of one run appended, another run
replacing, concurrent writers losing nothing. No daemon needed (series made by hand)."""
import json
import os
import subprocess
import sys
import textwrap

import jsonschema

from conftest import PYCLIENT, SCHEMAS

sys.path.insert(0, str(PYCLIENT))
from benchmem import results  # noqa: E402


def series(peaks, wall_ns=1000):
    return {"peak_bytes": list(peaks), "total_bytes": [p + 10 for p in peaks],
            "allocations": [3] * len(peaks), "rss_bytes": [None] * len(peaks),
            "wall_ns": [wall_ns] * len(peaks), "lost_events": [0] * len(peaks)}


def validate(doc):
    jsonschema.Draft202012Validator(
        json.loads((SCHEMAS / "result.schema.json").read_text())).validate(doc)


def test_upsert_appends_a_run_and_replaces_another(tmp_path):
    path = tmp_path / "doc.json"
    e = results.entry("b[1]", series([300, 200]), name="b", group="b", params={"n": 1},
                      param="1")
    results.upsert(path, e, run="r1", context_dir=tmp_path)
    results.upsert(path, results.entry("b[1]", series([100, 400])), run="r1")
    results.upsert(path, results.entry("c", series([7])), run="r1")
    doc = json.loads(path.read_text())
    validate(doc)
    by = {b["fullname"]: b for b in doc["benchmarks"]}
    assert sorted(by) == ["b[1]", "c"]
    b = by["b[1]"]
    assert b["extra_info"]["benchmem"]["peak_bytes"] == [300, 200, 100, 400]
    assert b["extra_info"]["benchmem_meta"]["headline"] == {
        "peak_bytes": 100, "total_bytes": 110, "allocations": 3}
    assert b["stats"]["rounds"] == 4 and b["stats"]["data"] == [1e-6] * 4
    assert "rss_bytes" not in b["extra_info"]["benchmem"]  # only when every pass has it
    results.upsert(path, results.entry("b[1]", series([50])), run="r2")
    by = {b["fullname"]: b for b in json.loads(path.read_text())["benchmarks"]}
    assert by["b[1]"]["extra_info"]["benchmem"]["peak_bytes"] == [50]
    assert by["c"]["extra_info"]["benchmem"]["peak_bytes"] == [7]


def test_concurrent_writers_lose_nothing(tmp_path):
    path = tmp_path / "doc.json"
    script = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(PYCLIENT)!r})
        from benchmem import results
        i = int(sys.argv[1])
        for k in range(10):
            s = {{"peak_bytes": [i * 100 + k], "total_bytes": [1], "allocations": [1],
                  "rss_bytes": [None], "wall_ns": [5], "lost_events": [0]}}
            results.upsert({str(path)!r}, results.entry(f"w{{i}}", s), run="same")
    """)
    env = dict(os.environ, PYTHONPATH=str(PYCLIENT))
    procs = [subprocess.Popen([sys.executable, "-c", script, str(i)], env=env, cwd=tmp_path)
             for i in range(4)]
    assert [p.wait(timeout=120) for p in procs] == [0] * 4
    doc = json.loads(path.read_text())
    validate(doc)
    by = {b["fullname"]: b["extra_info"]["benchmem"]["peak_bytes"] for b in doc["benchmarks"]}
    assert by == {f"w{i}": [i * 100 + k for k in range(10)] for i in range(4)}

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The result document written by daemon/results.c against schemas/result.schema.json, plus
what JSON Schema cannot say: equal-length series, rounds = passes, the min-peak headline."""
import copy
import json
import subprocess
from pathlib import Path

import jsonschema
import pytest

ROOT = Path(__file__).resolve().parent.parent.parent
EXE = ROOT / "build" / "tests" / "unit" / "test_results"
SCHEMA = json.loads((ROOT / "schemas" / "result.schema.json").read_text())
SERIES = ("peak_bytes", "total_bytes", "allocations", "rss_bytes")


def check_result_document(doc):
    """Schema + cross-field rules; returns a list of problems (empty when the file is good).
    Importable by other integration tests."""
    validator = jsonschema.Draft202012Validator(SCHEMA)
    problems = [f"{'/'.join(map(str, e.absolute_path))}: {e.message}"
                for e in validator.iter_errors(doc)]
    if problems:
        return problems
    for bm in doc["benchmarks"]:
        blob, meta = bm["extra_info"]["benchmem"], bm["extra_info"]["benchmem_meta"]
        lengths = {k: len(blob[k]) for k in SERIES if k in blob}
        lengths["aborted"] = len(meta["aborted"])
        lengths["stats.rounds"] = bm["stats"]["rounds"]
        if len(set(lengths.values())) != 1:
            problems.append(f"{bm['fullname']}: unequal series lengths {lengths}")
            continue
        peaks = blob["peak_bytes"]
        best = peaks.index(min(peaks))
        want = {"peak_bytes": peaks[best], "total_bytes": blob["total_bytes"][best],
                "allocations": blob["allocations"][best]}
        if "rss_bytes" in blob:
            want["rss_bytes"] = min(blob["rss_bytes"])
        if meta["headline"] != want:
            problems.append(f"{bm['fullname']}: headline {meta['headline']} != {want}")
    return problems


@pytest.fixture(scope="module")
def doc(tmp_path_factory):
    assert EXE.exists(), f"{EXE} not built (make {EXE.relative_to(ROOT)})"
    out = tmp_path_factory.mktemp("result") / "result.json"
    r = subprocess.run([EXE, "--emit", str(out)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    return json.loads(out.read_text())


def test_emitted_document_is_valid(doc):
    assert check_result_document(doc) == []
    assert [bm["stats"]["rounds"] for bm in doc["benchmarks"]] == [2, 3]


def test_rss_bytes_only_when_every_pass_has_it(doc):
    first, second = (bm["extra_info"]["benchmem"] for bm in doc["benchmarks"])
    assert first["rss_bytes"] == [1 << 20, 2 << 20]
    assert "rss_bytes" not in second


def test_stats_readable_by_pytest_benchmark_normalize_stats(doc):
    # normalize_stats() needs ops or a non-zero mean; benchmem compare reads stats[min].
    for bm in doc["benchmarks"]:
        assert bm["stats"]["mean"] > 0 and bm["stats"]["ops"] == pytest.approx(
            1 / bm["stats"]["mean"])
    assert doc["benchmarks"][1]["stats"]["min"] == pytest.approx(1e-9)  # 0 ns counts as 1 ns


@pytest.mark.parametrize("breakage", [
    "unequal_lengths", "negative_peak", "missing_stats", "missing_core_key", "wrong_headline",
    "rss_in_headline_without_series_check", "missing_datetime",
])
def test_checker_rejects_broken_documents(doc, breakage):
    bad = copy.deepcopy(doc)
    bm = bad["benchmarks"][0]
    blob, meta = bm["extra_info"]["benchmem"], bm["extra_info"]["benchmem_meta"]
    if breakage == "unequal_lengths":
        blob["allocations"].append(1)
    elif breakage == "negative_peak":
        blob["peak_bytes"][0] = -1
    elif breakage == "missing_stats":
        del bm["stats"]
    elif breakage == "missing_core_key":
        del blob["total_bytes"]
    elif breakage == "wrong_headline":
        meta["headline"]["allocations"] = min(blob["allocations"])  # 3: the minimum, not pass 1's 4
    elif breakage == "rss_in_headline_without_series_check":
        meta["headline"]["rss_bytes"] = max(blob["rss_bytes"])
    elif breakage == "missing_datetime":
        del bad["datetime"]
    assert check_result_document(bad) != []

"""benchmemctl report: one self-contained HTML file, rendered by headless Chromium; the dumped
DOM must hold the expected bars and scaling chart."""
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CTL = os.environ.get("BENCHMEMCTL", str(ROOT / "build" / "benchmemctl"))
MiB = 1024 * 1024
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                  "--no-first-run", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync"]


def bm(fullname, peak, params=None, group=None, profile=None):
    e = {"fullname": fullname, "name": fullname.split("::")[-1], "group": group,
         "params": params, "stats": {"min": 0.001, "max": 0.002, "mean": 0.0015,
                                     "median": 0.0015, "stddev": 0.0001, "rounds": 2},
         "extra_info": {"benchmem": {"peak_bytes": [peak, peak + 10],
                                     "total_bytes": [peak, peak], "allocations": [3, 3]}}}
    if profile:
        e["extra_info"]["benchmem_meta"] = {"profile": profile}
    return e


def make_runs(tmp_path):
    paths = []
    for k, f in enumerate((1.0, 1.5)):
        rows = [bm(f"t.py::test_rows[{n}]", int(n * 1000 * f), params={"n": n}, group="rows",
                   profile=f"/prof/run{k}/test_rows_{n}.bin" if n == 10000 else None)
                for n in (10, 100, 1000, 10000)]
        io = [bm("t.py::test_io", int(3 * MiB * f), group="io")]
        if k == 0:
            io.append(bm("t.py::test_only_base", MiB, group="io"))
        p = tmp_path / f"run{k}.json"
        p.write_text(json.dumps({"benchmarks": rows + io}))
        paths.append(p)
    return paths


def chromium():
    exe = shutil.which("chromium") or shutil.which("chromium-browser")
    if not exe:
        if os.environ.get("CI") == "true":
            pytest.fail("chromium is not installed (packaging/deps.txt lists it)")
        pytest.skip("chromium is not installed")
    return exe


@pytest.fixture
def report(tmp_path):
    if not Path(CTL).exists():
        pytest.fail(f"{CTL} not built")
    out = tmp_path / "report.html"
    r = subprocess.run([CTL, "report", *make_runs(tmp_path), "-o", out], capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert r.stdout == f"wrote {out} (2 run(s))\n"
    return out


def test_report_is_self_contained(report):
    html = report.read_text()
    assert html.startswith("<!DOCTYPE html>")
    assert not re.search(r"<script|<link|src=|https?://", html)
    # rows: 4 regions x 2 runs; io: test_io x 2 + test_only_base x 1
    assert html.count('<rect class="bar"') == 11
    assert html.count('<svg class="scaling"') == 1   # only the rows group has a numeric param
    assert "+50.0%" in html
    assert "memray flamegraph /prof/run1/test_rows_10000.bin" in html
    assert '<a href="/prof/run0/test_rows_10000.bin">' in html
    assert "t.py::test_io \u2014 run1: peak 4.50 MiB</title>" in html
    assert "n (log scale)" in html and "peak (log scale)" in html  # 10..10000: 3 decades


def run_chromium(tmp_path, *args):
    r = subprocess.run([chromium(), *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'ud'}",
                        *args], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r


def test_report_renders_in_chromium(report, tmp_path):
    dom = run_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    groups = dom.split('<section class="group">')[1:]
    assert len(groups) == 2
    assert "group: rows" in groups[0] and groups[0].count('class="bar"') == 8
    assert "group: io" in groups[1] and groups[1].count('class="bar"') == 3
    assert groups[0].count('class="point"') == 8       # 4 values x 2 runs
    assert groups[0].count('class="series"') == 2
    assert '<svg class="scaling"' in groups[0] and '<svg class="scaling"' not in groups[1]
    shot = tmp_path / "shot.png"
    run_chromium(tmp_path, f"--screenshot={shot}", "--window-size=1200,900", report.as_uri())
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and len(data) > 10000
    keep = os.environ.get("BENCHMEM_KEEP_SCREENSHOT")
    if keep:
        shutil.copy(shot, keep)

"""benchmemctl report: one self-contained HTML file, rendered by headless Chromium; the dumped
DOM must hold the expected bars and scaling chart."""
import html
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


# ---- the analysis page: views, history, regressions, ticks ------------------------------------

KiB = 1024
HISTORY = 4


def entry(fullname, peaks, allocs, group, params=None, profile=None):
    """One benchmark with explicit per-pass series (total = 2 x peak)."""
    e = {"fullname": fullname, "name": fullname.split("::")[-1], "group": group,
         "params": params, "stats": {"min": 0.001, "max": 0.004, "mean": 0.002,
                                     "median": 0.0015, "stddev": 0.001, "rounds": len(peaks)},
         "extra_info": {"benchmem": {"peak_bytes": peaks, "total_bytes": [2 * p for p in peaks],
                                     "allocations": allocs}}}
    if profile:
        e["extra_info"]["benchmem_meta"] = {"profile": profile}
    return e


def rows_peak(n, k):
    """test_rows[n]'s min peak in history run k: grows 5% a run, then +40% in the last."""
    return round(n * 1000 * (1 + 0.05 * k) * (1.4 if k == HISTORY - 1 else 1))


def make_history(tmp_path):
    """HISTORY runs h0..h3: group rows (param n over 3 decades) and group io."""
    paths = []
    for k in range(HISTORY):
        rows = [entry(f"t.py::test_rows[{n}]", [rows_peak(n, k) + 7, rows_peak(n, k)],
                      [n + k, n + k + 2], "rows", {"n": n},
                      f"/prof/h{k}/test_rows_{n}.bin" if n == 1000 else None)
                for n in (10, 100, 1000, 10000)]
        io = [entry("t.py::test_io", [3 * MiB], [40 + 10 * k], "io"),
              entry("t.py::test_tiny", [4 * KiB], [2], "io")]
        p = tmp_path / f"h{k}.json"
        p.write_text(json.dumps({"benchmarks": rows + io}))
        paths.append(p)
    return paths


def ctl(*args):
    r = subprocess.run([CTL, *map(str, args)], capture_output=True, text=True, timeout=60,
                       env={**os.environ, "NO_COLOR": "1"})
    return r


def render(tmp_path, *args):
    out = tmp_path / "history.html"
    r = ctl("report", *args, "-o", out)
    assert r.returncode == 0, r.stderr
    return out


def sections(dom):
    return {re.search(r"<h2>group: ([^<]*)</h2>", s)[1]: s
            for s in dom.split('<section class="group">')[1:]}


def test_one_trend_per_group_with_a_point_per_run(tmp_path):
    report = render(tmp_path, *make_history(tmp_path))
    dom = run_chromium(tmp_path, "--dump-dom", report.as_uri()).stdout
    groups = sections(dom)
    assert list(groups) == ["rows", "io"]
    for name, nr_regions in (("rows", 4), ("io", 2)):
        g = groups[name]
        # one chart per group in the headline view, 15 more views (4 metrics x 4 stats)
        assert g.count('<svg class="trend"') == 1 and g.count('<svg class="trend alt"') == 15
        assert g.count('class="view v-') == 16
        trend = g.split('<svg class="trend"')[1].split("</svg>")[0]
        series = trend.split("<g>")[1:]
        assert len(series) == nr_regions
        assert all(s.count('class="tpoint"') == HISTORY for s in series)
    # the points carry each run's headline peak, oldest first
    trend = groups["rows"].split('<svg class="trend"')[1].split("</svg>")[0]
    titles = re.findall(r"t\.py::test_rows\[10000\] \u2014 (h\d): peak ([^<]*)</title>", trend)
    assert [t[0] for t in titles] == ["h0", "h1", "h2", "h3"]
    assert rows_peak(10000, 3) == 16100000              # 10000 * 1000 * 1.15 * 1.4 bytes
    assert titles[3][1] == "15.35 MiB"
    # the scaling chart puts the dim on x: one line per run, one point per n
    assert groups["rows"].count('class="series"') == HISTORY
    assert groups["rows"].count('class="point"') == 4 * HISTORY


def visible_views(tmp_path, report):
    """Clicks the page's own metric and stat labels in Chromium; returns what each group shows
    before and after: the visible view, the trend's y tick labels and its point titles."""
    probe = """<script>
function probe() {
  return [...document.querySelectorAll('section.group')].map(g => {
    const vis = [...g.querySelectorAll('.view')].filter(
        v => getComputedStyle(v).display !== 'none');
    const trend = vis.length ? vis[0].querySelector('svg[class^=trend]') : null;
    return {group: g.querySelector('h2').textContent, views: vis.map(v => v.className),
            ticks: trend ? [...trend.querySelectorAll('text.yt')].map(t => t.textContent) : [],
            titles: trend ? [...trend.querySelectorAll('circle title')].map(
                t => t.textContent) : []};
  });
}
const res = {before: probe()};
document.querySelector('label[for=m-allocations]').click();
res.allocations = probe();
document.querySelector('label[for=s-max]').click();
res.allocations_max = probe();
const pre = document.createElement('pre');
pre.id = 'probe';
pre.textContent = JSON.stringify(res);
document.body.appendChild(pre);
</script>"""
    page = tmp_path / "probe.html"
    page.write_text(report.read_text().replace("</body>", probe + "</body>"))
    dom = run_chromium(tmp_path, "--dump-dom", page.as_uri()).stdout
    return json.loads(html.unescape(re.search(r'<pre id="probe">(.*?)</pre>', dom, re.S)[1]))


def test_metric_and_stat_switch_in_the_page(tmp_path):
    res = visible_views(tmp_path, render(tmp_path, *make_history(tmp_path)))
    before, allocs, allocs_max = res["before"], res["allocations"], res["allocations_max"]
    assert [g["views"] for g in before] == [["view v-peak-min"]] * 2
    assert [g["views"] for g in allocs] == [["view v-allocations-min"]] * 2
    assert [g["views"] for g in allocs_max] == [["view v-allocations-max"]] * 2
    rows = {g: {v["group"]: v for v in res[g]}["group: rows"] for g in res}
    assert "t.py::test_rows[100] \u2014 h2: peak 107.42 KiB" in rows["before"]["titles"]
    assert all(t.endswith("iB") for t in rows["before"]["ticks"])
    # allocation counts, not sizes: n + k at min, n + k + 2 at max; decades on a log axis
    assert "t.py::test_rows[100] \u2014 h2: allocations 102" in rows["allocations"]["titles"]
    assert "t.py::test_rows[100] \u2014 h2: allocations (max) 104" in \
        rows["allocations_max"]["titles"]
    assert rows["allocations"]["ticks"] == ["10", "100", "1000", "10k"]
    io = {g: {v["group"]: v for v in res[g]}["group: io"] for g in res}
    assert "t.py::test_io \u2014 h3: allocations 70" in io["allocations"]["titles"]
    # 2 .. 70 spans more than 20x: a log axis with 1, 2, 5 steps
    assert io["allocations"]["ticks"] == ["2", "5", "10", "20", "50"]


def hits_of_compare(base, cur, *rules):
    r = ctl("compare", base, cur, *[a for rule in rules for a in ("--fail-on", rule)])
    assert r.returncode in (0, 1), r.stderr
    if r.returncode == 0:
        assert "no regressions over thresholds" in r.stdout
        return []
    lines = r.stdout.split("regression(s) over threshold:\n")[1].splitlines()
    return [line[2:] for line in lines if line.startswith("  ")]


def hits_of_report(tmp_path, *args):
    dom = render(tmp_path, *args).read_text()
    summary = dom.split('<section class="summary">')[1].split("</section>")[0]
    return summary, [html.unescape(h) for h in re.findall(r'<code class="hit">([^<]*)</code>',
                                                          summary)]


def test_regressions_are_compares_verdict(tmp_path):
    h = make_history(tmp_path)
    rules = ("peak:10%", "allocations:15%")
    want = hits_of_compare(h[2], h[3], *rules)
    summary, got = hits_of_report(tmp_path, *h, *[a for r in rules for a in ("--fail-on", r)])
    assert got == want and len(want) == 5              # 4 rows at +46.4% peak, io +16.7% allocs
    assert "peak         test_rows[10000]: 10.49 MiB \u2192 15.35 MiB (+46.4%) [peak:10%]" in got
    assert "allocations  test_io: 60 \u2192 70 (+16.7%) [allocations:15%]" in got
    assert '<a href="/prof/h3/test_rows_1000.bin">' in summary
    assert "memray flamegraph /prof/h2/test_rows_1000.bin" in summary
    # --baseline moves the base: h0 vs h3, as compare h0 h3 says
    want = hits_of_compare(h[0], h[3], "peak:50%")
    _, got = hits_of_report(tmp_path, *h[1:], "--baseline", h[0], "--fail-on", "peak:50%")
    assert got == want and len(want) == 4
    # clean, and the default rule
    summary, got = hits_of_report(tmp_path, h[0], h[1])
    assert got == [] == hits_of_compare(h[0], h[1], "peak:10%")
    assert "no regressions over thresholds" in summary and "peak:10%" in summary


def test_change_skips_runs_without_the_value(tmp_path):
    """A region the first run measured without memory, and one missing from a middle run:
    the change is against the latest earlier run that measured it, never n/a."""
    runs = []
    for k, peaks in enumerate(((None, 1000), (2 * MiB, 4000), (3 * MiB, None))):
        a = entry("t.py::test_a", [peaks[0] or 1], [1], "g")
        if peaks[0] is None:
            del a["extra_info"]["benchmem"]
        b = [entry("t.py::test_b", [peaks[1]], [1], "g")] if peaks[1] else []
        p = tmp_path / f"c{k}.json"
        p.write_text(json.dumps({"benchmarks": [a] + b}))
        runs.append(p)
    page = render(tmp_path, *runs).read_text()
    view = page.split('<div class="view v-peak-min">')[1].split('<div class="view')[0]
    table = view.split("<table>")[1]
    assert "n/a" not in page
    assert re.search(r"test_a</td><td>-</td><td>2\.00 MiB</td><td>3\.00 MiB</td>"
                     r"<td class=\"change worse\">\+50\.0%</td>", table)
    assert re.search(r"test_b</td><td>1000 B</td><td>3\.91 KiB</td><td>-</td>"
                     r"<td class=\"note\">not in last run</td>", table)


def test_ticks_are_round(tmp_path):
    page = render(tmp_path, *make_history(tmp_path)).read_text()
    ticks = re.findall(r'<text class="yt"[^>]*>([^<]*)</text>', page)
    nice = r"\d+(\.5)?( ?[kM]| [KMG]iB| B| [\u00b5m]?s)?"    # 1, 2, 5 x 10^k; 2^k sizes
    assert ticks and not [t for t in ticks if not re.fullmatch(nice, t)]
    rows = page.split("<h2>group: rows</h2>")[1].split('<svg class="trend"')[1].split("</svg>")[0]
    # 10 KB .. 16 MB on a log axis: powers of 4 in IEC units
    assert re.findall(r'<text class="yt"[^>]*>([^<]*)</text>', rows) == \
        ["16 KiB", "64 KiB", "256 KiB", "1 MiB", "4 MiB", "16 MiB"]


def test_bad_rule_is_refused_like_compare(tmp_path):
    h = make_history(tmp_path)
    r = ctl("report", h[0], "--fail-on", "peak:5MB", "-o", tmp_path / "x.html")
    c = ctl("compare", h[0], h[1], "--fail-on", "peak:5MB")
    assert r.returncode == 2 == c.returncode
    assert r.stderr.replace("report", "compare") == c.stderr
    assert not (tmp_path / "x.html").exists()


def test_long_history_trend_keeps_every_run(tmp_path):
    """12 runs: the trend has 12 points per benchmark; bars, scaling and table the newest 8."""
    runs = []
    for k in range(12):
        p = tmp_path / f"l{k:02d}.json"
        p.write_text(json.dumps({"benchmarks": [
            entry(f"t.py::test_n[{n}]", [n * 1000 + k * 100], [n], "g", {"n": n})
            for n in (1, 100)]}))
        runs.append(p)
    page = render(tmp_path, *runs).read_text()
    view = page.split('<div class="view v-peak-min">')[1].split('<div class="view')[0]
    trend = view.split('<svg class="trend"')[1].split("</svg>")[0]
    assert [s.count('class="tpoint"') for s in trend.split("<g>")[1:]] == [12, 12]
    assert view.count('<rect class="bar"') == 2 * 8
    assert view.count('class="point"') == 2 * 8
    assert re.findall(r"<th>peak (l\d+)</th>", view) == [f"l{k:02d}" for k in range(4, 12)]
    assert "t.py::test_n[100] \u2014 l00: peak 97.66 KiB</title>" in trend      # 100000 B
    assert "t.py::test_n[100] \u2014 l11: peak 98.73 KiB</title>" in trend      # 101100 B

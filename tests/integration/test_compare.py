"""benchmemctl compare and gate on pytest-benchmark JSON files built here: exact tables,
stats, grouping, sorting, pivot, CSV, every --fail-on form, exit codes, one-line errors."""
import json
import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CTL = os.environ.get("BENCHMEMCTL", str(ROOT / "build" / "benchmemctl"))
KiB, MiB = 1024, 1024 * 1024


def bm(fullname, peak, total=None, allocs=None, rss=None, t=0.001, params=None, group=None,
       mem=True):
    """One entry in pytest-benchmem's minimal shape (tests/_builders.py upstream)."""
    peak = peak if isinstance(peak, list) else [peak]
    e = {"fullname": fullname, "name": fullname.split("::")[-1], "group": group,
         "params": params,
         "stats": {"min": t, "max": t * 3, "mean": t * 2, "median": t * 1.5,
                   "stddev": t / 2, "rounds": len(peak)}}
    if mem:
        blob = {"peak_bytes": peak,
                "total_bytes": total if total is not None else [p * 2 for p in peak],
                "allocations": allocs if allocs is not None else [10] * len(peak)}
        if rss is not None:
            blob["rss_bytes"] = rss
        e["extra_info"] = {"benchmem": blob}
    return e


def write(path, entries):
    path.write_text(json.dumps({"benchmarks": entries, "version": "4.0.0"}))
    return str(path)


def ctl(*args, env=None):
    if not Path(CTL).exists():
        pytest.fail(f"{CTL} not built")
    e = dict(os.environ, NO_COLOR="1")
    e.update(env or {})
    return subprocess.run([CTL, *map(str, args)], capture_output=True, text=True, env=e,
                          timeout=60)


@pytest.fixture
def two(tmp_path):
    base = write(tmp_path / "base.json", [
        bm("t.py::test_a", [MiB, 2 * MiB, MiB + 5], total=[10 * MiB, 1, 2],
           allocs=[100, 1, 2]),
        bm("t.py::test_b", 2 * MiB, allocs=[200]),
        bm("t.py::test_c", 0, allocs=[0]),
        bm("t.py::test_gone", MiB),
    ])
    head = write(tmp_path / "head.json", [
        bm("t.py::test_a", int(1.2 * MiB), total=[10 * MiB], allocs=[125], t=0.0012),
        bm("t.py::test_b", int(2.05 * MiB), allocs=[200]),
        bm("t.py::test_c", 100, allocs=[3]),
        bm("t.py::test_new", 50 * MiB),
    ])
    return base, head


def test_one_run_plain_table(two):
    r = ctl("compare", two[0])
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "name          time      peak",
        "----------------------------",
        "test_a     1.00 ms  1.00 MiB",
        "test_b     1.00 ms  2.00 MiB",
        "test_c     1.00 ms       0 B",
        "test_gone  1.00 ms  1.00 MiB",
    ]


def test_headline_allocations_are_those_of_the_min_peak_pass(two):
    r = ctl("compare", two[0], "--columns", "peak,allocated,allocations", "--format", "csv")
    assert r.returncode == 0, r.stderr
    rows = r.stdout.splitlines()
    assert rows[0] == "id,peak:base,allocated:base,allocations:base"
    # min peak is pass 0 (1 MiB): its total 10 MiB and 100 allocations, not the series minima
    assert rows[1] == f"t.py::test_a,{MiB},{10 * MiB},100"


def test_two_runs_change_and_only_common_ids(two):
    r = ctl("compare", *two, "--columns", "peak,allocations")
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert lines[0].split() == ["name", "run", "peak", "allocations"]
    i = lines.index(next(l for l in lines if l.startswith("test_a ")))
    assert lines[i].split() == ["test_a", "base", "1.00", "MiB", "100"]
    assert lines[i + 1].split() == ["head", "1.20", "MiB", "125"]
    assert lines[i + 2].split() == ["change", "+20.0%", "+25.0%"]
    gone = lines.index(next(l for l in lines if l.startswith("test_gone ")))
    assert lines[gone + 1].split() == ["head", "-", "-"]
    assert lines[gone + 2].split() == ["change", "n/a", "n/a"]
    # zero baseline: no percentage
    c = lines.index(next(l for l in lines if l.startswith("test_c ")))
    assert lines[c + 2].split() == ["change", "n/a", "n/a"]


def test_stats(tmp_path):
    f = write(tmp_path / "s.json", [bm("t.py::test_s", [4 * KiB, 2 * KiB, 8 * KiB, 6 * KiB],
                                       allocs=[4, 2, 8, 6])])
    r = ctl("compare", f, "--columns", "peak,allocations,time", "--stat", "all",
            "--format", "csv")
    assert r.returncode == 0, r.stderr
    head, row = r.stdout.splitlines()
    cols = dict(zip(head.split(","), row.split(",")))
    assert cols["peak:min:s"] == "2048"
    assert cols["peak:max:s"] == "8192"
    assert cols["peak:mean:s"] == "5120"
    assert cols["peak:median:s"] == "5120"
    assert float(cols["peak:stddev:s"]) == pytest.approx(1024 * 5 ** 0.5)  # population
    assert cols["allocations:median:s"] == "5"
    assert cols["time:max:s"] == "0.003" and cols["time:stddev:s"] == "0.0005"
    r = ctl("compare", f, "--columns", "peak", "--stat", "median")
    assert r.stdout.splitlines()[0].split() == ["name", "peak:median"]
    assert r.stdout.splitlines()[2].split() == ["test_s", "5.00", "KiB"]


def test_markdown_escapes_pipes(tmp_path):
    f = write(tmp_path / "m.json", [bm("t.py::test_m[a|b]", 3 * KiB)])
    r = ctl("compare", f, "--format", "md", "--columns", "peak")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["| name | peak |", "|---|---:|",
                                     "| test_m[a\\|b] | 3.00 KiB |"]


def test_csv_file_and_metric_absent_everywhere_is_dropped(two, tmp_path):
    out = tmp_path / "out.csv"
    r = ctl("compare", *two, "--columns", "peak,rss", "--csv", out)
    assert r.returncode == 0, r.stderr
    assert "no run has rss_bytes" in r.stderr
    lines = out.read_text().splitlines()
    assert lines[0] == "id,peak:base,peak:head,peak:change_pct"
    assert f"t.py::test_a,{MiB},{int(1.2 * MiB)},20.00" in lines
    assert "t.py::test_new,,52428800," in lines


def test_group_by_and_sort(tmp_path):
    f = write(tmp_path / "g.json", [
        bm("a.py::test_x", 3 * KiB, group="g1"), bm("a.py::test_y", 9 * KiB, group="g2"),
        bm("b.py::test_z", 5 * KiB, group="g1"), bm("b.py::test_w", 1 * KiB, group="g2")])
    r = ctl("compare", f, "--group-by", "group", "--columns", "peak", "--sort", "value")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "[group=g1]", "name        peak", "----------------", "test_z  5.00 KiB",
        "test_x  3.00 KiB", "", "[group=g2]", "name        peak", "----------------",
        "test_y  9.00 KiB", "test_w  1.00 KiB"]
    r = ctl("compare", f, "--group-by", "module,group", "--columns", "peak", "--format", "md")
    heads = [l for l in r.stdout.splitlines() if l.startswith("###")]
    assert heads == ["### module=a.py, group=g1", "### module=a.py, group=g2",
                     "### module=b.py, group=g1", "### module=b.py, group=g2"]


def test_sort_change(tmp_path):
    a = write(tmp_path / "a.json", [bm("t.py::test_1", 100), bm("t.py::test_2", 100),
                                    bm("t.py::test_3", 100)])
    b = write(tmp_path / "b.json", [bm("t.py::test_1", 110), bm("t.py::test_2", 300),
                                    bm("t.py::test_3", 50)])
    r = ctl("compare", a, b, "--columns", "peak", "--sort", "change", "--format", "csv")
    assert [l.split(",")[0] for l in r.stdout.splitlines()[1:]] == [
        "t.py::test_2", "t.py::test_1", "t.py::test_3"]
    assert r.stdout.splitlines()[1] == "t.py::test_2,100,300,200.00"


def test_pivot_folds_one_run_and_gates_first_vs_last(tmp_path):
    f = write(tmp_path / "p.json", [
        bm(f"t.py::test_rows[{n}-{k}]", n * m, params={"n": n, "k": k})
        for k, m in (("x", 1000), ("y", 3000)) for n in (10, 100)])
    r = ctl("compare", f, "--pivot", "param:n", "--columns", "peak", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "id,peak:n=10,peak:n=100,peak:change_pct",
        "t.py::test_rows[x],10000,100000,900.00",
        "t.py::test_rows[y],30000,300000,900.00"]
    r = ctl("compare", f, "--pivot", "param:n", "--columns", "peak", "--fail-on", "peak:800%")
    assert r.returncode == 1
    assert "2 regression(s) over threshold:" in r.stdout
    r = ctl("compare", f, "--pivot", "param:n", "--fail-on", "peak:900%")
    assert r.returncode == 0 and "no regressions over thresholds" in r.stdout
    r = ctl("compare", f, f, "--pivot", "param:n")
    assert r.returncode == 2 and "--pivot folds one run; got 2 runs" in r.stderr


@pytest.mark.parametrize("rule,code,hits", [
    ("peak:10%", 1, ["test_a"]),                 # +20% fires, +2.5% does not
    ("peak:25%", 0, []),
    ("peak:1MiB", 0, []),                        # +0.2 MiB
    ("peak:100KiB", 1, ["test_a"]),              # +204.8 KiB; test_b +51.2 KiB: no
    ("PEAK: 51 KiB", 1, ["test_a", "test_b"]),   # case-insensitive, blanks; test_b +51.2 KiB
    ("peak:100B", 1, ["test_a", "test_b"]),      # test_c grows by exactly 100 B: strict >
    ("allocations:20%", 1, ["test_a"]),          # 100 -> 125; test_c from 0 never trips %
    ("allocations:25%", 0, []),
    ("allocations:2", 1, ["test_a", "test_c"]),  # +25 and +3
    ("allocated:1%", 1, ["test_b"]),             # 4 MiB -> 4.1 MiB; test_a 10 MiB flat
    ("allocated:2.5%", 0, []),                   # +2.49996% stays under
])
def test_fail_on_forms(two, rule, code, hits):
    r = ctl("compare", *two, "--fail-on", rule)
    assert r.returncode == code, r.stdout + r.stderr
    tail = r.stdout.split("over threshold:\n", 1)[1] if hits else ""
    got = [l.split()[1].rstrip(":") for l in tail.splitlines()]
    assert got == hits
    if hits:
        assert f"{len(hits)} regression(s) over threshold:" in r.stdout
    else:
        assert "no regressions over thresholds" in r.stdout


def test_fail_on_line_format(two):
    r = ctl("compare", *two, "--fail-on", "peak:10%")
    assert "  peak         test_a: 1.00 MiB \u2192 1.20 MiB (+20.0%) [peak:10%]" in r.stdout


def test_improvements_never_fire(two):
    r = ctl("compare", two[1], two[0], "--fail-on", "peak:0%", "--fail-on", "allocations:0")
    assert r.returncode == 0, r.stdout
    assert "no regressions over thresholds" in r.stdout


@pytest.mark.parametrize("rule,msg", [
    ("time:10%", "time is not a memory field"),
    ("allocations:5KiB", "'5KiB' is not a count"),
    ("peak:5MB", "'5MB' is not a size (units: B, KiB, MiB, GiB)"),
    ("heap:1%", "unknown field 'heap'"),
    ("peak", "is not FIELD:THRESHOLD"),
])
def test_bad_rules_exit_2(two, rule, msg):
    r = ctl("compare", *two, "--fail-on", rule)
    assert r.returncode == 2
    assert msg in r.stderr and len(r.stderr.splitlines()) == 1


def test_rss_gate(tmp_path, two):
    r = ctl("compare", *two, "--fail-on", "rss:10%")
    assert r.returncode == 2 and "no rss data" in r.stderr
    a = write(tmp_path / "ra.json", [bm("t.py::test_r", [1, 1], rss=[100 * MiB, 90 * MiB])])
    b = write(tmp_path / "rb.json", [bm("t.py::test_r", [1, 1], rss=[99 * MiB + 1, 120 * MiB])])
    r = ctl("compare", a, b, "--fail-on", "rss:10%", "--columns", "rss")
    assert r.returncode == 1, r.stdout + r.stderr   # min 90 MiB -> 99 MiB + 1 B: > 10%
    assert "rss          test_r: 90.00 MiB \u2192 99.00 MiB (+10.0%)" in r.stdout


def test_fail_on_needs_two_runs(two):
    r = ctl("compare", two[0], "--fail-on", "peak:10%")
    assert r.returncode == 2 and "--fail-on needs two runs" in r.stderr


def test_storage_directory_sorted_by_number(tmp_path):
    d = tmp_path / ".benchmarks" / "Linux-CPython-3.11-64bit"
    d.mkdir(parents=True)
    write(d / "0010_late.json", [bm("t.py::test_a", 300)])
    write(d / "0002_early.json", [bm("t.py::test_a", 100)])
    write(d / "0009_mid.json", [bm("t.py::test_a", 200)])
    r = ctl("compare", tmp_path / ".benchmarks", "--columns", "peak", "--format", "csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "id,peak:0002_early,peak:0009_mid,peak:0010_late,peak:change_pct",
        "t.py::test_a,100,200,300,200.00"]


@pytest.mark.parametrize("content,msg", [
    ("{\"foo\": 1}", "not a pytest-benchmark file (no \"benchmarks\" list)"),
    ("[1, 2]", "not a pytest-benchmark file (no \"benchmarks\" list)"),
    ("{\"benchmarks\": [", "line 1 column"),
    (json.dumps({"benchmarks": [bm("t.py::test_a", 1), bm("t.py::test_b", 1),
                                dict(bm("t.py::test_c", [1, 2]), extra_info={"benchmem": {
                                    "peak_bytes": [1, 2], "total_bytes": [1, 2],
                                    "allocations": [1, 2, 3]}})]}),
     "benchmark 3 (test_c): extra_info.benchmem.peak_bytes has 2 values, allocations has 3"),
    (json.dumps({"benchmarks": [dict(bm("t.py::test_a", 1), extra_info={"benchmem": {
        "peak_bytes": 5, "allocations": 1, "total_bytes": 5}})]}),
     "benchmark 1 (test_a): extra_info.benchmem.peak_bytes is not a list"),
    (json.dumps({"benchmarks": [dict(bm("t.py::test_a", 1), extra_info={"benchmem": {
        "peak_bytes": [5], "total_bytes": [5]}})]}),
     "benchmark 1 (test_a): extra_info.benchmem has no allocations list"),
    (json.dumps({"benchmarks": [{"name": "x"}]}), "benchmark 1: no \"fullname\" string"),
    (json.dumps({"benchmarks": [bm("t.py::test_a", 1), bm("t.py::test_a", 2)]}),
     "benchmark 2: duplicate fullname t.py::test_a"),
])
def test_malformed_input_one_line_error(tmp_path, content, msg):
    p = tmp_path / "x.json"
    p.write_text(content)
    r = ctl("compare", p)
    assert r.returncode == 2
    assert r.stderr == f"benchmemctl compare: error: {p}: {msg}" + r.stderr.split(msg, 1)[1]
    assert len(r.stderr.splitlines()) == 1 and r.stdout == ""


def test_missing_file_and_entries_without_memory(tmp_path):
    r = ctl("compare", tmp_path / "nope.json")
    assert r.returncode == 2 and "nope.json: No such file or directory" in r.stderr
    f = write(tmp_path / "t.json", [bm("t.py::test_t", 0, t=0.25, mem=False),
                                    bm("t.py::test_m", 2048)])
    r = ctl("compare", f)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines()[2:] == ["test_m    1.00 ms  2.00 KiB",
                                         "test_t  250.00 ms         -"]


def test_gate(two, tmp_path):
    r = ctl("gate", *two, "--fail-on", "peak:10%")
    assert r.returncode == 1
    assert r.stdout.splitlines() == [
        "1 regression(s) over threshold:",
        "  peak         test_a: 1.00 MiB \u2192 1.20 MiB (+20.0%) [peak:10%]"]
    r = ctl("gate", *two, "--fail-on", "peak:25%")
    assert r.returncode == 0 and r.stdout.startswith("no regressions over thresholds")
    # ceilings compare the worst pass of the current run, strictly greater fails
    head = write(tmp_path / "c.json", [bm("t.py::test_k", [90 * MiB, 101 * MiB],
                                          allocs=[10, 5000])])
    r = ctl("gate", two[0], head, "--max-peak", "100MiB")
    assert r.returncode == 1
    assert "  max_peak     test_k: peak 101.00 MiB exceeds max_peak 100.00 MiB" in r.stdout
    assert ctl("gate", two[0], head, "--max-peak", "101MiB").returncode == 0
    r = ctl("gate", two[0], head, "--max-allocations", "4999")
    assert r.returncode == 1 and "allocations 5000 exceeds max_allocations 4999" in r.stdout
    r = ctl("gate", two[0], head, "--max-allocations", "5KiB")
    assert r.returncode == 2 and "not a count" in r.stderr
    assert ctl("gate", *two).returncode == 2
    assert ctl("gate", two[0], "--fail-on", "peak:1%").returncode == 2
    r = ctl("gate", *two, "--fail-on", "rss:1%")
    assert r.returncode == 2 and "no rss data" in r.stderr


def test_colour_only_on_a_tty(two):
    r = ctl("compare", *two, env={"NO_COLOR": ""})
    assert "\033[" not in r.stdout   # a pipe is not a tty

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Python frames in profiles: on every CPython on the machine, the .bin of a Python workload
(nested calls, a generator, a class method, json and zlib, a thread) names the allocating
Python functions with file and line in the real memray's stats, summary and flamegraph, and
memray's peak and count equal our JSON; an interpreter we do not know gets native frames only
and says so; a regressing pytest-benchmark test's profile tops with the allocating function."""
import json
import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

from conftest import BUILD, PYCLIENT, ROOT, memray_cli, require_tracing

RUN, CTL = str(BUILD / "benchmem-run"), str(BUILD / "benchmemctl")
WL = ROOT / "tests/workloads/py/pyframes_wl.py"
PYENV = Path("/root/.pyenv/versions")

# (id, interpreter, expected "CPython X.Y" of the note). Missing ones are skipped: the machine
# decides which CPythons exist; every one that does must pass.
INTERPRETERS = [
    ("debian", "/usr/bin/python3", "CPython 3.11"),
    ("3.10", str(PYENV / "3.10.13/bin/python3.10"), "CPython 3.10"),
    ("3.11", str(PYENV / "3.11.7/bin/python3.11"), "CPython 3.11"),
    ("3.12", str(PYENV / "3.12.1/bin/python3.12"), "CPython 3.12"),
    ("3.13", str(PYENV / "3.13.0/bin/python3.13"), "CPython 3.13"),
]
UNKNOWN = str(PYENV / "3.9.18/bin/python3.9")  # a CPython whose frame layout we do not know


def marks():
    """'# at:NAME' line numbers of the workload."""
    out = {}
    for no, line in enumerate(WL.read_text().splitlines(), 1):
        m = re.search(r"# at:(\w+)", line)
        if m:
            out[m.group(1)] = no
    return out


def profile_run(tmp_path, python, script, extra=(), env=None, args=()):
    """Runs @script (with @args) under benchmem-run --profile all; returns (headline, meta,
    .bin path)."""
    prof, out = tmp_path / "prof", tmp_path / "out.json"
    e = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "none.sock"), PYTHONPATH=str(PYCLIENT),
             **(env or {}))
    e.pop("PYTEST_ADDOPTS", None)
    p = subprocess.run([RUN, "--profile", "all", "--profile-dir", str(prof), "--json", str(out),
                        *extra, "--", python, str(script), *args],
                       capture_output=True, text=True, env=e, timeout=300)
    assert p.returncode == 0, p.stderr
    bench = json.loads(out.read_text())["benchmarks"]
    work = next(b for b in bench if b["name"] == "work")["extra_info"]
    meta = work["benchmem_meta"]
    return meta["headline"], meta, meta["profile"]


def memray_stats(path):
    out = Path(path).with_suffix(".stats.json")
    p = subprocess.run([memray_cli(), "stats", "--json", "-f", "-o", str(out), path],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    return json.loads(out.read_text())


def memray_summary(path):
    p = subprocess.run([memray_cli(), "summary", path], capture_output=True, text=True, timeout=120,
                       stdin=subprocess.DEVNULL, env=dict(os.environ, COLUMNS="400"))
    assert p.returncode == 0, p.stdout + p.stderr
    return p.stdout


def memray_table(path):
    """memray table's rows: the innermost frame of each allocation site, "fn at file:line"."""
    html = Path(path).with_suffix(".table.html")
    p = subprocess.run([memray_cli(), "table", "-f", "-o", str(html), path], capture_output=True,
                       text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    return set(json.loads(f'"{m}"') for m in re.findall(r'"stack_trace": ?"((?:[^"\\]|\\.)*)"',
                                                         html.read_text()))


def flamegraph_nodes(path):
    """memray flamegraph's HTML → one dict per call-tree node, with its parent's index."""
    html = Path(path).with_suffix(".html")
    p = subprocess.run([memray_cli(), "flamegraph", "-f", "-o", str(html), path],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    assert p.returncode == 0, p.stdout + p.stderr
    text = html.read_text()
    m = re.search(r"const packed_data = (\{.*?\});\n", text, re.S)
    assert m, "no packed_data in the flamegraph"
    data = json.loads(m.group(1))
    nodes, strings = data["nodes"], data["strings"]
    out = [{"function": strings[nodes["function"][i]], "file": strings[nodes["filename"][i]],
            "line": nodes["lineno"][i], "thread": strings[nodes["thread_id"][i]],
            "value": nodes["value"][i], "parent": None} for i in range(len(nodes["function"]))]
    for i, kids in enumerate(nodes["children"]):
        for k in kids:
            out[k]["parent"] = i
    return out


def find(nodes, function, line, file=str(WL)):
    return [n for n in nodes if n["function"] == function and n["line"] == line
            and n["file"] == file]


def qual(version_note, cls, name):
    """co_qualname from 3.11 on, co_name before."""
    return name if version_note == "CPython 3.10" else f"{cls}.{name}"


@pytest.mark.parametrize("python,note", [pytest.param(p, n, id=i) for i, p, n in INTERPRETERS])
def test_real_memray_names_the_python_functions(tmp_path, python, note):
    require_tracing()
    if not os.access(python, os.X_OK):
        pytest.skip(f"{python} is not on this machine")
    at = marks()
    head, meta, binfile = profile_run(tmp_path, python, WL)
    assert re.match(re.escape(note) + r"\.\d+: Python frames captured", meta["python_frames"])

    # memray's own numbers equal ours
    stats = memray_stats(binfile)
    assert stats["metadata"]["peak_memory"] == head["peak_bytes"]
    assert stats["total_num_allocations"] == head["allocations"]
    assert stats["total_bytes_allocated"] == head["total_bytes"]
    assert stats["metadata"]["python_allocator"] == "pymalloc"

    # the biggest allocation site, as memray names it: the zlib buffer at its line
    where = [t["location"] for t in stats["top_allocations_by_size"]]
    assert where[0] == f"compress:{WL}:{at['compress']}", where

    # the call tree: every allocating function at its line, callers at the line of the call,
    # the thread on its own
    nodes = flamegraph_nodes(binfile)
    fill = qual(note, "Store", "fill")
    for fn, mark in (("make_row", "make_row"), ("chunks", "chunks"), (fill, "fill"),
                     ("compress", "compress"), ("worker", "worker"), ("main", "main")):
        assert find(nodes, fn, at[mark]), (fn, [n for n in nodes if n["file"] == str(WL)])
    for fn, mark, caller, caller_mark in (("make_row", "make_row", "make_rows", "make_rows"),
                                          ("chunks", "chunks", "consume", "consume")):
        got = find(nodes, fn, at[mark])
        assert got, (fn, [n for n in nodes if n["file"] == str(WL)])
        parents = {(nodes[n["parent"]]["function"], nodes[n["parent"]]["line"]) for n in got}
        assert (caller, at[caller_mark]) in parents, (fn, parents)
    parse = find(nodes, "parse", at["parse"])
    assert parse, "json.loads's caller is missing"
    # below parse: json's own Python frames, whose C scanner allocates the strings (50 x 1 KB)
    below = [n for n in nodes if n["parent"] in {nodes.index(p) for p in parse}]
    assert any(n["file"].endswith("json/__init__.py") for n in below), below
    assert sum(p["value"] for p in parse) >= 50 * 1000
    # 100 recursive calls: the innermost 64 frames are kept, the allocating one first
    leaf = find(nodes, "deep", at["deep"])
    assert leaf and sum(n["value"] for n in leaf) >= 5000
    chain, n = 0, leaf[0]
    while n["parent"] is not None and nodes[n["parent"]]["function"] == "deep":
        assert nodes[n["parent"]]["line"] == at["deep_call"]
        n, chain = nodes[n["parent"]], chain + 1
    assert chain == 63, chain
    worker = find(nodes, "worker", at["worker"])
    assert worker and {n["thread"] for n in worker}.isdisjoint(
        {n["thread"] for n in find(nodes, "make_row", at["make_row"])})
    assert sum(n["value"] for n in worker) >= 60 * 8192

    # memray table: the allocating line of each site
    rows = memray_table(binfile)
    for fn, mark in (("make_row", "make_row"), ("chunks", "chunks"), (fill, "fill"),
                     ("compress", "compress"), ("worker", "worker")):
        assert f"{fn} at {WL}:{at[mark]}" in rows, (fn, sorted(rows))

    # memray summary names them too
    summary = memray_summary(binfile)
    for fn in ("make_row", "make_rows", "chunks", "consume", fill, "compress", "worker", "parse"):
        assert f"{fn} at {WL}" in summary, (fn, summary)

    # and our own top stack is the 1 MiB zlib buffer, under compress and main
    top = subprocess.run([CTL, "inspect", binfile, "--top", "1"], capture_output=True,
                         text=True)
    assert top.returncode == 0, top.stderr
    frames = [ln.strip() for ln in top.stdout.splitlines()[2:] if not ln.strip().startswith("[")]
    assert frames[:2] == [f"compress at {WL}:{at['compress']}", f"main at {WL}:{at['main']}"]
    # then the native frames, named from the images' symbol tables
    native = [ln.strip() for ln in top.stdout.splitlines() if ln.strip().startswith("[native]")]
    assert native and all(re.fullmatch(r"\[native\] (\S+ \(\S+\)|\S+\+0x[0-9a-f]+)", n)
                          for n in native), native


def test_an_executable_that_embeds_the_interpreter_is_found_by_its_symbols(tmp_path):
    """Debian's python3.11 links libpython statically: under another name it is any program
    that embeds CPython, found by _PyRuntime in the executable, not by its name."""
    require_tracing()
    app = tmp_path / "embedding-app"
    shutil.copy2(os.path.realpath("/usr/bin/python3"), app)
    at = marks()
    head, meta, binfile = profile_run(tmp_path, str(app), WL)
    assert re.match(r"CPython 3\.11\.\d+: Python frames captured", meta["python_frames"])
    nodes = flamegraph_nodes(binfile)
    assert find(nodes, "make_row", at["make_row"])


@pytest.mark.parametrize("python", [pytest.param(p, id=i) for i, p, _ in INTERPRETERS
                                    if i in ("debian", "3.12", "3.13")])
def test_threads_past_a_subinterpreter_are_found(tmp_path, python):
    require_tracing()
    if not os.access(python, os.X_OK):
        pytest.skip(f"{python} is not on this machine")
    script = ROOT / "tests/workloads/py/pyframes_subinterp.py"
    line = next(i for i, ln in enumerate(script.read_text().splitlines(), 1) if "# at:fill" in ln)
    head, meta, binfile = profile_run(tmp_path, python, script)
    top = subprocess.run([CTL, "inspect", binfile, "--top", "1"], capture_output=True,
                         text=True)
    assert top.returncode == 0, top.stderr
    assert re.fullmatch(rf"fill(\.<locals>\.<listcomp>)? at {script}:{line}",
                        top.stdout.splitlines()[2].strip()), top.stdout


def test_python_frames_through_the_daemon(daemon, tmp_path):
    """The daemon names the frames (it reads the target's memory) and its forked profile
    writer writes them."""
    at = marks()
    out = tmp_path / "out.json"
    e = dict(daemon.env(), PYTHONPATH=str(PYCLIENT))
    e.pop("PYTEST_ADDOPTS", None)
    p = subprocess.run([RUN, "--profile", "all", "--json", str(out), "--", "/usr/bin/python3",
                        str(WL)], capture_output=True, text=True, env=e, timeout=300)
    assert p.returncode == 0, p.stderr + daemon.log_tail()
    meta = next(b for b in json.loads(out.read_text())["benchmarks"]
                if b["name"] == "work")["extra_info"]["benchmem_meta"]
    assert meta["profile"].startswith(str(tmp_path))  # the daemon's profile directory
    assert "Python frames captured" in meta["python_frames"]
    top = subprocess.run([CTL, "inspect", meta["profile"], "--top", "1"], capture_output=True,
                         text=True)
    assert top.returncode == 0, top.stderr
    assert top.stdout.splitlines()[2].strip() == f"compress at {WL}:{at['compress']}"


def test_unknown_interpreter_gets_native_frames_and_a_note(tmp_path):
    require_tracing()
    if not os.access(UNKNOWN, os.X_OK):
        pytest.skip(f"{UNKNOWN} is not on this machine")
    head, meta, binfile = profile_run(tmp_path, UNKNOWN, WL)
    assert re.fullmatch(r"CPython 3\.9 \(.*libpython3\.9.*\): frame layout not supported "
                        r"\(3\.10-3\.13 are\); native frames only", meta["python_frames"])
    stats = memray_stats(binfile)
    assert stats["metadata"]["peak_memory"] == head["peak_bytes"]
    assert stats["total_num_allocations"] == head["allocations"]
    # never a wrong name: no Python frame at all, the native stacks stay
    nodes = flamegraph_nodes(binfile)
    assert not [n for n in nodes if n["file"].endswith(".py")]
    top = subprocess.run([CTL, "inspect", "--json", binfile], capture_output=True, text=True)
    records = json.loads(top.stdout)["records"]
    assert records["frame_push"] == 0 and records["code_object"] == 0
    assert records["native_trace_index"] > 0


def test_a_reused_code_address_never_names_another_function(tmp_path):
    """300 code objects born and freed in a loop (their addresses reused): every allocation
    named is named by its own function, file and line; those kept alive are all named."""
    require_tracing()
    head, meta, binfile = profile_run(tmp_path, "/usr/bin/python3",
                                      ROOT / "tests/workloads/py/pyframes_reuse.py")
    m = re.fullmatch(r"CPython 3\.11\.\d+: Python frames captured(?:; (\d+) allocations with "
                     r"native frames only \(their code objects were gone when read\))?",
                     meta["python_frames"])
    assert m, meta["python_frames"]
    named = {}
    for n in flamegraph_nodes(binfile):
        f = re.fullmatch(r"f(\d+)", n["function"])
        if f:
            i = int(f.group(1))
            assert (n["file"], n["line"]) == (f"gen{i % 7}.py", i + 2), n
            named[i] = named.get(i, 0) + n["value"]
    assert set(range(0, 300, 2)) <= set(named)  # alive when read: every one
    assert all(v >= 3000 + i for i, v in named.items())  # its own bytearray at least
    unnamed = int(m.group(1) or 0)
    assert len(named) + unnamed >= 300


@pytest.mark.parametrize("python,note", [pytest.param(p, n, id=i) for i, p, n in INTERPRETERS])
def test_freed_and_reused_name_strings_never_name_a_frame(tmp_path, python, note):
    """1000 code objects whose file name and name strings die with them, their memory taken
    by the next ones' strings of the same length before the daemon reads them: every frame
    named has its own function's file and line (the walker's check covers the strings, and a
    code object dead when read is not named); those kept alive are all named."""
    require_tracing()
    if not os.access(python, os.X_OK):
        pytest.skip(f"{python} is not on this machine")
    gens = 1000
    _, meta, binfile = profile_run(tmp_path, python,
                                   ROOT / "tests/workloads/py/pyframes_strreuse.py",
                                   args=[str(gens)])
    assert re.match(re.escape(note) + r"\.\d+: Python frames captured", meta["python_frames"])
    named, wrong = set(), []
    for n in flamegraph_nodes(binfile):
        f = re.fullmatch(r"f(\d{5})", n["function"])
        if f:
            k = int(f.group(1))
            ok = (n["file"], n["line"]) == (f"strreuse/g{k:05d}.py", k % 9 + 2 + k % 5)
            if ok:
                named.add(k)
            else:
                wrong.append(n)
        elif n["file"].startswith("strreuse/"):
            wrong.append(n)
    assert not wrong, wrong[:5]
    assert set(range(0, gens, 4)) <= named  # alive when read: every one


def test_a_native_process_has_no_python_note(tmp_path):
    require_tracing()
    prof, out = tmp_path / "prof", tmp_path / "out.json"
    p = subprocess.run([RUN, "--profile", "all", "--profile-dir", str(prof), "--json", str(out),
                        "--", str(BUILD / "workloads/grow"), "2"], capture_output=True,
                       text=True, env=dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "n.sock")),
                       timeout=120)
    assert p.returncode == 0, p.stderr
    meta = json.loads(out.read_text())["benchmarks"][0]["extra_info"]["benchmem_meta"]
    assert "python_frames" not in meta


SUITE = """
import os
import pytest

ROWS = int(os.environ["ROWS"])


def build_table(n):
    table = []
    for i in range(n):
        table.append(bytearray(2048))  # at:build_table
    return table


def test_table(benchmark):
    benchmark(build_table, ROWS)
"""


def test_regressing_benchmark_profile_tops_with_the_allocating_function(tmp_path):
    require_tracing()
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "test_suite.py").write_text(SUITE)
    line = next(i for i, ln in enumerate(SUITE.splitlines(), 1) if "# at:build_table" in ln)
    base, head, prof = tmp_path / "base.json", tmp_path / "head.json", tmp_path / "prof"
    env = dict(os.environ, BENCHMEM_SOCKET=str(tmp_path / "none.sock"))
    env.pop("PYTEST_ADDOPTS", None)
    pytest_args = ["/usr/bin/python3", "-m", "pytest", "-p", "benchmem.pytest_plugin", "-p",
                   "no:cacheprovider", "-q", "--benchmark-disable", "test_suite.py"]

    p = subprocess.run([RUN, "--json", str(base), "--", *pytest_args], cwd=suite,
                       env=dict(env, ROWS="200"), capture_output=True, text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    p = subprocess.run([RUN, "--baseline", str(base), "--fail-on", "peak:10%", "--profile-dir",
                        str(prof), "--json", str(head), "--", *pytest_args], cwd=suite,
                       env=dict(env, ROWS="800"), capture_output=True, text=True, timeout=300)
    assert p.returncode == 1, p.stdout + p.stderr
    assert re.search(r"peak +test_suite\.py::test_table: .* \(\+3\d\d\.\d%\)", p.stderr), p.stderr
    m = re.search(r"profile of test_suite\.py::test_table: (\S+\.bin)", p.stderr)
    assert m, p.stderr
    top = subprocess.run([CTL, "inspect", m.group(1), "--top", "1"], capture_output=True,
                         text=True)
    assert top.returncode == 0, top.stderr
    lines = top.stdout.splitlines()
    # "#1 1.57 MiB at the peak (..%) in 800 blocks": the 800 rows of the regressed pass
    assert re.match(r"  #1 1\.\d\d MiB at the peak \(9\d\.\d%\) in 800 blocks", lines[1]), lines
    assert lines[2].strip() == f"build_table at {suite / 'test_suite.py'}:{line}", lines


FORKED = """
import os, sys, threading
import benchmem
def in_child():
    return [bytearray(5000 + i) for i in range(50)]  # line 5
def main():
    if os.fork() == 0:
        with benchmem.region("work"):
            keep = in_child()
        os._exit(0)
    os.wait()
main()
"""


def test_a_forked_childs_frames_are_named(tmp_path):
    """The daemon reads a child's code objects through the memory it opened at the child's
    fork stop (daemon/procmem.h), not the parent's: a region in the child names its frames."""
    require_tracing()
    script = tmp_path / "forked.py"
    script.write_text(FORKED)
    _, meta, binfile = profile_run(tmp_path, "/usr/bin/python3", script)
    assert "Python frames captured" in meta["python_frames"], meta["python_frames"]
    nodes = [n for n in flamegraph_nodes(binfile) if n["function"] == "in_child"]
    assert nodes and all((n["file"], n["line"]) == (str(script), 5) for n in nodes), nodes
    assert sum(n["value"] for n in nodes) >= sum(5000 + i for i in range(50))

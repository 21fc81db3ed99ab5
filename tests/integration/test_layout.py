# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""The architecture's rules (docs/architecture.md), checked on the source tree: folder
boundaries, no include cycle between modules, no source file over 600 lines."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FOLDERS = ("lib", "daemon", "client", "bpf", "hook")
MAX_LINES = 600
INCLUDE = re.compile(r'^\s*#\s*include\s+"([^"]+)"', re.M)


def sources():
    for folder in FOLDERS:
        for p in sorted((ROOT / folder).rglob("*")):
            if p.suffix in (".c", ".h") and p.is_file():
                yield p


def resolve(src, name):
    """The tree file that `#include "name"` in @src means (same -I order as the Makefile)."""
    for base in (src.parent, ROOT / "bpf", ROOT / "lib", ROOT / "daemon", ROOT / "client",
                 ROOT / "client" / "c"):
        cand = base / name
        if cand.is_file():
            return cand.resolve()
    return None


def module(p):
    """A .c and its .h are one module; a private header with no .c of its own (config_keys.h)
    belongs to the module whose name prefixes it (config)."""
    m = p.relative_to(ROOT).with_suffix("").as_posix().removesuffix(".bpf")
    if p.suffix == ".h" and not p.with_suffix(".c").exists():
        stem = p.stem
        while "_" in stem:
            stem = stem.rsplit("_", 1)[0]
            if (p.parent / f"{stem}.c").exists():
                return (p.parent / stem).relative_to(ROOT).as_posix()
    return m


def include_graph():
    graph = {}
    for p in sources():
        for name in INCLUDE.findall(p.read_text()):
            dst = resolve(p, name)
            if dst is None:
                continue  # generated (skeletons, vmlinux.h)
            a, b = module(p), module(dst)
            if a != b:
                graph.setdefault(a, set()).add(b)
    return graph


def all_code():
    """Every C and Python file we wrote, tests included."""
    yield from sources()
    for folder in ("tests", "client/python", "examples"):
        for p in sorted((ROOT / folder).rglob("*")):
            if p.suffix in (".c", ".h", ".py", ".cc") and p.is_file() and "corpus" not in p.parts:
                yield p


def test_no_source_file_is_over_the_line_cap():
    over = [f"{p.relative_to(ROOT)}: {n}" for p in all_code()
            if (n := len(p.read_text().splitlines())) > MAX_LINES]
    assert over == []


def test_no_include_cycle_between_modules():
    graph = include_graph()
    state, cycles = {}, []

    def visit(m, path):
        state[m] = 1
        for n in sorted(graph.get(m, ())):
            if state.get(n) == 1:
                cycles.append(" -> ".join(path[path.index(n):] + [n]))
            elif n not in state:
                visit(n, path + [n])
        state[m] = 2

    for m in sorted(graph):
        if m not in state:
            visit(m, [m])
    assert cycles == []


def test_lib_includes_nothing_from_daemon_or_client():
    bad = sorted(f"{a} -> {b}" for a, bs in include_graph().items() if a.startswith("lib/")
                 for b in bs if b.startswith(("daemon/", "client/")))
    assert bad == []


def test_client_includes_from_daemon_only_the_collector():
    bad = sorted(f"{a} -> {b}" for a, bs in include_graph().items() if a.startswith("client/")
                 for b in bs if b.startswith("daemon/") and b != "daemon/collector")
    assert bad == []


def test_the_checks_see_the_tree():
    """Guards the checks above against passing vacuously on a moved tree."""
    graph = include_graph()
    assert "daemon/collector" in graph
    assert any(b.startswith("lib/") for b in graph["daemon/collector"]) or \
        any(b.startswith("lib/") for bs in graph.values() for b in bs)
    assert len(list(sources())) > 60

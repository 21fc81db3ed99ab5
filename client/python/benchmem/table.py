# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.table — the terminal tables, pytest-benchmem's layout in plain text.

``combined_lines`` prints pytest-benchmark's timing columns (its grouping, columns, sort, name
format and unit scaling, read from its session) and, after a ``│`` column, the memory
columns; ``split_lines`` prints the memory columns alone. Memory columns follow
pytest-benchmem: one per metric for single-pass benchmarks; with more passes one per stat
(``peak·min (KiB)``, ``peak·mean``, ``peak·max``), the byte unit hoisted into the first header
and anchored on the smallest positive value. With a compare, ``base`` and ``Δ peak`` show the
headline peaks lib/gate matched and computed (benchmem.gate's pairs), not a reduction of ours.
"""

import math
from operator import itemgetter

METRICS = {"peak": ("peak_bytes", True), "allocated": ("total_bytes", True),
           "allocations": ("allocations", False), "rss": ("rss_bytes", True)}
DEFAULT_METRICS = ("peak", "rss")
DEFAULT_STATS = ("min", "mean", "max")
DIVIDER = "│"
CAPTION = "memory (right of │): a separate, untimed pass, not the timed rounds"
_LABELS = {"min": "Min", "max": "Max", "mean": "Mean", "stddev": "StdDev", "rounds": "Rounds",
           "iterations": "Iterations", "iqr": "IQR", "median": "Median",
           "outliers": "Outliers", "ops": "OPS"}
_SCALED = ("min", "max", "mean", "median", "iqr", "stddev")
_STEPS = (("KiB", 1024.0), ("MiB", 1024.0 ** 2), ("GiB", 1024.0 ** 3), ("TiB", 1024.0 ** 4))


def _median(v):
    s, n = sorted(v), len(v)
    return s[n // 2] if n % 2 else (s[n // 2 - 1] + s[n // 2]) / 2


def _stddev(v):
    m = sum(v) / len(v)
    return math.sqrt(sum((x - m) ** 2 for x in v) / len(v))


STATS = {"min": min, "mean": lambda v: sum(v) / len(v), "max": max, "median": _median,
         "stddev": _stddev}


def parse_list(raw, known, what, default):
    """``"peak,allocated"`` -> a tuple in order; ValueError naming the unknown ones."""
    names = [t.strip() for t in str(raw).split(",") if t.strip()] if raw else []
    if not names:
        return default
    bad = [n for n in names if n not in known]
    if bad:
        raise ValueError(f"unknown memory {what}(s): {', '.join(bad)}; "
                         f"choose from {', '.join(known)}")
    return tuple(names)


def byte_unit(values):
    positives = [v for v in values if v > 0]
    anchor = min(positives) if positives else 0.0
    name, factor = "B", 1.0
    for step, f in _STEPS:
        if anchor >= f:
            name, factor = step, f
    return name, factor


def _fmt(value, is_byte, factor):
    if not is_byte:
        return f"{int(value):,}"
    return f"{value:,.0f}" if factor == 1.0 else f"{value / factor:,.2f}"


def mem_columns(blobs, metrics, stats):
    """[(header, cell(blob) -> str)] for these blobs (pytest-benchmem's tables.mem_columns)."""
    cols = []
    for label in metrics:
        key, is_byte = METRICS[label]
        per = [[float(v) for v in (b.get(key) or ()) if v is not None] for b in blobs]
        values = [v for s in per for v in s]
        if not values:
            continue
        unit, factor = byte_unit(values) if is_byte else ("", 1.0)
        if any(len(s) > 1 for s in per):
            for i, stat in enumerate(stats):
                header = f"{label}·{stat}" + (f" ({unit})" if is_byte and i == 0 else "")
                cols.append((header, _spread(key, STATS[stat], is_byte, factor)))
        else:
            header = f"{label} ({unit})" if is_byte else label
            cols.append((header, _spread(key, STATS["min"], is_byte, factor)))
    return cols


def _spread(key, fn, is_byte, factor):
    def cell(b):
        values = [float(v) for v in (b.get(key) or ()) if v is not None]
        return _fmt(fn(values), is_byte, factor) if values else "—"
    return cell


def _layout(title, headers, rows, right, caption):
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        out = [c.rjust(w) if right[i] else c.ljust(w) for i, (c, w) in enumerate(zip(cells, widths))]
        return (" " + "  ".join(out) + " ").rstrip()

    out = ["", " " + title, line(headers), " " + "  ".join("─" * w for w in widths)]
    out += [line(r) for r in rows]
    if caption:
        out.append(" " + caption)
    return out


def _rel(value, best, solo):
    if solo:
        return ""
    if value == best:
        return " (1.0)"
    scale = abs(value / best) if best else float("inf")
    if scale > 1000:
        return " (inf)" if math.isinf(scale) else " (>1000.0)"
    return f" ({scale:.2f})"


def _hint(metrics):
    hidden = [m for m in METRICS if m not in metrics]
    return f"also available via --benchmark-memory-columns: {', '.join(hidden)}" if hidden else None


def combined_lines(groups, columns, sort, name_format, scale_unit, metrics, stats,
                   pairs=None, baseline_label=None):
    """@groups: pytest-benchmark's ``bs.groups`` (flat dicts); the rest as in its session;
    @pairs: {fullname: {"base": headline, "cur": headline}} (benchmem.gate) to compare."""
    out = []
    for group, benchmarks in groups:
        benchmarks = sorted(benchmarks, key=itemgetter(sort))
        solo = len(benchmarks) == 1
        best, worst = {}, {}
        for prop in (*_SCALED, "ops"):
            vals = [b[prop] for b in benchmarks]
            best[prop], worst[prop] = (max(vals), min(vals)) if prop == "ops" else \
                (min(vals), max(vals))
        for prop in ("outliers", "rounds", "iterations"):
            worst[prop] = max(b[prop] for b in benchmarks)
        unit, adj = scale_unit(unit="seconds", benchmarks=benchmarks, best=best, worst=worst,
                               sort=sort)
        ops_unit, ops_adj = scale_unit(unit="operations", benchmarks=benchmarks, best=best,
                                       worst=worst, sort=sort)
        blobs = {b["fullname"]: (b.get("extra_info") or {}).get("benchmem") for b in benchmarks}
        blobs = {k: v for k, v in blobs.items() if isinstance(v, dict)}
        cols = mem_columns(list(blobs.values()), metrics, stats)
        comparing = pairs is not None and bool(cols)
        headers = [f"Name (time in {unit}s)"]
        headers += [f"OPS ({ops_unit}ops/s)" if p == "ops" and ops_unit else _LABELS.get(p, p)
                    for p in columns]
        if cols:
            headers.append(DIVIDER)
            headers += [h for h, _ in cols]
        if comparing:
            base_unit, factor = byte_unit(_peaks(pairs, blobs))
            headers += [f"base ({base_unit})", "Δ peak"]
        rows = []
        for bench in benchmarks:
            row = [name_format(bench)]
            for p in columns:
                if p in _SCALED or p == "ops":
                    v = bench[p]
                    row.append("{0:,.4f}".format(v * (ops_adj if p == "ops" else adj))
                               + _rel(v, best[p], solo))
                else:
                    row.append(str(bench[p]))
            b = blobs.get(bench["fullname"])
            if cols:
                row.append(DIVIDER)
                row += [cell(b) if b else "—" for _, cell in cols]
            if comparing:
                row += _delta_cells(pairs.get(bench["fullname"]), factor)
            rows.append(row)
        caption = None
        if cols:
            parts = [CAPTION, _hint(metrics)]
            if comparing:
                parts.append(f"Δ peak vs {baseline_label or 'baseline'}")
            caption = "  •  ".join(p for p in parts if p)
        title = f"benchmark{'' if group is None else f' {group!r}'}: {len(benchmarks)} tests"
        right = [False] + [True] * (len(headers) - 1)
        out += _layout(title, headers, rows, right, caption)
    return out


def _peaks(pairs, ids):
    """The headline peaks of both sides of the pairs of @ids: what the base unit anchors on."""
    return [float(p[side]["peak_bytes"]) for i in ids if (p := pairs.get(i))
            for side in ("base", "cur")]


def _delta_cells(pair, factor):
    if not pair:
        return ["—", "—"]
    bp, cp = float(pair["base"]["peak_bytes"]), float(pair["cur"]["peak_bytes"])
    if bp <= 0:
        return [_fmt(bp, True, factor), "—"]
    pct = (cp - bp) / bp * 100
    return [_fmt(bp, True, factor), "0.0%" if round(pct, 1) == 0 else f"{pct:+.1f}%"]


def split_lines(blobs, metrics, stats, pairs=None, baseline_label=None):
    """The memory table alone: {id: blob}, heaviest min peak first; @pairs as in
    combined_lines."""
    if not blobs:
        return []
    ids = sorted(blobs, key=lambda i: -min(blobs[i]["peak_bytes"]))
    cols = mem_columns([blobs[i] for i in ids], metrics, stats)
    headers = ["Benchmark", *(h for h, _ in cols)]
    rows = [[i, *(cell(blobs[i]) for _, cell in cols)] for i in ids]
    if pairs is not None:
        _, factor = byte_unit(_peaks(pairs, ids))
        headers += ["base", "change"]
        for r, i in zip(rows, ids):
            r += _delta_cells(pairs.get(i), factor)
    return _layout("Memory", headers, rows, [False] + [True] * (len(headers) - 1),
                   f"vs {baseline_label}" if baseline_label else None)

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.sizes — the size and threshold grammar of ceilings and gates (design.md "Units").

Sizes: an int (bytes) or ``"<digits>[ ]<unit>"`` (no fractions: lib/units.c's grammar) with ``B``, ``KiB``, ``MiB``, ``GiB``
(case-sensitive); counts are bare non-negative integers. Thresholds
(``--benchmark-memory-compare-fail``): ``FIELD:LIMIT`` with FIELD one of peak, allocated,
allocations, rss and LIMIT ``N%``, a size (a bare number for allocations), or ``N%+SIZE``
(growth must pass both). Every error is a ValueError whose text is one line for the user.
"""

import re

UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
# lib/units.c's grammar (via cmp_limit_parse) exactly: blanks anywhere are dropped (C's
# isspace), then ASCII digits and an optional case-sensitive unit; no fractions, no sign.
_BLANKS = str.maketrans("", "", " \t\n\v\f\r")
_SIZE = re.compile(r"([0-9]+)(B|KiB|MiB|GiB)?")
_U64_MAX = (1 << 64) - 1
# metric name -> the blob series it reads
FIELDS = {"peak": "peak_bytes", "allocated": "total_bytes", "allocations": "allocations",
          "rss": "rss_bytes"}


def parse_size(value, what):
    """``"100MiB"`` / ``"5 GiB"`` / int bytes -> int bytes; ValueError otherwise. Strings follow
    lib/units.c's grammar exactly (benchmemctl gate --max-peak accepts the same strings)."""
    if isinstance(value, bool) or value is None:
        raise ValueError(f"{what}: {value!r} is not a size")
    if isinstance(value, int):
        if value < 0:
            raise ValueError(f"{what}: {value} is negative")
        return value
    text = str(value).translate(_BLANKS)
    m = _SIZE.fullmatch(text) if len(text) < 64 else None  # cmp_limit_parse's 64-byte buffer
    if not m:
        raise ValueError(f"{what}: {value!r} is not a size (units B, KiB, MiB, GiB)")
    n = int(m[1]) * UNITS[m[2] or "B"]
    if int(m[1]) > _U64_MAX or n > _U64_MAX:
        raise ValueError(f"{what}: {value!r} is too large")
    return n


def parse_count(value, what):
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what}: {value!r} is not a count (a bare non-negative integer)")
    return value


def format_size(n):
    """IEC with two decimals: ``117.00 MiB``; bytes below 1 KiB print as ``512 B``."""
    for unit in ("GiB", "MiB", "KiB"):
        if n >= UNITS[unit]:
            return f"{n / UNITS[unit]:.2f} {unit}"
    return f"{n} B"


class Threshold:
    """One gate rule: ``field`` grows past ``pct`` percent and/or ``absolute`` base units."""

    def __init__(self, text, field, pct, absolute):
        self.text, self.field, self.pct, self.absolute = text, field, pct, absolute

    def exceeded(self, base, current):
        """Strictly greater growth fails; a zero baseline never trips a percent rule."""
        growth = current - base
        if growth <= 0:
            return False
        if self.pct is not None and (base <= 0 or growth * 100 <= self.pct * base):
            return False
        return self.absolute is None or growth > self.absolute


def parse_threshold(text):
    """``"peak:10%"``, ``"peak:5MiB"``, ``"allocations:5%"``, ``"peak:20%+8MiB"``."""
    field, sep, limit = str(text).partition(":")
    if not sep or field not in FIELDS:
        if field == "time":
            raise ValueError(f"{text!r}: time is pytest-benchmark's --benchmark-compare-fail")
        raise ValueError(f"{text!r} is not FIELD:THRESHOLD with FIELD one of "
                         f"{', '.join(FIELDS)} (e.g. peak:10%)")
    pct = absolute = None
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)%\s*(?:\+(.*))?", limit)
    rest = limit
    if m:
        pct, rest = float(m[1]), m[2]
    if rest is not None and (rest.strip() or not m):
        try:
            if field == "allocations":
                absolute = parse_count(int(rest) if rest.strip().isdigit() else rest, text)
            else:
                absolute = parse_size(rest, text)
        except ValueError:
            raise ValueError(f"{text!r}: {rest!r} is not a percent or a size "
                             "(units B, KiB, MiB, GiB; allocations take a bare number)") from None
    return Threshold(str(text), field, pct, absolute)

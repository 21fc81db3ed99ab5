# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.sizes — the size grammar of the marker's ceilings (design.md "Units").

Sizes: an int (bytes) or ``"<digits>[ ]<unit>"`` (no fractions: lib/units.c's grammar) with
``B``, ``KiB``, ``MiB``, ``GiB`` (case-sensitive); counts are bare non-negative integers. Every
error is a ValueError whose text is one line for the user. The gate's thresholds
(``--benchmark-memory-compare-fail``) are not parsed here: lib/gate parses and judges them
(benchmem.gate).
"""

import re

UNITS = {"B": 1, "KiB": 1 << 10, "MiB": 1 << 20, "GiB": 1 << 30}
# lib/units.c's grammar (via cmp_limit_parse) exactly: blanks anywhere are dropped (C's
# isspace), then ASCII digits and an optional case-sensitive unit; no fractions, no sign.
_BLANKS = str.maketrans("", "", " \t\n\v\f\r")
_SIZE = re.compile(r"([0-9]+)(B|KiB|MiB|GiB)?")
_U64_MAX = (1 << 64) - 1


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

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.sizes — the marker's values: its ceilings take lib/units' grammar (design.md
"Units"), parsed by C (``benchmemctl gate --check --json``, benchmem.gate.limit), so a marker,
``benchmemctl gate --max-peak`` and ``benchmem-run`` accept the same strings with the same
value; its pass counts are bare non-negative integers.

Sizes: an int (bytes) or ``"<digits>[ ]<unit>"`` (no fractions) with ``B``, ``KiB``, ``MiB``,
``GiB`` (case-sensitive); ``max_allocations`` a bare count (an int or its digits). Every error
is a ValueError whose text is one line for the user: ``max_peak: '5MB' is not a size (units:
B, KiB, MiB, GiB)`` is C's reason after the marker keyword. Only what C cannot see is checked
here: a bool or None is not a number.
"""

from benchmem import gate as cgate

_OPTIONS = {"max_peak": "--max-peak", "max_allocated": "--max-allocated",
            "max_allocations": "--max-allocations"}


def parse_limit(kwarg, value, what=None):
    """The marker ceiling @kwarg (``max_peak``, ``max_allocated``, ``max_allocations``) of
    @value as lib/gate parses it: bytes, or a count; ValueError (one line, naming @what,
    default @kwarg) otherwise."""
    what = what or kwarg
    if isinstance(value, bool) or value is None:
        noun = "count" if kwarg == "max_allocations" else "size"
        raise ValueError(f"{what}: {value!r} is not a {noun}")
    try:
        return cgate.limit(_OPTIONS[kwarg], str(value))
    except cgate.GateError as e:
        raise ValueError(f"{what}: {e}") from None


def parse_size(value, what):
    """``"100MiB"`` / ``"5 GiB"`` / int bytes -> int bytes, by lib/units (what ``benchmemctl gate
    --max-peak`` accepts, with the same value); ValueError otherwise."""
    return parse_limit("max_peak", value, what)


def parse_count(value, what):
    """A pass count (repeats, warmup, calls): a bare non-negative int."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"{what}: {value!r} is not a count (a bare non-negative integer)")
    return value

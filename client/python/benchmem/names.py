# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.names — protocol-valid region names for benchmark ids (pytest node ids, ASV names
with their parameter ids, pyperf benchmark names).

A byte outside the protocol's name set becomes ``_``, ".." becomes "._"; ids longer than 128
bytes keep their first 111 bytes plus "-" and 16 hex digits of their sha1 (every byte of that
is in the protocol's set), so two long ids never share a region.
"""

import hashlib
import re

NAME_MAX = 128
_NAME_BAD = re.compile(r"[^A-Za-z0-9._:/\[\]=,+ -]")


def region_name(benchmark_id):
    """The protocol-valid region name for @benchmark_id (see the module docstring)."""
    name = _NAME_BAD.sub("_", benchmark_id).replace("..", "._") or "_"
    if len(name) > NAME_MAX:
        digest = hashlib.sha1(benchmark_id.encode()).hexdigest()[:16]
        name = (name[:NAME_MAX - 17] + "-" + digest).replace("..", "._")
    return name


def param_id(value):
    """pytest's id of one parameter value: scalars as text, anything else as its repr."""
    if value is None or isinstance(value, (bool, int, float, str)):
        return str(value)
    return repr(value)


def scalar_params(pairs):
    """The (name, value) pairs a region's ``params`` may carry (protocol: at most 32 members,
    scalar values, strings of at most 1024 bytes, no NaN), as a dict or None."""
    params = {}
    for key, value in pairs:
        if len(params) == 32 or not 0 < len(key) <= NAME_MAX:
            continue
        if value is None or isinstance(value, (bool, int, float)):
            if isinstance(value, float) and value != value:
                continue  # NaN is not JSON
            params[key] = value
        elif isinstance(value, str) and len(value.encode()) <= 1024:
            params[key] = value
    return params or None

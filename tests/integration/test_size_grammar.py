# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""One size grammar: the pytest plugin's parse_size accepts exactly the strings lib/units.c
accepts (through benchmemctl gate --max-peak, i.e. cmp_limit_parse), with the same value."""
import json
import os
import subprocess
import sys

import pytest

from conftest import BUILD, PYCLIENT

sys.path.insert(0, str(PYCLIENT))
from benchmem.pytest_plugin import parse_size  # noqa: E402

CTL = str(BUILD / "benchmemctl")
INT64_MAX = (1 << 63) - 1

CASES = [
    # valid: bare bytes, each unit, blanks anywhere (dropped, as C's strip_blanks does)
    "0", "4096", "7B", "1KiB", "5MiB", "1GiB", "100MiB", "199 MiB", " 2 KiB ", "1\t0MiB",
    "007MiB", "8589934591GiB", "18446744073709551614",  # UINT64_MAX itself means "none"
    # invalid: case, decimal units, fractions, signs, empties, junk, overflow
    "5mib", "5MB", "5KB", "5 kib", "1.5 GiB", "1.5GiB", ".5MiB", "-5", "+5", "", "   ",
    "MiB", "5 MiB B", "5TiB", "0x10", "1e3", "١٢", "18446744073709551616",
    "17179869184GiB", "0" * 63 + "1", "0" * 64 + "1",
]


def doc(peak):
    return {"benchmarks": [{"fullname": "t.py::test_s", "name": "test_s", "extra_info": {
        "benchmem": {"peak_bytes": [peak], "total_bytes": [peak], "allocations": [1]}}}]}


def c_gate(tmp_path, text, peak):
    base, head = tmp_path / "base.json", tmp_path / "head.json"
    base.write_text(json.dumps(doc(0)))
    head.write_text(json.dumps(doc(peak)))
    r = subprocess.run([CTL, "gate", str(base), str(head), "--max-peak", text],
                       capture_output=True, text=True, env=dict(os.environ, NO_COLOR="1"))
    return r.returncode, r.stderr


def py_parse(text):
    try:
        return parse_size(text, "max_peak")
    except ValueError:
        return None


@pytest.mark.parametrize("text", CASES)
def test_c_and_python_agree(tmp_path, text):
    value = py_parse(text)
    code, err = c_gate(tmp_path, text, 0)
    if value is None:
        assert code == 2 and ("is not a size" in err or "too large" in err
                              or "not a number" in err), (text, code, err)
        return
    assert code == 0, (text, err)          # C accepts it too ...
    if value < INT64_MAX:                  # ... with the same value: V passes, V + 1 trips
        assert c_gate(tmp_path, text, value)[0] == 0, text
        code, err = c_gate(tmp_path, text, value + 1)
        assert code == 1, (text, err)


def test_values():
    assert parse_size("199 MiB", "x") == 199 << 20
    assert parse_size("1\t0MiB", "x") == 10 << 20
    assert parse_size(12, "x") == 12
    assert py_parse("1.5 GiB") is None
    with pytest.raises(ValueError, match="is too large"):
        parse_size("17179869184GiB", "max_peak")

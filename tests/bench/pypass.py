#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/pypass.py — `python3 -c pass` with a bench line: the interpreter's start-up and
exit are the whole work, so its wall time is what a traced run adds to every Python command."""
print("bench=pypass events=0 elapsed_ns=0")

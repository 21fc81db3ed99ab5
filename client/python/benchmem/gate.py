# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.gate — the pytest plugin's way to lib/gate: ``benchmemctl gate`` parses the rules,
matches the ids, computes the headlines and judges; this module only finds the binary, writes
the two sides as pytest-benchmark documents and reads the answer (``gate --json``). It has no
rule of its own, so the plugin, ``benchmem-run --fail-on``, ``benchmemctl gate`` and
``compare --fail-on`` cannot disagree.

benchmemctl is ``$BENCHMEMCTL``, else the one beside ``$BENCHMEM_DAEMON`` (the plugin's private
collector), else on ``PATH``, else ``/usr/bin/benchmemctl``. One subprocess per call.
"""

import json
import os
import shutil
import subprocess
import tempfile

OPTION = "--benchmark-memory-compare-fail"
_PREFIX = "benchmemctl gate: error: "


class GateError(Exception):
    """benchmemctl refused (a bad rule, no data on both sides) or is missing: one line."""


def benchmemctl():
    """The benchmemctl to run; GateError (one line) when there is none."""
    exe = os.environ.get("BENCHMEMCTL")
    if exe:
        if not os.access(exe, os.X_OK):
            raise GateError(f"{exe} (BENCHMEMCTL) is not an executable benchmemctl")
        return exe
    daemon = os.environ.get("BENCHMEM_DAEMON")
    beside = os.path.join(os.path.dirname(daemon), "benchmemctl") if daemon else None
    for exe in (beside, shutil.which("benchmemctl"), "/usr/bin/benchmemctl"):
        if exe and os.access(exe, os.X_OK):
            return exe
    raise GateError("no benchmemctl to judge the memory gate: set BENCHMEMCTL, or put it on "
                    "PATH (the benchmemd package installs /usr/bin/benchmemctl)")


def _gate(args):
    run = subprocess.run([benchmemctl(), "gate", *args], capture_output=True, text=True,
                         env=dict(os.environ, NO_COLOR="1"), timeout=120)
    if run.returncode not in (0, 1):
        lines = run.stderr.strip().splitlines() or [f"exit code {run.returncode}"]
        why = lines[-1]
        raise GateError(why[len(_PREFIX):] if why.startswith(_PREFIX) else why)
    return run


def _fail_on(rules):
    return [a for r in rules for a in ("--fail-on", r)]


def check(rules):
    """Parses @rules (``["peak:10%", ...]``) with lib/gate. GateError with C's one-line reason,
    naming our option: "--benchmark-memory-compare-fail 'heap:10%': unknown field ..."."""
    try:
        _gate(["--check", *_fail_on(rules)])
    except GateError as e:
        text = str(e)
        raise GateError(OPTION + text[len("--fail-on"):] if text.startswith("--fail-on")
                        else text) from None


def _document(blobs):
    return {"benchmarks": [{"fullname": fullname, "name": fullname.split("::")[-1],
                            "extra_info": {"benchmem": blob}}
                           for fullname, blob in blobs.items()]}


class Verdict:
    """``benchmemctl gate --json``'s answer: ``hits`` (dicts: kind, rule, name, fullname, was,
    now, was_text, now_text, change, change_pct, line) and ``pairs`` (fullname, name, and the
    headlines ``base`` and ``cur``), or ``error`` when the gate could not judge."""

    def __init__(self, doc=None, error=None):
        doc = doc or {}
        self.hits, self.pairs, self.error = doc.get("hits", []), doc.get("pairs", []), error

    def __bool__(self):
        """True: the test fails (a hit, or a rule that had nothing to judge)."""
        return bool(self.hits) or self.error is not None

    def reasons(self):
        """The hits in pytest-benchmem's words, from C's parts: "peak +20.0% (1.00 MiB ->
        1.20 MiB) over peak:10%"; or the error."""
        if self.error is not None:
            return [self.error]
        return [f"{h['kind']} {h['change']} ({h['was_text']} -> {h['now_text']}) over "
                f"{h['rule']}" for h in self.hits]

    def lines(self):
        """The hit lines exactly as ``benchmemctl gate`` prints them (without the indent)."""
        return [h["line"] for h in self.hits] if self.error is None else [self.error]


def judge(rules, base, cur, base_label="baseline", cur_label="current"):
    """Gates @cur against @base ({fullname: extra_info.benchmem blob} each) under @rules; no
    rules: only the matching and the headlines. Returns a Verdict; a rule with nothing to
    judge (rss without isolated runs) is a Verdict with ``error``. GateError: no benchmemctl."""
    with tempfile.TemporaryDirectory(prefix="benchmem-gate-") as tmp:
        paths = []
        for label, blobs in ((base_label, base), (cur_label, cur)):
            path = os.path.join(tmp, str(len(paths)), f"{label}.json")
            os.mkdir(os.path.dirname(path))
            with open(path, "w") as f:
                json.dump(_document(blobs), f)
            paths.append(path)
        benchmemctl()  # missing: GateError, not a verdict
        try:
            run = _gate([*paths, "--json", *_fail_on(rules)])
        except GateError as e:
            return Verdict(error=str(e))
    return Verdict(json.loads(run.stdout))


def headline(blob):
    """The headline of one blob as lib/compare computes it: {"peak_bytes", "total_bytes",
    "allocations"[, "rss_bytes"]}. GateError: no benchmemctl."""
    both = {"t": blob}
    verdict = judge([], both, both)
    if verdict.error is not None or not verdict.pairs:
        raise GateError(verdict.error or "benchmemctl gate matched no entry")
    return verdict.pairs[0]["cur"]

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""benchmem.gate — the Python front ends' way to lib/gate and lib/compare: ``benchmemctl gate``
parses the rules and the ceilings, matches the ids, computes the headlines and judges; this
module only finds the binary, writes the sides as pytest-benchmark documents and reads the
answer (``gate --json``, ``gate --check --json``). It has no rule of its own, so the plugin's
``--benchmark-memory-compare-fail`` and marker ceilings, the headlines our result documents
store (benchmem.results: ASV, pyperf), ``benchmem-run --fail-on``, ``benchmemctl gate`` and
``compare --fail-on`` cannot disagree.

benchmemctl is ``$BENCHMEMCTL``, else the one beside ``$BENCHMEM_DAEMON`` (the plugin's private
collector), else the one beside the benchmemd that serves ``$BENCHMEM_SOCKET`` (or the system
socket: its ``/proc/PID/exe``, from the socket's peer credentials; what an ASV benchmark
process, whose environment ASV trims, has), else on ``PATH``, else ``/usr/bin/benchmemctl``.
One subprocess per call (a ceiling's value once per distinct text: ``limit`` is cached).
"""

import functools
import json
import os
import shutil
import socket
import struct
import subprocess
import tempfile

import benchmem

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
    for exe in (daemon, _collector_exe()):
        beside = os.path.join(os.path.dirname(exe), "benchmemctl") if exe else None
        if beside and os.access(beside, os.X_OK):
            return beside
    for exe in (shutil.which("benchmemctl"), "/usr/bin/benchmemctl"):
        if exe and os.access(exe, os.X_OK):
            return exe
    raise GateError("no benchmemctl for the memory gate, ceilings and headlines: set "
                    "BENCHMEMCTL, or put it on PATH (the benchmemd package installs "
                    "/usr/bin/benchmemctl)")


def _collector_exe():
    """The executable of the process listening at benchmem.socket_path() (SO_PEERCRED of a
    connection we close at once, then /proc/PID/exe); None when there is none or it is not
    ours to read (another user's daemon: its benchmemctl is the installed one)."""
    try:
        with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
            s.settimeout(2)
            s.connect(benchmem.socket_path())
            creds = s.getsockopt(socket.SOL_SOCKET, socket.SO_PEERCRED, struct.calcsize("3i"))
        return os.readlink(f"/proc/{struct.unpack('3i', creds)[0]}/exe")
    except OSError:
        return None


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


def _judge(sides, args):
    """``gate --json @args`` over @sides ((label, {fullname: blob}) each, written as documents
    in a temporary directory, in order). Returns a Verdict; GateError: no benchmemctl."""
    with tempfile.TemporaryDirectory(prefix="benchmem-gate-") as tmp:
        paths = []
        for label, blobs in sides:
            path = os.path.join(tmp, str(len(paths)), f"{label}.json")
            os.mkdir(os.path.dirname(path))
            with open(path, "w") as f:
                json.dump(_document(blobs), f)
            paths.append(path)
        benchmemctl()  # missing: GateError, not a verdict
        try:
            run = _gate([*paths, "--json", *args])
        except GateError as e:
            return Verdict(error=str(e))
    return Verdict(json.loads(run.stdout))


def judge(rules, base, cur, base_label="baseline", cur_label="current"):
    """Gates @cur against @base ({fullname: extra_info.benchmem blob} each) under @rules; no
    rules: only the matching and the headlines. Returns a Verdict; a rule with nothing to
    judge (rss without isolated runs) is a Verdict with ``error``. GateError: no benchmemctl."""
    return _judge(((base_label, base), (cur_label, cur)), _fail_on(rules))


@functools.lru_cache(maxsize=256)
def limit(option, text):
    """The value lib/gate parses from ``@option @text`` (``"--max-peak"``, ``"100 MiB"``):
    bytes, or a count for ``--max-allocations``. GateError with C's one-line reason without
    the option ("'5MB' is not a size (units: B, KiB, MiB, GiB)"), or when benchmemctl is
    missing."""
    try:
        run = _gate(["--check", "--json", f"{option}={text}"])
    except GateError as e:
        why = str(e)
        raise GateError(why[len(option) + 2:] if why.startswith(option + ": ") else why) \
            from None
    return json.loads(run.stdout)["ceilings"]["max_" + option[len("--max-"):]]


def ceilings(limits, fullname, blob):
    """lib/gate's ceilings (``{"max_peak": bytes, ...}``, each the worst pass, strictly greater
    fails) over one blob. Returns a Verdict whose hits' ``what`` is C's text ("peak 2.00 MiB
    exceeds max_peak 1.00 MiB"); GateError: no benchmemctl."""
    args = [f"--{kwarg.replace('_', '-')}={value}" for kwarg, value in limits.items()]
    side = ("run", {fullname: blob})
    return _judge((side, side), args)


def headline(blob):
    """The headline of one blob as lib/compare computes it: {"peak_bytes", "total_bytes",
    "allocations"[, "rss_bytes"]}. GateError: no benchmemctl."""
    both = {"t": blob}
    verdict = judge([], both, both)
    if verdict.error is not None or not verdict.pairs:
        raise GateError(verdict.error or "benchmemctl gate matched no entry")
    return verdict.pairs[0]["cur"]

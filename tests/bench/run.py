#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/run.py — the `make bench` driver: workloads native vs under benchmem-run and the
peers (heaptrack, massif, memleak-bpfcc); prints figures (medians, ratios, ns per event), never
pass/fail. Standard library only."""

import argparse
import json
import os
import platform
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
RUN = os.path.join(BUILD, "benchmem-run")
BENCH = os.path.join(BUILD, "bench")
TIMEOUT_S = 600


class Skip(Exception):
    """A measurement that cannot be made here; the message says why."""


def workloads(args):
    """(name, argv, what the added time is divided by: "event" or "fork")."""
    return [
        ("churn", [os.path.join(BENCH, "churn"), str(args.pairs)], "event"),
        ("liveset", [os.path.join(BENCH, "liveset"), str(args.blocks)], "event"),
        ("forker", [os.path.join(BENCH, "forker"), str(args.children)], "fork"),
    ]


def parse_bench_line(text):
    """The workload's own `bench=NAME key=value ...` line as a dict of ints (and the name)."""
    for line in text.splitlines():
        if not line.startswith("bench="):
            continue
        out = {}
        for field in line.split():
            key, _, value = field.partition("=")
            out[key] = int(value) if value.lstrip("-").isdigit() else value
        return out
    return None


def run_once(argv, env=None, timeout=TIMEOUT_S):
    """Runs argv once in its own session; returns the bench line's fields plus wall_ns.
    A run past @timeout has its whole process group killed. Raises Skip on failure."""
    t0 = time.monotonic_ns()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True, env=env, start_new_session=True)
    except OSError as e:
        raise Skip(f"{argv[0]}: {e}") from e
    try:
        out, err = p.communicate(timeout=timeout)
    except subprocess.TimeoutExpired as e:
        kill_group(p)
        raise Skip(f"{os.path.basename(argv[0])} still running after {timeout:g} s "
                   "(killed)") from e
    wall = time.monotonic_ns() - t0
    fields = parse_bench_line(out)
    if p.returncode != 0 or fields is None:
        tail = (err.strip().splitlines() or ["no output"])[-1]
        raise Skip(f"{os.path.basename(argv[0])} exited {p.returncode}: {tail[:160]}")
    fields["wall_ns"] = wall
    return fields


def kill_group(p):
    """SIGKILL to @p's process group. A traced child can take long to die (its tracer closes
    its probes first), and it holds our pipes: wait 30 s at most, then abandon them."""
    try:
        os.killpg(p.pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        p.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        for f in (p.stdout, p.stderr):
            if f:
                f.close()
        print(f"  (pid {p.pid} did not exit 30 s after SIGKILL; left behind)", flush=True)


def median_of(results, key):
    return statistics.median(r[key] for r in results)


def series(argv, runs, env=None):
    """@runs runs after one discarded warm-up run (page cache, CPU frequency)."""
    run_once(argv, env)
    return [run_once(argv, env) for _ in range(runs)]


def read_result_json(path):
    """allocations and lost events from benchmem-run's --json document."""
    with open(path, encoding="utf-8") as f:
        doc = json.load(f)
    extra = doc["benchmarks"][0]["extra_info"]
    allocs = extra["benchmem"]["allocations"]
    lost = extra.get("benchmem_meta", {}).get("lost_events", 0)
    return (allocs[-1] if isinstance(allocs, list) else allocs), lost


def traced_series(argv, runs, timeout):
    """argv under benchmem-run, with the allocations it saw and its lost events per run."""
    if not os.access(RUN, os.X_OK):
        raise Skip(f"{os.path.relpath(RUN, ROOT)} is not built")
    out = []
    with tempfile.TemporaryDirectory(prefix="benchmem-bench-") as tmp:
        for i in range(runs):
            path = os.path.join(tmp, f"r{i}.json")
            r = run_once([RUN, "--json", path, "--", *argv], timeout=timeout)
            try:
                r["seen_allocs"], r["lost"] = read_result_json(path)
            except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
                raise Skip(f"no usable --json result ({type(e).__name__}: {e})") from e
            out.append(r)
    return out


def fmt_ms(ns):
    return f"{ns / 1e6:9.2f} ms"


def print_row(label, tool, res, native, per_unit="event"):
    """One line: medians of the workload's own elapsed and the wall time, the ratio to @native,
    and the added time per @per_unit (ns per allocator event, ms per fork, or nothing)."""
    el, wall = median_of(res, "elapsed_ns"), median_of(res, "wall_ns")
    line = f"  {label:<9} {tool:<15} {fmt_ms(el)}  wall {fmt_ms(wall)}"
    if native is not None:
        nel = median_of(native, "elapsed_ns")
        line += f"  x{el / nel:7.2f}"
        if per_unit == "event" and res[0].get("events"):
            line += f"  {(el - nel) / res[0]['events']:9.1f} ns/event"
        elif per_unit == "fork":
            line += f"  {(el - nel) / res[0].get('children', 1) / 1e6:+9.2f} ms/fork"
    if "lost" in res[0]:
        line += f"  lost {max(r['lost'] for r in res)}"
        line += f"  allocations seen {int(median_of(res, 'seen_allocs'))}"
    print(line, flush=True)


def print_skip(label, tool, why):
    print(f"  {label:<9} {tool:<15} skipped: {why}", flush=True)


def peers(tmp):
    """(tool name, argv prefix builder) for the peers installed here, or a reason."""
    found = []
    if shutil.which("heaptrack"):
        found.append(("heaptrack", lambda i: ["heaptrack", "-o", os.path.join(tmp, f"ht{i}")]))
    else:
        found.append(("heaptrack", "not installed (apt: heaptrack)"))
    if shutil.which("valgrind"):
        found.append(("massif", lambda i: ["valgrind", "-q", "--tool=massif",
                                           f"--massif-out-file={tmp}/massif.{i}.%p"]))
    else:
        found.append(("massif", "valgrind not installed"))
    if shutil.which("memleak-bpfcc"):
        found.append(("memleak-bpfcc", "MEMLEAK"))
    else:
        found.append(("memleak-bpfcc", "not installed (apt: bpfcc-tools; bcc also needs "
                                       "kernel headers for the running kernel)"))
    return found


def memleak_series(argv, runs):
    """memleak-bpfcc -c takes one command string and prints the child's output through."""
    cmd = ["memleak-bpfcc", "-c", " ".join(argv), "10"]
    headers = f"/lib/modules/{platform.release()}/build"
    if not os.path.isdir(headers) and not os.path.exists("/sys/kernel/kheaders.tar.xz"):
        raise Skip(f"bcc compiles its BPF C at run time and finds no kernel headers "
                   f"({headers}, /sys/kernel/kheaders.tar.xz)")
    return series(cmd, runs)


def section_workloads(args, native):
    print("\n== workloads: native vs benchmem-run (medians of "
          f"{args.runs}; elapsed = the workload's own clock)")
    traced = {}
    for name, argv, unit in workloads(args):
        print_row(name, "native", native[name], None, None)
        try:
            traced[name] = traced_series(argv, args.runs, args.timeout)
            print_row(name, "benchmem-run", traced[name], native[name], unit)
        except Skip as e:
            print_skip(name, "benchmem-run", e)
    return traced


def section_peers(args, native):
    print(f"\n== peers (medians of {args.runs}; same workloads)")
    with tempfile.TemporaryDirectory(prefix="benchmem-peers-") as tmp:
        for tool, prefix in peers(tmp):
            for name, argv, unit in workloads(args):
                if isinstance(prefix, str) and prefix != "MEMLEAK":
                    print_skip(name, tool, prefix)
                    continue
                try:
                    if prefix == "MEMLEAK":
                        res = memleak_series(argv, args.runs)
                    else:
                        res = [run_once(prefix(i) + argv) for i in range(args.runs)]
                    print_row(name, tool, res, native[name], unit)
                except Skip as e:
                    print_skip(name, tool, e)


def start_background(argv):
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def stop_background(p):
    """SIGTERM to the group (benchmem-run forwards it to the target), SIGKILL after 10 s."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            kill_group(p)


def under_load(load_argv, probe_argv, runs, settle_s):
    """probe_argv's runs while load_argv runs in the background."""
    load = start_background(load_argv)
    try:
        time.sleep(settle_s)
        if load.poll() is not None:
            raise Skip(f"the background process exited early (status {load.returncode})")
        return series(probe_argv, runs)
    finally:
        stop_background(load)


def section_untraced(args):
    """design.md "Attach scope": what a trace costs a process that is not traced."""
    print("\n== untraced churn while another process is traced (design.md \"Attach scope\")")
    churn = os.path.join(BENCH, "churn")
    argv = [churn, str(args.pairs)]
    forever = [churn, str(args.pairs), "--forever"]
    alone = series(argv, args.runs)
    print_row("churn", "alone", alone, None, None)
    # Two cores: a busy neighbour alone slows churn down; that is the fair baseline.
    try:
        busy = under_load(forever, argv, args.runs, 0.5)
        print_row("churn", "+native load", busy, alone, None)
    except Skip as e:
        print_skip("churn", "+native load", e)
        busy = alone
    if not os.access(RUN, os.X_OK):
        print_skip("churn", "+traced load", f"{os.path.relpath(RUN, ROOT)} is not built")
        return
    try:
        traced = under_load([RUN, "--", *forever], argv, args.runs, args.settle)
        print_row("churn", "+traced load", traced, busy, "event")
        print(f"  slowdown of the untraced process caused by the trace: "
              f"x{median_of(traced, 'elapsed_ns') / median_of(busy, 'elapsed_ns'):.2f}")
    except Skip as e:
        print_skip("churn", "+traced load", e)


def section_forks(args, traced_forker, native_forker):
    print("\n== added time per fork of a traced tree")
    if traced_forker is None:
        print_skip("forker", "benchmem-run", "no traced forker runs (see above)")
        return
    n = args.children
    delta = median_of(traced_forker, "elapsed_ns") - median_of(native_forker, "elapsed_ns")
    wall = median_of(traced_forker, "wall_ns") - median_of(native_forker, "wall_ns")
    print(f"  {n} sequential fork+malloc+exit: {delta / n / 1e6:+.2f} ms per fork "
          f"(workload clock), {wall / n / 1e6:+.2f} ms per fork (wall, includes launch "
          "and teardown)")


def section_probecost(args):
    """tests/bench/probecost: what one probe hit costs, by instruction and probe kind."""
    print("\n== probe cost per hit (tests/bench/probecost; raw perf uprobes, no tracefs)",
          flush=True)
    exe = os.path.join(BENCH, "probecost")
    try:
        p = subprocess.run([exe, "-r", str(max(args.runs, 3))], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True, timeout=TIMEOUT_S, check=False)
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"  skipped: {e}")
        return
    for line in p.stdout.splitlines():
        print(f"  {line}")
    if p.returncode:
        print(f"  probecost exited {p.returncode}")


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--pairs", type=int, default=1000000, help="churn malloc/free pairs")
    ap.add_argument("--blocks", type=int, default=1000000, help="liveset live blocks")
    ap.add_argument("--children", type=int, default=50, help="forker children")
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds to let a traced background process attach")
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds before a traced run counts as hung")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-probecost", action="store_true")
    ap.add_argument("--run", default=RUN, help="the benchmem-run binary to measure")
    return ap.parse_args()


def main():
    global RUN
    args = parse_args()
    RUN = os.path.abspath(args.run)
    print(f"# benchmem bench: kernel {platform.release()}, {os.cpu_count()} cpus, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S')}")
    native = {}
    for name, argv, _ in workloads(args):
        try:
            native[name] = series(argv, args.runs)
        except Skip as e:
            print(f"cannot run the workload {name}: {e} (make all $(BENCHES) first)")
            return 1
    if not args.no_probecost:
        section_probecost(args)
    traced = section_workloads(args, native)
    if not args.no_peers:
        section_peers(args, native)
    section_untraced(args)
    section_forks(args, traced.get("forker"), native["forker"])
    return 0


if __name__ == "__main__":
    sys.exit(main())

#!/usr/bin/python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/run.py — the `make bench` driver: workloads (C churn, C live set, forks, threads,
CPython JSON with pymalloc and with PYTHONMALLOC=malloc, `python3 -c pass`, NumPy) native vs
under benchmem-run --embedded in both probe modes (--probe hook and --probe uprobes) and the
peers (heaptrack, massif, memray for Python, memleak-bpfcc), with ratios to the peers
(ratios.py, docs/hook.md); the cost to an untraced process and per fork;
the daemon's accounting rate without the kernel (evrate) and end to end. Prints figures
(medians, ratios, ns per event) and the issue's targets as met/not met; always exits 0 once
the workloads run. Standard library only."""

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

import bench_pyframes
import bench_pyjson
import bench_scope
import bench_threads
from ratios import section_ratios, section_targets13

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, "build")
RUN = os.path.join(BUILD, "benchmem-run")
BENCH = os.path.join(BUILD, "bench")
TIMEOUT_S = 600


class Skip(Exception):
    """A measurement that cannot be made here; the message says why."""


PY = "/usr/bin/python3"
HERE = os.path.dirname(os.path.abspath(__file__))


def have_numpy():
    try:
        return subprocess.run([PY, "-c", "import numpy"], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL, check=False).returncode == 0
    except OSError:
        return False


def workloads(args):
    """Each: name, argv, unit (what the added time is divided by: "event" or "fork"), env
    (extra environment of the native runs) and flags (extra benchmem-run options). A Python
    workload under --python-malloc is compared with a native run under PYTHONMALLOC=malloc."""
    out = [
        dict(name="churn", argv=[os.path.join(BENCH, "churn"), str(args.pairs)], unit="event"),
        dict(name="liveset", argv=[os.path.join(BENCH, "liveset"), str(args.blocks)],
             unit="event"),
        dict(name="forker", argv=[os.path.join(BENCH, "forker"), str(args.children)],
             unit="fork"),
        dict(name="threader", argv=[os.path.join(BENCH, "threader"), str(args.threads)],
             unit="thread"),
        dict(name="pypass", argv=[PY, os.path.join(HERE, "pypass.py")], unit="wall"),
        dict(name="pyjson", argv=[PY, os.path.join(HERE, "pyjson.py"), str(args.json_iters)],
             unit="event"),
        dict(name="pyjson-m", argv=[PY, os.path.join(HERE, "pyjson.py"), str(args.json_iters)],
             unit="event", env={"PYTHONMALLOC": "malloc"}, flags=["--python-malloc"]),
    ]
    if have_numpy():
        out.append(dict(name="numpy", argv=[PY, os.path.join(HERE, "pynumpy.py"),
                                            str(args.numpy_iters)], unit="event"))
    for w in out:
        w.setdefault("env", {})
        w.setdefault("flags", [])
    return out


def env_with(extra):
    if not extra:
        return None
    env = dict(os.environ)
    env.update(extra)
    return env


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


def traced_series(argv, runs, timeout, flags=(), env=None):
    """argv under benchmem-run (its embedded collector: never a system daemon), with the
    allocations it saw and its lost events per run. One discarded warm-up run."""
    if not os.access(RUN, os.X_OK):
        raise Skip(f"{os.path.relpath(RUN, ROOT)} is not built")
    out = []
    with tempfile.TemporaryDirectory(prefix="benchmem-bench-") as tmp:
        for i in range(runs + 1):
            path = os.path.join(tmp, f"r{i}.json")
            r = run_once([RUN, "--embedded", "--quiet", *flags, "--json", path, "--", *argv],
                         env=env, timeout=timeout)
            try:
                r["seen_allocs"], r["lost"] = read_result_json(path)
            except (OSError, ValueError, KeyError, IndexError, TypeError) as e:
                raise Skip(f"no usable --json result ({type(e).__name__}: {e})") from e
            if i:
                out.append(r)
    return out


def fmt_ms(ns):
    return f"{ns / 1e6:9.2f} ms"


def events_of(res, seen=None):
    """The allocator events of one run: the workload's own count, else (Python) twice the
    allocations the collector saw (each allocation and its free), marked approximate."""
    if res[0].get("events"):
        return res[0]["events"], ""
    if seen:
        return 2 * seen, "~"
    return None, ""


def print_row(label, tool, res, native, per_unit="event", seen=None):
    """One line: medians of the workload's own elapsed and the wall time, the ratio to @native,
    and the added time per @per_unit (ns per allocator event, ms per fork, or nothing).
    @seen: allocations benchmem-run saw, to count events of workloads that do not."""
    el, wall = median_of(res, "elapsed_ns"), median_of(res, "wall_ns")
    line = f"  {label:<9} {tool:<15} {fmt_ms(el)}  wall {fmt_ms(wall)}"
    if native is not None:
        nel = median_of(native, "elapsed_ns")
        line += f"  x{el / nel:7.2f}" if nel else "  (wall only)"
        if per_unit == "event":
            ev, approx = events_of(res, seen or (res[0].get("seen_allocs") and
                                                 int(median_of(res, "seen_allocs"))))
            if ev:
                line += f"  {approx}{(el - nel) / ev:8.1f} ns/event"
            if res[0].get("pairs"):
                line += f"  {(el - nel) / res[0]['pairs']:8.1f} ns/pair"
        elif per_unit == "fork":
            line += f"  {(el - nel) / res[0].get('children', 1) / 1e6:+9.2f} ms/fork"
        elif per_unit == "thread":
            line += f"  {(el - nel) / res[0].get('threads', 1) / 1e3:+9.1f} us/thread"
        elif per_unit == "wall":
            line += f"  {(wall - median_of(native, 'wall_ns')) / 1e9:+7.3f} s wall"
    if "lost" in res[0]:
        line += f"  lost {max(r['lost'] for r in res)}"
        line += f"  allocs seen {int(median_of(res, 'seen_allocs'))}"
    print(line, flush=True)


def print_skip(label, tool, why):
    print(f"  {label:<9} {tool:<15} skipped: {why}", flush=True)


def memleak_reason():
    """Why memleak-bpfcc cannot run here, or None. bcc compiles its BPF C at run time against
    the running kernel's headers (confirmed on 6.18: `memleak-bpfcc -p PID` fails with
    "Unable to find kernel headers ... Failed to compile BPF module")."""
    if not shutil.which("memleak-bpfcc"):
        return "not installed (apt: bpfcc-tools)"
    headers = f"/lib/modules/{platform.release()}/build"
    if not os.path.isdir(headers) and not os.path.exists("/sys/kernel/kheaders.tar.xz"):
        return (f"bcc compiles its BPF C at run time and this kernel has no headers "
                f"({headers} missing, no CONFIG_IKHEADERS): \"Failed to compile BPF module\"")
    return None


def peers(tmp):
    """(tool name, argv prefix builder or "MEMLEAK") for the peers installed here, or a
    reason string."""
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
    why = memleak_reason()
    found.append(("memleak-bpfcc", why if why else "MEMLEAK"))
    return found


def memleak_series(argv, runs, env):
    """memleak-bpfcc -c takes one command string and prints the child's output through."""
    return series(["memleak-bpfcc", "-c", " ".join(argv), "10"], runs, env)


MODES = ("hook", "uprobes")


def section_workloads(args, native, wls):
    """Returns {mode: {workload: runs}} for both probe modes (docs/hook.md)."""
    print("\n== workloads: native vs benchmem-run --embedded --probe hook|uprobes (medians of "
          f"{args.runs}; elapsed = the workload's own clock; ns/event = added time per "
          "allocator call)")
    traced = {m: {} for m in MODES}
    for w in wls:
        name = w["name"]
        print_row(name, "native", native[name], None, None)
        for m in MODES:
            try:
                traced[m][name] = traced_series(w["argv"], args.runs, args.timeout,
                                                w["flags"] + ["--probe", m])
                print_row(name, f"bm {m}", traced[m][name], native[name], w["unit"])
            except Skip as e:
                print_skip(name, f"bm {m}", e)
    print("  (pyjson-m: PYTHONMALLOC=malloc natively, --python-malloc traced; ~ = events "
          "estimated as 2 x allocations seen)")
    return traced


def section_peers(args, native, wls, traced):
    print(f"\n== peers (medians of {args.peer_runs}; same workloads)")
    with tempfile.TemporaryDirectory(prefix="benchmem-peers-") as tmp:
        out = {}
        for tool, prefix in peers(tmp):
            if isinstance(prefix, str) and prefix != "MEMLEAK":
                print_skip("all", tool, prefix)
                continue
            for w in wls:
                name = w["name"]
                if name == "pypass":
                    continue
                env = env_with(w["env"])
                seen = None
                if name in traced:
                    seen = int(median_of(traced[name], "seen_allocs"))
                try:
                    if prefix == "MEMLEAK":
                        res = memleak_series(w["argv"], args.peer_runs, env)
                    else:
                        res = [run_once(prefix(i) + w["argv"], env)
                               for i in range(args.peer_runs)]
                    out[(tool, name)] = res
                    print_row(name, tool, res, native[name], w["unit"], seen)
                except Skip as e:
                    print_skip(name, tool, e)
        return out


def start_background(argv):
    return subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL, start_new_session=True)


def stop_background(p):
    """SIGTERM to the group (benchmem-run forwards it to the target), SIGKILL after 30 s."""
    if p.poll() is None:
        os.killpg(p.pid, signal.SIGTERM)
        try:
            p.wait(timeout=30)
        except subprocess.TimeoutExpired:
            kill_group(p)


def under_load(load_argv, probe_argv, runs, settle_s):
    """probe_argv's runs while load_argv runs in the background."""
    load = start_background(load_argv)
    try:
        time.sleep(settle_s)
        if load.poll() is not None:
            raise Skip(f"the background process exited early (status {load.returncode})")
        res = series(probe_argv, runs)
        if load.poll() is not None:
            raise Skip(f"the background process exited during the runs "
                       f"(status {load.returncode})")
        return res
    finally:
        stop_background(load)


def section_untraced(args):
    """design.md "Attach scope": what a trace costs a process that is not traced."""
    print("\n== untraced churn while another churn is traced (design.md \"Attach scope\"; "
          f"medians of {args.runs})")
    churn = os.path.join(BENCH, "churn")
    # The measured process on CPU 0, every load (target, collector, daemon work) on CPU 1: on
    # 2 cores an unpinned traced load (target + collector) would also steal CPU time, which
    # is not what "who pays for the probes" asks.
    pin = ["taskset", "-c", "0"] if shutil.which("taskset") and os.cpu_count() >= 2 else []
    pin_load = ["taskset", "-c", "1"] if pin else []
    argv = pin + [churn, str(args.pairs)]
    forever = pin_load + [churn, str(args.pairs), "--forever"]
    if pin:
        print("  (measured churn pinned to CPU 0, the loads to CPU 1)")
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
        return None
    try:
        traced = under_load(pin_load + [RUN, "--embedded", "--quiet", "--",
                                        *forever[len(pin_load):]], argv, args.runs, args.settle)
        print_row("churn", "+traced load", traced, busy, "event")
        ratio = median_of(traced, "elapsed_ns") / median_of(busy, "elapsed_ns")
        print(f"  slowdown of the untraced process caused by the trace (default per-process "
              f"attach): x{ratio:.2f}")
        return ratio
    except Skip as e:
        print_skip("churn", "+traced load", e)
        return None


def section_forks(args, traced_forker, native_forker):
    print("\n== added time per fork of a traced tree")
    if traced_forker is None:
        print_skip("forker", "benchmem-run", "no traced forker runs (see above)")
        return None
    n = args.children
    delta = median_of(traced_forker, "elapsed_ns") - median_of(native_forker, "elapsed_ns")
    wall = median_of(traced_forker, "wall_ns") - median_of(native_forker, "wall_ns")
    print(f"  {n} sequential fork+malloc+exit: {delta / n / 1e6:+.2f} ms per fork "
          f"(workload clock), {wall / n / 1e6:+.2f} ms per fork (wall, includes launch "
          "and teardown)")
    return delta / n


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


def section_evrate(args, traced_churn):
    """The daemon's accounting alone (tests/bench/evrate: no kernel), then end to end."""
    print("\n== daemon event rate (tests/bench/evrate: session__on_events in the hook's batches, "
          "live table + 2 open regions, synthetic events, one core)", flush=True)
    exe = os.path.join(BENCH, "evrate")
    fields = None
    try:
        p = subprocess.run([exe, str(args.evrate_events), str(args.evrate_live)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=TIMEOUT_S, check=False)
        for line in p.stdout.splitlines():
            if not line.startswith("bench="):
                print(f"  {line}")
        fields = parse_bench_line(p.stdout)
        if p.returncode or fields is None:
            print(f"  evrate exited {p.returncode}")
            fields = None
    except (OSError, subprocess.TimeoutExpired) as e:
        print(f"  skipped: {e}")
    e2e = None
    if traced_churn:
        allocs = median_of(traced_churn, "seen_allocs")
        wall = median_of(traced_churn, "wall_ns")
        el = median_of(traced_churn, "elapsed_ns")
        lost = max(r["lost"] for r in traced_churn)
        ev = traced_churn[0]["events"]
        e2e = (allocs / (wall / 1e9), ev / (el / 1e9), lost)
        print(f"  end to end (churn under benchmem-run): {allocs:.0f} allocations counted in "
              f"{wall / 1e9:.2f} s wall = {e2e[0] / 1e6:.3f} M allocations/s; "
              f"{ev / (el / 1e9) / 1e6:.3f} M events/s over the workload's own clock; "
              f"lost {lost}")
        print("  (end to end is bounded by the probe traps in the target, not by the daemon)")
    else:
        print("  end to end: no traced churn runs (see above)")
    return fields, e2e


def section_targets(native, traced, peer_res, evrate, e2e, untraced, fork_ns):
    """The issue's targets, reported (not asserted)."""
    print("\n== targets (reported, not asserted)")

    def row(what, value, target, ok):
        verdict = "n/a" if ok is None else ("met" if ok else "NOT met")
        print(f"  {what:<46} {value:<28} target {target:<16} {verdict}")

    if "churn" in traced:
        pair = (median_of(traced["churn"], "elapsed_ns") -
                median_of(native["churn"], "elapsed_ns")) / traced["churn"][0]["pairs"]
        row("malloc+free pair under tracing (churn)", f"{pair / 1000:.2f} us", "<= 2.5 us",
            pair <= 2500)
    else:
        row("malloc+free pair under tracing (churn)", "no traced runs", "<= 2.5 us", None)
    ours = (median_of(traced["churn"], "elapsed_ns") / median_of(native["churn"], "elapsed_ns")
            if "churn" in traced else None)
    ml = peer_res.get(("memleak-bpfcc", "churn"))
    if ours and ml:
        theirs = median_of(ml, "elapsed_ns") / median_of(native["churn"], "elapsed_ns")
        row("slowdown vs memleak-bpfcc (churn)", f"x{ours:.2f} vs x{theirs:.2f}",
            ">= 3x smaller", theirs / ours >= 3)
    else:
        row("slowdown vs memleak-bpfcc (churn)",
            f"x{ours:.2f} vs (memleak cannot run)" if ours else "n/a", ">= 3x smaller", None)
    if evrate:
        rate = evrate["events_per_s"]
        row("daemon accounting rate, one core (evrate)", f"{rate / 1e6:.1f} M events/s",
            ">= 2 M/s", rate >= 2e6)
        bpl = evrate["bytes_per_live_x10"] / 10
        row(f"daemon bytes per live allocation ({evrate['live']} live)", f"{bpl:.1f} B",
            "<= 48 B", bpl <= 48)
    if e2e:
        row("end-to-end collector rate (churn traced)", f"{e2e[1] / 1e6:.3f} M events/s",
            ">= 2 M events/s", e2e[1] >= 2e6)
        row("lost events (churn traced)", str(e2e[2]), "0", e2e[2] == 0)
    lost = {n: max(r["lost"] for r in res) for n, res in traced.items()}
    row("lost events (all traced workloads)", str(sum(lost.values())), "0",
        not any(lost.values()) if lost else None)
    if untraced is not None:
        row("untraced process slowdown during a trace", f"x{untraced:.2f}", "~x1.0",
            untraced <= 1.1)
    if fork_ns is not None:
        row("added time per traced fork", f"{fork_ns / 1e6:+.2f} ms", "(report)", None)


# --only: sections that run without the workloads, and workload groups (the workloads
# section, the peers and the ratios for those workloads only).
SECTIONS_ALONE = {
    "pyjson": lambda a: section_ratios({}, {}, {},
                                       bench_pyjson.section(a, sys.modules[__name__])),
    "probecost": section_probecost,
    "untraced": section_untraced,
    "pyframes": lambda a: bench_pyframes.section(a, sys.modules[__name__]),
    "evrate": lambda a: section_evrate(a, None),
    "threads": lambda a: bench_threads.section(a, sys.modules[__name__]),
}
ONLY_WORKLOADS = {"churn": ("churn", "liveset"), "forks": ("forker", "threader"),
                  "python": ("pypass", "pyjson", "pyjson-m", "numpy")}


def parse_args():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--peer-runs", type=int, default=3, help="runs of each peer")
    ap.add_argument("--pairs", type=int, default=1000000, help="churn malloc/free pairs")
    ap.add_argument("--blocks", type=int, default=1000000, help="liveset live blocks")
    ap.add_argument("--children", type=int, default=50, help="forker children")
    ap.add_argument("--threads", type=int, default=1000, help="threader threads")
    ap.add_argument("--memray", default=os.path.join(BUILD, "venv", "bin", "memray"),
                    help="the memray peer (the project's venv)")
    ap.add_argument("--json-iters", type=int, default=15, help="pyjson dumps/loads rounds")
    ap.add_argument("--numpy-iters", type=int, default=200, help="pynumpy rounds")
    ap.add_argument("--py-allocs", type=int, default=100000, help="pystack allocations")
    ap.add_argument("--py-depth", type=int, default=20, help="pystack Python frames")
    ap.add_argument("--evrate-events", type=int, default=20000000)
    ap.add_argument("--evrate-live", type=int, default=1000000)
    ap.add_argument("--settle", type=float, default=2.0,
                    help="seconds to let a traced background process attach")
    ap.add_argument("--timeout", type=float, default=120,
                    help="seconds before a traced run counts as hung")
    ap.add_argument("--no-peers", action="store_true")
    ap.add_argument("--no-probecost", action="store_true")
    ap.add_argument("--run", default=RUN, help="the benchmem-run binary to measure")
    ap.add_argument("--only", choices=sorted({*SECTIONS_ALONE, *ONLY_WORKLOADS}),
                    help="run one section alone: pyjson (ours vs memray, alternating), a "
                    "workload group (churn, python: native, both probes, peers) or one of the "
                    "sections that need no workloads")
    return ap.parse_args()


def main():
    global RUN
    args = parse_args()
    RUN = os.path.abspath(args.run)
    print(f"# benchmem bench: kernel {platform.release()}, {os.cpu_count()} cpus, "
          f"{time.strftime('%Y-%m-%d %H:%M:%S')}; load average "
          f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    wls = workloads(args)
    if not any(w["name"] == "numpy" for w in wls):
        print("# numpy workload skipped: python3-numpy is not installed (make deps)")
    only = args.only
    if only in SECTIONS_ALONE:
        SECTIONS_ALONE[only](args)
        return 0
    native = {}
    for w in wls:
        if only and w["name"] not in ONLY_WORKLOADS.get(only, (w["name"],)):
            continue
        try:
            native[w["name"]] = series(w["argv"], args.runs, env_with(w["env"]))
        except Skip as e:
            print(f"cannot run the workload {w['name']}: {e} (make all $(BENCHES) first)")
            return 1
    wls = [w for w in wls if w["name"] in native]
    if not only and not args.no_probecost:
        section_probecost(args)
    modes = section_workloads(args, native, wls)
    traced = modes["hook"]
    peer_res = section_peers(args, native, wls, traced) if not args.no_peers else {}
    memray = (bench_pyjson.section(args, sys.modules[__name__])
              if not args.no_peers and "pyjson" in native else {})
    if only:
        section_ratios(native, modes, peer_res, memray)
        return 0
    untraced = section_untraced(args)
    fork_ns = section_forks(args, traced.get("forker"), native["forker"])
    bench_pyframes.section(args, sys.modules[__name__])
    bench_scope.section(args, sys.modules[__name__])
    threads = bench_threads.section(args, sys.modules[__name__])
    evrate, e2e = section_evrate(args, traced.get("churn"))
    section_targets(native, traced, peer_res, evrate, e2e, untraced, fork_ns)
    section_ratios(native, modes, peer_res, memray)
    section_targets13(native, modes, peer_res, memray, threads)
    return 0


if __name__ == "__main__":
    sys.exit(main())

# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/bench_pyframes.py — the `make bench` section on Python frames: what capturing the
Python stack adds to an allocation of a profile pass (run.py passes itself as @h, for its
runners and settings)."""
import json
import os
import shutil
import subprocess
import tempfile


def bpftool(*args):
    p = subprocess.run(["bpftool", "-j", *args], capture_output=True, text=True, timeout=30,
                       check=False)
    return json.loads(p.stdout) if p.returncode == 0 and p.stdout.strip() else None


def traces(prog, pid):
    """Whether BPF program @prog's `traced` map holds @pid: the program is this run's."""
    for mid in prog.get("map_ids", []):
        m = bpftool("map", "show", "id", str(mid))
        if m and m.get("name") == "traced":
            key = [str(b) for b in pid.to_bytes(4, "little")]
            return bpftool("map", "lookup", "id", str(mid), "key", *key) is not None
    return False


def bpf_return_probe_ns(h, argv, env, allocs):
    """ns per run of the program that takes stacks (the return probe, or the hook library's
    site probe in a process that loaded it) of one profiled run of @argv,
    from the kernel's BPF run-time statistics (CPU time inside the program only, so the load
    of a shared machine does not inflate it); None where they cannot be had."""
    def progs():
        return [q for q in bpftool("prog", "show") or []
                if q.get("name") in ("alloc_exit_multi", "hook_site")]

    if not shutil.which("bpftool") or os.geteuid():
        return None
    stats = "/proc/sys/kernel/bpf_stats_enabled"
    before = {q["id"] for q in progs()}  # bpftool here shows no pids: find ours by its map
    with tempfile.TemporaryDirectory(prefix="benchmem-pyframes-") as tmp:
        p = subprocess.Popen([h.RUN, "--embedded", "--quiet", "--profile", "all", "--profile-dir",
                              tmp, "--", *argv], stdin=subprocess.DEVNULL,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                             env=env, start_new_session=True)
        try:
            with open(stats, "w") as f:
                f.write("1")
            p.stdout.readline()  # the bench line: the loop is over, the process holds
            with open(f"/proc/{p.pid}/task/{p.pid}/children", encoding="ascii") as f:
                child = int(f.read().split()[0])
            mine = [q for q in progs() if q["id"] not in before and traces(q, child) and
                    q.get("run_cnt", 0) >= allocs]
        except (OSError, ValueError, IndexError, subprocess.TimeoutExpired):
            mine = []
        finally:
            try:
                with open(stats, "w") as f:
                    f.write("0")
            except OSError:
                pass
            p.communicate(timeout=h.TIMEOUT_S)
    if len(mine) != 1 or mine[0].get("run_cnt", 0) < allocs:
        return None
    return mine[0]["run_time_ns"] / mine[0]["run_cnt"]


def section(args, h):
    """What capturing the Python stack adds to an allocation event of a profile pass: the same
    profiled run with the walker off (BENCHMEM_PYFRAMES=0: native stacks only) and on."""
    argv = [h.PY, os.path.join(h.HERE, "pystack.py"), str(args.py_allocs), str(args.py_depth)]
    print(f"\n== Python frames (tests/bench/pystack.py: bytearray(1024)+free, {args.py_depth} "
          f"Python frames deep, {args.py_allocs} times; medians of {args.runs}; "
          "--profile all = stacks on, as in profile passes only)", flush=True)
    try:
        native = h.series(argv, args.runs)
    except h.Skip as e:
        h.print_skip("pystack", "native", e)
        return None
    h.print_row("pystack", "native", native, None, None)
    res = {}
    with tempfile.TemporaryDirectory(prefix="benchmem-pyframes-") as tmp:
        flags = ["--profile", "all", "--profile-dir", tmp]
        for label, extra in (("no-profile", None), ("native-only", {"BENCHMEM_PYFRAMES": "0"}),
                             ("py-frames", {})):
            try:
                res[label] = h.traced_series(argv, args.runs, args.timeout,
                                           [] if extra is None else flags,
                                           h.env_with(extra) if extra else None)
                h.print_row("pystack", label, res[label], native, "event")
            except h.Skip as e:
                h.print_skip("pystack", label, e)
    if "native-only" in res and "py-frames" in res:
        ev = res["py-frames"][0]["events"]
        add = (h.median_of(res["py-frames"], "elapsed_ns") -
               h.median_of(res["native-only"], "elapsed_ns")) / ev
        print(f"  Python stack capture ({args.py_depth} frames): {add:+.0f} ns per allocator event "
              f"({2 * add:+.0f} ns per allocation, whose free captures nothing)", flush=True)
    print("  return probe, CPU time inside the program per run (BPF run-time statistics):")
    for depth in (2, args.py_depth, 60):
        wl = [h.PY, os.path.join(h.HERE, "pystack.py"), str(args.py_allocs), str(depth), "2"]
        off = bpf_return_probe_ns(h, wl, h.env_with({"BENCHMEM_PYFRAMES": "0"}), args.py_allocs)
        on = bpf_return_probe_ns(h, wl, None, args.py_allocs)
        if off is None or on is None:
            print("    skipped: needs root and bpftool")
            break
        print(f"    {depth:3d} Python frames: native stack only {off:7.0f} ns, with the "
              f"Python stack {on:7.0f} ns: {on - off:+7.0f} ns per allocation "
              f"({(on - off) / (depth + 1):.0f} ns per frame)", flush=True)
    return None

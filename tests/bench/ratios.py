# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/ratios.py — the `make bench` figures of docs/hook.md: each probe mode's added
cost per unit next to the peers' (heaptrack, massif, memray) measured in the same run, as
ratios (hosts differ five-fold in trap cost: only ratios carry over), and issue 13's targets
reported as met or not. Standard library only."""

import statistics


def med(res, key):
    return statistics.median(r[key] for r in res)


def added(res, native, unit, key="elapsed_ns"):
    """Added time per unit (ns): per pair for churn, per child, per thread; the whole
    slowdown ratio for the rest."""
    d = med(res, key) - med(native, key)
    n = res[0].get({"pair": "pairs", "fork": "children", "thread": "threads"}.get(unit, ""), 0)
    return d / n if n else None


def slowdown(res, native):
    return med(res, "elapsed_ns") / max(med(native, "elapsed_ns"), 1)


def section_ratios(native, traced, peers, memray):
    """@traced: {mode: {workload: runs}}; @peers: {(tool, workload): runs}; @memray: {workload:
    (runs, native runs)}. Prints our cost per unit and per peer, and the ratio ours/peer."""
    print("\n== ours vs the peers, same run (added time per unit; ratio = ours / peer, "
          "< 1: cheaper than the peer)")
    units = {"churn": "pair", "forker": "fork", "threader": "thread"}
    for name, unit in units.items():
        if name not in native:
            continue
        peer = {t: added(r, native[name], unit) for (t, w), r in peers.items() if w == name}
        for mode, per in traced.items():
            if name not in per:
                continue
            ours = added(per[name], native[name], unit)
            cells = [f"{t} {p / 1000:8.2f} us  x{ours / p:6.2f}" for t, p in sorted(peer.items())
                     if p and p > 0]
            print(f"  {name:<9} {mode:<8} {ours / 1000:10.2f} us/{unit:<7} " + "  ".join(cells))
    # exact Python accounting: ours under --python-malloc (PYTHONMALLOC=malloc natively too)
    # against memray's --trace-python-allocators on the default interpreter
    for name, (res, nat, alternated) in memray.items():
        theirs = slowdown(res, nat)
        for mode, (ours_res, ours_nat) in python_runs(name, native, traced, alternated):
            ours = slowdown(ours_res, ours_nat)
            print(f"  {name}-m  {mode:<8} slowdown x{ours:6.2f}  memray "
                  f"--trace-python-allocators x{theirs:6.2f}  ratio x{ours / theirs:5.2f}")


def python_runs(name, native, traced, alternated):
    """(mode, (runs, native runs)) of workload @name under --python-malloc: the runs made
    alternately with memray's where there are (bench_pyjson.py), else the workloads
    section's."""
    for mode in dict.fromkeys([*alternated, *traced]):
        if mode in alternated:
            yield mode, alternated[mode]
        elif name + "-m" in traced[mode]:
            yield mode, (traced[mode][name + "-m"], native[name + "-m"])


def section_targets13(native, traced, peers, memray, threads=None):
    """Issue 13's done-when list, for the hook mode (the default where it can run)."""
    print("\n== targets of issue 13 (hook mode; reported, not asserted)")
    hook = traced.get("hook", {})
    threads = threads or {}

    def row(what, value, target, ok):
        verdict = "n/a" if ok is None else ("met" if ok else "NOT met")
        print(f"  {what:<44} {value:<30} {target:<22} {verdict}")

    ht = peers.get(("heaptrack", "churn"))
    if "churn" in hook and ht:
        ours, theirs = (added(hook["churn"], native["churn"], "pair"),
                        added(ht, native["churn"], "pair"))
        row("churn pair vs heaptrack's", f"{ours:.0f} vs {theirs:.0f} ns", "<= heaptrack",
            ours <= theirs)
        row("  (moonshot)", f"x{ours / theirs:.3f} of heaptrack", "<= 1/10", ours * 10 <= theirs)
    else:
        row("churn pair vs heaptrack's", "no heaptrack or no traced churn", "<= heaptrack", None)
    ours = dict(python_runs("pyjson", native, traced, memray["pyjson"][2])) \
        if "pyjson" in memray else {}
    if "hook" in ours:
        ours = slowdown(*ours["hook"])
        theirs = slowdown(*memray["pyjson"][:2])
        row("python json slowdown vs memray", f"x{ours:.2f} vs x{theirs:.2f}", "<= memray's",
            ours <= theirs)
    else:
        row("python json slowdown vs memray", "memray not available", "<= memray's", None)
    if "pypass" in hook:
        d = (med(hook["pypass"], "wall_ns") - med(native["pypass"], "wall_ns")) / 1e9
        row("python3 -c pass added wall time", f"{d:+.3f} s", "<= +0.25 s", d <= 0.25)
    if "forker" in hook:
        el = added(hook["forker"], native["forker"], "fork") / 1e6
        wall = added(hook["forker"], native["forker"], "fork", "wall_ns")
        # the command's wall time per child, without benchmem-run's own start and stop (the
        # added wall time of `python3 -c pass`... of a command that forks nothing)
        fixed = (med(hook["pypass"], "wall_ns") - med(native["pypass"], "wall_ns")
                 if "pypass" in hook else 0)
        wall = (wall * hook["forker"][0]["children"] - fixed) / hook["forker"][0]["children"]
        row("fork: added per child (program / command)", f"{el:+.2f} / {wall / 1e6:+.2f} ms",
            "<= 2 ms both", el <= 2 and wall <= 2e6)
    if "hook" in threads:  # the alternating section (bench_threads.py)
        t, cpu = threads["hook"]
        row("thread create+join added (wall / cpu)", f"{t:+.1f} / {cpu:+.1f} us", "<= 50 us",
            t <= 50)
    elif "threader" in hook:
        t = added(hook["threader"], native["threader"], "thread") / 1000
        cpu = added(hook["threader"], native["threader"], "thread", "cpu_ns") / 1000
        row("thread create+join added (wall / cpu)", f"{t:+.1f} / {cpu:+.1f} us", "<= 50 us",
            t <= 50)
    lost = {m: sum(max(r.get("lost", 0) for r in res) for res in per.values())
            for m, per in traced.items()}
    row("lost events, every traced workload", ", ".join(f"{m} {n}" for m, n in lost.items()),
        "0", not any(lost.values()))

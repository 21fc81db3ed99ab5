# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/bench_threads.py — the `make bench` section on thread create+join (issue 13:
<= 50 us added per thread): the threader workload natively and under both probe modes, the three
runs alternating round by round. Each round's added time is ours minus that round's native run,
so load from other jobs that drifts across the run falls on both sides of one difference;
medians of those differences. Thread creation is a few microseconds of work against scheduler
wake-ups: on a loaded box single runs swing from 10 to 500 ms for the same 500 threads (seen
here), which the workload section's medians of separate series do not cancel. run.py passes
itself as @h, for its runners and settings."""
import os
import statistics
import tempfile

MODES = ("hook", "uprobes")


def section(args, h):
    """{mode: (median added us per thread, median added CPU us per thread)}."""
    argv = [os.path.join(h.BENCH, "threader"), str(args.threads)]
    rounds = max(args.runs, 7)
    print(f"\n== threads: create+join added per thread, native and both probe modes alternating "
          f"({rounds} rounds of {args.threads} threads; medians of each round's difference)",
          flush=True)
    added = {m: [] for m in MODES}
    cpu = {m: [] for m in MODES}
    with tempfile.TemporaryDirectory(prefix="benchmem-threads-") as tmp:
        out = os.path.join(tmp, "r.json")
        try:
            h.run_once(argv)  # warm-up
            for _ in range(rounds):
                nat = h.run_once(argv)
                for m in MODES:
                    r = h.run_once([h.RUN, "--embedded", "--quiet", "--probe", m, "--json", out,
                                    "--", *argv], timeout=args.timeout)
                    added[m].append((r["elapsed_ns"] - nat["elapsed_ns"]) / args.threads / 1e3)
                    cpu[m].append((r["cpu_ns"] - nat["cpu_ns"]) / args.threads / 1e3)
        except h.Skip as e:
            h.print_skip("threader", "alternating", e)
            return {}
    res = {}
    for m in MODES:
        res[m] = (statistics.median(added[m]), statistics.median(cpu[m]))
        spread = f"{min(added[m]):+.1f} .. {max(added[m]):+.1f}"
        print(f"  threader  bm {m:<8} {res[m][0]:+8.1f} us/thread wall ({spread}), "
              f"{res[m][1]:+6.1f} us/thread cpu")
    return res

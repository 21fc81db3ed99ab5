# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""tests/bench/bench_pyjson.py — the `make bench` section on exact Python accounting: the JSON
workload under benchmem-run --python-malloc (--probe hook) against memray run
--trace-python-allocators (issue 13's target), each with its own native baseline (ours:
PYTHONMALLOC=malloc; memray: the default allocator). The four runs alternate round by round,
so load from other jobs on a shared machine falls on all of them alike; medians. run.py passes
itself as @h, for its runners and settings."""
import os
import tempfile


def section(args, h):
    """{"pyjson": (memray runs, native runs, {"hook": (hook runs, native malloc runs)})}, the
    shape ratios.py takes; {} when memray is missing."""
    exe = args.memray
    argv = [h.PY, os.path.join(h.HERE, "pyjson.py"), str(args.json_iters)]
    malloc_env = h.env_with({"PYTHONMALLOC": "malloc"})
    runs = max(args.runs, args.peer_runs)
    print(f"\n== Python json, exact accounting: ours vs memray, alternating (medians of {runs}; "
          "slowdown = elapsed / its native baseline)", flush=True)
    if not os.access(exe, os.X_OK):
        h.print_skip("pyjson", "memray", f"{os.path.relpath(exe, h.ROOT)} missing (make venv)")
        return {}
    res = {k: [] for k in ("native", "native-m", "hook", "memray")}
    with tempfile.TemporaryDirectory(prefix="benchmem-pyjson-") as tmp:
        out = os.path.join(tmp, "r.json")
        try:
            h.run_once(argv, malloc_env)  # warm-up: page cache, CPU frequency
            for i in range(runs):
                res["native"].append(h.run_once(argv))
                res["native-m"].append(h.run_once(argv, malloc_env))
                r = h.run_once([h.RUN, "--embedded", "--quiet", "--python-malloc", "--probe",
                                "hook", "--json", out, "--", *argv], env=malloc_env,
                               timeout=args.timeout)
                r["seen_allocs"], r["lost"] = h.read_result_json(out)
                res["hook"].append(r)
                res["memray"].append(h.run_once([exe, "run", "--trace-python-allocators", "-q",
                                                 "-f", "-o", os.path.join(tmp, f"m{i}.bin")] +
                                                argv[1:]))
        except h.Skip as e:
            h.print_skip("pyjson", "ours/memray", e)
            return {}
    h.print_row("pyjson", "native", res["native"], None, None)
    h.print_row("pyjson-m", "native", res["native-m"], None, None)
    h.print_row("pyjson-m", "bm hook", res["hook"], res["native-m"], "event")
    h.print_row("pyjson", "memray -tpa", res["memray"], res["native"], "event",
                int(h.median_of(res["hook"], "seen_allocs")))
    return {"pyjson": (res["memray"], res["native"], {"hook": (res["hook"], res["native-m"])})}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* bpf/benchmem.bpf.c — the allocator probes. One entry and one return program serve every
 * allocator function: the attach cookie says which row of lib/allocators.h (its argument spec
 * is in the `argspecs` rodata), so a process needs one uprobe_multi link per program and
 * library instead of one perf event per function, and no program knows any function. */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include "benchmem.h"
#include "maps.bpf.h"
#include "pyframes.bpf.h"
#include "track.bpf.h"
#include "hook.bpf.h"

/* Attached through BPF_TRACE_UPROBE_MULTI links (kernel >= 6.6). */
SEC("uprobe")
int BPF_KPROBE(alloc_enter_multi)
{
	return on_entry(ctx, bpf_get_attach_cookie(ctx));
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit_multi)
{
	return on_return(ctx, bpf_get_attach_cookie(ctx));
}

/* The same programs for perf-event uprobes, the fallback on kernels without uprobe_multi. */
SEC("uprobe")
int BPF_KPROBE(alloc_enter)
{
	return on_entry(ctx, bpf_get_attach_cookie(ctx));
}

SEC("uretprobe")
int BPF_KRETPROBE(alloc_exit)
{
	return on_return(ctx, bpf_get_attach_cookie(ctx));
}

/* ---- the in-process hook's probe sites (hook/hook.c, docs/hook.md) ---------------------
 * One link for every process that maps the hook (uprobe_multi, pid 0): only traced
 * processes preload it, so the sites cost untraced ones nothing and need no per-fork attach.
 * The cookie says which site (enum bm_hook_site). */
SEC("uprobe")
int BPF_KPROBE(hook_site)
{
	return bpf_get_attach_cookie(ctx) == BM_HOOK_SITE_BATCH ? hook_batch(ctx) : hook_event(ctx);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";

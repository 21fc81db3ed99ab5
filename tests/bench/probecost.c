// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/bench/probecost.c — what one uprobe hit costs, by probe kind and instruction: raw perf
 * uprobe events (no tracefs), with and without a small BPF program; prints ns per call. */
#include <dlfcn.h>
#include <errno.h>
#include <linux/bpf.h>
#include <linux/perf_event.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "placement.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define PT_REGS_DI    112 /* offsetof(struct pt_regs, di) on x86-64 */

/* Functions in this binary whose first instruction is known: single-stepped, emulated, and
 * the 5-byte nop that 6.18 rewrites into a call to its uprobe trampoline after the first hit. */
void pc_test(void *p);
void pc_push(void *p);
void pc_nop5(void *p);
asm(".text\n"
    ".globl pc_test\n.type pc_test,@function\npc_test:\n\ttest %rdi,%rdi\n\tret\n"
    ".globl pc_push\n.type pc_push,@function\npc_push:\n\tpush %rbp\n\tpop %rbp\n\tret\n"
    ".globl pc_nop5\n.type pc_nop5,@function\npc_nop5:\n\t.byte 0x0f,0x1f,0x44,0x00,0x00\n\tret\n");

enum loop_kind { LOOP_MALLOC_FREE, LOOP_FN };

struct target {
	char path[4096];
	uint64_t file_off; /* of the function's first byte */
};

struct opts {
	long calls; /* per timed run */
	int runs;   /* median over these */
	long native_calls;
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int read_sysfs_int(const char *path, int *out)
{
	FILE *f = fopen(path, "r");
	int ok;

	if (!f)
		return -errno;
	ok = fscanf(f, "%d", out) == 1;
	fclose(f);
	return ok ? 0 : -EINVAL;
}

/* Finds the mapped file and file offset behind @addr in /proc/self/maps. */
static int resolve(const void *addr, struct target *t)
{
	FILE *f = fopen("/proc/self/maps", "r");
	char line[4352];
	int err = -ENOENT;

	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		unsigned long lo, hi, off;
		char path[4096] = "";

		if (sscanf(line, "%lx-%lx %*s %lx %*s %*s %4095s", &lo, &hi, &off, path) < 3)
			continue;
		if ((uintptr_t)addr < lo || (uintptr_t)addr >= hi || path[0] != '/')
			continue;
		snprintf(t->path, sizeof(t->path), "%s", path);
		t->file_off = (uintptr_t)addr - lo + off;
		err = 0;
		break;
	}
	fclose(f);
	return err;
}

static int uprobe_open(int pmu_type, const struct target *t, uint64_t extra_off, bool ret)
{
	struct perf_event_attr attr;
	int fd;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = (uint32_t)pmu_type;
	attr.config = ret ? 1 : 0; /* format/retprobe: config:0 */
	attr.config1 = (uint64_t)(uintptr_t)t->path;
	attr.config2 = t->file_off + extra_off;
	attr.disabled = 1;
	fd = (int)syscall(SYS_perf_event_open, &attr, 0 /* this process */, -1, -1,
			  PERF_FLAG_FD_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

static long sys_bpf(int cmd, union bpf_attr *attr)
{
	return syscall(SYS_bpf, cmd, attr, sizeof(*attr));
}

/* An array map of one {hits, last rdi} pair and a program that counts and records rdi: a map
 * lookup, an atomic add and a store, about what the real probe's is_traced() + pending-map work
 * costs. The recorded rdi proves a moved probe still sees the argument. Returns the prog fd. */
static int load_counter_prog(int *map_fd)
{
	union bpf_attr a;
	int fd;

	memset(&a, 0, sizeof(a));
	a.map_type = BPF_MAP_TYPE_ARRAY;
	a.key_size = 4;
	a.value_size = 16;
	a.max_entries = 1;
	*map_fd = (int)sys_bpf(BPF_MAP_CREATE, &a);
	if (*map_fd < 0)
		return -errno;
	struct bpf_insn insns[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 6, .src_reg = 1 },
		{ .code = BPF_ST | BPF_MEM | BPF_W, .dst_reg = 10, .off = -4, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_X, .dst_reg = 2, .src_reg = 10 },
		{ .code = BPF_ALU64 | BPF_ADD | BPF_K, .dst_reg = 2, .imm = -4 },
		{ .code = BPF_LD | BPF_DW | BPF_IMM,
		  .dst_reg = 1,
		  .src_reg = BPF_PSEUDO_MAP_FD,
		  .imm = *map_fd },
		{ 0 },
		{ .code = BPF_JMP | BPF_CALL, .imm = BPF_FUNC_map_lookup_elem },
		{ .code = BPF_JMP | BPF_JEQ | BPF_K, .dst_reg = 0, .off = 4, .imm = 0 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 1, .imm = 1 },
		{ .code = BPF_STX | BPF_ATOMIC | BPF_DW,
		  .dst_reg = 0,
		  .src_reg = 1,
		  .imm = BPF_ADD },
		{ .code = BPF_LDX | BPF_MEM | BPF_DW,
		  .dst_reg = 1,
		  .src_reg = 6,
		  .off = PT_REGS_DI },
		{ .code = BPF_STX | BPF_MEM | BPF_DW, .dst_reg = 0, .src_reg = 1, .off = 8 },
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = 0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	memset(&a, 0, sizeof(a));
	a.prog_type = BPF_PROG_TYPE_KPROBE;
	a.insns = (uint64_t)(uintptr_t)insns;
	a.insn_cnt = ARRAY_SIZE(insns);
	a.license = (uint64_t)(uintptr_t) "GPL";
	fd = (int)sys_bpf(BPF_PROG_LOAD, &a);
	return fd < 0 ? -errno : fd;
}

/* @slot 0: hits; 1: rdi at the last hit. */
static uint64_t map_value(int map_fd, int slot)
{
	union bpf_attr a;
	uint32_t key = 0;
	uint64_t v[2] = { 0, 0 };

	memset(&a, 0, sizeof(a));
	a.map_fd = (uint32_t)map_fd;
	a.key = (uint64_t)(uintptr_t)&key;
	a.value = (uint64_t)(uintptr_t)v;
	if (sys_bpf(BPF_MAP_LOOKUP_ELEM, &a))
		return 0;
	return v[slot];
}

static void *volatile sink;

/* Times @calls iterations; returns ns per iteration. */
static double time_loop(enum loop_kind k, void (*fn)(void *), long calls)
{
	uint64_t t0 = now_ns();

	for (long i = 0; i < calls; i++) {
		if (k == LOOP_MALLOC_FREE) {
			void *p = malloc(64);

			sink = p;
			free(p);
		} else {
			fn(sink);
		}
	}
	return (double)(now_ns() - t0) / (double)calls;
}

/* Insertion sort: glibc's qsort() ends with a free(NULL), which would be the probe's last hit. */
static void sort_doubles(double *v, int n)
{
	for (int i = 1; i < n; i++) {
		double x = v[i];
		int j = i;

		for (; j > 0 && v[j - 1] > x; j--)
			v[j] = v[j - 1];
		v[j] = x;
	}
}

static double median_ns(enum loop_kind k, void (*fn)(void *), long calls, int runs)
{
	double v[32];

	if (runs > (int)ARRAY_SIZE(v))
		runs = ARRAY_SIZE(v);
	time_loop(k, fn,
		  calls / 10 + 1); /* warm up; 6.18 optimizes a nop5 probe on its first hit */
	for (int i = 0; i < runs; i++)
		v[i] = time_loop(k, fn, calls);
	sort_doubles(v, runs);
	return v[runs / 2];
}

/* The functions probed, as indexes into env.t[]. */
enum { T_FREE, T_MALLOC, T_TEST, T_PUSH, T_NOP5, NR_TARGETS };

struct probe_spec {
	int target;  /* T_* */
	bool placed; /* at free's placement_choose() offset instead of 0 */
	bool ret;
};

struct bench_case {
	const char *name;
	enum loop_kind k;
	void (*fn)(void *);
	struct probe_spec p[2];
	int nr_probes;
	enum { RDI_ANY, RDI_PTR, RDI_64 } rdi; /* what rdi held at the last hit */
};

struct env {
	int pmu_type;
	int prog_fd; /* <0: BPF could not be loaded, perf-only runs */
	int map_fd;
	struct opts o;
	struct target t[NR_TARGETS];
	uint32_t free_off; /* placement_choose() for free */
	double base_mf;	   /* ns per unprobed malloc+free pair */
	double base_fn;	   /* ns per unprobed asm function call */
};

static const struct bench_case cases[] = {
	{ "free @0 (test %rdi: single-stepped)",
	  LOOP_MALLOC_FREE,
	  NULL,
	  { { T_FREE, false, false } },
	  1,
	  RDI_PTR },
	{ "free @placement_choose()",
	  LOOP_MALLOC_FREE,
	  NULL,
	  { { T_FREE, true, false } },
	  1,
	  RDI_PTR },
	{ "malloc @0 (push %r12: emulated)",
	  LOOP_MALLOC_FREE,
	  NULL,
	  { { T_MALLOC, false, false } },
	  1,
	  RDI_64 },
	{ "malloc uretprobe", LOOP_MALLOC_FREE, NULL, { { T_MALLOC, false, true } }, 1, RDI_ANY },
	{ "malloc entry + uretprobe (one breakpoint)",
	  LOOP_MALLOC_FREE,
	  NULL,
	  { { T_MALLOC, false, false }, { T_MALLOC, false, true } },
	  2,
	  RDI_ANY },
	{ "asm fn: test %rdi (single-stepped)",
	  LOOP_FN,
	  pc_test,
	  { { T_TEST, false, false } },
	  1,
	  RDI_PTR },
	{ "asm fn: push %rbp (emulated)",
	  LOOP_FN,
	  pc_push,
	  { { T_PUSH, false, false } },
	  1,
	  RDI_PTR },
	{ "asm fn: nopl 5 bytes (6.18: optimized)",
	  LOOP_FN,
	  pc_nop5,
	  { { T_NOP5, false, false } },
	  1,
	  RDI_PTR },
};

static void close_all(int *fds, int n)
{
	for (int i = 0; i < n; i++) {
		if (fds[i] >= 0)
			close(fds[i]);
	}
}

/* Opens, optionally attaches BPF, enables the case's probes; returns 0 or -errno. */
static int arm(const struct env *e, const struct bench_case *c, bool with_bpf, int *fds)
{
	for (int i = 0; i < c->nr_probes; i++)
		fds[i] = -1;
	for (int i = 0; i < c->nr_probes; i++) {
		const struct probe_spec *ps = &c->p[i];

		fds[i] = uprobe_open(e->pmu_type, &e->t[ps->target], ps->placed ? e->free_off : 0,
				     ps->ret);
		if (fds[i] < 0)
			return fds[i];
		if (with_bpf && ioctl(fds[i], PERF_EVENT_IOC_SET_BPF, e->prog_fd))
			return -errno;
		if (ioctl(fds[i], PERF_EVENT_IOC_ENABLE, 0))
			return -errno;
	}
	return 0;
}

static uint64_t hits(const struct env *e, bool with_bpf, const int *fds, int n)
{
	uint64_t sum = 0, v;

	if (with_bpf)
		return map_value(e->map_fd, 0);
	for (int i = 0; i < n; i++) {
		if (read(fds[i], &v, sizeof(v)) == (ssize_t)sizeof(v))
			sum += v;
	}
	return sum;
}

static const char *rdi_verdict(const struct bench_case *c, bool with_bpf, uint64_t rdi)
{
	if (!with_bpf || c->rdi == RDI_ANY)
		return "";
	if (c->rdi == RDI_64)
		return rdi == 64 ? "  rdi ok" : "  rdi WRONG";
	return rdi == (uintptr_t)sink ? "  rdi ok" : "  rdi WRONG";
}

/* Runs one case; prints ns per iteration, the excess over @base and hits per iteration. */
static void run_case(const struct env *e, const struct bench_case *c, bool with_bpf, double base)
{
	long iters = e->o.calls / 10 + 1 + e->o.calls * e->o.runs;
	uint64_t h0 = with_bpf ? map_value(e->map_fd, 0) : 0;
	uint64_t rdi;
	int fds[2], err;
	double ns;

	err = arm(e, c, with_bpf, fds);
	if (err) {
		printf("%-44s %-9s skipped: %s\n", c->name, with_bpf ? "perf+bpf" : "perf",
		       strerror(-err));
		close_all(fds, c->nr_probes);
		return;
	}
	ns = median_ns(c->k, c->fn, e->o.calls, e->o.runs);
	rdi = with_bpf ? map_value(e->map_fd, 1) : 0;
	printf("%-44s %-9s %9.1f ns/iter  %+9.1f ns  hits/iter %.2f%s\n", c->name,
	       with_bpf ? "perf+bpf" : "perf", ns, ns - base,
	       (double)(hits(e, with_bpf, fds, c->nr_probes) - h0) / (double)iters,
	       rdi_verdict(c, with_bpf, rdi));
	fflush(stdout);
	close_all(fds, c->nr_probes);
}

static int parse_opts(int argc, char **argv, struct opts *o)
{
	int c;

	o->calls = 20000;
	o->runs = 7;
	o->native_calls = 2000000;
	while ((c = getopt(argc, argv, "n:r:")) != -1) {
		if (c == 'n')
			o->calls = strtol(optarg, NULL, 10);
		else if (c == 'r')
			o->runs = (int)strtol(optarg, NULL, 10);
		else
			return -EINVAL;
	}
	if (o->calls < 100 || o->runs < 1 || o->runs > 32)
		return -EINVAL;
	return 0;
}

/* Where placement_choose() puts free's entry probe (free's program reads only rdi). */
static uint32_t free_placement(void)
{
	struct placement p;
	uint8_t code[64];

	memcpy(code, (const void *)(uintptr_t)free, sizeof(code));
	if (placement_choose(code, sizeof(code), PLACEMENT_RDI, false, false, &p))
		return 0;
	printf("# placement for free: +%u (%u-byte insn, %s): %s\n", p.offset, p.insn_len,
	       p.emulated ? "emulated" : "single-stepped", p.why);
	return p.offset;
}

static int setup(struct env *e)
{
	static void (*const fns[NR_TARGETS])(void) = {
		[T_FREE] = (void (*)(void))free,    [T_MALLOC] = (void (*)(void))malloc,
		[T_TEST] = (void (*)(void))pc_test, [T_PUSH] = (void (*)(void))pc_push,
		[T_NOP5] = (void (*)(void))pc_nop5,
	};
	int err = read_sysfs_int("/sys/bus/event_source/devices/uprobe/type", &e->pmu_type);

	if (err) {
		fprintf(stderr, "probecost: no uprobe PMU: %s\n", strerror(-err));
		return err;
	}
	for (int i = 0; i < NR_TARGETS; i++) {
		err = resolve((const void *)(uintptr_t)fns[i], &e->t[i]);
		if (err) {
			fprintf(stderr, "probecost: cannot resolve a function: %s\n",
				strerror(-err));
			return err;
		}
	}
	e->prog_fd = load_counter_prog(&e->map_fd);
	if (e->prog_fd < 0)
		printf("# BPF program not loaded (%s): perf-only runs\n", strerror(-e->prog_fd));
	return 0;
}

int main(int argc, char **argv)
{
	static struct env e = { .prog_fd = -1, .map_fd = -1 };

	if (parse_opts(argc, argv, &e.o)) {
		fprintf(stderr, "usage: probecost [-n calls-per-run] [-r runs]\n");
		return 2;
	}
	if (setup(&e))
		return 1;
	e.free_off = free_placement();
	printf("# %ld calls per run, median of %d runs; +ns = cost over the unprobed loop\n",
	       e.o.calls, e.o.runs);
	e.base_mf = median_ns(LOOP_MALLOC_FREE, NULL, e.o.native_calls, e.o.runs);
	e.base_fn = median_ns(LOOP_FN, pc_test, e.o.native_calls, e.o.runs);
	printf("%-44s %-9s %9.1f ns/iter\n", "malloc(64)+free, no probe", "native", e.base_mf);
	printf("%-44s %-9s %9.1f ns/iter\n", "asm fn call, no probe", "native", e.base_fn);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		double base = cases[i].k == LOOP_MALLOC_FREE ? e.base_mf : e.base_fn;

		run_case(&e, &cases[i], false, base);
		if (e.prog_fd >= 0)
			run_case(&e, &cases[i], true, base);
	}
	return 0;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* hook/hook.c — libbenchmem-hook.so: benchmem-run preloads it into the commands it launches.
 * Its malloc-family and mmap/munmap wrappers call the real functions and record each call in
 * a process-wide ring of fixed-size records (struct bm_hook_rec); a full batch goes to the
 * collector through a probe site, a 5-byte nop that kernel 6.18 turns into a call instead of
 * a trap. The design and its measurements: docs/hook.md. */
#include <dlfcn.h>
#include <malloc.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/single_threaded.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "allocators.h"
#include "benchmem.h"
#include "hook.h"

#define RING_RECS   (BM_HOOK_NCHUNK * BM_HOOK_CHUNK)
#define EXPORT	    __attribute__((visibility("default")))
#define likely(x)   __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
/* A daemon that takes no batch for this long is gone. */
#define STALL_NS 2000000000ULL
/* A collector that traces us says so within this time after our hello. */
#define CONFIRM_NS 500000000ULL

/* The probe sites: tables of BM_HOOK_GENS sites (a 5-byte nop, a return, padding), each
 * table a symbol of its own so the daemon finds its file offset in .dynsym. "protected":
 * our own references bind locally. */
#define SITE_TABLE(name)                                                                           \
	".globl " name "\n.protected " name "\n.type " name ",@function\n.p2align 3\n" name        \
	":\n.rept 32\n\t.byte 0x0f,0x1f,0x44,0x00,0x00\n\tret\n\t.byte 0xcc,0xcc\n.endr\n"         \
	".size " name ",.-" name "\n"
__asm__(".text\n" SITE_TABLE("bm_hook_site_event") SITE_TABLE("bm_hook_site_batch"));
_Static_assert(BM_HOOK_GENS == 32 && BM_HOOK_SITE_STRIDE == 8, "SITE_TABLE's .rept and stride");

extern const char bm_hook_site_event[], bm_hook_site_batch[];
typedef void site_event_fn(uint64_t kind_func, uint64_t addr, uint64_t size);
typedef void site_batch_fn(const struct bm_hook_rec *first, uint64_t seq, uint64_t nr);

/* This process's fork generation: which site of each table it calls. */
static unsigned gen;

static inline void site_event(uint64_t kind_func, uint64_t addr, uint64_t size)
{
	((site_event_fn *)(uintptr_t)(bm_hook_site_event + gen * BM_HOOK_SITE_STRIDE))(kind_func,
										       addr, size);
}

static inline void site_batch(const struct bm_hook_rec *first, uint64_t seq, uint64_t nr)
{
	((site_batch_fn *)(uintptr_t)(bm_hook_site_batch + gen * BM_HOOK_SITE_STRIDE))(first, seq,
										       nr);
}

/* The process's hook state. A preloaded library has one instance per process by
 * construction; this is the state the daemon reads (the address travels in the hello). */
EXPORT struct bm_hook_ctl bm_hook_ctl
	__attribute__((aligned(64))) = { .magic = BM_HOOK_MAGIC, .on = 1 };
static struct bm_hook_rec ring[RING_RECS] __attribute__((aligned(64)));
static struct hook_real real;

const struct hook_real *hook_real(void)
{
	return &real;
}
static int ready;

/* Initial-exec TLS: no allocation, no __tls_get_addr. depth > 0 inside a wrapper: the
 * allocator's own nested calls (reallocarray calling realloc) are not the program's. */
static __thread int depth __attribute__((tls_model("initial-exec")));
static __thread uint32_t my_tid __attribute__((tls_model("initial-exec")));

static inline uint32_t tid(void)
{
	if (unlikely(!my_tid))
		my_tid = (uint32_t)syscall(SYS_gettid);
	return my_tid;
}

static void pause_ns(long ns)
{
	struct timespec ts = { 0, ns };

	syscall(SYS_nanosleep, &ts, NULL);
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline struct bm_hook_rec *slot(uint64_t seq)
{
	return &ring[(seq - 1) % RING_RECS];
}

/* Waits until every record of batch @b (seqs b*CHUNK+1 .. +@nr) is complete. A process with
 * one thread wrote them all itself. */
static void wait_complete(uint64_t b, uint64_t nr)
{
	uint64_t first = b * BM_HOOK_CHUNK + 1, t0 = 0;

	if (__libc_single_threaded)
		return;
	for (uint64_t s = first; s < first + nr; s++) {
		while (__atomic_load_n(&slot(s)->seq, __ATOMIC_ACQUIRE) != s) {
			/* a thread killed between reserving and completing: give up after 1 s,
			 * the daemon counts the hole as lost */
			if (!t0)
				t0 = now_ns();
			else if (now_ns() - t0 > 1000000000ULL)
				return;
			pause_ns(1000);
		}
	}
}

/* Whether a collector traces this process: it says so at our hello (it wakes up for it).
 * Another collector may probe our sites for its own processes without tracing us: then
 * nobody would ever take our batches. Waited for once, CONFIRM_NS at most. */
static int confirmed(void)
{
	for (uint64_t t0 = now_ns();;) {
		if (__atomic_load_n(&bm_hook_ctl.confirmed, __ATOMIC_ACQUIRE))
			return 1;
		if (now_ns() - t0 > CONFIRM_NS)
			return 0;
		pause_ns(100000);
	}
}

/* Hands @nr records of batch @b to the probe, once fewer than BM_HOOK_WINDOW batches wait
 * in the ring buffer: a program faster than the daemon waits for it instead of losing
 * events. A daemon that stops consuming (gone, or this process untraced) turns recording
 * off after a while rather than stalling the program for ever. */
static void hand_over(uint64_t b, uint64_t nr)
{
	uint64_t first = b * BM_HOOK_CHUNK + 1, t0 = 0;

	if (!confirmed()) {
		__atomic_store_n(&bm_hook_ctl.on, 0, __ATOMIC_RELAXED);
		__atomic_fetch_add(&bm_hook_ctl.dropped, nr, __ATOMIC_RELAXED);
		return;
	}
	while (b >= __atomic_load_n(&bm_hook_ctl.consumed, __ATOMIC_ACQUIRE) + BM_HOOK_WINDOW) {
		if (!t0) {
			t0 = now_ns();
		} else if (now_ns() - t0 > STALL_NS) {
			__atomic_store_n(&bm_hook_ctl.on, 0, __ATOMIC_RELAXED);
			__atomic_fetch_add(&bm_hook_ctl.dropped, nr, __ATOMIC_RELAXED);
			return;
		}
		pause_ns(20000);
	}
	site_batch(slot(first), first, nr);
}

/* Batch @b is full: hand it over in order (batch b-1 first), then free its slots. */
static void flush(uint64_t b)
{
	while (__atomic_load_n(&bm_hook_ctl.flushed, __ATOMIC_ACQUIRE) != b)
		pause_ns(1000);
	wait_complete(b, BM_HOOK_CHUNK);
	hand_over(b, BM_HOOK_CHUNK);
	__atomic_store_n(&bm_hook_ctl.flushed, b + 1, __ATOMIC_RELEASE);
}

static inline void put(uint16_t kind, uint16_t func, uint64_t addr, uint64_t size, uint64_t seq)
{
	struct bm_hook_rec *r = slot(seq);

	r->addr = addr;
	r->size = size;
	r->tid = tid();
	r->kind = kind;
	r->func = func;
	__atomic_store_n(&r->seq, seq, __ATOMIC_RELEASE);
	if (unlikely(seq % BM_HOOK_CHUNK == 0))
		flush(seq / BM_HOOK_CHUNK - 1);
}

/* A seq (the event's place in the process's order) and a free slot for it. */
static inline uint64_t reserve(void)
{
	uint64_t seq, b;

	/* one thread (glibc says so until the first pthread_create): no locked instruction */
	if (__libc_single_threaded)
		seq = ++bm_hook_ctl.reserved;
	else
		seq = __atomic_add_fetch(&bm_hook_ctl.reserved, 1, __ATOMIC_RELAXED);
	b = (seq - 1) / BM_HOOK_CHUNK;

	while (unlikely(b >=
			__atomic_load_n(&bm_hook_ctl.flushed, __ATOMIC_ACQUIRE) + BM_HOOK_NCHUNK))
		pause_ns(1000);
	return seq;
}

static inline int recording(void)
{
	return likely(ready) && __atomic_load_n(&bm_hook_ctl.on, __ATOMIC_RELAXED) && depth == 1;
}

static inline void record(uint16_t kind, uint16_t func, uint64_t addr, uint64_t size)
{
	if (bm_hook_ctl.per_call)
		site_event(kind | (uint64_t)func << 16, addr, size);
	else
		put(kind, func, addr, size, reserve());
}

/* ---- set-up ------------------------------------------------------------------------- */

/* dlsym may allocate before the real functions are known: those few blocks come from here
 * and are never freed. */
static char boot_arena[16384] __attribute__((aligned(64)));
static size_t boot_used;

static void *boot_alloc(size_t size, size_t align)
{
	size_t at = (boot_used + align - 1) & ~(align - 1);

	if (size > sizeof(boot_arena) || at > sizeof(boot_arena) - size)
		return NULL;
	boot_used = at + size;
	return boot_arena + at;
}

static int is_boot(const void *p)
{
	return (const char *)p >= boot_arena && (const char *)p < boot_arena + sizeof(boot_arena);
}

/* Tells the collector where the control block is. Without a probe on the sites (no
 * collector) the hook records nothing. A probe shows in our own code: the kernel has
 * replaced the site's nop with a breakpoint or a call in this process's copy of the page. */
static void hello(void)
{
	bm_hook_ctl.pid = (uint32_t)syscall(SYS_getpid);
	if (*(volatile const uint8_t *)(bm_hook_site_batch + gen * BM_HOOK_SITE_STRIDE) == 0x0f)
		bm_hook_ctl.on = 0;
	site_event(BM_EV_HOOK_HELLO, (uint64_t)(uintptr_t)&bm_hook_ctl,
		   (uint64_t)syscall(SYS_getppid));
}

/* A fork by a thread other than the main one: ptrace does not follow the hook's threads,
 * so the collector learns of the child from its hello and seizes it then. */
static __thread int forking_from_thread __attribute__((tls_model("initial-exec")));

static void before_fork(void)
{
	forking_from_thread = syscall(SYS_gettid) != syscall(SYS_getpid);
}

/* Whether a tracer has seized us (TracerPid in @status: /proc/self/status for the process,
 * /proc/thread-self/status for this thread), read with raw syscalls: no allocation in a
 * child that may be between fork and exec. */
static int traced_now(const char *status)
{
	char buf[2048], *t;
	long fd = syscall(SYS_open, status, O_RDONLY | O_CLOEXEC), n;

	if (fd < 0)
		return 1; /* cannot tell: do not wait */
	n = syscall(SYS_read, fd, buf, sizeof(buf) - 1);
	syscall(SYS_close, fd);
	if (n <= 0)
		return 1;
	buf[n] = '\0';
	t = strstr(buf, "TracerPid:");
	return !t || strtol(t + 10, NULL, 10) != 0;
}

/* The child of a thread's fork waits (1 s at most) until the collector follows it, so its
 * exit cannot come before: its last records are read at its exit stop. A thread about to
 * exec waits the same way, so that the exec stops. */
static void wait_until_followed(const char *status)
{
	for (int i = 0; i < 20000 && !traced_now(status); i++)
		pause_ns(50000);
}

/* In a forked child: the ring holds the parent's records; start an empty one. */
static void after_fork_child(void)
{
	my_tid = 0;
	memset(ring, 0, sizeof(ring));
	bm_hook_ctl.reserved = 0;
	bm_hook_ctl.flushed = 0;
	bm_hook_ctl.consumed = 0;
	bm_hook_ctl.dropped = 0;
	bm_hook_ctl.confirmed = 0;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	/* past the last generation no site is safe to call: record nothing (docs/hook.md) */
	if (++gen == BM_HOOK_GENS) {
		gen = 0;
		bm_hook_ctl.on = 0;
		bm_hook_ctl.pid = 0;
		ready = 0;
		return;
	}
	hello();
	if (forking_from_thread && bm_hook_ctl.on)
		wait_until_followed("/proc/self/status");
}

static void init(void)
{
	static int busy;
	const char *t;

	if (ready || busy)
		return;
	busy = 1;
	hook_real_resolve(&real);
	bm_hook_ctl.ring = (uint64_t)(uintptr_t)ring;
	/* BPF copies batches without faulting pages in: every page of the ring is present */
	memset(ring, 0, sizeof(ring));
	t = getenv("BENCHMEM_HOOK_TRANSPORT");
	bm_hook_ctl.per_call = t && !strcmp(t, "call");
	pthread_atfork(before_fork, NULL, after_fork_child);
	hello();
	ready = 1;
}

__attribute__((constructor)) static void hook_ctor(void)
{
	init();
}

/* Before the image goes: a partial batch is handed over, since the daemon can no longer
 * read it once exec has replaced the memory. A vfork child shares its parent's ring and
 * must leave it alone. */
static void hand_over_partial(void)
{
	uint64_t r = __atomic_load_n(&bm_hook_ctl.reserved, __ATOMIC_ACQUIRE), b;

	if (!ready || bm_hook_ctl.per_call || !r || bm_hook_ctl.pid != syscall(SYS_getpid))
		return;
	b = (r - 1) / BM_HOOK_CHUNK;
	while (__atomic_load_n(&bm_hook_ctl.flushed, __ATOMIC_ACQUIRE) < b)
		pause_ns(1000);
	if (__atomic_load_n(&bm_hook_ctl.flushed, __ATOMIC_ACQUIRE) > b)
		return;
	wait_complete(b, r - b * BM_HOOK_CHUNK);
	hand_over(b, r - b * BM_HOOK_CHUNK);
}

/* ptrace reports an exec only to the tracer of the thread that execs, and the collector
 * follows a hook process's main thread only: another thread asks to be followed first. */
void hook_before_exec(void)
{
	hand_over_partial();
	if (ready && bm_hook_ctl.pid == syscall(SYS_getpid) &&
	    syscall(SYS_gettid) != bm_hook_ctl.pid &&
	    __atomic_load_n(&bm_hook_ctl.confirmed, __ATOMIC_ACQUIRE)) {
		site_event(BM_EV_HOOK_EXEC, 0, 0);
		wait_until_followed("/proc/thread-self/status");
	}
}

/* ---- the wrappers ------------------------------------------------------------------- */

#define ENTER()                                                                                    \
	do {                                                                                       \
		if (unlikely(!ready))                                                              \
			init();                                                                    \
		depth++;                                                                           \
	} while (0)
#define LEAVE() depth--

EXPORT void *malloc(size_t size)
{
	void *p;

	if (unlikely(!real.malloc) && (init(), !real.malloc))
		return boot_alloc(size, 16);
	ENTER();
	p = real.malloc(size);
	if (p && recording())
		record(BM_EV_ALLOC, BM_FN_MALLOC, (uint64_t)(uintptr_t)p, size);
	LEAVE();
	return p;
}

EXPORT void free(void *p)
{
	if (!p || is_boot(p))
		return;
	ENTER();
	/* before the real free, so no other thread can get the block back first */
	if (recording())
		record(BM_EV_FREE, BM_FN_FREE, (uint64_t)(uintptr_t)p, 0);
	real.free(p);
	LEAVE();
}

EXPORT void *calloc(size_t n, size_t size)
{
	void *p;

	if (unlikely(!real.calloc) && (init(), !real.calloc)) {
		p = boot_alloc(n * size, 16);
		return p ? memset(p, 0, n * size) : NULL;
	}
	ENTER();
	p = real.calloc(n, size);
	if (p && recording())
		record(BM_EV_ALLOC, BM_FN_CALLOC, (uint64_t)(uintptr_t)p, n * size);
	LEAVE();
	return p;
}

/* realloc is a free of the old block and an allocation of the new one. The free takes its
 * place in the order before the real call (another thread may get the old address back as
 * soon as it returns), and is completed afterwards: nothing if the call failed. @n * @each
 * bytes are asked for (reallocarray's two factors; realloc: 1 * size). */
static void *resize(void *old, size_t n, size_t each, uint16_t func)
{
	int boot = is_boot(old), rec = old && !boot && recording();
	int per_call = bm_hook_ctl.per_call;
	uint64_t seq = rec && !per_call ? reserve() : 0, size = (uint64_t)n * each;
	void *src = boot ? NULL : old;
	void *p = func == BM_FN_REALLOC ? real.realloc(src, size) : real.reallocarray(src, n, each);
	/* glibc's realloc(p, 0) frees p and returns NULL; any other NULL left p alone */
	int freed = p || size == 0;

	if (rec && per_call && freed)
		site_event(BM_EV_FREE | (uint64_t)func << 16, (uint64_t)(uintptr_t)old, 0);
	else if (seq)
		put(freed ? BM_EV_FREE : 0, func, (uint64_t)(uintptr_t)old, 0, seq);
	if (p && boot)
		memcpy(p, old, size < sizeof(boot_arena) ? size : sizeof(boot_arena));
	if (p && recording())
		record(BM_EV_ALLOC, func, (uint64_t)(uintptr_t)p, size);
	return p;
}

EXPORT void *realloc(void *old, size_t size)
{
	void *p;

	if (unlikely(!real.realloc) && (init(), !real.realloc))
		return boot_alloc(size, 16);
	ENTER();
	p = resize(old, 1, size, BM_FN_REALLOC);
	LEAVE();
	return p;
}

EXPORT void *reallocarray(void *old, size_t n, size_t size)
{
	void *p;

	ENTER();
	p = resize(old, n, size, BM_FN_REALLOCARRAY);
	LEAVE();
	return p;
}

EXPORT int posix_memalign(void **out, size_t align, size_t size)
{
	int e;

	ENTER();
	e = real.posix_memalign(out, align, size);
	if (!e && recording())
		record(BM_EV_ALLOC, BM_FN_POSIX_MEMALIGN, (uint64_t)(uintptr_t)*out, size);
	LEAVE();
	return e;
}

#define ALIGNED_WRAPPER(name, fn_id, call, size_arg, ...)                                          \
	EXPORT void *name(__VA_ARGS__)                                                             \
	{                                                                                          \
		void *p;                                                                           \
                                                                                                   \
		ENTER();                                                                           \
		p = call;                                                                          \
		if (p && recording())                                                              \
			record(BM_EV_ALLOC, fn_id, (uint64_t)(uintptr_t)p, size_arg);              \
		LEAVE();                                                                           \
		return p;                                                                          \
	}

ALIGNED_WRAPPER(aligned_alloc, BM_FN_ALIGNED_ALLOC, real.aligned_alloc(align, size), size,
		size_t align, size_t size)
ALIGNED_WRAPPER(memalign, BM_FN_MEMALIGN, real.memalign(align, size), size, size_t align,
		size_t size)
ALIGNED_WRAPPER(valloc, BM_FN_VALLOC, real.valloc(size), size, size_t size)
ALIGNED_WRAPPER(pvalloc, BM_FN_PVALLOC, real.pvalloc(size), size, size_t size)

EXPORT void *mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	if (unlikely(!real.mmap))
		return (void *)syscall(SYS_mmap, addr, len, prot, flags, fd, off);
	ENTER();
	p = real.mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && (flags & MAP_ANONYMOUS) && recording())
		record(BM_EV_ALLOC, BM_FN_MMAP, (uint64_t)(uintptr_t)p, len);
	LEAVE();
	return p;
}

EXPORT void *mmap64(void *addr, size_t len, int prot, int flags, int fd, off_t off)
	__attribute__((alias("mmap")));

EXPORT int munmap(void *addr, size_t len)
{
	int e;

	if (unlikely(!real.munmap) && (init(), !real.munmap))
		return (int)syscall(SYS_munmap, addr, len); /* dlsym's own, during set-up */
	ENTER();
	if (recording())
		record(BM_EV_MUNMAP, BM_FN_MUNMAP, (uint64_t)(uintptr_t)addr, len);
	e = real.munmap(addr, len);
	LEAVE();
	return e;
}

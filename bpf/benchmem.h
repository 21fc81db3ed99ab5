/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpf/benchmem.h — records that cross from bpf/ to daemon/ (the ABI). Nothing else goes here. */
#ifndef BENCHMEM_H
#define BENCHMEM_H

#ifndef __VMLINUX_H__ /* the BPF side gets __u64 & co. from vmlinux.h */
#include <linux/types.h>
#endif

enum bm_event_kind {
	BM_EV_ALLOC = 1,  /* addr/size valid: a block came to life (func says which call) */
	BM_EV_FREE,	  /* addr valid: a block died; its size is in the daemon's table */
	BM_EV_MUNMAP,	  /* addr/size valid: a range of anonymous mappings died */
	BM_EV_HOOK_HELLO, /* the hook library started in tgid: addr = its struct bm_hook_ctl,
			     size = the parent's tgid */
	BM_EV_HOOK_EXEC,  /* thread tid, not tgid's main one, is about to exec: follow it */
};

/*
 * How the generic probes read one allocator entry point (a row of lib/allocators.h): user
 * space fills the `argspecs` rodata array, indexed by row id, before load; the attach cookie
 * of every probe carries the row id. Argument numbers are 1-based, 0 = none.
 */
#define BM_ROWS_MAX 32 /* power of two: the BPF side masks the row id with BM_ROWS_MAX - 1 */

#define BM_AS_RETURN	  0x01u /* stash at entry, emit BM_EV_ALLOC at return */
#define BM_AS_EMIT_FREE	  0x02u /* emit BM_EV_FREE of `addr` at entry (NULL: nothing) */
#define BM_AS_EMIT_MUNMAP 0x04u /* emit BM_EV_MUNMAP of `addr`, `size` at entry */
#define BM_AS_STATUS	  0x08u /* returns 0 on success; the block is stored through `out` */
#define BM_AS_ANON_ONLY	  0x10u /* mmap: only MAP_ANONYMOUS mappings (flags are argument 4) */
#define BM_AS_INSIDE	  0x20u /* skip calls made from the function's own segment (cookie) */
#define BM_AS_FAIL_NEG1	  0x40u /* (void *)-1 is the failure value (MAP_FAILED) */

struct bm_argspec {
	__u8 size;  /* argument with the size in bytes */
	__u8 nmemb; /* argument multiplied into the size (calloc, reallocarray) */
	__u8 addr;  /* argument with the block freed or resized */
	__u8 out;   /* argument pointing to where the new block's address is stored */
	__u8 flags; /* BM_AS_* */
	__u8 __pad[3];
};

/*
 * The attach cookie of every probe. Bits 0-7: the row id. For rows with BM_AS_INSIDE the
 * daemon also stores where the probed function sits in its executable segment, so the
 * BPF side can tell a call made from inside that object (glibc mapping a thread stack or
 * a large malloc chunk) from a call made by the program: bits 8-35 the function's offset
 * from the segment start, bits 36-63 the segment's size (both < 256 MiB).
 */
#define BM_COOKIE_FUNC(c)    ((__u32)((c)&0xff))
#define BM_COOKIE_FN_OFF(c)  (((c) >> 8) & 0xfffffffULL)
#define BM_COOKIE_SEG_LEN(c) ((c) >> 36)
#define BM_COOKIE_FIELD_MAX  0xfffffffULL

#define BM_RINGBUF_BYTES (16u << 20)  /* power of two, page multiple */
#define BM_WAKEUP_BYTES	 (256u << 10) /* pending bytes that wake the daemon (1/64 of the ring) */
#define BM_DRAIN_MS	 20	      /* the daemon drains at least this often */
#define BM_MAX_TRACED	 8192	      /* traced processes (tgids) at once */
#define BM_MAX_PENDING	 16384	      /* threads inside an allocator call at once */
#define BM_STACK_DEPTH	 64	      /* user frames kept per stack */
#define BM_MAX_STACKS	 16384	      /* distinct stacks in one session's stack map, at most */
#define BM_STACK_SLOTS	 4096	      /* stack maps at once: one per profiled session */

struct bm_event {
	__u64 ts_ns;	/* bpf_ktime_get_ns(), ns */
	__u64 addr;	/* user address of the block or mapping */
	__u64 size;	/* requested bytes; 0 for FREE */
	__u32 tgid;	/* process, tgid */
	__u32 tid;	/* thread, tid */
	__s32 stack_id; /* id in the session's stack store (bpf/maps.bpf.h); <0: no stack
			 * (-1 capture off; with capture on, -ENOMEM when the session's store
			 * is full, -ENOENT when the session has none or the stack is empty):
			 * a lost stack */
	__u16 kind;	/* enum bm_event_kind */
	__u16 func;	/* row id (lib/allocators.h): which entry point produced the event */
	__u64 py_stack; /* key of the Python stack in the `pystacks` map; 0: none */
};
_Static_assert(sizeof(struct bm_event) == 48, "bm_event is the bpf/daemon ABI");
_Static_assert(__builtin_offsetof(struct bm_event, stack_id) == 32, "bm_event layout");

/*
 * Python frames (bpf/pyframes.bpf.h walks them, daemon/pystacks.c names them). The daemon
 * puts a bm_pyconf in the `pyconf` map for each traced process that runs a CPython it knows
 * (daemon/pyoffsets.c); allocation events of such a process in a profiled session carry the
 * key of their Python stack, kept (deduplicated) in the `pystacks` map.
 */
#define BM_PY_DEPTH	 64	     /* Python frames kept per stack, the innermost ones */
#define BM_PY_THREADS	 64	     /* thread states searched for the allocating thread */
#define BM_PY_INTERPS	 4	     /* interpreters searched (the main one is the oldest, last) */
#define BM_PY_MAX_STACKS 8192	     /* distinct Python stacks in the map (LRU) */
#define BM_PY_OFF_NONE	 0xffff	     /* "no such field" in bm_pyconf */
#define BM_PY_ENTRY	 0x80000000u /* bm_pyframe.check: the frame starts an eval loop */

enum bm_py_flavor {
	BM_PY_FRAMEOBJ = 1, /* <= 3.10: PyFrameObject chain, f_lasti in code units */
	BM_PY_IFRAME,	    /* >= 3.11: _PyInterpreterFrame chain, an instruction pointer */
};

/* Where things are in one CPython build; offsets in bytes from the struct's start. */
struct bm_pyconf {
	__u64 interp_head;  /* address of _PyRuntime.interpreters.head */
	__u16 threads_head; /* PyInterpreterState: first PyThreadState */
	__u16 ts_next;	    /* PyThreadState: next */
	__u16 ts_tid;	    /* PyThreadState: native_thread_id (or thread_id, see tid_is_pthread) */
	__u16 ts_frame;	    /* PyThreadState: cframe, current_frame or frame */
	__u16 cframe_frame; /* _PyCFrame: current_frame; BM_PY_OFF_NONE: ts_frame is the frame */
	__u16 fr_previous;  /* frame: caller */
	__u16 fr_code;	    /* frame: code object (f_code, f_executable) */
	__u16 fr_instr;	    /* frame: prev_instr/instr_ptr (IFRAME), int f_lasti (FRAMEOBJ) */
	__u16 fr_owner;	    /* frame: owner byte; BM_PY_OFF_NONE before 3.12 */
	__u16 fr_entry;	    /* frame: is_entry byte (3.11); BM_PY_OFF_NONE otherwise */
	__u16 co_code;	    /* code object: first instruction (co_code_adaptive) */
	__u16 co_firstlineno, co_filename, co_name; /* code object: what identifies it */
	__u8 flavor;				    /* enum bm_py_flavor */
	__u8 tid_is_pthread; /* ts_tid holds pthread_self() (the fs base), not the kernel tid */
	__u8 owner_cstack;   /* owner value of the C-stack shim frames (3.12+), else 0xff */
	__u8 __pad;
	__u16 interp_next; /* PyInterpreterState: next (an older interpreter) */
	/* PyASCIIObject (a code object's filename and name): length, cached hash, state bit
	 * field; where the data of a compact ASCII string and of other compact strings start */
	__u16 str_length, str_hash, str_state, str_ascii, str_compact;
};

struct bm_pyframe {
	__u64 code;  /* code object address */
	__s32 lasti; /* code units from the code's first instruction to the current one; <0: none */
	__u32 check; /* BM_PY_ENTRY | 31-bit mix of firstlineno, the filename and name pointers
		      * and what the two str objects hold (bm_py_str_id), read with the frame:
		      * the daemon re-reads and compares (freed objects, addresses reused) */
};

/* The hash step of Python stack keys and frame checks: both sides compute it. */
static inline __u64 bm_py_mix(__u64 h, __u64 v)
{
	h ^= v + 0x9e3779b97f4a7c15ull + (h << 6) + (h >> 2);
	return h * 0xff51afd7ed558ccdull;
}

/* What a str's id (below) takes: the last BM_PY_STR_TAIL bytes of an unhashed str's data; the
 * walker reads the first BM_PY_STR_READ bytes of the object at once: through state
 * (BM_PY_STR_HDR), and the data of a str of up to BM_PY_STR_HEAD bytes (it starts at most 72
 * bytes in); the state bits a live str keeps (kind, compact, ascii); ob_type's offset in any
 * object; the hash of a str not hashed yet. */
#define BM_PY_STR_TAIL	 64
#define BM_PY_STR_READ	 128
#define BM_PY_STR_HDR	 40
#define BM_PY_STR_HEAD	 56
#define BM_PY_STR_STABLE 0x7cu
#define BM_PY_OB_TYPE	 8
#define BM_PY_STR_NOHASH ((__u64)-1)

/*
 * What identifies a str object besides its address: its type, length and kind, and its cached
 * hash (a hash of all its data) or, while it has none (Python hashes a str lazily, and most
 * file names and many qualified names are never hashed), its last BM_PY_STR_TAIL bytes of data
 * (@tail: zero past the data). A freed str whose memory another str of the same length took
 * differs in one or the other. The daemon, which may see the hash computed since, tries both.
 */
static inline __u64 bm_py_str_id(__u64 type, __u64 length, __u32 state, __u64 hash,
				 const __u8 *tail)
{
	__u64 h = bm_py_mix(bm_py_mix(type, length), state & BM_PY_STR_STABLE), w;

	if (hash != BM_PY_STR_NOHASH)
		return bm_py_mix(h, hash);
	for (int i = 0; i < BM_PY_STR_TAIL / 8; i++) {
		__builtin_memcpy(&w, tail + 8 * i, 8);
		h = bm_py_mix(h, w);
	}
	return bm_py_mix(h, 1);
}

/* bm_pyframe.check without the entry bit: what identifies a code object besides its address
 * (@filename_id, @name_id: bm_py_str_id() of the two str objects). The mix step's multiply
 * carries a difference only upwards: the high half is folded into the 31 bits kept, or two
 * file names that differ only in their 3rd to 8th last bytes would check alike. */
static inline __u32 bm_py_check(__u32 firstlineno, __u64 filename, __u64 name, __u64 filename_id,
				__u64 name_id)
{
	__u64 h = bm_py_mix(bm_py_mix(firstlineno, filename), name);

	h = bm_py_mix(bm_py_mix(h, filename_id), name_id);
	h ^= h >> 29;
	h *= 0xbf58476d1ce4e5b9ull;
	h ^= h >> 32;
	return (__u32)h & ~BM_PY_ENTRY;
}

struct bm_pystack {
	__u32 depth;	 /* frames in f[], innermost first */
	__u32 truncated; /* the chain went on past BM_PY_DEPTH */
	struct bm_pyframe f[BM_PY_DEPTH];
};

/* Value of the `traced` map: per-process tracing flags, set by the daemon. */
#define BM_TRACE_ON	1u /* the process is traced */
#define BM_TRACE_STACKS 2u /* record the user stack of every allocation (profiles) */
/* Bits 8-31 of the value: the session's slot in `stack_maps`, the stack map its allocations'
 * stacks go to: one session's stacks never fill another's map. */
#define BM_TRACE_SLOT_SHIFT 8

/* Index of the per-CPU counters in the `drops` map, read by the daemon. */
enum bm_counter {
	BM_CNT_RINGBUF_FULL = 0, /* events lost because the ring buffer was full */
	BM_CNT_PENDING_FULL,	 /* calls lost because the pending map was full */
	BM_CNT_MAX,
};

/* ---- the in-process hook (hook/, docs/hook.md) ------------------------------------------ */
/* A process that preloads libbenchmem-hook.so keeps its events in one ring of
 * BM_HOOK_NCHUNK batches of BM_HOOK_CHUNK records. Each record has a process-wide sequence
 * number (the order of the calls); a full batch is handed to BPF at a probe site (a 5-byte
 * nop) and copied into the hook_batches ring buffer; the daemon reads a partial batch from
 * the process's memory at region boundaries, forks and exits. */
/* 1024 records a batch: the hand-over (a uprobe entry, a ring-buffer record: 1-1.5 us here,
 * besides the copy) is paid per batch; the ring is 128 KiB of the process's memory. */
#define BM_HOOK_CHUNK  1024
#define BM_HOOK_NCHUNK 4
#define BM_HOOK_WINDOW 64 /* batches a process may have in the ring buffer, not yet consumed */
/* batches pending that wake the daemon (a wake-up per batch would preempt the program):
 * well inside the window */
#define BM_HOOK_WAKEUP 8
#define BM_HOOK_MAGIC  0x6b6f6f686d656d62ULL /* "bmemhook" */

/* Each site kind is a table of BM_HOOK_GENS sites, BM_HOOK_SITE_STRIDE bytes apart (from the
 * symbols bm_hook_site_event and bm_hook_site_batch). Kernel 6.18 turns a nop that was hit
 * into a call to a trampoline page that a forked child does not inherit, so a child calling
 * a site its parent used would crash: each fork generation uses the next site, still a
 * plain breakpoint in the child. */
#define BM_HOOK_GENS	    32
#define BM_HOOK_SITE_STRIDE 8

/* Attach cookies of the hook's probe sites. */
enum bm_hook_site {
	BM_HOOK_SITE_EVENT = 1, /* one event per call: rdi = kind | func << 16, rsi = addr,
				   rdx = size (transport "call") */
	BM_HOOK_SITE_BATCH,	/* rdi = first record, rsi = its seq, rdx = records */
};

struct bm_hook_rec {
	__u64 seq;  /* process-wide order from 1; written last: the record is complete */
	__u64 addr; /* user address of the block or mapping */
	__u64 size; /* requested bytes; 0 for FREE */
	__u32 tid;  /* thread, tid */
	__u16 kind; /* enum bm_event_kind; 0: nothing happened (a realloc that failed) */
	__u16 func; /* row id (lib/allocators.h) */
};
_Static_assert(sizeof(struct bm_hook_rec) == 32, "bm_hook_rec is the hook/daemon ABI");

/* The hook's control block, in the library's memory: the daemon reads and writes it with
 * process_vm_readv/writev at the address the hello event gives. */
struct bm_hook_ctl {
	__u64 magic;	 /* BM_HOOK_MAGIC */
	__u64 reserved;	 /* last seq handed out */
	__u64 flushed;	 /* batches handed over (their records are in the ring buffer) */
	__u64 consumed;	 /* batches the daemon has taken from the ring buffer (it writes this) */
	__u64 ring;	 /* user address of the BM_HOOK_NCHUNK * BM_HOOK_CHUNK records */
	__u64 dropped;	 /* records given up on (the ring buffer stayed full) */
	__u32 pid;	 /* the process this block belongs to (a forked child rewrites it) */
	__u32 on;	 /* 1: record events (the daemon clears it while no region is open) */
	__u32 per_call;	 /* 1: transport "call" (a probe hit per event, with stacks) */
	__u32 confirmed; /* 1: a collector traces this process (it writes this at the hello) */
};
_Static_assert(sizeof(struct bm_hook_ctl) == 64, "bm_hook_ctl layout");

/* Ring buffer record of the hook_batches map: one batch. */
struct bm_hook_batch {
	__u64 first_seq; /* seq of recs[0] */
	__u32 tgid;	 /* process, tgid */
	__u32 nr;	 /* valid records (BM_HOOK_CHUNK, fewer before an exec) */
	struct bm_hook_rec recs[BM_HOOK_CHUNK];
};
_Static_assert(sizeof(struct bm_hook_batch) == 16 + 32 * BM_HOOK_CHUNK, "bm_hook_batch layout");

#endif /* BENCHMEM_H */

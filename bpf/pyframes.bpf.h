/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* bpf/pyframes.bpf.h — the Python stack of the allocating thread: CPython's frame chain read
 * from user memory with the offsets the daemon put in `pyconf`, deduplicated in `pystacks`. */
#ifndef BM_PYFRAMES_BPF_H
#define BM_PYFRAMES_BPF_H

/* Per traced process running a CPython we know (daemon/pyoffsets.c). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, BM_MAX_TRACED);
	__type(key, __u32); /* tgid */
	__type(value, struct bm_pyconf);
} pyconf SEC(".maps");

/* The thread state last found for a thread: checked (one read) before the list walk. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BM_MAX_PENDING);
	__type(key, __u32);   /* tid */
	__type(value, __u64); /* PyThreadState address */
} pytstate SEC(".maps");

/* Python stacks by content hash. LRU: the daemon reads a stack within a drain period of the
 * event that made it, so only the oldest, long-read ones are evicted. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, BM_PY_MAX_STACKS);
	__type(key, __u64);
	__type(value, struct bm_pystack);
} pystacks SEC(".maps");

/* Scratch for the stack being walked (too big for the BPF stack). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct bm_pystack);
} pyscratch SEC(".maps");

#define BM_PY_FRAME_READ 104 /* bytes of a frame read at once: every field we use (3.10: 100) */
#define BM_PY_CODE_READ	 88  /* bytes of a code object read from co_firstlineno on (3.10: 80) */

/* A @size-byte field at @off of a @len-byte buffer read from user memory; 0 past its end. */
static __always_inline __u64 py_field(const __u8 *buf, __u32 len, __u16 off, __u32 size)
{
	__u64 v = 0;

	if (off > len - 8)
		return 0;
	if (size == 8)
		__builtin_memcpy(&v, buf + off, 8);
	else if (size == 4)
		__builtin_memcpy(&v, buf + off, 4);
	else
		v = buf[off];
	return v;
}

static __always_inline __u64 py_read_ptr(__u64 addr)
{
	__u64 v = 0;

	if (bpf_probe_read_user(&v, sizeof(v), (void *)addr))
		return 0;
	return v;
}

/* bm_py_str_id() of the str object at @str: one read of its start (a str object near the
 * end of a mapping: of its header only) and, when it has no hash yet and its data is longer
 * than that read took, one of its last bytes. 0 when unreadable (the frame is refused). */
static __always_inline __u64 py_str_id(const struct bm_pyconf *c, __u64 str)
{
	__u8 hb[BM_PY_STR_READ] = {}, tail[BM_PY_STR_TAIL] = {};
	__u64 type, length, hash, nb;
	__u32 state, n, off;
	bool whole = true;

	if (!str)
		return 0;
	if (bpf_probe_read_user(hb, sizeof(hb), (void *)str)) {
		whole = false;
		if (bpf_probe_read_user(hb, BM_PY_STR_HDR, (void *)str))
			return 0;
	}
	type = py_field(hb, BM_PY_STR_HDR, BM_PY_OB_TYPE, 8);
	length = py_field(hb, BM_PY_STR_HDR, c->str_length, 8);
	hash = py_field(hb, BM_PY_STR_HDR, c->str_hash, 8);
	state = (__u32)py_field(hb, BM_PY_STR_HDR, c->str_state, 4);
	if (hash == BM_PY_STR_NOHASH) {
		nb = length * ((state >> 2) & 7); /* bytes of data: 1, 2 or 4 a character */
		off = (state & 0x40) ? c->str_ascii : c->str_compact;
		n = nb < BM_PY_STR_TAIL ? (__u32)nb : BM_PY_STR_TAIL;
		/* a short str's data came with the first read (most names, many file names):
		 * copied out of it in one go (a loop over its words costs the verifier dearly) */
		if (whole && nb <= BM_PY_STR_HEAD && off + n <= BM_PY_STR_READ)
			bpf_probe_read_kernel(tail, n, hb + off);
		else if (n && bpf_probe_read_user(tail, n, (void *)(str + off + nb - n)))
			return 0;
	}
	return bm_py_str_id(type, length, state, hash, tail);
}

/*
 * The loops below run through bpf_loop(): the verifier checks a callback once, where it
 * walks a bounded loop's every iteration in every program that inlines it (measured: the
 * collector took 1.2 s instead of 0.2 s to start).
 */

/* The search for a thread's state: the newest interpreter's threads first (a subinterpreter),
 * then the older ones' (the main interpreter is the last). */
struct py_search {
	const struct bm_pyconf *c;
	__u64 want, interp, t, found;
};

static long py_search_step(__u32 i, void *arg)
{
	struct py_search *q = arg;

	(void)i;
	if (q->t) {
		if (py_read_ptr(q->t + q->c->ts_tid) == q->want) {
			q->found = q->t;
			return 1;
		}
		q->t = py_read_ptr(q->t + q->c->ts_next);
		return 0;
	}
	q->interp = q->interp ? py_read_ptr(q->interp + q->c->interp_next) : 0;
	if (!q->interp)
		return 1;
	q->t = py_read_ptr(q->interp + q->c->threads_head);
	return 0;
}

/* The thread's PyThreadState, from the cache or the interpreters' thread lists. 0: none. */
static __always_inline __u64 py_tstate(const struct bm_pyconf *c, __u32 tid)
{
	__u64 *cached = bpf_map_lookup_elem(&pytstate, &tid);
	struct py_search q = { .c = c, .want = tid };

	if (c->tid_is_pthread) {
		struct task_struct *task = bpf_get_current_task_btf();

		q.want = task->thread.fsbase;
	}
	if (cached && *cached && py_read_ptr(*cached + c->ts_tid) == q.want)
		return *cached;
	q.interp = py_read_ptr(c->interp_head);
	q.t = q.interp ? py_read_ptr(q.interp + c->threads_head) : 0;
	bpf_loop(BM_PY_INTERPS * (BM_PY_THREADS + 1), py_search_step, &q, 0);
	if (q.found)
		bpf_map_update_elem(&pytstate, &tid, &q.found, BPF_ANY);
	return q.found;
}

/* The str ids of the last frame walked: a caller in the same file, or a recursive call, has
 * the same str objects (the same in one walk: nothing runs in the thread meanwhile). */
struct py_strs {
	__u64 fname, fname_id, name, name_id;
};

/* Records one frame of @c's layout at @frame into s->f[s->depth]; returns the caller frame
 * (0 ends the walk). A C-stack shim frame (3.12+) adds nothing but marks the frame it called
 * as an entry frame. */
static __always_inline __u64 py_frame(const struct bm_pyconf *c, __u64 frame, struct bm_pystack *s,
				      __u64 *hash, struct py_strs *m)
{
	__u8 fb[BM_PY_FRAME_READ], cb[BM_PY_CODE_READ];
	__u64 code, instr, prev, fname, name;
	__u32 d = s->depth, check, line;
	__s32 lasti;

	if (bpf_probe_read_user(fb, sizeof(fb), (void *)frame))
		return 0;
	prev = py_field(fb, sizeof(fb), c->fr_previous, 8);
	if (c->fr_owner != BM_PY_OFF_NONE &&
	    py_field(fb, sizeof(fb), c->fr_owner, 1) == c->owner_cstack) {
		if (d > 0 && d <= BM_PY_DEPTH)
			s->f[d - 1].check |= BM_PY_ENTRY;
		*hash = bm_py_mix(*hash, 1); /* where eval loops start is part of the stack */
		return prev;
	}
	code = py_field(fb, sizeof(fb), c->fr_code, 8);
	if (!code || bpf_probe_read_user(cb, sizeof(cb), (void *)(code + c->co_firstlineno)))
		return prev;
	if (c->flavor == BM_PY_FRAMEOBJ) {
		lasti = (__s32)py_field(fb, sizeof(fb), c->fr_instr, 4);
	} else {
		instr = py_field(fb, sizeof(fb), c->fr_instr, 8);
		lasti = (__s32)((__s64)(instr - (code + c->co_code)) >> 1); /* bytes → code units */
	}
	line = (__u32)py_field(cb, sizeof(cb), 0, 4);
	fname = py_field(cb, sizeof(cb), (__u16)(c->co_filename - c->co_firstlineno), 8);
	name = py_field(cb, sizeof(cb), (__u16)(c->co_name - c->co_firstlineno), 8);
	if (fname != m->fname) {
		m->fname = fname;
		m->fname_id = py_str_id(c, fname);
	}
	if (name != m->name) {
		m->name = name;
		m->name_id = py_str_id(c, name);
	}
	check = bm_py_check(line, fname, name, m->fname_id, m->name_id);
	if (c->flavor == BM_PY_FRAMEOBJ ||
	    (c->fr_entry != BM_PY_OFF_NONE && py_field(fb, sizeof(fb), c->fr_entry, 1)))
		check |= BM_PY_ENTRY;
	if (d >= BM_PY_DEPTH) {
		s->truncated = 1;
		return 0;
	}
	s->f[d].code = code;
	s->f[d].lasti = lasti;
	s->f[d].check = check;
	s->depth = d + 1;
	*hash = bm_py_mix(bm_py_mix(*hash, code), ((__u64)(__u32)lasti << 32) | check);
	return prev;
}

struct py_walk {
	const struct bm_pyconf *c;
	struct bm_pystack *s;
	__u64 frame, hash;
	struct py_strs m;
};

static long py_walk_step(__u32 i, void *arg)
{
	struct py_walk *w = arg;

	(void)i;
	w->frame = py_frame(w->c, w->frame, w->s, &w->hash, &w->m);
	return w->frame ? 0 : 1;
}

/* The key of the current thread's Python stack in `pystacks` (stored there if new); 0 when
 * the process runs no Python we know, the thread has no thread state, or it runs no code. */
__noinline __u64 py_capture(__u32 tgid, __u32 tid)
{
	const struct bm_pyconf *c = bpf_map_lookup_elem(&pyconf, &tgid);
	__u32 zero = 0;
	struct bm_pystack *s;
	struct py_walk w = { .hash = 0xcbf29ce484222325ull };
	__u64 t, hash;
	long err;

	if (!c)
		return 0;
	s = bpf_map_lookup_elem(&pyscratch, &zero);
	if (!s)
		return 0;
	t = py_tstate(c, tid);
	if (!t) /* a thread Python does not know (yet): native frames only */
		return 0;
	w.frame = py_read_ptr(t + c->ts_frame);
	if (w.frame && c->cframe_frame != BM_PY_OFF_NONE)
		w.frame = py_read_ptr(w.frame + c->cframe_frame);
	s->depth = 0;
	s->truncated = 0;
	w.c = c;
	w.s = s;
	/* shim frames (3.12+) take steps too: a few more than the frames kept */
	if (w.frame)
		bpf_loop(BM_PY_DEPTH + 8, py_walk_step, &w, 0);
	if (!s->depth)
		return 0;
	/* memray pairs eval loops with entry frames from the outermost frame in: it must be one */
	if (s->depth <= BM_PY_DEPTH)
		s->f[s->depth - 1].check |= BM_PY_ENTRY;
	hash = bm_py_mix(w.hash, s->depth) | 1;
	/* look first: an LRU map's update takes a free node and copies the whole value before
	 * it finds the key exists (measured: ~1.5 us per event of a known stack) */
	if (bpf_map_lookup_elem(&pystacks, &hash))
		return hash;
	err = bpf_map_update_elem(&pystacks, &hash, s, BPF_NOEXIST);
	return err && err != -17 /* EEXIST */ ? 0 : hash;
}

#endif /* BM_PYFRAMES_BPF_H */

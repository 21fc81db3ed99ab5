// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/pystacks.c — names captured Python stacks: code object → (qualname, file, line),
 * read from the target through its /proc/PID/mem fd (procmem.h), cached per (process,
 * address, check). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "procmem.h"
#include "pyoffsets.h"
#include "pystacks.h"

#define NAME_MAX_BYTES 4096	   /* longer names or file names are not read */
#define LINETABLE_MAX  (64u << 10) /* bytes of co_linetable we read at most */
#define BUDGET_BYTES   (64u << 20) /* names, line tables and stacks one session keeps at most */
#define CODE_HDR_BYTES 512	   /* a code object's fixed part, read at once */
#define STR_HDR_BYTES  80	   /* a str object's header, read at once */
#define FAILED	       UINT32_MAX  /* a key or code object that could not be named */
#define NOTE_BYTES     256

struct proc_py {
	pid_t tgid;
	int mem;       /* bound to the image seen at pystacks__bind(); -1: none, nothing is read */
	bool detected; /* verdict and lay are valid */
	enum py_detect verdict;
	struct py_layout lay;
};

struct code {
	pid_t tgid;
	uint64_t addr;
	uint32_t check; /* without BM_PY_ENTRY */
	char *function, *filename;
	int32_t first;
	uint8_t *lt;
	size_t lt_len;
};

/* open addressing: key → value, capacity a power of two, key 0 marks a free slot */
struct kv {
	uint64_t key;
	uint32_t val;
};

struct pystacks {
	struct pystacks_ops ops;
	struct proc_py *procs;
	size_t nr_procs, cap_procs;
	struct kv *keys; /* stack key → index in stacks (1-based) or FAILED */
	size_t keys_cap, nr_keys;
	struct kv *codes_by; /* hash of (tgid, addr, check) → index in codes (1-based) */
	size_t codes_cap;
	struct code *codes;
	size_t nr_codes, alloc_codes;
	struct pystack *stacks;
	size_t nr_stacks, alloc_stacks;
	uint64_t unnamed, over_budget; /* allocations left with native frames only: all, budget */
	uint64_t bytes; /* charged against BUDGET_BYTES: a target's code cannot grow us unbounded */
	uint32_t version;
	char note[NOTE_BYTES];
	char note_out[NOTE_BYTES + 128]; /* note + the unnamed count */
	bool note_is_fallback;
};

struct pystacks *pystacks__new(const struct pystacks_ops *ops)
{
	struct pystacks *ps = calloc(1, sizeof(*ps));

	if (ps && ops)
		ps->ops = *ops;
	return ps;
}

void pystacks__free(struct pystacks *ps)
{
	if (!ps)
		return;
	for (size_t i = 0; i < ps->nr_codes; i++) {
		free(ps->codes[i].function);
		free(ps->codes[i].filename);
		free(ps->codes[i].lt);
	}
	for (size_t i = 0; i < ps->nr_stacks; i++)
		free(ps->stacks[i].f);
	free(ps->codes);
	free(ps->codes_by);
	free(ps->stacks);
	free(ps->keys);
	for (size_t i = 0; i < ps->nr_procs; i++) {
		if (ps->procs[i].mem >= 0)
			close(ps->procs[i].mem);
	}
	free(ps->procs);
	free(ps);
}

/* ---- small tables ----------------------------------------------------------------------- */

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 30;
	x *= 0xbf58476d1ce4e5b9ull;
	x ^= x >> 27;
	x *= 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static struct kv *kv_find(struct kv *tab, size_t cap, uint64_t key)
{
	size_t i = mix64(key) & (cap - 1);

	while (tab[i].key && tab[i].key != key)
		i = (i + 1) & (cap - 1);
	return &tab[i];
}

/* Room for one more key in a table kept at most half full. */
static int kv_reserve(struct kv **tab, size_t *cap, size_t used)
{
	size_t ncap = *cap ? *cap * 2 : 1024;
	struct kv *n;

	if (used + 1 <= *cap / 2)
		return 0;
	n = calloc(ncap, sizeof(*n));
	if (!n)
		return -ENOMEM;
	for (size_t i = 0; i < *cap; i++) {
		if ((*tab)[i].key)
			*kv_find(n, ncap, (*tab)[i].key) = (*tab)[i];
	}
	free(*tab);
	*tab = n;
	*cap = ncap;
	return 0;
}

static int grow(void **v, size_t *cap, size_t n, size_t size)
{
	size_t ncap = *cap ? *cap * 2 : 64;
	void *p;

	if (n < *cap)
		return 0;
	p = reallocarray(*v, ncap, size);
	if (!p)
		return -ENOMEM;
	*v = p;
	*cap = ncap;
	return 0;
}

/* ---- processes --------------------------------------------------------------------------- */

static struct proc_py *proc_of(struct pystacks *ps, pid_t tgid)
{
	for (size_t i = ps->nr_procs; i-- > 0;) {
		if (ps->procs[i].tgid == tgid)
			return &ps->procs[i];
	}
	return NULL;
}

static void set_note(struct pystacks *ps, enum py_detect v, const char *what)
{
	/* a fallback is what the reader must know: it wins over "captured" */
	if (ps->note[0] && (ps->note_is_fallback || v == PY_KNOWN))
		return;
	if (v == PY_KNOWN)
		snprintf(ps->note, sizeof(ps->note), "%s: Python frames captured", what);
	else
		snprintf(ps->note, sizeof(ps->note), "%s; native frames only", what);
	ps->note_is_fallback = v != PY_KNOWN;
}

/* A new entry for @tgid reading through @mem (owned from now on, closed on failure). */
static struct proc_py *add(struct pystacks *ps, pid_t tgid, int mem)
{
	if (grow((void **)&ps->procs, &ps->cap_procs, ps->nr_procs, sizeof(*ps->procs))) {
		if (mem >= 0)
			close(mem);
		return NULL;
	}
	ps->procs[ps->nr_procs] = (struct proc_py){ .tgid = tgid, .mem = mem };
	return &ps->procs[ps->nr_procs++];
}

/* @p: @tgid's entry from pystacks__bind(), or NULL (not bound: nothing is read). */
static struct proc_py *detect(struct pystacks *ps, struct proc_py *p, pid_t tgid)
{
	char note[NOTE_BYTES];

	p = p ? p : add(ps, tgid, -1);
	if (!p)
		return NULL;
	p->detected = true;
	p->verdict = pyoffsets_detect(tgid, p->mem, &p->lay, note, sizeof(note));
	if (p->verdict == PY_KNOWN && ps->ops.configure &&
	    ps->ops.configure(ps->ops.arg, tgid, &p->lay.conf)) {
		p->verdict = PY_UNKNOWN;
		snprintf(note + strlen(note), sizeof(note) - strlen(note),
			 " (the frame walker could not be configured)");
	}
	if (p->verdict != PY_NONE)
		set_note(ps, p->verdict, note);
	if (p->verdict == PY_KNOWN && !ps->version)
		ps->version = p->lay.version;
	return p;
}

int pystacks__bind(struct pystacks *ps, pid_t tgid)
{
	int mem;

	if (!ps)
		return 0;
	pystacks__forget(ps, tgid);
	mem = procmem_open(tgid);
	return mem < 0 ? mem : add(ps, tgid, mem) ? 0 : -ENOMEM;
}

int pystacks__assume(struct pystacks *ps, pid_t tgid, const struct py_layout *lay)
{
	struct proc_py *p = add(ps, tgid, procmem_open(tgid));

	if (!p)
		return -ENOMEM;
	*p = (struct proc_py){
		.tgid = tgid, .mem = p->mem, .detected = true, .verdict = PY_KNOWN, .lay = *lay
	};
	if (!ps->version)
		ps->version = lay->version;
	return 0;
}

void pystacks__forget(struct pystacks *ps, pid_t tgid)
{
	struct proc_py *p = ps ? proc_of(ps, tgid) : NULL;

	if (!p)
		return;
	if (p->detected && p->verdict == PY_KNOWN && ps->ops.configure)
		ps->ops.configure(ps->ops.arg, tgid, NULL);
	if (p->mem >= 0)
		close(p->mem);
	*p = ps->procs[--ps->nr_procs];
	/* code objects stay cached: keyed by tgid, a new image's objects are checked anyway */
}

/* ---- reading the target ------------------------------------------------------------------- */

static void utf8_put(char *out, size_t *n, uint32_t c)
{
	if (c < 0x80) {
		out[(*n)++] = (char)c;
	} else if (c < 0x800) {
		out[(*n)++] = (char)(0xc0 | c >> 6);
		out[(*n)++] = (char)(0x80 | (c & 0x3f));
	} else if (c < 0x10000) {
		out[(*n)++] = (char)(0xe0 | c >> 12);
		out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (c & 0x3f));
	} else {
		out[(*n)++] = (char)(0xf0 | c >> 18);
		out[(*n)++] = (char)(0x80 | ((c >> 12) & 0x3f));
		out[(*n)++] = (char)(0x80 | ((c >> 6) & 0x3f));
		out[(*n)++] = (char)(0x80 | (c & 0x3f));
	}
}

/* A compact str object at @addr as a new UTF-8 string; NULL if unreadable or not compact.
 * @ids gets its bm_py_str_id() by its hash as it is now, and by its last bytes (what the
 * walker took if the str had no hash then). */
static char *read_str(int mem, const struct bm_pyconf *l, uint64_t addr, uint64_t ids[2])
{
	uint8_t hdr[STR_HDR_BYTES], *raw = NULL, tail[BM_PY_STR_TAIL] = { 0 };
	uint32_t state, kind;
	uint64_t type, hash;
	int64_t len;
	size_t n = 0, data, nb;
	char *out = NULL;

	if (!addr || l->str_state + 4u > sizeof(hdr) || l->str_length + 8u > sizeof(hdr) ||
	    l->str_hash + 8u > sizeof(hdr) || procmem_read(mem, addr, hdr, sizeof(hdr)))
		return NULL;
	memcpy(&type, hdr + BM_PY_OB_TYPE, 8);
	memcpy(&hash, hdr + l->str_hash, 8);
	memcpy(&state, hdr + l->str_state, 4);
	memcpy(&len, hdr + l->str_length, 8);
	kind = (state >> 2) & 7;
	if (!((state >> 5) & 1) || len < 0 || len > NAME_MAX_BYTES ||
	    (kind != 1 && kind != 2 && kind != 4))
		return NULL;
	data = ((state >> 6) & 1) ? l->str_ascii : l->str_compact;
	nb = (size_t)len * kind;
	raw = malloc(nb + 1);
	out = malloc((size_t)len * 4 + 1);
	if (!raw || !out || procmem_read(mem, addr + data, raw, nb)) {
		free(out);
		out = NULL;
		goto done;
	}
	data = nb < sizeof(tail) ? 0 : nb - sizeof(tail); /* where the last bytes start */
	memcpy(tail, raw + data, nb - data);
	ids[1] = bm_py_str_id(type, (uint64_t)len, state, BM_PY_STR_NOHASH, tail);
	ids[0] = hash == BM_PY_STR_NOHASH ? ids[1]
					  : bm_py_str_id(type, (uint64_t)len, state, hash, NULL);
	for (int64_t i = 0; i < len; i++) {
		uint32_t c = kind == 1	 ? raw[i]
			     : kind == 2 ? ((uint16_t *)raw)[i]
					 : ((uint32_t *)raw)[i];

		utf8_put(out, &n, c);
	}
	out[n] = '\0';
done:
	free(raw);
	return out;
}

static uint64_t at64(const uint8_t *b, uint16_t off)
{
	uint64_t v;

	memcpy(&v, b + off, 8);
	return v;
}

/* Whether a check taken with the str ids of then matches the objects of now: each str by its
 * hash, or by its last bytes if it had no hash then. */
static bool check_matches(uint32_t check, int32_t first, uint64_t fname, uint64_t name,
			  const uint64_t fname_ids[2], const uint64_t name_ids[2])
{
	for (int i = 0; i < 4; i++) {
		if (bm_py_check((uint32_t)first, fname, name, fname_ids[i & 1], name_ids[i >> 1]) ==
		    (check & ~BM_PY_ENTRY))
			return true;
	}
	return false;
}

/* Whether the object header @b is a live object of type @type (0: any type). A freed one's
 * reference count is 0 (it was when freed) or an allocator's free-list pointer over it (an
 * immortal object, 3.12+, counts UINT32_MAX), and glibc's tcache puts a random key over its
 * type. */
static bool alive(const uint8_t *b, uint64_t type)
{
	return at64(b, 0) && at64(b, 0) <= UINT32_MAX && (!type || at64(b, BM_PY_OB_TYPE) == type);
}

/* Reads code object @addr of @tgid into @c; false when it is unreadable or no longer the
 * object the walker saw: its check differs (freed, and the address reused), or one of its
 * strings is not the one it held then (the code object freed, its strings too, and their
 * memory reused before we read it), or it is dead now (what it held, its line table too, may
 * be another object's by now: only a live code object keeps them). */
static bool read_code(int mem, const struct py_layout *l, uint64_t addr, uint32_t check,
		      struct code *c)
{
	const struct bm_pyconf *k = &l->conf;
	uint8_t b[CODE_HDR_BYTES], b2[CODE_HDR_BYTES];
	uint64_t fname, name, lt, lt_len = 0, fname_ids[2], name_ids[2];
	int32_t first;

	if (k->co_filename + 8u > sizeof(b) || k->co_name + 8u > sizeof(b) ||
	    l->co_linetable + 8u > sizeof(b) || k->co_firstlineno + 4u > sizeof(b) ||
	    procmem_read(mem, addr, b, sizeof(b)) || !alive(b, l->code_type))
		return false;
	memcpy(&first, b + k->co_firstlineno, 4);
	fname = at64(b, k->co_filename);
	name = at64(b, k->co_name);
	lt = at64(b, l->co_linetable);
	c->first = first;
	c->function = read_str(mem, k, name, name_ids);
	c->filename = read_str(mem, k, fname, fname_ids);
	if (!c->function || !c->filename ||
	    !check_matches(check, first, fname, name, fname_ids, name_ids))
		return false;
	if (lt && !procmem_read(mem, lt + l->bytes_size, &lt_len, 8) && lt_len &&
	    lt_len <= LINETABLE_MAX) {
		c->lt = malloc(lt_len);
		if (c->lt && !procmem_read(mem, lt + l->bytes_data, c->lt, lt_len))
			c->lt_len = lt_len;
	}
	/* the target ran on while we read: what we read is what the code object held only if
	 * it is alive still and holds the same objects (it kept them alive all along) */
	return !procmem_read(mem, addr, b2, sizeof(b2)) && alive(b2, l->code_type) &&
	       at64(b2, k->co_filename) == fname && at64(b2, k->co_name) == name &&
	       at64(b2, l->co_linetable) == lt && !memcmp(b2 + k->co_firstlineno, &first, 4);
}

/* What @c keeps in memory, for the budget. */
static uint64_t code_bytes(const struct code *c)
{
	return sizeof(*c) + 2 * sizeof(struct kv) + (c->function ? strlen(c->function) + 1 : 0) +
	       (c->filename ? strlen(c->filename) + 1 : 0) + c->lt_len;
}

static const struct code *code_of(struct pystacks *ps, const struct proc_py *p,
				  const struct bm_pyframe *f)
{
	uint32_t check = f->check & ~BM_PY_ENTRY;
	uint64_t h = mix64(f->code ^ mix64(((uint64_t)(uint32_t)p->tgid << 32) | check)) | 1;
	struct kv *slot;
	struct code c = { .tgid = p->tgid, .addr = f->code, .check = check };

	if (kv_reserve(&ps->codes_by, &ps->codes_cap, ps->nr_codes))
		return NULL;
	for (;;) {
		const struct code *o;

		slot = kv_find(ps->codes_by, ps->codes_cap, h);
		if (!slot->key)
			break;
		o = &ps->codes[slot->val - 1];
		if (o->tgid == p->tgid && o->addr == f->code && o->check == check)
			return o;
		h = mix64(h) | 1; /* a different object under the same hash: probe on */
	}
	if (grow((void **)&ps->codes, &ps->alloc_codes, ps->nr_codes, sizeof(c)))
		return NULL;
	/* a failure is not remembered: the object the walker saw may be back at that address
	 * (same names, same line) by the next stack that names it */
	if (!read_code(p->mem, &p->lay, f->code, f->check, &c)) {
		free(c.function);
		free(c.filename);
		free(c.lt);
		return NULL;
	}
	ps->bytes += code_bytes(&c);
	ps->codes[ps->nr_codes++] = c;
	slot->key = h;
	slot->val = (uint32_t)ps->nr_codes;
	return &ps->codes[ps->nr_codes - 1];
}

/* ---- stacks ---------------------------------------------------------------------------------- */

static uint32_t name_stack(struct pystacks *ps, const struct proc_py *p, const struct bm_pystack *s)
{
	uint32_t depth = s->depth < BM_PY_DEPTH ? s->depth : BM_PY_DEPTH;
	struct pystack st = { .n = depth, .truncated = s->truncated };

	if (!depth || grow((void **)&ps->stacks, &ps->alloc_stacks, ps->nr_stacks, sizeof(st)))
		return FAILED;
	st.f = calloc(depth, sizeof(*st.f));
	if (!st.f)
		return FAILED;
	for (uint32_t i = 0; i < depth; i++) {
		const struct bm_pyframe *f = &s->f[depth - 1 - i]; /* outermost first */
		const struct code *c = code_of(ps, p, f);
		int line;

		if (!c) {
			free(st.f);
			return FAILED;
		}
		line = pystacks_line(p->lay.version, c->lt, c->lt_len, c->first, f->lasti);
		st.f[i] = (struct memray_pyframe){ .function = c->function,
						   .filename = c->filename,
						   .line = line > 0 ? line : 0,
						   .entry = !!(f->check & BM_PY_ENTRY) };
	}
	ps->bytes += sizeof(st) + depth * sizeof(*st.f);
	ps->stacks[ps->nr_stacks++] = st;
	return (uint32_t)ps->nr_stacks;
}

uint32_t pystacks__on_event(struct pystacks *ps, const struct bm_event *e)
{
	struct proc_py *p;
	struct bm_pystack *s;
	struct kv *slot;
	uint32_t idx;

	if (!ps)
		return 0;
	p = proc_of(ps, (pid_t)e->tgid);
	if (!p || !p->detected)
		p = detect(ps, p, (pid_t)e->tgid);
	if (!p || !e->py_stack || p->verdict != PY_KNOWN || e->kind != BM_EV_ALLOC)
		return 0;
	if (kv_reserve(&ps->keys, &ps->keys_cap, ps->nr_keys))
		return 0;
	slot = kv_find(ps->keys, ps->keys_cap, e->py_stack);
	if (!slot->key && ps->bytes >= BUDGET_BYTES) {
		ps->unnamed++; /* over budget: new stacks keep their native frames only */
		ps->over_budget++;
		return 0;
	}
	if (!slot->key) {
		ps->bytes += 2 * sizeof(*slot);
		s = malloc(sizeof(*s));
		idx = s && ps->ops.lookup && !ps->ops.lookup(ps->ops.arg, e->py_stack, s)
			      ? name_stack(ps, p, s)
			      : FAILED;
		free(s);
		slot->key = e->py_stack;
		slot->val = idx;
		ps->nr_keys++;
	}
	if (slot->val == FAILED) {
		ps->unnamed++;
		return 0;
	}
	return slot->val;
}

const struct pystack *pystacks__get(const struct pystacks *ps, uint32_t idx)
{
	if (!ps || !idx || idx > ps->nr_stacks)
		return NULL;
	return &ps->stacks[idx - 1];
}

uint32_t pystacks__version(const struct pystacks *ps)
{
	return ps ? ps->version : 0;
}

const char *pystacks__note(struct pystacks *ps)
{
	if (!ps || !ps->note[0])
		return NULL;
	if (!ps->unnamed || ps->note_is_fallback)
		return ps->note;
	if (ps->over_budget)
		snprintf(ps->note_out, sizeof(ps->note_out),
			 "%s; %" PRIu64 " allocations with native frames only (%" PRIu64
			 " past the %u MiB budget for Python names)",
			 ps->note, ps->unnamed, ps->over_budget, BUDGET_BYTES >> 20);
	else
		snprintf(ps->note_out, sizeof(ps->note_out),
			 "%s; %" PRIu64 " allocations with native frames only (their code objects "
			 "were gone when read)",
			 ps->note, ps->unnamed);
	return ps->note_out;
}

uint64_t pystacks__nr_stacks(const struct pystacks *ps)
{
	return ps ? ps->nr_stacks : 0;
}

uint64_t pystacks__nr_unnamed(const struct pystacks *ps)
{
	return ps ? ps->unnamed : 0;
}

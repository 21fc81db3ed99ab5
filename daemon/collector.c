// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/collector.c — the top-level context: wires probes, ring buffer, ptrace following,
 * server and sessions into one loop. The only file that knows all the others. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <sys/timerfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "collector.h"
#include "dispatch.h"
#include "hook_source.h"
#include "hookpath.h"
#include "log.h"
#include "loop.h"
#include "placement.h"
#include "probe.h"
#include "profile.h"
#include "procmaps.h"
#include "results.h"
#include "ringbuf.h"
#include "rss.h"
#include "server.h"
#include "spool.h"
#include "stacks.h"
#include "symbols.h"
#include "targets.h"

/* Writing a profile reads the whole spool and writes megabytes: a forked writer does it,
 * so the loop (and every other client) never waits for the disk. */
#define COLLECTOR_MAX_WRITERS 8

struct writer_job {
	pid_t pid;
	int client;
	uint32_t session;
	uint32_t repeat;
	char name[BM_NAME_MAX + 1];
	char path[PATH_MAX];
};

struct collector {
	struct bm_config cfg;
	bool embedded;
	struct loop *loop;
	struct probe *probe;
	struct ringbuf *rb;
	struct targets *targets;
	struct server *server;
	int sigfd;
	int timerfd;
	int ready_fd;
	struct session **sessions;
	int nr_sessions, cap_sessions;
	uint32_t next_id;
	struct proc *hot; /* the process of the last event: consecutive events share it */
	struct session *local;
	uint64_t orphan_events;	    /* events of a process no session knows (already gone) */
	struct spool_budget budget; /* shared by the spools of every profiled region */
	struct writer_job jobs[COLLECTOR_MAX_WRITERS]; /* profile writers running now */
	/* attach_mode system: one set of links per library for every process (the BPF side's
	 * traced map then does all the filtering), held here rather than per process */
	bool system_wide;
	struct proc global;
	int nr_jobs;
	char spill_dir[PATH_MAX];
	/* the in-process hook (docs/hook.md): its batches, and the one link on its probe sites
	 * that serves every process preloading it */
	struct hook_source *hook;
	struct probe_links hook_links;
};

uint64_t collector__now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static int64_t unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

bool collector__embedded(const struct collector *c)
{
	return c->embedded;
}

/* ---- processes ------------------------------------------------------------------------ */

static struct proc *find_proc(struct collector *c, pid_t tgid)
{
	if (c->hot && c->hot->tgid == tgid)
		return c->hot;
	for (int i = 0; i < c->nr_sessions; i++) {
		struct proc *p = session__find_proc(c->sessions[i], tgid);

		if (p)
			return c->hot = p;
	}
	return NULL;
}

struct session *collector__find_session_by_pid(struct collector *c, pid_t pid)
{
	struct proc *p = find_proc(c, pid);

	return p ? p->s : NULL;
}

struct session *collector__find_session_by_id(struct collector *c, uint32_t id)
{
	for (int i = 0; i < c->nr_sessions; i++) {
		if (c->sessions[i]->id == id)
			return c->sessions[i];
	}
	return NULL;
}

/*
 * free has only an entry probe, and glibc's free starts with "test %rdi,%rdi", which the
 * kernel must single-step (measured 2026-11-22 with build/bench/probecost: +23.6 us per hit);
 * the "je" after it is emulated (+0.57 us) and rdi still holds the argument there, on both
 * of its paths. Functions with a return probe stay at 0: the uretprobe's breakpoint is at 0
 * anyway, and a second breakpoint would trap twice per call.
 */
static void place_entry_probes(const char *path, struct alloc_sym *syms, int n)
{
	uint8_t code[64];
	struct placement pl;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (syms[i].func != BM_FN_FREE)
			continue;
		got = pread(fd, code, sizeof(code), (off_t)syms[i].offset);
		if (got <= 0 ||
		    placement_choose(code, (size_t)got, PLACEMENT_RDI, false, false, &pl))
			continue;
		if (!pl.emulated || pl.skips_on_branch)
			continue;
		syms[i].offset += pl.offset;
		syms[i].seg_off += pl.offset;
	}
	close(fd);
}

/* Attaches the allocator probes of one ELF file in @p, once per file (dev, inode). When the
 * file is the executable itself (a static binary), the program's own mmap calls come from
 * the same segment as the allocator's, so the "called from inside" filter is turned off. */
/* Where the links of @p's libraries live: @p itself, or the collector in system-wide mode. */
static struct proc *link_owner(struct collector *c, struct proc *p)
{
	return c->system_wide ? &c->global : p;
}

static int attach_image(struct collector *c, struct proc *target, const char *path, bool is_exe)
{
	struct alloc_sym syms[SYMBOLS_MAX_FUNCS];
	struct proc *p = link_owner(c, target);
	char err[512];
	struct stat st;
	int n, e;

	if (stat(path, &st))
		return -errno;
	for (int i = 0; i < p->nr_libs; i++) {
		if (p->lib_dev[i] == st.st_dev && p->lib_ino[i] == st.st_ino)
			return 0;
	}
	n = symbols_find_allocators(path, syms, SYMBOLS_MAX_FUNCS, err, sizeof(err));
	if (n <= 0)
		return n; /* not an allocator (or not an ELF file: a script's interpreter is) */
	for (int i = 0; is_exe && i < n; i++)
		syms[i].seg_len = 0;
	place_entry_probes(path, syms, n);
	if (p->nr_libs == SESSION_MAX_LIBS)
		return -E2BIG;
	e = probe__attach(c->probe, target->tgid, path, syms, (size_t)n, &p->links[p->nr_libs], err,
			  sizeof(err));
	if (e) {
		pr_warn("%s", err);
		return e;
	}
	p->lib_dev[p->nr_libs] = st.st_dev;
	p->lib_ino[p->nr_libs] = st.st_ino;
	pr_debug("pid %d: %d allocator functions probed in %s (%s%s)", target->tgid, n, path,
		 probe__mode(c->probe), c->system_wide ? ", system-wide" : "");
	p->nr_libs++;
	return 0;
}

/* Libraries named in the process's LD_PRELOAD (jemalloc, tcmalloc, mimalloc are often brought
 * in that way): read from /proc/PID/environ, which exec has just replaced. */
/* The value of LD_PRELOAD in @pid's environment (in @buf), or NULL. */
static char *preload_of(pid_t pid, char *buf, size_t len)
{
	char path[64], *v = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (char *e = buf; e < buf + n; e += strlen(e) + 1) {
		if (!strncmp(e, "LD_PRELOAD=", 11))
			v = e + 11;
	}
	return v;
}

static void attach_preload(struct collector *c, struct proc *p)
{
	char buf[16384], lib[4096], *save = NULL;
	char *v = preload_of(p->tgid, buf, sizeof(buf));

	for (char *t = v ? strtok_r(v, " :", &save) : NULL; t; t = strtok_r(NULL, " :", &save)) {
		/* the hook exports malloc too, but it is traced through its own sites */
		if (!hook_in_preload(t) && symbols_resolve(t, NULL, lib))
			attach_image(c, p, lib, false);
	}
}

/* A new image (exec, or a running process we attach to): its executable and the libraries
 * it needs, each probed if it defines malloc. */
static int attach_exe(struct collector *c, struct proc *p)
{
	char exe[PATH_MAX], link[64], (*needed)[4096];
	ssize_t len;
	int n;

	snprintf(link, sizeof(link), "/proc/%d/exe", p->tgid);
	len = readlink(link, exe, sizeof(exe) - 1);
	if (len < 0)
		return -errno;
	exe[len] = '\0';
	attach_preload(c, p);
	attach_image(c, p, exe, true);
	needed = calloc(SYMBOLS_MAX_NEEDED, sizeof(*needed));
	if (!needed)
		return -ENOMEM;
	n = symbols_needed(exe, needed, SYMBOLS_MAX_NEEDED);
	for (int i = 0; i < n; i++) {
		attach_image(c, p, needed[i], false);
	}
	free(needed);
	return link_owner(c, p)->nr_libs ? 0 : -ENOENT;
}

/* The one link on the hook's probe sites, made when the first hook session needs it. */
static int ensure_hook(struct collector *c)
{
	char path[PATH_MAX], err[512];
	int e;

	if (c->hook_links.nr)
		return 0;
	e = hook_library_path(path, sizeof(path));
	if (!e)
		e = probe__attach_hook(c->probe, path, &c->hook_links, err, sizeof(err));
	if (e)
		pr_warn("the hook cannot be traced (%s): its processes fall back to uprobes",
			e == -ENOENT ? HOOK_LIBRARY " not found" : err);
	return e;
}

/* After an exec: a process of a hook session whose new image preloads the hook is traced
 * through it (its uprobes, if it had any, go: they would count each call twice); any other
 * gets the allocator uprobes as usual. */
static int attach_image_or_hook(struct collector *c, struct proc *p)
{
	char buf[16384], exe[64], path[PATH_MAX];
	ssize_t len;

	snprintf(exe, sizeof(exe), "/proc/%d/exe", p->tgid);
	len = readlink(exe, path, sizeof(path) - 1);
	path[len > 0 ? len : 0] = '\0';
	if (!strncmp(strrchr(path, '/') ? strrchr(path, '/') + 1 : path, "python", 6))
		p->s->saw_python = true;
	p->hook = p->s->hook && !c->system_wide &&
		  hook_in_preload(preload_of(p->tgid, buf, sizeof(buf))) && hook_can_preload(exe) &&
		  !ensure_hook(c);
	if (!p->hook) {
		p->s->hook_fallback |= p->s->hook;
		return attach_exe(c, p);
	}
	for (int i = 0; i < p->nr_libs; i++)
		probe__release(c->probe, &p->links[i]);
	p->nr_libs = 0;
	return 0;
}

/* Outside regions the hook records nothing (a pytest-benchmark round runs at native speed). */
static void update_recording(struct collector *c, struct session *s)
{
	for (int i = 0; i < s->nr_procs; i++) {
		if (s->procs[i]->hook)
			hook_source__set_recording(c->hook, s->procs[i]->tgid, s->nr_open > 0);
	}
}

/* A running process: every executable file it maps. */
static int attach_maps(struct collector *c, struct proc *p)
{
	struct procmaps_entry *e = NULL;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/maps", p->tgid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = procmaps_parse(f, &e);
	fclose(f);
	for (int i = 0; i < n; i++) {
		if (e[i].exec && e[i].path[0] == '/')
			attach_image(c, p, e[i].path, false);
	}
	free(e);
	return link_owner(c, p)->nr_libs ? 0 : -ENOENT;
}

static void release_proc(struct collector *c, struct proc *p)
{
	/* the per-process counter goes with the process: keep its count in the session */
	if (p->s)
		p->s->lost_gone += probe__lost_of(c->probe, (uint32_t)p->tgid);
	for (int i = 0; i < p->nr_libs; i++)
		probe__release(c->probe, &p->links[i]);
	p->nr_libs = 0;
	if (p->s)
		p->s->lost_gone += hook_source__lost(c->hook, p->tgid);
	hook_source__forget(c->hook, p->tgid);
	probe__untrack(c->probe, (uint32_t)p->tgid);
	if (c->hot == p)
		c->hot = NULL;
}

static struct proc *add_proc(struct collector *c, struct session *s, pid_t tgid)
{
	struct proc *p = session__add_proc(s, tgid);

	if (!p)
		return NULL;
	if (probe__track(c->probe, (uint32_t)tgid, s->profile))
		pr_warn("pid %d: cannot add to the traced map", tgid);
	return p;
}

/* ---- sessions ------------------------------------------------------------------------- */

static struct session *new_session(struct collector *c, pid_t root, uid_t uid, const char *cmd)
{
	struct session *s;

	if ((uint64_t)c->nr_sessions >= c->cfg.max_sessions) {
		errno = EMFILE;
		return NULL;
	}
	if (c->nr_sessions == c->cap_sessions) {
		int cap = c->cap_sessions ? c->cap_sessions * 2 : 8;
		struct session **n = reallocarray(c->sessions, (size_t)cap, sizeof(*n));

		if (!n)
			return NULL;
		c->sessions = n;
		c->cap_sessions = cap;
	}
	s = session__new(++c->next_id, uid, root, cmd);
	if (!s)
		return NULL;
	s->start_unix_ns = unix_now_ns();
	c->sessions[c->nr_sessions++] = s;
	return s;
}

static void drop_session(struct collector *c, struct session *s)
{
	for (int i = 0; i < c->nr_sessions; i++) {
		if (c->sessions[i] != s)
			continue;
		c->sessions[i] = c->sessions[--c->nr_sessions];
		break;
	}
	for (int i = 0; i < s->nr_procs; i++)
		release_proc(c, s->procs[i]);
	if (c->local == s)
		c->local = NULL;
	c->hot = NULL;
	session__free(s);
	/* a long session's regions and result document leave megabytes of free heap that
	 * glibc keeps (fragmented, or brk'd after its mmap threshold rose): give them back,
	 * so a long-lived daemon's footprint follows what it holds, not its largest session */
	malloc_trim(0);
}

/* Events lost by @s's processes, gone ones included. */
uint64_t collector__session_lost(struct collector *c, const struct session *s)
{
	uint64_t n = s->lost_gone;

	for (int i = 0; i < s->nr_procs; i++)
		n += probe__lost_of(c->probe, (uint32_t)s->procs[i]->tgid) +
		     hook_source__lost(c->hook, s->procs[i]->tgid);
	return n;
}

uint64_t collector__lost(struct collector *c)
{
	uint64_t cnt[BM_CNT_MAX] = { 0 };

	probe__counters(c->probe, cnt);
	return cnt[BM_CNT_RINGBUF_FULL] + cnt[BM_CNT_PENDING_FULL] + ringbuf__malformed(c->rb);
}

/* The uprobes' ring buffer first: it carries the hooks' hellos. Then every hook process's
 * batches and the records still in its memory. */
void collector__drain(struct collector *c)
{
	ringbuf__drain(c->rb);
	hook_source__consume(c->hook);
	for (int i = 0; i < c->nr_sessions; i++) {
		struct session *s = c->sessions[i];

		for (int j = 0; s->hook && j < s->nr_procs; j++) {
			if (s->procs[j]->hook)
				hook_source__sync(c->hook, s->procs[j]->tgid);
		}
	}
}

/* Sum of the resident high-water of the session's processes; 0 when none could be read. */
static uint64_t session_hwm(struct session *s, bool *ok)
{
	uint64_t sum = 0, v;

	*ok = false;
	for (int i = 0; i < s->nr_procs; i++) {
		if (!rss_hwm(s->procs[i]->tgid, &v)) {
			sum += v;
			*ok = true;
		}
	}
	return sum;
}

static void reset_hwm(struct session *s)
{
	bool ok;
	uint64_t hwm = session_hwm(s, &ok);

	/* the reset below would erase what open regions have seen so far: fold it in first */
	if (ok)
		session__fold_rss(s, hwm);
	for (int i = 0; i < s->nr_procs; i++)
		rss_reset(s->procs[i]->tgid);
}

/* The root's ELF images, for memray to symbolise native frames; read while it lives. */
static void snapshot_images(struct session *s)
{
	struct stacks_images *im;

	if (!session__find_proc(s, s->root))
		return;
	im = calloc(1, sizeof(*im));
	if (!im || stacks_images_read(s->root, im)) {
		free(im);
		return;
	}
	if (s->images) {
		stacks_images_release(s->images);
		free(s->images);
	}
	s->images = im;
}

struct region *collector__start(struct collector *c, struct session *s, const char *name,
				int64_t repeat, json_t *params, const char *group, int owner)
{
	struct region *r;

	/* the configured caps; SESSION_MAX_OPEN is the hard ceiling behind max_open_regions */
	if ((uint64_t)s->nr_open >= c->cfg.max_open_regions ||
	    (uint64_t)(s->nr_open + s->nr_closed) >= c->cfg.max_regions) {
		errno = EMFILE;
		return NULL;
	}
	collector__drain(c);
	reset_hwm(s);
	r = session__start(s, name, repeat, params, group, collector__now_ns(),
			   collector__session_lost(c, s));
	if (!r)
		return NULL;
	r->owner = owner;
	update_recording(c, s);
	if (s->profile) {
		r->spool = spool__new(&c->budget, c->spill_dir);
		if (!r->spool)
			pr_warn("session %u: region '%s' keeps no profile: %s", s->id, name,
				strerror(errno));
	}
	return r;
}

const struct region *collector__stop(struct collector *c, struct session *s, struct region *r,
				     bool aborted)
{
	bool ok;
	uint64_t hwm;

	collector__drain(c);
	hwm = session_hwm(s, &ok);
	if (ok && (!r->has_rss || hwm > r->rss_bytes)) {
		r->rss_bytes = hwm;
		r->has_rss = true;
	}
	const struct region *done =
		session__close(s, r, collector__now_ns(), collector__session_lost(c, s), aborted);

	update_recording(c, s);
	return done;
}

json_t *collector__results(struct collector *c, struct session *s)
{
	collector__drain(c);
	return session__results(s, BM_VERSION, probe__mode(c->probe),
				collector__session_lost(c, s));
}

static void write_result_file(struct collector *c, struct session *s)
{
	char path[PATH_MAX], safe[BM_NAME_MAX + 1];
	const char *name = s->nr_closed ? s->closed[0].name : "session";
	json_t *doc;
	int err;

	if (c->embedded || !s->nr_closed)
		return;
	proto_sanitize_filename(name, safe, sizeof(safe));
	mkdir(c->cfg.result_dir, 0755);
	/* session ids restart with the daemon: never replace a file an earlier run wrote */
	for (int i = 0; i < 1000; i++) {
		struct stat st;

		if (i)
			snprintf(path, sizeof(path), "%s/%u-%s-%d.json", c->cfg.result_dir, s->id,
				 safe, i);
		else
			snprintf(path, sizeof(path), "%s/%u-%s.json", c->cfg.result_dir, s->id,
				 safe);
		if (lstat(path, &st) && errno == ENOENT)
			break;
	}
	doc = collector__results(c, s);
	if (!doc)
		return;
	err = results_write(doc, path);
	json_decref(doc);
	if (err)
		pr_err("session %u: cannot write %s: %s (results stay available over the socket)",
		       s->id, path, strerror(-err));
	else
		pr_info("session %u: results in %s", s->id, path);
}

/* Closes every open region of @s (the root ended, or the session is detached). */
static void close_all(struct collector *c, struct session *s, bool root_failed)
{
	while (s->nr_open) {
		struct region *r = s->open[s->nr_open - 1];

		/* the whole-run region ends normally with its command; others were left open */
		collector__stop(c, s, r, r->whole_run ? root_failed : true);
	}
}

void collector__detach(struct collector *c, struct session *s)
{
	close_all(c, s, false);
	for (int i = 0; i < s->nr_procs; i++)
		release_proc(c, s->procs[i]);
	while (s->nr_procs)
		session__remove_proc(s, s->procs[0]);
	s->ended = true;
	write_result_file(c, s);
}

/* Regions belong to their session, not to the connection that opened them: a shell script
 * starts a region with one benchmemctl and stops it with another. A region left open is
 * closed as aborted when its session ends. */
void collector__client_gone(struct collector *c, int client_id)
{
	for (int i = 0; i < c->nr_sessions; i++) {
		struct session *s = c->sessions[i];

		if (s->owner_client != client_id)
			continue;
		s->owner_client = 0;
		if (s->ended) {
			drop_session(c, s);
			i--;
		}
	}
}

struct session *collector__attach(struct collector *c, pid_t pid, uid_t uid, int owner,
				  bool follow_launch, bool profile, const char *name,
				  const char *command, char *err, size_t errlen)
{
	struct session *s;
	struct proc *p;
	int e;

	if (find_proc(c, pid)) {
		snprintf(err, errlen, "pid %d is already traced", pid);
		errno = EEXIST;
		return NULL;
	}
	s = new_session(c, pid, uid, command);
	if (!s) {
		snprintf(err, errlen, "cannot create a session: %s", strerror(errno));
		return NULL;
	}
	s->owner_client = owner;
	s->launched = follow_launch;
	s->profile = profile;
	p = add_proc(c, s, pid);
	e = p ? targets__seize(c->targets, pid) : -ENOMEM;
	if (!e && !follow_launch)
		e = attach_maps(c, p);
	if (e) {
		snprintf(err, errlen, "cannot trace pid %d: %s", pid,
			 e == -ENOENT ? "it maps no allocator (malloc) we can probe"
				      : strerror(-e));
		drop_session(c, s);
		errno = -e;
		return NULL;
	}
	if (follow_launch) {
		struct region *r = collector__start(c, s, name, 0, NULL, NULL, 0);

		if (r)
			r->whole_run = true;
	}
	pr_info("session %u: tracing pid %d for uid %u (%s)", s->id, pid, uid,
		follow_launch ? "launched" : "attached");
	return s;
}

int collector__launch_local(struct collector *c, pid_t pid, uid_t uid, const char *name,
			    const char *command, bool python_malloc, bool profile, bool hook,
			    char *err, size_t errlen)
{
	struct session *s =
		collector__attach(c, pid, uid, 0, true, profile, name, command, err, errlen);

	if (!s)
		return -errno;
	s->python_malloc = python_malloc;
	s->hook = hook;
	c->local = s;
	return 0;
}

struct session *collector__local_session(struct collector *c)
{
	return c->local;
}

void collector__forward_signal(struct collector *c, int sig)
{
	if (c->local && !c->local->ended)
		kill(c->local->root, sig);
}

json_t *collector__status(struct collector *c, uid_t uid, int nr_clients)
{
	json_t *list = json_array();

	collector__drain(c);
	for (int i = 0; i < c->nr_sessions; i++) {
		struct session *s = c->sessions[i];
		json_t *open = json_array(), *entry;
		uint64_t blocks = 0, table = 0;

		if (uid && s->uid != uid)
			continue;
		for (int j = 0; j < s->nr_procs; j++) {
			blocks += live_table__count(s->procs[j]->live);
			table += live_table__mem_bytes(s->procs[j]->live);
		}
		for (int j = 0; j < s->nr_open; j++)
			json_array_append_new(open, json_string(s->open[j]->name));
		entry = json_pack("{s:i, s:i, s:i, s:i, s:o, s:I, s:I, s:I}", "session", (int)s->id,
				  "root_pid", (int)s->root, "uid", (int)s->uid, "processes",
				  s->nr_procs, "open_regions", open, "closed_regions",
				  (json_int_t)s->nr_closed, "events", (json_int_t)s->events,
				  "lost_events", (json_int_t)collector__session_lost(c, s));
		/* the daemon's own memory for the live tables: bounded per live block */
		json_object_set_new(entry, "live_blocks", json_integer((json_int_t)blocks));
		json_object_set_new(entry, "live_table_bytes", json_integer((json_int_t)table));
		json_array_append_new(list, entry);
	}
	return json_pack("{s:o, s:i, s:I, s:s}", "sessions", list, "clients", nr_clients,
			 "lost_events", (json_int_t)collector__lost(c), "attach",
			 probe__mode(c->probe));
}

/* The closed region @name of @s: repeat @repeat, or (@repeat < 0) the pass whose peak is
 * the headline (the minimum), the one a regression report is about. */
static struct region *find_closed(struct session *s, const char *name, int64_t repeat)
{
	struct region *best = NULL;

	for (size_t i = 0; i < s->nr_closed; i++) {
		struct region *r = &s->closed[i];

		if (strcmp(r->name, name))
			continue;
		if (repeat >= 0 ? r->repeat == repeat
				: (!best || r->acct.peak_bytes < best->acct.peak_bytes))
			best = r;
	}
	return best;
}

/* The closed region a profile request names and a fresh file name for it: 0 with *@out and
 * @path set, 1 when its .bin exists already (*@out's profile), or -errno with @err. */
static int profile_target(struct collector *c, struct session *s, const char *name, int64_t repeat,
			  struct region **out, char *path, size_t len, char *err, size_t errlen)
{
	struct region *r = find_closed(s, name, repeat);
	int e;

	if (!r) {
		snprintf(err, errlen, "no closed region '%s'", name);
		return -ENOENT;
	}
	*out = r;
	if (r->profile)
		return 1;
	if (!r->spool) {
		snprintf(err, errlen, "region '%s' kept no events (profiles were not requested)",
			 name);
		return -ENODATA;
	}
	/* the images are read when a profile is asked for while the root lives, else they are
	 * the ones read at its exit: not at every region stop */
	snapshot_images(s);
	e = profile_path(c->cfg.profile_dir, s, r, path, len);
	if (e)
		snprintf(err, errlen, "cannot use %s: %s", c->cfg.profile_dir, strerror(-e));
	return e;
}

/* Remembers that region @r of session @id has its .bin at @path. */
static void profile_written(uint32_t id, struct region *r, const char *path)
{
	if (!r->profile)
		r->profile = strdup(path);
	pr_info("session %u: profile of '%s' in %s", id, r->name, path);
}

const char *collector__profile(struct collector *c, struct session *s, const char *name,
			       int64_t repeat, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct region *r;
	int e = profile_target(c, s, name, repeat, &r, path, sizeof(path), err, errlen);

	if (e == 0) {
		e = profile_write(c->probe, s, r, path, err, errlen);
		if (e)
			pr_err("session %u: %s", s->id, err);
	}
	if (e < 0) {
		errno = -e;
		return NULL;
	}
	if (e == 0)
		profile_written(s->id, r, path);
	if (!r->profile) {
		snprintf(err, errlen, "out of memory");
		errno = ENOMEM;
	}
	return r->profile;
}

int collector__profile_start(struct collector *c, struct session *s, const char *name,
			     int64_t repeat, int client_id, const char **path, char *err,
			     size_t errlen)
{
	struct writer_job *j = &c->jobs[c->nr_jobs];
	struct region *r;
	pid_t pid;
	int e;

	if (c->nr_jobs == COLLECTOR_MAX_WRITERS) {
		snprintf(err, errlen, "%d profiles are being written; ask again",
			 COLLECTOR_MAX_WRITERS);
		return -EBUSY;
	}
	e = profile_target(c, s, name, repeat, &r, j->path, sizeof(j->path), err, errlen);
	if (e == 1)
		*path = r->profile;
	if (e)
		return e;
	for (int i = 0; i < c->nr_jobs; i++) {
		if (c->jobs[i].session == s->id && c->jobs[i].repeat == r->repeat &&
		    !strcmp(c->jobs[i].name, r->name)) {
			snprintf(err, errlen, "the profile of '%s' is being written", name);
			return -EBUSY;
		}
	}
	pid = fork();
	if (pid < 0) {
		snprintf(err, errlen, "cannot fork a profile writer: %s", strerror(errno));
		return -errno;
	}
	if (pid == 0) {
		char why[512];

		/* the child has only this thread and a copy of the spool: write, then leave
		 * without running the parent's exit handlers */
		_exit(-profile_write(c->probe, s, r, j->path, why, sizeof(why)) & 0xff);
	}
	j->pid = pid;
	j->client = client_id;
	j->session = s->id;
	j->repeat = r->repeat;
	snprintf(j->name, sizeof(j->name), "%s", r->name);
	c->nr_jobs++;
	return 0;
}

/* A profile writer ended: record the file and answer the client that asked. */
static bool writer_done(struct collector *c, pid_t pid, int status)
{
	struct writer_job j;
	struct session *s;
	struct region *r;
	char err[PATH_MAX + 128];
	int code;

	for (int i = 0; i < c->nr_jobs; i++) {
		if (c->jobs[i].pid != pid)
			continue;
		j = c->jobs[i];
		c->jobs[i] = c->jobs[--c->nr_jobs];
		code = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
		s = collector__find_session_by_id(c, j.session);
		r = s ? find_closed(s, j.name, j.repeat) : NULL;
		if (code) {
			snprintf(err, sizeof(err), "cannot write %s: %s", j.path, strerror(code));
			pr_err("session %u: %s", j.session, err);
		} else if (r) {
			profile_written(j.session, r, j.path);
		}
		dispatch_profile_done(c->server, j.client, j.name, code ? NULL : j.path, err);
		return true;
	}
	return false;
}

/* ---- events --------------------------------------------------------------------------- */

static void spool_event(struct session *s, const struct bm_event *e)
{
	struct spool_rec r = { .addr = e->addr,
			       .size = e->size,
			       .tid = e->tid,
			       .stack_id = e->stack_id,
			       .kind = e->kind,
			       .func = e->func };

	for (int i = 0; i < s->nr_open; i++) {
		/* a full budget marks the spool truncated: the profile says so, results stay */
		if (s->open[i]->spool)
			spool__append(s->open[i]->spool, &r);
	}
}

static void on_event(void *arg, const struct bm_event *e)
{
	struct collector *c = arg;
	struct proc *p = find_proc(c, (pid_t)e->tgid);

	if (!p) {
		c->orphan_events++;
		return;
	}
	if (p->s->profile)
		spool_event(p->s, e);
	switch (e->kind) {
	case BM_EV_ALLOC:
		session__on_alloc(p->s, p, e->func, e->addr, e->size);
		break;
	case BM_EV_FREE:
		session__on_free(p->s, p, e->addr);
		break;
	case BM_EV_MUNMAP:
		session__on_munmap(p->s, p, e->addr, e->size);
		break;
	case BM_EV_HOOK_HELLO:
		hook_source__hello(c->hook, (pid_t)e->tgid, e->addr);
		if (!p->s->nr_open)
			hook_source__set_recording(c->hook, (pid_t)e->tgid, false);
		break;
	default:
		break;
	}
}

static void on_ringbuf(struct loop *l, int fd, uint32_t events, void *arg)
{
	(void)l;
	(void)fd;
	(void)events;
	collector__drain(arg);
}

/* Events below the BPF side's wake-up batch would otherwise wait for the next batch. */
static void on_drain_timer(struct loop *l, int fd, uint32_t events, void *arg)
{
	uint64_t ticks;

	(void)l;
	(void)events;
	if (read(fd, &ticks, sizeof(ticks)) < 0 && errno != EAGAIN)
		pr_warn("drain timer: %s", strerror(errno));
	collector__drain(arg);
}

static int setup_drain_timer(struct collector *c)
{
	struct itimerspec its = { .it_interval = { 0, BM_DRAIN_MS * 1000000L },
				  .it_value = { 0, BM_DRAIN_MS * 1000000L } };

	c->timerfd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
	if (c->timerfd < 0)
		return -errno;
	if (timerfd_settime(c->timerfd, 0, &its, NULL))
		return -errno;
	return loop__add(c->loop, c->timerfd, EPOLLIN, on_drain_timer, c);
}

/* ---- ptrace events -------------------------------------------------------------------- */

static void on_fork(void *arg, pid_t pid, pid_t parent)
{
	struct collector *c = arg;
	struct proc *pp = find_proc(c, parent), *p;

	if (!pp || find_proc(c, pid))
		return;
	p = add_proc(c, pp->s, pid);
	if (!p)
		return;
	/* the child runs the parent's image until it execs: the parent's hook (whose events so
	 * far must come first) or the same files probed */
	if (pp->hook) {
		ringbuf__drain(c->rb);
		hook_source__fork(c->hook, parent, pid);
		p->hook = true;
		return;
	}
	if (attach_exe(c, p))
		pr_warn("pid %d (child of %d): no allocator probed", pid, parent);
}

static void on_exec(void *arg, pid_t pid)
{
	struct collector *c = arg;
	struct proc *p = find_proc(c, pid);

	if (!p)
		return;
	collector__drain(c);
	session__on_exec(p->s, p);
	hook_source__forget(c->hook, pid);
	/* the old image's probes stay (a file-backed uprobe follows its inode); add the new */
	if (attach_image_or_hook(c, p))
		pr_warn("pid %d: the new image maps no allocator we can probe", pid);
}

static void on_exiting(void *arg, pid_t pid)
{
	struct collector *c = arg;
	struct proc *p = find_proc(c, pid);
	bool ok;
	uint64_t hwm;

	if (!p)
		return;
	collector__drain(c);
	/* last chance to read VmHWM and the maps: gone once the process is reaped */
	if (p->s->profile && pid == p->s->root)
		snapshot_images(p->s);
	hwm = session_hwm(p->s, &ok);
	if (ok)
		session__fold_rss(p->s, hwm);
}

static void on_exit_(void *arg, pid_t pid, int status)
{
	struct collector *c = arg;
	struct proc *p = find_proc(c, pid);
	struct session *s;

	if (!p) {
		writer_done(c, pid, status);
		return;
	}
	s = p->s;
	collector__drain(c);
	release_proc(c, p);
	if (pid == s->root) {
		s->ended = true;
		s->exit_status = status;
		close_all(c, s, WIFSIGNALED(status));
		write_result_file(c, s);
	}
	session__remove_proc(s, p);
	if (c->embedded && s == c->local && s->ended)
		loop__stop(c->loop);
	else if (s->ended && !s->nr_procs && !s->owner_client)
		drop_session(c, s);
}

static void on_task_gone(void *arg, pid_t tid)
{
	struct collector *c = arg;

	probe__forget_thread(c->probe, (uint32_t)tid);
}

/* ---- signals -------------------------------------------------------------------------- */

static void on_signal(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct collector *c = arg;
	struct signalfd_siginfo si;

	(void)events;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD) {
			targets__reap(c->targets);
			continue;
		}
		if (c->embedded) {
			/* a terminal's ^C reaches the whole process group already (ssi_pid 0);
			 * a kill aimed at benchmem-run is passed on to the command */
			if (si.ssi_pid)
				collector__forward_signal(c, (int)si.ssi_signo);
			continue;
		}
		pr_info("signal %u: shutting down", si.ssi_signo);
		loop__stop(l);
	}
}

static int setup_signals(struct collector *c)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGCHLD);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigaddset(&set, SIGQUIT);
	if (sigprocmask(SIG_BLOCK, &set, NULL))
		return -errno;
	c->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (c->sigfd < 0)
		return -errno;
	return loop__add(c->loop, c->sigfd, EPOLLIN, on_signal, c);
}

/* ---- life cycle ----------------------------------------------------------------------- */

static void on_request(void *arg, struct client *cl, const char *line, size_t len)
{
	struct collector *c = arg;

	dispatch_request(c, c->server, cl, line, len);
}

static void on_close(void *arg, struct client *cl)
{
	struct collector *c = arg;

	collector__client_gone(c, cl->id);
}

struct collector *collector__new(const struct collector_opts *o, char *err, size_t errlen)
{
	static const struct targets_ops tops = { on_fork, on_exec, on_exiting, on_exit_,
						 on_task_gone };
	static const struct server_ops sops = { on_request, on_close };
	struct probe_opts po = { .system_wide = o->cfg.attach_mode == BM_ATTACH_SYSTEM,
				 .ringbuf_bytes = o->cfg.ring_buffer };
	struct collector *c = calloc(1, sizeof(*c));
	int e = 0;

	if (!c)
		return NULL;
	c->cfg = o->cfg;
	c->embedded = o->embedded;
	c->system_wide = o->cfg.attach_mode == BM_ATTACH_SYSTEM;
	c->global.tgid = -1;
	c->budget.mem_limit = o->cfg.spool_memory;
	c->budget.disk_limit = o->cfg.spool_disk;
	snprintf(c->spill_dir, sizeof(c->spill_dir), "%s",
		 o->embedded ? (getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp") : o->cfg.state_dir);
	mkdir(c->spill_dir, 0755);
	c->sigfd = -1;
	c->timerfd = -1;
	c->ready_fd = o->ready_fd;
	c->loop = loop__new();
	if (!c->loop) {
		e = -errno;
		snprintf(err, errlen, "epoll: %s", strerror(errno));
		goto fail;
	}
	c->probe = probe__new(&po, err, errlen);
	if (!c->probe) {
		e = -errno;
		goto fail;
	}
	c->rb = ringbuf__new(probe__events_fd(c->probe), on_event, c);
	c->targets = targets__new(&tops, c);
	if (!c->rb || !c->targets) {
		e = -errno;
		snprintf(err, errlen, "cannot set up the ring buffer: %s", strerror(errno));
		goto fail;
	}
	c->hook = hook_source__new(probe__hook_batches_fd(c->probe), on_event, c);
	if (!c->hook) {
		e = -errno;
		snprintf(err, errlen, "cannot set up the hook's ring buffer: %s", strerror(errno));
		goto fail;
	}
	e = loop__add(c->loop, ringbuf__epoll_fd(c->rb), EPOLLIN, on_ringbuf, c);
	if (!e)
		e = loop__add(c->loop, hook_source__epoll_fd(c->hook), EPOLLIN, on_ringbuf, c);
	if (!e)
		e = setup_signals(c);
	if (!e)
		e = setup_drain_timer(c);
	if (e) {
		snprintf(err, errlen, "cannot set up the event loop: %s", strerror(-e));
		goto fail;
	}
	c->server = server__new(c->loop, o->listen_fd, (int)c->cfg.max_clients, c->cfg.max_line,
				&sops, c);
	if (!c->server) {
		e = -errno;
		snprintf(err, errlen, "cannot serve the socket: %s", strerror(errno));
		goto fail;
	}
	return c;
fail:
	collector__free(c);
	errno = e ? -e : EINVAL;
	return NULL;
}

void collector__free(struct collector *c)
{
	if (!c)
		return;
	server__free(c->server);
	targets__free(c->targets);
	while (c->nr_sessions)
		drop_session(c, c->sessions[0]);
	for (int i = 0; c->probe && i < c->global.nr_libs; i++)
		probe__release(c->probe, &c->global.links[i]);
	free(c->sessions);
	if (c->probe)
		probe__release(c->probe, &c->hook_links);
	hook_source__free(c->hook);
	ringbuf__free(c->rb);
	probe__free(c->probe);
	if (c->sigfd >= 0)
		close(c->sigfd);
	if (c->timerfd >= 0)
		close(c->timerfd);
	loop__free(c->loop);
	free(c);
}

int collector__run(struct collector *c)
{
	int err;

	if (c->ready_fd >= 0) {
		if (write(c->ready_fd, "READY\n", 6) != 6)
			pr_warn("cannot write to the ready fd: %s", strerror(errno));
		close(c->ready_fd);
		c->ready_fd = -1;
	}
	/* a root that exited before the loop started was reaped by nobody yet */
	targets__reap(c->targets);
	if (c->embedded && c->local && c->local->ended)
		return 0;
	err = loop__run(c->loop);
	if (!c->embedded) {
		for (int i = 0; i < c->nr_sessions; i++) {
			if (!c->sessions[i]->ended)
				collector__detach(c, c->sessions[i]);
		}
	}
	return err;
}

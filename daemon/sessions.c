// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/sessions.c — the session table, the status list, rss per session, result files. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "names.h"
#include "results.h"
#include "rss.h"
#include "sessions.h"
#include "spool.h"

struct sessions {
	struct session **v;
	int nr, cap;
	uint64_t max, max_open, max_regions;
	/* fairness: what one uid, and the whole daemon, may hold */
	uint64_t max_per_uid, max_open_per_uid;
	uint64_t max_stored, max_stored_per_uid;
	uint64_t max_held, max_held_per_uid;
	uint32_t next_id;
	struct spool_budget budget; /* shared by the spools of every profiled region */
	const char *spill_dir;
	struct proc *hot;	/* the process of the last event: consecutive events share it */
	uint64_t orphan_events; /* events of a process no session knows (already gone) */
};

struct sessions *sessions__new(const struct bm_config *cfg, const char *spill_dir)
{
	struct sessions *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->max = cfg->max_sessions;
	t->max_open = cfg->max_open_regions;
	t->max_regions = cfg->max_regions;
	t->max_per_uid = cfg->max_sessions_per_uid;
	t->max_open_per_uid = cfg->max_open_regions_per_uid;
	t->max_stored = cfg->max_stored_regions;
	t->max_stored_per_uid = cfg->max_stored_regions_per_uid;
	t->max_held = cfg->max_params_bytes;
	t->max_held_per_uid = cfg->max_params_bytes_per_uid;
	t->budget.mem_limit = cfg->spool_memory;
	t->budget.disk_limit = cfg->spool_disk;
	t->spill_dir = spill_dir;
	return t;
}

void sessions__free(struct sessions *t)
{
	if (!t)
		return;
	while (t->nr)
		sessions__remove(t, t->v[0]);
	free(t->v);
	free(t);
}

int64_t sessions__unix_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* An attached process's command line (arguments joined by spaces) into @buf; "" when gone.
 * Its bytes are the process's own: a control byte becomes '?', so that a table printing it
 * (benchmemctl sessions, as root) cannot be steered by escape sequences. */
static const char *proc_cmdline(pid_t pid, char *buf, size_t len)
{
	char path[64];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", pid);
	f = fopen(path, "re");
	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	while (n && !buf[n - 1])
		n--;
	for (size_t i = 0; i < n; i++)
		buf[i] = !buf[i]					  ? ' '
			 : (unsigned char)buf[i] < 0x20 || buf[i] == 0x7f ? '?'
									  : buf[i];
	buf[n] = '\0';
	return buf;
}

/* What the sessions of @uid hold (all sessions when @all). */
struct holding {
	uint64_t sessions, open, stored, held;
};

static struct holding holding_of(const struct sessions *t, uid_t uid, bool all)
{
	struct holding h = { 0 };

	for (int i = 0; i < t->nr; i++) {
		const struct session *s = t->v[i];

		if (!all && s->uid != uid)
			continue;
		h.sessions++;
		h.open += (uint64_t)s->nr_open;
		h.stored += (uint64_t)s->nr_open + s->nr_closed;
		h.held += s->held_bytes;
	}
	return h;
}

struct session *sessions__add(struct sessions *t, pid_t root, uid_t uid, const char *command,
			      char *why, size_t whylen)
{
	struct holding mine = holding_of(t, uid, false);
	char cmdline[sizeof(((struct session *)0)->command)];
	struct session *s;

	if ((uint64_t)t->nr >= t->max || mine.sessions >= t->max_per_uid) {
		if ((uint64_t)t->nr >= t->max)
			snprintf(why, whylen, "max_sessions: %d sessions traced", t->nr);
		else
			snprintf(why, whylen,
				 "max_sessions_per_uid: uid %u has %" PRIu64 " sessions", uid,
				 mine.sessions);
		errno = EMFILE;
		return NULL;
	}
	if (t->nr == t->cap) {
		int cap = t->cap ? t->cap * 2 : 8;
		struct session **n = reallocarray(t->v, (size_t)cap, sizeof(*n));

		if (!n)
			return NULL;
		t->v = n;
		t->cap = cap;
	}
	/* attach names no command: the process's own command line names the job */
	if (!command || !command[0])
		command = proc_cmdline(root, cmdline, sizeof(cmdline));
	s = session__new(++t->next_id, uid, root, command);
	if (!s)
		return NULL;
	s->start_unix_ns = sessions__unix_now_ns();
	s->budget = &t->budget;
	s->spill_dir = t->spill_dir;
	t->v[t->nr++] = s;
	return s;
}

void sessions__remove(struct sessions *t, struct session *s)
{
	for (int i = 0; i < t->nr; i++) {
		if (t->v[i] != s)
			continue;
		t->v[i] = t->v[--t->nr];
		break;
	}
	t->hot = NULL;
	session__free(s);
	/* a long session's regions and result document leave megabytes of free heap that
	 * glibc keeps (fragmented, or brk'd after its mmap threshold rose): give them back,
	 * so a long-lived daemon's footprint follows what it holds, not its largest session */
	malloc_trim(0);
}

int sessions__count(const struct sessions *t)
{
	return t->nr;
}

struct session *sessions__at(const struct sessions *t, int i)
{
	return t->v[i];
}

struct session **sessions__all(const struct sessions *t, int *n)
{
	*n = t->nr;
	return t->v;
}

struct session *sessions__find_by_id(const struct sessions *t, uint32_t id)
{
	for (int i = 0; i < t->nr; i++) {
		if (t->v[i]->id == id)
			return t->v[i];
	}
	return NULL;
}

static struct proc *find_slow(struct sessions *t, pid_t tgid)
{
	for (int i = 0; i < t->nr; i++) {
		struct proc *p = session__find_proc(t->v[i], tgid);

		if (p)
			return t->hot = p;
	}
	return NULL;
}

/* Inline for the event path: one compare when the event's process is the last one's. */
static inline struct proc *find_proc(struct sessions *t, pid_t tgid)
{
	if (t->hot && t->hot->tgid == tgid)
		return t->hot;
	return find_slow(t, tgid);
}

struct proc *sessions__find_proc(struct sessions *t, pid_t tgid)
{
	return find_proc(t, tgid);
}

void sessions__remove_proc(struct sessions *t, struct proc *p)
{
	if (t->hot == p)
		t->hot = NULL;
	session__remove_proc(p->s, p);
}

void sessions__on_event(void *arg, const struct bm_event *e)
{
	struct sessions *t = arg;
	struct proc *p = find_proc(t, (pid_t)e->tgid);

	if (!p) {
		t->orphan_events++;
		return;
	}
	if (p->is_client) /* a hook or a source that read ahead: the tool's own calls */
		return;
	session__on_event(p->s, p, e);
}

void sessions__on_events(void *arg, uint32_t tgid, const struct bm_event *ev, size_t n)
{
	struct sessions *t = arg;
	struct proc *p = find_proc(t, (pid_t)tgid);

	if (!p) {
		t->orphan_events += n;
		return;
	}
	if (!p->is_client)
		session__on_events(p->s, p, ev, n);
}

json_t *sessions__status(const struct sessions *t, uid_t uid,
			 uint64_t (*lost_of)(void *arg, const struct session *s), void *arg)
{
	json_t *list = json_array();

	for (int i = 0; i < t->nr; i++) {
		struct session *s = t->v[i];
		json_t *open = json_array(), *entry;
		const char *whole = NULL;
		uint64_t blocks = 0, table = 0;

		if (uid && s->uid != uid)
			continue;
		for (int j = 0; j < s->nr_procs; j++) {
			blocks += live_table__count(s->procs[j]->live);
			table += live_table__mem_bytes(s->procs[j]->live);
		}
		for (int j = 0; j < s->nr_open; j++) {
			json_array_append_new(open, json_string(s->open[j]->name));
			if (s->open[j]->whole_run)
				whole = s->open[j]->name;
		}
		entry = json_pack("{s:i, s:i, s:i, s:i, s:o, s:I, s:I, s:I}", "session", (int)s->id,
				  "root_pid", (int)s->root, "uid", (int)s->uid, "processes",
				  s->nr_procs, "open_regions", open, "closed_regions",
				  (json_int_t)s->nr_closed, "events", (json_int_t)s->events,
				  "lost_events", (json_int_t)lost_of(arg, s));
		/* the daemon's own memory for the live tables: bounded per live block */
		json_object_set_new(entry, "live_blocks", json_integer((json_int_t)blocks));
		json_object_set_new(entry, "live_table_bytes", json_integer((json_int_t)table));
		json_object_set_new(entry, "lost_stacks", json_integer((json_int_t)s->lost_stacks));
		if (whole) /* the implicit whole-command region: a client marks it as such */
			json_object_set_new(entry, "command_region", json_string(whole));
		json_array_append_new(list, entry);
	}
	return list;
}

/* Sum of the resident high-water of @s's processes; *@ok false (and 0) when none could be
 * read. */
static uint64_t session_hwm(const struct session *s, bool *ok)
{
	uint64_t sum = 0, v;

	*ok = false;
	for (int i = 0; i < s->nr_procs; i++) {
		if (!s->procs[i]->is_client && !rss_hwm(s->procs[i]->tgid, &v)) {
			sum += v;
			*ok = true;
		}
	}
	return sum;
}

void sessions__fold_hwm(struct session *s)
{
	bool ok;
	uint64_t hwm = session_hwm(s, &ok);

	if (ok)
		session__fold_rss(s, hwm);
}

/* The first cap a new region of @s holding @bytes would break, named in @why; false when
 * none. Every count is of regions held (open and closed), so a stop never fails for them. */
static bool over_cap(const struct sessions *t, const struct session *s, uint64_t bytes, char *why,
		     size_t whylen)
{
	struct holding mine = holding_of(t, s->uid, false), all = holding_of(t, 0, true);

	/* SESSION_MAX_OPEN is the hard ceiling behind max_open_regions */
	if ((uint64_t)s->nr_open >= t->max_open)
		snprintf(why, whylen, "max_open_regions: session %u has %d regions open", s->id,
			 s->nr_open);
	else if ((uint64_t)s->nr_open + s->nr_closed >= t->max_regions)
		snprintf(why, whylen, "max_regions: session %u holds %zu regions", s->id,
			 (size_t)s->nr_open + s->nr_closed);
	else if (mine.open >= t->max_open_per_uid)
		snprintf(why, whylen,
			 "max_open_regions_per_uid: uid %u has %" PRIu64 " regions open", s->uid,
			 mine.open);
	else if (mine.stored >= t->max_stored_per_uid)
		snprintf(why, whylen,
			 "max_stored_regions_per_uid: uid %u holds %" PRIu64 " regions", s->uid,
			 mine.stored);
	else if (all.stored >= t->max_stored)
		snprintf(why, whylen, "max_stored_regions: the daemon holds %" PRIu64 " regions",
			 all.stored);
	else if (mine.held + bytes > t->max_held_per_uid)
		snprintf(why, whylen,
			 "max_params_bytes_per_uid: uid %u holds %" PRIu64
			 " bytes of names and params, this region %" PRIu64,
			 s->uid, mine.held, bytes);
	else if (all.held + bytes > t->max_held)
		snprintf(why, whylen,
			 "max_params_bytes: the daemon holds %" PRIu64
			 " bytes of names and params, this region %" PRIu64,
			 all.held, bytes);
	else
		return false;
	return true;
}

struct region *sessions__start_region(struct sessions *t, struct session *s, const char *name,
				      int64_t repeat, json_t *params, const char *group,
				      uint64_t now_ns, uint64_t lost, char *why, size_t whylen)
{
	uint64_t bytes = region_held_bytes(name, params, group);
	struct region *r;

	if (over_cap(t, s, bytes, why, whylen)) {
		errno = EMFILE;
		return NULL;
	}
	/* the reset below would erase what open regions have seen so far: fold it in first */
	sessions__fold_hwm(s);
	for (int i = 0; i < s->nr_procs; i++)
		rss_reset(s->procs[i]->tgid);
	r = session__start(s, name, repeat, params, group, now_ns, lost);
	if (r)
		s->held_bytes += bytes;
	return r;
}

const struct region *sessions__stop_region(struct session *s, struct region *r, uint64_t now_ns,
					   uint64_t lost, bool aborted)
{
	bool ok;
	uint64_t hwm = session_hwm(s, &ok);

	if (ok && (!r->has_rss || hwm > r->rss_bytes)) {
		r->rss_bytes = hwm;
		r->has_rss = true;
	}
	return session__close(s, r, now_ns, lost, aborted);
}

const char *sessions__job_name(const struct session *s, char *buf, size_t len)
{
	size_t n = strcspn(s->command, " "), base;

	for (size_t i = 0; i < s->nr_closed; i++) {
		if (s->closed[i].whole_run) {
			snprintf(buf, len, "%s", s->closed[i].name);
			return buf;
		}
	}
	for (base = n; base > 0 && s->command[base - 1] != '/'; base--)
		;
	if (n > base)
		snprintf(buf, len, "%.*s", (int)(n - base), s->command + base);
	else
		snprintf(buf, len, "session");
	return buf;
}

int sessions__write_result(const char *dir, gid_t dir_gid, const struct session *s,
			   const char *name, const json_t *doc, char *path, size_t len)
{
	char file[BM_NAME_MAX + 64], safe[BM_NAME_MAX + 1], stem[BM_NAME_MAX + 16];
	struct atomic_file_opts o = {
		.mode = SESSIONS_FILE_MODE, .uid = s->uid, .gid = s->gid, .noreplace = true
	};
	int err, dirfd = atomic_dir_open(dir, SESSIONS_DIR_MODE, dir_gid);

	path[0] = '\0';
	names_clean(name, safe, sizeof(safe));
	snprintf(stem, sizeof(stem), "%u-%s", s->id, safe);
	/* session ids restart with the daemon: never replace a file an earlier run wrote */
	err = dirfd < 0 ? dirfd : names_free_at(dirfd, stem, ".json", file, sizeof(file));
	if (err) {
		pr_err("session %u: no free file name for %s/%s.json: %s (results stay available "
		       "over the socket)",
		       s->id, dir, stem, strerror(-err));
		goto out;
	}
	err = results_write_at(doc, dirfd, file, &o);
	if (err) {
		pr_err("session %u: cannot write %s/%s: %s (results stay available over the "
		       "socket)",
		       s->id, dir, file, strerror(-err));
	} else {
		snprintf(path, len, "%s/%s", dir, file);
		pr_info("session %u: results in %s", s->id, path);
	}
out:
	if (dirfd >= 0)
		close(dirfd);
	return err;
}

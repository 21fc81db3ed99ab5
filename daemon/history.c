// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/history.c — the finished sessions and their regions' series, bounded. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>

#include "history.h"
#include "log.h"
#include "runs.h"
#include "sessions.h"

struct finished {
	uint32_t id;
	uid_t uid;
	char *name, *command, *result; /* result: NULL when no file was written */
	int64_t start_unix_ns, end_unix_ns;
	char end[32]; /* "exit 0", "signal 9", "detached" */
	size_t regions;
};

struct history {
	struct finished *v; /* oldest first */
	size_t nr, cap;
	size_t total;
	struct om_set series;
	char *host;
};

static void finished_free(struct finished *f)
{
	free(f->name);
	free(f->command);
	free(f->result);
}

struct history *history__new(size_t max_series, const char *host)
{
	struct history *h = calloc(1, sizeof(*h));

	if (!h)
		return NULL;
	h->host = strdup(host ? host : "");
	if (!h->host) {
		free(h);
		return NULL;
	}
	om_set_init(&h->series, max_series);
	return h;
}

void history__free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->nr; i++)
		finished_free(&h->v[i]);
	free(h->v);
	om_set_clear(&h->series);
	free(h->host);
	free(h);
}

/* Makes room for one more entry (dropping the oldest at the cap); NULL on ENOMEM. */
static struct finished *slot(struct history *h)
{
	if (h->nr == HISTORY_MAX_SESSIONS) {
		finished_free(&h->v[0]);
		memmove(&h->v[0], &h->v[1], (h->nr - 1) * sizeof(*h->v));
		h->nr--;
	}
	if (h->nr == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 16;
		struct finished *n = reallocarray(h->v, cap, sizeof(*n));

		if (!n)
			return NULL;
		h->v = n;
		h->cap = cap;
	}
	return memset(&h->v[h->nr], 0, sizeof(*h->v));
}

static void add_series(struct history *h, const struct session *s, const json_t *doc)
{
	char err[256], label[32];
	struct run *run;

	snprintf(label, sizeof(label), "session %u", s->id);
	/* run__from_doc takes a reference: the document outlives the run, nothing is changed */
	run = run__from_doc((json_t *)doc, label, err, sizeof(err));
	if (!run) {
		pr_warn("session %u: no metrics: %s", s->id, err);
		return;
	}
	if (om_set_add_run(&h->series, run, h->host) < 0)
		pr_warn("session %u: no metrics: out of memory", s->id);
	run__free(run);
}

void history__add(struct history *h, const struct session *s, const char *name, bool exited,
		  const json_t *doc, const char *result_path)
{
	struct finished *f = slot(h);

	if (doc)
		add_series(h, s, doc);
	if (!f) {
		pr_warn("session %u: not listed among finished sessions: out of memory", s->id);
		return;
	}
	f->id = s->id;
	f->uid = s->uid;
	f->name = strdup(name);
	f->command = strdup(s->command);
	f->result = result_path && result_path[0] ? strdup(result_path) : NULL;
	f->start_unix_ns = s->start_unix_ns;
	f->end_unix_ns = sessions__unix_now_ns();
	f->regions = s->nr_closed;
	if (!exited)
		snprintf(f->end, sizeof(f->end), "detached");
	else if (WIFSIGNALED(s->exit_status))
		snprintf(f->end, sizeof(f->end), "signal %d", WTERMSIG(s->exit_status));
	else
		snprintf(f->end, sizeof(f->end), "exit %d", WEXITSTATUS(s->exit_status));
	if (!f->name || !f->command || (result_path && result_path[0] && !f->result)) {
		finished_free(f);
		pr_warn("session %u: not listed among finished sessions: out of memory", s->id);
		return;
	}
	h->nr++;
	h->total++;
}

/* RFC 3339 UTC with seconds: "2026-11-28T09:14:03Z". */
static json_t *iso_time(int64_t unix_ns)
{
	time_t t = (time_t)(unix_ns / 1000000000LL);
	struct tm tm;
	char buf[32];

	if (!gmtime_r(&t, &tm) || !strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm))
		return json_null();
	return json_string(buf);
}

json_t *history__list(const struct history *h, uid_t uid)
{
	json_t *list = json_array();

	for (size_t i = 0; list && i < h->nr; i++) {
		const struct finished *f = &h->v[i];
		json_t *e;

		/* the trust rule: a user sees only their own sessions; root sees all */
		if (uid && f->uid != uid)
			continue;
		e = json_pack("{s:i, s:i, s:s, s:s, s:o, s:o, s:f, s:s, s:I, s:s?}", "session",
			      (int)f->id, "uid", (int)f->uid, "name", f->name, "command",
			      f->command, "started", iso_time(f->start_unix_ns), "ended",
			      iso_time(f->end_unix_ns), "seconds",
			      (double)(f->end_unix_ns - f->start_unix_ns) / 1e9, "end", f->end,
			      "regions", (json_int_t)f->regions, "result", f->result);
		if (!e || json_array_append_new(list, e)) {
			json_decref(list);
			errno = ENOMEM;
			return NULL;
		}
	}
	return list;
}

size_t history__count(const struct history *h)
{
	return h->total;
}

const struct om_set *history__series(const struct history *h)
{
	return &h->series;
}

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/sessions.h — the session table: ids, the configured cap, lookup by process and id,
 * the status document's session list, the resident high-water of a session's processes and
 * the result file a daemon session leaves behind. */
#ifndef BM_SESSIONS_H
#define BM_SESSIONS_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"
#include "session.h"

struct sessions;

/* At most @cfg's max_sessions at once, each with at most max_open_regions open and
 * max_regions started; their profiled regions spool under one budget (spool_memory,
 * spool_disk) with spill files in @spill_dir (the caller's, alive until the table is freed).
 * NULL + errno. */
struct sessions *sessions__new(const struct bm_config *cfg, const char *spill_dir);
/* NULL-safe; frees the sessions still in the table (their links must be released). */
void sessions__free(struct sessions *t);

/* A new session with the next id. NULL + errno (EMFILE: max_sessions or max_sessions_per_uid
 * is reached, named in @why). */
struct session *sessions__add(struct sessions *t, pid_t root, uid_t uid, const char *command,
			      char *why, size_t whylen);
/* Takes @s out of the table and frees it (its links must be released). */
void sessions__remove(struct sessions *t, struct session *s);

int sessions__count(const struct sessions *t);
int64_t sessions__unix_now_ns(void); /* CLOCK_REALTIME: what start_unix_ns holds */
struct session *sessions__at(const struct sessions *t, int i); /* 0 <= @i < count */
/* The table as an array of *@n sessions, valid until one is added or removed. */
struct session **sessions__all(const struct sessions *t, int *n);
struct session *sessions__find_by_id(const struct sessions *t, uint32_t id);
/* The process @tgid of any session, or NULL. The last one found is cached: consecutive
 * events mostly come from one process. */
struct proc *sessions__find_proc(struct sessions *t, pid_t tgid);
/* Removes and frees process @p of its session (its links must already be released). */
void sessions__remove_proc(struct sessions *t, struct proc *p);

/* The event sink (source.h's source_event_fn; @arg is the table): the event goes to its
 * process's session (session__on_event); an event of a process no session knows (gone
 * already) is only counted. */
void sessions__on_event(void *arg, const struct bm_event *e);
/* Its batch form (source.h's source_batch_fn): the process is found once per run. */
void sessions__on_events(void *arg, uint32_t tgid, const struct bm_event *ev, size_t n);

/* The "sessions" list of the status document: the sessions of @uid (all when 0), each with
 * the events lost by its processes as @lost_of(@arg, session) counts them. New reference. */
json_t *sessions__status(const struct sessions *t, uid_t uid,
			 uint64_t (*lost_of)(void *arg, const struct session *s), void *arg);

/* Region start and stop with the caps and the rss bookkeeping: a start folds the resident
 * high-water so far into the open regions, then restarts it in every process of @s; a stop
 * takes the high-water into @r. @lost: the session's lost events now. As session__start()
 * (plus EMFILE: a cap is reached — per session, per uid or in total — named by its config key
 * in @why) and session__close(). */
struct region *sessions__start_region(struct sessions *t, struct session *s, const char *name,
				      int64_t repeat, json_t *params, const char *group,
				      uint64_t now_ns, uint64_t lost, char *why, size_t whylen);
const struct region *sessions__stop_region(struct session *s, struct region *r, uint64_t now_ns,
					   uint64_t lost, bool aborted);
/* Folds the resident high-water of @s's processes into its open regions (a process is about
 * to go, and its VmHWM with it). */
void sessions__fold_hwm(struct session *s);

/* Result and profile files are their session owner's (uid, gid), readable by nobody else;
 * the directories the daemon creates for them are root's, 0750, in the socket's group (its
 * users may reach their own files by name). */
#define SESSIONS_FILE_MODE 0600
#define SESSIONS_DIR_MODE  0750

/* The name of @s's job, into @buf: the whole-run region's name (benchmem-run's --name, by
 * default the command's basename), else the basename of the command's first word (an attached
 * process's command line), else "session". Returns @buf. */
const char *sessions__job_name(const struct session *s, char *buf, size_t len);

/* Writes result document @doc of @s to a new file in @dir (opened without following a
 * symlink another user planted; created with group @dir_gid, SESSIONS_DIR_MODE) named after
 * its job @name: DIR/<session>-<sanitised name>.json (-1, -2... when a file of that name
 * exists: session ids restart with the daemon), its path into @path (@len bytes; "" when not
 * written). Logs where it went, or why not. Returns 0 or -errno. */
int sessions__write_result(const char *dir, gid_t dir_gid, const struct session *s,
			   const char *name, const json_t *doc, char *path, size_t len);

#endif /* BM_SESSIONS_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/profiles.h — profile jobs: which closed region a request names, its file name, the
 * root's images for symbols, and the forked writer processes (at most PROFILES_MAX_WRITERS at
 * once) whose completion is reported through a callback. profile.c writes the .bin itself. */
#ifndef BM_PROFILES_H
#define BM_PROFILES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "probe.h"
#include "sessions.h"

/* Writing a profile reads the whole spool and writes megabytes: a forked writer does it,
 * so the loop (and every other client) never waits for the disk. */
#define PROFILES_MAX_WRITERS 8

struct profiles;

/* A writer finished the profile of region @name that client @client_id asked for: @path on
 * success, else NULL and the one-line @err. */
typedef void profiles_done_fn(void *arg, int client_id, const char *name, const char *path,
			      const char *err);

/* Profiles of @p's stacks written into @dir (copied; created with group @dir_gid). NULL +
 * errno. */
struct profiles *profiles__new(struct probe *p, const char *dir, gid_t dir_gid);
void profiles__free(struct profiles *pr); /* NULL-safe; running writers finish on their own */

/* Who hears about finished writers (one listener; NULL: nobody). */
void profiles__on_done(struct profiles *pr, profiles_done_fn *fn, void *arg);

/* Reads @s's root's ELF images (for memray to symbolise native frames) while it lives. */
void profiles__snapshot(struct session *s);

/* Writes (once), in this process, the .bin of closed region @name of @s (@repeat, or the
 * min-peak pass when < 0). Returns its path (owned by the session) or NULL + errno with a
 * reason in @err (ENOENT: no such region; ENODATA: no events were kept). */
const char *profiles__write(struct profiles *pr, struct session *s, const char *name,
			    int64_t repeat, char *err, size_t errlen);

/* The same through a writer process while the loop goes on. Returns 0 when started (the
 * done callback reports for @client_id when it ends), 1 when the profile exists already
 * (*@path set), or -errno with @err (-EBUSY: too many writers at once, or this one is being
 * written; -ENOENT, -ENODATA as above). */
int profiles__start(struct profiles *pr, struct session *s, const char *name, int64_t repeat,
		    int client_id, const char **path, char *err, size_t errlen);

/* Child @pid ended with @status: when it was a writer, records its file in its region (if
 * its session in @t still exists), reports it, and returns true. */
bool profiles__reaped(struct profiles *pr, const struct sessions *t, pid_t pid, int status);

#endif /* BM_PROFILES_H */

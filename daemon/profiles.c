// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/profiles.c — profile requests: target region, file name, images, writer processes. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "atomic_file.h"
#include "log.h"
#include "profile.h"
#include "profiles.h"
#include "stacks.h"

struct writer_job {
	pid_t pid;
	int client;
	uint32_t session;
	uint32_t repeat;
	char name[BM_NAME_MAX + 1];
	char path[PATH_MAX];
};

struct profiles {
	struct probe *probe;
	char dir[PATH_MAX];
	gid_t dir_gid;
	profiles_done_fn *done;
	void *done_arg;
	struct writer_job jobs[PROFILES_MAX_WRITERS]; /* profile writers running now */
	int nr_jobs;
};

struct profiles *profiles__new(struct probe *p, const char *dir, gid_t dir_gid)
{
	struct profiles *pr = calloc(1, sizeof(*pr));

	if (!pr)
		return NULL;
	pr->probe = p;
	pr->dir_gid = dir_gid;
	snprintf(pr->dir, sizeof(pr->dir), "%s", dir);
	return pr;
}

void profiles__free(struct profiles *pr)
{
	free(pr);
}

void profiles__on_done(struct profiles *pr, profiles_done_fn *fn, void *arg)
{
	pr->done = fn;
	pr->done_arg = arg;
}

void profiles__snapshot(struct session *s)
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

/* The closed region a profile request names, the profile directory (*@dirfd, the caller
 * closes it) and a fresh file name in it (@path: DIR/NAME, @name: NAME): 0 with *@out set, 1
 * when its .bin exists already (*@out's profile), or -errno with @err. */
static int profile_target(struct profiles *pr, struct session *s, const char *name, int64_t repeat,
			  struct region **out, int *dirfd, char *path, size_t len, char *err,
			  size_t errlen)
{
	struct region *r = session__find_closed(s, name, repeat);
	char file[BM_NAME_MAX + 64];
	int e;

	*dirfd = -1;
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
	profiles__snapshot(s);
	*dirfd = atomic_dir_open(pr->dir, SESSIONS_DIR_MODE, pr->dir_gid);
	e = *dirfd < 0 ? *dirfd : profile_name(*dirfd, s, r, file, sizeof(file));
	if (!e && (size_t)snprintf(path, len, "%s/%s", pr->dir, file) >= len)
		e = -ENAMETOOLONG;
	if (e) {
		snprintf(err, errlen, "cannot use %s: %s", pr->dir, strerror(-e));
		if (*dirfd >= 0)
			close(*dirfd);
		*dirfd = -1;
	}
	return e;
}

/* The file name part of @path (profile_target made it DIR/NAME). */
static const char *base_of(const char *path)
{
	return strrchr(path, '/') + 1;
}

/* Remembers that region @r of session @id has its .bin at @path. */
static void profile_written(uint32_t id, struct region *r, const char *path)
{
	if (!r->profile)
		r->profile = strdup(path);
	pr_info("session %u: profile of '%s' in %s", id, r->name, path);
}

const char *profiles__write(struct profiles *pr, struct session *s, const char *name,
			    int64_t repeat, char *err, size_t errlen)
{
	char path[PATH_MAX];
	struct region *r;
	int dirfd, e = profile_target(pr, s, name, repeat, &r, &dirfd, path, sizeof(path), err,
				      errlen);

	if (e == 0) {
		e = profile_write(pr->probe, s, r, dirfd, base_of(path), err, errlen);
		close(dirfd);
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

int profiles__start(struct profiles *pr, struct session *s, const char *name, int64_t repeat,
		    int client_id, const char **path, char *err, size_t errlen)
{
	struct writer_job *j = &pr->jobs[pr->nr_jobs];
	struct region *r;
	pid_t pid;
	int e, dirfd;

	if (pr->nr_jobs == PROFILES_MAX_WRITERS) {
		snprintf(err, errlen, "%d profiles are being written; ask again",
			 PROFILES_MAX_WRITERS);
		return -EBUSY;
	}
	e = profile_target(pr, s, name, repeat, &r, &dirfd, j->path, sizeof(j->path), err, errlen);
	if (e == 1)
		*path = r->profile;
	if (e)
		return e;
	for (int i = 0; i < pr->nr_jobs; i++) {
		if (pr->jobs[i].session == s->id && pr->jobs[i].repeat == r->repeat &&
		    !strcmp(pr->jobs[i].name, r->name)) {
			snprintf(err, errlen, "the profile of '%s' is being written", name);
			close(dirfd);
			return -EBUSY;
		}
	}
	pid = fork();
	if (pid == 0) {
		char why[512];

		/* the child has only this thread and a copy of the spool: write, then leave
		 * without running the parent's exit handlers */
		_exit(-profile_write(pr->probe, s, r, dirfd, base_of(j->path), why, sizeof(why)) &
		      0xff);
	}
	e = -errno;
	close(dirfd);
	if (pid < 0) {
		snprintf(err, errlen, "cannot fork a profile writer: %s", strerror(-e));
		return e;
	}
	j->pid = pid;
	j->client = client_id;
	j->session = s->id;
	j->repeat = r->repeat;
	snprintf(j->name, sizeof(j->name), "%s", r->name);
	pr->nr_jobs++;
	return 0;
}

bool profiles__reaped(struct profiles *pr, const struct sessions *t, pid_t pid, int status)
{
	struct writer_job j;
	struct session *s;
	struct region *r;
	char err[PATH_MAX + 128];
	int code;

	for (int i = 0; i < pr->nr_jobs; i++) {
		if (pr->jobs[i].pid != pid)
			continue;
		j = pr->jobs[i];
		pr->jobs[i] = pr->jobs[--pr->nr_jobs];
		code = WIFEXITED(status) ? WEXITSTATUS(status) : EIO;
		s = sessions__find_by_id(t, j.session);
		r = s ? session__find_closed(s, j.name, j.repeat) : NULL;
		if (code) {
			snprintf(err, sizeof(err), "cannot write %s: %s", j.path, strerror(code));
			pr_err("session %u: %s", j.session, err);
		} else if (r) {
			profile_written(j.session, r, j.path);
		}
		if (pr->done)
			pr->done(pr->done_arg, j.client, j.name, code ? NULL : j.path, err);
		return true;
	}
	return false;
}

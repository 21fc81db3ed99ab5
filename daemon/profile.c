// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/profile.c — one region's events → memray .bin, through memray/writer.c and spool.c. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "atomic_file.h"
#include "memray/pyframes.h"
#include "memray/writer.h"
#include "profile.h"
#include "pystacks.h"
#include "sessions.h"
#include "spool.h"
#include "stacks.h"

/* memray's python_allocator ids: 1 pymalloc, 3 malloc, 4 other (a native program). */
#define MEMRAY_PYMALLOC 1
#define MEMRAY_MALLOC	3
#define MEMRAY_OTHER	4

struct stack_cache {
	uint64_t *frames[BM_MAX_STACKS]; /* stack ids are indices below max_entries */
	uint8_t nr[BM_MAX_STACKS];
	uint8_t looked[BM_MAX_STACKS];
};

struct replay {
	struct memray_writer *w;
	struct probe *p;
	int slot; /* the session's stack map */
	struct stack_cache *cache;
	const struct pystacks *py;  /* the session's Python stacks; NULL: none captured */
	struct memray_pyframes *pf; /* each thread's Python stack in the file */
};

static const uint64_t *frames_of(struct replay *x, int32_t id, size_t *n)
{
	uint64_t ips[BM_STACK_DEPTH];
	int got;

	*n = 0;
	if (id < 0 || id >= BM_MAX_STACKS)
		return NULL;
	if (!x->cache->looked[id]) {
		x->cache->looked[id] = 1;
		got = probe__stack(x->p, x->slot, id, ips, BM_STACK_DEPTH);
		if (got > 0) {
			x->cache->frames[id] = malloc(sizeof(uint64_t) * (size_t)got);
			if (x->cache->frames[id]) {
				memcpy(x->cache->frames[id], ips, sizeof(uint64_t) * (size_t)got);
				x->cache->nr[id] = (uint8_t)got;
			}
		}
	}
	*n = x->cache->nr[id];
	return x->cache->frames[id];
}

static int replay_one(void *arg, const struct spool_rec *r)
{
	struct replay *x = arg;
	const uint64_t *frames;
	size_t n;

	switch (r->kind) {
	case BM_EV_ALLOC:
		frames = frames_of(x, r->stack_id, &n);
		if (x->pf) {
			const struct pystack *ps = pystacks__get(x->py, r->py_stack);
			int err = memray_pyframes__set(x->pf, x->w, r->tid, ps ? ps->f : NULL,
						       ps ? ps->n : 0);

			if (err)
				return err;
		}
		return memray_writer__alloc(x->w, r->tid, r->func, r->addr, r->size, frames, n);
	case BM_EV_FREE:
		return memray_writer__free_block(x->w, r->tid, r->addr);
	case BM_EV_MUNMAP:
		return memray_writer__munmap(x->w, r->tid, r->addr, r->size);
	default:
		return 0;
	}
}

static int64_t unix_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int write_records(int fd, struct probe *p, const struct session *s, const struct region *r)
{
	int64_t end_ms = unix_ms();
	struct memray_meta m = { .command_line = s->command,
				 .pid = s->root,
				 .start_ms = end_ms - (int64_t)(r->wall_ns / 1000000),
				 .end_ms = end_ms,
				 .python_allocator = !s->saw_python	? MEMRAY_OTHER
						     : s->python_malloc ? MEMRAY_MALLOC
									: MEMRAY_PYMALLOC,
				 .native_traces = true,
				 .python_version = pystacks__version(s->py) };
	struct replay x = { .p = p, .slot = s->stack_slot, .py = s->py };
	struct memray_image *imgs = NULL;
	int err;

	x.cache = calloc(1, sizeof(*x.cache));
	x.w = x.cache ? memray_writer__new(fd, &m) : NULL;
	if (!x.w) {
		err = -errno;
		goto out;
	}
	if (pystacks__nr_stacks(s->py)) {
		x.pf = memray_pyframes__new();
		if (!x.pf) {
			err = -ENOMEM;
			goto out;
		}
	}
	if (s->images && s->images->n) {
		err = stacks_images_to_memray(s->images, &imgs);
		if (!err)
			err = memray_writer__maps(x.w, imgs, s->images->n);
		if (err)
			goto out;
	}
	err = spool__replay(r->spool, replay_one, &x);
	if (!err)
		err = memray_writer__finish(x.w);
out:
	memray_pyframes__free(x.pf);
	memray_writer__free(x.w);
	for (size_t i = 0; x.cache && i < BM_MAX_STACKS; i++)
		free(x.cache->frames[i]);
	free(x.cache);
	free(imgs);
	return err;
}

int profile_write(struct probe *p, const struct session *s, const struct region *r, int dirfd,
		  const char *name, char *err, size_t errlen)
{
	struct atomic_file_opts o = {
		.mode = SESSIONS_FILE_MODE, .uid = s->uid, .gid = s->gid, .noreplace = true
	};
	char tmp[4096];
	int fd, e;

	if (!r->spool) {
		snprintf(err, errlen, "region '%s' kept no events (profiles were not requested)",
			 r->name);
		return -ENODATA;
	}
	fd = atomic_file_openat(dirfd, name, tmp, sizeof(tmp), &o);
	if (fd < 0) {
		snprintf(err, errlen, "cannot create %s: %s", name, strerror(-fd));
		return fd;
	}
	e = write_records(fd, p, s, r);
	if (e) {
		atomic_file_abortat(dirfd, fd, tmp);
		snprintf(err, errlen, "cannot write %s: %s", name, strerror(-e));
		return e;
	}
	e = atomic_file_commitat(dirfd, fd, tmp, name, &o);
	if (e)
		snprintf(err, errlen, "cannot write %s: %s", name, strerror(-e));
	return e;
}

int profile_name(int dirfd, const struct session *s, const struct region *r, char *out, size_t len)
{
	char safe[BM_NAME_MAX + 1], stem[BM_NAME_MAX + 32];

	names_clean(r->name, safe, sizeof(safe));
	snprintf(stem, sizeof(stem), "%u-%s-%u", s->id, safe, r->repeat);
	return names_free_at(dirfd, stem, ".bin", out, len);
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/spool.c — bounded per-region event spool: memory chunks, then a compressed temp file. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "spool.h"

/*
 * Order invariant: the stored records are, oldest first,
 *   spill file  ->  stage  ->  chunks (head .. tail).
 * The stage is used only while the spool owns no chunk, and is flushed to the file before
 * any chunk is spilled; chunks are spilled head (oldest) first. Every batch ends with a
 * Z_SYNC_FLUSH, so the file always inflates to exactly the records written to it.
 */

#define STAGE_RECS	128
#define SPILL_OUT_BYTES 16384
#define SPILL_LEVEL	1  /* Z_BEST_SPEED: spills run on the event loop; 26% of raw in the test */
#define SPILL_WBITS	13 /* raw deflate, 8 KiB window: about 70 KiB of state with memLevel 6 */
#define SPILL_MEMLEVEL	6
#define REPLAY_IN_BYTES 16384
#define REPLAY_OUT_RECS 512

struct chunk {
	struct chunk *next;
	uint32_t n;
	uint32_t __pad[5]; /* a 32-byte header: records stay 32-byte aligned */
	struct spool_rec recs[SPOOL_CHUNK_RECS];
};
_Static_assert(sizeof(struct chunk) == SPOOL_CHUNK_BYTES, "a chunk is exactly one charge");

struct spool {
	struct spool_budget *b;
	char *spill_dir; /* NULL: never spill */
	struct chunk *head, *tail;
	uint64_t nr_mem;     /* records in chunks and stage */
	uint64_t nr_disk;    /* records in the spill file */
	uint64_t nr_dropped; /* appends refused since truncation */
	uint64_t mem_bytes;  /* charged to b->mem_used */
	uint64_t disk_bytes; /* charged to b->disk_used; also the file size */
	bool truncated;
	int fd;	      /* spill file, -1 until the first spill */
	z_stream *zs; /* deflate state, NULL until the first spill */
	unsigned char *zout;
	uint32_t nr_stage;
	struct spool_rec stage[STAGE_RECS];
};

struct spool *spool__new(struct spool_budget *b, const char *spill_dir)
{
	struct spool *s;
	struct stat st;

	if (!b) {
		errno = EINVAL;
		return NULL;
	}
	if (spill_dir) {
		if (stat(spill_dir, &st))
			return NULL;
		if (!S_ISDIR(st.st_mode)) {
			errno = ENOTDIR;
			return NULL;
		}
	}
	s = calloc(1, sizeof(*s));
	if (!s)
		return NULL;
	s->b = b;
	s->fd = -1;
	if (spill_dir) {
		s->spill_dir = strdup(spill_dir);
		if (!s->spill_dir) {
			free(s);
			errno = ENOMEM;
			return NULL;
		}
	}
	return s;
}

void spool__free(struct spool *s)
{
	struct chunk *c, *next;

	if (!s)
		return;
	for (c = s->head; c; c = next) {
		next = c->next;
		free(c);
	}
	s->b->mem_used -= s->mem_bytes;
	s->b->disk_used -= s->disk_bytes;
	if (s->zs) {
		deflateEnd(s->zs);
		free(s->zs);
	}
	free(s->zout);
	if (s->fd >= 0)
		close(s->fd);
	free(s->spill_dir);
	free(s);
}

/* An anonymous file in the spill directory: O_TMPFILE where the file system has it. */
static int spill_open(const char *dir)
{
	char path[PATH_MAX];
	int fd, err;

	fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (fd >= 0)
		return fd;
	if (errno != EOPNOTSUPP && errno != EISDIR && errno != EINVAL)
		return -errno;
	if (snprintf(path, sizeof(path), "%s/benchmemd-spool.XXXXXX", dir) >= (int)sizeof(path))
		return -ENAMETOOLONG;
	fd = mkostemp(path, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (unlink(path)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

static int spill_init(struct spool *s)
{
	int fd, err;

	if (!s->spill_dir || !s->b->disk_limit)
		return -ENOSPC;
	s->zs = calloc(1, sizeof(*s->zs));
	s->zout = malloc(SPILL_OUT_BYTES);
	if (!s->zs || !s->zout) {
		err = -ENOMEM;
		goto fail;
	}
	if (deflateInit2(s->zs, SPILL_LEVEL, Z_DEFLATED, -SPILL_WBITS, SPILL_MEMLEVEL,
			 Z_DEFAULT_STRATEGY) != Z_OK) {
		err = -ENOMEM;
		goto fail;
	}
	fd = spill_open(s->spill_dir);
	if (fd < 0) {
		err = fd;
		deflateEnd(s->zs);
		goto fail;
	}
	s->fd = fd;
	return 0;
fail:
	free(s->zs);
	free(s->zout);
	s->zs = NULL;
	s->zout = NULL;
	return err;
}

static int pwrite_all(int fd, const void *buf, size_t len, off_t off)
{
	const char *p = buf;
	ssize_t w;

	while (len) {
		w = pwrite(fd, p, len, off);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
		off += w;
	}
	return 0;
}

/* Appends @n records to the spill file as one deflate batch ending in a sync flush.
 * All or nothing: on failure the file is cut back to its size before the batch (the
 * deflate state is then unusable, which is fine: the spool is truncated from then on). */
static int spill(struct spool *s, const struct spool_rec *recs, uint32_t n)
{
	uint64_t start = s->disk_bytes, written = 0;
	size_t have;
	int err;

	if (s->fd < 0) {
		err = spill_init(s);
		if (err)
			return err;
	}
	s->zs->next_in = (Bytef *)recs;
	s->zs->avail_in = n * (uInt)sizeof(*recs);
	do {
		s->zs->next_out = s->zout;
		s->zs->avail_out = SPILL_OUT_BYTES;
		if (deflate(s->zs, Z_SYNC_FLUSH) == Z_STREAM_ERROR) {
			err = -EIO;
			goto undo;
		}
		have = SPILL_OUT_BYTES - s->zs->avail_out;
		if (s->b->disk_used + have > s->b->disk_limit) {
			err = -ENOSPC;
			goto undo;
		}
		err = pwrite_all(s->fd, s->zout, have, (off_t)(start + written));
		if (err)
			goto undo;
		written += have;
		s->b->disk_used += have;
	} while (s->zs->avail_out == 0);
	s->disk_bytes = start + written;
	s->nr_disk += n;
	s->nr_mem -= n;
	return 0;
undo:
	s->b->disk_used -= written;
	if (written && ftruncate(s->fd, (off_t)start) < 0)
		err = -errno; /* the batch stays in the file: report why */
	return err;
}

static int stage_flush(struct spool *s)
{
	int err;

	if (!s->nr_stage)
		return 0;
	err = spill(s, s->stage, s->nr_stage);
	if (!err)
		s->nr_stage = 0;
	return err;
}

/* Finds room for one more record: the tail chunk, a new chunk, the spool's oldest chunk
 * after spilling it, or the stage. Returns the slot or NULL with *err. */
static struct spool_rec *slot(struct spool *s, int *err)
{
	struct chunk *c;

	if (s->tail && s->tail->n < SPOOL_CHUNK_RECS)
		return &s->tail->recs[s->tail->n++];
	if (s->b->mem_used + SPOOL_CHUNK_BYTES <= s->b->mem_limit) {
		c = malloc(sizeof(*c));
		if (!c) {
			*err = -ENOMEM;
			return NULL;
		}
		s->b->mem_used += SPOOL_CHUNK_BYTES;
		s->mem_bytes += SPOOL_CHUNK_BYTES;
	} else if (s->head) {
		*err = stage_flush(s);
		if (!*err)
			*err = spill(s, s->head->recs, s->head->n);
		if (*err)
			return NULL;
		c = s->head;
		s->head = c->next;
		if (!s->head)
			s->tail = NULL;
	} else {
		if (s->nr_stage == STAGE_RECS) {
			*err = stage_flush(s);
			if (*err)
				return NULL;
		}
		return &s->stage[s->nr_stage++];
	}
	c->next = NULL;
	c->n = 1;
	if (s->tail)
		s->tail->next = c;
	else
		s->head = c;
	s->tail = c;
	return &c->recs[0];
}

int spool__append(struct spool *s, const struct spool_rec *r)
{
	struct spool_rec *to;
	int err = -ENOSPC;

	if (s->truncated) {
		s->nr_dropped++;
		return -ENOSPC;
	}
	to = slot(s, &err);
	if (!to) {
		s->truncated = true;
		s->nr_dropped++;
		return err;
	}
	*to = *r;
	s->nr_mem++;
	return 0;
}

static int replay_disk(struct spool *s, int (*fn)(void *arg, const struct spool_rec *r), void *arg)
{
	const size_t out_bytes = REPLAY_OUT_RECS * sizeof(struct spool_rec);
	unsigned char *in = malloc(REPLAY_IN_BYTES);
	unsigned char *out = malloc(out_bytes);
	uint64_t off = 0, nr = 0;
	z_stream zs = { 0 };
	size_t kept = 0, full, i;
	bool zinit = false, filled;
	ssize_t got;
	int err = 0, zerr;

	if (!in || !out || inflateInit2(&zs, -15) != Z_OK) {
		err = -ENOMEM;
		goto out;
	}
	zinit = true;
	for (;;) {
		if (!zs.avail_in && off < s->disk_bytes) {
			uint64_t left = s->disk_bytes - off;

			got = pread(s->fd, in, left < REPLAY_IN_BYTES ? left : REPLAY_IN_BYTES,
				    (off_t)off);
			if (got < 0 && errno == EINTR)
				continue;
			if (got <= 0) {
				err = got < 0 ? -errno : -EIO;
				goto out;
			}
			off += (uint64_t)got;
			zs.next_in = in;
			zs.avail_in = (uInt)got;
		}
		zs.next_out = out + kept;
		zs.avail_out = (uInt)(out_bytes - kept);
		zerr = inflate(&zs, Z_SYNC_FLUSH);
		if (zerr != Z_OK && zerr != Z_BUF_ERROR) {
			err = -EIO;
			goto out;
		}
		filled = zs.avail_out == 0;
		kept = out_bytes - zs.avail_out;
		full = kept / sizeof(struct spool_rec);
		if (nr + full > s->nr_disk) {
			err = -EIO;
			goto out;
		}
		for (i = 0; i < full; i++) {
			struct spool_rec r;

			memcpy(&r, out + i * sizeof(r), sizeof(r));
			err = fn(arg, &r);
			if (err)
				goto out;
		}
		nr += full;
		kept -= full * sizeof(struct spool_rec);
		memmove(out, out + full * sizeof(struct spool_rec), kept);
		if (filled)
			continue; /* inflate may hold more output */
		if (!zs.avail_in && off == s->disk_bytes)
			break; /* everything read and inflated */
		if (zerr == Z_BUF_ERROR && zs.avail_in)
			break; /* no progress with input left: corrupt, caught below */
	}
	if (nr != s->nr_disk || kept)
		err = -EIO;
out:
	if (zinit)
		inflateEnd(&zs);
	free(in);
	free(out);
	return err;
}

int spool__replay(struct spool *s, int (*fn)(void *arg, const struct spool_rec *r), void *arg)
{
	const struct chunk *c;
	uint32_t i;
	int err;

	if (s->nr_disk) {
		err = replay_disk(s, fn, arg);
		if (err)
			return err;
	}
	for (i = 0; i < s->nr_stage; i++) {
		err = fn(arg, &s->stage[i]);
		if (err)
			return err;
	}
	for (c = s->head; c; c = c->next) {
		for (i = 0; i < c->n; i++) {
			err = fn(arg, &c->recs[i]);
			if (err)
				return err;
		}
	}
	return 0;
}

uint64_t spool__count(const struct spool *s)
{
	return s->nr_mem + s->nr_disk;
}

uint64_t spool__dropped(const struct spool *s)
{
	return s->nr_dropped;
}

bool spool__truncated(const struct spool *s)
{
	return s->truncated;
}

uint64_t spool__mem_bytes(const struct spool *s)
{
	return s->mem_bytes;
}

uint64_t spool__disk_bytes(const struct spool *s)
{
	return s->disk_bytes;
}

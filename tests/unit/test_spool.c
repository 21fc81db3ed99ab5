// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_spool.c — the event spool: spilling, in-order replay, shared budgets. */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "tap.h"
#include "benchmem.h"
#include "spool.h"

static char dir[] = "/tmp/test_spool.XXXXXX";

/* Record @i of a deterministic sequence; @noise makes it compress badly. */
static struct spool_rec rec(uint64_t i, int noise)
{
	uint64_t h = i * 0x9e3779b97f4a7c15ULL;
	struct spool_rec r = {
		.addr = 0x7f0000000000ULL + i * 48,
		.size = i % 4096 + 1,
		.tid = 1000 + (uint32_t)(i % 7),
		.stack_id = (int32_t)(i % 100) - 1,
		.kind = i % 3 ? BM_EV_ALLOC : BM_EV_FREE,
		.func = i % 3 ? BM_FN_MALLOC : BM_FN_FREE,
	};

	if (noise) {
		r.addr ^= h;
		r.size ^= h >> 17;
	}
	return r;
}

struct expect {
	uint64_t next; /* index of the record expected next */
	uint64_t bad;  /* records that differed */
	uint64_t stop; /* stop after this many (0: never) */
	int noise;
};

static int check_rec(void *arg, const struct spool_rec *r)
{
	struct expect *e = arg;
	struct spool_rec want = rec(e->next, e->noise);

	if (memcmp(r, &want, sizeof(want)))
		e->bad++;
	e->next++;
	return e->stop && e->next == e->stop ? 42 : 0;
}

static int nr_dir_entries(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static int nr_open_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)))
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static void test_million_records_in_one_mib_spill_and_replay_in_order(void)
{
	struct spool_budget b = { .mem_limit = 1 << 20, .disk_limit = 64 << 20 };
	int fds = nr_open_fds();
	struct expect e = { 0 };
	struct spool *s = spool__new(&b, dir);
	uint64_t i, failed = 0;

	CHECK(s != NULL);
	if (!s)
		return;
	for (i = 0; i < 1000000; i++) {
		struct spool_rec r = rec(i, 0);

		failed += spool__append(s, &r) != 0;
	}
	CHECK_U64(failed, 0);
	CHECK_U64(spool__count(s), 1000000);
	CHECK(!spool__truncated(s));
	/* 16 chunks of 64 KiB fill the 1 MiB exactly; the oldest records went to disk */
	CHECK_U64(spool__mem_bytes(s), 16 * SPOOL_CHUNK_BYTES);
	CHECK_U64(b.mem_used, 1 << 20);
	CHECK(spool__disk_bytes(s) > 0);
	CHECK_U64(b.disk_used, spool__disk_bytes(s));
	/* compressed: under 30% of the 30.9 MB the spilled records take raw (26% measured) */
	CHECK(spool__disk_bytes(s) * 10 < (1000000 - 16 * SPOOL_CHUNK_RECS) * 32 * 3);
	printf("# 1e6 records: %llu bytes on disk (%.1f%% of raw)\n",
	       (unsigned long long)spool__disk_bytes(s),
	       100.0 * (double)spool__disk_bytes(s) / ((1000000 - 16 * SPOOL_CHUNK_RECS) * 32.0));
	CHECK_I64(nr_dir_entries(), 0); /* the spill file has no name */
	CHECK_I64(nr_open_fds(), fds + 1);

	CHECK_I64(spool__replay(s, check_rec, &e), 0);
	CHECK_U64(e.next, 1000000);
	CHECK_U64(e.bad, 0);

	/* stopping early: fn's return comes back; a second replay starts again at 0 */
	e = (struct expect){ .stop = 500000 };
	CHECK_I64(spool__replay(s, check_rec, &e), 42);
	CHECK_U64(e.next, 500000);
	CHECK_U64(e.bad, 0);

	spool__free(s);
	CHECK_U64(b.mem_used, 0);
	CHECK_U64(b.disk_used, 0);
	CHECK_I64(nr_dir_entries(), 0);
	CHECK_I64(nr_open_fds(), fds);
}

static void test_memory_only_spool_keeps_everything_in_chunks(void)
{
	struct spool_budget b = { .mem_limit = 4 * SPOOL_CHUNK_BYTES };
	struct spool *s = spool__new(&b, NULL);
	struct expect e = { 0 };
	uint64_t i;

	spool__replay(s, check_rec, &e);
	CHECK_U64(e.next, 0);
	for (i = 0; i < 3 * SPOOL_CHUNK_RECS + 5; i++) {
		struct spool_rec r = rec(i, 0);

		CHECK_I64(spool__append(s, &r), 0);
	}
	CHECK_U64(spool__mem_bytes(s), 4 * SPOOL_CHUNK_BYTES);
	CHECK_U64(spool__disk_bytes(s), 0);
	CHECK_I64(spool__replay(s, check_rec, &e), 0);
	CHECK_U64(e.next, 3 * SPOOL_CHUNK_RECS + 5);
	CHECK_U64(e.bad, 0);
	spool__free(s);
	CHECK_U64(b.mem_used, 0);
	spool__free(NULL);
}

static void test_disk_budget_exhaustion_truncates_with_enospc(void)
{
	struct spool_budget b = { .mem_limit = 2 * SPOOL_CHUNK_BYTES, .disk_limit = 100000 };
	struct spool *s = spool__new(&b, dir);
	struct expect e = { .noise = 1 };
	uint64_t i, stored;
	int err = 0;

	for (i = 0; i < 100000 && !err; i++) {
		struct spool_rec r = rec(i, 1);

		err = spool__append(s, &r);
	}
	CHECK_I64(err, -ENOSPC);
	CHECK(spool__truncated(s));
	stored = spool__count(s);
	CHECK_U64(stored, i - 1); /* everything before the refused record */
	CHECK_U64(spool__dropped(s), 1);
	CHECK(b.disk_used <= b.disk_limit);
	CHECK(b.disk_used > b.disk_limit / 2);
	CHECK_U64(spool__mem_bytes(s), 2 * SPOOL_CHUNK_BYTES);
	/* two full chunks in memory plus whole spilled chunks */
	CHECK_U64(stored % SPOOL_CHUNK_RECS, 0);
	CHECK(stored > 2 * SPOOL_CHUNK_RECS);

	/* later appends are counted, not stored, even if they would fit */
	for (i = 0; i < 10; i++) {
		struct spool_rec r = rec(0, 1);

		CHECK_I64(spool__append(s, &r), -ENOSPC);
	}
	CHECK_U64(spool__count(s), stored);
	CHECK_U64(spool__dropped(s), 11);

	/* what is stored is an exact prefix */
	CHECK_I64(spool__replay(s, check_rec, &e), 0);
	CHECK_U64(e.next, stored);
	CHECK_U64(e.bad, 0);
	spool__free(s);
	CHECK_U64(b.mem_used, 0);
	CHECK_U64(b.disk_used, 0);
}

static void test_no_spill_dir_means_enospc_when_memory_is_full(void)
{
	struct spool_budget b = { .mem_limit = SPOOL_CHUNK_BYTES, .disk_limit = 1 << 20 };
	struct spool *s = spool__new(&b, NULL);
	uint64_t i;
	int err = 0;

	for (i = 0; i < 10000 && !err; i++) {
		struct spool_rec r = rec(i, 0);

		err = spool__append(s, &r);
	}
	CHECK_I64(err, -ENOSPC);
	CHECK_U64(spool__count(s), SPOOL_CHUNK_RECS);
	CHECK_U64(b.disk_used, 0);
	spool__free(s);
	CHECK_U64(b.mem_used, 0);
}

static void test_two_spools_share_one_budget(void)
{
	struct spool_budget b = { .mem_limit = 4 * SPOOL_CHUNK_BYTES, .disk_limit = 64 << 20 };
	struct spool *a = spool__new(&b, dir), *c = spool__new(&b, dir);
	struct expect ea = { 0 }, ec = { .noise = 1 };
	const uint64_t n = 3 * SPOOL_CHUNK_RECS;
	uint64_t i, failed = 0;

	/* a takes three chunks first; then both append in turn, c first: c gets the last one */
	for (i = 0; i < n; i++) {
		struct spool_rec r = rec(i, 0);

		failed += spool__append(a, &r) != 0;
	}
	CHECK_U64(b.mem_used, 3 * SPOOL_CHUNK_BYTES);
	for (i = 0; i < 2 * n; i++) {
		struct spool_rec ra = rec(n + i, 0), rc = rec(i, 1);

		failed += spool__append(c, &rc) != 0;
		failed += spool__append(a, &ra) != 0;
	}
	CHECK_U64(failed, 0);
	CHECK_U64(b.mem_used, 4 * SPOOL_CHUNK_BYTES);
	CHECK_U64(spool__mem_bytes(a) + spool__mem_bytes(c), b.mem_used);
	CHECK_U64(spool__mem_bytes(a), 3 * SPOOL_CHUNK_BYTES);
	CHECK_U64(spool__mem_bytes(c), SPOOL_CHUNK_BYTES);
	CHECK_U64(spool__disk_bytes(a) + spool__disk_bytes(c), b.disk_used);
	CHECK(spool__disk_bytes(a) > 0 && spool__disk_bytes(c) > 0);
	CHECK_U64(spool__count(a), 3 * n);
	CHECK_U64(spool__count(c), 2 * n);

	CHECK_I64(spool__replay(a, check_rec, &ea), 0);
	CHECK_U64(ea.next, 3 * n);
	CHECK_U64(ea.bad, 0);
	CHECK_I64(spool__replay(c, check_rec, &ec), 0);
	CHECK_U64(ec.next, 2 * n);
	CHECK_U64(ec.bad, 0);

	spool__free(a);
	CHECK_U64(b.mem_used, SPOOL_CHUNK_BYTES);
	CHECK_U64(b.disk_used, spool__disk_bytes(c));
	spool__free(c);
	CHECK_U64(b.mem_used, 0);
	CHECK_U64(b.disk_used, 0);
}

static void test_spool_without_a_chunk_stages_to_disk_then_uses_freed_memory(void)
{
	struct spool_budget b = { .mem_limit = SPOOL_CHUNK_BYTES, .disk_limit = 64 << 20 };
	struct spool *hog = spool__new(&b, dir), *s = spool__new(&b, dir);
	struct spool_rec r0 = rec(0, 0);
	struct expect e = { 0 };
	uint64_t i, failed = 0;

	CHECK_I64(spool__append(hog, &r0), 0); /* hog holds the only chunk */
	for (i = 0; i < 1000; i++) {
		struct spool_rec r = rec(i, 0);

		failed += spool__append(s, &r) != 0;
	}
	CHECK_U64(spool__mem_bytes(s), 0);
	CHECK(spool__disk_bytes(s) > 0);
	spool__free(hog); /* memory comes back: s now takes a chunk */
	for (; i < 1000 + 2 * SPOOL_CHUNK_RECS; i++) {
		struct spool_rec r = rec(i, 0);

		failed += spool__append(s, &r) != 0;
	}
	CHECK_U64(failed, 0);
	CHECK_U64(spool__mem_bytes(s), SPOOL_CHUNK_BYTES);
	CHECK_I64(spool__replay(s, check_rec, &e), 0);
	CHECK_U64(e.next, 1000 + 2 * SPOOL_CHUNK_RECS);
	CHECK_U64(e.bad, 0);
	spool__free(s);
	CHECK_U64(b.mem_used, 0);
	CHECK_U64(b.disk_used, 0);
}

static void test_new_rejects_a_missing_spill_dir(void)
{
	struct spool_budget b = { 0 };

	errno = 0;
	CHECK(spool__new(&b, "/nonexistent/spool") == NULL && errno == ENOENT);
	errno = 0;
	CHECK(spool__new(&b, "/proc/self/status") == NULL && errno == ENOTDIR);
	errno = 0;
	CHECK(spool__new(NULL, NULL) == NULL && errno == EINVAL);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	TEST(test_million_records_in_one_mib_spill_and_replay_in_order);
	TEST(test_memory_only_spool_keeps_everything_in_chunks);
	TEST(test_disk_budget_exhaustion_truncates_with_enospc);
	TEST(test_no_spill_dir_means_enospc_when_memory_is_full);
	TEST(test_two_spools_share_one_budget);
	TEST(test_spool_without_a_chunk_stages_to_disk_then_uses_freed_memory);
	TEST(test_new_rejects_a_missing_spill_dir);
	rmdir(dir);
	return tap_done();
}

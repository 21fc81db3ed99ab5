// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_ticks.c — nice axis ticks: round values, IEC sizes, decades, labels. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tap.h"
#include "ticks.h"

#define KiB 1024.0
#define MiB (1024.0 * 1024.0)

/* "a, b, c": the labels of every tick, to compare with one string. */
static const char *labels(const struct ticks *t, enum tick_unit u)
{
	static char out[512];
	char one[32];

	out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		if (i)
			strcat(out, ", ");
		strcat(out, ticks_label(t->v[i], u, one, sizeof(one)));
	}
	return out;
}

static void test_linear_sizes_step_by_powers_of_two(void)
{
	struct ticks t;

	ticks_linear(0, 700 * KiB, TICK_BYTES, &t);
	CHECK_STR(labels(&t, TICK_BYTES), "0, 256 KiB, 512 KiB, 768 KiB");
	CHECK(!t.log && t.lo == 0 && t.hi == 768 * KiB);
	ticks_linear(3 * MiB, 4.5 * MiB, TICK_BYTES, &t); /* bars start at 0 */
	CHECK_STR(labels(&t, TICK_BYTES), "0, 1 MiB, 2 MiB, 3 MiB, 4 MiB, 5 MiB");
	ticks_linear(0, 700, TICK_BYTES, &t); /* below 512 B a step: decimal */
	CHECK_STR(labels(&t, TICK_BYTES), "0, 200 B, 400 B, 600 B, 800 B");
	ticks_linear(0, 22 * MiB, TICK_BYTES, &t);
	CHECK_STR(labels(&t, TICK_BYTES), "0, 8 MiB, 16 MiB, 24 MiB");
}

static void test_linear_counts_and_times_step_1_2_5(void)
{
	struct ticks t;

	ticks_linear(0, 32500, TICK_COUNT, &t);
	CHECK_STR(labels(&t, TICK_COUNT), "0, 10k, 20k, 30k, 40k");
	ticks_linear(0, 3, TICK_COUNT, &t);
	CHECK_STR(labels(&t, TICK_COUNT), "0, 1, 2, 3");
	ticks_linear(0, 0.0021, TICK_SECONDS, &t);
	CHECK_STR(labels(&t, TICK_SECONDS), "0, 500 \u00b5s, 1 ms, 1.5 ms, 2 ms, 2.5 ms");
	ticks_linear(5, 5, TICK_COUNT, &t); /* one value: still an axis */
	CHECK(t.n >= 2 && t.hi >= 5);
}

static void test_log_counts_are_decades(void)
{
	struct ticks t;

	ticks_log(1, 32500, TICK_COUNT, &t);
	CHECK(t.log);
	CHECK_STR(labels(&t, TICK_COUNT), "1, 10, 100, 1000, 10k");
	CHECK(t.lo < 1 && t.hi > 32500);
	ticks_log(10, 10000, TICK_COUNT, &t);
	CHECK_STR(labels(&t, TICK_COUNT), "10, 100, 1000, 10k");
	ticks_log(3, 40, TICK_COUNT, &t); /* one decade: 1, 2, 5 between */
	CHECK_STR(labels(&t, TICK_COUNT), "5, 10, 20");
}

static void test_log_sizes_are_powers_of_two(void)
{
	struct ticks t;

	ticks_log(10000, 15000000, TICK_BYTES, &t);
	CHECK_STR(labels(&t, TICK_BYTES), "16 KiB, 64 KiB, 256 KiB, 1 MiB, 4 MiB, 16 MiB");
	ticks_log(200 * KiB, 5 * MiB, TICK_BYTES, &t);
	CHECK_STR(labels(&t, TICK_BYTES), "256 KiB, 512 KiB, 1 MiB, 2 MiB, 4 MiB");
	ticks_log(0, 100, TICK_BYTES, &t); /* zero: linear instead */
	CHECK(!t.log && t.lo == 0);
}

static void test_positions_follow_the_scale(void)
{
	struct ticks t;

	ticks_linear(0, 700 * KiB, TICK_BYTES, &t);
	CHECK(fabs(ticks_pos(&t, 384 * KiB) - 0.5) < 1e-9);
	CHECK(ticks_pos(&t, -5) == 0 && ticks_pos(&t, 1e12) == 1);
	ticks_log(1, 32500, TICK_COUNT, &t);
	CHECK(fabs(ticks_pos(&t, 10) - ticks_pos(&t, 1) -
		   (ticks_pos(&t, 100) - ticks_pos(&t, 10))) < 1e-9);
}

static void test_labels_are_short(void)
{
	char b[32];

	CHECK_STR(ticks_label(1536 * KiB, TICK_BYTES, b, sizeof(b)), "1.5 MiB");
	CHECK_STR(ticks_label(1023, TICK_BYTES, b, sizeof(b)), "1023 B");
	CHECK_STR(ticks_label(2500000, TICK_COUNT, b, sizeof(b)), "2.5M");
	CHECK_STR(ticks_label(0.5, TICK_COUNT, b, sizeof(b)), "0.5");
	CHECK_STR(ticks_label(2.5, TICK_SECONDS, b, sizeof(b)), "2.5 s");
	CHECK_STR(ticks_label(0, TICK_SECONDS, b, sizeof(b)), "0");
}

int main(void)
{
	TEST(test_linear_sizes_step_by_powers_of_two);
	TEST(test_linear_counts_and_times_step_1_2_5);
	TEST(test_log_counts_are_decades);
	TEST(test_log_sizes_are_powers_of_two);
	TEST(test_positions_follow_the_scale);
	TEST(test_labels_are_short);
	return tap_done();
}

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/ticks.h — axis ticks a reader can use: 1, 2, 5 x 10^k for counts and times, powers of
 * two for sizes (256 KiB, 1 MiB, 4 MiB), linear or log, and their labels; pure. */
#ifndef BM_TICKS_H
#define BM_TICKS_H

#include <stdbool.h>
#include <stddef.h>

#define TICKS_MAX 16

/* What the values measure: decides the round numbers and the label's unit. */
enum tick_unit {
	TICK_BYTES,   /* IEC sizes: B, KiB, MiB, GiB, TiB */
	TICK_COUNT,   /* plain numbers; 10k, 2.5M above 9999 */
	TICK_SECONDS, /* ns, µs, ms, s */
};

/* An axis: its domain [lo, hi] (what the plot area spans) and the ticks inside it. */
struct ticks {
	double lo, hi;
	bool log;
	size_t n;
	double v[TICKS_MAX];
};

/* Linear axis covering [0 or @lo, @hi] (@lo is lowered to 0 when >= 0, as bars need):
 * a step of 1, 2 or 5 x 10^k (a power of two for TICK_BYTES from 1 KiB up), at most 7
 * ticks; the domain ends on the last tick. @lo > @hi is swapped; equal values get a unit
 * span. Always fills at least two ticks. */
void ticks_linear(double lo, double hi, enum tick_unit u, struct ticks *t);

/* Log axis over [@lo, @hi] (both > 0, else it falls back to ticks_linear): the domain is
 * [@lo, @hi] widened by 5% of its log span on each side; ticks are the powers of 10 inside
 * (with 2 and 5 between them when fewer than three fit), or for TICK_BYTES powers of 2^k
 * with k the smallest that keeps at most 6 ticks. */
void ticks_log(double lo, double hi, enum tick_unit u, struct ticks *t);

/* Position of @v in [0, 1] along @t (log or linear); values outside clamp to the ends. */
double ticks_pos(const struct ticks *t, double v);

/* A short label for a tick value: "256 KiB", "1 MiB", "1.5 GiB", "0", "500", "10k",
 * "2.5M", "500 µs", "2 ms", "1.5 s". Returns @buf. */
const char *ticks_label(double v, enum tick_unit u, char *buf, size_t len);

#endif /* BM_TICKS_H */

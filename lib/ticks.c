// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/ticks.c — nice axis ticks and their labels; pure. */
#include <math.h>
#include <stdio.h>

#include "ticks.h"

/* The smallest round step >= @raw: 1, 2 or 5 x 10^k; for sizes from 512 B up a power of two,
 * so byte axes read 256 KiB, 512 KiB, 768 KiB rather than 200 KiB steps of 204800 bytes. */
static double nice_step(double raw, enum tick_unit u)
{
	double mag, f;

	if (u == TICK_BYTES && raw >= 512)
		return exp2(ceil(log2(raw)));
	mag = pow(10, floor(log10(raw)));
	f = raw / mag;
	return (f <= 1 ? 1 : f <= 2 ? 2 : f <= 5 ? 5 : 10) * mag;
}

void ticks_linear(double lo, double hi, enum tick_unit u, struct ticks *t)
{
	double step, start, end;

	if (lo > hi) {
		step = lo;
		lo = hi;
		hi = step;
	}
	if (lo >= 0)
		lo = 0;
	if (hi - lo <= 0 || !isfinite(hi - lo))
		hi = lo + (fabs(lo) > 0 && isfinite(lo) ? fabs(lo) : 1);
	/* a fifth of the span rounded up: 3 to 6 intervals */
	step = nice_step((hi - lo) / 5, u);
	start = floor(lo / step) * step;
	end = ceil(hi / step - 1e-9) * step;
	t->log = false;
	t->n = 0;
	while (t->n < TICKS_MAX && start + (double)t->n * step <= end + step * 1e-9) {
		t->v[t->n] = start + (double)t->n * step;
		t->n++;
	}
	t->lo = start;
	t->hi = t->v[t->n - 1];
}

/* Powers of 2^k inside the domain, k the smallest giving at most 6 ticks. */
static void log_bytes(struct ticks *t)
{
	double ea = log2(t->lo), eb = log2(t->hi), first = 0;
	int k;

	for (k = 1; k < 64; k++) {
		first = ceil(ea / k) * k;
		if (floor(eb / k) - ceil(ea / k) + 1 <= 6)
			break;
	}
	for (double e = first; e <= eb && t->n < TICKS_MAX; e += k)
		t->v[t->n++] = exp2(e);
}

/* Powers of ten inside the domain (every other one past 7 decades); 1, 2, 5 x 10^k when
 * fewer than three decades fit. */
static void log_decimal(struct ticks *t)
{
	static const double mult[] = { 1, 2, 5 };
	int ea = (int)ceil(log10(t->lo) - 1e-9), eb = (int)floor(log10(t->hi) + 1e-9), step = 1;

	if (eb - ea + 1 >= 3) {
		while ((eb - ea) / step + 1 > 7)
			step++;
		for (int e = ea; e <= eb && t->n < TICKS_MAX; e += step)
			t->v[t->n++] = pow(10, e);
		return;
	}
	for (int e = ea - 1; e <= eb; e++) {
		for (size_t i = 0; i < 3 && t->n < TICKS_MAX; i++) {
			double v = mult[i] * pow(10, e);

			if (v >= t->lo * (1 - 1e-9) && v <= t->hi * (1 + 1e-9))
				t->v[t->n++] = v;
		}
	}
}

void ticks_log(double lo, double hi, enum tick_unit u, struct ticks *t)
{
	double a, b, pad;

	if (!(lo > 0) || !(hi > 0) || !isfinite(lo) || !isfinite(hi)) {
		ticks_linear(lo, hi, u, t);
		return;
	}
	if (lo > hi) {
		a = lo;
		lo = hi;
		hi = a;
	}
	if (lo == hi) {
		lo /= 2;
		hi *= 2;
	}
	a = log10(lo);
	b = log10(hi);
	pad = (b - a) * 0.05;
	t->lo = pow(10, a - pad);
	t->hi = pow(10, b + pad);
	t->log = true;
	t->n = 0;
	if (u == TICK_BYTES)
		log_bytes(t);
	else
		log_decimal(t);
}

double ticks_pos(const struct ticks *t, double v)
{
	double p;

	if (t->log)
		p = v > 0 ? (log10(v) - log10(t->lo)) / (log10(t->hi) - log10(t->lo)) : 0;
	else
		p = t->hi > t->lo ? (v - t->lo) / (t->hi - t->lo) : 0.5;
	return p < 0 ? 0 : p > 1 ? 1 : p;
}

const char *ticks_label(double v, enum tick_unit u, char *buf, size_t len)
{
	static const char *const iec[] = { "B", "KiB", "MiB", "GiB", "TiB" };
	static const char *const si[] = { "", "k", "M", "G", "T" };
	static const char *const sec[] = { "ns", "\u00b5s", "ms", "s" };
	size_t i = 0;

	if (v == 0 || !isfinite(v)) {
		snprintf(buf, len, "0");
		return buf;
	}
	switch (u) {
	case TICK_BYTES:
		for (; fabs(v) >= 1024 && i + 1 < sizeof(iec) / sizeof(*iec); i++)
			v /= 1024;
		snprintf(buf, len, "%.4g %s", v, iec[i]);
		break;
	case TICK_COUNT:
		/* up to 9999 as is, then 10k, 32.5k, 2.5M */
		for (; fabs(v) >= (i ? 1000 : 1e4) && i + 1 < sizeof(si) / sizeof(*si); i++)
			v /= 1000;
		snprintf(buf, len, "%.4g%s", v, si[i]);
		break;
	case TICK_SECONDS:
		v *= 1e9;
		for (; fabs(v) >= 1000 && i + 1 < sizeof(sec) / sizeof(*sec); i++)
			v /= 1000;
		snprintf(buf, len, "%.4g %s", v, sec[i]);
		break;
	}
	return buf;
}

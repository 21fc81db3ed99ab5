// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_compare.c — golden cases for --fail-on rules, headlines, stats, ceilings. */
#include <errno.h>
#include <math.h>

#include "compare.h"
#include "tap.h"

#define MiB (1024ULL * 1024)

static struct cmp_headline hl(uint64_t peak, uint64_t total, uint64_t allocs)
{
	return (struct cmp_headline){ .peak_bytes = peak,
				      .total_bytes = total,
				      .allocations = allocs };
}

static int fires(const char *rule, struct cmp_headline base, struct cmp_headline cur)
{
	struct cmp_verdict v;
	struct cmp_rule r;
	char err[256];
	int ret;

	if (cmp_rule_parse(rule, &r, err, sizeof(err)))
		return -100;
	ret = cmp_rule_eval(&r, &base, &cur, &v);
	return ret ? ret : v.regressed;
}

static void test_parse_percent(void)
{
	struct cmp_rule r;
	char err[256] = "";

	CHECK_I64(cmp_rule_parse("peak:10%", &r, err, sizeof(err)), 0);
	CHECK(r.field == CMP_PEAK && r.percent && r.pct == 10.0);
	CHECK_I64(cmp_rule_parse("Allocations:2.5%", &r, err, sizeof(err)), 0);
	CHECK(r.field == CMP_ALLOCATIONS && r.percent && r.pct == 2.5);
	CHECK_I64(cmp_rule_parse("rss: 10 %", &r, err, sizeof(err)), 0);
	CHECK(r.field == CMP_RSS && r.percent && r.pct == 10.0);
}

static void test_parse_absolute(void)
{
	struct cmp_rule r;
	char err[256] = "";

	CHECK_I64(cmp_rule_parse("peak:5MiB", &r, err, sizeof(err)), 0);
	CHECK(!r.percent);
	CHECK_U64(r.limit, 5 * MiB);
	CHECK_I64(cmp_rule_parse("allocated:5 KiB", &r, err, sizeof(err)), 0);
	CHECK_U64(r.limit, 5120);
	CHECK_I64(cmp_rule_parse("peak:100B", &r, err, sizeof(err)), 0);
	CHECK_U64(r.limit, 100);
	CHECK_I64(cmp_rule_parse("peak:100", &r, err, sizeof(err)), 0);
	CHECK_U64(r.limit, 100);
	CHECK_I64(cmp_rule_parse("allocations:250", &r, err, sizeof(err)), 0);
	CHECK(r.field == CMP_ALLOCATIONS && !r.percent);
	CHECK_U64(r.limit, 250);
}

static void test_parse_errors(void)
{
	struct cmp_rule r;
	char err[256];

	err[0] = '\0';
	CHECK_I64(cmp_rule_parse("time:10%", &r, err, sizeof(err)), -EINVAL);
	CHECK(strstr(err, "time is not a memory field") != NULL);
	CHECK_I64(cmp_rule_parse("allocations:5KiB", &r, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "'allocations:5KiB': '5KiB' is not a count (allocations take a bare "
		       "number, no unit)");
	CHECK_I64(cmp_rule_parse("peak:5MB", &r, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "'peak:5MB': '5MB' is not a size (units: B, KiB, MiB, GiB)");
	CHECK_I64(cmp_rule_parse("peak:5mib", &r, err, sizeof(err)), -EINVAL);
	CHECK_I64(cmp_rule_parse("heap:10%", &r, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "'heap:10%': unknown field 'heap' (peak, allocated, allocations, rss)");
	CHECK_I64(cmp_rule_parse("peak", &r, err, sizeof(err)), -EINVAL);
	CHECK_I64(cmp_rule_parse("peak:", &r, err, sizeof(err)), -EINVAL);
	CHECK_I64(cmp_rule_parse("peak:-5%", &r, err, sizeof(err)), -EINVAL);
	CHECK_I64(cmp_rule_parse("peak:x%", &r, err, sizeof(err)), -EINVAL);
	CHECK_I64(cmp_rule_parse("peak:99999999999999999999", &r, err, sizeof(err)), -EINVAL);
}

/* pytest-benchmem test_compare.py: peak:10% fires on +20%, not on +5% */
static void test_percent_rule(void)
{
	CHECK_I64(fires("peak:10%", hl(1000000, 0, 0), hl(1200000, 0, 0)), 1);
	CHECK_I64(fires("peak:10%", hl(1000000, 0, 0), hl(1050000, 0, 0)), 0);
	/* strictly greater: exactly +10% passes, one byte more fails */
	CHECK_I64(fires("peak:10%", hl(1000, 0, 0), hl(1100, 0, 0)), 0);
	CHECK_I64(fires("peak:10%", hl(1000, 0, 0), hl(1101, 0, 0)), 1);
}

/* peak:1MiB fires on +2 MiB; exactly +1 MiB does not */
static void test_absolute_rule(void)
{
	CHECK_I64(fires("peak:1MiB", hl(10 * MiB, 0, 0), hl(12 * MiB, 0, 0)), 1);
	CHECK_I64(fires("peak:1MiB", hl(10 * MiB, 0, 0), hl(11 * MiB, 0, 0)), 0);
	CHECK_I64(fires("peak:1MiB", hl(10 * MiB, 0, 0), hl(11 * MiB + 1, 0, 0)), 1);
}

static void test_allocations_rule(void)
{
	/* 100 -> 125 is +25% > 20%; 100 -> 120 is exactly 20% */
	CHECK_I64(fires("allocations:20%", hl(1, 1, 100), hl(1, 1, 125)), 1);
	CHECK_I64(fires("allocations:20%", hl(1, 1, 100), hl(1, 1, 120)), 0);
	CHECK_I64(fires("allocated:50%", hl(1, 1000, 1), hl(1, 1600, 1)), 1);
	/* the peak rule does not look at allocations */
	CHECK_I64(fires("peak:10%", hl(100, 1, 100), hl(100, 1, 999)), 0);
}

/* pytest-benchmem's "peak:20%+8MiB": the growth must pass the percentage and the floor */
static void test_percent_and_floor_rule(void)
{
	struct cmp_rule r;
	char err[256] = "";

	CHECK_I64(cmp_rule_parse("peak: 20 % + 8 MiB", &r, err, sizeof(err)), 0);
	CHECK(r.field == CMP_PEAK && r.percent && r.floor && r.pct == 20.0);
	CHECK_U64(r.limit, 8 * MiB);
	/* +50% but +5 MiB: under the floor */
	CHECK_I64(fires("peak:20%+8MiB", hl(10 * MiB, 0, 0), hl(15 * MiB, 0, 0)), 0);
	/* +10 MiB but +10%: under the percentage */
	CHECK_I64(fires("peak:20%+8MiB", hl(100 * MiB, 0, 0), hl(110 * MiB, 0, 0)), 0);
	/* both passed; exactly the floor does not fire */
	CHECK_I64(fires("peak:20%+8MiB", hl(10 * MiB, 0, 0), hl(19 * MiB, 0, 0)), 1);
	CHECK_I64(fires("peak:20%+8MiB", hl(10 * MiB, 0, 0), hl(18 * MiB, 0, 0)), 0);
	/* a zero baseline never trips the percentage, whatever the floor */
	CHECK_I64(fires("peak:20%+1B", hl(0, 0, 0), hl(1024 * MiB, 0, 0)), 0);
	/* allocations: a bare count */
	CHECK_I64(fires("allocations:10%+5", hl(1, 1, 10), hl(1, 1, 16)), 1);
	CHECK_I64(fires("allocations:10%+5", hl(1, 1, 10), hl(1, 1, 15)), 0);
	CHECK_I64(cmp_rule_parse("allocations:10%+5KiB", &r, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "'allocations:10%+5KiB': '5KiB' is not a count (allocations take a bare "
		       "number, no unit)");
	CHECK_I64(cmp_rule_parse("peak:10%+", &r, err, sizeof(err)), -EINVAL);
	CHECK_I64(cmp_rule_parse("peak:x%+5MiB", &r, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "'peak:x%+5MiB': 'x%' is not a percentage");
	CHECK_I64(cmp_rule_parse("peak:10%", &r, err, sizeof(err)), 0);
	CHECK(!r.floor);
}

static void test_improvements_ignored(void)
{
	struct cmp_headline b = hl(2 * MiB, 0, 0), c = hl(MiB / 2, 0, 0);
	struct cmp_verdict v;
	struct cmp_rule r;
	char err[64];

	CHECK_I64(fires("peak:0%", b, c), 0);
	CHECK_I64(fires("peak:0B", b, c), 0);
	CHECK_I64(cmp_rule_parse("peak:0%", &r, err, sizeof(err)), 0);
	CHECK_I64(cmp_rule_eval(&r, &b, &c, &v), 0);
	CHECK_U64(v.base, 2 * MiB);
	CHECK_U64(v.cur, MiB / 2);
	CHECK(v.change_pct == -75.0);
	/* no change never fires even at 0 */
	CHECK_I64(fires("peak:0%", b, b), 0);
}

static void test_zero_baseline(void)
{
	CHECK_I64(fires("peak:10%", hl(0, 0, 0), hl(5 * MiB, 0, 0)), 0);
	CHECK_I64(fires("allocations:0%", hl(1, 1, 0), hl(1, 1, 7)), 0);
	/* an absolute rule still fires from zero */
	CHECK_I64(fires("peak:1MiB", hl(0, 0, 0), hl(2 * MiB, 0, 0)), 1);
}

static void test_rss_without_data(void)
{
	struct cmp_headline b = hl(1, 1, 1), c = hl(1, 1, 1);

	CHECK_I64(fires("rss:10%", b, c), -ENODATA);
	b.has_rss = true;
	b.rss_bytes = 100 * MiB;
	CHECK_I64(fires("rss:10%", b, c), -ENODATA);
	c.has_rss = true;
	c.rss_bytes = 111 * MiB;
	CHECK_I64(fires("rss:10%", b, c), 1);
	c.rss_bytes = 110 * MiB;
	CHECK_I64(fires("rss:10%", b, c), 0);
}

static void test_headline_min_peak_pass(void)
{
	uint64_t peak[] = { 900, 800, 850, 800 }, total[] = { 5000, 4000, 3000, 1 };
	uint64_t allocs[] = { 50, 40, 30, 2 }, rss[] = { 9000, 9500, 8000, 8800 };
	struct cmp_series s = { peak, total, allocs, NULL, 4 };
	struct cmp_headline h;

	CHECK_I64(cmp_headline_of(&s, &h), 0);
	CHECK_U64(h.peak_bytes, 800);
	/* the first min-peak pass (index 1), not the minima of their own series */
	CHECK_U64(h.total_bytes, 4000);
	CHECK_U64(h.allocations, 40);
	CHECK(!h.has_rss);
	s.rss_bytes = rss;
	CHECK_I64(cmp_headline_of(&s, &h), 0);
	CHECK(h.has_rss);
	CHECK_U64(h.rss_bytes, 8000);
	s.n = 0;
	CHECK_I64(cmp_headline_of(&s, &h), -EINVAL);
}

static void test_reduce(void)
{
	uint64_t v[] = { 4, 2, 8, 6 };
	double out;

	CHECK_I64(cmp_reduce(v, 4, CMP_STAT_MIN, &out), 0);
	CHECK(out == 2.0);
	CHECK_I64(cmp_reduce(v, 4, CMP_STAT_MAX, &out), 0);
	CHECK(out == 8.0);
	CHECK_I64(cmp_reduce(v, 4, CMP_STAT_MEAN, &out), 0);
	CHECK(out == 5.0);
	CHECK_I64(cmp_reduce(v, 4, CMP_STAT_MEDIAN, &out), 0);
	CHECK(out == 5.0);
	CHECK_I64(cmp_reduce(v, 3, CMP_STAT_MEDIAN, &out), 0);
	CHECK(out == 4.0);
	/* population stddev of 4,2,8,6: sqrt(20/4) */
	CHECK_I64(cmp_reduce(v, 4, CMP_STAT_STDDEV, &out), 0);
	CHECK(fabs(out - sqrt(5.0)) < 1e-12);
	CHECK_I64(cmp_reduce(v, 1, CMP_STAT_STDDEV, &out), 0);
	CHECK(out == 0.0);
	CHECK_I64(cmp_reduce(v, 0, CMP_STAT_MIN, &out), -EINVAL);
}

static void test_ceilings_worst_pass(void)
{
	uint64_t peak[] = { 90 * MiB, 101 * MiB, 95 * MiB }, total[] = { 10, 20, 30 };
	uint64_t allocs[] = { 100, 100, 100 };
	struct cmp_series s = { peak, total, allocs, NULL, 3 };
	uint64_t worst = 0;

	/* headline (min) 90 MiB is under 100 MiB, but the worst pass is over */
	CHECK_I64(cmp_ceiling_check(&s, CMP_PEAK, 100 * MiB, &worst), 1);
	CHECK_U64(worst, 101 * MiB);
	CHECK_I64(cmp_ceiling_check(&s, CMP_PEAK, 101 * MiB, &worst), 0);
	CHECK_I64(cmp_ceiling_check(&s, CMP_ALLOCATED, 29, &worst), 1);
	CHECK_U64(worst, 30);
	CHECK_I64(cmp_ceiling_check(&s, CMP_ALLOCATIONS, 100, &worst), 0);
	CHECK_I64(cmp_ceiling_check(&s, CMP_RSS, 1, &worst), -ENODATA);
}

static void test_limit_parse(void)
{
	uint64_t v = 0;
	char err[128];

	CHECK_I64(cmp_limit_parse(CMP_PEAK, "100MiB", &v, err, sizeof(err)), 0);
	CHECK_U64(v, 100 * MiB);
	CHECK_I64(cmp_limit_parse(CMP_ALLOCATIONS, "5000", &v, err, sizeof(err)), 0);
	CHECK_U64(v, 5000);
	CHECK_I64(cmp_limit_parse(CMP_ALLOCATIONS, "5000B", &v, err, sizeof(err)), -EINVAL);
	CHECK_I64(cmp_limit_parse(CMP_PEAK, "-1", &v, err, sizeof(err)), -EINVAL);
	CHECK_I64(cmp_limit_parse(CMP_PEAK, "1.5MiB", &v, err, sizeof(err)), -EINVAL);
}

int main(void)
{
	TEST(test_parse_percent);
	TEST(test_parse_absolute);
	TEST(test_parse_errors);
	TEST(test_percent_rule);
	TEST(test_absolute_rule);
	TEST(test_allocations_rule);
	TEST(test_percent_and_floor_rule);
	TEST(test_improvements_ignored);
	TEST(test_zero_baseline);
	TEST(test_rss_without_data);
	TEST(test_headline_min_peak_pass);
	TEST(test_reduce);
	TEST(test_ceilings_worst_pass);
	TEST(test_limit_parse);
	return tap_done();
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_units.c — sizes, percentages, strict integers. */
#include <errno.h>
#include "tap.h"
#include "units.h"

static void test_sizes_parse_with_iec_units_only(void)
{
	uint64_t v = 0;

	CHECK_I64(units_parse_bytes("4096", &v), 0);
	CHECK_U64(v, 4096);
	CHECK_I64(units_parse_bytes("5MiB", &v), 0);
	CHECK_U64(v, 5u << 20);
	CHECK_I64(units_parse_bytes("1GiB", &v), 0);
	CHECK_U64(v, 1u << 30);
	CHECK_I64(units_parse_bytes("7B", &v), 0);
	CHECK_U64(v, 7);
	CHECK_I64(units_parse_bytes("5mib", &v), -EINVAL);
	CHECK_I64(units_parse_bytes("5MB", &v), -EINVAL);
	CHECK_I64(units_parse_bytes("-5", &v), -EINVAL);
	CHECK_I64(units_parse_bytes("", &v), -EINVAL);
	CHECK_I64(units_parse_bytes("99999999999999999999", &v), -ERANGE);
	CHECK_I64(units_parse_bytes("17179869184GiB", &v), -ERANGE);
}

static void test_integers_and_percents_are_strict(void)
{
	uint64_t v;
	double p;

	CHECK_I64(units_parse_u64("12", 100, &v), 0);
	CHECK_U64(v, 12);
	CHECK_I64(units_parse_u64("12x", 100, &v), -EINVAL);
	CHECK_I64(units_parse_u64("101", 100, &v), -ERANGE);
	CHECK_I64(units_parse_percent("10%", &p), 0);
	CHECK(p == 10.0);
	CHECK_I64(units_parse_percent("2.5%", &p), 0);
	CHECK(p == 2.5);
	CHECK_I64(units_parse_percent("10", &p), -EINVAL);
	CHECK_I64(units_parse_percent("-1%", &p), -EINVAL);
}

static void test_format_uses_iec_units(void)
{
	char b[32];

	CHECK_STR(units_format_bytes(512, b, sizeof(b)), "512 B");
	CHECK_STR(units_format_bytes(1536, b, sizeof(b)), "1.50 KiB");
	CHECK_STR(units_format_bytes(3u << 20, b, sizeof(b)), "3.00 MiB");
	CHECK_STR(units_format_delta(-(1 << 20), b, sizeof(b)), "-1.00 MiB");
}

int main(void)
{
	TEST(test_sizes_parse_with_iec_units_only);
	TEST(test_integers_and_percents_are_strict);
	TEST(test_format_uses_iec_units);
	return tap_done();
}

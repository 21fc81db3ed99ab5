/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* tests/unit/tap.h — the TAP producer for C unit tests: one "ok N - name" per TEST(fn). */
#ifndef BM_TAP_H
#define BM_TAP_H

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define TAP_UNUSED __attribute__((unused))

static int tap_ran, tap_bad, tap_checks_failed;

static TAP_UNUSED int tap_check(int ok, const char *expr, const char *file, int line)
{
	if (!ok) {
		tap_checks_failed++;
		printf("#   check failed: %s\n#   at %s:%d\n", expr, file, line);
	}
	return ok;
}

static TAP_UNUSED int tap_check_u64(uint64_t got, uint64_t want, const char *expr, const char *file,
				    int line)
{
	if (got == want)
		return 1;
	tap_check(0, expr, file, line);
	printf("#   got:  %" PRIu64 "\n#   want: %" PRIu64 "\n", got, want);
	return 0;
}

static TAP_UNUSED int tap_check_i64(int64_t got, int64_t want, const char *expr, const char *file,
				    int line)
{
	if (got == want)
		return 1;
	tap_check(0, expr, file, line);
	printf("#   got:  %" PRId64 "\n#   want: %" PRId64 "\n", got, want);
	return 0;
}

static TAP_UNUSED int tap_check_str(const char *got, const char *want, const char *expr,
				    const char *file, int line)
{
	if (got && want && !strcmp(got, want))
		return 1;
	tap_check(0, expr, file, line);
	printf("#   got:  \"%s\"\n#   want: \"%s\"\n", got ? got : "(null)",
	       want ? want : "(null)");
	return 0;
}

#define CHECK(c)	tap_check(!!(c), #c, __FILE__, __LINE__)
#define CHECK_U64(g, w) tap_check_u64((g), (w), #g " == " #w, __FILE__, __LINE__)
#define CHECK_I64(g, w) tap_check_i64((g), (w), #g " == " #w, __FILE__, __LINE__)
#define CHECK_STR(g, w) tap_check_str((g), (w), #g " == " #w, __FILE__, __LINE__)

static TAP_UNUSED void tap_test(const char *name, void (*fn)(void))
{
	int before = tap_checks_failed;

	fn();
	tap_ran++;
	if (tap_checks_failed != before)
		tap_bad++;
	printf("%sok %d - %s\n", tap_checks_failed != before ? "not " : "", tap_ran, name);
	fflush(stdout);
}

#define TEST(fn) tap_test(#fn, fn)

static TAP_UNUSED int tap_done(void)
{
	printf("1..%d\n", tap_ran);
	return tap_bad ? 1 : 0;
}

#endif /* BM_TAP_H */

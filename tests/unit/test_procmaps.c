// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_procmaps.c — /proc/PID/maps parsing on a canned file. */
#include <stdlib.h>
#include "tap.h"
#include "procmaps.h"

static void test_canned_python_maps_parse_paths_perms_and_offsets(void)
{
	FILE *f = fopen("tests/fixtures/maps_python.txt", "r");
	struct procmaps_entry *e = NULL;
	int n;

	CHECK(f != NULL);
	if (!f)
		return;
	n = procmaps_parse(f, &e);
	fclose(f);
	CHECK_I64(n, 8);
	CHECK_U64(e[1].start, 0x55d0c8a6c000ULL);
	CHECK_U64(e[1].offset, 0x6c000);
	CHECK(e[1].exec && !e[0].exec);
	CHECK_STR(e[4].path, "/usr/lib/x86_64-linux-gnu/libc.so.6");
	CHECK_STR(e[2].path, "[heap]");
	CHECK_STR(e[5].path, "");
	free(e);
}

static void test_malformed_line_is_an_error(void)
{
	char text[] = "not a maps line\n";
	FILE *f = fmemopen(text, sizeof(text) - 1, "r");
	struct procmaps_entry *e = NULL;

	CHECK(procmaps_parse(f, &e) < 0);
	fclose(f);
}

int main(void)
{
	TEST(test_canned_python_maps_parse_paths_perms_and_offsets);
	TEST(test_malformed_line_is_an_error);
	return tap_done();
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_names.c — region-name validation, clean file names, and free file names:
 * suffixes in order, and an error (never an overwrite) once every candidate is taken. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "names.h"
#include "tap.h"

static char dir[] = "/tmp/test_names.XXXXXX";

static void test_sanitize_filename(void)
{
	char buf[64];
	char tiny[4];

	CHECK_STR(names_clean("tests/test_a.py::test_x[10]", buf, sizeof(buf)),
		  "tests_test_a.py__test_x_10_");
	CHECK_STR(names_clean("..", buf, sizeof(buf)), "_.");
	CHECK_STR(names_clean(".", buf, sizeof(buf)), "_");
	CHECK_STR(names_clean("", buf, sizeof(buf)), "_");
	CHECK_STR(names_clean("a b\xc3\xa9", buf, sizeof(buf)), "a_b__");
	CHECK_STR(names_clean("abcdef", tiny, sizeof(tiny)), "abc");
	CHECK_STR(names_clean("..x", tiny, 3), "_.");
}

static void test_valid_names(void)
{
	char long_name[130];

	CHECK(names_is_valid("a/b::c[x=1,y=2+3 z-w.]"));
	CHECK(!names_is_valid("a/../b"));
	CHECK(!names_is_valid(""));
	CHECK(!names_is_valid("tab\there"));
	memset(long_name, 'a', sizeof(long_name));
	long_name[128] = '\0';
	CHECK(names_is_valid(long_name)); /* BM_NAME_MAX bytes */
	long_name[128] = 'a';
	long_name[129] = '\0';
	CHECK(!names_is_valid(long_name));
}

static void touch(const char *path)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0644);

	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

static void test_free_path_suffixes_in_order(void)
{
	char path[256], want[256];

	CHECK_I64(names_free_path(dir, "1-grow", ".json", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/1-grow.json", dir);
	CHECK_STR(path, want);
	touch(path);
	CHECK_I64(names_free_path(dir, "1-grow", ".json", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/1-grow-1.json", dir);
	CHECK_STR(path, want);
	/* a dangling symlink is taken too: a root writer must not follow it */
	snprintf(want, sizeof(want), "%s/nowhere", dir);
	CHECK_I64(symlink(want, path), 0);
	CHECK_I64(names_free_path(dir, "1-grow", ".json", path, sizeof(path)), 0);
	snprintf(want, sizeof(want), "%s/1-grow-2.json", dir);
	CHECK_STR(path, want);
}

static void test_exhausted_names_are_an_error(void)
{
	char path[256];

	for (int i = 0; i < NAMES_MAX_TRIES; i++) {
		if (i)
			snprintf(path, sizeof(path), "%s/full-%d.bin", dir, i);
		else
			snprintf(path, sizeof(path), "%s/full.bin", dir);
		touch(path);
	}
	path[0] = 'x';
	CHECK_I64(names_free_path(dir, "full", ".bin", path, sizeof(path)), -EEXIST);
	/* one gap is found, the last one */
	snprintf(path, sizeof(path), "%s/full-%d.bin", dir, NAMES_MAX_TRIES - 1);
	CHECK_I64(unlink(path), 0);
	CHECK_I64(names_free_path(dir, "full", ".bin", path, sizeof(path)), 0);
	CHECK(strstr(path, "/full-999.bin") != NULL);
}

static void test_too_long_and_missing_dir(void)
{
	char small[16], path[256], missing[300];

	CHECK_I64(names_free_path(dir, "x", ".json", small, sizeof(small)), -ENAMETOOLONG);
	snprintf(missing, sizeof(missing), "%s/no/such", dir);
	CHECK_I64(names_free_path(missing, "x", ".json", path, sizeof(path)), 0); /* ENOENT: free */
	snprintf(missing, sizeof(missing), "%s/1-grow.json/sub", dir);
	CHECK_I64(names_free_path(missing, "x", ".json", path, sizeof(path)), -ENOTDIR);
}

/* Removes the files of the tests (one level) and the directory. */
static void cleanup(void)
{
	DIR *d = opendir(dir);
	struct dirent *de;

	while (d && (de = readdir(d))) {
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			unlinkat(dirfd(d), de->d_name, 0);
	}
	if (d)
		closedir(d);
	rmdir(dir);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 1;
	}
	TEST(test_sanitize_filename);
	TEST(test_valid_names);
	TEST(test_free_path_suffixes_in_order);
	TEST(test_exhausted_names_are_an_error);
	TEST(test_too_long_and_missing_dir);
	cleanup();
	return tap_done();
}

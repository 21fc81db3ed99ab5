// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_atomic_file.c — the dirfd form: directories opened without following a
 * planted symlink, files made with their mode and owner, never replacing a name. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "tap.h"
#include "atomic_file.h"

static char base[] = "/tmp/bm-atomic-XXXXXX";

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	while (d && (e = readdir(d)))
		n += e->d_name[0] != '.';
	if (d)
		closedir(d);
	return n;
}

static void test_dir_open_creates_every_missing_component_with_its_mode(void)
{
	char path[256];
	struct stat st;
	mode_t old = umask(077);
	int fd;

	snprintf(path, sizeof(path), "%s/a/b/c", base);
	fd = atomic_dir_open(path, 0750, (gid_t)-1);
	umask(old);
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
	CHECK_I64(stat(path, &st), 0);
	CHECK_U64(st.st_mode & 07777, 0750); /* whatever the umask */
	snprintf(path, sizeof(path), "%s/a/../a/b", base);
	fd = atomic_dir_open(path, 0750, (gid_t)-1); /* ".." is the parent, never a link */
	CHECK(fd >= 0);
	if (fd >= 0)
		close(fd);
}

static void test_only_roots_symlinks_are_followed(void)
{
	char link[256], target[256], via[256];
	int fd;

	snprintf(target, sizeof(target), "%s/a/b", base);
	snprintf(link, sizeof(link), "%s/link", base);
	snprintf(via, sizeof(via), "%s/link/c", base);
	CHECK_I64(symlink(target, link), 0);
	fd = atomic_dir_open(via, 0750, (gid_t)-1);
	if (geteuid() != 0) {
		/* not root: our own link is a user's link */
		CHECK_I64(fd, -ELOOP);
		return;
	}
	CHECK(fd >= 0); /* root's own link: an administrator's layout */
	if (fd >= 0)
		close(fd);
	CHECK_I64(lchown(link, 1000, 1000), 0); /* now a user planted it */
	CHECK_I64(atomic_dir_open(via, 0750, (gid_t)-1), -ELOOP);
}

static void test_writeat_sets_mode_and_never_replaces_or_follows(void)
{
	struct atomic_file_opts o = {
		.mode = 0600, .uid = getuid(), .gid = getgid(), .noreplace = true
	};
	char path[256], victim[256], buf[32] = "";
	struct stat st;
	int dirfd = atomic_dir_open(base, 0750, (gid_t)-1), fd;

	CHECK(dirfd >= 0);
	CHECK_I64(atomic_file_writeat(dirfd, "r.json", "{}\n", 3, &o), 0);
	snprintf(path, sizeof(path), "%s/r.json", base);
	CHECK_I64(lstat(path, &st), 0);
	CHECK_U64(st.st_mode, S_IFREG | 0600);
	CHECK_U64(st.st_uid, getuid());
	CHECK_I64(atomic_file_writeat(dirfd, "r.json", "{\"x\":1}\n", 8, &o), -EEXIST);
	CHECK_I64(lstat(path, &st), 0);
	CHECK_U64((uint64_t)st.st_size, 3); /* the first one, intact */
	/* a planted symlink at the name: refused, its target untouched */
	snprintf(victim, sizeof(victim), "%s/victim", base);
	fd = open(victim, O_WRONLY | O_CREAT, 0644);
	CHECK(write(fd, "untouched", 9) == 9);
	close(fd);
	CHECK_I64(symlinkat(victim, dirfd, "s.json"), 0);
	CHECK_I64(atomic_file_writeat(dirfd, "s.json", "{}\n", 3, &o), -EEXIST);
	fd = open(victim, O_RDONLY);
	CHECK(read(fd, buf, sizeof(buf) - 1) == 9);
	close(fd);
	CHECK_STR(buf, "untouched");
	/* no temp file left behind by either refusal: r.json s.json victim a link */
	CHECK_I64(count_entries(base), 5);
	close(dirfd);
}

int main(void)
{
	char cmd[64];

	if (!mkdtemp(base))
		return 1;
	TEST(test_dir_open_creates_every_missing_component_with_its_mode);
	TEST(test_only_roots_symlinks_are_followed);
	TEST(test_writeat_sets_mode_and_never_replaces_or_follows);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", base);
	if (system(cmd))
		return 1;
	return tap_done();
}

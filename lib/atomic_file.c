// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/atomic_file.c — temp file + fsync + rename + fsync(dir), by path or inside a dirfd. */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <unistd.h>

#include "atomic_file.h"

#define TMP_TRIES 100

/* "@name.tmp.XXXXXX" with 6 random letters. */
static int tmp_name(const char *name, char *tmp, size_t tmplen)
{
	static const char set[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
	unsigned char r[6];
	int n = snprintf(tmp, tmplen, "%s.tmp.XXXXXX", name);

	if (n < 0 || (size_t)n >= tmplen)
		return -ENAMETOOLONG;
	if (getrandom(r, sizeof(r), 0) != sizeof(r))
		return -EIO;
	for (int i = 0; i < 6; i++)
		tmp[n - 6 + i] = set[r[i] % (sizeof(set) - 1)];
	return 0;
}

int atomic_file_openat(int dirfd, const char *name, char *tmp, size_t tmplen,
		       const struct atomic_file_opts *o)
{
	int fd = -1, err;

	for (int i = 0; i < TMP_TRIES && fd < 0; i++) {
		err = tmp_name(name, tmp, tmplen);
		if (err)
			return err;
		/* O_EXCL|O_NOFOLLOW: a name someone planted (a symlink) is never written through */
		fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			return -errno;
	}
	if (fd < 0)
		return -EEXIST;
	/* owner first, then the mode: the file is never readable by anyone else meanwhile */
	if ((o->uid != (uid_t)-1 || o->gid != (gid_t)-1) && fchown(fd, o->uid, o->gid))
		goto fail;
	if (fchmod(fd, o->mode))
		goto fail;
	return fd;
fail:
	err = -errno;
	atomic_file_abortat(dirfd, fd, tmp);
	return err;
}

static int fsync_dir(int dirfd, const char *path)
{
	char *copy = NULL;
	int fd = dirfd, err = 0;

	if (dirfd == AT_FDCWD) {
		copy = strdup(path);
		if (!copy)
			return -ENOMEM;
		fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	}
	if (fd < 0)
		err = -errno;
	else if (fsync(fd))
		err = -errno;
	if (fd >= 0 && fd != dirfd)
		close(fd);
	free(copy);
	return err;
}

int atomic_file_commitat(int dirfd, int fd, const char *tmp, const char *name,
			 const struct atomic_file_opts *o)
{
	int err = 0;

	if (fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && renameat2(dirfd, tmp, dirfd, name, o->noreplace ? RENAME_NOREPLACE : 0))
		err = -errno;
	if (err) {
		unlinkat(dirfd, tmp, 0);
		return err;
	}
	return fsync_dir(dirfd, name);
}

void atomic_file_abortat(int dirfd, int fd, const char *tmp)
{
	if (fd >= 0)
		close(fd);
	unlinkat(dirfd, tmp, 0);
}

int atomic_file_writeat(int dirfd, const char *name, const void *buf, size_t len,
			const struct atomic_file_opts *o)
{
	char tmp[4096];
	const char *p = buf;
	int fd = atomic_file_openat(dirfd, name, tmp, sizeof(tmp), o);

	if (fd < 0)
		return fd;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			atomic_file_abortat(dirfd, fd, tmp);
			return err;
		}
		p += n;
		len -= (size_t)n;
	}
	return atomic_file_commitat(dirfd, fd, tmp, name, o);
}

/* ---- by path: the clients' files (their user's own choice of name) ---------------------- */

static struct atomic_file_opts by_path(mode_t mode)
{
	return (struct atomic_file_opts){ .mode = mode, .uid = (uid_t)-1, .gid = (gid_t)-1 };
}

int atomic_file_open(const char *path, char *tmp, size_t tmplen, mode_t mode)
{
	struct atomic_file_opts o = by_path(mode);

	return atomic_file_openat(AT_FDCWD, path, tmp, tmplen, &o);
}

int atomic_file_commit(int fd, const char *tmp, const char *path)
{
	struct atomic_file_opts o = by_path(0);

	return atomic_file_commitat(AT_FDCWD, fd, tmp, path, &o);
}

void atomic_file_abort(int fd, const char *tmp)
{
	atomic_file_abortat(AT_FDCWD, fd, tmp);
}

int atomic_file_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	struct atomic_file_opts o = by_path(mode);

	return atomic_file_writeat(AT_FDCWD, path, buf, len, &o);
}

/* ---- the daemon's directories --------------------------------------------------------- */

/* Steps from directory @fd into its entry @c (creating it): the new fd, or -errno. */
static int step(int fd, const char *c, mode_t mode, gid_t gid)
{
	struct stat st;
	int nfd, flags = O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW;
	bool made = false;

	if (fstatat(fd, c, &st, AT_SYMLINK_NOFOLLOW)) {
		if (errno != ENOENT)
			return -errno;
		if (mkdirat(fd, c, mode) && errno != EEXIST)
			return -errno;
		made = true;
	} else if (S_ISLNK(st.st_mode)) {
		if (st.st_uid != 0)
			return -ELOOP;
		flags &= ~O_NOFOLLOW; /* root's own link: the administrator's layout */
	}
	/* O_NOFOLLOW: a symlink swapped in after the fstatat is refused here */
	nfd = openat(fd, c, flags);
	if (nfd < 0)
		return -errno;
	if (made && ((gid != (gid_t)-1 && fchown(nfd, (uid_t)-1, gid)) || fchmod(nfd, mode))) {
		int err = -errno;

		close(nfd);
		return err;
	}
	return nfd;
}

int atomic_dir_open(const char *path, mode_t mode, gid_t gid)
{
	char buf[PATH_MAX], *save = NULL;
	int fd;

	if (!path || !*path || (size_t)snprintf(buf, sizeof(buf), "%s", path) >= sizeof(buf))
		return -ENAMETOOLONG;
	fd = open(path[0] == '/' ? "/" : ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	for (char *c = strtok_r(buf, "/", &save); c; c = strtok_r(NULL, "/", &save)) {
		int nfd;

		if (!strcmp(c, "."))
			continue;
		nfd = step(fd, c, mode, gid);
		close(fd);
		if (nfd < 0)
			return nfd;
		fd = nfd;
	}
	return fd;
}

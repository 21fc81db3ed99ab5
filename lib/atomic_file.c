// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/atomic_file.c — temp file + fsync + rename + fsync(dir). */
#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "atomic_file.h"

int atomic_file_open(const char *path, char *tmp, size_t tmplen, mode_t mode)
{
	int fd;

	if ((size_t)snprintf(tmp, tmplen, "%s.tmp.XXXXXX", path) >= tmplen)
		return -ENAMETOOLONG;
	fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, mode)) {
		int err = -errno;

		atomic_file_abort(fd, tmp);
		return err;
	}
	return fd;
}

static int fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd, err = 0;

	if (!copy)
		return -ENOMEM;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		err = -errno;
	else if (fsync(fd))
		err = -errno;
	if (fd >= 0)
		close(fd);
	free(copy);
	return err;
}

int atomic_file_commit(int fd, const char *tmp, const char *path)
{
	int err = 0;

	if (fsync(fd))
		err = -errno;
	if (close(fd) && !err)
		err = -errno;
	if (!err && rename(tmp, path))
		err = -errno;
	if (err) {
		unlink(tmp);
		return err;
	}
	return fsync_dir(path);
}

void atomic_file_abort(int fd, const char *tmp)
{
	if (fd >= 0)
		close(fd);
	unlink(tmp);
}

int atomic_file_write(const char *path, const void *buf, size_t len, mode_t mode)
{
	char tmp[4096];
	const char *p = buf;
	int fd = atomic_file_open(path, tmp, sizeof(tmp), mode);

	if (fd < 0)
		return fd;
	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int err = -errno;

			atomic_file_abort(fd, tmp);
			return err;
		}
		p += n;
		len -= (size_t)n;
	}
	return atomic_file_commit(fd, tmp, path);
}

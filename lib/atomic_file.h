/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/atomic_file.h — temp file + fsync + rename + fsync(dir): the only way we write a
 * result or a profile, so a crash never leaves half a file. The daemon's form works inside a
 * directory fd (atomic_dir_open): no symlink is followed where it creates, the file is made
 * with O_EXCL|O_NOFOLLOW, given to its owner and never replaces a name. */
#ifndef BM_ATOMIC_FILE_H
#define BM_ATOMIC_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* How a file is created: its @mode, its owner (uid/gid; (uid_t)-1/(gid_t)-1 keep the
 * writer's) and whether the rename may replace an existing name (-EEXIST when not). */
struct atomic_file_opts {
	mode_t mode;
	uid_t uid;
	gid_t gid;
	bool noreplace;
};

/* Writes @len bytes of @buf to @path atomically with @mode. Returns 0 or -errno
 * (-ENOSPC on a full disk; the old file, if any, is left intact). */
int atomic_file_write(const char *path, const void *buf, size_t len, mode_t mode);

/* Streaming form: atomic_file_open() returns an fd on a temp file beside @path (its name in
 * @tmp, @tmplen bytes); atomic_file_commit() fsyncs, renames to @path and closes; _abort()
 * closes and unlinks. Return 0/fd or -errno. */
int atomic_file_open(const char *path, char *tmp, size_t tmplen, mode_t mode);
int atomic_file_commit(int fd, const char *tmp, const char *path);
void atomic_file_abort(int fd, const char *tmp);

/* The same relative to directory @dirfd (AT_FDCWD: the paths above), created as @o says. */
int atomic_file_openat(int dirfd, const char *name, char *tmp, size_t tmplen,
		       const struct atomic_file_opts *o);
int atomic_file_commitat(int dirfd, int fd, const char *tmp, const char *name,
			 const struct atomic_file_opts *o);
void atomic_file_abortat(int dirfd, int fd, const char *tmp);
int atomic_file_writeat(int dirfd, const char *name, const void *buf, size_t len,
			const struct atomic_file_opts *o);

/* Opens directory @path (O_DIRECTORY fd) for the *at() forms, creating each missing component
 * with @mode (whatever the umask) and group @gid ((gid_t)-1: keep). A symlink on the way is
 * followed only when root owns it (an administrator's /var/run -> /run); one that another user
 * planted gives -ELOOP — a user who may write a parent directory cannot redirect the daemon's
 * files ("..", never a symlink, steps to the parent). fd or -errno. */
int atomic_dir_open(const char *path, mode_t mode, gid_t gid);

#endif /* BM_ATOMIC_FILE_H */

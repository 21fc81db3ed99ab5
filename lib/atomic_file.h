/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/atomic_file.h — temp file + fsync + rename + fsync(dir): the only way we write a
 * result or a profile, so a crash never leaves half a file. */
#ifndef BM_ATOMIC_FILE_H
#define BM_ATOMIC_FILE_H

#include <stddef.h>
#include <sys/types.h>

/* Writes @len bytes of @buf to @path atomically with @mode. Returns 0 or -errno
 * (-ENOSPC on a full disk; the old file, if any, is left intact). */
int atomic_file_write(const char *path, const void *buf, size_t len, mode_t mode);

/* Streaming form: atomic_file_open() returns an fd on a temp file beside @path (its name in
 * @tmp, @tmplen bytes); atomic_file_commit() fsyncs, renames to @path and closes; _abort()
 * closes and unlinks. Return 0/fd or -errno. */
int atomic_file_open(const char *path, char *tmp, size_t tmplen, mode_t mode);
int atomic_file_commit(int fd, const char *tmp, const char *path);
void atomic_file_abort(int fd, const char *tmp);

#endif /* BM_ATOMIC_FILE_H */

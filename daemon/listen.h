/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/listen.h — the listening socket: bind it with a mode and a group, or inherit it from
 * systemd socket activation (LISTEN_FDS). */
#ifndef BM_LISTEN_H
#define BM_LISTEN_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define LISTEN_BACKLOG 128

/* Returns a listening AF_UNIX SOCK_STREAM fd, non-blocking and close-on-exec (caller closes it
 * with listen_close()).
 * - When LISTEN_PID is our pid and LISTEN_FDS is 1 (systemd socket activation), the socket is
 *   fd 3; it is checked to be a listening Unix stream socket and @path, @mode and @group are
 *   not used. The LISTEN_* variables stay set, so listen_close() knows not to unlink.
 * - Otherwise the parent directory of @path is created (0755, missing components only); a
 *   socket left at @path by a dead daemon is removed, but if a process is listening on it the
 *   call fails with -EADDRINUSE; anything at @path that is not a socket is left alone (-EEXIST).
 *   The socket is bound, chmod'ed to @mode and chown'ed to @group before listen(), so no client
 *   can connect while its permissions are still the umask's. @group NULL or "" keeps the
 *   creator's group. A @group that does not exist falls back to gid 0 (root) and the call
 *   succeeds with a warning in @err.
 * Returns the fd, or -errno with one line in @err ("/run/benchmem/benchmemd.sock: another
 * benchmemd is listening there"). On success @err is "" or holds a warning to log. */
int listen_open(const char *path, mode_t mode, const char *group, char *err, size_t errlen);

/* Returns true when systemd passed us our listening socket (LISTEN_PID is our pid). */
bool listen_is_activated(void);

/* Closes @fd (ignored when < 0) and unlinks @path (may be NULL) if we created it: not when the
 * socket came from systemd, and only if @path is still a socket. */
void listen_close(int fd, const char *path);

#endif /* BM_LISTEN_H */

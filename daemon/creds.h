/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/creds.h — who may trace what (design.md "Trust"): a client that is not root may trace
 * a process only when the process's real, effective, saved and filesystem uids and gids are
 * all the client's, it holds no permitted capability and it is dumpable — what an unprivileged
 * tracer could attach to. A process is named by a pidfd opened before the check, so a pid
 * reused between the check and the seize is never traced. */
#ifndef BM_CREDS_H
#define BM_CREDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "procstatus.h"

struct proc_creds {
	struct proc_status st;
	uid_t dump_uid; /* owner of /proc/PID: root's when the process is not dumpable */
	gid_t dump_gid;
	uint64_t start_time; /* clock ticks after boot: with the pid, names one process */
};

/* What a trace request was granted on: the pidfd of the process (owned by the caller), who
 * asked, and the process's credentials as they were checked before the seize. */
struct creds_grant {
	int pidfd;
	uid_t uid;
	gid_t gid;
	struct proc_creds seen;
};

/* Reads /proc/@pid/status, /proc/@pid/stat and the owner of the latter. 0 or -errno. */
int creds_read(pid_t pid, struct proc_creds *out);

/* May a client of @uid/@gid trace the process of @c (pid @pid)? Root may trace anything. 0, or
 * -EPERM with the reason in @why. Pure. */
int creds_allows(const struct proc_creds *c, pid_t pid, uid_t uid, gid_t gid, char *why,
		 size_t len);

/* creds_read + creds_allows: may a client of @uid/@gid trace process @pid as it is now? 0, or
 * -errno with the reason in @why (-EPERM: not allowed; else its credentials could not be read). */
int creds_check(pid_t pid, uid_t uid, gid_t gid, char *why, size_t len);

/* After the seize: is the process of @pidfd still alive, still process @pid started at the
 * time @g saw, and still allowed to @g's client? 0, -ESRCH (gone or another process now), or
 * -EPERM (its credentials changed), with the reason in @why. */
int creds_recheck(const struct creds_grant *g, pid_t pid, char *why, size_t len);

/* pidfd_open(2) of @pid: an fd, or -errno (a thread, not a process: -EINVAL, or -ENOENT since
 * Linux 6.9). */
int creds_pidfd_open(pid_t pid);
/* 0 when the process of @pidfd is alive (a zombie counts), else -errno (-ESRCH). */
int creds_pidfd_alive(int pidfd);

#endif /* BM_CREDS_H */

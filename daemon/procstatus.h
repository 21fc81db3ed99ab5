/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/procstatus.h — the fields of /proc/PID/status the daemon needs: ids, credentials,
 * permitted capabilities and VmHWM. */
#ifndef BM_PROCSTATUS_H
#define BM_PROCSTATUS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

struct proc_status {
	pid_t tgid;	    /* the process of this task */
	pid_t ppid;	    /* its parent */
	uid_t uid;	    /* real uid */
	uid_t uids[4];	    /* real, effective, saved, filesystem */
	gid_t gids[4];	    /* the same for the group */
	uint64_t cap_prm;   /* permitted capabilities */
	uint64_t hwm_bytes; /* VmHWM: resident high-water, bytes */
	bool has_hwm;	    /* a kernel thread or a zombie has no VmHWM */
};

/* Parses status text from @f. Returns 0, or -ENODATA when Tgid, PPid, Uid or Gid is missing.
 * Pure apart from reading @f. */
int procstatus_parse(FILE *f, struct proc_status *out);

/* Reads /proc/@pid/status. Returns 0 or -errno (-ENOENT: the task is gone). */
int procstatus_read(pid_t pid, struct proc_status *out);

#endif /* BM_PROCSTATUS_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/rss.h — the resident-set high-water of a process: reset through clear_refs, read
 * from VmHWM (design.md "rss_bytes"). */
#ifndef BM_RSS_H
#define BM_RSS_H

#include <stdint.h>
#include <sys/types.h>

/* Writes "5" to /proc/@pid/clear_refs, so VmHWM restarts from the current RSS. 0 or -errno. */
int rss_reset(pid_t pid);

/* Reads VmHWM of @pid in bytes into @out. 0 or -errno (-ENOENT: the process is gone). */
int rss_hwm(pid_t pid, uint64_t *out);

#endif /* BM_RSS_H */

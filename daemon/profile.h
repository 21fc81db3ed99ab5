/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/profile.h — turns one closed region's spooled events into a memray .bin: the
 * process's images for native symbols, the stacks from the BPF stack map, the records. */
#ifndef BM_PROFILE_H
#define BM_PROFILE_H

#include <stddef.h>

#include "probe.h"
#include "session.h"

/* Writes the profile of closed region @r of @s to file @name of directory @dirfd, atomically
 * (temp file, fsync, rename; O_NOFOLLOW, never replacing a name; the session owner's, mode
 * SESSIONS_FILE_MODE): every allocation and free of the region with its stack, in event
 * order, so memray's peak (flamegraph) and leaks views work. Returns 0 or -errno with a
 * one-line reason in @err (-ENOSPC: the disk is full; nothing is left behind). */
int profile_write(struct probe *p, const struct session *s, const struct region *r, int dirfd,
		  const char *name, char *err, size_t errlen);

/* Picks a file name for region @r of session @s in @dirfd that does not exist yet:
 * <session>-<sanitised name>-<repeat>.bin, with -1, -2... on a clash. 0 or -errno. */
int profile_name(int dirfd, const struct session *s, const struct region *r, char *out, size_t len);

#endif /* BM_PROFILE_H */

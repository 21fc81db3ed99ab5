// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/fdreserve.c — counts this process's open descriptors against RLIMIT_NOFILE. */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <sys/resource.h>

#include "fdreserve.h"

bool fd_reserve_short(uint64_t reserve, char *err, size_t errlen)
{
	struct rlimit rl;
	uint64_t used = 0;
	DIR *d;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur == RLIM_INFINITY)
		return false;
	d = opendir("/proc/self/fd");
	if (!d)
		return false;
	while (readdir(d))
		used++;
	closedir(d);
	if (used + reserve <= rl.rlim_cur)
		return false;
	snprintf(err, errlen,
		 "cannot create a session: fd_reserve: %" PRIu64 " of %" PRIu64
		 " descriptors in use, %" PRIu64 " are kept for clients",
		 used, (uint64_t)rl.rlim_cur, reserve);
	errno = EMFILE;
	return true;
}

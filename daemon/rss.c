// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/rss.c — clear_refs reset and VmHWM read. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "rss.h"

int rss_reset(pid_t pid)
{
	char path[64];
	int fd, err = 0;

	snprintf(path, sizeof(path), "/proc/%d/clear_refs", pid);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, "5", 1) != 1)
		err = -errno;
	close(fd);
	return err;
}

int rss_hwm(pid_t pid, uint64_t *out)
{
	char path[64], line[256];
	uint64_t kib;
	FILE *f;
	int err = -ENODATA;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "VmHWM: %" SCNu64 " kB", &kib) == 1) {
			*out = kib * 1024;
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

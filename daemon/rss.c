// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/rss.c — clear_refs reset and VmHWM read. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "procstatus.h"
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
	struct proc_status st;
	int err = procstatus_read(pid, &st);

	if (err)
		return err;
	if (!st.has_hwm)
		return -ENODATA;
	*out = st.hwm_bytes;
	return 0;
}

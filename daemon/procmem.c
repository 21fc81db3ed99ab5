// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/procmem.c — reads and writes of a process's memory on an fd bound to one image. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

#include "procmem.h"

int procmem_open(pid_t pid)
{
	char path[64];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/mem", (int)pid);
	fd = open(path, O_RDWR | O_CLOEXEC);
	return fd < 0 ? -errno : fd;
}

/* The kernel copies nothing once the address space it was opened on has no user left. */
static int outcome(ssize_t got, size_t n)
{
	if (got < 0)
		return -errno;
	if (got == 0 && n)
		return -ESRCH;
	return (size_t)got == n ? 0 : -EFAULT;
}

int procmem_read(int mem, uint64_t addr, void *buf, size_t n)
{
	/* an address past INT64_MAX is a negative offset to pread: the kernel takes it as is
	 * for this file (FMODE_UNSIGNED_OFFSET) */
	return outcome(pread(mem, buf, n, (off_t)addr), n);
}

bool procmem_mapped(pid_t pid)
{
	char path[64], c;
	int fd;
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, &c, 1);
	close(fd);
	return n == 1;
}

int procmem_write(int mem, uint64_t addr, const void *buf, size_t n)
{
	return outcome(pwrite(mem, buf, n, (off_t)addr), n);
}

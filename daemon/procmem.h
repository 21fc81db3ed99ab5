/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/procmem.h — a process's memory through /proc/PID/mem (docs/hook.md "Trust"): an open
 * fd is bound to the address space it was opened on, so once the process execs, reads and
 * writes through it fail; they never reach the new image, set-uid or not (process_vm_readv
 * and process_vm_writev name the pid, and would). */
#ifndef BM_PROCMEM_H
#define BM_PROCMEM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

/* /proc/@pid/mem, read-write, close-on-exec: an fd, or -errno. */
int procmem_open(pid_t pid);

/* Copies @n bytes at @addr of @mem's address space into @buf (from @buf). 0, -ESRCH when that
 * address space is gone (the process exec'd or exited: the kernel reads nothing), -EFAULT on a
 * short copy, or -errno (-EBADF for @mem < 0). */
int procmem_read(int mem, uint64_t addr, void *buf, size_t n);
int procmem_write(int mem, uint64_t addr, const void *buf, size_t n);

/* Whether @pid has an address space now (/proc/@pid/maps lists a mapping): after -ESRCH from
 * an fd, true means it exec'd, false that it exited (or is gone). */
bool procmem_mapped(pid_t pid);

#endif /* BM_PROCMEM_H */

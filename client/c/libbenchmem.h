/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/c/libbenchmem.h — the public C API that marks memory regions for benchmemd (libbenchmem).
 */
#ifndef BENCHMEM_CLIENT_H
#define BENCHMEM_CLIENT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The numbers of one closed region (docs/protocol.md, "stop"). */
struct benchmem_result {
	uint64_t peak_bytes;  /* high-water of bytes allocated in the region and not yet freed */
	uint64_t total_bytes; /* sum of requested sizes */
	uint64_t allocations; /* allocation calls */
	uint64_t rss_bytes;   /* resident-set high-water during the region; 0 if not measured */
	uint64_t wall_ns;     /* region wall time */
	uint64_t lost_events; /* events the collector lost while the region was open */
	uint32_t repeat;      /* the repeat index the collector gave the region */
};

/*
 * How the library behaves (libc only, link with -lbenchmem or libbenchmem.a):
 * - It talks to the collector at $BENCHMEM_SOCKET, else /run/benchmem/benchmemd.sock, over one
 *   connection per process, opened on first use. benchmem-run exports $BENCHMEM_SOCKET.
 * - When no collector listens, every call returns -ENOTCONN at the cost of a clock read: a failed
 *   connect is cached and retried at most once per second.
 * - After fork() the child opens its own connection (the collector finds the session through
 *   the connecting process's credentials).
 * - Calls are serialised by a mutex, so threads may share the library; each call takes at most
 *   about 5 s (socket send/receive timeouts), after which the connection is dropped and
 *   -ETIMEDOUT returned.
 * - Nothing here calls malloc: the library runs inside the process being measured.
 * Error replies map to errors: bad_name/bad_request -EINVAL, not_open -ENOENT, already_open
 * -EEXIST, no_session -ESRCH, permission -EPERM, limit -ENOSPC, io -EIO, anything else -EPROTO.
 * A name longer than 128 bytes is -ENAMETOOLONG without asking the collector.
 */

/* Opens region @name with the next repeat index of that name. Returns 0 or -errno. */
int benchmem_start(const char *name);

/* Opens region @name as repeat @repeat. Returns 0 or -errno. */
int benchmem_start_repeat(const char *name, unsigned int repeat);

/* Closes the open region @name (its most recent repeat) and, if @out is not NULL, fills *@out
 * with its numbers. Returns 0 or -errno; *@out is untouched on error. */
int benchmem_stop(const char *name, struct benchmem_result *out);

/* Returns 1 when a collector is reachable (connecting if needed), 0 when not. Never blocks for
 * more than one connect attempt, and at most one attempt per second when none listens. */
int benchmem_available(void);

#ifdef __cplusplus
}
#endif

#endif /* BENCHMEM_CLIENT_H */

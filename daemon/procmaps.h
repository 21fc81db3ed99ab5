/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/procmaps.h — parses /proc/PID/maps text into mappings; pure (reads a FILE *). */
#ifndef BM_PROCMAPS_H
#define BM_PROCMAPS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

struct procmaps_entry {
	uint64_t start, end; /* [start, end) */
	uint64_t offset;     /* file offset of start */
	bool exec;	     /* 'x' in perms */
	char path[4096];     /* "" for anonymous mappings; "[heap]", "[stack]"... as given */
};

/* Parses every line of @f into a new array *@out (caller frees). Returns the number of
 * entries or -errno (-EINVAL: a malformed line). */
int procmaps_parse(FILE *f, struct procmaps_entry **out);

#endif /* BM_PROCMAPS_H */

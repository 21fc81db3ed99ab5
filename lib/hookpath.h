/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/hookpath.h — where the in-process hook library is, and whether a program can run it
 * (docs/hook.md). benchmem-run preloads the file that the collector probes: both find it
 * beside their own executable. */
#ifndef BM_HOOKPATH_H
#define BM_HOOKPATH_H

#include <stdbool.h>
#include <stddef.h>

#define HOOK_LIBRARY "libbenchmem-hook.so"

/* Writes the hook's path into @out: beside the running executable (the build tree), else
 * ../lib/benchmem/ from it (an installation). Returns 0 or -ENOENT. */
int hook_library_path(char *out, size_t len);

/* Whether the dynamic loader would preload a library into executable @path: a dynamically
 * linked ELF file (PT_INTERP), or a script (its interpreter decides at exec), and neither
 * set-user-ID nor set-group-ID (the loader ignores LD_PRELOAD paths with a slash then). */
bool hook_can_preload(const char *path);

/* Whether the colon/space-separated LD_PRELOAD value @v names the hook. */
bool hook_in_preload(const char *v);

#endif /* BM_HOOKPATH_H */

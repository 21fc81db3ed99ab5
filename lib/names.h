/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/names.h — names: which region names the protocol accepts, the file-name-safe form of a
 * name, and the one way to pick a free file name (never an overwrite). */
#ifndef BM_NAMES_H
#define BM_NAMES_H

#include <stdbool.h>
#include <stddef.h>

#define NAMES_MAX_TRIES 1000 /* "stem", then "stem-1" .. "stem-999" */

/* Returns true when @name is a valid region name: 1..BM_NAME_MAX bytes from
 * [A-Za-z0-9._:/[]=,+ -] and no "..". Pure. */
bool names_is_valid(const char *name);

/* Writes into @buf (@len bytes, at least 2) a file-name-safe form of @name: every byte outside
 * [A-Za-z0-9._-] becomes '_', the result is never "", "." or "..", and it is cut to @len - 1
 * bytes. Returns @buf. Two names may map to the same file name: names_free_path adds a
 * suffix. Pure. */
const char *names_clean(const char *name, char *buf, size_t len);

/* Finds a path in @dir that nothing occupies (lstat: a dangling symlink counts as taken):
 * "@dir/@stem@ext", else "@dir/@stem-1@ext" .. "@dir/@stem-999@ext". @stem must already be
 * clean. Returns 0 with the path in @out, -ENAMETOOLONG when it does not fit @len, -EEXIST
 * when every candidate is taken (never an overwrite), or -errno from lstat. */
int names_free_path(const char *dir, const char *stem, const char *ext, char *out, size_t len);

/* The same inside directory @dirfd: @out is the bare file name. */
int names_free_at(int dirfd, const char *stem, const char *ext, char *out, size_t len);

#endif /* BM_NAMES_H */

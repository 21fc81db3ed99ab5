/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/jsonutil.h — bounded JSON input over jansson: capped file loads, typed getters; pure
 * apart from jsonutil_load_file's read. (jansson owns the json_ prefix, hence the name.) */
#ifndef BM_JSONUTIL_H
#define BM_JSONUTIL_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "atomic_file.h"

/* Reads and parses @path (at most @max_bytes; duplicate keys rejected).
 * Returns a new reference (caller json_decref()s) or NULL with errno set and a one-line
 * reason in @err ("line 3 column 7: end of file expected"). */
json_t *jsonutil_load_file(const char *path, size_t max_bytes, char *err, size_t errlen);

/* Parses one document from @buf/@len; NULL + reason in @err on failure. */
json_t *jsonutil_loadb(const char *buf, size_t len, char *err, size_t errlen);

/* Reads a non-negative integer member @key of object @o into @out.
 * Returns 0, -ENOENT (absent) or -EINVAL (not a non-negative integer). */
int jsonutil_get_u64(const json_t *o, const char *key, uint64_t *out);

/* Reads a string member; *out borrows from @o. Returns 0, -ENOENT or -EINVAL. */
int jsonutil_get_str(const json_t *o, const char *key, const char **out);

/* Reads an array of non-negative integers @key into a new array *out (caller frees) of *n
 * elements. Returns 0, -ENOENT, -EINVAL or -ENOMEM. */
int jsonutil_get_u64_array(const json_t *o, const char *key, uint64_t **out, size_t *n);

/* Serialises @doc (sorted keys, 2-space indent) and writes it atomically to @path.
 * Returns 0 or -errno. */
int jsonutil_write_file(const json_t *doc, const char *path);

/* The same as file @name of directory @dirfd, created as @o says (lib/atomic_file.h). */
int jsonutil_write_at(const json_t *doc, int dirfd, const char *name,
		      const struct atomic_file_opts *o);

#endif /* BM_JSONUTIL_H */

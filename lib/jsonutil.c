// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/jsonutil.c — bounded JSON input over jansson, and atomic JSON output. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "atomic_file.h"
#include "jsonutil.h"

static json_t *parse(const char *buf, size_t len, char *err, size_t errlen)
{
	json_error_t jerr;
	json_t *doc = json_loadb(buf, len, JSON_REJECT_DUPLICATES, &jerr);

	if (!doc) {
		snprintf(err, errlen, "line %d column %d: %s", jerr.line, jerr.column, jerr.text);
		errno = EINVAL;
	}
	return doc;
}

json_t *jsonutil_loadb(const char *buf, size_t len, char *err, size_t errlen)
{
	return parse(buf, len, err, errlen);
}

json_t *jsonutil_load_file(const char *path, size_t max_bytes, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	json_t *doc = NULL;
	char *buf = NULL;
	struct stat st;
	size_t got;
	int e;

	if (!f) {
		e = errno;
		snprintf(err, errlen, "cannot open: %s", strerror(e));
		errno = e;
		return NULL;
	}
	if (fstat(fileno(f), &st) || !S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "not a regular file");
		e = EINVAL;
		goto out;
	}
	if ((uint64_t)st.st_size > max_bytes) {
		snprintf(err, errlen, "larger than %zu bytes", max_bytes);
		e = EFBIG;
		goto out;
	}
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		snprintf(err, errlen, "out of memory");
		e = ENOMEM;
		goto out;
	}
	got = fread(buf, 1, (size_t)st.st_size, f);
	doc = parse(buf, got, err, errlen);
	e = doc ? 0 : EINVAL;
out:
	free(buf);
	fclose(f);
	errno = e;
	return doc;
}

int jsonutil_get_u64(const json_t *o, const char *key, uint64_t *out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return -ENOENT;
	if (!json_is_integer(v) || json_integer_value(v) < 0)
		return -EINVAL;
	*out = (uint64_t)json_integer_value(v);
	return 0;
}

int jsonutil_get_str(const json_t *o, const char *key, const char **out)
{
	json_t *v = json_object_get(o, key);

	if (!v)
		return -ENOENT;
	if (!json_is_string(v))
		return -EINVAL;
	*out = json_string_value(v);
	return 0;
}

int jsonutil_get_u64_array(const json_t *o, const char *key, uint64_t **out, size_t *n)
{
	json_t *a = json_object_get(o, key), *v;
	uint64_t *vals;
	size_t i;

	if (!a)
		return -ENOENT;
	if (!json_is_array(a))
		return -EINVAL;
	vals = calloc(json_array_size(a) ? json_array_size(a) : 1, sizeof(*vals));
	if (!vals)
		return -ENOMEM;
	json_array_foreach(a, i, v)
	{
		if (!json_is_integer(v) || json_integer_value(v) < 0) {
			free(vals);
			return -EINVAL;
		}
		vals[i] = (uint64_t)json_integer_value(v);
	}
	*out = vals;
	*n = json_array_size(a);
	return 0;
}

int jsonutil_write_at(const json_t *doc, int dirfd, const char *name,
		      const struct atomic_file_opts *o)
{
	char *text = json_dumps(doc, JSON_INDENT(2) | JSON_SORT_KEYS);
	int err;

	if (!text)
		return -ENOMEM;
	err = atomic_file_writeat(dirfd, name, text, strlen(text), o);
	free(text);
	return err;
}

int jsonutil_write_file(const json_t *doc, const char *path)
{
	struct atomic_file_opts o = { .mode = 0644, .uid = (uid_t)-1, .gid = (gid_t)-1 };

	return jsonutil_write_at(doc, AT_FDCWD, path, &o);
}

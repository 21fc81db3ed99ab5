// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/names.c — region-name validation, file-name cleaning, free file names. */
#include "names.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "bm_limits.h"

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool names_is_valid(const char *name)
{
	static const char extra[] = "._:/[]=,+ -";
	size_t n = strlen(name);

	if (n == 0 || n > BM_NAME_MAX || strstr(name, ".."))
		return false;
	for (const char *p = name; *p; p++) {
		if (!is_alnum(*p) && !strchr(extra, *p))
			return false;
	}
	return true;
}

const char *names_clean(const char *name, char *buf, size_t len)
{
	size_t i;

	if (!buf || len < 2)
		return buf;
	for (i = 0; name && name[i] && i < len - 1; i++) {
		char c = name[i];

		buf[i] = is_alnum(c) || c == '.' || c == '_' || c == '-' ? c : '_';
	}
	buf[i] = '\0';
	if (i == 0) {
		buf[0] = '_';
		buf[1] = '\0';
	} else if (!strcmp(buf, ".") || !strcmp(buf, "..")) {
		buf[0] = '_';
	}
	return buf;
}

int names_free_path(const char *dir, const char *stem, const char *ext, char *out, size_t len)
{
	struct stat st;

	for (int i = 0; i < NAMES_MAX_TRIES; i++) {
		int n = i ? snprintf(out, len, "%s/%s-%d%s", dir, stem, i, ext)
			  : snprintf(out, len, "%s/%s%s", dir, stem, ext);

		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		if (!lstat(out, &st))
			continue;
		return errno == ENOENT ? 0 : -errno;
	}
	return -EEXIST;
}

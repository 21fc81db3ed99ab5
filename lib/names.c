// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/names.c — region-name validation, file-name cleaning, free file names. */
#include "names.h"

#include <errno.h>
#include <fcntl.h>
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

/* The first free name among "@prefix@stem@ext", "@prefix@stem-1@ext", ... in @dirfd. */
static int free_name(int dirfd, const char *prefix, const char *stem, const char *ext, char *out,
		     size_t len)
{
	struct stat st;

	for (int i = 0; i < NAMES_MAX_TRIES; i++) {
		int n = i ? snprintf(out, len, "%s%s-%d%s", prefix, stem, i, ext)
			  : snprintf(out, len, "%s%s%s", prefix, stem, ext);

		if (n < 0 || (size_t)n >= len)
			return -ENAMETOOLONG;
		if (!fstatat(dirfd, out, &st, AT_SYMLINK_NOFOLLOW))
			continue;
		return errno == ENOENT ? 0 : -errno;
	}
	return -EEXIST;
}

int names_free_path(const char *dir, const char *stem, const char *ext, char *out, size_t len)
{
	char prefix[4096];

	if ((size_t)snprintf(prefix, sizeof(prefix), "%s/", dir) >= sizeof(prefix))
		return -ENAMETOOLONG;
	return free_name(AT_FDCWD, prefix, stem, ext, out, len);
}

int names_free_at(int dirfd, const char *stem, const char *ext, char *out, size_t len)
{
	return free_name(dirfd, "", stem, ext, out, len);
}

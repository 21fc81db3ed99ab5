// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/procmaps.c — /proc/PID/maps parser; pure. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "procmaps.h"

static int parse_line(char *line, struct procmaps_entry *e)
{
	char perms[8];
	int path_at = 0;
	size_t n;

	memset(e, 0, sizeof(*e));
	if (sscanf(line, "%" SCNx64 "-%" SCNx64 " %7s %" SCNx64 " %*x:%*x %*u %n", &e->start,
		   &e->end, perms, &e->offset, &path_at) < 4 ||
	    !path_at)
		return -EINVAL;
	e->exec = strlen(perms) >= 3 && perms[2] == 'x';
	n = strcspn(line + path_at, "\n");
	if (n >= sizeof(e->path))
		return -ENAMETOOLONG;
	memcpy(e->path, line + path_at, n);
	e->path[n] = '\0';
	return 0;
}

int procmaps_parse(FILE *f, struct procmaps_entry **out)
{
	struct procmaps_entry *v = NULL;
	size_t nr = 0, cap = 0;
	char line[4096 + 256];
	int err;

	while (fgets(line, sizeof(line), f)) {
		if (nr == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			struct procmaps_entry *n = reallocarray(v, ncap, sizeof(*n));

			if (!n) {
				err = -ENOMEM;
				goto fail;
			}
			v = n;
			cap = ncap;
		}
		err = parse_line(line, &v[nr]);
		if (err)
			goto fail;
		nr++;
	}
	*out = v;
	return (int)nr;
fail:
	free(v);
	return err;
}

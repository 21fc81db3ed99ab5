// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/fuzz/fuzz_config.c — libFuzzer target: any bytes through config_load_buffer(), which
 * must either succeed with a config that passes its own checks or leave the config unchanged. */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bm_config c, before;
	char err[512], *buf;
	int ret;

	buf = malloc(size ? size : 1); /* exactly @size bytes: no NUL for the parser to lean on */
	if (!buf)
		return 0;
	memcpy(buf, data, size);
	config_defaults(&c);
	before = c;
	ret = config_load_buffer(&c, buf, size, "fuzz.yaml", err, sizeof(err));
	if (ret == 0) {
		if (config_validate(&c, err, sizeof(err)) || c.socket[0] != '/' ||
		    c.socket_mode > 0777 || c.max_line < 256 || c.max_line > 65536)
			abort(); /* a loaded config obeys the table */
	} else if ((ret != -EINVAL && ret != -EFBIG && ret != -ENOMEM) ||
		   memcmp(&c, &before, sizeof(c)) || strncmp(err, "fuzz.yaml", 9) ||
		   strchr(err, '\n')) {
		abort(); /* errors: all or nothing, one line naming the file */
	}
	free(buf);
	return 0;
}

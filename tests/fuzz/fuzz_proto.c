// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/fuzz/fuzz_proto.c — libFuzzer target: any bytes through proto_parse_request(), which
 * must return 0 or -EINVAL with a code and a one-line reason, and never leak or overrun. */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static bool is_known_code(const char *code)
{
	static const char *const codes[] = { "too_long", "bad_json", "unknown_op", "bad_request",
					     "bad_name" };

	for (size_t i = 0; code && i < sizeof(codes) / sizeof(codes[0]); i++)
		if (!strcmp(code, codes[i]))
			return true;
	return false;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct bm_request req;
	const char *code = NULL;
	char msg[256];
	char *line;
	int ret;

	/* A private copy of exactly @size bytes, so ASan sees any read past the line's end. */
	line = malloc(size ? size : 1);
	if (!line)
		return 0;
	memcpy(line, data, size);
	memset(msg, 'X', sizeof(msg));
	ret = proto_parse_request(line, size, &req, &code, msg, sizeof(msg));
	if (ret == 0) {
		if (!proto_op_name(req.op))
			abort(); /* a parsed request names a known op */
		if (req.name[0] && !names_is_valid(req.name))
			abort(); /* and carries only valid names */
		bm_request_release(&req);
	} else if (ret != -EINVAL || !is_known_code(code) || !memchr(msg, '\0', sizeof(msg)) ||
		   strchr(msg, '\n')) {
		abort(); /* errors: -EINVAL, a documented code, one NUL-terminated line */
	}
	free(line);
	return 0;
}

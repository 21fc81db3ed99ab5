// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/cli_err.c — one-line diagnostics of benchmem-run and benchmemctl. */
#include "cli_err.h"

#include <stdarg.h>
#include <stdio.h>

static void say(const char *prog, const char *kind, const char *fmt, va_list ap)
{
	fprintf(stderr, "%s: %s: ", prog, kind);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
}

int cli_err(const char *prog, int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(prog, "error", fmt, ap);
	va_end(ap);
	return code;
}

void cli_warn(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(prog, "warning", fmt, ap);
	va_end(ap);
}

void cli_note(const char *prog, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	say(prog, "note", fmt, ap);
	va_end(ap);
}

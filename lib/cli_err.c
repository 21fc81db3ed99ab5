// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/cli_err.c — one-line diagnostics of benchmemd, benchmem-run and benchmemctl. */
#include "cli_err.h"

#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "version.h"

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

int cli_bad_option(const char *prog, int ret, char *const argv[])
{
	const char *tok = optind > 0 ? argv[optind - 1] : "";
	char one[3] = { '-', (char)optopt, '\0' };
	int n = (int)strcspn(tok, "=");

	/* an unknown short option inside a cluster ("-qx") is named alone: optopt holds it */
	if (strncmp(tok, "--", 2) && optopt > 0 && optopt < 0x7f) {
		tok = one;
		n = 2;
	}
	if (ret == ':')
		return cli_err(prog, 2, "option '%.*s' needs a value (see --help)", n, tok);
	return cli_err(prog, 2, "unknown option '%.*s' (see --help)", n, tok);
}

int cli_version(const char *prog)
{
	printf("%s %s\n", prog, BM_VERSION_NUMBER);
	return 0;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/log.c — leveled logging to stderr; journald priority prefixes under systemd. */
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The logger's settings are process-wide by nature (libbpf's hook has no context pointer);
 * they are written once in log_setup() before any thread or loop starts. */
static struct {
	const char *prog;
	int level;
	int journal;
} log_cfg = { "benchmemd", BM_LOG_INFO, 0 };

static const char *const level_names[8] = { [BM_LOG_ERR] = "error",
					    [BM_LOG_WARNING] = "warning",
					    [BM_LOG_INFO] = "info",
					    [BM_LOG_DEBUG] = "debug" };

static void vlog(int level, const char *fmt, va_list ap)
{
	char line[2048];

	if (level > log_cfg.level)
		return;
	vsnprintf(line, sizeof(line), fmt, ap);
	if (log_cfg.journal)
		fprintf(stderr, "<%d>%s\n", level, line);
	else
		fprintf(stderr, "%s: %s: %s\n", log_cfg.prog, level_names[level & 7], line);
}

void log_msg(int level, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog(level, fmt, ap);
	va_end(ap);
}

/* libbpf's messages are demoted one level (xdp-tools), so they show only with debug. */
static int libbpf_print(enum libbpf_print_level lvl, const char *fmt, va_list ap)
{
	int level = lvl == LIBBPF_WARN ? BM_LOG_INFO : BM_LOG_DEBUG;
	char buf[2048];
	size_t n;

	if (level > log_cfg.level)
		return 0;
	vsnprintf(buf, sizeof(buf), fmt, ap);
	n = strlen(buf);
	if (n && buf[n - 1] == '\n')
		buf[n - 1] = '\0';
	log_msg(level, "%s", buf);
	return 0;
}

void log_setup(const char *prog, int level)
{
	log_cfg.prog = prog;
	log_cfg.level = level;
	log_cfg.journal = getenv("JOURNAL_STREAM") != NULL;
	libbpf_set_print(libbpf_print);
}

int log_parse_level(const char *s)
{
	for (int i = 0; i < 8; i++) {
		if (level_names[i] && !strcmp(s, level_names[i]))
			return i;
	}
	if (!strcmp(s, "err"))
		return BM_LOG_ERR;
	return -EINVAL;
}

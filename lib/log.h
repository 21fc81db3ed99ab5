/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/log.h — leveled logging (syslog numbers, journald prefixes) and libbpf's print hook. */
#ifndef BM_LOG_H
#define BM_LOG_H

#include <stdlib.h>

enum { BM_LOG_ERR = 3, BM_LOG_WARNING = 4, BM_LOG_INFO = 6, BM_LOG_DEBUG = 7 };

/* Sets the program name used as prefix and the most verbose level printed, and routes
 * libbpf's messages through us one level lower. Not thread-safe; call once at start-up. */
void log_setup(const char *prog, int level);

/* Parses "err", "warning", "info", "debug"; returns the level or -EINVAL. */
int log_parse_level(const char *s);

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define pr_err(...)   log_msg(BM_LOG_ERR, __VA_ARGS__)
#define pr_warn(...)  log_msg(BM_LOG_WARNING, __VA_ARGS__)
#define pr_info(...)  log_msg(BM_LOG_INFO, __VA_ARGS__)
#define pr_debug(...) log_msg(BM_LOG_DEBUG, __VA_ARGS__)

/* Invariant violations, not bad input: log file:line and abort. */
#define BM_BUG_ON(cond)                                                                            \
	do {                                                                                       \
		if (cond) {                                                                        \
			log_msg(BM_LOG_ERR, "BUG at %s:%d: %s", __FILE__, __LINE__, #cond);        \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif /* BM_LOG_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/cli_err.h — the one printer of the CLIs' one-line diagnostics to stderr:
 * "PROG: error: ...", "PROG: warning: ...", "PROG: note: ..." (PROG: "benchmem-run",
 * "benchmemctl compare"). */
#ifndef BM_CLI_ERR_H
#define BM_CLI_ERR_H

/* Prints "@prog: error: MESSAGE\n" and returns @code (an exit code, or -errno). */
int cli_err(const char *prog, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Prints "@prog: warning: MESSAGE\n". */
void cli_warn(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prints "@prog: note: MESSAGE\n". */
void cli_note(const char *prog, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long's refusal as one line (never the whole usage): call it when getopt_long, run
 * with opterr = 0 and an optstring starting with ':', returned @ret ('?' or ':'). Prints
 * "@prog: error: unknown option '--x' (see --help)" or "@prog: error: option '--pid' needs a
 * value (see --help)" from @argv, optind and optopt, and returns 2 (the usage exit code). */
int cli_bad_option(const char *prog, int ret, char *const argv[]);

/* Prints "@prog @version\n" to stdout (--version) and returns 0. */
int cli_version(const char *prog);

#endif /* BM_CLI_ERR_H */

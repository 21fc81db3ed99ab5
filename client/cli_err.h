/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/cli_err.h — the one printer of the CLIs' one-line diagnostics to stderr:
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

#endif /* BM_CLI_ERR_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/ctl.h — the subcommands of benchmemctl; each lives in its own ctl_*.c file. */
#ifndef BM_CTL_H
#define BM_CTL_H

#include <jansson.h>

/* Every subcommand gets argv with argv[0] = its own name, prints its own one-line errors
 * ("benchmemctl compare: error: ...") and returns the process exit code: 0 success,
 * 1 a gate or check failed (regression, ceiling), 2 usage or input error, 3 no collector. */
int ctl_start(int argc, char **argv);
int ctl_stop(int argc, char **argv);
int ctl_attach(int argc, char **argv);
int ctl_detach(int argc, char **argv);
int ctl_status(int argc, char **argv);
int ctl_results(int argc, char **argv);
int ctl_compare(int argc, char **argv);
int ctl_gate(int argc, char **argv);
int ctl_report(int argc, char **argv);
int ctl_inspect(int argc, char **argv);
int ctl_profile(int argc, char **argv);
int ctl_top(int argc, char **argv);
int ctl_sessions(int argc, char **argv); /* ctl_sessions.c: the daemon's finished sessions */
int ctl_raw(int argc, char **argv);	 /* ctl_sessions.c: one protocol request as given */
int ctl_export(int argc, char **argv);	 /* ctl_export.c: result files as OpenMetrics */

/* ctl_region.c: sends request @req (taken) to the collector; returns the ok reply or prints
 * "benchmemctl @cmd: error: ..." and returns NULL with *@code set to the exit code (3 no
 * collector, 1 an error reply). */
json_t *ctl_call(const char *cmd, json_t *req, int *code);

#endif /* BM_CTL_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/context.h — a run's context: pytest-benchmark's commit_info and machine_info. The
 * client collects it in the user's working directory (running `git` as the user) and sends it
 * with launch/attach as {"commit_info": {...}, "machine_info": {...}}; the daemon checks it
 * (context_check), stores it verbatim and puts it into the result documents (context_apply).
 * The daemon itself never looks at a working directory or a repository. */
#ifndef BM_CONTEXT_H
#define BM_CONTEXT_H

#include <jansson.h>
#include <stddef.h>

/* The machine this process runs on: uname(), /proc/cpuinfo, sysconf; python_* empty (a
 * Python client fills them). Returns a new object or NULL (ENOMEM, or uname's errno). */
json_t *context_machine_info(void);

/* commit_info of the repository containing @dir (NULL: the cwd), by running `git` in it as the
 * calling user: id (HEAD), time and author_time (ISO 8601 with offset), dirty (tracked files
 * changed), project (the top directory's name), branch ("(detached head)" when detached).
 * Outside a repository (or without git) every member is null but project (@dir's name).
 * Returns a new object, or NULL on ENOMEM. */
json_t *context_commit_info(const char *dir);

/* {"commit_info": context_commit_info(@dir), "machine_info": context_machine_info()}, or NULL
 * on ENOMEM. */
json_t *context_collect(const char *dir);

/* Checks a client's context: an object with at most "commit_info" and "machine_info", each an
 * object of the members pytest-benchmark writes with their types (commit_info: id, time,
 * author_time, project, branch strings or null, dirty boolean or null; machine_info: strings,
 * python_build a list of strings, cpu an object), at most BM_CONTEXT_MAX bytes as compact
 * JSON. Returns 0, or -EINVAL with a one-line reason in @why. Pure. */
int context_check(const json_t *ctx, char *why, size_t len);

/* Sets doc.commit_info and doc.machine_info from @ctx (checked; NULL: none given) over the
 * defaults: commit_info all null, machine_info @fallback_machine (borrowed; the host's).
 * Returns 0 or -ENOMEM. */
int context_apply(json_t *doc, const json_t *ctx, const json_t *fallback_machine);

#endif /* BM_CONTEXT_H */

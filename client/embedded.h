/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/embedded.h — a private collector inside benchmem-run when no daemon listens: a
 * socket in a private directory, exported to the command as $BENCHMEM_SOCKET. */
#ifndef BM_EMBEDDED_H
#define BM_EMBEDDED_H

#include <jansson.h>
#include <stdbool.h>

#include "launch.h"

struct embedded;

/* Loads the probes and listens on a fresh private socket, and sets $BENCHMEM_SOCKET so the
 * child inherits it. NULL + errno with a one-line reason in @err. */
struct embedded *embedded__new(bool profile, const char *profile_dir, char *err, size_t errlen);
void embedded__free(struct embedded *e); /* NULL-safe; removes the socket */

/* Seizes the prepared child, releases it and runs the collector until it exits. *@status
 * is its wait status. @context (borrowed; NULL ok) becomes the session's commit_info and
 * machine_info, as a launch request's "context" would; @region_scope: --scope regions.
 * Returns 0 or -errno with @err. */
int embedded__run(struct embedded *e, struct launch *l, const char *name, const char *command,
		  bool python_malloc, bool hook, bool region_scope, json_t *context, int *status,
		  char *err, size_t errlen);

/* The result document of the run (new reference) or NULL + errno. */
json_t *embedded__results(struct embedded *e);

/* Writes the .bin of region @name (its min-peak pass) into the profile directory; returns
 * its path (valid until embedded__free) or NULL + errno with @err. */
const char *embedded__profile(struct embedded *e, const char *name, char *err, size_t errlen);

#endif /* BM_EMBEDDED_H */

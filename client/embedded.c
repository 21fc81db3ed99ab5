// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/embedded.c — benchmem-run's in-process collector. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "collector.h"
#include "embedded.h"

struct embedded {
	bool profile;
	char dir[PATH_MAX];
	char sock[PATH_MAX + 32];
	struct collector *c;
};

struct embedded *embedded__new(bool profile, const char *profile_dir, char *err, size_t errlen)
{
	struct collector_opts o = { .embedded = true, .ready_fd = -1 };
	struct embedded *e = calloc(1, sizeof(*e));
	const char *tmp = getenv("TMPDIR");

	if (!e)
		return NULL;
	if ((size_t)snprintf(e->dir, sizeof(e->dir), "%s/benchmem-run.XXXXXX",
			     tmp && *tmp ? tmp : "/tmp") >= sizeof(e->dir) ||
	    !mkdtemp(e->dir)) {
		snprintf(err, errlen, "cannot create a private directory in %s: %s",
			 tmp && *tmp ? tmp : "/tmp", strerror(errno));
		goto fail;
	}
	/* the collector traces as root: its socket is its invoker's alone (mkdtemp made the
	 * directory 0700; the socket is 0600), a command that drops privileges cannot mark */
	snprintf(e->sock, sizeof(e->sock), "%s/benchmemd.sock", e->dir);
	config_defaults(&o.cfg);
	e->profile = profile;
	if (profile_dir && (size_t)snprintf(o.cfg.profile_dir, sizeof(o.cfg.profile_dir), "%s",
					    profile_dir) >= sizeof(o.cfg.profile_dir)) {
		snprintf(err, errlen, "--profile-dir: path too long");
		goto fail;
	}
	e->c = collector__new(&o, err, errlen);
	if (!e->c || collector__serve_path(e->c, e->sock, 0600, err, errlen))
		goto fail;
	setenv("BENCHMEM_SOCKET", e->sock, 1);
	return e;
fail:
	embedded__free(e);
	errno = EPERM;
	return NULL;
}

void embedded__free(struct embedded *e)
{
	if (!e)
		return;
	collector__free(e->c);
	if (e->dir[0])
		rmdir(e->dir);
	free(e);
}

int embedded__run(struct embedded *e, struct launch *l, const char *name, const char *command,
		  bool python_malloc, bool hook, bool region_scope, json_t *context, int *status,
		  char *err, size_t errlen)
{
	struct session *s;
	int r;

	r = collector__launch_local(e->c, l->pid, getuid(), name, command, python_malloc,
				    e->profile, hook, err, errlen);
	if (r) {
		launch_abort(l);
		return r;
	}
	/* in-process, the context the daemon would get in the launch request */
	collector__local_session(e->c)->context = json_incref(context);
	if (region_scope) /* before the exec: its probes follow the scope */
		collector__set_scope(e->c, collector__local_session(e->c), true);
	r = launch_release(l);
	if (r) {
		snprintf(err, errlen, "cannot run '%s': %s", command, strerror(-r));
		collector__run(e->c); /* reaps the child, which exits 127 */
		return r;
	}
	r = collector__run(e->c);
	s = collector__local_session(e->c);
	if (r || !s) {
		snprintf(err, errlen, "collector stopped: %s", strerror(r ? -r : EIO));
		return r ? r : -EIO;
	}
	*status = s->exit_status;
	return 0;
}

json_t *embedded__results(struct embedded *e)
{
	struct session *s = collector__local_session(e->c);

	if (!s) {
		errno = ENOENT;
		return NULL;
	}
	return collector__results(e->c, s);
}

const char *embedded__profile(struct embedded *e, const char *name, char *err, size_t errlen)
{
	struct session *s = collector__local_session(e->c);

	if (!s) {
		snprintf(err, errlen, "no session");
		errno = ENOENT;
		return NULL;
	}
	return collector__profile(e->c, s, name, -1, err, errlen);
}

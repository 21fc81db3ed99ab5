// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/creds.c — the credential check of a trace request and its re-check through a pidfd. */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "creds.h"

/* Field 22 of /proc/PID/stat, counted after the ")" that ends the command name (which may
 * itself hold spaces and parentheses). */
static int read_start_time(pid_t pid, uint64_t *out)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')');
	if (!p)
		return -ENODATA;
	/* state is field 3; starttime is 19 fields after it */
	if (sscanf(p + 1,
		   " %*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %*u %*u %*d %*d %*d %*d %*d %*d "
		   "%" SCNu64,
		   out) != 1)
		return -ENODATA;
	return 0;
}

int creds_read(pid_t pid, struct proc_creds *out)
{
	char path[64];
	struct stat st;
	int e;

	memset(out, 0, sizeof(*out));
	e = procstatus_read(pid, &out->st);
	if (e)
		return e;
	/* the kernel gives the files of /proc/PID (not the directory itself) to root when the
	 * process is not dumpable (a set-uid program, or prctl(PR_SET_DUMPABLE, 0)): an
	 * unprivileged tracer is refused then */
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (stat(path, &st))
		return -errno;
	out->dump_uid = st.st_uid;
	out->dump_gid = st.st_gid;
	return read_start_time(pid, &out->start_time);
}

int creds_allows(const struct proc_creds *c, pid_t pid, uid_t uid, gid_t gid, char *why, size_t len)
{
	const uid_t *u = c->st.uids;
	const gid_t *g = c->st.gids;

	if (uid == 0)
		return 0;
	if (u[0] != uid) {
		/* the wording clients and tests know for another user's process */
		snprintf(why, len, "pid %d belongs to uid %u, you are uid %u", pid, u[0], uid);
		return -EPERM;
	}
	for (int i = 0; i < 4; i++) {
		if (u[i] != uid || g[i] != gid) {
			snprintf(why, len,
				 "pid %d runs with uids %u/%u/%u/%u and gids %u/%u/%u/%u (real, "
				 "effective, saved, filesystem), not all yours (uid %u, gid %u): "
				 "a set-uid or set-gid program",
				 pid, u[0], u[1], u[2], u[3], g[0], g[1], g[2], g[3], uid, gid);
			return -EPERM;
		}
	}
	if (c->st.cap_prm) {
		snprintf(why, len, "pid %d holds capabilities (CapPrm %016" PRIx64 ")", pid,
			 c->st.cap_prm);
		return -EPERM;
	}
	if (c->dump_uid != uid || c->dump_gid != gid) {
		snprintf(why, len, "pid %d is not dumpable", pid);
		return -EPERM;
	}
	return 0;
}

int creds_pidfd_open(pid_t pid)
{
	long fd = syscall(SYS_pidfd_open, pid, 0);

	return fd < 0 ? -errno : (int)fd;
}

int creds_pidfd_alive(int pidfd)
{
	return syscall(SYS_pidfd_send_signal, pidfd, 0, NULL, 0) ? -errno : 0;
}

int creds_check(pid_t pid, uid_t uid, gid_t gid, char *why, size_t len)
{
	struct proc_creds c;
	int e = creds_read(pid, &c);

	if (e) {
		snprintf(why, len, "cannot read the credentials of pid %d: %s", pid, strerror(-e));
		return e;
	}
	return creds_allows(&c, pid, uid, gid, why, len);
}

int creds_recheck(const struct creds_grant *g, pid_t pid, char *why, size_t len)
{
	struct proc_creds now;
	int e = creds_read(pid, &now);

	/* alive after the read: what was read is the pidfd's process, not a reuse of @pid */
	if (!e)
		e = creds_pidfd_alive(g->pidfd);
	if (e || now.start_time != g->seen.start_time) {
		snprintf(why, len, "pid %d is gone or is another process now", pid);
		return -ESRCH;
	}
	return creds_allows(&now, pid, g->uid, g->gid, why, len);
}

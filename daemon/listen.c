// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/listen.c — the listening socket: bind with mode and group, or inherit it from systemd
 * (LISTEN_FDS). */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "listen.h"

#define SD_LISTEN_FDS_START 3 /* sd_listen_fds(3): the first passed fd */

bool listen_is_activated(void)
{
	const char *pid = getenv("LISTEN_PID");
	char *end;
	long v;

	if (!pid || !getenv("LISTEN_FDS"))
		return false;
	errno = 0;
	v = strtol(pid, &end, 10);
	return !errno && end != pid && !*end && v == (long)getpid();
}

static int fail(char *err, size_t errlen, int ret, const char *path, const char *what)
{
	snprintf(err, errlen, "%s: %s: %s", path, what, strerror(-ret));
	return ret;
}

static int sockopt_int(int fd, int opt, int *out)
{
	socklen_t len = sizeof(*out);

	if (getsockopt(fd, SOL_SOCKET, opt, out, &len) < 0)
		return -errno;
	return 0;
}

/* Takes fd 3 from systemd after checking it is what benchmemd.socket describes. */
static int listen_inherit(char *err, size_t errlen)
{
	const int fd = SD_LISTEN_FDS_START;
	int domain = 0, type = 0, acc = 0, flags;
	const char *n = getenv("LISTEN_FDS");

	if (strcmp(n, "1")) {
		snprintf(err, errlen,
			 "systemd passed LISTEN_FDS=%.16s sockets; benchmemd takes one", n);
		return -EINVAL;
	}
	if (sockopt_int(fd, SO_DOMAIN, &domain) || sockopt_int(fd, SO_TYPE, &type) ||
	    sockopt_int(fd, SO_ACCEPTCONN, &acc) || domain != AF_UNIX || type != SOCK_STREAM ||
	    !acc) {
		snprintf(err, errlen,
			 "fd 3 from systemd is not a listening Unix stream socket "
			 "(check ListenStream= in benchmemd.socket)");
		return -ENOTSOCK;
	}
	flags = fcntl(fd, F_GETFL);
	if (flags < 0 || fcntl(fd, F_SETFL, flags | O_NONBLOCK) < 0 ||
	    fcntl(fd, F_SETFD, FD_CLOEXEC) < 0)
		return fail(err, errlen, -errno, "fd 3", "fcntl");
	return fd;
}

/* mkdir -p of @path's parent directory, 0755 for the components it creates. */
static int make_parent(const char *path, char *err, size_t errlen)
{
	char dir[sizeof(((struct sockaddr_un *)0)->sun_path)];
	char *slash;

	snprintf(dir, sizeof(dir), "%s", path);
	slash = strrchr(dir, '/');
	if (!slash || slash == dir)
		return 0;
	*slash = '\0';
	for (char *p = strchr(dir + 1, '/');; p = strchr(p + 1, '/')) {
		if (p)
			*p = '\0';
		if (mkdir(dir, 0755) == 0)
			chmod(dir, 0755); /* whatever the umask */
		else if (errno != EEXIST)
			return fail(err, errlen, -errno, dir, "cannot create directory");
		if (!p)
			break;
		*p = '/';
	}
	return 0;
}

/* Removes a socket at @path that nobody listens on. Returns 0 (nothing there, or removed),
 * -EADDRINUSE (a live listener) or -EEXIST (not a socket). */
static int remove_stale(const struct sockaddr_un *sa, char *err, size_t errlen)
{
	struct stat st;
	int fd, ret;

	if (lstat(sa->sun_path, &st) < 0)
		return errno == ENOENT ? 0 : fail(err, errlen, -errno, sa->sun_path, "stat");
	if (!S_ISSOCK(st.st_mode)) {
		snprintf(err, errlen, "%s: exists and is not a socket; not touching it",
			 sa->sun_path);
		return -EEXIST;
	}
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, sa->sun_path, "socket");
	/* Non-blocking: a listener with a full backlog answers EAGAIN, which still means live. */
	ret = connect(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 ? -errno : 0;
	close(fd);
	if (ret == 0 || ret == -EAGAIN || ret == -EINPROGRESS) {
		snprintf(err, errlen, "%s: another benchmemd is listening there", sa->sun_path);
		return -EADDRINUSE;
	}
	if (ret != -ECONNREFUSED && ret != -ENOENT)
		return fail(err, errlen, ret, sa->sun_path, "cannot probe the old socket");
	if (unlink(sa->sun_path) < 0 && errno != ENOENT)
		return fail(err, errlen, -errno, sa->sun_path, "cannot remove the stale socket");
	return 0;
}

/* Gives @path to @group (gid 0 when it does not exist, with a warning in @err). */
static int set_group(const char *path, const char *group, char *err, size_t errlen)
{
	struct group gr, *res = NULL;
	char buf[4096];
	gid_t gid = 0;
	int ret;

	if (!group || !*group)
		return 0;
	ret = getgrnam_r(group, &gr, buf, sizeof(buf), &res);
	if (ret)
		return fail(err, errlen, -ret, group, "cannot look up group");
	if (res)
		gid = gr.gr_gid;
	else
		snprintf(err, errlen, "group %s does not exist; %s stays in group root", group,
			 path);
	if (chown(path, (uid_t)-1, gid) < 0)
		return fail(err, errlen, -errno, path, "cannot chown");
	return 0;
}

/* bind, chmod, chown, listen: permissions are final before anyone can connect. */
static int bind_and_listen(int fd, const struct sockaddr_un *sa, mode_t mode, const char *group,
			   char *err, size_t errlen)
{
	const char *path = sa->sun_path;
	int ret;

	if (bind(fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0)
		return fail(err, errlen, -errno, path, "cannot bind");
	if (chmod(path, mode) < 0) {
		ret = fail(err, errlen, -errno, path, "cannot chmod");
		goto undo;
	}
	ret = set_group(path, group, err, errlen);
	if (ret)
		goto undo;
	if (listen(fd, LISTEN_BACKLOG) < 0) {
		ret = fail(err, errlen, -errno, path, "cannot listen");
		goto undo;
	}
	return 0;
undo:
	unlink(path);
	return ret;
}

int listen_open(const char *path, mode_t mode, const char *group, char *err, size_t errlen)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd, ret;

	if (errlen)
		err[0] = '\0';
	if (listen_is_activated())
		return listen_inherit(err, errlen);
	if (!path || strlen(path) >= sizeof(sa.sun_path) || path[0] != '/') {
		snprintf(err, errlen, "%.128s: socket path must be absolute and under %zu bytes",
			 path ? path : "(null)", sizeof(sa.sun_path));
		return -EINVAL;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	ret = make_parent(path, err, errlen);
	if (!ret)
		ret = remove_stale(&sa, err, errlen);
	if (ret)
		return ret;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return fail(err, errlen, -errno, path, "socket");
	ret = bind_and_listen(fd, &sa, mode, group, err, errlen);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

void listen_close(int fd, const char *path)
{
	struct stat st;

	if (fd >= 0)
		close(fd);
	if (!path || listen_is_activated())
		return; /* systemd owns the socket file and keeps it for the next activation */
	if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(path);
}

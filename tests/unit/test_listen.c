// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_listen.c — listen.c on real sockets in a private temp directory: mode, group,
 * stale and live sockets, systemd activation and the unlink rule. */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "listen.h"
#include "tap.h"

static char dir[64];

static const char *sock_path(const char *name)
{
	static char path[96];

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	return path;
}

/* The expected message: @pre, the path, @post. */
static const char *expect(const char *pre, const char *path, const char *post)
{
	static char buf[256];

	snprintf(buf, sizeof(buf), "%s%s%s", pre, path, post);
	return buf;
}

static int connect_to(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	int ret;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	ret = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static void test_creates_parents_and_sets_mode_before_listening(void)
{
	char path[96], parent[96], err[256] = "untouched";
	struct stat st;
	int fd, fl;

	snprintf(path, sizeof(path), "%s", sock_path("a/b/c.sock"));
	snprintf(parent, sizeof(parent), "%s", sock_path("a/b"));
	fd = listen_open(path, 0640, NULL, err, sizeof(err));
	CHECK(fd >= 0);
	CHECK_STR(err, "");
	CHECK_I64(stat(parent, &st), 0);
	CHECK_U64(st.st_mode & 07777, 0755);
	CHECK_I64(lstat(path, &st), 0);
	CHECK(S_ISSOCK(st.st_mode));
	CHECK_U64(st.st_mode & 07777, 0640);
	fl = fcntl(fd, F_GETFL);
	CHECK(fl & O_NONBLOCK);
	CHECK(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	CHECK_I64(connect_to(path), 0);
	listen_close(fd, path);
	CHECK_I64(lstat(path, &st), -1);
	CHECK_I64(errno, ENOENT);
}

static void test_live_socket_is_refused_and_left_alone(void)
{
	const char *path = sock_path("live.sock");
	char err[256];
	int fd, fd2;

	fd = listen_open(path, 0600, NULL, err, sizeof(err));
	CHECK(fd >= 0);
	fd2 = listen_open(path, 0600, NULL, err, sizeof(err));
	CHECK_I64(fd2, -EADDRINUSE);
	CHECK_STR(err, expect("", path, ": another benchmemd is listening there"));
	CHECK_I64(connect_to(path), 0); /* the first daemon still serves */
	listen_close(fd, path);
}

static void test_stale_socket_is_replaced(void)
{
	const char *path = sock_path("stale.sock");
	char err[256];
	int fd;

	fd = listen_open(path, 0600, NULL, err, sizeof(err));
	close(fd); /* a daemon that died: the file stays, nobody listens */
	CHECK_I64(connect_to(path), -ECONNREFUSED);
	fd = listen_open(path, 0600, NULL, err, sizeof(err));
	CHECK(fd >= 0);
	CHECK_STR(err, "");
	CHECK_I64(connect_to(path), 0);
	listen_close(fd, path);
}

static void test_regular_file_at_path_is_not_removed(void)
{
	const char *path = sock_path("file.sock");
	char err[256];
	struct stat st;
	int fd = open(path, O_CREAT | O_WRONLY | O_CLOEXEC, 0600);

	close(fd);
	CHECK_I64(listen_open(path, 0600, NULL, err, sizeof(err)), -EEXIST);
	CHECK_STR(err, expect("", path, ": exists and is not a socket; not touching it"));
	CHECK_I64(lstat(path, &st), 0);
	CHECK(S_ISREG(st.st_mode));
	listen_close(-1, path); /* not a socket: still not removed */
	CHECK_I64(lstat(path, &st), 0);
	unlink(path);
}

static void test_relative_or_long_path_is_einval(void)
{
	char err[256], longp[200];

	CHECK_I64(listen_open("rel.sock", 0600, NULL, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "rel.sock: socket path must be absolute and under 108 bytes");
	memset(longp, 'x', sizeof(longp));
	longp[0] = '/';
	longp[sizeof(longp) - 1] = '\0';
	CHECK_I64(listen_open(longp, 0600, NULL, err, sizeof(err)), -EINVAL);
}

/* Group handling needs root (chown to a group we are not in). */
static void test_group_is_applied_or_falls_back_to_root_with_warning(void)
{
	const char *path = sock_path("grp.sock");
	struct group *daemon_grp = getgrnam("daemon");
	char err[256];
	struct stat st;
	int fd;

	if (geteuid() != 0) {
		CHECK_I64(listen_open(path, 0660, "root", err, sizeof(err)), -EPERM);
		return;
	}
	CHECK(daemon_grp != NULL);
	fd = listen_open(path, 0660, "daemon", err, sizeof(err));
	CHECK(fd >= 0);
	CHECK_STR(err, "");
	CHECK_I64(lstat(path, &st), 0);
	CHECK_U64(st.st_gid, daemon_grp ? daemon_grp->gr_gid : 99999);
	listen_close(fd, path);
	fd = listen_open(path, 0660, "bm-no-such-group", err, sizeof(err));
	CHECK(fd >= 0);
	CHECK_STR(err,
		  expect("group bm-no-such-group does not exist; ", path, " stays in group root"));
	CHECK_I64(lstat(path, &st), 0);
	CHECK_U64(st.st_gid, 0);
	listen_close(fd, path);
}

/* In a child: puts @sock at fd 3, sets LISTEN_PID/LISTEN_FDS, and returns what listen_open
 * said, and whether listen_close left the file. Exits with the number of failed checks. */
static void activated_child(int sock, const char *fds, int want, const char *want_err)
{
	const char *path = sock_path("sd.sock");
	char err[256], pid[16];
	int fd, before = tap_checks_failed;
	struct stat st;

	if (dup2(sock, 3) < 0)
		_exit(100);
	snprintf(pid, sizeof(pid), "%d", (int)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", fds, 1);
	fd = listen_open("/nonexistent/never/used.sock", 0600, "root", err, sizeof(err));
	CHECK_I64(fd, want);
	CHECK_STR(err, want_err);
	if (fd == 3) {
		CHECK(fcntl(3, F_GETFL) & O_NONBLOCK);
		CHECK(fcntl(3, F_GETFD) & FD_CLOEXEC);
		listen_close(fd, path);
		CHECK_I64(lstat(path, &st), 0); /* systemd's file: kept */
	}
	fflush(stdout);
	_exit(tap_checks_failed - before);
}

static int run_activated(int sock, const char *fds, int want, const char *want_err)
{
	int status = -1;
	pid_t pid;

	fflush(stdout);
	pid = fork();
	if (pid == 0)
		activated_child(sock, fds, want, want_err);
	waitpid(pid, &status, 0);
	return WIFEXITED(status) ? WEXITSTATUS(status) : 200;
}

static void test_systemd_socket_is_taken_from_fd_3(void)
{
	const char *path = sock_path("sd.sock");
	char err[256];
	int lfd, plain;

	lfd = listen_open(path, 0600, NULL, err, sizeof(err));
	plain = socket(AF_UNIX, SOCK_STREAM, 0); /* not listening */
	CHECK_I64(run_activated(lfd, "1", 3, ""), 0);
	CHECK_I64(run_activated(plain, "1", -ENOTSOCK,
				"fd 3 from systemd is not a listening Unix stream socket (check "
				"ListenStream= in benchmemd.socket)"),
		  0);
	CHECK_I64(run_activated(lfd, "2", -EINVAL,
				"systemd passed LISTEN_FDS=2 sockets; benchmemd takes one"),
		  0);
	CHECK_I64(connect_to(path), 0); /* the children did not unlink the file */
	close(plain);
	listen_close(lfd, path);
}

static void test_listen_pid_of_another_process_is_ignored(void)
{
	const char *path = sock_path("other.sock");
	char err[256];
	int fd;

	setenv("LISTEN_PID", "1", 1);
	setenv("LISTEN_FDS", "1", 1);
	CHECK(!listen_is_activated());
	fd = listen_open(path, 0600, NULL, err, sizeof(err));
	CHECK(fd >= 0);
	CHECK_I64(connect_to(path), 0);
	listen_close(fd, path);
	CHECK_I64(connect_to(path), -ENOENT);
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
}

int main(void)
{
	char rm[96];

	snprintf(dir, sizeof(dir), "/tmp/bm-listen-XXXXXX");
	if (!mkdtemp(dir)) {
		printf("Bail out! cannot create %s\n", dir);
		return 1;
	}
	TEST(test_creates_parents_and_sets_mode_before_listening);
	TEST(test_live_socket_is_refused_and_left_alone);
	TEST(test_stale_socket_is_replaced);
	TEST(test_regular_file_at_path_is_not_removed);
	TEST(test_relative_or_long_path_is_einval);
	TEST(test_group_is_applied_or_falls_back_to_root_with_warning);
	TEST(test_systemd_socket_is_taken_from_fd_3);
	TEST(test_listen_pid_of_another_process_is_ignored);
	snprintf(rm, sizeof(rm), "rm -rf '%s'", dir);
	if (system(rm) != 0)
		printf("# could not remove %s\n", dir);
	return tap_done();
}

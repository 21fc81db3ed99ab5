// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_creds.c — who may trace what, and the re-check through a pidfd that refuses
 * a process that is gone or is another one at the same pid. */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "creds.h"

/* A process of uid/gid 1000 with every id its own, dumpable, no capability. */
static struct proc_creds plain(void)
{
	struct proc_creds c = { .dump_uid = 1000, .dump_gid = 1000, .start_time = 42 };

	c.st.tgid = 77;
	c.st.uid = 1000;
	for (int i = 0; i < 4; i++) {
		c.st.uids[i] = 1000;
		c.st.gids[i] = 1000;
	}
	return c;
}

static void test_own_plain_process_is_allowed_and_root_may_trace_anything(void)
{
	struct proc_creds c = plain();
	char why[256] = "";

	CHECK_I64(creds_allows(&c, 77, 1000, 1000, why, sizeof(why)), 0);
	c.st.uids[1] = 0; /* set-uid root */
	c.dump_uid = 0;
	CHECK_I64(creds_allows(&c, 77, 0, 0, why, sizeof(why)), 0);
}

static void test_every_id_must_be_the_clients(void)
{
	char why[256];

	for (int i = 0; i < 8; i++) {
		struct proc_creds c = plain();

		if (i < 4)
			c.st.uids[i] = 0;
		else
			c.st.gids[i - 4] = 0;
		c.st.uid = c.st.uids[0];
		why[0] = '\0';
		CHECK_I64(creds_allows(&c, 77, 1000, 1000, why, sizeof(why)), -EPERM);
		if (i == 0)
			CHECK_STR(why, "pid 77 belongs to uid 0, you are uid 1000");
		else
			CHECK(strstr(why, "not all yours (uid 1000, gid 1000)") != NULL);
	}
}

static void test_capabilities_or_not_dumpable_are_refused(void)
{
	struct proc_creds c = plain();
	char why[256];

	c.st.cap_prm = 1ull << 13; /* cap_net_raw from a file capability */
	CHECK_I64(creds_allows(&c, 77, 1000, 1000, why, sizeof(why)), -EPERM);
	CHECK_STR(why, "pid 77 holds capabilities (CapPrm 0000000000002000)");
	c = plain();
	c.dump_uid = 0;
	c.dump_gid = 0;
	CHECK_I64(creds_allows(&c, 77, 1000, 1000, why, sizeof(why)), -EPERM);
	CHECK_STR(why, "pid 77 is not dumpable");
}

static void test_own_process_reads_as_itself(void)
{
	struct proc_creds c;
	char why[256];

	CHECK_I64(creds_read(getpid(), &c), 0);
	CHECK_U64(c.st.uids[1], geteuid());
	CHECK_U64(c.st.gids[1], getegid());
	CHECK_U64(c.dump_uid, geteuid());
	CHECK(c.start_time > 0);
	CHECK_I64(creds_allows(&c, getpid(), getuid(), getgid(), why, sizeof(why)), 0);
	CHECK_I64(creds_read(-5, &c), -ENOENT);
}

static pid_t sleeper(void)
{
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	return pid;
}

static void test_recheck_passes_for_the_same_process(void)
{
	pid_t pid = sleeper();
	struct creds_grant g = { .pidfd = creds_pidfd_open(pid), .uid = getuid(), .gid = getgid() };
	char why[256] = "";

	CHECK(g.pidfd >= 0);
	CHECK_I64(creds_read(pid, &g.seen), 0);
	CHECK_I64(creds_recheck(&g, pid, why, sizeof(why)), 0);
	/* a different start time at the same pid: another process than the one checked */
	g.seen.start_time++;
	CHECK_I64(creds_recheck(&g, pid, why, sizeof(why)), -ESRCH);
	CHECK(strstr(why, "is gone or is another process now") != NULL);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	close(g.pidfd);
}

static void test_recheck_refuses_a_process_that_is_gone(void)
{
	pid_t pid = sleeper();
	struct creds_grant g = { .pidfd = creds_pidfd_open(pid), .uid = getuid(), .gid = getgid() };
	char why[256] = "";

	CHECK_I64(creds_read(pid, &g.seen), 0);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0); /* reaped: its pid is free for anyone */
	CHECK_I64(creds_pidfd_alive(g.pidfd), -ESRCH);
	CHECK_I64(creds_recheck(&g, pid, why, sizeof(why)), -ESRCH);
	close(g.pidfd);
}

static pid_t thread_tid;
static int thread_done;

static void *thread_main(void *arg)
{
	(void)arg;
	__atomic_store_n(&thread_tid, gettid(), __ATOMIC_RELEASE);
	while (!__atomic_load_n(&thread_done, __ATOMIC_ACQUIRE))
		usleep(1000);
	return NULL;
}

/* a thread id names no process: dispatch refuses it before any seize */
static void test_pidfd_of_a_thread_is_refused(void)
{
	pthread_t t;
	int fd;

	CHECK_I64(pthread_create(&t, NULL, thread_main, NULL), 0);
	while (!__atomic_load_n(&thread_tid, __ATOMIC_ACQUIRE))
		usleep(1000);
	fd = creds_pidfd_open(thread_tid);
	CHECK(fd == -EINVAL || fd == -ENOENT); /* ENOENT since Linux 6.9 */
	__atomic_store_n(&thread_done, 1, __ATOMIC_RELEASE);
	pthread_join(t, NULL);
	CHECK_I64(creds_pidfd_open(-1), -EINVAL);
}

int main(void)
{
	TEST(test_own_plain_process_is_allowed_and_root_may_trace_anything);
	TEST(test_every_id_must_be_the_clients);
	TEST(test_capabilities_or_not_dumpable_are_refused);
	TEST(test_own_process_reads_as_itself);
	TEST(test_recheck_passes_for_the_same_process);
	TEST(test_recheck_refuses_a_process_that_is_gone);
	TEST(test_pidfd_of_a_thread_is_refused);
	return tap_done();
}

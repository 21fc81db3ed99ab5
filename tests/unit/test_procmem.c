// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_procmem.c — /proc/PID/mem fds: reads and writes reach the image they were
 * opened on, and nothing once the process exec'd (the kernel behaviour docs/hook.md "Trust"
 * relies on; test_trust_threads.py checks it with a thread's exec of a set-uid image). */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>
#include "tap.h"
#include "procmem.h"

static volatile uint64_t word = 0x1122334455667788ULL;

static void test_own_memory_round_trip(void)
{
	int mem = procmem_open(getpid());
	uint64_t v = 0, w = 42;

	CHECK(mem >= 0);
	CHECK_I64(procmem_read(mem, (uint64_t)(uintptr_t)&word, &v, sizeof(v)), 0);
	CHECK_U64(v, 0x1122334455667788ULL);
	CHECK_I64(procmem_write(mem, (uint64_t)(uintptr_t)&word, &w, sizeof(w)), 0);
	CHECK_U64(word, 42);
	CHECK_I64(procmem_read(mem, 0, &v, sizeof(v)), -EIO); /* page 0: nothing mapped */
	CHECK(procmem_mapped(getpid()));
	close(mem);
	CHECK_I64(procmem_read(-1, (uint64_t)(uintptr_t)&word, &v, sizeof(v)), -EBADF);
	CHECK_I64(procmem_open(-5), -ENOENT);
}

/* A child that execs: the fd opened before reads and writes nothing after, at the same
 * address; once it is reaped it has no address space at all. */
static void test_an_exec_leaves_the_fd_nothing(void)
{
	int go[2], mem, status;
	uint64_t v = 0, w = 7;
	pid_t pid;
	char c = 0;

	word = 0x1122334455667788ULL;
	CHECK_I64(pipe(go), 0);
	pid = fork();
	if (pid == 0) {
		close(go[1]);
		if (read(go[0], &c, 1) == 1)
			execl("/bin/sleep", "sleep", "30", (char *)NULL);
		_exit(1);
	}
	close(go[0]);
	mem = procmem_open(pid);
	CHECK(mem >= 0);
	CHECK_I64(procmem_read(mem, (uint64_t)(uintptr_t)&word, &v, sizeof(v)), 0);
	CHECK_U64(v, 0x1122334455667788ULL);
	CHECK_I64(write(go[1], "x", 1), 1);
	close(go[1]);
	/* the exec has happened once the child's exe is sleep's: wait for its new mapping */
	for (int i = 0; i < 500 && !procmem_read(mem, (uint64_t)(uintptr_t)&word, &v, 8); i++)
		usleep(2000);
	CHECK_I64(procmem_read(mem, (uint64_t)(uintptr_t)&word, &v, sizeof(v)), -ESRCH);
	CHECK_I64(procmem_write(mem, (uint64_t)(uintptr_t)&word, &w, sizeof(w)), -ESRCH);
	CHECK(procmem_mapped(pid));
	kill(pid, SIGKILL);
	CHECK_I64(waitpid(pid, &status, 0), pid);
	CHECK(!procmem_mapped(pid));
	close(mem);
}

int main(void)
{
	TEST(test_own_memory_round_trip);
	TEST(test_an_exec_leaves_the_fd_nothing);
	return tap_done();
}

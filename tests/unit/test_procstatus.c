// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_procstatus.c — /proc/PID/status parsing on a canned file and on ourselves. */
#include <errno.h>
#include <unistd.h>
#include "tap.h"
#include "procstatus.h"

static void test_canned_thread_status_gives_ids_and_hwm(void)
{
	FILE *f = fopen("tests/fixtures/status_python.txt", "r");
	struct proc_status st;

	CHECK(f != NULL);
	if (!f)
		return;
	CHECK_I64(procstatus_parse(f, &st), 0);
	fclose(f);
	CHECK_I64(st.tgid, 4321); /* a thread: Pid 4322 belongs to process 4321 */
	CHECK_I64(st.ppid, 1200);
	CHECK_U64(st.uid, 1000);
	CHECK(st.has_hwm);
	CHECK_U64(st.hwm_bytes, 9876 * 1024);
}

static void test_status_without_ids_is_nodata(void)
{
	char text[] = "Name:\tx\nVmHWM:\t4 kB\n";
	FILE *f = fmemopen(text, sizeof(text) - 1, "r");
	struct proc_status st;

	CHECK_I64(procstatus_parse(f, &st), -ENODATA);
	fclose(f);
}

static void test_own_status_matches_the_syscalls(void)
{
	struct proc_status st;

	CHECK_I64(procstatus_read(getpid(), &st), 0);
	CHECK_I64(st.tgid, getpid());
	CHECK_I64(st.ppid, getppid());
	CHECK_U64(st.uid, getuid());
	CHECK(st.has_hwm && st.hwm_bytes > 0);
	CHECK_I64(procstatus_read(-5, &st), -ENOENT);
}

int main(void)
{
	TEST(test_canned_thread_status_gives_ids_and_hwm);
	TEST(test_status_without_ids_is_nodata);
	TEST(test_own_status_matches_the_syscalls);
	return tap_done();
}

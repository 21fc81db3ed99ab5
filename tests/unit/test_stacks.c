// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_stacks.c — image snapshot of our own process, checked against the loader. */
#include <dlfcn.h>
#include <errno.h>
#include <gnu/libc-version.h>
#include <link.h>
#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "tap.h"
#include "stacks.h"

static const struct stacks_image *find(const struct stacks_images *im, const char *path)
{
	for (size_t i = 0; i < im->n; i++)
		if (!strcmp(im->v[i].path, path))
			return &im->v[i];
	return NULL;
}

static const struct stacks_image *find_libc(const struct stacks_images *im)
{
	for (size_t i = 0; i < im->n; i++) {
		const char *base = strrchr(im->v[i].path, '/');

		if (base && !strcmp(base, "/libc.so.6"))
			return &im->v[i];
	}
	return NULL;
}

/* Whether @addr lies in [load_addr + vaddr, + memsz) of one of @img's segments. */
static bool covers(const struct stacks_image *img, const void *addr)
{
	uint64_t a = (uint64_t)(uintptr_t)addr;

	for (size_t i = 0; i < img->nr_segs; i++) {
		uint64_t lo = img->load_addr + img->segs[i].vaddr;

		if (a >= lo && a < lo + img->segs[i].memsz)
			return true;
	}
	return false;
}

struct loader_view {
	const char *want; /* path to look for; "" = the main program */
	uint64_t addr;	  /* dlpi_addr */
	size_t nr_loads;
	bool found;
};

static int phdr_cb(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct loader_view *lv = arg;
	char real[4096];

	(void)size;
	/* the loader says /lib/..., maps say /usr/lib/... (merged /usr): compare real paths */
	if (info->dlpi_name[0] ? !realpath(info->dlpi_name, real) || strcmp(real, lv->want)
			       : lv->want[0] != '\0')
		return 0;
	lv->found = true;
	lv->addr = info->dlpi_addr;
	for (int i = 0; i < info->dlpi_phnum; i++)
		lv->nr_loads += info->dlpi_phdr[i].p_type == PT_LOAD;
	return 1;
}

static void test_own_executable_and_libc_with_the_loaders_bias(void)
{
	struct stacks_images im = { 0 };
	const struct stacks_image *exe, *libc;
	struct loader_view lv = { .want = "" };
	char self[4096];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	void *h, *libc_malloc;

	CHECK(n > 0);
	self[n > 0 ? n : 0] = '\0';
	CHECK_I64(stacks_images_read(getpid(), &im), 0);
	CHECK(im.n >= 2);
	for (size_t i = 0; i < im.n; i++)
		CHECK(im.v[i].path[0] == '/'); /* no [vdso], no anonymous mappings */

	exe = find(&im, self);
	CHECK(exe != NULL);
	if (exe) {
		dl_iterate_phdr(phdr_cb, &lv);
		CHECK(lv.found);
		CHECK_U64(exe->load_addr, lv.addr);
		CHECK_U64(exe->nr_segs, lv.nr_loads);
		CHECK(exe->load_addr % (uint64_t)sysconf(_SC_PAGESIZE) == 0);
		CHECK(covers(exe, (void *)test_own_executable_and_libc_with_the_loaders_bias));
		CHECK(covers(exe, (void *)find_libc));
		CHECK(!covers(exe, (void *)gnu_get_libc_version));
	}

	libc = find_libc(&im);
	CHECK(libc != NULL);
	if (libc) {
		lv = (struct loader_view){ .want = libc->path };
		dl_iterate_phdr(phdr_cb, &lv);
		CHECK(lv.found);
		CHECK_U64(libc->load_addr, lv.addr);
		CHECK_U64(libc->nr_segs, lv.nr_loads);
		CHECK(libc->load_addr != 0);
		CHECK(libc->load_addr % (uint64_t)sysconf(_SC_PAGESIZE) == 0);
		/* under ASan &malloc is the interceptor: ask libc itself for its malloc */
		h = dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
		libc_malloc = h ? dlsym(h, "malloc") : NULL;
		CHECK(libc_malloc != NULL);
		CHECK(covers(libc, libc_malloc));
		CHECK(covers(libc, (void *)gnu_get_libc_version));
		CHECK(!covers(libc, (void *)find_libc));
		if (h)
			dlclose(h);
	}
	stacks_images_release(&im);
	CHECK(im.v == NULL && im.n == 0);
	stacks_images_release(&im);
	stacks_images_release(NULL);
}

static void test_memray_view_points_into_the_snapshot(void)
{
	struct stacks_images im = { 0 };
	struct memray_image *mi = NULL;

	CHECK_I64(stacks_images_read(getpid(), &im), 0);
	CHECK_I64(stacks_images_to_memray(&im, &mi), 0);
	CHECK(mi != NULL);
	for (size_t i = 0; mi && i < im.n; i++) {
		CHECK(mi[i].path == im.v[i].path);
		CHECK_U64(mi[i].load_addr, im.v[i].load_addr);
		CHECK(mi[i].segs == im.v[i].segs);
		CHECK_U64(mi[i].nr_segs, im.v[i].nr_segs);
	}
	free(mi);
	stacks_images_release(&im);
	CHECK_I64(stacks_images_to_memray(&im, &mi), 0);
	CHECK(mi == NULL);
}

static void test_forked_child_has_the_same_images_as_its_parent(void)
{
	struct stacks_images mine = { 0 }, child = { 0 };
	pid_t pid = fork();

	if (pid == 0) {
		pause();
		_exit(0);
	}
	CHECK(pid > 0);
	if (pid < 0)
		return;
	CHECK_I64(stacks_images_read(getpid(), &mine), 0);
	CHECK_I64(stacks_images_read(pid, &child), 0);
	CHECK_U64(child.n, mine.n);
	for (size_t i = 0; i < mine.n && i < child.n; i++) {
		CHECK_STR(child.v[i].path, mine.v[i].path);
		CHECK_U64(child.v[i].load_addr, mine.v[i].load_addr);
		CHECK_U64(child.v[i].nr_segs, mine.v[i].nr_segs);
	}
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	stacks_images_release(&mine);
	stacks_images_release(&child);
}

static void test_pid_that_does_not_exist_is_enoent(void)
{
	struct stacks_images im = { 0 };

	CHECK_I64(stacks_images_read(0x7ffffff0, &im), -ENOENT);
	CHECK(im.v == NULL && im.n == 0);
}

int main(void)
{
	TEST(test_own_executable_and_libc_with_the_loaders_bias);
	TEST(test_memray_view_points_into_the_snapshot);
	TEST(test_forked_child_has_the_same_images_as_its_parent);
	TEST(test_pid_that_does_not_exist_is_enoent);
	return tap_done();
}

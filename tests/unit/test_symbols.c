// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_symbols.c — allocator symbols of glibc and of a file that has none. */
#include <string.h>
#include "tap.h"
#include "benchmem.h"
#include "symbols.h"

#define LIBC "/lib/x86_64-linux-gnu/libc.so.6"

static const struct alloc_sym *find(const struct alloc_sym *s, int n, const char *name)
{
	for (int i = 0; i < n; i++) {
		if (!strcmp(s[i].name, name))
			return &s[i];
	}
	return NULL;
}

static void test_glibc_defines_every_allocator_and_aliases_are_probed_once(void)
{
	struct alloc_sym s[SYMBOLS_MAX_FUNCS];
	char err[256];
	int n = symbols_find_allocators(LIBC, s, SYMBOLS_MAX_FUNCS, err, sizeof(err));

	/* glibc 2.36: memalign == aligned_alloc and mmap == mmap64 share addresses */
	CHECK_I64(n, 11);
	CHECK(find(s, n, "malloc") && find(s, n, "free") && find(s, n, "munmap"));
	CHECK(find(s, n, "memalign") && !find(s, n, "aligned_alloc"));
	CHECK(find(s, n, "mmap") && !find(s, n, "mmap64"));
	for (int i = 0; i < n; i++) {
		CHECK(s[i].offset > 0 && s[i].seg_off < s[i].seg_len);
		CHECK(s[i].seg_len < BM_COOKIE_FIELD_MAX);
	}
}

static void test_file_without_malloc_is_no_allocator(void)
{
	struct alloc_sym s[SYMBOLS_MAX_FUNCS];
	char err[256];

	CHECK_I64(symbols_find_allocators("/lib/x86_64-linux-gnu/libz.so.1", s, SYMBOLS_MAX_FUNCS,
					  err, sizeof(err)),
		  0);
	CHECK(symbols_find_allocators("/nonexistent", s, SYMBOLS_MAX_FUNCS, err, sizeof(err)) < 0);
	CHECK(strstr(err, "/nonexistent") != NULL);
}

/* libstdc++ exports every operator new/delete of the table, but they forward to malloc/free
 * (probed in libc): it is no image to attach. */
static void test_libstdcxx_new_delete_forward_to_libc(void)
{
	struct alloc_sym s[SYMBOLS_MAX_FUNCS];
	char err[256];

	CHECK_I64(symbols_find_allocators("/usr/lib/x86_64-linux-gnu/libstdc++.so.6", s,
					  SYMBOLS_MAX_FUNCS, err, sizeof(err)),
		  0);
}

static void test_needed_of_a_dynamic_binary_resolves_libc(void)
{
	char out[SYMBOLS_MAX_NEEDED][4096];
	int n = symbols_needed("/bin/ls", out, SYMBOLS_MAX_NEEDED);
	int libc = 0;

	CHECK(n > 0);
	for (int i = 0; i < n; i++)
		libc |= strstr(out[i], "libc.so.6") != NULL;
	CHECK(libc);
}

int main(void)
{
	TEST(test_glibc_defines_every_allocator_and_aliases_are_probed_once);
	TEST(test_file_without_malloc_is_no_allocator);
	TEST(test_libstdcxx_new_delete_forward_to_libc);
	TEST(test_needed_of_a_dynamic_binary_resolves_libc);
	return tap_done();
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/workloads/cxx_new.cc — C++ operator new/delete (libstdc++): plain, array, nothrow,
 * sized and over-aligned forms. libstdc++ allocates through malloc, aligned_alloc and free,
 * so each new must count once, not twice. The work is one region marked through libbenchmem:
 * libstdc++'s own start-up allocation (its exception pool) stays out of the numbers. */
#include <cstring>
#include <new>

#include "libbenchmem.h"
#include "workload.h"

/* 128 bytes aligned to 64: operator new(size_t, align_val_t), which calls aligned_alloc. */
struct alignas(64) line {
	char b[128];
};

int main(int argc, char **argv)
{
	struct wl_book b = {};
	bool region = argc > 1 && !strcmp(argv[1], "region");
	char *held[10];

	if (region && benchmem_start("cxx_new"))
		return 4;
	/* ten blocks stay alive across the loop: the peak is theirs plus one iteration's */
	for (int i = 0; i < 10; i++) {
		held[i] = new char[10000];
		wl_keep(held[i]), wl_alloc(&b, 10000);
	}
	for (int i = 0; i < 100; i++) {
		char *a = new char[1000];
		int *x = new int(i);
		line *l = new line;
		void *raw = ::operator new(4096);
		char *nt = new (std::nothrow) char[300];

		wl_keep(a), wl_alloc(&b, 1000);
		wl_keep(x), wl_alloc(&b, sizeof(int));
		wl_keep(l), wl_alloc(&b, sizeof(line));
		wl_keep(raw), wl_alloc(&b, 4096);
		wl_keep(nt), wl_alloc(&b, 300);
		delete x, wl_free(&b, sizeof(int)); /* sized delete: _ZdlPvm */
		delete[] a, wl_free(&b, 1000);
		delete l, wl_free(&b, sizeof(line)); /* aligned sized delete */
		::operator delete(raw), wl_free(&b, 4096);
		delete[] nt, wl_free(&b, 300);
	}
	for (int i = 0; i < 10; i++)
		delete[] held[i], wl_free(&b, 10000);
	if (region && benchmem_stop("cxx_new", NULL))
		return 5;
	wl_done(&b);
	return 0;
}

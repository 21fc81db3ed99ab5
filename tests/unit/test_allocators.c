// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_allocators.c — the allocator table: names and aliases, the argument specs
 * the BPF side reads, return probes, memray ids, and the rows that forward to malloc/free. */
#include <string.h>

#include "allocators.h"
#include "tap.h"

static void test_every_row_is_well_formed(void)
{
	for (unsigned int f = BM_FN_NONE + 1; f < BM_FN_MAX; f++) {
		const struct allocator *r = allocator_row(f);
		uint32_t at_entry = r->flags & (BM_AS_EMIT_FREE | BM_AS_EMIT_MUNMAP);

		CHECK(r->names[0] != '\0');
		CHECK(r->spec.size <= 4 && r->spec.nmemb <= 4 && r->spec.addr <= 4 &&
		      r->spec.out <= 4);
		/* either a return probe or an event at entry, never both, never none */
		CHECK(!!(r->flags & BM_AS_RETURN) != !!at_entry);
		CHECK(!(r->flags & BM_AS_STATUS) || r->spec.out);
		CHECK(allocator_by_name(r->names) == f);
		CHECK(allocator_memray_id(f) <= MEMRAY_AL_MAX);
	}
	CHECK(allocator_row(BM_FN_NONE) == NULL && allocator_row(BM_FN_MAX) == NULL);
	CHECK(!strcmp(allocator_name(BM_FN_MAX), "?"));
}

static void test_names_and_aliases_find_their_row(void)
{
	CHECK_I64(allocator_by_name("malloc"), BM_FN_MALLOC);
	CHECK_I64(allocator_by_name("__libc_malloc"), BM_FN_MALLOC);
	CHECK_I64(allocator_by_name("mmap64"), BM_FN_MMAP);
	CHECK_I64(allocator_by_name("_Znwm"), BM_FN_CXX_NEW);
	CHECK_I64(allocator_by_name("_ZnamRKSt9nothrow_t"), BM_FN_CXX_NEW);
	CHECK_I64(allocator_by_name("_ZnwmSt11align_val_t"), BM_FN_CXX_NEW_ALIGNED);
	CHECK_I64(allocator_by_name("_ZdlPvm"), BM_FN_CXX_DELETE);
	CHECK_I64(allocator_by_name("_ZdaPvSt11align_val_t"), BM_FN_CXX_DELETE);
	CHECK_I64(allocator_by_name("mallo"), 0);
	CHECK(!strcmp(allocator_name(BM_FN_ALIGNED_ALLOC), "aligned_alloc"));
}

static void test_specs_the_bpf_side_reads(void)
{
	struct bm_argspec s[BM_ROWS_MAX];

	memset(s, 0xff, sizeof(s));
	allocators_fill_specs(s);
	CHECK_I64(s[BM_FN_NONE].flags, 0);
	CHECK_I64(s[BM_ROWS_MAX - 1].flags, 0);
	CHECK(s[BM_FN_CALLOC].size == 2 && s[BM_FN_CALLOC].nmemb == 1);
	CHECK(s[BM_FN_REALLOCARRAY].size == 3 && s[BM_FN_REALLOCARRAY].nmemb == 2 &&
	      s[BM_FN_REALLOCARRAY].addr == 1);
	CHECK(s[BM_FN_POSIX_MEMALIGN].out == 1 && s[BM_FN_POSIX_MEMALIGN].size == 3 &&
	      (s[BM_FN_POSIX_MEMALIGN].flags & BM_AS_STATUS));
	CHECK_I64(s[BM_FN_FREE].flags, BM_AS_EMIT_FREE);
	CHECK_I64(s[BM_FN_MUNMAP].flags, BM_AS_EMIT_MUNMAP | BM_AS_INSIDE);
	CHECK_I64(s[BM_FN_MMAP].flags,
		  BM_AS_RETURN | BM_AS_ANON_ONLY | BM_AS_INSIDE | BM_AS_FAIL_NEG1);
	/* the row flags that only user space reads stay out of the BPF byte */
	CHECK_I64(s[BM_FN_CXX_DELETE].flags, BM_AS_EMIT_FREE);
}

static void test_return_probes_ranges_and_memray_ids(void)
{
	CHECK(allocator_needs_return(BM_FN_MALLOC) && allocator_needs_return(BM_FN_MMAP));
	CHECK(!allocator_needs_return(BM_FN_FREE) && !allocator_needs_return(BM_FN_MUNMAP));
	CHECK(!allocator_needs_return(BM_FN_MAX));
	CHECK(allocator_is_ranged(BM_FN_MMAP) && !allocator_is_ranged(BM_FN_MALLOC));
	CHECK_I64(allocator_memray_id(BM_FN_MALLOC), MEMRAY_AL_MALLOC);
	CHECK_I64(allocator_memray_id(BM_FN_REALLOCARRAY), MEMRAY_AL_REALLOC);
	CHECK_I64(allocator_memray_id(BM_FN_MEMALIGN), MEMRAY_AL_MEMALIGN);
	CHECK_I64(allocator_memray_id(BM_FN_CXX_NEW), MEMRAY_AL_MALLOC);
	CHECK_I64(allocator_memray_id(BM_FN_CXX_NEW_ALIGNED), MEMRAY_AL_ALIGNED_ALLOC);
	/* frees and unmaps are their own records, not allocations */
	CHECK_I64(allocator_memray_id(BM_FN_FREE), 0);
	CHECK_I64(allocator_memray_id(BM_FN_CXX_DELETE), 0);
	CHECK_I64(allocator_memray_id(BM_FN_MUNMAP), 0);
	CHECK_I64(allocator_memray_id(BM_FN_MAX), 0);
}

/* libstdc++'s operator new/delete and Rust's System allocator call malloc/free: probing them too
 * would count a delete twice (free emits at its entry), so these rows are known by name but never
 * attached. */
static void test_cxx_and_rust_rows_forward_to_the_c_allocator(void)
{
	CHECK(allocator_row(BM_FN_CXX_NEW)->flags & BM_AF_FORWARDS);
	CHECK(allocator_row(BM_FN_CXX_NEW_ALIGNED)->flags & BM_AF_FORWARDS);
	CHECK(allocator_row(BM_FN_CXX_DELETE)->flags & BM_AF_FORWARDS);
	CHECK(!(allocator_row(BM_FN_MALLOC)->flags & BM_AF_FORWARDS));
	/* Rust: __rust_realloc(ptr, old_size, align, new_size) */
	CHECK_I64(allocator_by_name("__rust_realloc"), BM_FN_RUST_REALLOC);
	CHECK(allocator_row(BM_FN_RUST_REALLOC)->spec.size == 4 &&
	      allocator_row(BM_FN_RUST_REALLOC)->spec.addr == 1);
	CHECK_I64(allocator_memray_id(BM_FN_RUST_ALLOC_ZEROED), MEMRAY_AL_CALLOC);
	CHECK_I64(allocator_memray_id(BM_FN_RUST_DEALLOC), 0);
	CHECK(allocator_row(BM_FN_RUST_DEALLOC)->flags & BM_AF_FORWARDS);
	CHECK(allocator_row(BM_FN_FREE)->flags & BM_AF_MOVABLE);
	CHECK(!(allocator_row(BM_FN_MUNMAP)->flags & BM_AF_MOVABLE));
}

int main(void)
{
	TEST(test_every_row_is_well_formed);
	TEST(test_names_and_aliases_find_their_row);
	TEST(test_specs_the_bpf_side_reads);
	TEST(test_return_probes_ranges_and_memray_ids);
	TEST(test_cxx_and_rust_rows_forward_to_the_c_allocator);
	return tap_done();
}

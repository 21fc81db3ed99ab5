// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/allocators.c — the rows of BM_ALLOCATORS and the questions asked of them; pure. */
#include <string.h>

#include "allocators.h"

static const struct allocator rows[BM_FN_MAX] = {
#define BM_X_ROW(id, nm, k, sz, nmb, ad, ou, fl, mr)                                               \
	[BM_FN_##id] = { .names = nm,                                                              \
			 .kind = k,                                                                \
			 .spec = { .size = sz,                                                     \
				   .nmemb = nmb,                                                   \
				   .addr = ad,                                                     \
				   .out = ou,                                                      \
				   .flags = (uint8_t)((fl)&0xffu) },                               \
			 .flags = fl,                                                              \
			 .memray_id = mr },
	BM_ALLOCATORS(BM_X_ROW)
#undef BM_X_ROW
};

const struct allocator *allocator_row(unsigned int func)
{
	return func > BM_FN_NONE && func < BM_FN_MAX ? &rows[func] : NULL;
}

const char *allocator_name(unsigned int func)
{
	const struct allocator *r = allocator_row(func);

	return r ? r->names : "?";
}

unsigned int allocator_by_name(const char *symbol)
{
	for (unsigned int f = BM_FN_NONE + 1; f < BM_FN_MAX; f++) {
		for (const char *n = rows[f].names; *n; n += strlen(n) + 1) {
			if (!strcmp(n, symbol))
				return f;
		}
	}
	return 0;
}

bool allocator_needs_return(unsigned int func)
{
	const struct allocator *r = allocator_row(func);

	return r && (r->flags & BM_AS_RETURN);
}

void allocators_fill_specs(struct bm_argspec *specs)
{
	memset(specs, 0, BM_ROWS_MAX * sizeof(*specs));
	for (unsigned int f = BM_FN_NONE + 1; f < BM_FN_MAX; f++)
		specs[f] = rows[f].spec;
}

unsigned int allocator_memray_id(unsigned int func)
{
	const struct allocator *r = allocator_row(func);

	if (!r || r->kind == BM_AK_FREE || r->kind == BM_AK_MUNMAP)
		return 0;
	return r->memray_id;
}

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/memray/pyread.h — internal to the reader: what names the frames of a capture: each
 * thread's Python stack as the FRAME_PUSH and FRAME_POP records build it, the CODE_OBJECT
 * definitions, and the images (SEGMENT_HEADERs) native addresses fall in. */
#ifndef BM_MEMRAY_PYREAD_H
#define BM_MEMRAY_PYREAD_H

#include <stdbool.h>
#include <stdint.h>

#include "memray/decode.h"
#include "memray/profile.h"

struct mr_thread; /* one thread's stack of code ids */

struct mr_py {
	struct u64map index; /* tid → 1 + position in threads */
	struct mr_thread *threads;
	size_t nr, cap;
};

/* The stack of @tid, created empty (*@is_new set) if unseen; NULL on -ENOMEM. */
struct mr_thread *mr_py_thread(struct mr_py *py, uint64_t tid, bool *is_new);

/* Pushes @code on @t; 0 or -ENOMEM. */
int mr_py_push(struct mr_thread *t, uint64_t code);

/* Pops @n frames from @t; -ERANGE (nothing popped) when it holds fewer. */
int mr_py_pop(struct mr_thread *t, uint64_t n);

/* @t's frames, outermost first, and how many. */
const uint64_t *mr_py_frames(const struct mr_thread *t, uint32_t *n);

void mr_py_release(struct mr_py *py); /* frees and zeroes */

/* Stores CODE_OBJECT @id of @p, taking @function and @filename (even on error); a later
 * definition of the same id replaces it, as in memray. 0, -ENOMEM or -E2BIG (id too large). */
int mr_code_define(struct memray_profile *p, uint64_t id, char *function, char *filename,
		   int64_t firstlineno);

/* Appends an image of the current generation to @p, taking @path (even on error). 0 or
 * -ENOMEM. */
int mr_image_add(struct memray_profile *p, char *path, uint64_t load_addr, uint64_t lo,
		 uint64_t hi);

#endif /* BM_MEMRAY_PYREAD_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/memray/pyframes.h — Python frames in a memray .bin: CODE_OBJECT definitions and each
 * thread's FRAME_PUSH/FRAME_POP records, as memray's tracker writes them before an
 * allocation (memray-format.md §4.3-4.5, §6); pure, writes through memray/writer.h. */
#ifndef BM_MEMRAY_PYFRAMES_H
#define BM_MEMRAY_PYFRAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "memray/writer.h"

/* One Python frame as the reports show it. */
struct memray_pyframe {
	const char *function; /* qualified name */
	const char *filename;
	int32_t line; /* the frame's current line; <= 0: unknown */
	bool entry;   /* starts an eval loop (memray pairs it with _PyEval_EvalFrameDefault) */
};

struct memray_pyframes;

/* A new frame state for one writer. NULL + errno (ENOMEM). */
struct memray_pyframes *memray_pyframes__new(void);
void memray_pyframes__free(struct memray_pyframes *pf); /* NULL-safe */

/* Makes thread @tid's Python stack in the file equal @frames (@n, outermost first) before its
 * next allocation: pops down to the common prefix, pushes the rest, defining each new
 * (function, file, line) first as a CODE_OBJECT of its own whose line table maps offset 0
 * to that line (so every memray version shows the line without decoding CPython's tables).
 * @n 0 empties the stack. Returns 0 or -errno. */
int memray_pyframes__set(struct memray_pyframes *pf, struct memray_writer *w, uint64_t tid,
			 const struct memray_pyframe *frames, size_t n);

/* Code objects defined so far (one per distinct function, file and line). */
size_t memray_pyframes__nr_code(const struct memray_pyframes *pf);

#endif /* BM_MEMRAY_PYFRAMES_H */

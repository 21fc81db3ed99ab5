/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/pyoffsets.h — which CPython a process runs and where its structures keep what the
 * Python frame walker needs: a table per minor version (3.10-3.12), _Py_DebugOffsets (3.13). */
#ifndef BM_PYOFFSETS_H
#define BM_PYOFFSETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "benchmem.h"

/* One CPython build's layout: what BPF reads (conf) and what user space reads to name a
 * code object. */
struct py_layout {
	struct bm_pyconf conf;
	uint32_t version;      /* PY_VERSION_HEX of the interpreter */
	uint16_t co_linetable; /* code object: co_linetable (bytes) */
	uint16_t bytes_size;   /* PyBytesObject: ob_size */
	uint16_t bytes_data;   /* PyBytesObject: ob_sval */
	uint64_t code_type;    /* address of PyCode_Type in the process; 0: not known */
};

enum py_detect {
	PY_NONE = 0, /* no CPython runtime mapped (not a Python process) */
	PY_KNOWN,    /* @lay is valid */
	PY_UNKNOWN,  /* a CPython we do not know: @note says which and why */
};

/* Looks for a CPython runtime (_PyRuntime in the executable or a libpython*) in the images
 * of live process @pid and, when its version and build are ones we know, fills @lay with
 * @pid's addresses. Its memory is read through @mem only (procmem.h: bound to one image).
 * @note (one line) names the interpreter ("CPython 3.11.2") or says why it is not
 * supported. Returns the verdict; errors (process gone, unreadable) are PY_NONE. */
enum py_detect pyoffsets_detect(pid_t pid, int mem, struct py_layout *lay, char *note, size_t len);

#endif /* BM_PYOFFSETS_H */

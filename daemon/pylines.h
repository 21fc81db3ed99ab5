/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/pylines.h — line numbers out of a CPython code object's co_linetable. */
#ifndef BM_PYLINES_H
#define BM_PYLINES_H

#include <stddef.h>
#include <stdint.h>

/* The line of code unit @unit (3.11+) or byte offset 2*@unit (3.10) of a code object whose
 * co_linetable is @lt/@len and first line @first, for PY_VERSION_HEX @version; -1: none. */
int pystacks_line(uint32_t version, const uint8_t *lt, size_t len, int first, int32_t unit);

#endif /* BM_PYLINES_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/inspect_top.h — the stacks that hold the most memory at a capture's peak (`benchmemctl
 * inspect FILE.bin --top N`): Python frames with file and line, then native return addresses. */
#ifndef BM_INSPECT_TOP_H
#define BM_INSPECT_TOP_H

#include <stdio.h>

/* Reads the capture @f (rewound; read twice: once for the peak, once for the stacks live at
 * its first moment) and prints its @n biggest stacks to @out, innermost frame first.
 * Returns 0, or -errno with a one-line reason in @err (-EBADMSG & co. from the reader). */
int inspect_top_print(FILE *f, unsigned int n, FILE *out, char *err, size_t errlen);

#endif /* BM_INSPECT_TOP_H */

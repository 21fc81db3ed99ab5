/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/client_mark.h — the mark our command-line clients carry in their ELF image. A traced
 * shell that runs `benchmemctl start X` forks and execs the client inside the measured tree;
 * the collector lets go of a process that execs a marked image, so the tool's own start-up
 * and requests are never counted in the region it marks. */
#ifndef BM_CLIENT_MARK_H
#define BM_CLIENT_MARK_H

#define BM_CLIENT_SECTION ".benchmem.client"

/* Place once, at file scope, in a client's main file. */
#define BM_CLIENT_MARK                                                                             \
	__attribute__((used, section(BM_CLIENT_SECTION))) static const char bm_client_mark[] =     \
		"benchmem client: not part of a measured tree"

#endif /* BM_CLIENT_MARK_H */

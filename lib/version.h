/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/version.h — the one version string of every program and document we ship: benchmemd,
 * benchmem-run and benchmemctl print it for --version, the daemon answers it to "hello" and
 * writes it into result documents. packaging/debian/changelog's top entry carries the same
 * number (tests/integration/test_cli_finish.py keeps them in step). */
#ifndef BM_VERSION_H
#define BM_VERSION_H

#define BM_VERSION_NUMBER "0.1.0"
#define BM_VERSION	  "benchmemd " BM_VERSION_NUMBER

#endif /* BM_VERSION_H */

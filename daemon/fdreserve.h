// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/fdreserve.h — the fd_reserve check: descriptors kept free for clients. */
#ifndef BM_FDRESERVE_H
#define BM_FDRESERVE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* True (with EMFILE and the reason in @err) when fewer than @reserve descriptors would stay
 * free: one user's attaches (each costs probe links) must not leave none for other clients. */
bool fd_reserve_short(uint64_t reserve, char *err, size_t errlen);

#endif /* BM_FDRESERVE_H */

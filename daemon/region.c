// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/region.c — per-region peak/total/count arithmetic; pure (the per-event part is
 * inline in region.h). */
#include <string.h>

#include "region.h"

void region_acct_start(struct region_acct *r, uint32_t epoch)
{
	memset(r, 0, sizeof(*r));
	r->start_epoch = epoch;
}

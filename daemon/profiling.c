// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/profiling.c — a profiled session's stack map and Python stacks, made at attach. */
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "probe.h"
#include "profiling.h"
#include "pystacks.h"
#include "session.h"

void profiling_open(struct probe *p, struct session *s)
{
	const char *pyframes = getenv("BENCHMEM_PYFRAMES");

	if (!s->profile)
		return; /* counts only: no stack walk, no map */
	s->stack_slot = probe__stacks_open(p);
	if (s->stack_slot < 0) {
		pr_warn("session %u: no stack map (%s): its allocations count as lost_stacks",
			s->id, strerror(-s->stack_slot));
		s->stack_slot = -1;
	}
	/* BENCHMEM_PYFRAMES=0 in the collector's environment: native frames only (make bench
	 * measures the walker's cost with it) */
	if (!(pyframes && !strcmp(pyframes, "0"))) {
		struct pystacks_ops ops = probe__pystacks_ops(p);

		s->py = pystacks__new(&ops); /* NULL: native frames only */
	}
}

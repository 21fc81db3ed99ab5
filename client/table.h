/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/table.h — the human result table (one row per region) that both CLIs print. */
#ifndef BM_TABLE_H
#define BM_TABLE_H

#include <jansson.h>
#include <stdbool.h>
#include <stdio.h>

/* Prints @result_doc (schemas/result.schema.json; borrowed) to @f as an aligned table with
 * the columns region, passes, peak, allocated, allocations, rss, lost, flags — sizes in IEC
 * units, the headline of each region (pytest-benchmem's min-peak rule; taken from
 * benchmem_meta.headline, or derived from the per-pass lists when a file lacks it) — then one
 * line with the run's lost events and python allocator. @color adds ANSI bold/red/yellow.
 * Entries without extra_info.benchmem are shown with "-" cells. Pure apart from writing @f;
 * never fails (an allocation failure prints a one-line note instead of the rows). */
void table_print(FILE *f, const json_t *result_doc, bool color);

#endif /* BM_TABLE_H */

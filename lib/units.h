/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/units.h — sizes (B, KiB, MiB, GiB), percentages and strict integers; pure. */
#ifndef BM_UNITS_H
#define BM_UNITS_H

#include <stddef.h>
#include <stdint.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* Parses "4096", "4096B", "64KiB", "5MiB", "1GiB" (case-sensitive IEC units) into bytes.
 * Returns 0, -EINVAL (not a size) or -ERANGE (does not fit in 64 bits). */
int units_parse_bytes(const char *s, uint64_t *out);

/* Parses a decimal integer with no sign, no junk; -EINVAL or -ERANGE (above @max). */
int units_parse_u64(const char *s, uint64_t max, uint64_t *out);

/* Parses "10%", "2.5%" into a percentage (10.0, 2.5). Returns 0 or -EINVAL. */
int units_parse_percent(const char *s, double *out);

/* Formats @bytes in IEC units ("512 B", "1.50 KiB", "3.00 MiB") into @buf; returns @buf. */
const char *units_format_bytes(uint64_t bytes, char *buf, size_t len);

/* Formats a signed byte difference ("+1.00 MiB", "-512 B") into @buf; returns @buf. */
const char *units_format_delta(int64_t delta, char *buf, size_t len);

#endif /* BM_UNITS_H */

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/pylines.c — a Python code object's line table (co_linetable, 3.10 and 3.11+): the line
 * of an instruction. Pure: the bytes were read from the target by pystacks.c. */
#include "pylines.h"

static uint32_t lt_varint(const uint8_t **p, const uint8_t *end)
{
	uint32_t v = 0, shift = 0, b;

	do {
		if (*p >= end || shift > 28)
			return v;
		b = *(*p)++;
		v |= (b & 63) << shift;
		shift += 6;
	} while (b & 64);
	return v;
}

static int32_t lt_svarint(const uint8_t **p, const uint8_t *end)
{
	uint32_t u = lt_varint(p, end);

	return (u & 1) ? -(int32_t)(u >> 1) : (int32_t)(u >> 1);
}

/* CPython 3.11+ location table (Objects/locations.md), addresses in code units. */
static int line_311(const uint8_t *p, size_t len, int first, int32_t unit)
{
	const uint8_t *end = p + len;
	int32_t addr = 0, line = first, here;

	while (p < end) {
		uint8_t b = *p++, code = (b >> 3) & 15;
		int32_t n = (b & 7) + 1;

		here = line;
		if (code == 15) { /* no location */
			here = -1;
		} else if (code == 14) { /* long form */
			line += lt_svarint(&p, end);
			here = line;
			lt_varint(&p, end);
			lt_varint(&p, end);
			lt_varint(&p, end);
		} else if (code == 13) { /* no columns */
			line += lt_svarint(&p, end);
			here = line;
		} else if (code >= 10) { /* one line, columns in two bytes */
			line += code - 10;
			here = line;
			p += 2;
		} else { /* short form, one column byte */
			p += 1;
		}
		if (unit >= addr && unit < addr + n)
			return here;
		addr += n;
	}
	return -1;
}

/* CPython 3.10 co_linetable: (byte delta, signed line delta) pairs, -128 = no line. */
static int line_310(const uint8_t *p, size_t len, int first, int32_t unit)
{
	int32_t start, end = 0, line = first, here = -1, addr = unit * 2;

	for (size_t i = 0; i + 1 < len; i += 2) {
		start = end;
		end += p[i];
		if ((int8_t)p[i + 1] == -128) {
			here = -1;
		} else {
			line += (int8_t)p[i + 1];
			here = line;
		}
		if (addr >= start && addr < end)
			return here;
	}
	return -1;
}

int pystacks_line(uint32_t version, const uint8_t *lt, size_t len, int first, int32_t unit)
{
	if (!lt || !len || unit < 0)
		return unit < 0 ? first : -1;
	return version >= 0x030B0000 ? line_311(lt, len, first, unit)
				     : line_310(lt, len, first, unit);
}

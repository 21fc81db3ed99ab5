// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/units.c — sizes, percentages and strict integer parsing; pure. */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "units.h"

/* The decimal number @s starts with (strtoull would also take blanks and a sign: we do not).
 * *@end points past it. 0, -EINVAL (no digit first) or -ERANGE. */
static int leading_digits(const char *s, uint64_t *v, char **end)
{
	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	*v = strtoull(s, end, 10);
	return errno ? -ERANGE : 0;
}

int units_parse_bytes(const char *s, uint64_t *out)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} units[] = { { "", 0 }, { "B", 0 }, { "KiB", 10 }, { "MiB", 20 }, { "GiB", 30 } };
	char *end;
	uint64_t v;
	int err = leading_digits(s, &v, &end);

	if (err)
		return err;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(end, units[i].suffix))
			continue;
		if (v > UINT64_MAX >> units[i].shift)
			return -ERANGE;
		*out = v << units[i].shift;
		return 0;
	}
	return -EINVAL;
}

int units_parse_u64(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	uint64_t v;
	int err = leading_digits(s, &v, &end);

	if (err)
		return err;
	if (*end)
		return -EINVAL;
	if (v > max)
		return -ERANGE;
	*out = v;
	return 0;
}

int units_parse_percent(const char *s, double *out)
{
	char *end;
	double v;

	if (!s || ((*s < '0' || *s > '9') && *s != '.'))
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || strcmp(end, "%") || !isfinite(v) || v < 0)
		return -EINVAL;
	*out = v;
	return 0;
}

const char *units_format_bytes(uint64_t bytes, char *buf, size_t len)
{
	static const char *const names[] = { "KiB", "MiB", "GiB", "TiB", "PiB", "EiB" };
	double v = (double)bytes;
	size_t i = 0;

	if (bytes < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", bytes);
		return buf;
	}
	v /= 1024;
	while (v >= 1024 && i + 1 < ARRAY_SIZE(names)) {
		v /= 1024;
		i++;
	}
	snprintf(buf, len, "%.2f %s", v, names[i]);
	return buf;
}

const char *units_format_delta(int64_t delta, char *buf, size_t len)
{
	char tmp[32];
	uint64_t mag = delta < 0 ? (uint64_t)0 - (uint64_t)delta : (uint64_t)delta;

	units_format_bytes(mag, tmp, sizeof(tmp));
	snprintf(buf, len, "%s%s", delta < 0 ? "-" : "+", tmp);
	return buf;
}

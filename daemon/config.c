// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/config.c — the table of benchmemd.yaml's keys with their types and limits: defaults,
 * parsing one value, the rules between keys, formatting; pure. config_yaml.c reads the file. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "benchmem.h"
#include "config_keys.h"
#include "units.h"

static const char *const cfg_type_names[] = {
	[CFG_PATH] = "path", [CFG_MODE] = "mode", [CFG_GROUP] = "group", [CFG_SIZE] = "size",
	[CFG_UINT] = "uint", [CFG_BOOL] = "bool", [CFG_ENUM] = "enum",	 [CFG_ADDR] = "address",
};

static const char *const log_level_names[] = { "err", "warning", "info", "debug", NULL };
static const int log_level_values[] = { BM_LOG_ERR, BM_LOG_WARNING, BM_LOG_INFO, BM_LOG_DEBUG };
static const char *const attach_mode_names[] = { "process", "system", NULL };
static const int attach_mode_values[] = { BM_ATTACH_PROCESS, BM_ATTACH_SYSTEM };

#define FIELD(f) offsetof(struct bm_config, f), 0, sizeof(((struct bm_config *)0)->f)
#define KiB	 (1ull << 10)
#define MiB	 (1ull << 20)
#define GiB	 (1ull << 30)

/* The table (redis's static_configs[] idea): order is the order of the default file. */
static const struct cfg_key cfg_keys[] = {
	{ "socket", CFG_PATH, FIELD(socket), NULL, NULL },
	{ "socket_mode", CFG_MODE, offsetof(struct bm_config, socket_mode), 0, 0777, NULL, NULL },
	{ "socket_group", CFG_GROUP, FIELD(socket_group), NULL, NULL },
	{ "state_dir", CFG_PATH, FIELD(state_dir), NULL, NULL },
	{ "result_dir", CFG_PATH, FIELD(result_dir), NULL, NULL },
	{ "profile_dir", CFG_PATH, FIELD(profile_dir), NULL, NULL },
	{ "spool_memory", CFG_SIZE, offsetof(struct bm_config, spool_memory), 64 * KiB, 64 * GiB,
	  NULL, NULL },
	{ "spool_disk", CFG_SIZE, offsetof(struct bm_config, spool_disk), 0, 1024 * GiB, NULL,
	  NULL },
	{ "ring_buffer", CFG_SIZE, offsetof(struct bm_config, ring_buffer), 4 * KiB, 1 * GiB, NULL,
	  NULL },
	{ "max_clients", CFG_UINT, offsetof(struct bm_config, max_clients), 1, 4096, NULL, NULL },
	{ "max_sessions", CFG_UINT, offsetof(struct bm_config, max_sessions), 1, 4096, NULL, NULL },
	{ "max_regions", CFG_UINT, offsetof(struct bm_config, max_regions), 1, 16777216, NULL,
	  NULL },
	{ "max_open_regions", CFG_UINT, offsetof(struct bm_config, max_open_regions), 1, 65536,
	  NULL, NULL },
	{ "max_line", CFG_UINT, offsetof(struct bm_config, max_line), 256, 65536, NULL, NULL },
	{ "max_clients_per_uid", CFG_UINT, offsetof(struct bm_config, max_clients_per_uid), 1, 4096,
	  NULL, NULL },
	{ "max_sessions_per_uid", CFG_UINT, offsetof(struct bm_config, max_sessions_per_uid), 1,
	  4096, NULL, NULL },
	{ "max_open_regions_per_uid", CFG_UINT,
	  offsetof(struct bm_config, max_open_regions_per_uid), 1, 16777216, NULL, NULL },
	{ "max_stored_regions", CFG_UINT, offsetof(struct bm_config, max_stored_regions), 1,
	  16777216, NULL, NULL },
	{ "max_stored_regions_per_uid", CFG_UINT,
	  offsetof(struct bm_config, max_stored_regions_per_uid), 1, 16777216, NULL, NULL },
	{ "max_params_bytes", CFG_SIZE, offsetof(struct bm_config, max_params_bytes), 4 * KiB,
	  64 * GiB, NULL, NULL },
	{ "max_params_bytes_per_uid", CFG_SIZE,
	  offsetof(struct bm_config, max_params_bytes_per_uid), 4 * KiB, 64 * GiB, NULL, NULL },
	{ "client_timeout", CFG_UINT, offsetof(struct bm_config, client_timeout), 1, 86400, NULL,
	  NULL },
	{ "client_reply_pause", CFG_SIZE, offsetof(struct bm_config, client_reply_pause), 4 * KiB,
	  1 * GiB, NULL, NULL },
	{ "client_reply_max", CFG_SIZE, offsetof(struct bm_config, client_reply_max), 64 * KiB,
	  4 * GiB, NULL, NULL },
	{ "fd_reserve", CFG_UINT, offsetof(struct bm_config, fd_reserve), 16, 65536, NULL, NULL },
	{ "stack_map_entries", CFG_UINT, offsetof(struct bm_config, stack_map_entries), 256,
	  BM_MAX_STACKS, NULL, NULL },
	{ "log_level", CFG_ENUM, offsetof(struct bm_config, log_level), 0, 0, log_level_names,
	  log_level_values },
	{ "attach_mode", CFG_ENUM, offsetof(struct bm_config, attach_mode), 0, 0, attach_mode_names,
	  attach_mode_values },
	{ "stacks", CFG_BOOL, offsetof(struct bm_config, stacks), 0, 1, NULL, NULL },
	{ "python_malloc_default", CFG_BOOL, offsetof(struct bm_config, python_malloc_default), 0,
	  1, NULL, NULL },
	{ "metrics_listen", CFG_ADDR, FIELD(metrics_listen), NULL, NULL },
	{ "metrics_max_series", CFG_UINT, offsetof(struct bm_config, metrics_max_series), 1,
	  1000000, NULL, NULL },
};

/* the YAML reader marks seen keys in a 64-bit set to find duplicates */
_Static_assert(ARRAY_SIZE(cfg_keys) <= CFG_MAX_KEYS, "cfg_keys fits the duplicate-key bit set");

const char *cfg_type_name(const struct cfg_key *k)
{
	return cfg_type_names[k->type];
}

void config_defaults(struct bm_config *c)
{
	*c = (struct bm_config){
		.socket = "/run/benchmem/benchmemd.sock",
		.socket_mode = 0660,
		.socket_group = "benchmem",
		.state_dir = "/var/lib/benchmem",
		.result_dir = "/var/lib/benchmem/results",
		.profile_dir = "/var/lib/benchmem/profiles",
		.spool_memory = 64 * MiB,
		.spool_disk = 1 * GiB,
		.ring_buffer = 16 * MiB,
		.max_clients = 256,
		.max_sessions = 64,
		.max_regions = 65536,
		.max_open_regions = 256,
		.max_line = 4096,
		.max_clients_per_uid = 64,
		.max_sessions_per_uid = 16,
		.max_open_regions_per_uid = 1024,
		.max_stored_regions = 262144,
		.max_stored_regions_per_uid = 65536,
		.max_params_bytes = 64 * MiB,
		.max_params_bytes_per_uid = 8 * MiB,
		.client_timeout = 30,
		.client_reply_pause = 1 * MiB,
		.client_reply_max = 256 * MiB,
		.fd_reserve = 256,
		.stack_map_entries = BM_MAX_STACKS,
		.log_level = BM_LOG_INFO,
		.attach_mode = BM_ATTACH_PROCESS,
		.stacks = false,
		.python_malloc_default = false,
		.metrics_listen = "",
		.metrics_max_series = 10000,
	};
}

const struct cfg_key *cfg_find(const char *key, size_t *idx)
{
	for (size_t i = 0; i < ARRAY_SIZE(cfg_keys); i++) {
		if (!strcmp(cfg_keys[i].key, key)) {
			if (idx)
				*idx = i;
			return &cfg_keys[i];
		}
	}
	return NULL;
}

/* Formats @v with the largest IEC unit that divides it exactly ("64MiB", "1000B" → "1000"). */
static void fmt_size(uint64_t v, char *buf, size_t len)
{
	static const struct {
		const char *suffix;
		unsigned int shift;
	} u[] = { { "GiB", 30 }, { "MiB", 20 }, { "KiB", 10 } };

	for (size_t i = 0; i < ARRAY_SIZE(u); i++) {
		if (v && !(v & ((1ull << u[i].shift) - 1))) {
			snprintf(buf, len, "%" PRIu64 "%s", v >> u[i].shift, u[i].suffix);
			return;
		}
	}
	snprintf(buf, len, "%" PRIu64, v);
}

/* A printable, bounded copy of @s for a message: at most 64 bytes, then "..."; bytes outside
 * printable ASCII become '?', so a reason stays one line whatever the file holds. */
const char *cfg_shown(const char *s, char *buf, size_t len)
{
	size_t i;

	for (i = 0; s[i] && i < 64 && i + 4 < len; i++)
		buf[i] = s[i] >= 0x20 && s[i] < 0x7f ? s[i] : '?';
	if (s[i] && i + 4 <= len)
		memcpy(buf + i, "...", 4);
	else
		buf[i] = '\0';
	return buf;
}

static bool is_group_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
	       ch == '_' || ch == '-' || ch == '.';
}

static int parse_path(const struct cfg_key *k, const char *s, size_t n, void *field, char *why,
		      size_t whylen)
{
	char buf[72];
	if (n == 0 || s[0] != '/') {
		snprintf(why, whylen, "\"%s\" is not an absolute path",
			 cfg_shown(s, buf, sizeof(buf)));
		return -EINVAL;
	}
	if (n >= k->max) {
		snprintf(why, whylen, "path is %zu bytes, longer than %" PRIu64, n, k->max - 1);
		return -EINVAL;
	}
	memcpy(field, s, n + 1);
	return 0;
}

static int parse_group(const struct cfg_key *k, const char *s, size_t n, void *field, char *why,
		       size_t whylen)
{
	char buf[72];
	bool ok = n > 0 && n < k->max && s[0] != '-';

	for (size_t i = 0; ok && i < n; i++)
		ok = is_group_char(s[i]);
	if (!ok) {
		snprintf(why, whylen,
			 "\"%s\" is not a group name (1-%" PRIu64 " of [A-Za-z0-9_.-])",
			 cfg_shown(s, buf, sizeof(buf)), k->max - 1);
		return -EINVAL;
	}
	memcpy(field, s, n + 1);
	return 0;
}

static int parse_mode(const struct cfg_key *k, const char *s, size_t n, void *field, char *why,
		      size_t whylen)
{
	char buf[72];
	uint32_t v = 0;

	if (n == 0 || n > 4 || strspn(s, "01234567") != n) {
		snprintf(why, whylen, "\"%s\" is not an octal mode such as 0660",
			 cfg_shown(s, buf, sizeof(buf)));
		return -EINVAL;
	}
	for (size_t i = 0; i < n; i++)
		v = v * 8 + (uint32_t)(s[i] - '0');
	if (v < k->min || v > k->max) {
		snprintf(why, whylen, "%s is out of range %04" PRIo64 "-%04" PRIo64, s, k->min,
			 k->max);
		return -EINVAL;
	}
	*(uint32_t *)field = v;
	return 0;
}

static int check_range(const struct cfg_key *k, const char *s, uint64_t v, char *why, size_t whylen)
{
	char buf[72];
	char lo[32], hi[32];

	if (v >= k->min && v <= k->max)
		return 0;
	if (k->type == CFG_SIZE) {
		fmt_size(k->min, lo, sizeof(lo));
		fmt_size(k->max, hi, sizeof(hi));
	} else {
		snprintf(lo, sizeof(lo), "%" PRIu64, k->min);
		snprintf(hi, sizeof(hi), "%" PRIu64, k->max);
	}
	snprintf(why, whylen, "%s is out of range %s-%s", cfg_shown(s, buf, sizeof(buf)), lo, hi);
	return -EINVAL;
}

static int parse_number(const struct cfg_key *k, const char *s, size_t n, void *field, char *why,
			size_t whylen)
{
	char buf[72];
	uint64_t v;
	int err;

	(void)n;
	if (k->type == CFG_SIZE)
		err = units_parse_bytes(s, &v);
	else
		err = units_parse_u64(s, UINT64_MAX, &v);
	if (err == -EINVAL) {
		snprintf(why, whylen, "%s is not %s", cfg_shown(s, buf, sizeof(buf)),
			 k->type == CFG_SIZE ? "a size" : "a non-negative integer");
		return -EINVAL;
	}
	if (err)
		v = UINT64_MAX; /* -ERANGE: larger than any maximum in the table */
	err = check_range(k, s, v, why, whylen);
	if (err)
		return err;
	*(uint64_t *)field = v;
	return 0;
}

static int parse_bool(const struct cfg_key *k, const char *s, size_t n, void *field, char *why,
		      size_t whylen)
{
	char buf[72];
	static const char *const yes[] = { "true", "True", "TRUE" };
	static const char *const no[] = { "false", "False", "FALSE" };

	(void)k;
	(void)n;
	for (size_t i = 0; i < ARRAY_SIZE(yes); i++) {
		if (!strcmp(s, yes[i]) || !strcmp(s, no[i])) {
			*(bool *)field = !strcmp(s, yes[i]);
			return 0;
		}
	}
	snprintf(why, whylen, "%s is not true or false", cfg_shown(s, buf, sizeof(buf)));
	return -EINVAL;
}

static int parse_enum(const struct cfg_key *k, const char *s, size_t n, void *field, char *why,
		      size_t whylen)
{
	char buf[72];
	size_t used = 0;

	(void)n;
	for (size_t i = 0; k->names[i]; i++) {
		if (!strcmp(s, k->names[i])) {
			*(int *)field = k->values[i];
			return 0;
		}
	}
	used = (size_t)snprintf(why, whylen, "%s is not one of", cfg_shown(s, buf, sizeof(buf)));
	for (size_t i = 0; k->names[i] && used < whylen; i++)
		used += (size_t)snprintf(why + used, whylen - used, "%s %s", i ? "," : "",
					 k->names[i]);
	return -EINVAL;
}

/* "" (off) or HOST:PORT: HOST a name or IPv4 literal of [A-Za-z0-9.-], or an IPv6 literal in
 * brackets; PORT 1..65535. Resolving the name is the listener's job. */
static int parse_addr(const struct cfg_key *k, const char *s, size_t n, void *field, char *why,
		      size_t whylen)
{
	const char *colon = strrchr(s, ':');
	size_t host = colon ? (size_t)(colon - s) : 0;
	char buf[72];
	uint64_t port = 0;
	bool ok = n < k->max;

	if (n == 0) {
		*(char *)field = '\0';
		return 0;
	}
	if (ok && host >= 2 && s[0] == '[')
		ok = s[host - 1] == ']' && strspn(s + 1, "0123456789abcdefABCDEF:.") == host - 2;
	else if (ok)
		ok = host > 0 && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
					   "0123456789.-") == host;
	if (ok)
		ok = !units_parse_u64(colon + 1, 65535, &port) && port > 0;
	if (!ok) {
		snprintf(why, whylen,
			 "\"%s\" is not HOST:PORT (127.0.0.1:9464, [::1]:9464) or \"\"",
			 cfg_shown(s, buf, sizeof(buf)));
		return -EINVAL;
	}
	memcpy(field, s, n + 1);
	return 0;
}

typedef int cfg_parse_fn(const struct cfg_key *k, const char *s, size_t n, void *field, char *why,
			 size_t whylen);

static cfg_parse_fn *const cfg_parsers[] = {
	[CFG_PATH] = parse_path,   [CFG_MODE] = parse_mode,   [CFG_GROUP] = parse_group,
	[CFG_SIZE] = parse_number, [CFG_UINT] = parse_number, [CFG_BOOL] = parse_bool,
	[CFG_ENUM] = parse_enum,   [CFG_ADDR] = parse_addr,
};

int cfg_apply(struct bm_config *c, const struct cfg_key *k, const char *s, size_t n, char *why,
	      size_t whylen)
{
	if (strlen(s) != n) {
		snprintf(why, whylen, "value contains a NUL byte");
		return -EINVAL;
	}
	return cfg_parsers[k->type](k, s, n, (char *)c + k->offset, why, whylen);
}

int config_validate(const struct bm_config *c, char *err, size_t errlen)
{
	/* the kernel wants a power-of-two number of pages */
	if (c->ring_buffer & (c->ring_buffer - 1) || c->ring_buffer % (4 * KiB)) {
		snprintf(err, errlen,
			 "ring_buffer: %" PRIu64 " is not a power of two of at least 4KiB",
			 c->ring_buffer);
		return -EINVAL;
	}
	if (c->client_reply_pause >= c->client_reply_max) {
		snprintf(err, errlen,
			 "client_reply_pause: %" PRIu64 " is not below client_reply_max (%" PRIu64
			 ")",
			 c->client_reply_pause, c->client_reply_max);
		return -EINVAL;
	}
	if (c->max_open_regions > c->max_regions) {
		snprintf(err, errlen,
			 "max_open_regions: %" PRIu64 " exceeds max_regions (%" PRIu64 ")",
			 c->max_open_regions, c->max_regions);
		return -EINVAL;
	}
	return 0;
}

int config_set(struct bm_config *c, const char *key, const char *value, char *err, size_t errlen)
{
	char buf[72];
	const struct cfg_key *k = cfg_find(key, NULL);
	struct bm_config tmp = *c;
	char why[256];
	int ret;

	if (!k) {
		snprintf(err, errlen, "%s: unknown key", cfg_shown(key, buf, sizeof(buf)));
		return -EINVAL;
	}
	ret = cfg_apply(&tmp, k, value, strlen(value), why, sizeof(why));
	if (ret) {
		snprintf(err, errlen, "%s: %s", k->key, why);
		return ret;
	}
	*c = tmp;
	return 0;
}

int config_get(const struct bm_config *c, const char *key, char *buf, size_t len)
{
	const struct cfg_key *k = cfg_find(key, NULL);
	const char *field;
	char tmp[BM_CONFIG_PATH_MAX];
	size_t i;

	if (!k)
		return -ENOENT;
	field = (const char *)c + k->offset;
	switch (k->type) {
	case CFG_PATH:
	case CFG_GROUP:
	case CFG_ADDR:
		snprintf(tmp, sizeof(tmp), "%s", field);
		break;
	case CFG_MODE:
		snprintf(tmp, sizeof(tmp), "%04" PRIo32, *(const uint32_t *)field);
		break;
	case CFG_SIZE:
		fmt_size(*(const uint64_t *)field, tmp, sizeof(tmp));
		break;
	case CFG_UINT:
		snprintf(tmp, sizeof(tmp), "%" PRIu64, *(const uint64_t *)field);
		break;
	case CFG_BOOL:
		snprintf(tmp, sizeof(tmp), "%s", *(const bool *)field ? "true" : "false");
		break;
	case CFG_ENUM:
		for (i = 0; k->names[i] && k->values[i] != *(const int *)field; i++)
			;
		snprintf(tmp, sizeof(tmp), "%s", k->names[i] ? k->names[i] : "?");
		break;
	}
	if (strlen(tmp) >= len)
		return -ENOSPC;
	memcpy(buf, tmp, strlen(tmp) + 1);
	return 0;
}

int config_key_info(size_t i, struct bm_config_key_info *out)
{
	if (i >= ARRAY_SIZE(cfg_keys))
		return -ENOENT;
	*out = (struct bm_config_key_info){
		.key = cfg_keys[i].key,
		.type = cfg_type_names[cfg_keys[i].type],
		.min = cfg_keys[i].min,
		.max = cfg_keys[i].max,
		.choices = cfg_keys[i].names,
	};
	if (cfg_keys[i].type == CFG_PATH || cfg_keys[i].type == CFG_GROUP ||
	    cfg_keys[i].type == CFG_ADDR) {
		out->min = cfg_keys[i].type == CFG_ADDR ? 0 : 1;
		out->max = cfg_keys[i].max - 1; /* a length, without the NUL */
	}
	return 0;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/config.c — benchmemd.yaml via libyaml → struct bm_config, driven by one table of keys
 * with their types and limits; pure apart from config_load's read. */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "units.h"

enum cfg_type { CFG_PATH, CFG_MODE, CFG_GROUP, CFG_SIZE, CFG_UINT, CFG_BOOL, CFG_ENUM };

static const char *const cfg_type_names[] = {
	[CFG_PATH] = "path", [CFG_MODE] = "mode", [CFG_GROUP] = "group", [CFG_SIZE] = "size",
	[CFG_UINT] = "uint", [CFG_BOOL] = "bool", [CFG_ENUM] = "enum",
};

static const char *const log_level_names[] = { "err", "warning", "info", "debug", NULL };
static const int log_level_values[] = { BM_LOG_ERR, BM_LOG_WARNING, BM_LOG_INFO, BM_LOG_DEBUG };
static const char *const attach_mode_names[] = { "process", "system", NULL };
static const int attach_mode_values[] = { BM_ATTACH_PROCESS, BM_ATTACH_SYSTEM };

/* One key of benchmemd.yaml. For CFG_PATH and CFG_GROUP, @max is the field's size (NUL
 * included); for CFG_ENUM, @names and @values list the choices. */
struct cfg_key {
	const char *key;
	enum cfg_type type;
	size_t offset;
	uint64_t min, max;
	const char *const *names;
	const int *values;
};

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
	{ "log_level", CFG_ENUM, offsetof(struct bm_config, log_level), 0, 0, log_level_names,
	  log_level_values },
	{ "attach_mode", CFG_ENUM, offsetof(struct bm_config, attach_mode), 0, 0, attach_mode_names,
	  attach_mode_values },
	{ "stacks", CFG_BOOL, offsetof(struct bm_config, stacks), 0, 1, NULL, NULL },
	{ "python_malloc_default", CFG_BOOL, offsetof(struct bm_config, python_malloc_default), 0,
	  1, NULL, NULL },
};

/* config_load_buffer marks seen keys in a 64-bit set to find duplicates. */
_Static_assert(ARRAY_SIZE(cfg_keys) <= 64, "cfg_keys fits the duplicate-key bit set");

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
		.log_level = BM_LOG_INFO,
		.attach_mode = BM_ATTACH_PROCESS,
		.stacks = false,
		.python_malloc_default = false,
	};
}

static const struct cfg_key *cfg_find(const char *key, size_t *idx)
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
static const char *shown(const char *s, char *buf, size_t len)
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
		snprintf(why, whylen, "\"%s\" is not an absolute path", shown(s, buf, sizeof(buf)));
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
			 shown(s, buf, sizeof(buf)), k->max - 1);
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
			 shown(s, buf, sizeof(buf)));
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
	snprintf(why, whylen, "%s is out of range %s-%s", shown(s, buf, sizeof(buf)), lo, hi);
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
		snprintf(why, whylen, "%s is not %s", shown(s, buf, sizeof(buf)),
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
	snprintf(why, whylen, "%s is not true or false", shown(s, buf, sizeof(buf)));
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
	used = (size_t)snprintf(why, whylen, "%s is not one of", shown(s, buf, sizeof(buf)));
	for (size_t i = 0; k->names[i] && used < whylen; i++)
		used += (size_t)snprintf(why + used, whylen - used, "%s %s", i ? "," : "",
					 k->names[i]);
	return -EINVAL;
}

typedef int cfg_parse_fn(const struct cfg_key *k, const char *s, size_t n, void *field, char *why,
			 size_t whylen);

static cfg_parse_fn *const cfg_parsers[] = {
	[CFG_PATH] = parse_path,   [CFG_MODE] = parse_mode,   [CFG_GROUP] = parse_group,
	[CFG_SIZE] = parse_number, [CFG_UINT] = parse_number, [CFG_BOOL] = parse_bool,
	[CFG_ENUM] = parse_enum,
};

/* Parses @s (@n bytes, NUL-terminated) for key @k into @c. Returns 0 or -EINVAL + @why. */
static int cfg_apply(struct bm_config *c, const struct cfg_key *k, const char *s, size_t n,
		     char *why, size_t whylen)
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
		snprintf(err, errlen, "%s: unknown key", shown(key, buf, sizeof(buf)));
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
	if (cfg_keys[i].type == CFG_PATH || cfg_keys[i].type == CFG_GROUP) {
		out->min = 1;
		out->max = cfg_keys[i].max - 1; /* a length, without the NUL */
	}
	return 0;
}

/* ---- the YAML walk ------------------------------------------------------------------------- */

struct cfg_reader {
	yaml_parser_t parser;
	struct bm_config *c;
	const char *name;
	char *err;
	size_t errlen;
	uint64_t seen; /* bit i: cfg_keys[i] was set by this file */
};

static int fail_at(struct cfg_reader *r, const yaml_mark_t *m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int fail_at(struct cfg_reader *r, const yaml_mark_t *m, const char *fmt, ...)
{
	va_list ap;
	int used;

	used = snprintf(r->err, r->errlen, "%s:%zu:%zu: ", r->name, m->line + 1, m->column + 1);
	if (used < 0 || (size_t)used >= r->errlen)
		return -EINVAL;
	va_start(ap, fmt);
	vsnprintf(r->err + used, r->errlen - (size_t)used, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Gets the next event into @ev (caller deletes it). Returns 0, or -EINVAL / -ENOMEM + reason. */
static int next_event(struct cfg_reader *r, yaml_event_t *ev)
{
	const char *ctx;

	if (yaml_parser_parse(&r->parser, ev))
		return 0;
	if (r->parser.error == YAML_MEMORY_ERROR) {
		snprintf(r->err, r->errlen, "%s: out of memory", r->name);
		return -ENOMEM;
	}
	ctx = r->parser.context ? r->parser.context : "";
	return fail_at(r, &r->parser.problem_mark, "%s%s%s", ctx, *ctx ? ": " : "",
		       r->parser.problem ? r->parser.problem : "invalid YAML");
}

static const char *kind_name(yaml_event_type_t t)
{
	switch (t) {
	case YAML_SEQUENCE_START_EVENT:
		return "a list";
	case YAML_MAPPING_START_EVENT:
		return "a mapping";
	case YAML_ALIAS_EVENT:
		return "an alias";
	default:
		return "not a scalar";
	}
}

/* Applies one "key: value" pair; @key is the key's scalar event. Reads the value event. */
static int read_pair(struct cfg_reader *r, const yaml_event_t *key)
{
	char buf[72];
	const char *name = (const char *)key->data.scalar.value;
	const struct cfg_key *k;
	yaml_event_t val;
	char why[256];
	size_t idx;
	int err;

	k = strlen(name) == key->data.scalar.length ? cfg_find(name, &idx) : NULL;
	if (!k)
		return fail_at(r, &key->start_mark, "%s: unknown key",
			       shown(name, buf, sizeof(buf)));
	if (r->seen & (1ull << idx))
		return fail_at(r, &key->start_mark, "%s: duplicate key", k->key);
	r->seen |= 1ull << idx;
	err = next_event(r, &val);
	if (err)
		return err;
	if (val.type != YAML_SCALAR_EVENT) {
		err = fail_at(r, &val.start_mark, "%s: expected a %s value, got %s", k->key,
			      cfg_type_names[k->type], kind_name(val.type));
		goto out;
	}
	err = cfg_apply(r->c, k, (const char *)val.data.scalar.value, val.data.scalar.length, why,
			sizeof(why));
	if (err)
		fail_at(r, &val.start_mark, "%s: %s", k->key, why);
out:
	yaml_event_delete(&val);
	return err;
}

/* Reads "key: value" pairs up to the end of the top-level mapping. */
static int read_mapping(struct cfg_reader *r)
{
	yaml_event_t ev;
	int err;

	for (;;) {
		err = next_event(r, &ev);
		if (err)
			return err;
		if (ev.type == YAML_MAPPING_END_EVENT)
			break;
		if (ev.type == YAML_SCALAR_EVENT)
			err = read_pair(r, &ev);
		else
			err = fail_at(r, &ev.start_mark, "a key must be a plain string, not %s",
				      kind_name(ev.type));
		yaml_event_delete(&ev);
		if (err)
			return err;
	}
	yaml_event_delete(&ev);
	return 0;
}

static bool is_null_scalar(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;

	return ev->type == YAML_SCALAR_EVENT && ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
	       (!*v || !strcmp(v, "~") || !strcmp(v, "null"));
}

/* Reads one document's body: a mapping, or an empty (null) document. */
static int read_document(struct cfg_reader *r)
{
	yaml_event_t ev;
	int err;

	err = next_event(r, &ev);
	if (err)
		return err;
	if (ev.type == YAML_MAPPING_START_EVENT)
		err = read_mapping(r);
	else if (!is_null_scalar(&ev))
		err = fail_at(r, &ev.start_mark,
			      "the top level must be a mapping of keys to values, not %s",
			      ev.type == YAML_SCALAR_EVENT ? "a scalar" : kind_name(ev.type));
	yaml_event_delete(&ev);
	return err;
}

/* Walks the event stream: stream start, at most one document, stream end. */
static int read_stream(struct cfg_reader *r)
{
	int nr_docs = 0, err = 0;
	yaml_event_t ev;

	for (;;) {
		err = next_event(r, &ev);
		if (err)
			return err;
		if (ev.type == YAML_STREAM_END_EVENT)
			break;
		if (ev.type == YAML_DOCUMENT_START_EVENT && nr_docs++)
			err = fail_at(r, &ev.start_mark, "only one YAML document is allowed");
		else if (ev.type == YAML_DOCUMENT_START_EVENT)
			err = read_document(r);
		yaml_event_delete(&ev);
		if (err)
			return err;
	}
	yaml_event_delete(&ev);
	return 0;
}

static int validate_named(const struct bm_config *c, const char *name, char *err, size_t errlen)
{
	char why[256];
	int ret = config_validate(c, why, sizeof(why));

	if (ret)
		snprintf(err, errlen, "%s: %s", name, why);
	return ret;
}

int config_load_buffer(struct bm_config *c, const char *buf, size_t len, const char *name,
		       char *err, size_t errlen)
{
	struct cfg_reader r = { .name = name, .err = err, .errlen = errlen };
	int ret;

	if (errlen)
		err[0] = '\0';
	if (len > BM_CONFIG_FILE_MAX) {
		snprintf(err, errlen, "%s: larger than %u bytes", name, BM_CONFIG_FILE_MAX);
		return -EFBIG;
	}
	r.c = malloc(sizeof(*r.c)); /* all or nothing: parse into a copy */
	if (!r.c || !yaml_parser_initialize(&r.parser)) {
		free(r.c);
		snprintf(err, errlen, "%s: out of memory", name);
		return -ENOMEM;
	}
	*r.c = *c;
	yaml_parser_set_input_string(&r.parser, (const unsigned char *)buf, len);
	ret = read_stream(&r);
	if (!ret)
		ret = validate_named(r.c, name, err, errlen);
	yaml_parser_delete(&r.parser);
	if (!ret)
		*c = *r.c;
	free(r.c);
	return ret;
}

/* Reads all of @fd, at most BM_CONFIG_FILE_MAX + 1 bytes, into a new buffer (caller frees). */
static int read_all(int fd, char **out, size_t *len)
{
	size_t cap = BM_CONFIG_FILE_MAX + 1, n = 0;
	char *buf = malloc(cap);
	ssize_t got;

	if (!buf)
		return -ENOMEM;
	while (n < cap) {
		got = read(fd, buf + n, cap - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			got = -errno;
			free(buf);
			return (int)got;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	*out = buf;
	*len = n;
	return 0;
}

int config_load(struct bm_config *c, const char *path, char *err, size_t errlen)
{
	char *buf = NULL;
	size_t len = 0;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = read_all(fd, &buf, &len);
	close(fd);
	if (ret) {
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	ret = config_load_buffer(c, buf, len, path, err, errlen);
	free(buf);
	return ret;
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/config_yaml.c — benchmemd.yaml via libyaml: walks the event stream and applies each
 * "key: value" through the key table (config.c); all or nothing. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "config.h"
#include "config_keys.h"

/* ---- the YAML walk ------------------------------------------------------------------------- */

struct cfg_reader {
	yaml_parser_t parser;
	struct bm_config *c;
	const char *name;
	char *err;
	size_t errlen;
	uint64_t seen; /* bit i: the table's key i was set by this file */
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
			       cfg_shown(name, buf, sizeof(buf)));
	if (r->seen & (1ull << idx))
		return fail_at(r, &key->start_mark, "%s: duplicate key", k->key);
	r->seen |= 1ull << idx;
	err = next_event(r, &val);
	if (err)
		return err;
	if (val.type != YAML_SCALAR_EVENT) {
		err = fail_at(r, &val.start_mark, "%s: expected a %s value, got %s", k->key,
			      cfg_type_name(k), kind_name(val.type));
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

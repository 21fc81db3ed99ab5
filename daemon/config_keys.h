/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/config_keys.h — the key table's side that the YAML reader (config_yaml.c) uses; private
 * to config.c and config_yaml.c, everyone else goes through config.h. */
#ifndef BM_CONFIG_KEYS_H
#define BM_CONFIG_KEYS_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

#define CFG_MAX_KEYS 64 /* the reader's duplicate-key bit set */

enum cfg_type { CFG_PATH, CFG_MODE, CFG_GROUP, CFG_SIZE, CFG_UINT, CFG_BOOL, CFG_ENUM, CFG_ADDR };

/* One key of benchmemd.yaml. For CFG_PATH, CFG_GROUP and CFG_ADDR, @max is the field's size (NUL
 * included); for CFG_ENUM, @names and @values list the choices. */
struct cfg_key {
	const char *key;
	enum cfg_type type;
	size_t offset;
	uint64_t min, max;
	const char *const *names;
	const int *values;
};

/* The key named @key (and its index in the table into *@idx, unless NULL), or NULL. */
const struct cfg_key *cfg_find(const char *key, size_t *idx);

/* "path", "size"...: the type of @k as messages and the schema name it. */
const char *cfg_type_name(const struct cfg_key *k);

/* Parses @s (@n bytes, NUL-terminated) for key @k into @c. Returns 0 or -EINVAL + @why. */
int cfg_apply(struct bm_config *c, const struct cfg_key *k, const char *s, size_t n, char *why,
	      size_t whylen);

/* A printable, bounded copy of @s for a message (into @buf of @len bytes). */
const char *cfg_shown(const char *s, char *buf, size_t len);

#endif /* BM_CONFIG_KEYS_H */

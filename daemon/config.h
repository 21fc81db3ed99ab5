/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/config.h — benchmemd.yaml → struct bm_config through one table of keys with types and
 * limits; pure apart from config_load's read of the file. */
#ifndef BM_CONFIG_H
#define BM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "log.h"

#define BM_CONFIG_PATH_MAX  1024       /* bytes of a directory path, NUL included */
#define BM_CONFIG_SOCK_MAX  108	       /* sizeof(sockaddr_un.sun_path), NUL included */
#define BM_CONFIG_GROUP_MAX 33	       /* a group name (useradd's 32) + NUL */
#define BM_CONFIG_ADDR_MAX  64	       /* "HOST:PORT" of a TCP listener + NUL */
#define BM_CONFIG_FILE_MAX  (1u << 20) /* config_load refuses a larger file */

/* log levels are the syslog numbers of log.h (BM_LOG_ERR ... BM_LOG_DEBUG) */

enum bm_attach_mode {
	BM_ATTACH_PROCESS = 0, /* per-process probes: untraced processes pay nothing */
	BM_ATTACH_SYSTEM = 1,  /* pid -1 probes: every process mapping the library pays */
};

/* The daemon's settings. Every field is a key of benchmemd.yaml with the same name; the
 * defaults are those of config_defaults(). Plain data: copy it freely. */
struct bm_config {
	char socket[BM_CONFIG_SOCK_MAX];	/* absolute path of the listening socket */
	uint32_t socket_mode;			/* permission bits, at most 0777 */
	char socket_group[BM_CONFIG_GROUP_MAX]; /* group owning the socket */
	char state_dir[BM_CONFIG_PATH_MAX];	/* absolute */
	char result_dir[BM_CONFIG_PATH_MAX];	/* absolute */
	char profile_dir[BM_CONFIG_PATH_MAX];	/* absolute */
	uint64_t spool_memory;			/* bytes of events kept in memory per daemon */
	uint64_t spool_disk;			/* bytes of events spilled to disk; 0 = none */
	uint64_t ring_buffer;			/* bytes of the BPF ring buffer (power of two) */
	uint64_t max_clients;			/* connected clients */
	uint64_t max_sessions;			/* traced sessions */
	uint64_t max_regions;			/* regions per session, open and closed */
	uint64_t max_open_regions;		/* regions open at once in one session */
	uint64_t max_line;			/* bytes of one request line, newline included */
	/* fairness: what one uid may hold (the effective cap is the smaller of the per-uid
	 * and the global value), and what the whole daemon holds */
	uint64_t max_clients_per_uid;	     /* connected clients of one uid */
	uint64_t max_sessions_per_uid;	     /* traced sessions of one uid */
	uint64_t max_open_regions_per_uid;   /* regions open at once over a uid's sessions */
	uint64_t max_stored_regions;	     /* regions held (open and closed), all sessions */
	uint64_t max_stored_regions_per_uid; /* the same over one uid's sessions */
	uint64_t max_params_bytes;	     /* bytes of region names, groups and params held */
	uint64_t max_params_bytes_per_uid;   /* the same over one uid's sessions */
	uint64_t client_timeout;     /* seconds a half-written line or a silent client lives */
	uint64_t client_reply_pause; /* unsent reply bytes that stop reading a client */
	uint64_t client_reply_max;   /* unsent reply bytes that drop a client */
	uint64_t fd_reserve;	     /* descriptors kept free: no new session below it */
	uint64_t stack_map_entries;  /* stacks per profiled session (its own BPF map) */
	int log_level;		     /* BM_LOG_* of log.h (syslog numbers) */
	int attach_mode;	     /* enum bm_attach_mode */
	bool stacks;		     /* record a stack id per allocation */
	bool python_malloc_default;  /* PYTHONMALLOC=malloc unless the client says */
	char metrics_listen[BM_CONFIG_ADDR_MAX]; /* "HOST:PORT" serving /metrics; "" = off */
	uint64_t metrics_max_series;		 /* finished regions kept for /metrics */
};

/* What config_key_info() tells about one key of the table. */
struct bm_config_key_info {
	const char *key;	    /* "spool_memory" */
	const char *type;	    /* "path", "mode", "group", "size", "uint", "bool", "enum" or
				     * "address" */
	uint64_t min, max;	    /* limits of a size, uint or mode value; lengths for strings */
	const char *const *choices; /* NULL-terminated names of an enum, else NULL */
};

/* Fills @c with the defaults (socket "/run/benchmem/benchmemd.sock", mode 0660, group
 * "benchmem", state in /var/lib/benchmem, ...). Cannot fail. */
void config_defaults(struct bm_config *c);

/* Reads the YAML file @path (at most BM_CONFIG_FILE_MAX bytes) and applies its keys over the
 * current contents of @c (call config_defaults() first). All or nothing: on error @c is left
 * unchanged. The top level must be a mapping of known keys to scalars; an empty file changes
 * nothing. Returns 0, or -ENOENT/-EACCES/... (cannot read), -EFBIG (too large), -EINVAL (bad
 * content) or -ENOMEM, with one line in @err such as
 * "benchmemd.yaml:7:3: spool_memory: 5QiB is not a size" (@path as given; line:column 1-based). */
int config_load(struct bm_config *c, const char *path, char *err, size_t errlen);

/* config_load() on the bytes @buf/@len (need not be NUL-terminated); @name prefixes the error
 * positions. Returns 0, -EINVAL, -EFBIG or -ENOMEM, with the same reasons. */
int config_load_buffer(struct bm_config *c, const char *buf, size_t len, const char *name,
		       char *err, size_t errlen);

/* Sets one key from text, as a command-line override (--set key=value) does, through the same
 * table and checks as the file. @c is unchanged on error. Returns 0 or -EINVAL with a reason in
 * @err ("spool_memory: 5QiB is not a size", "nosuch: unknown key"). */
int config_set(struct bm_config *c, const char *key, const char *value, char *err, size_t errlen);

/* Checks the rules between keys (max_open_regions <= max_regions). config_load() runs it; run
 * it again after the last config_set(). Returns 0 or -EINVAL with a reason in @err. */
int config_validate(const struct bm_config *c, char *err, size_t errlen);

/* Formats the value of @key in @c the way the file spells it ("0660", "64MiB", "true") into
 * @buf. Returns 0, -ENOENT (unknown key) or -ENOSPC (@buf too small). */
int config_get(const struct bm_config *c, const char *key, char *buf, size_t len);

/* Describes the @i-th key of the table (0-based), for --help and the schema test.
 * Returns 0 or -ENOENT past the last key. The strings are static. */
int config_key_info(size_t i, struct bm_config_key_info *out);

#endif /* BM_CONFIG_H */

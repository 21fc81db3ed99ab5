// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_config.c — config.c against the YAML fixtures in tests/fixtures/config; also
 * prints the key table (--keys) or a loaded file (--dump FILE) for test_config_schema.py. */
#include <errno.h>
#include <inttypes.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "tap.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

static char fixtures[PATH_MAX];

static const char *fixture(const char *name)
{
	static char path[PATH_MAX + 64];

	snprintf(path, sizeof(path), "%s/%s", fixtures, name);
	return path;
}

static void test_defaults_are_the_documented_ones(void)
{
	struct bm_config c;

	config_defaults(&c);
	CHECK_STR(c.socket, "/run/benchmem/benchmemd.sock");
	CHECK_U64(c.socket_mode, 0660);
	CHECK_STR(c.socket_group, "benchmem");
	CHECK_STR(c.state_dir, "/var/lib/benchmem");
	CHECK_STR(c.result_dir, "/var/lib/benchmem/results");
	CHECK_STR(c.profile_dir, "/var/lib/benchmem/profiles");
	CHECK_U64(c.spool_memory, 64ull << 20);
	CHECK_U64(c.spool_disk, 1ull << 30);
	CHECK_U64(c.max_clients, 256);
	CHECK_U64(c.max_sessions, 64);
	CHECK_U64(c.max_regions, 65536);
	CHECK_U64(c.max_open_regions, 256);
	CHECK_U64(c.max_line, 4096);
	CHECK_I64(c.log_level, BM_LOG_INFO);
	CHECK_I64(c.attach_mode, BM_ATTACH_PROCESS);
	CHECK(!c.stacks);
	CHECK(!c.python_malloc_default);
}

static void test_good_file_sets_every_key(void)
{
	struct bm_config c;
	char err[512] = "untouched";

	config_defaults(&c);
	CHECK_I64(config_load(&c, fixture("good.yaml"), err, sizeof(err)), 0);
	CHECK_STR(err, "");
	CHECK_STR(c.socket, "/tmp/bm-test/benchmemd.sock");
	CHECK_U64(c.socket_mode, 0600);
	CHECK_STR(c.socket_group, "bench_ci");
	CHECK_STR(c.state_dir, "/srv/bm");
	CHECK_STR(c.result_dir, "/srv/bm/res");
	CHECK_STR(c.profile_dir, "/srv/bm/prof");
	CHECK_U64(c.spool_memory, 128ull << 20);
	CHECK_U64(c.spool_disk, 0);
	CHECK_U64(c.max_clients, 17);
	CHECK_U64(c.max_sessions, 9);
	CHECK_U64(c.max_regions, 1000);
	CHECK_U64(c.max_open_regions, 12);
	CHECK_U64(c.max_line, 8192);
	CHECK_I64(c.log_level, BM_LOG_DEBUG);
	CHECK_I64(c.attach_mode, BM_ATTACH_SYSTEM);
	CHECK(c.stacks);
	CHECK(c.python_malloc_default);
}

static void test_comment_only_file_keeps_defaults(void)
{
	struct bm_config c, want;
	char err[512];

	config_defaults(&c);
	config_defaults(&want);
	CHECK_I64(config_load(&c, fixture("empty.yaml"), err, sizeof(err)), 0);
	CHECK(!memcmp(&c, &want, sizeof(c)));
}

static void test_partial_file_changes_only_its_keys(void)
{
	struct bm_config c;
	char err[512];

	config_defaults(&c);
	CHECK_I64(config_load(&c, fixture("partial.yaml"), err, sizeof(err)), 0);
	CHECK_U64(c.spool_memory, 1048576);
	CHECK_U64(c.socket_mode, 0640); /* YAML 1.1 would say 416 decimal; we read the text */
	CHECK_U64(c.spool_disk, 1ull << 30);
	CHECK_U64(c.max_clients, 256);
}

/* Each error fixture, and the text after "<path>" in the reason. */
static const struct {
	const char *file;
	const char *want;
} bad_files[] = {
	{ "bad_size.yaml", ":7:15: spool_memory: 5QiB is not a size" },
	{ "unknown_key.yaml", ":3:1: spool_memroy: unknown key" },
	{ "wrong_type.yaml", ":2:3: max_sessions: expected a uint value, got a list" },
	{ "out_of_range.yaml", ":1:11: max_line: 100 is out of range 256-65536" },
	{ "too_big.yaml", ":1:14: max_clients: 99999999999999999999999 is out of range 1-4096" },
	{ "duplicate.yaml", ":3:1: stacks: duplicate key" },
	{ "not_mapping.yaml",
	  ":1:1: the top level must be a mapping of keys to values, not a list" },
	{ "two_docs.yaml", ":2:1: only one YAML document is allowed" },
	{ "bad_syntax.yaml",
	  ":3:1: while scanning a quoted scalar: found unexpected end of stream" },
	{ "bad_bool.yaml", ":1:9: stacks: yes is not true or false" },
	{ "bad_enum.yaml", ":1:12: log_level: verbose is not one of err, warning, info, debug" },
	{ "bad_mode.yaml", ":1:14: socket_mode: \"0980\" is not an octal mode such as 0660" },
	{ "relative_path.yaml", ":1:12: state_dir: \"var/lib/benchmem\" is not an absolute path" },
	{ "bad_group.yaml",
	  ":1:15: socket_group: \"-wheel\" is not a group name (1-32 of [A-Za-z0-9_.-])" },
	{ "open_over_total.yaml", ": max_open_regions: 11 exceeds max_regions (10)" },
	{ "null_value.yaml", ":1:8: socket: \"\" is not an absolute path" },
	{ "mapping_key.yaml", ":1:3: a key must be a plain string, not a list" },
};

static void test_each_bad_file_is_refused_with_its_position(void)
{
	for (size_t i = 0; i < ARRAY_SIZE(bad_files); i++) {
		char err[512], want[PATH_MAX + 256];
		struct bm_config c;
		const char *path = fixture(bad_files[i].file);

		snprintf(want, sizeof(want), "%s%s", path, bad_files[i].want);
		config_defaults(&c);
		CHECK_I64(config_load(&c, path, err, sizeof(err)), -EINVAL);
		CHECK_STR(err, want);
	}
}

static void test_failed_load_leaves_config_unchanged(void)
{
	struct bm_config c, before;
	char err[512];

	config_defaults(&c);
	c.socket_mode = 0600; /* bad_size.yaml sets "0660" before its bad line */
	strcpy(c.state_dir, "/elsewhere");
	before = c;
	CHECK_I64(config_load(&c, fixture("bad_size.yaml"), err, sizeof(err)), -EINVAL);
	CHECK(!memcmp(&c, &before, sizeof(c)));
	CHECK_U64(c.socket_mode, 0600);
	CHECK_STR(c.state_dir, "/elsewhere");
}

static void test_missing_file_is_enoent_with_path(void)
{
	struct bm_config c;
	char err[512], want[PATH_MAX + 128];

	config_defaults(&c);
	snprintf(want, sizeof(want), "%s: No such file or directory", fixture("nope.yaml"));
	CHECK_I64(config_load(&c, fixture("nope.yaml"), err, sizeof(err)), -ENOENT);
	CHECK_STR(err, want);
}

static void test_buffer_need_not_be_nul_terminated(void)
{
	const char buf[] = "max_clients: 12JUNK";
	struct bm_config c;
	char err[256];

	config_defaults(&c);
	CHECK_I64(
		config_load_buffer(&c, buf, strlen("max_clients: 12"), "x.yaml", err, sizeof(err)),
		0);
	CHECK_U64(c.max_clients, 12);
	CHECK_I64(config_load_buffer(&c, buf, strlen(buf), "x.yaml", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "x.yaml:1:14: max_clients: 12JUNK is not a non-negative integer");
	CHECK_U64(c.max_clients, 12);
}

static void test_oversized_buffer_is_efbig(void)
{
	size_t len = BM_CONFIG_FILE_MAX + 1;
	char *buf = malloc(len), err[256];
	struct bm_config c;

	memset(buf, '#', len);
	config_defaults(&c);
	CHECK_I64(config_load_buffer(&c, buf, len, "big.yaml", err, sizeof(err)), -EFBIG);
	CHECK_STR(err, "big.yaml: larger than 1048576 bytes");
	CHECK_I64(config_load_buffer(&c, buf, len - 1, "big.yaml", err, sizeof(err)), 0);
	free(buf);
}

static void test_nul_inside_a_value_is_refused(void)
{
	const char buf[] = "socket: \"/run/a\\0b\"";
	struct bm_config c;
	char err[256];

	config_defaults(&c);
	CHECK_I64(config_load_buffer(&c, buf, strlen(buf), "n.yaml", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "n.yaml:1:9: socket: value contains a NUL byte");
}

static void test_reason_is_one_printable_bounded_line(void)
{
	const char esc[] = "stacks: \"a\\nb\\tc\"";
	char longv[128 + 16] = "stacks: ", err[256], want[128];
	struct bm_config c;

	config_defaults(&c);
	CHECK_I64(config_load_buffer(&c, esc, strlen(esc), "x.yaml", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "x.yaml:1:9: stacks: a?b?c is not true or false");
	memset(longv + 8, 'y', 100);
	longv[108] = '\0';
	CHECK_I64(config_load_buffer(&c, longv, strlen(longv), "x.yaml", err, sizeof(err)),
		  -EINVAL);
	strcpy(want, "x.yaml:1:9: stacks: ");
	memset(want + 20, 'y', 64); /* 64 bytes of the value, then "..." */
	strcpy(want + 84, "... is not true or false");
	CHECK_STR(err, want);
}

static void test_set_uses_the_same_table(void)
{
	struct bm_config c;
	char err[256] = "untouched";

	config_defaults(&c);
	CHECK_I64(config_set(&c, "spool_memory", "5MiB", err, sizeof(err)), 0);
	CHECK_U64(c.spool_memory, 5ull << 20);
	CHECK_I64(config_set(&c, "socket_mode", "0666", err, sizeof(err)), 0);
	CHECK_U64(c.socket_mode, 0666);
	CHECK_I64(config_set(&c, "log_level", "err", err, sizeof(err)), 0);
	CHECK_I64(c.log_level, BM_LOG_ERR);
	CHECK_I64(config_set(&c, "stacks", "true", err, sizeof(err)), 0);
	CHECK(c.stacks);
	CHECK_I64(config_set(&c, "socket", "/tmp/x.sock", err, sizeof(err)), 0);
	CHECK_STR(c.socket, "/tmp/x.sock");
	CHECK_I64(config_set(&c, "spool_memory", "5QiB", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "spool_memory: 5QiB is not a size");
	CHECK_U64(c.spool_memory, 5ull << 20);
	CHECK_I64(config_set(&c, "nosuch", "1", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "nosuch: unknown key");
	CHECK_I64(config_set(&c, "spool_memory", "32KiB", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "spool_memory: 32KiB is out of range 64KiB-64GiB");
	CHECK_I64(config_set(&c, "max_clients", "-1", err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "max_clients: -1 is not a non-negative integer");
}

static void test_validate_catches_cross_key_rule_after_set(void)
{
	struct bm_config c;
	char err[256];

	config_defaults(&c);
	CHECK_I64(config_set(&c, "max_regions", "100", err, sizeof(err)), 0);
	CHECK_I64(config_validate(&c, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "max_open_regions: 256 exceeds max_regions (100)");
	CHECK_I64(config_set(&c, "max_open_regions", "100", err, sizeof(err)), 0);
	CHECK_I64(config_validate(&c, err, sizeof(err)), 0);
}

static void test_socket_path_fits_sun_path_exactly(void)
{
	char path[BM_CONFIG_SOCK_MAX + 1], err[256];
	struct bm_config c;

	config_defaults(&c);
	memset(path, 'a', sizeof(path));
	path[0] = '/';
	path[BM_CONFIG_SOCK_MAX - 1] = '\0'; /* 107 bytes: fits */
	CHECK_I64(config_set(&c, "socket", path, err, sizeof(err)), 0);
	CHECK_U64(strlen(c.socket), 107);
	path[BM_CONFIG_SOCK_MAX - 1] = 'a';
	path[BM_CONFIG_SOCK_MAX] = '\0'; /* 108 bytes: too long, never truncated */
	CHECK_I64(config_set(&c, "socket", path, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "socket: path is 108 bytes, longer than 107");
	CHECK_U64(strlen(c.socket), 107);
}

static void test_get_round_trips_every_key(void)
{
	struct bm_config src, dst;
	struct bm_config_key_info k;
	char a[BM_CONFIG_PATH_MAX], b[BM_CONFIG_PATH_MAX], err[256];
	size_t i;

	config_defaults(&src);
	config_defaults(&dst);
	CHECK_I64(config_load(&src, fixture("good.yaml"), err, sizeof(err)), 0);
	for (i = 0; !config_key_info(i, &k); i++) {
		CHECK_I64(config_get(&src, k.key, a, sizeof(a)), 0);
		CHECK_I64(config_set(&dst, k.key, a, err, sizeof(err)), 0);
		CHECK_I64(config_get(&dst, k.key, b, sizeof(b)), 0);
		CHECK_STR(b, a);
	}
	CHECK_U64(i, 32); /* 18 + metrics_listen, metrics_max_series + 12 fairness keys */
	CHECK_I64(config_get(&src, "spool_memory", a, sizeof(a)), 0);
	CHECK_STR(a, "128MiB");
	CHECK_I64(config_get(&src, "socket_mode", a, sizeof(a)), 0);
	CHECK_STR(a, "0600");
	CHECK_I64(config_get(&src, "nosuch", a, sizeof(a)), -ENOENT);
	CHECK_I64(config_get(&src, "socket", a, 4), -ENOSPC);
}

static void test_metrics_listen_takes_host_port_or_nothing(void)
{
	static const char *const good[] = { "", "127.0.0.1:9464", "localhost:1", "[::1]:65535",
					    "metrics.example-1.org:9464" };
	static const char *const bad[] = {
		"9464",	     ":9464", "127.0.0.1:", "127.0.0.1:0",  "127.0.0.1:65536",
		"[::1:9464", "a b:1", "/x:1",	    "127.0.0.1:94x"
	};
	struct bm_config c;
	char err[256], buf[BM_CONFIG_ADDR_MAX];

	config_defaults(&c);
	CHECK_STR(c.metrics_listen, "");
	CHECK_U64(c.metrics_max_series, 10000);
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK_I64(config_set(&c, "metrics_listen", good[i], err, sizeof(err)), 0);
		CHECK_I64(config_get(&c, "metrics_listen", buf, sizeof(buf)), 0);
		CHECK_STR(buf, good[i]);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		CHECK_I64(config_set(&c, "metrics_listen", bad[i], err, sizeof(err)), -EINVAL);
		CHECK(strstr(err, "is not HOST:PORT") != NULL);
	}
	CHECK_STR(c.metrics_listen, "metrics.example-1.org:9464"); /* unchanged by a refusal */
}

static void test_ring_buffer_must_be_a_power_of_two_pages(void)
{
	struct bm_config c;
	char err[256];

	config_defaults(&c);
	CHECK_U64(c.ring_buffer, 16u << 20);
	CHECK_I64(config_set(&c, "ring_buffer", "4KiB", err, sizeof(err)), 0);
	CHECK_I64(config_validate(&c, err, sizeof(err)), 0);
	CHECK_I64(config_set(&c, "ring_buffer", "12KiB", err, sizeof(err)), 0);
	CHECK_I64(config_validate(&c, err, sizeof(err)), -EINVAL);
	CHECK_STR(err, "ring_buffer: 12288 is not a power of two of at least 4KiB");
	CHECK_I64(config_set(&c, "ring_buffer", "2KiB", err, sizeof(err)), -EINVAL);
}

/* --keys: one line per key, "key<TAB>type<TAB>default<TAB>min<TAB>max<TAB>choices". */
static int print_keys(void)
{
	struct bm_config c;
	struct bm_config_key_info k;
	char def[BM_CONFIG_PATH_MAX];

	config_defaults(&c);
	for (size_t i = 0; !config_key_info(i, &k); i++) {
		if (config_get(&c, k.key, def, sizeof(def)))
			return 1;
		printf("%s\t%s\t%s\t%" PRIu64 "\t%" PRIu64 "\t", k.key, k.type, def, k.min, k.max);
		for (size_t j = 0; k.choices && k.choices[j]; j++)
			printf("%s%s", j ? "," : "", k.choices[j]);
		printf("\n");
	}
	return 0;
}

/* --dump FILE: loads FILE over the defaults and prints "key<TAB>value" per key. */
static int dump_file(const char *path)
{
	struct bm_config c;
	struct bm_config_key_info k;
	char val[BM_CONFIG_PATH_MAX], err[512];

	config_defaults(&c);
	if (config_load(&c, path, err, sizeof(err))) {
		fprintf(stderr, "%s\n", err);
		return 1;
	}
	for (size_t i = 0; !config_key_info(i, &k); i++) {
		if (config_get(&c, k.key, val, sizeof(val)))
			return 1;
		printf("%s\t%s\n", k.key, val);
	}
	return 0;
}

/* The fixtures are found from the binary's place (build/tests/unit/ → tests/fixtures/config). */
static void find_fixtures(const char *argv0)
{
	char exe[PATH_MAX], dir[PATH_MAX + 64];

	snprintf(fixtures, sizeof(fixtures), "tests/fixtures/config");
	if (!realpath(argv0, exe))
		return;
	snprintf(dir, sizeof(dir), "%s/../../../tests/fixtures/config", dirname(exe));
	if (!realpath(dir, fixtures))
		snprintf(fixtures, sizeof(fixtures), "tests/fixtures/config");
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--keys"))
		return print_keys();
	if (argc == 3 && !strcmp(argv[1], "--dump"))
		return dump_file(argv[2]);
	find_fixtures(argv[0]);
	TEST(test_defaults_are_the_documented_ones);
	TEST(test_good_file_sets_every_key);
	TEST(test_comment_only_file_keeps_defaults);
	TEST(test_partial_file_changes_only_its_keys);
	TEST(test_each_bad_file_is_refused_with_its_position);
	TEST(test_failed_load_leaves_config_unchanged);
	TEST(test_missing_file_is_enoent_with_path);
	TEST(test_buffer_need_not_be_nul_terminated);
	TEST(test_oversized_buffer_is_efbig);
	TEST(test_nul_inside_a_value_is_refused);
	TEST(test_reason_is_one_printable_bounded_line);
	TEST(test_set_uses_the_same_table);
	TEST(test_validate_catches_cross_key_rule_after_set);
	TEST(test_socket_path_fits_sun_path_exactly);
	TEST(test_get_round_trips_every_key);
	TEST(test_ring_buffer_must_be_a_power_of_two_pages);
	TEST(test_metrics_listen_takes_host_port_or_nothing);
	return tap_done();
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* tests/unit/test_proto.c — request validation, reply formatting and file-name sanitising. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "tap.h"

static struct bm_request req;
static const char *code;
static char msg[256];

/* Parses a NUL-terminated line; returns proto_parse_request's value. */
static int parse(const char *line)
{
	bm_request_release(&req);
	code = NULL;
	msg[0] = '\0';
	return proto_parse_request(line, strlen(line), &req, &code, msg, sizeof(msg));
}

/* Checks that @line fails with @want_code and a non-empty one-line message. */
static int rejects(const char *line, const char *want_code)
{
	int err = parse(line);

	if (err != -EINVAL || !code || strcmp(code, want_code) || !msg[0] || strchr(msg, '\n')) {
		printf("#   line %s: err %d code %s msg \"%s\"\n", line, err, code ? code : "-",
		       msg);
		return 0;
	}
	return req.params == NULL;
}

static void test_hello(void)
{
	CHECK_I64(parse("{\"op\":\"hello\"}\n"), 0);
	CHECK_U64(req.op, BM_OP_HELLO);
	CHECK(!req.has_session && !req.has_pid && !req.name[0] && !req.params);
	CHECK_I64(parse("{\"op\":\"hello\"}\r\n"), 0);
	CHECK_I64(parse(" { \"op\" : \"hello\" } "), 0);
	CHECK(rejects("{\"op\":\"hello\",\"pid\":1}", "bad_request"));
}

static void test_launch(void)
{
	CHECK_I64(parse("{\"op\":\"launch\",\"pid\":1234,\"exe\":\"/usr/bin/python3\","
			"\"name\":\"python3\",\"python_malloc\":true}"),
		  0);
	CHECK_U64(req.op, BM_OP_LAUNCH);
	CHECK(req.has_pid);
	CHECK_I64(req.pid, 1234);
	CHECK_STR(req.exe, "/usr/bin/python3");
	CHECK_STR(req.name, "python3");
	CHECK(req.python_malloc);
	CHECK_I64(parse("{\"op\":\"launch\",\"pid\":9,\"exe\":\"/bin/true\",\"name\":\"t\"}"), 0);
	CHECK(!req.python_malloc);
	CHECK(rejects("{\"op\":\"launch\",\"pid\":9,\"name\":\"t\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"launch\",\"pid\":9,\"exe\":\"bin/true\",\"name\":\"t\"}",
		      "bad_request"));
	CHECK(rejects("{\"op\":\"launch\",\"pid\":9,\"exe\":\"/bin/true\",\"name\":\"t\","
		      "\"python_malloc\":1}",
		      "bad_request"));
	CHECK(rejects("{\"op\":\"launch\",\"pid\":9,\"exe\":\"/bin/\\ttrue\",\"name\":\"t\"}",
		      "bad_request"));
}

static void test_attach(void)
{
	CHECK_I64(parse("{\"op\":\"attach\",\"pid\":2147483647}"), 0);
	CHECK_U64(req.op, BM_OP_ATTACH);
	CHECK_I64(req.pid, 2147483647);
	CHECK(rejects("{\"op\":\"attach\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":2147483648}", "bad_request"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":0}", "bad_request"));
	CHECK(rejects("{\"op\":\"attach\",\"session\":3}", "bad_request"));
}

static void test_start_with_every_member(void)
{
	CHECK_I64(parse("{\"op\":\"start\",\"name\":\"tests/test_a.py::test_x[10-a b]\","
			"\"repeat\":3,\"params\":{\"n\":10,\"s\":\"x\",\"f\":1.5,\"b\":true,"
			"\"z\":null},\"group\":\"build\",\"session\":7}"),
		  0);
	CHECK_U64(req.op, BM_OP_START);
	CHECK_STR(req.name, "tests/test_a.py::test_x[10-a b]");
	CHECK(req.has_repeat);
	CHECK_U64(req.repeat, 3);
	CHECK(req.params != NULL);
	CHECK_U64(json_object_size(req.params), 5);
	CHECK_I64(json_integer_value(json_object_get(req.params, "n")), 10);
	CHECK(req.has_group);
	CHECK_STR(req.group, "build");
	CHECK(req.has_session);
	CHECK_U64(req.session, 7);
	CHECK(!req.has_pid);
}

static void test_start_minimal_and_null_group(void)
{
	CHECK_I64(parse("{\"op\":\"start\",\"name\":\"a\",\"group\":null}"), 0);
	CHECK(!req.has_repeat && !req.has_group && !req.params && !req.has_session);
	CHECK_STR(req.name, "a");
	CHECK(rejects("{\"op\":\"start\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"group\":\"\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"group\":7}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"exe\":\"/x\"}", "bad_request"));
}

static void test_stop(void)
{
	CHECK_I64(parse("{\"op\":\"stop\",\"name\":\"test_x[10]\",\"pid\":42}"), 0);
	CHECK_U64(req.op, BM_OP_STOP);
	CHECK_STR(req.name, "test_x[10]");
	CHECK(req.has_pid);
	CHECK_I64(req.pid, 42);
	CHECK_I64(parse("{\"op\":\"stop\",\"name\":\"x\",\"repeat\":0}"), 0);
	CHECK(req.has_repeat);
	CHECK_U64(req.repeat, 0);
	CHECK(rejects("{\"op\":\"stop\",\"name\":\"x\",\"params\":{}}", "bad_request"));
	CHECK(rejects("{\"op\":\"stop\"}", "bad_request"));
}

static void test_status_results_detach(void)
{
	CHECK_I64(parse("{\"op\":\"status\"}"), 0);
	CHECK_U64(req.op, BM_OP_STATUS);
	CHECK(rejects("{\"op\":\"status\",\"session\":1}", "bad_request"));
	CHECK_I64(parse("{\"op\":\"results\",\"session\":4294967295}"), 0);
	CHECK_U64(req.op, BM_OP_RESULTS);
	CHECK_U64(req.session, 4294967295u);
	CHECK(rejects("{\"op\":\"results\",\"session\":4294967296}", "bad_request"));
	CHECK_I64(parse("{\"op\":\"detach\"}"), 0);
	CHECK_U64(req.op, BM_OP_DETACH);
	CHECK_I64(parse("{\"op\":\"detach\",\"pid\":5}"), 0);
	CHECK_I64(req.pid, 5);
	CHECK(rejects("{\"op\":\"detach\",\"pid\":5,\"session\":2}", "bad_request"));
	/* sessions: the finished ones, of the caller (root: all); no member */
	CHECK_I64(parse("{\"op\":\"sessions\"}"), 0);
	CHECK_U64(req.op, BM_OP_SESSIONS);
	CHECK_STR(proto_op_name(BM_OP_SESSIONS), "sessions");
	CHECK(rejects("{\"op\":\"sessions\",\"session\":1}", "bad_request"));
	CHECK(rejects("{\"op\":\"sessions\",\"pid\":1}", "bad_request"));
}

static void test_profile_op_and_member(void)
{
	CHECK_I64(parse("{\"op\":\"profile\",\"name\":\"test_x[10]\",\"repeat\":2}"), 0);
	CHECK_U64(req.op, BM_OP_PROFILE);
	CHECK_STR(req.name, "test_x[10]");
	CHECK(req.has_repeat);
	CHECK_U64(req.repeat, 2);
	CHECK(rejects("{\"op\":\"profile\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"profile\",\"name\":\"a\",\"params\":{}}", "bad_request"));
	CHECK_I64(parse("{\"op\":\"attach\",\"pid\":3,\"profile\":true}"), 0);
	CHECK(req.profile);
	CHECK_I64(parse("{\"op\":\"launch\",\"pid\":3,\"exe\":\"/x\",\"name\":\"x\"}"), 0);
	CHECK(!req.profile);
	CHECK(rejects("{\"op\":\"attach\",\"pid\":3,\"profile\":\"yes\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"profile\":true}", "bad_request"));
	CHECK_STR(proto_op_name(BM_OP_PROFILE), "profile");
}

static void test_kill_on_daemon_exit_member(void)
{
	CHECK_I64(parse("{\"op\":\"attach\",\"pid\":3}"), 0);
	CHECK(!req.kill_on_daemon_exit);
	CHECK_I64(parse("{\"op\":\"attach\",\"pid\":3,\"kill_on_daemon_exit\":true}"), 0);
	CHECK(req.kill_on_daemon_exit);
	CHECK_I64(parse("{\"op\":\"launch\",\"pid\":3,\"exe\":\"/x\",\"name\":\"x\","
			"\"kill_on_daemon_exit\":true}"),
		  0);
	CHECK(req.kill_on_daemon_exit);
	CHECK(rejects("{\"op\":\"attach\",\"pid\":3,\"kill_on_daemon_exit\":1}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"kill_on_daemon_exit\":true}",
		      "bad_request"));
}

static void test_scope_op_and_member(void)
{
	CHECK_I64(parse("{\"op\":\"scope\",\"scope\":\"regions\"}"), 0);
	CHECK(req.op == BM_OP_SCOPE && req.region_scope && !req.has_session && !req.has_pid);
	CHECK_I64(parse("{\"op\":\"scope\",\"scope\":\"command\",\"session\":4}"), 0);
	CHECK(!req.region_scope && req.has_session && req.session == 4);
	CHECK_I64(parse("{\"op\":\"scope\",\"scope\":\"regions\",\"pid\":9}"), 0);
	CHECK(req.region_scope && req.has_pid && req.pid == 9);
	CHECK_I64(parse("{\"op\":\"launch\",\"pid\":3,\"exe\":\"/x\",\"name\":\"x\","
			"\"scope\":\"regions\"}"),
		  0);
	CHECK(req.op == BM_OP_LAUNCH && req.region_scope);
	CHECK(rejects("{\"op\":\"scope\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"scope\",\"scope\":\"region\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"scope\",\"scope\":true}", "bad_request"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":3,\"scope\":\"regions\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"scope\":\"regions\"}", "bad_request"));
	CHECK_STR(proto_op_name(BM_OP_SCOPE), "scope");
}

static void test_context_member(void)
{
	CHECK_I64(parse("{\"op\":\"attach\",\"pid\":7,\"context\":{\"commit_info\":"
			"{\"id\":\"abc\",\"dirty\":false,\"branch\":null}}}"),
		  0);
	CHECK_STR(json_string_value(
			  json_object_get(json_object_get(req.context, "commit_info"), "id")),
		  "abc");
	CHECK_I64(parse("{\"op\":\"launch\",\"pid\":7,\"exe\":\"/bin/true\",\"name\":\"x\","
			"\"context\":{\"machine_info\":{\"node\":\"h\",\"cpu\":{}}}}"),
		  0);
	CHECK(req.context != NULL);
	CHECK_I64(parse("{\"op\":\"attach\",\"pid\":7,\"context\":{\"commit_info\":"
			"{\"dirty\":\"yes\"}}}"),
		  -EINVAL);
	CHECK_STR(code, "bad_request");
	CHECK_STR(msg, "\"context.commit_info.dirty\" has the wrong type");
	CHECK(req.context == NULL);
	CHECK_I64(parse("{\"op\":\"start\",\"name\":\"x\",\"context\":{}}"), -EINVAL);
	CHECK_STR(code, "bad_request");
}

static void test_op_names_round_trip(void)
{
	CHECK_STR(proto_op_name(BM_OP_HELLO), "hello");
	CHECK_STR(proto_op_name(BM_OP_DETACH), "detach");
	CHECK(proto_op_name((enum bm_op)0) == NULL);
	CHECK(proto_op_name((enum bm_op)99) == NULL);
}

static void test_watch_bounds_rate_and_sort(void)
{
	CHECK_I64(parse("{\"op\":\"watch\",\"interval_ms\":250,\"session\":3,\"thread\":77,"
			"\"sort\":\"count\"}"),
		  0);
	CHECK(req.op == BM_OP_WATCH);
	CHECK_U64(req.interval_ms, 250);
	CHECK_U64(req.session, 3);
	CHECK_U64(req.thread, 77);
	CHECK_U64(req.sort, BM_SORT_COUNT);
	CHECK(rejects("{\"op\":\"watch\",\"interval_ms\":249}", "bad_request"));
	CHECK_STR(msg, "\"interval_ms\" must be an integer in 250..60000");
	CHECK(rejects("{\"op\":\"watch\",\"interval_ms\":60001}", "bad_request"));
	CHECK(rejects("{\"op\":\"watch\",\"sort\":\"peak\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"watch\",\"pid\":1}", "bad_request"));
	CHECK(rejects("{\"op\":\"watch\",\"thread\":-1}", "bad_request"));
}

static void test_unknown_and_malformed_op(void)
{
	CHECK(rejects("{\"op\":\"frobnicate\"}", "unknown_op"));
	CHECK_STR(msg, "unknown op; known: hello launch attach start stop status results detach "
		       "profile watch sessions scope");
	CHECK(rejects("{\"op\":\"HELLO\"}", "unknown_op"));
	CHECK(rejects("{\"op\":\"\"}", "unknown_op"));
	CHECK(rejects("{\"op\":1}", "bad_request"));
	CHECK(rejects("{\"op\":null}", "bad_request"));
	CHECK(rejects("{\"name\":\"x\"}", "bad_request"));
	CHECK(rejects("{}", "bad_request"));
}

static void test_not_an_object_is_bad_json(void)
{
	CHECK(rejects("", "bad_json"));
	CHECK(rejects("\n", "bad_json"));
	CHECK(rejects("[\"op\",\"hello\"]", "bad_json"));
	CHECK(rejects("\"hello\"", "bad_json"));
	CHECK(rejects("42", "bad_json"));
	CHECK(rejects("null", "bad_json"));
	CHECK(rejects("{\"op\":\"hello\"", "bad_json"));
	CHECK(rejects("{\"op\":\"hello\"} {}", "bad_json"));
	CHECK(rejects("{'op':'hello'}", "bad_json"));
}

static void test_duplicate_keys_are_bad_json(void)
{
	CHECK(rejects("{\"op\":\"hello\",\"op\":\"status\"}", "bad_json"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":1,\"pid\":2}", "bad_json"));
}

static void test_nul_bytes_are_rejected(void)
{
	static const char raw[] = "{\"op\":\"hello\"}\0{\"op\":\"status\"}";
	int err;

	err = proto_parse_request(raw, sizeof(raw) - 1, &req, &code, msg, sizeof(msg));
	CHECK_I64(err, -EINVAL);
	CHECK_STR(code, "bad_json");
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\\u0000b\"}", "bad_json"));
}

static void test_invalid_utf8_is_bad_json(void)
{
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\xff\"}", "bad_json"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"\xc3\x28\"}", "bad_json"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"\\ud800\"}", "bad_json"));
	/* Valid UTF-8 that is outside the name charset is a name error, not a JSON error. */
	CHECK(rejects("{\"op\":\"start\",\"name\":\"caf\xc3\xa9\"}", "bad_name"));
}

static void test_deep_nesting_is_rejected(void)
{
	char line[BM_LINE_MAX];
	size_t n = 0;

	n += (size_t)sprintf(line, "{\"op\":\"start\",\"name\":\"a\",\"params\":");
	while (n < 2000)
		line[n++] = '[';
	line[n] = '\0';
	/* Unterminated: the parser must give up cleanly, whatever the depth. */
	CHECK(rejects(line, "bad_json"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"params\":{\"x\":{\"y\":1}}}",
		      "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"params\":{\"x\":[1]}}", "bad_request"));
}

static void test_huge_and_non_integer_numbers(void)
{
	CHECK(rejects("{\"op\":\"attach\",\"pid\":99999999999999999999999}", "bad_json"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":1e3}", "bad_request"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":12.0}", "bad_request"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":\"12\"}", "bad_request"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":true}", "bad_request"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":-1}", "bad_request"));
	CHECK(rejects("{\"op\":\"attach\",\"pid\":-9223372036854775808}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"repeat\":-1}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"repeat\":1000001}", "bad_request"));
	CHECK_I64(parse("{\"op\":\"start\",\"name\":\"a\",\"repeat\":1000000}"), 0);
	CHECK_U64(req.repeat, 1000000);
	CHECK(rejects("{\"op\":\"results\",\"session\":0}", "bad_request"));
}

static void test_region_name_rules(void)
{
	char line[BM_LINE_MAX];
	char name[BM_NAME_MAX + 2];

	CHECK(rejects("{\"op\":\"start\",\"name\":\"\"}", "bad_name"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"../etc/passwd\"}", "bad_name"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a..b\"}", "bad_name"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\\nb\"}", "bad_name"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\\u007fb\"}", "bad_name"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\\\"b\"}", "bad_name"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\\\\b\"}", "bad_name"));
	CHECK(rejects("{\"op\":\"stop\",\"name\":\"a;rm\"}", "bad_name"));
	CHECK(rejects("{\"op\":\"start\",\"name\":7}", "bad_request"));
	memset(name, 'n', BM_NAME_MAX);
	name[BM_NAME_MAX] = '\0';
	snprintf(line, sizeof(line), "{\"op\":\"start\",\"name\":\"%s\"}", name);
	CHECK_I64(parse(line), 0);
	CHECK_U64(strlen(req.name), BM_NAME_MAX);
	name[BM_NAME_MAX] = 'n';
	name[BM_NAME_MAX + 1] = '\0';
	snprintf(line, sizeof(line), "{\"op\":\"start\",\"name\":\"%s\"}", name);
	CHECK(rejects(line, "bad_name"));
	CHECK(names_is_valid("a/b::c[x=1,y=2+3 z-w.]"));
	CHECK(!names_is_valid("a/../b"));
}

static void test_params_limits(void)
{
	char line[BM_LINE_MAX];
	size_t n;

	n = (size_t)sprintf(line, "{\"op\":\"start\",\"name\":\"a\",\"params\":{");
	for (int i = 0; i < BM_PARAMS_MAX; i++)
		n += (size_t)sprintf(line + n, "%s\"k%d\":%d", i ? "," : "", i, i);
	strcpy(line + n, "}}");
	CHECK_I64(parse(line), 0);
	CHECK_U64(json_object_size(req.params), BM_PARAMS_MAX);
	n = (size_t)sprintf(line, "{\"op\":\"start\",\"name\":\"a\",\"params\":{");
	for (int i = 0; i <= BM_PARAMS_MAX; i++)
		n += (size_t)sprintf(line + n, "%s\"k%d\":%d", i ? "," : "", i, i);
	strcpy(line + n, "}}");
	CHECK(rejects(line, "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"params\":[]}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"params\":{\"\":1}}", "bad_request"));
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"params\":null}", "bad_request"));
	n = (size_t)sprintf(line, "{\"op\":\"start\",\"name\":\"a\",\"params\":{\"s\":\"");
	memset(line + n, 'v', BM_PARAM_STR_MAX + 1);
	strcpy(line + n + BM_PARAM_STR_MAX + 1, "\"}}");
	CHECK(rejects(line, "bad_request"));
}

static void test_too_long_line(void)
{
	static char line[BM_LINE_MAX + 2];
	int err;

	memset(line, ' ', sizeof(line));
	memcpy(line, "{\"op\":\"hello\"}", 14);
	err = proto_parse_request(line, BM_LINE_MAX, &req, &code, msg, sizeof(msg));
	CHECK_I64(err, 0);
	err = proto_parse_request(line, BM_LINE_MAX + 1, &req, &code, msg, sizeof(msg));
	CHECK_I64(err, -EINVAL);
	CHECK_STR(code, "too_long");
}

static void test_unknown_member_message_names_it(void)
{
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"colour\":\"red\"}", "bad_request"));
	CHECK(strstr(msg, "colour") != NULL);
	CHECK(rejects("{\"op\":\"launch\",\"pid\":9,\"exe\":\"/bin/true\"}", "bad_request"));
	CHECK_STR(msg, "op \"launch\" needs member \"name\"");
}

static void test_failed_parse_releases_params(void)
{
	/* params parse fine, then a later member fails: nothing may leak (ASan checks). */
	CHECK(rejects("{\"op\":\"start\",\"name\":\"a\",\"params\":{\"n\":1},\"repeat\":-5}",
		      "bad_request"));
	CHECK(req.params == NULL);
	bm_request_release(NULL);
}

static void test_tiny_message_buffer_is_terminated(void)
{
	char small[8];
	int err;

	err = proto_parse_request("[]", 2, &req, &code, small, sizeof(small));
	CHECK_I64(err, -EINVAL);
	CHECK_U64(strlen(small), sizeof(small) - 1);
	err = proto_parse_request("[]", 2, &req, &code, NULL, 0);
	CHECK_I64(err, -EINVAL);
	CHECK_STR(code, "bad_json");
}

static void test_format_error(void)
{
	char *line = proto_format_error("not_open", "region \"a\" is not open");

	CHECK_STR(line, "{\"ok\":false,\"error\":{\"code\":\"not_open\","
			"\"message\":\"region \\\"a\\\" is not open\"}}\n");
	free(line);
	line = proto_format_error("bad_json", "bad\nbyte \xff");
	CHECK_STR(line, "{\"ok\":false,\"error\":{\"code\":\"bad_json\","
			"\"message\":\"bad?byte ?\"}}\n");
	free(line);
}

static void test_format_ok(void)
{
	char *line = proto_format_ok(json_pack("{s:s,s:i}", "region", "a", "repeat", 2));

	CHECK_STR(line, "{\"ok\":true,\"region\":\"a\",\"repeat\":2}\n");
	free(line);
	line = proto_format_ok(NULL);
	CHECK_STR(line, "{\"ok\":true}\n");
	free(line);
	errno = 0;
	line = proto_format_ok(json_array());
	CHECK(line == NULL);
	CHECK_I64(errno, EINVAL);
	line = proto_format_ok(json_pack("{s:b}", "ok", 0));
	CHECK(line == NULL);
}

int main(void)
{
	TEST(test_hello);
	TEST(test_launch);
	TEST(test_attach);
	TEST(test_start_with_every_member);
	TEST(test_start_minimal_and_null_group);
	TEST(test_stop);
	TEST(test_status_results_detach);
	TEST(test_profile_op_and_member);
	TEST(test_op_names_round_trip);
	TEST(test_unknown_and_malformed_op);
	TEST(test_watch_bounds_rate_and_sort);
	TEST(test_not_an_object_is_bad_json);
	TEST(test_duplicate_keys_are_bad_json);
	TEST(test_nul_bytes_are_rejected);
	TEST(test_invalid_utf8_is_bad_json);
	TEST(test_deep_nesting_is_rejected);
	TEST(test_huge_and_non_integer_numbers);
	TEST(test_region_name_rules);
	TEST(test_params_limits);
	TEST(test_too_long_line);
	TEST(test_unknown_member_message_names_it);
	TEST(test_failed_parse_releases_params);
	TEST(test_tiny_message_buffer_is_terminated);
	TEST(test_format_error);
	TEST(test_format_ok);
	TEST(test_kill_on_daemon_exit_member);
	TEST(test_context_member);
	TEST(test_scope_op_and_member);
	bm_request_release(&req);
	return tap_done();
}

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/c/benchmem.c — libbenchmem: region start/stop over the collector socket, libc only. */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "bm_limits.h"
#include "libbenchmem.h"

#define DEFAULT_SOCKET	  "/run/benchmem/benchmemd.sock"
#define NAME_MAX_BYTES	  BM_NAME_MAX
#define REPLY_MAX	  BM_LINE_MAX /* the server's replies to us are far shorter */
#define REQUEST_MAX	  1024 /* worst case: 128 name bytes escaped as \u00XX, plus members */
#define IO_TIMEOUT_S	  5
#define RETRY_INTERVAL_NS 1000000000LL
#define ARRAY_SIZE(a)	  (sizeof(a) / sizeof((a)[0]))

/*
 * The one piece of global state in the project (style.md §1.5 names this exception): the
 * library is called from inside the measured program, which has no context to pass us.
 * - fd/pid: the connection and the process that opened it. The collector identifies the session
 *   by the connecting process's credentials, so after fork() the child must connect again; the
 *   getpid() check catches forks that bypass pthread_atfork (raw clone, vfork + exec failure).
 * - retry_at_ns: after a failed connect no new attempt is made before this CLOCK_MONOTONIC time,
 *   so a program without a collector pays one clock read per call.
 * - lock serialises whole request/reply exchanges between threads.
 */
static struct {
	pthread_mutex_t lock;
	pthread_once_t once;
	int fd;
	pid_t pid;
	long long retry_at_ns;
} conn = { PTHREAD_MUTEX_INITIALIZER, PTHREAD_ONCE_INIT, -1, 0, 0 };

static void atfork_prepare(void)
{
	pthread_mutex_lock(&conn.lock);
}

static void atfork_parent(void)
{
	pthread_mutex_unlock(&conn.lock);
}

/* The child keeps the parent's socket open but must not speak on it: drop our copy. */
static void atfork_child(void)
{
	pthread_mutex_init(&conn.lock, NULL);
	if (conn.fd >= 0)
		close(conn.fd);
	conn.fd = -1;
	conn.pid = 0;
	conn.retry_at_ns = 0;
}

static void register_atfork(void)
{
	pthread_atfork(atfork_prepare, atfork_parent, atfork_child);
}

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts); /* ms resolution is plenty for a 1 s interval */
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void drop_connection(void)
{
	if (conn.fd >= 0)
		close(conn.fd);
	conn.fd = -1;
	conn.pid = 0;
}

static int open_socket(const char *path)
{
	struct timeval tv = { .tv_sec = IO_TIMEOUT_S };
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	int fd, err;

	if (n == 0 || n >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, n + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) ||
	    connect(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Makes sure this process has a connection; called with the lock held. 0 or -ENOTCONN.
 * Without a connection the clock is read before anything else, so a program without a
 * collector pays a vDSO call here, not a system call. */
static int ensure_connected(void)
{
	const char *path;
	long long now;
	int fd;

	if (conn.fd >= 0 && conn.pid == getpid())
		return 0;
	if (conn.fd >= 0)
		drop_connection(); /* inherited through a fork that pthread_atfork did not see */
	now = now_ns();
	if (now < conn.retry_at_ns)
		return -ENOTCONN;
	path = getenv("BENCHMEM_SOCKET");
	fd = open_socket(path && *path ? path : DEFAULT_SOCKET);
	if (fd < 0) {
		conn.retry_at_ns = now + RETRY_INTERVAL_NS;
		return -ENOTCONN;
	}
	conn.fd = fd;
	conn.pid = getpid();
	conn.retry_at_ns = 0;
	return 0;
}

/* ---- request building: by hand, into the caller's stack buffer --------------------------- */

struct wbuf {
	char *p;
	size_t len, cap;
	bool overflow;
};

static void put(struct wbuf *b, const char *s, size_t n)
{
	if (b->overflow || n > b->cap - b->len) {
		b->overflow = true;
		return;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
}

static void put_str(struct wbuf *b, const char *s)
{
	put(b, s, strlen(s));
}

static void put_uint(struct wbuf *b, unsigned long long v)
{
	char digits[24];
	size_t i = sizeof(digits);

	do {
		digits[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	put(b, digits + i, sizeof(digits) - i);
}

/* JSON string escaping: quote, backslash and control bytes; other bytes pass through (the
 * collector validates the name and answers bad_name). */
static void put_json_string(struct wbuf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";

	put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		char esc[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

		if (c == '"' || c == '\\') {
			esc[1] = (char)c;
			put(b, esc, 2);
		} else if (c < 0x20) {
			put(b, esc, 6);
		} else {
			put(b, (const char *)&c, 1);
		}
	}
	put(b, "\"", 1);
}

/* ---- reply parsing: just enough for our replies ------------------------------------------ */

/* Returns the text after `"key"` and its colon, or NULL. Keys we look for cannot occur inside
 * the string values of our replies (region names exclude '"'). */
static const char *find_member(const char *reply, const char *key)
{
	size_t n = strlen(key);
	const char *p = reply;

	while ((p = strchr(p, '"'))) {
		if (!strncmp(p + 1, key, n) && p[n + 1] == '"') {
			p += n + 2;
			while (*p == ' ' || *p == '\t')
				p++;
			if (*p != ':')
				continue;
			p++;
			while (*p == ' ' || *p == '\t')
				p++;
			return p;
		}
		p++;
	}
	return NULL;
}

static int get_u64(const char *reply, const char *key, uint64_t *out)
{
	const char *p = find_member(reply, key);
	uint64_t v = 0;

	if (!p || *p < '0' || *p > '9')
		return -EPROTO;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
			return -EPROTO;
		v = v * 10 + (uint64_t)(*p - '0');
	}
	*out = v;
	return 0;
}

static int error_from_reply(const char *reply)
{
	static const struct {
		const char *code;
		int err;
	} codes[] = {
		{ "\"bad_name\"", -EINVAL },  { "\"bad_request\"", -EINVAL },
		{ "\"not_open\"", -ENOENT },  { "\"already_open\"", -EEXIST },
		{ "\"no_session\"", -ESRCH }, { "\"permission\"", -EPERM },
		{ "\"limit\"", -ENOSPC },     { "\"io\"", -EIO },
	};
	const char *p = find_member(reply, "code");

	for (size_t i = 0; p && i < ARRAY_SIZE(codes); i++) {
		if (!strncmp(p, codes[i].code, strlen(codes[i].code)))
			return codes[i].err;
	}
	return -EPROTO;
}

static bool reply_is_ok(const char *reply)
{
	const char *p = find_member(reply, "ok");

	return p && !strncmp(p, "true", 4);
}

/* ---- one exchange ------------------------------------------------------------------------ */

static int send_all(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -ECONNRESET;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads one reply line into @buf (NUL-terminated, newline stripped). */
static int recv_line(int fd, char *buf, size_t cap)
{
	size_t len = 0;
	char *nl;

	for (;;) {
		ssize_t r = recv(fd, buf + len, cap - 1 - len, 0);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return errno == EAGAIN ? -ETIMEDOUT : -ECONNRESET;
		if (r == 0)
			return -ECONNRESET;
		len += (size_t)r;
		buf[len] = '\0';
		nl = memchr(buf, '\n', len);
		if (nl) {
			*nl = '\0';
			return 0;
		}
		if (len == cap - 1)
			return -EPROTO;
	}
}

/* Sends @req, reads the reply into @reply; returns 0 for an ok reply, else -errno. A transport
 * failure drops the connection so that the next call reconnects. */
static int exchange(const struct wbuf *req, char *reply, size_t cap)
{
	int err;

	pthread_once(&conn.once, register_atfork);
	pthread_mutex_lock(&conn.lock);
	err = ensure_connected();
	if (err)
		goto out;
	err = send_all(conn.fd, req->p, req->len);
	if (!err)
		err = recv_line(conn.fd, reply, cap);
	if (err) {
		drop_connection();
		goto out;
	}
	err = reply_is_ok(reply) ? 0 : error_from_reply(reply);
out:
	pthread_mutex_unlock(&conn.lock);
	return err;
}

static int check_name(const char *name)
{
	if (!name || !*name)
		return -EINVAL;
	if (strlen(name) > NAME_MAX_BYTES)
		return -ENAMETOOLONG;
	return 0;
}

/* Builds {"op":OP,"name":NAME[,"repeat":N]}\n into @b. */
static int build_request(struct wbuf *b, const char *op, const char *name, bool has_repeat,
			 unsigned int repeat)
{
	put_str(b, "{\"op\":\"");
	put_str(b, op);
	put_str(b, "\",\"name\":");
	put_json_string(b, name);
	if (has_repeat) {
		put_str(b, ",\"repeat\":");
		put_uint(b, repeat);
	}
	put_str(b, "}\n");
	return b->overflow ? -ENAMETOOLONG : 0;
}

static int start_region(const char *name, bool has_repeat, unsigned int repeat)
{
	char req[REQUEST_MAX], reply[REPLY_MAX];
	struct wbuf b = { req, 0, sizeof(req), false };
	int err = check_name(name);

	if (!err)
		err = build_request(&b, "start", name, has_repeat, repeat);
	if (!err)
		err = exchange(&b, reply, sizeof(reply));
	return err;
}

int benchmem_start(const char *name)
{
	return start_region(name, false, 0);
}

int benchmem_start_repeat(const char *name, unsigned int repeat)
{
	return start_region(name, true, repeat);
}

static int parse_result(const char *reply, struct benchmem_result *out)
{
	struct benchmem_result r = { 0 };
	uint64_t repeat = 0;
	int err = 0;

	err = err ?: get_u64(reply, "peak_bytes", &r.peak_bytes);
	err = err ?: get_u64(reply, "total_bytes", &r.total_bytes);
	err = err ?: get_u64(reply, "allocations", &r.allocations);
	err = err ?: get_u64(reply, "wall_ns", &r.wall_ns);
	err = err ?: get_u64(reply, "repeat", &repeat);
	if (err)
		return err;
	/* rss_bytes and lost_events are optional for us: a collector may not measure them. */
	get_u64(reply, "rss_bytes", &r.rss_bytes);
	get_u64(reply, "lost_events", &r.lost_events);
	r.repeat = (uint32_t)repeat;
	*out = r;
	return 0;
}

int benchmem_stop(const char *name, struct benchmem_result *out)
{
	char req[REQUEST_MAX], reply[REPLY_MAX];
	struct wbuf b = { req, 0, sizeof(req), false };
	int err = check_name(name);

	if (!err)
		err = build_request(&b, "stop", name, false, 0);
	if (!err)
		err = exchange(&b, reply, sizeof(reply));
	if (!err && out)
		err = parse_result(reply, out);
	return err;
}

int benchmem_available(void)
{
	int err;

	pthread_once(&conn.once, register_atfork);
	pthread_mutex_lock(&conn.lock);
	err = ensure_connected();
	pthread_mutex_unlock(&conn.lock);
	return err ? 0 : 1;
}

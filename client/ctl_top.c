// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/ctl_top.c — `benchmemctl top`: the watch stream on a full-screen ncurses view, or one
 * snapshot (--once, --json) for scripts and CI logs. */
#include <curses.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "bm_limits.h"
#include "cli_err.h"
#include "conn.h"
#include "ctl.h"
#include "top_view.h"

#define CMD	       "benchmemctl top"
#define TOP_TIMEOUT_MS 5000
#define TOP_LINE_MAX   (16u << 20) /* a snapshot line; the daemon bounds it far below */

struct top_args {
	bool once, json;
	int interval_ms;
	struct top_ui ui;
};

/* The stream: a socket and the bytes of a line not yet complete. */
struct top_conn {
	int fd;
	char *buf;
	size_t len, cap;
};

static volatile sig_atomic_t top_stop; /* SIGINT/SIGTERM/SIGHUP: leave, restoring the tty */

static void on_stop_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

/* One line, never the whole usage (benchmemctl top --help prints that). */
static int usage_error(const char *msg, const char *arg)
{
	return cli_err(CMD, 2, "%s%s (see --help)", msg, arg ? arg : "");
}

static int parse_int(const char *s, long min, long max, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || end == s || *end || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse(int argc, char **argv, struct top_args *a)
{
	long v;

	memset(a, 0, sizeof(*a));
	a->interval_ms = 1000;
	for (int i = 1; i < argc; i++) {
		const char *o = argv[i], *next = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(o, "--once")) {
			a->once = true;
		} else if (!strcmp(o, "--json")) {
			a->json = true;
		} else if (!strcmp(o, "--interval") && next) {
			if (parse_int(next, BM_WATCH_MIN_MS, BM_WATCH_MAX_MS, &v))
				return usage_error("--interval takes 250..60000 ms, not ", next);
			a->interval_ms = (int)v;
			i++;
		} else if (!strcmp(o, "--session") && next) {
			if (parse_int(next, 1, UINT32_MAX, &v))
				return usage_error("--session takes a session id, not ", next);
			a->ui.session = (uint32_t)v;
			i++;
		} else if (!strcmp(o, "--sort") && next) {
			if (!strcmp(next, "total"))
				a->ui.sort = TOP_SORT_TOTAL;
			else if (!strcmp(next, "own"))
				a->ui.sort = TOP_SORT_OWN;
			else if (!strcmp(next, "count"))
				a->ui.sort = TOP_SORT_COUNT;
			else
				return usage_error("--sort takes total, own or count, not ", next);
			i++;
		} else if (!strcmp(o, "--interval") || !strcmp(o, "--session") ||
			   !strcmp(o, "--sort")) {
			return cli_err(CMD, 2, "option '%s' needs a value (see --help)", o);
		} else {
			return cli_err(CMD, 2, "unknown option '%s' (see --help)", o);
		}
	}
	if (a->json && !a->once)
		return usage_error("--json goes with --once", NULL);
	return 0;
}

static json_t *watch_request(const struct top_args *a)
{
	json_t *req = json_pack("{s:s, s:i, s:s}", "op", "watch", "interval_ms", a->interval_ms,
				"sort", top_sort_name(a->ui.sort));

	if (req && a->ui.session)
		json_object_set_new(req, "session", json_integer(a->ui.session));
	if (req && a->ui.thread)
		json_object_set_new(req, "thread", json_integer(a->ui.thread));
	return req;
}

static int send_line(int fd, json_t *req)
{
	char *text = req ? json_dumps(req, JSON_COMPACT) : NULL;
	size_t len, off = 0;
	int err = 0;

	json_decref(req);
	if (!text)
		return -ENOMEM;
	len = strlen(text);
	text[len++] = '\n'; /* json_dumps leaves room: the NUL becomes the newline */
	while (off < len && !err) {
		ssize_t n = send(fd, text + off, len - off, MSG_NOSIGNAL);

		if (n < 0 && errno != EINTR)
			err = -errno;
		else if (n > 0)
			off += (size_t)n;
	}
	free(text);
	return err;
}

static void print_line(void *arg, int row, const char *text, bool selected)
{
	(void)arg;
	(void)row;
	(void)selected;
	printf("%s\n", text);
}

/* The snapshot of an ok reply, or NULL after printing the error. */
static json_t *snapshot_of(json_t *reply)
{
	char err[512];

	if (conn_error(reply, err, sizeof(err))) {
		cli_err(CMD, 0, "%s", err);
		return NULL;
	}
	return json_object_get(reply, "snapshot");
}

static int run_once(int fd, const struct top_args *a)
{
	char err[512];
	json_t *reply = conn_request(fd, watch_request(a), err, sizeof(err)), *snap;
	int code = 0;

	if (!reply)
		return cli_err(CMD, 3, "%s", err);
	snap = snapshot_of(reply);
	if (!snap)
		code = 1;
	else if (a->json)
		code = json_dumpf(snap, stdout, JSON_INDENT(2)) || puts("") == EOF ? 1 : 0;
	else
		top_render(snap, &a->ui, 0, print_line, NULL);
	json_decref(reply);
	return code;
}

/* Reads what the socket has; returns the newest complete snapshot reply (new reference; older
 * ones are dropped), NULL when none is complete yet, and sets *@gone when the daemon closed. */
static json_t *read_replies(struct top_conn *c, bool *gone)
{
	json_t *last = NULL;
	char *nl;
	ssize_t n;

	if (c->cap - c->len < 65536) {
		size_t cap = c->cap ? c->cap * 2 : 131072;
		char *b = cap > TOP_LINE_MAX ? NULL : realloc(c->buf, cap);

		if (!b) {
			*gone = true;
			return NULL;
		}
		c->buf = b;
		c->cap = cap;
	}
	n = recv(c->fd, c->buf + c->len, c->cap - c->len, MSG_DONTWAIT);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
		*gone = true;
	if (n > 0)
		c->len += (size_t)n;
	while ((nl = memchr(c->buf, '\n', c->len))) {
		size_t used = (size_t)(nl - c->buf) + 1;
		json_t *r = json_loadb(c->buf, used - 1, 0, NULL);

		memmove(c->buf, c->buf + used, c->len - used);
		c->len -= used;
		if (r) {
			json_decref(last);
			last = r;
		}
	}
	return last;
}

static void screen_line(void *arg, int row, const char *text, bool selected)
{
	(void)arg;
	if (row >= LINES)
		return;
	if (selected)
		attron(A_REVERSE);
	mvaddnstr(row, 0, text, COLS);
	if (selected)
		attroff(A_REVERSE);
}

static void draw(const json_t *snap, const struct top_ui *ui, const char *msg)
{
	erase();
	if (snap)
		top_render(snap, ui, COLS < 1023 ? COLS : 1023, screen_line, NULL);
	else
		mvaddstr(0, 0, "benchmemctl top: waiting for the first snapshot...");
	if (msg)
		mvaddnstr(LINES - 1, 0, msg, COLS);
	refresh();
}

/* Moves the selection in @ids by @step; returns true when it changed. */
static bool step_in(uint32_t *cur, const uint32_t *ids, int n, int step, bool allow_zero)
{
	int at = -1, next;

	for (int i = 0; i < n; i++) {
		if (ids[i] == *cur)
			at = i;
	}
	if (!n)
		return false;
	next = at + step;
	if (allow_zero && (next < 0 || next >= n)) {
		bool changed = *cur != 0;

		*cur = 0; /* past either end: "all" */
		return changed;
	}
	if (next < 0)
		next = 0;
	if (next >= n)
		next = n - 1;
	if (ids[next] == *cur)
		return false;
	*cur = ids[next];
	return true;
}

/* One key: returns 1 to quit, 2 when the subscription must change, else 0. */
static int on_key(int ch, struct top_args *a, const json_t *snap)
{
	uint32_t ids[256];
	int n;

	switch (ch) {
	case 'q':
	case 'Q':
		return 1;
	case KEY_UP:
	case KEY_DOWN:
		n = snap ? top_session_ids(snap, ids, 256) : 0;
		if (!step_in(&a->ui.session, ids, n, ch == KEY_UP ? -1 : 1, false))
			return 0;
		a->ui.thread = 0;
		return 2;
	case KEY_LEFT:
	case KEY_RIGHT:
		n = snap ? top_thread_ids(snap, ids, 256) : 0;
		return step_in(&a->ui.thread, ids, n, ch == KEY_LEFT ? -1 : 1, true) ? 2 : 0;
	case 't':
		a->ui.sort = TOP_SORT_TOTAL;
		return 2;
	case 'o':
		a->ui.sort = TOP_SORT_OWN;
		return 2;
	case 'c':
		a->ui.sort = TOP_SORT_COUNT;
		return 2;
	default:
		return 0;
	}
}

/* Selects the first session when none is (or the selected one has gone); true when the
 * selection changed. */
static bool keep_selection(struct top_ui *ui, const json_t *snap)
{
	uint32_t ids[256];
	int n = top_session_ids(snap, ids, 256);

	for (int i = 0; i < n; i++) {
		if (ids[i] == ui->session)
			return false;
	}
	if (!n)
		return false;
	ui->session = ids[0];
	ui->thread = 0;
	return true;
}

/* The interactive loop; returns the exit code. The terminal is restored on every path. */
static int run_screen(struct top_conn *c, struct top_args *a)
{
	struct pollfd pfd[2] = { { .fd = c->fd, .events = POLLIN },
				 { .fd = STDIN_FILENO, .events = POLLIN } };
	json_t *reply = NULL;
	const char *msg = NULL;
	int code = 0;

	a->ui.interactive = true;
	initscr();
	cbreak();
	noecho();
	keypad(stdscr, TRUE);
	nodelay(stdscr, TRUE);
	curs_set(0);
	draw(NULL, &a->ui, NULL);
	while (!top_stop) {
		bool gone = false, redraw = false, resubscribe = false;
		int ch, k;

		if (poll(pfd, 2, 500) < 0 && errno != EINTR)
			break;
		if (pfd[0].revents) {
			json_t *r = read_replies(c, &gone);

			if (r) {
				json_decref(reply);
				reply = r;
				redraw = true;
			}
		}
		while ((ch = getch()) != ERR) {
			k = on_key(ch, a, reply ? json_object_get(reply, "snapshot") : NULL);
			if (k == 1)
				top_stop = 1;
			resubscribe |= k == 2;
			redraw |= k == 2 || ch == KEY_RESIZE;
		}
		if (reply && !json_is_true(json_object_get(reply, "ok"))) {
			msg = json_string_value(
				json_object_get(json_object_get(reply, "error"), "message"));
			code = 1;
			break;
		}
		if (reply && redraw)
			resubscribe |= keep_selection(&a->ui, json_object_get(reply, "snapshot"));
		if (resubscribe && send_line(c->fd, watch_request(a)))
			gone = true;
		if (gone) {
			msg = "the collector closed the connection";
			code = 3;
			break;
		}
		if (redraw)
			draw(reply ? json_object_get(reply, "snapshot") : NULL, &a->ui, NULL);
	}
	endwin();
	if (msg)
		cli_err(CMD, 0, "%s", msg);
	json_decref(reply);
	return code;
}

int ctl_top(int argc, char **argv)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };
	struct top_conn c = { .fd = -1 };
	struct top_args a;
	const char *path = conn_socket_path();
	int code = parse(argc, argv, &a);

	if (code)
		return code;
	c.fd = conn_open(path, TOP_TIMEOUT_MS);
	if (c.fd < 0) {
		return cli_err(
			CMD, 3,
			"no collector at %s: %s (start benchmemd, or run under benchmem-run)", path,
			strerror(-c.fd));
	}
	if (a.once) {
		code = run_once(c.fd, &a);
		close(c.fd);
		return code;
	}
	if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
		close(c.fd);
		return cli_err(CMD, 2, "needs a terminal (use --once for scripts)");
	}
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (send_line(c.fd, watch_request(&a))) {
		close(c.fd);
		return cli_err(CMD, 3, "cannot send to the collector");
	}
	code = run_screen(&c, &a);
	free(c.buf);
	close(c.fd);
	return code;
}

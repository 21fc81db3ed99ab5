/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/results.c — builds the pytest-benchmark-shaped result document and writes it through
 * atomic_file; the only I/O is machine_info_read(), commit_info_read() and results_write(). */
#include "results.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>

#include "jsonutil.h"

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#endif

/* jansson integers are signed 64-bit; a byte count above INT64_MAX cannot occur, but clamp
 * rather than print a negative size. */
static json_int_t ji(uint64_t v)
{
	return v > INT64_MAX ? INT64_MAX : (json_int_t)v;
}

int results_headline(const struct bm_repeat *reps, size_t n, struct bm_repeat *out)
{
	size_t best = 0;

	if (!reps || !n || !out)
		return -EINVAL;
	for (size_t i = 1; i < n; i++)
		if (reps[i].peak_bytes < reps[best].peak_bytes)
			best = i;
	*out = reps[best];
	out->has_rss = true;
	out->aborted = false;
	for (size_t i = 0; i < n; i++) {
		out->aborted |= reps[i].aborted;
		if (!reps[i].has_rss)
			out->has_rss = false;
		else if (reps[i].rss_bytes < out->rss_bytes)
			out->rss_bytes = reps[i].rss_bytes;
	}
	if (!out->has_rss)
		out->rss_bytes = 0;
	return 0;
}

/* ---- stats: pytest_benchmark/stats.py, line for line ------------------------------------ */

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

/* statistics.median() of sorted @d[0..n). */
static double median(const double *d, size_t n)
{
	return n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
}

/* Quartiles as stats.py computes them: Wikipedia's method 3 for an odd count, method 2
 * (median of each half) for an even one. */
static void quartiles(const double *d, size_t n, double *q1, double *q3)
{
	size_t k = n / 4;

	if (n == 1) {
		*q1 = *q3 = d[0];
	} else if (n % 2 == 0) {
		*q1 = median(d, n / 2);
		*q3 = median(d + n / 2, n / 2);
	} else if (n % 4 == 1) {
		*q1 = 0.25 * d[k - 1] + 0.75 * d[k];
		*q3 = 0.75 * d[3 * k] + 0.25 * d[3 * k + 1];
	} else {
		*q1 = 0.75 * d[k] + 0.25 * d[k + 1];
		*q3 = 0.25 * d[3 * k + 1] + 0.75 * d[3 * k + 2];
	}
}

/* bisect_left / bisect_right over sorted @d. */
static size_t bisect(const double *d, size_t n, double x, bool right)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (right ? x < d[mid] : x <= d[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

static size_t count_outside(const double *d, size_t n, double lo, double hi)
{
	size_t c = 0;

	for (size_t i = 0; i < n; i++)
		c += d[i] < lo || d[i] > hi;
	return c;
}

/* Mean and sample stddev in long double: statistics.mean/stdev are exact (fractions), so
 * the wider type keeps us within an ulp of them. */
static void mean_stddev(const double *d, size_t n, double *mean, double *sd)
{
	long double sum = 0, m, ss = 0;

	for (size_t i = 0; i < n; i++)
		sum += d[i];
	m = sum / n;
	for (size_t i = 0; i < n; i++)
		ss += (d[i] - m) * (d[i] - m);
	*mean = (double)m;
	*sd = n > 1 ? (double)sqrtl(ss / (n - 1)) : 0;
}

static json_t *stats_pack(const double *data, const double *s, size_t n)
{
	double total = 0, mean, sd, q1, q3, iqr, lo, hi, ld, hd;
	size_t iqr_out, sd_out, pos;
	char outliers[48];

	for (size_t i = 0; i < n; i++) /* Python's sum(): left to right, in pass order */
		total += data[i];
	mean_stddev(data, n, &mean, &sd);
	quartiles(s, n, &q1, &q3);
	iqr = q3 - q1;
	lo = q1 - 1.5 * iqr;
	hi = q3 + 1.5 * iqr;
	ld = n == 1 ? s[0] : s[bisect(s, n, lo, false)];
	/* stats.py's hd15iqr is the first datum *past* the fence, or the last one. */
	pos = bisect(s, n, hi, true);
	hd = n == 1 ? s[0] : s[pos == n ? n - 1 : pos];
	iqr_out = count_outside(data, n, lo, hi);
	sd_out = count_outside(data, n, mean - sd, mean + sd);
	snprintf(outliers, sizeof(outliers), "%zu;%zu", sd_out, iqr_out);
	return json_pack("{s:f, s:f, s:f, s:f, s:I, s:f, s:f, s:f, s:f, s:I, s:I, s:s, s:f, s:f,"
			 " s:f, s:f, s:i}",
			 "min", s[0], "max", s[n - 1], "mean", mean, "stddev", sd, "rounds",
			 (json_int_t)n, "median", median(s, n), "iqr", iqr, "q1", q1, "q3", q3,
			 "iqr_outliers", (json_int_t)iqr_out, "stddev_outliers", (json_int_t)sd_out,
			 "outliers", outliers, "ld15iqr", ld, "hd15iqr", hd, "ops",
			 mean ? 1 / mean : 0.0, "total", total, "iterations", 1);
}

json_t *results_stats(const uint64_t *wall_ns, size_t n)
{
	double *data, *sorted;
	json_t *st = NULL;

	if (!wall_ns || !n) {
		errno = EINVAL;
		return NULL;
	}
	data = calloc(2 * n, sizeof(*data));
	if (!data)
		return NULL;
	sorted = data + n;
	for (size_t i = 0; i < n; i++) /* 0 ns would make mean 0: normalize_stats needs it > 0 */
		data[i] = sorted[i] = (double)(wall_ns[i] ? wall_ns[i] : 1) / 1e9;
	qsort(sorted, n, sizeof(*sorted), cmp_double);
	st = stats_pack(data, sorted, n);
	free(data);
	if (!st)
		errno = ENOMEM;
	return st;
}

/* ---- the parameter id -------------------------------------------------------------------- */

/* Python's repr(float): the shortest round-trip digits, fixed notation for exponents in
 * [-4, 16), otherwise d.ddde+XX. */
static void float_repr(double v, char *out, size_t len)
{
	char buf[40], digits[24];
	int exp, nd = 0, p = 1;
	const char *c;

	for (; p <= 17; p++) {
		snprintf(buf, sizeof(buf), "%.*e", p - 1, v);
		if (strtod(buf, NULL) == v)
			break;
	}
	for (c = buf + (*buf == '-'); *c != 'e'; c++)
		if (*c != '.')
			digits[nd++] = *c;
	exp = atoi(c + 1);
	while (nd > 1 && digits[nd - 1] == '0')
		nd--;
	digits[nd] = '\0';
	if (exp >= 16 || exp < -4)
		snprintf(out, len, "%s%c%s%se%c%02d", signbit(v) ? "-" : "", digits[0],
			 nd > 1 ? "." : "", digits + 1, exp < 0 ? '-' : '+', abs(exp));
	else if (exp < 0)
		snprintf(out, len, "%s0.%.*s%s", signbit(v) ? "-" : "", -exp - 1, "0000", digits);
	else if (nd <= exp + 1)
		snprintf(out, len, "%s%s%.*s.0", signbit(v) ? "-" : "", digits, exp + 1 - nd,
			 "0000000000000000");
	else
		snprintf(out, len, "%s%.*s.%s", signbit(v) ? "-" : "", exp + 1, digits,
			 digits + exp + 1);
}

/* One value's id as pytest's _idval() makes it; @buf holds numbers. */
static const char *param_token(const char *key, const json_t *v, char *buf, size_t len)
{
	switch (json_typeof(v)) {
	case JSON_STRING:
		return json_string_value(v);
	case JSON_INTEGER:
		snprintf(buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
		return buf;
	case JSON_REAL:
		float_repr(json_real_value(v), buf, len);
		return buf;
	case JSON_TRUE:
		return "True";
	case JSON_FALSE:
		return "False";
	case JSON_NULL:
		return "None";
	default: /* pytest falls back to argname + index; we have no index */
		return key;
	}
}

char *results_param_id(const json_t *params)
{
	const char *key, *tok;
	char *id = NULL, *next;
	char num[48];
	json_t *v;

	errno = 0;
	if (!json_is_object(params) || !json_object_size(params))
		return NULL;
	/* jansson iterates objects in insertion order: the order the client sent. */
	json_object_foreach((json_t *)params, key, v)
	{
		tok = param_token(key, v, num, sizeof(num));
		if (asprintf(&next, "%s%s%s", id ? id : "", id ? "-" : "", tok) < 0) {
			free(id);
			errno = ENOMEM;
			return NULL;
		}
		free(id);
		id = next;
	}
	return id;
}

/* ---- machine_info and commit_info: the I/O, kept small ------------------------------------ */

/* Copies the value of the first "@key<tabs>: value" line of /proc/cpuinfo into @out. */
static void cpuinfo_field(FILE *f, const char *key, char *out, size_t len)
{
	char line[512];
	size_t klen = strlen(key);

	rewind(f);
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (strncmp(line, key, klen) || !colon || (line[klen] != '\t' && line[klen] != ' '))
			continue;
		colon += 1 + (colon[1] == ' ');
		colon[strcspn(colon, "\n")] = '\0';
		snprintf(out, len, "%s", colon);
		return;
	}
}

static json_t *machine_info_read(void)
{
	char brand[256] = "", vendor[64] = "";
	struct utsname u;
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	FILE *f;

	if (uname(&u))
		return NULL;
	f = fopen("/proc/cpuinfo", "re");
	if (f) {
		cpuinfo_field(f, "model name", brand, sizeof(brand));
		cpuinfo_field(f, "vendor_id", vendor, sizeof(vendor));
		fclose(f);
	}
	return json_pack("{s:s, s:s, s:s, s:s, s:s, s:s, s:s, s:[], s:s, s:s,"
			 " s:{s:s, s:s, s:s, s:i, s:I}}",
			 "node", u.nodename, "processor", u.machine, "machine", u.machine,
			 "python_compiler", "", "python_implementation", "",
			 "python_implementation_version", "", "python_version", "", "python_build",
			 "release", u.release, "system", u.sysname, "cpu", "brand_raw", brand,
			 "vendor_id_raw", vendor, "arch_string_raw", u.machine, "bits",
			 (int)(sizeof(void *) * 8), "count", (json_int_t)(cpus > 0 ? cpus : 1));
}

/* @out = @name if absolute, else @dir/@name; PATH_MAX bytes. 0 or -ENAMETOOLONG. */
static int path_join(char *out, const char *dir, const char *name)
{
	int n = *name == '/' ? snprintf(out, PATH_MAX, "%s", name)
			     : snprintf(out, PATH_MAX, "%s/%s", dir, name);

	return n < 0 || n >= PATH_MAX ? -ENAMETOOLONG : 0;
}

/* Reads the first line of @dir/@name into @out (newline stripped). 0 or -errno. */
static int read_line(const char *dir, const char *name, char *out, size_t len)
{
	char path[PATH_MAX];
	int err;
	FILE *f;

	err = path_join(path, dir, name);
	if (err)
		return err;
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(out, (int)len, f))
		err = -EIO;
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return err;
}

/* Finds the repository above @start: @top gets the work tree, @gitdir the git directory
 * (following a "gitdir:" file), @common the directory holding refs and objects. */
static int find_git(const char *start, char *top, char *gitdir, char *common)
{
	char line[PATH_MAX];
	struct stat st;

	if (!realpath(start, top))
		return -errno;
	while (path_join(gitdir, top, ".git") || stat(gitdir, &st)) {
		if (!strcmp(top, "/"))
			return -ENOENT;
		*strrchr(top, '/') = '\0';
		if (!*top)
			strcpy(top, "/");
	}
	if (S_ISREG(st.st_mode) &&
	    (read_line(top, ".git", line, sizeof(line)) || strncmp(line, "gitdir: ", 8) ||
	     path_join(gitdir, top, line + 8)))
		return -ENOENT;
	/* A linked worktree keeps refs and objects in the main repository's git dir. */
	if (read_line(gitdir, "commondir", line, sizeof(line)) || path_join(common, gitdir, line))
		strcpy(common, gitdir);
	return 0;
}

/* Resolves @ref ("refs/heads/main") to a 40-hex id: the loose ref, then packed-refs. */
static int resolve_ref(const char *common, const char *ref, char *id)
{
	char line[PATH_MAX + 64], path[PATH_MAX];
	size_t rlen = strlen(ref);
	int err;
	FILE *f;

	if (!read_line(common, ref, line, sizeof(line)) && strlen(line) >= 40) {
		memcpy(id, line, 40);
		id[40] = '\0';
		return 0;
	}
	err = path_join(path, common, "packed-refs");
	f = err ? NULL : fopen(path, "re");
	if (!f)
		return err ? err : -errno;
	err = -ENOENT;
	while (err && fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		if (strlen(line) == 41 + rlen && line[40] == ' ' && !strcmp(line + 41, ref)) {
			memcpy(id, line, 40);
			id[40] = '\0';
			err = 0;
		}
	}
	fclose(f);
	return err;
}

/* Inflates the head of loose object @id (enough for a commit's header lines) into @out. */
static int read_loose_object(const char *common, const char *id, char *out, size_t len)
{
	unsigned char in[8192];
	char path[PATH_MAX];
	z_stream zs = { 0 };
	size_t got;
	int rc;
	FILE *f;

	if (snprintf(path, sizeof(path), "%s/objects/%.2s/%s", common, id, id + 2) >= PATH_MAX)
		return -ENAMETOOLONG;
	f = fopen(path, "re");
	if (!f)
		return -errno; /* packed: no times, by design (no pack reader here) */
	got = fread(in, 1, sizeof(in), f);
	fclose(f);
	if (inflateInit(&zs) != Z_OK)
		return -ENOMEM;
	zs.next_in = in;
	zs.avail_in = (uInt)got;
	zs.next_out = (unsigned char *)out;
	zs.avail_out = (uInt)(len - 1);
	rc = inflate(&zs, Z_SYNC_FLUSH);
	out[len - 1 - zs.avail_out] = '\0';
	inflateEnd(&zs);
	return rc == Z_OK || rc == Z_STREAM_END || rc == Z_BUF_ERROR ? 0 : -EIO;
}

/* "author A <a@b> 1700000000 +0100" in commit text @obj → "2023-11-14T23:13:20+01:00". */
static int signature_time(const char *obj, size_t len, const char *who, char *out, size_t olen)
{
	const char *line = memchr(obj, '\0', len); /* skip the "commit <size>" header */
	size_t wlen = strlen(who);
	const char *nl, *gt;
	long long t;
	int tz, off;
	struct tm tm;
	time_t tt;

	/* Header lines run up to the first empty line; the message follows. */
	for (line = line ? line + 1 : NULL; line && *line && *line != '\n';
	     line = nl ? nl + 1 : NULL) {
		nl = strchr(line, '\n');
		if (strncmp(line, who, wlen) || line[wlen] != ' ')
			continue;
		gt = memchr(line, '>', nl ? (size_t)(nl - line) : strlen(line));
		if (!gt || sscanf(gt + 1, " %lld %d", &t, &tz) != 2)
			return -EINVAL;
		off = (tz / 100 * 60 + tz % 100) * 60;
		tt = (time_t)(t + off);
		if (!gmtime_r(&tt, &tm))
			return -EINVAL;
		strftime(out, olen, "%Y-%m-%dT%H:%M:%S", &tm);
		snprintf(out + strlen(out), olen - strlen(out), "%c%02d:%02d", tz < 0 ? '-' : '+',
			 abs(tz) / 100, abs(tz) % 100);
		return 0;
	}
	return -ENOENT;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash ? slash + 1 : path;
}

/* pytest-benchmark's commit_info, without a git subprocess: HEAD and refs are read directly,
 * the times only from a loose commit object. "dirty" would need an index scan: null. */
static json_t *commit_info_read(const char *dir)
{
	char top[PATH_MAX], gitdir[PATH_MAX], common[PATH_MAX], head[PATH_MAX], cwd[PATH_MAX];
	char id[41] = "", obj[2048] = "", ctime_s[40] = "", atime_s[40] = "";
	const char *branch = NULL;
	bool have_id = false;

	if (!dir)
		dir = getcwd(cwd, sizeof(cwd));
	if (!dir || find_git(dir, top, gitdir, common) ||
	    read_line(gitdir, "HEAD", head, sizeof(head)))
		return json_pack("{s:n, s:n, s:n, s:b, s:s, s:n}", "id", "time", "author_time",
				 "dirty", 0, "project", dir ? base_name(dir) : "", "branch");
	if (!strncmp(head, "ref: ", 5)) {
		branch = head + 5 + (strncmp(head + 5, "refs/heads/", 11) ? 0 : 11);
		have_id = !resolve_ref(common, head + 5, id);
	} else if (strlen(head) >= 40) {
		branch = "(detached head)";
		memcpy(id, head, 40);
		have_id = true;
	}
	if (have_id && !read_loose_object(common, id, obj, sizeof(obj))) {
		signature_time(obj, sizeof(obj), "committer", ctime_s, sizeof(ctime_s));
		signature_time(obj, sizeof(obj), "author", atime_s, sizeof(atime_s));
	}
	return json_pack("{s:s?, s:s?, s:s?, s:n, s:s, s:s?}", "id", have_id ? id : NULL, "time",
			 *ctime_s ? ctime_s : NULL, "author_time", *atime_s ? atime_s : NULL,
			 "dirty", "project", base_name(top), "branch", branch);
}

/* ---- the document -------------------------------------------------------------------------- */

static const struct {
	const char *key;
	size_t off;
} series_fields[] = {
	{ "peak_bytes", offsetof(struct bm_repeat, peak_bytes) },
	{ "total_bytes", offsetof(struct bm_repeat, total_bytes) },
	{ "allocations", offsetof(struct bm_repeat, allocations) },
	{ "rss_bytes", offsetof(struct bm_repeat, rss_bytes) },
};

static uint64_t field_at(const struct bm_repeat *r, size_t off)
{
	return *(const uint64_t *)((const char *)r + off);
}

/* extra_info.benchmem: equal-length per-pass lists; rss_bytes only when every pass has it. */
static json_t *series_lists(const struct bm_repeat *reps, size_t n, bool all_rss)
{
	json_t *o = json_object(), *a;

	for (size_t f = 0; o && f < ARRAY_SIZE(series_fields); f++) {
		if (!strcmp(series_fields[f].key, "rss_bytes") && !all_rss)
			continue;
		a = json_array();
		for (size_t i = 0; a && i < n; i++)
			if (json_array_append_new(
				    a, json_integer(ji(field_at(&reps[i], series_fields[f].off)))))
				break;
		if (!a || json_array_size(a) != n ||
		    json_object_set_new(o, series_fields[f].key, a)) {
			json_decref(o);
			return NULL;
		}
	}
	return o;
}

static json_t *series_meta(const struct bm_series *s, const struct bm_run_meta *m,
			   const struct bm_repeat *h)
{
	json_t *meta, *aborted = json_array(), *head;

	for (size_t i = 0; aborted && i < s->nr_reps; i++)
		json_array_append_new(aborted, json_boolean(s->reps[i].aborted));
	head = json_pack("{s:I, s:I, s:I}", "peak_bytes", ji(h->peak_bytes), "total_bytes",
			 ji(h->total_bytes), "allocations", ji(h->allocations));
	if (head && h->has_rss)
		json_object_set_new(head, "rss_bytes", json_integer(ji(h->rss_bytes)));
	meta = json_pack("{s:I, s:o, s:s?, s:o}", "lost_events", ji(m->lost_events), "aborted",
			 aborted, "python_allocator", m->python_allocator, "headline", head);
	if (meta && m->probe && json_object_set_new(meta, "probe", json_string(m->probe))) {
		json_decref(meta);
		return NULL;
	}
	if (meta && s->profile && json_object_set_new(meta, "profile", json_string(s->profile))) {
		json_decref(meta);
		return NULL;
	}
	return meta;
}

static json_t *series_extra(const struct bm_series *s, const struct bm_run_meta *m)
{
	struct bm_repeat h;
	json_t *lists, *meta;

	results_headline(s->reps, s->nr_reps, &h);
	lists = series_lists(s->reps, s->nr_reps, h.has_rss);
	meta = series_meta(s, m, &h);
	if (!lists || !meta) {
		json_decref(lists);
		json_decref(meta);
		return NULL;
	}
	return json_pack("{s:o, s:o}", "benchmem", lists, "benchmem_meta", meta);
}

static json_t *series_stats(const struct bm_series *s)
{
	uint64_t *walls = calloc(s->nr_reps, sizeof(*walls));
	json_t *st;

	if (!walls)
		return NULL;
	for (size_t i = 0; i < s->nr_reps; i++)
		walls[i] = s->reps[i].wall_ns;
	st = results_stats(walls, s->nr_reps);
	free(walls);
	return st;
}

static json_t *series_entry(const struct bm_series *s, const struct bm_run_meta *m)
{
	json_t *stats = NULL, *extra = NULL, *params = NULL, *e = NULL;
	char *param = NULL;

	if (!s->name || !s->reps || !s->nr_reps || (s->params && !json_is_object(s->params))) {
		errno = EINVAL;
		return NULL;
	}
	stats = series_stats(s);
	extra = series_extra(s, m);
	params = s->params ? json_deep_copy(s->params) : NULL;
	param = results_param_id(s->params);
	if (!stats || !extra || (s->params && !params) || (!param && errno))
		goto out;
	e = json_pack("{s:s?, s:s, s:s, s:O?, s:s?, s:{s:b, s:s, s:i, s:f, s:f, s:b}, s:O, s:O}",
		      "group", s->group, "name", s->name, "fullname",
		      s->fullname ? s->fullname : s->name, "params", params, "param", param,
		      "options", "disable_gc", 0, "timer", "clock_gettime", "min_rounds", 1,
		      "max_time", 0.0, "min_time", 0.0, "warmup", 0, "stats", stats, "extra_info",
		      extra);
out:
	json_decref(stats);
	json_decref(extra);
	json_decref(params);
	free(param);
	if (!e && !errno)
		errno = ENOMEM;
	return e;
}

/* pytest-benchmark writes datetime.now(timezone.utc).isoformat(). */
static void iso_utc(int64_t unix_ns, char *out, size_t len)
{
	time_t sec = (time_t)(unix_ns / 1000000000);
	struct tm tm;

	gmtime_r(&sec, &tm);
	strftime(out, len, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out + strlen(out), len - strlen(out), ".%06d+00:00",
		 (int)(unix_ns % 1000000000 / 1000));
}

static json_t *benchmarks_array(const struct bm_series *s, size_t n, const struct bm_run_meta *m)
{
	json_t *arr = json_array(), *e;

	if (!arr)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		e = series_entry(&s[i], m);
		if (!e || json_array_append_new(arr, e)) {
			json_decref(arr);
			return NULL;
		}
	}
	return arr;
}

json_t *results_build(const struct bm_series *s, size_t n, const struct bm_run_meta *m)
{
	json_t *machine = NULL, *commit = NULL, *bms = NULL, *doc = NULL;
	char when[64];

	if (!m || (n && !s) || m->start_unix_ns < 0) {
		errno = EINVAL;
		return NULL;
	}
	errno = 0;
	bms = benchmarks_array(s, n, m);
	if (!bms)
		goto out;
	machine = machine_info_read();
	commit = commit_info_read(m->repo_dir);
	if (!machine || !commit)
		goto out;
	iso_utc(m->start_unix_ns, when, sizeof(when));
	doc = json_pack("{s:O, s:O, s:O, s:s, s:s, s:{s:s?, s:I, s:s?, s:s?}}", "machine_info",
			machine, "commit_info", commit, "benchmarks", bms, "datetime", when,
			"version", m->version ? m->version : "benchmemd", "benchmem", "command",
			m->command, "lost_events", ji(m->lost_events), "attach_mode",
			m->attach_mode, "python_allocator", m->python_allocator);
out:
	json_decref(machine);
	json_decref(commit);
	json_decref(bms);
	if (!doc && !errno)
		errno = ENOMEM;
	return doc;
}

int results_write(const json_t *doc, const char *path)
{
	if (!doc || !path)
		return -EINVAL;
	return jsonutil_write_file(doc, path);
}

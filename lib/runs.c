// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/runs.c — reads pytest-benchmark result files and storage directories into runs. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "jsonutil.h"
#include "runs.h"

static const char *const series_keys[] = { "peak_bytes", "total_bytes", "allocations",
					   "rss_bytes" };

static void entry_free(struct run_entry *e)
{
	free((void *)e->series.peak_bytes);
	free((void *)e->series.total_bytes);
	free((void *)e->series.allocations);
	free((void *)e->series.rss_bytes);
}

void run__free(struct run *run)
{
	if (!run)
		return;
	for (size_t i = 0; i < run->nr_entries; i++)
		entry_free(&run->entries[i]);
	free(run->entries);
	json_decref(run->doc);
	free(run->path);
	free(run->label);
	free(run);
}

const struct run_entry *run__find(const struct run *run, const char *fullname)
{
	for (size_t i = 0; i < run->nr_entries; i++) {
		if (!strcmp(run->entries[i].fullname, fullname))
			return &run->entries[i];
	}
	return NULL;
}

/* stats.{min,...}: all five numeric, else the entry has no time column. */
static void read_time(struct run_entry *e, const json_t *bm)
{
	const json_t *stats = json_object_get(bm, "stats");

	e->has_time = json_is_object(stats);
	for (int i = 0; e->has_time && i < CMP_NR_STATS; i++) {
		const json_t *v = json_object_get(stats, cmp_stat_name((enum cmp_stat)i));

		if (!json_is_number(v))
			e->has_time = false;
		else
			e->time_s[i] = json_number_value(v);
	}
}

/* Reads the four series of extra_info.benchmem; a reason (without the file prefix) in @why. */
static int read_series(struct run_entry *e, const json_t *blob, char *why, size_t len)
{
	uint64_t *arr[4] = { NULL };
	size_t n[4] = { 0 };
	int ret;

	if (!json_is_object(blob)) {
		snprintf(why, len, "extra_info.benchmem is not an object");
		return -EINVAL;
	}
	for (int k = 0; k < 4; k++) {
		ret = jsonutil_get_u64_array(blob, series_keys[k], &arr[k], &n[k]);
		if (ret == -ENOENT && k == 3)
			break;
		if (ret == -ENOENT) {
			snprintf(why, len, "extra_info.benchmem has no %s list", series_keys[k]);
			goto fail;
		}
		if (ret) {
			snprintf(why, len,
				 "extra_info.benchmem.%s is not a list of non-negative integers "
				 "(pre-0.3 pytest-benchmem blobs are not supported)",
				 series_keys[k]);
			goto fail;
		}
		if (k && n[k] != n[0]) {
			snprintf(why, len,
				 "extra_info.benchmem.peak_bytes has %zu values, %s has %zu", n[0],
				 k == 1 ? "total_bytes" : series_keys[k], n[k]);
			ret = -EINVAL;
			goto fail;
		}
	}
	if (!n[0]) {
		snprintf(why, len, "extra_info.benchmem.peak_bytes is empty (no passes)");
		ret = -EINVAL;
		goto fail;
	}
	e->series = (struct cmp_series){ arr[0], arr[1], arr[2], arr[3], n[0] };
	e->has_mem = true;
	return cmp_headline_of(&e->series, &e->headline);
fail:
	for (int k = 0; k < 4; k++)
		free(arr[k]);
	return ret ? ret : -EINVAL;
}

const char *run__short_id(const char *id)
{
	const char *br = strchr(id, '['), *p = id, *q;

	while ((q = strstr(p, "::")) && (!br || q < br))
		p = q + 2;
	return p;
}

/* Fills @e from benchmarks[@idx]; a reason (without the file prefix) in @why. */
static int read_entry(struct run_entry *e, const json_t *bm, size_t idx, char *why, size_t len)
{
	const json_t *extra, *meta, *v;
	char inner[256];
	int ret;

	if (!json_is_object(bm)) {
		snprintf(why, len, "benchmark %zu: not an object", idx + 1);
		return -EINVAL;
	}
	if (jsonutil_get_str(bm, "fullname", &e->fullname) || !*e->fullname) {
		snprintf(why, len, "benchmark %zu: no \"fullname\" string", idx + 1);
		return -EINVAL;
	}
	if (jsonutil_get_str(bm, "name", &e->name))
		e->name = run__short_id(e->fullname);
	v = json_object_get(bm, "group");
	e->group = json_is_string(v) ? json_string_value(v) : NULL;
	v = json_object_get(bm, "params");
	e->params = json_is_object(v) ? v : NULL;
	read_time(e, bm);
	extra = json_object_get(bm, "extra_info");
	if (!json_is_object(extra))
		return 0;
	meta = json_object_get(extra, "benchmem_meta");
	v = json_is_object(meta) ? json_object_get(meta, "profile") : NULL;
	e->profile = json_is_string(v) ? json_string_value(v) : NULL;
	if (!json_object_get(extra, "benchmem"))
		return 0;
	ret = read_series(e, json_object_get(extra, "benchmem"), inner, sizeof(inner));
	if (ret)
		snprintf(why, len, "benchmark %zu (%s): %s", idx + 1, e->name, inner);
	return ret;
}

static char *label_of(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t n;

	base = base ? base + 1 : path;
	n = strlen(base);
	if (n > 5 && !strcmp(base + n - 5, ".json"))
		n -= 5;
	return strndup(base, n);
}

static int read_entries(struct run *run, char *why, size_t len)
{
	const json_t *list =
		json_is_object(run->doc) ? json_object_get(run->doc, "benchmarks") : NULL;
	size_t n;
	int ret;

	if (!json_is_array(list)) {
		snprintf(why, len, "not a pytest-benchmark file (no \"benchmarks\" list)");
		return -EINVAL;
	}
	n = json_array_size(list);
	run->entries = calloc(n ? n : 1, sizeof(*run->entries));
	if (!run->entries) {
		snprintf(why, len, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		struct run_entry *e = &run->entries[i];

		ret = read_entry(e, json_array_get(list, i), i, why, len);
		run->nr_entries = i + 1; /* so run__free frees a half-read entry */
		if (ret)
			return ret;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(run->entries[j].fullname, e->fullname))
				continue;
			snprintf(why, len,
				 "benchmark %zu: duplicate fullname %s (also benchmark %zu)", i + 1,
				 e->fullname, j + 1);
			return -EINVAL;
		}
	}
	return 0;
}

/* A run named @path and labelled @label (taken, may be NULL on ENOMEM) over @doc (a reference,
 * taken), or over the file @path when @doc is NULL. */
static struct run *run_new(const char *path, char *label, json_t *doc, char *err, size_t errlen)
{
	struct run *run = calloc(1, sizeof(*run));
	char why[384];
	int ret = -ENOMEM;

	if (!run || !(run->path = strdup(path)) || !(run->label = label)) {
		free(label);
		json_decref(doc);
		snprintf(why, sizeof(why), "out of memory");
		goto fail;
	}
	run->doc = doc ? doc : jsonutil_load_file(path, RUNS_MAX_FILE_BYTES, why, sizeof(why));
	if (!run->doc) {
		ret = -errno;
		goto fail;
	}
	ret = read_entries(run, why, sizeof(why));
	if (ret)
		goto fail;
	return run;
fail:
	snprintf(err, errlen, "%s: %s", path, why);
	run__free(run);
	errno = -ret;
	return NULL;
}

struct run *run__load_file(const char *path, char *err, size_t errlen)
{
	return run_new(path, label_of(path), NULL, err, errlen);
}

struct run *run__from_doc(json_t *doc, const char *label, char *err, size_t errlen)
{
	return run_new(label, strdup(label), json_incref(doc), err, errlen);
}

static int push_run(struct runs *rs, struct run *run)
{
	struct run **v = realloc(rs->v, (rs->nr + 1) * sizeof(*v));

	if (!v)
		return -ENOMEM;
	rs->v = v;
	rs->v[rs->nr++] = run;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strverscmp(*(char *const *)a, *(char *const *)b);
}

/* Collects "@dir/NAME" for each NAME matching @want_dirs (subdirectories) or *.json files. */
static int list_dir(const char *dir, bool want_dirs, char ***out, size_t *nr)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	struct stat st;
	char *p;
	int ret = 0;

	*out = NULL;
	*nr = 0;
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);

		if (de->d_name[0] == '.' && !want_dirs)
			continue;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		if (!want_dirs && (n < 6 || strcmp(de->d_name + n - 5, ".json")))
			continue;
		if (asprintf(&p, "%s/%s", dir, de->d_name) < 0) {
			ret = -ENOMEM;
			break;
		}
		if (stat(p, &st) || (want_dirs ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode)) ||
		    *nr >= RUNS_MAX_FILES) {
			ret = *nr >= RUNS_MAX_FILES ? -E2BIG : 0;
			free(p);
			if (ret)
				break;
			continue;
		}
		char **v = realloc(*out, (*nr + 1) * sizeof(*v));

		if (!v) {
			free(p);
			ret = -ENOMEM;
			break;
		}
		*out = v;
		(*out)[(*nr)++] = p;
	}
	closedir(d);
	if (*nr)
		qsort(*out, *nr, sizeof(**out), cmp_names);
	return ret;
}

static void free_names(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

/* The *.json files of @dir, or of its one machine subdirectory that holds any. */
static int storage_files(const char *dir, char ***files, size_t *nr, char *err, size_t errlen)
{
	char **subs = NULL, **found;
	size_t nsubs = 0, nfound;
	int ret = list_dir(dir, false, files, nr);

	if (ret || *nr)
		goto out;
	ret = list_dir(dir, true, &subs, &nsubs);
	for (size_t i = 0; !ret && i < nsubs; i++) {
		ret = list_dir(subs[i], false, &found, &nfound);
		if (ret || !nfound) {
			free_names(found, nfound);
			continue;
		}
		if (*nr) {
			snprintf(err, errlen, "%s: result files in both %s and %s; name one", dir,
				 (*files)[0], found[0]);
			free_names(found, nfound);
			ret = -EINVAL;
			break;
		}
		*files = found;
		*nr = nfound;
	}
	free_names(subs, nsubs);
	if (!ret && !*nr) {
		snprintf(err, errlen, "%s: no result files (*.json) in this directory", dir);
		ret = -ENOENT;
	}
out:
	if (ret == -E2BIG)
		snprintf(err, errlen, "%s: more than %d result files", dir, RUNS_MAX_FILES);
	else if (ret && ret != -EINVAL && ret != -ENOENT)
		snprintf(err, errlen, "%s: %s", dir, strerror(-ret));
	return ret;
}

int runs__load(struct runs *rs, const char *path, char *err, size_t errlen)
{
	char **files = NULL;
	struct run *run;
	size_t nr = 0;
	struct stat st;
	int ret = 0;

	if (stat(path, &st)) {
		ret = -errno;
		snprintf(err, errlen, "%s: %s", path, strerror(-ret));
		return ret;
	}
	if (!S_ISDIR(st.st_mode)) {
		run = run__load_file(path, err, errlen);
		if (!run)
			return -errno;
		ret = push_run(rs, run);
		if (ret)
			run__free(run);
		return ret;
	}
	ret = storage_files(path, &files, &nr, err, errlen);
	for (size_t i = 0; !ret && i < nr; i++) {
		run = run__load_file(files[i], err, errlen);
		if (!run) {
			ret = -errno;
			break;
		}
		ret = push_run(rs, run);
		if (ret)
			run__free(run);
	}
	free_names(files, nr);
	return ret;
}

void runs__clear(struct runs *rs)
{
	if (!rs)
		return;
	for (size_t i = 0; i < rs->nr; i++)
		run__free(rs->v[i]);
	free(rs->v);
	rs->v = NULL;
	rs->nr = 0;
}

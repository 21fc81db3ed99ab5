// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/context.c — commit_info and machine_info: collected by the client (git runs as the user,
 * in the user's directory), checked and applied by the daemon. */
#include "context.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bm_limits.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* ---- machine_info ---------------------------------------------------------------------------- */

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

json_t *context_machine_info(void)
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

/* ---- commit_info: `git` in the user's directory ---------------------------------------------- */

/* Runs "git -C @dir @args..." with stdin and stderr on /dev/null and puts its first @len - 1
 * bytes of stdout, without the trailing newline, into @out. Returns git's exit status (0 on
 * success), or -errno when it could not run. */
static int git(const char *dir, char *out, size_t len, const char *const *args)
{
	const char *argv[16] = { "git", "-C", dir, "--no-pager" };
	int pfd[2], status, nul;
	size_t n = 0, argc = 4;
	ssize_t r;
	pid_t pid;

	for (; *args && argc < ARRAY_SIZE(argv) - 1; args++)
		argv[argc++] = *args;
	argv[argc] = NULL;
	if (pipe2(pfd, O_CLOEXEC))
		return -errno;
	pid = fork();
	if (pid < 0) {
		close(pfd[0]);
		close(pfd[1]);
		return -errno;
	}
	if (!pid) {
		nul = open("/dev/null", O_RDWR | O_CLOEXEC);
		if (nul < 0 || dup2(nul, 0) < 0 || dup2(pfd[1], 1) < 0 || dup2(nul, 2) < 0)
			_exit(127);
		execvp("git", (char *const *)argv);
		_exit(127);
	}
	close(pfd[1]);
	while ((r = read(pfd[0], out + n, len - 1 - n)) > 0 || (r < 0 && errno == EINTR))
		n += r > 0 ? (size_t)r : 0;
	/* drain what does not fit so git never blocks on a full pipe */
	for (char sink[512]; read(pfd[0], sink, sizeof(sink)) > 0;)
		;
	close(pfd[0]);
	out[n] = '\0';
	while (n && out[n - 1] == '\n')
		out[--n] = '\0';
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return -errno;
	}
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128;
}

static const char *base_name(const char *path)
{
	const char *slash = strrchr(path, '/');

	return slash && slash[1] ? slash + 1 : path;
}

json_t *context_commit_info(const char *dir)
{
	static const char *const top_args[] = { "rev-parse", "--show-toplevel", NULL };
	static const char *const log_args[] = { "log", "-1", "--format=%H%n%cI%n%aI", NULL };
	static const char *const branch_args[] = { "rev-parse", "--abbrev-ref", "HEAD", NULL };
	static const char *const dirty_args[] = { "status", "--porcelain", "--untracked-files=no",
						  NULL };
	char cwd[PATH_MAX], top[PATH_MAX], log[256], branch[256], dirty[2];
	char *ctime_s = NULL, *atime_s = NULL;
	bool in_repo;

	if (!dir)
		dir = getcwd(cwd, sizeof(cwd)) ? cwd : ".";
	in_repo = !git(dir, top, sizeof(top), top_args);
	if (!in_repo || git(dir, log, sizeof(log), log_args) || strlen(log) < 40)
		return json_pack("{s:n, s:n, s:n, s:n, s:s, s:n}", "id", "time", "author_time",
				 "dirty", "project", base_name(in_repo ? top : dir), "branch");
	ctime_s = strchr(log, '\n');
	if (ctime_s) {
		*ctime_s++ = '\0';
		atime_s = strchr(ctime_s, '\n');
		if (atime_s)
			*atime_s++ = '\0';
	}
	if (git(dir, branch, sizeof(branch), branch_args) || !*branch)
		branch[0] = '\0';
	else if (!strcmp(branch, "HEAD"))
		snprintf(branch, sizeof(branch), "(detached head)");
	/* one byte of output is enough to know a tracked file changed */
	if (git(dir, dirty, sizeof(dirty), dirty_args))
		dirty[0] = '?';
	return json_pack("{s:s, s:s?, s:s?, s:o, s:s, s:s?}", "id", log, "time", ctime_s,
			 "author_time", atime_s, "dirty",
			 dirty[0] == '?' ? json_null() : json_boolean(dirty[0] != '\0'), "project",
			 base_name(top), "branch", *branch ? branch : NULL);
}

json_t *context_collect(const char *dir)
{
	return json_pack("{s:o?, s:o?}", "commit_info", context_commit_info(dir), "machine_info",
			 context_machine_info());
}

/* ---- the daemon's side: check and apply --------------------------------------------------- */

enum kind { K_STR, K_STR_NULL, K_BOOL_NULL, K_STR_LIST, K_OBJECT };

struct member {
	const char *key;
	enum kind kind;
};

static const struct member commit_members[] = {
	{ "id", K_STR_NULL },	  { "time", K_STR_NULL },    { "author_time", K_STR_NULL },
	{ "dirty", K_BOOL_NULL }, { "project", K_STR_NULL }, { "branch", K_STR_NULL },
};

static const struct member machine_members[] = {
	{ "node", K_STR },
	{ "processor", K_STR },
	{ "machine", K_STR },
	{ "python_compiler", K_STR },
	{ "python_implementation", K_STR },
	{ "python_implementation_version", K_STR },
	{ "python_version", K_STR },
	{ "python_build", K_STR_LIST },
	{ "release", K_STR },
	{ "system", K_STR },
	{ "cpu", K_OBJECT },
};

static bool kind_ok(const json_t *v, enum kind k)
{
	size_t i;
	json_t *x;

	switch (k) {
	case K_STR:
		return json_is_string(v);
	case K_STR_NULL:
		return json_is_string(v) || json_is_null(v);
	case K_BOOL_NULL:
		return json_is_boolean(v) || json_is_null(v);
	case K_STR_LIST:
		json_array_foreach(v, i, x) if (!json_is_string(x)) return false;
		return json_is_array(v);
	case K_OBJECT:
		return json_is_object(v);
	}
	return false;
}

static int check_part(const json_t *ctx, const char *part, const struct member *m, size_t nm,
		      char *why, size_t len)
{
	const json_t *obj = json_object_get(ctx, part), *v;
	const char *key;
	size_t i;

	if (!obj)
		return 0;
	if (!json_is_object(obj)) {
		snprintf(why, len, "\"context.%s\" must be an object", part);
		return -EINVAL;
	}
	json_object_foreach((json_t *)obj, key, v)
	{
		for (i = 0; i < nm && strcmp(key, m[i].key); i++)
			;
		if (i == nm) {
			snprintf(why, len, "\"context.%s\" has an unknown member \"%.64s\"", part,
				 key);
			return -EINVAL;
		}
		if (!kind_ok(v, m[i].kind)) {
			snprintf(why, len, "\"context.%s.%s\" has the wrong type", part, key);
			return -EINVAL;
		}
	}
	return 0;
}

int context_check(const json_t *ctx, char *why, size_t len)
{
	const char *key;
	size_t size;
	json_t *v;

	if (!json_is_object(ctx)) {
		snprintf(why, len, "\"context\" must be an object");
		return -EINVAL;
	}
	json_object_foreach((json_t *)ctx, key, v)
	{
		if (strcmp(key, "commit_info") && strcmp(key, "machine_info")) {
			snprintf(why, len,
				 "\"context\" takes only commit_info and machine_info, not "
				 "\"%.64s\"",
				 key);
			return -EINVAL;
		}
	}
	size = json_dumpb(ctx, NULL, 0, JSON_COMPACT);
	if (size > BM_CONTEXT_MAX) {
		snprintf(why, len, "\"context\" is larger than %d bytes", BM_CONTEXT_MAX);
		return -EINVAL;
	}
	return check_part(ctx, "commit_info", commit_members, ARRAY_SIZE(commit_members), why, len)
		       ?: check_part(ctx, "machine_info", machine_members,
				     ARRAY_SIZE(machine_members), why, len);
}

int context_apply(json_t *doc, const json_t *ctx, const json_t *fallback_machine)
{
	json_t *commit = json_pack("{s:n, s:n, s:n, s:n, s:n, s:n}", "id", "time", "author_time",
				   "dirty", "project", "branch");
	json_t *machine = json_deep_copy(fallback_machine);
	const json_t *c = json_object_get(ctx, "commit_info");
	const json_t *m = json_object_get(ctx, "machine_info");
	int ret = -ENOMEM;

	if (!commit || !machine || (c && json_object_update(commit, (json_t *)c)) ||
	    (m && json_object_update(machine, (json_t *)m)))
		goto out;
	if (!json_object_set(doc, "commit_info", commit) &&
	    !json_object_set(doc, "machine_info", machine))
		ret = 0;
out:
	json_decref(commit);
	json_decref(machine);
	return ret;
}

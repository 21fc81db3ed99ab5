// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/attach.c — image discovery, probe placement and the per-process link sets. */
#include <errno.h>
#include <dirent.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "allocators.h"
#include "attach.h"
#include "hookpath.h"
#include "log.h"
#include "placement.h"
#include "procmaps.h"
#include "symbols.h"

/* The links of one process (or, system-wide, of every process): one entry per probed file,
 * known by (dev, inode) so that a file is probed once. */
struct link_set {
	pid_t tgid;
	struct probe_links links[ATTACH_MAX_LIBS];
	dev_t lib_dev[ATTACH_MAX_LIBS];
	ino_t lib_ino[ATTACH_MAX_LIBS];
	int nr_libs;
};

struct attach {
	struct probe *probe;
	bool system_wide;
	struct link_set global;
	struct probe_links hook; /* the hook's probe sites, for every process preloading it */
	struct link_set **sets;	 /* per process; looked up at fork, exec, attach and exit only */
	int nr_sets, cap_sets;
};

struct attach *attach__new(struct probe *p, bool system_wide)
{
	struct attach *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->probe = p;
	a->system_wide = system_wide;
	a->global.tgid = -1;
	return a;
}

static void release_set(struct attach *a, struct link_set *l)
{
	for (int i = 0; i < l->nr_libs; i++)
		probe__release(a->probe, &l->links[i]);
	l->nr_libs = 0;
}

void attach__free(struct attach *a)
{
	if (!a)
		return;
	for (int i = 0; i < a->nr_sets; i++) {
		release_set(a, a->sets[i]);
		free(a->sets[i]);
	}
	release_set(a, &a->global);
	probe__release(a->probe, &a->hook);
	free(a->sets);
	free(a);
}

static int find_set(const struct attach *a, pid_t tgid)
{
	for (int i = 0; i < a->nr_sets; i++) {
		if (a->sets[i]->tgid == tgid)
			return i;
	}
	return -1;
}

/* Where the links of @tgid's libraries live: its own set, or the global one in system-wide
 * mode. NULL + errno when a new set cannot be made. */
static struct link_set *link_owner(struct attach *a, pid_t tgid)
{
	struct link_set *l;
	int i;

	if (a->system_wide)
		return &a->global;
	i = find_set(a, tgid);
	if (i >= 0)
		return a->sets[i];
	if (a->nr_sets == a->cap_sets) {
		int cap = a->cap_sets ? a->cap_sets * 2 : 8;
		struct link_set **n = reallocarray(a->sets, (size_t)cap, sizeof(*n));

		if (!n)
			return NULL;
		a->sets = n;
		a->cap_sets = cap;
	}
	l = calloc(1, sizeof(*l));
	if (!l)
		return NULL;
	l->tgid = tgid;
	a->sets[a->nr_sets++] = l;
	return l;
}

static int nr_probed(const struct attach *a, pid_t tgid)
{
	int i;

	if (a->system_wide)
		return a->global.nr_libs;
	i = find_set(a, tgid);
	return i < 0 ? 0 : a->sets[i]->nr_libs;
}

void attach__track(struct attach *a, pid_t tgid, int stack_slot)
{
	if (probe__track(a->probe, (uint32_t)tgid, stack_slot))
		pr_warn("pid %d: cannot add to the traced map", tgid);
}

static void release_links(struct attach *a, pid_t tgid)
{
	int i = find_set(a, tgid);

	if (i >= 0) {
		struct link_set *l = a->sets[i];

		release_set(a, l);
		a->sets[i] = a->sets[--a->nr_sets];
		free(l);
	}
}

void attach__release(struct attach *a, pid_t tgid)
{
	release_links(a, tgid);
	probe__untrack(a->probe, (uint32_t)tgid);
}

/*
 * free has only an entry probe, and glibc's free starts with "test %rdi,%rdi", which the
 * kernel must single-step (measured 2026-11-22 with build/bench/probecost: +23.6 us per hit);
 * the "je" after it is emulated (+0.57 us) and rdi still holds the argument there, on both
 * of its paths. Functions with a return probe stay at 0: the uretprobe's breakpoint is at 0
 * anyway, and a second breakpoint would trap twice per call.
 */
static void place_entry_probes(const char *path, struct alloc_sym *syms, int n)
{
	uint8_t code[64];
	struct placement pl;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t got;

	if (fd < 0)
		return;
	for (int i = 0; i < n; i++) {
		if (!(allocator_row(syms[i].func)->flags & BM_AF_MOVABLE))
			continue;
		got = pread(fd, code, sizeof(code), (off_t)syms[i].offset);
		if (got <= 0 ||
		    placement_choose(code, (size_t)got, PLACEMENT_RDI, false, false, &pl))
			continue;
		if (!pl.emulated || pl.skips_on_branch)
			continue;
		syms[i].offset += pl.offset;
		syms[i].seg_off += pl.offset;
	}
	close(fd);
}

/* Attaches the allocator probes of one ELF file in @p, once per file (dev, inode). When the
 * file is the executable itself (a static binary), the program's own mmap calls come from
 * the same segment as the allocator's, so the "called from inside" filter is turned off. */
static int attach_image(struct attach *a, pid_t tgid, const char *path, bool is_exe)
{
	struct alloc_sym syms[SYMBOLS_MAX_FUNCS];
	struct link_set *p;
	char err[512];
	struct stat st;
	int n, e;

	if (stat(path, &st))
		return -errno;
	p = link_owner(a, tgid);
	if (!p)
		return -ENOMEM;
	for (int i = 0; i < p->nr_libs; i++) {
		if (p->lib_dev[i] == st.st_dev && p->lib_ino[i] == st.st_ino)
			return 0;
	}
	n = symbols_find_allocators(path, syms, SYMBOLS_MAX_FUNCS, err, sizeof(err));
	if (n <= 0)
		return n; /* not an allocator (or not an ELF file: a script's interpreter is) */
	for (int i = 0; is_exe && i < n; i++)
		syms[i].seg_len = 0;
	place_entry_probes(path, syms, n);
	if (p->nr_libs == ATTACH_MAX_LIBS)
		return -E2BIG;
	e = probe__attach(a->probe, tgid, path, syms, (size_t)n, &p->links[p->nr_libs], err,
			  sizeof(err));
	if (e) {
		pr_warn("%s", err);
		return e;
	}
	p->lib_dev[p->nr_libs] = st.st_dev;
	p->lib_ino[p->nr_libs] = st.st_ino;
	pr_debug("pid %d: %d allocator functions probed in %s (%s%s)", tgid, n, path,
		 probe__mode(a->probe), a->system_wide ? ", system-wide" : "");
	p->nr_libs++;
	return 0;
}

/* Libraries named in the process's LD_PRELOAD (jemalloc, tcmalloc, mimalloc are often brought
 * in that way): read from /proc/PID/environ, which exec has just replaced. */
static char *preload_of(pid_t tgid, char *buf, size_t len)
{
	char path[64], *v = NULL;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/environ", tgid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return NULL;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n <= 0)
		return NULL;
	buf[n] = '\0';
	for (char *e = buf; e < buf + n; e += strlen(e) + 1) {
		if (!strncmp(e, "LD_PRELOAD=", 11))
			v = e + 11;
	}
	return v;
}

static void attach_preload(struct attach *a, pid_t tgid)
{
	char buf[16384], lib[4096], *save = NULL, *v = preload_of(tgid, buf, sizeof(buf));

	for (char *t = v ? strtok_r(v, " :", &save) : NULL; t; t = strtok_r(NULL, " :", &save)) {
		/* the hook exports malloc too, but is traced through its own sites */
		if (!hook_in_preload(t) && symbols_resolve(t, NULL, lib))
			attach_image(a, tgid, lib, false);
	}
}

/* The one link on the hook's probe sites, made when the first process needs it. */
static int hook_sites(struct attach *a)
{
	char path[PATH_MAX], err[512];
	int e;

	if (a->hook.nr)
		return 0;
	e = hook_library_path(path, sizeof(path));
	if (!e)
		e = probe__attach_hook(a->probe, path, &a->hook, err, sizeof(err));
	if (e)
		pr_warn("the hook cannot be traced (%s): its processes fall back to uprobes",
			e == -ENOENT ? HOOK_LIBRARY " not found" : err);
	return e;
}

/* Whether @tgid's executable is a CPython interpreter (the results say which allocator). */
static bool runs_python(pid_t tgid)
{
	char exe[PATH_MAX], link[64];
	ssize_t len;

	snprintf(link, sizeof(link), "/proc/%d/exe", tgid);
	len = readlink(link, exe, sizeof(exe) - 1);
	exe[len > 0 ? len : 0] = '\0';
	return !strncmp(strrchr(exe, '/') ? strrchr(exe, '/') + 1 : exe, "python", 6);
}

bool attach__hook(struct attach *a, pid_t tgid, bool *python)
{
	char buf[16384], exe[64];

	*python = runs_python(tgid);
	snprintf(exe, sizeof(exe), "/proc/%d/exe", tgid);
	if (a->system_wide || !hook_in_preload(preload_of(tgid, buf, sizeof(buf))) ||
	    !hook_can_preload(exe) || hook_sites(a))
		return false;
	/* uprobes left from an earlier image would count each call a second time */
	release_links(a, tgid);
	return true;
}

int attach__image(struct attach *a, pid_t tgid, bool *python)
{
	char exe[PATH_MAX], link[64], (*needed)[4096];
	ssize_t len;
	int n;

	snprintf(link, sizeof(link), "/proc/%d/exe", tgid);
	len = readlink(link, exe, sizeof(exe) - 1);
	if (len < 0)
		return -errno;
	exe[len] = '\0';
	*python = runs_python(tgid);
	attach_preload(a, tgid);
	attach_image(a, tgid, exe, true);
	needed = calloc(SYMBOLS_MAX_NEEDED, sizeof(*needed));
	if (!needed)
		return -ENOMEM;
	n = symbols_needed(exe, needed, SYMBOLS_MAX_NEEDED);
	for (int i = 0; i < n; i++) {
		attach_image(a, tgid, needed[i], false);
	}
	free(needed);
	return nr_probed(a, tgid) ? 0 : -ENOENT;
}

int attach__maps(struct attach *a, pid_t tgid)
{
	struct procmaps_entry *e = NULL;
	char path[64];
	FILE *f;
	int n;

	snprintf(path, sizeof(path), "/proc/%d/maps", tgid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	n = procmaps_parse(f, &e);
	fclose(f);
	for (int i = 0; i < n; i++) {
		if (e[i].exec && e[i].path[0] == '/')
			attach_image(a, tgid, e[i].path, false);
	}
	free(e);
	return nr_probed(a, tgid) ? 0 : -ENOENT;
}

void attach__suspend(struct attach *a, pid_t tgid)
{
	release_links(a, tgid);
}

int attach__resume(struct attach *a, pid_t tgid, bool maps, bool *python)
{
	char path[64];
	struct dirent *d;
	DIR *dir;

	snprintf(path, sizeof(path), "/proc/%d/task", tgid);
	dir = opendir(path);
	/* a thread that was inside malloc when the probes went keeps a pending call that
	 * would make its next malloc look nested */
	while (dir && (d = readdir(dir)))
		if (d->d_name[0] != '.')
			probe__forget_thread(a->probe, (uint32_t)strtoul(d->d_name, NULL, 10));
	if (dir)
		closedir(dir);
	*python = false;
	return maps ? attach__maps(a, tgid) : attach__image(a, tgid, python);
}

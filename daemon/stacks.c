// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/stacks.c — snapshot of a process's mapped ELF images with load bias and PT_LOADs. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "procmaps.h"
#include "stacks.h"

/* A path of the maps file, with what the image needs from its mappings. */
struct candidate {
	const char *path; /* points into the maps entries */
	uint64_t base;	  /* start of the first offset-0 mapping */
	bool has_base, has_exec;
};

static bool is_file_path(const char *path)
{
	static const char deleted[] = " (deleted)";
	size_t n = strlen(path);

	if (path[0] != '/')
		return false; /* "", [vdso], [vsyscall], [heap], [anon:...] */
	return n < sizeof(deleted) || strcmp(path + n - (sizeof(deleted) - 1), deleted);
}

/* Opens @path of @pid: through /proc/PID/root first, so a process in another mount
 * namespace gets its own file. Sets *@name to the path to record (malloc'd). Returns the
 * fd or -errno. */
static int open_image(pid_t pid, const char *path, char **name)
{
	char rooted[PATH_MAX + 32];
	struct stat here, there;
	int fd, err;

	if (snprintf(rooted, sizeof(rooted), "/proc/%d/root%s", (int)pid, path) >=
	    (int)sizeof(rooted))
		return -ENAMETOOLONG;
	fd = open(rooted, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		*name = strdup(path);
	} else if (!fstat(fd, &there) && !stat(path, &here) && here.st_dev == there.st_dev &&
		   here.st_ino == there.st_ino) {
		*name = strdup(path);
	} else {
		*name = strdup(rooted);
	}
	if (!*name) {
		err = -ENOMEM;
		close(fd);
		return err;
	}
	return fd;
}

/* Fills @img from the PT_LOADs of the ELF file @fd. Returns 0, -ENOEXEC (not a usable ELF
 * file) or -ENOMEM. */
static int read_loads(int fd, uint64_t base, struct stacks_image *img)
{
	uint64_t page = (uint64_t)sysconf(_SC_PAGESIZE);
	size_t nr_phdr, i, n = 0;
	bool first = true;
	GElf_Phdr ph;
	Elf *e;
	int err = 0;

	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF || elf_getphdrnum(e, &nr_phdr)) {
		err = -ENOEXEC;
		goto out;
	}
	img->segs = calloc(nr_phdr ? nr_phdr : 1, sizeof(*img->segs));
	if (!img->segs) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < nr_phdr; i++) {
		if (!gelf_getphdr(e, (int)i, &ph)) {
			err = -ENOEXEC;
			goto out;
		}
		if (ph.p_type != PT_LOAD)
			continue;
		if (first) {
			img->load_addr = base - (ph.p_vaddr & ~(page - 1));
			first = false;
		}
		img->segs[n].vaddr = ph.p_vaddr;
		img->segs[n].memsz = ph.p_memsz;
		n++;
	}
	img->nr_segs = n;
	if (!n)
		err = -ENOEXEC;
out:
	if (err) {
		free(img->segs);
		img->segs = NULL;
		img->nr_segs = 0;
	}
	elf_end(e);
	return err;
}

/* Adds the image for @c to @out, or nothing if its file is not a usable ELF file. */
static int add_image(pid_t pid, const struct candidate *c, struct stacks_images *out)
{
	struct stacks_image img = { 0 };
	int fd, err;

	fd = open_image(pid, c->path, &img.path);
	if (fd < 0)
		return fd == -ENOMEM ? fd : 0;
	err = read_loads(fd, c->base, &img);
	close(fd);
	if (err) {
		free(img.path);
		return err == -ENOMEM ? err : 0;
	}
	out->v[out->n++] = img;
	return 0;
}

int stacks_images_read(pid_t pid, struct stacks_images *out)
{
	struct procmaps_entry *maps = NULL;
	struct candidate *cand = NULL;
	size_t nr_cand = 0, i, j;
	char path[64];
	FILE *f;
	int nr, err = 0;

	out->v = NULL;
	out->n = 0;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ELIBBAD;
	snprintf(path, sizeof(path), "/proc/%d/maps", (int)pid);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	nr = procmaps_parse(f, &maps);
	fclose(f);
	if (nr < 0)
		return nr;

	cand = calloc(nr ? (size_t)nr : 1, sizeof(*cand));
	if (!cand) {
		err = -ENOMEM;
		goto out;
	}
	for (i = 0; i < (size_t)nr; i++) {
		const struct procmaps_entry *m = &maps[i];

		if (!is_file_path(m->path))
			continue;
		for (j = 0; j < nr_cand && strcmp(cand[j].path, m->path); j++)
			;
		if (j == nr_cand)
			cand[nr_cand++].path = m->path;
		if (m->offset == 0 && !cand[j].has_base) {
			cand[j].base = m->start;
			cand[j].has_base = true;
		}
		cand[j].has_exec |= m->exec;
	}

	out->v = calloc(nr_cand ? nr_cand : 1, sizeof(*out->v));
	if (!out->v) {
		err = -ENOMEM;
		goto out;
	}
	for (j = 0; j < nr_cand; j++) {
		if (!cand[j].has_base || !cand[j].has_exec)
			continue;
		err = add_image(pid, &cand[j], out);
		if (err)
			goto out;
	}
out:
	if (err)
		stacks_images_release(out);
	free(cand);
	free(maps);
	return err;
}

void stacks_images_release(struct stacks_images *im)
{
	size_t i;

	if (!im)
		return;
	for (i = 0; i < im->n; i++) {
		free(im->v[i].path);
		free(im->v[i].segs);
	}
	free(im->v);
	im->v = NULL;
	im->n = 0;
}

int stacks_images_to_memray(const struct stacks_images *im, struct memray_image **out)
{
	struct memray_image *v;
	size_t i;

	*out = NULL;
	if (!im->n)
		return 0;
	v = calloc(im->n, sizeof(*v));
	if (!v)
		return -ENOMEM;
	for (i = 0; i < im->n; i++) {
		v[i].path = im->v[i].path;
		v[i].load_addr = im->v[i].load_addr;
		v[i].segs = im->v[i].segs;
		v[i].nr_segs = im->v[i].nr_segs;
	}
	*out = v;
	return 0;
}

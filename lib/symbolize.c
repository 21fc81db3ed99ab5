// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* lib/symbolize.c — per-file sorted function symbols, binary-searched. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize.h"

struct fsym {
	uint64_t start, size;
	char *name; /* points into the file's string block */
};

struct symfile {
	char *path;
	struct fsym *syms;
	size_t n;
	char *strings; /* every name, NUL-separated */
};

struct symcache {
	struct symfile files[SYMCACHE_MAX_FILES];
	size_t n;
};

struct symcache *symcache__new(void)
{
	return calloc(1, sizeof(struct symcache));
}

static void file_release(struct symfile *f)
{
	free(f->path);
	free(f->syms);
	free(f->strings);
	memset(f, 0, sizeof(*f));
}

void symcache__trim(struct symcache *sc)
{
	if (sc->n < SYMCACHE_MAX_FILES)
		return;
	for (size_t i = 0; i < sc->n; i++)
		file_release(&sc->files[i]);
	sc->n = 0;
}

void symcache__free(struct symcache *sc)
{
	if (!sc)
		return;
	for (size_t i = 0; i < sc->n; i++)
		file_release(&sc->files[i]);
	free(sc);
}

static int by_start(const void *a, const void *b)
{
	const struct fsym *x = a, *y = b;

	return x->start < y->start ? -1 : x->start > y->start;
}

/* The section of type @type (SHT_SYMTAB or SHT_DYNSYM), or NULL. */
static Elf_Scn *find_table(Elf *e, Elf64_Word type, GElf_Shdr *sh)
{
	Elf_Scn *scn = NULL;

	while ((scn = elf_nextscn(e, scn))) {
		if (gelf_getshdr(scn, sh) && sh->sh_type == type && sh->sh_entsize)
			return scn;
	}
	return NULL;
}

/* Reads the function symbols of one symbol table into @f. 0 or -ENOMEM. */
static int read_table(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct symfile *f)
{
	size_t count = sh->sh_size / sh->sh_entsize, n = 0, bytes = 0, at = 0;
	Elf_Data *d = elf_getdata(scn, NULL);
	GElf_Sym sym;

	if (!d)
		return 0;
	for (size_t pass = 0; pass < 2; pass++) {
		for (size_t i = 0; i < count && gelf_getsym(d, (int)i, &sym); i++) {
			const char *name = elf_strptr(e, sh->sh_link, sym.st_name);
			int type = GELF_ST_TYPE(sym.st_info);

			if ((type != STT_FUNC && type != STT_GNU_IFUNC) || !sym.st_value || !name ||
			    !*name)
				continue;
			if (pass == 0) {
				n++;
				bytes += strlen(name) + 1;
				continue;
			}
			f->syms[f->n] = (struct fsym){ sym.st_value, sym.st_size ? sym.st_size : 1,
						       f->strings + at };
			memcpy(f->strings + at, name, strlen(name) + 1);
			at += strlen(name) + 1;
			f->n++;
		}
		if (pass == 0) {
			f->syms = calloc(n ? n : 1, sizeof(*f->syms));
			f->strings = malloc(bytes ? bytes : 1);
			if (!f->syms || !f->strings)
				return -ENOMEM;
		}
	}
	qsort(f->syms, f->n, sizeof(*f->syms), by_start);
	return 0;
}

/* Fills @f from the file at @path; a file that is not ELF or has no symbols stays empty. */
static int load(struct symfile *f, const char *path)
{
	Elf_Scn *scn;
	GElf_Shdr sh;
	Elf *e = NULL;
	int fd, err = 0;

	if (elf_version(EV_CURRENT) == EV_NONE)
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	if (e && elf_kind(e) == ELF_K_ELF) {
		scn = find_table(e, SHT_SYMTAB, &sh);
		if (!scn)
			scn = find_table(e, SHT_DYNSYM, &sh);
		if (scn)
			err = read_table(e, scn, &sh, f);
	}
	elf_end(e);
	close(fd);
	return err;
}

static struct symfile *file_of(struct symcache *sc, const char *path)
{
	struct symfile *f;

	for (size_t i = 0; i < sc->n; i++) {
		if (!strcmp(sc->files[i].path, path))
			return &sc->files[i];
	}
	if (sc->n == SYMCACHE_MAX_FILES)
		return NULL; /* full until the next trim */
	f = &sc->files[sc->n];
	f->path = strdup(path);
	if (!f->path)
		return NULL;
	sc->n++;
	if (load(f, path)) {
		free(f->syms);
		free(f->strings);
		f->syms = NULL;
		f->strings = NULL;
		f->n = 0;
	}
	return f;
}

const char *symcache__name(struct symcache *sc, const char *path, uint64_t vaddr)
{
	struct symfile *f = file_of(sc, path);
	size_t lo = 0, hi;

	if (!f || !f->n)
		return NULL;
	/* the last symbol starting at or below vaddr */
	hi = f->n;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (f->syms[mid].start <= vaddr)
			lo = mid;
		else
			hi = mid;
	}
	if (f->syms[lo].start > vaddr || vaddr - f->syms[lo].start >= f->syms[lo].size)
		return NULL;
	return f->syms[lo].name;
}

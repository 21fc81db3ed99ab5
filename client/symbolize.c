// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* client/symbolize.c — return address → function, through the images' ELF symbol tables. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "symbolize.h"

struct fsym {
	uint64_t addr, size;
	char *name;
};

/* One image's function symbols, sorted by address; loaded at first use. */
struct table {
	bool loaded;
	struct fsym *v;
	size_t n;
};

struct symbolizer {
	const struct memray_profile *p;
	struct table *tabs; /* one per p->images[i] */
};

struct symbolizer *symbolizer__new(const struct memray_profile *p)
{
	struct symbolizer *s = calloc(1, sizeof(*s));

	if (!s)
		return NULL;
	s->p = p;
	s->tabs = calloc(p->nr_images ? p->nr_images : 1, sizeof(*s->tabs));
	if (!s->tabs) {
		free(s);
		return NULL;
	}
	return s;
}

void symbolizer__free(struct symbolizer *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->p->nr_images; i++) {
		for (size_t k = 0; k < s->tabs[i].n; k++)
			free(s->tabs[i].v[k].name);
		free(s->tabs[i].v);
	}
	free(s->tabs);
	free(s);
}

static int by_addr(const void *a, const void *b)
{
	const struct fsym *x = a, *y = b;

	return (x->addr > y->addr) - (x->addr < y->addr);
}

/* The FUNC symbols of one symbol table section, appended to @t. */
static void add_section(Elf *e, Elf_Scn *scn, const GElf_Shdr *sh, struct table *t)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t nr = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	struct fsym *v = d && nr ? reallocarray(t->v, t->n + nr, sizeof(*v)) : NULL;
	GElf_Sym sym;

	if (!v)
		return;
	t->v = v;
	for (size_t i = 0; i < nr; i++) {
		const char *name;

		if (!gelf_getsym(d, (int)i, &sym) || GELF_ST_TYPE(sym.st_info) != STT_FUNC ||
		    !sym.st_value || sym.st_shndx == SHN_UNDEF)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!name || !*name || !(v[t->n].name = strdup(name)))
			continue;
		v[t->n].addr = sym.st_value;
		v[t->n].size = sym.st_size;
		t->n++;
	}
}

static void load(const char *path, struct table *t)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	Elf *e;

	t->loaded = true;
	if (fd < 0 || elf_version(EV_CURRENT) == EV_NONE) {
		if (fd >= 0)
			close(fd);
		return;
	}
	e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
	while (e && (scn = elf_nextscn(e, scn))) {
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_SYMTAB || sh.sh_type == SHT_DYNSYM))
			add_section(e, scn, &sh, t);
	}
	elf_end(e);
	close(fd);
	if (t->n)
		qsort(t->v, t->n, sizeof(*t->v), by_addr);
}

const char *symbolizer__name(struct symbolizer *s, uint64_t ip, uint32_t gen, char *out, size_t len)
{
	uint64_t pc = ip - 1; /* a return address: the call is the byte before it */

	for (size_t i = 0; i < s->p->nr_images; i++) {
		const struct memray_image_range *im = &s->p->images[i];
		const char *base = strrchr(im->path, '/') ? strrchr(im->path, '/') + 1 : im->path;
		struct table *t = &s->tabs[i];
		size_t lo = 0, hi;

		if (im->generation != gen || pc < im->lo || pc >= im->hi)
			continue;
		if (!t->loaded)
			load(im->path, t);
		pc -= im->load_addr;
		/* the last symbol at or below pc */
		for (hi = t->n; lo < hi;) {
			size_t mid = (lo + hi) / 2;

			if (t->v[mid].addr <= pc)
				lo = mid + 1;
			else
				hi = mid;
		}
		if (lo && (!t->v[lo - 1].size || pc < t->v[lo - 1].addr + t->v[lo - 1].size))
			snprintf(out, len, "%s+0x%" PRIx64 " (%s)", t->v[lo - 1].name,
				 pc + 1 - t->v[lo - 1].addr, base);
		else
			snprintf(out, len, "%s+0x%" PRIx64, base, pc + 1);
		return out;
	}
	snprintf(out, len, "0x%" PRIx64, ip);
	return out;
}

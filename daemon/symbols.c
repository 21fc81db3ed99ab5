// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/symbols.c — allocator symbols and DT_NEEDED of an ELF file, through libelf. */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "allocators.h"
#include "symbols.h"

#define MAX_NAMES 64

/* One symbol name we look for and the row it belongs to. */
struct want {
	const char *name;
	uint16_t func;
};

/* The names of every row we probe, in table order (the first name at an address wins);
 * forwarding rows (operator new/delete...) are counted at the call they make. */
static size_t wanted_names(struct want *w)
{
	size_t n = 0;

	for (unsigned int f = BM_FN_NONE + 1; f < BM_FN_MAX; f++) {
		const struct allocator *r = allocator_row(f);

		if (r->flags & BM_AF_FORWARDS)
			continue;
		for (const char *nm = r->names; *nm && n < MAX_NAMES; nm += strlen(nm) + 1)
			w[n++] = (struct want){ .name = nm, .func = (uint16_t)f };
	}
	return n;
}

static const char *const lib_dirs[] = { "/lib/x86_64-linux-gnu",
					"/usr/lib/x86_64-linux-gnu",
					"/lib64",
					"/usr/lib64",
					"/lib",
					"/usr/lib",
					"/usr/local/lib" };

static Elf *open_elf(const char *path, int *fd, char *err, size_t errlen)
{
	Elf *e;

	if (elf_version(EV_CURRENT) == EV_NONE) {
		snprintf(err, errlen, "libelf: %s", elf_errmsg(-1));
		return NULL;
	}
	*fd = open(path, O_RDONLY | O_CLOEXEC);
	if (*fd < 0) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	e = elf_begin(*fd, ELF_C_READ_MMAP, NULL);
	if (!e || elf_kind(e) != ELF_K_ELF) {
		snprintf(err, errlen, "%s: not an ELF file", path);
		elf_end(e);
		close(*fd);
		errno = ENOEXEC;
		return NULL;
	}
	return e;
}

int symbols_has_section(const char *path, const char *name)
{
	char err[256];
	Elf_Scn *scn = NULL;
	size_t shstrndx;
	int fd, found = 0;
	Elf *e = open_elf(path, &fd, err, sizeof(err));

	if (!e)
		return -errno;
	if (elf_getshdrstrndx(e, &shstrndx)) {
		found = -EBADMSG;
		goto out;
	}
	while (!found && (scn = elf_nextscn(e, scn))) {
		GElf_Shdr sh;
		const char *n = gelf_getshdr(scn, &sh) ? elf_strptr(e, shstrndx, sh.sh_name) : NULL;

		found = n && !strcmp(n, name);
	}
out:
	elf_end(e);
	close(fd);
	return found;
}

/* The PT_LOAD segment holding @vaddr gives its file offset and the segment bounds. */
static bool locate(Elf *e, uint64_t vaddr, struct alloc_sym *s)
{
	size_t n;
	GElf_Phdr ph;

	if (elf_getphdrnum(e, &n))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!gelf_getphdr(e, (int)i, &ph) || ph.p_type != PT_LOAD)
			continue;
		if (vaddr < ph.p_vaddr || vaddr >= ph.p_vaddr + ph.p_filesz)
			continue;
		s->offset = vaddr - ph.p_vaddr + ph.p_offset;
		s->seg_off = vaddr - ph.p_vaddr;
		s->seg_len = ph.p_memsz;
		return true;
	}
	return false;
}

static int wanted_index(const struct want *w, size_t nr, const char *name)
{
	for (size_t i = 0; i < nr; i++) {
		if (!strcmp(name, w[i].name))
			return (int)i;
	}
	return -1;
}

/* Fills @found (indexed like @w) from one symbol table section. */
static void scan_symtab(Elf *e, Elf_Scn *scn, GElf_Shdr *sh, const struct want *w, size_t nr,
			uint64_t *found)
{
	Elf_Data *d = elf_getdata(scn, NULL);
	size_t n = sh->sh_entsize ? sh->sh_size / sh->sh_entsize : 0;
	GElf_Sym sym;

	for (size_t i = 0; d && i < n; i++) {
		const char *name;
		int k;

		if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF || !sym.st_value)
			continue;
		if (GELF_ST_TYPE(sym.st_info) != STT_FUNC)
			continue;
		if (GELF_ST_BIND(sym.st_info) == STB_LOCAL)
			continue;
		name = elf_strptr(e, sh->sh_link, sym.st_name);
		if (!name || (k = wanted_index(w, nr, name)) < 0 || found[k])
			continue;
		found[k] = sym.st_value;
	}
}

int symbols_find_allocators(const char *path, struct alloc_sym *out, size_t max, char *err,
			    size_t errlen)
{
	uint64_t found[MAX_NAMES] = { 0 };
	struct want w[MAX_NAMES];
	size_t nr = 0, nr_want = wanted_names(w);
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	int fd;
	Elf *e = open_elf(path, &fd, err, errlen);

	if (!e)
		return -errno;
	while ((scn = elf_nextscn(e, scn))) {
		if (gelf_getshdr(scn, &sh) &&
		    (sh.sh_type == SHT_DYNSYM || sh.sh_type == SHT_SYMTAB))
			scan_symtab(e, scn, &sh, w, nr_want, found);
	}
	/* a file that defines no malloc is not an allocator, whatever else it exports
	 * (w[0] is malloc: the table's first row) */
	for (size_t i = 0; found[0] && i < nr_want && nr < max; i++) {
		struct alloc_sym s = { .name = w[i].name, .vaddr = found[i], .func = w[i].func };
		bool dup = false;

		if (!found[i])
			continue;
		for (size_t j = 0; j < nr; j++)
			dup |= out[j].vaddr == found[i];
		if (dup || !locate(e, found[i], &s))
			continue;
		out[nr++] = s;
	}
	elf_end(e);
	close(fd);
	return (int)nr;
}

int symbols_offset_of(const char *path, const char *name, uint64_t *offset, char *err,
		      size_t errlen)
{
	struct alloc_sym s = { .name = name };
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;
	int fd, e = -ENOENT;
	Elf *elf = open_elf(path, &fd, err, errlen);

	if (!elf)
		return -errno;
	while (e && (scn = elf_nextscn(elf, scn))) {
		Elf_Data *d = elf_getdata(scn, NULL);

		if (!d || !gelf_getshdr(scn, &sh) || !sh.sh_entsize ||
		    (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		for (size_t i = 0; e && i < sh.sh_size / sh.sh_entsize; i++) {
			const char *n;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_TYPE(sym.st_info) != STT_FUNC)
				continue;
			n = elf_strptr(elf, sh.sh_link, sym.st_name);
			if (n && !strcmp(n, name) && locate(elf, sym.st_value, &s)) {
				*offset = s.offset;
				e = 0;
			}
		}
	}
	if (e)
		snprintf(err, errlen, "%s: no function %s", path, name);
	elf_end(elf);
	close(fd);
	return e;
}

int symbols_values(const char *path, const char *const *names, size_t n, uint64_t *out)
{
	Elf_Scn *scn = NULL;
	GElf_Shdr sh;
	GElf_Sym sym;
	char err[64];
	int fd;
	Elf *e = open_elf(path, &fd, err, sizeof(err));

	if (!e)
		return -errno;
	memset(out, 0, n * sizeof(*out));
	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d = elf_getdata(scn, NULL);
		size_t nr;

		if (!gelf_getshdr(scn, &sh) || !d ||
		    (sh.sh_type != SHT_DYNSYM && sh.sh_type != SHT_SYMTAB))
			continue;
		nr = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		for (size_t i = 0; i < nr; i++) {
			const char *name;

			if (!gelf_getsym(d, (int)i, &sym) || sym.st_shndx == SHN_UNDEF ||
			    GELF_ST_BIND(sym.st_info) == STB_LOCAL)
				continue;
			name = elf_strptr(e, sh.sh_link, sym.st_name);
			for (size_t k = 0; name && k < n; k++) {
				if (!out[k] && !strcmp(name, names[k]))
					out[k] = sym.st_value;
			}
		}
	}
	elf_end(e);
	close(fd);
	return 0;
}

bool symbols_resolve(const char *name, const char *runpath, char *out)
{
	char dirs[4096], *save = NULL;

	if (strchr(name, '/'))
		return snprintf(out, 4096, "%s", name) < 4096 && !access(out, R_OK);
	snprintf(dirs, sizeof(dirs), "%s", runpath ? runpath : "");
	for (char *d = strtok_r(dirs, ":", &save); d; d = strtok_r(NULL, ":", &save)) {
		if (snprintf(out, 4096, "%s/%s", d, name) < 4096 && !access(out, R_OK))
			return true;
	}
	for (size_t i = 0; i < sizeof(lib_dirs) / sizeof(lib_dirs[0]); i++) {
		if (snprintf(out, 4096, "%s/%s", lib_dirs[i], name) < 4096 && !access(out, R_OK))
			return true;
	}
	return false;
}

int symbols_needed(const char *path, char (*out)[4096], size_t max)
{
	const char *needed[SYMBOLS_MAX_NEEDED], *runpath = NULL;
	size_t nr_needed = 0, nr = 0;
	Elf_Scn *scn = NULL;
	char err[256];
	GElf_Shdr sh;
	GElf_Dyn dyn;
	int fd;
	Elf *e = open_elf(path, &fd, err, sizeof(err));

	if (!e)
		return -errno;
	while ((scn = elf_nextscn(e, scn))) {
		Elf_Data *d;

		if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNAMIC)
			continue;
		d = elf_getdata(scn, NULL);
		for (size_t i = 0; d && sh.sh_entsize && i < sh.sh_size / sh.sh_entsize; i++) {
			if (!gelf_getdyn(d, (int)i, &dyn))
				break;
			if (dyn.d_tag == DT_NEEDED && nr_needed < SYMBOLS_MAX_NEEDED)
				needed[nr_needed++] = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
			else if (dyn.d_tag == DT_RUNPATH || dyn.d_tag == DT_RPATH)
				runpath = elf_strptr(e, sh.sh_link, dyn.d_un.d_val);
		}
	}
	for (size_t i = 0; i < nr_needed && nr < max; i++) {
		if (needed[i] && symbols_resolve(needed[i], runpath, out[nr]))
			nr++;
	}
	elf_end(e);
	close(fd);
	return (int)nr;
}

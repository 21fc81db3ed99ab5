/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/symbols.h — libelf: the allocator entry points one ELF file defines, as file
 * offsets (one per address: aliases are probed once), and the libraries it needs. */
#ifndef BM_SYMBOLS_H
#define BM_SYMBOLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYMBOLS_MAX_FUNCS  16
#define SYMBOLS_MAX_NEEDED 64

struct alloc_sym {
	const char *name; /* static string: the symbol we matched */
	uint64_t offset;  /* file offset of the function's first byte (the uprobe target) */
	uint64_t vaddr;	  /* st_value */
	uint64_t seg_off; /* offset of the function from the start of its PT_LOAD segment */
	uint64_t seg_len; /* p_memsz of that segment */
	uint16_t func;	  /* row id of lib/allocators.h */
};

/* Finds the allocator functions that @path defines (the probed rows of lib/allocators.h:
 * malloc, calloc, realloc, reallocarray, free, posix_memalign, memalign, aligned_alloc, valloc,
 * pvalloc, mmap, munmap and their aliases),
 * from .dynsym and .symtab. Symbols that share an address are kept once (glibc 2.36:
 * memalign and aligned_alloc). Returns the number found (0: the file is no allocator),
 * or -errno with a reason in @err. */
int symbols_find_allocators(const char *path, struct alloc_sym *out, size_t max, char *err,
			    size_t errlen);

/* The file offset of function @name defined in @path (.dynsym or .symtab), for a probe on
 * it. Returns 0, -ENOENT when @path does not define it, or -errno with a reason in @err. */
int symbols_offset_of(const char *path, const char *name, uint64_t *offset, char *err,
		      size_t errlen);

/* Looks up the @n global symbols @names (any type) in @path's .dynsym and .symtab: @out[i]
 * is st_value, 0 when absent. Returns 0 or -errno. */
int symbols_values(const char *path, const char *const *names, size_t n, uint64_t *out);

/* Whether the ELF file @path has a section named @name. 1, 0 or -errno (not an ELF file:
 * -ENOEXEC). */
int symbols_has_section(const char *path, const char *name);

/* Resolves a library @name as the dynamic loader would: a path as is, else in the
 * colon-separated @runpath (may be NULL), then the Debian multiarch and standard directories.
 * Writes the path (4096 bytes) into @out; returns false when no readable file is found. */
bool symbols_resolve(const char *name, const char *runpath, char *out);

/* Resolves the DT_NEEDED entries of @path to existing files (DT_RUNPATH/RPATH, then the
 * Debian multiarch and standard directories), up to @max paths of PATH_MAX bytes in @out.
 * Returns the number resolved or -errno. A static binary has none. */
int symbols_needed(const char *path, char (*out)[4096], size_t max);

#endif /* BM_SYMBOLS_H */

/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* lib/symbolize.h — function names for addresses in ELF files, from each file's .symtab
 * (else .dynsym), read once per file and kept in a bounded cache. */
#ifndef BM_SYMBOLIZE_H
#define BM_SYMBOLIZE_H

#include <stdint.h>

struct symcache;

#define SYMCACHE_MAX_FILES 64 /* files kept; the cache starts over when one more is read */

struct symcache *symcache__new(void);	  /* NULL + errno */
void symcache__free(struct symcache *sc); /* NULL-safe */

/* The name of the function of ELF file @path that holds link-time address @vaddr (runtime
 * address minus the image's load bias), or NULL when no function symbol covers it or the
 * file cannot be read (remembered: the file is not read again). The string is owned by the
 * cache and valid until symcache__trim() starts it over. Reads the file at its first use. */
const char *symcache__name(struct symcache *sc, const char *path, uint64_t vaddr);

/* Starts the cache over when it holds SYMCACHE_MAX_FILES files; call it only where no name
 * it returned is still in use (between snapshots). */
void symcache__trim(struct symcache *sc);

#endif /* BM_SYMBOLIZE_H */

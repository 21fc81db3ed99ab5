// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* hook/real.c — where the hook's wrappers forward: dlsym(RTLD_NEXT), glibc's own exports
 * when that fails. */
#include <dlfcn.h>
#include <stddef.h>

#include "hook.h"

/* glibc's exported implementations (glibc 2.36: GLIBC_2.2.5 and GLIBC_PRIVATE). */
extern void *__libc_malloc(size_t);
extern void __libc_free(void *);
extern void *__libc_calloc(size_t, size_t);
extern void *__libc_realloc(void *, size_t);
extern void *__libc_memalign(size_t, size_t);
extern void *__libc_valloc(size_t);
extern void *__libc_pvalloc(size_t);
extern void *__mmap(void *, size_t, int, int, int, off_t);
extern int __munmap(void *, size_t);

static void *next(const char *name, void *fallback)
{
	void *f = dlsym(RTLD_NEXT, name);

	return f ? f : fallback;
}

void hook_real_resolve(struct hook_real *r)
{
	void *m, *c, *re;

	/* the aligned ones first: dlsym's own allocations must not need them */
	r->memalign = next("memalign", (void *)__libc_memalign);
	r->aligned_alloc = next("aligned_alloc", (void *)__libc_memalign);
	r->valloc = next("valloc", (void *)__libc_valloc);
	r->pvalloc = next("pvalloc", (void *)__libc_pvalloc);
	r->posix_memalign = next("posix_memalign", NULL);
	r->reallocarray = next("reallocarray", NULL);
	r->mmap = next("mmap", (void *)__mmap);
	r->munmap = next("munmap", (void *)__munmap);
	r->execve = next("execve", NULL);
	r->execveat = next("execveat", NULL);
	r->fexecve = next("fexecve", NULL);
	r->execv = next("execv", NULL);
	r->execvp = next("execvp", NULL);
	r->execvpe = next("execvpe", NULL);
	r->free = next("free", (void *)__libc_free);
	m = next("malloc", (void *)__libc_malloc);
	c = next("calloc", (void *)__libc_calloc);
	re = next("realloc", (void *)__libc_realloc);
	r->calloc = c;
	r->realloc = re;
	r->malloc = m;
}

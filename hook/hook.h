/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* hook/hook.h — the functions the hook's wrappers forward to. */
#ifndef BM_HOOK_H
#define BM_HOOK_H

#include <stddef.h>
#include <sys/types.h>

struct hook_real {
	void *(*malloc)(size_t);
	void (*free)(void *);
	void *(*calloc)(size_t, size_t);
	void *(*realloc)(void *, size_t);
	void *(*reallocarray)(void *, size_t, size_t);
	int (*posix_memalign)(void **, size_t, size_t);
	void *(*aligned_alloc)(size_t, size_t);
	void *(*memalign)(size_t, size_t);
	void *(*valloc)(size_t);
	void *(*pvalloc)(size_t);
	void *(*mmap)(void *, size_t, int, int, int, off_t);
	int (*munmap)(void *, size_t);
	int (*execve)(const char *, char *const[], char *const[]);
	int (*execveat)(int, const char *, char *const[], char *const[], int);
	int (*fexecve)(int, char *const[], char *const[]);
	int (*execv)(const char *, char *const[]);
	int (*execvp)(const char *, char *const[]);
	int (*execvpe)(const char *, char *const[], char *const[]);
};

/* Fills @r with the next definition of each function after this library (the allocator the
 * program would have used: glibc's, or one preloaded after us such as jemalloc). malloc,
 * calloc and realloc stay NULL until the end: dlsym may allocate meanwhile, and those calls
 * are served from the hook's boot arena. */
void hook_real_resolve(struct hook_real *r);

/* The functions the wrappers forward to, resolved at the library's start (hook.c). */
const struct hook_real *hook_real(void);

/* Before an exec replaces the image: the partial batch goes to the collector (the daemon can
 * no longer read it afterwards), and a thread other than the main one waits until ptrace
 * follows it, so the exec stops (hook.c). */
void hook_before_exec(void);

#endif /* BM_HOOK_H */

// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* hook/exec.c — the hook's exec family: each hands the process's partial batch over (and a
 * thread other than the main one asks to be followed) before the image goes (hook.c,
 * hook_before_exec). The list forms build an argv and take the vector path. */
#include <stdarg.h>
#include <stddef.h>
#include <unistd.h>

#include "hook.h"

#define EXPORT __attribute__((visibility("default")))

/* ---- exec: hand the partial batch over first ------------------------------------------ */

EXPORT int execve(const char *path, char *const argv[], char *const envp[])
{
	hook_before_exec();
	return hook_real()->execve(path, argv, envp);
}

EXPORT int execveat(int dirfd, const char *path, char *const argv[], char *const envp[], int flags)
{
	hook_before_exec();
	return hook_real()->execveat(dirfd, path, argv, envp, flags);
}

EXPORT int fexecve(int fd, char *const argv[], char *const envp[])
{
	hook_before_exec();
	return hook_real()->fexecve(fd, argv, envp);
}

EXPORT int execv(const char *path, char *const argv[])
{
	hook_before_exec();
	return hook_real()->execv(path, argv);
}

EXPORT int execvp(const char *file, char *const argv[])
{
	hook_before_exec();
	return hook_real()->execvp(file, argv);
}

EXPORT int execvpe(const char *file, char *const argv[], char *const envp[])
{
	hook_before_exec();
	return hook_real()->execvpe(file, argv, envp);
}

/* The list forms build an argv (as glibc does) and take the vector path. */
#define ARGV_FROM_LIST(first, ap, argv, envp_out)                                                  \
	size_t argc = 1;                                                                           \
	va_start(ap, first);                                                                       \
	while (va_arg(ap, char *))                                                                 \
		argc++;                                                                            \
	va_end(ap);                                                                                \
	char *argv[argc + 1];                                                                      \
	va_start(ap, first);                                                                       \
	argv[0] = (char *)first;                                                                   \
	for (size_t i = 1; i <= argc; i++)                                                         \
		argv[i] = va_arg(ap, char *);                                                      \
	envp_out;                                                                                  \
	va_end(ap)

EXPORT int execl(const char *path, const char *arg, ...)
{
	va_list ap;

	ARGV_FROM_LIST(arg, ap, argv, (void)0);
	return execv(path, argv);
}

EXPORT int execlp(const char *file, const char *arg, ...)
{
	va_list ap;

	ARGV_FROM_LIST(arg, ap, argv, (void)0);
	return execvp(file, argv);
}

EXPORT int execle(const char *path, const char *arg, ...)
{
	va_list ap;
	char **envp;

	ARGV_FROM_LIST(arg, ap, argv, envp = va_arg(ap, char **));
	return execve(path, argv, envp);
}

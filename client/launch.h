/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* client/launch.h — fork/exec with the start-up handshake: the child waits before its execve
 * until the collector has seized it, so the probes see its first allocation. */
#ifndef BM_LAUNCH_H
#define BM_LAUNCH_H

#include <sys/types.h>

struct launch {
	pid_t pid;  /* the child, blocked before execve until launch_release() */
	int go_fd;  /* write end: one byte lets the child exec */
	int err_fd; /* read end: the child's execvp errno, EOF once exec succeeded */
};

/* Resolves @cmd in $PATH like execvp into @resolved (PATH_MAX bytes, absolute). Returns 0,
 * -ENOENT (not found) or -EACCES. */
int launch_check(const char *cmd, char *resolved);

/* Forks the child, which restores default signal handling and an empty signal mask, then
 * blocks. Returns 0 or -errno. */
int launch_prepare(struct launch *l, char *const argv[]);

/* Lets the child exec and waits until its execve succeeded or failed. Returns 0, or
 * -errno of the failed execvp (the child then exits 127). */
int launch_release(struct launch *l);

/* Kills and reaps a child that was prepared but will not be released. */
void launch_abort(struct launch *l);

/* The shell's view of a wait status: the exit code, or 128 + the signal. */
int launch_exit_code(int status);

#endif /* BM_LAUNCH_H */

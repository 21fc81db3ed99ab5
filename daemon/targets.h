/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/targets.h — follows traced process trees with ptrace: fork, vfork, clone, exec and
 * exit, race-free (design.md "Attach scope"), and forwards every other signal unchanged. */
#ifndef BM_TARGETS_H
#define BM_TARGETS_H

#include <stdbool.h>
#include <sys/types.h>

struct targets;

struct targets_ops {
	/* A new process @pid (forked by @parent) is stopped before its first instruction;
	 * attach its probes now. It continues when this returns. */
	void (*on_fork)(void *arg, pid_t pid, pid_t parent);
	/* @pid finished an execve and is stopped before the new image's first instruction.
	 * @from_thread: a thread other than the main one exec'd (the kernel gave it @pid; the
	 * task that was the main thread is gone). */
	void (*on_exec)(void *arg, pid_t pid, bool from_thread);
	/* @pid (a process, not a thread) is about to exit; its memory is still readable. */
	void (*on_exiting)(void *arg, pid_t pid);
	/* @pid exited with wait status @status and has been reaped. */
	void (*on_exit)(void *arg, pid_t pid, int status);
	/* Task (thread or process) @tid is gone. */
	void (*on_task_gone)(void *arg, pid_t tid);
};

struct targets *targets__new(const struct targets_ops *ops, void *arg); /* NULL + errno */
void targets__free(struct targets *t); /* NULL-safe; detaches from every tracee */

/* Starts following @pid (a process blocked before its execve, or running): PTRACE_SEIZE of
 * every thread with the fork/exec/exit options, and PTRACE_O_EXITKILL with @exitkill (the
 * kernel kills the tree when the tracer exits; else it runs on). Returns 0 or -errno. */
int targets__seize(struct targets *t, pid_t pid, bool exitkill);

/* Whether the threads @pid creates from now on are followed (the default). A process traced
 * through the in-process hook needs nothing from its threads: not following them spares each
 * thread two ptrace stops (docs/hook.md); its children forked by a thread other than the main
 * one are then found by their hook (targets__seize_process). @pid is stopped (exec stop).
 * SETOPTIONS replaces every option: @exitkill must be what @pid was seized with. 0 or -errno. */
int targets__follow_threads(struct targets *t, pid_t pid, bool on, bool exitkill);

/* Starts following the running process @pid, its main thread only (a hook process), with
 * PTRACE_O_EXITKILL only when @exitkill (its session asked for it). 0 or -errno. */
int targets__seize_process(struct targets *t, pid_t pid, bool exitkill);

/* Starts following thread @tid of the followed process @tgid, which is about to exec (a hook
 * process's threads are not followed otherwise). 0 or -errno. */
int targets__seize_thread(struct targets *t, pid_t tid, pid_t tgid, bool exitkill);

/* Stops following process @tgid (every thread of it): it runs on untraced, and a later
 * targets__seize of it succeeds (a detached session can be attached again). May be called
 * from on_exec: the exec'ing task is detached from that stop. */
void targets__release(struct targets *t, pid_t tgid);

/* Drains every pending wait status (call on SIGCHLD). Returns 0 or -errno. */
int targets__reap(struct targets *t);

/* Number of tracees (threads included) still followed. */
int targets__count(const struct targets *t);

#endif /* BM_TARGETS_H */

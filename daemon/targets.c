// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/targets.c — ptrace following of traced trees. A new task's first stop and its
 * parent's fork event can arrive in either order; a task we have not seen before is new. */
#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ptrace.h>
#include <sys/wait.h>

#include "procstatus.h"
#include "targets.h"

/* No PTRACE_O_EXITKILL unless asked: a daemon that stops or dies lets its tracees run on. */
#define PTRACE_OPTS                                                                                \
	(PTRACE_O_TRACEFORK | PTRACE_O_TRACEVFORK | PTRACE_O_TRACECLONE | PTRACE_O_TRACEEXEC |     \
	 PTRACE_O_TRACEEXIT)

struct task {
	pid_t tid;
	pid_t tgid;
};

struct targets {
	struct targets_ops ops;
	void *arg;
	struct task *tasks;
	int nr, cap;
	pid_t in_stop; /* the task whose ptrace-stop a callback is handling now, or 0 */
};

struct targets *targets__new(const struct targets_ops *ops, void *arg)
{
	struct targets *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	t->ops = *ops;
	t->arg = arg;
	return t;
}

void targets__free(struct targets *t)
{
	if (!t)
		return;
	for (int i = 0; i < t->nr; i++)
		ptrace(PTRACE_DETACH, t->tasks[i].tid, 0, 0);
	free(t->tasks);
	free(t);
}

int targets__count(const struct targets *t)
{
	return t->nr;
}

static struct task *find(struct targets *t, pid_t tid)
{
	for (int i = 0; i < t->nr; i++) {
		if (t->tasks[i].tid == tid)
			return &t->tasks[i];
	}
	return NULL;
}

static int add(struct targets *t, pid_t tid, pid_t tgid)
{
	if (t->nr == t->cap) {
		int cap = t->cap ? t->cap * 2 : 16;
		struct task *n = reallocarray(t->tasks, (size_t)cap, sizeof(*n));

		if (!n)
			return -ENOMEM;
		t->tasks = n;
		t->cap = cap;
	}
	t->tasks[t->nr++] = (struct task){ tid, tgid };
	return 0;
}

static void drop(struct targets *t, pid_t tid)
{
	struct task *k = find(t, tid);

	if (k)
		*k = t->tasks[--t->nr];
}

static long ptrace_opts(bool follow_threads, bool exitkill)
{
	return (follow_threads ? PTRACE_OPTS : PTRACE_OPTS & ~PTRACE_O_TRACECLONE) |
	       (exitkill ? PTRACE_O_EXITKILL : 0);
}

static int seize_one(struct targets *t, pid_t tid, pid_t tgid, long opts)
{
	if (ptrace(PTRACE_SEIZE, tid, 0, opts))
		return -errno;
	return add(t, tid, tgid);
}

int targets__follow_threads(struct targets *t, pid_t pid, bool on, bool exitkill)
{
	(void)t;
	/* SETOPTIONS replaces them all: EXITKILL stays exactly as the seize asked */
	if (ptrace(PTRACE_SETOPTIONS, pid, 0, ptrace_opts(on, exitkill)))
		return -errno;
	return 0;
}

int targets__seize_process(struct targets *t, pid_t pid, bool exitkill)
{
	return find(t, pid) ? 0 : seize_one(t, pid, pid, ptrace_opts(false, exitkill));
}

int targets__seize_thread(struct targets *t, pid_t tid, pid_t tgid, bool exitkill)
{
	return find(t, tid) ? 0 : seize_one(t, tid, tgid, ptrace_opts(false, exitkill));
}

int targets__seize(struct targets *t, pid_t pid, bool exitkill)
{
	char path[64];
	struct dirent *d;
	DIR *dir;
	int err;

	err = seize_one(t, pid, pid, ptrace_opts(true, exitkill));
	if (err)
		return err;
	snprintf(path, sizeof(path), "/proc/%d/task", pid);
	dir = opendir(path);
	if (!dir)
		return 0;
	/* threads of a running process: fork events come from whichever thread forks */
	while ((d = readdir(dir))) {
		pid_t tid = atoi(d->d_name);

		if (tid > 0 && tid != pid && !find(t, tid))
			seize_one(t, tid, pid, ptrace_opts(true, exitkill));
	}
	closedir(dir);
	return 0;
}

/* The first stop of a task we did not know: a new thread needs nothing, a new process gets
 * its probes before it runs. */
static void on_new_task(struct targets *t, pid_t tid)
{
	struct proc_status st = { .tgid = tid };

	procstatus_read(tid, &st);
	if (add(t, tid, st.tgid))
		return;
	if (st.tgid == tid)
		t->ops.on_fork(t->arg, tid, st.ppid);
	ptrace(PTRACE_CONT, tid, 0, 0);
}

static void on_stop(struct targets *t, pid_t tid, int status)
{
	int sig = WSTOPSIG(status), event = status >> 16;
	struct task *k = find(t, tid);
	unsigned long former;

	if (!k) {
		on_new_task(t, tid);
		return;
	}
	switch (event) {
	case PTRACE_EVENT_FORK:
	case PTRACE_EVENT_VFORK:
	case PTRACE_EVENT_CLONE:
		break; /* the child reports its own first stop */
	case PTRACE_EVENT_EXEC:
		/* a thread that exec'd took the main thread's id: its own is gone without a stop */
		if (ptrace(PTRACE_GETEVENTMSG, tid, 0, &former))
			former = (unsigned long)tid;
		if ((pid_t)former != tid) {
			drop(t, (pid_t)former);
			k = find(t, tid); /* drop() moves entries */
		}
		t->in_stop = tid;
		t->ops.on_exec(t->arg, k->tgid, (pid_t)former != tid);
		t->in_stop = 0;
		if (!find(t, tid))
			return; /* released by the callback: detached from this stop already */
		break;
	case PTRACE_EVENT_EXIT:
		if (k->tid == k->tgid)
			t->ops.on_exiting(t->arg, tid);
		break;
	case PTRACE_EVENT_STOP:
		/* group-stop (SIGSTOP & co.): stay stopped but keep reporting, as untraced */
		if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU) {
			ptrace(PTRACE_LISTEN, tid, 0, 0);
			return;
		}
		break;
	case 0:
		/* signal-delivery-stop: deliver it unchanged, the target cannot tell */
		ptrace(PTRACE_CONT, tid, 0, sig);
		return;
	default:
		break;
	}
	ptrace(PTRACE_CONT, tid, 0, 0);
}

/* A running tracee must be in a ptrace-stop to be detached: interrupt it and take its next
 * stop here (a signal it was about to receive goes with the detach, unchanged). */
static void release_task(struct targets *t, pid_t tid)
{
	int status, sig = 0;

	if (tid == t->in_stop) {
		/* stopped already, its stop taken: no other stop would come to wait for */
		ptrace(PTRACE_DETACH, tid, 0, 0);
		return;
	}
	if (ptrace(PTRACE_INTERRUPT, tid, 0, 0))
		return;
	for (;;) {
		pid_t got = waitpid(tid, &status, __WALL);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0 || !WIFSTOPPED(status))
			return; /* gone: nothing to detach */
		break;
	}
	if (status >> 16 == 0 && WSTOPSIG(status) != SIGTRAP)
		sig = WSTOPSIG(status);
	ptrace(PTRACE_DETACH, tid, 0, sig);
}

void targets__release(struct targets *t, pid_t tgid)
{
	for (int i = 0; i < t->nr;) {
		if (t->tasks[i].tgid != tgid) {
			i++;
			continue;
		}
		release_task(t, t->tasks[i].tid);
		t->tasks[i] = t->tasks[--t->nr];
	}
}

int targets__reap(struct targets *t)
{
	for (;;) {
		int status;
		pid_t tid = waitpid(-1, &status, WNOHANG | __WALL);
		struct task *k;

		if (tid == 0 || (tid < 0 && errno == ECHILD))
			return 0;
		if (tid < 0 && errno == EINTR)
			continue;
		if (tid < 0)
			return -errno;
		if (WIFSTOPPED(status)) {
			on_stop(t, tid, status);
			continue;
		}
		k = find(t, tid);
		if (k && k->tid == k->tgid)
			t->ops.on_exit(t->arg, tid, status);
		else if (!k)
			t->ops.on_exit(t->arg, tid,
				       status); /* a child we forked but never seized */
		drop(t, tid);
	}
}

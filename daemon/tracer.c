// SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
/* daemon/tracer.c — traced processes: ptrace events → probes, session entries, lost counts. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <unistd.h>

#include "attach.h"
#include "client_mark.h"
#include "creds.h"
#include "hook_source.h"
#include "log.h"
#include "pystacks.h"
#include "symbols.h"
#include "targets.h"
#include "tracer.h"

struct tracer {
	struct probe *probe;
	struct attach *attach;
	struct targets *targets;
	struct sessions *sessions;
	struct sources *sources;
	struct hook_source *hook; /* one of @sources (they own it) */
	struct loop *loop;
	int linger_fd; /* one-shot: region scope's uprobes go this long after the last stop */
	const struct tracer_ops *ops;
	void *arg;
};

static void release_proc(struct tracer *tr, struct proc *p)
{
	/* the per-process counter goes with the process: keep its count in the session */
	if (p->s)
		p->s->lost_gone += sources__lost(tr->sources, (uint32_t)p->tgid);
	if (tr->hook)
		hook_source__forget(tr->hook, p->tgid);
	attach__release(tr->attach, p->tgid);
}

static struct proc *add_proc(struct tracer *tr, struct session *s, pid_t tgid)
{
	struct proc *p = session__add_proc(s, tgid);

	if (p)
		attach__track(tr->attach, tgid, s->profile ? s->stack_slot : -1);
	return p;
}

/* Python frames of @tgid are read from its image as it is now (pystacks__bind()): call it with
 * the process stopped or before a credentials re-check. */
static void name_frames(struct session *s, pid_t tgid)
{
	if (pystacks__bind(s->py, tgid))
		pr_debug("pid %d: its Python frames are not named", tgid);
}

/* A new image in @p: probe it, and note a Python interpreter for the results. */
static int attach_image(struct tracer *tr, struct proc *p)
{
	bool python = false;
	int e = attach__image(tr->attach, p->tgid, &python);

	if (python)
		p->s->saw_python = true;
	return e;
}

/* After an exec in a session launched with the hook: the hook if the new image runs it,
 * uprobes otherwise (and the results say both were used). */
static int attach_exec(struct tracer *tr, struct proc *p)
{
	bool python = false;

	p->hook = p->s->hook && tr->hook && attach__hook(tr->attach, p->tgid, &python);
	/* a hook process's threads need nothing from us: no ptrace stop per thread. One that
	 * execs with no stop (a raw execve) leaves us nothing to reach: the hook's memory is
	 * only read and written through an fd bound to this image (docs/hook.md "Trust") */
	if (targets__follow_threads(tr->targets, p->tgid, !p->hook, p->s->kill_on_exit))
		pr_warn("pid %d: cannot change its ptrace options", p->tgid);
	if (!p->hook) {
		p->s->hook_fallback |= p->s->hook;
		/* region scope, no region open: probed at the next region's start */
		p->probes_off = p->s->region_scope && !session__recording(p->s);
		return p->probes_off ? 0 : attach_image(tr, p);
	}
	p->s->saw_python |= python;
	return 0;
}

static void on_fork(void *arg, pid_t pid, pid_t parent)
{
	struct tracer *tr = arg;
	struct proc *pp = sessions__find_proc(tr->sessions, parent), *p;

	if (!pp || sessions__find_proc(tr->sessions, pid))
		return;
	p = add_proc(tr, pp->s, pid);
	if (!p)
		return;
	/* stopped at its fork: the parent's image, checked at its exec or attach */
	name_frames(p->s, pid);
	/* the child runs the parent's image until it execs: the parent's hook (whose events so
	 * far come first) or the same files probed */
	if (pp->hook) {
		sources__drain(tr->sources);
		hook_source__fork(tr->hook, parent, pid);
		p->hook = true;
		return;
	}
	p->probes_off = pp->probes_off; /* region scope, no region open: probed at the next */
	if (!p->probes_off && attach_image(tr, p))
		pr_warn("pid %d (child of %d): no allocator probed", pid, parent);
}

/* A root tracer keeps set-uid, set-gid and file capabilities at exec, where an unprivileged
 * one would not: a new image the owner could not trace on its own ends the session before
 * it runs a single instruction (the caller detaches every process of it). */
static bool exec_denied(struct tracer *tr, struct proc *p)
{
	struct session *s = p->s;
	char why[256];

	if (!creds_check(p->tgid, s->uid, s->gid, why, sizeof(why)))
		return false;
	tr->ops->denied(tr->arg, s, why);
	return true;
}

/* A child that execs one of our clients (benchmemctl from a traced shell, lib/client_mark.h)
 * stops being measured before its first instruction: the tool is not the benchmark. It stays
 * in the session (ptrace still reports its exit) so its requests find the session. What it
 * did between the fork and the exec stays counted. The root is the user's command. */
static bool exec_is_client(struct tracer *tr, struct proc *p)
{
	struct session *s = p->s;
	char exe[64];

	snprintf(exe, sizeof(exe), "/proc/%d/exe", p->tgid);
	if (p->tgid == s->root || symbols_has_section(exe, BM_CLIENT_SECTION) <= 0)
		return false;
	pr_debug("session %u: pid %d runs a benchmem client: not traced further", s->id, p->tgid);
	release_proc(tr, p);
	session__on_exec(s, p); /* the blocks of the image it leaves are freed with it */
	p->is_client = true;
	return true;
}

static void on_exec(void *arg, pid_t pid, bool from_thread)
{
	struct tracer *tr = arg;
	struct proc *p = sessions__find_proc(tr->sessions, pid);

	if (!p)
		return;
	/* uprobe links filter on the task they were made for: the old main thread is gone */
	if (from_thread)
		attach__suspend(tr->attach, pid);
	sources__drain(tr->sources);
	if (p->s->checked && exec_denied(tr, p))
		return;
	if (exec_is_client(tr, p))
		return;
	session__on_exec(p->s, p);
	/* stopped, its credentials checked: Python frames are read from this image only */
	name_frames(p->s, pid);
	if (tr->hook)
		hook_source__forget(tr->hook, pid);
	/* the old image's probes stay (a file-backed uprobe follows its inode); add the new */
	if (attach_exec(tr, p))
		pr_warn("pid %d: the new image maps no allocator we can probe", pid);
}

static void on_exiting(void *arg, pid_t pid)
{
	struct tracer *tr = arg;
	struct proc *p = sessions__find_proc(tr->sessions, pid);

	if (!p)
		return;
	sources__drain(tr->sources);
	/* last chance to read VmHWM and the maps: gone once the process is reaped */
	if (pid == p->s->root)
		tr->ops->root_exiting(tr->arg, p->s);
	sessions__fold_hwm(p->s);
}

static void on_exit_(void *arg, pid_t pid, int status)
{
	struct tracer *tr = arg;
	struct proc *p = sessions__find_proc(tr->sessions, pid);
	struct session *s;

	if (!p) {
		tr->ops->child_exit(tr->arg, pid, status);
		return;
	}
	s = p->s;
	sources__drain(tr->sources);
	release_proc(tr, p);
	if (pid == s->root)
		tr->ops->root_exit(tr->arg, s, status);
	sessions__remove_proc(tr->sessions, p);
	tr->ops->proc_gone(tr->arg, s);
}

static void on_task_gone(void *arg, pid_t tid)
{
	struct tracer *tr = arg;

	probe__forget_thread(tr->probe, (uint32_t)tid);
}

static void on_hello(void *arg, pid_t tgid, pid_t ppid);
static void on_thread_exec(void *arg, pid_t tgid, pid_t tid);
static int admit_hook(void *arg, pid_t tgid, pid_t ppid);

static void on_linger(struct loop *l, int fd, uint32_t events, void *arg);

struct tracer *tracer__new(struct probe *p, bool system_wide, struct sessions *t,
			   struct sources *src, struct loop *l, const struct tracer_ops *ops,
			   void *arg)
{
	static const struct targets_ops tops = { on_fork, on_exec, on_exiting, on_exit_,
						 on_task_gone };
	struct tracer *tr = calloc(1, sizeof(*tr));
	int e;

	if (!tr)
		return NULL;
	*tr = (struct tracer){
		.probe = p, .sessions = t, .sources = src, .loop = l, .ops = ops, .arg = arg
	};
	tr->linger_fd = loop__add_timer(l, 0, on_linger, tr); /* disarmed until a stop */
	/* after the ring buffer: a drain then sees the per-call events before the batches */
	tr->hook = hook_source__new(p, sessions__on_events, t);
	e = tr->hook ? sources__add(src, hook_source__src(tr->hook)) : -errno;
	if (e) { /* the sources own it even on failure */
		free(tr);
		errno = -e;
		return NULL;
	}
	hook_source__on_hello(tr->hook, on_hello, on_thread_exec, admit_hook, tr);
	tr->attach = tr->linger_fd >= 0 ? attach__new(p, system_wide) : NULL;
	tr->targets = tr->attach ? targets__new(&tops, tr) : NULL;
	if (!tr->targets) {
		e = errno;
		tracer__free(tr);
		errno = e;
		return NULL;
	}
	return tr;
}

void tracer__free(struct tracer *tr)
{
	if (!tr)
		return;
	targets__free(tr->targets);
	attach__free(tr->attach);
	if (tr->linger_fd >= 0) {
		loop__del(tr->loop, tr->linger_fd);
		close(tr->linger_fd);
	}
	free(tr);
}

int tracer__trace(struct tracer *tr, struct session *s, pid_t pid, bool launched,
		  const struct creds_grant *g, char *why, size_t len)
{
	struct proc *p = add_proc(tr, s, pid);
	int e = p ? targets__seize(tr->targets, pid, s->kill_on_exit) : -ENOMEM;

	if (e)
		return e;
	/* seized: from here on an exec stops for us, so what the pidfd shows now stays true.
	 * The memory opened before the re-check is of the image it checks, or of an older one
	 * (procmem.h); a launch is bound at its exec stop */
	if (!launched)
		name_frames(s, pid);
	if (g)
		e = creds_recheck(g, pid, why, len);
	if (!e && !launched)
		e = attach__maps(tr->attach, pid);
	if (e == -ENOENT)
		snprintf(why, len, "it maps no allocator (malloc) we can probe");
	else if (e && e != -EPERM && e != -ESRCH)
		snprintf(why, len, "%s", strerror(-e));
	if (e) /* every failure after the seize lets go of it: it runs on, traceable again */
		targets__release(tr->targets, pid);
	return e;
}

void tracer__release(struct tracer *tr, struct session *s, bool remove)
{
	for (int i = 0; i < s->nr_procs; i++) {
		release_proc(tr, s->procs[i]);
		/* a detached process runs on untraced: ptrace lets go of it too, so the user
		 * (or a later attach) can trace it again */
		if (remove)
			targets__release(tr->targets, s->procs[i]->tgid);
	}
	while (remove && s->nr_procs)
		sessions__remove_proc(tr->sessions, s->procs[0]);
}

/* Seizes @p, a child its session's user forked but ptrace did not report: in a user's
 * session, only a process that user could trace (it may have exec'd a set-uid image since its
 * hello), checked on a pidfd and re-checked once seized, as an attach is. 0 or -errno. */
static int seize_child(struct tracer *tr, struct proc *p)
{
	struct session *s = p->s;
	struct creds_grant g = { .pidfd = -1, .uid = s->uid, .gid = s->gid };
	char why[256] = "";
	int e = 0;

	if (s->checked) {
		g.pidfd = creds_pidfd_open(p->tgid);
		e = g.pidfd < 0 ? g.pidfd : creds_read(p->tgid, &g.seen);
		if (!e)
			e = creds_pidfd_alive(g.pidfd);
		if (!e)
			e = creds_allows(&g.seen, p->tgid, s->uid, s->gid, why, sizeof(why));
	}
	if (!e)
		e = targets__seize_process(tr->targets, p->tgid, s->kill_on_exit);
	if (!e) /* before the re-check, as an attach does */
		name_frames(s, p->tgid);
	if (!e && s->checked) {
		e = creds_recheck(&g, p->tgid, why, sizeof(why));
		if (e)
			targets__release(tr->targets, p->tgid);
	}
	if (g.pidfd >= 0)
		close(g.pidfd);
	if (e)
		pr_warn("pid %d: not followed: %s", p->tgid, why[0] ? why : strerror(-e));
	return e;
}

/* A hook process ptrace did not report: forked by a thread of a traced hook process (we do
 * not follow those threads). Its BPF side tracked it already (its parent is the kernel's
 * word); follow it from now on. */
static void on_hello(void *arg, pid_t tgid, pid_t ppid)
{
	struct tracer *tr = arg;
	struct proc *pp, *p;

	p = sessions__find_proc(tr->sessions, tgid);
	if (p) { /* a new image's hook starts recording: region scope may want it quiet */
		if (p->hook && !session__recording(p->s))
			hook_source__set_recording(tr->hook, tgid, false);
		return;
	}
	pp = sessions__find_proc(tr->sessions, ppid);
	if (!pp || !pp->hook)
		return;
	p = add_proc(tr, pp->s, tgid);
	if (!p)
		return;
	p->hook = true;
	if (seize_child(tr, p)) { /* untraced: none of its events are the session's */
		release_proc(tr, p);
		sessions__remove_proc(tr->sessions, p);
	}
}

/* The hook source opened @tgid's memory (at its hello, or at its fork from @ppid): may it read
 * and write that image? Only for a process of a session (a child's hello names its parent's),
 * and in a user's session only an image that user could trace: a thread we do not follow may
 * have exec'd a set-uid image since its exec stop. 0 or -errno. */
static int admit_hook(void *arg, pid_t tgid, pid_t ppid)
{
	struct tracer *tr = arg;
	struct proc *p = sessions__find_proc(tr->sessions, tgid);
	char why[256];
	int e;

	if (!p)
		p = sessions__find_proc(tr->sessions, ppid);
	if (!p || !p->s->checked)
		return p ? 0 : -ESRCH;
	e = creds_check(tgid, p->s->uid, p->s->gid, why, sizeof(why));
	if (e)
		pr_warn("pid %d: its hook is not read: %s", tgid, why);
	return e;
}

/* A thread of a hook process we do not follow is about to exec: follow it, so its exec stops
 * (the new image gets its probes and its credentials re-checked). It waits for that. */
static void on_thread_exec(void *arg, pid_t tgid, pid_t tid)
{
	struct tracer *tr = arg;
	struct proc *p = sessions__find_proc(tr->sessions, tgid);
	int e;

	if (!p || !p->hook)
		return;
	e = targets__seize_thread(tr->targets, tid, tgid, p->s->kill_on_exit);
	if (e)
		pr_warn("pid %d: cannot follow thread %d before its exec: %s", tgid, tid,
			strerror(-e));
}

/* Region scope on the uprobe path: a process's probes go while no region is open (a trap per
 * call is all a timed round would pay) and come back before the region's first event. */
static void uprobes_scope(struct tracer *tr, struct proc *p, bool on)
{
	bool python = false;

	if (on == !p->probes_off)
		return;
	p->probes_off = !on;
	pr_debug("session %u: pid %d: allocator uprobes %s (region scope)", p->s->id, p->tgid,
		 on ? "attached again" : "released");
	if (!on) {
		attach__suspend(tr->attach, p->tgid);
		return;
	}
	/* an attached root was probed by its mappings, everything else by its image */
	if (attach__resume(tr->attach, p->tgid, p->tgid == p->s->root && !p->s->launched, &python))
		pr_debug("pid %d: no allocator probed again", p->tgid);
	p->s->saw_python |= python;
}

/* Closing a link waits for an RCU sync (20-60 ms, the closer threads do it) and a breakpoint
 * stays until its last link is closed: one suspension per memory pass would queue closes
 * (16 passes: the timed rounds still trapped) and re-probe at every start. So the uprobes go
 * once the session has had no region for SCOPE_LINGER_MS: the passes of one benchmark, back to
 * back, keep them; a benchmark's timed rounds start without them a few ms later. */
#define SCOPE_LINGER_MS 5

static void on_linger(struct loop *l, int fd, uint32_t events, void *arg)
{
	struct tracer *tr = arg;
	uint64_t n;

	(void)l;
	(void)events;
	if (read(fd, &n, sizeof(n)) != sizeof(n))
		return;
	for (int i = 0; i < sessions__count(tr->sessions); i++) {
		struct session *s = sessions__at(tr->sessions, i);

		for (int j = 0; s->region_scope && !session__recording(s) && j < s->nr_procs; j++) {
			if (!s->procs[j]->hook && !s->procs[j]->is_client)
				uprobes_scope(tr, s->procs[j], false);
		}
	}
}

void tracer__recording(struct tracer *tr, struct session *s)
{
	struct itimerspec its = { .it_value = { 0, SCOPE_LINGER_MS * 1000000L } };
	bool on = session__recording(s), linger = false;

	for (int i = 0; i < s->nr_procs; i++) {
		struct proc *p = s->procs[i];

		if (p->hook)
			hook_source__set_recording(tr->hook, p->tgid, on);
		else if (!p->is_client && (on || !s->region_scope))
			uprobes_scope(tr, p, true);
		else if (!p->is_client)
			linger |= !p->probes_off;
	}
	if (linger && timerfd_settime(tr->linger_fd, 0, &its, NULL))
		pr_warn("region scope: cannot arm the timer: %s", strerror(errno));
}

void tracer__reap(struct tracer *tr)
{
	targets__reap(tr->targets);
}

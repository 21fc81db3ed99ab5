/* SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause) */
/* daemon/loop.h — the daemon's only event loop. Callbacks run to completion and must not
 * block; a slow job is split or handed to a timer. */
#ifndef BM_LOOP_H
#define BM_LOOP_H

#include <signal.h>
#include <stdint.h>

struct loop;
typedef void loop_fn(struct loop *l, int fd, uint32_t events, void *arg);

struct loop *loop__new(void);	 /* NULL + errno */
void loop__free(struct loop *l); /* NULL-safe; closes only its epoll fd */
/* Watches @fd for @events (EPOLLIN...); @fn(@arg) runs when ready. 0 or -errno. */
int loop__add(struct loop *l, int fd, uint32_t events, loop_fn *fn, void *arg);
int loop__mod(struct loop *l, int fd, uint32_t events);
void loop__del(struct loop *l, int fd);
/* Blocks the signals of @set and watches a signalfd for them: @fn(@arg) reads the
 * signalfd_siginfo records. Returns the fd (the caller closes it after loop__free) or -errno. */
int loop__add_signals(struct loop *l, const sigset_t *set, loop_fn *fn, void *arg);
/* A timer firing every @ms milliseconds: @fn(@arg) reads its 8-byte count. Returns the fd (the
 * caller closes it) or -errno. */
int loop__add_timer(struct loop *l, unsigned int ms, loop_fn *fn, void *arg);
int loop__run(struct loop *l); /* until loop__stop(); 0 or -errno */
void loop__stop(struct loop *l);

#endif /* BM_LOOP_H */

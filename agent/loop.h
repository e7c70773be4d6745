/* The agent's epoll reactor.
 *
 * The agent does not use lib/event's event_fd for its two channels: a virtio-serial port
 * "hangs up" whenever the host end is closed and comes back when it reopens, and bytes
 * queued for the host must survive that (lib/event drops the queue on hang-up). So the
 * agent keeps this small reactor: a watch is an fd with the epoll events wanted and a
 * callback; the owner changes the events as its buffers fill and drain. Callbacks may
 * remove any watch, including the one being dispatched: memory is released only after
 * the batch of events is done. */
#ifndef KATA_AGENT_LOOP_H
#define KATA_AGENT_LOOP_H

#include "error.h"

#include <stdbool.h>
#include <stdint.h>

struct agent_loop;
struct agent_watch;

typedef void (*agent_watch_fn)(struct agent_watch *watch, uint32_t revents, void *data);

struct agent_loop *agent_loop_new(kata_error_t *err);
void agent_loop_free(struct agent_loop *loop);

/* Waits up to timeout_ms (-1: forever) and dispatches what is ready. */
int agent_loop_run_once(struct agent_loop *loop, int timeout_ms, kata_error_t *err);

/* Watches fd (not owned: the caller closes it after removing the watch) for events
 * (EPOLLIN, EPOLLOUT, EPOLLET...); events may be 0 (paused). */
struct agent_watch *agent_watch_add(struct agent_loop *loop, int fd, uint32_t events,
                                    agent_watch_fn fn, void *data, kata_error_t *err);
/* Changes the events watched; a no-op when they do not change. */
void agent_watch_set_events(struct agent_watch *watch, uint32_t events);
uint32_t agent_watch_get_events(const struct agent_watch *watch);
/* Stops watching; the watch is freed after the current batch. NULL ok. */
void agent_watch_remove(struct agent_watch *watch);

#endif

#include "loop.h"

#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <unistd.h>

#define MAX_EVENTS 32

struct agent_watch {
	struct agent_loop *loop;
	int fd;
	uint32_t events;
	agent_watch_fn fn;
	void *data;
	bool removed;
	struct agent_watch *next_dead;
};

struct agent_loop {
	int epfd;
	struct agent_watch *dead; /* removed during this batch, freed after it */
};

struct agent_loop *agent_loop_new(kata_error_t *err)
{
	struct agent_loop *loop;
	int epfd = epoll_create1(EPOLL_CLOEXEC);

	if (epfd < 0) {
		kata_error_sys(err, "epoll_create1");
		return NULL;
	}
	loop = xzalloc(sizeof(*loop));
	loop->epfd = epfd;
	return loop;
}

static void free_dead(struct agent_loop *loop)
{
	while (loop->dead != NULL) {
		struct agent_watch *w = loop->dead;

		loop->dead = w->next_dead;
		free(w);
	}
}

void agent_loop_free(struct agent_loop *loop)
{
	if (loop == NULL)
		return;
	free_dead(loop);
	close(loop->epfd);
	free(loop);
}

int agent_loop_run_once(struct agent_loop *loop, int timeout_ms, kata_error_t *err)
{
	struct epoll_event events[MAX_EVENTS];
	int n = epoll_wait(loop->epfd, events, MAX_EVENTS, timeout_ms);

	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return kata_error_sys(err, "epoll_wait");
	}
	for (int i = 0; i < n; i++) {
		struct agent_watch *w = events[i].data.ptr;

		if (!w->removed)
			w->fn(w, events[i].events, w->data);
	}
	free_dead(loop);
	return n;
}

struct agent_watch *agent_watch_add(struct agent_loop *loop, int fd, uint32_t events,
                                    agent_watch_fn fn, void *data, kata_error_t *err)
{
	struct agent_watch *w = xzalloc(sizeof(*w));
	struct epoll_event ev = { .events = events, .data.ptr = w };

	w->loop = loop;
	w->fd = fd;
	w->events = events;
	w->fn = fn;
	w->data = data;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		kata_error_sys(err, "epoll_ctl add fd %d", fd);
		free(w);
		return NULL;
	}
	return w;
}

void agent_watch_set_events(struct agent_watch *w, uint32_t events)
{
	struct epoll_event ev = { .events = events, .data.ptr = w };

	if (w == NULL || w->removed || w->events == events)
		return;
	if (epoll_ctl(w->loop->epfd, EPOLL_CTL_MOD, w->fd, &ev) < 0) {
		log_warning("epoll_ctl mod fd %d: %m", w->fd);
		return;
	}
	w->events = events;
}

uint32_t agent_watch_get_events(const struct agent_watch *w)
{
	return w->events;
}

void agent_watch_remove(struct agent_watch *w)
{
	if (w == NULL || w->removed)
		return;
	(void)epoll_ctl(w->loop->epfd, EPOLL_CTL_DEL, w->fd, NULL);
	w->removed = true;
	w->next_dead = w->loop->dead;
	w->loop->dead = w;
}

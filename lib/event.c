/* The event loop: epoll, signalfd, timerfd, buffered writes (event.h). */
#include "event.h"
#include "cleanup.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include <sys/timerfd.h>
#include <sys/uio.h>
#include <sys/wait.h>
#include <unistd.h>

enum source_kind { SOURCE_FD, SOURCE_TIMER, SOURCE_SIGNAL };

/* The first member of everything registered in epoll: tells the dispatcher what it got. */
struct event_source {
	enum source_kind kind;
};

struct event_fd {
	struct event_source source;
	struct event_loop *loop;
	struct event_fd *next; /* loop->fds, or loop->dead_fds once closed */
	int fd;
	unsigned flags;
	struct event_fd_ops ops;
	void *data;

	bool closed;
	bool reading;
	bool in_epoll;
	uint32_t epoll_mask;
	bool epoll_hup;    /* epoll said EPOLLHUP or EPOLLERR */
	bool eof_read;     /* event_fd_read() saw end of file */
	bool read_failed;  /* event_fd_read() saw an error */
	bool write_failed; /* a write failed: nothing more can be written */
	bool hangup_done;  /* the hang-up callback ran (or the fd was closed for it) */
	bool close_when_flushed;
	bool check_hangup;  /* run_pending() looks at it */
	bool peer_away;     /* EVENT_FD_RECONNECTS: hung up, waiting for the peer's return */
	bool readable_seen; /* this dispatch offered readable() data */
	unsigned away_round;

	/* write queue: bytes [head, head + len) of buf */
	char *buf;
	size_t head, len, cap;
	size_t write_limit, low_water;
	bool above_low_water;
};

struct event_timer {
	struct event_source source;
	struct event_loop *loop;
	struct event_timer *next;
	int fd;
	bool dead;
	event_timer_fn fn;
	void *data;
};

struct child_watch {
	struct child_watch *next;
	pid_t pid;
	event_child_fn fn;
	void *data;
	bool exited;
	int status;
};

struct unclaimed_child {
	pid_t pid;
	int status;
};

struct signal_handler {
	event_signal_fn fn;
	void *data;
};

struct event_loop {
	int epfd;
	bool quit;
	int quit_status;

	struct event_fd *fds;
	struct event_fd *dead_fds;
	struct event_timer *timers;
	struct event_timer *dead_timers;
	bool pending;        /* deferred work (hang-ups, child statuses): do not sleep */
	unsigned away_count; /* EVENT_FD_RECONNECTS fds whose peer is away */
	unsigned away_round;

	struct event_source signal_source;
	int sigfd;
	sigset_t sigmask;
	struct signal_handler signals[_NSIG];

	struct child_watch *children;
	struct unclaimed_child unclaimed[EVENT_MAX_UNCLAIMED_CHILDREN];
	size_t unclaimed_count;
};

#define MAX_EVENTS_PER_WAIT 64

static void fd_update_epoll(struct event_fd *efd);
static void fd_maybe_hangup(struct event_fd *efd);
static void fd_write_queue(struct event_fd *efd);

/* poll(2) tells whether the peer of fd is there now (epoll's edge only wakes us up). */
static bool peer_present(int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN | POLLOUT };

	return poll(&pfd, 1, 0) >= 0 && !(pfd.revents & (POLLHUP | POLLERR | POLLNVAL));
}

static void fd_set_away(struct event_fd *efd, bool away)
{
	if (efd->peer_away == away)
		return;
	efd->peer_away = away;
	if (away)
		efd->loop->away_count++;
	else
		efd->loop->away_count--;
}

static void fd_schedule_check(struct event_fd *efd)
{
	efd->check_hangup = true;
	efd->loop->pending = true;
}

struct event_loop *event_loop_new(kata_error_t *err)
{
	struct event_loop *loop = xzalloc(sizeof(*loop));

	loop->sigfd = -1;
	loop->signal_source.kind = SOURCE_SIGNAL;
	sigemptyset(&loop->sigmask);
	loop->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (loop->epfd < 0) {
		kata_error_sys(err, "epoll_create1");
		free(loop);
		return NULL;
	}
	/* A daemon must see EPIPE from write(2), not die of SIGPIPE. */
	signal(SIGPIPE, SIG_IGN);
	return loop;
}

static void free_dead(struct event_loop *loop)
{
	while (loop->dead_fds != NULL) {
		struct event_fd *efd = loop->dead_fds;
		loop->dead_fds = efd->next;
		free(efd);
	}
	while (loop->dead_timers != NULL) {
		struct event_timer *t = loop->dead_timers;
		loop->dead_timers = t->next;
		free(t);
	}
}

void event_loop_free(struct event_loop *loop)
{
	if (loop == NULL)
		return;
	while (loop->fds != NULL)
		event_fd_close(loop->fds);
	while (loop->timers != NULL)
		event_timer_free(loop->timers);
	free_dead(loop);
	while (loop->children != NULL) {
		struct child_watch *w = loop->children;
		loop->children = w->next;
		free(w);
	}
	if (loop->sigfd >= 0)
		close(loop->sigfd);
	close(loop->epfd);
	free(loop);
}

void event_loop_quit(struct event_loop *loop, int status)
{
	loop->quit = true;
	loop->quit_status = status;
}

bool event_loop_quitting(const struct event_loop *loop)
{
	return loop->quit;
}

/* --- file descriptors ---------------------------------------------------------------- */

struct event_fd *event_fd_add(struct event_loop *loop, int fd, const struct event_fd_ops *ops,
                              void *data, unsigned flags, kata_error_t *err)
{
	struct event_fd *efd;
	int fl = fcntl(fd, F_GETFL);

	if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) {
		kata_error_sys(err, "fd %d: set non-blocking", fd);
		return NULL;
	}
	efd = xzalloc(sizeof(*efd));
	efd->source.kind = SOURCE_FD;
	efd->loop = loop;
	efd->fd = fd;
	efd->flags = flags;
	efd->ops = *ops;
	efd->data = data;
	efd->reading = ops->readable != NULL;
	efd->write_limit = EVENT_DEFAULT_WRITE_LIMIT;

	struct epoll_event ev = { .events = efd->reading ? EPOLLIN : 0, .data.ptr = efd };
	bool away = (flags & EVENT_FD_RECONNECTS) && !peer_present(fd);

	if (away)
		ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		kata_error_sys(err, "fd %d: epoll_ctl add", fd);
		free(efd);
		return NULL;
	}
	efd->in_epoll = true;
	efd->epoll_mask = ev.events;
	efd->next = loop->fds;
	loop->fds = efd;
	fd_set_away(efd, away);
	return efd;
}

static void unlink_fd(struct event_fd *efd)
{
	struct event_fd **p = &efd->loop->fds;

	while (*p != NULL && *p != efd)
		p = &(*p)->next;
	if (*p == efd)
		*p = efd->next;
}

void event_fd_close(struct event_fd *efd)
{
	if (efd == NULL || efd->closed)
		return;
	efd->closed = true;
	fd_set_away(efd, false);
	if (efd->in_epoll)
		epoll_ctl(efd->loop->epfd, EPOLL_CTL_DEL, efd->fd, NULL);
	efd->in_epoll = false;
	if (!(efd->flags & EVENT_FD_NO_CLOSE))
		close(efd->fd);
	efd->fd = -1;
	free(efd->buf);
	efd->buf = NULL;
	efd->len = 0;
	unlink_fd(efd);
	efd->next = efd->loop->dead_fds;
	efd->loop->dead_fds = efd;
}

void event_fd_close_when_flushed(struct event_fd *efd)
{
	if (efd == NULL || efd->closed)
		return;
	if (efd->len == 0 || efd->write_failed) {
		event_fd_close(efd);
		return;
	}
	efd->close_when_flushed = true;
	efd->reading = false;
	fd_update_epoll(efd);
}

int event_fd_get_fd(const struct event_fd *efd)
{
	return efd->fd;
}

void *event_fd_get_data(const struct event_fd *efd)
{
	return efd->data;
}

struct event_loop *event_fd_get_loop(const struct event_fd *efd)
{
	return efd->loop;
}

bool event_fd_is_hung_up(const struct event_fd *efd)
{
	return efd->closed || efd->hangup_done || efd->epoll_hup || efd->eof_read ||
	       efd->read_failed || efd->write_failed || efd->peer_away;
}

/* Puts into epoll what the fd waits for now. With nothing to wait for, an fd that
 * already reported a hang-up leaves epoll, which would otherwise report it forever. */
static void fd_update_epoll(struct event_fd *efd)
{
	uint32_t mask = 0;
	struct epoll_event ev = { 0 };

	if (efd->closed)
		return;
	if (efd->reading && efd->ops.readable != NULL && !efd->hangup_done && !efd->eof_read &&
	    !efd->read_failed)
		mask |= EPOLLIN;
	if (efd->len > 0 && !efd->write_failed)
		mask |= EPOLLOUT;
	/* Edge-triggered: an absent peer polls as hung up all the time; the fd's wake-up
	 * when the peer comes back is the edge waited for. */
	if (efd->peer_away)
		mask = EPOLLIN | EPOLLOUT | EPOLLET;

	if (mask == 0 && (efd->epoll_hup || efd->hangup_done || efd->eof_read)) {
		if (efd->in_epoll)
			epoll_ctl(efd->loop->epfd, EPOLL_CTL_DEL, efd->fd, NULL);
		efd->in_epoll = false;
		return;
	}
	if (efd->in_epoll && mask == efd->epoll_mask)
		return;
	ev.events = mask;
	ev.data.ptr = efd;
	if (efd->in_epoll) {
		epoll_ctl(efd->loop->epfd, EPOLL_CTL_MOD, efd->fd, &ev);
	} else if (epoll_ctl(efd->loop->epfd, EPOLL_CTL_ADD, efd->fd, &ev) == 0) {
		efd->in_epoll = true;
	}
	efd->epoll_mask = mask;
}

ssize_t event_fd_read(struct event_fd *efd, void *buf, size_t len)
{
	ssize_t n;

	if (efd->closed || efd->eof_read || efd->read_failed) {
		errno = EBADF;
		return efd->closed || efd->read_failed ? -1 : 0;
	}
	if (efd->peer_away)
		return 0;
	do
		n = read(efd->fd, buf, len);
	while (n < 0 && errno == EINTR);
	if (n > 0)
		return n;
	if (n == 0) {
		if (len > 0) {
			efd->eof_read = true;
			fd_schedule_check(efd);
		}
		return 0;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK)
		return 0;
	efd->read_failed = true;
	fd_schedule_check(efd);
	return -1;
}

void event_fd_set_reading(struct event_fd *efd, bool reading)
{
	if (efd->closed || efd->close_when_flushed || efd->reading == reading)
		return;
	efd->reading = reading;
	fd_update_epoll(efd);
	if (reading)
		fd_schedule_check(efd); /* a hang-up may have waited for this */
}

bool event_fd_is_reading(const struct event_fd *efd)
{
	return efd->reading && !efd->closed;
}

size_t event_fd_queued(const struct event_fd *efd)
{
	return efd->len;
}

void event_fd_set_write_limit(struct event_fd *efd, size_t limit)
{
	efd->write_limit = limit;
}

void event_fd_set_low_water(struct event_fd *efd, size_t low_water)
{
	efd->low_water = low_water;
}

static void queue_append(struct event_fd *efd, const void *p, size_t n)
{
	if (n == 0)
		return;
	if (efd->head > 0 && efd->head + efd->len + n > efd->cap) {
		memmove(efd->buf, efd->buf + efd->head, efd->len);
		efd->head = 0;
	}
	if (efd->head + efd->len + n > efd->cap) {
		size_t cap = efd->cap ? efd->cap : 4096;
		while (cap < efd->len + n)
			cap *= 2;
		efd->buf = xrealloc(efd->buf, cap);
		efd->cap = cap;
	}
	memcpy(efd->buf + efd->head + efd->len, p, n);
	efd->len += n;
}

/* With EVENT_FD_RECONNECTS the queue waits for the peer's return. */
static void mark_write_failed(struct event_fd *efd)
{
	efd->write_failed = true;
	if (!(efd->flags & EVENT_FD_RECONNECTS)) {
		efd->len = 0;
		efd->head = 0;
	}
	fd_schedule_check(efd);
}

/* Writes what the fd takes from the queue. */
static void fd_flush(struct event_fd *efd)
{
	while (efd->len > 0 && !efd->peer_away && !efd->write_failed) {
		ssize_t n = write(efd->fd, efd->buf + efd->head, efd->len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (n <= 0) {
			mark_write_failed(efd);
			break;
		}
		efd->head += n;
		efd->len -= n;
	}
	if (efd->len == 0)
		efd->head = 0;
}

static void fd_after_write(struct event_fd *efd)
{
	if (efd->len > efd->low_water)
		efd->above_low_water = true;
	fd_update_epoll(efd);
}

int event_fd_writev(struct event_fd *efd, const struct iovec *iov, int iovcnt, kata_error_t *err)
{
	size_t total = 0;
	int i = 0;
	size_t skip = 0;

	bool reconnects = efd->flags & EVENT_FD_RECONNECTS;

	if (efd->closed || efd->close_when_flushed || (efd->write_failed && !reconnects))
		return kata_error_set(err, EPIPE, "write to a closed or failed descriptor");
	for (int k = 0; k < iovcnt; k++)
		total += iov[k].iov_len;
	/* The limit bounds what waits; an empty queue always takes one message. */
	if (efd->len > 0 && efd->len + total > efd->write_limit)
		return kata_error_set(err, ENOBUFS, "write queue full (%zu bytes queued)",
		                      efd->len);

	if (efd->len == 0 && total > 0 && !efd->peer_away && !efd->write_failed) {
		ssize_t n;
		do
			n = writev(efd->fd, iov, iovcnt);
		while (n < 0 && errno == EINTR);
		if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK) {
			int saved = errno;
			mark_write_failed(efd);
			if (!reconnects)
				return kata_error_set(err, saved, "write: %s", strerror(saved));
		}
		if (n > 0)
			skip = n;
	}
	for (i = 0; i < iovcnt; i++) {
		if (skip >= iov[i].iov_len) {
			skip -= iov[i].iov_len;
			continue;
		}
		queue_append(efd, (const char *)iov[i].iov_base + skip, iov[i].iov_len - skip);
		skip = 0;
	}
	fd_after_write(efd);
	return 0;
}

int event_fd_write(struct event_fd *efd, const void *buf, size_t len, kata_error_t *err)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };

	return event_fd_writev(efd, &iov, 1, err);
}

/* EVENT_FD_RECONNECTS: the peer hung up. Unless reading is paused, what it sent is read
 * first: the read that reaches end of file (or fails) says it is over. */
static void fd_peer_gone(struct event_fd *efd)
{
	if (efd->epoll_hup && !efd->eof_read && !efd->read_failed && !efd->write_failed &&
	    efd->reading && efd->ops.readable != NULL && efd->readable_seen)
		return; /* level-triggered: readable() is called again */
	efd->epoll_hup = false;
	efd->eof_read = false;
	efd->read_failed = false;
	efd->write_failed = false;
	fd_set_away(efd, true);
	fd_update_epoll(efd);
	if (efd->ops.hangup != NULL)
		efd->ops.hangup(efd, efd->data);
}

/* EVENT_FD_RECONNECTS: the peer is back when poll(2) no longer says it is hung up. */
static void fd_check_peer(struct event_fd *efd)
{
	if (!efd->peer_away || !peer_present(efd->fd))
		return;
	fd_set_away(efd, false);
	/* A fresh registration: level-triggered again. */
	fd_update_epoll(efd);
	if (efd->ops.reconnected != NULL)
		efd->ops.reconnected(efd, efd->data);
	if (efd->closed || efd->peer_away)
		return;
	fd_write_queue(efd);
}

/* Calls the hang-up callback once the fd hung up and nothing is left to read. */
static void fd_maybe_hangup(struct event_fd *efd)
{
	int pending = 0;

	if (efd->closed || efd->hangup_done || efd->peer_away)
		return;
	if (!efd->epoll_hup && !efd->eof_read && !efd->read_failed && !efd->write_failed)
		return;
	if (efd->close_when_flushed) {
		event_fd_close(efd); /* nobody listens any more */
		return;
	}
	if (efd->flags & EVENT_FD_RECONNECTS) {
		fd_peer_gone(efd);
		return;
	}
	if (efd->ops.readable != NULL && !efd->eof_read && !efd->read_failed &&
	    !efd->write_failed) {
		if (!efd->reading) {
			fd_update_epoll(efd); /* parked until reading resumes */
			return;
		}
		if (ioctl(efd->fd, FIONREAD, &pending) == 0 && pending > 0)
			return; /* epoll reports it readable again */
	}
	efd->hangup_done = true;
	fd_update_epoll(efd);
	if (efd->ops.hangup != NULL)
		efd->ops.hangup(efd, efd->data);
	else
		event_fd_close(efd);
}

/* Writes what the fd takes of the queue; then closes it if that was waited for, or says
 * it drained. */
static void fd_write_queue(struct event_fd *efd)
{
	fd_flush(efd);
	if (efd->len == 0 && efd->close_when_flushed) {
		event_fd_close(efd);
		return;
	}
	if (efd->above_low_water && efd->len <= efd->low_water) {
		efd->above_low_water = false;
		if (efd->ops.drained != NULL && !efd->write_failed)
			efd->ops.drained(efd, efd->data);
		if (efd->closed)
			return;
	}
	fd_update_epoll(efd);
}

static void fd_dispatch(struct event_fd *efd, uint32_t events)
{
	if (efd->closed)
		return;
	if (efd->peer_away) {
		fd_check_peer(efd);
		return;
	}
	if (events & (EPOLLHUP | EPOLLERR))
		efd->epoll_hup = true;
	if ((events & (EPOLLOUT | EPOLLERR | EPOLLHUP)) && efd->len > 0) {
		fd_write_queue(efd);
		if (efd->closed)
			return;
	}
	efd->readable_seen = false;
	if ((events & EPOLLIN) && efd->reading && efd->ops.readable != NULL && !efd->hangup_done &&
	    !efd->eof_read && !efd->read_failed && !efd->peer_away) {
		efd->readable_seen = true;
		efd->ops.readable(efd, efd->data);
		if (efd->closed)
			return;
	}
	fd_maybe_hangup(efd);
	if (!efd->closed)
		fd_update_epoll(efd);
}

/* --- signals --------------------------------------------------------------------------- */

int event_loop_add_signal(struct event_loop *loop, int signo, event_signal_fn fn, void *data,
                          kata_error_t *err)
{
	sigset_t one;
	int fd;

	if (signo <= 0 || signo >= _NSIG)
		return kata_error_set(err, EINVAL, "signal %d out of range", signo);
	sigemptyset(&one);
	sigaddset(&one, signo);
	if (sigprocmask(SIG_BLOCK, &one, NULL) < 0)
		return kata_error_sys(err, "sigprocmask");
	sigaddset(&loop->sigmask, signo);
	fd = signalfd(loop->sigfd, &loop->sigmask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (fd < 0)
		return kata_error_sys(err, "signalfd");
	if (loop->sigfd < 0) {
		struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &loop->signal_source };
		if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
			kata_error_sys(err, "epoll_ctl signalfd");
			close(fd);
			return -1;
		}
		loop->sigfd = fd;
	}
	loop->signals[signo].fn = fn;
	loop->signals[signo].data = data;
	return 0;
}

static void signals_dispatch(struct event_loop *loop)
{
	struct signalfd_siginfo info;

	while (read(loop->sigfd, &info, sizeof(info)) == (ssize_t)sizeof(info)) {
		struct signal_handler *h;
		if (info.ssi_signo == 0 || info.ssi_signo >= _NSIG)
			continue;
		h = &loop->signals[info.ssi_signo];
		if (h->fn != NULL)
			h->fn(loop, &info, h->data);
	}
}

/* --- children -------------------------------------------------------------------------- */

static void sigchld_handler(struct event_loop *loop, const struct signalfd_siginfo *info,
                            void *data)
{
	event_loop_reap_children(loop);
}

int event_loop_handle_sigchld(struct event_loop *loop, kata_error_t *err)
{
	return event_loop_add_signal(loop, SIGCHLD, sigchld_handler, NULL, err);
}

static void remember_unclaimed(struct event_loop *loop, pid_t pid, int status)
{
	if (loop->unclaimed_count == EVENT_MAX_UNCLAIMED_CHILDREN) {
		memmove(&loop->unclaimed[0], &loop->unclaimed[1],
		        (EVENT_MAX_UNCLAIMED_CHILDREN - 1) * sizeof(loop->unclaimed[0]));
		loop->unclaimed_count--;
	}
	loop->unclaimed[loop->unclaimed_count].pid = pid;
	loop->unclaimed[loop->unclaimed_count].status = status;
	loop->unclaimed_count++;
}

/* Calls the watchers whose child exited; each is removed before its callback runs. */
static void children_dispatch(struct event_loop *loop)
{
	bool again = true;

	while (again) {
		again = false;
		for (struct child_watch **p = &loop->children; *p != NULL; p = &(*p)->next) {
			struct child_watch *w = *p;
			if (!w->exited)
				continue;
			*p = w->next;
			w->fn(loop, w->pid, w->status, w->data);
			free(w);
			again = true; /* the list may have changed under us */
			break;
		}
	}
}

int event_loop_reap_children(struct event_loop *loop)
{
	int count = 0;
	int status;
	pid_t pid;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		struct child_watch *w;
		count++;
		for (w = loop->children; w != NULL; w = w->next)
			if (w->pid == pid && !w->exited)
				break;
		if (w != NULL) {
			w->exited = true;
			w->status = status;
		} else {
			remember_unclaimed(loop, pid, status);
		}
	}
	children_dispatch(loop);
	return count;
}

/* A child pid is still ours (running, or exited and not reaped yet). */
static bool child_not_reaped(pid_t pid)
{
	siginfo_t info = { 0 };

	return waitid(P_PID, (id_t)pid, &info, WEXITED | WNOHANG | WNOWAIT) == 0;
}

void event_loop_watch_child(struct event_loop *loop, pid_t pid, event_child_fn fn, void *data)
{
	struct child_watch *w = xzalloc(sizeof(*w));

	w->pid = pid;
	w->fn = fn;
	w->data = data;
	for (size_t i = 0; i < loop->unclaimed_count; i++) {
		if (loop->unclaimed[i].pid != pid)
			continue;
		/* A child of that pid not reaped yet is a new one (the pid was reused): the
		 * status remembered is its predecessor's. */
		bool stale = child_not_reaped(pid);

		if (!stale) {
			w->exited = true;
			w->status = loop->unclaimed[i].status;
			loop->pending = true;
		}
		memmove(&loop->unclaimed[i], &loop->unclaimed[i + 1],
		        (loop->unclaimed_count - i - 1) * sizeof(loop->unclaimed[0]));
		loop->unclaimed_count--;
		break;
	}
	w->next = loop->children;
	loop->children = w;
}

void event_loop_unwatch_child(struct event_loop *loop, pid_t pid)
{
	for (struct child_watch **p = &loop->children; *p != NULL; p = &(*p)->next) {
		struct child_watch *w = *p;
		if (w->pid != pid)
			continue;
		*p = w->next;
		if (w->exited)
			remember_unclaimed(loop, w->pid, w->status);
		free(w);
		return;
	}
}

/* --- timers ---------------------------------------------------------------------------- */

static void ms_to_timespec(uint64_t ms, struct timespec *ts)
{
	ts->tv_sec = ms / 1000;
	ts->tv_nsec = (ms % 1000) * 1000000;
}

void event_timer_rearm(struct event_timer *timer, uint64_t ms, uint64_t interval_ms)
{
	struct itimerspec its = { 0 };

	if (timer == NULL || timer->dead)
		return;
	ms_to_timespec(ms, &its.it_value);
	ms_to_timespec(interval_ms, &its.it_interval);
	if (ms == 0)
		its.it_value.tv_nsec = 1; /* 0 would disarm */
	timerfd_settime(timer->fd, 0, &its, NULL);
}

void event_timer_disarm(struct event_timer *timer)
{
	struct itimerspec its = { 0 };
	uint64_t ticks;

	if (timer == NULL || timer->dead)
		return;
	timerfd_settime(timer->fd, 0, &its, NULL);
	(void)!read(timer->fd, &ticks, sizeof(ticks)); /* forget an expiry not yet seen */
}

struct event_timer *event_timer_add(struct event_loop *loop, uint64_t ms, uint64_t interval_ms,
                                    event_timer_fn fn, void *data, kata_error_t *err)
{
	struct event_timer *timer;
	struct epoll_event ev = { .events = EPOLLIN };
	int fd = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);

	if (fd < 0) {
		kata_error_sys(err, "timerfd_create");
		return NULL;
	}
	timer = xzalloc(sizeof(*timer));
	timer->source.kind = SOURCE_TIMER;
	timer->loop = loop;
	timer->fd = fd;
	timer->fn = fn;
	timer->data = data;
	ev.data.ptr = timer;
	if (epoll_ctl(loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
		kata_error_sys(err, "epoll_ctl timerfd");
		close(fd);
		free(timer);
		return NULL;
	}
	timer->next = loop->timers;
	loop->timers = timer;
	event_timer_rearm(timer, ms, interval_ms);
	return timer;
}

void event_timer_free(struct event_timer *timer)
{
	struct event_timer **p;

	if (timer == NULL || timer->dead)
		return;
	timer->dead = true;
	epoll_ctl(timer->loop->epfd, EPOLL_CTL_DEL, timer->fd, NULL);
	close(timer->fd);
	timer->fd = -1;
	for (p = &timer->loop->timers; *p != NULL && *p != timer; p = &(*p)->next)
		;
	if (*p == timer)
		*p = timer->next;
	timer->next = timer->loop->dead_timers;
	timer->loop->dead_timers = timer;
}

static void timer_dispatch(struct event_timer *timer)
{
	uint64_t ticks;

	if (timer->dead)
		return;
	if (read(timer->fd, &ticks, sizeof(ticks)) != (ssize_t)sizeof(ticks))
		return; /* disarmed meanwhile */
	timer->fn(timer, timer->data);
}

/* --- running ----------------------------------------------------------------------------- */

/* Work that does not come from epoll: hang-ups found while writing or reading, reading
 * resumed on a parked fd, statuses of children reaped before they were watched. A
 * callback may close any fd, so the list is walked again from its head each time. */
static void run_pending(struct event_loop *loop)
{
	loop->pending = false;
	for (;;) {
		struct event_fd *efd = loop->fds;
		while (efd != NULL && !efd->check_hangup)
			efd = efd->next;
		if (efd == NULL)
			break;
		efd->check_hangup = false;
		fd_maybe_hangup(efd);
	}
	children_dispatch(loop);
}

/* Checks each fd whose peer is away (a fallback to its wake-up). A callback may close
 * any fd, so the list is walked again from its head each time. */
static void check_away_peers(struct event_loop *loop)
{
	if (loop->away_count == 0)
		return;
	loop->away_round++;
	for (;;) {
		struct event_fd *efd = loop->fds;
		while (efd != NULL && (!efd->peer_away || efd->away_round == loop->away_round))
			efd = efd->next;
		if (efd == NULL)
			break;
		efd->away_round = loop->away_round;
		fd_check_peer(efd);
	}
}

int event_loop_run_once(struct event_loop *loop, int timeout_ms, kata_error_t *err)
{
	struct epoll_event events[MAX_EVENTS_PER_WAIT];
	int n;

	run_pending(loop);
	free_dead(loop);
	if (loop->quit)
		return 0;
	if (loop->pending)
		timeout_ms = 0;
	if (loop->away_count > 0 && (timeout_ms < 0 || timeout_ms > EVENT_RECONNECT_POLL_MS))
		timeout_ms = EVENT_RECONNECT_POLL_MS;
	n = epoll_wait(loop->epfd, events, MAX_EVENTS_PER_WAIT, timeout_ms);
	if (n < 0) {
		if (errno == EINTR)
			return 0;
		return kata_error_sys(err, "epoll_wait");
	}
	for (int i = 0; i < n; i++) {
		struct event_source *src = events[i].data.ptr;
		switch (src->kind) {
		case SOURCE_FD:
			fd_dispatch((struct event_fd *)src, events[i].events);
			break;
		case SOURCE_TIMER:
			timer_dispatch((struct event_timer *)src);
			break;
		case SOURCE_SIGNAL:
			signals_dispatch(loop);
			break;
		}
	}
	check_away_peers(loop);
	run_pending(loop);
	free_dead(loop);
	return n;
}

int event_loop_run(struct event_loop *loop, kata_error_t *err)
{
	loop->quit = false;
	while (!loop->quit) {
		if (event_loop_run_once(loop, -1, err) < 0)
			return -1;
	}
	return loop->quit_status;
}

/* The event loop shared by every daemon of the project (kata-proxy, kata-shim, kata-agent).
 *
 * One thread, one epoll instance, level-triggered. What it offers:
 *
 * - File descriptors (struct event_fd): a readable callback, a hang-up callback, and
 *   buffered non-blocking writes with a bounded queue. Data already readable is
 *   delivered before a hang-up: the hang-up callback runs only once the fd has nothing
 *   left to read (FIONREAD is 0, or event_fd_read() returned end-of-file). Reading can be
 *   paused (back-pressure) without losing a hang-up that arrives meanwhile.
 * - Signals: blocked with sigprocmask() and read from one signalfd; no work is ever done
 *   in a signal handler. SIGPIPE is ignored by event_loop_new() (write errors come back
 *   as EPIPE instead).
 * - Children: event_loop_reap_children() reaps with waitpid(-1, WNOHANG) until nothing
 *   is left and dispatches each status to the watcher of that pid; the status of a pid
 *   nobody watches yet is remembered (bounded) and handed over when a watcher comes.
 *   event_loop_handle_sigchld() wires SIGCHLD to it.
 * - Timers: one-shot or periodic, in milliseconds, on a timerfd each.
 * - Peers that come back (EVENT_FD_RECONNECTS): a virtio-serial port "hangs up" whenever
 *   its host end closes and comes back when it reopens; bytes queued for the peer survive
 *   that, and the fd is watched for the peer's return.
 *
 * Callbacks may add, close and free any object of the loop, including the one being
 * dispatched: objects are freed only between two iterations.
 *
 * Functions that can fail follow the error contract (error.h).
 */
#ifndef KATA_EVENT_H
#define KATA_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/signalfd.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "error.h"

struct event_loop;
struct event_fd;
struct event_timer;

/* Default bound of an fd's write queue (event_fd_set_write_limit() changes it). */
#define EVENT_DEFAULT_WRITE_LIMIT (4u << 20)

/* How many exit statuses of not-yet-watched children are remembered; the oldest goes first. */
#define EVENT_MAX_UNCLAIMED_CHILDREN 1024

struct event_fd_ops {
	/* The fd is readable (or at end of file). Read with event_fd_read() or read(2)
	 * yourself; reading less than everything is fine, the loop calls again. NULL: the
	 * fd is never watched for reading. */
	void (*readable)(struct event_fd *efd, void *data);
	/* The peer hung up or the fd failed (EPOLLHUP/EPOLLERR, end of file seen by
	 * event_fd_read(), or a write error). Called at most once, after every readable
	 * byte was offered to readable(). The fd stays open until event_fd_close(). NULL:
	 * the loop closes the fd itself. */
	void (*hangup)(struct event_fd *efd, void *data);
	/* The write queue went from above the low-water mark to at or below it. */
	void (*drained)(struct event_fd *efd, void *data);
	/* EVENT_FD_RECONNECTS only: the peer is back (the queue is written next). */
	void (*reconnected)(struct event_fd *efd, void *data);
};

enum event_fd_flags {
	EVENT_FD_NO_CLOSE = 1 << 0, /* event_fd_close() does not close(2) the descriptor */
	/* The peer may hang up and come back on the same fd (a virtio-serial port). A hang-up
	 * (as above: after what was readable was read) calls hangup() and ends nothing: the
	 * write queue is kept and writes go on queueing; the fd is watched for the peer's
	 * return, checked with poll(2) at each wake-up of the fd and, while a peer is away,
	 * at least every EVENT_RECONNECT_POLL_MS. When poll(2) no longer says POLLHUP or
	 * POLLERR, reconnected() is called, the queue written and reading resumed. The fd
	 * may be hung up already when added (then hangup() is not called for it). */
	EVENT_FD_RECONNECTS = 1 << 1,
};

/* While an EVENT_FD_RECONNECTS peer is away, how often it is checked besides its wake-up. */
#define EVENT_RECONNECT_POLL_MS 20

typedef void (*event_signal_fn)(struct event_loop *loop, const struct signalfd_siginfo *info,
                                void *data);
/* status is waitpid()'s raw status. */
typedef void (*event_child_fn)(struct event_loop *loop, pid_t pid, int status, void *data);
typedef void (*event_timer_fn)(struct event_timer *timer, void *data);

/* --- the loop ------------------------------------------------------------------------ */

struct event_loop *event_loop_new(kata_error_t *err);
/* Closes every fd and timer still registered; restores nothing of the signal mask. */
void event_loop_free(struct event_loop *loop);

/* Runs until event_loop_quit(); returns the value given to it, or -1 with *err set
 * when epoll itself fails. */
int event_loop_run(struct event_loop *loop, kata_error_t *err);
/* Runs one iteration, waiting at most timeout_ms (-1: forever). Returns the number of
 * events dispatched (>= 0), or -1 with *err set. */
int event_loop_run_once(struct event_loop *loop, int timeout_ms, kata_error_t *err);
void event_loop_quit(struct event_loop *loop, int status);
bool event_loop_quitting(const struct event_loop *loop);

/* --- file descriptors ---------------------------------------------------------------- */

/* Watches fd (made non-blocking here; the loop owns it unless EVENT_FD_NO_CLOSE).
 * ops is copied. On failure the fd is not closed. */
struct event_fd *event_fd_add(struct event_loop *loop, int fd, const struct event_fd_ops *ops,
                              void *data, unsigned flags, kata_error_t *err);
/* Stops watching, drops unwritten data, closes the fd (unless EVENT_FD_NO_CLOSE). The
 * object is freed after the current iteration; do not use it after this call. NULL ok. */
void event_fd_close(struct event_fd *efd);
/* Closes once the write queue is empty (at once if it is). Reading stops now. */
void event_fd_close_when_flushed(struct event_fd *efd);

int event_fd_get_fd(const struct event_fd *efd);
void *event_fd_get_data(const struct event_fd *efd);
struct event_loop *event_fd_get_loop(const struct event_fd *efd);
/* Also true while an EVENT_FD_RECONNECTS peer is away. */
bool event_fd_is_hung_up(const struct event_fd *efd);

/* read(2) that understands the loop: returns bytes read (> 0), 0 when there is nothing
 * to read now (EAGAIN) or at end of file (then the hang-up callback follows once this
 * readable() call returns), or -1 with errno set on a real error (also followed by the
 * hang-up callback). */
ssize_t event_fd_read(struct event_fd *efd, void *buf, size_t len);

/* Pauses or resumes watching for readability (back-pressure). */
void event_fd_set_reading(struct event_fd *efd, bool reading);
bool event_fd_is_reading(const struct event_fd *efd);

/* Writes len bytes: at once as far as the fd takes them, the rest queued and written
 * when the fd is writable. Fails with ENOBUFS (nothing queued) if the queue would grow
 * beyond the write limit, with EPIPE once the fd has failed or hung up. A write error
 * found later calls the hang-up callback. With EVENT_FD_RECONNECTS a hang-up or a write
 * error fails nothing: the bytes are queued for the peer's return. */
int event_fd_write(struct event_fd *efd, const void *buf, size_t len, kata_error_t *err);
/* Same, for several pieces written as one (all or nothing against the limit). */
int event_fd_writev(struct event_fd *efd, const struct iovec *iov, int iovcnt, kata_error_t *err);
size_t event_fd_queued(const struct event_fd *efd);
/* SIZE_MAX: no limit (the owner bounds the queue itself). */
void event_fd_set_write_limit(struct event_fd *efd, size_t limit);
/* drained() is called when the queue falls to low_water bytes or fewer after having
 * been above it. Default 0. */
void event_fd_set_low_water(struct event_fd *efd, size_t low_water);

/* --- signals --------------------------------------------------------------------------- */

/* Blocks signo in the calling thread and dispatches it to fn. One callback per signal;
 * adding a signal again replaces its callback. */
int event_loop_add_signal(struct event_loop *loop, int signo, event_signal_fn fn, void *data,
                          kata_error_t *err);

/* --- children -------------------------------------------------------------------------- */

/* Blocks SIGCHLD and calls event_loop_reap_children() on each one. */
int event_loop_handle_sigchld(struct event_loop *loop, kata_error_t *err);
/* Reaps every exited child now and dispatches the statuses; returns how many. */
int event_loop_reap_children(struct event_loop *loop);
/* Calls fn once with pid's exit status. If it was reaped already, fn is called from the
 * next iteration of the loop (never from inside this call). A status remembered for pid
 * while a child of that pid still runs belonged to an earlier child (the pid was reused):
 * it is dropped, not handed over. */
void event_loop_watch_child(struct event_loop *loop, pid_t pid, event_child_fn fn, void *data);
/* Stops watching pid (the status, if it comes later, is then remembered as unclaimed). */
void event_loop_unwatch_child(struct event_loop *loop, pid_t pid);

/* --- timers ---------------------------------------------------------------------------- */

/* Calls fn after ms milliseconds, then every interval_ms if that is not 0. A one-shot
 * timer stays allocated (disarmed) after it fired: rearm or free it. */
struct event_timer *event_timer_add(struct event_loop *loop, uint64_t ms, uint64_t interval_ms,
                                    event_timer_fn fn, void *data, kata_error_t *err);
void event_timer_rearm(struct event_timer *timer, uint64_t ms, uint64_t interval_ms);
void event_timer_disarm(struct event_timer *timer);
/* NULL ok; may be called from the timer's own callback. */
void event_timer_free(struct event_timer *timer);

#endif

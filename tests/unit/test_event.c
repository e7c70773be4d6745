/* Unit tests of lib/event: fds, hang-up after drain, back-pressure, a peer that comes
 * back, signals, children, timers. */
#include "check_main.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <linux/sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "cleanup.h"
#include "event.h"

struct reader {
	char got[1 << 16];
	size_t len;
	size_t chunk; /* bytes per readable() call */
	int hangups;
	size_t len_at_hangup;
	bool close_on_hangup;
};

static void reader_readable(struct event_fd *efd, void *data)
{
	struct reader *r = data;
	size_t want = r->chunk ? r->chunk : sizeof(r->got) - r->len;
	ssize_t n;

	if (want > sizeof(r->got) - r->len)
		want = sizeof(r->got) - r->len;
	n = event_fd_read(efd, r->got + r->len, want);
	if (n > 0)
		r->len += n;
}

static void reader_hangup(struct event_fd *efd, void *data)
{
	struct reader *r = data;

	r->hangups++;
	r->len_at_hangup = r->len;
	if (r->close_on_hangup)
		event_fd_close(efd);
}

static const struct event_fd_ops reader_ops = {
	.readable = reader_readable,
	.hangup = reader_hangup,
};

static void run_for(struct event_loop *loop, int iterations)
{
	kata_error_t err = NULL;

	for (int i = 0; i < iterations; i++)
		ck_assert_int_ge(event_loop_run_once(loop, 20, &err), 0);
}

START_TEST(test_pipe_data_before_hangup)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct reader r = { .chunk = 1, .close_on_hangup = true };
	int p[2];

	ck_assert_ptr_nonnull(loop);
	ck_assert_int_eq(pipe(p), 0);
	ck_assert_int_eq(write(p[1], "hello", 5), 5);
	close(p[1]);
	ck_assert_ptr_nonnull(event_fd_add(loop, p[0], &reader_ops, &r, 0, &err));
	run_for(loop, 20);
	ck_assert_int_eq(r.hangups, 1);
	ck_assert_uint_eq(r.len_at_hangup, 5);
	ck_assert(memcmp(r.got, "hello", 5) == 0);
	event_loop_free(loop);
}
END_TEST

START_TEST(test_socket_eof_is_hangup)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct reader r = { .chunk = 3, .close_on_hangup = true };
	int sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(write(sv[1], "0123456789", 10), 10);
	shutdown(sv[1], SHUT_WR); /* half close: no EPOLLHUP, only end of file */
	ck_assert_ptr_nonnull(event_fd_add(loop, sv[0], &reader_ops, &r, 0, &err));
	run_for(loop, 10);
	ck_assert_int_eq(r.hangups, 1);
	ck_assert_uint_eq(r.len_at_hangup, 10);
	close(sv[1]);
	event_loop_free(loop);
}
END_TEST

START_TEST(test_paused_reading_keeps_hangup)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct reader r = { .chunk = 2, .close_on_hangup = true };
	struct event_fd *efd;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	efd = event_fd_add(loop, p[0], &reader_ops, &r, 0, &err);
	ck_assert_ptr_nonnull(efd);
	event_fd_set_reading(efd, false);
	ck_assert_int_eq(write(p[1], "abcdef", 6), 6);
	close(p[1]);
	/* paused: neither data nor hang-up, and the loop must sleep, not spin (the hang-up
	 * is seen once, then the fd is parked) */
	int events = 0;
	for (int i = 0; i < 5; i++)
		events += event_loop_run_once(loop, 10, &err);
	ck_assert_int_le(events, 1);
	ck_assert_uint_eq(r.len, 0);
	ck_assert_int_eq(r.hangups, 0);
	event_fd_set_reading(efd, true);
	run_for(loop, 10);
	ck_assert_uint_eq(r.len, 6);
	ck_assert_int_eq(r.hangups, 1);
	ck_assert_uint_eq(r.len_at_hangup, 6);
	event_loop_free(loop);
}
END_TEST

struct writer {
	int drained;
	int hangups;
};

static void writer_drained(struct event_fd *efd, void *data)
{
	((struct writer *)data)->drained++;
}

static void writer_hangup(struct event_fd *efd, void *data)
{
	((struct writer *)data)->hangups++;
	event_fd_close(efd);
}

static const struct event_fd_ops writer_ops = {
	.hangup = writer_hangup,
	.drained = writer_drained,
};

START_TEST(test_write_queue_bounded_and_drains)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct writer w = { 0 };
	struct event_fd *efd;
	cleanup_free char *chunk = xmalloc(64 * 1024);
	char sink[65536];
	size_t total = 0, received = 0;
	int sv[2];

	memset(chunk, 'x', 64 * 1024);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	efd = event_fd_add(loop, sv[0], &writer_ops, &w, 0, &err);
	ck_assert_ptr_nonnull(efd);
	event_fd_set_write_limit(efd, 256 * 1024);
	event_fd_set_low_water(efd, 0);
	for (;;) {
		if (event_fd_write(efd, chunk, 64 * 1024, &err) < 0) {
			ck_assert_int_eq(err->errno_value, ENOBUFS);
			kata_error_free(&err);
			break;
		}
		total += 64 * 1024;
		ck_assert_uint_le(event_fd_queued(efd), 256 * 1024);
	}
	ck_assert_uint_gt(event_fd_queued(efd), 0);
	while (received < total) {
		ssize_t n = read(sv[1], sink, sizeof(sink));
		ck_assert_int_gt(n, 0);
		received += n;
		run_for(loop, 1);
	}
	run_for(loop, 2);
	ck_assert_uint_eq(event_fd_queued(efd), 0);
	ck_assert_int_eq(w.drained, 1);
	ck_assert_int_eq(w.hangups, 0);
	close(sv[1]);
	event_loop_free(loop);
}
END_TEST

START_TEST(test_write_to_dead_peer_is_hangup)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct writer w = { 0 };
	struct event_fd *efd;
	int p[2];

	ck_assert_int_eq(pipe(p), 0);
	efd = event_fd_add(loop, p[1], &writer_ops, &w, 0, &err);
	close(p[0]);
	/* no SIGPIPE: the loop ignores it; the write fails with EPIPE */
	ck_assert_int_lt(event_fd_write(efd, "x", 1, &err), 0);
	ck_assert_int_eq(err->errno_value, EPIPE);
	kata_error_free(&err);
	run_for(loop, 3);
	ck_assert_int_eq(w.hangups, 1);
	event_loop_free(loop);
}
END_TEST

START_TEST(test_close_when_flushed)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct writer w = { 0 };
	struct event_fd *efd;
	cleanup_free char *big = xzalloc(1 << 20);
	size_t received = 0;
	char sink[65536];
	int sv[2];
	ssize_t n;

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	efd = event_fd_add(loop, sv[0], &writer_ops, &w, 0, &err);
	ck_assert_int_eq(event_fd_write(efd, big, 1 << 20, &err), 0);
	event_fd_close_when_flushed(efd);
	for (;;) {
		run_for(loop, 1);
		n = read(sv[1], sink, sizeof(sink));
		if (n == 0)
			break;
		ck_assert_int_gt(n, 0);
		received += n;
	}
	ck_assert_uint_eq(received, 1 << 20);
	ck_assert_int_eq(w.hangups, 0);
	close(sv[1]);
	event_loop_free(loop);
}
END_TEST

struct closer {
	struct event_fd *other;
	int calls;
};

static void closer_readable(struct event_fd *efd, void *data)
{
	struct closer *c = data;
	char b[16];

	c->calls++;
	(void)event_fd_read(efd, b, sizeof(b));
	event_fd_close(c->other);
	event_fd_close(efd);
}

START_TEST(test_close_other_fd_from_callback)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct event_fd_ops ops = { .readable = closer_readable };
	struct closer c1 = { 0 }, c2 = { 0 };
	struct event_fd *e1, *e2;
	int p1[2], p2[2];

	ck_assert_int_eq(pipe(p1), 0);
	ck_assert_int_eq(pipe(p2), 0);
	e1 = event_fd_add(loop, p1[0], &ops, &c1, 0, &err);
	e2 = event_fd_add(loop, p2[0], &ops, &c2, 0, &err);
	c1.other = e2;
	c2.other = e1;
	ck_assert_int_eq(write(p1[1], "a", 1), 1);
	ck_assert_int_eq(write(p2[1], "b", 1), 1);
	run_for(loop, 3);
	/* both ready in one epoll_wait, but whichever runs first closes the other */
	ck_assert_int_eq(c1.calls + c2.calls, 1);
	close(p1[1]);
	close(p2[1]);
	event_loop_free(loop);
}
END_TEST

static int usr1_seen;

static void on_usr1(struct event_loop *loop, const struct signalfd_siginfo *info, void *data)
{
	usr1_seen++;
	event_loop_quit(loop, 42);
}

START_TEST(test_signal_via_signalfd)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);

	ck_assert_int_eq(event_loop_add_signal(loop, SIGUSR1, on_usr1, NULL, &err), 0);
	kill(getpid(), SIGUSR1);
	ck_assert_int_eq(event_loop_run(loop, &err), 42);
	ck_assert_int_eq(usr1_seen, 1);
	event_loop_free(loop);
}
END_TEST

struct child_result {
	pid_t pid;
	int status;
	int calls;
};

static void on_child(struct event_loop *loop, pid_t pid, int status, void *data)
{
	struct child_result *c = data;

	c->pid = pid;
	c->status = status;
	c->calls++;
	event_loop_quit(loop, 0);
}

static pid_t spawn_exit(int code)
{
	pid_t pid = fork();

	if (pid == 0)
		_exit(code);
	ck_assert_int_gt(pid, 0);
	return pid;
}

START_TEST(test_child_watched_before_exit)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct child_result c = { 0 };
	pid_t pid;

	ck_assert_int_eq(event_loop_handle_sigchld(loop, &err), 0);
	pid = spawn_exit(7);
	event_loop_watch_child(loop, pid, on_child, &c);
	ck_assert_int_eq(event_loop_run(loop, &err), 0);
	ck_assert_int_eq(c.calls, 1);
	ck_assert_int_eq(c.pid, pid);
	ck_assert(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 7);
	event_loop_free(loop);
}
END_TEST

/* Waits for one child to exit and reaps it with nobody watching it. */
static void reap_one(struct event_loop *loop)
{
	int reaped = 0;

	for (int i = 0; i < 200 && reaped == 0; i++) {
		reaped = event_loop_reap_children(loop);
		if (reaped == 0)
			usleep(5000);
	}
	ck_assert_int_eq(reaped, 1);
}

START_TEST(test_child_reaped_before_watch)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct child_result c = { 0 };
	pid_t pid;

	ck_assert_int_eq(event_loop_handle_sigchld(loop, &err), 0);
	pid = spawn_exit(3);
	reap_one(loop);
	/* watching a pid already reaped: the status is delivered by the loop, not inline */
	event_loop_watch_child(loop, pid, on_child, &c);
	ck_assert_int_eq(c.calls, 0);
	ck_assert_int_ge(event_loop_run_once(loop, 1000, &err), 0);
	ck_assert_int_eq(c.calls, 1);
	ck_assert(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 3);
	event_loop_free(loop);
}
END_TEST

/* A pid reused by a new child: the status remembered for the old one is not the new one's.
 * The new child gets the old pid with clone3's set_tid (root only). */
START_TEST(test_child_reused_pid_not_stale)
{
	kata_error_t err = NULL;
	struct event_loop *loop;
	struct child_result c = { 0 };
	pid_t pid, again;
	struct clone_args args = { .exit_signal = SIGCHLD, .set_tid_size = 1 };

	if (geteuid() != 0)
		return; /* set_tid needs CAP_SYS_ADMIN */
	loop = event_loop_new(&err);
	ck_assert_int_eq(event_loop_handle_sigchld(loop, &err), 0);
	pid = spawn_exit(3);
	reap_one(loop);
	args.set_tid = (uint64_t)(uintptr_t)&pid;
	again = (pid_t)syscall(SYS_clone3, &args, sizeof(args));
	if (again == 0) {
		usleep(100000);
		_exit(9);
	}
	ck_assert_int_eq(again, pid);
	event_loop_watch_child(loop, pid, on_child, &c);
	ck_assert_int_eq(event_loop_run(loop, &err), 0);
	ck_assert_int_eq(c.calls, 1);
	ck_assert(WIFEXITED(c.status) && WEXITSTATUS(c.status) == 9);
	event_loop_free(loop);
}
END_TEST

struct ticks {
	int count;
	int stop_at;
};

static void on_tick(struct event_timer *timer, void *data)
{
	struct ticks *t = data;

	if (++t->count == t->stop_at)
		event_timer_free(timer);
}

START_TEST(test_timers)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct ticks once = { .stop_at = 0 }, periodic = { .stop_at = 3 };
	struct event_timer *t1;

	t1 = event_timer_add(loop, 5, 0, on_tick, &once, &err);
	ck_assert_ptr_nonnull(t1);
	ck_assert_ptr_nonnull(event_timer_add(loop, 1, 2, on_tick, &periodic, &err));
	run_for(loop, 30);
	ck_assert_int_eq(once.count, 1);
	ck_assert_int_eq(periodic.count, 3);
	event_timer_rearm(t1, 1, 0);
	run_for(loop, 5);
	ck_assert_int_eq(once.count, 2);
	event_timer_rearm(t1, 5, 0);
	event_timer_disarm(t1);
	run_for(loop, 3);
	ck_assert_int_eq(once.count, 2);
	event_timer_free(t1);
	event_loop_free(loop);
}
END_TEST

/* --- a peer that hangs up and comes back ----------------------------------------------- */

/* A pty is the stand-in for a virtio-serial port: its master polls as hung up while no
 * slave is open and stops when one is opened again. */
struct port {
	struct reader r;
	int reconnects;
	char slave_path[64];
	int slave;
};

static void port_reconnected(struct event_fd *efd, void *data)
{
	struct port *p = data;

	p->reconnects++;
}

static const struct event_fd_ops port_ops = {
	.readable = reader_readable,
	.hangup = reader_hangup,
	.reconnected = port_reconnected,
};

static int open_slave(struct port *p)
{
	struct termios t;
	int fd = open(p->slave_path, O_RDWR | O_NOCTTY | O_CLOEXEC);

	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(tcgetattr(fd, &t), 0);
	cfmakeraw(&t);
	ck_assert_int_eq(tcsetattr(fd, TCSANOW, &t), 0);
	return fd;
}

/* A port watched by loop, its host end (the slave) open or not. */
static struct event_fd *add_port(struct event_loop *loop, struct port *p, bool host_there)
{
	kata_error_t err = NULL;
	int master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	struct event_fd *efd;

	ck_assert_int_ge(master, 0);
	ck_assert_int_eq(unlockpt(master), 0);
	ck_assert_int_eq(ptsname_r(master, p->slave_path, sizeof(p->slave_path)), 0);
	p->slave = open_slave(p);
	if (!host_there)
		close(p->slave);
	efd = event_fd_add(loop, master, &port_ops, p, EVENT_FD_RECONNECTS, &err);
	ck_assert_ptr_nonnull(efd);
	event_fd_set_write_limit(efd, SIZE_MAX);
	ck_assert(event_fd_is_hung_up(efd) == !host_there);
	return efd;
}

/* Runs the loop until *counter reaches want (at most about two seconds). */
static void run_until(struct event_loop *loop, const int *counter, int want)
{
	for (int i = 0; i < 100 && *counter < want; i++)
		run_for(loop, 1);
	ck_assert_int_eq(*counter, want);
}

/* Runs the loop until the reader has len bytes. */
static void run_until_read(struct event_loop *loop, const struct reader *r, size_t len)
{
	for (int i = 0; i < 100 && r->len < len; i++)
		run_for(loop, 1);
	ck_assert_uint_eq(r->len, len);
}

static void read_slave(int fd, const char *want)
{
	char buf[64] = { 0 };
	size_t len = strlen(want), got = 0;

	while (got < len) {
		ssize_t n = read(fd, buf + got, len - got);
		ck_assert_int_gt(n, 0);
		got += (size_t)n;
	}
	ck_assert_str_eq(buf, want);
}

START_TEST(test_reconnect_keeps_queue)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct port p = { 0 };
	struct event_fd *efd = add_port(loop, &p, true);

	/* What the peer sent before it went is read before the hang-up. */
	ck_assert_int_eq(write(p.slave, "abc", 3), 3);
	close(p.slave);
	run_until(loop, &p.r.hangups, 1);
	ck_assert_uint_eq(p.r.len_at_hangup, 3);
	ck_assert(memcmp(p.r.got, "abc", 3) == 0);
	ck_assert(event_fd_is_hung_up(efd));

	/* Writes while it is away queue; nothing is lost or failed. */
	ck_assert_int_eq(event_fd_write(efd, "hello ", 6, &err), 0);
	ck_assert_int_eq(event_fd_write(efd, "again", 5, &err), 0);
	ck_assert_uint_eq(event_fd_queued(efd), 11);
	run_for(loop, 3);
	ck_assert_int_eq(p.r.hangups, 1);
	ck_assert_int_eq(p.reconnects, 0);
	ck_assert_uint_eq(event_fd_queued(efd), 11);

	/* It comes back: the queue goes out and reading resumes. */
	p.slave = open_slave(&p);
	run_until(loop, &p.reconnects, 1);
	ck_assert(!event_fd_is_hung_up(efd));
	ck_assert_uint_eq(event_fd_queued(efd), 0);
	read_slave(p.slave, "hello again");
	ck_assert_int_eq(write(p.slave, "xyz", 3), 3);
	run_until_read(loop, &p.r, 6);
	ck_assert(memcmp(p.r.got + 3, "xyz", 3) == 0);

	/* Each hang-up is told. */
	close(p.slave);
	run_until(loop, &p.r.hangups, 2);
	p.slave = open_slave(&p);
	run_until(loop, &p.reconnects, 2);

	close(p.slave);
	event_loop_free(loop);
}
END_TEST

START_TEST(test_reconnect_starts_away)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct port p = { 0 };
	struct event_fd *efd = add_port(loop, &p, false);

	ck_assert_int_eq(event_fd_write(efd, "ready", 5, &err), 0);
	run_for(loop, 3);
	/* Away from the start is no hang-up. */
	ck_assert_int_eq(p.r.hangups, 0);
	ck_assert_uint_eq(event_fd_queued(efd), 5);

	p.slave = open_slave(&p);
	run_until(loop, &p.reconnects, 1);
	read_slave(p.slave, "ready");

	close(p.slave);
	event_loop_free(loop);
}
END_TEST

START_TEST(test_reconnect_paused_reading)
{
	kata_error_t err = NULL;
	struct event_loop *loop = event_loop_new(&err);
	struct port p = { 0 };
	struct event_fd *efd = add_port(loop, &p, true);

	/* With reading paused, a hang-up is seen all the same (nothing spins meanwhile). */
	event_fd_set_reading(efd, false);
	close(p.slave);
	run_until(loop, &p.r.hangups, 1);
	p.slave = open_slave(&p);
	run_until(loop, &p.reconnects, 1);
	ck_assert(!event_fd_is_reading(efd));
	event_fd_set_reading(efd, true);
	ck_assert_int_eq(write(p.slave, "go", 2), 2);
	run_until_read(loop, &p.r, 2);

	close(p.slave);
	event_loop_free(loop);
}
END_TEST

static Suite *event_suite(void)
{
	Suite *s = suite_create("event");
	TCase *tc = tcase_create("core");

	tcase_set_timeout(tc, 20);
	tcase_add_test(tc, test_pipe_data_before_hangup);
	tcase_add_test(tc, test_socket_eof_is_hangup);
	tcase_add_test(tc, test_paused_reading_keeps_hangup);
	tcase_add_test(tc, test_write_queue_bounded_and_drains);
	tcase_add_test(tc, test_write_to_dead_peer_is_hangup);
	tcase_add_test(tc, test_close_when_flushed);
	tcase_add_test(tc, test_close_other_fd_from_callback);
	tcase_add_test(tc, test_reconnect_keeps_queue);
	tcase_add_test(tc, test_reconnect_starts_away);
	tcase_add_test(tc, test_reconnect_paused_reading);
	tcase_add_test(tc, test_signal_via_signalfd);
	tcase_add_test(tc, test_child_watched_before_exit);
	tcase_add_test(tc, test_child_reaped_before_watch);
	tcase_add_test(tc, test_child_reused_pid_not_stale);
	tcase_add_test(tc, test_timers);
	suite_add_tcase(s, tc);
	return s;
}

const struct unit_test unit_test = { .suite = event_suite };

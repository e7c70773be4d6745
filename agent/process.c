/* Processes and their streams: output read from pipes or a pty and sent as I/O frames
 * within the host's credits, stdin frames written to the process, and the exit report
 * sent once both output streams reached end of file. */
#include "agent.h"

#include "cgroup.h"

#include "agent_proto.h"
#include "cleanup.h"
#include "agent_frame.h"
#include "json_util.h"
#include "log.h"
#include "relay.h"
#include "child_spawn.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#define READ_CHUNK AGENT_IO_MAX_PAYLOAD
/* A hostile host must not be able to overflow a window by granting credits. */
#define MAX_WINDOW (UINT64_C(1) << 40)

static void stream_update(struct agent_stream *s);

/* Stops reading every stream while the I/O channel holds too much. */
static void check_io_queue(struct agent *a)
{
	if (!a->streams_paused && agent_channel_queued(&a->io) > AGENT_IO_QUEUE_HIGH) {
		a->streams_paused = true;
		for (struct agent_process *p = a->processes; p; p = p->next) {
			stream_update(&p->out);
			stream_update(&p->err);
		}
	}
}

static void send_io(struct agent *a, uint64_t seq, const void *data, size_t len)
{
	unsigned char header[AGENT_IO_HEADER_SIZE];

	agent_frame_put_io_header(header, seq, len);
	agent_channel_send(&a->io, header, sizeof(header), data, len);
	check_io_queue(a);
}

static void maybe_report(struct agent_process *p)
{
	cleanup_json json_object *event = NULL;

	if (p->reported || !p->exited || !p->out.eof_sent || !p->err.eof_sent)
		return;
	p->reported = true;
	event = json_object_new_object();
	json_object_object_add(event, "container", json_object_new_string(p->container->id));
	json_object_object_add(event, "process", json_object_new_string(p->id));
	json_object_object_add(event, "event", json_object_new_string("finished"));
	json_object_object_add(event, "status", json_object_new_int(p->status));
	if (p->oom_killed)
		json_object_object_add(event, "oomKilled", json_object_new_boolean(true));
	agent_send_ctl_json(p->agent, AGENT_PROCESSASYNCEVENT, event);
	log_debug("container %s process %s finished with status %d%s", p->container->id, p->id,
	          p->status, p->oom_killed ? " (OOM-killed)" : "");
	/* An exec'd process is forgotten once reported; the init stays until the container
	 * is removed (its status and id must keep answering). */
	if (!p->init)
		agent_process_free(p);
}

static void stream_close(struct agent_stream *s)
{
	if (s->efd != NULL)
		event_fd_close(s->efd); /* closes s->fd */
	else if (s->fd >= 0)
		close(s->fd);
	s->efd = NULL;
	s->fd = -1;
}

static void stream_eof(struct agent_stream *s)
{
	struct agent_process *p = s->process;

	stream_close(s);
	if (!s->eof_sent) {
		s->eof_sent = true;
		if (s->seq != 0)
			send_io(p->agent, s->seq, NULL, 0);
	}
	/* With a terminal, stderr is the same pty: it ends with stdout. */
	if (s == &p->out && p->terminal && !p->err.eof_sent) {
		p->err.eof_sent = true;
		if (p->err.seq != 0)
			send_io(p->agent, p->err.seq, NULL, 0);
	}
	maybe_report(p);
}

/* Some of a stream, at most want bytes: up to a pipe's worth at once, written to the port
 * (agent/relay.c); while the channel holds a queue or has no host, a frame read and queued
 * behind it. Returns the bytes taken, 0 at end of file, -1 with errno. */
static ssize_t stream_take(struct agent_stream *s, size_t want)
{
	static unsigned char buf[READ_CHUNK];
	struct agent *a = s->process->agent;
	ssize_t n;

	if (s->seq != 0) {
		n = agent_relay_send(&a->io, s->fd, s->seq, want);
		if (n >= 0 || errno != EBUSY)
			return n;
	}
	n = read(s->fd, buf, want < sizeof(buf) ? want : sizeof(buf));
	/* Output of a stream without a sequence number is read and dropped. */
	if (n > 0 && s->seq != 0)
		send_io(a, s->seq, buf, (size_t)n);
	return n;
}

static void stream_readable(struct event_fd *efd, void *data)
{
	struct agent_stream *s = data;
	struct agent *a = s->process->agent;
	/* A pipe's worth per wake-up: fewer rounds through epoll, and other streams still get
	 * their turn. */
	size_t budget = AGENT_STREAM_PIPE_SIZE;

	while (budget > 0 && !a->streams_paused) {
		size_t want = s->window < budget ? (size_t)s->window : budget;
		ssize_t n;

		if (a->stdin_holds_io)
			want = budget;
		if (want == 0)
			break;
		n = stream_take(s, want);
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				break;
			/* A pty master reads EIO once no slave is open: that is its end of file. */
			if (!(s->is_pty && errno == EIO))
				log_warning("process %s: read stream %llu: %m", s->process->id,
				            (unsigned long long)s->seq);
			stream_eof(s);
			return;
		}
		if (n == 0) {
			stream_eof(s);
			return;
		}
		if (s->seq != 0)
			s->window = s->window > (uint64_t)n ? s->window - (uint64_t)n : 0;
		budget -= (size_t)n;
		check_io_queue(a);
		/* Less than asked for: the pipe is empty, no need to hear it again. */
		if ((size_t)n < want && (size_t)n < READ_CHUNK)
			break;
	}
	stream_update(s);
}

/* The writer of the stream is gone and everything it wrote was read. */
static void stream_hangup(struct event_fd *efd, void *data)
{
	stream_eof(data);
}

/* Reads a stream only while it may: within the host's credits, and while the I/O channel
 * is not too full. A hang-up waits for reading to resume: end of file comes after the data. */
static void stream_update(struct agent_stream *s)
{
	static const struct event_fd_ops stream_ops = { .readable = stream_readable,
		                                        .hangup = stream_hangup };
	struct agent *a = s->process->agent;
	/* While stdin holds the I/O channel, credits cannot come in: windows are lifted. */
	bool want = s->fd >= 0 && (s->window > 0 || a->stdin_holds_io) && !a->streams_paused;

	if (want && s->efd == NULL) {
		cleanup_error kata_error_t err = NULL;

		s->efd = event_fd_add(a->loop, s->fd, &stream_ops, s, 0, &err);
		if (s->efd == NULL)
			log_error("process %s: %s", s->process->id, err->message);
	} else if (s->efd != NULL) {
		event_fd_set_reading(s->efd, want);
	}
}

void agent_io_drained(struct agent_channel *ch, void *opaque)
{
	struct agent *a = opaque;

	if (!a->streams_paused)
		return;
	a->streams_paused = false;
	for (struct agent_process *p = a->processes; p; p = p->next) {
		stream_update(&p->out);
		stream_update(&p->err);
	}
}

/* --- stdin --------------------------------------------------------------------------------- */

static size_t stdin_queued(const struct agent_process *p)
{
	return p->stdin_efd != NULL ? event_fd_queued(p->stdin_efd) : 0;
}

/* Back-pressure on the whole I/O channel while a process has too much stdin queued. No
 * credit can come in meanwhile (they are behind that stdin on the channel), so the output
 * windows are lifted until it is read again: a process that must write before it reads
 * more input (cat) goes on, and nothing deadlocks. The I/O queue bound still holds. */
void agent_update_stdin_hold(struct agent *a)
{
	bool overfull = false;

	for (struct agent_process *q = a->processes; q; q = q->next)
		if (stdin_queued(q) > AGENT_STDIN_QUEUE_HIGH)
			overfull = true;
	agent_channel_set_reading(&a->io, !overfull);
	if (overfull == a->stdin_holds_io)
		return;
	a->stdin_holds_io = overfull;
	log_info("I/O channel %s: stdin queued for a process %s %u MiB",
	         overfull ? "paused" : "resumed", overfull ? "above" : "back below",
	         AGENT_STDIN_QUEUE_HIGH >> 20);
	for (struct agent_process *q = a->processes; q; q = q->next) {
		stream_update(&q->out);
		stream_update(&q->err);
	}
}

static void stdin_close(struct agent_process *p)
{
	bool was_holding = stdin_queued(p) > AGENT_STDIN_QUEUE_HIGH;

	/* The queue goes with it; the fd is closed here (EVENT_FD_NO_CLOSE). */
	event_fd_close(p->stdin_efd);
	p->stdin_efd = NULL;
	if (p->stdin_fd >= 0)
		close(p->stdin_fd);
	p->stdin_fd = -1;
	p->stdin_close_pending = false;
	if (was_holding)
		agent_update_stdin_hold(p->agent);
}

/* After stdin was written to or drained: the end of input once everything went, and the
 * fd watched only while bytes wait (an fd watched with nothing to write would report its
 * reader's hang-ups). */
static void stdin_settle(struct agent_process *p)
{
	if (p->stdin_fd < 0)
		return;
	if (stdin_queued(p) == 0) {
		if (p->stdin_close_pending) {
			if (p->terminal) {
				/* A terminal is not closed: its end-of-file character ends the
				 * input. */
				unsigned char veof = 4;

				(void)!write(p->stdin_fd, &veof, 1);
				p->stdin_close_pending = false;
			} else {
				stdin_close(p);
				return;
			}
		}
		event_fd_close(p->stdin_efd);
		p->stdin_efd = NULL;
	}
	agent_update_stdin_hold(p->agent);
}

static void stdin_drained(struct event_fd *efd, void *data)
{
	stdin_settle(data);
}

/* A write failed, or the reader went away with bytes still queued. */
static void stdin_hangup(struct event_fd *efd, void *data)
{
	struct agent_process *p = data;

	log_info("process %s: stdin closed by its reader; dropping its input", p->id);
	stdin_close(p);
}

static void stdin_write(struct agent_process *p, const unsigned char *data, size_t len)
{
	static const struct event_fd_ops stdin_ops = { .hangup = stdin_hangup,
		                                       .drained = stdin_drained };
	cleanup_error kata_error_t err = NULL;

	if (p->stdin_efd == NULL) {
		p->stdin_efd = event_fd_add(p->agent->loop, p->stdin_fd, &stdin_ops, p,
		                            EVENT_FD_NO_CLOSE, &err);
		if (p->stdin_efd == NULL) {
			log_error("process %s: %s; dropping its input", p->id, err->message);
			stdin_close(p);
			return;
		}
		/* Bounded by the hold on the I/O channel (agent_update_stdin_hold). */
		event_fd_set_write_limit(p->stdin_efd, SIZE_MAX);
	}
	if (event_fd_write(p->stdin_efd, data, len, &err) < 0) {
		log_info("process %s: stdin: %s; dropping its input", p->id, err->message);
		stdin_close(p);
	}
}

static void handle_credit(struct agent *a, const unsigned char *payload, size_t length)
{
	uint64_t seq;
	uint32_t bytes;

	if (length != AGENT_IO_CREDIT_PAYLOAD_SIZE) {
		log_warning("io: credit frame of %zu bytes ignored", length);
		return;
	}
	seq = get_be64(payload);
	bytes = get_be32(payload + 8);
	for (struct agent_process *p = a->processes; p; p = p->next) {
		struct agent_stream *s = NULL;

		if (p->out.seq == seq)
			s = &p->out;
		else if (p->err.seq == seq)
			s = &p->err;
		if (s == NULL || s->eof_sent)
			continue;
		s->window += bytes;
		if (s->window > MAX_WINDOW)
			s->window = MAX_WINDOW;
		stream_update(s);
		return;
	}
}

bool agent_io_frame(void *opaque, enum agent_frame_event event, uint64_t seq,
                    const unsigned char *payload, size_t length)
{
	struct agent *a = opaque;

	if (event != AGENT_FRAME_OK) {
		log_warning("io: malformed frame (seq %llu, length %zu) dropped",
		            (unsigned long long)seq, length);
		return true;
	}
	if (seq == AGENT_IO_CREDIT_SEQ) {
		handle_credit(a, payload, length);
		return true;
	}
	for (struct agent_process *p = a->processes; p; p = p->next) {
		if (p->out.seq != seq || p->stdin_fd < 0)
			continue;
		if (length == 0)
			p->stdin_close_pending = true;
		else
			stdin_write(p, payload, length);
		stdin_settle(p);
		return true;
	}
	log_debug("io: %zu bytes for unknown stream %llu dropped", length, (unsigned long long)seq);
	return true;
}

/* --- the table ----------------------------------------------------------------------------- */

static void stream_init(struct agent_stream *s, struct agent_process *p, int fd, uint64_t seq,
                        bool is_pty)
{
	s->process = p;
	s->fd = fd;
	s->seq = seq;
	s->window = AGENT_IO_INITIAL_WINDOW;
	s->is_pty = is_pty;
	/* Without a pipe there is nothing to send: a stream of sequence 0 is not one. */
	s->eof_sent = fd < 0;
}

/* The loop reaped the process (lib/event reaps every child of the agent). */
static void process_reaped(struct event_loop *loop, pid_t pid, int status, void *data)
{
	agent_process_exited(data, status);
}

struct agent_process *agent_process_add(struct agent *a, struct agent_container *c, const char *id,
                                        pid_t pid, bool terminal, int stdin_fd, int stdout_fd,
                                        int stderr_fd, int pty_master, uint64_t stdio_seq,
                                        uint64_t stderr_seq)
{
	struct agent_process *p = xzalloc(sizeof(*p));

	p->agent = a;
	p->container = c;
	p->id = xstrdup(id);
	p->pid = pid;
	p->terminal = terminal;
	p->stdin_fd = stdin_fd;
	p->pty_master = pty_master;
	p->next = a->processes;
	a->processes = p;
	stream_init(&p->out, p, stdout_fd, stdio_seq, terminal);
	/* With a terminal stderr is merged into the pty: its EOF follows stdout's. */
	stream_init(&p->err, p, stderr_fd, stderr_seq, false);
	if (terminal)
		p->err.eof_sent = false;
	event_loop_watch_child(a->loop, pid, process_reaped, p);
	stream_update(&p->out);
	stream_update(&p->err);
	return p;
}

struct agent_process *agent_process_find(struct agent *a, const char *container, const char *id)
{
	for (struct agent_process *p = a->processes; p; p = p->next)
		if (strcmp(p->container->id, container) == 0 && strcmp(p->id, id) == 0)
			return p;
	return NULL;
}

struct agent_process *agent_process_by_pid(struct agent *a, pid_t pid)
{
	for (struct agent_process *p = a->processes; p; p = p->next)
		if (p->pid == pid && !p->exited)
			return p;
	return NULL;
}

bool agent_seq_in_use(struct agent *a, uint64_t seq)
{
	if (seq == 0)
		return false;
	for (struct agent_process *p = a->processes; p; p = p->next)
		if (!p->reported && (p->out.seq == seq || p->err.seq == seq))
			return true;
	return false;
}

/* A process killed by SIGKILL is reported OOM-killed when its container's memory cgroup
 * counts an OOM kill no earlier report named (the count is read at the exit, not at the
 * start, which a fast process could outrun). */
static void note_oom_kill(struct agent_process *p)
{
	struct agent_container *c = p->container;
	int64_t kills;

	if (c == NULL)
		return;
	kills = agent_cgroup_oom_kills(c->id);
	if (kills > c->oom_kills_reported) {
		p->oom_killed = true;
		c->oom_kills_reported = kills;
	}
}

void agent_process_exited(struct agent_process *p, int wait_status)
{
	if (p->exited)
		return;
	p->exited = true;
	/* Reaped by the agent itself (container.c): the loop's watch goes (reaped by the loop:
	 * it went already). */
	event_loop_unwatch_child(p->agent->loop, p->pid);
	if (WIFSIGNALED(wait_status))
		p->status = 128 + WTERMSIG(wait_status);
	else
		p->status = WEXITSTATUS(wait_status);
	if (WIFSIGNALED(wait_status) && WTERMSIG(wait_status) == SIGKILL)
		note_oom_kill(p);
	log_debug("process %s (pid %d) exited: status %d", p->id, p->pid, p->status);
	/* Nobody writes to it any more. */
	if (!p->terminal)
		stdin_close(p);
	maybe_report(p);
}

void agent_process_free(struct agent_process *p)
{
	struct agent *a = p->agent;

	for (struct agent_process **pp = &a->processes; *pp; pp = &(*pp)->next) {
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	}
	if (p->container && p->container->init == p)
		p->container->init = NULL;
	if (!p->exited)
		event_loop_unwatch_child(a->loop, p->pid);
	stream_close(&p->out);
	stream_close(&p->err);
	stdin_close(p);
	if (p->pty_master >= 0)
		close(p->pty_master);
	free(p->id);
	free(p);
	agent_update_stdin_hold(a);
}

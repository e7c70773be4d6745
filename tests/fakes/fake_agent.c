/* The fake guest agent (fake_agent.h): one thread, poll(), a mutex around all state. */
#include "fake_agent.h"
#include "fake_hyperstart.h"
#include "agent_frame.h"
#include "agent_proto.h"
#include "cleanup.h"
#include "fd_util.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define OUT_QUEUE_HIGH (256u * 1024)
#define CHUNK          AGENT_IO_MAX_PAYLOAD

struct bytes {
	unsigned char *data;
	size_t len, cap;
};

static void bytes_append(struct bytes *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		size_t cap = b->cap ? b->cap : 4096;
		while (cap < b->len + n)
			cap *= 2;
		b->data = xrealloc(b->data, cap);
		b->cap = cap;
	}
	if (n > 0)
		memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void bytes_consume(struct bytes *b, size_t n)
{
	memmove(b->data, b->data + n, b->len - n);
	b->len -= n;
}

struct command {
	struct command *next;
	uint32_t code;
	json_object *json;
	bool taken;
};

struct scripted {
	struct scripted *next;
	uint32_t code;
	char *message;              /* fail_next */
	unsigned char *ack_payload; /* set_ack_payload */
	size_t ack_len;
	bool is_ack;
};

struct fake_process {
	struct fake_process *next;
	char *container, *id;
	uint64_t stdio_seq, stderr_seq;
	char **steps;
	size_t nsteps, step;
	uint64_t step_done; /* bytes of the current bulk step sent */
	uint64_t window_out, window_err;
	struct bytes stdin_data;
	size_t stdin_echoed;
	bool stdin_eof;
	int pending_signal;
	int status;
	bool ended;
	bool killed;       /* by SIGKILL */
	char *status_name; /* hyperstart: kata-hyperstart-wait's --status file */
	char *oom_json;    /* "oom:JSON": the exit report's oomKilled value */
};

struct fake_agent {
	struct fake_agent_config config;
	char *ctl_path, *io_path;
	int ctl_listen, io_listen;
	int ctl, io;
	struct agent_frame_decoder ctl_in, io_in;
	struct bytes ctl_out, io_out;
	bool host_broken; /* the host sent a frame of impossible length: forget its bytes */
	int wake[2];
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t changed;
	bool stop;
	bool ready_sent;
	bool closed;
	int64_t io_read_at; /* io_read_pause_ms: when the I/O channel may be read again */

	struct command *commands, **commands_tail;
	struct scripted *scripts;
	struct fake_process *processes;
	struct {
		uint64_t seq, bytes;
	} credits[256];
	size_t ncredits;
};

static void wake(struct fake_agent *a)
{
	(void)!write(a->wake[1], "x", 1);
}

static void send_ctl(struct fake_agent *a, uint32_t code, const void *payload, size_t len)
{
	unsigned char h[AGENT_CTL_HEADER_SIZE];

	agent_frame_put_ctl_header(h, code, len);
	bytes_append(&a->ctl_out, h, sizeof(h));
	bytes_append(&a->ctl_out, payload, len);
}

static void send_io(struct fake_agent *a, uint64_t seq, const void *data, size_t len)
{
	unsigned char h[AGENT_IO_HEADER_SIZE];

	agent_frame_put_io_header(h, seq, len);
	bytes_append(&a->io_out, h, sizeof(h));
	bytes_append(&a->io_out, data, len);
}

static uint64_t credits_for(struct fake_agent *a, uint64_t seq)
{
	for (size_t i = 0; i < a->ncredits; i++)
		if (a->credits[i].seq == seq)
			return a->credits[i].bytes;
	return 0;
}

static void add_credits(struct fake_agent *a, uint64_t seq, uint32_t bytes)
{
	for (struct fake_process *p = a->processes; p != NULL; p = p->next) {
		if (p->stdio_seq == seq)
			p->window_out += bytes;
		else if (p->stderr_seq == seq)
			p->window_err += bytes;
	}
	for (size_t i = 0; i < a->ncredits; i++) {
		if (a->credits[i].seq == seq) {
			a->credits[i].bytes += bytes;
			return;
		}
	}
	if (a->ncredits < 256) {
		a->credits[a->ncredits].seq = seq;
		a->credits[a->ncredits].bytes = bytes;
		a->ncredits++;
	}
}

/* --- processes -------------------------------------------------------------------------- */

/* What kata-hyperstart-wait does as its program ends. */
static void write_status_file(struct fake_agent *a, const struct fake_process *p)
{
	cleanup_free char *path = NULL;
	FILE *f;

	if (p->status_name == NULL || a->config.share_dir == NULL || p->killed)
		return;
	/* the runtime makes this directory at create; here nothing does */
	path = xasprintf("%s/%s", a->config.share_dir, p->container);
	mkdir(path, 0755);
	free(path);
	path = xasprintf("%s/%s/.kata-status", a->config.share_dir, p->container);
	mkdir(path, 0755);
	free(path);
	path = xasprintf("%s/%s/.kata-status/%s", a->config.share_dir, p->container,
	                 p->status_name);
	f = fopen(path, "we");
	if (f == NULL)
		return;
	fprintf(f, "%d\n", p->status);
	fclose(f);
}

static void process_end(struct fake_agent *a, struct fake_process *p)
{
	json_object *ev;
	const char *text;
	size_t len;

	if (p->ended)
		return;
	p->ended = true;
	if (a->config.dialect == FAKE_AGENT_HYPERSTART) {
		/* hyperstart v1.1.0 in this guest: never reaped, so neither its stdout's end
		 * nor a report; only kata-hyperstart-wait's file */
		write_status_file(a, p);
		pthread_cond_broadcast(&a->changed);
		return;
	}
	send_io(a, p->stdio_seq, NULL, 0);
	if (a->config.dialect == FAKE_AGENT_KATA && p->stderr_seq != 0)
		send_io(a, p->stderr_seq, NULL, 0);
	if (a->config.dialect == FAKE_AGENT_CC) {
		unsigned char status = (unsigned char)p->status;
		send_io(a, p->stdio_seq, &status, 1);
	} else {
		ev = json_object_new_object();
		json_object_object_add(ev, "container", json_object_new_string(p->container));
		json_object_object_add(ev, "process", json_object_new_string(p->id));
		json_object_object_add(ev, "event", json_object_new_string("finished"));
		json_object_object_add(ev, "status", json_object_new_int(p->status));
		if (p->oom_json != NULL)
			json_object_object_add(ev, "oomKilled", json_tokener_parse(p->oom_json));
		text = json_object_to_json_string_length(ev, JSON_C_TO_STRING_PLAIN, &len);
		send_ctl(a, AGENT_PROCESSASYNCEVENT, text, len);
		json_object_put(ev);
	}
	pthread_cond_broadcast(&a->changed);
}

/* How much of stream `err` may be sent now. */
static size_t window(struct fake_agent *a, struct fake_process *p, bool err)
{
	uint64_t w = err ? p->window_err : p->window_out;

	if (a->config.ignore_credits || a->config.dialect != FAKE_AGENT_KATA)
		w = CHUNK;
	if (a->io_out.len >= OUT_QUEUE_HIGH)
		return 0;
	return w < CHUNK ? (size_t)w : CHUNK;
}

static void emit(struct fake_agent *a, struct fake_process *p, bool err, const void *data,
                 size_t len)
{
	send_io(a, err ? p->stderr_seq : p->stdio_seq, data, len);
	if (err)
		p->window_err -= p->window_err >= len ? len : p->window_err;
	else
		p->window_out -= p->window_out >= len ? len : p->window_out;
}

/* Runs the process's steps as far as windows and input allow. */
static void process_pump(struct fake_agent *a, struct fake_process *p)
{
	while (!p->ended) {
		const char *step = p->step < p->nsteps ? p->steps[p->step] : "exit:0";
		bool err = false;

		if (p->pending_signal == 9 ||
		    (p->pending_signal != 0 && strcmp(step, "wait") == 0)) {
			p->status = 128 + p->pending_signal;
			p->killed = p->pending_signal == 9;
			process_end(a, p);
			return;
		}
		if (strncmp(step, "out:", 4) == 0 || (err = strncmp(step, "err:", 4) == 0)) {
			size_t len = strlen(step + 4);
			if (window(a, p, err) < len)
				return;
			emit(a, p, err, step + 4, len);
		} else if (strncmp(step, "bulk:", 5) == 0 ||
		           (err = strncmp(step, "bulkerr:", 8) == 0)) {
			uint64_t total = strtoull(step + (err ? 8 : 5), NULL, 10);
			unsigned char buf[CHUNK];
			while (p->step_done < total) {
				size_t n = window(a, p, err);
				if (n == 0)
					return;
				if (n > total - p->step_done)
					n = total - p->step_done;
				for (size_t i = 0; i < n; i++)
					buf[i] = 'a' + (p->step_done + i) % 26;
				emit(a, p, err, buf, n);
				p->step_done += n;
			}
			p->step_done = 0;
		} else if (strcmp(step, "cat") == 0) {
			while (p->stdin_echoed < p->stdin_data.len) {
				size_t n = window(a, p, false);
				if (n == 0)
					return;
				if (n > p->stdin_data.len - p->stdin_echoed)
					n = p->stdin_data.len - p->stdin_echoed;
				emit(a, p, false, p->stdin_data.data + p->stdin_echoed, n);
				p->stdin_echoed += n;
			}
			if (!p->stdin_eof)
				return;
		} else if (strcmp(step, "stdin") == 0) {
			if (!p->stdin_eof)
				return;
		} else if (strcmp(step, "wait") == 0) {
			return;
		} else if (strncmp(step, "oom:", 4) == 0) {
			free(p->oom_json);
			p->oom_json = xstrdup(step + 4);
		} else if (strncmp(step, "exit:", 5) == 0) {
			p->status = atoi(step + 5);
			process_end(a, p);
			return;
		}
		p->step++;
	}
}

static struct fake_process *find_process_seq(struct fake_agent *a, uint64_t seq)
{
	for (struct fake_process *p = a->processes; p != NULL; p = p->next)
		if (p->stdio_seq == seq)
			return p;
	return NULL;
}

static struct fake_process *find_process(struct fake_agent *a, const char *id)
{
	for (struct fake_process *p = a->processes; p != NULL; p = p->next)
		if (strcmp(p->id, id) == 0)
			return p;
	return NULL;
}

/* kata-hyperstart-wait's path and options before the steps: its --status name kept. */
static void take_wait_options(struct fake_process *p)
{
	static const char wait_name[] = "/kata-hyperstart-wait";
	size_t skip = 1, len;

	if (p->nsteps == 0)
		return;
	len = strlen(p->steps[0]);
	if (len < sizeof(wait_name) - 1 ||
	    strcmp(p->steps[0] + len - (sizeof(wait_name) - 1), wait_name) != 0)
		return;
	for (; skip < p->nsteps && strcmp(p->steps[skip], "--") != 0; skip++) {
		const char *slash = strrchr(p->steps[skip], '/');
		if (strncmp(p->steps[skip], "--status=", 9) == 0 && slash != NULL)
			p->status_name = xstrdup(slash + 1);
	}
	if (skip < p->nsteps)
		skip++; /* the "--" */
	for (size_t i = 0; i < skip; i++)
		free(p->steps[i]);
	memmove(p->steps, p->steps + skip, (p->nsteps + 1 - skip) * sizeof(char *));
	p->nsteps -= skip;
}

static void start_process(struct fake_agent *a, const char *container, json_object *process)
{
	struct fake_process *p = xzalloc(sizeof(*p));
	json_object *v, *args;

	p->container = xstrdup(container);
	p->id = xstrdup(json_object_object_get_ex(process, "id", &v) ? json_object_get_string(v)
	                                                             : "?");
	if (json_object_object_get_ex(process, "stdio", &v))
		p->stdio_seq = json_object_get_uint64(v);
	if (json_object_object_get_ex(process, "stderr", &v))
		p->stderr_seq = json_object_get_uint64(v);
	p->window_out = p->window_err = AGENT_IO_INITIAL_WINDOW;
	if (json_object_object_get_ex(process, "args", &args) &&
	    json_object_is_type(args, json_type_array)) {
		p->nsteps = json_object_array_length(args);
		p->steps = xcalloc(p->nsteps + 1, sizeof(char *));
		for (size_t i = 0; i < p->nsteps; i++)
			p->steps[i] =
			        xstrdup(json_object_get_string(json_object_array_get_idx(args, i)));
	}
	take_wait_options(p);
	/* credits granted before the process existed (never, in practice) still count */
	p->window_out += credits_for(a, p->stdio_seq);
	p->window_err += credits_for(a, p->stderr_seq);
	p->next = a->processes;
	a->processes = p;
}

static void free_process(struct fake_process *p)
{
	free(p->container);
	free(p->id);
	free(p->status_name);
	free(p->oom_json);
	for (size_t i = 0; i < p->nsteps; i++)
		free(p->steps[i]);
	free(p->steps);
	free(p->stdin_data.data);
	free(p);
}

/* --- commands ---------------------------------------------------------------------------- */

/* hyperstart signals the container's init (the process named after the container); when
 * the init dies it kills every other process of the container. */
static void kill_container(struct fake_agent *a, const char *container, json_object *json)
{
	json_object *v;
	int signo = json_object_object_get_ex(json, "signal", &v) ? json_object_get_int(v) : 0;
	struct fake_process *init = find_process(a, container);

	if (init == NULL || signo <= 0 || strcmp(init->container, container) != 0)
		return;
	init->pending_signal = signo;
	if (signo != 9)
		return;
	for (struct fake_process *p = a->processes; p != NULL; p = p->next)
		if (strcmp(p->container, container) == 0)
			p->pending_signal = 9;
}

static void answer(struct fake_agent *a, uint32_t code, size_t request_len, bool refused)
{
	struct scripted **s;
	unsigned char next[4];

	if (a->config.no_reply)
		return;
	if (a->config.reply_delay_ms) {
		pthread_mutex_unlock(&a->lock);
		usleep(a->config.reply_delay_ms * 1000);
		pthread_mutex_lock(&a->lock);
	}
	if (a->config.dialect == FAKE_AGENT_HYPERSTART) {
		/* hyperstart acknowledges the header, then the payload, with NEXT */
		put_be32(next, AGENT_CTL_HEADER_SIZE);
		send_ctl(a, AGENT_NEXT, next, 4);
		if (request_len > 0) {
			put_be32(next, (uint32_t)request_len);
			send_ctl(a, AGENT_NEXT, next, 4);
		}
	}
	if (refused) {
		send_ctl(a, AGENT_ERROR, NULL, 0); /* hyperstart's ERROR says nothing more */
		return;
	}
	for (s = &a->scripts; *s != NULL; s = &(*s)->next) {
		struct scripted *sc = *s;
		if (sc->code != code || sc->is_ack)
			continue;
		json_object *e = json_object_new_object();
		size_t len;
		const char *text;
		json_object_object_add(e, "message", json_object_new_string(sc->message));
		text = json_object_to_json_string_length(e, JSON_C_TO_STRING_PLAIN, &len);
		send_ctl(a, AGENT_ERROR, text, len);
		json_object_put(e);
		*s = sc->next;
		free(sc->message);
		free(sc);
		return;
	}
	for (struct scripted *sc = a->scripts; sc != NULL; sc = sc->next) {
		if (sc->code == code && sc->is_ack) {
			send_ctl(a, AGENT_ACK, sc->ack_payload, sc->ack_len);
			return;
		}
	}
	if (code == AGENT_GETVERSION) {
		unsigned char v[4];
		put_be32(v, AGENT_PROTO_VERSION);
		send_ctl(a, AGENT_ACK, v, 4);
		return;
	}
	send_ctl(a, code > 99 ? AGENT_ERROR : AGENT_ACK, NULL, 0);
}

static bool will_fail(struct fake_agent *a, uint32_t code)
{
	for (struct scripted *sc = a->scripts; sc != NULL; sc = sc->next)
		if (sc->code == code && !sc->is_ack)
			return true;
	return false;
}

static void handle_command(struct fake_agent *a, uint32_t code, const unsigned char *payload,
                           size_t len)
{
	struct command *c = xzalloc(sizeof(*c));
	json_object *json = NULL, *v, *process;
	bool fails = will_fail(a, code);
	bool refused = false;

	if (len > 0) {
		char *text = xstrndup((const char *)payload, len);
		json = json_tokener_parse(text);
		free(text);
	}
	c->code = code;
	c->json = json != NULL ? json : json_object_new_object();
	*a->commands_tail = c;
	a->commands_tail = &c->next;
	pthread_cond_broadcast(&a->changed);

	if (a->config.dialect == FAKE_AGENT_HYPERSTART) {
		cleanup_free char *why = NULL;
		refused = !fake_hyperstart_accepts(code, json, &why);
		if (refused)
			fprintf(stderr, "fake agent (hyperstart): code %u refused: %s\n", code,
			        why);
	}
	answer(a, code, len, refused);
	if (fails || refused || json == NULL)
		return;
	if ((code == AGENT_NEWCONTAINER || code == AGENT_EXECCMD) &&
	    json_object_object_get_ex(json, "process", &process)) {
		const char *container = "?";
		if (json_object_object_get_ex(json, code == AGENT_NEWCONTAINER ? "id" : "container",
		                              &v))
			container = json_object_get_string(v);
		start_process(a, container, process);
	} else if (code == AGENT_KILLCONTAINER && a->config.dialect == FAKE_AGENT_HYPERSTART &&
	           json_object_object_get_ex(json, "container", &v)) {
		kill_container(a, json_object_get_string(v), json);
	} else if (code == AGENT_SIGNALPROCESS && json_object_object_get_ex(json, "process", &v)) {
		struct fake_process *p = find_process(a, json_object_get_string(v));
		if (p != NULL && json_object_object_get_ex(json, "signal", &v))
			p->pending_signal = json_object_get_int(v);
	}
}

/* --- channels ------------------------------------------------------------------------------ */

/* The decoder's callbacks (lib/agent_frame.h). A frame of impossible length is a broken
 * host: what it sent is forgotten and reading starts again on the next read. */
static bool ctl_decoded(void *opaque, enum agent_frame_event event, uint64_t code,
                        const unsigned char *payload, size_t length)
{
	struct fake_agent *a = opaque;

	if (event != AGENT_FRAME_OK) {
		a->host_broken = true;
		return false;
	}
	handle_command(a, (uint32_t)code, payload, length);
	return true;
}

static bool io_decoded(void *opaque, enum agent_frame_event event, uint64_t seq,
                       const unsigned char *data, size_t n)
{
	struct fake_agent *a = opaque;

	if (event != AGENT_FRAME_OK) {
		a->host_broken = true;
		return false;
	}
	if (seq == AGENT_IO_CREDIT_SEQ && n == AGENT_IO_CREDIT_PAYLOAD_SIZE) {
		add_credits(a, get_be64(data), get_be32(data + 8));
	} else {
		struct fake_process *p = find_process_seq(a, seq);
		if (p != NULL && n == 0)
			p->stdin_eof = true;
		else if (p != NULL)
			bytes_append(&p->stdin_data, data, n);
	}
	return true;
}

static void close_channels(struct fake_agent *a)
{
	if (a->ctl >= 0)
		close(a->ctl);
	if (a->io >= 0)
		close(a->io);
	a->ctl = a->io = -1;
	a->closed = true;
	a->ctl_out.len = a->io_out.len = 0;
	agent_frame_decoder_reset(&a->ctl_in);
	agent_frame_decoder_reset(&a->io_in);
	pthread_cond_broadcast(&a->changed);
}

/* Reads what the channel has and decodes it; false when the host went away. */
static bool read_channel(struct fake_agent *a, int fd, struct agent_frame_decoder *in,
                         agent_frame_cb decoded)
{
	unsigned char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n > 0) {
		a->host_broken = false;
		agent_frame_feed(in, buf, (size_t)n, decoded, a);
		if (a->host_broken)
			agent_frame_decoder_reset(in);
		return true;
	}
	return n < 0 && (errno == EAGAIN || errno == EINTR);
}

static bool flush(int fd, struct bytes *out)
{
	while (out->len > 0) {
		ssize_t n =
		        send(fd, out->data, out->len, MSG_NOSIGNAL); /* a killed host: no SIGPIPE */
		if (n < 0)
			return errno == EAGAIN || errno == EINTR;
		bytes_consume(out, n);
	}
	return true;
}

static int accept_nonblock(int listen_fd)
{
	int fd = accept4(listen_fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);

	return fd;
}

static void *agent_thread(void *arg)
{
	struct fake_agent *a = arg;

	pthread_mutex_lock(&a->lock);
	while (!a->stop) {
		struct pollfd pfd[5];
		int n = 0, ictl = -1, iio = -1, ilctl = -1, ilio = -1;

		pfd[n++] = (struct pollfd){ .fd = a->wake[0], .events = POLLIN };
		if (a->ctl < 0 && !a->closed) {
			ilctl = n;
			pfd[n++] = (struct pollfd){ .fd = a->ctl_listen, .events = POLLIN };
		}
		if (a->io < 0 && !a->closed) {
			ilio = n;
			pfd[n++] = (struct pollfd){ .fd = a->io_listen, .events = POLLIN };
		}
		if (a->ctl >= 0) {
			ictl = n;
			pfd[n++] = (struct pollfd){
				.fd = a->ctl, .events = POLLIN | (a->ctl_out.len ? POLLOUT : 0)
			};
		}
		if (a->io >= 0) {
			iio = n;
			pfd[n++] = (struct pollfd){
				.fd = a->io,
				.events = (now_ms() >= a->io_read_at ? POLLIN : 0) |
				          (a->io_out.len ? POLLOUT : 0),
			};
		}
		pthread_mutex_unlock(&a->lock);
		poll(pfd, n, a->config.io_read_pause_ms ? 5 : 50);
		pthread_mutex_lock(&a->lock);
		if (pfd[0].revents & POLLIN) {
			char buf[64];
			(void)!read(a->wake[0], buf, sizeof(buf));
		}
		if (ilctl >= 0 && (pfd[ilctl].revents & POLLIN))
			a->ctl = accept_nonblock(a->ctl_listen);
		if (ilio >= 0 && (pfd[ilio].revents & POLLIN))
			a->io = accept_nonblock(a->io_listen);
		if (a->ctl >= 0 && a->io >= 0 && !a->ready_sent && !a->config.no_ready) {
			send_ctl(a, AGENT_READY, NULL, 0);
			a->ready_sent = true;
			pthread_cond_broadcast(&a->changed);
		}
		if (ictl >= 0 && a->ctl >= 0 &&
		    (pfd[ictl].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (!read_channel(a, a->ctl, &a->ctl_in, ctl_decoded)) {
				close_channels(a);
				continue;
			}
		}
		if (iio >= 0 && a->io >= 0 && (pfd[iio].revents & (POLLIN | POLLHUP | POLLERR))) {
			if (!read_channel(a, a->io, &a->io_in, io_decoded)) {
				close_channels(a);
				continue;
			}
			if (a->config.io_read_pause_ms)
				a->io_read_at = now_ms() + a->config.io_read_pause_ms;
			pthread_cond_broadcast(&a->changed);
		}
		/* produce and write until the socket is full or nothing is left to produce, so
		 * that the next poll() has something to wait for */
		for (int round = 0; round < 256; round++) {
			bool produced;
			for (struct fake_process *p = a->processes; p != NULL; p = p->next)
				if (a->io >= 0)
					process_pump(a, p);
			produced = a->io_out.len > 0 || a->ctl_out.len > 0;
			if ((a->ctl >= 0 && !flush(a->ctl, &a->ctl_out)) ||
			    (a->io >= 0 && !flush(a->io, &a->io_out)))
				close_channels(a);
			if (!produced || a->io_out.len > 0 || a->io < 0)
				break;
		}
	}
	pthread_mutex_unlock(&a->lock);
	return NULL;
}

static int listen_at(const char *path, kata_error_t *err)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(addr.sun_path))
		return kata_error_set(err, ENAMETOOLONG, "%s: path too long", path);
	strcpy(addr.sun_path, path);
	unlink(path);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0 || bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(fd, 4) < 0) {
		kata_error_sys(err, "listen on %s", path);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	return fd;
}

struct fake_agent *fake_agent_start(const char *dir, const struct fake_agent_config *config,
                                    kata_error_t *err)
{
	struct fake_agent *a = xzalloc(sizeof(*a));

	if (config != NULL)
		a->config = *config;
	a->ctl = a->io = -1;
	agent_frame_decoder_init_ctl(&a->ctl_in);
	agent_frame_decoder_init_io(&a->io_in);
	a->commands_tail = &a->commands;
	a->ctl_path = xasprintf("%s/ctl.sock", dir);
	a->io_path = xasprintf("%s/io.sock", dir);
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->changed, NULL);
	a->ctl_listen = listen_at(a->ctl_path, err);
	a->io_listen = a->ctl_listen < 0 ? -1 : listen_at(a->io_path, err);
	if (a->io_listen < 0 || pipe2(a->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		if (a->ctl_listen >= 0)
			close(a->ctl_listen);
		unlink(a->ctl_path);
		free(a->ctl_path);
		free(a->io_path);
		free(a);
		return NULL;
	}
	pthread_create(&a->thread, NULL, agent_thread, a);
	return a;
}

void fake_agent_stop(struct fake_agent *a)
{
	if (a == NULL)
		return;
	pthread_mutex_lock(&a->lock);
	a->stop = true;
	pthread_mutex_unlock(&a->lock);
	wake(a);
	pthread_join(a->thread, NULL);
	close_channels(a);
	close(a->ctl_listen);
	close(a->io_listen);
	close(a->wake[0]);
	close(a->wake[1]);
	unlink(a->ctl_path);
	unlink(a->io_path);
	while (a->commands != NULL) {
		struct command *c = a->commands;
		a->commands = c->next;
		json_object_put(c->json);
		free(c);
	}
	while (a->scripts != NULL) {
		struct scripted *s = a->scripts;
		a->scripts = s->next;
		free(s->message);
		free(s->ack_payload);
		free(s);
	}
	while (a->processes != NULL) {
		struct fake_process *p = a->processes;
		a->processes = p->next;
		free_process(p);
	}
	agent_frame_decoder_free(&a->ctl_in);
	agent_frame_decoder_free(&a->io_in);
	free(a->ctl_out.data);
	free(a->io_out.data);
	free(a->ctl_path);
	free(a->io_path);
	pthread_mutex_destroy(&a->lock);
	pthread_cond_destroy(&a->changed);
	free(a);
}

const char *fake_agent_ctl_path(const struct fake_agent *a)
{
	return a->ctl_path;
}

const char *fake_agent_io_path(const struct fake_agent *a)
{
	return a->io_path;
}

void fake_agent_fail_next(struct fake_agent *a, uint32_t code, const char *message)
{
	struct scripted *s = xzalloc(sizeof(*s)), **tail;

	s->code = code;
	s->message = xstrdup(message);
	pthread_mutex_lock(&a->lock);
	for (tail = &a->scripts; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = s;
	pthread_mutex_unlock(&a->lock);
}

void fake_agent_set_ack_payload(struct fake_agent *a, uint32_t code, const void *payload,
                                size_t len)
{
	struct scripted *s = xzalloc(sizeof(*s));

	s->code = code;
	s->is_ack = true;
	s->ack_payload = xmalloc(len);
	memcpy(s->ack_payload, payload, len);
	s->ack_len = len;
	pthread_mutex_lock(&a->lock);
	s->next = a->scripts;
	a->scripts = s;
	pthread_mutex_unlock(&a->lock);
}

/* Waits on the condition until pred() or the deadline; the lock is held. */
static void timed_wait(struct fake_agent *a, int64_t deadline)
{
	struct timespec ts;
	int64_t left = deadline - now_ms();

	if (left <= 0)
		return;
	if (left > 50)
		left = 50;
	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_nsec += left * 1000000;
	ts.tv_sec += ts.tv_nsec / 1000000000;
	ts.tv_nsec %= 1000000000;
	pthread_cond_timedwait(&a->changed, &a->lock, &ts);
}

json_object *fake_agent_wait_command(struct fake_agent *a, uint32_t code, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	json_object *found = NULL;

	pthread_mutex_lock(&a->lock);
	while (found == NULL) {
		for (struct command *c = a->commands; c != NULL; c = c->next) {
			if (c->code == code && !c->taken) {
				c->taken = true;
				found = json_object_get(c->json);
				break;
			}
		}
		if (found != NULL || now_ms() >= deadline)
			break;
		timed_wait(a, deadline);
	}
	pthread_mutex_unlock(&a->lock);
	return found;
}

size_t fake_agent_count_commands(struct fake_agent *a, uint32_t code)
{
	size_t n = 0;

	pthread_mutex_lock(&a->lock);
	for (struct command *c = a->commands; c != NULL; c = c->next)
		n += c->code == code;
	pthread_mutex_unlock(&a->lock);
	return n;
}

int fake_agent_wait_process_end(struct fake_agent *a, const char *process, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	int status = -1;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		struct fake_process *p = find_process(a, process);
		if (p != NULL && p->ended) {
			status = p->status;
			break;
		}
		if (now_ms() >= deadline)
			break;
		timed_wait(a, deadline);
	}
	pthread_mutex_unlock(&a->lock);
	return status;
}

ssize_t fake_agent_stdin(struct fake_agent *a, const char *process, void *buf, size_t len,
                         bool *eof)
{
	ssize_t n = -1;

	pthread_mutex_lock(&a->lock);
	struct fake_process *p = find_process(a, process);
	if (p != NULL) {
		n = p->stdin_data.len < len ? p->stdin_data.len : len;
		if (n > 0)
			memcpy(buf, p->stdin_data.data, n);
		if (eof != NULL)
			*eof = p->stdin_eof;
	}
	pthread_mutex_unlock(&a->lock);
	return n;
}

uint64_t fake_agent_credits(struct fake_agent *a, uint64_t seq)
{
	uint64_t n;

	pthread_mutex_lock(&a->lock);
	n = credits_for(a, seq);
	pthread_mutex_unlock(&a->lock);
	return n;
}

void fake_agent_send_raw(struct fake_agent *a, bool io_channel, const void *bytes, size_t len)
{
	pthread_mutex_lock(&a->lock);
	bytes_append(io_channel ? &a->io_out : &a->ctl_out, bytes, len);
	pthread_mutex_unlock(&a->lock);
	wake(a);
}

void fake_agent_close_channels(struct fake_agent *a)
{
	pthread_mutex_lock(&a->lock);
	close_channels(a);
	pthread_mutex_unlock(&a->lock);
	wake(a);
}

bool fake_agent_wait_connected(struct fake_agent *a, int timeout_ms)
{
	int64_t deadline = now_ms() + timeout_ms;
	bool ok;

	pthread_mutex_lock(&a->lock);
	while (!(ok = a->ctl >= 0 && a->io >= 0) && now_ms() < deadline)
		timed_wait(a, deadline);
	pthread_mutex_unlock(&a->lock);
	return ok;
}

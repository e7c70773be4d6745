/* agent-client: a host-side test client that speaks the agent wire format directly on
 * the two unix sockets qemu serves for the virtio-serial ports (lib/agent_proto.h).
 *
 *   agent-client CTL_SOCK IO_SOCK [COMMAND]...
 *
 * Each argument is one command; without any, commands are read from stdin, one a line.
 * The client stops at the first command that fails, with exit status 1 and a message on
 * stderr. Commands:
 *
 *   wait-ready                 wait for READY on the control channel
 *   timeout SECONDS            deadline of every later wait (default 60)
 *   send CODE [JSON]           send a command (CODE: number or name, e.g. PING)
 *   expect-ack                 next answer must be ACK: prints "ACK <payload>"
 *                              (GETVERSION's u32 payload is printed as a number)
 *   expect-error               next answer must be ERROR: prints "ERROR <payload>"
 *   call CODE [JSON]           send + expect-ack
 *   fail CODE [JSON]           send + expect-error
 *   send-raw HEX               raw bytes on the control channel
 *   send-header CODE LENGTH    a control header declaring LENGTH (whole frame)
 *   send-zeros N               N zero bytes on the control channel
 *   io-raw HEX                 raw bytes on the I/O channel
 *   stdin SEQ TEXT             stdin frame (C escapes \n \t \\ \xHH in TEXT)
 *   stdin-file SEQ PATH        the file's bytes as stdin frames
 *   stdin-eof SEQ              zero-length stdin frame
 *   credits on|off             grant flow-control credits for what is read (default on)
 *   read-stream SEQ [FILE]     everything of stream SEQ up to its EOF, to stdout or FILE
 *   read-some SEQ N [FILE]     at least N bytes of stream SEQ (no EOF needed)
 *   expect-stream SEQ TEXT     the whole stream (to EOF) must equal TEXT (escapes)
 *   expect-silence SEQ MS      no byte of SEQ may arrive during MS milliseconds
 *   count-stream SEQ           prints "bytes=N" of the pending stream SEQ (no wait)
 *   wait-exit CONTAINER PROCESS       wait for its PROCESSASYNCEVENT, print "status=N" (and
 *                                     "oom-killed" when it says oomKilled)
 *   expect-exit CONTAINER PROCESS N   the same, and the status must be N
 *   sleep MS
 *   echo TEXT
 */
#include "fd_util.h"
#include "agent_frame.h"
#include "agent_proto.h"
#include "error.h"
#include "unix_socket.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

struct stream {
	uint64_t seq;
	unsigned char *data;
	size_t len, cap;
	bool eof;
	uint64_t ungranted; /* read while credits were off */
};

struct reply {
	uint32_t code;
	unsigned char *payload;
	size_t len;
};

struct event {
	char *container, *process;
	int status;
	bool oom_killed;
};

static int ctl_fd = -1, io_fd = -1;
static int timeout_s = 60;
static bool credits = true;
static bool ready;
static struct stream *streams;
static size_t n_streams;
static struct reply *replies;
static size_t n_replies;
static struct event *events;
static size_t n_events;
static struct agent_frame_decoder ctl_in, io_in;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fprintf(stderr, "agent-client: ");
	vfprintf(stderr, fmt, ap);
	fprintf(stderr, "\n");
	va_end(ap);
	exit(1);
}

static void *xrealloc_(void *p, size_t n)
{
	p = realloc(p, n ? n : 1);
	if (p == NULL)
		die("out of memory");
	return p;
}

static int connect_unix(const char *path)
{
	cleanup_error kata_error_t err = NULL;
	/* qemu may still be creating its sockets. */
	int fd = unix_socket_connect(path, 10000, &err);

	if (fd < 0)
		die("%s", err->message);
	return fd;
}

/* What waits to be written to the I/O socket: stdin frames and credits. Written without
 * blocking from pump(), so the client always keeps reading what the agent sends (a client
 * blocked in a write while the agent waits for its credits would deadlock). */
static unsigned char *io_out;
static size_t io_out_len, io_out_cap;

static void flush_io(void)
{
	while (io_out_len > 0) {
		ssize_t n = send(io_fd, io_out, io_out_len, MSG_DONTWAIT | MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && errno == EAGAIN)
			return;
		if (n < 0)
			die("write to the I/O channel: %s", strerror(errno));
		memmove(io_out, io_out + n, io_out_len - (size_t)n);
		io_out_len -= (size_t)n;
	}
}

static void queue_io(const void *data, size_t len)
{
	if (io_out_len + len > io_out_cap) {
		io_out_cap = (io_out_len + len) * 2;
		io_out = xrealloc_(io_out, io_out_cap);
	}
	memcpy(io_out + io_out_len, data, len);
	io_out_len += len;
	flush_io();
}

static void write_all(int fd, const void *buf, size_t len)
{
	const unsigned char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			die("write: %s", strerror(errno));
		p += n;
		len -= (size_t)n;
	}
}

static struct stream *stream_get(uint64_t seq)
{
	for (size_t i = 0; i < n_streams; i++)
		if (streams[i].seq == seq)
			return &streams[i];
	streams = xrealloc_(streams, (n_streams + 1) * sizeof(*streams));
	memset(&streams[n_streams], 0, sizeof(*streams));
	streams[n_streams].seq = seq;
	return &streams[n_streams++];
}

static void grant(uint64_t seq, uint64_t bytes)
{
	while (bytes > 0) {
		unsigned char frame[AGENT_IO_HEADER_SIZE + AGENT_IO_CREDIT_PAYLOAD_SIZE];
		uint32_t n = bytes > UINT32_MAX ? UINT32_MAX : (uint32_t)bytes;

		agent_frame_put_io_header(frame, AGENT_IO_CREDIT_SEQ, AGENT_IO_CREDIT_PAYLOAD_SIZE);
		put_be64(frame + 12, seq);
		put_be32(frame + 20, n);
		queue_io(frame, sizeof(frame));
		bytes -= n;
	}
}

static void handle_ctl(uint32_t code, const unsigned char *payload, size_t len)
{
	if (code == AGENT_READY) {
		ready = true;
	} else if (code == AGENT_NEXT) {
		/* hyperstart's acknowledgements: dropped */
	} else if (code == AGENT_PROCESSASYNCEVENT) {
		char *text = strndup((const char *)payload, len);
		json_object *obj = json_tokener_parse(text);
		json_object *c, *p, *s, *oom;

		if (obj == NULL || !json_object_object_get_ex(obj, "container", &c) ||
		    !json_object_object_get_ex(obj, "process", &p) ||
		    !json_object_object_get_ex(obj, "status", &s))
			die("malformed PROCESSASYNCEVENT: %s", text);
		events = xrealloc_(events, (n_events + 1) * sizeof(*events));
		events[n_events].container = strdup(json_object_get_string(c));
		events[n_events].process = strdup(json_object_get_string(p));
		events[n_events].status = json_object_get_int(s);
		events[n_events].oom_killed = json_object_object_get_ex(obj, "oomKilled", &oom) &&
		                              json_object_get_boolean(oom);
		n_events++;
		json_object_put(obj);
		free(text);
	} else {
		replies = xrealloc_(replies, (n_replies + 1) * sizeof(*replies));
		replies[n_replies].code = code;
		replies[n_replies].payload = xrealloc_(NULL, len + 1);
		memcpy(replies[n_replies].payload, payload, len);
		replies[n_replies].payload[len] = '\0';
		replies[n_replies].len = len;
		n_replies++;
	}
}

static void handle_io(uint64_t seq, const unsigned char *data, size_t len)
{
	struct stream *s = stream_get(seq);

	if (len == 0) {
		s->eof = true;
		return;
	}
	if (s->len + len > s->cap) {
		s->cap = (s->len + len) * 2;
		s->data = xrealloc_(s->data, s->cap);
	}
	memcpy(s->data + s->len, data, len);
	s->len += len;
	if (credits)
		grant(seq, len);
	else
		s->ungranted += len;
}

/* The decoder's callbacks (lib/agent_frame.h): a frame of impossible length is fatal. */
static bool ctl_decoded(void *opaque, enum agent_frame_event event, uint64_t code,
                        const unsigned char *payload, size_t len)
{
	if (event != AGENT_FRAME_OK)
		die("malformed frame from the agent (length %zu)", len);
	handle_ctl((uint32_t)code, payload, len);
	return true;
}

static bool io_decoded(void *opaque, enum agent_frame_event event, uint64_t seq,
                       const unsigned char *data, size_t len)
{
	if (event != AGENT_FRAME_OK)
		die("malformed frame from the agent (length %zu)", len);
	handle_io(seq, data, len);
	return true;
}

/* Reads what is there on fd and dispatches whole frames. */
static void pump_fd(int fd, struct agent_frame_decoder *in, agent_frame_cb decoded, bool io)
{
	unsigned char buf[65536];
	ssize_t n = read(fd, buf, sizeof(buf));

	if (n < 0 && (errno == EINTR || errno == EAGAIN))
		return;
	if (n <= 0)
		die("%s channel closed by the guest", io ? "I/O" : "control");
	agent_frame_feed(in, buf, (size_t)n, decoded, NULL);
}

static void pump(int timeout_ms)
{
	struct pollfd pfd[2] = {
		{ .fd = ctl_fd, .events = POLLIN },
		{ .fd = io_fd, .events = POLLIN | (io_out_len ? POLLOUT : 0) },
	};

	if (poll(pfd, 2, timeout_ms) < 0 && errno != EINTR)
		die("poll: %s", strerror(errno));
	if (pfd[0].revents)
		pump_fd(ctl_fd, &ctl_in, ctl_decoded, false);
	if (pfd[1].revents & POLLOUT)
		flush_io();
	if (pfd[1].revents & (POLLIN | POLLHUP | POLLERR))
		pump_fd(io_fd, &io_in, io_decoded, true);
}

static double now(void)
{
	return (double)now_ns() / 1e9;
}

#define WAIT_UNTIL(cond, what)                                                                     \
	do {                                                                                       \
		double deadline_ = now() + timeout_s;                                              \
		while (!(cond)) {                                                                  \
			if (now() > deadline_)                                                     \
				die("timed out waiting for %s", what);                             \
			pump(100);                                                                 \
		}                                                                                  \
	} while (0)

static const struct {
	const char *name;
	uint32_t code;
} codes[] = {
	{ "GETVERSION", AGENT_GETVERSION },
	{ "STARTPOD", AGENT_STARTPOD },
	{ "DESTROYPOD", AGENT_DESTROYPOD },
	{ "EXECCMD", AGENT_EXECCMD },
	{ "READY", AGENT_READY },
	{ "ACK", AGENT_ACK },
	{ "ERROR", AGENT_ERROR },
	{ "WINSIZE", AGENT_WINSIZE },
	{ "PING", AGENT_PING },
	{ "NEXT", AGENT_NEXT },
	{ "WRITEFILE", AGENT_WRITEFILE },
	{ "READFILE", AGENT_READFILE },
	{ "NEWCONTAINER", AGENT_NEWCONTAINER },
	{ "KILLCONTAINER", AGENT_KILLCONTAINER },
	{ "ONLINECPUMEM", AGENT_ONLINECPUMEM },
	{ "SETUPINTERFACE", AGENT_SETUPINTERFACE },
	{ "SETUPROUTE", AGENT_SETUPROUTE },
	{ "REMOVECONTAINER", AGENT_REMOVECONTAINER },
	{ "PROCESSASYNCEVENT", AGENT_PROCESSASYNCEVENT },
	{ "SIGNALPROCESS", AGENT_SIGNALPROCESS },
	{ "DELETEINTERFACE", AGENT_DELETEINTERFACE },
	{ "STARTCONTAINER", AGENT_STARTCONTAINER },
	{ "PSCONTAINER", AGENT_PSCONTAINER },
	{ "STATSCONTAINER", AGENT_STATSCONTAINER },
	{ "UPDATECONTAINER", AGENT_UPDATECONTAINER },
};

static uint32_t parse_code(const char *s)
{
	char *end;
	unsigned long n;

	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (strcasecmp(s, codes[i].name) == 0)
			return codes[i].code;
	n = strtoul(s, &end, 0);
	if (*s == '\0' || *end != '\0' || n > UINT32_MAX)
		die("unknown command code %s", s);
	return (uint32_t)n;
}

static uint64_t parse_u64(const char *s)
{
	char *end;
	unsigned long long n = strtoull(s, &end, 0);

	if (*s == '\0' || *end != '\0')
		die("not a number: %s", s);
	return n;
}

static size_t unescape(const char *in, unsigned char *out)
{
	size_t n = 0;

	while (*in) {
		if (*in != '\\' || in[1] == '\0') {
			out[n++] = (unsigned char)*in++;
			continue;
		}
		in++;
		switch (*in) {
		case 'n':
			out[n++] = '\n';
			break;
		case 't':
			out[n++] = '\t';
			break;
		case 'r':
			out[n++] = '\r';
			break;
		case '0':
			out[n++] = '\0';
			break;
		case 'x':
			if (isxdigit((unsigned char)in[1]) && isxdigit((unsigned char)in[2])) {
				char hex[3] = { in[1], in[2], 0 };

				out[n++] = (unsigned char)strtoul(hex, NULL, 16);
				in += 2;
				break;
			}
			out[n++] = 'x';
			break;
		default:
			out[n++] = (unsigned char)*in;
		}
		in++;
	}
	return n;
}

static size_t unhex(const char *in, unsigned char *out)
{
	size_t n = 0;

	while (*in) {
		char hex[3];

		if (isspace((unsigned char)*in)) {
			in++;
			continue;
		}
		if (!isxdigit((unsigned char)in[0]) || !isxdigit((unsigned char)in[1]))
			die("bad hex at `%s`", in);
		hex[0] = in[0];
		hex[1] = in[1];
		hex[2] = 0;
		out[n++] = (unsigned char)strtoul(hex, NULL, 16);
		in += 2;
	}
	return n;
}

static void send_ctl(uint32_t code, const char *json)
{
	size_t len = json ? strlen(json) : 0;
	unsigned char header[AGENT_CTL_HEADER_SIZE];

	agent_frame_put_ctl_header(header, code, len);
	write_all(ctl_fd, header, sizeof(header));
	if (len)
		write_all(ctl_fd, json, len);
}

static void send_io(uint64_t seq, const void *data, size_t len)
{
	unsigned char header[AGENT_IO_HEADER_SIZE];

	agent_frame_put_io_header(header, seq, len);
	queue_io(header, sizeof(header));
	if (len)
		queue_io(data, len);
	/* Bounded: wait (reading meanwhile) while too much is queued. */
	while (io_out_len > (1u << 20))
		pump(10);
}

static struct reply next_reply(void)
{
	struct reply r;

	WAIT_UNTIL(n_replies > 0, "an answer");
	r = replies[0];
	memmove(replies, replies + 1, (n_replies - 1) * sizeof(*replies));
	n_replies--;
	return r;
}

static void expect(uint32_t want)
{
	struct reply r = next_reply();

	if (r.code == AGENT_ACK && want == AGENT_ACK) {
		if (r.len == 4 && r.payload[0] != '{')
			printf("ACK %u\n", get_be32(r.payload));
		else
			printf("ACK %s\n", (char *)r.payload);
	} else if (r.code == AGENT_ERROR && want == AGENT_ERROR) {
		printf("ERROR %s\n", (char *)r.payload);
	} else {
		die("expected %s, got code %u: %s", want == AGENT_ACK ? "ACK" : "ERROR", r.code,
		    (char *)r.payload);
	}
	fflush(stdout);
	free(r.payload);
}

static void read_stream(uint64_t seq, const char *file, size_t at_least, bool to_eof)
{
	struct stream *s;
	FILE *out = stdout;

	WAIT_UNTIL((s = stream_get(seq), to_eof ? s->eof : s->len >= at_least), "stream data");
	if (file && (out = fopen(file, "w")) == NULL)
		die("open %s: %s", file, strerror(errno));
	if (s->len && fwrite(s->data, 1, s->len, out) != s->len)
		die("write output");
	if (file)
		fclose(out);
	fflush(stdout);
	s->len = 0;
	if (to_eof)
		s->eof = false; /* the seq may be used again by a later process */
}

static struct event wait_event(const char *container, const char *process)
{
	for (;;) {
		for (size_t i = 0; i < n_events; i++) {
			if (strcmp(events[i].container, container) == 0 &&
			    strcmp(events[i].process, process) == 0) {
				struct event e = events[i];

				memmove(events + i, events + i + 1,
				        (n_events - i - 1) * sizeof(*events));
				n_events--;
				return e;
			}
		}
		double deadline = now() + timeout_s;
		size_t before = n_events;

		while (n_events == before) {
			if (now() > deadline)
				die("timed out waiting for the exit of %s/%s", container, process);
			pump(100);
		}
	}
}

/* Splits "word rest" in place: returns rest (possibly ""). */
static char *split(char *line)
{
	char *sp = line + strcspn(line, " \t");

	if (*sp == '\0')
		return sp;
	*sp++ = '\0';
	while (*sp == ' ' || *sp == '\t')
		sp++;
	return sp;
}

static void run(char *line)
{
	char *cmd = line;
	char *rest;

	line[strcspn(line, "\r\n")] = '\0';
	while (*cmd == ' ' || *cmd == '\t')
		cmd++;
	if (*cmd == '\0' || *cmd == '#')
		return;
	rest = split(cmd);
	if (strcmp(cmd, "wait-ready") == 0) {
		WAIT_UNTIL(ready, "READY");
		printf("READY\n");
	} else if (strcmp(cmd, "timeout") == 0) {
		timeout_s = (int)parse_u64(rest);
	} else if (strcmp(cmd, "send") == 0 || strcmp(cmd, "call") == 0 ||
	           strcmp(cmd, "fail") == 0) {
		char *json = split(rest);

		send_ctl(parse_code(rest), *json ? json : NULL);
		if (strcmp(cmd, "call") == 0)
			expect(AGENT_ACK);
		else if (strcmp(cmd, "fail") == 0)
			expect(AGENT_ERROR);
	} else if (strcmp(cmd, "expect-ack") == 0) {
		expect(AGENT_ACK);
	} else if (strcmp(cmd, "expect-error") == 0) {
		expect(AGENT_ERROR);
	} else if (strcmp(cmd, "send-raw") == 0 || strcmp(cmd, "io-raw") == 0) {
		unsigned char *buf = xrealloc_(NULL, strlen(rest) / 2 + 1);
		size_t n = unhex(rest, buf);

		if (cmd[0] == 's')
			write_all(ctl_fd, buf, n);
		else
			queue_io(buf, n);
		free(buf);
	} else if (strcmp(cmd, "send-header") == 0) {
		char *len = split(rest);
		unsigned char header[AGENT_CTL_HEADER_SIZE];

		put_be32(header, parse_code(rest));
		put_be32(header + 4, (uint32_t)parse_u64(len));
		write_all(ctl_fd, header, sizeof(header));
	} else if (strcmp(cmd, "send-zeros") == 0) {
		static unsigned char zeros[65536];
		uint64_t n = parse_u64(rest);

		while (n > 0) {
			size_t k = n > sizeof(zeros) ? sizeof(zeros) : (size_t)n;

			write_all(ctl_fd, zeros, k);
			n -= k;
			pump(0); /* keep reading: the agent may answer meanwhile */
		}
	} else if (strcmp(cmd, "stdin") == 0) {
		char *text = split(rest);
		unsigned char *buf = xrealloc_(NULL, strlen(text) + 1);
		size_t n = unescape(text, buf);

		send_io(parse_u64(rest), buf, n);
		free(buf);
	} else if (strcmp(cmd, "stdin-file") == 0) {
		char *path = split(rest);
		uint64_t seq = parse_u64(rest);
		int fd = open(path, O_RDONLY | O_CLOEXEC);
		unsigned char buf[32768];
		ssize_t n;

		if (fd < 0)
			die("open %s", path);
		while ((n = read(fd, buf, sizeof(buf))) > 0) {
			send_io(seq, buf, (size_t)n);
			pump(0); /* read output meanwhile, or a pipe-like process could stall */
		}
		close(fd);
	} else if (strcmp(cmd, "stdin-eof") == 0) {
		send_io(parse_u64(rest), NULL, 0);
	} else if (strcmp(cmd, "credits") == 0) {
		credits = strcmp(rest, "on") == 0;
		for (size_t i = 0; credits && i < n_streams; i++) {
			grant(streams[i].seq, streams[i].ungranted);
			streams[i].ungranted = 0;
		}
	} else if (strcmp(cmd, "read-stream") == 0) {
		char *file = split(rest);

		read_stream(parse_u64(rest), *file ? file : NULL, 0, true);
	} else if (strcmp(cmd, "read-some") == 0) {
		char *n = split(rest);
		char *file = split(n);

		read_stream(parse_u64(rest), *file ? file : NULL, (size_t)parse_u64(n), false);
	} else if (strcmp(cmd, "expect-stream") == 0) {
		char *text = split(rest);
		unsigned char *want = xrealloc_(NULL, strlen(text) + 1);
		size_t n = unescape(text, want);
		struct stream *s;

		WAIT_UNTIL((s = stream_get(parse_u64(rest)), s->eof), "stream EOF");
		if (s->len != n || memcmp(s->data, want, n) != 0)
			die("stream %s: got %zu bytes `%.*s`, expected `%s`", rest, s->len,
			    (int)(s->len > 200 ? 200 : s->len), s->data, text);
		printf("stream %s ok\n", rest);
		s->len = 0;
		s->eof = false;
		free(want);
	} else if (strcmp(cmd, "expect-silence") == 0) {
		char *ms = split(rest);
		struct stream *s = stream_get(parse_u64(rest));
		size_t before = s->len;
		double end = now() + (double)parse_u64(ms) / 1000;

		while (now() < end)
			pump(50);
		s = stream_get(parse_u64(rest));
		if (s->len != before)
			die("stream %s: %zu bytes arrived", rest, s->len - before);
		printf("silence ok\n");
	} else if (strcmp(cmd, "count-stream") == 0) {
		pump(0);
		printf("bytes=%zu\n", stream_get(parse_u64(rest))->len);
	} else if (strcmp(cmd, "wait-exit") == 0 || strcmp(cmd, "expect-exit") == 0) {
		char *process = split(rest);
		char *status = split(process);
		struct event e = wait_event(rest, process);

		printf("status=%d\n", e.status);
		if (e.oom_killed)
			printf("oom-killed\n");
		if (cmd[0] == 'e' && e.status != (int)parse_u64(status))
			die("%s/%s exited with %d, expected %s", rest, process, e.status, status);
		free(e.container);
		free(e.process);
	} else if (strcmp(cmd, "sleep") == 0) {
		double end = now() + (double)parse_u64(rest) / 1000;

		while (now() < end)
			pump(20);
	} else if (strcmp(cmd, "echo") == 0) {
		printf("%s\n", rest);
	} else {
		die("unknown command `%s`", cmd);
	}
	fflush(stdout);
}

int main(int argc, char **argv)
{
	char line[1 << 16];

	if (argc < 3) {
		fprintf(stderr, "usage: agent-client CTL_SOCK IO_SOCK [COMMAND]...\n");
		return 2;
	}
	ctl_fd = connect_unix(argv[1]);
	io_fd = connect_unix(argv[2]);
	agent_frame_decoder_init_ctl(&ctl_in);
	agent_frame_decoder_init_io(&io_in);
	if (argc > 3) {
		for (int i = 3; i < argc; i++) {
			char *copy = strdup(argv[i]);

			run(copy);
			free(copy);
		}
	} else {
		while (fgets(line, sizeof(line), stdin))
			run(line);
	}
	/* Let the last frames reach the guest before the sockets close. */
	for (double end = now() + timeout_s; io_out_len > 0 && now() < end;)
		pump(10);
	usleep(50000);
	return 0;
}

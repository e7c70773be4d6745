/* The agent's two channels (agent_proto.h): unix sockets that qemu serves for the
 * virtio-serial ports. Everything read here comes from the guest and is hostile: a frame
 * with an impossible length cannot be resynchronised, so it is treated as the VM's
 * death, which hurts only that VM. */
#include "proxy.h"
#include "agent_frame.h"
#include "agent_proto.h"
#include "cleanup.h"
#include "log.h"
#include "unix_socket.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define READ_CHUNK (64u * 1024)

static bool agent_gone(struct proxy_agent *agent)
{
	return agent->ctl == NULL || agent->proxy->shutting_down;
}

static void ctl_frame(struct proxy_agent *agent, uint32_t code, const unsigned char *payload,
                      size_t len)
{
	struct proxy *proxy = agent->proxy;

	switch (code) {
	case AGENT_READY:
		log_debug("agent: READY");
		agent->ready = true;
		proxy_request_kick(proxy);
		return;
	case AGENT_NEXT:
		return; /* hyperstart's count of bytes read: nothing to do with it */
	case AGENT_ACK:
	case AGENT_ERROR:
		proxy_request_answer(proxy, code, payload, len);
		return;
	default:
		if (code == proxy_code_processasyncevent(proxy->opts->dialect)) {
			proxy_agent_event(proxy, code, payload, len);
			return;
		}
		log_warning("agent: unexpected control frame code %u (%zu bytes), dropped", code,
		            len);
	}
}

/* The decoder's callbacks: a frame the decoder refuses (a length below the header or above
 * the maximum) ends the VM; false stops decoding once the agent is gone. */
static bool ctl_decoded(void *opaque, enum agent_frame_event event, uint64_t code,
                        const unsigned char *payload, size_t length)
{
	struct proxy_agent *agent = opaque;

	if (agent_gone(agent))
		return false;
	if (event != AGENT_FRAME_OK) {
		log_error("agent: control frame of length %zu (code %u): protocol broken", length,
		          (unsigned)code);
		proxy_vm_died(agent->proxy, "the agent broke the control channel framing");
		return false;
	}
	ctl_frame(agent, (uint32_t)code, payload, length);
	return !agent_gone(agent);
}

static bool io_decoded(void *opaque, enum agent_frame_event event, uint64_t seq,
                       const unsigned char *payload, size_t length)
{
	struct proxy_agent *agent = opaque;

	if (agent_gone(agent))
		return false;
	if (event != AGENT_FRAME_OK) {
		log_error("agent: I/O frame of length %zu (seq %llu): protocol broken", length,
		          (unsigned long long)seq);
		proxy_vm_died(agent->proxy, "the agent broke the I/O channel framing");
		return false;
	}
	proxy_io_from_agent(agent->proxy, seq, payload, length);
	return !agent_gone(agent);
}

static void channel_readable(struct event_fd *efd, struct agent_frame_decoder *in,
                             agent_frame_cb decoded, struct proxy_agent *agent)
{
	unsigned char buf[READ_CHUNK];
	ssize_t n = event_fd_read(efd, buf, sizeof(buf));

	if (n > 0)
		agent_frame_feed(in, buf, (size_t)n, decoded, agent);
}

static void ctl_readable(struct event_fd *efd, void *data)
{
	struct proxy_agent *agent = data;

	channel_readable(efd, &agent->ctl_in, ctl_decoded, agent);
}

static void io_readable(struct event_fd *efd, void *data)
{
	struct proxy_agent *agent = data;

	channel_readable(efd, &agent->io_in, io_decoded, agent);
}

static void channel_hangup(struct event_fd *efd, void *data)
{
	struct proxy_agent *agent = data;

	proxy_vm_died(agent->proxy, efd == agent->ctl ? "the agent's control channel closed"
	                                              : "the agent's I/O channel closed");
}

/* The I/O channel's queue drained: shims whose stdin was paused are read again. */
static void io_drained(struct event_fd *efd, void *data)
{
	struct proxy_agent *agent = data;

	proxy_io_agent_drained(agent->proxy);
}

static const struct event_fd_ops ctl_ops = { .readable = ctl_readable, .hangup = channel_hangup };
static const struct event_fd_ops io_ops = {
	.readable = io_readable,
	.hangup = channel_hangup,
	.drained = io_drained,
};

int proxy_agent_connect(struct proxy *proxy, const char *ctl_path, const char *io_path,
                        unsigned timeout_ms, kata_error_t *err)
{
	struct proxy_agent *agent = &proxy->agent;
	cleanup_close int ctl = -1, io = -1;

	memset(agent, 0, sizeof(*agent));
	agent->proxy = proxy;
	ctl = unix_socket_connect(ctl_path, (int)timeout_ms, err);
	if (ctl < 0)
		return kata_error_wrap(err, "agent control channel");
	io = unix_socket_connect(io_path, (int)timeout_ms, err);
	if (io < 0)
		return kata_error_wrap(err, "agent I/O channel");
	agent_frame_decoder_init_ctl(&agent->ctl_in);
	agent_frame_decoder_init_io(&agent->io_in);
	agent->ctl = event_fd_add(proxy->loop, ctl, &ctl_ops, agent, 0, err);
	if (agent->ctl == NULL)
		return -1;
	steal_fd(&ctl);
	agent->io = event_fd_add(proxy->loop, io, &io_ops, agent, 0, err);
	if (agent->io == NULL) {
		proxy_agent_close(agent);
		return -1;
	}
	steal_fd(&io);
	/* what we send the agent is bounded by our own clients; no ENOBUFS here */
	event_fd_set_write_limit(agent->ctl, 64u << 20);
	event_fd_set_write_limit(agent->io, 64u << 20);
	event_fd_set_low_water(agent->io, 256u * 1024);
	log_info("connected to the agent: %s, %s", ctl_path, io_path);
	return 0;
}

void proxy_agent_close(struct proxy_agent *agent)
{
	event_fd_close(agent->ctl);
	event_fd_close(agent->io);
	agent->ctl = agent->io = NULL;
	agent_frame_decoder_free(&agent->ctl_in);
	agent_frame_decoder_free(&agent->io_in);
	agent->ready = false;
}

int proxy_agent_send_ctl(struct proxy_agent *agent, uint32_t code, const void *payload, size_t len,
                         kata_error_t *err)
{
	unsigned char header[AGENT_CTL_HEADER_SIZE];
	struct iovec iov[2] = { { header, sizeof(header) }, { (void *)payload, len } };

	if (agent->ctl == NULL)
		return kata_error_set(err, ENOTCONN, "the agent is not connected");
	if (len > AGENT_CTL_MAX_FRAME - AGENT_CTL_HEADER_SIZE)
		return kata_error_set(err, EMSGSIZE, "command of %zu bytes is too large", len);
	agent_frame_put_ctl_header(header, code, len);
	return event_fd_writev(agent->ctl, iov, 2, err);
}

static int send_io_frame(struct proxy_agent *agent, uint64_t seq, const void *data, size_t len,
                         kata_error_t *err)
{
	unsigned char header[AGENT_IO_HEADER_SIZE];
	struct iovec iov[2] = { { header, sizeof(header) }, { (void *)data, len } };

	agent_frame_put_io_header(header, seq, len);
	return event_fd_writev(agent->io, iov, 2, err);
}

int proxy_agent_send_io(struct proxy_agent *agent, uint64_t seq, const void *data, size_t len,
                        kata_error_t *err)
{
	const size_t max = AGENT_IO_MAX_PAYLOAD;
	const unsigned char *p = data;

	if (agent->io == NULL)
		return kata_error_set(err, ENOTCONN, "the agent is not connected");
	if (len == 0)
		return send_io_frame(agent, seq, NULL, 0, err);
	while (len > 0) {
		size_t n = len < max ? len : max;
		if (send_io_frame(agent, seq, p, n, err) < 0)
			return -1;
		p += n;
		len -= n;
	}
	return 0;
}

int proxy_agent_send_credit(struct proxy_agent *agent, uint64_t seq, uint32_t bytes,
                            kata_error_t *err)
{
	unsigned char payload[AGENT_IO_CREDIT_PAYLOAD_SIZE];

	if (agent->io == NULL)
		return kata_error_set(err, ENOTCONN, "the agent is not connected");
	put_be64(payload, seq);
	put_be32(payload + 8, bytes);
	return send_io_frame(agent, AGENT_IO_CREDIT_SEQ, payload, sizeof(payload), err);
}

void proxy_agent_set_io_reading(struct proxy_agent *agent, bool reading)
{
	if (agent->io == NULL || agent->io_paused == !reading)
		return;
	agent->io_paused = !reading;
	log_debug("agent: %s reading the I/O channel", reading ? "resume" : "pause");
	event_fd_set_reading(agent->io, reading);
}

/* Commands to the agent: one at a time on the control channel, in order, each with a
 * deadline. A command that timed out after it was sent stays at the head until the agent
 * answers it (the answer is dropped), so that a late ACK is never taken for the answer of
 * the next command; commands queued behind it have deadlines of their own. */
#include "proxy.h"
#include "agent_proto.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static void request_free(struct proxy_request *req)
{
	if (req->counted)
		req->proxy->request_count--;
	event_timer_free(req->deadline);
	free(req->payload);
	free(req);
}

static void unlink_request(struct proxy *proxy, struct proxy_request *req)
{
	struct proxy_request **p;

	for (p = &proxy->requests; *p != NULL && *p != req; p = &(*p)->next)
		;
	if (*p == req)
		*p = req->next;
}

static void finish(struct proxy *proxy, struct proxy_request *req, const unsigned char *ack,
                   size_t ack_len, kata_error_t error)
{
	proxy_request_done_fn done = req->done;

	req->done = NULL;
	if (done != NULL)
		done(proxy, req, ack, ack_len, error, req->data);
}

static void on_deadline(struct event_timer *timer, void *data)
{
	struct proxy_request *req = data;
	struct proxy *proxy = req->proxy;
	cleanup_error kata_error_t err = NULL;

	kata_error_set(&err, ETIMEDOUT, "the agent did not answer within %u ms",
	               proxy->opts->agent_timeout_ms);
	log_warning("agent command %u: %s", req->code, err->message);
	if (req->sent) {
		req->abandoned = true;
		finish(proxy, req, NULL, 0, err);
		return;
	}
	unlink_request(proxy, req);
	finish(proxy, req, NULL, 0, err);
	request_free(req);
}

void proxy_request_kick(struct proxy *proxy)
{
	while (proxy->requests != NULL && !proxy->requests->sent && proxy->agent.ready) {
		struct proxy_request *req = proxy->requests;
		cleanup_error kata_error_t err = NULL;

		if (proxy_agent_send_ctl(&proxy->agent, req->code, req->payload, req->len, &err) ==
		    0) {
			req->sent = true;
			return;
		}
		proxy->requests = req->next;
		finish(proxy, req, NULL, 0, err);
		request_free(req);
	}
}

void proxy_request_submit(struct proxy *proxy, uint32_t code, const void *payload, size_t len,
                          proxy_request_done_fn done, void *data)
{
	struct proxy_request *req = xzalloc(sizeof(*req));
	struct proxy_request **tail;
	cleanup_error kata_error_t err = NULL;

	req->proxy = proxy;
	req->code = code;
	req->payload = xmalloc(len);
	if (len > 0)
		memcpy(req->payload, payload, len);
	req->len = len;
	req->done = done;
	req->data = data;
	if (proxy->shutting_down || proxy->agent.ctl == NULL) {
		kata_error_set(&err, ENOTCONN, "the VM's agent is not connected");
		finish(proxy, req, NULL, 0, err);
		request_free(req);
		return;
	}
	if (proxy->request_count >= PROXY_MAX_REQUESTS) {
		kata_error_set(&err, EBUSY, "too many agent commands pending (%d)",
		               PROXY_MAX_REQUESTS);
		finish(proxy, req, NULL, 0, err);
		request_free(req);
		return;
	}
	req->counted = true;
	proxy->request_count++;
	req->deadline = event_timer_add(proxy->loop, proxy->opts->agent_timeout_ms, 0, on_deadline,
	                                req, &err);
	if (req->deadline == NULL) {
		finish(proxy, req, NULL, 0, err);
		request_free(req);
		return;
	}
	for (tail = &proxy->requests; *tail != NULL; tail = &(*tail)->next)
		;
	*tail = req;
	proxy_request_kick(proxy);
}

void proxy_request_answer(struct proxy *proxy, uint32_t code, const unsigned char *payload,
                          size_t len)
{
	struct proxy_request *req = proxy->requests;

	if (req == NULL || !req->sent) {
		log_warning("agent: %s without a command, dropped",
		            code == AGENT_ACK ? "ACK" : "ERROR");
		return;
	}
	proxy->requests = req->next;
	if (code == AGENT_ACK) {
		finish(proxy, req, payload, len, NULL);
	} else {
		cleanup_free char *message = proxy_hyper_error_message(payload, len);
		cleanup_error kata_error_t err = NULL;
		kata_error_set(&err, EIO, "%s", message);
		finish(proxy, req, NULL, 0, err);
	}
	request_free(req);
	proxy_request_kick(proxy);
}

void proxy_request_fail_all(struct proxy *proxy, const char *why)
{
	while (proxy->requests != NULL) {
		struct proxy_request *req = proxy->requests;
		cleanup_error kata_error_t err = NULL;

		proxy->requests = req->next;
		kata_error_set(&err, EPIPE, "%s", why);
		finish(proxy, req, NULL, 0, err);
		request_free(req);
	}
}

static void signal_done(struct proxy *proxy, struct proxy_request *req, const unsigned char *ack,
                        size_t ack_len, kata_error_t error, void *data)
{
	if (error != NULL)
		log_warning("signal to a process in the guest: %s", error->message);
}

void proxy_request_signal_process(struct proxy *proxy, const char *container, const char *process,
                                  int signo)
{
	int code = proxy_hyper_code(proxy->opts->dialect, "signalprocess");
	json_object *obj;
	const char *text;
	size_t len;

	if (code < 0) {
		log_warning("signal %d to %s/%s: the %s dialect has no SIGNALPROCESS", signo,
		            container, process, proxy_dialect_name(proxy->opts->dialect));
		return;
	}
	obj = json_object_new_object();
	json_object_object_add(obj, "container", json_object_new_string(container));
	json_object_object_add(obj, "process", json_object_new_string(process));
	json_object_object_add(obj, "signal", json_object_new_int(signo));
	text = json_object_to_json_string_length(obj, JSON_C_TO_STRING_PLAIN, &len);
	proxy_request_submit(proxy, (uint32_t)code, text, len, signal_done, NULL);
	json_object_put(obj);
}

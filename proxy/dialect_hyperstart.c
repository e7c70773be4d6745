/* hyperstart reports a process killed by a signal as exit status 0. The runtime starts every
 * process through kata-hyperstart-wait, which turns a death by signal N of the program into
 * the exit status 128+N (docs/dialects.md); what it cannot turn is its own death by SIGKILL,
 * which takes its program with it. So the proxy notes every SIGKILL it passes to the agent
 * (SIGNALPROCESS for a process, KILLCONTAINER for every process of a container, since
 * hyperstart kills them all when the container's init dies) and reports such a process's
 * status 0 as 137. */
#include "proxy.h"
#include "agent_proto.h"
#include "json_util.h"

#include <signal.h>
#include <string.h>

void proxy_hyperstart_note_kill(struct proxy *proxy, uint32_t code, json_object *data)
{
	json_object *container, *signo;

	if (proxy->opts->dialect != PROXY_DIALECT_HYPERSTART || code != AGENT_KILLCONTAINER ||
	    !json_object_is_type(data, json_type_object) ||
	    !json_object_object_get_ex(data, "container", &container) ||
	    !json_object_is_type(container, json_type_string) ||
	    !json_object_object_get_ex(data, "signal", &signo) ||
	    !json_object_is_type(signo, json_type_int) || json_object_get_int(signo) != SIGKILL)
		return;
	for (struct proxy_token *t = proxy->tokens; t != NULL; t = t->next)
		if (t->bound && strcmp(t->container, json_object_get_string(container)) == 0)
			t->sigkill_sent = true;
}

int proxy_hyperstart_status(const struct proxy *proxy, const struct proxy_token *token, int status)
{
	if (proxy->opts->dialect == PROXY_DIALECT_HYPERSTART && status == 0 && token->sigkill_sent)
		return 128 + SIGKILL;
	return status;
}

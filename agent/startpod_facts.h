/* What the host tells a guest that may be a clone of a VM template (docs/templating.md,
 * docs/agent-protocol.md, STARTPOD): fresh entropy for the guest kernel's RNG and the
 * host's clock. A clone wakes with the template's RNG state and the template's time. */
#ifndef KATA_AGENT_STARTPOD_FACTS_H
#define KATA_AGENT_STARTPOD_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <json-c/json.h>

#include "error.h"

#define AGENT_ENTROPY_MIN_BYTES 16
#define AGENT_ENTROPY_MAX_BYTES 512

struct agent_host_facts {
	unsigned char entropy[AGENT_ENTROPY_MAX_BYTES];
	size_t entropy_len; /* 0: none sent */
	bool has_time;
	int64_t time_sec;
	long time_nsec;
};

/* Reads STARTPOD's optional "entropy" (hex) and "hostTime" {"sec", "nsec"}. */
int agent_parse_host_facts(json_object *req, struct agent_host_facts *out, kata_error_t *err);
/* Mixes the entropy into the kernel's pool and reseeds its CRNG at once, then sets the clock. */
int agent_apply_host_facts(const struct agent_host_facts *facts, kata_error_t *err);

#endif

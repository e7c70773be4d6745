/* What runV's hyperstart (v1.1.0) accepts, for the fake agent's hyperstart mode: its parser
 * refuses a key it does not know, a value of the wrong type, and a code it does not have
 * (this project's 26-29). Checked against the real program (docs/dialects.md). */
#ifndef KATA_FAKE_HYPERSTART_H
#define KATA_FAKE_HYPERSTART_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* Whether hyperstart takes command code with this payload (NULL: not JSON). On refusal,
 * *why (may be NULL) says what it refused; the caller frees it. */
bool fake_hyperstart_accepts(uint32_t code, json_object *payload, char **why);

#endif

/* libFuzzer target: QMP messages as qemu's monitor sends them (a compromised qemu is a
 * hostile peer). Splits the input into lines as the client does and classifies each. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "error.h"
#include "qemu/qmp_message.h"

/* make fuzz links lib/ but not backends/: the parser is one self-contained file. */
#include "../../backends/qemu/qmp_message.c"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data, *end = p + size;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t len = nl != NULL ? (size_t)(nl - p) : (size_t)(end - p);
		struct qmp_message msg;
		kata_error_t err = NULL;

		if (qmp_message_parse(p, len, &msg, &err) == 0) {
			/* Touch what the client reads. */
			if (msg.type == QMP_MESSAGE_ERROR && strlen(msg.error_desc) == (size_t)-1)
				return 0;
			if (msg.type == QMP_MESSAGE_EVENT && strlen(msg.event) == (size_t)-1)
				return 0;
			qmp_message_clear(&msg);
		} else {
			kata_error_free(&err);
		}
		p += len + 1;
	}
	return 0;
}

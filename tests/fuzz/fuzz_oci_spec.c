/* libFuzzer target: config.json bytes -> oci_spec_parse. Whatever is accepted must also
 * survive the round trip to JSON and back unchanged, and its process must read alone. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "error.h"
#include "json_util.h"
#include "oci_spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_round_trip(const struct oci_spec *spec)
{
	cleanup_json json_object *first = oci_spec_to_json(spec);
	cleanup_json json_object *second = NULL;
	cleanup_oci_spec struct oci_spec *again = NULL;
	cleanup_error kata_error_t err = NULL;
	const char *text = json_object_to_json_string_ext(first, JSON_C_TO_STRING_PLAIN);

	again = oci_spec_parse(text, strlen(text), &err);
	if (again == NULL)
		abort(); /* what we wrote, we must read */
	second = oci_spec_to_json(again);
	if (!json_object_equal(first, second))
		abort();
	if (spec->process != NULL) {
		cleanup_json json_object *process = oci_process_to_json(spec->process);
		cleanup_oci_process struct oci_process *alone =
		        oci_process_from_json(process, &err);

		if (alone == NULL)
			abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	cleanup_error kata_error_t err = NULL;
	cleanup_oci_spec struct oci_spec *spec = oci_spec_parse((const char *)data, size, &err);

	if (spec == NULL) {
		/* Every refusal says why. */
		if (err == NULL || err->message == NULL || err->message[0] == '\0')
			abort();
		return 0;
	}
	check_round_trip(spec);
	(void)oci_spec_annotation(spec, "io.kubernetes.cri.container-type");
	(void)oci_spec_namespace(spec, OCI_NS_NETWORK);
	return 0;
}

/* libFuzzer target: configuration.toml text -> kata_config_parse(). Any input must give a
 * configuration or an error, never a crash, a leak or a hang. */
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	kata_error_t err = NULL;
	struct kata_config *config;

	/* warnings about capped values are expected and only slow the run down */
	kata_log_set_level(KATA_LOG_ERROR);
	config = kata_config_parse("fuzz.toml", (const char *)data, size, &err);
	kata_config_free(config);
	kata_error_free(&err);
	return 0;
}

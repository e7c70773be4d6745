#include <errno.h>
#include "personality.h"
int cli_migrate_config(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	return kata_error_set(err, ENOSYS, "not yet");
}

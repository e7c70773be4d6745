/* The lifetime of the CLI's shared context. */
#include <stdlib.h>

#include "cli.h"

void cli_context_release(struct cli_context *ctx)
{
	kata_config_free(ctx->config);
	ctx->config = NULL;
	free(ctx->root);
	free(ctx->config_path);
	free(ctx->log_path);
	ctx->root = ctx->config_path = ctx->log_path = NULL;
}

struct companion_log cli_companion_log(const struct cli_context *ctx)
{
	return (struct companion_log){ .path = ctx->log_path,
		                       .format = ctx->log_format,
		                       .debug = ctx->debug };
}

/* The lifetime of the CLI's shared context. */
#include <stdlib.h>

#include "cli.h"

void cli_context_release(struct cli_context *ctx)
{
	/* The configuration is freed here once config.c lands (kata_config_free). */
	free(ctx->root);
	free(ctx->config_path);
	free(ctx->log_path);
	ctx->root = ctx->config_path = ctx->log_path = NULL;
}

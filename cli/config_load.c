/* Finding and loading configuration.toml for the CLI (DESIGN.md, Configuration). */
#include <stdlib.h>

#include "cleanup.h"
#include "cli.h"
#include "lifecycle.h"
#include "personality.h"

const char *cli_personality_name(enum cli_personality personality)
{
	switch (personality) {
	case CLI_CC:
		return "cc-runtime";
	case CLI_RUNV:
		return "runv";
	default:
		return "kata-runtime";
	}
}

const char *const *cli_default_config_paths(enum cli_personality personality)
{
	static const char *const kata_paths[] = {
		"/etc/kata-containers/configuration.toml",
		"/usr/share/defaults/kata-containers/configuration.toml",
		/* where `make install` puts it when PREFIX is not /usr */
		KATA_DEFAULTSDIR "/configuration.toml",
		NULL,
	};
	static const char *const cc_paths[] = {
		"/etc/clear-containers/configuration.toml",
		"/usr/share/defaults/clear-containers/configuration.toml",
		"/etc/kata-containers/configuration.toml",
		"/usr/share/defaults/kata-containers/configuration.toml",
		KATA_DEFAULTSDIR "/configuration.toml",
		NULL,
	};

	return personality == CLI_CC ? cc_paths : kata_paths;
}

int cli_load_config(struct cli_context *ctx, kata_error_t *err)
{
	cleanup_free char *path = NULL;

	if (ctx->config != NULL)
		return 0;
	path = kata_config_find(ctx->config_path, cli_default_config_paths(ctx->personality), err);
	if (path == NULL)
		return -1;
	ctx->config = kata_config_load(path, err);
	if (ctx->config == NULL)
		return -1;
	/* runv's flags win over the file (docs/migration.md) */
	if (cli_overrides_apply(&ctx->overrides, ctx->config, err) < 0) {
		kata_config_free(ctx->config);
		ctx->config = NULL;
		return -1;
	}
	if (ctx->config->runtime.enable_debug)
		kata_log_set_level(KATA_LOG_DEBUG);
	return 0;
}

int lifecycle_load_config(struct cli_context *ctx, const struct container_record *record,
                          kata_error_t *err)
{
	if (ctx->config != NULL)
		return 0;
	if (ctx->config_path == NULL && record->config_path != NULL)
		ctx->config_path = xstrdup(record->config_path);
	return cli_load_config(ctx, err);
}

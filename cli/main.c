/* kata-runtime: the OCI command line. Parses the global options, picks the verb from one
 * table and runs it; the only place that prints an error and exits. */
#include <errno.h>
#include <getopt.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "cli.h"
#include "log.h"
#include "personality.h"

static const struct cli_verb verbs[] = {
	{ "create", NULL, "create a container (its VM boots, its program waits)", cli_create },
	{ "start", NULL, "run the program of a created container", cli_start },
	{ "state", NULL, "print the state of a container", cli_state },
	{ "kill", NULL, "send a signal to a container's process(es)", cli_kill },
	{ "delete", NULL, "delete a container and its VM", cli_delete },
	{ "run", NULL, "create and start a container (and wait for it)", cli_run },
	{ "exec", NULL, "run another process in a running container", cli_exec },
	{ "ps", NULL, "list the processes of a container", cli_ps },
	{ "pause", NULL, "pause a container's VM", cli_pause },
	{ "resume", NULL, "resume a paused container's VM", cli_resume },
	{ "events", NULL, "print a container's statistics", cli_events },
	{ "update", NULL, "change a container's resource limits", cli_update },
	{ "list", NULL, "list the containers", cli_list },
	{ "spec", NULL, "write a default config.json", cli_spec },
	{ "version", NULL, "print the runtime's version", cli_version },
	{ "kata-env", "env", "show the effective configuration and host facts", cli_env },
	{ "kata-check", "check", "check whether this host can run VMs", cli_check },
	{ "factory", NULL, "make, show or remove the VM template (init, status, destroy)",
	  cli_factory },
	{ "migrate-config", NULL, "translate a Clear Containers 3.0 configuration or runV flags",
	  cli_migrate_config },
};

static const struct cli_verb *find_verb(const struct cli_context *ctx, const char *name)
{
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const struct cli_verb *v = &verbs[i];
		if (strcmp(v->name, name) == 0 || (v->alias != NULL && strcmp(v->alias, name) == 0))
			return v;
		/* Clear Containers' names: cc-env, cc-check. */
		if (ctx->personality == CLI_CC && strncmp(v->name, "kata-", 5) == 0 &&
		    strncmp(name, "cc-", 3) == 0 && strcmp(v->name + 5, name + 3) == 0)
			return v;
	}
	return NULL;
}

static void usage(FILE *out, const struct cli_context *ctx)
{
	fprintf(out, "usage: %s [global options] command [command options] [arguments...]\n\n",
	        ctx->program);
	fprintf(out, "commands:\n");
	for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		const char *name = verbs[i].name;
		cleanup_free char *cc_name = NULL;
		if (ctx->personality == CLI_CC && strncmp(name, "kata-", 5) == 0)
			name = cc_name = xasprintf("cc-%s", name + 5);
		fprintf(out, "  %-12s %s\n", name, verbs[i].summary);
	}
	cli_personality_usage_options(out, ctx);
}

static enum cli_personality personality_of(const char *program)
{
	if (strcmp(program, "cc-runtime") == 0)
		return CLI_CC;
	if (strcmp(program, "runv") == 0)
		return CLI_RUNV;
	return CLI_KATA;
}

static const char *default_root(enum cli_personality personality)
{
	switch (personality) {
	case CLI_CC:
		return "/run/clear-containers";
	case CLI_RUNV:
		return "/run/runv";
	default:
		return "/run/kata-containers";
	}
}

enum {
	OPT_CONFIG = 256,
	OPT_ROOT,
	OPT_LOG,
	OPT_LOG_FORMAT,
	OPT_DEBUG,
	OPT_SYSTEMD,
	OPT_IGNORED,
	OPT_SHOW_PATHS,
};

/* Returned by parse_global_options() for what ends the call before any verb. */
enum { GLOBAL_VERSION = -2, GLOBAL_HELP = -3, GLOBAL_SHOW_PATHS = -4 };

#define COMMON_OPTION_COUNT 13
#define RUNV_OPTION_ROOM    16

/* Parses the options before the verb; returns the index of the verb or -1. */
static int parse_global_options(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	const struct option common[] = {
		{ "kata-config", required_argument, NULL, OPT_CONFIG },
		{ "cc-config", required_argument, NULL, OPT_CONFIG },
		{ "kata-show-default-config-paths", no_argument, NULL, OPT_SHOW_PATHS },
		{ "cc-show-default-config-paths", no_argument, NULL, OPT_SHOW_PATHS },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "log", required_argument, NULL, OPT_LOG },
		{ "log-format", required_argument, NULL, OPT_LOG_FORMAT },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "systemd-cgroup", no_argument, NULL, OPT_SYSTEMD },
		/* runc flags that engines may pass and that mean nothing for a VM runtime */
		{ "criu", required_argument, NULL, OPT_IGNORED },
		{ "rootless", required_argument, NULL, OPT_IGNORED },
		{ "version", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
	};
	/* called as runv: runV's global flags too */
	struct option options[COMMON_OPTION_COUNT + RUNV_OPTION_ROOM + 1];
	size_t n = COMMON_OPTION_COUNT;
	int c;

	_Static_assert(sizeof(common) / sizeof(common[0]) == COMMON_OPTION_COUNT, "count");
	memcpy(options, common, sizeof(common));
	if (ctx->personality == CLI_RUNV)
		for (size_t i = 0; i < cli_runv_option_count() && i < RUNV_OPTION_ROOM; i++)
			options[n++] = cli_runv_options[i];
	memset(&options[n], 0, sizeof(options[n]));

	opterr = 0;
	optind = 1;
	while ((c = getopt_long_only(argc, argv, "+vh", options, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
			free(ctx->config_path);
			ctx->config_path = xstrdup(optarg);
			break;
		case OPT_ROOT:
			free(ctx->root);
			ctx->root = xstrdup(optarg);
			break;
		case OPT_LOG:
			free(ctx->log_path);
			ctx->log_path = xstrdup(optarg);
			break;
		case OPT_LOG_FORMAT:
			if (kata_log_parse_format(optarg, &ctx->log_format, err) < 0)
				return -1;
			break;
		case OPT_DEBUG:
			ctx->debug = true;
			break;
		case OPT_SYSTEMD:
			ctx->systemd_cgroup = true;
			break;
		case OPT_IGNORED:
			break;
		case OPT_SHOW_PATHS:
			return GLOBAL_SHOW_PATHS;
		case 'v':
			return GLOBAL_VERSION;
		case 'h':
			return GLOBAL_HELP;
		default:
			if (c >= CLI_RUNV_OPTION_BASE) {
				if (cli_overrides_set(&ctx->overrides, c, optarg, err) < 0)
					return -1;
				break;
			}
			return kata_error_set(err, EINVAL, "unknown global option `%s`",
			                      argv[optind - 1]);
		}
	}
	return optind;
}

int main(int argc, char **argv)
{
	cleanup_error kata_error_t err = NULL;
	struct cli_context ctx = { 0 };
	const struct cli_verb *verb;
	cleanup_free char *argv0 = xstrdup(argv[0]);
	int verb_index, ret;

	ctx.program = basename(argv0);
	ctx.personality = personality_of(ctx.program);
	ctx.root = xstrdup(default_root(ctx.personality));

	verb_index = parse_global_options(&ctx, argc, argv, &err);
	if (verb_index == GLOBAL_VERSION) {
		ret = cli_personality_version(&ctx, &err);
		goto out;
	}
	if (verb_index == GLOBAL_SHOW_PATHS) {
		const char *const *paths = cli_default_config_paths(ctx.personality);
		for (size_t i = 0; paths[i] != NULL; i++)
			printf("%s\n", paths[i]);
		ret = 0;
		goto out;
	}
	if (verb_index == GLOBAL_HELP || (verb_index > 0 && verb_index >= argc)) {
		usage(verb_index == GLOBAL_HELP ? stdout : stderr, &ctx);
		cli_overrides_release(&ctx.overrides);
		cli_context_release(&ctx);
		return verb_index == GLOBAL_HELP ? 0 : 1;
	}
	if (verb_index < 0) {
		ret = -1;
		goto out;
	}
	if (cli_runv_prepare_logging(&ctx, &err) < 0) {
		ret = -1;
		goto out;
	}
	if (kata_log_init(ctx.program, ctx.log_path, ctx.log_format,
	                  ctx.debug ? KATA_LOG_DEBUG : KATA_LOG_WARNING, &err) < 0) {
		ret = -1;
		goto out;
	}
	verb = find_verb(&ctx, argv[verb_index]);
	if (verb == NULL) {
		fprintf(stderr, "%s: unknown command `%s`\n", ctx.program, argv[verb_index]);
		usage(stderr, &ctx);
		return 1;
	}
	kata_log_set_field("command", verb->name);
	optind = 1;
	ret = verb->run(&ctx, argc - verb_index, argv + verb_index, &err);
out:
	if (ret < 0) {
		const char *message = err != NULL ? err->message : "unknown error";
		/* Engines read the log (runc's contract), people read stderr: tell both. */
		log_error("%s", message);
		if (ctx.log_path != NULL)
			fprintf(stderr, "%s: %s\n", ctx.program, message);
		ret = 1;
	}
	cli_overrides_release(&ctx.overrides);
	cli_context_release(&ctx);
	kata_log_close();
	return ret;
}

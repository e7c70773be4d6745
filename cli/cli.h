/* What every verb of the command line shares: the global options and the verb table.
 * Each verb lives in its own file (cli/VERB.c), parses its own flags and returns through
 * the error contract; only main() prints errors and exits. */
#ifndef KATA_CLI_H
#define KATA_CLI_H

#include <stdbool.h>
#include <stdint.h>

#include "companion_log.h"
#include "config.h"
#include "error.h"
#include "log.h"

/* Which program the user called: the CLI answers to each one's names and paths. */
enum cli_personality { CLI_KATA = 0, CLI_CC, CLI_RUNV };

/* runV's global flags (runV's cli/main.go), given to `runv` (cli/personality.c).
 * Unset strings are NULL, unset counts 0. */
struct cli_overrides {
	char *driver; /* qemu, kvm, qemu-kvm, libvirt (xen, kvmtool, vbox: none here) */
	char *kernel;
	char *initrd;
	int64_t default_cpus;
	int64_t default_memory; /* MiB */
	bool debug;
	char *log_dir;
	char *root;
	/* runV flags with no equivalent here that were given, "NAME=VALUE" each */
	char **unsupported;
};

struct cli_context {
	const char *program; /* basename of argv[0] */
	enum cli_personality personality;
	char *root;        /* state directory (--root) */
	char *config_path; /* --kata-config / --cc-config; NULL: look it up */
	char *log_path;
	enum kata_log_format log_format;
	bool debug;
	bool systemd_cgroup;
	struct kata_config *config;     /* loaded by cli_load_config() */
	struct cli_overrides overrides; /* runv: applied by cli_load_config() */
};

struct cli_verb {
	const char *name;
	const char *alias; /* another name, or NULL */
	const char *summary;
	/* argv[0] is the verb's name; getopt state is reset before the call. */
	int (*run)(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
};

/* Frees what the context owns. */
void cli_context_release(struct cli_context *ctx);
/* How the proxy and shims this call starts log: as the runtime's --log, --log-format and
 * --debug say. */
struct companion_log cli_companion_log(const struct cli_context *ctx);

/* Loads the configuration once, looked up as Kata 1.x does (DESIGN.md, Configuration). */
int cli_load_config(struct cli_context *ctx, kata_error_t *err);
/* The system paths searched for the configuration, for this personality. */
const char *const *cli_default_config_paths(enum cli_personality personality);
const char *cli_personality_name(enum cli_personality personality);

/* The verbs, one file each. */
int cli_version(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_env(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_check(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_state(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_list(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_spec(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_create(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_start(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_run(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_kill(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_delete(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_exec(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_ps(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_pause(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_resume(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_events(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_update(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_migrate_config(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);
int cli_factory(struct cli_context *ctx, int argc, char **argv, kata_error_t *err);

#endif

/* The names the CLI answers to besides kata-runtime's own (docs/migration.md):
 * called as cc-runtime, Clear Containers 3.0's commands, paths and version text; called
 * as runv, runV's global flags, which override the loaded configuration. And the
 * translation of a Clear Containers file or runV flags into this runtime's
 * configuration (migrate-config). */
#ifndef KATA_CLI_PERSONALITY_H
#define KATA_CLI_PERSONALITY_H

#include <getopt.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "cli.h"
#include "error.h"

/* getopt_long option table entries for runV's flags, terminated by a zeroed entry;
 * their val is CLI_RUNV_OPTION_BASE + index. */
#define CLI_RUNV_OPTION_BASE 0x1000
extern const struct option cli_runv_options[];
size_t cli_runv_option_count(void);

/* Records the runV flag cli_runv_options[val - CLI_RUNV_OPTION_BASE] with its argument. */
int cli_overrides_set(struct cli_overrides *o, int val, const char *arg, kata_error_t *err);
bool cli_overrides_empty(const struct cli_overrides *o);
/* o's values over base's (both may be set: o wins). */
void cli_overrides_merge(struct cli_overrides *into, const struct cli_overrides *from);
void cli_overrides_release(struct cli_overrides *o);

/* Applies the flags to a loaded configuration: the command line wins over the file. */
int cli_overrides_apply(const struct cli_overrides *o, struct kata_config *config,
                        kata_error_t *err);

/* runV's --log_dir: the log file DIR/runv.log unless --log named one. */
int cli_runv_prepare_logging(struct cli_context *ctx, kata_error_t *err);

/* --version in the called program's own format. */
int cli_personality_version(struct cli_context *ctx, kata_error_t *err);
/* The global options of the called program, for the usage text. */
void cli_personality_usage_options(FILE *out, const struct cli_context *ctx);

/* migrate-config ------------------------------------------------------------------------- */

/* What became of one setting of the source. */
enum migrate_fate {
	MIGRATE_MAPPED,  /* same meaning here, value kept */
	MIGRATE_CHANGED, /* an equivalent, with another value (the why says which and why) */
	MIGRATE_DROPPED, /* no equivalent here */
};

struct migrate_note {
	char *setting; /* "hypervisor.qemu.image", "runv --bios" */
	enum migrate_fate fate;
	char *why;
};

/* This runtime's own programs and guest assets, which replace Clear Containers' and
 * fill what the source does not say. */
struct migrate_base {
	const char *hypervisor_path;
	const char *kernel;
	const char *initrd;
	const char *proxy_path;
	const char *shim_path;
};

struct migrate_result {
	char *toml; /* the configuration for this runtime, commented */
	struct migrate_note *notes;
	size_t n_notes;
};

/* Translates a Clear Containers 3.0 configuration (cc_text, may be NULL) and runV flags
 * (runv, may be NULL or empty). cc_name names the source in comments and errors. */
int migrate_config(const char *cc_name, const char *cc_text, size_t cc_len,
                   const struct cli_overrides *runv, const struct migrate_base *base,
                   struct migrate_result *out, kata_error_t *err);
void migrate_result_release(struct migrate_result *r);
const struct migrate_note *migrate_find_note(const struct migrate_result *r, const char *setting);
const char *migrate_fate_name(enum migrate_fate fate);

/* A TOML basic string ("..." with escapes) for any bytes. */
char *toml_quote(const char *s);

#endif

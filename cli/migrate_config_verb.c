/* `kata-runtime migrate-config`: its command line, the source file, this runtime's own
 * configuration as the base, the check that the result loads, and the atomic write. The
 * translation itself is migrate_config.c. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "personality.h"
#include "fd_util.h"

/* A configuration file is a few kilobytes (as config/config.c bounds it). */
#define MIGRATE_MAX_SOURCE (1024 * 1024)

static char *read_source(const char *path, size_t *len, kata_error_t *err)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	cleanup_free char *text = NULL;
	struct stat st;
	size_t used = 0;

	if (fd < 0)
		return kata_error_sys(err, "open `%s`", path), NULL;
	if (fstat(fd, &st) < 0)
		return kata_error_sys(err, "stat `%s`", path), NULL;
	if (!S_ISREG(st.st_mode) || st.st_size > MIGRATE_MAX_SOURCE)
		return kata_error_set(err, EINVAL,
		                      "`%s`: not a configuration file (a regular file "
		                      "of at most %d bytes)",
		                      path, MIGRATE_MAX_SOURCE),
		       NULL;
	text = xmalloc((size_t)st.st_size + 1);
	while (used < (size_t)st.st_size) {
		ssize_t n = read(fd, text + used, (size_t)st.st_size - used);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kata_error_sys(err, "read `%s`", path), NULL;
		if (n == 0)
			break;
		used += (size_t)n;
	}
	text[used] = '\0';
	*len = used;
	return steal_pointer(&text);
}

static int write_output(const char *path, const char *text, bool force, kata_error_t *err)
{
	size_t len = strlen(text);

	if (path == NULL) {
		if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
			return kata_error_sys(err, "write the configuration");
		return 0;
	}
	if (!force && access(path, F_OK) == 0)
		return kata_error_set(err, EEXIST, "--to %s: the file exists (--force replaces it)",
		                      path);
	/* a configuration in use is replaced whole, never seen half-written */
	if (file_write_atomic(path, text, len, 0644, err) < 0)
		return kata_error_wrap(err, "--to");
	return 0;
}

/* This runtime's own paths: from its configuration when there is one (--base,
 * $KATA_CONF_FILE, Kata's paths), else where `make install` puts them. */
static int load_base(struct cli_context *ctx, const char *base_path, struct kata_config **config,
                     struct migrate_base *base, kata_error_t *err)
{
	static const char *const kata_paths[] = {
		"/etc/kata-containers/configuration.toml",
		"/usr/share/defaults/kata-containers/configuration.toml",
		KATA_DEFAULTSDIR "/configuration.toml",
		NULL,
	};
	const char *explicit_path = base_path;
	cleanup_error kata_error_t lookup_err = NULL;
	cleanup_free char *path = NULL;

	*base = (struct migrate_base){
		.hypervisor_path = KATA_DEFAULT_HYPERVISOR_PATH,
		.kernel = KATA_ASSETSDIR "/" KATA_KERNEL_NAME,
		.initrd = KATA_ASSETSDIR "/" KATA_INITRD_NAME,
		.proxy_path = KATA_LIBEXECDIR "/kata-proxy",
		.shim_path = KATA_LIBEXECDIR "/kata-shim",
	};
	/* called as cc-runtime, --cc-config names the source, not the base */
	if (explicit_path == NULL && ctx->personality != CLI_CC)
		explicit_path = ctx->config_path;
	path = kata_config_find(explicit_path, kata_paths, &lookup_err);
	if (path == NULL)
		return 0;
	*config = kata_config_load(path, err);
	if (*config == NULL)
		return kata_error_wrap(err, "this runtime's configuration (the base)");
	base->hypervisor_path = (*config)->hypervisor.path;
	base->kernel = (*config)->hypervisor.kernel;
	base->initrd = (*config)->hypervisor.initrd;
	base->proxy_path = (*config)->proxy.path;
	base->shim_path = (*config)->shim.path;
	return 0;
}

static void usage(FILE *out)
{
	fprintf(out,
	        "usage: kata-runtime migrate-config [--from FILE] [--to FILE] [--force]\n"
	        "                                   [--base FILE] [runV flags]\n"
	        "  --from FILE   a Clear Containers 3.0 configuration.toml (called as cc-runtime:\n"
	        "                the one it would load, by default)\n"
	        "  --to FILE     where to write the result (default: stdout); --force replaces\n"
	        "  --base FILE   this runtime's configuration whose paths (qemu, kernel, initrd,\n"
	        "                proxy, shim) fill what the source does not say\n"
	        "  runV flags:   --driver, --kernel, --initrd, --default_cpus, --default_memory,\n"
	        "                --root, --debug, --log_dir, --bios, --cbfs, --template, --vbox\n");
}

enum { OPT_FROM = 1, OPT_TO, OPT_FORCE, OPT_BASE, OPT_ROOT, OPT_DEBUG, OPT_HELP };

int cli_migrate_config(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	const struct option own[] = {
		{ "from", required_argument, NULL, OPT_FROM },
		{ "to", required_argument, NULL, OPT_TO },
		{ "force", no_argument, NULL, OPT_FORCE },
		{ "base", required_argument, NULL, OPT_BASE },
		{ "root", required_argument, NULL, OPT_ROOT },
		{ "debug", no_argument, NULL, OPT_DEBUG },
		{ "help", no_argument, NULL, OPT_HELP },
	};
	struct option options[sizeof(own) / sizeof(own[0]) + 16 + 1];
	size_t n = sizeof(own) / sizeof(own[0]);
	struct cli_overrides flags = { 0 };
	struct migrate_result result = { 0 };
	cleanup_config struct kata_config *base_config = NULL;
	cleanup_config struct kata_config *check = NULL;
	cleanup_free char *from = NULL, *text = NULL;
	const char *to = NULL, *base_path = NULL;
	struct migrate_base base;
	bool force = false;
	size_t len = 0;
	int c, ret = -1;

	memcpy(options, own, sizeof(own));
	for (size_t i = 0; i < cli_runv_option_count() && i < 16; i++)
		options[n++] = cli_runv_options[i];
	memset(&options[n], 0, sizeof(options[n]));
	/* called as runv, the global runV flags count too; the verb's own win */
	cli_overrides_merge(&flags, &ctx->overrides);
	opterr = 0;
	while ((c = getopt_long_only(argc, argv, "+", options, NULL)) != -1) {
		switch (c) {
		case OPT_FROM:
			free(from);
			from = xstrdup(optarg);
			break;
		case OPT_TO:
			to = optarg;
			break;
		case OPT_FORCE:
			force = true;
			break;
		case OPT_BASE:
			base_path = optarg;
			break;
		case OPT_ROOT:
			free(flags.root);
			flags.root = xstrdup(optarg);
			break;
		case OPT_DEBUG:
			flags.debug = true;
			break;
		case OPT_HELP:
			usage(stdout);
			ret = 0;
			goto out;
		default:
			if (c >= CLI_RUNV_OPTION_BASE) {
				if (cli_overrides_set(&flags, c, optarg, err) < 0)
					goto out;
				break;
			}
			kata_error_set(err, EINVAL, "migrate-config: unknown option `%s`",
			               argv[optind - 1]);
			goto out;
		}
	}
	if (optind < argc) {
		kata_error_set(err, EINVAL, "migrate-config: unexpected argument `%s`",
		               argv[optind]);
		goto out;
	}
	if (from == NULL && ctx->personality == CLI_CC) {
		from = kata_config_find(ctx->config_path, cli_default_config_paths(CLI_CC), err);
		if (from == NULL)
			goto out;
	}
	if (from != NULL && (text = read_source(from, &len, err)) == NULL)
		goto out;
	if (load_base(ctx, base_path, &base_config, &base, err) < 0)
		goto out;
	if (migrate_config(from, text, len, &flags, &base, &result, err) < 0)
		goto out;
	for (size_t i = 0; i < result.n_notes; i++)
		if (result.notes[i].fate != MIGRATE_MAPPED)
			fprintf(stderr, "migrate-config: %s: %s: %s\n", result.notes[i].setting,
			        migrate_fate_name(result.notes[i].fate), result.notes[i].why);
	/* what is written must load here, as every later call will load it */
	check = kata_config_parse(to != NULL ? to : "<migrated>", result.toml, strlen(result.toml),
	                          err);
	if (check == NULL) {
		kata_error_wrap(err, "the migrated configuration does not load on this host "
		                     "(--kernel, --initrd or --base name this runtime's assets)");
		goto out;
	}
	ret = write_output(to, result.toml, force, err);
out:
	migrate_result_release(&result);
	cli_overrides_release(&flags);
	return ret;
}

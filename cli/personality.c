/* runV's global flags as overrides of the loaded configuration, and what each called
 * name (kata-runtime, cc-runtime, runv) prints for --version and in its usage.
 *
 * Precedence (docs/migration.md): a runV flag on the command line wins over the
 * configuration file, which wins over the built-in defaults. */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"
#include "personality.h"

/* The order is the index that cli_overrides_set() receives. */
enum runv_flag {
	RUNV_DRIVER,
	RUNV_KERNEL,
	RUNV_INITRD,
	RUNV_DEFAULT_CPUS,
	RUNV_DEFAULT_MEMORY,
	RUNV_LOG_DIR,
	RUNV_BIOS,
	RUNV_CBFS,
	RUNV_TEMPLATE,
	RUNV_VBOX,
	RUNV_FLAG_COUNT,
};

#define RUNV_OPTION(name, flag)                                                                    \
	{                                                                                          \
		name, required_argument, NULL, CLI_RUNV_OPTION_BASE + (flag)                       \
	}
const struct option cli_runv_options[] = {
	RUNV_OPTION("driver", RUNV_DRIVER),
	RUNV_OPTION("kernel", RUNV_KERNEL),
	RUNV_OPTION("initrd", RUNV_INITRD),
	RUNV_OPTION("default_cpus", RUNV_DEFAULT_CPUS),
	RUNV_OPTION("default_memory", RUNV_DEFAULT_MEMORY),
	RUNV_OPTION("log_dir", RUNV_LOG_DIR),
	RUNV_OPTION("bios", RUNV_BIOS),
	RUNV_OPTION("cbfs", RUNV_CBFS),
	RUNV_OPTION("template", RUNV_TEMPLATE),
	RUNV_OPTION("vbox", RUNV_VBOX),
	{ NULL, 0, NULL, 0 },
};

size_t cli_runv_option_count(void)
{
	return RUNV_FLAG_COUNT;
}

/* runV's drivers (driverloader): which exist here. */
static const char *const runv_drivers[] = { "qemu", "kvm",     "qemu-kvm", "libvirt",
	                                    "xen",  "kvmtool", "vbox",     NULL };

static bool is_runv_driver(const char *name)
{
	for (size_t i = 0; runv_drivers[i] != NULL; i++)
		if (strcmp(runv_drivers[i], name) == 0)
			return true;
	return false;
}

static int parse_count(const char *flag, const char *arg, int64_t *out, kata_error_t *err)
{
	char *end = NULL;
	long long n;

	errno = 0;
	n = strtoll(arg, &end, 10);
	if (errno != 0 || end == arg || *end != '\0' || n <= 0 || n > INT32_MAX)
		return kata_error_set(err, EINVAL, "--%s: `%s` is not a positive count", flag, arg);
	*out = n;
	return 0;
}

static void set_string(char **field, const char *value)
{
	free(*field);
	*field = xstrdup(value);
}

int cli_overrides_set(struct cli_overrides *o, int val, const char *arg, kata_error_t *err)
{
	int flag = val - CLI_RUNV_OPTION_BASE;
	const char *name;
	size_t n;

	if (flag < 0 || flag >= RUNV_FLAG_COUNT)
		return kata_error_set(err, EINVAL, "not a runV flag");
	name = cli_runv_options[flag].name;
	switch ((enum runv_flag)flag) {
	case RUNV_DRIVER: {
		cleanup_free char *lower = xstrdup(arg);
		for (char *c = lower; *c != '\0'; c++) /* runV lowercases it */
			if (*c >= 'A' && *c <= 'Z')
				*c = (char)(*c - 'A' + 'a');
		if (!is_runv_driver(lower))
			return kata_error_set(err, EINVAL,
			                      "--driver: unknown driver `%s` (qemu, kvm, libvirt)",
			                      arg);
		free(o->driver);
		o->driver = steal_pointer(&lower);
		return 0;
	}
	case RUNV_KERNEL:
		set_string(&o->kernel, arg);
		return 0;
	case RUNV_INITRD:
		set_string(&o->initrd, arg);
		return 0;
	case RUNV_DEFAULT_CPUS:
		return parse_count(name, arg, &o->default_cpus, err);
	case RUNV_DEFAULT_MEMORY:
		return parse_count(name, arg, &o->default_memory, err);
	case RUNV_LOG_DIR:
		set_string(&o->log_dir, arg);
		return 0;
	default:
		/* bios, cbfs, template, vbox: remembered to be named, never used */
		n = strv_length(o->unsupported);
		o->unsupported = xrealloc(o->unsupported, (n + 2) * sizeof(char *));
		o->unsupported[n] = xasprintf("%s=%s", name, arg);
		o->unsupported[n + 1] = NULL;
		return 0;
	}
}

bool cli_overrides_empty(const struct cli_overrides *o)
{
	return o->driver == NULL && o->kernel == NULL && o->initrd == NULL &&
	       o->default_cpus == 0 && o->default_memory == 0 && !o->debug && o->log_dir == NULL &&
	       o->root == NULL && strv_length(o->unsupported) == 0;
}

static void merge_string(char **into, const char *from)
{
	if (from != NULL)
		set_string(into, from);
}

void cli_overrides_merge(struct cli_overrides *into, const struct cli_overrides *from)
{
	merge_string(&into->driver, from->driver);
	merge_string(&into->kernel, from->kernel);
	merge_string(&into->initrd, from->initrd);
	merge_string(&into->log_dir, from->log_dir);
	merge_string(&into->root, from->root);
	if (from->default_cpus != 0)
		into->default_cpus = from->default_cpus;
	if (from->default_memory != 0)
		into->default_memory = from->default_memory;
	into->debug = into->debug || from->debug;
	for (size_t i = 0; from->unsupported != NULL && from->unsupported[i] != NULL; i++) {
		size_t n = strv_length(into->unsupported);
		into->unsupported = xrealloc(into->unsupported, (n + 2) * sizeof(char *));
		into->unsupported[n] = xstrdup(from->unsupported[i]);
		into->unsupported[n + 1] = NULL;
	}
}

void cli_overrides_release(struct cli_overrides *o)
{
	free(o->driver);
	free(o->kernel);
	free(o->initrd);
	free(o->log_dir);
	free(o->root);
	strv_free(o->unsupported);
	memset(o, 0, sizeof(*o));
}

/* A guest asset named on the command line: an existing regular file, made absolute
 * because the VM is started from elsewhere. */
static int resolve_asset(const char *flag, const char *path, char **out, kata_error_t *err)
{
	char *resolved = realpath(path, NULL);
	struct stat st;

	if (resolved == NULL)
		return kata_error_sys(err, "--%s: %s", flag, path);
	if (stat(resolved, &st) < 0 || !S_ISREG(st.st_mode)) {
		free(resolved);
		return kata_error_set(err, EINVAL, "--%s: %s is not a regular file", flag, path);
	}
	free(*out);
	*out = resolved;
	return 0;
}

static int apply_driver(const char *driver, struct kata_hypervisor_config *h, kata_error_t *err)
{
	const char *backend = NULL;

	if (strcmp(driver, "qemu") == 0) {
		/* runV: qemu, with KVM when the host has it: the configured accelerator
		 * (auto by default) says the same */
		backend = "qemu";
	} else if (strcmp(driver, "kvm") == 0 || strcmp(driver, "qemu-kvm") == 0) {
		backend = "qemu";
		h->accelerator = KATA_ACCEL_KVM;
	} else if (strcmp(driver, "libvirt") == 0) {
		backend = "libvirt";
	} else {
		return kata_error_set(err, ENOTSUP,
		                      "--driver %s: this runtime has no %s driver (it has qemu, "
		                      "kvm and libvirt)",
		                      driver, driver);
	}
	set_string(&h->name, backend);
	return 0;
}

static uint64_t host_memory_mib(void)
{
	long pages = sysconf(_SC_PHYS_PAGES), size = sysconf(_SC_PAGESIZE);

	if (pages <= 0 || size <= 0)
		return 0;
	return (uint64_t)pages * (uint64_t)size / (1024 * 1024);
}

int cli_overrides_apply(const struct cli_overrides *o, struct kata_config *config,
                        kata_error_t *err)
{
	struct kata_hypervisor_config *h = &config->hypervisor;

	if (o->driver != NULL && apply_driver(o->driver, h, err) < 0)
		return -1;
	if (o->kernel != NULL && resolve_asset("kernel", o->kernel, &h->kernel, err) < 0)
		return -1;
	if (o->initrd != NULL && resolve_asset("initrd", o->initrd, &h->initrd, err) < 0)
		return -1;
	if (o->default_cpus != 0) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);
		int64_t limit = online > 0 && online < KATA_MAX_VCPUS ? online : KATA_MAX_VCPUS;
		int64_t n = o->default_cpus;

		/* as default_vcpus in the file: more than the host has is capped */
		if (n > limit) {
			log_warning("--default_cpus %" PRId64 " capped to %" PRId64, n, limit);
			n = limit;
		}
		h->default_vcpus = (uint32_t)n;
		if (h->default_maxvcpus < h->default_vcpus)
			h->default_maxvcpus = h->default_vcpus;
	}
	if (o->default_memory != 0) {
		uint64_t host = host_memory_mib();

		if (o->default_memory < KATA_MIN_MEMORY_MIB)
			return kata_error_set(err, EINVAL,
			                      "--default_memory %" PRId64
			                      ": too little for the guest (at least %d MiB)",
			                      o->default_memory, KATA_MIN_MEMORY_MIB);
		if (host > 0 && (uint64_t)o->default_memory > host)
			return kata_error_set(err, EINVAL,
			                      "--default_memory %" PRId64
			                      ": more than this host's memory (%" PRIu64 " MiB)",
			                      o->default_memory, host);
		h->default_memory = (uint32_t)o->default_memory;
	}
	for (size_t i = 0; o->unsupported != NULL && o->unsupported[i] != NULL; i++)
		log_warning("runV flag --%s has no equivalent in this runtime: ignored",
		            o->unsupported[i]);
	return 0;
}

int cli_runv_prepare_logging(struct cli_context *ctx, kata_error_t *err)
{
	const char *dir = ctx->overrides.log_dir;

	if (ctx->personality != CLI_RUNV || dir == NULL || ctx->log_path != NULL)
		return 0;
	if (mkdir(dir, 0750) < 0 && errno != EEXIST)
		return kata_error_sys(err, "--log_dir: create `%s`", dir);
	ctx->log_path = xasprintf("%s/runv.log", dir);
	return 0;
}

int cli_personality_version(struct cli_context *ctx, kata_error_t *err)
{
	char *argv[] = { "version", NULL };

	if (ctx->personality == CLI_RUNV) {
		/* runV's line (urfave/cli's version printer) */
		printf("runv version %s, commit: %s\n", KATA_VERSION, KATA_COMMIT);
		return 0;
	}
	/* kata-runtime's and cc-runtime's: "NAME  : VERSION", then commit and OCI lines */
	return cli_version(ctx, 1, argv, err);
}

void cli_personality_usage_options(FILE *out, const struct cli_context *ctx)
{
	const char *prefix = ctx->personality == CLI_CC ? "cc" : "kata";

	fprintf(out, "\nglobal options:\n");
	fprintf(out, "  --%s-config PATH     configuration file\n", prefix);
	fprintf(out,
	        "  --%s-show-default-config-paths\n"
	        "                        print the configuration paths looked up, in order\n",
	        prefix);
	fprintf(out,
	        "  --root PATH           state directory (default %s)\n"
	        "  --log PATH            log file (default: stderr)\n"
	        "  --log-format FORMAT   text or json\n"
	        "  --debug               debug logging\n"
	        "  --version, -v         print the version\n",
	        ctx->root);
	if (ctx->personality != CLI_RUNV)
		return;
	fprintf(out, "\nrunV's flags (they override the configuration file):\n"
	             "  --driver NAME         qemu (KVM when it works, else TCG), kvm, libvirt\n"
	             "  --kernel PATH         guest kernel\n"
	             "  --initrd PATH         guest initrd holding the agent\n"
	             "  --default_cpus N      vCPUs of a VM\n"
	             "  --default_memory MIB  memory of a VM\n"
	             "  --log_dir DIR         log to DIR/runv.log (unless --log is given)\n"
	             "  --bios, --cbfs, --template, --vbox   accepted, no equivalent (ignored)\n");
}

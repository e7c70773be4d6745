/* The typed configuration: configuration.toml's tables, Kata 1.x's key names and meanings,
 * the built-in defaults (the same as the shipped file) and the lookup of the file.
 * docs/configuration.md says which keys are honoured and which only accepted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "config_internal.h"
#include "log.h"
#include "toml.h"

#ifndef KATA_LIBEXECDIR
#define KATA_LIBEXECDIR "/usr/local/libexec/kata-containers"
#endif
#ifndef KATA_ASSETSDIR
#define KATA_ASSETSDIR "/usr/local/share/kata-containers"
#endif

/* A configuration file is a few kilobytes; anything this large is not one. */
#define CONFIG_MAX_SIZE (1024 * 1024)

static const char *const accelerator_names[] = { "auto", "kvm", "tcg", NULL };
static const char *const shared_fs_names[] = { "virtio-9p", "virtio-fs", NULL };
static const char *const dialect_names[] = { "kata", "hyperstart", "cc", NULL };
static const char *const networking_models[] = { "macvtap", "tcfilter", "bridged", "none", NULL };
static const char *const trace_modes[] = { "dynamic", "static", NULL };
static const char *const trace_types[] = { "isolated", "collated", NULL };

const char *kata_accelerator_name(enum kata_accelerator accel)
{
	return (unsigned int)accel < 3 ? accelerator_names[accel] : "unknown";
}

const char *kata_machine_type(const struct kata_hypervisor_config *h)
{
	if (h->machine_type != NULL && h->machine_type[0] != '\0')
		return h->machine_type;
	if ((h->name != NULL && strcmp(h->name, "libvirt") == 0) ||
	    h->shared_fs == KATA_SHARED_FS_VIRTIO_FS)
		return KATA_FALLBACK_MACHINE_TYPE;
	return KATA_DEFAULT_MACHINE_TYPE;
}

const char *kata_shared_fs_name(enum kata_shared_fs fs)
{
	return (unsigned int)fs < 2 ? shared_fs_names[fs] : "unknown";
}

const char *kata_agent_dialect_name(enum kata_agent_dialect dialect)
{
	return (unsigned int)dialect < 3 ? dialect_names[dialect] : "unknown";
}

const char *kata_agent_kernel_params(const struct kata_agent_config *agent)
{
	return agent->enable_debug ? "agent.log=debug" : NULL;
}

#define PROXY(field) offsetof(struct kata_proxy_config, field)
static const struct config_key proxy_keys[] = {
	{ "path", CONFIG_PATH, PROXY(path), NULL },
	{ "enable_debug", CONFIG_BOOL, PROXY(enable_debug), NULL },
	{ "url", CONFIG_STRING, CONFIG_IGNORED, NULL }, /* early Clear Containers 3.0 */
	{ NULL, 0, 0, NULL },
};

#define SHIM(field) offsetof(struct kata_shim_config, field)
static const struct config_key shim_keys[] = {
	{ "path", CONFIG_PATH, SHIM(path), NULL },
	{ "enable_debug", CONFIG_BOOL, SHIM(enable_debug), NULL },
	{ "enable_tracing", CONFIG_BOOL, SHIM(enable_tracing), NULL },
	{ NULL, 0, 0, NULL },
};

#define AGENT(field) offsetof(struct kata_agent_config, field)
static const struct config_key agent_keys[] = {
	{ "dialect", CONFIG_ENUM, AGENT(dialect), dialect_names },
	{ "enable_debug", CONFIG_BOOL, AGENT(enable_debug), NULL },
	{ "enable_tracing", CONFIG_BOOL, AGENT(enable_tracing), NULL },
	{ "trace_mode", CONFIG_CHOICE, CONFIG_IGNORED, trace_modes },
	{ "trace_type", CONFIG_CHOICE, CONFIG_IGNORED, trace_types },
	{ "kernel_modules", CONFIG_STRV, AGENT(kernel_modules), NULL },
	{ NULL, 0, 0, NULL },
};

#define RUNTIME(field) offsetof(struct kata_runtime_config, field)
static const struct config_key runtime_keys[] = {
	{ "enable_debug", CONFIG_BOOL, RUNTIME(enable_debug), NULL },
	{ "enable_tracing", CONFIG_BOOL, RUNTIME(enable_tracing), NULL },
	{ "enable_pprof", CONFIG_BOOL, RUNTIME(enable_pprof), NULL },
	{ "internetworking_model", CONFIG_CHOICE, RUNTIME(internetworking_model),
	  networking_models },
	{ "disable_guest_seccomp", CONFIG_BOOL, RUNTIME(disable_guest_seccomp), NULL },
	{ "disable_new_netns", CONFIG_BOOL, RUNTIME(disable_new_netns), NULL },
	{ "sandbox_cgroup_only", CONFIG_BOOL, RUNTIME(sandbox_cgroup_only), NULL },
	{ "experimental", CONFIG_STRV, RUNTIME(experimental), NULL },
	/* Kata 1.x keys of features this runtime does not have */
	{ "enable_cpu_quota", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "enable_cgroup_swap_control", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "enable_metrics", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "jaeger_endpoint", CONFIG_STRING, CONFIG_IGNORED, NULL },
	{ "jaeger_user", CONFIG_STRING, CONFIG_IGNORED, NULL },
	{ "jaeger_password", CONFIG_STRING, CONFIG_IGNORED, NULL },
	{ "global_log_path", CONFIG_STRING, CONFIG_IGNORED, NULL }, /* Clear Containers */
	{ NULL, 0, 0, NULL },
};

/* VM templating (docs/templating.md); Kata's VM cache is accepted so that Kata files load,
 * and not built. */
#define FACTORY(field) offsetof(struct kata_factory_config, field)
static const struct config_key factory_keys[] = {
	{ "enable_template", CONFIG_BOOL, FACTORY(enable_template), NULL },
	{ "template_path", CONFIG_PATH, FACTORY(template_path), NULL },
	{ "vm_cache_number", CONFIG_U32, CONFIG_IGNORED, NULL },
	{ "vm_cache_endpoint", CONFIG_STRING, CONFIG_IGNORED, NULL },
	{ NULL, 0, 0, NULL },
};

static const struct config_key netmon_keys[] = {
	{ "enable_netmon", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "path", CONFIG_STRING, CONFIG_IGNORED, NULL },
	{ "enable_debug", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ NULL, 0, 0, NULL },
};

/* libvirt's own convention (virsh, virt-install): LIBVIRT_DEFAULT_URI, when set, names the
 * daemon a program connects to unless told otherwise. */
static const char *default_libvirt_uri(void)
{
	const char *env = getenv("LIBVIRT_DEFAULT_URI");

	return env != NULL && strchr(env, ':') != NULL ? env : KATA_DEFAULT_LIBVIRT_URI;
}

static void set_defaults(struct kata_config *config)
{
	struct kata_hypervisor_config *h = &config->hypervisor;

	h->name = xstrdup("qemu");
	h->path = xstrdup(KATA_DEFAULT_HYPERVISOR_PATH);
	h->valid_hypervisor_paths = xcalloc(1, sizeof(char *));
	h->kernel = xstrdup(KATA_ASSETSDIR "/" KATA_KERNEL_NAME);
	h->initrd = xstrdup(KATA_ASSETSDIR "/" KATA_INITRD_NAME);
	h->machine_type = xstrdup(""); /* the backend's default: kata_machine_type() */
	h->kernel_params = xstrdup("");
	h->machine_accelerators = xstrdup("");
	h->cpu_features = xstrdup("");
	h->accelerator = KATA_ACCEL_AUTO;
	h->default_vcpus = KATA_DEFAULT_VCPUS;
	h->default_maxvcpus = 0; /* resolved to the host's CPUs */
	h->default_memory = KATA_DEFAULT_MEMORY_MIB;
	h->memory_slots = KATA_DEFAULT_MEMORY_SLOTS;
	h->default_bridges = KATA_DEFAULT_BRIDGES;
	h->shared_fs = KATA_SHARED_FS_9P;
	h->virtio_fs_daemon = xstrdup(KATA_DEFAULT_VIRTIOFSD);
	h->virtio_fs_extra_args = xcalloc(1, sizeof(char *));
	h->virtio_fs_cache = xstrdup("none");
	h->virtio_fs_cache_size = 0;
	h->msize_9p = KATA_DEFAULT_MSIZE_9P;
	h->entropy_source = xstrdup(KATA_DEFAULT_ENTROPY_SOURCE);
	h->tcg_tb_size = KATA_DEFAULT_TCG_TB_SIZE;
	h->reclaim_guest_freed_memory = true;
	h->block_device_driver = xstrdup("virtio-scsi");
	h->guest_hook_path = xstrdup("");
	h->uri = xstrdup(default_libvirt_uri());

	config->proxy.type = xstrdup("kata");
	config->proxy.path = xstrdup(KATA_LIBEXECDIR "/kata-proxy");
	config->shim.type = xstrdup("kata");
	config->shim.path = xstrdup(KATA_LIBEXECDIR "/kata-shim");
	config->agent.type = xstrdup("kata");
	config->agent.dialect = KATA_DIALECT_KATA;
	config->agent.kernel_modules = xcalloc(1, sizeof(char *));
	config->runtime.internetworking_model = xstrdup("tcfilter");
	config->runtime.disable_guest_seccomp = true; /* Kata 1.x's default */
	config->runtime.experimental = xcalloc(1, sizeof(char *));
	config->factory.template_path = xstrdup(KATA_DEFAULT_TEMPLATE_PATH);
}

/* "FILE:LINE: ..." about a table itself. */
static int table_error(const char *file, const struct toml_entry *entry, const char *name,
                       kata_error_t *err, const char *message)
{
	return kata_error_set(err, EINVAL, "%s:%d: table `%s`: %s", file, entry->line, name,
	                      message);
}

/* [KIND.NAME] tables such as [proxy.kata]: at most one, NAME among the known ones.
 * Fills *sec (table NULL when absent) and *type. */
static int pick_component(const char *file, const struct toml_value *root, const char *kind,
                          const char *const *names, struct config_section *sec, char **type,
                          kata_error_t *err)
{
	const struct toml_entry *group = toml_table_find(root, kind);
	const struct toml_entry *chosen = NULL;
	cleanup_free char *full = NULL;

	if (group == NULL)
		return 0;
	if (group->value->type != TOML_TABLE)
		return table_error(file, group, kind, err, "expected a table such as [kind.NAME]");
	for (size_t i = 0; i < group->value->u.table.len; i++) {
		const struct toml_entry *e = &group->value->u.table.entries[i];
		bool known = false;

		free(full);
		full = xasprintf("%s.%s", kind, e->key);
		for (size_t n = 0; names[n] != NULL; n++)
			known = known || strcmp(e->key, names[n]) == 0;
		if (e->value->type != TOML_TABLE)
			return kata_error_set(err, EINVAL,
			                      "%s:%d: key `%s`: keys belong in a [%s.kata] or "
			                      "[%s.cc] table",
			                      file, e->line, full, kind, kind);
		if (!known)
			return table_error(file, e, full, err, "unknown or unsupported type");
		if (chosen != NULL)
			return kata_error_set(err, EINVAL,
			                      "%s:%d: table `%s`: a second %s table; only one of "
			                      "[%s.%s] and [%s.%s] may be given",
			                      file, e->line, full, kind, kind, chosen->key, kind,
			                      e->key);
		chosen = e;
	}
	if (chosen == NULL)
		return 0;
	sec->table = chosen->value;
	sec->line = chosen->line;
	sec->name = xasprintf("%s.%s", kind, chosen->key);
	free(*type);
	*type = xstrdup(chosen->key);
	return 0;
}

static void release_section_name(struct config_section *sec)
{
	free((char *)sec->name);
	sec->name = NULL;
}

static int read_component(const char *file, const struct toml_value *root, const char *kind,
                          const char *const *names, const struct config_key *keys, void *base,
                          char **type, kata_error_t *err)
{
	struct config_section sec = { .file = file };
	int ret;

	if (pick_component(file, root, kind, names, &sec, type, err) < 0)
		return -1;
	if (sec.table == NULL)
		return 0;
	ret = config_read_section(&sec, keys, base, err);
	release_section_name(&sec);
	return ret;
}

static int read_plain_table(const char *file, const struct toml_value *root, const char *name,
                            const struct config_key *keys, void *base, kata_error_t *err)
{
	const struct toml_entry *entry = toml_table_find(root, name);
	struct config_section sec = { .file = file, .name = name };

	if (entry == NULL)
		return 0;
	if (entry->value->type != TOML_TABLE)
		return table_error(file, entry, name, err, "expected a table");
	sec.table = entry->value;
	sec.line = entry->line;
	return config_read_section(&sec, keys, base, err);
}

static int check_top_level(const char *file, const struct toml_value *root, kata_error_t *err)
{
	static const char *const known[] = { "hypervisor", "proxy",   "shim",   "agent",
		                             "runtime",    "factory", "netmon", NULL };

	for (size_t i = 0; i < root->u.table.len; i++) {
		const struct toml_entry *e = &root->u.table.entries[i];
		bool ok = false;

		for (size_t n = 0; known[n] != NULL; n++)
			ok = ok || strcmp(e->key, known[n]) == 0;
		if (!ok && e->value->type == TOML_TABLE)
			return table_error(file, e, e->key, err, "unknown table");
		if (!ok)
			return kata_error_set(err, EINVAL, "%s:%d: key `%s`: unknown key", file,
			                      e->line, e->key);
	}
	return 0;
}

/* The TOML parser says "line L, column C: what"; the user is told "FILE:L:C: what". */
static int syntax_error(const char *file, kata_error_t *err)
{
	int line = 0, column = 0, consumed = 0;
	const char *message = (*err != NULL && (*err)->message != NULL) ? (*err)->message : "";
	char *text;

	if (sscanf(message, "line %d, column %d: %n", &line, &column, &consumed) == 2 &&
	    consumed > 0)
		text = xasprintf("%s:%d:%d: %s", file, line, column, message + consumed);
	else
		text = xasprintf("%s: %s", file, message);
	if (*err == NULL) {
		kata_error_set(err, EINVAL, "%s", text);
		free(text);
		return -1;
	}
	free((*err)->message);
	(*err)->message = text;
	return -1;
}

/* Templates need qemu's migration with x-ignore-shared, which libvirt does not offer
 * (docs/templating.md). */
static int check_factory(const struct kata_config *config, const char *file,
                         const struct toml_value *root, kata_error_t *err)
{
	const struct toml_entry *table = toml_table_find(root, "factory");
	struct config_section sec = { .file = file, .name = "factory" };
	const struct toml_entry *entry;

	if (!config->factory.enable_template || strcmp(config->hypervisor.name, "libvirt") != 0)
		return 0;
	sec.table = table->value;
	sec.line = table->line;
	entry = toml_table_find(table->value, "enable_template");
	return config_key_error(&sec, entry, err,
	                        "the libvirt backend cannot start VMs from a template (use "
	                        "[hypervisor.qemu], or enable_template = false)");
}

static int load_tree(struct kata_config *config, const char *file, const struct toml_value *root,
                     kata_error_t *err)
{
	static const char *const component_names[] = { "kata", "cc", NULL };

	if (root->type != TOML_TABLE)
		return kata_error_set(err, EINVAL, "%s: not a TOML document", file);
	if (check_top_level(file, root, err) < 0)
		return -1;
	if (config_read_hypervisor(config, file, root, err) < 0)
		return -1;
	if (read_component(file, root, "proxy", component_names, proxy_keys, &config->proxy,
	                   &config->proxy.type, err) < 0)
		return -1;
	if (read_component(file, root, "shim", component_names, shim_keys, &config->shim,
	                   &config->shim.type, err) < 0)
		return -1;
	/* A Clear Containers file talks to Clear Containers' agent unless it says otherwise. */
	{
		const struct toml_value *agent = toml_table_get(root, "agent");
		if (agent != NULL && agent->type == TOML_TABLE &&
		    toml_table_get(agent, "cc") != NULL)
			config->agent.dialect = KATA_DIALECT_CC;
	}
	if (read_component(file, root, "agent", component_names, agent_keys, &config->agent,
	                   &config->agent.type, err) < 0)
		return -1;
	if (read_plain_table(file, root, "runtime", runtime_keys, &config->runtime, err) < 0)
		return -1;
	if (read_plain_table(file, root, "factory", factory_keys, &config->factory, err) < 0)
		return -1;
	if (check_factory(config, file, root, err) < 0)
		return -1;
	if (read_plain_table(file, root, "netmon", netmon_keys, NULL, err) < 0)
		return -1;
	return 0;
}

struct kata_config *kata_config_parse(const char *path, const char *text, size_t len,
                                      kata_error_t *err)
{
	cleanup_config struct kata_config *config = NULL;
	struct toml_value *root;
	int ret;

	if (path == NULL)
		path = "<configuration>";
	root = toml_parse(text, len, err);
	if (root == NULL) {
		syntax_error(path, err);
		return NULL;
	}
	config = xzalloc(sizeof(*config));
	config->path = xstrdup(path);
	set_defaults(config);
	ret = load_tree(config, path, root, err);
	toml_free(root);
	if (ret < 0)
		return NULL;
	return steal_pointer(&config);
}

struct kata_config *kata_config_load(const char *path, kata_error_t *err)
{
	cleanup_free char *text = NULL;
	size_t len = 0;
	struct kata_config *config;
	char *resolved;

	text = config_read_file(path, CONFIG_MAX_SIZE, &len, err);
	if (text == NULL)
		return NULL;
	config = kata_config_parse(path, text, len, err);
	/* kata-env and the logs show where the configuration really came from */
	resolved = config != NULL ? realpath(path, NULL) : NULL;
	if (resolved != NULL) {
		free(config->path);
		config->path = resolved;
	}
	return config;
}

char *kata_config_find(const char *explicit_path, const char *const *default_paths,
                       kata_error_t *err)
{
	const char *env = getenv("KATA_CONF_FILE");
	char tried[1024] = "";
	size_t used = 0;

	/* An explicit choice is used as given: a missing file is an error, not a fallback. */
	if (explicit_path != NULL && explicit_path[0] != '\0')
		return xstrdup(explicit_path);
	if (env != NULL && env[0] != '\0')
		return xstrdup(env);
	for (size_t i = 0; default_paths != NULL && default_paths[i] != NULL; i++) {
		int n;

		if (access(default_paths[i], R_OK) == 0)
			return xstrdup(default_paths[i]);
		n = snprintf(tried + used, sizeof(tried) - used, "%s%s", i == 0 ? "" : ", ",
		             default_paths[i]);
		if (n > 0 && (size_t)n < sizeof(tried) - used)
			used += (size_t)n;
	}
	kata_error_set(err, ENOENT,
	               "no configuration file found (tried --kata-config, $KATA_CONF_FILE, %s)",
	               tried);
	return NULL;
}

void kata_config_free(struct kata_config *config)
{
	struct kata_hypervisor_config *h;

	if (config == NULL)
		return;
	h = &config->hypervisor;
	free(config->path);
	free(h->name);
	free(h->path);
	strv_free(h->valid_hypervisor_paths);
	free(h->kernel);
	free(h->initrd);
	free(h->machine_type);
	free(h->kernel_params);
	free(h->machine_accelerators);
	free(h->cpu_features);
	free(h->virtio_fs_daemon);
	strv_free(h->virtio_fs_extra_args);
	free(h->virtio_fs_cache);
	free(h->entropy_source);
	free(h->block_device_driver);
	free(h->guest_hook_path);
	free(h->uri);
	free(config->proxy.type);
	free(config->proxy.path);
	free(config->shim.type);
	free(config->shim.path);
	free(config->agent.type);
	strv_free(config->agent.kernel_modules);
	free(config->runtime.internetworking_model);
	strv_free(config->runtime.experimental);
	free(config->factory.template_path);
	free(config);
}

void kata_config_freep(struct kata_config **config)
{
	kata_config_free(*config);
	*config = NULL;
}

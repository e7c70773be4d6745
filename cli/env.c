/* `kata-runtime kata-env [--json]`: the effective configuration, the path and version of
 * every component and the facts of this host, as TOML (the sections of Kata's kata-env)
 * or JSON. One json-c tree is built and printed either way. */
#include <errno.h>
#include <getopt.h>
#include <json-c/json.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "host_facts.h"

/* Version of the layout of this output (Kata's [Meta] Version). */
#define ENV_FORMAT_VERSION "1.0.0"
#define OCI_SPEC_VERSION   "1.0.2"

static void add_string(json_object *obj, const char *key, const char *value)
{
	json_object_object_add(obj, key, json_object_new_string(value != NULL ? value : ""));
}

static void add_bool(json_object *obj, const char *key, bool value)
{
	json_object_object_add(obj, key, json_object_new_boolean(value));
}

static void add_int(json_object *obj, const char *key, int64_t value)
{
	json_object_object_add(obj, key, json_object_new_int64(value));
}

static void add_strv(json_object *obj, const char *key, char *const *strv)
{
	json_object *array = json_object_new_array();

	for (size_t i = 0; strv != NULL && strv[i] != NULL; i++)
		json_object_array_add(array, json_object_new_string(strv[i]));
	json_object_object_add(obj, key, array);
}

static json_object *add_object(json_object *parent, const char *key)
{
	json_object *obj = json_object_new_object();

	json_object_object_add(parent, key, obj);
	return obj;
}

/* A program's version, or "unknown" when it does not answer --version. */
static void add_version(json_object *obj, const char *path)
{
	cleanup_free char *version = host_program_version(path);

	add_string(obj, "Version", version != NULL ? version : "unknown");
}

static void add_runtime(json_object *root, const struct kata_config *c)
{
	json_object *rt = add_object(root, "Runtime"), *version, *config;
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	self[n > 0 ? n : 0] = '\0';
	add_bool(rt, "Debug", c->runtime.enable_debug);
	add_bool(rt, "Trace", c->runtime.enable_tracing);
	add_bool(rt, "DisableGuestSeccomp", c->runtime.disable_guest_seccomp);
	add_bool(rt, "DisableNewNetNs", c->runtime.disable_new_netns);
	add_bool(rt, "SandboxCgroupOnly", c->runtime.sandbox_cgroup_only);
	add_string(rt, "InternetworkingModel", c->runtime.internetworking_model);
	add_strv(rt, "Experimental", c->runtime.experimental);
	add_string(rt, "Path", self);
	version = add_object(rt, "Version");
	add_string(version, "Semver", KATA_VERSION);
	add_string(version, "Commit", KATA_COMMIT);
	add_string(version, "OCI", OCI_SPEC_VERSION);
	config = add_object(rt, "Config");
	add_string(config, "Path", c->path);
}

static void add_hypervisor(json_object *root, const struct kata_config *c)
{
	const struct kata_hypervisor_config *h = &c->hypervisor;
	json_object *hv = add_object(root, "Hypervisor");

	add_string(hv, "Backend", h->name);
	add_string(hv, "MachineType", kata_machine_type(h));
	add_version(hv, h->path);
	add_string(hv, "Path", h->path);
	if (strcmp(h->name, "libvirt") == 0)
		add_string(hv, "URI", h->uri);
	add_string(hv, "Accelerator", kata_accelerator_name(h->accelerator));
	add_string(hv, "MachineAccelerators", h->machine_accelerators);
	add_string(hv, "CPUFeatures", h->cpu_features);
	add_int(hv, "DefaultVCPUs", h->default_vcpus);
	add_int(hv, "DefaultMaxVCPUs", h->default_maxvcpus);
	add_int(hv, "DefaultMemory", h->default_memory);
	add_int(hv, "MemorySlots", h->memory_slots);
	add_int(hv, "DefaultBridges", h->default_bridges);
	add_string(hv, "BlockDeviceDriver", h->block_device_driver);
	add_string(hv, "EntropySource", h->entropy_source);
	add_string(hv, "SharedFS", kata_shared_fs_name(h->shared_fs));
	add_string(hv, "VirtioFSDaemon", h->virtio_fs_daemon);
	add_string(hv, "VirtioFSCache", h->virtio_fs_cache);
	add_strv(hv, "VirtioFSExtraArgs", h->virtio_fs_extra_args);
	add_int(hv, "Msize9p", h->msize_9p);
	add_int(hv, "TCGTranslationCacheMiB", h->tcg_tb_size);
	add_bool(hv, "ReclaimGuestFreedMemory", h->reclaim_guest_freed_memory);
	add_bool(hv, "Debug", h->enable_debug);
	add_bool(hv, "UseVSock", false); /* virtio-serial only */
	add_strv(hv, "ValidHypervisorPaths", h->valid_hypervisor_paths);
}

static void add_assets(json_object *root, const struct kata_config *c)
{
	json_object *kernel = add_object(root, "Kernel"), *initrd;
	cleanup_free char *version = host_kernel_image_version(c->hypervisor.kernel);

	add_string(kernel, "Path", c->hypervisor.kernel);
	add_string(kernel, "Version", version != NULL ? version : "unknown");
	add_string(kernel, "Parameters", c->hypervisor.kernel_params);
	initrd = add_object(root, "Initrd");
	add_string(initrd, "Path", c->hypervisor.initrd);
}

static void add_components(json_object *root, const struct kata_config *c)
{
	json_object *proxy = add_object(root, "Proxy"), *shim, *agent;

	add_string(proxy, "Type", c->proxy.type);
	add_version(proxy, c->proxy.path);
	add_string(proxy, "Path", c->proxy.path);
	add_bool(proxy, "Debug", c->proxy.enable_debug);

	shim = add_object(root, "Shim");
	add_string(shim, "Type", c->shim.type);
	add_version(shim, c->shim.path);
	add_string(shim, "Path", c->shim.path);
	add_bool(shim, "Debug", c->shim.enable_debug);
	add_bool(shim, "Trace", c->shim.enable_tracing);

	agent = add_object(root, "Agent");
	add_string(agent, "Type", c->agent.type);
	add_string(agent, "Dialect", kata_agent_dialect_name(c->agent.dialect));
	add_string(agent, "Path", c->hypervisor.initrd); /* /init of the initrd */
	add_bool(agent, "Debug", c->agent.enable_debug);
	add_bool(agent, "Trace", c->agent.enable_tracing);
	add_strv(agent, "KernelModules", c->agent.kernel_modules);
}

static void add_host(json_object *root, const struct kata_config *c)
{
	struct host_facts f;
	json_object *host = add_object(root, "Host"), *distro, *cpu;
	const char *accel = kata_accelerator_name(c->hypervisor.accelerator);

	host_facts_collect(&f);
	add_string(host, "Kernel", f.kernel_release);
	add_string(host, "Architecture", f.architecture);
	add_int(host, "CPUs", f.cpus);
	add_int(host, "MemoryMiB", (int64_t)f.memory_mib);
	add_bool(host, "KVM", f.kvm);
	add_bool(host, "VhostVsock", f.vhost_vsock);
	add_bool(host, "VhostNet", f.vhost_net);
	add_bool(host, "Tun", f.tun);
	add_bool(host, "SupportVSocks", f.vhost_vsock);
	add_string(host, "Cgroups", f.cgroups);
	/* `auto` is decided by booting the guest kernel under KVM: kata-check does that once
	 * and the runtime remembers it; kata-env never boots a VM. */
	add_string(host, "Accelerator",
	           c->hypervisor.accelerator == KATA_ACCEL_AUTO
	                   ? "auto (resolved by booting the guest under KVM: see kata-check)"
	                   : accel);
	distro = add_object(host, "Distro");
	add_string(distro, "Name", f.distro_name);
	add_string(distro, "Version", f.distro_version);
	cpu = add_object(host, "CPU");
	add_string(cpu, "Vendor", f.cpu_vendor);
	add_string(cpu, "Model", f.cpu_model);
	host_facts_release(&f);
}

static json_object *env_build(const struct kata_config *c)
{
	json_object *root = json_object_new_object();
	json_object *meta = add_object(root, "Meta");

	add_string(meta, "Version", ENV_FORMAT_VERSION);
	add_runtime(root, c);
	add_hypervisor(root, c);
	add_assets(root, c);
	add_components(root, c);
	add_host(root, c);
	return root;
}

/* A TOML basic string: quotes, backslashes and control characters escaped. */
static void print_toml_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				fprintf(out, "\\u%04x", *p);
			else
				fputc(*p, out);
		}
	}
	fputc('"', out);
}

static void print_toml_value(FILE *out, json_object *value)
{
	switch (json_object_get_type(value)) {
	case json_type_boolean:
		fputs(json_object_get_boolean(value) ? "true" : "false", out);
		break;
	case json_type_int:
		fprintf(out, "%lld", (long long)json_object_get_int64(value));
		break;
	case json_type_array:
		fputc('[', out);
		for (size_t i = 0; i < json_object_array_length(value); i++) {
			if (i > 0)
				fputs(", ", out);
			print_toml_value(out, json_object_array_get_idx(value, i));
		}
		fputc(']', out);
		break;
	default:
		print_toml_string(out, json_object_get_string(value));
	}
}

/* [name]: its plain keys first, then its subtables as [name.key], indented as Kata does. */
static void print_toml_table(FILE *out, const char *name, json_object *table, int depth)
{
	fprintf(out, "%*s[%s]\n", depth * 2, "", name);
	json_object_object_foreach(table, key, value)
	{
		if (json_object_is_type(value, json_type_object))
			continue;
		fprintf(out, "%*s%s = ", depth * 2 + 2, "", key);
		print_toml_value(out, value);
		fputc('\n', out);
	}
	json_object_object_foreach(table, sub, subvalue)
	{
		cleanup_free char *full = NULL;
		if (!json_object_is_type(subvalue, json_type_object))
			continue;
		full = xasprintf("%s.%s", name, sub);
		print_toml_table(out, full, subvalue, depth + 1);
	}
	if (depth == 0)
		fputc('\n', out);
}

int cli_env(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	static const struct option options[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_object *root;
	bool json = false;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+jh", options, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			printf("usage: %s %s [--json]\n", ctx->program, argv[0]);
			return 0;
		default:
			return kata_error_set(err, EINVAL, "%s: unknown option `%s`", argv[0],
			                      argv[optind - 1]);
		}
	}
	if (optind < argc)
		return kata_error_set(err, EINVAL, "%s: unexpected argument `%s`", argv[0],
		                      argv[optind]);
	if (cli_load_config(ctx, err) < 0)
		return -1;
	root = env_build(ctx->config);
	if (json) {
		puts(json_object_to_json_string_ext(root, JSON_C_TO_STRING_PRETTY |
		                                                  JSON_C_TO_STRING_NOSLASHESCAPE));
	} else {
		json_object_object_foreach(root, name, table)
		{
			print_toml_table(stdout, name, table, 0);
		}
	}
	json_object_put(root);
	if (fflush(stdout) != 0)
		return kata_error_sys(err, "%s: stdout", argv[0]);
	return 0;
}

/* [hypervisor.qemu] / [hypervisor.libvirt]: Kata 1.x's keys, read and checked against this
 * host (vCPUs, memory, the guest kernel and initrd). */
#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cleanup.h"
#include "config_internal.h"
#include "log.h"

static const char *const accelerators[] = { "auto", "kvm", "tcg", NULL };
static const char *const shared_fs_types[] = { "virtio-9p", "virtio-fs", NULL };
static const char *const machine_types[] = { "q35", "pc", "microvm", NULL };
static const char *const virtio_fs_caches[] = { "none", "auto", "always", NULL };
static const char *const block_drivers[] = { "virtio-scsi", "virtio-blk",     "virtio-mmio",
	                                     "nvdimm",      "virtio-blk-ccw", NULL };

#define HV(field) offsetof(struct kata_hypervisor_config, field)
static const struct config_key hypervisor_keys[] = {
	{ "path", CONFIG_PATH, HV(path), NULL },
	{ "valid_hypervisor_paths", CONFIG_STRV, HV(valid_hypervisor_paths), NULL },
	{ "kernel", CONFIG_PATH, HV(kernel), NULL },
	{ "initrd", CONFIG_PATH, HV(initrd), NULL },
	{ "image", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	{ "firmware", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	{ "machine_type", CONFIG_CHOICE, HV(machine_type), machine_types },
	{ "kernel_params", CONFIG_STRING, HV(kernel_params), NULL },
	{ "machine_accelerators", CONFIG_STRING, HV(machine_accelerators), NULL },
	{ "cpu_features", CONFIG_STRING, HV(cpu_features), NULL },
	{ "accelerator", CONFIG_ENUM, HV(accelerator), accelerators },
	{ "default_vcpus", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	{ "default_maxvcpus", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	{ "default_memory", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	{ "memory_slots", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	{ "default_bridges", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	{ "shared_fs", CONFIG_ENUM, HV(shared_fs), shared_fs_types },
	{ "virtio_fs_daemon", CONFIG_PATH, HV(virtio_fs_daemon), NULL },
	{ "virtio_fs_extra_args", CONFIG_STRV, HV(virtio_fs_extra_args), NULL },
	{ "virtio_fs_cache", CONFIG_CHOICE, HV(virtio_fs_cache), virtio_fs_caches },
	{ "virtio_fs_cache_size", CONFIG_U32, HV(virtio_fs_cache_size), NULL },
	{ "msize_9p", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	{ "entropy_source", CONFIG_PATH, HV(entropy_source), NULL },
	{ "tcg_tb_size", CONFIG_U32, HV(tcg_tb_size), NULL },
	{ "reclaim_guest_freed_memory", CONFIG_BOOL, HV(reclaim_guest_freed_memory), NULL },
	{ "block_device_driver", CONFIG_CHOICE, HV(block_device_driver), block_drivers },
	{ "disable_block_device_use", CONFIG_BOOL, HV(disable_block_device_use), NULL },
	{ "enable_iothreads", CONFIG_BOOL, HV(enable_iothreads), NULL },
	{ "enable_hugepages", CONFIG_BOOL, HV(enable_hugepages), NULL },
	{ "enable_mem_prealloc", CONFIG_BOOL, HV(enable_mem_prealloc), NULL },
	{ "guest_hook_path", CONFIG_PATH, HV(guest_hook_path), NULL },
	{ "enable_debug", CONFIG_BOOL, HV(enable_debug), NULL },
	{ "disable_nesting_checks", CONFIG_BOOL, HV(disable_nesting_checks), NULL },
	{ "uri", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	{ "use_vsock", CONFIG_CUSTOM, CONFIG_IGNORED, NULL },
	/* Kata 1.x keys of features this runtime does not have: type-checked, unused */
	{ "memory_offset", CONFIG_U32, CONFIG_IGNORED, NULL },
	{ "enable_swap", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "enable_virtio_mem", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "file_mem_backend", CONFIG_STRING, CONFIG_IGNORED, NULL },
	{ "hotplug_vfio_on_root_bus", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "pcie_root_port", CONFIG_U32, CONFIG_IGNORED, NULL },
	{ "disable_vhost_net", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "disable_image_nvdimm", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "block_device_cache_set", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "block_device_cache_direct", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "block_device_cache_noflush", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "enable_vhost_user_store", CONFIG_BOOL, CONFIG_IGNORED, NULL },
	{ "vhost_user_store_path", CONFIG_STRING, CONFIG_IGNORED, NULL },
	{ NULL, 0, 0, NULL },
};

static const struct toml_entry *entry_of(const struct config_section *sec, const char *key)
{
	return sec->table != NULL ? toml_table_find(sec->table, key) : NULL;
}

/* image and firmware: Kata keys for things this runtime cannot do; empty is fine. */
static int reject_unsupported(const struct config_section *sec, const char *key, const char *why,
                              kata_error_t *err)
{
	const struct toml_entry *e = entry_of(sec, key);
	cleanup_free char *value = NULL;

	if (e == NULL)
		return 0;
	if (config_read_string(sec, e, &value, err) < 0)
		return -1;
	if (value[0] != '\0')
		return config_key_error(sec, e, err, "%s", why);
	return 0;
}

static int read_vcpus(const struct config_section *sec, struct kata_hypervisor_config *h,
                      unsigned int host_cpus, kata_error_t *err)
{
	const struct toml_entry *e = entry_of(sec, "default_vcpus");
	const struct toml_entry *max = entry_of(sec, "default_maxvcpus");
	unsigned int limit = host_cpus < KATA_MAX_VCPUS ? host_cpus : KATA_MAX_VCPUS;
	int64_t n;

	if (e != NULL) {
		if (config_read_int(sec, e, INT32_MIN, INT32_MAX, &n, err) < 0)
			return -1;
		if (n == 0)
			return config_key_error(sec, e, err,
			                        "0 vCPUs: give a count, or -1 for all host CPUs");
		/* Kata: negative means all host CPUs, more than the host has is capped */
		if (n < 0 || n > (int64_t)limit) {
			if (n > 0)
				log_warning("%s: default_vcpus = %" PRId64 " capped to %u",
				            sec->file, n, limit);
			n = limit;
		}
		h->default_vcpus = (uint32_t)n;
	}
	if (h->default_vcpus > limit)
		h->default_vcpus = limit;

	h->default_maxvcpus = limit; /* Kata: unset or 0 means the host's CPUs */
	if (max != NULL) {
		if (config_read_int(sec, max, 0, UINT32_MAX, &n, err) < 0)
			return -1;
		if (n > 0 && n < (int64_t)limit)
			h->default_maxvcpus = (uint32_t)n;
		if (h->default_maxvcpus < h->default_vcpus)
			return config_key_error(sec, max, err, "%u is below default_vcpus (%u)",
			                        h->default_maxvcpus, h->default_vcpus);
	}
	return 0;
}

static int read_memory(const struct config_section *sec, struct kata_hypervisor_config *h,
                       uint64_t host_mib, kata_error_t *err)
{
	const struct toml_entry *e = entry_of(sec, "default_memory");
	int64_t n;

	if (e != NULL) {
		if (config_read_int(sec, e, 0, UINT32_MAX, &n, err) < 0)
			return -1;
		if (n < KATA_MIN_MEMORY_MIB)
			return config_key_error(sec, e, err,
			                        "%" PRId64 " MiB is too little for the guest "
			                        "(at least %d MiB)",
			                        n, KATA_MIN_MEMORY_MIB);
		if (host_mib > 0 && (uint64_t)n > host_mib)
			return config_key_error(sec, e, err,
			                        "%" PRId64 " MiB is more than this host's memory "
			                        "(%" PRIu64 " MiB)",
			                        n, host_mib);
		h->default_memory = (uint32_t)n;
	}

	e = entry_of(sec, "memory_slots");
	if (e != NULL) {
		if (config_read_int(sec, e, 0, KATA_MAX_MEMORY_SLOTS, &n, err) < 0)
			return -1;
		h->memory_slots = n == 0 ? KATA_DEFAULT_MEMORY_SLOTS : (uint32_t)n;
	}
	return 0;
}

static int read_devices(const struct config_section *sec, struct kata_hypervisor_config *h,
                        kata_error_t *err)
{
	const struct toml_entry *e = entry_of(sec, "default_bridges");
	int64_t n;
	bool b;

	if (e != NULL) {
		if (config_read_int(sec, e, 0, UINT32_MAX, &n, err) < 0)
			return -1;
		if (n > KATA_MAX_BRIDGES) /* Kata caps; qemu cold-plugs at most 5 */
			log_warning("%s: default_bridges = %" PRId64 " capped to %d", sec->file, n,
			            KATA_MAX_BRIDGES);
		h->default_bridges = n == 0                 ? KATA_DEFAULT_BRIDGES
		                     : n > KATA_MAX_BRIDGES ? KATA_MAX_BRIDGES
		                                            : (uint32_t)n;
	}

	e = entry_of(sec, "msize_9p");
	if (e != NULL) {
		if (config_read_int(sec, e, 0, UINT32_MAX, &n, err) < 0)
			return -1;
		if (n != 0 && (n < AGENT_MSIZE_9P_MIN || n > AGENT_MSIZE_9P_MAX))
			return config_key_error(
			        sec, e, err, "%" PRId64 " is outside %d..%d bytes (0: default %d)",
			        n, AGENT_MSIZE_9P_MIN, AGENT_MSIZE_9P_MAX, KATA_DEFAULT_MSIZE_9P);
		h->msize_9p = n == 0 ? KATA_DEFAULT_MSIZE_9P : (uint32_t)n;
	}

	e = entry_of(sec, "use_vsock");
	if (e != NULL) {
		if (config_read_bool(sec, e, &b, err) < 0)
			return -1;
		if (b)
			log_warning("%s: use_vsock: no vsock on this runtime, the agent is reached "
			            "over virtio-serial",
			            sec->file);
	}

	e = entry_of(sec, "uri");
	if (e != NULL) {
		cleanup_free char *uri = NULL;
		if (strcmp(h->name, "libvirt") != 0)
			return config_key_error(
			        sec, e, err, "unknown key (only [hypervisor.libvirt] has a uri)");
		if (config_read_string(sec, e, &uri, err) < 0)
			return -1;
		if (uri[0] == '\0' || strstr(uri, ":") == NULL)
			return config_key_error(sec, e, err, "\"%s\" is not a libvirt URI", uri);
		free(h->uri);
		h->uri = steal_pointer(&uri);
	}
	return 0;
}

/* Kata resolves the assets when it loads the file: a typo is found at once. */
static int check_file(const struct config_section *sec, const char *key, const char *path,
                      kata_error_t *err)
{
	const struct toml_entry *e = entry_of(sec, key);
	struct stat st;

	if (stat(path, &st) < 0) {
		int saved = errno;
		if (e != NULL)
			return config_key_error(sec, e, err, "%s: %s", path, strerror(saved));
		return config_missing_key_error(sec, key, err, "(default) %s: %s", path,
		                                strerror(saved));
	}
	if (!S_ISREG(st.st_mode)) {
		if (e != NULL)
			return config_key_error(sec, e, err, "%s: not a regular file", path);
		return config_missing_key_error(sec, key, err, "(default) %s: not a regular file",
		                                path);
	}
	return 0;
}

static int check_hypervisor_path(const struct config_section *sec,
                                 const struct kata_hypervisor_config *h, kata_error_t *err)
{
	const struct toml_entry *e;

	if (h->valid_hypervisor_paths[0] == NULL)
		return 0;
	for (char **glob = h->valid_hypervisor_paths; *glob != NULL; glob++)
		if (fnmatch(*glob, h->path, 0) == 0)
			return 0;
	e = entry_of(sec, "path");
	if (e == NULL)
		e = entry_of(sec, "valid_hypervisor_paths");
	return config_key_error(sec, e, err, "%s is not in valid_hypervisor_paths", h->path);
}

/* virtio-fs on microvm is vhost-user-fs over virtio-mmio, and qemu 7.2's virtio-mmio has no
 * ioeventfds without KVM: under TCG the guest's requests never reach virtiofsd, and the
 * agent's first request over the share hangs. Refused (docs/configuration.md). */
static int check_shared_fs_machine(const struct config_section *sec,
                                   const struct kata_hypervisor_config *h, kata_error_t *err)
{
	const struct toml_entry *fs = entry_of(sec, "shared_fs");

	if (h->shared_fs != KATA_SHARED_FS_VIRTIO_FS || strcmp(h->machine_type, "microvm") != 0)
		return 0;
	if (fs != NULL)
		return config_key_error(sec, fs, err,
		                        "\"virtio-fs\" needs machine_type \"q35\" or \"pc\" "
		                        "(qemu's virtio-mmio cannot notify virtiofsd without KVM)");
	return config_missing_key_error(sec, "shared_fs", err,
	                                "\"virtio-fs\" needs machine_type \"q35\" or \"pc\"");
}

int config_read_hypervisor(struct kata_config *config, const char *file,
                           const struct toml_value *root, kata_error_t *err)
{
	struct kata_hypervisor_config *h = &config->hypervisor;
	const struct toml_entry *group = toml_table_find(root, "hypervisor");
	const struct toml_entry *chosen = NULL;
	cleanup_free char *name = NULL;
	struct config_section sec = { .file = file };

	if (group != NULL && group->value->type != TOML_TABLE)
		return kata_error_set(err, EINVAL,
		                      "%s:%d: table `hypervisor`: expected a table such as "
		                      "[hypervisor.qemu]",
		                      file, group->line);
	if (group == NULL || group->value->u.table.len == 0)
		return kata_error_set(err, EINVAL,
		                      "%s: no hypervisor: the file needs one [hypervisor.qemu] or "
		                      "[hypervisor.libvirt] table",
		                      file);
	for (size_t i = 0; i < group->value->u.table.len; i++) {
		const struct toml_entry *e = &group->value->u.table.entries[i];

		if (e->value->type != TOML_TABLE)
			return kata_error_set(err, EINVAL,
			                      "%s:%d: key `hypervisor.%s`: keys belong in a "
			                      "[hypervisor.qemu] or [hypervisor.libvirt] table",
			                      file, e->line, e->key);
		if (strcmp(e->key, "qemu") != 0 && strcmp(e->key, "libvirt") != 0)
			return kata_error_set(
			        err, EINVAL,
			        "%s:%d: table `hypervisor.%s`: unsupported hypervisor "
			        "(this runtime has the qemu and libvirt backends)",
			        file, e->line, e->key);
		if (chosen != NULL)
			return kata_error_set(err, EINVAL,
			                      "%s:%d: table `hypervisor.%s`: a second hypervisor; "
			                      "exactly one hypervisor table may be given",
			                      file, e->line, e->key);
		chosen = e;
	}
	name = xasprintf("hypervisor.%s", chosen->key);
	sec.name = name;
	sec.table = chosen->value;
	sec.line = chosen->line;
	free(h->name);
	h->name = xstrdup(chosen->key);

	if (config_read_section(&sec, hypervisor_keys, h, err) < 0)
		return -1;
	if (reject_unsupported(&sec, "image",
	                       "guest images are not supported: this runtime boots the agent "
	                       "from an initrd only (set `initrd`, leave `image` out)",
	                       err) < 0)
		return -1;
	if (reject_unsupported(&sec, "firmware",
	                       "a custom firmware is not supported (leave it empty)", err) < 0)
		return -1;
	if (read_vcpus(&sec, h, config_host_cpus(), err) < 0)
		return -1;
	if (read_memory(&sec, h, config_host_memory_mib(), err) < 0)
		return -1;
	if (read_devices(&sec, h, err) < 0)
		return -1;
	if (check_hypervisor_path(&sec, h, err) < 0)
		return -1;
	if (check_file(&sec, "kernel", h->kernel, err) < 0)
		return -1;
	if (check_file(&sec, "initrd", h->initrd, err) < 0)
		return -1;
	if (check_shared_fs_machine(&sec, h, err) < 0)
		return -1;
	if (h->virtio_fs_cache_size > 0)
		log_warning(
		        "%s: virtio_fs_cache_size: DAX is not available with this qemu; ignored",
		        file);
	return 0;
}

/* The typed configuration (configuration.toml) that every component receives.
 *
 * Key names and meanings are Kata Containers 1.x's where Kata has the key (see the
 * commented default, config/configuration.toml). The table name [hypervisor.NAME] selects
 * the backend; Clear Containers 3.0's [proxy.cc], [shim.cc] and [agent.cc] are accepted
 * as they are. Loading rejects an unknown key, a wrong type or an impossible value with
 * an error naming file, line and key.
 */
#ifndef KATA_CONFIG_H
#define KATA_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "agent_proto.h"
#include "error.h"

enum kata_accelerator { KATA_ACCEL_AUTO = 0, KATA_ACCEL_KVM, KATA_ACCEL_TCG };
enum kata_shared_fs { KATA_SHARED_FS_9P = 0, KATA_SHARED_FS_VIRTIO_FS };
/* The guest agent's wire dialect: this project's agent (kata), or a foreign one kept
 * from runV (hyperstart) or Clear Containers (cc). docs/dialects.md. */
enum kata_agent_dialect { KATA_DIALECT_KATA = 0, KATA_DIALECT_HYPERSTART, KATA_DIALECT_CC };

/* Built-in defaults, the same as the shipped configuration.toml (docs/configuration.md). */
#define KATA_DEFAULT_HYPERVISOR_PATH "/usr/bin/qemu-system-x86_64"
/* machine_type left out: microvm for [hypervisor.qemu] (fastest boot under TCG), q35 where
 * microvm cannot serve: the libvirt backend (libvirt 9.0 has no microvm) and virtio-fs
 * (kata_machine_type()). */
#define KATA_DEFAULT_MACHINE_TYPE   "microvm"
#define KATA_FALLBACK_MACHINE_TYPE  "q35"
#define KATA_DEFAULT_VCPUS          1
#define KATA_DEFAULT_MEMORY_MIB     256
#define KATA_MIN_MEMORY_MIB         64
#define KATA_DEFAULT_MEMORY_SLOTS   10
#define KATA_MAX_MEMORY_SLOTS       256
#define KATA_DEFAULT_BRIDGES        1
#define KATA_MAX_BRIDGES            5
#define KATA_MAX_VCPUS              240 /* qemu's limit for q35 and pc on x86_64 */
#define KATA_DEFAULT_MSIZE_9P       AGENT_MSIZE_9P_DEFAULT
#define KATA_DEFAULT_VIRTIOFSD      "/usr/lib/qemu/virtiofsd"
#define KATA_DEFAULT_ENTROPY_SOURCE "/dev/urandom"
#define KATA_DEFAULT_TCG_TB_SIZE    64 /* MiB: docs/performance.md, "Memory" */
#define KATA_DEFAULT_LIBVIRT_URI    "qemu:///system"
/* under the default --root, as SANDBOX_BASE_DIR: a name no container id can have */
#define KATA_DEFAULT_TEMPLATE_PATH "/run/kata-containers/.template"
#define KATA_KERNEL_NAME           "vmlinux"
#define KATA_INITRD_NAME           "kata-initrd.img"

struct kata_hypervisor_config {
	char *name;                    /* "qemu" or "libvirt": the [hypervisor.NAME] table */
	char *path;                    /* qemu binary */
	char **valid_hypervisor_paths; /* NULL-terminated; empty: any path */
	char *kernel;
	char *initrd;
	char *machine_type;  /* q35, pc, microvm; "" when not set: kata_machine_type() */
	char *kernel_params; /* appended to the defaults */
	char *machine_accelerators;
	char *cpu_features;
	enum kata_accelerator accelerator;
	uint32_t default_vcpus;
	uint32_t default_maxvcpus;
	uint32_t default_memory; /* MiB */
	uint32_t memory_slots;
	uint32_t default_bridges;
	enum kata_shared_fs shared_fs;
	char *virtio_fs_daemon;
	char **virtio_fs_extra_args;
	char *virtio_fs_cache; /* none, auto, always */
	uint32_t virtio_fs_cache_size;
	uint32_t msize_9p;
	char *entropy_source;
	uint32_t tcg_tb_size;            /* MiB of qemu's TCG translation cache; 0: qemu's own */
	bool reclaim_guest_freed_memory; /* virtio-balloon free page reporting */
	char *block_device_driver;       /* validated; no block devices yet */
	bool disable_block_device_use;
	bool enable_iothreads;
	bool enable_hugepages;
	bool enable_mem_prealloc;
	char *guest_hook_path; /* in the guest; "" when none */
	bool enable_debug;
	bool disable_nesting_checks;
	char *uri; /* libvirt only: connection URI */
};

/* type: "kata" or "cc", the NAME of the [proxy.NAME] table ("kata" when absent). */
struct kata_proxy_config {
	char *type;
	char *path;
	bool enable_debug;
};

struct kata_shim_config {
	char *type;
	char *path;
	bool enable_debug;
	bool enable_tracing;
};

struct kata_agent_config {
	char *type;
	/* default: kata for [agent.kata], cc for [agent.cc] */
	enum kata_agent_dialect dialect;
	bool enable_debug;
	bool enable_tracing;
	char **kernel_modules; /* NULL-terminated, never NULL */
};

struct kata_runtime_config {
	bool enable_debug;
	bool enable_tracing;
	bool enable_pprof;
	char *internetworking_model; /* macvtap, tcfilter, bridged, none */
	bool disable_guest_seccomp;
	bool disable_new_netns;
	bool sandbox_cgroup_only;
	char **experimental; /* NULL-terminated, never NULL */
};

/* [factory]: VM templating (docs/templating.md). */
struct kata_factory_config {
	bool enable_template; /* sandboxes start from a saved, paused VM */
	char *template_path;  /* the template's directory (guest RAM and device state) */
};

struct kata_config {
	char *path; /* the file it was read from */
	struct kata_hypervisor_config hypervisor;
	struct kata_proxy_config proxy;
	struct kata_shim_config shim;
	struct kata_agent_config agent;
	struct kata_runtime_config runtime;
	struct kata_factory_config factory;
};

/* Reads and validates a configuration file. */
struct kata_config *kata_config_load(const char *path, kata_error_t *err);
/* Parses a configuration from memory; path only names it in errors. */
struct kata_config *kata_config_parse(const char *path, const char *text, size_t len,
                                      kata_error_t *err);
/* The file to use: explicit (--kata-config) if given, then $KATA_CONF_FILE, then the
 * system paths in order. Returns a newly allocated path, or NULL with *err set. */
char *kata_config_find(const char *explicit_path, const char *const *default_paths,
                       kata_error_t *err);
void kata_config_free(struct kata_config *config);
#define cleanup_config __attribute__((cleanup(kata_config_freep)))
void kata_config_freep(struct kata_config **config);

const char *kata_accelerator_name(enum kata_accelerator accel);
/* The machine type VMs get: machine_type when set, else the backend's default
 * (KATA_DEFAULT_MACHINE_TYPE, or KATA_FALLBACK_MACHINE_TYPE for libvirt and virtio-fs). */
const char *kata_machine_type(const struct kata_hypervisor_config *h);
const char *kata_shared_fs_name(enum kata_shared_fs fs);
const char *kata_agent_dialect_name(enum kata_agent_dialect dialect);
/* What the guest kernel's command line gets from [agent.*]: `agent.log=debug` with
 * enable_debug (the agent's debug records on the console, as Kata 1.x), else NULL. */
const char *kata_agent_kernel_params(const struct kata_agent_config *agent);

#endif

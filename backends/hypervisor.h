/* The hypervisor abstraction: one table of operations per backend (qemu, libvirt; the tests
 * add a fake, tests/fakes/fake_hypervisor.h), picked by name at run time (docs/hypervisor.md).
 *
 * The runtime is short-lived: one process creates and starts a sandbox's VM, another
 * pauses it, a third stops it. So a backend keeps nothing in memory that it cannot write
 * out: save() returns a json-c object the runtime stores with the sandbox's state, and
 * restore() rebuilds the handle from it in a later process.
 *
 * Every operation takes a `flags` argument (HYPERVISOR_FLAG_*; unknown bits are refused)
 * and follows the error contract of lib/error.h.
 */
#ifndef KATA_HYPERVISOR_H
#define KATA_HYPERVISOR_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <json-c/json.h>

#include "config.h"
#include "error.h"

enum hypervisor_state {
	HYPERVISOR_STATE_CREATED = 0, /* prepared (directory, command line), not booted */
	HYPERVISOR_STATE_RUNNING,
	HYPERVISOR_STATE_PAUSED,
	HYPERVISOR_STATE_STOPPED, /* stopped through stop(), or the guest powered off */
	HYPERVISOR_STATE_CRASHED, /* the VM process died without being asked to */
};

/* The two virtio-serial ports of the agent, named as in hyperstart. */
enum hypervisor_channel {
	HYPERVISOR_CHANNEL_CTL = 0, /* sh.hyper.channel.0: control */
	HYPERVISOR_CHANNEL_IO = 1,  /* sh.hyper.channel.1: I/O streams */
};
#define HYPERVISOR_CHANNEL_COUNT    2
#define HYPERVISOR_CHANNEL_NAME_CTL "sh.hyper.channel.0"
#define HYPERVISOR_CHANNEL_NAME_IO  "sh.hyper.channel.1"
/* The 9p / virtio-fs tag of the sandbox's shared directory. */
#define HYPERVISOR_SHARE_TAG "kataShared"

/* stop(): skip the graceful request and kill at once. cleanup(): stop first if needed. */
#define HYPERVISOR_FLAG_FORCE (1u << 0)
#define HYPERVISOR_FLAGS_ALL  HYPERVISOR_FLAG_FORCE

/* A network card of the VM: a tap the runtime opened (in the container's network
 * namespace, docs/network.md), given to the guest as a virtio-net device. */
struct hypervisor_nic {
	int tap_fd;   /* open; the backend hands a copy to the VM, the caller closes its own */
	char mac[18]; /* the guest NIC's, "02:42:ac:11:00:02" */
	uint32_t mtu;
};

/* What the runtime asks for when it creates a sandbox's VM. */
struct hypervisor_sandbox_params {
	const char *id;  /* sandbox id: names the VM */
	const char *dir; /* the backend's directory for this sandbox (sockets, logs); created if
	                    missing, removed by cleanup() when it created it and it is empty */
	const char *shared_dir; /* host directory exported as kataShared; NULL: none */
	uint32_t vcpus;         /* 0: the configuration's default_vcpus */
	uint32_t memory_mib;    /* 0: the configuration's default_memory */
	bool debug;             /* console log file, no `quiet` */
	/* Reserve CPU and memory hotplug capacity (the configuration's default_maxvcpus and
	 * memory_slots) for grow(). The headroom costs boot time under TCG
	 * (docs/performance.md): the runtime asks for it for a pod's sandbox only. */
	bool hotplug;
	const char *kernel_params; /* appended after the configuration's; NULL: none */
	/* Network cards, in order (eth0 first); their fds must stay open until start(). */
	const struct hypervisor_nic *nics;
	size_t n_nics;
};

/* A running VM's size (grow()). */
struct hypervisor_size {
	uint32_t vcpus;
	uint32_t memory_mib;
};

struct hypervisor;

/* kata-check's verdicts on one thing it looked at. */
enum hypervisor_check_status {
	HYPERVISOR_CHECK_OK = 0,
	HYPERVISOR_CHECK_INFO,
	HYPERVISOR_CHECK_WARN,
	HYPERVISOR_CHECK_FAIL, /* no VM can run */
};
/* Receives one finding of check(): what was looked at, and what was found (one line). */
typedef void (*hypervisor_check_report_fn)(void *opaque, enum hypervisor_check_status status,
                                           const char *what, const char *detail);

struct hypervisor_ops {
	const char *name;
	/* Prepares the sandbox (directory, socket paths, command line); boots nothing. */
	int (*create)(struct hypervisor *hv, const struct hypervisor_sandbox_params *params,
	              unsigned int flags, kata_error_t *err);
	/* Boots; returns once the VM runs and its monitor answers. */
	int (*start)(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
	/* Graceful then forced; returns once the VM process is gone. Stopping a VM that is
	 * already gone succeeds. */
	int (*stop)(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
	int (*pause)(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
	int (*resume)(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
	int (*state)(struct hypervisor *hv, enum hypervisor_state *state, unsigned int flags,
	             kata_error_t *err);
	/* Removes everything create/start made (processes, sockets, directory), in any state;
	 * calling it twice is harmless. */
	int (*cleanup)(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
	pid_t (*pid)(struct hypervisor *hv); /* the VM process, or -1 */
	/* A daemon the VM cannot run without (virtiofsd), which the backend started: its pid
	 * and start time (clock ticks), false when there is none. NULL: never one. */
	bool (*companion)(struct hypervisor *hv, pid_t *pid, uint64_t *start_time);
	const char *(*channel_path)(struct hypervisor *hv, enum hypervisor_channel channel);
	const char *(*console_path)(struct hypervisor *hv);     /* unix socket; NULL if none */
	const char *(*console_log_path)(struct hypervisor *hv); /* file; NULL unless debug */
	/* Hot-plugs a NIC into the running VM as NIC number index (PCI hot-plug on q35/pc,
	 * docs/network.md); the VM keeps its own copy of the fd. NULL: the backend cannot. */
	int (*hotplug_nic)(struct hypervisor *hv, const struct hypervisor_nic *nic,
	                   unsigned int index, unsigned int flags, kata_error_t *err);
	json_object *(*save)(struct hypervisor *hv);
	int (*restore)(struct hypervisor *hv, json_object *saved, unsigned int flags,
	               kata_error_t *err);
	void (*free_priv)(struct hypervisor *hv);
	/* Hot-plugs vcpus vCPUs and memory_mib MiB into the running VM (created with hotplug);
	 * all or nothing: a refusal (no free CPU or memory slot) changes nothing. *size: the
	 * VM's size after. NULL: the backend cannot. */
	int (*grow)(struct hypervisor *hv, uint32_t vcpus, uint32_t memory_mib,
	            struct hypervisor_size *size, unsigned int flags, kata_error_t *err);
	/* kata-check: what this backend needs of the host beyond what every backend needs (the
	 * qemu binary, the guest assets, the accelerator), each finding handed to report; needs
	 * no sandbox. A failed check is a finding, not an error. NULL: nothing of its own. */
	int (*check)(struct hypervisor *hv, hypervisor_check_report_fn report, void *opaque,
	             unsigned int flags, kata_error_t *err);
};

/* A handle on one sandbox's VM. */
struct hypervisor {
	const struct hypervisor_ops *ops;
	const struct kata_config *config; /* borrowed; must outlive the handle */
	void *priv;                       /* the backend's own state */
};

/* The registry. Built in: "qemu", "libvirt"; others only once registered. */
const struct hypervisor_ops *hypervisor_find_ops(const char *name);
/* Registers a backend (e.g. libvirt from its own file); a later one with the same name wins. */
void hypervisor_register(const struct hypervisor_ops *ops);
/* The backend named by name, or by config->hypervisor.name when name is NULL. */
struct hypervisor *hypervisor_new(const char *name, const struct kata_config *config,
                                  kata_error_t *err);
void hypervisor_free(struct hypervisor *hv);
#define cleanup_hypervisor __attribute__((cleanup(hypervisor_freep)))
void hypervisor_freep(struct hypervisor **hv);

/* Wrappers that check flags and add the backend's name to errors. */
int hypervisor_create(struct hypervisor *hv, const struct hypervisor_sandbox_params *params,
                      unsigned int flags, kata_error_t *err);
int hypervisor_start(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
int hypervisor_stop(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
int hypervisor_pause(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
int hypervisor_resume(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
int hypervisor_get_state(struct hypervisor *hv, enum hypervisor_state *state, unsigned int flags,
                         kata_error_t *err);
int hypervisor_cleanup(struct hypervisor *hv, unsigned int flags, kata_error_t *err);
int hypervisor_hotplug_nic(struct hypervisor *hv, const struct hypervisor_nic *nic,
                           unsigned int index, unsigned int flags, kata_error_t *err);
pid_t hypervisor_pid(struct hypervisor *hv);
/* ENOTSUP, naming the backend, when it cannot hot-plug. */
int hypervisor_grow(struct hypervisor *hv, uint32_t vcpus, uint32_t memory_mib,
                    struct hypervisor_size *size, unsigned int flags, kata_error_t *err);
bool hypervisor_companion(struct hypervisor *hv, pid_t *pid, uint64_t *start_time);
const char *hypervisor_channel_path(struct hypervisor *hv, enum hypervisor_channel channel);
const char *hypervisor_console_path(struct hypervisor *hv);
const char *hypervisor_console_log_path(struct hypervisor *hv);
/* {"backend": NAME, "state": {backend's own}}; NULL only if the backend has nothing. */
json_object *hypervisor_save(struct hypervisor *hv);
/* Rebuilds a handle from what hypervisor_save() returned (the backend is read from it). */
struct hypervisor *hypervisor_restore(const struct kata_config *config, json_object *saved,
                                      kata_error_t *err);

const char *hypervisor_state_name(enum hypervisor_state state);

/* The backend's own part of kata-check (see check in hypervisor_ops); 0 when it has none. */
int hypervisor_check(struct hypervisor *hv, hypervisor_check_report_fn report, void *opaque,
                     unsigned int flags, kata_error_t *err);

/* VM templating, Kata's factory (docs/templating.md); qemu only. create() makes the
 * template anew, destroy() removes it, status() describes it:
 * {"path", "status": ready|absent|stale|damaged, "reason", "memory_bytes", "state_bytes"}. */
int hypervisor_template_create(const struct kata_config *config, kata_error_t *err);
int hypervisor_template_destroy(const struct kata_config *config, kata_error_t *err);
json_object *hypervisor_template_status(const struct kata_config *config, kata_error_t *err);

/* Decides between KVM and TCG for `accelerator = "auto"` and kata-check: boots the configured
 * guest kernel under KVM once with a deadline and remembers the answer for this host kernel
 * and guest kernel. *reason (allocated) says why. */
int hypervisor_probe_accelerator(const struct kata_config *config, enum kata_accelerator *result,
                                 char **reason, kata_error_t *err);

#endif

/* Facts about this host and the configured components, for kata-env and kata-check:
 * kernel, CPUs, memory, devices, cgroup layout, and the versions programs report. */
#ifndef KATA_CLI_HOST_FACTS_H
#define KATA_CLI_HOST_FACTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "error.h"

struct host_facts {
	char *kernel_release;
	char *architecture;
	char *distro_name;
	char *distro_version;
	char *cpu_vendor;
	char *cpu_model;
	unsigned int cpus;
	uint64_t memory_mib;
	bool kvm;         /* /dev/kvm exists */
	bool vhost_vsock; /* /dev/vhost-vsock exists */
	bool vhost_net;
	bool tun;
	const char *cgroups; /* "v1", "v2", "hybrid" or "unknown" */
};

void host_facts_collect(struct host_facts *facts);
void host_facts_release(struct host_facts *facts);

/* Runs argv (argv[0] an absolute path) with stdin from /dev/null, stdout and stderr into
 * one bounded buffer, and kills it after timeout_ms. Returns the output (NUL-terminated)
 * and its wait status, or NULL with *err set when it could not run or timed out. */
char *host_run_capture(char *const argv[], int timeout_ms, size_t max_output, int *status,
                       kata_error_t *err);

/* The first line of `path --version` when it exits 0 within a few seconds, else NULL. */
char *host_program_version(const char *path);

/* The "Linux version ..." banner of a kernel image (bzImage or vmlinux), else NULL. */
char *host_kernel_image_version(const char *path);

/* Whether path is an executable regular file; *why (static text) says why not. */
bool host_is_executable(const char *path, const char **why);
/* Whether path is a readable regular file; *why says why not. */
bool host_is_readable_file(const char *path, const char **why);

#endif

/* The libvirt domain XML of a sandbox (docs/libvirt.md). Written with libxml2's
 * xmlTextWriter, so every value is escaped by a real XML writer. Pure: no host state except
 * what the plan carries, so tests can parse it back and check it element by element. */
#ifndef KATA_LIBVIRT_XML_H
#define KATA_LIBVIRT_XML_H

#include <stdbool.h>
#include <stdint.h>

#include "config.h"
#include "error.h"

/* libvirt's own limit on a UUID string (36 characters and the NUL). */
#define LIBVIRT_UUID_STRING_LEN 37

/* What the domain is made of; paths are the sandbox's files. */
struct libvirt_plan {
	const char *name;                  /* the domain's name */
	const char *uuid;                  /* 36-character string */
	const char *shared_dir;            /* NULL: no share */
	enum kata_accelerator accelerator; /* resolved: KVM or TCG */
	uint32_t vcpus, maxvcpus, memory_mib;
	bool debug;
	const char *extra_kernel_params; /* the sandbox's, after the configuration's */
	const char *channel_paths[2];
	const char *console_path;     /* unix socket */
	const char *console_log_path; /* NULL: none */
	uint32_t nic_ports; /* q35: empty pcie-root-ports for NICs hot-plugged after start */
};

/* The domain XML (allocated), or NULL with *err (unsupported machine type, no kernel,
 * unresolved accelerator, a path outside valid_hypervisor_paths...). */
char *libvirt_domain_xml(const struct kata_hypervisor_config *hc, const struct libvirt_plan *plan,
                         kata_error_t *err);

/* qemu's id of the hot-plug port of NIC index: libvirt's "pci.INDEX" of the controller. */
void libvirt_nic_port_alias(unsigned index, char out[40]);

#endif

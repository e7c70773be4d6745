/* Writing a sandbox's libvirt domain XML (see libvirt_xml.h and docs/libvirt.md). The guest
 * gets the same devices as from the qemu backend, so the same guest image boots. */
#include "libvirt_xml.h"
#include "nic_hotplug.h"
#include "libvirt_dl.h"
#include "machine.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cleanup.h"
#include "hypervisor.h"

/* Values go into an XML document: it must stay well-formed whatever they hold. The writer
 * escapes markup, but characters XML 1.0 cannot carry at all (control characters other than
 * tab and newlines, invalid UTF-8) would make it malformed, so they are refused. */
static int check_value(const char *what, const char *value, kata_error_t *err)
{
	if (!virt_dl.xmlCheckUTF8((const xmlChar *)value))
		return kata_error_set(err, EINVAL, "%s is not valid UTF-8", what);
	for (const unsigned char *s = (const unsigned char *)value; *s; s++)
		if (*s < 0x20 && *s != '\t' && *s != '\n' && *s != '\r')
			return kata_error_set(err, EINVAL, "%s holds control character 0x%02x",
			                      what, *s);
	return 0;
}

struct writer {
	xmlTextWriterPtr w;
	int failed; /* a libxml2 call failed: the document is incomplete */
};

static void start(struct writer *x, const char *name)
{
	if (virt_dl.xmlTextWriterStartElement(x->w, BAD_CAST name) < 0)
		x->failed = 1;
}

static void end(struct writer *x)
{
	if (virt_dl.xmlTextWriterEndElement(x->w) < 0)
		x->failed = 1;
}

static void attr(struct writer *x, const char *name, const char *value)
{
	if (virt_dl.xmlTextWriterWriteAttribute(x->w, BAD_CAST name, BAD_CAST value) < 0)
		x->failed = 1;
}

static void __attribute__((format(printf, 3, 4)))
attrf(struct writer *x, const char *name, const char *fmt, ...)
{
	va_list ap;
	cleanup_free char *value = NULL;

	va_start(ap, fmt);
	if (vasprintf(&value, fmt, ap) < 0)
		abort();
	va_end(ap);
	attr(x, name, value);
}

static void text(struct writer *x, const char *value)
{
	if (virt_dl.xmlTextWriterWriteString(x->w, BAD_CAST value) < 0)
		x->failed = 1;
}

/* <name>value</name> */
static void element(struct writer *x, const char *name, const char *value)
{
	start(x, name);
	text(x, value);
	end(x);
}

/* <name attr="value"/> */
static void empty_with(struct writer *x, const char *name, const char *key, const char *value)
{
	start(x, name);
	attr(x, key, value);
	end(x);
}

/* q35 with NICs to hot-plug: libvirt puts every PCI device it places by itself into a free
 * pcie-root-port, the empty ones made for the NICs included. So then each of the domain's own
 * devices gets a fixed slot on the root bus (an integrated endpoint, as the qemu backend's
 * q35 devices are) and the ports stay empty (write_nic_ports). */
enum root_slot {
	ROOT_SLOT_VIRTIO_SERIAL = 0x0a,
	ROOT_SLOT_FILESYSTEM = 0x0b,
	ROOT_SLOT_RNG = 0x0c,
	ROOT_SLOT_BALLOON = 0x0d,
};

static bool pins_devices(const struct kata_hypervisor_config *hc, const struct libvirt_plan *plan)
{
	return plan->nic_ports > 0 && strcmp(kata_machine_type(hc), "q35") == 0;
}

static void write_root_address(struct writer *x, const struct kata_hypervisor_config *hc,
                               const struct libvirt_plan *plan, enum root_slot slot)
{
	if (!pins_devices(hc, plan))
		return;
	start(x, "address");
	attr(x, "type", "pci");
	attr(x, "domain", "0x0000");
	attr(x, "bus", "0x00");
	attrf(x, "slot", "0x%02x", (unsigned)slot);
	attr(x, "function", "0x0");
	end(x);
}

/* The controller of the agent's ports and the console, which libvirt adds by itself unless
 * it must have a fixed slot. */
static void write_virtio_serial(struct writer *x, const struct kata_hypervisor_config *hc,
                                const struct libvirt_plan *plan)
{
	if (!pins_devices(hc, plan))
		return;
	start(x, "controller");
	attr(x, "type", "virtio-serial");
	attr(x, "index", "0");
	write_root_address(x, hc, plan, ROOT_SLOT_VIRTIO_SERIAL);
	end(x);
}

/* A virtio-serial port on a listening unix socket (the guest's /dev/vportNpM). */
static void write_channel(struct writer *x, const char *path, const char *name)
{
	start(x, "channel");
	attr(x, "type", "unix");
	start(x, "source");
	attr(x, "mode", "bind");
	attr(x, "path", path);
	end(x);
	start(x, "target");
	attr(x, "type", "virtio");
	attr(x, "name", name);
	end(x);
	end(x);
}

/* virtconsole (guest hvc0) on a unix socket; its output logged to a file in debug mode. */
static void write_console(struct writer *x, const struct libvirt_plan *plan)
{
	start(x, "console");
	attr(x, "type", "unix");
	start(x, "source");
	attr(x, "mode", "bind");
	attr(x, "path", plan->console_path);
	end(x);
	if (plan->console_log_path != NULL) {
		start(x, "log");
		attr(x, "file", plan->console_log_path);
		attr(x, "append", "off");
		end(x);
	}
	empty_with(x, "target", "type", "virtio");
	end(x);
}

static void write_shared_fs(struct writer *x, const struct kata_hypervisor_config *hc,
                            const struct libvirt_plan *plan)
{
	if (plan->shared_dir == NULL)
		return;
	start(x, "filesystem");
	attr(x, "type", "mount");
	if (hc->shared_fs == KATA_SHARED_FS_VIRTIO_FS) {
		const char *daemon = hc->virtio_fs_daemon != NULL && hc->virtio_fs_daemon[0]
		                             ? hc->virtio_fs_daemon
		                             : KATA_DEFAULT_VIRTIOFSD;

		attr(x, "accessmode", "passthrough");
		start(x, "driver");
		attr(x, "type", "virtiofs");
		attr(x, "queue", "1024");
		end(x);
		/* libvirt starts (and stops) virtiofsd itself. */
		start(x, "binary");
		attr(x, "path", daemon);
		if (hc->virtio_fs_cache != NULL && hc->virtio_fs_cache[0])
			empty_with(x, "cache", "mode", hc->virtio_fs_cache);
		end(x);
	} else {
		/* squash: qemu's security_model=none, as the qemu backend; remap: the share
		 * holds bind mounts from several host filesystems. */
		attr(x, "accessmode", "squash");
		attr(x, "multidevs", "remap");
		empty_with(x, "driver", "type", "path");
	}
	empty_with(x, "source", "dir", plan->shared_dir);
	empty_with(x, "target", "dir", "kataShared");
	write_root_address(x, hc, plan, ROOT_SLOT_FILESYSTEM);
	end(x);
}

static void write_rng(struct writer *x, const struct kata_hypervisor_config *hc,
                      const struct libvirt_plan *plan)
{
	const char *source = hc->entropy_source != NULL && hc->entropy_source[0]
	                             ? hc->entropy_source
	                             : KATA_DEFAULT_ENTROPY_SOURCE;

	start(x, "rng");
	attr(x, "model", "virtio");
	start(x, "backend");
	attr(x, "model", "random");
	text(x, source);
	end(x);
	write_root_address(x, hc, plan, ROOT_SLOT_RNG);
	end(x);
}

/* Free page reporting: the memory the guest frees goes back to the host. libvirt adds a
 * balloon by itself unless told "none". */
static void write_balloon(struct writer *x, const struct kata_hypervisor_config *hc,
                          const struct libvirt_plan *plan)
{
	start(x, "memballoon");
	if (hc->reclaim_guest_freed_memory) {
		attr(x, "model", "virtio");
		attr(x, "freePageReporting", "on");
		write_root_address(x, hc, plan, ROOT_SLOT_BALLOON);
	} else {
		attr(x, "model", "none");
	}
	end(x);
}

static void write_os(struct writer *x, const struct kata_hypervisor_config *hc, const char *params)
{
	start(x, "os");
	start(x, "type");
	attr(x, "arch", "x86_64");
	attr(x, "machine", kata_machine_type(hc));
	text(x, "hvm");
	end(x);
	element(x, "kernel", hc->kernel);
	if (hc->initrd != NULL && hc->initrd[0])
		element(x, "initrd", hc->initrd);
	element(x, "cmdline", params);
	end(x);
}

static void write_cpu_memory(struct writer *x, const struct kata_hypervisor_config *hc,
                             const struct libvirt_plan *plan)
{
	bool virtio_fs = plan->shared_dir != NULL && hc->shared_fs == KATA_SHARED_FS_VIRTIO_FS;
	uint32_t maxvcpus = plan->maxvcpus > plan->vcpus ? plan->maxvcpus : plan->vcpus;
	char buf[16];

	start(x, "memory");
	attr(x, "unit", "MiB");
	snprintf(buf, sizeof(buf), "%u", plan->memory_mib);
	text(x, buf);
	end(x);
	/* vhost-user: the guest's RAM in a shared memfd that virtiofsd can map. */
	if (virtio_fs) {
		start(x, "memoryBacking");
		empty_with(x, "source", "type", "memfd");
		empty_with(x, "access", "mode", "shared");
		end(x);
	}
	start(x, "vcpu");
	attrf(x, "current", "%u", plan->vcpus);
	snprintf(buf, sizeof(buf), "%u", maxvcpus);
	text(x, buf);
	end(x);
	if (plan->accelerator == KATA_ACCEL_KVM)
		empty_with(x, "cpu", "mode", "host-passthrough");
}

void libvirt_nic_port_alias(unsigned index, char out[40])
{
	snprintf(out, 40, "pci.%u", index + 1);
}

/* One empty pcie-root-port per NIC that start() hot-plugs (q35's root bus takes none), at
 * indexes 1..N: libvirt names a PCI controller "pci.INDEX" in qemu, and the domain's own
 * devices are on the root bus (write_root_address), so nothing else takes these ports; pc
 * hot-plugs into its root bus. */
static void write_nic_ports(struct writer *x, const struct kata_hypervisor_config *hc,
                            const struct libvirt_plan *plan)
{
	if (strcmp(kata_machine_type(hc), "q35") != 0)
		return;
	for (uint32_t i = 0; i < plan->nic_ports; i++) {
		start(x, "controller");
		attr(x, "type", "pci");
		attrf(x, "index", "%u", i + 1);
		attr(x, "model", "pcie-root-port");
		end(x);
	}
}

static void write_domain(struct writer *x, const struct kata_hypervisor_config *hc,
                         const struct libvirt_plan *plan, const char *emulator, const char *params)
{
	start(x, "domain");
	attr(x, "type", plan->accelerator == KATA_ACCEL_KVM ? "kvm" : "qemu");
	element(x, "name", plan->name);
	element(x, "uuid", plan->uuid);
	write_cpu_memory(x, hc, plan);
	write_os(x, hc, params);
	/* ACPI: without it q35/pc bring up only one vCPU (GUEST-BOOT.md). */
	start(x, "features");
	start(x, "acpi");
	end(x);
	/* TCG: a bounded translation cache (tcg_tb_size, as the qemu backend's -accel). */
	if (plan->accelerator == KATA_ACCEL_TCG && hc->tcg_tb_size > 0) {
		char size[16];

		snprintf(size, sizeof(size), "%u", hc->tcg_tb_size);
		start(x, "tcg");
		start(x, "tb-cache");
		attr(x, "unit", "MiB");
		text(x, size);
		end(x);
		end(x);
	}
	end(x);
	/* Like qemu's -no-reboot: the agent powers off to stop, a panic (panic=1) reboots;
	 * either ends the VM. */
	element(x, "on_poweroff", "destroy");
	element(x, "on_reboot", "destroy");
	element(x, "on_crash", "destroy");
	start(x, "devices");
	element(x, "emulator", emulator);
	write_virtio_serial(x, hc, plan);
	write_channel(x, plan->channel_paths[0], HYPERVISOR_CHANNEL_NAME_CTL);
	write_channel(x, plan->channel_paths[1], HYPERVISOR_CHANNEL_NAME_IO);
	write_console(x, plan);
	write_shared_fs(x, hc, plan);
	write_rng(x, hc, plan);
	/* Only the devices above (and the balloon below): no USB controller, graphics or NIC. */
	start(x, "controller");
	attr(x, "type", "usb");
	attr(x, "model", "none");
	end(x);
	write_balloon(x, hc, plan);
	write_nic_ports(x, hc, plan);
	end(x); /* devices */
	/* qemu runs as root, as the qemu backend's does, whatever user qemu.conf names:
	 * the 9p share must keep the host's ownership. Nothing is relabelled. */
	start(x, "seclabel");
	attr(x, "type", "static");
	attr(x, "model", "dac");
	attr(x, "relabel", "no");
	element(x, "label", "+0:+0");
	end(x);
	end(x); /* domain */
}

static int check_plan(const struct kata_hypervisor_config *hc, const struct libvirt_plan *plan,
                      kata_error_t *err)
{
	const char *machine = kata_machine_type(hc);
	struct {
		const char *what, *value;
	} values[] = {
		{ "the domain name", plan->name },
		{ "the uuid", plan->uuid },
		{ "the shared directory", plan->shared_dir },
		{ "the control channel path", plan->channel_paths[0] },
		{ "the I/O channel path", plan->channel_paths[1] },
		{ "the console path", plan->console_path },
		{ "the console log path", plan->console_log_path },
		{ "the kernel", hc->kernel },
		{ "the initrd", hc->initrd },
		{ "the entropy source", hc->entropy_source },
		{ "the virtio-fs daemon", hc->virtio_fs_daemon },
		{ "virtio_fs_cache", hc->virtio_fs_cache },
	};

	/* libvirt 9.0 has no microvm machine. */
	if (strcmp(machine, "q35") != 0 && strcmp(machine, "pc") != 0)
		return kata_error_set(err, EINVAL,
		                      "machine_type '%s': the libvirt backend supports q35 and pc",
		                      machine);
	if (hc->kernel == NULL || hc->kernel[0] == '\0')
		return kata_error_set(err, EINVAL, "no guest kernel configured");
	if (plan->accelerator != KATA_ACCEL_KVM && plan->accelerator != KATA_ACCEL_TCG)
		return kata_error_set(err, EINVAL, "accelerator not resolved to kvm or tcg");
	if (plan->nic_ports > NIC_HOTPLUG_MAX)
		return kata_error_set(err, EINVAL, "%u NICs: at most %d", plan->nic_ports,
		                      NIC_HOTPLUG_MAX);
	if (plan->vcpus == 0 || plan->memory_mib == 0)
		return kata_error_set(err, EINVAL, "vcpus and memory must not be 0");
	if (plan->name == NULL || plan->uuid == NULL || plan->channel_paths[0] == NULL ||
	    plan->channel_paths[1] == NULL || plan->console_path == NULL)
		return kata_error_set(err, EINVAL, "domain name, uuid and socket paths needed");
	for (size_t i = 0; i < sizeof(values) / sizeof(values[0]); i++)
		if (values[i].value != NULL &&
		    check_value(values[i].what, values[i].value, err) < 0)
			return -1;
	return 0;
}

char *libvirt_domain_xml(const struct kata_hypervisor_config *hc, const struct libvirt_plan *plan,
                         kata_error_t *err)
{
	struct machine_kernel_plan kernel_plan = {
		.shared_dir = plan->shared_dir,
		.debug = plan->debug,
		.extra_kernel_params = plan->extra_kernel_params,
	};
	cleanup_free char *emulator = NULL;
	cleanup_free char *params = NULL;
	struct writer x = { 0 };
	xmlBufferPtr buf;
	char *xml = NULL;

	if (libvirt_dl_load(err) < 0 || check_plan(hc, plan, err) < 0)
		return NULL;
	emulator = machine_qemu_binary(hc, err);
	if (emulator == NULL)
		return NULL;
	/* The same kernel command line as the qemu backend's, console on hvc0. */
	params = machine_kernel_params(hc, &kernel_plan);
	if (check_value("the kernel parameters", params, err) < 0 ||
	    check_value("the emulator", emulator, err) < 0)
		return NULL;

	buf = virt_dl.xmlBufferCreate();
	if (buf == NULL)
		abort();
	x.w = virt_dl.xmlNewTextWriterMemory(buf, 0);
	if (x.w == NULL)
		abort();
	virt_dl.xmlTextWriterSetIndent(x.w, 1);
	virt_dl.xmlTextWriterSetIndentString(x.w, BAD_CAST "  ");
	write_domain(&x, hc, plan, emulator, params);
	if (virt_dl.xmlTextWriterEndDocument(x.w) < 0)
		x.failed = 1;
	virt_dl.xmlFreeTextWriter(x.w); /* flushes into buf */
	if (x.failed)
		kata_error_set(err, EIO, "writing the domain XML failed");
	else
		xml = xstrdup((const char *)virt_dl.xmlBufferContent(buf));
	virt_dl.xmlBufferFree(buf);
	return xml;
}

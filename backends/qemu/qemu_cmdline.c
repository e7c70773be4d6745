/* Building qemu's argv (see qemu_cmdline.h and docs/hypervisor.md). */
#include "qemu_cmdline.h"
#include "nic_hotplug.h"
#include "machine.h"
#include "strv_builder.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "agent_proto.h"
#include "cleanup.h"

char *qemu_opt_escape(const char *value)
{
	size_t n = 0;
	char *out, *p;

	for (const char *s = value; *s; s++)
		n += *s == ',' ? 2 : 1;
	out = p = xmalloc(n + 1);
	for (const char *s = value; *s; s++) {
		*p++ = *s;
		if (*s == ',')
			*p++ = ',';
	}
	*p = '\0';
	return out;
}

static bool is_microvm(const struct kata_hypervisor_config *hc)
{
	return strcmp(kata_machine_type(hc), "microvm") == 0;
}

char *qemu_kernel_params(const struct kata_hypervisor_config *hc, const struct qemu_plan *plan)
{
	const struct machine_kernel_plan kernel = {
		.accelerator = plan->accelerator,
		.vcpus = plan->vcpus,
		.maxvcpus = plan->maxvcpus,
		.host_tsc_khz = plan->host_tsc_khz,
		.debug = plan->debug,
		.serial_console = plan->serial_console,
		.shared_dir = plan->shared_dir,
		.extra_kernel_params = plan->extra_kernel_params,
	};

	return machine_kernel_params(hc, &kernel);
}

static void add_machine(struct strv_builder *b, const struct kata_hypervisor_config *hc,
                        const struct qemu_plan *plan)
{
	bool microvm = is_microvm(hc);
	bool kvm = plan->accelerator == KATA_ACCEL_KVM;
	const char *extra = hc->machine_accelerators;
	const char *features = hc->cpu_features;
	bool hotplug = plan->memory_hotplug && hc->memory_slots > 0 && !microvm &&
	               plan->host_memory_mib > plan->memory_mib;

	strv_builder_add(b, "-machine");
	/* microvm: qemu lists its virtio-mmio devices on the kernel command line only without
	 * ACPI. A template and its clones have their RAM in a file (add_template_memory). */
	strv_builder_addf(b, "%s%s%s%s%s", kata_machine_type(hc), microvm ? ",acpi=off" : "",
	                  plan->template_mode != QEMU_TEMPLATE_NONE ? ",memory-backend=mem0" : "",
	                  extra != NULL && extra[0] ? "," : "", extra != NULL ? extra : "");
	/* -accel rather than -machine accel=, which cannot carry tb-size. TCG's translation
	 * cache is a 1 GiB mapping by default, and what a boot touches of it stays resident. */
	strv_builder_add(b, "-accel");
	if (kvm)
		strv_builder_add(b, "kvm");
	else if (hc->tcg_tb_size > 0)
		strv_builder_addf(b, "tcg,tb-size=%u", hc->tcg_tb_size);
	else
		strv_builder_add(b, "tcg");
	if (kvm || (features != NULL && features[0])) {
		strv_builder_add(b, "-cpu");
		strv_builder_addf(b, "%s%s%s", kvm ? "host" : "qemu64",
		                  features != NULL && features[0] ? "," : "",
		                  features != NULL ? features : "");
	}
	strv_builder_add(b, "-smp");
	strv_builder_addf(b, "%u,maxcpus=%u", plan->vcpus,
	                  plan->maxvcpus > plan->vcpus ? plan->maxvcpus : plan->vcpus);
	strv_builder_add(b, "-m");
	if (hotplug)
		strv_builder_addf(b, "%uM,slots=%u,maxmem=%lluM", plan->memory_mib,
		                  hc->memory_slots, (unsigned long long)plan->host_memory_mib);
	else
		strv_builder_addf(b, "%uM", plan->memory_mib);
}

/* PCI bridges with SHPC, for devices hot-plugged later (Kata's layout); microvm has no PCI. */
static void add_bridges(struct strv_builder *b, const struct kata_hypervisor_config *hc)
{
	const char *machine = kata_machine_type(hc);
	uint32_t n =
	        hc->default_bridges > KATA_MAX_BRIDGES ? KATA_MAX_BRIDGES : hc->default_bridges;

	if (is_microvm(hc))
		return;
	for (uint32_t i = 0; i < n; i++) {
		strv_builder_add(b, "-device");
		strv_builder_addf(b, "pci-bridge,bus=%s,id=pci-bridge-%u,chassis_nr=%u,shpc=on",
		                  strcmp(machine, "q35") == 0 ? "pcie.0" : "pci.0", i, i + 1);
	}
}

static void add_boot(struct strv_builder *b, const struct kata_hypervisor_config *hc,
                     const struct qemu_plan *plan)
{
	cleanup_free char *params = qemu_kernel_params(hc, plan);

	strv_builder_add(b, "-kernel");
	strv_builder_add(b, hc->kernel);
	if (hc->initrd != NULL && hc->initrd[0]) {
		strv_builder_add(b, "-initrd");
		strv_builder_add(b, hc->initrd);
	}
	strv_builder_add(b, "-append");
	strv_builder_add(b, params);
}

/* A listening unix socket that nobody needs to be connected to (wait=off). */
static void add_server_socket(struct strv_builder *b, const char *id, const char *path,
                              const char *log_path)
{
	cleanup_free char *escaped = qemu_opt_escape(path);
	cleanup_free char *log = log_path != NULL ? qemu_opt_escape(log_path) : NULL;

	strv_builder_add(b, "-chardev");
	strv_builder_addf(b, "socket,id=%s,path=%s,server=on,wait=off%s%s", id, escaped,
	                  log != NULL ? ",logfile=" : "", log != NULL ? log : "");
}

static void add_serial_devices(struct strv_builder *b, const struct kata_hypervisor_config *hc,
                               const struct qemu_plan *plan)
{
	bool microvm = is_microvm(hc);
	static const char *const names[2] = { "sh.hyper.channel.0", "sh.hyper.channel.1" };

	strv_builder_add(b, "-device");
	strv_builder_addf(b, "%s,id=serial0",
	                  microvm ? "virtio-serial-device" : "virtio-serial-pci");
	for (int i = 0; i < 2; i++) {
		cleanup_free char *id = xasprintf("channel%d", i);

		add_server_socket(b, id, plan->channel_paths[i], NULL);
		strv_builder_add(b, "-device");
		strv_builder_addf(b, "virtserialport,bus=serial0.0,chardev=%s,name=%s", id,
		                  names[i]);
	}
	if (plan->serial_console) {
		cleanup_free char *log = qemu_opt_escape(plan->console_log_path);

		strv_builder_add(b, "-chardev");
		strv_builder_addf(b, "file,id=console0,path=%s", log);
		strv_builder_add(b, "-serial");
		strv_builder_add(b, "chardev:console0");
	} else if (plan->console_path != NULL) {
		add_server_socket(b, "console0", plan->console_path, plan->console_log_path);
		strv_builder_add(b, "-device");
		strv_builder_add(b, "virtconsole,bus=serial0.0,chardev=console0");
	}
}

static void add_shared_fs(struct strv_builder *b, const struct kata_hypervisor_config *hc,
                          const struct qemu_plan *plan)
{
	bool microvm = is_microvm(hc);
	cleanup_free char *dir = NULL;

	if (plan->shared_dir == NULL)
		return;
	dir = qemu_opt_escape(plan->shared_dir);
	if (hc->shared_fs == KATA_SHARED_FS_VIRTIO_FS) {
		cleanup_free char *sock = qemu_opt_escape(plan->virtiofsd_socket);

		strv_builder_add(b, "-chardev");
		strv_builder_addf(b, "socket,id=virtiofs0,path=%s", sock);
		strv_builder_add(b, "-device");
		strv_builder_addf(b, "%s,chardev=virtiofs0,tag=kataShared,queue-size=1024",
		                  microvm ? "vhost-user-fs-device" : "vhost-user-fs-pci");
		/* vhost-user needs the guest memory in a shared, file-backed region. */
		strv_builder_add(b, "-object");
		strv_builder_addf(b, "memory-backend-memfd,id=mem0,size=%uM,share=on",
		                  plan->memory_mib);
		strv_builder_add(b, "-numa");
		strv_builder_add(b, "node,memdev=mem0");
		return;
	}
	strv_builder_add(b, "-fsdev");
	strv_builder_addf(b, "local,id=share0,path=%s,security_model=none,multidevs=remap", dir);
	strv_builder_add(b, "-device");
	strv_builder_addf(b, "%s,fsdev=share0,mount_tag=kataShared",
	                  microvm ? "virtio-9p-device" : "virtio-9p-pci");
}

static void add_rng(struct strv_builder *b, const struct kata_hypervisor_config *hc)
{
	const char *source = hc->entropy_source != NULL && hc->entropy_source[0]
	                             ? hc->entropy_source
	                             : QEMU_DEFAULT_ENTROPY;
	cleanup_free char *escaped = qemu_opt_escape(source);

	strv_builder_add(b, "-object");
	strv_builder_addf(b, "rng-random,id=rng0,filename=%s", escaped);
	strv_builder_add(b, "-device");
	strv_builder_addf(b, "%s,rng=rng0",
	                  is_microvm(hc) ? "virtio-rng-device" : "virtio-rng-pci");
}

/* Free page reporting: the guest reports the memory it frees (in 2 MiB blocks), and qemu
 * gives it back to the host. */
static void add_balloon(struct strv_builder *b, const struct kata_hypervisor_config *hc,
                        const struct qemu_plan *plan)
{
	/* Not with a template: qemu 7.2 gives reported pages back by punching holes in the
	 * memory-backend-file even when a clone maps it privately, which would zero the
	 * template under its other clones (docs/templating.md). */
	if (!hc->reclaim_guest_freed_memory || plan->template_mode != QEMU_TEMPLATE_NONE)
		return;
	strv_builder_add(b, "-device");
	strv_builder_addf(b, "%s,free-page-reporting=on",
	                  is_microvm(hc) ? "virtio-balloon-device" : "virtio-balloon-pci");
}

/* "02:42:ac:11:00:02": nothing qemu's option syntax could read otherwise. */
static bool mac_is_valid(const char *mac)
{
	for (int i = 0; i < 17; i++) {
		if (i % 3 == 2 ? mac[i] != ':' : !isxdigit((unsigned char)mac[i]))
			return false;
	}
	return mac[17] == '\0';
}

/* A template on microvm, which cannot hot-plug, and each of its clones have one NIC, net0,
 * with the standby MAC (lib/agent_proto.h): a clone's device set is the template's. A clone
 * backs it with the sandbox's one tap, or with a hub port that goes nowhere when the sandbox
 * has no network; the agent gives it the interface's MAC (docs/templating.md). */
bool qemu_template_has_nic(const struct kata_hypervisor_config *hc)
{
	return is_microvm(hc);
}

/* No guest announce: on resuming a migrated VM virtio-net asks its guest to announce itself,
 * which sends nothing from a NIC that is down but costs a clone ~600 blocks of guest code
 * to translate (docs/templating.md, "Figures"); a clone's NIC gets a new MAC anyway. */
static void add_template_nic(struct strv_builder *b, const struct qemu_plan *plan)
{
	strv_builder_add(b, "-netdev");
	if (plan->n_nics == 1)
		strv_builder_addf(b, "tap,id=net0,fd=%d,vhost=off", QEMU_NIC_FIRST_FD);
	else
		strv_builder_add(b, "hubport,id=net0,hubid=0");
	strv_builder_add(b, "-device");
	strv_builder_add(b, "virtio-net-device,netdev=net0,mac=" AGENT_STANDBY_NIC_MAC
	                    ",guest_announce=off");
}

/* One virtio-net per tap; the guest finds each NIC by its MAC (docs/network.md). No vhost:
 * there is no /dev/vhost-net on these machines, and qemu would fail to open it. */
static void add_nics(struct strv_builder *b, const struct kata_hypervisor_config *hc,
                     const struct qemu_plan *plan)
{
	if (plan->template_mode != QEMU_TEMPLATE_NONE && qemu_template_has_nic(hc)) {
		add_template_nic(b, plan);
		return;
	}
	for (size_t i = 0; i < plan->n_nics; i++) {
		strv_builder_add(b, "-netdev");
		strv_builder_addf(b, "tap,id=net%zu,fd=%zu,vhost=off", i, QEMU_NIC_FIRST_FD + i);
		strv_builder_add(b, "-device");
		strv_builder_addf(b, "%s,netdev=net%zu,mac=%s",
		                  is_microvm(hc) ? "virtio-net-device" : "virtio-net-pci", i,
		                  plan->nics[i].mac);
	}
}

/* A template on q35 and its clones: one empty pcie-root-port per NIC a clone may get by
 * hot-plug (its device set is the template's, so the ports are there from the template's
 * boot; docs/templating.md). pc hot-plugs into its root bus; microvm cannot. */
static void add_nic_ports(struct strv_builder *b, const struct kata_hypervisor_config *hc,
                          const struct qemu_plan *plan)
{
	if (plan->template_mode == QEMU_TEMPLATE_NONE || strcmp(kata_machine_type(hc), "q35") != 0)
		return;
	for (unsigned i = 0; i < NIC_HOTPLUG_MAX; i++) {
		char port[32];

		nic_hotplug_port_id(i, port);
		strv_builder_add(b, "-device");
		strv_builder_addf(b, "pcie-root-port,id=%s,chassis=%u,bus=pcie.0", port, i + 1);
	}
}

/* The template's RAM is a file it shares (its writes reach the file); a clone maps the same
 * file privately, so its writes stay its own and what it never writes stays shared. */
static void add_template_memory(struct strv_builder *b, const struct qemu_plan *plan)
{
	cleanup_free char *path = NULL;

	if (plan->template_mode == QEMU_TEMPLATE_NONE)
		return;
	path = qemu_opt_escape(plan->template_memory_path);
	strv_builder_add(b, "-object");
	strv_builder_addf(b, "memory-backend-file,id=mem0,size=%uM,mem-path=%s,share=%s",
	                  plan->memory_mib, path,
	                  plan->template_mode == QEMU_TEMPLATE_SAVE ? "on" : "off");
	if (plan->template_mode == QEMU_TEMPLATE_SAVE) {
		strv_builder_add(b, "-S");
	} else {
		strv_builder_add(b, "-incoming");
		strv_builder_add(b, "defer");
	}
}

static int check_template_plan(const struct kata_hypervisor_config *hc,
                               const struct qemu_plan *plan, kata_error_t *err)
{
	if (plan->template_mode == QEMU_TEMPLATE_NONE)
		return 0;
	if (plan->template_memory_path == NULL || plan->template_memory_path[0] != '/')
		return kata_error_set(err, EINVAL,
		                      "template: the memory file must be an "
		                      "absolute path");
	if (plan->shared_dir != NULL && hc->shared_fs == KATA_SHARED_FS_VIRTIO_FS)
		return kata_error_set(err, EINVAL,
		                      "template: virtio-fs needs guest memory shared with "
		                      "virtiofsd, which a copy-on-write clone cannot have");
	if (plan->memory_hotplug || plan->maxvcpus > plan->vcpus)
		return kata_error_set(err, EINVAL, "template: no CPU or memory hotplug");
	if (plan->n_nics > 0 &&
	    (plan->template_mode == QEMU_TEMPLATE_SAVE || !qemu_template_has_nic(hc)))
		return kata_error_set(err, EINVAL,
		                      "template: a template has no network cards of a sandbox; "
		                      "a clone on q35 or pc gets its own by hot-plug");
	if (plan->n_nics > 1)
		return kata_error_set(err, EINVAL,
		                      "template: a clone on microvm has the template's one "
		                      "network card");
	return 0;
}

char **qemu_build_cmdline(const struct kata_hypervisor_config *hc, const struct qemu_plan *plan,
                          kata_error_t *err)
{
	struct strv_builder b = { 0 };
	cleanup_free char *binary = NULL;
	const char *machine = kata_machine_type(hc);

	if (strcmp(machine, "q35") != 0 && strcmp(machine, "pc") != 0 &&
	    strcmp(machine, "microvm") != 0) {
		kata_error_set(err, EINVAL, "machine_type '%s': expected q35, pc or microvm",
		               machine);
		return NULL;
	}
	if (hc->kernel == NULL || hc->kernel[0] == '\0') {
		kata_error_set(err, EINVAL, "no guest kernel configured");
		return NULL;
	}
	if (plan->accelerator != KATA_ACCEL_KVM && plan->accelerator != KATA_ACCEL_TCG) {
		kata_error_set(err, EINVAL, "accelerator not resolved to kvm or tcg");
		return NULL;
	}
	if (plan->vcpus == 0 || plan->memory_mib == 0) {
		kata_error_set(err, EINVAL, "vcpus and memory must not be 0");
		return NULL;
	}
	if (plan->shared_dir != NULL && hc->shared_fs == KATA_SHARED_FS_9P &&
	    machine_msize_9p(hc) > QEMU_MAX_MSIZE_9P) {
		kata_error_set(err, EINVAL, "msize_9p %u is larger than %u", machine_msize_9p(hc),
		               QEMU_MAX_MSIZE_9P);
		return NULL;
	}
	for (size_t i = 0; i < plan->n_nics; i++) {
		if (!mac_is_valid(plan->nics[i].mac)) {
			kata_error_set(err, EINVAL,
			               "network card %zu: MAC address `%s` is not "
			               "six hexadecimal bytes separated by colons",
			               i, plan->nics[i].mac);
			return NULL;
		}
	}
	if (check_template_plan(hc, plan, err) < 0)
		return NULL;
	binary = machine_qemu_binary(hc, err);
	if (binary == NULL)
		return NULL;

	strv_builder_add(&b, binary);
	{
		cleanup_free char *id = qemu_opt_escape(plan->id);

		strv_builder_add(&b, "-name");
		strv_builder_addf(&b, "sandbox-%s", id);
	}
	add_machine(&b, hc, plan);
	/* Only the devices asked for below: no default NIC, VGA, floppy, CD-ROM or config
	 * file; no display; a guest reboot ends qemu (the agent powers off to stop). */
	strv_builder_add(&b, "-nodefaults");
	strv_builder_add(&b, "-no-user-config");
	strv_builder_add(&b, "-display");
	strv_builder_add(&b, "none");
	strv_builder_add(&b, "-no-reboot");
	add_boot(&b, hc, plan);
	{
		cleanup_free char *qmp = qemu_opt_escape(plan->qmp_path);

		strv_builder_add(&b, "-qmp");
		strv_builder_addf(&b, "unix:%s,server=on,wait=off", qmp);
	}
	add_bridges(&b, hc);
	add_serial_devices(&b, hc, plan);
	add_shared_fs(&b, hc, plan);
	add_rng(&b, hc);
	add_balloon(&b, hc, plan);
	add_nics(&b, hc, plan);
	add_nic_ports(&b, hc, plan);
	add_template_memory(&b, plan);
	if (!plan->foreground) {
		strv_builder_add(&b, "-pidfile");
		strv_builder_add(&b, plan->pid_path);
		strv_builder_add(&b, "-daemonize");
	}
	return strv_builder_steal(&b);
}

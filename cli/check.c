/* `kata-runtime kata-check`: checks that this host has what the configuration needs to run
 * a VM, says which accelerator `auto` will use, and exits non-zero when no VM can run.
 *
 * The presence of /dev/kvm proves nothing on hosts whose KVM cannot run a standard guest
 * (nested PVM): only booting the configured guest kernel under KVM does, and that is what
 * hypervisor_probe_accelerator() does once and remembers. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <linux/kvm.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "host_facts.h"
#include "hypervisor.h"

#define QEMU_HELP_TIMEOUT_MS 5000

enum check_status {
	CHECK_OK = HYPERVISOR_CHECK_OK,
	CHECK_INFO = HYPERVISOR_CHECK_INFO,
	CHECK_WARN = HYPERVISOR_CHECK_WARN,
	CHECK_FAIL = HYPERVISOR_CHECK_FAIL,
};

struct check_report {
	unsigned int failures;
	unsigned int warnings;
};

static void report(struct check_report *r, enum check_status status, const char *what,
                   const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void report(struct check_report *r, enum check_status status, const char *what,
                   const char *fmt, ...)
{
	static const char *const labels[] = { "ok", "info", "warn", "FAIL" };
	cleanup_free char *detail = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&detail, fmt, ap) < 0)
		abort();
	va_end(ap);
	/* one line per check: multi-line program output is folded */
	for (char *p = detail; *p != '\0'; p++)
		if (*p == '\n' || *p == '\r')
			*p = p[1] != '\0' ? ' ' : '\0';
	printf("[%-4s] %-22s %s\n", labels[status], what, detail);
	if (status == CHECK_FAIL)
		r->failures++;
	if (status == CHECK_WARN)
		r->warnings++;
}

static void check_program(struct check_report *r, const char *what, const char *path,
                          bool show_version)
{
	const char *why = NULL;
	cleanup_free char *version = NULL;

	if (!host_is_executable(path, &why)) {
		report(r, CHECK_FAIL, what, "%s: %s", path, why);
		return;
	}
	if (show_version)
		version = host_program_version(path);
	if (version != NULL)
		report(r, CHECK_OK, what, "%s (%s)", path, version);
	else
		report(r, CHECK_OK, what, "%s", path);
}

static void check_file(struct check_report *r, const char *what, const char *path, bool kernel)
{
	const char *why = NULL;
	cleanup_free char *version = NULL;

	if (!host_is_readable_file(path, &why)) {
		report(r, CHECK_FAIL, what, "%s: %s", path, why);
		return;
	}
	if (kernel)
		version = host_kernel_image_version(path);
	if (version != NULL && strchr(version, ' ') != NULL)
		*strchr(version, ' ') = '\0'; /* the release; kata-env shows the whole banner */
	if (version != NULL)
		report(r, CHECK_OK, what, "%s (Linux %s)", path, version);
	else
		report(r, CHECK_OK, what, "%s", path);
}

/* Which accelerators this qemu binary has (`-accel help`); tcg and kvm out-params. */
static void check_qemu_accelerators(struct check_report *r, const char *qemu, bool *tcg, bool *kvm)
{
	char *argv[] = { (char *)qemu, "-accel", "help", NULL };
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *out = NULL;
	const char *why = NULL;
	int status = 0;

	*tcg = *kvm = false;
	if (!host_is_executable(qemu, &why))
		return;
	out = host_run_capture(argv, QEMU_HELP_TIMEOUT_MS, 4096, &status, &err);
	if (out == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		report(r, CHECK_FAIL, "qemu accelerators", "`%s -accel help` failed: %s", qemu,
		       err != NULL ? err->message : "non-zero exit");
		return;
	}
	for (char *line = strtok(out, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		*tcg = *tcg || strcmp(line, "tcg") == 0;
		*kvm = *kvm || strcmp(line, "kvm") == 0;
	}
	report(r, *tcg ? CHECK_OK : CHECK_FAIL, "qemu accelerators", "tcg: %s, kvm: %s",
	       *tcg ? "yes" : "no", *kvm ? "yes" : "no");
}

/* /dev/kvm: present and answering KVM_GET_API_VERSION. Returns whether it is usable. */
static bool check_kvm_device(struct check_report *r)
{
	cleanup_close int fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	int version;

	if (fd < 0) {
		report(r, CHECK_INFO, "/dev/kvm", "%s: VMs run under TCG (software emulation)",
		       strerror(errno));
		return false;
	}
	version = ioctl(fd, KVM_GET_API_VERSION, 0);
	if (version != KVM_API_VERSION) {
		report(r, CHECK_INFO, "/dev/kvm", "unexpected KVM API version %d", version);
		return false;
	}
	report(r, CHECK_OK, "/dev/kvm",
	       "present, KVM API %d (whether a guest kernel boots on "
	       "it is probed below)",
	       version);
	return true;
}

/* Hands a backend's findings (hypervisor_check) to the report. */
static void report_backend_finding(void *opaque, enum hypervisor_check_status status,
                                   const char *what, const char *detail)
{
	report(opaque, (enum check_status)status, what, "%s", detail);
}

/* What the configured backend itself needs of the host (libvirt: its daemon). */
static void check_backend(struct check_report *r, const struct kata_config *config)
{
	cleanup_hypervisor struct hypervisor *hv = NULL;
	cleanup_error kata_error_t err = NULL;

	hv = hypervisor_new(NULL, config, &err);
	if (hv == NULL || hypervisor_check(hv, report_backend_finding, r, 0, &err) < 0)
		report(r, CHECK_FAIL, "hypervisor backend", "%s", err->message);
}

/* Decides the accelerator: returns whether a VM can run at all. */
static bool check_accelerator(struct check_report *r, const struct kata_config *config,
                              bool kvm_usable, bool qemu_tcg, bool qemu_kvm)
{
	enum kata_accelerator configured = config->hypervisor.accelerator;
	enum kata_accelerator probed = KATA_ACCEL_TCG;
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *reason = NULL;

	if (configured == KATA_ACCEL_TCG) {
		report(r, CHECK_INFO, "guest boot under KVM", "not probed: accelerator = \"tcg\"");
	} else if (!kvm_usable || !qemu_kvm) {
		reason = xstrdup(!kvm_usable ? "/dev/kvm is not usable" : "qemu has no kvm");
		report(r, CHECK_INFO, "guest boot under KVM", "no: %s", reason);
	} else if (hypervisor_probe_accelerator(config, &probed, &reason, &err) < 0) {
		report(r, CHECK_WARN, "guest boot under KVM", "probe failed: %s", err->message);
		probed = KATA_ACCEL_TCG;
	} else {
		report(r, CHECK_INFO, "guest boot under KVM", "%s: %s",
		       probed == KATA_ACCEL_KVM ? "yes" : "no", reason != NULL ? reason : "");
	}

	if (configured == KATA_ACCEL_KVM && probed != KATA_ACCEL_KVM) {
		report(r, CHECK_FAIL, "accelerator",
		       "accelerator = \"kvm\" but the guest kernel does not boot under KVM here "
		       "(use \"auto\" or \"tcg\")");
		return false;
	}
	if (configured != KATA_ACCEL_KVM && probed != KATA_ACCEL_KVM && !qemu_tcg) {
		report(r, CHECK_FAIL, "accelerator", "neither KVM nor TCG can run the guest");
		return false;
	}
	if (configured == KATA_ACCEL_AUTO)
		report(r, CHECK_OK, "accelerator", "auto -> %s",
		       probed == KATA_ACCEL_KVM ? "KVM" : "TCG (software emulation)");
	else
		report(r, CHECK_OK, "accelerator", "%s (configured)",
		       configured == KATA_ACCEL_KVM ? "KVM" : "TCG (software emulation)");
	return true;
}

static void check_host(struct check_report *r, const struct kata_config *config)
{
	struct host_facts f;

	host_facts_collect(&f);
	report(r, CHECK_INFO, "host", "Linux %s %s, %u CPUs, %llu MiB", f.kernel_release,
	       f.architecture, f.cpus, (unsigned long long)f.memory_mib);
	report(r, CHECK_INFO, "cgroups", "%s", f.cgroups);
	report(r, CHECK_INFO, "/dev/vhost-vsock",
	       f.vhost_vsock ? "present (unused: the agent is reached over virtio-serial)"
	                     : "absent (fine: the agent is reached over virtio-serial)");
	report(r, f.tun ? CHECK_OK : CHECK_WARN, "/dev/net/tun", "%s",
	       f.tun ? "present" : "absent: no networking for VMs");
	if (f.memory_mib > 0 && config->hypervisor.default_memory > f.memory_mib / 2)
		report(r, CHECK_WARN, "memory",
		       "default_memory (%u MiB) is over half of the host's",
		       config->hypervisor.default_memory);
	host_facts_release(&f);
}

int cli_check(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	static const struct option options[] = {
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct check_report r = { 0 };
	const struct kata_config *config;
	const struct kata_hypervisor_config *h;
	bool kvm_usable, qemu_tcg = false, qemu_kvm = false, can_run;
	int c;

	opterr = 0;
	while ((c = getopt_long(argc, argv, "+h", options, NULL)) != -1) {
		if (c == 'h') {
			printf("usage: %s %s\n", ctx->program, argv[0]);
			return 0;
		}
		return kata_error_set(err, EINVAL, "%s: unknown option `%s`", argv[0],
		                      argv[optind - 1]);
	}
	if (cli_load_config(ctx, err) < 0)
		return -1;
	config = ctx->config;
	h = &config->hypervisor;

	report(&r, CHECK_OK, "configuration", "%s ([hypervisor.%s])", config->path, h->name);
	check_program(&r, "hypervisor", h->path, true);
	check_qemu_accelerators(&r, h->path, &qemu_tcg, &qemu_kvm);
	check_file(&r, "guest kernel", h->kernel, true);
	check_file(&r, "guest initrd", h->initrd, false);
	check_program(&r, "proxy", config->proxy.path, false);
	check_program(&r, "shim", config->shim.path, false);
	if (h->shared_fs == KATA_SHARED_FS_VIRTIO_FS)
		check_program(&r, "virtiofsd", h->virtio_fs_daemon, false);
	check_backend(&r, config);
	check_host(&r, config);
	kvm_usable = check_kvm_device(&r);
	can_run = check_accelerator(&r, config, kvm_usable, qemu_tcg, qemu_kvm);

	if (r.failures > 0 || !can_run) {
		printf("\nThis host cannot run %s VMs: %u check%s failed.\n", ctx->program,
		       r.failures, r.failures == 1 ? "" : "s");
		return kata_error_set(err, 0, "%s: %u check%s failed", argv[0], r.failures,
		                      r.failures == 1 ? "" : "s");
	}
	printf("\nThis host can run %s VMs%s.\n", ctx->program,
	       r.warnings > 0 ? " (see the warnings above)" : "");
	return 0;
}

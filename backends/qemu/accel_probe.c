/* The accelerator probe: on these machines /dev/kvm exists but only runs special guests,
 * so neither its presence nor a tiny KVM_RUN test says whether the guest kernel boots under
 * KVM. The only reliable test is to boot the configured kernel under KVM with a deadline;
 * the answer is cached per host kernel and guest kernel (docs/hypervisor.md). */
#include "backends.h"
#include "launch.h"
#include "qemu_backend.h"
#include "machine.h"
#include "qemu_cmdline.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd_util.h"
#include "process_launch.h"
#include "log.h"

#define PROBE_CONSOLE_MAX (256 * 1024)

char *accel_cache_key(const struct kata_config *config, kata_error_t *err)
{
	const struct kata_hypervisor_config *hc = &config->hypervisor;
	cleanup_free char *binary = NULL;
	struct utsname uts;
	struct stat st;

	if (hc->kernel == NULL || stat(hc->kernel, &st) < 0) {
		kata_error_sys(err, "guest kernel %s", hc->kernel != NULL ? hc->kernel : "(none)");
		return NULL;
	}
	binary = machine_qemu_binary(hc, err);
	if (binary == NULL)
		return NULL;
	if (uname(&uts) < 0) {
		kata_error_sys(err, "uname");
		return NULL;
	}
	return xasprintf("host=%s kernel=%s size=%lld mtime=%lld.%09ld qemu=%s machine=%s",
	                 uts.release, hc->kernel, (long long)st.st_size,
	                 (long long)st.st_mtim.tv_sec, st.st_mtim.tv_nsec, binary,
	                 kata_machine_type(hc));
}

bool accel_console_shows_boot(const char *console, size_t len)
{
	static const char *const markers[] = { "Run /init", "Freeing unused kernel", "Kernel panic",
		                               "sh.hyper.channel" };

	for (size_t i = 0; i < sizeof(markers) / sizeof(markers[0]); i++)
		if (memmem(console, len, markers[i], strlen(markers[i])) != NULL)
			return true;
	return false;
}

static const char *cache_path(void)
{
	const char *env = getenv("KATA_ACCEL_CACHE");

	return env != NULL && env[0] ? env : ACCEL_CACHE_FILE;
}

static json_object *read_cache(void)
{
	json_object *cache = json_object_from_file(cache_path());

	if (cache == NULL || !json_object_is_type(cache, json_type_object)) {
		json_object_put(cache);
		return json_object_new_object();
	}
	return cache;
}

static int lookup_cache(const char *key, enum kata_accelerator *result, char **reason)
{
	json_object *cache = read_cache(), *entry, *accel, *why;
	int ret = -1;

	if (json_object_object_get_ex(cache, key, &entry) &&
	    json_object_object_get_ex(entry, "accelerator", &accel) &&
	    json_object_is_type(accel, json_type_string)) {
		const char *name = json_object_get_string(accel);

		if (strcmp(name, "kvm") == 0 || strcmp(name, "tcg") == 0) {
			*result = strcmp(name, "kvm") == 0 ? KATA_ACCEL_KVM : KATA_ACCEL_TCG;
			*reason = xasprintf("cached in %s: %s", cache_path(),
			                    json_object_object_get_ex(entry, "reason", &why)
			                            ? json_object_get_string(why)
			                            : "");
			ret = 0;
		}
	}
	json_object_put(cache);
	return ret;
}

static void store_cache(const char *key, enum kata_accelerator result, const char *reason)
{
	json_object *cache = read_cache(), *entry = json_object_new_object();
	const char *path = cache_path();
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *dir = xstrdup(path);
	const char *text;
	char *slash = strrchr(dir, '/');

	/* Bounded: forget everything when it grows too big (kernels come and go). */
	if (json_object_object_length(cache) >= ACCEL_CACHE_MAX_ENTRIES) {
		json_object_put(cache);
		cache = json_object_new_object();
	}
	json_object_object_add(entry, "accelerator",
	                       json_object_new_string(kata_accelerator_name(result)));
	json_object_object_add(entry, "reason", json_object_new_string(reason));
	json_object_object_add(entry, "probed_at", json_object_new_int64((int64_t)time(NULL)));
	json_object_object_add(cache, key, entry);
	if (slash != NULL && slash != dir) {
		*slash = '\0';
		mkdir(dir, 0755);
	}
	text = json_object_to_json_string_ext(cache, JSON_C_TO_STRING_PRETTY |
	                                                     JSON_C_TO_STRING_NOSLASHESCAPE);
	if (file_write_atomic(path, text, strlen(text), 0644, &err) < 0)
		log_warning("accelerator probe: cannot write the cache: %s", err->message);
	json_object_put(cache);
}

static size_t read_console(const char *path, char *buf, size_t cap)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t len = 0;

	if (fd < 0)
		return 0;
	while (len < cap) {
		ssize_t n = read(fd, buf + len, cap - len);
		if (n <= 0)
			break;
		len += (size_t)n;
	}
	return len;
}

static void remove_probe_dir(const char *dir)
{
	static const char *const files[] = { "qmp.sock", "ctl.sock", "io.sock", "console.log",
		                             "qemu.log" };

	for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
		cleanup_free char *path = xasprintf("%s/%s", dir, files[i]);
		unlink(path);
	}
	rmdir(dir);
}

static int probe_timeout_ms(void)
{
	const char *env = getenv("KATA_ACCEL_PROBE_TIMEOUT_MS");
	long value = env != NULL ? strtol(env, NULL, 10) : 0;

	return value > 0 && value < 600000 ? (int)value : ACCEL_PROBE_TIMEOUT_MS;
}

/* Boots the guest kernel under KVM; *booted tells whether it got to /init in time. */
static int boot_under_kvm(const struct kata_config *config, bool *booted, char **reason,
                          kata_error_t *err)
{
	char dir_template[] = "/tmp/kata-accel-probe-XXXXXX";
	const char *dir = mkdtemp(dir_template);
	struct kata_hypervisor_config hc = config->hypervisor;
	struct qemu_plan plan = { 0 };
	cleanup_strv char **argv = NULL;
	cleanup_free char *qmp = NULL, *ctl = NULL, *io = NULL, *console = NULL, *log = NULL;
	cleanup_free char *buf = xmalloc(PROBE_CONSOLE_MAX + 1);
	int timeout_ms = probe_timeout_ms(), status, waited;
	int64_t deadline = now_ms() + timeout_ms;
	pid_t pid;
	size_t len = 0;
	bool exited = false;

	if (dir == NULL)
		return kata_error_sys(err, "accelerator probe: mkdtemp");
	qmp = xasprintf("%s/qmp.sock", dir);
	ctl = xasprintf("%s/ctl.sock", dir);
	io = xasprintf("%s/io.sock", dir);
	console = xasprintf("%s/console.log", dir);
	log = xasprintf("%s/qemu.log", dir);
	/* The user's kernel parameters stay (they may be needed to boot); `quiet` does not. */
	hc.memory_slots = 0;
	plan.id = "accel-probe";
	plan.accelerator = KATA_ACCEL_KVM;
	plan.vcpus = 1;
	plan.memory_mib = 256;
	plan.debug = true;
	plan.foreground = true;
	plan.serial_console = true;
	plan.qmp_path = qmp;
	plan.channel_paths[0] = ctl;
	plan.channel_paths[1] = io;
	plan.console_log_path = console;
	argv = qemu_build_cmdline(&hc, &plan, err);
	if (argv == NULL) {
		remove_probe_dir(dir);
		return kata_error_wrap(err, "accelerator probe");
	}
	pid = launch_program(
	        argv,
	        &(const struct launch_setup){
	                .in = LAUNCH_NULL, .out = LAUNCH_LOG, .err = LAUNCH_LOG, .log_path = log },
	        err);
	if (pid < 0) {
		remove_probe_dir(dir);
		return kata_error_wrap(err, "accelerator probe");
	}
	*booted = false;
	while (now_ms() < deadline) {
		int64_t next_look = now_ms() + 20;

		len = read_console(console, buf, PROBE_CONSOLE_MAX);
		if (accel_console_shows_boot(buf, len)) {
			*booted = true;
			break;
		}
		waited = launch_wait(pid, next_look < deadline ? next_look : deadline, &status,
		                     NULL);
		if (waited != 0) {
			exited = waited == 1;
			break;
		}
	}
	if (*booted) {
		*reason = xasprintf("the guest kernel booted under KVM");
	} else if (exited) {
		size_t n = read_console(log, buf, 512);

		buf[n] = '\0';
		while (n > 0 && buf[n - 1] == '\n')
			buf[--n] = '\0';
		*reason = xasprintf("qemu with KVM exited before the guest booted: %s", buf);
	} else {
		buf[len] = '\0';
		char *last = len > 0 ? buf + len - 1 : buf;
		while (last > buf && (*last == '\n' || *last == '\r'))
			*last-- = '\0';
		while (last > buf && last[-1] != '\n')
			last--;
		*reason = xasprintf("the guest kernel did not boot under KVM within %d ms (last "
		                    "console line: \"%.120s\")",
		                    timeout_ms, last);
	}
	for (char *c = *reason; *c; c++)
		if (*c == '\n' || *c == '\r')
			*c = ' '; /* one line, for kata-check and the logs */
	if (!exited)
		launch_kill_and_reap(pid, false, NULL);
	remove_probe_dir(dir);
	return 0;
}

int hypervisor_probe_accelerator(const struct kata_config *config, enum kata_accelerator *result,
                                 char **reason, kata_error_t *err)
{
	cleanup_free char *key = NULL;
	cleanup_close int kvm_fd = -1;
	bool booted = false;

	*reason = NULL;
	kvm_fd = open("/dev/kvm", O_RDWR | O_CLOEXEC);
	if (kvm_fd < 0) {
		*result = KATA_ACCEL_TCG;
		*reason = xasprintf("/dev/kvm: %s", strerror(errno));
		return 0;
	}
	key = accel_cache_key(config, err);
	if (key == NULL)
		return kata_error_wrap(err, "accelerator probe");
	if (lookup_cache(key, result, reason) == 0)
		return 0;
	if (boot_under_kvm(config, &booted, reason, err) < 0)
		return -1;
	*result = booted ? KATA_ACCEL_KVM : KATA_ACCEL_TCG;
	log_info("accelerator probe: %s: %s", kata_accelerator_name(*result), *reason);
	store_cache(key, *result, *reason);
	return 0;
}

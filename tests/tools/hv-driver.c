/* hv-driver: drives one hypervisor backend operation per process, as the short-lived runtime
 * does, keeping the backend's saved state in a JSON file between calls. Used by
 * tests/e2e/qemu_*.sh.
 *
 *   hv-driver create STATE --kernel K [--initrd I] --dir D [--shared DIR] [--fs 9p|virtio-fs]
 *             [--machine q35|pc|microvm] [--accel tcg|kvm|auto] [--vcpus N] [--memory MiB]
 *             [--maxvcpus N] [--slots N] [--params "..."] [--backend qemu|fake] [--qemu PATH] [--debug]
 *   (--config FILE: a configuration.toml instead of the options; --kernel/--initrd still
 *   override its paths)
 *   hv-driver start|stop|pause|resume|cleanup STATE [--force]
 *   hv-driver state STATE            prints created|running|paused|stopped|crashed
 *   hv-driver pid STATE              prints qemu's pid
 *   hv-driver path STATE ctl|io|console|console-log
 *   hv-driver wait-ctl STATE TEXT MS connects to the control channel, waits for TEXT
 *                                    (hex:HEXBYTES for binary)
 *   hv-driver probe --kernel K [--initrd I] [--machine M]   prints "kvm|tcg: reason"
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "error.h"
#include "hypervisor.h"
#include "log.h"
#include "fd_util.h"
#include "unix_socket.h"
#include "tests/fakes/fake_hypervisor.h"

struct options {
	const char *backend, *kernel, *initrd, *dir, *shared, *fs, *machine, *accel, *params;
	const char *qemu, *config;
	unsigned vcpus, maxvcpus, memory, slots;
	bool debug, force;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option longopts[] = {
		{ "kernel", required_argument, NULL, 'k' },
		{ "initrd", required_argument, NULL, 'i' },
		{ "dir", required_argument, NULL, 'd' },
		{ "shared", required_argument, NULL, 's' },
		{ "fs", required_argument, NULL, 'f' },
		{ "machine", required_argument, NULL, 'm' },
		{ "accel", required_argument, NULL, 'a' },
		{ "params", required_argument, NULL, 'p' },
		{ "vcpus", required_argument, NULL, 'c' },
		{ "memory", required_argument, NULL, 'M' },
		{ "maxvcpus", required_argument, NULL, 'X' },
		{ "config", required_argument, NULL, 'C' },
		{ "slots", required_argument, NULL, 'S' },
		{ "backend", required_argument, NULL, 'b' },
		{ "qemu", required_argument, NULL, 'q' },
		{ "debug", no_argument, NULL, 'D' },
		{ "force", no_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (c) {
		case 'k':
			o->kernel = optarg;
			break;
		case 'i':
			o->initrd = optarg;
			break;
		case 'd':
			o->dir = optarg;
			break;
		case 's':
			o->shared = optarg;
			break;
		case 'f':
			o->fs = optarg;
			break;
		case 'm':
			o->machine = optarg;
			break;
		case 'a':
			o->accel = optarg;
			break;
		case 'p':
			o->params = optarg;
			break;
		case 'c':
			o->vcpus = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'M':
			o->memory = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'C':
			o->config = optarg;
			break;
		case 'X':
			o->maxvcpus = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'S':
			o->slots = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'b':
			o->backend = optarg;
			break;
		case 'q':
			o->qemu = optarg;
			break;
		case 'D':
			o->debug = true;
			break;
		case 'F':
			o->force = true;
			break;
		default:
			return -1;
		}
	}
	return 0;
}

static void fill_config(struct kata_config *config, const struct options *o)
{
	struct kata_hypervisor_config *hc = &config->hypervisor;

	hc->name = (char *)(o->backend ? o->backend : "qemu");
	hc->path = (char *)o->qemu;
	hc->kernel = (char *)o->kernel;
	hc->initrd = (char *)o->initrd;
	hc->machine_type = (char *)(o->machine ? o->machine : "q35");
	hc->kernel_params = (char *)o->params;
	hc->accelerator = KATA_ACCEL_TCG;
	if (o->accel != NULL && strcmp(o->accel, "kvm") == 0)
		hc->accelerator = KATA_ACCEL_KVM;
	if (o->accel != NULL && strcmp(o->accel, "auto") == 0)
		hc->accelerator = KATA_ACCEL_AUTO;
	hc->default_vcpus = 1;
	hc->default_maxvcpus = o->maxvcpus ? o->maxvcpus : 1;
	hc->memory_slots = o->slots;
	hc->default_memory = 256;
	hc->shared_fs = o->fs != NULL && strcmp(o->fs, "virtio-fs") == 0 ? KATA_SHARED_FS_VIRTIO_FS
	                                                                 : KATA_SHARED_FS_9P;
	hc->enable_debug = o->debug;
}

static int save_state(struct hypervisor *hv, const char *path, kata_error_t *err)
{
	json_object *saved = hypervisor_save(hv);
	const char *text = json_object_to_json_string_ext(
	        saved, JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_NOSLASHESCAPE);
	int ret = file_write_atomic(path, text, strlen(text), 0644, err);

	json_object_put(saved);
	return ret;
}

static struct hypervisor *load_state(const struct kata_config *config, const char *path,
                                     kata_error_t *err)
{
	json_object *saved = json_object_from_file(path);
	struct hypervisor *hv;

	if (saved == NULL) {
		kata_error_set(err, EINVAL, "cannot read %s", path);
		return NULL;
	}
	hv = hypervisor_restore(config, saved, err);
	json_object_put(saved);
	return hv;
}

static int wait_ctl(const char *sock, const char *text, int timeout_ms, kata_error_t *err)
{
	cleanup_close int fd = -1;
	char buf[4096];
	size_t len = 0;
	int64_t deadline = now_ms() + timeout_ms;

	char want[256];
	size_t want_len = 0;

	/* "hex:0000000800000008" waits for those bytes (the agent's READY frame). */
	if (strncmp(text, "hex:", 4) == 0) {
		for (const char *h = text + 4; h[0] && h[1] && want_len < sizeof(want); h += 2) {
			unsigned int byte;
			if (sscanf(h, "%2x", &byte) != 1)
				return kata_error_set(err, EINVAL, "bad hex in %s", text);
			want[want_len++] = (char)byte;
		}
	} else {
		want_len = strlen(text) < sizeof(want) ? strlen(text) : sizeof(want);
		memcpy(want, text, want_len);
	}
	fd = unix_socket_connect(sock, 0, err);
	if (fd < 0)
		return -1;
	for (;;) {
		ssize_t n;

		if (fd_wait(fd, POLLIN, deadline, NULL) < 0) {
			if (now_ms() < deadline)
				continue;
			return kata_error_set(err, ETIMEDOUT, "no '%s' on %s within %d ms", text,
			                      sock, timeout_ms);
		}
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return kata_error_set(err, EPIPE, "%s closed", sock);
		len += (size_t)n;
		buf[len] = '\0';
		if (memmem(buf, len, want, want_len) != NULL)
			return 0;
		if (len > sizeof(buf) / 2) {
			memmove(buf, buf + len - 64, 64);
			len = 64;
		}
	}
}

static void free_config(struct kata_config **config)
{
	kata_config_free(*config);
}

static int run(int argc, char **argv, kata_error_t *err)
{
	struct kata_config config = { 0 };
	__attribute__((cleanup(free_config))) struct kata_config *loaded = NULL;
	struct options o = { 0 };
	const char *cmd, *state_path = NULL;
	cleanup_hypervisor struct hypervisor *hv = NULL;
	unsigned int flags;

	if (argc < 2)
		return kata_error_set(err, EINVAL, "usage: hv-driver COMMAND [STATE] [options]");
	cmd = argv[1];
	if (strcmp(cmd, "probe") != 0) {
		if (argc < 3)
			return kata_error_set(err, EINVAL, "%s: STATE file needed", cmd);
		state_path = argv[2];
		optind = 3;
	} else {
		optind = 2;
	}
	if (strcmp(cmd, "path") == 0 || strcmp(cmd, "wait-ctl") == 0)
		optind = argc; /* positional arguments follow */
	if (parse_options(argc, argv, &o) < 0)
		return kata_error_set(err, EINVAL, "bad options");
	if (o.config != NULL) {
		loaded = kata_config_load(o.config, err);
		if (loaded == NULL)
			return -1;
		if (o.kernel != NULL) {
			free(loaded->hypervisor.kernel);
			loaded->hypervisor.kernel = xstrdup(o.kernel);
		}
		if (o.initrd != NULL) {
			free(loaded->hypervisor.initrd);
			loaded->hypervisor.initrd = xstrdup(o.initrd);
		}
		config = *loaded;
	} else {
		fill_config(&config, &o);
	}
	flags = o.force ? HYPERVISOR_FLAG_FORCE : 0;

	if (strcmp(cmd, "probe") == 0) {
		enum kata_accelerator accel;
		cleanup_free char *reason = NULL;

		if (hypervisor_probe_accelerator(&config, &accel, &reason, err) < 0)
			return -1;
		printf("%s: %s\n", kata_accelerator_name(accel), reason);
		return 0;
	}
	if (strcmp(cmd, "create") == 0) {
		struct hypervisor_sandbox_params params = {
			.id = "e2e",
			.dir = o.dir,
			.shared_dir = o.shared,
			.vcpus = o.vcpus,
			.memory_mib = o.memory,
			.debug = o.debug,
			.hotplug = o.slots > 0 || o.maxvcpus > 1,
		};

		hv = hypervisor_new(NULL, &config, err);
		if (hv == NULL || hypervisor_create(hv, &params, flags, err) < 0)
			return -1;
		return save_state(hv, state_path, err);
	}
	hv = load_state(&config, state_path, err);
	if (hv == NULL)
		return -1;
	if (strcmp(cmd, "state") == 0) {
		enum hypervisor_state state;

		if (hypervisor_get_state(hv, &state, flags, err) < 0)
			return -1;
		printf("%s\n", hypervisor_state_name(state));
		return 0;
	}
	if (strcmp(cmd, "pid") == 0) {
		printf("%d\n", (int)hypervisor_pid(hv));
		return 0;
	}
	if (strcmp(cmd, "path") == 0) {
		const char *which = argc > 3 ? argv[3] : "";
		const char *path = NULL;

		if (strcmp(which, "ctl") == 0)
			path = hypervisor_channel_path(hv, HYPERVISOR_CHANNEL_CTL);
		else if (strcmp(which, "io") == 0)
			path = hypervisor_channel_path(hv, HYPERVISOR_CHANNEL_IO);
		else if (strcmp(which, "console") == 0)
			path = hypervisor_console_path(hv);
		else if (strcmp(which, "console-log") == 0)
			path = hypervisor_console_log_path(hv);
		printf("%s\n", path != NULL ? path : "");
		return 0;
	}
	if (strcmp(cmd, "wait-ctl") == 0) {
		if (argc < 5)
			return kata_error_set(err, EINVAL, "wait-ctl STATE TEXT MS");
		return wait_ctl(hypervisor_channel_path(hv, HYPERVISOR_CHANNEL_CTL), argv[3],
		                atoi(argv[4]), err);
	}
	if (strcmp(cmd, "start") == 0) {
		int ret = hypervisor_start(hv, flags, err);
		/* Saved also on failure: the state file names whatever needs cleaning. */
		if (save_state(hv, state_path, ret < 0 ? NULL : err) < 0)
			return -1;
		return ret;
	}
	struct {
		const char *name;
		int (*op)(struct hypervisor *, unsigned int, kata_error_t *);
	} ops[] = {
		{ "stop", hypervisor_stop },
		{ "pause", hypervisor_pause },
		{ "resume", hypervisor_resume },
		{ "cleanup", hypervisor_cleanup },
	};
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(cmd, ops[i].name) == 0) {
			int ret = ops[i].op(hv, flags, err);
			if (save_state(hv, state_path, ret < 0 ? NULL : err) < 0)
				return -1;
			return ret;
		}
	}
	return kata_error_set(err, EINVAL, "unknown command %s", cmd);
}

int main(int argc, char **argv)
{
	cleanup_error kata_error_t err = NULL;

	if (getenv("HV_DRIVER_DEBUG") != NULL)
		kata_log_init("hv-driver", NULL, KATA_LOG_TEXT, KATA_LOG_DEBUG, NULL);
	hypervisor_register(&fake_hypervisor_ops); /* --backend fake */
	if (run(argc, argv, &err) < 0) {
		fprintf(stderr, "hv-driver: %s\n", err != NULL ? err->message : "failed");
		return 1;
	}
	return 0;
}

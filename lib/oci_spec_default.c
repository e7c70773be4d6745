/* The default config.json, with the content `runc spec` (runc 1.1) writes. */
#include "oci_spec.h"
#include "oci_spec_internal.h"

#include <string.h>
#include <unistd.h>

struct default_mount {
	const char *destination;
	const char *type;
	const char *source;
	const char *options[7];
};

static const struct default_mount default_mounts[] = {
	{ "/proc", "proc", "proc", { NULL } },
	{ "/dev", "tmpfs", "tmpfs", { "nosuid", "strictatime", "mode=755", "size=65536k", NULL } },
	{ "/dev/pts",
	  "devpts",
	  "devpts",
	  { "nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5", NULL } },
	{ "/dev/shm",
	  "tmpfs",
	  "shm",
	  { "nosuid", "noexec", "nodev", "mode=1777", "size=65536k", NULL } },
	{ "/dev/mqueue", "mqueue", "mqueue", { "nosuid", "noexec", "nodev", NULL } },
	{ "/sys", "sysfs", "sysfs", { "nosuid", "noexec", "nodev", "ro", NULL } },
	{ "/sys/fs/cgroup",
	  "cgroup",
	  "cgroup",
	  { "nosuid", "noexec", "nodev", "relatime", "ro", NULL } },
};

/* Without its own user namespace mapping many ids, a rootless container cannot mount
 * sysfs nor chown devpts to gid 5: it binds the host's /sys instead. */
static const struct default_mount rootless_sys = {
	"/sys", "none", "/sys", { "rbind", "nosuid", "noexec", "nodev", "ro", NULL }
};

static const char *const default_caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE",
	                                    NULL };
static const char *const default_env[] = {
	"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "TERM=xterm", NULL
};
static const char *const default_args[] = { "sh", NULL };
static const char *const masked_paths[] = { "/proc/acpi",
	                                    "/proc/asound",
	                                    "/proc/kcore",
	                                    "/proc/keys",
	                                    "/proc/latency_stats",
	                                    "/proc/timer_list",
	                                    "/proc/timer_stats",
	                                    "/proc/sched_debug",
	                                    "/sys/firmware",
	                                    "/proc/scsi",
	                                    NULL };
static const char *const readonly_paths[] = { "/proc/bus",           "/proc/fs",
	                                      "/proc/irq",           "/proc/sys",
	                                      "/proc/sysrq-trigger", NULL };

static json_object *strings(const char *const *strv)
{
	return json_string_array_new((char *const *)strv);
}

static json_object *process_json(void)
{
	json_object *process = json_object_new_object();
	json_object *user = json_object_new_object();
	json_object *caps = json_object_new_object();
	json_object *rlimits = json_object_new_array();
	json_object *nofile = json_object_new_object();

	oci_add_bool(process, "terminal", true);
	oci_add_int64(user, "uid", 0);
	oci_add_int64(user, "gid", 0);
	json_object_object_add(process, "user", user);
	json_object_object_add(process, "args", strings(default_args));
	json_object_object_add(process, "env", strings(default_env));
	json_add_string(process, "cwd", "/");
	json_object_object_add(caps, "bounding", strings(default_caps));
	json_object_object_add(caps, "effective", strings(default_caps));
	json_object_object_add(caps, "permitted", strings(default_caps));
	json_object_object_add(caps, "ambient", strings(default_caps));
	json_object_object_add(process, "capabilities", caps);
	json_add_string(nofile, "type", "RLIMIT_NOFILE");
	oci_add_int64(nofile, "hard", 1024);
	oci_add_int64(nofile, "soft", 1024);
	json_object_array_add(rlimits, nofile);
	json_object_object_add(process, "rlimits", rlimits);
	oci_add_bool(process, "noNewPrivileges", true);
	return process;
}

static json_object *mount_json(const struct default_mount *m, bool rootless)
{
	json_object *obj = json_object_new_object();
	json_object *options = json_object_new_array();

	json_add_string(obj, "destination", m->destination);
	json_add_string(obj, "type", m->type);
	json_add_string(obj, "source", m->source);
	for (size_t i = 0; m->options[i] != NULL; i++) {
		/* gid 5 does not exist in a rootless container's single-id mapping. */
		if (rootless && strcmp(m->options[i], "gid=5") == 0)
			continue;
		json_object_array_add(options, json_object_new_string(m->options[i]));
	}
	if (json_object_array_length(options) > 0)
		json_object_object_add(obj, "options", options);
	else
		json_object_put(options);
	return obj;
}

static json_object *id_mapping_json(unsigned host_id)
{
	json_object *array = json_object_new_array();
	json_object *map = json_object_new_object();

	oci_add_int64(map, "containerID", 0);
	oci_add_int64(map, "hostID", host_id);
	oci_add_int64(map, "size", 1);
	json_object_array_add(array, map);
	return array;
}

static json_object *linux_json(bool rootless)
{
	static const char *const root_ns[] = { "pid", "network", "ipc", "uts", "mount", NULL };
	static const char *const rootless_ns[] = { "pid", "ipc", "uts", "mount", "user", NULL };
	json_object *lx = json_object_new_object();
	json_object *namespaces = json_object_new_array();

	if (rootless) {
		json_object_object_add(lx, "uidMappings", id_mapping_json(geteuid()));
		json_object_object_add(lx, "gidMappings", id_mapping_json(getegid()));
	} else {
		json_object *resources = json_object_new_object();
		json_object *devices = json_object_new_array();
		json_object *deny_all = json_object_new_object();

		oci_add_bool(deny_all, "allow", false);
		json_add_string(deny_all, "access", "rwm");
		json_object_array_add(devices, deny_all);
		json_object_object_add(resources, "devices", devices);
		json_object_object_add(lx, "resources", resources);
	}
	for (const char *const *ns = rootless ? rootless_ns : root_ns; *ns != NULL; ns++) {
		json_object *obj = json_object_new_object();

		json_add_string(obj, "type", *ns);
		json_object_array_add(namespaces, obj);
	}
	json_object_object_add(lx, "namespaces", namespaces);
	json_object_object_add(lx, "maskedPaths", strings(masked_paths));
	json_object_object_add(lx, "readonlyPaths", strings(readonly_paths));
	return lx;
}

json_object *oci_spec_default(bool rootless)
{
	json_object *spec = json_object_new_object();
	json_object *root = json_object_new_object();
	json_object *mounts = json_object_new_array();

	json_add_string(spec, "ociVersion", "1.0.2-dev");
	json_object_object_add(spec, "process", process_json());
	json_add_string(root, "path", "rootfs");
	oci_add_bool(root, "readonly", true);
	json_object_object_add(spec, "root", root);
	json_add_string(spec, "hostname", "runc");
	for (size_t i = 0; i < sizeof(default_mounts) / sizeof(default_mounts[0]); i++) {
		const struct default_mount *m = &default_mounts[i];

		if (rootless && strcmp(m->destination, "/sys") == 0)
			m = &rootless_sys;
		json_object_array_add(mounts, mount_json(m, rootless));
	}
	json_object_object_add(spec, "mounts", mounts);
	json_object_object_add(spec, "linux", linux_json(rootless));
	return spec;
}

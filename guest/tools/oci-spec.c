/*
 * oci-spec: print an OCI runtime config.json (shaped like `runc spec`'s) for a bundle whose
 * process runs ARGS. Used by guest/make-bundle.sh for the demo and tests.
 *
 * usage: oci-spec [--tty] [--cwd DIR] [--env KEY=VALUE]... [--hostname NAME]
 *                 [--user UID[:GID]] [--rootfs PATH] [--readonly] [--] ARGS...
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#define MAX_ENV 256

struct spec_options {
	int terminal, readonly;
	const char *cwd, *hostname, *rootfs;
	unsigned long uid, gid;
	const char *env[MAX_ENV];
	int n_env;
	char **args;
	int n_args;
};

static void die(const char *msg, const char *arg)
{
	fprintf(stderr, "oci-spec: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static json_object *string_array(const char *const *items, int n)
{
	json_object *a = json_object_new_array();

	for (int i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_string(items[i]));
	return a;
}

static void add_string(json_object *o, const char *key, const char *value)
{
	json_object_object_add(o, key, json_object_new_string(value));
}

static json_object *new_mount(const char *destination, const char *type, const char *source,
                              const char *const *options, int n_options)
{
	json_object *m = json_object_new_object();

	add_string(m, "destination", destination);
	add_string(m, "type", type);
	add_string(m, "source", source);
	if (n_options)
		json_object_object_add(m, "options", string_array(options, n_options));
	return m;
}

#define ARRAY_ARGS(a) (a), (int)(sizeof(a) / sizeof((a)[0]))

static json_object *build_mounts(void)
{
	static const char *const dev[] = { "nosuid", "strictatime", "mode=755", "size=65536k" };
	static const char *const pts[] = { "nosuid",        "noexec",    "newinstance",
		                           "ptmxmode=0666", "mode=0620", "gid=5" };
	static const char *const shm[] = { "nosuid", "noexec", "nodev", "mode=1777",
		                           "size=65536k" };
	static const char *const mqueue[] = { "nosuid", "noexec", "nodev" };
	static const char *const sys[] = { "nosuid", "noexec", "nodev", "ro" };
	static const char *const cgroup[] = { "nosuid", "noexec", "nodev", "relatime", "ro" };
	json_object *mounts = json_object_new_array();

	json_object_array_add(mounts, new_mount("/proc", "proc", "proc", NULL, 0));
	json_object_array_add(mounts, new_mount("/dev", "tmpfs", "tmpfs", ARRAY_ARGS(dev)));
	json_object_array_add(mounts, new_mount("/dev/pts", "devpts", "devpts", ARRAY_ARGS(pts)));
	json_object_array_add(mounts, new_mount("/dev/shm", "tmpfs", "shm", ARRAY_ARGS(shm)));
	json_object_array_add(mounts,
	                      new_mount("/dev/mqueue", "mqueue", "mqueue", ARRAY_ARGS(mqueue)));
	json_object_array_add(mounts, new_mount("/sys", "sysfs", "sysfs", ARRAY_ARGS(sys)));
	json_object_array_add(mounts,
	                      new_mount("/sys/fs/cgroup", "cgroup", "cgroup", ARRAY_ARGS(cgroup)));
	return mounts;
}

static json_object *build_process(const struct spec_options *o)
{
	static const char *const caps[] = { "CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE" };
	static const char *const cap_sets[] = { "bounding", "effective", "permitted", "ambient" };
	const char *env[MAX_ENV + 2];
	int n_env = 0;
	json_object *process = json_object_new_object(), *user = json_object_new_object(),
	            *capabilities = json_object_new_object(), *rlimits = json_object_new_array(),
	            *nofile = json_object_new_object();

	json_object_object_add(process, "terminal", json_object_new_boolean(o->terminal));
	json_object_object_add(user, "uid", json_object_new_int64((int64_t)o->uid));
	json_object_object_add(user, "gid", json_object_new_int64((int64_t)o->gid));
	json_object_object_add(process, "user", user);
	json_object_object_add(process, "args",
	                       string_array((const char *const *)o->args, o->n_args));
	env[n_env++] = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	if (o->terminal)
		env[n_env++] = "TERM=xterm";
	for (int i = 0; i < o->n_env; i++)
		env[n_env++] = o->env[i];
	json_object_object_add(process, "env", string_array(env, n_env));
	add_string(process, "cwd", o->cwd);
	for (size_t i = 0; i < sizeof(cap_sets) / sizeof(cap_sets[0]); i++)
		json_object_object_add(capabilities, cap_sets[i], string_array(ARRAY_ARGS(caps)));
	json_object_object_add(process, "capabilities", capabilities);
	add_string(nofile, "type", "RLIMIT_NOFILE");
	json_object_object_add(nofile, "hard", json_object_new_int(1024));
	json_object_object_add(nofile, "soft", json_object_new_int(1024));
	json_object_array_add(rlimits, nofile);
	json_object_object_add(process, "rlimits", rlimits);
	json_object_object_add(process, "noNewPrivileges", json_object_new_boolean(1));
	return process;
}

static json_object *build_linux(void)
{
	static const char *const namespaces[] = { "pid", "network", "ipc", "uts", "mount" };
	static const char *const masked[] = { "/proc/acpi",          "/proc/asound",
		                              "/proc/kcore",         "/proc/keys",
		                              "/proc/latency_stats", "/proc/timer_list",
		                              "/proc/timer_stats",   "/proc/sched_debug",
		                              "/sys/firmware",       "/proc/scsi" };
	static const char *const readonly[] = { "/proc/bus", "/proc/fs", "/proc/irq", "/proc/sys",
		                                "/proc/sysrq-trigger" };
	json_object *linux_obj = json_object_new_object(), *ns = json_object_new_array();

	json_object_object_add(linux_obj, "resources", json_object_new_object());
	for (size_t i = 0; i < sizeof(namespaces) / sizeof(namespaces[0]); i++) {
		json_object *n = json_object_new_object();

		add_string(n, "type", namespaces[i]);
		json_object_array_add(ns, n);
	}
	json_object_object_add(linux_obj, "namespaces", ns);
	json_object_object_add(linux_obj, "maskedPaths", string_array(ARRAY_ARGS(masked)));
	json_object_object_add(linux_obj, "readonlyPaths", string_array(ARRAY_ARGS(readonly)));
	return linux_obj;
}

static unsigned long parse_id(const char *s, const char *what)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || (*end && *end != ':') || v > 0xfffffffeUL)
		die(what, s);
	return v;
}

static void parse_options(int argc, char **argv, struct spec_options *o)
{
	static const struct option longopts[] = {
		{ "tty", no_argument, NULL, 't' },
		{ "cwd", required_argument, NULL, 'c' },
		{ "env", required_argument, NULL, 'e' },
		{ "hostname", required_argument, NULL, 'h' },
		{ "user", required_argument, NULL, 'u' },
		{ "rootfs", required_argument, NULL, 'r' },
		{ "readonly", no_argument, NULL, 'R' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+tc:e:h:u:r:R", longopts, NULL)) != -1) {
		switch (c) {
		case 't':
			o->terminal = 1;
			break;
		case 'c':
			if (optarg[0] != '/')
				die("--cwd must be absolute", optarg);
			o->cwd = optarg;
			break;
		case 'e':
			if (!strchr(optarg, '=') || optarg[0] == '=')
				die("--env takes KEY=VALUE", optarg);
			if (o->n_env == MAX_ENV)
				die("too many --env", NULL);
			o->env[o->n_env++] = optarg;
			break;
		case 'h':
			o->hostname = optarg;
			break;
		case 'u': {
			const char *colon = strchr(optarg, ':');

			o->uid = parse_id(optarg, "bad --user");
			o->gid = colon ? parse_id(colon + 1, "bad --user") : o->uid;
			break;
		}
		case 'r':
			o->rootfs = optarg;
			break;
		case 'R':
			o->readonly = 1;
			break;
		default:
			exit(2);
		}
	}
	o->args = argv + optind;
	o->n_args = argc - optind;
	if (o->n_args == 0)
		die("no command given", NULL);
}

int main(int argc, char **argv)
{
	struct spec_options o = { .cwd = "/", .hostname = "kata", .rootfs = "rootfs" };
	json_object *spec = json_object_new_object(), *root = json_object_new_object();
	const char *text;

	parse_options(argc, argv, &o);
	add_string(spec, "ociVersion", "1.0.2");
	json_object_object_add(spec, "process", build_process(&o));
	add_string(root, "path", o.rootfs);
	json_object_object_add(root, "readonly", json_object_new_boolean(o.readonly));
	json_object_object_add(spec, "root", root);
	add_string(spec, "hostname", o.hostname);
	json_object_object_add(spec, "mounts", build_mounts());
	json_object_object_add(spec, "linux", build_linux());

	text = json_object_to_json_string_ext(spec, JSON_C_TO_STRING_PRETTY |
	                                                    JSON_C_TO_STRING_NOSLASHESCAPE);
	if (puts(text) == EOF || fflush(stdout) != 0) {
		perror("oci-spec: write");
		return 1;
	}
	json_object_put(spec);
	return 0;
}

#include "cgroup.h"

#include "agent.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

const char *agent_cgroup_root = "/sys/fs/cgroup";

/* Every v1 controller Linux 6.1 knows; only those mounted are used. */
static const char *const known_controllers[] = {
	"cpuset",     "cpu",      "cpuacct", "blkio", "memory", "devices", "freezer", "net_cls",
	"perf_event", "net_prio", "hugetlb", "pids",  "rdma",   "misc",    NULL,
};

static const char *mounted[sizeof(known_controllers) / sizeof(known_controllers[0])];

const char *const *agent_cgroup_controllers(void)
{
	size_t n = 0;

	for (size_t i = 0; known_controllers[i]; i++) {
		cleanup_free char *path =
		        xasprintf("%s/%s/cgroup.procs", agent_cgroup_root, known_controllers[i]);

		if (access(path, F_OK) == 0)
			mounted[n++] = known_controllers[i];
	}
	mounted[n] = NULL;
	return mounted;
}

int agent_cgroup_mount_all(kata_error_t *err)
{
	cleanup_fclose FILE *f = NULL;
	char line[256];

	if (mount("cgroup", agent_cgroup_root, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
	          "mode=755") < 0)
		return kata_error_sys(err, "mount tmpfs on %s", agent_cgroup_root);
	f = fopen("/proc/cgroups", "re");
	if (f == NULL)
		return kata_error_sys(err, "open /proc/cgroups");
	while (fgets(line, sizeof(line), f)) {
		char name[64];
		const char *options;
		int hierarchy, count, enabled;
		cleanup_free char *dir = NULL;

		if (line[0] == '#' ||
		    sscanf(line, "%63s %d %d %d", name, &hierarchy, &count, &enabled) != 4 ||
		    !enabled)
			continue;
		dir = xasprintf("%s/%s", agent_cgroup_root, name);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return kata_error_sys(err, "mkdir %s", dir);
		/* clone_children: a new cpuset starts with its parent's CPUs and memory nodes.
		 * Writing them (cpuset_inherit) rebuilds the scheduler's domains, guest code that
		 * a clone of a template would translate again at each container's start. */
		options = strcmp(name, "cpuset") == 0 ? "cpuset,clone_children" : name;
		if (mount("cgroup", dir, "cgroup", MS_NOSUID | MS_NODEV | MS_NOEXEC, options) < 0) {
			log_warning("mount cgroup %s: %m", name);
			rmdir(dir);
		}
	}
	return 0;
}

static int write_file(const char *path, const char *value, kata_error_t *err)
{
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	size_t len = strlen(value);

	if (fd < 0)
		return kata_error_sys(err, "open %s", path);
	if (write(fd, value, len) != (ssize_t)len)
		return kata_error_sys(err, "write `%s` to %s", value, path);
	return 0;
}

static char *read_small_file(const char *path)
{
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	char buf[4096];
	ssize_t n;

	if (fd < 0)
		return NULL;
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		return NULL;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return xstrdup(buf);
}

int agent_cgroup_write(const char *id, const char *controller, const char *file, const char *value,
                       kata_error_t *err)
{
	cleanup_free char *path = xasprintf("%s/%s/%s/%s/%s", agent_cgroup_root, controller,
	                                    AGENT_CGROUP_PARENT, id, file);

	return write_file(path, value, err);
}

/* cpuset needs cpus and mems before a task may join: inherit the parent's, where
 * clone_children did not (a hierarchy mounted without it). */
static void cpuset_inherit(const char *parent, const char *child)
{
	static const char *const files[] = { "cpuset.cpus", "cpuset.mems" };

	for (size_t i = 0; i < 2; i++) {
		cleanup_free char *ppath = xasprintf("%s/%s", parent, files[i]);
		cleanup_free char *cpath = xasprintf("%s/%s", child, files[i]);
		cleanup_free char *cur = read_small_file(cpath);
		cleanup_free char *value = NULL;
		cleanup_error kata_error_t err = NULL;

		if (cur != NULL && cur[0] != '\0')
			continue;
		value = read_small_file(ppath);
		if (value != NULL && value[0] != '\0' && write_file(cpath, value, &err) < 0)
			log_warning("%s", err->message);
	}
}

int agent_cgroup_cpuset_follow_online(kata_error_t *err)
{
	cleanup_free char *root = xasprintf("%s/cpuset/cpuset.cpus", agent_cgroup_root);
	cleanup_free char *parent =
	        xasprintf("%s/cpuset/%s/cpuset.cpus", agent_cgroup_root, AGENT_CGROUP_PARENT);
	cleanup_free char *cpus = read_small_file(root);

	if (cpus == NULL || cpus[0] == '\0' || access(parent, F_OK) < 0)
		return 0; /* no cpuset, or no container yet: the first one inherits the root's */
	return write_file(parent, cpus, err);
}

static int set_int(const char *id, const char *controller, const char *file, int64_t value,
                   kata_error_t *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%" PRId64, value);
	return agent_cgroup_write(id, controller, file, buf, err);
}

static bool have(const char *controller)
{
	for (const char *const *c = agent_cgroup_controllers(); *c; c++)
		if (strcmp(*c, controller) == 0)
			return true;
	return false;
}

static int apply_resources(const char *id, const struct oci_resources *r, kata_error_t *err)
{
	if (r->memory && have("memory")) {
		const struct oci_memory *m = r->memory;

		if (m->has_limit &&
		    set_int(id, "memory", "memory.limit_in_bytes", m->limit, err) < 0)
			return -1;
		if (m->has_reservation &&
		    set_int(id, "memory", "memory.soft_limit_in_bytes", m->reservation, err) < 0)
			return -1;
		if (m->has_swap && m->swap != 0) {
			cleanup_error kata_error_t swap_err = NULL;

			/* The guest may run without swap accounting: then there is no swap. */
			if (set_int(id, "memory", "memory.memsw.limit_in_bytes", m->swap,
			            &swap_err) < 0)
				log_info("%s", swap_err->message);
		}
		if (m->has_swappiness &&
		    set_int(id, "memory", "memory.swappiness", (int64_t)m->swappiness, err) < 0)
			return -1;
	}
	if (r->cpu && have("cpu")) {
		const struct oci_cpu *c = r->cpu;

		if (c->has_shares && c->shares != 0 &&
		    set_int(id, "cpu", "cpu.shares", (int64_t)c->shares, err) < 0)
			return -1;
		if (c->has_period && c->period != 0 &&
		    set_int(id, "cpu", "cpu.cfs_period_us", (int64_t)c->period, err) < 0)
			return -1;
		if (c->has_quota && c->quota != 0 &&
		    set_int(id, "cpu", "cpu.cfs_quota_us", c->quota, err) < 0)
			return -1;
	}
	if (r->cpu && have("cpuset")) {
		if (r->cpu->cpus && r->cpu->cpus[0] &&
		    agent_cgroup_write(id, "cpuset", "cpuset.cpus", r->cpu->cpus, err) < 0)
			return -1;
		if (r->cpu->mems && r->cpu->mems[0] &&
		    agent_cgroup_write(id, "cpuset", "cpuset.mems", r->cpu->mems, err) < 0)
			return -1;
	}
	if (r->pids && have("pids")) {
		if (r->pids->limit > 0) {
			if (set_int(id, "pids", "pids.max", r->pids->limit, err) < 0)
				return -1;
		} else if (agent_cgroup_write(id, "pids", "pids.max", "max", err) < 0) {
			return -1;
		}
	}
	if (r->block_io && r->block_io->has_weight && have("blkio")) {
		cleanup_error kata_error_t blk_err = NULL;

		/* Only with a scheduler that knows weights: not fatal. */
		if (set_int(id, "blkio", "blkio.weight", r->block_io->weight, &blk_err) < 0)
			log_info("%s", blk_err->message);
	}
	return 0;
}

int agent_cgroup_update(const char *id, const struct oci_resources *resources, kata_error_t *err)
{
	if (apply_resources(id, resources, err) < 0)
		return kata_error_wrap(err, "cgroup of %s", id);
	return 0;
}

int agent_cgroup_create(const char *id, const struct oci_resources *resources, kata_error_t *err)
{
	for (const char *const *c = agent_cgroup_controllers(); *c; c++) {
		cleanup_free char *root = xasprintf("%s/%s", agent_cgroup_root, *c);
		cleanup_free char *parent = xasprintf("%s/%s", root, AGENT_CGROUP_PARENT);
		cleanup_free char *dir = xasprintf("%s/%s", parent, id);

		if (mkdir(parent, 0755) < 0 && errno != EEXIST)
			return kata_error_sys(err, "mkdir %s", parent);
		if (mkdir(dir, 0755) < 0 && errno != EEXIST)
			return kata_error_sys(err, "mkdir %s", dir);
		if (strcmp(*c, "cpuset") == 0) {
			cpuset_inherit(root, parent);
			cpuset_inherit(parent, dir);
		}
		if (strcmp(*c, "memory") == 0) {
			cleanup_error kata_error_t h_err = NULL;

			/* Limits apply to the whole subtree (a no-op on recent kernels). */
			if (agent_cgroup_write(id, "memory", "memory.use_hierarchy", "1", &h_err) <
			    0)
				log_debug("%s", h_err->message);
		}
	}
	if (resources != NULL && apply_resources(id, resources, err) < 0)
		return kata_error_wrap(err, "cgroup of %s", id);
	return 0;
}

int agent_cgroup_enter(const char *id, pid_t pid, kata_error_t *err)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%d", (int)pid);
	for (const char *const *c = agent_cgroup_controllers(); *c; c++)
		if (agent_cgroup_write(id, *c, "cgroup.procs", buf, err) < 0)
			return -1;
	return 0;
}

int agent_cgroup_procs(const char *id, pid_t **pids, size_t *n, kata_error_t *err)
{
	static const char *const order[] = { "pids", "memory", "freezer", "cpu", NULL };

	*pids = NULL;
	*n = 0;
	for (size_t i = 0; order[i]; i++) {
		cleanup_free char *path = NULL;
		cleanup_fclose FILE *f = NULL;
		long pid;
		size_t cap = 0;

		if (!have(order[i]))
			continue;
		path = xasprintf("%s/%s/%s/%s/cgroup.procs", agent_cgroup_root, order[i],
		                 AGENT_CGROUP_PARENT, id);
		f = fopen(path, "re");
		if (f == NULL)
			return kata_error_sys(err, "open %s", path);
		while (fscanf(f, "%ld", &pid) == 1) {
			if (*n == cap) {
				cap = cap ? cap * 2 : 16;
				*pids = xrealloc(*pids, cap * sizeof(pid_t));
			}
			(*pids)[(*n)++] = (pid_t)pid;
		}
		return 0;
	}
	return kata_error_set(err, ENOENT, "no cgroup controller to list processes");
}

void agent_cgroup_remove(const char *id)
{
	for (const char *const *c = agent_cgroup_controllers(); *c; c++) {
		cleanup_free char *dir =
		        xasprintf("%s/%s/%s/%s", agent_cgroup_root, *c, AGENT_CGROUP_PARENT, id);

		/* The last task may still be on its way out: retry briefly. */
		for (int i = 0; i < 100 && rmdir(dir) < 0 && errno == EBUSY; i++)
			usleep(10000);
	}
}

int64_t agent_cgroup_oom_kills(const char *id)
{
	cleanup_free char *path = xasprintf("%s/memory/%s/%s/memory.oom_control", agent_cgroup_root,
	                                    AGENT_CGROUP_PARENT, id);
	cleanup_free char *text = read_small_file(path);
	const char *line = text;

	/* "oom_kill_disable 0\nunder_oom 0\noom_kill 1" */
	while (line != NULL && *line != '\0') {
		if (strncmp(line, "oom_kill ", 9) == 0) {
			char *end;
			long long kills;

			errno = 0;
			kills = strtoll(line + 9, &end, 10);
			return errno == 0 && end != line + 9 && kills >= 0 ? kills : -1;
		}
		line = strchr(line, '\n');
		if (line != NULL)
			line++;
	}
	return -1;
}

static void add_value(json_object *obj, const char *key, const char *id, const char *controller,
                      const char *file)
{
	cleanup_free char *path = xasprintf("%s/%s/%s/%s/%s", agent_cgroup_root, controller,
	                                    AGENT_CGROUP_PARENT, id, file);
	cleanup_free char *text = read_small_file(path);
	char *end;
	long long v;

	if (text == NULL)
		return;
	if (strcmp(text, "max") == 0) {
		json_object_object_add(obj, key, json_object_new_int64(-1));
		return;
	}
	errno = 0;
	v = strtoll(text, &end, 10);
	if (errno == 0 && end != text)
		json_object_object_add(obj, key, json_object_new_int64(v));
}

json_object *agent_cgroup_stats(const char *id)
{
	json_object *stats = json_object_new_object();

	if (have("memory")) {
		json_object *m = json_object_new_object();
		int64_t oom_kills;

		add_value(m, "usage", id, "memory", "memory.usage_in_bytes");
		add_value(m, "max_usage", id, "memory", "memory.max_usage_in_bytes");
		add_value(m, "limit", id, "memory", "memory.limit_in_bytes");
		add_value(m, "failcnt", id, "memory", "memory.failcnt");
		oom_kills = agent_cgroup_oom_kills(id);
		if (oom_kills >= 0)
			json_object_object_add(m, "oom_kills", json_object_new_int64(oom_kills));
		json_object_object_add(stats, "memory", m);
	}
	if (have("cpuacct")) {
		json_object *c = json_object_new_object();

		add_value(c, "usage", id, "cpuacct", "cpuacct.usage");
		add_value(c, "user", id, "cpuacct", "cpuacct.usage_user");
		add_value(c, "system", id, "cpuacct", "cpuacct.usage_sys");
		json_object_object_add(stats, "cpu", c);
	}
	if (have("pids")) {
		json_object *p = json_object_new_object();

		add_value(p, "current", id, "pids", "pids.current");
		add_value(p, "limit", id, "pids", "pids.max");
		json_object_object_add(stats, "pids", p);
	}
	return stats;
}

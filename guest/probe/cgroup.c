/*
 * probe cgroup: the limits of the process's own cgroup, cgroup v1 or v2 alike:
 *   cgroup_version=1|2  cgroup_path=P  memory_limit=BYTES|max  pids_limit=N|max
 *   cpu_quota=USEC|max  cpu_period=USEC  cpu_shares=N (v1) or cpu_weight=N (v2)
 *   cpuset_cpus=LIST  cpuset_mems=LIST
 * A value that cannot be read is "unavailable". Where the cgroup is found: under the
 * mount point at the path /proc/self/cgroup names, or at the mount point itself (a
 * container whose own cgroup is mounted there, or that has a cgroup namespace).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statfs.h>
#include <unistd.h>

#include "probe.h"

#define CGROUP_ROOT   "/sys/fs/cgroup"
#define CGROUP2_MAGIC 0x63677270
/* v1 reports "no memory limit" as the largest page-aligned long: anything this big. */
#define V1_UNLIMITED_MEMORY (1LL << 62)

static int is_cgroup2(const char *dir)
{
	struct statfs sfs;

	return statfs(dir, &sfs) == 0 && sfs.f_type == CGROUP2_MAGIC;
}

/* The path of this process in the hierarchy that has `controller` ("" for v2). */
static int own_cgroup_path(const char *controller, char *path, size_t size)
{
	FILE *f = fopen("/proc/self/cgroup", "re");
	char line[4096];
	int found = -1;

	if (!f)
		return -1;
	while (found < 0 && fgets(line, sizeof(line), f)) {
		char *controllers = strchr(line, ':'), *p;

		if (!controllers)
			continue;
		controllers++;
		p = strchr(controllers, ':');
		if (!p)
			continue;
		*p++ = '\0';
		p[strcspn(p, "\n")] = '\0';
		if (!controller[0]) {
			if (controllers[0])
				continue;
		} else {
			char *save = NULL;
			int match = 0;

			for (char *c = strtok_r(controllers, ",", &save); c && !match;
			     c = strtok_r(NULL, ",", &save))
				match = !strcmp(c, controller);
			if (!match)
				continue;
		}
		snprintf(path, size, "%s", p);
		found = 0;
	}
	fclose(f);
	return found;
}

/* Read FILE of the cgroup: DIR/PATH/FILE, else DIR/FILE. */
static int read_cgroup_file(const char *dir, const char *path, const char *file, char *buf,
                            size_t size)
{
	char full[PATH_MAX];

	if (path && path[0]) {
		snprintf(full, sizeof(full), "%s%s/%s", dir, path, file);
		if (probe_read_file(full, buf, size) == 0)
			return 0;
	}
	snprintf(full, sizeof(full), "%s/%s", dir, file);
	return probe_read_file(full, buf, size);
}

static void report_file(const char *key, const char *dir, const char *path, const char *file)
{
	char buf[256];

	if (read_cgroup_file(dir, path, file, buf, sizeof(buf)) < 0)
		probe_kv(key, "unavailable");
	else
		probe_kv(key, "%s", buf);
}

static void report_v2(const char *root)
{
	char path[PATH_MAX] = "", buf[256];

	own_cgroup_path("", path, sizeof(path));
	probe_kv("cgroup_version", "2");
	probe_kv("cgroup_path", "%s", path);
	report_file("memory_limit", root, path, "memory.max");
	report_file("pids_limit", root, path, "pids.max");
	if (read_cgroup_file(root, path, "cpu.max", buf, sizeof(buf)) == 0) {
		char *period = strchr(buf, ' ');

		if (period)
			*period++ = '\0';
		probe_kv("cpu_quota", "%s", buf);
		probe_kv("cpu_period", "%s", period ? period : "unavailable");
	} else {
		probe_kv("cpu_quota", "unavailable");
		probe_kv("cpu_period", "unavailable");
	}
	report_file("cpu_weight", root, path, "cpu.weight");
	report_file("cpuset_cpus", root, path, "cpuset.cpus.effective");
	report_file("cpuset_mems", root, path, "cpuset.mems.effective");
}

static void report_v1_file(const char *key, const char *controller, const char *file)
{
	char dir[PATH_MAX], path[PATH_MAX] = "";

	snprintf(dir, sizeof(dir), CGROUP_ROOT "/%s", controller);
	own_cgroup_path(controller, path, sizeof(path));
	report_file(key, dir, path, file);
}

static void report_v1(void)
{
	char dir[PATH_MAX], path[PATH_MAX] = "", buf[256];
	long long v;

	own_cgroup_path("memory", path, sizeof(path));
	probe_kv("cgroup_version", "1");
	probe_kv("cgroup_path", "%s", path);

	snprintf(dir, sizeof(dir), CGROUP_ROOT "/memory");
	if (read_cgroup_file(dir, path, "memory.limit_in_bytes", buf, sizeof(buf)) < 0)
		probe_kv("memory_limit", "unavailable");
	else if ((v = probe_parse_number(buf, LLONG_MAX)) >= V1_UNLIMITED_MEMORY)
		probe_kv("memory_limit", "max");
	else
		probe_kv("memory_limit", "%s", buf);

	report_v1_file("pids_limit", "pids", "pids.max");

	own_cgroup_path("cpu", path, sizeof(path));
	snprintf(dir, sizeof(dir), CGROUP_ROOT "/cpu");
	if (read_cgroup_file(dir, path, "cpu.cfs_quota_us", buf, sizeof(buf)) < 0)
		probe_kv("cpu_quota", "unavailable");
	else
		probe_kv("cpu_quota", "%s", strcmp(buf, "-1") ? buf : "max");
	report_file("cpu_period", dir, path, "cpu.cfs_period_us");
	report_file("cpu_shares", dir, path, "cpu.shares");

	report_v1_file("cpuset_cpus", "cpuset", "cpuset.effective_cpus");
	report_v1_file("cpuset_mems", "cpuset", "cpuset.effective_mems");
}

int probe_cgroup(int argc, char **argv)
{
	if (is_cgroup2(CGROUP_ROOT))
		report_v2(CGROUP_ROOT);
	else if (access(CGROUP_ROOT "/memory", F_OK) == 0)
		report_v1();
	else if (is_cgroup2(CGROUP_ROOT "/unified"))
		report_v2(CGROUP_ROOT "/unified");
	else {
		probe_warn("no cgroup filesystem mounted at " CGROUP_ROOT);
		return PROBE_FAILURE;
	}
	return 0;
}

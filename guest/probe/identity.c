/*
 * probe: who the process is and what it may do: ids, capabilities, resource limits,
 * environment, working directory, host name, pids.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "probe.h"

#define MAX_GROUPS 65536

int probe_ids(int argc, char **argv)
{
	static gid_t groups[MAX_GROUPS];
	uid_t ruid, euid, suid;
	gid_t rgid, egid, sgid;
	int n = getgroups(MAX_GROUPS, groups);
	char list[8192] = "";
	size_t len = 0;

	getresuid(&ruid, &euid, &suid);
	getresgid(&rgid, &egid, &sgid);
	probe_kv("uid", "%u", (unsigned)ruid);
	probe_kv("gid", "%u", (unsigned)rgid);
	probe_kv("euid", "%u", (unsigned)euid);
	probe_kv("egid", "%u", (unsigned)egid);
	probe_kv("suid", "%u", (unsigned)suid);
	probe_kv("sgid", "%u", (unsigned)sgid);
	for (int i = 0; i < n && len < sizeof(list) - 16; i++)
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%u", i ? "," : "",
		                        (unsigned)groups[i]);
	probe_kv("groups", "%s", list);
	return 0;
}

/* The capability sets as the kernel prints them in /proc/self/status (16 hex digits). */
int probe_caps(int argc, char **argv)
{
	static const struct {
		const char *status_key, *key;
	} sets[] = {
		{ "CapInh:", "inheritable" }, { "CapPrm:", "permitted" },
		{ "CapEff:", "effective" },   { "CapBnd:", "bounding" },
		{ "CapAmb:", "ambient" },     { "Seccomp:", "seccomp" },
	};
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];

	if (!f) {
		probe_warn("/proc/self/status: %s", strerror(errno));
		return PROBE_FAILURE;
	}
	while (fgets(line, sizeof(line), f)) {
		for (size_t i = 0; i < sizeof(sets) / sizeof(sets[0]); i++) {
			size_t klen = strlen(sets[i].status_key);
			char *value;

			if (strncmp(line, sets[i].status_key, klen))
				continue;
			value = line + klen + strspn(line + klen, " \t");
			value[strcspn(value, "\n")] = '\0';
			probe_kv(sets[i].key, "%s", value);
		}
	}
	fclose(f);
	probe_kv("no_new_privs", "%d", prctl(PR_GET_NO_NEW_PRIVS, 0, 0, 0, 0));
	return 0;
}

int probe_rlimits(int argc, char **argv)
{
	/* The OCI names (process.rlimits[].type) of the limits. */
	static const struct {
		int resource;
		const char *name;
	} limits[] = {
		{ RLIMIT_CPU, "RLIMIT_CPU" },           { RLIMIT_FSIZE, "RLIMIT_FSIZE" },
		{ RLIMIT_DATA, "RLIMIT_DATA" },         { RLIMIT_STACK, "RLIMIT_STACK" },
		{ RLIMIT_CORE, "RLIMIT_CORE" },         { RLIMIT_RSS, "RLIMIT_RSS" },
		{ RLIMIT_NPROC, "RLIMIT_NPROC" },       { RLIMIT_NOFILE, "RLIMIT_NOFILE" },
		{ RLIMIT_MEMLOCK, "RLIMIT_MEMLOCK" },   { RLIMIT_AS, "RLIMIT_AS" },
		{ RLIMIT_LOCKS, "RLIMIT_LOCKS" },       { RLIMIT_SIGPENDING, "RLIMIT_SIGPENDING" },
		{ RLIMIT_MSGQUEUE, "RLIMIT_MSGQUEUE" }, { RLIMIT_NICE, "RLIMIT_NICE" },
		{ RLIMIT_RTPRIO, "RLIMIT_RTPRIO" },     { RLIMIT_RTTIME, "RLIMIT_RTTIME" },
	};

	for (size_t i = 0; i < sizeof(limits) / sizeof(limits[0]); i++) {
		struct rlimit rl;
		char soft[32], hard[32];

		if (getrlimit(limits[i].resource, &rl) < 0)
			continue;
		if (rl.rlim_cur == RLIM_INFINITY)
			strcpy(soft, "unlimited");
		else
			snprintf(soft, sizeof(soft), "%llu", (unsigned long long)rl.rlim_cur);
		if (rl.rlim_max == RLIM_INFINITY)
			strcpy(hard, "unlimited");
		else
			snprintf(hard, sizeof(hard), "%llu", (unsigned long long)rl.rlim_max);
		probe_kv(limits[i].name, "%s:%s", soft, hard);
	}
	return 0;
}

int probe_env(int argc, char **argv)
{
	extern char **environ;

	for (char **e = environ; e && *e; e++)
		puts(*e);
	fflush(stdout);
	return 0;
}

int probe_cwd(int argc, char **argv)
{
	char path[PATH_MAX];

	if (!getcwd(path, sizeof(path))) {
		probe_warn("getcwd: %s", strerror(errno));
		return PROBE_FAILURE;
	}
	probe_kv("cwd", "%s", path);
	return 0;
}

int probe_hostname(int argc, char **argv)
{
	struct utsname u;

	if (uname(&u) < 0) {
		probe_warn("uname: %s", strerror(errno));
		return PROBE_FAILURE;
	}
	probe_kv("hostname", "%s", u.nodename);
	probe_kv("domainname", "%s", u.domainname);
	return 0;
}

int probe_pid(int argc, char **argv)
{
	probe_kv("pid", "%d", (int)getpid());
	probe_kv("ppid", "%d", (int)getppid());
	probe_kv("pgid", "%d", (int)getpgrp());
	probe_kv("sid", "%d", (int)getsid(0));
	return 0;
}

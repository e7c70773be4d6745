/* The identity, limits and confinement of a container process, set in the child just
 * before execve. */
#include "child.h"

#include "cleanup.h"

#include <cap-ng.h>
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <linux/capability.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *const cap_names[] = {
	"CHOWN",
	"DAC_OVERRIDE",
	"DAC_READ_SEARCH",
	"FOWNER",
	"FSETID",
	"KILL",
	"SETGID",
	"SETUID",
	"SETPCAP",
	"LINUX_IMMUTABLE",
	"NET_BIND_SERVICE",
	"NET_BROADCAST",
	"NET_ADMIN",
	"NET_RAW",
	"IPC_LOCK",
	"IPC_OWNER",
	"SYS_MODULE",
	"SYS_RAWIO",
	"SYS_CHROOT",
	"SYS_PTRACE",
	"SYS_PACCT",
	"SYS_ADMIN",
	"SYS_BOOT",
	"SYS_NICE",
	"SYS_RESOURCE",
	"SYS_TIME",
	"SYS_TTY_CONFIG",
	"MKNOD",
	"LEASE",
	"AUDIT_WRITE",
	"AUDIT_CONTROL",
	"SETFCAP",
	"MAC_OVERRIDE",
	"MAC_ADMIN",
	"SYSLOG",
	"WAKE_ALARM",
	"BLOCK_SUSPEND",
	"AUDIT_READ",
	"PERFMON",
	"BPF",
	"CHECKPOINT_RESTORE",
};
#define N_CAPS ((int)(sizeof(cap_names) / sizeof(cap_names[0])))

int agent_capability_number(const char *name)
{
	if (name == NULL)
		return -1;
	if (strncasecmp(name, "CAP_", 4) == 0)
		name += 4;
	for (int i = 0; i < N_CAPS; i++)
		if (strcasecmp(name, cap_names[i]) == 0)
			return i;
	return -1;
}

static int last_cap(void)
{
	static int last = -1;
	FILE *f;

	if (last >= 0)
		return last;
	f = fopen("/proc/sys/kernel/cap_last_cap", "re");
	if (f == NULL || fscanf(f, "%d", &last) != 1 || last < 0 || last > 63)
		last = CAP_LAST_CAP;
	if (f != NULL)
		fclose(f);
	return last;
}

static bool in_list(char *const *list, int cap)
{
	for (size_t i = 0; list && list[i]; i++)
		if (agent_capability_number(list[i]) == cap)
			return true;
	return false;
}

static int check_names(char *const *list, const char *set, kata_error_t *err)
{
	for (size_t i = 0; list && list[i]; i++)
		if (agent_capability_number(list[i]) < 0)
			return kata_error_set(err, EINVAL,
			                      "capabilities.%s: unknown capability `%s`", set,
			                      list[i]);
	return 0;
}

static int drop_bounding(const struct oci_capabilities *caps, kata_error_t *err)
{
	for (int cap = 0; cap <= last_cap(); cap++) {
		if (in_list(caps->bounding, cap))
			continue;
		if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) < 0 && errno != EINVAL)
			return kata_error_sys(err, "drop capability %d from the bounding set", cap);
	}
	return 0;
}

static int apply_caps(const struct oci_capabilities *caps, kata_error_t *err)
{
	capng_clear(CAPNG_SELECT_CAPS);
	for (int cap = 0; cap <= last_cap(); cap++) {
		int type = 0;

		if (in_list(caps->effective, cap))
			type |= CAPNG_EFFECTIVE;
		if (in_list(caps->permitted, cap))
			type |= CAPNG_PERMITTED;
		if (in_list(caps->inheritable, cap))
			type |= CAPNG_INHERITABLE;
		if (type != 0 && capng_update(CAPNG_ADD, type, (unsigned)cap) < 0)
			return kata_error_set(err, EINVAL, "capability %d", cap);
	}
	if (capng_apply(CAPNG_SELECT_CAPS) < 0)
		return kata_error_sys(err, "apply capabilities");
	/* An ambient capability must be permitted and inheritable already; runc skips one
	 * that is not (its default spec lists ambient capabilities but no inheritable
	 * ones), and so does the agent, so the same config.json works. */
	for (size_t i = 0; caps->ambient && caps->ambient[i]; i++) {
		int cap = agent_capability_number(caps->ambient[i]);

		if (prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_RAISE, cap, 0, 0) < 0 && errno != EPERM)
			return kata_error_sys(err, "raise ambient capability %s", caps->ambient[i]);
	}
	return 0;
}

static int set_rlimits(const struct oci_process *p, kata_error_t *err)
{
	for (size_t i = 0; i < p->n_rlimits; i++) {
		struct rlimit rl = { .rlim_cur = p->rlimits[i].soft,
			             .rlim_max = p->rlimits[i].hard };

		if (setrlimit(p->rlimits[i].resource, &rl) < 0)
			return kata_error_sys(err, "setrlimit %s", p->rlimits[i].type);
	}
	return 0;
}

static int set_oom_score(const struct oci_process *p, kata_error_t *err)
{
	char buf[16];
	cleanup_close int fd = -1;
	int len;

	if (!p->has_oom_score_adj)
		return 0;
	len = snprintf(buf, sizeof(buf), "%d", p->oom_score_adj);
	fd = open("/proc/self/oom_score_adj", O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, buf, (size_t)len) != len)
		return kata_error_sys(err, "oom_score_adj");
	return 0;
}

static int set_identity(const struct oci_process *p, kata_error_t *err)
{
	const struct oci_user *u = &p->user;
	gid_t *groups = NULL;

	if (u->n_additional_gids > 0)
		groups = (gid_t *)u->additional_gids;
	/* setgroups may be denied in a user namespace; only then is it skipped. */
	if (setgroups(u->n_additional_gids, groups) < 0 && !(errno == EPERM && groups == NULL))
		return kata_error_sys(err, "setgroups");
	if (setresgid(u->gid, u->gid, u->gid) < 0)
		return kata_error_sys(err, "setresgid %u", u->gid);
	if (setresuid(u->uid, u->uid, u->uid) < 0)
		return kata_error_sys(err, "setresuid %u", u->uid);
	return 0;
}

int agent_child_setup_process(const struct oci_process *p, const struct oci_spec *spec,
                              bool *seccomp_later, kata_error_t *err)
{
	const struct oci_seccomp *seccomp =
	        spec && spec->linux_spec ? spec->linux_spec->seccomp : NULL;
	const struct oci_capabilities *caps = p->capabilities;

	*seccomp_later = false;
	if (set_rlimits(p, err) < 0 || set_oom_score(p, err) < 0)
		return -1;
	if (caps != NULL && (check_names(caps->bounding, "bounding", err) < 0 ||
	                     check_names(caps->effective, "effective", err) < 0 ||
	                     check_names(caps->permitted, "permitted", err) < 0 ||
	                     check_names(caps->inheritable, "inheritable", err) < 0 ||
	                     check_names(caps->ambient, "ambient", err) < 0))
		return -1;
	/* Without no_new_privs only CAP_SYS_ADMIN may load a filter: do it while we have it. */
	if (seccomp != NULL) {
		if (p->no_new_privileges)
			*seccomp_later = true;
		else if (agent_child_load_seccomp(seccomp, false, err) < 0)
			return -1;
	}
	if (caps != NULL && drop_bounding(caps, err) < 0)
		return -1;
	if (caps != NULL && prctl(PR_SET_KEEPCAPS, 1, 0, 0, 0) < 0)
		return kata_error_sys(err, "PR_SET_KEEPCAPS");
	if (set_identity(p, err) < 0)
		return -1;
	if (caps != NULL) {
		if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0)
			return kata_error_sys(err, "PR_SET_KEEPCAPS");
		if (apply_caps(caps, err) < 0)
			return -1;
	}
	if (p->no_new_privileges && prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0)
		return kata_error_sys(err, "PR_SET_NO_NEW_PRIVS");
	umask(p->user.has_umask ? (mode_t)p->user.umask : 022);
	if (chdir(p->cwd ? p->cwd : "/") < 0)
		return kata_error_sys(err, "chdir %s", p->cwd ? p->cwd : "/");
	return 0;
}

static const char *env_get(char *const *env, const char *key)
{
	size_t len = strlen(key);

	for (size_t i = 0; env && env[i]; i++)
		if (strncmp(env[i], key, len) == 0 && env[i][len] == '=')
			return env[i] + len + 1;
	return NULL;
}

int agent_child_exec(const struct oci_process *p, kata_error_t *err)
{
	static char *const empty_env[] = { NULL };
	char *const *env = p->env ? p->env : empty_env;
	const char *path;
	cleanup_free char *copy = NULL;
	int saved = ENOENT;

	if (p->args == NULL || p->args[0] == NULL)
		return kata_error_set(err, EINVAL, "no program to run");
	if (strchr(p->args[0], '/')) {
		execve(p->args[0], p->args, env);
		return kata_error_sys(err, "exec %s", p->args[0]);
	}
	path = env_get(env, "PATH");
	copy = xstrdup(path ? path
	                    : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin");
	for (char *save = NULL, *dir = strtok_r(copy, ":", &save); dir;
	     dir = strtok_r(NULL, ":", &save)) {
		cleanup_free char *file = xasprintf("%s/%s", dir[0] ? dir : ".", p->args[0]);

		execve(file, p->args, env);
		if (errno != ENOENT && errno != ENOTDIR)
			saved = errno;
	}
	errno = saved;
	return kata_error_sys(err, "exec %s", p->args[0]);
}

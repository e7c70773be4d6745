/* kata-check for the libvirt backend (see libvirt_host.h). */
#include "libvirt_host.h"
#include "libvirt_conn.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cleanup.h"

#define LIBVIRT_QEMU_CONF         "/etc/libvirt/qemu.conf"
#define LIBVIRT_DEFAULT_QEMU_USER "libvirt-qemu" /* Debian's build of libvirt */
#define MAX_GROUPS                256

/* `user = "NAME"` on a line of its own (qemu.conf is libvirt's key = value format). */
static char *user_of_line(const char *line)
{
	const char *p = line + strspn(line, " \t");
	const char *end;

	if (strncmp(p, "user", 4) != 0)
		return NULL;
	p += 4;
	p += strspn(p, " \t");
	if (*p != '=')
		return NULL;
	p++;
	p += strspn(p, " \t");
	if (*p != '"')
		return NULL;
	end = strchr(p + 1, '"');
	if (end == NULL || end == p + 1)
		return NULL;
	return xstrndup(p + 1, (size_t)(end - p - 1));
}

char *libvirt_qemu_user(const char *qemu_conf)
{
	FILE *f = fopen(qemu_conf != NULL ? qemu_conf : LIBVIRT_QEMU_CONF, "re");
	char line[1024];
	char *user = NULL;

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *found = user_of_line(line);

		if (found != NULL) {
			free(user);
			user = found; /* the last one wins, as in libvirt */
		}
	}
	if (f != NULL)
		fclose(f);
	return user != NULL ? user : xstrdup(LIBVIRT_DEFAULT_QEMU_USER);
}

static bool in_groups(gid_t gid, const gid_t *groups, int n)
{
	for (int i = 0; i < n; i++)
		if (groups[i] == gid)
			return true;
	return false;
}

bool libvirt_user_can_use_kvm(const char *user, const char *kvm_path, char **why)
{
	gid_t groups[MAX_GROUPS];
	int n = MAX_GROUPS;
	struct passwd *pw;
	struct stat st;
	mode_t bits;

	*why = NULL;
	if (stat(kvm_path, &st) < 0) {
		*why = xasprintf("%s: %s", kvm_path, strerror(errno));
		return false;
	}
	/* `user` may be "+UID" in qemu.conf; a number resolves through getpwuid. */
	pw = user[0] == '+' ? getpwuid((uid_t)strtoul(user + 1, NULL, 10)) : getpwnam(user);
	if (pw == NULL) {
		*why = xasprintf("no user %s on this host", user);
		return false;
	}
	if (pw->pw_uid == 0)
		return true;
	if (getgrouplist(pw->pw_name, pw->pw_gid, groups, &n) < 0)
		n = 0;
	if (st.st_uid == pw->pw_uid)
		bits = (st.st_mode >> 6) & 7;
	else if (st.st_gid == pw->pw_gid || in_groups(st.st_gid, groups, n))
		bits = (st.st_mode >> 3) & 7;
	else
		bits = st.st_mode & 7;
	if ((bits & 6) == 6)
		return true;
	*why = xasprintf("%s is mode %04o, owner %u, group %u", kvm_path,
	                 (unsigned int)(st.st_mode & 07777), (unsigned int)st.st_uid,
	                 (unsigned int)st.st_gid);
	return false;
}

/* The host's own libvirtd (qemu:///system, its /etc/libvirt/qemu.conf) runs qemu as a user
 * of its own; if that user cannot open /dev/kvm, libvirt 9.0 throws its capabilities of qemu
 * away on every lookup and probes again: ~88 s per domain start here (docs/libvirt.md). */
static void check_kvm_access(hypervisor_check_report_fn report, void *opaque)
{
	cleanup_free char *user = libvirt_qemu_user(NULL);
	cleanup_free char *why = NULL;
	cleanup_free char *detail = NULL;

	if (access("/dev/kvm", F_OK) < 0)
		return;
	if (libvirt_user_can_use_kvm(user, "/dev/kvm", &why)) {
		detail = xasprintf("libvirt's qemu user %s can open it", user);
		report(opaque, HYPERVISOR_CHECK_OK, "libvirt and /dev/kvm", detail);
		return;
	}
	detail = xasprintf("libvirt runs qemu as %s, who cannot open /dev/kvm (%s): libvirt probes "
	                   "qemu again on every domain start (about 90 s each here); give the kvm "
	                   "group read-write access to /dev/kvm, or set user = \"root\" in "
	                   "/etc/libvirt/qemu.conf (docs/libvirt.md)",
	                   user, why);
	report(opaque, HYPERVISOR_CHECK_WARN, "libvirt and /dev/kvm", detail);
}

int libvirt_check(struct hypervisor *hv, hypervisor_check_report_fn report, void *opaque,
                  unsigned int flags, kata_error_t *err)
{
	const char *uri = hv->config->hypervisor.uri;
	cleanup_error kata_error_t conn_err = NULL;
	cleanup_free char *detail = NULL;
	unsigned long lib = 0, version = 0;
	cleanup_virconn virConnectPtr conn = NULL;

	if (libvirt_dl_load(&conn_err) < 0) {
		report(opaque, HYPERVISOR_CHECK_FAIL, "libvirt", conn_err->message);
		return 0;
	}
	conn = libvirt_connect(uri, &conn_err);
	if (conn == NULL) {
		detail = xasprintf("cannot %s", conn_err->message);
		report(opaque, HYPERVISOR_CHECK_FAIL, "libvirt", detail);
		return 0;
	}
	virt_dl.virConnectGetLibVersion(conn, &lib);
	virt_dl.virConnectGetVersion(conn, &version);
	detail = xasprintf("%s reachable (libvirt %lu.%lu.%lu, hypervisor %lu.%lu.%lu)", uri,
	                   lib / 1000000, lib / 1000 % 1000, lib % 1000, version / 1000000,
	                   version / 1000 % 1000, version % 1000);
	report(opaque, HYPERVISOR_CHECK_OK, "libvirt", detail);
	if (strcmp(uri, "qemu:///system") == 0)
		check_kvm_access(report, opaque);
	return 0;
}

/* Pod-wide commands: STARTPOD and DESTROYPOD. */
#include "agent.h"
#include "startpod_facts.h"

#include "cleanup.h"
#include "log.h"
#include "request.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

static int mkdir_p(const char *path, mode_t mode, kata_error_t *err)
{
	cleanup_free char *copy = xstrdup(path);

	for (char *p = copy + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(copy, mode) < 0 && errno != EEXIST)
			return kata_error_sys(err, "mkdir %s", copy);
		*p = '/';
	}
	if (mkdir(copy, mode) < 0 && errno != EEXIST)
		return kata_error_sys(err, "mkdir %s", copy);
	return 0;
}

static int write_resolv_conf(char *const *dns, kata_error_t *err)
{
	cleanup_fclose FILE *f = NULL;

	if (mkdir_p("/etc", 0755, err) < 0)
		return -1;
	f = fopen("/etc/resolv.conf", "we");
	if (f == NULL)
		return kata_error_sys(err, "open /etc/resolv.conf");
	for (size_t i = 0; dns[i]; i++)
		fprintf(f, "nameserver %s\n", dns[i]);
	if (fflush(f) != 0)
		return kata_error_sys(err, "write /etc/resolv.conf");
	return 0;
}

/* Read-ahead of the 9p share, in KiB. */
#define AGENT_9P_READ_AHEAD_KB 64

/* cache=mmap gives the share read-ahead of a whole message (512 KiB) per page fault: a
 * container at its memory limit then thrashes on its own program's pages instead of
 * being OOM-killed (agent_guest.sh's memory limit test timed out). 64 KiB per fault keep
 * most of the gain. The backing device of a 9p mount is named 9p-N; with one 9p mount in
 * the guest it is the only one, and usually 9p-1 (a directory scan costs ~1 ms more under
 * TCG). */
static bool set_read_ahead(const char *bdi)
{
	cleanup_free char *path = xasprintf("/sys/class/bdi/%s/read_ahead_kb", bdi);
	cleanup_close int fd = open(path, O_WRONLY | O_CLOEXEC);
	char value[16];
	int len = snprintf(value, sizeof(value), "%d", AGENT_9P_READ_AHEAD_KB);

	if (fd < 0)
		return false;
	if (write(fd, value, (size_t)len) != len)
		log_warning("read-ahead of the 9p share: %s: %m", path);
	return true;
}

static void limit_9p_read_ahead(void)
{
	cleanup_closedir DIR *dir = NULL;
	struct dirent *de;

	if (set_read_ahead("9p-1"))
		return;
	dir = opendir("/sys/class/bdi");
	while (dir != NULL && (de = readdir(dir)) != NULL)
		if (strncmp(de->d_name, "9p-", 3) == 0)
			set_read_ahead(de->d_name);
}

static int mount_share(const char *tag, const char *fstype, uint32_t msize, kata_error_t *err)
{
	const char *type = strcmp(fstype, "virtiofs") == 0 ? "virtiofs" : "9p";
	/* 9p: the Linux-flavoured protocol, the msize the runtime put on the kernel command
	 * line (msize_9p). cache=mmap (Kata's choice too) caches only what is mapped, allows
	 * shared writable mappings, and gives the mount read-ahead: with cache=none every page
	 * of a program that is executed is its own 9p round trip (STARTCONTAINER to the exit
	 * of busybox's true: ~70 -> ~55 ms under TCG). Reads and writes still go to the host
	 * every time. */
	cleanup_free char *data =
	        strcmp(type, "9p") == 0
	                ? xasprintf("trans=virtio,version=9p2000.L,cache=mmap,msize=%u",
	                            msize != 0 ? msize : AGENT_MSIZE_9P_DEFAULT)
	                : NULL;

	if (mkdir_p(AGENT_SHARED_DIR, 0755, err) < 0)
		return -1;
	if (mount(tag, AGENT_SHARED_DIR, type, MS_NODEV, data) < 0)
		return kata_error_sys(err, "mount %s share `%s` on %s", type, tag,
		                      AGENT_SHARED_DIR);
	if (strcmp(type, "9p") == 0)
		limit_9p_read_ahead();
	return 0;
}

char *agent_pod_namespace_path(struct agent *a, const char *path, kata_error_t *err)
{
	static const char *const names[] = { "ipc", "uts", "pid" };
	size_t prefix = strlen(AGENT_POD_NS_PREFIX);
	cleanup_free char *id = NULL;
	const char *slash, *name;
	struct agent_container *c;

	if (strncmp(path, AGENT_POD_NS_PREFIX, prefix) != 0)
		return xstrdup(path);
	slash = strchr(path + prefix, '/');
	if (slash == NULL || slash == path + prefix) {
		kata_error_set(err, EINVAL, "namespace path `%s`: expected %sID/NAME", path,
		               AGENT_POD_NS_PREFIX);
		return NULL;
	}
	id = xstrndup(path + prefix, (size_t)(slash - path - (ptrdiff_t)prefix));
	name = slash + 1;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		if (strcmp(name, names[i]) != 0)
			continue;
		c = agent_container_find(a, id);
		if (c == NULL || c->init == NULL || c->init->exited) {
			kata_error_set(err, ESRCH,
			               "namespace `%s`: the pod's container `%s` is not running",
			               name, id);
			return NULL;
		}
		return xasprintf("/proc/%d/ns/%s", (int)c->init_pid, name);
	}
	kata_error_set(err, EINVAL,
	               "namespace path `%s`: only ipc, uts and pid are shared in a pod", path);
	return NULL;
}

int agent_cmd_startpod(struct agent *a, json_object *req, json_object **result, kata_error_t *err)
{
	struct agent_startpod_request r;
	struct agent_host_facts facts;
	int ret = -1;

	if (a->pod_started)
		return kata_error_set(err, EINVAL, "the pod was started already");
	/* First: this VM may be a clone of a template, with its RNG and clock. */
	if (agent_parse_host_facts(req, &facts, err) < 0 ||
	    agent_apply_host_facts(&facts, err) < 0) {
		explicit_bzero(&facts, sizeof(facts));
		return -1;
	}
	explicit_bzero(&facts, sizeof(facts));
	if (agent_parse_startpod(req, &r, err) < 0)
		return -1;
	if (r.hostname && sethostname(r.hostname, strlen(r.hostname)) < 0) {
		kata_error_sys(err, "sethostname");
		goto out;
	}
	if (r.dns && r.dns[0] && write_resolv_conf(r.dns, err) < 0)
		goto out;
	/* Before the share is mounted: a failure here leaves no mount behind. */
	if (agent_network_apply(&r.net, err) < 0)
		goto out;
	if (r.share_tag) {
		if (mount_share(r.share_tag, r.share_fstype, a->msize_9p, err) < 0)
			goto out;
		a->share_mounted = true;
	}
	a->pod_started = true;
	log_debug("pod started (hostname %s)", r.hostname ? r.hostname : "-");
	ret = 0;
out:
	agent_startpod_request_clear(&r);
	return ret;
}

/* SETUPINTERFACE and SETUPROUTE: a network that arrived after STARTPOD, on a NIC the VM has
 * had since it booted (the runtime's standby NIC, docs/network.md). */
static int apply_late_network(struct agent *a, json_object *req,
                              int (*parse)(json_object *, struct agent_net_config *,
                                           kata_error_t *),
                              kata_error_t *err)
{
	struct agent_net_config net;
	int ret;

	if (!a->pod_started)
		return kata_error_set(err, EINVAL, "the pod is not started");
	if (parse(req, &net, err) < 0)
		return -1;
	ret = agent_network_apply(&net, err);
	agent_net_config_clear(&net);
	return ret;
}

int agent_cmd_setupinterface(struct agent *a, json_object *req, json_object **result,
                             kata_error_t *err)
{
	return apply_late_network(a, req, agent_parse_setup_interface, err);
}

int agent_cmd_setuproute(struct agent *a, json_object *req, json_object **result, kata_error_t *err)
{
	return apply_late_network(a, req, agent_parse_setup_route, err);
}

int agent_cmd_destroypod(struct agent *a, json_object *req, json_object **result, kata_error_t *err)
{
	agent_kill_everything(a);
	if (a->share_mounted && umount2(AGENT_SHARED_DIR, MNT_DETACH) < 0)
		log_warning("umount %s: %m", AGENT_SHARED_DIR);
	a->share_mounted = false;
	/* The ACK goes out first; the main loop powers off once it is written. */
	a->poweroff_pending = true;
	return 0;
}

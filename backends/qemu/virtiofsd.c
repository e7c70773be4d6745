/* Supervising virtiofsd (see virtiofsd.h). */
#include "virtiofsd.h"
#include "launch.h"
#include "qemu_cmdline.h"
#include "strv_builder.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "cleanup.h"
#include "fd_util.h"

#define SO_ACCEPTCON_FLAG 0x10000 /* "Flags" of /proc/net/unix for a listening socket */

char **virtiofsd_build_cmdline(const struct kata_hypervisor_config *hc, const char *shared_dir,
                               const char *socket_path)
{
	struct strv_builder b = { 0 };
	bool has_rlimit = false, has_cache = false;
	struct rlimit nofile;

	strv_builder_add(&b, hc->virtio_fs_daemon != NULL && hc->virtio_fs_daemon[0]
	                             ? hc->virtio_fs_daemon
	                             : QEMU_DEFAULT_VIRTIOFSD);
	strv_builder_addf(&b, "--socket-path=%s", socket_path);
	strv_builder_add(&b, "-o");
	strv_builder_addf(&b, "source=%s", shared_dir);
	for (char **arg = hc->virtio_fs_extra_args; arg != NULL && *arg != NULL; arg++) {
		has_rlimit |= strncmp(*arg, "--rlimit-nofile", 15) == 0;
		has_cache |= strstr(*arg, "cache=") != NULL;
	}
	if (!has_cache) {
		strv_builder_add(&b, "-o");
		strv_builder_addf(&b, "cache=%s",
		                  hc->virtio_fs_cache != NULL && hc->virtio_fs_cache[0]
		                          ? hc->virtio_fs_cache
		                          : "auto");
	}
	/* Its default raises RLIMIT_NOFILE to 1000000, which fails without CAP_SYS_RESOURCE
	 * above the hard limit: ask for the hard limit instead. */
	if (!has_rlimit && getrlimit(RLIMIT_NOFILE, &nofile) == 0 &&
	    nofile.rlim_max != RLIM_INFINITY)
		strv_builder_addf(&b, "--rlimit-nofile=%llu", (unsigned long long)nofile.rlim_max);
	for (char **arg = hc->virtio_fs_extra_args; arg != NULL && *arg != NULL; arg++)
		strv_builder_add(&b, *arg);
	strv_builder_add(&b, "-f"); /* we detach it ourselves, and so know its pid */
	return strv_builder_steal(&b);
}

bool unix_socket_is_listening(const char *path)
{
	cleanup_fclose FILE *f = fopen("/proc/net/unix", "re");
	cleanup_free char *line = NULL;
	size_t cap = 0, path_len = strlen(path);

	if (f == NULL)
		return false;
	/* Num RefCount Protocol Flags Type St Inode Path */
	while (getline(&line, &cap, f) > 0) {
		unsigned long flags;
		char *p = strchr(line, '/');
		size_t len;

		if (p == NULL || sscanf(line, "%*s %*s %*s %lx", &flags) != 1)
			continue;
		len = strcspn(p, "\n");
		if (len == path_len && memcmp(p, path, len) == 0 && (flags & SO_ACCEPTCON_FLAG))
			return true;
	}
	return false;
}

static char *log_tail(const char *log_path)
{
	char buf[2048];
	cleanup_close int fd = open(log_path, O_RDONLY | O_CLOEXEC);
	off_t size;
	ssize_t n;

	if (fd < 0)
		return xstrdup("");
	size = lseek(fd, 0, SEEK_END);
	if (size > (off_t)sizeof(buf) - 1)
		lseek(fd, size - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	n = read(fd, buf, sizeof(buf) - 1);
	if (n < 0)
		n = 0;
	while (n > 0 && buf[n - 1] == '\n')
		n--;
	buf[n] = '\0';
	return xstrdup(buf);
}

int virtiofsd_start(char *const argv[], const char *socket_path, const char *log_path,
                    struct process_id *proc, int timeout_ms, kata_error_t *err)
{
	int64_t deadline = now_ms() + timeout_ms;

	unlink(socket_path);
	if (process_start_daemon(argv,
	                         &(const struct launch_setup){ .in = LAUNCH_NULL,
	                                                       .out = LAUNCH_LOG,
	                                                       .err = LAUNCH_LOG,
	                                                       .log_path = log_path },
	                         proc, err) < 0)
		return kata_error_wrap(err, "virtiofsd");
	for (;;) {
		struct timespec ts = { .tv_sec = 0, .tv_nsec = 5 * 1000 * 1000 };

		if (unix_socket_is_listening(socket_path))
			return 0;
		if (!process_is_alive(proc)) {
			cleanup_free char *tail = log_tail(log_path);
			return kata_error_set(err, ECHILD, "virtiofsd exited: %s", tail);
		}
		if (now_ms() > deadline) {
			process_terminate(proc, 0, NULL);
			return kata_error_set(err, ETIMEDOUT,
			                      "virtiofsd: %s not listening after %d ms",
			                      socket_path, timeout_ms);
		}
		nanosleep(&ts, NULL);
	}
}

/* kata-hyperstart-wait in the share (dialect.h): from beside the shim into
 * SHARED/.kata-hyperstart/, which NEWCONTAINER maps into the container. */
#include "cleanup.h"
#include "dialect.h"
#include "dialect_hyperstart.h"
#include "log.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <sys/stat.h>
#include <unistd.h>

static char *wait_host_path(const struct kata_config *config)
{
	cleanup_free char *shim = xstrdup(config->shim.path != NULL ? config->shim.path : "");

	return xasprintf("%s/" HYPERSTART_WAIT_NAME, dirname(shim));
}

static int copy_file(const char *from, const char *to, kata_error_t *err)
{
	cleanup_close int in = open(from, O_RDONLY | O_CLOEXEC);
	cleanup_close int out = -1;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return kata_error_sys(err, "open `%s`", from);
	out = open(to, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0755);
	if (out < 0)
		return kata_error_sys(err, "create `%s`", to);
	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return kata_error_sys(err, "read `%s`", from);
		for (ssize_t done = 0; done < n;) {
			ssize_t w = write(out, buf + done, (size_t)(n - done));
			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return kata_error_sys(err, "write `%s`", to);
			done += w;
		}
	}
	return 0;
}

int hyperstart_share_wait(const struct kata_config *config, const char *shared_dir, const char *id,
                          kata_error_t *err)
{
	cleanup_free char *from = wait_host_path(config);
	cleanup_free char *dir = xasprintf("%s/" HYPERSTART_WAIT_SHARE_DIR, shared_dir);
	cleanup_free char *to = xasprintf("%s/" HYPERSTART_WAIT_NAME, dir);
	cleanup_free char *status_dir =
	        xasprintf("%s/%s/" HYPERSTART_STATUS_SHARE_DIR, shared_dir, id);

	if (hyperstart_wait_shared(shared_dir))
		return mkdir(status_dir, 0755) < 0 && errno != EEXIST
		               ? kata_error_sys(err, "create `%s`", status_dir)
		               : 1; /* a second container of the pod */
	if (access(from, X_OK) < 0) {
		log_warning("%s: %m: with the hyperstart dialect a process killed by a signal "
		            "will be reported as exit status 0, as hyperstart reports it",
		            from);
		return 0;
	}
	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return kata_error_sys(err, "create `%s`", dir);
	if (copy_file(from, to, err) < 0) {
		unlink(to);
		return -1;
	}
	if (mkdir(status_dir, 0755) < 0 && errno != EEXIST)
		return kata_error_sys(err, "create `%s`", status_dir);
	return 1;
}

bool hyperstart_wait_shared(const char *shared_dir)
{
	cleanup_free char *path =
	        xasprintf("%s/" HYPERSTART_WAIT_SHARE_DIR "/" HYPERSTART_WAIT_NAME, shared_dir);

	return access(path, X_OK) == 0;
}

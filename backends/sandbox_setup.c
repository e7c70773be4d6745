/* What both VM backends need to set a sandbox up: its directory, the paths in it, and the
 * accelerator that `auto` stands for. */
#include "backends.h"
#include "cleanup.h"
#include "log.h"

#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

char *backend_sandbox_path(const char *dir, const char *name, bool is_socket, kata_error_t *err)
{
	char *path = xasprintf("%s/%s", dir, name);

	if (is_socket && strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		kata_error_set(err, ENAMETOOLONG,
		               "socket path %s is longer than a unix socket allows (%zu bytes)",
		               path, sizeof(((struct sockaddr_un *)0)->sun_path) - 1);
		free(path);
		return NULL;
	}
	return path;
}

int backend_resolve_accelerator(const struct kata_config *config, enum kata_accelerator *accel,
                                kata_error_t *err)
{
	cleanup_free char *reason = NULL;

	*accel = config->hypervisor.accelerator;
	if (*accel != KATA_ACCEL_AUTO)
		return 0;
	/* Booting decides, not /dev/kvm: here KVM runs only PVM guests (DESIGN.md). */
	if (hypervisor_probe_accelerator(config, accel, &reason, err) < 0)
		return kata_error_wrap(err, "accelerator auto");
	log_debug("accelerator auto: %s (%s)", kata_accelerator_name(*accel), reason);
	return 0;
}

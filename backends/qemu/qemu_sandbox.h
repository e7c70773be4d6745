/* The qemu backend's state of one sandbox: everything start/stop/cleanup need in a later
 * runtime process, saved as JSON. */
#ifndef KATA_QEMU_SANDBOX_H
#define KATA_QEMU_SANDBOX_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "error.h"
#include "hypervisor.h"
#include "process.h"

enum qemu_phase {
	QEMU_PHASE_CREATED = 0, /* prepared, never started */
	QEMU_PHASE_STARTED,     /* start() succeeded: qemu should be running */
	QEMU_PHASE_STOPPED,     /* stop() or cleanup() ended it */
};

struct qemu_sandbox {
	char *id;
	char *dir;
	char *shared_dir; /* NULL: none */
	bool created_dir; /* cleanup() removes dir only then */
	bool debug;
	enum qemu_phase phase;
	char *qmp_path;
	char *channel_paths[2];
	char *console_path;
	char *console_log_path; /* NULL unless debug */
	char *pid_path;
	char *virtiofsd_socket; /* NULL unless virtio-fs */
	char *virtiofsd_log;
	char **argv; /* qemu's, fixed at create time */
	/* From a template (docs/templating.md): argv starts a clone, boot_argv is the normal
	 * boot it falls back to when the template cannot be used. NULL: argv boots. */
	char **boot_argv;
	char **virtiofsd_argv; /* NULL unless virtio-fs */
	struct process_id qemu;
	struct process_id virtiofsd;
	/* Not saved: the taps' fds, borrowed from create() to start() in one process, and the
	 * NICs they are (for a clone, which hot-plugs them). */
	int *tap_fds;
	size_t n_tap_fds;
	const struct hypervisor_nic *nics;
};

void qemu_sandbox_free(struct qemu_sandbox *sb);
json_object *qemu_sandbox_to_json(const struct qemu_sandbox *sb);
struct qemu_sandbox *qemu_sandbox_from_json(json_object *obj, kata_error_t *err);

#endif

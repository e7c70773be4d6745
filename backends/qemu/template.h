/* VM templating for the qemu backend, Kata 1.x's factory (docs/templating.md).
 *
 * The template: a VM booted with the configured kernel, initrd and devices until its agent
 * is ready, paused, and saved in the template directory:
 *
 *   TEMPLATE_PATH/lock           flock: exclusive while (re)made or destroyed, shared while
 *                                a clone starts from it
 *   TEMPLATE_PATH/memory         the guest RAM (memory-backend-file, share=on)
 *   TEMPLATE_PATH/state          the device state: qemu's migration stream without the RAM
 *                                (x-ignore-shared)
 *   TEMPLATE_PATH/template.json  written last: the key, the sizes of both files; without it
 *                                the files are a half-made template
 *
 * A clone maps the memory file privately (copy-on-write) and loads the state with
 * -incoming defer + migrate-incoming. Files are replaced by unlink and create, never
 * rewritten in place: a running clone's private mapping still reads the file's pages.
 */
#ifndef KATA_QEMU_TEMPLATE_H
#define KATA_QEMU_TEMPLATE_H

#include <stdbool.h>
#include <stdint.h>
#include <json-c/json.h>

#include "config.h"
#include "error.h"
#include "qmp.h"

#define QEMU_TEMPLATE_LOCK   "lock"
#define QEMU_TEMPLATE_MEMORY "memory"
#define QEMU_TEMPLATE_STATE  "state"
#define QEMU_TEMPLATE_META   "template.json"
/* Bumped when what a template holds, or how it is made, changes. */
#define QEMU_TEMPLATE_FORMAT 1

enum qemu_template_status {
	QEMU_TEMPLATE_OK = 0,
	QEMU_TEMPLATE_ABSENT,  /* nothing there */
	QEMU_TEMPLATE_STALE,   /* made from another kernel, initrd, qemu or configuration */
	QEMU_TEMPLATE_DAMAGED, /* half-made, or its files are not what template.json says */
};

const char *qemu_template_status_name(enum qemu_template_status status);

/* Whether this configuration can use templates at all; *err says why not. */
int qemu_template_supported(const struct kata_config *config, kata_error_t *err);

/* The key over everything a template depends on: the runtime's version and template format,
 * qemu's binary, the kernel and the initrd (which holds the agent) by path, size, inode and
 * modification time, and the template's whole qemu command line (machine, memory, vCPUs,
 * devices, kernel parameters, accelerator). Allocated text, one fact per line. */
char *qemu_template_key(const struct kata_config *config, kata_error_t *err);

/* Compares the template in dir with key; *reason (allocated) says what is wrong. */
enum qemu_template_status qemu_template_check(const char *dir, const char *key, char **reason);

/* Boots, waits for the agent, pauses and saves a new template, replacing whatever was there.
 * Takes the lock itself. */
int qemu_template_create(const struct kata_config *config, kata_error_t *err);
/* Removes the template's files (running clones keep theirs: unlinked, still mapped). */
int qemu_template_destroy(const struct kata_config *config, kata_error_t *err);
/* {"path", "status", "reason", "memory_bytes", "state_bytes", "created"} */
json_object *qemu_template_status_json(const struct kata_config *config, kata_error_t *err);

/* For a clone's start: a shared lock on a template that matches the configuration, made
 * first when there is none or it is stale (with a log line). Returns the lock's fd (close it
 * once the clone has loaded the state), or -1 with *err when the template is damaged or could
 * not be made: the caller boots normally. */
int qemu_template_acquire(const struct kata_config *config, kata_error_t *err);

/* The QMP halves, separate so that tests can run them against a fake qemu. */
/* Template: pause, then save the device state without the shared RAM to state_path. */
int qemu_template_save_state(struct qmp *qmp, const char *state_path, int timeout_ms,
                             kata_error_t *err);
/* Clone (started with -incoming defer): load state_path and wait until the VM runs. */
int qemu_template_load_state(struct qmp *qmp, const char *state_path, int timeout_ms,
                             kata_error_t *err);

#endif

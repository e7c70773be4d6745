/* Starting a sandbox's qemu from the VM template (template.h, docs/templating.md). */
#ifndef KATA_QEMU_TEMPLATE_CLONE_H
#define KATA_QEMU_TEMPLATE_CLONE_H

#include "config.h"
#include "error.h"
#include "qemu_cmdline.h"
#include "qemu_sandbox.h"

/* With [factory] enable_template: whether this sandbox can be a clone of the template (the
 * template's vCPUs and memory, a shared directory over 9p, no network card, no hotplug).
 * If so, *argv (plan's normal boot) moves to *boot_argv and *argv becomes the clone's.
 * A sandbox that cannot (nor any sandbox of a configuration that cannot have a template:
 * virtio-fs, a foreign agent dialect) is left to boot, with a log line. */
int qemu_clone_plan(const struct kata_config *config, const struct qemu_plan *plan,
                    char ***boot_argv, char ***argv, kata_error_t *err);

/* Starts sb->argv as a clone: the template checked (made when absent or stale) under its
 * lock, qemu launched, the device state loaded, the VM running; fills sb->qemu. On failure
 * it logs why and returns -1: the caller cleans up and boots sb->boot_argv. */
int qemu_clone_start(const struct kata_config *config, struct qemu_sandbox *sb);

#endif

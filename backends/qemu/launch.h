/* Starting the processes of a sandbox so that they outlive the short-lived runtime. */
#ifndef KATA_QEMU_LAUNCH_H
#define KATA_QEMU_LAUNCH_H

#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "process.h"

#define LAUNCH_MAX_STDERR (16 * 1024)

/* Runs argv (a program that daemonizes itself, like qemu -daemonize) and waits up to
 * timeout_ms for its foreground process to exit. A non-zero exit fails with the program's
 * own stderr output in the message. */
int launch_daemonizing(char *const argv[], int timeout_ms, kata_error_t *err);
/* The same, with fds[i] open in the program as first_fd + i (first_fd >= 3). */
int launch_daemonizing_fds(char *const argv[], const int *fds, size_t n_fds, int first_fd,
                           int timeout_ms, kata_error_t *err);

/* launch_daemonizing_fds for a VM template's clone: qemu without transparent huge pages. Under
 * TCG qemu asks for its translation cache in huge pages, and each 2 MiB page a clone's start
 * touches would be resident whole (docs/templating.md, "Figures"). */
int launch_daemonizing_clone(char *const argv[], const int *fds, size_t n_fds, int first_fd,
                             int timeout_ms, kata_error_t *err);

/* Reads a pid file written by a daemon. */
int read_pid_file(const char *path, pid_t *pid, kata_error_t *err);

#endif

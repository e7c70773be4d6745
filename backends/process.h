/* Processes that outlive the runtime (qemu, virtiofsd), watched from later runtime
 * processes that are not their parents.
 *
 * Liveness comes from /proc/PID/stat, never from kill(pid, 0): an exited daemon stays a
 * zombie until init reaps it (seconds on these machines). A process is named by its pid and
 * its start time (field 22 of stat), so a reused pid is never mistaken for it.
 */
#ifndef KATA_BACKENDS_PROCESS_H
#define KATA_BACKENDS_PROCESS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "error.h"
#include "process_launch.h"

struct process_id {
	pid_t pid;
	uint64_t start_time; /* clock ticks after boot; 0: unknown, not checked */
};

/* The largest pid Linux hands out (PID_MAX_LIMIT on 64-bit); a saved one above it is refused. */
#define PROCESS_PID_MAX 4194304

/* The saved form of a process_id, wherever one is recorded: {"pid": N, "start_time": T}. */
json_object *process_id_to_json(const struct process_id *proc);
/* Reads obj[key] (path: obj's own, for errors, as in json_util.h). Returns 1, or 0 with *proc
 * zeroed when the key is absent or null, or -1 when it is not {pid in [0, PROCESS_PID_MAX],
 * start_time}. */
int process_id_from_json(json_object *obj, const char *key, const char *path,
                         struct process_id *proc, kata_error_t *err);

/* Reads state letter and start time. Returns -1 (errno ENOENT/ESRCH) if there is no such pid. */
int process_read_stat(pid_t pid, char *state, uint64_t *start_time);
/* Alive: exists, is not a zombie (Z) or dead (X), and has the recorded start time. */
bool process_is_alive(const struct process_id *proc);
/* Fills start_time for a pid that was just started. */
int process_identify(pid_t pid, struct process_id *proc, kata_error_t *err);
/* Starts argv as a daemon (lib/process_launch.h's launch_daemon) and names it by pid and
 * start time. A daemon whose exec failed is still named (its zombie's stat is readable). */
int process_start_daemon(char *const argv[], const struct launch_setup *setup,
                         struct process_id *proc, kata_error_t *err);
/* Waits until the process is no longer alive. Returns 0, or -1 with ETIMEDOUT. */
int process_wait_gone(const struct process_id *proc, int timeout_ms);
/* Sends sig if the process is still the one recorded. Returns 0 also when it is gone. */
int process_signal(const struct process_id *proc, int sig, kata_error_t *err);
/* SIGTERM, wait up to term_ms, then SIGKILL and wait (bounded). */
int process_terminate(const struct process_id *proc, int term_ms, kata_error_t *err);

#endif

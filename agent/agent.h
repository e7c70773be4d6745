/* kata-agent's state: the two channels to the host, the containers and the processes
 * they run. One thread; everything happens from the event loop (lib/event.h). */
#ifndef KATA_AGENT_AGENT_H
#define KATA_AGENT_AGENT_H

#include "agent_proto.h"
#include "channel.h"
#include "error.h"
#include "event.h"
#include "oci_spec.h"

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Where STARTPOD mounts the shared directory; container rootfs paths are relative to it. */
#define AGENT_SHARED_DIR "/run/kata-containers/shared"
/* Parent of the containers' cgroups in every v1 hierarchy. */
#define AGENT_CGROUP_PARENT "kata"

/* Output buffered for the I/O channel beyond which the agent stops reading processes. */
#define AGENT_IO_QUEUE_HIGH (1u << 20)
/* stdin buffered for one process beyond which the agent stops reading the I/O channel. */
#define AGENT_STDIN_QUEUE_HIGH (8u << 20)

struct agent;
struct agent_container;

/* stdout or stderr of a process, sent to the host as I/O frames on seq. */
struct agent_stream {
	struct agent_process *process;
	int fd; /* -1 once closed */
	uint64_t seq;
	uint64_t window; /* bytes the host still accepts (flow-control credits) */
	bool eof_sent;
	bool is_pty;
	struct event_fd *efd; /* once reading was first wanted; owns fd */
};

struct agent_process {
	struct agent *agent;
	struct agent_container *container;
	char *id;
	pid_t pid;
	bool init; /* the container's first process */
	bool terminal;
	bool exited;
	int status;      /* exit code, 128+N for a death by signal N */
	bool oom_killed; /* killed by its container's memory cgroup (reported as oomKilled) */
	bool reported;
	int stdin_fd;
	bool stdin_close_pending;
	struct event_fd *stdin_efd; /* holds the queued stdin, present only while some is */
	int pty_master;             /* kept for WINSIZE, -1 without a terminal */
	struct agent_stream out;
	struct agent_stream err;
	struct agent_process *next;
};

struct agent_container {
	struct agent *agent;
	char *id;
	char *rootfs; /* absolute, in the guest */
	struct oci_spec *spec;
	struct agent_process *init;
	pid_t init_pid;
	int sync_fd; /* to the init process until it runs the user's program */
	bool started;
	bool has_userns;
	bool has_netns; /* a network namespace of its own, whose lo the init brings up */
	int64_t oom_kills_reported; /* its memory cgroup's OOM kills the exit reports named */
	struct agent_container *next;
};

/* The agent's parameters on the kernel command line, read once when it starts. */
struct agent_boot_params {
	bool debug;        /* agent.log=debug, or agent.debug */
	uint32_t msize_9p; /* agent.msize_9p=N in AGENT_MSIZE_9P_MIN..MAX; 0 when absent or not */
};
void agent_parse_boot_params(const char *cmdline, struct agent_boot_params *params);

struct agent {
	struct event_loop *loop;
	uint32_t msize_9p; /* of the share's 9p mount; 0: AGENT_MSIZE_9P_DEFAULT */
	struct agent_channel ctl;
	struct agent_channel io;
	int own_pidns_fd; /* to come back after forking into a container's pid namespace */
	bool pod_started;
	bool share_mounted;
	bool streams_paused; /* the I/O channel queue is above AGENT_IO_QUEUE_HIGH */
	bool stdin_holds_io; /* a process's stdin queue stopped the reading of the I/O channel */
	bool poweroff_pending;
	/* A command answers later (agent_ctl_answer): the commands that came meanwhile wait,
	 * in order, and the control channel is not read. */
	bool ctl_answer_pending;
	struct agent_ctl_backlog *ctl_backlog;
	struct agent_online_wait *online_wait; /* ONLINECPUMEM waiting for devices (update.c) */
	struct agent_container *containers;
	struct agent_process *processes;
};

/* --- control channel (control.c) ----------------------------------------------------- */
/* Frame callbacks of the channels (lib/agent_frame.h): they always take the next frame. */
bool agent_ctl_frame(void *opaque, enum agent_frame_event event, uint64_t id,
                     const unsigned char *payload, size_t length);
/* The answers queued for the host went down: take commands again. */
void agent_ctl_drained(struct agent_channel *ch, void *opaque);
void agent_send_ctl(struct agent *a, uint32_t code, const void *payload, size_t len);
void agent_send_ctl_json(struct agent *a, uint32_t code, json_object *obj);
/* The answer of the command that returned AGENT_CMD_LATER: ACK with result (NULL: none)
 * when err is NULL, ERROR otherwise; then the commands that came meanwhile run. */
void agent_ctl_answer(struct agent *a, json_object *result, kata_error_t err);

/* --- I/O channel and processes (process.c) ---------------------------------------------- */
bool agent_io_frame(void *opaque, enum agent_frame_event event, uint64_t id,
                    const unsigned char *payload, size_t length);
void agent_io_drained(struct agent_channel *ch, void *opaque);
/* Registers a started process; takes its fds (-1 when absent). */
struct agent_process *agent_process_add(struct agent *a, struct agent_container *c, const char *id,
                                        pid_t pid, bool terminal, int stdin_fd, int stdout_fd,
                                        int stderr_fd, int pty_master, uint64_t stdio_seq,
                                        uint64_t stderr_seq);
struct agent_process *agent_process_find(struct agent *a, const char *container, const char *id);
struct agent_process *agent_process_by_pid(struct agent *a, pid_t pid);
bool agent_seq_in_use(struct agent *a, uint64_t seq);
/* A child was reaped: records the status and reports it once the streams are done. */
void agent_process_exited(struct agent_process *p, int wait_status);
void agent_process_free(struct agent_process *p);
/* Pauses the I/O channel while some process has too much stdin queued (process.c). */
void agent_update_stdin_hold(struct agent *a);

/* --- containers (container.c) ------------------------------------------------------------- */
struct agent_container *agent_container_find(struct agent *a, const char *id);
void agent_container_free(struct agent_container *c);
/* A namespace path AGENT_POD_NS_PREFIX ID/NAME (lib/agent_proto.h) resolved to
 * /proc/PID/ns/NAME of container ID's running init; any other path is returned as it is. */
char *agent_pod_namespace_path(struct agent *a, const char *path, kata_error_t *err);
/* Kills every process of every container with SIGKILL and waits for them (DESTROYPOD). */
void agent_kill_everything(struct agent *a);

/* --- commands (cmd_*.c), each answers with a JSON result (NULL for none) or an error --- */
/* Or, returned by a command that waits on the loop: it calls agent_ctl_answer() later. */
#define AGENT_CMD_LATER 1
typedef int (*agent_cmd_fn)(struct agent *a, json_object *req, json_object **result,
                            kata_error_t *err);
int agent_cmd_startpod(struct agent *a, json_object *req, json_object **result, kata_error_t *err);
int agent_cmd_setupinterface(struct agent *a, json_object *req, json_object **result,
                             kata_error_t *err);
int agent_cmd_setuproute(struct agent *a, json_object *req, json_object **result,
                         kata_error_t *err);
int agent_cmd_destroypod(struct agent *a, json_object *req, json_object **result,
                         kata_error_t *err);
int agent_cmd_newcontainer(struct agent *a, json_object *req, json_object **result,
                           kata_error_t *err);
int agent_cmd_startcontainer(struct agent *a, json_object *req, json_object **result,
                             kata_error_t *err);
int agent_cmd_execcmd(struct agent *a, json_object *req, json_object **result, kata_error_t *err);
int agent_cmd_killcontainer(struct agent *a, json_object *req, json_object **result,
                            kata_error_t *err);
int agent_cmd_signalprocess(struct agent *a, json_object *req, json_object **result,
                            kata_error_t *err);
int agent_cmd_winsize(struct agent *a, json_object *req, json_object **result, kata_error_t *err);
int agent_cmd_removecontainer(struct agent *a, json_object *req, json_object **result,
                              kata_error_t *err);
int agent_cmd_pscontainer(struct agent *a, json_object *req, json_object **result,
                          kata_error_t *err);
int agent_cmd_updatecontainer(struct agent *a, json_object *req, json_object **result,
                              kata_error_t *err);
int agent_cmd_onlinecpumem(struct agent *a, json_object *req, json_object **result,
                           kata_error_t *err);
/* Where ONLINECPUMEM finds the CPUs and memory blocks: /sys/devices/system; tests point it
 * elsewhere. */
extern const char *agent_system_devices_root;
int agent_cmd_statscontainer(struct agent *a, json_object *req, json_object **result,
                             kata_error_t *err);

/* --- the guest itself (boot.c) ---------------------------------------------------------------- */
int agent_boot_mounts(kata_error_t *err);
int agent_load_modules(kata_error_t *err);
/* The initramfs cannot be pivot_root'ed away from, which containers need: the agent moves
 * its root to an empty tmpfs. */
int agent_switch_root(kata_error_t *err);
/* Finds /dev/vportNpM whose name is `name`, waiting up to timeout_ms for it to appear. */
char *agent_find_port(const char *name, int timeout_ms, kata_error_t *err);
/* Logs why and powers the VM off; never returns. */
void agent_fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
void agent_poweroff(void) __attribute__((noreturn));

#endif

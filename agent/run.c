/* kata-agent's life: boot the guest, find the channels, say READY, serve until
 * DESTROYPOD, power off. */
#include "agent.h"

#include "agent_proto.h"
#include "cleanup.h"
#include "log.h"
#include "guest_network.h"
#include "run.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

/* How long the ports may take to appear, and the ACK of DESTROYPOD to be written. */
#define PORT_TIMEOUT_MS     10000
#define POWEROFF_DEADLINE_S 3
/* While the ACK of DESTROYPOD waits to be written, how often the deadline is checked. */
#define POWEROFF_POLL_MS 20

static bool word_is(const char *word, size_t len, const char *text)
{
	return len == strlen(text) && strncmp(word, text, len) == 0;
}

/* The N of agent.msize_9p=N (len bytes of digits): 0, the agent's default, unless it is a
 * plain decimal number in AGENT_MSIZE_9P_MIN..MAX. */
static uint32_t parse_msize(const char *digits, size_t len)
{
	char *end;
	unsigned long v;

	if (len == 0 || digits[0] < '0' || digits[0] > '9')
		return 0;
	errno = 0;
	v = strtoul(digits, &end, 10);
	if (errno != 0 || end != digits + len || v < AGENT_MSIZE_9P_MIN || v > AGENT_MSIZE_9P_MAX)
		return 0;
	return (uint32_t)v;
}

/* Each space-separated word once: agent.log=debug and agent.msize_9p=N (the runtime's,
 * backends/machine.c). */
void agent_parse_boot_params(const char *cmdline, struct agent_boot_params *params)
{
	static const char msize[] = "agent.msize_9p=";
	const size_t prefix = sizeof(msize) - 1;

	memset(params, 0, sizeof(*params));
	for (const char *w = cmdline + strspn(cmdline, " \t\n"); *w; w += strspn(w, " \t\n")) {
		size_t len = strcspn(w, " \t\n");

		if (word_is(w, len, "agent.log=debug") || word_is(w, len, "agent.debug"))
			params->debug = true;
		if (len > prefix && strncmp(w, msize, prefix) == 0)
			params->msize_9p = parse_msize(w + prefix, len - prefix);
		w += len;
	}
}

static void read_boot_params(struct agent_boot_params *params)
{
	FILE *f = fopen("/proc/cmdline", "re");
	char line[4096] = "";

	if (f != NULL) {
		if (fgets(line, sizeof(line), f) == NULL)
			line[0] = '\0';
		fclose(f);
	}
	agent_parse_boot_params(line, params);
}

static int open_channel(struct agent *a, struct agent_channel *ch, const char *name, bool io,
                        kata_error_t *err)
{
	static const struct agent_channel_ops ctl_ops = { .frame = agent_ctl_frame,
		                                          .drained = agent_ctl_drained };
	static const struct agent_channel_ops io_ops = { .frame = agent_io_frame,
		                                         .drained = agent_io_drained };
	cleanup_free char *dev = agent_find_port(name, PORT_TIMEOUT_MS, err);
	int fd;

	if (dev == NULL)
		return -1;
	fd = open(dev, O_RDWR | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return kata_error_sys(err, "open %s", dev);
	log_info("channel %s is %s", name, dev);
	return agent_channel_open(ch, a->loop, name, fd, io, io ? &io_ops : &ctl_ops, a, err);
}

/* With console=hvc0 the console is a virtio-serial port, which may appear only after
 * the agent first looked for /dev/console at boot: once the channels (ports of the same
 * device) are there, try again, so that the agent's log reaches the host. */
static void reopen_console(void)
{
	int fd;

	if (isatty(STDERR_FILENO))
		return;
	fd = open("/dev/console", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0)
		return;
	dup2(fd, STDOUT_FILENO);
	dup2(fd, STDERR_FILENO);
	if (fd > STDERR_FILENO)
		close(fd);
	log_debug("console opened late");
}

static long ms_of(const struct timespec *t)
{
	return (long)(t->tv_sec * 1000 + t->tv_nsec / 1000000);
}

static int setup(struct agent *a, kata_error_t *err)
{
	struct timespec started, boot;
	struct agent_boot_params params;

	memset(a, 0, sizeof(*a));
	clock_gettime(CLOCK_BOOTTIME, &started);
	a->own_pidns_fd = -1;
	if (getpid() == 1) {
		if (agent_load_modules(err) < 0 || agent_switch_root(err) < 0 ||
		    agent_boot_mounts(err) < 0)
			return -1;
	}
	read_boot_params(&params);
	if (kata_log_init("kata-agent", NULL, KATA_LOG_TEXT,
	                  params.debug ? KATA_LOG_DEBUG : KATA_LOG_INFO, err) < 0)
		return -1;
	a->msize_9p = params.msize_9p;
	log_info("kata-agent %s starting", KATA_VERSION);
	/* lo is up in the guest whether or not STARTPOD brings interfaces. */
	if (getpid() == 1 && agent_network_loopback_up(err) < 0) {
		log_warning("%s", (*err)->message);
		kata_error_free(err);
	}
	/* Orphans of the guest come to us, and we reap them all. */
	(void)prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	/* The loop ignores SIGPIPE and reaps every child on SIGCHLD (blocked, read from its
	 * signalfd); the statuses of processes go to agent_process_exited(). */
	a->loop = event_loop_new(err);
	if (a->loop == NULL)
		return -1;
	if (event_loop_handle_sigchld(a->loop, err) < 0)
		return -1;
	a->own_pidns_fd = open("/proc/self/ns/pid", O_RDONLY | O_CLOEXEC);
	if (a->own_pidns_fd < 0)
		return kata_error_sys(err, "open /proc/self/ns/pid");
	if (open_channel(a, &a->ctl, AGENT_CTL_CHANNEL_NAME, false, err) < 0 ||
	    open_channel(a, &a->io, AGENT_IO_CHANNEL_NAME, true, err) < 0)
		return -1;
	if (getpid() == 1)
		reopen_console();
	/* Queued until the host end opens: hyperstart's behaviour. */
	agent_send_ctl(a, AGENT_READY, NULL, 0);
	/* The console may have opened only now: the start is told here too. */
	clock_gettime(CLOCK_BOOTTIME, &boot);
	log_info("ready %ld ms after the kernel started (the agent started at %ld ms)",
	         ms_of(&boot), ms_of(&started));
	return 0;
}

int agent_run(char **argv)
{
	(void)argv;
	struct agent agent;
	struct agent *a = &agent;
	cleanup_error kata_error_t err = NULL;
	time_t poweroff_deadline = 0;

	if (setup(a, &err) < 0)
		agent_fatal("%s", err->message);
	/* A channel whose host end is closed is checked by the loop every
	 * EVENT_RECONNECT_POLL_MS besides its wake-up. */
	for (;;) {
		if (event_loop_run_once(a->loop, a->poweroff_pending ? POWEROFF_POLL_MS : -1,
		                        &err) < 0)
			agent_fatal("%s", err->message);
		if (a->poweroff_pending) {
			if (poweroff_deadline == 0)
				poweroff_deadline = time(NULL) + POWEROFF_DEADLINE_S;
			if (agent_channel_queued(&a->ctl) == 0 || time(NULL) >= poweroff_deadline)
				break;
		}
	}
	log_info("powering off");
	if (getpid() == 1)
		agent_poweroff();
	return 0;
}

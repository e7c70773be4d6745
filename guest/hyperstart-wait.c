/* kata-hyperstart-wait [--uid=N --gid=N [--groups=N,...]] [--status=FILE] -- PROGRAM [ARGS...]:
 * runs PROGRAM as its child (with those user and group ids, when given) and exits with its
 * exit status, or 128+N when a signal N killed it, after writing that status to FILE.
 *
 * runV's hyperstart reports a process killed by a signal as having exited 0. With the
 * hyperstart dialect the runtime starts every container process through this program
 * (shared into the container by the runtime, docs/dialects.md), so that a death by signal
 * reaches the engine as 128+N. Everything hyperstart set up (user, working directory,
 * environment, stdio, terminal, session) is inherited by the child, which gets a process
 * group of its own (the terminal's foreground group, with a terminal). A signal sent to
 * this process with kill(2) (hyperstart's KILLCONTAINER, and SIGNALPROCESS, which hyperstart
 * sends to this process's group) is passed on to the child, once. If this process is killed (SIGKILL),
 * the child is killed with it. Static: it runs in whatever root filesystem the container has.
 *
 * FILE: hyperstart v1.1.0 does not reap a container's processes under this project's guest
 * kernel (they are orphans of a helper that setns()ed into the pod, and stay zombies), so
 * it never reports their end. FILE is in the sandbox's share; it is written before this
 * process exits, so before the end of its stdout reaches the host, where kata-proxy reads it.
 *
 * The ids are set here, not by hyperstart, because hyperstart looks a user up in the
 * container's /etc/passwd and fails when it is not there, where OCI's ids are just numbers.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The exit statuses of a program that could not be run, as a shell (and hyperstart) give. */
#define STATUS_NOT_FOUND      127
#define STATUS_NOT_EXECUTABLE 126
#define STATUS_WAIT_FAILED    125

#define MAX_GROUPS 64

struct ids {
	const char *status_file;
	int set;
	uid_t uid;
	gid_t gid;
	gid_t groups[MAX_GROUPS];
	size_t n_groups;
};

static int parse_id(const char *text, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(text, &end, 10);
	if (errno != 0 || end == text || (*end != '\0' && *end != ',') || v > 0xfffffffful)
		return -1;
	*out = (unsigned)v;
	return (int)(end - text);
}

/* A whole argument that is one id. */
static int parse_one_id(const char *text, unsigned *out)
{
	int n = parse_id(text, out);

	return n >= 0 && text[n] == '\0' ? 0 : -1;
}

/* --uid=N --gid=N --groups=N,N,... up to "--"; returns the index of PROGRAM or -1. */
static int parse_options(int argc, char **argv, struct ids *ids)
{
	int i;
	unsigned v;

	for (i = 1; i < argc && strcmp(argv[i], "--") != 0; i++) {
		if (strncmp(argv[i], "--uid=", 6) == 0 && parse_one_id(argv[i] + 6, &v) == 0) {
			ids->uid = v;
			ids->set = 1;
		} else if (strncmp(argv[i], "--gid=", 6) == 0 &&
		           parse_one_id(argv[i] + 6, &v) == 0) {
			ids->gid = v;
		} else if (strncmp(argv[i], "--status=", 9) == 0 && argv[i][9] == '/') {
			ids->status_file = argv[i] + 9;
		} else if (strncmp(argv[i], "--groups=", 9) == 0) {
			const char *p = argv[i] + 9;
			int n;
			while (*p != '\0') {
				if (ids->n_groups == MAX_GROUPS || (n = parse_id(p, &v)) < 0)
					return -1;
				ids->groups[ids->n_groups++] = v;
				p += n;
				if (*p == ',')
					p++;
			}
		} else {
			return -1;
		}
	}
	return i + 1 < argc ? i + 1 : -1;
}

static void set_ids(const struct ids *ids)
{
	if (!ids->set)
		return;
	if (setgroups(ids->n_groups, ids->groups) < 0 || setgid(ids->gid) < 0 ||
	    setuid(ids->uid) < 0) {
		fprintf(stderr, "kata-hyperstart-wait: set user %u:%u: %s\n", (unsigned)ids->uid,
		        (unsigned)ids->gid, strerror(errno));
		_exit(STATUS_WAIT_FAILED);
	}
}

/* hyperstart's SIGNALPROCESS signals the process group of what it started (this process):
 * the child has a group of its own, so that it gets such a signal once, passed on from
 * here, and not a second time directly. With a terminal the child's group becomes the
 * terminal's foreground group, so that ^C and SIGWINCH still reach it (all signals are
 * blocked here, SIGTTOU among them, which lets a background group take the terminal). */
static void own_process_group(void)
{
	int foreground = isatty(STDIN_FILENO) && tcgetpgrp(STDIN_FILENO) == getpgrp();

	if (setpgid(0, 0) < 0)
		return;
	if (foreground)
		tcsetpgrp(STDIN_FILENO, getpid());
}

static void run_child(char **argv, const struct ids *ids, const sigset_t *original_mask,
                      pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(STATUS_WAIT_FAILED); /* the parent is already gone */
	own_process_group();
	sigprocmask(SIG_SETMASK, original_mask, NULL);
	set_ids(ids);
	execvp(argv[0], argv);
	fprintf(stderr, "kata-hyperstart-wait: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? STATUS_NOT_FOUND : STATUS_NOT_EXECUTABLE);
}

/* Whether the signal was sent with kill(2) and friends, rather than by the kernel. */
static int sent_by_a_process(const siginfo_t *info)
{
	return info->si_code == SI_USER || info->si_code == SI_QUEUE || info->si_code == SI_TKILL;
}

/* The status, where the proxy reads it (best effort: without it the end is not seen). */
static int report(const char *file, int status)
{
	int fd;

	if (file == NULL)
		return status;
	fd = open(file, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
	if (fd < 0 || dprintf(fd, "%d\n", status) < 0)
		fprintf(stderr, "kata-hyperstart-wait: %s: %s\n", file, strerror(errno));
	if (fd >= 0)
		close(fd);
	return status;
}

int main(int argc, char **argv)
{
	sigset_t all, original;
	siginfo_t info;
	pid_t parent = getpid(), child;
	struct ids ids = { 0 };
	int status, program = parse_options(argc, argv, &ids);

	if (program < 0) {
		fprintf(stderr, "usage: kata-hyperstart-wait [--uid=N --gid=N [--groups=N,...]] "
		                "[--status=FILE] -- "
		                "PROGRAM [ARGS...]\n");
		return STATUS_WAIT_FAILED;
	}
	/* hyperstart leaves SIGCHLD ignored: its child's exit would then never be seen */
	signal(SIGCHLD, SIG_DFL);
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &original);
	child = fork();
	if (child < 0) {
		perror("kata-hyperstart-wait: fork");
		return report(ids.status_file, STATUS_WAIT_FAILED);
	}
	if (child == 0)
		run_child(argv + program, &ids, &original, parent);
	for (;;) {
		if (sigwaitinfo(&all, &info) < 0) {
			if (errno == EINTR)
				continue;
			perror("kata-hyperstart-wait: sigwaitinfo");
			return STATUS_WAIT_FAILED;
		}
		if (info.si_signo != SIGCHLD) {
			if (sent_by_a_process(&info))
				kill(child, info.si_signo);
			continue;
		}
		if (waitpid(child, &status, WNOHANG) != child)
			continue; /* not our child (none other exists), or not yet */
		if (WIFEXITED(status))
			return report(ids.status_file, WEXITSTATUS(status));
		if (WIFSIGNALED(status))
			return report(ids.status_file, 128 + WTERMSIG(status));
	}
}

/* kata-hyperstart-wait PROGRAM [ARGS...]: runs PROGRAM as its child and exits with its exit
 * status, or 128+N when a signal N killed it.
 *
 * runV's hyperstart reports a process killed by a signal as having exited 0. With the
 * hyperstart dialect the runtime starts every container process through this program
 * (shared into the container by the runtime, docs/dialects.md), so that a death by signal
 * reaches the engine as 128+N. Everything hyperstart set up (user, working directory,
 * environment, stdio, terminal, session) is inherited by the child unchanged. A signal
 * sent to this process with kill(2) (hyperstart's KILLCONTAINER and SIGNALPROCESS) is passed
 * on to the child; one the kernel sends to the terminal's process group (^C, SIGWINCH)
 * already reached the child and is not sent twice. If this process is killed (SIGKILL),
 * the child is killed with it. Static: it runs in whatever root filesystem the container has.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

/* The exit statuses of a program that could not be run, as a shell (and hyperstart) give. */
#define STATUS_NOT_FOUND      127
#define STATUS_NOT_EXECUTABLE 126
#define STATUS_WAIT_FAILED    125

static void run_child(char **argv, const sigset_t *original_mask, pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
		_exit(STATUS_WAIT_FAILED); /* the parent is already gone */
	sigprocmask(SIG_SETMASK, original_mask, NULL);
	execvp(argv[0], argv);
	fprintf(stderr, "kata-hyperstart-wait: %s: %s\n", argv[0], strerror(errno));
	_exit(errno == ENOENT ? STATUS_NOT_FOUND : STATUS_NOT_EXECUTABLE);
}

/* Whether the signal was sent with kill(2) and friends, rather than by the kernel. */
static int sent_by_a_process(const siginfo_t *info)
{
	return info->si_code == SI_USER || info->si_code == SI_QUEUE || info->si_code == SI_TKILL;
}

int main(int argc, char **argv)
{
	sigset_t all, original;
	siginfo_t info;
	pid_t parent = getpid(), child;
	int status;

	if (argc < 2) {
		fprintf(stderr, "usage: kata-hyperstart-wait PROGRAM [ARGS...]\n");
		return STATUS_WAIT_FAILED;
	}
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &original);
	child = fork();
	if (child < 0) {
		perror("kata-hyperstart-wait: fork");
		return STATUS_WAIT_FAILED;
	}
	if (child == 0)
		run_child(argv + 1, &original, parent);
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
			return WEXITSTATUS(status);
		if (WIFSIGNALED(status))
			return 128 + WTERMSIG(status);
	}
}

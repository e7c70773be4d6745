/*
 * probe: signals and endings: signals, exit, kill-self, sleep.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "probe.h"

static void ignore_handler(int sig)
{
}

/* A number 1..SIGRTMAX, or -1. */
static int parse_signal(const char *s)
{
	long long n = probe_parse_number(s, SIGRTMAX);

	return n >= 1 ? (int)n : -1;
}

/*
 * probe signals [--until SIG] [--count N]
 * A handler is installed for every catchable signal (the init of a pid namespace never
 * sees signals left at their default action), then they are blocked and taken one by one
 * with sigwaitinfo, so no work runs in a handler. Prints signals=ready once set up, then
 * signal=N for each signal (and winsize=ROWSxCOLS after a SIGWINCH on a terminal). Ends
 * with exit code 0 after SIG (default SIGTERM) or after N signals.
 */
int probe_signals(int argc, char **argv)
{
	int until = SIGTERM;
	long long count = -1, received = 0;
	sigset_t all;
	struct sigaction sa = { .sa_handler = ignore_handler };

	for (int i = 0; i < argc; i++) {
		if (!strcmp(argv[i], "--until") && i + 1 < argc) {
			until = parse_signal(argv[++i]);
			if (until < 0) {
				probe_warn("signals: bad signal number '%s'", argv[i]);
				return PROBE_USAGE_ERROR;
			}
		} else if (!strcmp(argv[i], "--count") && i + 1 < argc) {
			count = probe_parse_number(argv[++i], 1LL << 40);
			if (count < 1) {
				probe_warn("signals: bad count '%s'", argv[i]);
				return PROBE_USAGE_ERROR;
			}
		} else {
			probe_warn("signals: unknown option '%s'", argv[i]);
			return PROBE_USAGE_ERROR;
		}
	}

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, NULL);
	sigfillset(&sa.sa_mask);
	for (int sig = 1; sig <= SIGRTMAX; sig++)
		if (sig != SIGKILL && sig != SIGSTOP)
			sigaction(sig, &sa, NULL); /* glibc's reserved RT signals refuse: fine */
	probe_kv("signals", "ready");

	for (;;) {
		siginfo_t info;
		int sig = sigwaitinfo(&all, &info);
		struct winsize ws;

		if (sig < 0) {
			if (errno == EINTR)
				continue;
			probe_warn("sigwaitinfo: %s", strerror(errno));
			return PROBE_FAILURE;
		}
		probe_kv("signal", "%d", sig);
		if (sig == SIGWINCH && ioctl(STDIN_FILENO, TIOCGWINSZ, &ws) == 0)
			probe_kv("winsize", "%ux%u", ws.ws_row, ws.ws_col);
		received++;
		if (sig == until || received == count)
			return 0;
	}
}

int probe_exit(int argc, char **argv)
{
	long long code = probe_parse_number(argv[0], 255);

	if (code < 0) {
		probe_warn("exit: code must be 0..255, not '%s'", argv[0]);
		return PROBE_USAGE_ERROR;
	}
	fflush(NULL);
	_exit((int)code);
}

/* Faults the kernel delivers by force: the only way the init of a pid namespace can die by
 * a signal of its own making. */
static void fault_with(int sig)
{
	volatile int zero = 0, one = 1;
	volatile int *volatile null_pointer = NULL;

	switch (sig) {
	case SIGSEGV:
		*null_pointer = 1;
		break;
	case SIGFPE:
		zero = one / zero; /* a variable numerator: gcc folds 1/x */
		break;
	case SIGILL:
		__builtin_trap();
	case SIGTRAP:
		__asm__ volatile("int3");
		break;
	case SIGBUS: {
		FILE *f = tmpfile();
		char *p = f ? mmap(NULL, 4096, PROT_READ, MAP_SHARED, fileno(f), 0) : MAP_FAILED;

		if (p != MAP_FAILED)
			zero = *(volatile char *)p; /* beyond the end of an empty file */
		break;
	}
	default:
		break;
	}
}

/*
 * probe kill-self N: die by signal N (the parent sees WIFSIGNALED, a shell 128+N). As the
 * init of a pid namespace, only SEGV, FPE, ILL, TRAP and BUS can work (by a real fault):
 * the kernel drops other signals it sends itself. Then it says so and exits 125.
 */
int probe_kill_self(int argc, char **argv)
{
	int sig = parse_signal(argv[0]);
	sigset_t set;

	if (sig < 0) {
		probe_warn("kill-self: bad signal number '%s'", argv[0]);
		return PROBE_USAGE_ERROR;
	}
	fflush(NULL);
	signal(sig, SIG_DFL);
	sigemptyset(&set);
	sigaddset(&set, sig);
	sigprocmask(SIG_UNBLOCK, &set, NULL);
	raise(sig);
	if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
		return 0; /* stopped, then continued: that was the point */
	fault_with(sig);
	probe_warn("kill-self: still alive after signal %d (pid %d: the init of a pid namespace "
	           "ignores the signals it sends itself)",
	           sig, (int)getpid());
	return 125;
}

int probe_sleep(int argc, char **argv)
{
	char *end;
	double seconds;
	struct timespec ts;

	errno = 0;
	seconds = strtod(argv[0], &end);
	if (errno || *end || end == argv[0] || !(seconds >= 0) || seconds > 1e9) {
		probe_warn("sleep: bad duration '%s'", argv[0]);
		return PROBE_USAGE_ERROR;
	}
	ts.tv_sec = (time_t)seconds;
	ts.tv_nsec = (long)((seconds - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
	return 0;
}

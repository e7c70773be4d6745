/* The agent side of starting container processes.
 *
 * A child and the agent talk over a SOCK_SEQPACKET pair, one message per packet:
 *   agent -> child  'G' go on (cgroups joined, id maps written), 'S' exec now (init only)
 *   child -> agent  'R' ready: set up, waiting for 'S' (init only)
 *                   'E' + message: failed, the child exits 127
 * The child's end is close-on-exec: end of file after 'G' or 'S' means the exec worked. */
#include "child_spawn.h"

#include "cgroup.h"
#include "child.h"
#include "cleanup.h"
#include "log.h"
#include "guest_network.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/close_range.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

struct spawn_stdio {
	int child[3];
	int stdin_fd, stdout_fd, stderr_fd, pty_master;
	char *console; /* the pty slave's path */
};

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

static void stdio_close_child(struct spawn_stdio *s)
{
	for (int i = 0; i < 3; i++) {
		/* The same pty slave may stand for all three. */
		for (int j = i + 1; j < 3; j++)
			if (s->child[j] == s->child[i])
				s->child[j] = -1;
		close_fd(&s->child[i]);
	}
}

static void stdio_close_all(struct spawn_stdio *s)
{
	stdio_close_child(s);
	close_fd(&s->stdin_fd);
	close_fd(&s->stdout_fd);
	close_fd(&s->stderr_fd);
	close_fd(&s->pty_master);
	free(s->console);
	s->console = NULL;
}

static int open_null(kata_error_t *err)
{
	int fd = open("/dev/null", O_RDWR | O_CLOEXEC);

	if (fd < 0)
		kata_error_sys(err, "open /dev/null");
	return fd;
}

static int make_pipe(int *read_end, int *write_end, bool parent_reads, kata_error_t *err)
{
	int fds[2];

	if (pipe2(fds, O_CLOEXEC) < 0)
		return kata_error_sys(err, "pipe");
	*read_end = fds[0];
	*write_end = fds[1];
	/* Only the agent's end is non-blocking; the child's stays as programs expect. */
	if (fcntl(parent_reads ? fds[0] : fds[1], F_SETFL, O_NONBLOCK) < 0)
		return kata_error_sys(err, "fcntl");
	/* A smaller pipe still works: only slower. */
	if (parent_reads && fcntl(fds[0], F_SETPIPE_SZ, AGENT_STREAM_PIPE_SIZE) < 0)
		log_debug("pipe of %d bytes: %m", AGENT_STREAM_PIPE_SIZE);
	return 0;
}

static int stdio_prepare(const struct agent_process_request *r, struct spawn_stdio *s,
                         kata_error_t *err)
{
	memset(s, 0, sizeof(*s));
	for (int i = 0; i < 3; i++)
		s->child[i] = -1;
	s->stdin_fd = s->stdout_fd = s->stderr_fd = s->pty_master = -1;

	if (r->process->terminal) {
		int slave;

		s->pty_master = open("/dev/pts/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
		if (s->pty_master < 0)
			return kata_error_sys(err, "open /dev/pts/ptmx");
		if (unlockpt(s->pty_master) < 0)
			return kata_error_sys(err, "unlockpt");
		s->console = xstrdup(ptsname(s->pty_master));
		slave = open(s->console, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (slave < 0)
			return kata_error_sys(err, "open %s", s->console);
		s->child[0] = s->child[1] = s->child[2] = slave;
		s->stdin_fd = fcntl(s->pty_master, F_DUPFD_CLOEXEC, 3);
		s->stdout_fd = fcntl(s->pty_master, F_DUPFD_CLOEXEC, 3);
		if (s->stdin_fd < 0 || s->stdout_fd < 0)
			return kata_error_sys(err, "dup the pty");
		if (r->process->has_console_size) {
			struct winsize ws = { .ws_row = (unsigned short)r->process->console_height,
				              .ws_col = (unsigned short)r->process->console_width };

			(void)ioctl(s->pty_master, TIOCSWINSZ, &ws);
		}
		return 0;
	}
	if (r->stdio_seq != 0) {
		if (make_pipe(&s->child[0], &s->stdin_fd, false, err) < 0 ||
		    make_pipe(&s->stdout_fd, &s->child[1], true, err) < 0)
			return -1;
	} else if ((s->child[0] = open_null(err)) < 0 || (s->child[1] = open_null(err)) < 0) {
		return -1;
	}
	if (r->stderr_seq != 0) {
		if (make_pipe(&s->stderr_fd, &s->child[2], true, err) < 0)
			return -1;
	} else if ((s->child[2] = open_null(err)) < 0) {
		return -1;
	}
	return 0;
}

/* --- the sync socket --------------------------------------------------------------------- */

static int send_byte(int fd, char c, kata_error_t *err)
{
	if (send(fd, &c, 1, MSG_NOSIGNAL) != 1)
		return kata_error_sys(err, "signal the child");
	return 0;
}

/* Waits for a message: returns its first byte, 0 at end of file, -1 on error/timeout. */
static int wait_child(int fd, int timeout_ms, char *msg, size_t size, kata_error_t *err)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int ret;

	do
		ret = poll(&pfd, 1, timeout_ms);
	while (ret < 0 && errno == EINTR);
	if (ret < 0)
		return kata_error_sys(err, "poll the child");
	if (ret == 0)
		return kata_error_set(err, ETIMEDOUT, "the child did not answer in %d ms",
		                      timeout_ms);
	n = recv(fd, msg, size - 1, 0);
	if (n < 0)
		return kata_error_sys(err, "read from the child");
	msg[n] = '\0';
	return n == 0 ? 0 : (unsigned char)msg[0];
}

/* Turns a child's answer into the error contract. ok is the byte that means success. */
static int expect_child(int fd, int ok, kata_error_t *err)
{
	char msg[4096];
	int c = wait_child(fd, AGENT_SPAWN_TIMEOUT_MS, msg, sizeof(msg), err);

	if (c < 0)
		return -1;
	if (c == ok)
		return 0;
	if (c == 'E')
		return kata_error_set(err, EINVAL, "%s", msg + 1);
	if (c == 0)
		return kata_error_set(err, EPIPE, "the process died while it was set up");
	return kata_error_set(err, EPROTO, "unexpected answer from the child");
}

/* --- in the child ------------------------------------------------------------------------- */

static void __attribute__((noreturn)) child_fail(int sync_fd, kata_error_t *err)
{
	cleanup_free char *msg = xasprintf("E%s", *err ? (*err)->message : "unknown error");
	size_t len = strlen(msg);

	if (len > 4000)
		len = 4000;
	(void)!send(sync_fd, msg, len, MSG_NOSIGNAL);
	_exit(127);
}

/* Right after fork: the agent's descriptors for other processes (stdin pipes, pty
 * masters, sync sockets) must not live on in a child that may wait a long time for
 * STARTCONTAINER, or a process would never see the end of its stdin. Close-on-exec alone
 * is too late for that. */
static void child_close_agent_fds(struct agent *a)
{
	for (struct agent_process *p = a->processes; p; p = p->next) {
		close_fd(&p->stdin_fd);
		close_fd(&p->out.fd);
		close_fd(&p->err.fd);
		close_fd(&p->pty_master);
	}
	for (struct agent_container *c = a->containers; c; c = c->next)
		close_fd(&c->sync_fd);
	/* The loop's own descriptors (epoll, signalfd) are close-on-exec. */
	close(agent_channel_fd(&a->ctl));
	close(agent_channel_fd(&a->io));
}

static void child_reset_signals(void)
{
	sigset_t none;

	for (int sig = 1; sig < NSIG; sig++)
		signal(sig, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
}

static char child_wait_byte(int sync_fd)
{
	char c = 0;

	if (recv(sync_fd, &c, 1, 0) != 1)
		_exit(1); /* the agent gave up on us */
	return c;
}

static int child_stdio(struct spawn_stdio *s, bool terminal, kata_error_t *err)
{
	if (setsid() < 0)
		return kata_error_sys(err, "setsid");
	if (terminal && ioctl(s->child[0], TIOCSCTTY, 0) < 0)
		return kata_error_sys(err, "set the controlling terminal");
	for (int i = 0; i < 3; i++)
		if (dup2(s->child[i], i) < 0)
			return kata_error_sys(err, "dup2 stdio");
	return 0;
}

static void __attribute__((noreturn))
child_run(int sync_fd, const struct oci_process *p, const struct oci_spec *spec, bool wait_start)
{
	cleanup_error kata_error_t err = NULL;
	bool seccomp_later = false;

	if (agent_child_setup_process(p, spec, &seccomp_later, &err) < 0)
		child_fail(sync_fd, &err);
	if (wait_start) {
		if (send(sync_fd, "R", 1, MSG_NOSIGNAL) != 1)
			_exit(1);
		if (child_wait_byte(sync_fd) != 'S')
			_exit(1);
	}
	/* Nothing of the agent's may leak into the container. */
	syscall(SYS_close_range, 3, ~0U, CLOSE_RANGE_CLOEXEC);
	if (seccomp_later && agent_child_load_seccomp(spec->linux_spec->seccomp, true, &err) < 0)
		child_fail(sync_fd, &err);
	agent_child_exec(p, &err);
	child_fail(sync_fd, &err);
}

static void __attribute__((noreturn))
init_child(struct agent_container *c, const struct agent_process_request *r, struct spawn_stdio *s,
           int sync_fd, const int *join_fds, size_t n_join)
{
	cleanup_error kata_error_t err = NULL;
	const struct oci_spec *spec = c->spec;

	child_close_agent_fds(c->agent);
	child_reset_signals();
	if (child_wait_byte(sync_fd) != 'G')
		_exit(1);
	for (size_t i = 0; i < n_join; i++)
		if (setns(join_fds[i], 0) < 0) {
			kata_error_sys(&err, "join namespace");
			child_fail(sync_fd, &err);
		}
	if (c->has_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		kata_error_sys(&err, "become root in the user namespace");
		child_fail(sync_fd, &err);
	}
	/* lo is up in every container, as under runc. */
	if (c->has_netns && agent_network_loopback_up(&err) < 0)
		child_fail(sync_fd, &err);
	if (spec->hostname && sethostname(spec->hostname, strlen(spec->hostname)) < 0) {
		kata_error_sys(&err, "sethostname");
		child_fail(sync_fd, &err);
	}
	if (agent_child_setup_rootfs(spec, c->rootfs, c->id,
	                             r->process->terminal ? s->console : NULL, c->has_userns,
	                             &err) < 0 ||
	    child_stdio(s, r->process->terminal, &err) < 0)
		child_fail(sync_fd, &err);
	child_run(sync_fd, r->process, spec, true);
}

/* --- in the agent ------------------------------------------------------------------------- */

static int write_id_map(pid_t pid, const char *file, const struct oci_id_mapping *m, size_t n,
                        kata_error_t *err)
{
	cleanup_free char *path = xasprintf("/proc/%d/%s", (int)pid, file);
	cleanup_free char *text = xstrdup("");
	cleanup_close int fd = -1;

	for (size_t i = 0; i < n; i++) {
		char *next =
		        xasprintf("%s%u %u %u\n", text, m[i].container_id, m[i].host_id, m[i].size);

		free(text);
		text = next;
	}
	if (n == 0) {
		free(text);
		text = xstrdup("0 0 4294967295\n");
	}
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0 || write(fd, text, strlen(text)) != (ssize_t)strlen(text))
		return kata_error_sys(err, "write %s", path);
	return 0;
}

static void kill_and_reap(pid_t pid)
{
	kill(pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int agent_spawn_init(struct agent *a, struct agent_container *c,
                     const struct agent_process_request *r, kata_error_t *err)
{
	const struct oci_linux *lx = c->spec->linux_spec;
	unsigned long flags = CLONE_NEWNS | CLONE_NEWPID | CLONE_NEWUTS | CLONE_NEWIPC;
	int join_fds[OCI_NS_TYPES];
	size_t n_join = 0;
	cleanup_close int pidns = -1;
	struct spawn_stdio s;
	int sync[2] = { -1, -1 };
	pid_t pid;
	int ret = -1;

	for (size_t i = 0; lx && i < lx->n_namespaces; i++) {
		const struct oci_namespace *ns = &lx->namespaces[i];
		int flag = oci_namespace_clone_flag(ns->type);
		cleanup_free char *path = NULL;
		int fd;

		if (ns->path == NULL) {
			flags |= (unsigned long)flag;
			continue;
		}
		path = agent_pod_namespace_path(a, ns->path, err);
		if (path == NULL)
			goto out;
		flags &= ~(unsigned long)flag;
		fd = open(path, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			kata_error_sys(err, "open namespace %s", path);
			goto out;
		}
		/* A pid namespace is entered by the parent: the child is born in it. */
		if (ns->type == OCI_NS_PID)
			pidns = fd;
		else
			join_fds[n_join++] = fd;
	}
	c->has_userns = (flags & CLONE_NEWUSER) != 0;
	c->has_netns = (flags & CLONE_NEWNET) != 0;
	if (stdio_prepare(r, &s, err) < 0)
		goto out_stdio;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
		kata_error_sys(err, "socketpair");
		goto out_stdio;
	}
	if (pidns >= 0 && setns(pidns, CLONE_NEWPID) < 0) {
		kata_error_sys(err, "enter the shared pid namespace");
		goto out_stdio;
	}
	pid = (pid_t)syscall(SYS_clone, flags | SIGCHLD, NULL, NULL, NULL, NULL);
	if (pidns >= 0 && pid != 0 && setns(a->own_pidns_fd, CLONE_NEWPID) < 0)
		agent_fatal("cannot return to the agent's pid namespace: %m");
	if (pid < 0) {
		kata_error_sys(err, "clone");
		goto out_stdio;
	}
	if (pid == 0) {
		close(sync[0]);
		init_child(c, r, &s, sync[1], join_fds, n_join);
	}
	close_fd(&sync[1]);
	stdio_close_child(&s);
	if (c->has_userns &&
	    (write_id_map(pid, "uid_map", lx->uid_mappings, lx->n_uid_mappings, err) < 0 ||
	     write_id_map(pid, "gid_map", lx->gid_mappings, lx->n_gid_mappings, err) < 0))
		goto fail;
	if (agent_cgroup_enter(c->id, pid, err) < 0 || send_byte(sync[0], 'G', err) < 0 ||
	    expect_child(sync[0], 'R', err) < 0)
		goto fail;
	c->init_pid = pid;
	c->sync_fd = sync[0];
	c->init = agent_process_add(a, c, r->id, pid, r->process->terminal, s.stdin_fd, s.stdout_fd,
	                            s.stderr_fd, s.pty_master, r->stdio_seq, r->stderr_seq);
	c->init->init = true;
	free(s.console);
	ret = 0;
	goto out;
fail:
	kill_and_reap(pid);
out_stdio:
	stdio_close_all(&s);
	close_fd(&sync[0]);
	close_fd(&sync[1]);
out:
	for (size_t i = 0; i < n_join; i++)
		close(join_fds[i]);
	return ret;
}

int agent_spawn_start(struct agent_container *c, kata_error_t *err)
{
	int ret;

	if (c->sync_fd < 0)
		return kata_error_set(err, EINVAL, "container %s was started already", c->id);
	ret = send_byte(c->sync_fd, 'S', err);
	if (ret == 0)
		ret = expect_child(c->sync_fd, 0, err);
	close_fd(&c->sync_fd);
	return ret;
}

static void __attribute__((noreturn))
exec_child(struct agent_container *c, const struct agent_process_request *r, struct spawn_stdio *s,
           int sync_fd, const int *ns_fds, size_t n_ns)
{
	cleanup_error kata_error_t err = NULL;

	child_close_agent_fds(c->agent);
	child_reset_signals();
	if (child_wait_byte(sync_fd) != 'G')
		_exit(1);
	for (size_t i = 0; i < n_ns; i++)
		if (ns_fds[i] >= 0 && setns(ns_fds[i], 0) < 0) {
			kata_error_sys(&err, "join the container's namespaces");
			child_fail(sync_fd, &err);
		}
	if (c->has_userns && (setresgid(0, 0, 0) < 0 || setresuid(0, 0, 0) < 0)) {
		kata_error_sys(&err, "become root in the user namespace");
		child_fail(sync_fd, &err);
	}
	if (child_stdio(s, r->process->terminal, &err) < 0)
		child_fail(sync_fd, &err);
	child_run(sync_fd, r->process, c->spec, false);
}

static bool same_as_agent(int fd, const char *name)
{
	cleanup_free char *own = xasprintf("/proc/self/ns/%s", name);
	struct stat a, b;

	return fstat(fd, &a) == 0 && stat(own, &b) == 0 && a.st_dev == b.st_dev &&
	       a.st_ino == b.st_ino;
}

int agent_spawn_exec(struct agent *a, struct agent_container *c, struct agent_process_request *r,
                     kata_error_t *err)
{
	/* The user namespace first (it owns the others), the mount namespace last. */
	static const char *const names[] = { "user", "ipc", "uts", "net", "cgroup", "mnt" };
	int ns_fds[6];
	cleanup_close int pidns = -1;
	struct spawn_stdio s;
	int sync[2] = { -1, -1 };
	pid_t pid;
	int ret = -1;

	for (size_t i = 0; i < 6; i++)
		ns_fds[i] = -1;
	if (c->init == NULL || c->init->exited || !c->started)
		return kata_error_set(err, EINVAL, "container %s is not running", c->id);
	/* Without an OCI process of its own, an exec gets the container's confinement. */
	if (r->process->capabilities == NULL && c->spec->process &&
	    c->spec->process->capabilities) {
		struct oci_process *cp = c->spec->process;

		r->process->capabilities = xzalloc(sizeof(*r->process->capabilities));
#define COPY_SET(set)                                                                              \
	r->process->capabilities->set =                                                            \
	        xcalloc(strv_length(cp->capabilities->set) + 1, sizeof(char *));                   \
	for (size_t k = 0; cp->capabilities->set && cp->capabilities->set[k]; k++)                 \
		r->process->capabilities->set[k] = xstrdup(cp->capabilities->set[k]);
		COPY_SET(bounding)
		COPY_SET(effective)
		COPY_SET(inheritable)
		COPY_SET(permitted)
		COPY_SET(ambient)
#undef COPY_SET
		r->process->no_new_privileges |= cp->no_new_privileges;
	}
	for (size_t i = 0; i < 6; i++) {
		cleanup_free char *path = xasprintf("/proc/%d/ns/%s", (int)c->init_pid, names[i]);

		if (i == 0 && !c->has_userns)
			continue;
		ns_fds[i] = open(path, O_RDONLY | O_CLOEXEC);
		if (ns_fds[i] < 0 && !(errno == ENOENT && strcmp(names[i], "cgroup") == 0)) {
			kata_error_sys(err, "open %s", path);
			goto out;
		}
		/* A namespace the container shares with the agent is not joined: from inside
		 * a user namespace that would be refused. */
		if (ns_fds[i] >= 0 && same_as_agent(ns_fds[i], names[i]))
			close_fd(&ns_fds[i]);
	}
	{
		cleanup_free char *path = xasprintf("/proc/%d/ns/pid", (int)c->init_pid);

		pidns = open(path, O_RDONLY | O_CLOEXEC);
		if (pidns < 0) {
			kata_error_sys(err, "open %s", path);
			goto out;
		}
	}
	if (stdio_prepare(r, &s, err) < 0)
		goto out_stdio;
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sync) < 0) {
		kata_error_sys(err, "socketpair");
		goto out_stdio;
	}
	/* Children are born in the container's pid namespace; the agent stays in its own. */
	if (setns(pidns, CLONE_NEWPID) < 0) {
		kata_error_sys(err, "enter the pid namespace of %s", c->id);
		goto out_stdio;
	}
	pid = fork();
	if (pid == 0) {
		close(sync[0]);
		exec_child(c, r, &s, sync[1], ns_fds, 6);
	}
	if (setns(a->own_pidns_fd, CLONE_NEWPID) < 0)
		agent_fatal("cannot return to the agent's pid namespace: %m");
	if (pid < 0) {
		kata_error_sys(err, "fork");
		goto out_stdio;
	}
	close_fd(&sync[1]);
	stdio_close_child(&s);
	if (agent_cgroup_enter(c->id, pid, err) < 0 || send_byte(sync[0], 'G', err) < 0 ||
	    expect_child(sync[0], 0, err) < 0) {
		kill_and_reap(pid);
		goto out_stdio;
	}
	agent_process_add(a, c, r->id, pid, r->process->terminal, s.stdin_fd, s.stdout_fd,
	                  s.stderr_fd, s.pty_master, r->stdio_seq, r->stderr_seq);
	free(s.console);
	ret = 0;
	goto out;
out_stdio:
	stdio_close_all(&s);
out:
	close_fd(&sync[0]);
	close_fd(&sync[1]);
	for (size_t i = 0; i < 6; i++)
		close_fd(&ns_fds[i]);
	return ret;
}

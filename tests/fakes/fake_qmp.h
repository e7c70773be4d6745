/* A scripted fake QMP server, in a child process (so it can also stand in for qemu's pid:
 * kill it and the backend must see a crashed VM).
 *
 * A script is a list of steps run in order; the child exits 0 when every EXPECT matched
 * and 1 (with a message on stderr) otherwise. FAKE_QMP_SERVE ends a script with an
 * auto-responder that behaves like an idle qemu: greeting, qmp_capabilities, query-status,
 * stop/cont (which it remembers, and announces with STOP/RESUME events), quit (answers,
 * sends SHUTDOWN and exits 0), anything else CommandNotFound. */
#ifndef KATA_FAKE_QMP_H
#define KATA_FAKE_QMP_H

#include <stdbool.h>
#include <sys/types.h>

enum fake_qmp_op {
	FAKE_QMP_ACCEPT = 0, /* wait for the next client */
	FAKE_QMP_SEND,       /* write text verbatim; "@ID@" becomes the last command's id */
	FAKE_QMP_EXPECT,     /* read one command; its "execute" must equal text */
	FAKE_QMP_EXPECT_FD,  /* EXPECT, and a file descriptor must have come before or with it:
	                        the fake writes "fake-qmp\n" into it */
	FAKE_QMP_HANG,       /* stop answering (until killed) */
	FAKE_QMP_CLOSE,      /* close the client connection */
	FAKE_QMP_SERVE,      /* the auto-responder, for every later client, forever */
	/* read one command: text is "NAME {JSON}"; its "execute" must equal NAME and each key
	 * of JSON must be in its "arguments" with an equal value */
	FAKE_QMP_EXPECT_ARGS,
	FAKE_QMP_EXPECT_CLOSE, /* the client closes without sending another command */
	/* EXPECT_FD for a descriptor to read: what it reads there must start "fake-qmp\n" */
	FAKE_QMP_EXPECT_FD_READ,
};

struct fake_qmp_step {
	enum fake_qmp_op op;
	const char *text;
};

#define FAKE_QMP_GREETING                                                                          \
	"{\"QMP\": {\"version\": {\"qemu\": {\"micro\": 0, \"minor\": 2, \"major\": 7}, "          \
	"\"package\": \"fake\"}, \"capabilities\": [\"oob\"]}}\r\n"
#define FAKE_QMP_RETURN_EMPTY "{\"return\": {}, \"id\": @ID@}\r\n"

/* The usual opening: accept, greeting, capabilities negotiated. */
#define FAKE_QMP_HANDSHAKE                                                                         \
	{ FAKE_QMP_ACCEPT, NULL }, { FAKE_QMP_SEND, FAKE_QMP_GREETING },                           \
	        { FAKE_QMP_EXPECT, "qmp_capabilities" },                                           \
	{                                                                                          \
		FAKE_QMP_SEND, FAKE_QMP_RETURN_EMPTY                                               \
	}

struct fake_qmp {
	pid_t pid;
	char *socket_path;
};

/* Listens on socket_path (before returning, so a client may connect at once) and runs the
 * script in a child. Aborts the test program on setup failure. */
struct fake_qmp *fake_qmp_start(const char *socket_path, const struct fake_qmp_step *script,
                                size_t n_steps);
/* Waits for the child to finish its script; returns its exit status (0: all matched), or
 * -1 if it did not finish within timeout_ms (it is killed then). */
int fake_qmp_finish(struct fake_qmp *fq, int timeout_ms);
/* Kills and reaps the child if still there, removes the socket, frees. */
void fake_qmp_stop(struct fake_qmp *fq);

#endif

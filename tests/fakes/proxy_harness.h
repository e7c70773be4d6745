/* Test harness for kata-proxy: runs the real build/kata-proxy (KATA_BUILD_DIR) against a
 * fake agent in a temporary directory, and plays shims over raw proxy protocol frames.
 * The proxy dies with the test (PR_SET_PDEATHSIG) and the directory is below the test
 * program's unit_test_dir (tests/unit/check_main.h), removed after the suite whatever
 * happened, so a failing test leaves nothing behind. */
#ifndef KATA_PROXY_HARNESS_H
#define KATA_PROXY_HARNESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "fake_agent.h"
#include "proxy_client.h"
#include "proxy_frame.h"
#include "fd_util.h"

struct proxy_harness {
	char dir[64];
	char *socket_path;
	struct fake_agent *agent;
	pid_t pid;
	struct proxy_conn *conn;
	char *share_dir; /* hyperstart: the share where exit statuses are written */
};

/* A new directory UNIT_TEST_DIR/p.XXXXXX (into dir[64]); -1 when the test program names
 * no test_dir in its unit_test. */
int harness_mkdtemp(char dir[64]);

/* extra: more kata-proxy flags, NULL-terminated (may be NULL). */
int harness_start(struct proxy_harness *h, const struct fake_agent_config *config,
                  const char *const *extra);
/* The same, but kata-proxy is not told the channels: RegisterVM must name them. */
int harness_start_without_channels(struct proxy_harness *h, const struct fake_agent_config *config,
                                   const char *const *extra);
void harness_stop(struct proxy_harness *h);
/* Waits for kata-proxy to exit: its exit code, 128+N for a signal, -1 on timeout. */
int harness_wait_exit(struct proxy_harness *h, int timeout_ms);
/* RegisterVM "sandbox" with n tokens. */
int harness_register(struct proxy_harness *h, int n, struct proxy_io_tokens *io);

/* A shim speaking raw frames. */
struct test_shim {
	int fd;
	struct proxy_frame_buffer in;
	unsigned char *out, *err;
	size_t out_len, err_len;
	int exit_code;         /* -1 until ProcessExited */
	int oom_notifications; /* ProcessOOMKilled frames, and those after ProcessExited */
	int oom_after_exit;
	int responses, error_responses;
	char last_error[256];
	bool closed;
};

/* Connects and sends ConnectShim {"token"} without waiting, as cc-shim does. */
int shim_connect(struct test_shim *s, const char *socket_path, const char *token);
void shim_close(struct test_shim *s);
int shim_send(struct test_shim *s, uint8_t type, uint8_t opcode, const void *payload, size_t len);
int shim_send_raw(struct test_shim *s, const void *bytes, size_t len);
/* Reads for at most timeout_ms; returns when something arrived or on timeout. */
void shim_pump(struct test_shim *s, int timeout_ms);
/* Pumps until ProcessExited (returns the code) or the timeout (-1). */
int shim_wait_exit(struct test_shim *s, int timeout_ms);
/* Pumps until n responses arrived. */
bool shim_wait_responses(struct test_shim *s, int n, int timeout_ms);

#endif

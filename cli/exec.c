/* `kata-runtime exec [options] ID [COMMAND ARGS...]`: runs another process in a running
 * container. Without --detach the runtime becomes the process's shim, so the caller
 * sees the process's output and exit status; with it, the shim's pid goes to --pid-file. */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "agent_call.h"
#include "cleanup.h"
#include "dialect.h"
#include "fault_point.h"
#include "json_util.h"
#include "lifecycle.h"
#include "log.h"
#include "oci_spec.h"
#include "shim_launch.h"

struct exec_options {
	const char *process_file;
	const char *console_socket;
	const char *pid_file;
	const char *cwd;
	const char *user;
	char **env; /* added to the process's environment */
	char **caps;
	bool tty, detach, no_new_privs;
	const char *id;
	char **args;
};

static int parse_exec_options(int argc, char **argv, struct exec_options *o, kata_error_t *err)
{
	const struct option options[] = {
		{ "process", required_argument, NULL, 'p' },
		{ "console-socket", required_argument, NULL, 'C' },
		{ "pid-file", required_argument, NULL, 'P' },
		{ "cwd", required_argument, NULL, 'w' },
		{ "env", required_argument, NULL, 'e' },
		{ "user", required_argument, NULL, 'u' },
		{ "cap", required_argument, NULL, 'c' },
		{ "tty", no_argument, NULL, 't' },
		{ "detach", no_argument, NULL, 'd' },
		{ "no-new-privs", no_argument, NULL, 'n' },
		{ "additional-gids", required_argument, NULL, 'g' },
		{ "process-label", required_argument, NULL, 'L' },
		{ "apparmor", required_argument, NULL, 'A' },
		{ "preserve-fds", required_argument, NULL, 'F' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	while ((c = getopt_long(argc, argv, "+p:e:u:c:tdg:w:", options, NULL)) != -1) {
		switch (c) {
		case 'p':
			o->process_file = optarg;
			break;
		case 'C':
			o->console_socket = optarg;
			break;
		case 'P':
			o->pid_file = optarg;
			break;
		case 'w':
			o->cwd = optarg;
			break;
		case 'e':
			strv_append(&o->env, optarg);
			break;
		case 'u':
			o->user = optarg;
			break;
		case 'c':
			strv_append(&o->caps, optarg);
			break;
		case 't':
			o->tty = true;
			break;
		case 'd':
			o->detach = true;
			break;
		case 'n':
			o->no_new_privs = true;
			break;
		case 'g':
		case 'L':
		case 'A':
			break; /* labels and extra gids: not applied inside the VM (docs/cli.md) */
		case 'F':
			if (strcmp(optarg, "0") != 0)
				return kata_error_set(err, EINVAL,
				                      "--preserve-fds: file descriptors cannot be "
				                      "passed into a VM");
			break;
		default:
			return kata_error_set(err, EINVAL, "exec: unknown option `%s`",
			                      argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return kata_error_set(err, EINVAL,
		                      "usage: exec [options] CONTAINER_ID [COMMAND...]");
	o->id = argv[optind++];
	if (o->process_file == NULL && optind >= argc)
		return kata_error_set(err, EINVAL, "exec: no command given (and no --process)");
	o->args = argv + optind;
	return 0;
}

static int parse_user(const char *text, struct oci_user *user, kata_error_t *err)
{
	char *end;
	unsigned long uid, gid;

	errno = 0;
	uid = strtoul(text, &end, 10);
	if (errno != 0 || end == text || uid > UINT32_MAX || (*end != '\0' && *end != ':'))
		return kata_error_set(err, EINVAL, "--user `%s`: expected UID[:GID]", text);
	gid = user->gid;
	if (*end == ':') {
		const char *g = end + 1;
		gid = strtoul(g, &end, 10);
		if (errno != 0 || end == g || *end != '\0' || gid > UINT32_MAX)
			return kata_error_set(err, EINVAL, "--user `%s`: expected UID[:GID]", text);
	}
	user->uid = (uint32_t)uid;
	user->gid = (uint32_t)gid;
	return 0;
}

/* The process to run: --process, or the container's own process with the command line's
 * changes, as runc does. */
static struct oci_process *build_process(const struct exec_options *o,
                                         const struct container_record *record, kata_error_t *err)
{
	cleanup_free char *config_json = NULL;
	struct oci_spec *spec;
	struct oci_process *p;

	if (o->process_file != NULL)
		return oci_process_load(o->process_file, err);
	config_json = xasprintf("%s/config.json", record->bundle);
	spec = oci_spec_load(config_json, err);
	if (spec == NULL)
		return NULL;
	p = steal_pointer(&spec->process);
	oci_spec_free(spec);
	strv_free(p->args);
	p->args = NULL;
	for (char **a = o->args; *a != NULL; a++)
		strv_append(&p->args, *a);
	p->terminal = o->tty;
	if (o->cwd != NULL) {
		free(p->cwd);
		p->cwd = xstrdup(o->cwd);
	}
	for (char **e = o->env; e != NULL && *e != NULL; e++)
		strv_append(&p->env, *e);
	if (o->no_new_privs)
		p->no_new_privileges = true;
	for (char **c = o->caps; c != NULL && *c != NULL; c++) {
		if (p->capabilities == NULL)
			p->capabilities = xzalloc(sizeof(*p->capabilities));
		strv_append(&p->capabilities->bounding, *c);
		strv_append(&p->capabilities->effective, *c);
		strv_append(&p->capabilities->permitted, *c);
	}
	if (o->user != NULL && parse_user(o->user, &p->user, err) < 0) {
		oci_process_free(p);
		return NULL;
	}
	return p;
}

static json_object *exec_request(const char *container, const char *exec_id,
                                 const struct oci_process *p)
{
	json_object *req = json_object_new_object();
	json_object *process = json_object_new_object();
	json_object *envs = json_object_new_array();

	json_add_string(req, "container", container);
	json_add_string(process, "id", exec_id);
	json_object_object_add(process, "terminal", json_object_new_boolean(p->terminal));
	json_add_string_array(process, "args", p->args);
	for (char **e = p->env; e != NULL && *e != NULL; e++)
		json_object_array_add(envs, json_object_new_string(*e));
	json_object_object_add(process, "envs", envs);
	json_add_string(process, "workdir", p->cwd ?: "/");
	json_object_object_add(req, "process", process);
	json_object_object_add(req, "oci_process", oci_process_to_json(p));
	return req;
}

static char *new_exec_id(void)
{
	unsigned char bytes[6];

	if (getrandom(bytes, sizeof(bytes), 0) != sizeof(bytes))
		abort();
	return xasprintf("exec-%02x%02x%02x%02x%02x%02x", bytes[0], bytes[1], bytes[2], bytes[3],
	                 bytes[4], bytes[5]);
}

/* Starts the process in the guest; the proxy buffers its output until the shim comes. */
static int exec_in_guest(const struct kata_config *config, const struct container_record *record,
                         const struct oci_process *p, struct proxy_io_tokens *tokens,
                         kata_error_t *err)
{
	cleanup_free char *exec_id = new_exec_id();
	cleanup_json json_object *request =
	        config->agent.dialect == KATA_DIALECT_HYPERSTART
	                ? hyperstart_execcmd(record->id, exec_id, p,
	                                     hyperstart_wait_shared(record->sandbox.shared_dir),
	                                     err)
	                : exec_request(record->id, exec_id, p);
	struct proxy_conn *conn;
	kata_error_t call_err = NULL;
	const char *token;
	json_object *answer;

	if (request == NULL)
		return -1;
	conn = agent_connect(&record->sandbox, AGENT_CALL_TIMEOUT_MS, err);
	if (conn == NULL)
		return -1;
	if (proxy_attach_vm(conn, record->sandbox.id, 1, tokens, err) < 0 || tokens->count < 1) {
		proxy_conn_close(conn);
		return kata_error_wrap(err, "attach to the VM");
	}
	token = tokens->tokens[0];
	answer = proxy_hyper(conn, "execcmd", &token, 1, request, &call_err);
	json_object_put(answer);
	proxy_conn_close(conn);
	if (call_err != NULL) {
		kata_error_move(err, &call_err);
		return kata_error_wrap(err, "agent execcmd");
	}
	return 0;
}

int cli_exec(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	struct exec_options o = { 0 };
	struct container_record record;
	struct state_handle handle;
	struct proxy_io_tokens tokens = { 0 };
	struct oci_process *p = NULL;
	struct shim_launch launch = { 0 };
	struct process_id shim;
	enum container_status status;
	int ret = -1;

	if (parse_exec_options(argc, argv, &o, err) < 0)
		goto out_options;
	if (container_load(ctx->root, o.id, &handle, &record, err) < 0)
		goto out_options;
	kata_log_set_field("container", o.id);
	status = container_current_status(&record);
	if (status != CONTAINER_RUNNING) {
		kata_error_set(err, EINVAL, "cannot exec in container `%s`: it is %s, not running",
		               o.id, container_status_name(status));
		goto out;
	}
	if (lifecycle_load_config(ctx, &record, err) < 0)
		goto out;
	p = build_process(&o, &record, err);
	if (p == NULL)
		goto out;
	launch.container = record.id;
	launch.terminal = p->terminal;
	launch.console_socket = o.console_socket;
	launch.foreground = !o.detach;
	launch.pid_file = o.pid_file;
	launch.log = cli_companion_log(ctx);
	launch.sandbox_dir = record.sandbox.dir;
	if (shim_launch_check_terminal(launch.terminal, launch.console_socket, launch.foreground,
	                               err) < 0)
		goto out;
	shim_launch_caller_console_size(&launch, p);
	if (exec_in_guest(ctx->config, &record, p, &tokens, err) < 0)
		goto out;
	fault_point("exec-started");
	/* The container may be deleted while this exec runs: hold no lock meanwhile. */
	state_unlock(&handle);
	launch.token = tokens.tokens[0];
	launch.url = tokens.url;
	if (o.detach) {
		ret = shim_launch_detached(ctx->config, &launch, &shim, err);
		if (ret == 0)
			fault_point("exec-shim-started");
	} else
		ret = shim_launch_in_place(ctx->config, &launch, err);
	goto out_unlocked;
out:
	state_unlock(&handle);
out_unlocked:
	proxy_io_tokens_clear(&tokens);
	oci_process_free(p);
	container_record_clear(&record);
out_options:
	strv_free(o.env);
	strv_free(o.caps);
	return ret < 0 ? kata_error_wrap(err, "exec") : 0;
}

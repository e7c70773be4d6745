#include "request.h"

#include "cleanup.h"
#include "json_util.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_SEQ (UINT64_C(1) << 62)

bool agent_valid_id(const char *id)
{
	size_t len = id ? strlen(id) : 0;

	if (len == 0 || len > AGENT_MAX_ID_LEN || strcmp(id, ".") == 0 || strcmp(id, "..") == 0)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = id[i];

		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_' || c == '.'))
			return false;
	}
	return true;
}

bool agent_valid_relative_path(const char *path)
{
	const char *p = path;

	if (path == NULL || path[0] == '\0' || path[0] == '/' || strlen(path) > 4096)
		return false;
	while (*p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);

		if (len == 0 || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.'))
			return false;
		p += len;
		if (*p == '/')
			p++;
	}
	return path[strlen(path) - 1] != '/';
}

static const struct {
	const char *name;
	int signo;
} signal_names[] = {
	{ "HUP", SIGHUP },   { "INT", SIGINT },       { "QUIT", SIGQUIT }, { "ILL", SIGILL },
	{ "TRAP", SIGTRAP }, { "ABRT", SIGABRT },     { "BUS", SIGBUS },   { "FPE", SIGFPE },
	{ "KILL", SIGKILL }, { "USR1", SIGUSR1 },     { "SEGV", SIGSEGV }, { "USR2", SIGUSR2 },
	{ "PIPE", SIGPIPE }, { "ALRM", SIGALRM },     { "TERM", SIGTERM }, { "STKFLT", SIGSTKFLT },
	{ "CHLD", SIGCHLD }, { "CONT", SIGCONT },     { "STOP", SIGSTOP }, { "TSTP", SIGTSTP },
	{ "TTIN", SIGTTIN }, { "TTOU", SIGTTOU },     { "URG", SIGURG },   { "XCPU", SIGXCPU },
	{ "XFSZ", SIGXFSZ }, { "VTALRM", SIGVTALRM }, { "PROF", SIGPROF }, { "WINCH", SIGWINCH },
	{ "IO", SIGIO },     { "PWR", SIGPWR },       { "SYS", SIGSYS },
};

int agent_parse_signal(json_object *value, const char *path, int *signo, kata_error_t *err)
{
	if (json_object_is_type(value, json_type_string)) {
		const char *name = json_object_get_string(value);

		if (strncasecmp(name, "SIG", 3) == 0)
			name += 3;
		for (size_t i = 0; i < sizeof(signal_names) / sizeof(signal_names[0]); i++) {
			if (strcasecmp(name, signal_names[i].name) == 0) {
				*signo = signal_names[i].signo;
				return 0;
			}
		}
		return kata_error_set(err, EINVAL, "%s: unknown signal `%s`", path,
		                      json_object_get_string(value));
	} else {
		int32_t n;

		if (json_as_int32(value, path, &n, err) < 0)
			return -1;
		if (n < 0 || n > 64)
			return kata_error_set(err, EINVAL, "%s: signal %d out of range", path, n);
		*signo = n;
		return 0;
	}
}

/* hyperstart's "envs": [{"env": "K", "value": "V"}], or plain "K=V" strings. */
static int parse_envs(json_object *envs, const char *path, char ***out, kata_error_t *err)
{
	size_t n = json_object_array_length(envs);
	cleanup_strv char **vec = xcalloc(n + 1, sizeof(char *));

	for (size_t i = 0; i < n; i++) {
		json_object *item = json_object_array_get_idx(envs, i);
		cleanup_free char *item_path = json_path_index(path, i);
		cleanup_free char *key = NULL;
		cleanup_free char *value = NULL;

		if (json_object_is_type(item, json_type_string)) {
			vec[i] = xstrdup(json_object_get_string(item));
			continue;
		}
		if (json_check_type(item, json_type_object, item_path, err) < 0 ||
		    json_get_string(item, "env", item_path, true, &key, err) < 0 ||
		    json_get_string(item, "value", item_path, false, &value, err) < 0)
			return -1;
		if (key[0] == '\0' || strchr(key, '='))
			return kata_error_set(err, EINVAL, "%s.env: invalid name `%s`", item_path,
			                      key);
		vec[i] = xasprintf("%s=%s", key, value ? value : "");
	}
	*out = steal_pointer(&vec);
	return 0;
}

static int parse_numeric_id(json_object *obj, const char *key, const char *path, uint32_t *out,
                            bool *present, kata_error_t *err)
{
	json_object *value;
	cleanup_free char *key_path = json_path_key(path, key);

	*present = false;
	if (!json_object_object_get_ex(obj, key, &value) || value == NULL)
		return 0;
	if (json_object_is_type(value, json_type_string)) {
		const char *s = json_object_get_string(value);
		char *end;
		unsigned long n;

		if (s[0] == '\0')
			return 0;
		errno = 0;
		n = strtoul(s, &end, 10);
		if (errno || *end || s[0] == '-' || n > UINT32_MAX)
			return kata_error_set(
			        err, EINVAL,
			        "%s: `%s` is not a numeric id (use oci_process for names)",
			        key_path, s);
		*out = (uint32_t)n;
	} else if (json_as_uint32(value, key_path, out, err) < 0) {
		return -1;
	}
	*present = true;
	return 0;
}

/* A process from hyperstart's keys alone. */
static struct oci_process *process_from_hyperstart(json_object *obj, const char *path,
                                                   kata_error_t *err)
{
	struct oci_process *p = xzalloc(sizeof(*p));
	json_object *envs = NULL;
	bool present;

	if (json_get_string_array(obj, "args", path, true, &p->args, err) < 0)
		goto fail;
	if (p->args[0] == NULL) {
		kata_error_set(err, EINVAL, "%s.args: empty", path);
		goto fail;
	}
	if (json_get_array(obj, "envs", path, false, &envs, err) < 0)
		goto fail;
	if (envs != NULL) {
		cleanup_free char *envs_path = json_path_key(path, "envs");

		if (parse_envs(envs, envs_path, &p->env, err) < 0)
			goto fail;
	}
	if (json_get_string(obj, "workdir", path, false, &p->cwd, err) < 0)
		goto fail;
	if (p->cwd == NULL || p->cwd[0] == '\0') {
		free(p->cwd);
		p->cwd = xstrdup("/");
	}
	if (p->cwd[0] != '/') {
		kata_error_set(err, EINVAL, "%s.workdir: `%s` is not absolute", path, p->cwd);
		goto fail;
	}
	if (parse_numeric_id(obj, "user", path, &p->user.uid, &present, err) < 0 ||
	    parse_numeric_id(obj, "group", path, &p->user.gid, &present, err) < 0)
		goto fail;
	return p;
fail:
	oci_process_free(p);
	return NULL;
}

int agent_parse_process(json_object *process, json_object *oci_process, const char *path,
                        struct agent_process_request *out, kata_error_t *err)
{
	bool terminal = false;
	bool has_terminal;
	int ret;

	memset(out, 0, sizeof(*out));
	if (json_check_type(process, json_type_object, path, err) < 0)
		return -1;
	if (json_get_string(process, "id", path, true, &out->id, err) < 0)
		goto fail;
	if (!agent_valid_id(out->id)) {
		kata_error_set(err, EINVAL, "%s.id: invalid process id", path);
		goto fail;
	}
	if (json_get_uint64(process, "stdio", path, false, &out->stdio_seq, err) < 0 ||
	    json_get_uint64(process, "stderr", path, false, &out->stderr_seq, err) < 0)
		goto fail;
	if (out->stdio_seq >= MAX_SEQ || out->stderr_seq >= MAX_SEQ ||
	    (out->stdio_seq != 0 && out->stdio_seq == out->stderr_seq)) {
		kata_error_set(err, EINVAL, "%s: invalid stream sequence numbers", path);
		goto fail;
	}
	ret = json_get_bool(process, "terminal", path, false, &terminal, err);
	if (ret < 0)
		goto fail;
	has_terminal = ret > 0;

	if (oci_process != NULL) {
		out->process = oci_process_from_json(oci_process, err);
		if (out->process == NULL) {
			kata_error_wrap(err, "oci process");
			goto fail;
		}
		/* hyperstart's terminal flag wins only when it was given. */
		if (has_terminal)
			out->process->terminal = terminal;
	} else {
		out->process = process_from_hyperstart(process, path, err);
		if (out->process == NULL)
			goto fail;
		out->process->terminal = terminal;
	}
	if (out->process->cwd == NULL)
		out->process->cwd = xstrdup("/");
	return 0;
fail:
	agent_process_request_clear(out);
	return -1;
}

int agent_parse_startpod(json_object *req, struct agent_startpod_request *out, kata_error_t *err)
{
	memset(out, 0, sizeof(*out));
	if (json_check_type(req, json_type_object, "STARTPOD", err) < 0)
		return -1;
	if (json_get_string(req, "hostname", "", false, &out->hostname, err) < 0 ||
	    json_get_string_array(req, "dns", "", false, &out->dns, err) < 0 ||
	    json_get_string(req, "shareDir", "", false, &out->share_tag, err) < 0 ||
	    json_get_string(req, "shareFsType", "", false, &out->share_fstype, err) < 0)
		goto fail;
	if (out->hostname != NULL && strlen(out->hostname) > 64) {
		kata_error_set(err, EINVAL, "hostname: longer than 64 bytes");
		goto fail;
	}
	if (out->share_tag != NULL && (out->share_tag[0] == '\0' || strlen(out->share_tag) > 36)) {
		kata_error_set(err, EINVAL, "shareDir: invalid mount tag");
		goto fail;
	}
	if (out->share_fstype == NULL) {
		out->share_fstype = xstrdup("9p");
	} else if (strcmp(out->share_fstype, "9p") != 0 &&
	           strcmp(out->share_fstype, "virtiofs") != 0) {
		kata_error_set(err, EINVAL, "shareFsType: `%s` is neither 9p nor virtiofs",
		               out->share_fstype);
		goto fail;
	}
	for (size_t i = 0; out->dns && out->dns[i]; i++) {
		const char *s = out->dns[i];

		if (s[0] == '\0' || strlen(s) > 64 || strpbrk(s, " \t\n\r#")) {
			kata_error_set(err, EINVAL, "dns[%zu]: invalid address", i);
			goto fail;
		}
	}
	if (agent_parse_network(req, &out->net, err) < 0)
		goto fail;
	return 0;
fail:
	agent_startpod_request_clear(out);
	return -1;
}

int agent_parse_newcontainer(json_object *req, struct agent_newcontainer_request *out,
                             kata_error_t *err)
{
	json_object *oci = NULL;
	json_object *process = NULL;
	json_object *oci_process = NULL;

	memset(out, 0, sizeof(*out));
	if (json_check_type(req, json_type_object, "NEWCONTAINER", err) < 0)
		return -1;
	if (json_get_string(req, "id", "", true, &out->id, err) < 0)
		goto fail;
	if (!agent_valid_id(out->id)) {
		kata_error_set(err, EINVAL, "id: invalid container id");
		goto fail;
	}
	if (json_get_string(req, "rootfs", "", true, &out->rootfs, err) < 0)
		goto fail;
	if (!agent_valid_relative_path(out->rootfs)) {
		kata_error_set(err, EINVAL, "rootfs: `%s` is not a path inside the share",
		               out->rootfs);
		goto fail;
	}
	if (json_get_object(req, "oci", "", false, &oci, err) < 0 ||
	    json_get_object(req, "process", "", true, &process, err) < 0)
		goto fail;
	if (oci != NULL) {
		out->spec = oci_spec_from_json(oci, err);
		if (out->spec == NULL) {
			kata_error_wrap(err, "oci");
			goto fail;
		}
		if (json_get_object(oci, "process", "oci", false, &oci_process, err) < 0)
			goto fail;
	} else {
		out->spec = xzalloc(sizeof(*out->spec));
	}
	if (agent_parse_process(process, oci_process, "process", &out->process, err) < 0)
		goto fail;
	return 0;
fail:
	agent_newcontainer_request_clear(out);
	return -1;
}

int agent_parse_execcmd(json_object *req, struct agent_execcmd_request *out, kata_error_t *err)
{
	json_object *process = NULL;
	json_object *oci_process = NULL;

	memset(out, 0, sizeof(*out));
	if (json_check_type(req, json_type_object, "EXECCMD", err) < 0)
		return -1;
	if (json_get_string(req, "container", "", true, &out->container, err) < 0 ||
	    json_get_object(req, "process", "", true, &process, err) < 0 ||
	    json_get_object(req, "oci_process", "", false, &oci_process, err) < 0)
		goto fail;
	if (!agent_valid_id(out->container)) {
		kata_error_set(err, EINVAL, "container: invalid container id");
		goto fail;
	}
	if (agent_parse_process(process, oci_process, "process", &out->process, err) < 0)
		goto fail;
	return 0;
fail:
	agent_execcmd_request_clear(out);
	return -1;
}

int agent_parse_target(json_object *req, bool want_process, bool want_signal, bool want_winsize,
                       struct agent_target_request *out, kata_error_t *err)
{
	json_object *signal = NULL;

	memset(out, 0, sizeof(*out));
	if (json_check_type(req, json_type_object, "request", err) < 0)
		return -1;
	if (json_get_string(req, "container", "", true, &out->container, err) < 0 ||
	    json_get_string(req, "process", "", want_process, &out->process, err) < 0)
		goto fail;
	if (!agent_valid_id(out->container) ||
	    (out->process != NULL && !agent_valid_id(out->process))) {
		kata_error_set(err, EINVAL, "invalid container or process id");
		goto fail;
	}
	if (want_signal) {
		if (!json_object_object_get_ex(req, "signal", &signal) || signal == NULL) {
			kata_error_set(err, EINVAL, "signal: required");
			goto fail;
		}
		if (agent_parse_signal(signal, "signal", &out->signal, err) < 0)
			goto fail;
		if (json_get_bool(req, "all", "", false, &out->all, err) < 0)
			goto fail;
	}
	if (want_winsize && (json_get_uint16(req, "row", "", true, &out->row, err) < 0 ||
	                     json_get_uint16(req, "column", "", true, &out->column, err) < 0))
		goto fail;
	return 0;
fail:
	agent_target_request_clear(out);
	return -1;
}

void agent_process_request_clear(struct agent_process_request *r)
{
	free(r->id);
	oci_process_free(r->process);
	memset(r, 0, sizeof(*r));
}

void agent_startpod_request_clear(struct agent_startpod_request *r)
{
	free(r->hostname);
	strv_free(r->dns);
	free(r->share_tag);
	free(r->share_fstype);
	agent_net_config_clear(&r->net);
	memset(r, 0, sizeof(*r));
}

void agent_newcontainer_request_clear(struct agent_newcontainer_request *r)
{
	free(r->id);
	free(r->rootfs);
	oci_spec_free(r->spec);
	agent_process_request_clear(&r->process);
	memset(r, 0, sizeof(*r));
}

void agent_execcmd_request_clear(struct agent_execcmd_request *r)
{
	free(r->container);
	agent_process_request_clear(&r->process);
	memset(r, 0, sizeof(*r));
}

void agent_target_request_clear(struct agent_target_request *r)
{
	free(r->container);
	free(r->process);
	memset(r, 0, sizeof(*r));
}

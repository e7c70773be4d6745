/* `kata-runtime create [--bundle DIR] [--console-socket SOCK] [--pid-file FILE] ID`:
 * boots the container's VM, creates the container in it (its process exists but has
 * not run the program yet) and starts its shim, whose pid the engine then sees. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent_call.h"
#include "cleanup.h"
#include "dialect.h"
#include "fault_point.h"
#include "hooks.h"
#include "json_util.h"
#include "lifecycle.h"
#include "log.h"
#include "network.h"
#include "oci_spec.h"
#include "pod.h"
#include "rootfs_check.h"
#include "sandbox.h"
#include "share.h"
#include "shim_launch.h"

int create_options_parse(int argc, char **argv, struct create_options *opts, kata_error_t *err)
{
	const struct option options[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "console-socket", required_argument, NULL, 'c' },
		{ "pid-file", required_argument, NULL, 'p' },
		{ "no-pivot", no_argument, NULL, 'n' },
		{ "no-new-keyring", no_argument, NULL, 'k' },
		{ "preserve-fds", required_argument, NULL, 'f' },
		{ "detach", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	memset(opts, 0, sizeof(*opts));
	opts->bundle = ".";
	while ((c = getopt_long_only(argc, argv, "+b:d", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			opts->bundle = optarg;
			break;
		case 'c':
			opts->console_socket = optarg;
			break;
		case 'p':
			opts->pid_file = optarg;
			break;
		case 'd':
			opts->detach = true;
			break;
		case 'f':
			if (strcmp(optarg, "0") != 0)
				return kata_error_set(err, EINVAL,
				                      "--preserve-fds: file descriptors cannot be "
				                      "passed into a VM");
			break;
		case 'n':
		case 'k':
			break; /* meaningless in a VM: the agent always pivots, keyrings are its own */
		default:
			return kata_error_set(err, EINVAL, "%s: unknown option `%s`", argv[0],
			                      argv[optind - 1]);
		}
	}
	if (optind != argc - 1)
		return kata_error_set(err, EINVAL, "usage: %s [options] CONTAINER_ID", argv[0]);
	opts->id = argv[optind];
	/* Checked first: an id the agent or the host's paths would refuse later must not
	 * boot a VM first. */
	if (!state_id_is_valid(opts->id))
		return kata_error_set(err, EINVAL,
		                      "invalid container id `%s`: use letters, digits, _ . - "
		                      "(not first), at most %d characters",
		                      opts->id, STATE_ID_MAX);
	return 0;
}

/* hyperstart's process object; the proxy adds the token's stream numbers. */
static json_object *init_process_json(const struct oci_process *process, const char *id)
{
	json_object *obj = json_object_new_object();
	json_object *envs = json_object_new_array();

	json_add_string(obj, "id", id);
	json_object_object_add(obj, "terminal", json_object_new_boolean(process->terminal));
	json_add_string_array(obj, "args", process->args);
	for (char **e = process->env; e != NULL && *e != NULL; e++)
		json_object_array_add(envs, json_object_new_string(*e));
	json_object_object_add(obj, "envs", envs);
	json_add_string(obj, "workdir", process->cwd ?: "/");
	return obj;
}

static int hyper(struct proxy_conn *conn, const char *name, const char *token, json_object *data,
                 kata_error_t *err)
{
	kata_error_t call_err = NULL;
	json_object *answer = proxy_hyper(conn, name, token != NULL ? &token : NULL,
	                                  token != NULL ? 1 : 0, data, &call_err);

	json_object_put(answer);
	if (call_err != NULL) {
		kata_error_move(err, &call_err);
		return kata_error_wrap(err, "agent %s", name);
	}
	return 0;
}

/* The spec as the guest gets it: without a network namespace, as Kata Containers'
 * runtime sent it to its agent. The network of a sandbox is the VM's own, where its
 * interfaces are; a namespace of its own in the guest would hold only a loopback, and
 * costs (under TCG) ~7 ms to create and as much to tear down when the container exits. */
static json_object *guest_spec_json(const struct oci_spec *spec)
{
	json_object *oci = oci_spec_to_json(spec);
	json_object *lx = NULL, *namespaces = NULL, *kept;
	size_t n;

	if (!json_object_object_get_ex(oci, "linux", &lx) ||
	    !json_object_object_get_ex(lx, "namespaces", &namespaces) ||
	    !json_object_is_type(namespaces, json_type_array))
		return oci;
	kept = json_object_new_array();
	n = json_object_array_length(namespaces);
	for (size_t i = 0; i < n; i++) {
		json_object *ns = json_object_array_get_idx(namespaces, i);
		json_object *type = NULL;

		if (json_object_object_get_ex(ns, "type", &type) &&
		    json_object_is_type(type, json_type_string) &&
		    strcmp(json_object_get_string(type), "network") == 0)
			continue;
		json_object_array_add(kept, json_object_get(ns));
	}
	json_object_object_add(lx, "namespaces", kept);
	return oci;
}

/* The shim starts in the container's network namespace (launch->netns), as Kata 1.x's did:
 * the pid the engine gets is then in it, as runc's container process would be. */
static int start_shim(const struct kata_config *config, struct container_record *record,
                      const struct shim_launch *launch, const struct sandbox_checkpoint *cp,
                      kata_error_t *err)
{
	int saved = -1;
	int ret;

	if (launch->netns != NULL && netns_enter(launch->netns, &saved, err) < 0)
		return kata_error_wrap(err, "shim");
	ret = shim_launch_detached(config, launch, &record->shim, err);
	if (netns_return(&saved, ret < 0 ? NULL : err) < 0 && ret == 0) {
		process_signal(&record->shim, SIGKILL, NULL);
		ret = -1;
	}
	if (ret < 0)
		return -1;
	fault_point("shim-started");
	cp->save(cp->opaque); /* delete --force must know the shim from now on */
	return 0;
}

/* Registers with the proxy, starts the shim, sets up the pod and creates the container in
 * the guest (or, for a foreign agent that would run it at once, keeps the request for
 * start); with start_now, starts it too on the same connection. Without a terminal the
 * shim is started while the guest still boots, off the path that waits for it: until the
 * process exists the proxy keeps what the shim sends. */
static int create_in_guest(const struct kata_config *config, struct container_record *record,
                           const struct oci_spec *spec, const char *pod_sandbox,
                           struct shim_launch *launch, bool start_now,
                           const struct sandbox_checkpoint *cp, kata_error_t *err)
{
	struct proxy_conn *conn = agent_connect(&record->sandbox, AGENT_CALL_TIMEOUT_MS, err);
	struct proxy_io_tokens tokens = { 0 };
	cleanup_json json_object *startpod = json_object_new_object();
	cleanup_json json_object *newcontainer = json_object_new_object();
	cleanup_json json_object *target = NULL;
	cleanup_free char *rootfs = xasprintf("%s/rootfs", record->id);
	int ret = -1;

	if (conn == NULL)
		return -1;
	/* A container of a pod joins the VM its sandbox registered and started (cli/pod.h). */
	if (pod_sandbox != NULL
	            ? proxy_attach_vm(conn, record->sandbox.id, 1, &tokens, err) < 0
	            : proxy_register_vm(conn, record->id, NULL, NULL, NULL, 1, &tokens, err) < 0)
		goto out;
	if (tokens.count < 1) {
		kata_error_set(err, EPROTO, "the proxy handed out no token");
		goto out;
	}
	launch->token = tokens.tokens[0];
	launch->url = tokens.url;
	/* A terminal's shim sends the window size at once, which needs the process. */
	if (!launch->terminal && start_shim(config, record, launch, cp, err) < 0)
		goto out;
	/* the keys of every dialect, the network's interfaces and routes among them */
	json_add_string(startpod, "hostname", spec->hostname ?: record->id);
	json_add_string(startpod, "shareDir", "kataShared");
	network_startpod_add(startpod, record->sandbox.network);
	fault_point("registered");
	/* A container of a pod joins the VM its sandbox container set up. */
	if (pod_sandbox == NULL && (dialect_startpod(config, startpod, err) < 0 ||
	                            hyper(conn, "startpod", NULL, startpod, err) < 0))
		goto out;
	fault_point("pod-started");
	if (config->agent.dialect == KATA_DIALECT_HYPERSTART) {
		int with_wait =
		        hyperstart_share_wait(config, record->sandbox.shared_dir, record->id, err);
		if (with_wait < 0)
			goto out;
		json_object_put(newcontainer);
		newcontainer = hyperstart_newcontainer(record->id, spec, with_wait == 1, err);
		if (newcontainer == NULL)
			goto out;
	} else {
		json_add_string(newcontainer, "id", record->id);
		json_add_string(newcontainer, "rootfs", rootfs);
		json_object_object_add(newcontainer, "oci", guest_spec_json(spec));
		if (pod_sandbox != NULL)
			pod_guest_namespaces(json_object_object_get(newcontainer, "oci"),
			                     pod_sandbox);
		json_object_object_add(newcontainer, "process",
		                       init_process_json(spec->process, record->id));
	}
	if (config->agent.dialect != KATA_DIALECT_KATA) {
		record->deferred_token = xstrdup(tokens.tokens[0]);
		record->deferred_newcontainer = json_object_get(newcontainer);
		ret = launch->terminal ? start_shim(config, record, launch, cp, err) : 0;
		goto out;
	}
	ret = hyper(conn, "newcontainer", tokens.tokens[0], newcontainer, err);
	if (ret == 0)
		fault_point("container-created");
	if (ret == 0 && launch->terminal)
		ret = start_shim(config, record, launch, cp, err);
	if (ret == 0 && start_now) {
		target = agent_target(record->id, NULL);
		ret = hyper(conn, "startcontainer", NULL, target, err);
	}
out:
	launch->token = NULL;
	launch->url = NULL;
	proxy_io_tokens_clear(&tokens);
	proxy_conn_close(conn);
	return ret;
}

/* run starts the container within create when nothing has to happen between the two:
 * the kata agent, and no hooks of create or start (poststop hooks run at delete). */
static bool can_start_at_once(const struct kata_config *config, const struct oci_spec *spec)
{
	if (config->agent.dialect != KATA_DIALECT_KATA)
		return false;
	for (int k = 0; spec->hooks != NULL && k < OCI_HOOK_KINDS; k++)
		if (k != OCI_HOOK_POSTSTOP && spec->hooks->lists[k].n_hooks > 0)
			return false;
	return true;
}

static char *absolute_path(const char *path, kata_error_t *err)
{
	char resolved[PATH_MAX];

	if (realpath(path, resolved) == NULL) {
		kata_error_sys(err, "`%s`", path);
		return NULL;
	}
	return xstrdup(resolved);
}

static int load_bundle(const char *bundle_arg, char **bundle, struct oci_spec **spec,
                       kata_error_t *err)
{
	cleanup_free char *config_json = NULL;
	cleanup_free char *rootfs = NULL;

	*bundle = absolute_path(bundle_arg, err);
	if (*bundle == NULL)
		return kata_error_wrap(err, "bundle");
	config_json = xasprintf("%s/config.json", *bundle);
	*spec = oci_spec_load(config_json, err);
	if (*spec == NULL)
		return -1;
	if ((*spec)->process == NULL)
		return kata_error_set(err, EINVAL, "%s: process: missing", config_json);
	if ((*spec)->root == NULL || (*spec)->root->path == NULL)
		return kata_error_set(err, EINVAL, "%s: root.path: missing", config_json);
	rootfs = (*spec)->root->path[0] == '/' ? xstrdup((*spec)->root->path)
	                                       : xasprintf("%s/%s", *bundle, (*spec)->root->path);
	if (rootfs_check_mount_destinations(rootfs, *spec, err) < 0)
		return kata_error_wrap(err, "%s", config_json);
	return 0;
}

/* run without --detach: the caller waits for the process, on its own stdio. */
static bool runs_in_foreground(const struct create_options *opts)
{
	return opts->start && !opts->detach;
}

struct create_checkpoint {
	const struct state_handle *handle;
	const struct container_record *record;
};

static void save_checkpoint(void *opaque)
{
	const struct create_checkpoint *c = opaque;

	container_save(c->handle, c->record, NULL);
}

/* createContainer and startContainer hooks run in the container's namespaces, which are in
 * the guest, where a host program cannot run: they are not run (docs/conformance.md). */
static void warn_guest_hooks(const struct oci_hooks *hooks)
{
	if (hooks == NULL)
		return;
	if (hooks->lists[OCI_HOOK_CREATE_CONTAINER].n_hooks > 0 ||
	    hooks->lists[OCI_HOOK_START_CONTAINER].n_hooks > 0)
		log_warning("createContainer and startContainer hooks are not run: they belong in "
		            "the container's namespaces, inside the VM");
}

static bool has_runtime_hooks(const struct oci_hooks *hooks)
{
	return hooks != NULL && (hooks->lists[OCI_HOOK_PRESTART].n_hooks > 0 ||
	                         hooks->lists[OCI_HOOK_CREATE_RUNTIME].n_hooks > 0);
}

/* prestart and createRuntime hooks run before the VM boots, so that what they put in the
 * container's network namespace (Docker's libnetwork-setkey: its veth, addresses, routes) is
 * what the VM gets. The shim does not exist yet: the state's pid is a child of the runtime
 * standing in that namespace, where /proc/PID/ns/net finds it. */
static int run_runtime_hooks(const struct oci_spec *spec, const struct container_record *record,
                             const char *netns, kata_error_t *err)
{
	cleanup_json json_object *state = NULL;
	struct netns_holder holder;
	int ret;

	if (!has_runtime_hooks(spec->hooks))
		return 0;
	if (netns_holder_start(netns, &holder, err) < 0)
		return kata_error_wrap(err, "prestart hooks");
	state = container_oci_state(record, CONTAINER_CREATING);
	json_object_object_add(state, "pid", json_object_new_int(holder.pid));
	ret = hooks_run(spec->hooks, OCI_HOOK_PRESTART, state, err);
	if (ret == 0)
		ret = hooks_run(spec->hooks, OCI_HOOK_CREATE_RUNTIME, state, err);
	netns_holder_stop(&holder);
	return ret;
}

/* The container's network namespace: the spec's path, or one made here (network.h says
 * when) at the sandbox directory's NETWORK_OWN_NETNS_FILE. *netns is NULL for none. */
static int prepare_netns(const struct kata_config *config, const struct oci_spec *spec,
                         const struct sandbox_record *sb, char **netns, kata_error_t *err)
{
	const struct oci_namespace *ns = oci_spec_namespace(spec, OCI_NS_NETWORK);

	*netns = NULL;
	if (network_wants_own_netns(config, spec)) {
		cleanup_free char *path = xasprintf("%s/" NETWORK_OWN_NETNS_FILE, sb->dir);

		if (netns_create_at(path, err) < 0)
			return kata_error_wrap(err, "network");
		*netns = steal_pointer(&path);
	} else if (ns != NULL && ns->path != NULL) {
		*netns = xstrdup(ns->path);
	}
	return 0;
}

/* The container's own VM: its sandbox directory, rootfs, network namespace, the hooks that
 * fill it, its network, VM and proxy. *netns: the namespace the shim is to start in. */
static int boot_own_vm(struct cli_context *ctx, struct state_handle *handle,
                       struct container_record *record, struct oci_spec *spec,
                       const struct sandbox_checkpoint *cp, char **netns, kata_error_t *err)
{
	struct sandbox_record *sb = &record->sandbox;
	struct sandbox_resources resources;
	const struct companion_log launch_log = cli_companion_log(ctx);
	cleanup_free char *rootfs = NULL;
	struct create_checkpoint saved = { handle, record };
	struct network_checkpoint net_cp = { save_checkpoint, &saved };
	__attribute__((cleanup(network_nics_clear))) struct network_nics nics = { .n = 0 };
	int ret;

	if (sandbox_prepare(ctx->root, record->id, sb, err) < 0 ||
	    container_save(handle, record, err) < 0)
		return -1;
	fault_point("sandbox-prepared");
	rootfs = spec->root->path[0] == '/' ? xstrdup(spec->root->path)
	                                    : xasprintf("%s/%s", record->bundle, spec->root->path);
	ret = share_rootfs(sb->shared_dir, record->id, rootfs, &sb->mounts, err);
	if (ret == 0)
		ret = share_bind_mounts(sb->shared_dir, record->id, spec, &sb->mounts, err);
	/* The mounts must be in the record before anything else can fail or be killed. */
	container_save(handle, record, NULL);
	if (ret < 0)
		return -1;
	fault_point("rootfs-shared");
	sandbox_size_for(ctx->config, spec, &resources);
	if (pod_size_from_annotations(record->annotations, ctx->config, &resources, err) < 0)
		return -1;
	sb->vcpus = resources.vcpus;
	sb->memory_mib = resources.memory_mib;
	/* The namespace is under the sandbox directory: undone with it. */
	if (prepare_netns(ctx->config, spec, sb, netns, err) < 0 ||
	    run_runtime_hooks(spec, record, *netns, err) < 0)
		return -1;
	ret = network_setup_at(ctx->config, *netns, &sb->network, &net_cp, &nics, err);
	if (ret == 0 && network_wants_standby(ctx->config, spec, record->bundle, sb->network))
		ret = network_standby_setup(*netns, &sb->network, &net_cp, &nics, err);
	container_save(handle, record, NULL);
	if (ret < 0)
		return -1;
	resources.nics = nics.nics;
	resources.n_nics = nics.n;
	ret = sandbox_boot(ctx->config, sb, &resources, &launch_log, cp, err);
	container_save(handle, record, NULL);
	return ret;
}

/* Every step saves the record, so that a create that fails or is killed half-way can be
 * undone by its own error path or by `delete --force`. A container of a pod (pod_sandbox,
 * locked by the caller) joins its sandbox's VM instead of booting one. */
static int create_steps(struct cli_context *ctx, const struct create_options *opts,
                        struct state_handle *handle, struct container_record *record,
                        struct oci_spec *spec, const struct container_record *pod_sandbox,
                        bool *started, kata_error_t *err)
{
	cleanup_json json_object *oci_state = NULL;
	cleanup_free char *netns = NULL;
	struct shim_launch launch = { 0 };
	struct create_checkpoint saved = { handle, record };
	struct sandbox_checkpoint cp = { save_checkpoint, &saved };
	bool start_now = opts->start && can_start_at_once(ctx->config, spec);
	int ret = -1;

	fault_point("state-dir");
	if (container_save(handle, record, err) < 0)
		return -1;
	if (pod_sandbox != NULL) {
		ret = pod_container_join(pod_sandbox, record, spec, err);
		if (ret == 0)
			ret = pod_container_grow(ctx->config, record, spec, err);
		container_save(handle, record, NULL);
	} else {
		ret = boot_own_vm(ctx, handle, record, spec, &cp, &netns, err);
	}
	if (ret < 0)
		return -1;
	launch.container = record->id;
	launch.netns = netns;
	launch.terminal = spec->process->terminal;
	launch.console_socket = opts->console_socket;
	launch.foreground = runs_in_foreground(opts);
	launch.pid_file = opts->pid_file;
	launch.log = cli_companion_log(ctx);
	launch.sandbox_dir = record->sandbox.dir;
	shim_launch_caller_console_size(&launch, spec->process);
	ret = create_in_guest(ctx->config, record, spec,
	                      pod_sandbox != NULL ? pod_sandbox->id : NULL, &launch, start_now, &cp,
	                      err);
	if (ret < 0)
		return -1;
	record->saved_status = start_now ? CONTAINER_RUNNING : CONTAINER_CREATED;
	*started = start_now;
	ret = container_save(handle, record, err);
	if (ret == 0)
		fault_point("create-saved");
	if (ret < 0 || start_now)
		return ret;
	warn_guest_hooks(spec->hooks);
	if (pod_sandbox == NULL)
		return 0; /* its prestart and createRuntime hooks ran before its VM booted */
	/* A container of a pod joins a running VM and the sandbox's network: its hooks see the
	 * shim's pid. */
	oci_state = container_oci_state(record, CONTAINER_CREATED);
	if (spec->hooks != NULL &&
	    (hooks_run(spec->hooks, OCI_HOOK_PRESTART, oci_state, err) < 0 ||
	     hooks_run(spec->hooks, OCI_HOOK_CREATE_RUNTIME, oci_state, err) < 0))
		ret = -1;
	return ret;
}

int container_create(struct cli_context *ctx, const struct create_options *opts,
                     struct process_id *shim, bool *started, kata_error_t *err)
{
	struct container_record record = { 0 };
	struct container_record pod_sandbox = { 0 };
	struct state_handle handle;
	struct state_handle pod_handle = { .lock_fd = -1 };
	struct pod_ref pod = { 0 };
	cleanup_free char *bundle = NULL;
	struct oci_spec *spec = NULL;
	int ret = -1;

	if (cli_load_config(ctx, err) < 0)
		return -1;
	if (load_bundle(opts->bundle, &bundle, &spec, err) < 0 ||
	    shim_launch_check_terminal(spec->process->terminal, opts->console_socket,
	                               runs_in_foreground(opts), err) < 0 ||
	    pod_ref_from_annotations(spec->annotations, opts->id, &pod, err) < 0)
		goto out;
	/* The pod first, then the container: the order every pod operation takes. */
	if (pod.role == POD_CONTAINER &&
	    pod_sandbox_lock(ctx->root, pod.sandbox_id, &pod_handle, &pod_sandbox, err) < 0)
		goto out;
	if (state_create(ctx->root, opts->id, &handle, err) < 0)
		goto out;
	kata_log_set_field("container", opts->id);
	record.id = xstrdup(opts->id);
	record.bundle = steal_pointer(&bundle);
	record.config_path = xstrdup(ctx->config->path);
	record.saved_status = CONTAINER_CREATING;
	record.created = container_timestamp_now();
	record.owner = xstrdup("root");
	record.annotations = spec->annotations;
	spec->annotations = NULL;
	*started = false;
	ret = create_steps(ctx, opts, &handle, &record, spec,
	                   pod.role == POD_CONTAINER ? &pod_sandbox : NULL, started, err);
	if (ret < 0) {
		/* Undo everything: a failed create leaves no record. What the undo could not
		 * remove is named here; the sandbox directory, whose name (root, id) fixes, is
		 * then what delete --force finds it by (docs/error-handling.md). */
		kata_error_t undo_err = NULL;
		if (record.shim.pid > 0)
			process_signal(&record.shim, SIGKILL, NULL);
		if (pod.role == POD_CONTAINER
		            ? pod_container_undo(ctx, &record, true, &undo_err) < 0
		            : sandbox_teardown(ctx->config, &record.sandbox, &undo_err) < 0) {
			log_warning("undo create: %s (delete --force %s removes the rest)",
			            undo_err->message, opts->id);
			kata_error_free(&undo_err);
		}
		state_destroy(&handle, NULL);
		kata_error_wrap(err, "create container `%s`", opts->id);
	} else {
		*shim = record.shim;
		state_unlock(&handle);
	}
	container_record_clear(&record);
out:
	if (pod_handle.lock_fd >= 0)
		state_unlock(&pod_handle);
	container_record_clear(&pod_sandbox);
	pod_ref_clear(&pod);
	oci_spec_free(spec);
	return ret;
}

int cli_create(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	struct create_options opts;
	struct process_id shim;
	bool started;

	if (create_options_parse(argc, argv, &opts, err) < 0)
		return -1;
	return container_create(ctx, &opts, &shim, &started, err);
}

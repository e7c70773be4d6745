#include "dialect.h"
#include "json_util.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

/* Fresh entropy and the host's clock (docs/agent-protocol.md): the VM may be a clone of a
 * template, which wakes with the template's RNG state and time (docs/templating.md). */
static int startpod_add_host_facts(json_object *startpod, kata_error_t *err)
{
	unsigned char entropy[64];
	char hex[2 * sizeof(entropy) + 1];
	struct timespec now;
	json_object *when = json_object_new_object();

	if (getrandom(entropy, sizeof(entropy), 0) != (ssize_t)sizeof(entropy)) {
		json_object_put(when);
		return kata_error_sys(err, "getrandom");
	}
	for (size_t i = 0; i < sizeof(entropy); i++)
		snprintf(hex + 2 * i, 3, "%02x", entropy[i]);
	explicit_bzero(entropy, sizeof(entropy));
	json_add_string(startpod, "entropy", hex);
	explicit_bzero(hex, sizeof(hex));
	clock_gettime(CLOCK_REALTIME, &now);
	json_object_object_add(when, "sec", json_object_new_int64((int64_t)now.tv_sec));
	json_object_object_add(when, "nsec", json_object_new_int64(now.tv_nsec));
	json_object_object_add(startpod, "hostTime", when);
	return 0;
}

int dialect_startpod(const struct kata_config *config, json_object *startpod, kata_error_t *err)
{
	bool virtio_fs = config->hypervisor.shared_fs == KATA_SHARED_FS_VIRTIO_FS;

	if (config->agent.dialect == KATA_DIALECT_HYPERSTART) {
		/* hyperstart mounts shareDir as a 9p tag and refuses a key it does not know */
		if (virtio_fs)
			return kata_error_set(err, ENOTSUP,
			                      "shared_fs = \"virtio-fs\": the hyperstart dialect "
			                      "mounts the shared directory with 9p only");
		return hyperstart_startpod_network(startpod, err);
	}
	json_add_string(startpod, "shareFsType", virtio_fs ? "virtiofs" : "9p");
	if (config->agent.dialect == KATA_DIALECT_KATA)
		return startpod_add_host_facts(startpod, err);
	return 0;
}

/* Operations whose message runV's hyperstart does not have (it answers ERROR to an
 * unknown code, which would say nothing of why). */
static const char *const hyperstart_lacks[][2] = {
	{ "ps", "PSCONTAINER" },
	{ "events --stats", "STATSCONTAINER" },
	{ "update", "UPDATECONTAINER" },
};

int dialect_require(const struct kata_config *config, const char *operation, kata_error_t *err)
{
	if (config->agent.dialect != KATA_DIALECT_HYPERSTART)
		return 0;
	for (size_t i = 0; i < sizeof(hyperstart_lacks) / sizeof(hyperstart_lacks[0]); i++)
		if (strcmp(operation, hyperstart_lacks[i][0]) == 0)
			return kata_error_set(
			        err, ENOTSUP,
			        "%s: not possible with the hyperstart dialect (runV's "
			        "hyperstart has no %s message)",
			        operation, hyperstart_lacks[i][1]);
	return 0;
}

json_object *dialect_kill_request(const struct kata_config *config, const char *id, int signo,
                                  bool all)
{
	json_object *request = json_object_new_object();

	json_add_string(request, "container", id);
	json_object_object_add(request, "signal", json_object_new_int(signo));
	/* hyperstart signals the container's init, whose death ends the container's pid
	 * namespace; it knows no `all` key */
	if (config->agent.dialect != KATA_DIALECT_HYPERSTART)
		json_object_object_add(request, "all", json_object_new_boolean(all));
	return request;
}

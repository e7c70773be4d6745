/* hyperstart's message shapes (fake_hyperstart.h), from its parser (src/parse.c) and what
 * the real v1.1.0 did when driven by kata-runtime. */
#include "fake_hyperstart.h"
#include "agent_proto.h"
#include "cleanup.h"

#include <stdio.h>
#include <string.h>

enum kind { STR, NUM, BOOL, ARR, OBJ, ANY };

struct key {
	const char *name;
	enum kind kind;
};

static const struct key pod_keys[] = {
	{ "hostname", STR },      { "shareDir", STR },   { "containers", ARR },
	{ "interfaces", ARR },    { "routes", ARR },     { "dns", ARR },
	{ "dnsSearch", ARR },     { "dnsOptions", ARR }, { "portmappingWhiteLists", OBJ },
	{ "restartPolicy", STR }, { NULL, ANY },
};
/* v1.1.0 finds the NIC by "device" (the guest's name) and knows no MAC */
static const struct key interface_keys[] = {
	{ "device", STR }, { "newDeviceName", STR }, { "ipAddresses", ARR }, { "mtu", NUM },
	{ NULL, ANY },
};
static const struct key ipaddress_keys[] = { { "ipAddress", STR },
	                                     { "netMask", STR },
	                                     { NULL, ANY } };
static const struct key route_keys[] = {
	{ "dest", STR },
	{ "gateway", STR },
	{ "device", STR },
	{ NULL, ANY },
};
static const struct key container_keys[] = {
	{ "id", STR },      { "rootfs", STR },        { "image", STR },       { "addr", STR },
	{ "fstype", STR },  { "volumes", ARR },       { "fsmap", ARR },       { "sysctl", OBJ },
	{ "process", OBJ }, { "restartPolicy", STR }, { "initialize", BOOL }, { "ports", ARR },
	{ NULL, ANY },
};
static const struct key process_keys[] = {
	{ "id", STR },        { "user", STR },    { "group", STR },  { "additionalGroups", ARR },
	{ "terminal", BOOL }, { "stdio", NUM },   { "stderr", NUM }, { "args", ARR },
	{ "envs", ARR },      { "workdir", STR }, { NULL, ANY },
};
static const struct key env_keys[] = { { "env", STR }, { "value", STR }, { NULL, ANY } };
static const struct key fsmap_keys[] = {
	{ "source", STR },        { "path", STR }, { "readOnly", BOOL },
	{ "dockerVolume", BOOL }, { NULL, ANY },
};
static const struct key exec_keys[] = { { "container", STR }, { "process", OBJ }, { NULL, ANY } };
static const struct key kill_keys[] = { { "container", STR }, { "signal", NUM }, { NULL, ANY } };
static const struct key signal_keys[] = {
	{ "container", STR },
	{ "process", STR },
	{ "signal", NUM },
	{ NULL, ANY },
};
static const struct key winsize_keys[] = {
	{ "container", STR }, { "process", STR }, { "row", NUM }, { "column", NUM }, { NULL, ANY },
};
static const struct key remove_keys[] = { { "container", STR }, { NULL, ANY } };

static bool is_kind(json_object *v, enum kind kind)
{
	switch (kind) {
	case STR:
		return json_object_is_type(v, json_type_string);
	case NUM:
		return json_object_is_type(v, json_type_int);
	case BOOL:
		return json_object_is_type(v, json_type_boolean);
	case ARR:
		return json_object_is_type(v, json_type_array);
	case OBJ:
		return json_object_is_type(v, json_type_object);
	case ANY:
		return true;
	}
	return false;
}

/* why: what was refused, then the detail */
static bool refuse(char **why, const char *what, const char *detail)
{
	if (why != NULL)
		*why = xasprintf("%s%s", what, detail);
	return false;
}

static bool check_object(json_object *obj, const struct key *keys, const char *where, char **why)
{
	if (!json_object_is_type(obj, json_type_object))
		return refuse(why, where, ": not an object");
	json_object_object_foreach(obj, name, value)
	{
		const struct key *k = keys;
		while (k->name != NULL && strcmp(k->name, name) != 0)
			k++;
		if (k->name == NULL)
			return refuse(why, "unknown key ", name);
		if (!is_kind(value, k->kind))
			return refuse(why, name, ": wrong type");
	}
	return true;
}

static bool check_array_of(json_object *obj, const char *key, const struct key *keys, char **why)
{
	json_object *array;

	if (!json_object_object_get_ex(obj, key, &array))
		return true;
	for (size_t i = 0; i < json_object_array_length(array); i++)
		if (!check_object(json_object_array_get_idx(array, i), keys, key, why))
			return false;
	return true;
}

static bool check_strings(json_object *obj, const char *key, char **why)
{
	json_object *array;

	if (!json_object_object_get_ex(obj, key, &array))
		return true;
	for (size_t i = 0; i < json_object_array_length(array); i++)
		if (!json_object_is_type(json_object_array_get_idx(array, i), json_type_string))
			return refuse(why, key, ": not an array of strings");
	return true;
}

static bool check_process(json_object *process, bool exec, char **why)
{
	json_object *v;

	if (!check_object(process, process_keys, "process", why) ||
	    !check_array_of(process, "envs", env_keys, why) ||
	    !check_strings(process, "args", why) ||
	    !check_strings(process, "additionalGroups", why))
		return false;
	if (!json_object_object_get_ex(process, "args", &v) || json_object_array_length(v) == 0)
		return refuse(why, "process: no args", "");
	/* "group or additional groups can only be set when user is set" */
	if (!json_object_object_get_ex(process, "user", NULL) &&
	    (json_object_object_get_ex(process, "group", NULL) ||
	     json_object_object_get_ex(process, "additionalGroups", NULL)))
		return refuse(why, "process: group without user", "");
	if (exec &&
	    (!json_object_object_get_ex(process, "stdio", &v) || json_object_get_int64(v) == 0))
		return refuse(why, "execcmd: no stdio sequence number", "");
	return true;
}

/* each interface's addresses; hyperstart refuses an interface without one */
static bool check_interfaces(json_object *pod, char **why)
{
	json_object *interfaces;

	if (!json_object_object_get_ex(pod, "interfaces", &interfaces))
		return true;
	for (size_t i = 0; i < json_object_array_length(interfaces); i++) {
		json_object *iface = json_object_array_get_idx(interfaces, i);
		json_object *addrs;

		if (!json_object_object_get_ex(iface, "device", NULL))
			return refuse(why, "interfaces: no device", "");
		if (!json_object_object_get_ex(iface, "ipAddresses", &addrs) ||
		    json_object_array_length(addrs) == 0)
			return refuse(why, "interfaces: no ipAddresses", "");
		if (!check_array_of(iface, "ipAddresses", ipaddress_keys, why))
			return false;
	}
	return true;
}

static bool has_string(json_object *obj, const char *key, char **why)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || json_object_get_string_len(v) == 0)
		return refuse(why, "no ", key);
	return true;
}

bool fake_hyperstart_accepts(uint32_t code, json_object *payload, char **why)
{
	json_object *process = NULL;

	if (why != NULL)
		*why = NULL;
	switch (code) {
	case AGENT_GETVERSION:
	case AGENT_PING:
	case AGENT_DESTROYPOD:
	case AGENT_ONLINECPUMEM:
		return true;
	case AGENT_STARTPOD:
		return check_object(payload, pod_keys, "startpod", why) &&
		       check_array_of(payload, "interfaces", interface_keys, why) &&
		       check_interfaces(payload, why) &&
		       check_array_of(payload, "routes", route_keys, why);
	case AGENT_NEWCONTAINER:
		if (!check_object(payload, container_keys, "newcontainer", why) ||
		    !check_array_of(payload, "fsmap", fsmap_keys, why) ||
		    !has_string(payload, "id", why))
			return false;
		if (!json_object_object_get_ex(payload, "process", &process))
			return refuse(why, "newcontainer: no process", "");
		return check_process(process, false, why);
	case AGENT_EXECCMD:
		if (!check_object(payload, exec_keys, "execcmd", why) ||
		    !has_string(payload, "container", why))
			return false;
		if (!json_object_object_get_ex(payload, "process", &process))
			return refuse(why, "execcmd: no process", "");
		return check_process(process, true, why);
	case AGENT_KILLCONTAINER:
		return check_object(payload, kill_keys, "killcontainer", why) &&
		       has_string(payload, "container", why);
	case AGENT_SIGNALPROCESS:
		return check_object(payload, signal_keys, "signalprocess", why);
	case AGENT_WINSIZE:
		return check_object(payload, winsize_keys, "winsize", why);
	case AGENT_REMOVECONTAINER:
		return check_object(payload, remove_keys, "removecontainer", why);
	case AGENT_WRITEFILE:
	case AGENT_READFILE:
	case AGENT_SETUPINTERFACE:
	case AGENT_SETUPROUTE:
	case AGENT_DELETEINTERFACE:
		return true; /* not used by this runtime with hyperstart; not modelled */
	default: {
		char text[16];
		snprintf(text, sizeof(text), "%u", code);
		return refuse(why, "unknown code ", text);
	}
	}
}

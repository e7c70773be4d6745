/* The network part of STARTPOD, in hyperstart's keys (docs/agent-protocol.md):
 *   "interfaces": [{"device", "newDeviceName", "macAddr", "mtu",
 *                   "ipAddresses": [{"ipAddress", "netMask"}]}]
 *   "routes": [{"dest", "gateway" (optional), "device"}]
 * network_setup() wrote both into the record as the guest takes them. */
#include "network.h"

void network_startpod_add(json_object *startpod, json_object *record)
{
	json_object *value = NULL;

	if (record == NULL)
		return;
	if (json_object_object_get_ex(record, "interfaces", &value))
		json_object_object_add(startpod, "interfaces", json_object_get(value));
	if (json_object_object_get_ex(record, "routes", &value))
		json_object_object_add(startpod, "routes", json_object_get(value));
}

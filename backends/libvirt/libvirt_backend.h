/* Internal to the libvirt backend, exposed for its unit tests. */
#ifndef KATA_LIBVIRT_BACKEND_H
#define KATA_LIBVIRT_BACKEND_H

#include "hypervisor.h"

/* Maps virDomainGetState's state and reason to a sandbox state. */
enum hypervisor_state libvirt_state_from_domain(int state, int reason);

#endif

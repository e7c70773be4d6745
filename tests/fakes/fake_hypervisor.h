/* The fake hypervisor backend, for tests only: never part of the shipped kata-runtime. A test
 * (or a test tool) makes it available by name with hypervisor_register(&fake_hypervisor_ops).
 *
 * A state machine with the real contract (states, errors, save/restore, paths) and no VM. It
 * creates the sandbox directory but no sockets: a test puts its fake agent on the channel
 * paths. Failure injection: env KATA_FAKE_HYPERVISOR_FAIL=OP[,OP...] makes those operations
 * fail (create, start, stop, pause, resume, state, cleanup), which also works across the
 * processes of a test tool such as hv-driver. */
#ifndef KATA_FAKE_HYPERVISOR_H
#define KATA_FAKE_HYPERVISOR_H

#include "hypervisor.h"

#define FAKE_HYPERVISOR_ENV_FAIL "KATA_FAKE_HYPERVISOR_FAIL"

extern const struct hypervisor_ops fake_hypervisor_ops;

#endif

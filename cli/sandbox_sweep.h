/* The safety net of every teardown: the host processes of a sandbox found by what they
 * name, not by what the record says. Every process the runtime starts for a sandbox (qemu,
 * virtiofsd, kata-proxy, each kata-shim) has a path inside the sandbox's directory on its
 * command line (a socket, a log, the proxy's URL), and that directory's name is fixed by
 * (root, id) alone. So the processes of a sandbox whose record is lost, damaged, or was
 * never written (a runtime killed between starting a process and saving its pid) are
 * still found, by /proc/PID/cmdline (docs/error-handling.md).
 */
#ifndef KATA_CLI_SANDBOX_SWEEP_H
#define KATA_CLI_SANDBOX_SWEEP_H

#include <stdbool.h>
#include <stddef.h>

#include "error.h"

/* True when one of the arguments names an entry below dir: "DIR/x...", alone or after one
 * of = , : / ("path=DIR/...", "unix://DIR/..."). A bare "DIR/" (someone looking at the
 * directory: pgrep, ls) is not. cmdline holds len bytes of NUL-separated arguments. */
bool sandbox_cmdline_names(const char *cmdline, size_t len, const char *dir);

/* Ends every live process (but this one and its parent) whose command line names an
 * entry below dir: SIGTERM, a grace period, then SIGKILL. Fails naming those still alive. */
int sandbox_sweep_processes(const char *dir, kata_error_t *err);

#endif

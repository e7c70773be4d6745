/* Where the runtime's companions, kata-proxy and kata-shim, log (docs/shim.md): into
 * the runtime's --log, in its --log-format, or without one into a file of their own in the
 * sandbox's directory. Never to a shim's stderr: that is its process's, and what comes out
 * there must be only what the container wrote. */
#ifndef KATA_CLI_COMPANION_LOG_H
#define KATA_CLI_COMPANION_LOG_H

#include <stdbool.h>

#include "log.h"

struct companion_log {
	const char *path; /* the runtime's --log; NULL: the sandbox's own file */
	enum kata_log_format format;
	bool debug; /* the runtime's --debug */
};

/* The file a companion NAME ("proxy", "shim") logs to: the runtime's log, else
 * SANDBOX_DIR/NAME.log; allocated. NULL when there is neither. */
char *companion_log_path(const struct companion_log *log, const char *sandbox_dir,
                         const char *name);
/* The format to write that file in: the runtime's in its log, text in a file of its own. */
const char *companion_log_format(const struct companion_log *log);

#endif

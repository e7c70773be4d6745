/* Connecting to a Unix stream socket that its server may not have made yet. */
#ifndef KATA_UNIX_SOCKET_H
#define KATA_UNIX_SOCKET_H

#include "error.h"

/* Connects to path, retrying while the socket is missing or refuses (its server is still
 * starting) until timeout_ms have passed (0: one attempt). A path longer than sun_path is
 * never truncated: it is reached through a descriptor of its directory
 * (/proc/self/fd/N/name); a name too long even for that is an ENAMETOOLONG error. Returns
 * the connected descriptor (close-on-exec) or -1 with err filled. */
int unix_socket_connect(const char *path, int timeout_ms, kata_error_t *err);

#endif

#ifndef KATA_SHIM_CONNECT_H
#define KATA_SHIM_CONNECT_H

#include "error.h"

/* A connected, blocking, close-on-exec stream socket to the unix socket at path. */
int shim_connect_unix(const char *path, kata_error_t *err);

#endif

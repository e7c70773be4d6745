/* Talking to libvirt: one short connection per operation, as the short-lived runtime
 * needs, and libvirt's own message in every error (virGetLastErrorMessage). */
#ifndef KATA_LIBVIRT_CONN_H
#define KATA_LIBVIRT_CONN_H

#include "libvirt_dl.h"

#include "error.h"

/* Loads libvirt (libvirt_dl_load) and opens uri; any failure to connect is ECONNREFUSED. libvirt's default error printing to stderr is switched off once per process:
 * errors reach the caller through *err instead. */
virConnectPtr libvirt_connect(const char *uri, kata_error_t *err);
/* Fills *err from libvirt's last error: "what: <libvirt's message>", with an errno that
 * tells the kind (ESRCH: no such domain, EINVAL: refused, ECONNRESET: connection lost,
 * EIO otherwise). Returns -1. */
int libvirt_error(kata_error_t *err, const char *what);
/* Finds the domain by uuid. Returns 0 with *dom NULL when libvirt knows no such domain (a
 * transient domain that ended is gone), -1 with *err on any other failure. */
int libvirt_lookup(virConnectPtr conn, const char *uuid, virDomainPtr *dom, kata_error_t *err);

void libvirt_connp_close(virConnectPtr *conn);
void libvirt_domainp_free(virDomainPtr *dom);
#define cleanup_virconn   __attribute__((cleanup(libvirt_connp_close)))
#define cleanup_virdomain __attribute__((cleanup(libvirt_domainp_free)))

#endif

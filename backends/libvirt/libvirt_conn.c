/* libvirt connections and errors (see libvirt_conn.h). */
#include "libvirt_conn.h"

#include <errno.h>
#include <pthread.h>

static void ignore_error(void *opaque, virErrorPtr error)
{
	(void)opaque;
	(void)error;
}

static void init_once(void)
{
	virt_dl.virInitialize();
	virt_dl.virSetErrorFunc(NULL, ignore_error);
}

static void libvirt_init(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, init_once);
}

static int errno_of(const virError *e)
{
	if (e == NULL)
		return EIO;
	switch (e->code) {
	case VIR_ERR_NO_DOMAIN:
		return ESRCH;
	case VIR_ERR_XML_ERROR:
	case VIR_ERR_XML_DETAIL:
	case VIR_ERR_CONFIG_UNSUPPORTED:
	case VIR_ERR_INVALID_ARG:
	case VIR_ERR_OPERATION_INVALID:
	case VIR_ERR_OPERATION_FAILED:
	case VIR_ERR_DOM_EXIST:
		return EINVAL;
	case VIR_ERR_NO_CONNECT:
	case VIR_ERR_RPC:
	case VIR_ERR_INVALID_CONN:
		return ECONNRESET;
	case VIR_ERR_SYSTEM_ERROR:
		return e->int1 > 0 ? e->int1 : EIO;
	default:
		return EIO;
	}
}

int libvirt_error(kata_error_t *err, const char *what)
{
	const virError *e = virt_dl.virGetLastError();

	return kata_error_set(err, errno_of(e), "%s: %s", what, virt_dl.virGetLastErrorMessage());
}

virConnectPtr libvirt_connect(const char *uri, kata_error_t *err)
{
	virConnectPtr conn;

	if (libvirt_dl_load(err) < 0)
		return NULL;
	libvirt_init();
	conn = virt_dl.virConnectOpen(uri);
	/* Whatever the cause (no daemon, no driver, refused), libvirt cannot be reached. */
	if (conn == NULL)
		kata_error_set(err, ECONNREFUSED, "connect to %s: %s", uri,
		               virt_dl.virGetLastErrorMessage());
	return conn;
}

int libvirt_lookup(virConnectPtr conn, const char *uuid, virDomainPtr *dom, kata_error_t *err)
{
	const virError *e;

	*dom = virt_dl.virDomainLookupByUUIDString(conn, uuid);
	if (*dom != NULL)
		return 0;
	e = virt_dl.virGetLastError();
	if (e != NULL && e->code == VIR_ERR_NO_DOMAIN) {
		virt_dl.virResetLastError();
		return 0;
	}
	return libvirt_error(err, "look up the domain");
}

void libvirt_connp_close(virConnectPtr *conn)
{
	if (*conn != NULL)
		virt_dl.virConnectClose(*conn);
	*conn = NULL;
}

void libvirt_domainp_free(virDomainPtr *dom)
{
	if (*dom != NULL)
		virt_dl.virDomainFree(*dom);
	*dom = NULL;
}

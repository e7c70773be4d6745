/* Loading libvirt and libxml2 on first use (see libvirt_dl.h). */
#include "libvirt_dl.h"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>

struct libvirt_dl virt_dl;

/* The outcome of the one load: an errno and a message, kept for every later caller. */
static int load_errno;
static char load_message[512];

static void *open_library(const char *soname)
{
	void *handle = dlopen(soname, RTLD_NOW | RTLD_LOCAL);

	if (handle == NULL) {
		load_errno = ENOENT;
		snprintf(load_message, sizeof(load_message), "cannot load %s: %s", soname,
		         dlerror());
	}
	return handle;
}

static int resolve(void *handle, const char *soname, const char *name, void **slot)
{
	*slot = dlsym(handle, name);
	if (*slot != NULL)
		return 0;
	load_errno = ENOSYS;
	snprintf(load_message, sizeof(load_message), "%s has no %s (too old?)", soname, name);
	return -1;
}

/* A data pointer converted to a function pointer: what dlsym returns is the function. */
#define LIBVIRT_DL_RESOLVE(name)                                                                   \
	if (resolve(handle, soname, #name, (void **)&virt_dl.name) < 0)                            \
		return;

static void resolve_virt(void *handle)
{
	const char *soname = LIBVIRT_DL_VIRT_SONAME;

	LIBVIRT_DL_VIRT_FUNCS(LIBVIRT_DL_RESOLVE)
}

static void resolve_xml(void *handle)
{
	const char *soname = LIBVIRT_DL_XML_SONAME;

	LIBVIRT_DL_XML_FUNCS(LIBVIRT_DL_RESOLVE)
}

static void resolve_qemu(void *handle)
{
	const char *soname = LIBVIRT_DL_QEMU_SONAME;

	LIBVIRT_DL_QEMU_FUNCS(LIBVIRT_DL_RESOLVE)
}

static void load_once(void)
{
	void *virt = open_library(LIBVIRT_DL_VIRT_SONAME);
	void *xml = virt != NULL ? open_library(LIBVIRT_DL_XML_SONAME) : NULL;
	void *qemu = xml != NULL ? open_library(LIBVIRT_DL_QEMU_SONAME) : NULL;

	if (qemu == NULL)
		return;
	resolve_virt(virt);
	if (load_errno == 0)
		resolve_xml(xml);
	if (load_errno == 0)
		resolve_qemu(qemu);
}

int libvirt_dl_load(kata_error_t *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	pthread_once(&once, load_once);
	if (load_errno != 0)
		return kata_error_set(err, load_errno, "libvirt backend: %s", load_message);
	return 0;
}

/* libvirt and libxml2, loaded on first use (dlopen) rather than linked: the dynamic loader
 * would otherwise map and bind libvirt's ~50 dependent libraries at every start of every
 * program, while only the libvirt backend and kata-check's probe use them. The types come
 * from their headers (compile time only); each function is reached through virt_dl, a
 * table whose members bear the functions' own names: virt_dl.virConnectOpen(uri). */
#ifndef KATA_LIBVIRT_DL_H
#define KATA_LIBVIRT_DL_H

#include <libvirt/libvirt.h>
#include <libvirt/libvirt-qemu.h>
#include <libvirt/virterror.h>
#include <libxml/xmlstring.h>
#include <libxml/xmlwriter.h>

#include "error.h"

#define LIBVIRT_DL_VIRT_SONAME "libvirt.so.0"
#define LIBVIRT_DL_XML_SONAME  "libxml2.so.2"
#define LIBVIRT_DL_QEMU_SONAME "libvirt-qemu.so.0"

/* Every function used, by library. */
#define LIBVIRT_DL_VIRT_FUNCS(X)                                                                   \
	X(virInitialize)                                                                           \
	X(virSetErrorFunc)                                                                         \
	X(virGetLastError)                                                                         \
	X(virGetLastErrorMessage)                                                                  \
	X(virResetLastError)                                                                       \
	X(virConnectOpen)                                                                          \
	X(virConnectClose)                                                                         \
	X(virConnectGetLibVersion)                                                                 \
	X(virConnectGetVersion)                                                                    \
	X(virDomainCreateXML)                                                                      \
	X(virDomainLookupByUUIDString)                                                             \
	X(virDomainGetState)                                                                       \
	X(virDomainSuspend)                                                                        \
	X(virDomainResume)                                                                         \
	X(virDomainDestroy)                                                                        \
	X(virDomainDestroyFlags)                                                                   \
	X(virDomainFree)

/* libvirt-qemu: the monitor passthrough that hot-plugs NICs (libvirt >= 8.2). */
#define LIBVIRT_DL_QEMU_FUNCS(X) X(virDomainQemuMonitorCommandWithFiles)

#define LIBVIRT_DL_XML_FUNCS(X)                                                                    \
	X(xmlCheckUTF8)                                                                            \
	X(xmlBufferCreate)                                                                         \
	X(xmlBufferContent)                                                                        \
	X(xmlBufferFree)                                                                           \
	X(xmlNewTextWriterMemory)                                                                  \
	X(xmlFreeTextWriter)                                                                       \
	X(xmlTextWriterSetIndent)                                                                  \
	X(xmlTextWriterSetIndentString)                                                            \
	X(xmlTextWriterStartElement)                                                               \
	X(xmlTextWriterEndElement)                                                                 \
	X(xmlTextWriterWriteAttribute)                                                             \
	X(xmlTextWriterWriteString)                                                                \
	X(xmlTextWriterEndDocument)

/* Each member has the exact type of the function it points to, taken from the header. */
#define LIBVIRT_DL_MEMBER(name) __typeof__(name) *name;
struct libvirt_dl {
	LIBVIRT_DL_VIRT_FUNCS(LIBVIRT_DL_MEMBER)
	LIBVIRT_DL_XML_FUNCS(LIBVIRT_DL_MEMBER)
	LIBVIRT_DL_QEMU_FUNCS(LIBVIRT_DL_MEMBER)
};
#undef LIBVIRT_DL_MEMBER

/* Filled by libvirt_dl_load; use only after it succeeded. */
extern struct libvirt_dl virt_dl;

/* Loads the three libraries and resolves every function, once per process (later calls return
 * the first outcome). Returns 0, or -1 with *err: "libvirt backend: cannot load
 * libvirt.so.0: <dlerror>" (ENOENT), or a missing function (ENOSYS). The libraries are never
 * unloaded: libvirt keeps threads and state behind its connections. */
int libvirt_dl_load(kata_error_t *err);

#endif

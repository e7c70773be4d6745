/* VM templating through the configured backend (hypervisor.h, docs/templating.md). */
#include "hypervisor.h"

#include <errno.h>
#include <string.h>

#include "qemu/template.h"

static int only_qemu(const struct kata_config *config, kata_error_t *err)
{
	if (strcmp(config->hypervisor.name, "qemu") != 0)
		return kata_error_set(
		        err, ENOTSUP,
		        "the %s backend cannot make VM templates (docs/templating.md)",
		        config->hypervisor.name);
	return 0;
}

int hypervisor_template_create(const struct kata_config *config, kata_error_t *err)
{
	if (only_qemu(config, err) < 0)
		return -1;
	return qemu_template_create(config, err);
}

int hypervisor_template_destroy(const struct kata_config *config, kata_error_t *err)
{
	if (only_qemu(config, err) < 0)
		return -1;
	return qemu_template_destroy(config, err);
}

json_object *hypervisor_template_status(const struct kata_config *config, kata_error_t *err)
{
	if (only_qemu(config, err) < 0)
		return NULL;
	return qemu_template_status_json(config, err);
}

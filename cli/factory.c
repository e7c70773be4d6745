/* `kata-runtime factory init|status|destroy`: the VM template, as Kata 1.x's factory
 * (docs/templating.md). */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "cleanup.h"
#include "hypervisor.h"
#include "json_util.h"

static const char usage[] = "usage: factory init | status | destroy";

static int factory_status(const struct kata_config *config, kata_error_t *err)
{
	cleanup_json json_object *status = hypervisor_template_status(config, err);
	json_object *value;

	if (status == NULL)
		return -1;
	printf("vm factory: template %s\n", config->factory.enable_template
	                                            ? "enabled"
	                                            : "disabled ([factory] enable_template)");
	if (json_object_object_get_ex(status, "path", &value))
		printf("template path: %s\n", json_object_get_string(value));
	if (json_object_object_get_ex(status, "status", &value))
		printf("template status: %s\n", json_object_get_string(value));
	if (json_object_object_get_ex(status, "reason", &value))
		printf("template: %s\n", json_object_get_string(value));
	if (json_object_object_get_ex(status, "memory_bytes", &value))
		printf("memory bytes: %s\n", json_object_get_string(value));
	if (json_object_object_get_ex(status, "state_bytes", &value))
		printf("device state bytes: %s\n", json_object_get_string(value));
	return 0;
}

int cli_factory(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	const char *action;

	if (argc != 2)
		return kata_error_set(err, EINVAL, "%s", usage);
	action = argv[1];
	if (cli_load_config(ctx, err) < 0)
		return -1;
	if (strcmp(action, "init") == 0) {
		/* Kata 1.x: init needs the template enabled in the configuration. */
		if (!ctx->config->factory.enable_template)
			return kata_error_set(err, EINVAL,
			                      "factory init: [factory] enable_template is false in "
			                      "%s",
			                      ctx->config->path);
		if (hypervisor_template_create(ctx->config, err) < 0)
			return kata_error_wrap(err, "factory init");
		printf("vm factory initialized\n");
		return 0;
	}
	if (strcmp(action, "destroy") == 0) {
		if (hypervisor_template_destroy(ctx->config, err) < 0)
			return kata_error_wrap(err, "factory destroy");
		printf("vm factory destroyed\n");
		return 0;
	}
	if (strcmp(action, "status") == 0)
		return factory_status(ctx->config, err);
	return kata_error_set(err, EINVAL, "factory: unknown action '%s'; %s", action, usage);
}

/* `kata-runtime spec [--bundle DIR] [--rootless]`: writes a default config.json, as
 * `runc spec` does. */
#include <errno.h>
#include <getopt.h>
#include <unistd.h>

#include "cleanup.h"
#include "cli.h"
#include "json_util.h"
#include "oci_spec.h"

int cli_spec(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	const struct option options[] = {
		{ "bundle", required_argument, NULL, 'b' },
		{ "rootless", no_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	cleanup_json json_object *spec = NULL;
	cleanup_free char *path = NULL;
	const char *bundle = ".";
	bool rootless = false;
	int c;

	while ((c = getopt_long_only(argc, argv, "b:", options, NULL)) != -1) {
		switch (c) {
		case 'b':
			bundle = optarg;
			break;
		case 'r':
			rootless = true;
			break;
		default:
			return kata_error_set(err, EINVAL, "spec: unknown option `%s`",
			                      argv[optind - 1]);
		}
	}
	if (optind != argc)
		return kata_error_set(err, EINVAL, "spec takes no arguments");
	path = xasprintf("%s/config.json", bundle);
	if (access(path, F_OK) == 0)
		return kata_error_set(err, EEXIST, "File %s exists. Remove it first", path);
	spec = oci_spec_default(rootless);
	return json_write_file_atomic(path, spec, 0666 & ~0022, err);
}

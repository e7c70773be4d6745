/* kata-shim: see shim/shim.h and docs/shim.md. */
#include "shim.h"
#include "log.h"
#include "stdfd.h"

#include <stdio.h>

int main(int argc, char **argv)
{
	struct shim_options opts;
	cleanup_error kata_error_t err = NULL;
	int status;

	shim_stdio_ensure_open();
	if (shim_parse_args(argc, argv, &opts, &err) < 0) {
		fprintf(stderr, "kata-shim: %s\nTry `%s --help`.\n", err->message, argv[0]);
		shim_options_clear(&opts);
		return SHIM_EXIT_FAILURE;
	}
	if (opts.show_help || opts.show_version) {
		if (opts.show_help)
			shim_print_usage(argv[0]);
		else
			printf("kata-shim %s (commit %s)\n", KATA_VERSION, KATA_COMMIT);
		shim_options_clear(&opts);
		return 0;
	}
	/* The shim's stderr is the process's: only errors go there unless asked. */
	if (kata_log_init("kata-shim", opts.log_path, opts.log_format,
	                  opts.debug ? KATA_LOG_DEBUG
	                             : (opts.log_path ? KATA_LOG_INFO : KATA_LOG_ERROR),
	                  &err) < 0) {
		fprintf(stderr, "kata-shim: %s\n", err->message);
		shim_options_clear(&opts);
		return SHIM_EXIT_FAILURE;
	}
	kata_log_set_field("container", opts.container);
	status = shim_run(&opts, &err);
	if (err != NULL)
		fprintf(stderr, "kata-shim: %s\n", err->message);
	shim_options_clear(&opts);
	kata_log_close();
	return status;
}

/* kata-proxy: see proxy/proxy.h and docs/proxy-protocol.md. */
#include "proxy.h"
#include "cleanup.h"
#include "log.h"

#include <stdio.h>
#include <stdlib.h>

static int fail(kata_error_t *err)
{
	fprintf(stderr, "kata-proxy: %s\n", (*err)->message);
	log_error("%s", (*err)->message);
	kata_error_free(err);
	return 1;
}

int main(int argc, char **argv)
{
	cleanup_error kata_error_t err = NULL;
	struct proxy_options opts;
	struct proxy proxy = { 0 };
	enum kata_log_format format = KATA_LOG_TEXT;
	int status;

	if (proxy_options_parse(argc, argv, &opts, &err) < 0) {
		fprintf(stderr, "kata-proxy: %s\n%s", err->message, proxy_options_usage());
		return 2;
	}
	if (opts.help) {
		fputs(proxy_options_usage(), stdout);
		return 0;
	}
	if (opts.version) {
		printf("kata-proxy %s (commit %s)\n", KATA_VERSION, KATA_COMMIT);
		return 0;
	}
	if ((opts.log_format != NULL &&
	     kata_log_parse_format(opts.log_format, &format, &err) < 0) ||
	    kata_log_init("kata-proxy", opts.log_path, format,
	                  opts.debug ? KATA_LOG_DEBUG : KATA_LOG_INFO, &err) < 0) {
		fprintf(stderr, "kata-proxy: %s\n", err->message);
		return 2;
	}
	if (proxy_init(&proxy, &opts, &err) < 0) {
		status = fail(&err);
		goto out;
	}
	status = proxy_run(&proxy, &err);
	if (status < 0)
		status = fail(&err);
out:
	proxy_fini(&proxy);
	proxy_options_clear(&opts);
	kata_log_close();
	return status;
}

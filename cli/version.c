/* `kata-runtime version` and `--version`. */
#include <stdio.h>

#include "agent_proto.h"
#include "cli.h"
#include "container.h"

int cli_version(struct cli_context *ctx, int argc, char **argv, kata_error_t *err)
{
	printf("%s  : %s\n", ctx->program, KATA_VERSION);
	printf("   commit   : %s\n", KATA_COMMIT);
	printf("   OCI specs: %s\n", OCI_SPEC_VERSION);
	printf("   agent protocol: %d\n", AGENT_PROTO_VERSION);
	return 0;
}

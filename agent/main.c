/* kata-agent: PID 1 of the guest VM (docs/agent-protocol.md). */
#include "run.h"

int main(int argc, char **argv)
{
	(void)argc;
	return agent_run(argv);
}

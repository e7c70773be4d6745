/* kata-agent: PID 1 of the guest VM (docs/agent-protocol.md). */
#include "run.h"

int main(void)
{
	return agent_run();
}

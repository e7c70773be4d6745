/* The agent's main function, called by agent/main.c. */
#ifndef KATA_AGENT_RUN_H
#define KATA_AGENT_RUN_H

/* Runs the agent; as PID 1 it never returns (it powers the VM off). */
int agent_run(char **argv);

#endif

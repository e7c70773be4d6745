/* Starting container processes: the agent side of fork, namespaces, cgroups and stdio,
 * and the small sync protocol with the child (child_spawn.c). */
#ifndef KATA_AGENT_CHILD_SPAWN_H
#define KATA_AGENT_CHILD_SPAWN_H

#include "agent.h"
#include "request.h"

/* How long the agent waits for a child to set itself up or to exec: generous, as TCG on
 * a loaded host is slow, but below the runtime's 30 s for an answer, so that the runtime
 * gets the agent's error rather than a timeout of its own. */
#define AGENT_SPAWN_TIMEOUT_MS 25000

/* The pipes of a process's stdout and stderr: a writer fills this much before it waits for
 * the agent, so the two take turns less often (each switch is costly under TCG). */
#define AGENT_STREAM_PIPE_SIZE (1024 * 1024)

/* Creates the container's first process in new namespaces: it is set up completely and
 * waits for agent_spawn_start() before it execs the user's program. */
int agent_spawn_init(struct agent *a, struct agent_container *c,
                     const struct agent_process_request *r, kata_error_t *err);
/* Lets the init process exec; fails with the child's message if the exec fails. */
int agent_spawn_start(struct agent_container *c, kata_error_t *err);
/* Runs another process in the namespaces and cgroups of a running container. */
int agent_spawn_exec(struct agent *a, struct agent_container *c, struct agent_process_request *r,
                     kata_error_t *err);

#endif

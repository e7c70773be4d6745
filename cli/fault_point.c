#include "fault_point.h"

#ifdef KATA_FAULT_POINTS
#include <signal.h>
#include <stdlib.h>
#include <string.h>

void fault_point(const char *name)
{
	const char *stop_at = getenv("KATA_FAULT_STOP_AT");

	/* The test sees the process stopped ('T'), looks around, then kills it. */
	if (stop_at != NULL && strcmp(stop_at, name) == 0)
		raise(SIGSTOP);
}
#else
void fault_point(const char *name)
{
	(void)name;
}
#endif

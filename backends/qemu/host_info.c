#include "host_info.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysinfo.h>

#include "cleanup.h"

uint64_t host_memory_mib(void)
{
	struct sysinfo info;

	if (sysinfo(&info) < 0)
		return 0;
	return (uint64_t)info.totalram * info.mem_unit / (1024 * 1024);
}

uint32_t host_tsc_khz(void)
{
	cleanup_fclose FILE *f = fopen("/proc/cpuinfo", "re");
	cleanup_free char *line = NULL;
	size_t cap = 0;
	double mhz = 0;
	int constant_tsc = 0;

	if (f == NULL)
		return 0;
	while (getline(&line, &cap, f) > 0) {
		if (mhz == 0 && strncmp(line, "cpu MHz", 7) == 0) {
			char *colon = strchr(line, ':');
			if (colon != NULL)
				mhz = strtod(colon + 1, NULL);
		} else if (strncmp(line, "flags", 5) == 0 &&
		           strstr(line, " constant_tsc") != NULL) {
			constant_tsc = 1;
		}
		if (line[0] == '\n' && mhz != 0)
			break; /* the first CPU is enough */
	}
	if (!constant_tsc || mhz <= 0 || mhz > 100000)
		return 0;
	return (uint32_t)(mhz * 1000 + 0.5);
}

/*
 * probe mounts: one line per mount of /proc/self/mountinfo:
 *   mount=TARGET FSTYPE SOURCE MOUNT-OPTIONS SUPER-OPTIONS
 * Paths stay escaped as the kernel writes them (a space is \040), so fields never contain
 * spaces.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "probe.h"

#define MOUNTINFO_MAX_FIELDS 64

int probe_mounts(int argc, char **argv)
{
	FILE *f = fopen("/proc/self/mountinfo", "re");
	char line[8192];

	if (!f) {
		probe_warn("/proc/self/mountinfo: %s", strerror(errno));
		return PROBE_FAILURE;
	}
	/* id parent major:minor root target mount-opts [optional...] - fstype source super-opts */
	while (fgets(line, sizeof(line), f)) {
		char *field[MOUNTINFO_MAX_FIELDS], *save = NULL;
		int n = 0, sep = -1;

		for (char *tok = strtok_r(line, " \n", &save); tok && n < MOUNTINFO_MAX_FIELDS;
		     tok = strtok_r(NULL, " \n", &save)) {
			if (sep < 0 && n >= 6 && !strcmp(tok, "-"))
				sep = n;
			field[n++] = tok;
		}
		if (sep < 0 || n < sep + 4)
			continue;
		probe_kv("mount", "%s %s %s %s %s", field[4], field[sep + 1], field[sep + 2],
		         field[5], field[sep + 3]);
	}
	fclose(f);
	return 0;
}

/* Facts about this host and the configured components (kata-env, kata-check). Every
 * outside program is run with a deadline and its output is bounded. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/vfs.h>
#include <sys/wait.h>
#include <unistd.h>

#include "cleanup.h"
#include "process_launch.h"
#include "host_facts.h"

#ifndef CGROUP2_SUPER_MAGIC
#define CGROUP2_SUPER_MAGIC 0x63677270
#endif
#ifndef TMPFS_MAGIC
#define TMPFS_MAGIC 0x01021994
#endif

#define VERSION_TIMEOUT_MS 5000
#define VERSION_MAX_OUTPUT 4096
/* A guest kernel image bigger than this is not scanned for its banner. */
#define KERNEL_IMAGE_MAX (512L * 1024 * 1024)

static char *trimmed(const char *s)
{
	size_t len;

	while (*s == ' ' || *s == '\t')
		s++;
	len = strlen(s);
	while (len > 0 && (s[len - 1] == '\n' || s[len - 1] == ' ' || s[len - 1] == '\t' ||
	                   s[len - 1] == '"' || s[len - 1] == '\r'))
		len--;
	if (*s == '"') {
		s++;
		len = len > 0 ? len - 1 : 0;
	}
	return xstrndup(s, len);
}

/* "KEY=value" (os-release) or "key : value" (cpuinfo) from a small text file. */
static char *file_field(const char *path, const char *key, char separator)
{
	cleanup_fclose FILE *f = fopen(path, "re");
	char line[1024];
	size_t klen = strlen(key);

	while (f != NULL && fgets(line, sizeof(line), f) != NULL) {
		char *p;
		if (strncmp(line, key, klen) != 0)
			continue;
		p = line + klen;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != separator)
			continue;
		return trimmed(p + 1);
	}
	return NULL;
}

static const char *cgroup_layout(void)
{
	struct statfs fs;

	if (statfs("/sys/fs/cgroup", &fs) < 0)
		return "unknown";
	if ((unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC)
		return "v2";
	if ((unsigned long)fs.f_type != TMPFS_MAGIC)
		return "unknown";
	if (statfs("/sys/fs/cgroup/unified", &fs) == 0 &&
	    (unsigned long)fs.f_type == CGROUP2_SUPER_MAGIC)
		return "hybrid";
	return "v1";
}

void host_facts_collect(struct host_facts *facts)
{
	struct utsname uts;
	FILE *meminfo;
	char line[256];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);

	memset(facts, 0, sizeof(*facts));
	if (uname(&uts) == 0) {
		facts->kernel_release = xstrdup(uts.release);
		facts->architecture = xstrdup(uts.machine);
	}
	facts->distro_name = file_field("/etc/os-release", "NAME", '=');
	facts->distro_version = file_field("/etc/os-release", "VERSION_ID", '=');
	facts->cpu_vendor = file_field("/proc/cpuinfo", "vendor_id", ':');
	facts->cpu_model = file_field("/proc/cpuinfo", "model name", ':');
	facts->cpus = cpus > 0 ? (unsigned int)cpus : 1;
	meminfo = fopen("/proc/meminfo", "re");
	while (meminfo != NULL && fgets(line, sizeof(line), meminfo) != NULL) {
		unsigned long long kib;
		if (sscanf(line, "MemTotal: %llu kB", &kib) == 1)
			facts->memory_mib = kib / 1024;
	}
	if (meminfo != NULL)
		fclose(meminfo);
	facts->kvm = access("/dev/kvm", F_OK) == 0;
	facts->vhost_vsock = access("/dev/vhost-vsock", F_OK) == 0;
	facts->vhost_net = access("/dev/vhost-net", F_OK) == 0;
	facts->tun = access("/dev/net/tun", F_OK) == 0;
	facts->cgroups = cgroup_layout();
}

void host_facts_release(struct host_facts *facts)
{
	free(facts->kernel_release);
	free(facts->architecture);
	free(facts->distro_name);
	free(facts->distro_version);
	free(facts->cpu_vendor);
	free(facts->cpu_model);
	memset(facts, 0, sizeof(*facts));
}

char *host_run_capture(char *const argv[], int timeout_ms, size_t max_output, int *status,
                       kata_error_t *err)
{
	/* its own group: a timeout kills what it started too */
	const struct launch_setup setup = {
		.in = LAUNCH_NULL,
		.out = LAUNCH_CAPTURE,
		.err = LAUNCH_CAPTURE,
		.own_group = true,
	};
	struct launch_result run;

	if (launch_run(argv, &setup, timeout_ms, max_output, &run, err) < 0)
		return NULL;
	*status = run.status;
	if (run.timed_out) {
		free(run.output);
		kata_error_set(err, ETIMEDOUT, "%s: no answer within %d ms", argv[0], timeout_ms);
		return NULL;
	}
	return run.output;
}

char *host_program_version(const char *path)
{
	char *argv[] = { (char *)path, "--version", NULL };
	cleanup_error kata_error_t err = NULL;
	cleanup_free char *out = NULL;
	int status = 0;
	char *nl;

	if (path == NULL || !host_is_executable(path, &(const char *){ NULL }))
		return NULL;
	out = host_run_capture(argv, VERSION_TIMEOUT_MS, VERSION_MAX_OUTPUT, &status, &err);
	if (out == NULL || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return NULL;
	nl = strchr(out, '\n');
	if (nl != NULL)
		*nl = '\0';
	if (out[0] == '\0')
		return NULL;
	return trimmed(out);
}

/* The banner is printable text ending at a NUL or newline. */
static char *banner_at(const char *p, const char *end)
{
	const char *q = p;

	while (q < end && q - p < 512 && *q != '\0' && *q != '\n' && (unsigned char)*q >= 0x20 &&
	       (unsigned char)*q < 0x7f)
		q++;
	return q > p ? xstrndup(p, (size_t)(q - p)) : NULL;
}

char *host_kernel_image_version(const char *path)
{
	static const char banner[] = "Linux version ";
	cleanup_close int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;
	const char *map, *end, *found;
	char *version = NULL;

	if (fd < 0 || fstat(fd, &st) < 0 || !S_ISREG(st.st_mode) || st.st_size < 1024 ||
	    st.st_size > KERNEL_IMAGE_MAX)
		return NULL;
	map = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	if (map == MAP_FAILED)
		return NULL;
	end = map + st.st_size;
	/* bzImage: the setup header ("HdrS" at 0x202) points at the version string */
	if (memcmp(map + 0x202, "HdrS", 4) == 0) {
		unsigned int offset = (unsigned char)map[0x20e] | (unsigned char)map[0x20f] << 8;
		if (offset != 0 && 0x200 + (size_t)offset < (size_t)st.st_size)
			version = banner_at(map + 0x200 + offset, end);
	} else {
		/* vmlinux (ELF): the banner is plain text in .rodata */
		found = memmem(map, (size_t)st.st_size, banner, sizeof(banner) - 1);
		if (found != NULL)
			version = banner_at(found + sizeof(banner) - 1, end);
	}
	munmap((void *)map, (size_t)st.st_size);
	return version;
}

bool host_is_executable(const char *path, const char **why)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		*why = strerror(errno);
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return false;
	}
	if (access(path, X_OK) < 0) {
		*why = "not executable";
		return false;
	}
	return true;
}

bool host_is_readable_file(const char *path, const char **why)
{
	struct stat st;

	if (stat(path, &st) < 0) {
		*why = strerror(errno);
		return false;
	}
	if (!S_ISREG(st.st_mode)) {
		*why = "not a regular file";
		return false;
	}
	if (access(path, R_OK) < 0) {
		*why = "not readable";
		return false;
	}
	return true;
}

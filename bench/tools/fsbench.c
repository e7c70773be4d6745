/*
 * fsbench: a static program that bench copies into a container's rootfs to time the
 * container's own filesystem (for kata-runtime: the shared directory, over 9p or
 * virtio-fs; for runc: the host's filesystem).
 *
 *   fsbench DIR [MIB] [FILES]
 *
 * 1. sequential write: MIB MiB (default 64) to DIR/fsbench.dat in 1 MiB writes, then fsync;
 * 2. sequential read: the same file read back in 1 MiB reads (warm: whatever the container's
 *    kernel or the host still caches, as a container re-reading its own file would see);
 * 3. small files: FILES (default 500) files of 4 KiB created (open, write, close) in
 *    DIR/fsbench.d, then the directory fsync'd.
 * Everything it created is removed again. Prints
 *   write_mibs=X read_mibs=X create_per_s=X write_s=S read_s=S create_s=S
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define CHUNK      (1 << 20)
#define SMALL_SIZE 4096

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static int fail(const char *what, const char *path)
{
	fprintf(stderr, "fsbench: %s %s: %s\n", what, path, strerror(errno));
	return 1;
}

static int write_all(int fd, const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, buf, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static char buf[CHUNK];
	char path[4096], dir[4096], name[4200];
	long mib = argc > 2 ? atol(argv[2]) : 64;
	long files = argc > 3 ? atol(argv[3]) : 500;
	double t0, t_write, t_read, t_create;
	int fd;

	if (argc < 2 || mib <= 0 || files <= 0) {
		fprintf(stderr, "usage: fsbench DIR [MIB] [FILES]\n");
		return 2;
	}
	snprintf(path, sizeof(path), "%s/fsbench.dat", argv[1]);
	snprintf(dir, sizeof(dir), "%s/fsbench.d", argv[1]);
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (char)(i * 7 + 3);

	t0 = now();
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		return fail("create", path);
	for (long i = 0; i < mib; i++)
		if (write_all(fd, buf, sizeof(buf)) < 0)
			return fail("write", path);
	if (fsync(fd) < 0 || close(fd) < 0)
		return fail("fsync", path);
	t_write = now() - t0;

	t0 = now();
	fd = open(path, O_RDONLY);
	if (fd < 0)
		return fail("open", path);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return fail("read", path);
		if (n == 0)
			break;
	}
	close(fd);
	t_read = now() - t0;
	unlink(path);

	if (mkdir(dir, 0755) < 0 && errno != EEXIST)
		return fail("mkdir", dir);
	t0 = now();
	for (long i = 0; i < files; i++) {
		snprintf(name, sizeof(name), "%s/f%ld", dir, i);
		fd = open(name, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		if (fd < 0 || write_all(fd, buf, SMALL_SIZE) < 0 || close(fd) < 0)
			return fail("create", name);
	}
	fd = open(dir, O_RDONLY | O_DIRECTORY);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	t_create = now() - t0;
	for (long i = 0; i < files; i++) {
		snprintf(name, sizeof(name), "%s/f%ld", dir, i);
		unlink(name);
	}
	rmdir(dir);

	printf("write_mibs=%.2f read_mibs=%.2f create_per_s=%.1f write_s=%.4f read_s=%.4f "
	       "create_s=%.4f\n",
	       mib / t_write, mib / t_read, files / t_create, t_write, t_read, t_create);
	return 0;
}

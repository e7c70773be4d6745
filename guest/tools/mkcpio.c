/*
 * mkcpio: write a "newc" cpio archive (the initramfs format) to stdout from a list of
 * entries, without touching the host filesystem: device nodes need no root, and every
 * entry gets uid/gid and mtime 0 unless the list says otherwise, so the same inputs give
 * the same bytes.
 *
 * List format, one entry a line (blank lines and '#' comments ignored):
 *   dir   NAME MODE UID GID
 *   file  NAME SOURCE MODE UID GID
 *   nod   NAME MODE UID GID c|b MAJOR MINOR
 *   slink NAME TARGET MODE UID GID
 * MODE is octal permission bits. NAME is the path inside the archive, without a leading '/'.
 *
 * usage: mkcpio LIST > archive.cpio
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME_MAX_LEN  4096
#define FILE_MAX_SIZE (1024L * 1024 * 1024) /* newc sizes are 32-bit; stay far below */

static unsigned long next_inode = 1;
static unsigned long long archive_offset;

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	fputs("mkcpio: ", stderr);
	vfprintf(stderr, fmt, ap);
	fputc('\n', stderr);
	va_end(ap);
	exit(1);
}

static void put_bytes(const void *buf, size_t len)
{
	if (len && fwrite(buf, 1, len, stdout) != len)
		die("write: %s", strerror(errno));
	archive_offset += len;
}

static void put_padding(void)
{
	static const char zeros[4];

	put_bytes(zeros, (4 - archive_offset % 4) % 4);
}

struct entry {
	const char *name;
	unsigned int mode; /* type and permission bits */
	unsigned int uid, gid;
	unsigned int rdev_major, rdev_minor;
	unsigned long size;
};

/* Header fields are 8 hex digits each; every value put here is below 2^32. */
static void put_field(unsigned long value)
{
	char hex[9];

	snprintf(hex, sizeof(hex), "%08lX", value & 0xffffffffUL);
	put_bytes(hex, 8);
}

static void put_header(const struct entry *e)
{
	size_t name_len = strlen(e->name) + 1;

	put_bytes("070701", 6);
	put_field(next_inode++);
	put_field(e->mode);
	put_field(e->uid);
	put_field(e->gid);
	put_field(S_ISDIR(e->mode) ? 2 : 1); /* nlink */
	put_field(0);                        /* mtime */
	put_field(e->size);
	put_field(0); /* devmajor, devminor: of the filesystem, meaningless here */
	put_field(0);
	put_field(e->rdev_major);
	put_field(e->rdev_minor);
	put_field(name_len);
	put_field(0); /* check: unused by newc */
	put_bytes(e->name, name_len);
	put_padding();
}

static void put_file_data(const char *source, unsigned long size)
{
	char buf[65536];
	unsigned long done = 0;
	int fd = open(source, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		die("%s: %s", source, strerror(errno));
	while (done < size) {
		ssize_t n = read(fd, buf, sizeof(buf));

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			die("%s: changed while being archived", source);
		if ((unsigned long)n > size - done)
			n = (ssize_t)(size - done);
		put_bytes(buf, (size_t)n);
		done += (unsigned long)n;
	}
	close(fd);
	put_padding();
}

static unsigned int parse_number(const char *s, int base, unsigned int max, int lineno)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, base);
	if (errno || end == s || *end || v > max)
		die("line %d: bad number '%s'", lineno, s);
	return (unsigned int)v;
}

#define MAX_FIELDS 9

static void add_line(char *line, int lineno)
{
	char *field[MAX_FIELDS] = { NULL };
	int n = 0;
	struct entry e = { 0 };
	char *save = NULL;

	for (char *tok = strtok_r(line, " \t\n", &save); tok;
	     tok = strtok_r(NULL, " \t\n", &save)) {
		if (n == MAX_FIELDS)
			die("line %d: too many fields", lineno);
		field[n++] = tok;
	}
	if (n == 0 || field[0][0] == '#')
		return;
	if (n < 2 || strlen(field[1]) >= NAME_MAX_LEN || field[1][0] == '/' || !field[1][0])
		die("line %d: bad or missing name", lineno);
	e.name = field[1];

	if (!strcmp(field[0], "dir") && n == 5) {
		e.mode = S_IFDIR | parse_number(field[2], 8, 07777, lineno);
		e.uid = parse_number(field[3], 10, ~0U, lineno);
		e.gid = parse_number(field[4], 10, ~0U, lineno);
		put_header(&e);
	} else if (!strcmp(field[0], "file") && n == 6) {
		struct stat st;

		if (stat(field[2], &st) < 0)
			die("line %d: %s: %s", lineno, field[2], strerror(errno));
		if (!S_ISREG(st.st_mode) || st.st_size > FILE_MAX_SIZE)
			die("line %d: %s: not a regular file of a sane size", lineno, field[2]);
		e.mode = S_IFREG | parse_number(field[3], 8, 07777, lineno);
		e.uid = parse_number(field[4], 10, ~0U, lineno);
		e.gid = parse_number(field[5], 10, ~0U, lineno);
		e.size = (unsigned long)st.st_size;
		put_header(&e);
		put_file_data(field[2], e.size);
	} else if (!strcmp(field[0], "nod") && n == 8) {
		if (strcmp(field[5], "c") && strcmp(field[5], "b"))
			die("line %d: device type must be c or b", lineno);
		e.mode = (field[5][0] == 'c' ? S_IFCHR : S_IFBLK) |
		         parse_number(field[2], 8, 07777, lineno);
		e.uid = parse_number(field[3], 10, ~0U, lineno);
		e.gid = parse_number(field[4], 10, ~0U, lineno);
		e.rdev_major = parse_number(field[6], 10, 4095, lineno);
		e.rdev_minor = parse_number(field[7], 10, 1048575, lineno);
		put_header(&e);
	} else if (!strcmp(field[0], "slink") && n == 6) {
		e.mode = S_IFLNK | parse_number(field[3], 8, 07777, lineno);
		e.uid = parse_number(field[4], 10, ~0U, lineno);
		e.gid = parse_number(field[5], 10, ~0U, lineno);
		e.size = strlen(field[2]);
		put_header(&e);
		put_bytes(field[2], e.size);
		put_padding();
	} else {
		die("line %d: unknown entry '%s' or wrong number of fields", lineno, field[0]);
	}
}

int main(int argc, char **argv)
{
	FILE *list;
	char line[3 * NAME_MAX_LEN];
	int lineno = 0;
	struct entry trailer = { .name = "TRAILER!!!" };

	if (argc != 2)
		die("usage: mkcpio LIST > archive.cpio");
	list = fopen(argv[1], "re");
	if (!list)
		die("%s: %s", argv[1], strerror(errno));
	while (fgets(line, sizeof(line), list)) {
		lineno++;
		if (!strchr(line, '\n') && !feof(list))
			die("line %d: too long", lineno);
		add_line(line, lineno);
	}
	if (ferror(list))
		die("%s: read error", argv[1]);
	fclose(list);
	put_header(&trailer);
	/* The kernel reads the archive in 512-byte blocks as cpio(1) writes it. */
	while (archive_offset % 512)
		put_bytes("", 1);
	if (fflush(stdout) != 0)
		die("write: %s", strerror(errno));
	return 0;
}

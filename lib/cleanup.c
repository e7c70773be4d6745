#include "cleanup.h"
#include "process_launch.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static void *check_alloc(void *ptr)
{
	if (ptr == NULL) {
		static const char msg[] = "out of memory\n";
		(void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
		abort();
	}
	return ptr;
}

void *xmalloc(size_t size)
{
	return check_alloc(malloc(size ? size : 1));
}

void *xzalloc(size_t size)
{
	return check_alloc(calloc(1, size ? size : 1));
}

void *xcalloc(size_t n, size_t size)
{
	return check_alloc(calloc(n ? n : 1, size ? size : 1));
}

void *xrealloc(void *ptr, size_t size)
{
	return check_alloc(realloc(ptr, size ? size : 1));
}

char *xstrdup(const char *s)
{
	return check_alloc(strdup(s));
}

char *xstrndup(const char *s, size_t n)
{
	return check_alloc(strndup(s, n));
}

char *xasprintf(const char *fmt, ...)
{
	char *ret = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&ret, fmt, ap) < 0)
		ret = NULL;
	va_end(ap);
	return check_alloc(ret);
}

void cleanup_free_fn(void *ptr)
{
	void **p = (void **)ptr;

	free(*p);
	*p = NULL;
}

void cleanup_close_fn(int *fd)
{
	if (*fd >= 0) {
		int saved_errno = errno;
		close(*fd);
		errno = saved_errno;
	}
	*fd = -1;
}

void cleanup_fclose_fn(FILE **f)
{
	if (*f != NULL)
		fclose(*f);
	*f = NULL;
}

void cleanup_closedir_fn(DIR **d)
{
	if (*d != NULL)
		closedir(*d);
	*d = NULL;
}

void strv_free(char **strv)
{
	if (strv == NULL)
		return;
	for (char **s = strv; *s != NULL; s++)
		free(*s);
	free(strv);
}

void strv_append(char ***strv, const char *s)
{
	size_t n = strv_length(*strv);

	*strv = xrealloc(*strv, (n + 2) * sizeof(char *));
	(*strv)[n] = xstrdup(s);
	(*strv)[n + 1] = NULL;
}

size_t strv_length(char *const *strv)
{
	size_t n = 0;

	while (strv != NULL && strv[n] != NULL)
		n++;
	return n;
}

void cleanup_strv_fn(char ***strv)
{
	strv_free(*strv);
	*strv = NULL;
}

void cleanup_pid_fn(pid_t *pid)
{
	if (*pid > 0) {
		int saved_errno = errno;
		launch_kill_and_reap(*pid, false, NULL);
		errno = saved_errno;
	}
	*pid = -1;
}

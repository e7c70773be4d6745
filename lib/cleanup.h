/* Ownership helpers: cleanup attributes, explicit steals, allocators that abort on
 * out-of-memory (a runtime that cannot allocate a few bytes cannot recover anyway). */
#ifndef KATA_CLEANUP_H
#define KATA_CLEANUP_H

#include <stddef.h>
#include <stdio.h>
#include <dirent.h>
#include <sys/types.h>

void *xmalloc(size_t size);
void *xzalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *ptr, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

void cleanup_free_fn(void *ptr);
void cleanup_close_fn(int *fd);
void cleanup_fclose_fn(FILE **f);
void cleanup_closedir_fn(DIR **d);
void cleanup_strv_fn(char ***strv);
/* Kills (SIGKILL) and reaps a child whose pid is still > 0. */
void cleanup_pid_fn(pid_t *pid);

#define cleanup_free     __attribute__((cleanup(cleanup_free_fn)))
#define cleanup_close    __attribute__((cleanup(cleanup_close_fn)))
#define cleanup_fclose   __attribute__((cleanup(cleanup_fclose_fn)))
#define cleanup_closedir __attribute__((cleanup(cleanup_closedir_fn)))
#define cleanup_strv     __attribute__((cleanup(cleanup_strv_fn)))
#define cleanup_pid      __attribute__((cleanup(cleanup_pid_fn)))

/* Transfers ownership out of a cleanup variable. */
static inline void *steal_pointer_impl(void *pp)
{
	void **p = (void **)pp;
	void *ret = *p;
	*p = NULL;
	return ret;
}
#define steal_pointer(pp) steal_pointer_impl(pp)

static inline int steal_fd(int *fd)
{
	int ret = *fd;
	*fd = -1;
	return ret;
}

void strv_free(char **strv);
/* Appends a copy of s to a NULL-terminated vector (*strv may be NULL). */
void strv_append(char ***strv, const char *s);
size_t strv_length(char *const *strv);

#endif

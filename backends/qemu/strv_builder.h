/* A growing NULL-terminated string vector, for command lines. */
#ifndef KATA_STRV_BUILDER_H
#define KATA_STRV_BUILDER_H

#include <stddef.h>

struct strv_builder {
	char **items;
	size_t len, cap;
};

void strv_builder_add(struct strv_builder *b, const char *s);
void strv_builder_addf(struct strv_builder *b, const char *fmt, ...)
        __attribute__((format(printf, 2, 3)));
/* Hands out the vector (never NULL) and empties the builder. */
char **strv_builder_steal(struct strv_builder *b);
void strv_builder_clear(struct strv_builder *b);

#endif

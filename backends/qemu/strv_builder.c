#include "strv_builder.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "cleanup.h"

static void append(struct strv_builder *b, char *owned)
{
	if (b->len + 2 > b->cap) {
		b->cap = b->cap ? b->cap * 2 : 16;
		b->items = xrealloc(b->items, b->cap * sizeof(char *));
	}
	b->items[b->len++] = owned;
	b->items[b->len] = NULL;
}

void strv_builder_add(struct strv_builder *b, const char *s)
{
	append(b, xstrdup(s));
}

void strv_builder_addf(struct strv_builder *b, const char *fmt, ...)
{
	char *s = NULL;
	va_list ap;

	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	append(b, s);
}

char **strv_builder_steal(struct strv_builder *b)
{
	char **items = b->items;

	if (items == NULL)
		items = xzalloc(sizeof(char *));
	b->items = NULL;
	b->len = b->cap = 0;
	return items;
}

void strv_builder_clear(struct strv_builder *b)
{
	strv_free(b->items);
	b->items = NULL;
	b->len = b->cap = 0;
}

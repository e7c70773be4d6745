/* The value tree the TOML parser builds: nodes, hashed table keys, freeing, lookups. */
#include "toml_internal.h"
#include "cleanup.h"

#include <stdlib.h>
#include <string.h>

struct toml_table_node *toml_table_new(int depth, enum toml_table_origin origin, int line,
                                       int column)
{
	struct toml_table_node *table = xzalloc(sizeof(*table));

	table->value.type = TOML_TABLE;
	table->value.line = line;
	table->value.column = column;
	table->origin = origin;
	table->depth = depth;
	return table;
}

struct toml_array_node *toml_array_new(int depth, bool of_tables, int line, int column)
{
	struct toml_array_node *array = xzalloc(sizeof(*array));

	array->value.type = TOML_ARRAY;
	array->value.line = line;
	array->value.column = column;
	array->of_tables = of_tables;
	array->depth = depth;
	return array;
}

struct toml_value *toml_scalar_new(enum toml_type type, int line, int column)
{
	struct toml_value *value = xzalloc(sizeof(*value));

	value->type = type;
	value->line = line;
	value->column = column;
	return value;
}

/* FNV-1a: keys are short, and the index only needs an even spread. */
static size_t hash_key(const char *key, size_t len)
{
	uint64_t hash = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < len; i++) {
		hash ^= (unsigned char)key[i];
		hash *= 0x100000001b3ULL;
	}
	return (size_t)(hash ^ (hash >> 32));
}

static bool entry_has_key(const struct toml_entry *entry, const char *key, size_t len)
{
	return entry->key_len == len && memcmp(entry->key, key, len) == 0;
}

static void index_add(size_t *slots, size_t slot_count, const struct toml_entry *entries,
                      size_t index)
{
	size_t mask = slot_count - 1;
	size_t slot = hash_key(entries[index].key, entries[index].key_len) & mask;

	while (slots[slot] != 0)
		slot = (slot + 1) & mask;
	slots[slot] = index + 1;
}

static void index_grow(struct toml_table_node *table)
{
	size_t slot_count = table->slot_count ? table->slot_count * 2 : 16;

	free(table->slots);
	table->slots = xcalloc(slot_count, sizeof(*table->slots));
	table->slot_count = slot_count;
	for (size_t i = 0; i < table->value.u.table.len; i++)
		index_add(table->slots, slot_count, table->value.u.table.entries, i);
}

struct toml_entry *toml_table_lookup(const struct toml_table_node *table, const char *key,
                                     size_t key_len)
{
	struct toml_entry *entries = table->value.u.table.entries;
	size_t mask, slot;

	if (table->slot_count == 0)
		return NULL;
	mask = table->slot_count - 1;
	for (slot = hash_key(key, key_len) & mask; table->slots[slot] != 0;
	     slot = (slot + 1) & mask) {
		struct toml_entry *entry = &entries[table->slots[slot] - 1];

		if (entry_has_key(entry, key, key_len))
			return entry;
	}
	return NULL;
}

struct toml_entry *toml_table_insert(struct toml_table_node *table, char *key, size_t key_len,
                                     int line, int column, struct toml_value *value)
{
	size_t len = table->value.u.table.len;
	struct toml_entry *entry;

	if (len == table->capacity) {
		table->capacity = table->capacity ? table->capacity * 2 : 4;
		table->value.u.table.entries = xrealloc(
		        table->value.u.table.entries, table->capacity * sizeof(struct toml_entry));
	}
	entry = &table->value.u.table.entries[len];
	entry->key = key;
	entry->key_len = key_len;
	entry->line = line;
	entry->column = column;
	entry->value = value;
	table->value.u.table.len = len + 1;
	if ((len + 1) * 2 > table->slot_count)
		index_grow(table);
	else
		index_add(table->slots, table->slot_count, table->value.u.table.entries, len);
	return entry;
}

void toml_array_push(struct toml_array_node *array, struct toml_value *value)
{
	size_t len = array->value.u.array.len;

	if (len == array->capacity) {
		array->capacity = array->capacity ? array->capacity * 2 : 4;
		array->value.u.array.items = xrealloc(
		        array->value.u.array.items, array->capacity * sizeof(struct toml_value *));
	}
	array->value.u.array.items[len] = value;
	array->value.u.array.len = len + 1;
}

void toml_buffer_append(struct toml_buffer *buffer, const char *bytes, size_t len)
{
	if (buffer->len + len + 1 > buffer->capacity) {
		size_t capacity = buffer->capacity ? buffer->capacity : 32;

		while (buffer->len + len + 1 > capacity)
			capacity *= 2;
		buffer->data = xrealloc(buffer->data, capacity);
		buffer->capacity = capacity;
	}
	memcpy(buffer->data + buffer->len, bytes, len);
	buffer->len += len;
	buffer->data[buffer->len] = '\0';
}

void toml_buffer_append_byte(struct toml_buffer *buffer, char byte)
{
	toml_buffer_append(buffer, &byte, 1);
}

char *toml_buffer_steal(struct toml_buffer *buffer, size_t *len)
{
	char *data = buffer->data ? buffer->data : xstrdup("");

	*len = buffer->len;
	buffer->data = NULL;
	buffer->len = buffer->capacity = 0;
	return data;
}

/* Recursion is bounded: the parser refuses nesting deeper than TOML_MAX_DEPTH. */
void toml_free(struct toml_value *value)
{
	if (value == NULL)
		return;
	switch (value->type) {
	case TOML_STRING:
		free(value->u.string.data);
		break;
	case TOML_OFFSET_DATETIME:
	case TOML_LOCAL_DATETIME:
	case TOML_LOCAL_DATE:
	case TOML_LOCAL_TIME:
		free(value->u.datetime.text);
		break;
	case TOML_ARRAY:
		for (size_t i = 0; i < value->u.array.len; i++)
			toml_free(value->u.array.items[i]);
		free(value->u.array.items);
		break;
	case TOML_TABLE:
		for (size_t i = 0; i < value->u.table.len; i++) {
			free(value->u.table.entries[i].key);
			toml_free(value->u.table.entries[i].value);
		}
		free(value->u.table.entries);
		free(toml_table_node(value)->slots);
		break;
	default:
		break;
	}
	free(value);
}

const struct toml_entry *toml_table_find(const struct toml_value *table, const char *key)
{
	if (table == NULL || table->type != TOML_TABLE || key == NULL)
		return NULL;
	return toml_table_lookup((const struct toml_table_node *)table, key, strlen(key));
}

const struct toml_value *toml_table_get(const struct toml_value *table, const char *key)
{
	const struct toml_entry *entry = toml_table_find(table, key);

	return entry ? entry->value : NULL;
}

const char *toml_type_name(enum toml_type type)
{
	switch (type) {
	case TOML_STRING:
		return "string";
	case TOML_INTEGER:
		return "integer";
	case TOML_FLOAT:
		return "float";
	case TOML_BOOLEAN:
		return "boolean";
	case TOML_OFFSET_DATETIME:
		return "offset date-time";
	case TOML_LOCAL_DATETIME:
		return "local date-time";
	case TOML_LOCAL_DATE:
		return "local date";
	case TOML_LOCAL_TIME:
		return "local time";
	case TOML_ARRAY:
		return "array";
	case TOML_TABLE:
		return "table";
	}
	return "unknown";
}

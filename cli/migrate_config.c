/* `kata-runtime migrate-config`: a Clear Containers 3.0 configuration.toml, or runV's
 * global flags, translated into this runtime's configuration. Every setting of the source
 * ends as a key of the output or as a note saying why it has no equivalent; the notes go
 * to stderr and, as comments, into the output (docs/migration.md).
 *
 * The translation reads the source's TOML tree with the project's parser and writes the
 * output as text: TOML has no C writer here, and the output is small and flat. The verb's
 * command line and files are in migrate_config_verb.c. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cleanup.h"
#include "personality.h"
#include "toml.h"

enum out_section { SEC_HYPERVISOR, SEC_PROXY, SEC_SHIM, SEC_AGENT, SEC_RUNTIME, SEC_COUNT };

static const char *const section_tables[SEC_COUNT] = {
	NULL, /* [hypervisor.qemu] or [hypervisor.libvirt]: the backend decides */
	"proxy.kata", "shim.kata", "agent.kata", "runtime",
};

/* The keys the output may have, in the order they are written. */
struct out_key {
	enum out_section sec;
	const char *key;
	char *value;   /* TOML text; NULL: not written */
	char *comment; /* one line, without "# " */
};

static const struct out_key out_template[] = {
	{ SEC_HYPERVISOR, "path", NULL, NULL },
	{ SEC_HYPERVISOR, "kernel", NULL, NULL },
	{ SEC_HYPERVISOR, "initrd", NULL, NULL },
	{ SEC_HYPERVISOR, "uri", NULL, NULL },
	{ SEC_HYPERVISOR, "machine_type", NULL, NULL },
	{ SEC_HYPERVISOR, "kernel_params", NULL, NULL },
	{ SEC_HYPERVISOR, "machine_accelerators", NULL, NULL },
	{ SEC_HYPERVISOR, "accelerator", NULL, NULL },
	{ SEC_HYPERVISOR, "default_vcpus", NULL, NULL },
	{ SEC_HYPERVISOR, "default_memory", NULL, NULL },
	{ SEC_HYPERVISOR, "default_bridges", NULL, NULL },
	{ SEC_HYPERVISOR, "disable_block_device_use", NULL, NULL },
	{ SEC_HYPERVISOR, "block_device_driver", NULL, NULL },
	{ SEC_HYPERVISOR, "enable_mem_prealloc", NULL, NULL },
	{ SEC_HYPERVISOR, "enable_hugepages", NULL, NULL },
	{ SEC_HYPERVISOR, "enable_iothreads", NULL, NULL },
	{ SEC_HYPERVISOR, "enable_debug", NULL, NULL },
	{ SEC_HYPERVISOR, "disable_nesting_checks", NULL, NULL },
	{ SEC_PROXY, "path", NULL, NULL },
	{ SEC_PROXY, "enable_debug", NULL, NULL },
	{ SEC_SHIM, "path", NULL, NULL },
	{ SEC_SHIM, "enable_debug", NULL, NULL },
	{ SEC_AGENT, "dialect", NULL, NULL },
	{ SEC_RUNTIME, "enable_debug", NULL, NULL },
	{ SEC_RUNTIME, "internetworking_model", NULL, NULL },
};
#define OUT_KEYS (sizeof(out_template) / sizeof(out_template[0]))

struct migrate_state {
	const char *source; /* the Clear Containers file's name */
	const struct migrate_base *base;
	char *backend; /* qemu or libvirt */
	struct out_key keys[OUT_KEYS];
	char **dropped[SEC_COUNT]; /* "dropped:" and "changed:" comment lines */
	char **header;             /* where the settings came from */
	struct migrate_result *result;
};

/* --- small helpers -------------------------------------------------------------------- */

static void strv_push(char ***strv, char *item)
{
	size_t n = strv_length(*strv);

	*strv = xrealloc(*strv, (n + 2) * sizeof(char *));
	(*strv)[n] = item;
	(*strv)[n + 1] = NULL;
}

char *toml_quote(const char *s)
{
	size_t cap = strlen(s) * 6 + 3, n = 0;
	char *out = xmalloc(cap);

	out[n++] = '"';
	for (const unsigned char *p = (const unsigned char *)s; *p != '\0'; p++) {
		switch (*p) {
		case '"':
			n += (size_t)sprintf(out + n, "\\\"");
			break;
		case '\\':
			n += (size_t)sprintf(out + n, "\\\\");
			break;
		case '\n':
			n += (size_t)sprintf(out + n, "\\n");
			break;
		case '\t':
			n += (size_t)sprintf(out + n, "\\t");
			break;
		default:
			if (*p < 0x20 || *p == 0x7f)
				n += (size_t)sprintf(out + n, "\\u%04x", *p);
			else
				out[n++] = (char)*p;
		}
	}
	out[n++] = '"';
	out[n] = '\0';
	return out;
}

/* Any TOML value as TOML text (for copies and for the notes). */
static char *render_value(const struct toml_value *v)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f;

	switch (v->type) {
	case TOML_STRING:
		return toml_quote(v->u.string.data);
	case TOML_INTEGER:
		return xasprintf("%" PRId64, v->u.integer);
	case TOML_FLOAT:
		return xasprintf("%g", v->u.floating);
	case TOML_BOOLEAN:
		return xstrdup(v->u.boolean ? "true" : "false");
	case TOML_ARRAY:
		f = open_memstream(&text, &len);
		if (f == NULL)
			abort();
		fputc('[', f);
		for (size_t i = 0; i < v->u.array.len; i++) {
			cleanup_free char *item = render_value(v->u.array.items[i]);
			fprintf(f, "%s%s", i == 0 ? "" : ", ", item);
		}
		fputc(']', f);
		fclose(f);
		return text;
	case TOML_TABLE:
		return xstrdup("{...}");
	default:
		return xstrdup(v->u.datetime.text != NULL ? v->u.datetime.text : "?");
	}
}

/* Notes quote the source's keys and values in comments and on stderr: one line each,
 * whatever bytes the source had. */
static void one_line(char *s)
{
	for (unsigned char *p = (unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			*p = '?';
}

static struct out_key *out_find(struct migrate_state *st, enum out_section sec, const char *key)
{
	for (size_t i = 0; i < OUT_KEYS; i++)
		if (st->keys[i].sec == sec && strcmp(st->keys[i].key, key) == 0)
			return &st->keys[i];
	abort(); /* a key missing from out_template is a bug */
}

/* Sets an output key (value is taken), replacing what an earlier source said. */
static void out_set(struct migrate_state *st, enum out_section sec, const char *key, char *value,
                    const char *fmt, ...) __attribute__((format(printf, 5, 6)));
static void out_set(struct migrate_state *st, enum out_section sec, const char *key, char *value,
                    const char *fmt, ...)
{
	struct out_key *k = out_find(st, sec, key);
	va_list ap;

	free(k->value);
	free(k->comment);
	k->value = value;
	va_start(ap, fmt);
	if (vasprintf(&k->comment, fmt, ap) < 0)
		abort();
	va_end(ap);
	one_line(k->comment);
}

static void add_note(struct migrate_state *st, enum out_section sec, const char *setting,
                     const char *shown, enum migrate_fate fate, const char *fmt, ...)
        __attribute__((format(printf, 6, 7)));
static void add_note(struct migrate_state *st, enum out_section sec, const char *setting,
                     const char *shown, enum migrate_fate fate, const char *fmt, ...)
{
	struct migrate_result *r = st->result;
	struct migrate_note *note;
	va_list ap;

	r->notes = xrealloc(r->notes, (r->n_notes + 1) * sizeof(*r->notes));
	note = &r->notes[r->n_notes++];
	note->setting = xstrdup(setting);
	note->fate = fate;
	va_start(ap, fmt);
	if (vasprintf(&note->why, fmt, ap) < 0)
		abort();
	va_end(ap);
	one_line(note->setting);
	one_line(note->why);
	if (fate != MIGRATE_MAPPED) {
		char *line = xasprintf("%s: %s%s%s: %s", migrate_fate_name(fate), note->setting,
		                       shown != NULL ? " = " : "", shown != NULL ? shown : "",
		                       note->why);
		one_line(line);
		strv_push(&st->dropped[sec], line);
	}
}

static int type_error(struct migrate_state *st, const char *setting, const struct toml_entry *e,
                      const char *want, kata_error_t *err)
{
	return kata_error_set(err, EINVAL, "%s:%d: key `%s`: expected %s, got a %s", st->source,
	                      e->line, setting, want, toml_type_name(e->value->type));
}

/* --- Clear Containers 3.0 keys ---------------------------------------------------------- */

struct cc_key;
typedef int (*cc_handler)(struct migrate_state *st, const struct cc_key *k, const char *setting,
                          const struct toml_entry *e, kata_error_t *err);

struct cc_key {
	const char *key;
	cc_handler handler;
	enum out_section sec;
	const char *comment; /* for copies: what the key does here */
};

/* Same key, same meaning: the value is copied after a type check. */
static int cc_copy(struct migrate_state *st, const struct cc_key *k, const char *setting,
                   const struct toml_entry *e, kata_error_t *err)
{
	enum toml_type want = TOML_STRING;

	if (strncmp(k->key, "enable_", 7) == 0 || strncmp(k->key, "disable_", 8) == 0)
		want = TOML_BOOLEAN;
	else if (strcmp(k->key, "default_bridges") == 0)
		want = TOML_INTEGER;
	if (e->value->type != want)
		return type_error(st, setting, e, toml_type_name(want), err);
	if (want == TOML_INTEGER && e->value->u.integer < 0)
		return kata_error_set(err, EINVAL, "%s:%d: key `%s`: negative", st->source, e->line,
		                      setting);
	out_set(st, k->sec, k->key, render_value(e->value), "%s (from %s)", k->comment, setting);
	add_note(st, k->sec, setting, NULL, MIGRATE_MAPPED, "%s", k->comment);
	return 0;
}

static int cc_qemu_path(struct migrate_state *st, const struct cc_key *k, const char *setting,
                        const struct toml_entry *e, kata_error_t *err)
{
	const char *path;

	if (e->value->type != TOML_STRING)
		return type_error(st, setting, e, "a string", err);
	path = e->value->u.string.data;
	if (path[0] == '/' && access(path, X_OK) == 0) {
		out_set(st, SEC_HYPERVISOR, "path", toml_quote(path), "the qemu binary (from %s)",
		        setting);
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED, "the qemu binary");
		return 0;
	}
	/* Clear Containers shipped qemu-lite; what is not on this host cannot be kept */
	add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_CHANGED,
	         "%s is not an executable on this host: %s is used", path,
	         st->base->hypervisor_path);
	out_set(st, SEC_HYPERVISOR, "path", toml_quote(st->base->hypervisor_path),
	        "the qemu binary (%s from %s is not on this host)", path, setting);
	return 0;
}

/* kernel and initrd: Clear Containers' guest booted its own agent from a disk image;
 * this runtime boots its own kernel and the initrd whose /init is kata-agent. */
static int cc_guest_asset(struct migrate_state *st, const struct cc_key *k, const char *setting,
                          const struct toml_entry *e, kata_error_t *err)
{
	if (e->value->type != TOML_STRING)
		return type_error(st, setting, e, "a string", err);
	add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_CHANGED,
	         "%s belongs to Clear Containers' guest (cc-agent); this runtime's own %s "
	         "replaces it (the `%s` key)",
	         e->value->u.string.data, k->key, k->key);
	return 0;
}

static int cc_dropped(struct migrate_state *st, const struct cc_key *k, const char *setting,
                      const struct toml_entry *e, kata_error_t *err)
{
	cleanup_free char *shown = render_value(e->value);

	add_note(st, k->sec, setting, shown, MIGRATE_DROPPED, "%s", k->comment);
	return 0;
}

static int cc_firmware(struct migrate_state *st, const struct cc_key *k, const char *setting,
                       const struct toml_entry *e, kata_error_t *err)
{
	if (e->value->type != TOML_STRING)
		return type_error(st, setting, e, "a string", err);
	if (e->value->u.string.data[0] != '\0')
		return cc_dropped(st, k, setting, e, err);
	add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED,
	         "empty: qemu's own firmware, which is what this runtime always uses");
	return 0;
}

static int cc_machine_type(struct migrate_state *st, const struct cc_key *k, const char *setting,
                           const struct toml_entry *e, kata_error_t *err)
{
	static const char *const known[] = { "q35", "pc", "microvm", NULL };
	cleanup_free char *shown = NULL;
	const char *type;

	if (e->value->type != TOML_STRING)
		return type_error(st, setting, e, "a string", err);
	type = e->value->u.string.data;
	for (size_t i = 0; known[i] != NULL; i++) {
		if (strcmp(type, known[i]) == 0) {
			out_set(st, SEC_HYPERVISOR, "machine_type", toml_quote(type),
			        "qemu machine type (from %s)", setting);
			add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED,
			         "qemu machine type");
			return 0;
		}
	}
	if (strcmp(type, "pc-lite") == 0) {
		/* qemu-lite's trimmed pc machine; Debian's qemu has the plain one */
		out_set(st, SEC_HYPERVISOR, "machine_type", toml_quote("pc"),
		        "qemu machine type (qemu-lite's pc-lite from %s; plain pc here)", setting);
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_CHANGED,
		         "pc-lite is qemu-lite's; the plain pc machine is used");
		return 0;
	}
	shown = toml_quote(type);
	add_note(st, SEC_HYPERVISOR, setting, shown, MIGRATE_DROPPED,
	         "machine type `%s` is not one of q35, pc, microvm: the default q35 is used", type);
	return 0;
}

static int cc_vcpus(struct migrate_state *st, const struct cc_key *k, const char *setting,
                    const struct toml_entry *e, kata_error_t *err)
{
	int64_t n;

	if (e->value->type != TOML_INTEGER)
		return type_error(st, setting, e, "an integer", err);
	n = e->value->u.integer;
	if (n == 0) {
		/* Clear Containers: 0 means its default (1); here 0 is refused */
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_CHANGED,
		         "0 meant the default, 1 vCPU; the key is left out (the default here "
		         "is 1 too)");
		return 0;
	}
	if (n < 0)
		n = -1; /* all host CPUs, in both */
	out_set(st, SEC_HYPERVISOR, "default_vcpus", xasprintf("%" PRId64, n),
	        "vCPUs of a VM%s (from %s)", n < 0 ? "; -1: as many as the host has" : "", setting);
	add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED,
	         "vCPUs of a VM (negative: all host CPUs; more than the host has: capped)");
	return 0;
}

static void set_memory(struct migrate_state *st, const char *setting, int64_t mib)
{
	if (mib < KATA_MIN_MEMORY_MIB) {
		out_set(st, SEC_HYPERVISOR, "default_memory", xasprintf("%d", KATA_MIN_MEMORY_MIB),
		        "memory of a VM in MiB (%s asked %" PRId64 ", below this guest's minimum)",
		        setting, mib);
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_CHANGED,
		         "%" PRId64 " MiB is below the %d MiB this guest needs: %d MiB", mib,
		         KATA_MIN_MEMORY_MIB, KATA_MIN_MEMORY_MIB);
		return;
	}
	out_set(st, SEC_HYPERVISOR, "default_memory", xasprintf("%" PRId64, mib),
	        "memory of a VM in MiB (from %s)", setting);
	add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED, "memory of a VM in MiB");
}

static int cc_memory(struct migrate_state *st, const struct cc_key *k, const char *setting,
                     const struct toml_entry *e, kata_error_t *err)
{
	if (e->value->type != TOML_INTEGER)
		return type_error(st, setting, e, "an integer", err);
	if (e->value->u.integer < 8) {
		/* Clear Containers took anything below 8 MiB as "use the default" */
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_CHANGED,
		         "below 8 meant Clear Containers' default; this runtime's default "
		         "(%d MiB) is used",
		         KATA_DEFAULT_MEMORY_MIB);
		return 0;
	}
	set_memory(st, setting, e->value->u.integer);
	return 0;
}

/* qemu-lite's machine options, as upstream qemu spells them (none for the last two). */
static const char *const lite_options[][2] = {
	{ "nosmm", "smm=off" }, { "nosmbus", "smbus=off" }, { "nosata", "sata=off" },
	{ "nopit", "pit=off" }, { "static-prt", NULL },     { "nofw", NULL },
};

static int cc_machine_accelerators(struct migrate_state *st, const struct cc_key *k,
                                   const char *setting, const struct toml_entry *e,
                                   kata_error_t *err)
{
	cleanup_free char *copy = NULL, *kept = xstrdup(""), *changes = xstrdup("");
	char *save = NULL;

	if (e->value->type != TOML_STRING)
		return type_error(st, setting, e, "a string", err);
	copy = xstrdup(e->value->u.string.data);
	for (char *opt = strtok_r(copy, ", \t", &save); opt != NULL;
	     opt = strtok_r(NULL, ", \t", &save)) {
		const char *use = opt;
		char *next;

		for (size_t i = 0; i < sizeof(lite_options) / sizeof(lite_options[0]); i++) {
			if (strcmp(opt, lite_options[i][0]) != 0)
				continue;
			use = lite_options[i][1];
			next = xasprintf("%s%s%s -> %s", changes, changes[0] ? ", " : "", opt,
			                 use != NULL ? use : "(none: qemu-lite only)");
			free(changes);
			changes = next;
		}
		if (use == NULL)
			continue;
		next = xasprintf("%s%s%s", kept, kept[0] ? "," : "", use);
		free(kept);
		kept = next;
	}
	out_set(st, SEC_HYPERVISOR, "machine_accelerators", toml_quote(kept),
	        "qemu -machine options (from %s)", setting);
	if (changes[0] != '\0')
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_CHANGED,
		         "qemu-lite's options in upstream qemu's words: %s", changes);
	else
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED,
		         "qemu -machine options");
	return 0;
}

static int cc_choice(struct migrate_state *st, const struct cc_key *k, const char *setting,
                     const struct toml_entry *e, const char *const *choices, kata_error_t *err)
{
	cleanup_free char *shown = NULL;

	if (e->value->type != TOML_STRING)
		return type_error(st, setting, e, "a string", err);
	for (size_t i = 0; choices[i] != NULL; i++)
		if (strcmp(e->value->u.string.data, choices[i]) == 0)
			return cc_copy(st, k, setting, e, err);
	shown = toml_quote(e->value->u.string.data);
	add_note(st, k->sec, setting, shown, MIGRATE_DROPPED,
	         "not a value this runtime has; its default is used");
	return 0;
}

static int cc_block_driver(struct migrate_state *st, const struct cc_key *k, const char *setting,
                           const struct toml_entry *e, kata_error_t *err)
{
	static const char *const drivers[] = { "virtio-scsi", "virtio-blk", NULL };

	return cc_choice(st, k, setting, e, drivers, err);
}

static int cc_networking(struct migrate_state *st, const struct cc_key *k, const char *setting,
                         const struct toml_entry *e, kata_error_t *err)
{
	static const char *const models[] = { "macvtap", "tcfilter", "bridged", "none", NULL };

	return cc_choice(st, k, setting, e, models, err);
}

static int cc_component_path(struct migrate_state *st, const struct cc_key *k, const char *setting,
                             const struct toml_entry *e, kata_error_t *err)
{
	if (e->value->type != TOML_STRING)
		return type_error(st, setting, e, "a string", err);
	add_note(st, k->sec, setting, NULL, MIGRATE_CHANGED, "%s: %s is used", k->comment,
	         k->sec == SEC_PROXY ? st->base->proxy_path : st->base->shim_path);
	return 0;
}

static const struct cc_key cc_hypervisor_keys[] = {
	{ "path", cc_qemu_path, SEC_HYPERVISOR, NULL },
	{ "kernel", cc_guest_asset, SEC_HYPERVISOR, NULL },
	{ "initrd", cc_guest_asset, SEC_HYPERVISOR, NULL },
	{ "image", cc_dropped, SEC_HYPERVISOR,
	  "guest disk images are not supported: this runtime boots its agent from an initrd "
	  "(the `initrd` key)" },
	{ "firmware", cc_firmware, SEC_HYPERVISOR,
	  "a custom firmware is not supported: qemu's own is used" },
	{ "machine_type", cc_machine_type, SEC_HYPERVISOR, NULL },
	{ "kernel_params", cc_copy, SEC_HYPERVISOR,
	  "guest kernel parameters, appended to the runtime's" },
	{ "machine_accelerators", cc_machine_accelerators, SEC_HYPERVISOR, NULL },
	{ "default_vcpus", cc_vcpus, SEC_HYPERVISOR, NULL },
	{ "default_memory", cc_memory, SEC_HYPERVISOR, NULL },
	{ "default_bridges", cc_copy, SEC_HYPERVISOR, "PCI bridges of a VM (at most 5)" },
	{ "disable_block_device_use", cc_copy, SEC_HYPERVISOR,
	  "no block devices for container rootfs (this runtime shares them over 9p anyway)" },
	{ "block_device_driver", cc_block_driver, SEC_HYPERVISOR,
	  "block device driver (no block devices are hot-plugged yet)" },
	{ "enable_mem_prealloc", cc_copy, SEC_HYPERVISOR, "preallocate the VM's memory" },
	{ "enable_hugepages", cc_copy, SEC_HYPERVISOR, "back the VM's memory with huge pages" },
	{ "enable_iothreads", cc_copy, SEC_HYPERVISOR, "qemu I/O threads" },
	{ "enable_swap", cc_dropped, SEC_HYPERVISOR,
	  "this runtime never locks guest memory, so there is nothing to turn off" },
	{ "enable_debug", cc_copy, SEC_HYPERVISOR, "guest console and kernel debug output" },
	{ "disable_nesting_checks", cc_copy, SEC_HYPERVISOR,
	  "skip the changes made when running nested" },
	{ NULL, NULL, 0, NULL },
};

static const struct cc_key cc_proxy_keys[] = {
	{ "path", cc_component_path, SEC_PROXY,
	  "cc-proxy was one daemon for all VMs; this runtime starts its own kata-proxy per VM" },
	{ "enable_debug", cc_copy, SEC_PROXY, "debug messages from the proxy" },
	{ "url", cc_dropped, SEC_PROXY,
	  "cc-proxy's socket: kata-proxy listens on a socket in each sandbox's directory" },
	{ NULL, NULL, 0, NULL },
};

static const struct cc_key cc_shim_keys[] = {
	{ "path", cc_component_path, SEC_SHIM,
	  "this runtime starts kata-shim, with options cc-shim does not have" },
	{ "enable_debug", cc_copy, SEC_SHIM, "debug messages from the shim" },
	{ NULL, NULL, 0, NULL },
};

static const struct cc_key cc_agent_keys[] = {
	{ "pause_root_path", cc_dropped, SEC_AGENT,
	  "the guest has no pause container: kata-agent keeps the sandbox itself" },
	{ NULL, NULL, 0, NULL },
};

static const struct cc_key cc_runtime_keys[] = {
	{ "enable_debug", cc_copy, SEC_RUNTIME, "debug messages from the runtime" },
	{ "internetworking_model", cc_networking, SEC_RUNTIME,
	  "how the VM is joined to the container's network" },
	{ NULL, NULL, 0, NULL },
};

static int read_cc_table(struct migrate_state *st, const char *table_name,
                         const struct toml_value *table, const struct cc_key *keys,
                         enum out_section sec, kata_error_t *err)
{
	for (size_t i = 0; i < table->u.table.len; i++) {
		const struct toml_entry *e = &table->u.table.entries[i];
		cleanup_free char *setting = xasprintf("%s.%s", table_name, e->key);
		const struct cc_key *k = keys;

		while (k->key != NULL && strcmp(k->key, e->key) != 0)
			k++;
		if (k->key == NULL) {
			cleanup_free char *shown = render_value(e->value);
			add_note(st, sec, setting, shown, MIGRATE_DROPPED,
			         "not a Clear Containers 3.0 key");
			continue;
		}
		if (k->handler(st, k, setting, e, err) < 0)
			return -1;
	}
	return 0;
}

/* [KIND.NAME] groups: which NAME is Clear Containers', and its keys. */
struct cc_group {
	const char *kind;
	const char *const *names; /* the tables Clear Containers 3.0 read */
	const struct cc_key *keys;
	enum out_section sec;
};

static const char *const qemu_names[] = { "qemu", NULL };
static const char *const cc_names[] = { "cc", NULL };
static const char *const agent_names[] = { "cc", "hyperstart", NULL };

static const struct cc_group cc_groups[] = {
	{ "hypervisor", qemu_names, cc_hypervisor_keys, SEC_HYPERVISOR },
	{ "proxy", cc_names, cc_proxy_keys, SEC_PROXY },
	{ "shim", cc_names, cc_shim_keys, SEC_SHIM },
	{ "agent", agent_names, cc_agent_keys, SEC_AGENT },
};

static bool name_in(const char *name, const char *const *names)
{
	for (size_t i = 0; names[i] != NULL; i++)
		if (strcmp(names[i], name) == 0)
			return true;
	return false;
}

static int read_cc_group(struct migrate_state *st, const struct cc_group *g,
                         const struct toml_value *group, kata_error_t *err)
{
	for (size_t i = 0; i < group->u.table.len; i++) {
		const struct toml_entry *e = &group->u.table.entries[i];
		cleanup_free char *name = xasprintf("%s.%s", g->kind, e->key);

		if (e->value->type != TOML_TABLE || !name_in(e->key, g->names)) {
			add_note(st, g->sec, name, NULL, MIGRATE_DROPPED,
			         "not a table Clear Containers 3.0 read");
			continue;
		}
		if (g->sec == SEC_AGENT)
			/* Clear Containers' agent ([agent.cc], or [agent.hyperstart] in early
			 * 3.0 files) lived in its guest image, which is not kept */
			add_note(st, SEC_AGENT, name, NULL, MIGRATE_CHANGED,
			         "Clear Containers' agent came with its guest image; this "
			         "runtime's agent (dialect kata) is in its initrd");
		if (read_cc_table(st, name, e->value, g->keys, g->sec, err) < 0)
			return -1;
	}
	return 0;
}

static int read_cc_file(struct migrate_state *st, const char *text, size_t len, kata_error_t *err)
{
	struct toml_value *root = toml_parse(text, len, err);
	int ret = 0;

	if (root == NULL)
		return kata_error_wrap(err, "%s", st->source);
	for (size_t i = 0; i < root->u.table.len && ret == 0; i++) {
		const struct toml_entry *e = &root->u.table.entries[i];
		const struct cc_group *g = NULL;

		for (size_t n = 0; n < sizeof(cc_groups) / sizeof(cc_groups[0]); n++)
			if (strcmp(cc_groups[n].kind, e->key) == 0)
				g = &cc_groups[n];
		if (g != NULL && e->value->type == TOML_TABLE)
			ret = read_cc_group(st, g, e->value, err);
		else if (strcmp(e->key, "runtime") == 0 && e->value->type == TOML_TABLE)
			ret = read_cc_table(st, "runtime", e->value, cc_runtime_keys, SEC_RUNTIME,
			                    err);
		else
			add_note(st, SEC_RUNTIME, e->key, NULL, MIGRATE_DROPPED,
			         "not a table Clear Containers 3.0 read");
	}
	toml_free(root);
	return ret;
}

/* --- runV's flags ------------------------------------------------------------------------ */

static int runv_asset(struct migrate_state *st, const char *flag, const char *path, const char *key,
                      kata_error_t *err)
{
	cleanup_free char *setting = xasprintf("runv --%s", flag);
	char *resolved = realpath(path, NULL);

	if (resolved == NULL)
		return kata_error_sys(err, "--%s: %s", flag, path);
	out_set(st, SEC_HYPERVISOR, key, toml_quote(resolved), "guest %s (from %s)", key, setting);
	add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED, "guest %s", key);
	free(resolved);
	return 0;
}

static void runv_driver(struct migrate_state *st, const char *driver)
{
	const char *setting = "runv --driver";

	if (strcmp(driver, "qemu") == 0) {
		free(st->backend);
		st->backend = xstrdup("qemu");
		out_set(st, SEC_HYPERVISOR, "accelerator", toml_quote("auto"),
		        "KVM when it boots the guest, else TCG (runV's qemu driver)");
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED,
		         "qemu backend, accelerator auto");
	} else if (strcmp(driver, "kvm") == 0 || strcmp(driver, "qemu-kvm") == 0) {
		free(st->backend);
		st->backend = xstrdup("qemu");
		out_set(st, SEC_HYPERVISOR, "accelerator", toml_quote("kvm"),
		        "qemu with KVM (runV's %s driver)", driver);
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED,
		         "qemu backend, accelerator kvm");
	} else if (strcmp(driver, "libvirt") == 0) {
		free(st->backend);
		st->backend = xstrdup("libvirt");
		out_set(st, SEC_HYPERVISOR, "uri", toml_quote(KATA_DEFAULT_LIBVIRT_URI),
		        "the libvirt connection (runV's libvirt driver used the local qemu one)");
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_MAPPED, "libvirt backend");
	} else {
		add_note(st, SEC_HYPERVISOR, setting, NULL, MIGRATE_DROPPED,
		         "this runtime has no %s driver: the qemu backend is used", driver);
	}
}

static int read_runv_flags(struct migrate_state *st, const struct cli_overrides *o,
                           kata_error_t *err)
{
	if (o->driver != NULL)
		runv_driver(st, o->driver);
	if (o->kernel != NULL && runv_asset(st, "kernel", o->kernel, "kernel", err) < 0)
		return -1;
	if (o->initrd != NULL && runv_asset(st, "initrd", o->initrd, "initrd", err) < 0)
		return -1;
	if (o->default_cpus != 0) {
		out_set(st, SEC_HYPERVISOR, "default_vcpus", xasprintf("%" PRId64, o->default_cpus),
		        "vCPUs of a VM (from runv --default_cpus)");
		add_note(st, SEC_HYPERVISOR, "runv --default_cpus", NULL, MIGRATE_MAPPED,
		         "vCPUs of a VM");
	}
	if (o->default_memory != 0)
		set_memory(st, "runv --default_memory", o->default_memory);
	if (o->debug) {
		out_set(st, SEC_RUNTIME, "enable_debug", xstrdup("true"),
		        "debug messages from the runtime (from runv --debug)");
		add_note(st, SEC_RUNTIME, "runv --debug", NULL, MIGRATE_MAPPED,
		         "debug messages from the runtime");
	}
	if (o->root != NULL)
		add_note(st, SEC_RUNTIME, "runv --root", NULL, MIGRATE_DROPPED,
		         "the state directory is a command-line option of every call, not a "
		         "setting: pass --root (called as runv, /run/runv stays the default)");
	if (o->log_dir != NULL)
		add_note(st, SEC_RUNTIME, "runv --log_dir", NULL, MIGRATE_DROPPED,
		         "the log goes to --log FILE from the engine; called as runv, --log_dir "
		         "DIR still logs to DIR/runv.log");
	for (size_t i = 0; o->unsupported != NULL && o->unsupported[i] != NULL; i++) {
		cleanup_free char *name =
		        xstrndup(o->unsupported[i], strcspn(o->unsupported[i], "="));
		cleanup_free char *setting = xasprintf("runv --%s", name);
		cleanup_free char *shown = toml_quote(strchr(o->unsupported[i], '=') + 1);
		add_note(st, SEC_HYPERVISOR, setting, shown, MIGRATE_DROPPED,
		         "no equivalent: this runtime boots a kernel and initrd with qemu's own "
		         "firmware and has no VM templates or VirtualBox");
	}
	return 0;
}

/* --- output ------------------------------------------------------------------------------ */

/* What the sources did not say, from this runtime's installation. */
static void fill_defaults(struct migrate_state *st)
{
	const struct migrate_base *b = st->base;
	struct {
		enum out_section sec;
		const char *key, *value, *comment;
	} fills[] = {
		{ SEC_HYPERVISOR, "path", b->hypervisor_path, "the qemu binary" },
		{ SEC_HYPERVISOR, "kernel", b->kernel, "this runtime's guest kernel" },
		{ SEC_HYPERVISOR, "initrd", b->initrd,
		  "this runtime's initrd: its /init is kata-agent" },
		{ SEC_PROXY, "path", b->proxy_path, "kata-proxy, started once per VM" },
		{ SEC_SHIM, "path", b->shim_path, "kata-shim, started once per container process" },
	};

	for (size_t i = 0; i < sizeof(fills) / sizeof(fills[0]); i++)
		if (out_find(st, fills[i].sec, fills[i].key)->value == NULL)
			out_set(st, fills[i].sec, fills[i].key, toml_quote(fills[i].value), "%s",
			        fills[i].comment);
	out_set(st, SEC_AGENT, "dialect", toml_quote("kata"),
	        "this project's agent, in the initrd above; \"hyperstart\" or \"cc\" only "
	        "for a guest running runV's or Clear Containers' agent (docs/dialects.md)");
	if (strcmp(st->backend, "libvirt") != 0) {
		struct out_key *uri = out_find(st, SEC_HYPERVISOR, "uri");
		free(uri->value);
		uri->value = NULL;
	}
}

static char *render(struct migrate_state *st)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		abort();
	fprintf(f, "# Configuration for kata-runtime, written by `kata-runtime migrate-config`.\n");
	for (size_t i = 0; st->header != NULL && st->header[i] != NULL; i++)
		fprintf(f, "# %s\n", st->header[i]);
	fprintf(f, "# Each setting of the source is below, as a key or as a \"dropped:\" comment "
	           "saying why\n# it has no equivalent here (docs/migration.md).\n");
	for (int sec = 0; sec < SEC_COUNT; sec++) {
		if (sec == SEC_HYPERVISOR)
			fprintf(f, "\n[hypervisor.%s]\n", st->backend);
		else
			fprintf(f, "\n[%s]\n", section_tables[sec]);
		for (size_t i = 0; i < OUT_KEYS; i++) {
			const struct out_key *k = &st->keys[i];
			if (k->sec != (enum out_section)sec || k->value == NULL)
				continue;
			fprintf(f, "# %s\n%s = %s\n", k->comment, k->key, k->value);
		}
		for (size_t i = 0; st->dropped[sec] != NULL && st->dropped[sec][i] != NULL; i++)
			fprintf(f, "# %s\n", st->dropped[sec][i]);
	}
	fclose(f);
	return text;
}

static void state_release(struct migrate_state *st)
{
	for (size_t i = 0; i < OUT_KEYS; i++) {
		free(st->keys[i].value);
		free(st->keys[i].comment);
	}
	for (int sec = 0; sec < SEC_COUNT; sec++)
		strv_free(st->dropped[sec]);
	strv_free(st->header);
	free(st->backend);
}

int migrate_config(const char *cc_name, const char *cc_text, size_t cc_len,
                   const struct cli_overrides *runv, const struct migrate_base *base,
                   struct migrate_result *out, kata_error_t *err)
{
	struct migrate_state st = {
		.source = cc_name != NULL ? cc_name : "<clear containers configuration>",
		.base = base,
		.backend = xstrdup("qemu"),
		.result = out,
	};
	int ret = 0;

	memset(out, 0, sizeof(*out));
	memcpy(st.keys, out_template, sizeof(out_template));
	if (cc_text == NULL && (runv == NULL || cli_overrides_empty(runv))) {
		ret = kata_error_set(err, EINVAL,
		                     "nothing to migrate: give --from FILE (a Clear Containers "
		                     "configuration) or runV's flags");
		goto out;
	}
	if (cc_text != NULL) {
		strv_push(&st.header,
		          xasprintf("From the Clear Containers 3.0 file %s", st.source));
		ret = read_cc_file(&st, cc_text, cc_len, err);
		if (ret < 0)
			goto out;
	}
	if (runv != NULL && !cli_overrides_empty(runv)) {
		strv_push(&st.header,
		          xstrdup(cc_text != NULL ? "and runV's flags, which win over the file"
		                                  : "From runV's flags"));
		ret = read_runv_flags(&st, runv, err);
		if (ret < 0)
			goto out;
	}
	fill_defaults(&st);
	out->toml = render(&st);
out:
	state_release(&st);
	if (ret < 0)
		migrate_result_release(out);
	return ret;
}

void migrate_result_release(struct migrate_result *r)
{
	for (size_t i = 0; i < r->n_notes; i++) {
		free(r->notes[i].setting);
		free(r->notes[i].why);
	}
	free(r->notes);
	free(r->toml);
	memset(r, 0, sizeof(*r));
}

const struct migrate_note *migrate_find_note(const struct migrate_result *r, const char *setting)
{
	for (size_t i = 0; i < r->n_notes; i++)
		if (strcmp(r->notes[i].setting, setting) == 0)
			return &r->notes[i];
	return NULL;
}

const char *migrate_fate_name(enum migrate_fate fate)
{
	switch (fate) {
	case MIGRATE_MAPPED:
		return "mapped";
	case MIGRATE_CHANGED:
		return "changed";
	default:
		return "dropped";
	}
}

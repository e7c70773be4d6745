/* The OCI seccomp profile as a libseccomp filter. */
#include "child.h"

#include "cleanup.h"

#include <ctype.h>
#include <errno.h>
#include <stdbool.h>
#include <seccomp.h>
#include <string.h>

static int action_of(enum oci_seccomp_action action, bool has_errno, uint32_t errno_ret,
                     uint32_t *out, kata_error_t *err)
{
	switch (action) {
	case OCI_SECCOMP_KILL:
	case OCI_SECCOMP_KILL_THREAD:
		*out = SCMP_ACT_KILL_THREAD;
		return 0;
	case OCI_SECCOMP_KILL_PROCESS:
		*out = SCMP_ACT_KILL_PROCESS;
		return 0;
	case OCI_SECCOMP_TRAP:
		*out = SCMP_ACT_TRAP;
		return 0;
	case OCI_SECCOMP_ERRNO:
		*out = SCMP_ACT_ERRNO(has_errno ? errno_ret : EPERM);
		return 0;
	case OCI_SECCOMP_TRACE:
		*out = SCMP_ACT_TRACE(has_errno ? errno_ret : EPERM);
		return 0;
	case OCI_SECCOMP_ALLOW:
		*out = SCMP_ACT_ALLOW;
		return 0;
	case OCI_SECCOMP_LOG:
		*out = SCMP_ACT_LOG;
		return 0;
	default:
		return kata_error_set(err, ENOTSUP, "seccomp action %s is not supported",
		                      oci_seccomp_action_name(action));
	}
}

static const enum scmp_compare ops[OCI_SECCOMP_OPS] = {
	[OCI_SECCOMP_OP_NE] = SCMP_CMP_NE,
	[OCI_SECCOMP_OP_LT] = SCMP_CMP_LT,
	[OCI_SECCOMP_OP_LE] = SCMP_CMP_LE,
	[OCI_SECCOMP_OP_EQ] = SCMP_CMP_EQ,
	[OCI_SECCOMP_OP_GE] = SCMP_CMP_GE,
	[OCI_SECCOMP_OP_GT] = SCMP_CMP_GT,
	[OCI_SECCOMP_OP_MASKED_EQ] = SCMP_CMP_MASKED_EQ,
};

static void release(scmp_filter_ctx *ctx)
{
	if (*ctx)
		seccomp_release(*ctx);
}

/* libseccomp takes one comparison per argument in a rule. Several on the same argument
 * (e.g. Docker's profile allows personality(2) for three values) mean "any of them", as
 * runc reads them: one rule per comparison then. */
static int add_rule(scmp_filter_ctx ctx, uint32_t action, int nr, const struct scmp_arg_cmp *args,
                    size_t n_args)
{
	bool repeated = false;

	for (size_t i = 0; i < n_args && !repeated; i++)
		for (size_t j = i + 1; j < n_args; j++)
			if (args[i].arg == args[j].arg)
				repeated = true;
	if (!repeated)
		return seccomp_rule_add_array(ctx, action, nr, (unsigned)n_args, args);
	for (size_t i = 0; i < n_args; i++) {
		int ret = seccomp_rule_add_array(ctx, action, nr, 1, &args[i]);
		if (ret < 0)
			return ret;
	}
	return 0;
}

int agent_child_load_seccomp(const struct oci_seccomp *s, bool no_new_privs, kata_error_t *err)
{
	__attribute__((cleanup(release))) scmp_filter_ctx ctx = NULL;
	uint32_t def;
	int ret;

	if (action_of(s->default_action, s->has_default_errno_ret, s->default_errno_ret, &def,
	              err) < 0)
		return -1;
	ctx = seccomp_init(def);
	if (ctx == NULL)
		return kata_error_set(err, EINVAL, "seccomp_init");
	/* no_new_privs is the process's own setting, not libseccomp's to impose. */
	seccomp_attr_set(ctx, SCMP_FLTATR_CTL_NNP, no_new_privs ? 1 : 0);
	for (size_t i = 0; s->architectures && s->architectures[i]; i++) {
		char name[32];
		const char *a = s->architectures[i];
		uint32_t arch;

		if (strncmp(a, "SCMP_ARCH_", 10) == 0)
			a += 10;
		snprintf(name, sizeof(name), "%s", a);
		for (char *c = name; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		arch = seccomp_arch_resolve_name(name);
		if (arch == 0)
			continue; /* an architecture libseccomp does not know cannot matter */
		ret = seccomp_arch_add(ctx, arch);
		if (ret < 0 && ret != -EEXIST)
			return kata_error_set(err, -ret, "seccomp: add architecture %s", name);
	}
	for (size_t i = 0; s->flags && s->flags[i]; i++) {
		if (strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_LOG") == 0)
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_LOG, 1);
		else if (strcmp(s->flags[i], "SECCOMP_FILTER_FLAG_SPEC_ALLOW") == 0)
			seccomp_attr_set(ctx, SCMP_FLTATR_CTL_SSB, 1);
	}
	for (size_t i = 0; i < s->n_syscalls; i++) {
		const struct oci_seccomp_syscall *sc = &s->syscalls[i];
		struct scmp_arg_cmp args[6];
		uint32_t action;

		if (sc->n_args > 6)
			return kata_error_set(err, EINVAL, "seccomp: too many argument rules");
		if (action_of(sc->action, sc->has_errno_ret, sc->errno_ret, &action, err) < 0)
			return -1;
		if (action == def)
			continue; /* libseccomp refuses a rule that repeats the default */
		for (size_t j = 0; j < sc->n_args; j++) {
			args[j].arg = sc->args[j].index;
			args[j].op = ops[sc->args[j].op];
			args[j].datum_a = sc->args[j].value;
			args[j].datum_b = sc->args[j].value_two;
		}
		for (size_t n = 0; sc->names && sc->names[n]; n++) {
			int nr = seccomp_syscall_resolve_name(sc->names[n]);

			if (nr == __NR_SCMP_ERROR)
				continue; /* unknown here, as runc does */
			ret = add_rule(ctx, action, nr, args, sc->n_args);
			if (ret < 0)
				return kata_error_set(err, -ret, "seccomp: rule for %s: %s",
				                      sc->names[n], strerror(-ret));
		}
	}
	ret = seccomp_load(ctx);
	if (ret < 0)
		return kata_error_set(err, -ret, "seccomp_load: %s", strerror(-ret));
	return 0;
}

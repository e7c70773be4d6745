#include "companion_log.h"

#include "cleanup.h"

char *companion_log_path(const struct companion_log *log, const char *sandbox_dir, const char *name)
{
	if (log->path != NULL)
		return xstrdup(log->path);
	if (sandbox_dir == NULL)
		return NULL;
	return xasprintf("%s/%s.log", sandbox_dir, name);
}

const char *companion_log_format(const struct companion_log *log)
{
	return log->path != NULL && log->format == KATA_LOG_JSON ? "json" : "text";
}

/* runlog.c — an event on stderr and in the state log (see runlog.h). */
#include "runtime/log/runlog.h"

#include <stdarg.h>
#include <stdio.h>

#include "runtime/base/clock.h"

void runlog_event(struct statelog *sl, int to_stderr, enum statelog_level lvl,
                  const char *integration, const char *kind, const char *fmt, ...)
{
    static const char *const lv[] = { "info", "warning", "error" };
    char msg[1024];
    va_list ap;

    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (integration && !*integration)
        integration = NULL;
    if (to_stderr) {
        char ts[32];
        zclock_iso8601(ts, sizeof ts, zclock_wall_ms());
        fprintf(stderr, "%s %s %s: %s\n", ts, lv[lvl], integration ? integration : "zetl", msg);
    }
    if (sl && statelog_record_event(sl, lvl, integration, NULL, kind, NULL, "%s", msg) != 0 &&
        to_stderr)
        fprintf(stderr, "zetl: state log: %s\n", statelog_error(sl));
}

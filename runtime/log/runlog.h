/*
 * runlog.h — one event of the runtime's side threads (alerts, metrics): a
 * row in the state log and, for `zetl run`, the same line on stderr in the
 * supervisor's format "2026-11-21T10:00:00Z warning shop: message".
 *
 * The message is the caller's: it must hold no secret (a webhook URL goes
 * through config_redact_origin first). Any thread, with its own handle.
 */
#ifndef ZETL_RUNLOG_H
#define ZETL_RUNLOG_H

#include "runtime/log/statelog.h"

/* sl NULL: stderr only. integration NULL: a process-wide event ("zetl" on stderr). */
void runlog_event(struct statelog *sl, int to_stderr, enum statelog_level lvl,
                  const char *integration, const char *kind, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

#endif

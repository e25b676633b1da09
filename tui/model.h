/*
 * model.h — what the console shows, read off the console thread.
 *
 * A data thread owns its own state-log handle. Every MODEL_REFRESH_MS (or at
 * once when asked) it reads integrations and tables, recent activity, lag and
 * events into a new immutable `struct snapshot`. When the content differs
 * from the last one (a fingerprint over everything shown), it publishes the
 * snapshot under the model mutex with the next generation number and writes
 * one byte to the console's wake pipe. An idle log therefore wakes the
 * console never.
 *
 * Commands go the other way: model_command() queues (pause, resume, resync,
 * delete) and the data thread writes them to the state log's command queue
 * with the console's actor, then follows each until the runtime records its
 * outcome, which appears in snapshot.status. The preflight checks (`c`) run
 * on a thread of their own, never on the console or data thread, and their
 * report appears in snapshot.report.
 *
 * Ownership: a snapshot is reference-counted; model_acquire() returns the
 * newest with one reference that the caller gives back with model_release().
 * Its contents never change; views read it and never free any of it.
 *
 * Threads: model_* are called from the console thread; the data and
 * preflight threads never touch curses.
 */
#ifndef ZETL_TUI_MODEL_H
#define ZETL_TUI_MODEL_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config/config.h"
#include "runtime/base/states.h"

#include "views/snapshot.h"

struct model;

/* Start the data thread. wake_fd: write end of the console's pipe.
 * The config must outlive the model. */
int  model_start(struct model **out, const struct config *cfg, const char *log_path,
                 int wake_fd, const char *actor, char *err, size_t errlen);
/* Stop and join the data thread (waits for a running preflight). */
void model_stop(struct model *m);

const struct snapshot *model_acquire(struct model *m);
void model_release(struct model *m, const struct snapshot *s);

/* Which integration the activity and lag views show. */
void model_set_focus(struct model *m, const char *integration);
/* Queue a command for the state log (pause, resume, resync, delete, retry);
 * the data thread writes its name (zcmd_name) to the queue. table: resync's. */
void model_command(struct model *m, const char *integration, const char *table,
                   enum zcmd command);
/* Run the preflight checks of one integration in the background: the same
 * routine as `zetl check` (preflight_integration), source and target. */
void model_preflight(struct model *m, const char *integration);
/* Drop the shown preflight report. */
void model_clear_report(struct model *m);
/* Read the log now rather than at the next tick. */
void model_poke(struct model *m);

#endif

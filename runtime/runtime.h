/*
 * runtime.h — the replication runtime: every integration of a config, each
 * with its own supervisor, reader and applier threads. No curses here.
 *
 *   runtime_start()   take each integration's lock (STATE_DIR/NAME.lock),
 *                     start its supervisor thread, return at once
 *   ...               the supervisors run: snapshot, stream, retry with
 *                     backoff, and act on commands from the state log's
 *                     command queue (pause, resume, resync, resnapshot, delete, stop) —
 *                     the same queue an attached console writes to
 *   runtime_stop()    ask every integration to finish its current batch,
 *                     checkpoint and stop; join the threads
 *
 * Beside them, a monitor thread (monitor.h) reads the SQLite log to send
 * webhook alerts and write the metrics file, when either is configured.
 *
 * Everything the runtime does is written to the SQLite log (states with
 * reason and actor, activity, lag samples, events); with log_stderr it also
 * prints one line per event on stderr (`zetl run`).
 *
 * Threads: runtime_* are called from one controlling thread (main or the
 * console's); the runtime's own threads never touch the terminal.
 */
#ifndef ZETL_RUNTIME_H
#define ZETL_RUNTIME_H

#include <stddef.h>

#include "config/config.h"

struct runtime;

struct runtime_opts {
    const char *only;       /* run just this integration, NULL = all */
    int   log_stderr;       /* one line per event on stderr */
    const char *actor;      /* who started it, for the log: "zetl run (user@host)" */
    const char *metrics_file; /* Prometheus text file rewritten every 10 s, NULL none (monitor.h) */
};

/* 0 ok; -1 with err (a lock held by another process, the state log). */
int  runtime_start(struct runtime **out, const struct config *cfg,
                   const struct runtime_opts *o, char *err, size_t errlen);
/* Finish the current batches, checkpoint, stop; joins every thread. */
void runtime_stop(struct runtime *rt);
/* Ask every integration to stop, without waiting (runtime_alive() tells when
 * they have; runtime_stop() then joins at once). Every wait on a target
 * gives up within about a second of it (runtime/target/pgwait.h). */
void runtime_request_stop(struct runtime *rt);
void runtime_free(struct runtime *rt);
/* Number of integrations still running (not stopped, not deleted). */
int  runtime_alive(struct runtime *rt);
/* 1 when every integration has ended because it is deleted (at start, or
 * by a delete while running): `zetl run` then has nothing to run. */
int  runtime_all_deleted(struct runtime *rt);

/* The operator's identity for the log: "user" or "user from 10.0.0.7" (SSH). */
void runtime_actor(const char *what, char *buf, size_t len);

#endif

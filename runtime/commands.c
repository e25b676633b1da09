/*
 * commands.c — operator commands from the state log's command queue: the
 * console (embedded or attached to a `zetl run`) enqueues, the supervisor
 * claims and acts within COMMAND_POLL_MS, and records the outcome.
 *
 *   pause    finish the current batch, checkpoint, stop reading; the
 *            PostgreSQL slot stays (it retains WAL while paused)
 *   resume   continue from the checkpoint
 *   resync   copy the table again while the other tables keep streaming
 *            (resync.c): its changes wait in a spool during the copy and are
 *            replayed after it; outside a streaming round the next round
 *            starts it
 *   delete   stop, drop the PostgreSQL slot and publication, keep the
 *            target data, mark the integration deleted
 *   stop     stop this integration (as SIGTERM does for all)
 *   retry    in the backoff after a failed round: start the next attempt
 *            now (the backoff keeps growing); otherwise answered "not
 *            waiting for a retry" and nothing happens
 *
 * A command created before this process took the integration's lock was
 * sent while nobody ran it: it expires (liveness.h), never applied.
 */
#include <stdio.h>
#include <string.h>

#include "runtime/clock.h"
#include "runtime/integ.h"
#include "runtime/liveness.h"
#include "runtime/source.h"

static int do_delete(struct integ *in, const char *actor, char *result, size_t len)
{
    integ_set_state(in, "deleting", NULL, actor);
    char err[1024];
    if (source_drop(in, err, sizeof err) != 0) {
        snprintf(result, len, "%s", err);
        integ_set_state(in, "failed", err, actor);
        return -1;
    }
    integ_set_state(in, "deleted", in->cfg->source.kind == SOURCE_POSTGRES
                    ? "slot and publication dropped; target data kept" : "target data kept", actor);
    snprintf(result, len, "ok");
    return ROUND_DELETED;
}

int integ_poll_commands(struct integ *in)
{
    struct statelog_command *cmds = NULL;
    size_t n = 0;
    if (!in->sl) return -1;
    atomic_store(&in->polled_ms, zclock_mono_ms());
    if (zclock_mono_ms() - in->beat_ms >= RUNNER_HEARTBEAT_MS)
        integ_record_runner(in, 0);
    if (statelog_claim_commands(in->sl, in->cfg->name, &cmds, &n) != 0) {
        /* Never silent: an operator's command that cannot be read is an incident. */
        if (in->log_stderr) fprintf(stderr, "%s: cannot read the command queue: %s\n", in->cfg->name,
                                    statelog_error(in->sl));
        statelog_free_commands(cmds, n);
        return -1;
    }
    if (n == 0) {
        statelog_free_commands(cmds, n);
        return -1;
    }
    int ret = -1;
    for (size_t i = 0; i < n; i++) {
        const struct statelog_command *c = &cmds[i];
        const char *actor = c->actor ? c->actor : "operator";
        char result[1024] = "ok";
        if (c->created_at < in->locked_at) {
            /* Sent before this process took the lock, past the expiry at
             * start (a write that failed there, or a sender's clock step). */
            snprintf(result, sizeof result, LIVENESS_EXPIRED_FMT, in->cfg->name);
        } else if (strcmp(c->command, "pause") == 0) {
            if (strcmp(in->state, "paused") != 0 && strcmp(in->state, "deleted") != 0) {
                integ_set_state(in, "paused", NULL, actor);
                if (ret < 0) ret = ROUND_PAUSED;
            } else {
                snprintf(result, sizeof result, "already %s", in->state);
            }
        } else if (strcmp(c->command, "resume") == 0) {
            if (strcmp(in->state, "paused") == 0 || strcmp(in->state, "failed") == 0)
                integ_set_state(in, "active", "resumed", actor);
            else
                snprintf(result, sizeof result, "not paused (%s)", in->state);
        } else if (strcmp(c->command, "resync") == 0) {
            struct itable *t = NULL;
            for (int k = 0; c->table && k < in->ntables; k++)
                if (strcmp(in->tables[k].source, c->table) == 0) t = &in->tables[k];
            if (!t) {
                snprintf(result, sizeof result, "no table %s in integration %s", c->table ? c->table : "(none)",
                         in->cfg->name);
            } else {
                integ_set_table_state(in, t, "resyncing", NULL, actor);
                t->resync_requested = 1;
                if (ret < 0 && !in->streaming) ret = ROUND_RESYNC;
            }
        } else if (strcmp(c->command, "delete") == 0) {
            ret = ROUND_DELETED;
            statelog_complete_command(in->sl, c->id, "deleting");
            in->pending_delete_actor[0] = '\0';
            snprintf(in->pending_delete_actor, sizeof in->pending_delete_actor, "%s", actor);
            continue;
        } else if (strcmp(c->command, "retry") == 0) {
            if (in->retry_waiting) {
                integ_log(in, STATELOG_INFO, NULL, "retry", "attempt %d starts now: retry asked by %s",
                          in->retry_attempt, actor);
                if (ret < 0) ret = ROUND_RETRY;
            } else {
                snprintf(result, sizeof result, "not waiting for a retry (%s)", in->state);
            }
        } else if (strcmp(c->command, "stop") == 0) {
            atomic_store(&in->stop, 1);
            ret = ROUND_STOPPED;
        } else {
            snprintf(result, sizeof result, "unknown command \"%s\"", c->command);
        }
        statelog_complete_command(in->sl, c->id, result);
    }
    statelog_free_commands(cmds, n);
    return ret;
}

/* Called by the supervisor once the round has stopped reading. */
int integ_finish_delete(struct integ *in)
{
    integ_rearm_cut(in);        /* the cut that ended the round must not end the drop */
    char result[1024];
    return do_delete(in, in->pending_delete_actor[0] ? in->pending_delete_actor : in->actor,
                     result, sizeof result);
}

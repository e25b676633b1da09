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
 *   resnapshot  copy every table again from a fresh position, then stream
 *            from there: the checkpoint is discarded (copy.c), the round
 *            ends at once. The way out of a lost position (the binlog
 *            purged past the checkpoint, a slot dropped), where a table
 *            resync cannot help: while the position is lost, a resync of
 *            any table is carried out as this, and its result says so
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

#include "runtime/base/clock.h"
#include "runtime/integ/integ.h"
#include "runtime/log/liveness.h"
#include "runtime/source/source.h"

/* A delete always ends deleted, and never streams again: what the source
 * would not let go of (source_drop) is named in the reason with the
 * statement that finishes the job, and logged as a warning. */
static enum integ_round do_delete(struct integ *in, const char *actor)
{
    integ_set_state(in, ISTATE_DELETING, NULL, actor);
    char note[1536], reason[1700];
    int left = source_drop(in, note, sizeof note);
    char herr[700];
    if (integ_ha_mark_deleted(in, herr, sizeof herr) != 0)
        integ_log(in, STATELOG_WARNING, NULL, "delete", "%s: a standby may take %s up again; delete it "
                  "there too, or remove it from the config", herr, in->cfg->name);
    if (!note[0]) snprintf(reason, sizeof reason, "target data kept");     /* nothing made there */
    else snprintf(reason, sizeof reason, "%s; target data kept", note);
    if (left)
        integ_log(in, STATELOG_WARNING, NULL, "delete", "deleted, but not everything on the source: %s", note);
    integ_set_state(in, ISTATE_DELETED, reason, actor);
    return ROUND_DELETED;
}

/* The resnapshot command, or a resync while the position is lost (why
 * says which); ROUND_RESNAPSHOT, or ROUND_NONE when there is nothing to do. */
static enum integ_round ask_resnapshot(struct integ *in, const char *actor, const char *why, char *result, size_t len)
{
    if (in->state == ISTATE_DELETED || in->state == ISTATE_DELETING) {
        snprintf(result, len, "integration %s is %s: nothing to re-snapshot", in->cfg->name,
                 istate_name(in->state));
        return ROUND_NONE;
    }
    if (in->resnapshot || (in->state == ISTATE_SNAPSHOTTING && !in->position_lost)) {
        snprintf(result, len, "%sa copy of every table of %s is already under way", why, in->cfg->name);
        return ROUND_NONE;
    }
    in->resnapshot = 1;
    snprintf(in->resnapshot_actor, sizeof in->resnapshot_actor, "%s", actor);
    integ_set_state(in, ISTATE_SNAPSHOTTING, "re-snapshot: every table is copied again from a fresh position", actor);
    snprintf(result, len, "%sre-snapshotting all %d tables of %s from a fresh position, then streaming from there",
             why, in->ntables, in->cfg->name);
    return ROUND_RESNAPSHOT;
}

/* ---- one part per command -------------------------------------------------
 * Each carries out its command for actor, writes the outcome into result
 * when it is not "ok", and returns the round end it asks for, or
 * ROUND_NONE to go on. */

static enum integ_round cmd_pause(struct integ *in, const char *actor, char *result, size_t len)
{
    if (in->state == ISTATE_PAUSED || in->state == ISTATE_DELETED) {
        snprintf(result, len, "already %s", istate_name(in->state));
        return ROUND_NONE;
    }
    integ_set_state(in, ISTATE_PAUSED, NULL, actor);
    return ROUND_PAUSED;
}

static enum integ_round cmd_resume(struct integ *in, const char *actor, char *result, size_t len)
{
    if (in->state == ISTATE_PAUSED || in->state == ISTATE_FAILED)
        integ_set_state(in, ISTATE_ACTIVE, "resumed", actor);
    else
        snprintf(result, len, "not paused (%s)", istate_name(in->state));
    return ROUND_NONE;
}

/* One table copied again while the others stream; while the position is
 * lost, the whole integration instead. */
static enum integ_round cmd_resync(struct integ *in, const char *table, const char *actor,
                                   char *result, size_t len)
{
    if (in->position_lost)
        return ask_resnapshot(in, actor, "the source log no longer has the checkpoint position, so no "
                              "table can catch up alone: ", result, len);
    struct itable *t = NULL;
    for (int k = 0; table && k < in->ntables; k++)
        if (strcmp(in->tables[k].source, table) == 0) t = &in->tables[k];
    if (!t) {
        snprintf(result, len, "no table %s in integration %s", table ? table : "(none)", in->cfg->name);
        return ROUND_NONE;
    }
    integ_set_table_state(in, t, TSTATE_RESYNCING, NULL, actor);
    t->resync_requested = 1;
    return in->streaming ? ROUND_NONE : ROUND_RESYNC;
}

/* Carried out by the supervisor once the round has stopped reading
 * (integ_finish_delete); answered "deleting" now. */
static enum integ_round cmd_delete(struct integ *in, const char *actor, char *result, size_t len)
{
    snprintf(result, len, "deleting");
    snprintf(in->pending_delete_actor, sizeof in->pending_delete_actor, "%s", actor);
    return ROUND_DELETED;
}

static enum integ_round cmd_retry(struct integ *in, const char *actor, char *result, size_t len)
{
    if (!in->retry_waiting) {
        snprintf(result, len, "not waiting for a retry (%s)", istate_name(in->state));
        return ROUND_NONE;
    }
    integ_log(in, STATELOG_INFO, NULL, "retry", "attempt %d starts now: retry asked by %s",
              in->retry_attempt, actor);
    return ROUND_RETRY;
}

static enum integ_round cmd_stop(struct integ *in)
{
    atomic_store(&in->stop, 1);
    return ROUND_STOPPED;
}

/* One claimed command: its outcome into result ("ok" as it comes in). */
static enum integ_round run_command(struct integ *in, const struct statelog_command *c,
                                    char *result, size_t len)
{
    const char *actor = c->actor ? c->actor : "operator";
    if (c->created_at < in->locked_at) {
        /* Sent before this process took the lock, past the expiry at
         * start (a write that failed there, or a sender's clock step). */
        snprintf(result, len, LIVENESS_EXPIRED_FMT, in->cfg->name);
        return ROUND_NONE;
    }
    enum zcmd cmd = zcmd_parse(c->command);
    /* A standby runs nothing: what acts on the target goes to the holder. */
    if ((cmd == ZCMD_RESYNC || cmd == ZCMD_RESNAPSHOT || cmd == ZCMD_DELETE) &&
        integ_ha_refuse(in, c->command, result, len))
        return ROUND_NONE;
    switch (cmd) {
    case ZCMD_PAUSE:      return cmd_pause(in, actor, result, len);
    case ZCMD_RESUME:     return cmd_resume(in, actor, result, len);
    case ZCMD_RESYNC:     return cmd_resync(in, c->table, actor, result, len);
    case ZCMD_RESNAPSHOT: return ask_resnapshot(in, actor, "", result, len);
    case ZCMD_DELETE:     return cmd_delete(in, actor, result, len);
    case ZCMD_RETRY:      return cmd_retry(in, actor, result, len);
    case ZCMD_STOP:       return cmd_stop(in);
    default:
        snprintf(result, len, "unknown command \"%s\"", c->command ? c->command : "(null)");
        return ROUND_NONE;
    }
}

/* The round end asked so far (ret) with one more command's (r): the first
 * asked stands, except that a re-snapshot replaces a resync (it copies that
 * table too), and delete and stop replace anything. */
static enum integ_round merge_round_end(enum integ_round ret, enum integ_round r)
{
    if (r == ROUND_NONE) return ret;
    if (r == ROUND_DELETED || r == ROUND_STOPPED) return r;
    if (ret == ROUND_NONE || (ret == ROUND_RESYNC && r == ROUND_RESNAPSHOT)) return r;
    return ret;
}

enum integ_round integ_poll_commands(struct integ *in)
{
    struct statelog_command *cmds = NULL;
    size_t n = 0;
    if (!in->sl) return ROUND_NONE;
    atomic_store(&in->polled_ms, zclock_mono_ms());
    if (zclock_mono_ms() - in->beat_ms >= RUNNER_HEARTBEAT_MS)
        integ_record_runner(in, 0);
    if (statelog_claim_commands(in->sl, in->cfg->name, &cmds, &n) != 0) {
        /* Never silent: an operator's command that cannot be read is an incident. */
        if (in->log_stderr) fprintf(stderr, "%s: cannot read the command queue: %s\n", in->cfg->name,
                                    statelog_error(in->sl));
        statelog_free_commands(cmds, n);
        return integ_ha_poll(in);
    }
    enum integ_round ret = ROUND_NONE;
    for (size_t i = 0; i < n; i++) {
        char result[1024] = "ok";
        ret = merge_round_end(ret, run_command(in, &cmds[i], result, sizeof result));
        statelog_complete_command(in->sl, cmds[i].id, result);
    }
    statelog_free_commands(cmds, n);
    /* ha: a lost lease ends the round, after the commands were taken (a
     * resume sent to a paused holder that lost it is not left waiting). */
    if (integ_ha_poll(in) == ROUND_LEASE_LOST && (ret == ROUND_NONE || ret == ROUND_RESYNC ||
                                                  ret == ROUND_RETRY))
        ret = ROUND_LEASE_LOST;
    return ret;
}

/* Called by the supervisor once the round has stopped reading. */
enum integ_round integ_finish_delete(struct integ *in)
{
    integ_rearm_cut(in);        /* the cut that ended the round must not end the drop */
    return do_delete(in, in->pending_delete_actor[0] ? in->pending_delete_actor : in->actor);
}

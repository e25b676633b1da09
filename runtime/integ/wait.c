/*
 * wait.c — why an integration is stuck, said in the state log (integ.h):
 * what the applier waits on (a target lock and its holder, a long
 * statement, a full change queue, a source transaction held until its
 * commit) and the retry backoff of a failed round.
 * An operator in an incident reads it in the console's describe pane and
 * in `zetl status --json`. Supervisor thread only (it owns in->sl).
 */
#include <stdio.h>
#include <string.h>

#include "runtime/base/clock.h"
#include "runtime/integ/integ.h"
#include "runtime/pipe/queue.h"
#include "runtime/target/pgwait.h"

#define QUEUE_FULL_SHOWN_MS 2000    /* the reader waiting this long for room is shown */
#define HELD_SHOWN_MS 2000          /* a source transaction held this long is shown */

/* ", and the change queue is full (the reader waits)" when it is. */
static const char *queue_note(struct integ *in)
{
    return in->q && cqueue_full_since_ms(in->q) ? "; meanwhile the change queue is full and the source reader waits" : "";
}

void integ_target_wait(void *ctx, const struct pgw_wait *wt)
{
    struct integ *in = ctx;
    if (!in->sl) return;
    if (!wt) {
        if (in->wait_shown == WAIT_TARGET) {
            statelog_set_wait(in->sl, in->cfg->name, NULL);
            in->wait_shown = WAIT_NONE;
        }
        return;
    }
    char what[160], detail[1400], server[160] = "";
    snprintf(what, sizeof what, "%s", wt->stmt[0] ? wt->stmt : "a statement");
    if (wt->our_state[0])
        snprintf(server, sizeof server, " (the server: %s%s%s)", wt->our_state,
                 wt->our_event[0] ? ", waiting on " : "", wt->our_event);
    struct statelog_wait w = {
        .kind = wt->pid ? "lock" : "statement",
        .since = zclock_wall_ms() - wt->waited_ms,
        .what = what, .detail = detail, .holders = wt->holders,
    };
    if (wt->pid) {
        char age[48] = "";
        if (wt->holder_age_ms >= 0)
            snprintf(age, sizeof age, ", its transaction open %llds", wt->holder_age_ms / 1000);
        char more[48] = "";
        if (wt->holders > 1) snprintf(more, sizeof more, " (and %d more)", wt->holders - 1);
        snprintf(detail, sizeof detail,
                 "waiting %ds for a lock held by target session pid %d%s (user %s, %s%s): %s; our statement: %s; "
                 "it goes on when that session commits or rolls back (or: SELECT pg_terminate_backend(%d))%s",
                 wt->waited_ms / 1000, wt->pid, more, wt->user[0] ? wt->user : "?",
                 wt->state[0] ? wt->state : "state unknown", age, wt->query[0] ? wt->query : "(no query shown)",
                 what, wt->pid, queue_note(in));
        w.holder_pid = wt->pid;
        w.holder_user = (char *)wt->user;
        w.holder_state = (char *)wt->state;
        w.holder_since = wt->holder_age_ms >= 0 ? zclock_wall_ms() - wt->holder_age_ms : 0;
        w.holder_query = (char *)wt->query;
    } else {
        snprintf(detail, sizeof detail, "our statement has waited %ds for the target%s: %s%s%s%s",
                 wt->waited_ms / 1000, server, what, wt->note ? "; " : "", wt->note ? wt->note : "",
                 queue_note(in));
    }
    w.what = what;
    if (statelog_set_wait(in->sl, in->cfg->name, &w) == 0) in->wait_shown = WAIT_TARGET;
    /* the source moves on while we wait: where it is now (apply.c) */
    if (in->streaming) integ_write_source(in);
}

void integ_wait_clear(struct integ *in)
{
    if (in->wait_shown && in->sl && statelog_set_wait(in->sl, in->cfg->name, NULL) == 0)
        in->wait_shown = WAIT_NONE;
}

void integ_note_queue(struct integ *in)
{
    if (!in->sl || !in->q || in->wait_shown == WAIT_TARGET) return;
    int64_t since = cqueue_full_since_ms(in->q), now = zclock_mono_ms();
    if (since && now - since >= QUEUE_FULL_SHOWN_MS &&
        (in->wait_shown != WAIT_QUEUE || now - in->wait_written_ms >= QUEUE_FULL_SHOWN_MS)) {
        in->wait_written_ms = now;          /* its figures again every 2 s, not every poll */
        struct cqueue_stats st;
        cqueue_get_stats(in->q, &st);
        char detail[400];
        snprintf(detail, sizeof detail,
                 "the change queue is full (%llu of %llu MB; %llu transactions wait): the source reader has waited %llds "
                 "for the applier, which is behind (see the lag and the target)",
                 (unsigned long long)(st.mem_bytes >> 20), (unsigned long long)(st.budget_bytes >> 20),
                 (unsigned long long)st.txns_queued, (long long)((now - since) / 1000));
        struct statelog_wait w = {
            .kind = "queue", .since = zclock_wall_ms() - (now - since), .what = "change queue",
            .detail = detail, .holders = 0,
        };
        if (statelog_set_wait(in->sl, in->cfg->name, &w) == 0) in->wait_shown = WAIT_QUEUE;
    } else if (!since && in->wait_shown == WAIT_QUEUE) {
        if (statelog_set_wait(in->sl, in->cfg->name, NULL) == 0) in->wait_shown = WAIT_NONE;
    }
}

void integ_note_held(struct integ *in)
{
    if (!in->sl || in->wait_shown == WAIT_TARGET || in->wait_shown == WAIT_QUEUE) return;
    int open = atomic_load(&in->held.open);
    int64_t since = atomic_load(&in->held.since_ms), now = zclock_mono_ms();
    if (open > 0 && since && zclock_wall_ms() - since >= HELD_SHOWN_MS) {
        if (in->wait_shown == WAIT_HELD && now - in->wait_written_ms < HELD_SHOWN_MS) return;
        in->wait_written_ms = now;          /* its figures again every 2 s, not every poll */
        char detail[400];
        snprintf(detail, sizeof detail,
                 "%d source transaction%s streaming in while %s run%s (not committed yet): %.1f MB held in the state "
                 "directory; each is applied at its COMMIT in one target transaction, and a ROLLBACK drops it",
                 open, open == 1 ? "" : "s", open == 1 ? "it" : "they", open == 1 ? "s" : "",
                 (double)atomic_load(&in->held.bytes) / (1024.0 * 1024.0));
        struct statelog_wait w = {
            .kind = "held", .since = since, .what = "a source transaction not yet committed",
            .detail = detail, .holders = 0,
        };
        if (statelog_set_wait(in->sl, in->cfg->name, &w) == 0) in->wait_shown = WAIT_HELD;
    } else if (open == 0 && in->wait_shown == WAIT_HELD) {
        if (statelog_set_wait(in->sl, in->cfg->name, NULL) == 0) in->wait_shown = WAIT_NONE;
    }
}

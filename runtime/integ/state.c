/*
 * state.c — the integration's record: its log lines, its state and its
 * tables' states (with reason and actor), active against needs_attention,
 * its runner row, its retry, the source position against the applied one,
 * and finding a table by name (integ.h).
 *
 * Every part of an integration writes its state through these — the copy,
 * the apply loop, commands, the supervisor, and the source (runtime/source)
 * — so they sit at the bottom of runtime/integ, below runtime/source: they
 * call the state log and nothing else of the runtime. The writes go
 * through in->sl, the supervisor thread's handle.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/clock.h"
#include "runtime/integ/integ.h"

void integ_log(struct integ *in, enum statelog_level lvl, const char *table,
               const char *kind, const char *fmt, ...)
{
    char msg[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (in->log_stderr) {
        static const char *const lv[] = {"info", "warning", "error"};
        char ts[32];
        zclock_iso8601(ts, sizeof ts, zclock_wall_ms());
        fprintf(stderr, "%s %s %s%s%s: %s\n", ts, lv[lvl], in->cfg->name, table ? " " : "",
                table ? table : "", msg);
    }
    if (in->sl)
        statelog_record_event(in->sl, lvl, in->cfg->name, table, kind, NULL, "%s", msg);
}

void integ_set_state(struct integ *in, enum istate state, const char *reason, const char *actor)
{
    if (in->state == state && !reason) return;
    /* Out of failed (the attempt worked, or the operator paused or deleted
     * it): no retry to show. In the backoff the supervisor says after it. */
    if (in->retry_attempt && !in->retry_waiting && state != ISTATE_FAILED)
        integ_retry_set(in, 0, 0);
    if (in->log_stderr) {
        char ts[32];
        zclock_iso8601(ts, sizeof ts, zclock_wall_ms());
        fprintf(stderr, "%s %s %s: %s -> %s%s%s\n", ts, state == ISTATE_FAILED ? "error" : "info",
                in->cfg->name, in->state ? istate_name(in->state) : "(new)", istate_name(state),
                reason ? ": " : "", reason ? reason : "");
    }
    if (in->sl &&
        statelog_record_transition(in->sl, in->cfg->name, NULL, in->state ? istate_name(in->state) : NULL,
                                   istate_name(state), reason, actor ? actor : INTEG_ACTOR_RUNTIME) != 0 &&
        in->log_stderr)
        fprintf(stderr, "%s: state log: %s\n", in->cfg->name, statelog_error(in->sl));
    in->state = state;
}

void integ_set_table_state(struct integ *in, struct itable *t, enum tstate state,
                           const char *reason, const char *actor)
{
    if (t->state == state && !reason) return;
    if (in->sl)
        statelog_record_transition(in->sl, in->cfg->name, t->source, t->state ? tstate_name(t->state) : NULL,
                                   tstate_name(state), reason, actor ? actor : INTEG_ACTOR_RUNTIME);
    if (in->log_stderr && tstate_needs_attention(state))
        fprintf(stderr, "%s %s: table %s -> %s%s%s\n", in->cfg->name, "warning", t->source,
                tstate_name(state), reason ? ": " : "", reason ? reason : "");
    t->state = state;
}

int integ_copy_workers(const struct integ *in)
{
    int n = in->cfg->apply.copy_workers;
    return n < 1 ? 1 : n > INTEG_RESYNCS_MAX ? INTEG_RESYNCS_MAX : n;
}

void integ_review_state(struct integ *in, int64_t lag_ms)
{
    switch (in->state) {
    case ISTATE_ACTIVE: case ISTATE_NEEDS_ATTENTION: case ISTATE_SNAPSHOTTING:
    case ISTATE_CREATING: case ISTATE_FAILED: case ISTATE_STANDBY:
        break;
    default:
        return;                     /* paused, deleting, deleted: the operator's */
    }
    char why[sizeof in->attention];
    why[0] = '\0';
    const struct itable *first = NULL;
    int n = 0;
    for (int i = 0; i < in->ntables; i++) {
        const struct itable *t = &in->tables[i];
        if (t->resync_requested) continue;
        if (tstate_needs_attention(t->state)) {
            if (!first) first = t;
            n++;
        }
    }
    int copying = 0;                    /* an initial copy in chunks under way (copy.c) */
    for (int i = 0; i < in->ntables && !copying; i++) copying = in->tables[i].initial;
    int64_t limit_ms = (int64_t)in->cfg->alerts.lag_seconds * 1000;
    if (!first && in->nrefused)         /* tables.c: a target name another table has */
        snprintf(why, sizeof why, "%.200s: refused (see zetl check)", in->refused[0].what);
    else if (first)
        snprintf(why, sizeof why, "table %.120s is %s%s; resync it (R in the console)", first->source,
                 tstate_name(first->state), n > 1 ? " (and more tables)" : "");
    else if (limit_ms > 0 && lag_ms > limit_ms)
        snprintf(why, sizeof why, "lag %llds is over the alert threshold of %ds (alerts.lag_seconds)",
                 (long long)(lag_ms / 1000), in->cfg->alerts.lag_seconds);
    if (why[0]) {
        if (in->state != ISTATE_NEEDS_ATTENTION || strcmp(in->attention, why) != 0)
            integ_set_state(in, ISTATE_NEEDS_ATTENTION, why, NULL);
    } else if (copying) {
        if (in->state != ISTATE_SNAPSHOTTING) integ_set_state(in, ISTATE_SNAPSHOTTING, NULL, NULL);
    } else if (in->state != ISTATE_ACTIVE) {
        integ_set_state(in, ISTATE_ACTIVE, NULL, NULL);
    }
    snprintf(in->attention, sizeof in->attention, "%s", why);
}

void integ_record_runner(struct integ *in, int stopping)
{
    if (!in->sl) return;
    struct statelog_runner r = {.pid = (int64_t)getpid(), .actor = in->actor,
                                .started_at = in->locked_at,
                                .stopped_at = stopping ? zclock_wall_ms() : 0};
    in->beat_ms = zclock_mono_ms();
    if (statelog_record_runner(in->sl, in->cfg->name, &r) != 0 && in->log_stderr)
        fprintf(stderr, "%s: state log: cannot record who runs it: %s\n", in->cfg->name,
                statelog_error(in->sl));
}

void integ_retry_set(struct integ *in, int attempt, int64_t at_ms)
{
    in->retry_attempt = attempt;
    if (in->sl) statelog_set_retry(in->sl, in->cfg->name, attempt, at_ms);
}

struct itable *integ_find_table(struct integ *in, const char *schema, const char *name)
{
    for (int i = 0; i < in->ntables; i++) {
        const struct ztable *d = in->tables[i].def;
        if (strcmp(d->name, name) == 0 && strcmp(d->schema, schema) == 0) return &in->tables[i];
    }
    return NULL;
}

/* The sequence number of a binlog file name (its digits after the last '.'), -1 none. */
static int64_t binlog_seq(const char *file)
{
    const char *dot = strrchr(file, '.');
    if (!dot || !dot[1]) return -1;
    char *end;
    long long v = strtoll(dot + 1, &end, 10);
    return *end || v < 0 ? -1 : v;
}

/* The source's newest position seen by the reader against the applied one
 * (statelog.h "Source position"): apply.c with its lag write, wait.c while a
 * target call waits. */
void integ_write_source(struct integ *in)
{
    struct zpos sp = {0};
    int64_t at;
    pthread_mutex_lock(&in->src_mu);
    sp.kind = in->src_pos.kind;
    sp.offset = in->src_pos.offset;
    memcpy(sp.file, in->src_pos.file, sizeof sp.file);
    at = in->src_pos_ms;
    pthread_mutex_unlock(&in->src_mu);

    const struct zpos *ap = &in->applied;
    char pos[ZPOS_FILE_MAX + 32];
    struct statelog_source s = {.at = at, .bytes_between = -1, .files_between = -1,
                                .expire_s = atomic_load(&in->binlog_expire_s)};
    if (sp.kind != ZPOS_NONE && zpos_format(&sp, pos, sizeof pos) == 0) s.position = pos;
    if (sp.kind == ZPOS_LSN && ap->kind == ZPOS_LSN) {
        s.bytes_between = sp.offset > ap->offset ? (int64_t)(sp.offset - ap->offset) : 0;
    } else if (sp.kind == ZPOS_BINLOG && ap->kind == ZPOS_BINLOG) {
        int64_t a = binlog_seq(ap->file), b = binlog_seq(sp.file);
        if (!strcmp(sp.file, ap->file)) {
            s.files_between = 0;
            s.bytes_between = sp.offset > ap->offset ? (int64_t)(sp.offset - ap->offset) : 0;
        } else if (a >= 0 && b >= a) {
            s.files_between = b - a;
        }
    }
    if (ap->kind == ZPOS_BINLOG && !strcmp(ap->file, in->ckpt_commit_file))
        s.checkpoint_commit_at = in->ckpt_commit_ms;
    statelog_set_source(in->sl, in->cfg->name, &s);
}

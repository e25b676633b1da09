/* drift.c — the periodic row-count check of synced tables (see drift.h). */
#include "runtime/integ/drift.h"
#include "runtime/base/clock.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

#include "runtime/integ/integ.h"
#include "runtime/source/source.h"
#include "runtime/target/target.h"

#define PROOF_MAX_MS 3000       /* the source proved current this recently */

static int64_t interval_ms(const struct integ *in)
{
    return (int64_t)in->cfg->apply.drift_check_seconds * 1000;
}

void drift_init(struct drift *d, const struct integ *in)
{
    memset(d, 0, sizeof *d);
    d->pending = -1;
    d->next_ms = zclock_mono_ms() + interval_ms(in);
}

/* Target, then source; 0, or -1 after a warning event. */
static int count_both(struct integ *in, struct itable *t, int64_t *tgt, int64_t *src)
{
    char e[1024];
    int rc = target_count_rows(in->tgt, t->tschema, t->tname,
                               t->tdef->soft_delete ? 1 : t->tdef->history ? 2 : 0, DRIFT_COUNT_TIMEOUT_MS, tgt);
    if (rc != 0) {
        if (rc < 0)
            integ_log(in, STATELOG_WARNING, t->source, "drift", "drift check skipped: %s", target_error(in->tgt));
        return -1;
    }
    if (source_count_rows(in, t->def->schema, t->def->name, DRIFT_COUNT_TIMEOUT_MS, src, e, sizeof e) != 0) {
        integ_log(in, STATELOG_WARNING, t->source, "drift", "drift check skipped: %s", e);
        return -1;
    }
    return 0;
}

/* A filtered table's source count is not the target's: zetl verify checks it. */
static int synced(const struct itable *t)
{
    return t->state == TSTATE_SYNCED && !t->resync_requested && !t->shape.filter;
}

void drift_step(struct drift *d, struct integ *in)
{
    int64_t every = interval_ms(in), now = zclock_mono_ms();
    if (every <= 0 || now < d->next_ms || integ_resync_running(in) || !target_driver(in->cfg->target.kind)->reads_back)
        return;
    if (zclock_wall_ms() - in->proof_ms > PROOF_MAX_MS) return;     /* not proven caught up */
    int64_t tgt, src;
    if (d->pending >= 0) {                  /* the confirming count */
        int i = d->pending;
        d->pending = -1;
        d->cursor = i + 1;
        d->next_ms = now + DRIFT_GAP_MS;
        if (i >= in->ntables || !synced(&in->tables[i])) return;
        struct itable *t = &in->tables[i];
        if (count_both(in, t, &tgt, &src) != 0) {
            d->skipped++;
            return;
        }
        if (tgt != d->tgt || src != d->src || tgt == src) {            /* moving, or whole */
            d->moving++;
            return;
        }
        d->flagged++;
        char why[256];
        snprintf(why, sizeof why,
                 "target has %lld rows, source %lld (counted twice, caught up); someone changed the target table (TRUNCATE or DELETE outside zetl?): resync it",
                 (long long)tgt, (long long)src);
        integ_log(in, STATELOG_WARNING, t->source, "drift", "%s", why);
        integ_set_table_state(in, t, TSTATE_RESYNC_REQUIRED, why, NULL);
        integ_review_state(in, -1);         /* needs_attention now, not at the next lag sample */
        return;
    }
    while (d->cursor < in->ntables && !synced(&in->tables[d->cursor])) d->cursor++;
    if (d->cursor >= in->ntables) {         /* the sweep is done: the next one later */
        if (d->whole + d->moving + d->flagged + d->skipped)
            integ_log(in, STATELOG_INFO, NULL, "drift",
                      "drift check: %d tables whole, %d changing while counted (counted again next time), %d flagged, %d skipped",
                      d->whole, d->moving, d->flagged, d->skipped);
        d->whole = d->moving = d->flagged = d->skipped = 0;
        d->cursor = 0;
        d->next_ms = now + every;
        return;
    }
    struct itable *t = &in->tables[d->cursor];
    d->next_ms = now + DRIFT_GAP_MS;
    int rc = count_both(in, t, &tgt, &src);
    if (rc != 0 || tgt == src) {
        if (rc != 0) d->skipped++;
        else d->whole++;
        d->cursor++;
        return;
    }
    d->pending = d->cursor;                 /* a suspicion: count again, later */
    d->tgt = tgt;
    d->src = src;
    d->next_ms = zclock_mono_ms() + DRIFT_CONFIRM_MS;
}

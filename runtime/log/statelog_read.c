/*
 * statelog_read.c — the read half of the SQLite log, for the console and
 * `zetl status`: integrations with their tables, activity, lag, events.
 * Contract: statelog.h. Results are caller-owned arrays.
 */
#include "runtime/base/buf.h"
#include "runtime/log/statelog_int.h"

#include <stdlib.h>
#include <string.h>

/* Grow *v (element size `size`) so that index `len` fits. */
static int grow(void **v, size_t *cap, size_t len, size_t size)
{
    void *nv = zarray_grow(*v, cap, len + 1, size);

    if (!nv)
        return -1;
    *v = nv;
    return 0;
}

/* ---- integrations and tables -------------------------------------------------- */

static void table_clear(struct statelog_table *t)
{
    free(t->integration);
    free(t->name);
    free(t->target);
    free(t->state);
    free(t->reason);
    free(t->shape);
}

void statelog_free_integrations(struct statelog_integration *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        for (size_t j = 0; j < v[i].ntables; j++)
            table_clear(&v[i].tables[j]);
        free(v[i].tables);
        free(v[i].name);
        free(v[i].state);
        free(v[i].reason);
        free(v[i].source);
        free(v[i].target);
        free(v[i].position);
        free(v[i].src.position);
        free(v[i].ha_role);
        free(v[i].ha_member);
        free(v[i].ha_holder);
        free(v[i].ha_standbys);
        free(v[i].wait.kind);
        free(v[i].wait.what);
        free(v[i].wait.detail);
        free(v[i].wait.holder_user);
        free(v[i].wait.holder_state);
        free(v[i].wait.holder_query);
    }
    free(v);
}

static struct statelog_integration *find_integration(struct statelog_integration *v,
                                                     size_t n, const char *name)
{
    /* v is sorted by name (ORDER BY name): binary search. */
    size_t lo = 0, hi = n;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(v[mid].name, name);
        if (c == 0)
            return &v[mid];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

static int read_integrations(struct statelog *sl, const char *only,
                             struct statelog_integration **out, size_t *n)
{
    const char *op = "list integrations";
    struct statelog_integration *v = NULL;
    size_t len = 0, cap = 0;
    sqlite3_stmt *st = sl_stmt(sl, SQ_READ_INTEGS, op);
    int rc, oom = 0;

    if (!st)
        return -1;
    sl_bind_text(st, 1, only);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&v, &cap, len, sizeof *v) < 0) {
            oom = 1;
            break;
        }
        struct statelog_integration *g = &v[len++];
        g->name         = sl_col_str(st, 0, &oom);
        g->state        = sl_col_str(st, 1, &oom);
        g->reason       = sl_col_str(st, 2, &oom);
        g->source       = sl_col_str(st, 3, &oom);
        g->target       = sl_col_str(st, 4, &oom);
        g->position     = sl_col_str(st, 5, &oom);
        g->lag_ms       = sl_col_i64(st, 6, -1);
        g->bytes_behind = sl_col_i64(st, 7, -1);
        g->updated_at   = sl_col_i64(st, 8, 0);
        g->wait.kind    = sl_col_str(st, 9, &oom);
        g->wait.since   = sl_col_i64(st, 10, 0);
        g->wait.what    = sl_col_str(st, 11, &oom);
        g->wait.detail  = sl_col_str(st, 12, &oom);
        g->wait.holders = sl_col_i64(st, 13, g->wait.kind ? -1 : 0);
        g->wait.holder_pid   = sl_col_i64(st, 14, 0);
        g->wait.holder_user  = sl_col_str(st, 15, &oom);
        g->wait.holder_state = sl_col_str(st, 16, &oom);
        g->wait.holder_since = sl_col_i64(st, 17, 0);
        g->wait.holder_query = sl_col_str(st, 18, &oom);
        g->retry_attempt = sl_col_i64(st, 19, 0);
        g->retry_at      = sl_col_i64(st, 20, 0);
        g->basis.at     = sl_col_i64(st, 21, 0);
        g->basis.pending = (int)sl_col_i64(st, 22, 0);
        g->basis.res_ms = sl_col_i64(st, 23, 1);
        g->basis.wait_since = sl_col_i64(st, 24, 0);
        g->basis.stall_ms = sl_col_i64(st, 25, 0);
        g->src.position = sl_col_str(st, 26, &oom);
        g->src.at       = sl_col_i64(st, 27, 0);
        g->src.bytes_between = sl_col_i64(st, 28, -1);
        g->src.files_between = sl_col_i64(st, 29, -1);
        g->src.expire_s = sl_col_i64(st, 30, -1);
        g->src.checkpoint_commit_at = sl_col_i64(st, 31, 0);
        g->ha_role = sl_col_str(st, 32, &oom);
        g->ha_member = sl_col_str(st, 33, &oom);
        g->ha_holder = sl_col_str(st, 34, &oom);
        g->ha_holder_pid = sl_col_i64(st, 35, 0);
        g->ha_epoch = sl_col_i64(st, 36, 0);
        g->ha_standbys = sl_col_str(st, 37, &oom);
        if (oom || !g->name)
            break;
    }
    sqlite3_reset(st);
    if (oom || (len && !v[len - 1].name)) {
        statelog_free_integrations(v, len);
        return sl_failf(sl, "%s: out of memory", op);
    }
    if (rc != SQLITE_DONE) {
        statelog_free_integrations(v, len);
        return sl_fail(sl, op);
    }
    *out = v;
    *n = len;
    return 0;
}

/* Read all tables into one flat array (ordered by integration, name), then
 * hand each integration its run. Tables of unknown integrations are dropped. */
static int read_tables(struct statelog *sl, const char *only,
                       struct statelog_integration *v, size_t n)
{
    const char *op = "list tables";
    sqlite3_stmt *st = sl_stmt(sl, SQ_READ_TABLES, op);
    struct statelog_table *all = NULL;
    size_t len = 0, cap = 0, i, j;
    int rc, oom = 0, r = -1;

    if (!st)
        return -1;
    sl_bind_text(st, 1, only);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&all, &cap, len, sizeof *all) < 0) {
            oom = 1;
            break;
        }
        struct statelog_table *t = &all[len++];
        t->integration     = sl_col_str(st, 0, &oom);
        t->name            = sl_col_str(st, 1, &oom);
        t->target          = sl_col_str(st, 2, &oom);
        t->state           = sl_col_str(st, 3, &oom);
        t->reason          = sl_col_str(st, 4, &oom);
        t->rows_copied     = sl_col_i64(st, 5, 0);
        t->rows_estimated  = sl_col_i64(st, 6, 0);
        t->inserts         = sl_col_i64(st, 7, 0);
        t->updates         = sl_col_i64(st, 8, 0);
        t->deletes         = sl_col_i64(st, 9, 0);
        t->last_applied_at = sl_col_i64(st, 10, 0);
        t->lag_ms          = sl_col_i64(st, 11, -1);
        t->updated_at      = sl_col_i64(st, 12, 0);
        t->stopped_at      = sl_col_i64(st, 13, 0);
        t->copy_started_at = sl_col_i64(st, 14, 0);
        t->copy_chunks     = sl_col_i64(st, 15, -1);
        t->copy_base_at    = sl_col_i64(st, 16, 0);
        t->copy_base_rows  = sl_col_i64(st, 17, 0);
        t->shape           = sl_col_str(st, 18, &oom);
        t->copy_rows_per_s = -1;
        t->copy_eta_s      = -1;
        if (oom || !t->integration)
            break;
    }
    sqlite3_reset(st);
    if (oom || (len && !all[len - 1].integration)) {
        sl_failf(sl, "%s: out of memory", op);
        goto out;
    }
    if (rc != SQLITE_DONE) {
        sl_fail(sl, op);
        goto out;
    }
    for (i = 0; i < len; i = j) {
        struct statelog_integration *g = find_integration(v, n, all[i].integration);
        for (j = i + 1; j < len && strcmp(all[j].integration, all[i].integration) == 0; j++)
            ;
        if (!g)
            continue;
        if (!(g->tables = malloc((j - i) * sizeof *g->tables))) {
            sl_failf(sl, "%s: out of memory", op);
            goto out;
        }
        memcpy(g->tables, &all[i], (j - i) * sizeof *g->tables);
        g->ntables = j - i;
        memset(&all[i], 0, (j - i) * sizeof *all);   /* moved: not freed below */
    }
    r = 0;
out:
    for (i = 0; i < len; i++)
        table_clear(&all[i]);
    free(all);
    return r;
}

/* ---- lag, computed at the read (statelog.h "Lag") ---------------------------------- */

int64_t statelog_lag_at(const struct statelog_lag_basis *b, int64_t now)
{
    int64_t d;

    if (!b->at)
        return -1;
    d = now - b->at;
    if (d < 0)
        d = 0;                          /* clocks a little apart */
    if (!b->pending && d < STATELOG_PROOF_FRESH_MS)
        return 0;
    return d;
}

static int applies(const char *state)
{
    enum istate s = istate_parse(state);
    return s == ISTATE_ACTIVE || s == ISTATE_NEEDS_ATTENTION;
}

static void compute_lag(struct statelog_integration *g, int64_t now)
{
    const struct statelog_lag_basis *b = &g->basis;

    g->lag_res_ms = 1;
    g->stalled_since = 0;
    if (b->at) {
        g->lag_ms = statelog_lag_at(b, now);
        g->lag_res_ms = b->res_ms > 0 ? b->res_ms : 1;
        if (b->pending && b->stall_ms > 0 && b->wait_since && now - b->wait_since >= b->stall_ms &&
            applies(g->state))
            g->stalled_since = b->wait_since;
    }
    for (size_t j = 0; j < g->ntables; j++) {
        struct statelog_table *t = &g->tables[j];
        t->lag_res_ms = g->lag_res_ms;
        if (t->stopped_at)
            t->lag_ms = now - t->stopped_at > 0 ? now - t->stopped_at : 0;
        else if (tstate_parse(t->state) == TSTATE_SYNCED)
            t->lag_ms = g->lag_ms;
        else
            t->lag_ms = -1;
    }
}

/* A copying table's rows/s and ETA, computed at the read (statelog.h "Copy progress"). */
static void compute_copy(struct statelog_integration *g, int64_t now)
{
    for (size_t j = 0; j < g->ntables; j++) {
        struct statelog_table *t = &g->tables[j];
        if (tstate_copying(tstate_parse(t->state)))
            statelog_copy_rate_at(t, now, &t->copy_rows_per_s, &t->copy_eta_s);
    }
}

int sl_read_basis(struct statelog *sl, const char *integration,
                  struct statelog_lag_basis *b, int64_t *last_sample, int *found)
{
    const char *op = "read lag basis";
    sqlite3_stmt *st = sl_stmt(sl, SQ_INTEG_BASIS_GET, op);
    int rc;

    memset(b, 0, sizeof *b);
    *last_sample = 0;
    *found = 0;
    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        *found = 1;
        b->at         = sl_col_i64(st, 0, 0);
        b->pending    = (int)sl_col_i64(st, 1, 0);
        b->res_ms     = sl_col_i64(st, 2, 1);
        b->wait_since = sl_col_i64(st, 3, 0);
        b->stall_ms   = sl_col_i64(st, 4, 0);
        *last_sample  = sl_col_i64(st, 5, 0);
    }
    sqlite3_reset(st);
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
        return sl_fail(sl, op);
    return 0;
}

static int list_integrations(struct statelog *sl, const char *only,
                               struct statelog_integration **out, size_t *n)
{
    struct statelog_integration *v = NULL;
    size_t len = 0;

    *out = NULL;
    *n = 0;
    /* One read transaction: integrations and tables from the same snapshot. */
    if (sl_tx_begin(sl, 0, "list integrations: begin") < 0)
        return -1;
    if (read_integrations(sl, only, &v, &len) < 0)
        goto rollback;
    if (read_tables(sl, only, v, len) < 0)
        goto rollback;
    if (sl_tx_commit(sl, "list integrations: commit") < 0)
        goto rollback;
    int64_t now = statelog_now_ms();
    for (size_t i = 0; i < len; i++) {
        compute_lag(&v[i], now);
        compute_copy(&v[i], now);
    }
    *out = v;
    *n = len;
    return 0;

rollback:
    sl_tx_rollback(sl);
    statelog_free_integrations(v, len);
    return -1;
}

/* ---- activity ------------------------------------------------------------------- */

void statelog_free_activity(struct statelog_activity *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].integration);
        free(v[i].pos_from);
        free(v[i].pos_to);
    }
    free(v);
}

static int recent_activity(struct statelog *sl, const char *integration, int limit,
                             struct statelog_activity **out, size_t *n)
{
    const char *op = "recent activity";
    struct statelog_activity *v = NULL;
    size_t len = 0, cap = 0;
    sqlite3_stmt *st = sl_stmt(sl, SQ_READ_ACTIVITY, op);
    int rc, oom = 0;

    *out = NULL;
    *n = 0;
    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sqlite3_bind_int(st, 2, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&v, &cap, len, sizeof *v) < 0) {
            oom = 1;
            break;
        }
        struct statelog_activity *a = &v[len++];
        a->id           = sqlite3_column_int64(st, 0);
        a->integration  = sl_col_str(st, 1, &oom);
        a->at           = sl_col_i64(st, 2, 0);
        a->pos_from     = sl_col_str(st, 3, &oom);
        a->pos_to       = sl_col_str(st, 4, &oom);
        a->transactions = sl_col_i64(st, 5, 0);
        a->inserted     = sl_col_i64(st, 6, 0);
        a->updated      = sl_col_i64(st, 7, 0);
        a->deleted      = sl_col_i64(st, 8, 0);
        a->bytes        = sl_col_i64(st, 9, 0);
        a->duration_ms  = sl_col_i64(st, 10, 0);
        if (oom)
            break;
    }
    sqlite3_reset(st);
    if (oom || rc != SQLITE_DONE) {
        statelog_free_activity(v, len);
        return oom ? sl_failf(sl, "%s: out of memory", op) : sl_fail(sl, op);
    }
    *out = v;
    *n = len;
    return 0;
}

/* ---- lag ------------------------------------------------------------------------ */

void statelog_free_lag(struct statelog_lag_sample *v)
{
    free(v);
}

/*
 * The gap still open: nobody has sampled since the newest sample (a stuck
 * applier, no process), so add, newest first, what the basis gives for it
 * up to now — the same values fill_lag_gap stores once a basis is written.
 */
static int open_gap(struct statelog *sl, const char *integration, int64_t since,
                    struct statelog_lag_sample **v, size_t *len, size_t *cap)
{
    struct statelog_lag_basis b;
    int64_t last, now = statelog_now_ms(), from, step, k;
    int found;

    if (sl_read_basis(sl, integration, &b, &last, &found) < 0)
        return -1;
    if (!found || !b.at)
        return 0;
    from = *len ? (*v)[0].at : last;
    if (from < since)
        from = since;
    if (now - from <= STATELOG_LAG_GAP_MS)
        return 0;
    step = (now - from) / STATELOG_LAG_FILL_MAX;
    if (step < 1000)
        step = 1000;
    size_t add = (size_t)((now - from) / step);
    for (size_t i = 0; i < add; i++)
        if (grow((void **)v, cap, *len + i, sizeof **v) < 0)
            return sl_failf(sl, "lag since: out of memory");
    memmove(*v + add, *v, *len * sizeof **v);
    for (k = 0; k < (int64_t)add; k++) {
        struct statelog_lag_sample *s = &(*v)[k];
        s->at = now - k * step;
        s->lag_ms = s->lag_min_ms = s->lag_max_ms = statelog_lag_at(&b, s->at);
        s->bytes_behind = -1;
        s->samples = 1;
    }
    *len += add;
    return 0;
}

static int lag_since(struct statelog *sl, const char *integration, int64_t since,
                       struct statelog_lag_sample **out, size_t *n)
{
    const char *op = "lag since";
    struct statelog_lag_sample *v = NULL;
    size_t len = 0, cap = 0;
    sqlite3_stmt *st = sl_stmt(sl, SQ_READ_LAG, op);
    int rc, oom = 0;

    *out = NULL;
    *n = 0;
    if (!st)
        return -1;
    sl_bind_text(st, 1, integration);
    sqlite3_bind_int64(st, 2, since);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&v, &cap, len, sizeof *v) < 0) {
            oom = 1;
            break;
        }
        struct statelog_lag_sample *s = &v[len++];
        s->at           = sl_col_i64(st, 0, 0);
        s->lag_ms       = sl_col_i64(st, 1, 0);
        s->lag_min_ms   = sl_col_i64(st, 2, 0);
        s->lag_max_ms   = sl_col_i64(st, 3, 0);
        s->bytes_behind = sl_col_i64(st, 4, -1);
        s->samples      = sl_col_i64(st, 5, 1);
    }
    sqlite3_reset(st);
    if (oom || rc != SQLITE_DONE) {
        free(v);
        return oom ? sl_failf(sl, "%s: out of memory", op) : sl_fail(sl, op);
    }
    if (open_gap(sl, integration, since, &v, &len, &cap) < 0) {
        free(v);
        return -1;
    }
    *out = v;
    *n = len;
    return 0;
}

/* ---- events --------------------------------------------------------------------- */

void statelog_free_events(struct statelog_event *v, size_t n)
{
    if (!v)
        return;
    for (size_t i = 0; i < n; i++) {
        free(v[i].integration);
        free(v[i].table);
        free(v[i].level);
        free(v[i].kind);
        free(v[i].message);
        free(v[i].actor);
    }
    free(v);
}

static int recent_events(struct statelog *sl, const struct statelog_event_filter *f,
                           int limit, struct statelog_event **out, size_t *n)
{
    const char *op = "recent events";
    struct statelog_event *v = NULL;
    size_t len = 0, cap = 0;
    sqlite3_stmt *st = sl_stmt(sl, SQ_READ_EVENTS, op);
    int rc, oom = 0;

    *out = NULL;
    *n = 0;
    if (!st)
        return -1;
    sl_bind_text(st, 1, f ? f->integration : NULL);
    sl_bind_text(st, 2, f ? f->table : NULL);
    sqlite3_bind_int(st, 3, f ? f->min_level : 0);
    sqlite3_bind_int(st, 4, limit);
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        if (grow((void **)&v, &cap, len, sizeof *v) < 0) {
            oom = 1;
            break;
        }
        struct statelog_event *e = &v[len++];
        e->id          = sqlite3_column_int64(st, 0);
        e->at          = sl_col_i64(st, 1, 0);
        e->integration = sl_col_str(st, 2, &oom);
        e->table       = sl_col_str(st, 3, &oom);
        e->level       = sl_col_str(st, 4, &oom);
        e->kind        = sl_col_str(st, 5, &oom);
        e->message     = sl_col_str(st, 6, &oom);
        e->actor       = sl_col_str(st, 7, &oom);
        if (oom)
            break;
    }
    sqlite3_reset(st);
    if (oom || rc != SQLITE_DONE) {
        statelog_free_events(v, len);
        return oom ? sl_failf(sl, "%s: out of memory", op) : sl_fail(sl, op);
    }
    *out = v;
    *n = len;
    return 0;
}

/* ---- the public calls: heal on a bad file (statelog_heal.c) ------------------ */

int statelog_list_integrations(struct statelog *sl, const char *only,
                               struct statelog_integration **out, size_t *n)
{
    int rc;

    SL_RUN(sl, rc, list_integrations(sl, only, out, n));
    return rc;
}

int statelog_recent_activity(struct statelog *sl, const char *integration, int limit,
                             struct statelog_activity **out, size_t *n)
{
    int rc;

    SL_RUN(sl, rc, recent_activity(sl, integration, limit, out, n));
    return rc;
}

int statelog_lag_since(struct statelog *sl, const char *integration, int64_t since,
                       struct statelog_lag_sample **out, size_t *n)
{
    int rc;

    SL_RUN(sl, rc, lag_since(sl, integration, since, out, n));
    return rc;
}

int statelog_recent_events(struct statelog *sl, const struct statelog_event_filter *f,
                           int limit, struct statelog_event **out, size_t *n)
{
    int rc;

    SL_RUN(sl, rc, recent_events(sl, f, limit, out, n));
    return rc;
}

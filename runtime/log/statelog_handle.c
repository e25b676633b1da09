/*
 * statelog_handle.c — the handle's own calls: open (a corrupt file is healed
 * at once), close, the caller's transactions, limits, pruning and counting.
 * Each call that touches the file runs through SL_RUN, so it may heal
 * (statelog_heal.c); the connection, statements and migrations it stands on
 * are statelog.c's. Contract: statelog.h.
 */
#include "runtime/log/statelog_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- transactions ----------------------------------------------------------- */

int statelog_begin(struct statelog *sl)
{
    int rc;

    SL_RUN(sl, rc, sl_tx_begin(sl, 1, "begin"));
    return rc;
}

int statelog_commit(struct statelog *sl)
{
    return sl_tx_commit(sl, "commit");
}

void statelog_rollback(struct statelog *sl)
{
    sl_tx_rollback(sl);
}

/* ---- limits and pruning ----------------------------------------------------- */

void statelog_get_limits(const struct statelog *sl, struct statelog_limits *out)
{
    *out = sl->lim;
}

void statelog_set_limits(struct statelog *sl, const struct statelog_limits *in)
{
    sl->lim = *in;
}

static int prune_one(struct statelog *sl, enum sl_stmt_id id, int64_t v)
{
    const char *op = "prune";
    sqlite3_stmt *st = sl_stmt(sl, id, op);

    if (!st)
        return -1;
    sqlite3_bind_int64(st, 1, v);
    return sl_step_done(sl, st, op);
}

static int prune(struct statelog *sl, int64_t now)
{
    const struct statelog_limits *l = &sl->lim;
    int64_t raw_cut;

    if (now == 0)
        now = statelog_now_ms();
    raw_cut = now - l->lag_raw_ms;
    if (sl_tx_begin(sl, 1, "prune: begin") < 0)
        return -1;
    if (prune_one(sl, SQ_PRUNE_ROLLUP, raw_cut) < 0 ||
        prune_one(sl, SQ_PRUNE_RAW, raw_cut) < 0 ||
        prune_one(sl, SQ_PRUNE_ROLLUPS, now - l->lag_rollup_ms) < 0 ||
        prune_one(sl, SQ_PRUNE_EVENTS, l->events_max) < 0 ||
        prune_one(sl, SQ_PRUNE_ACTIVITY, l->activity_max) < 0 ||
        prune_one(sl, SQ_PRUNE_COMMANDS, now - l->commands_keep_ms) < 0)
        goto rollback;
    if (sl_tx_commit(sl, "prune: commit") < 0)
        goto rollback;
    sl->since_prune = 0;
    return 0;

rollback:
    sl_tx_rollback(sl);
    return -1;
}

int statelog_prune(struct statelog *sl, int64_t now)
{
    int rc;

    SL_RUN(sl, rc, prune(sl, now));
    return rc;
}

void sl_maybe_prune(struct statelog *sl)
{
    if (sl->lim.prune_every == 0 || ++sl->since_prune < sl->lim.prune_every)
        return;
    (void)statelog_prune(sl, 0);
}

/* ---- counting --------------------------------------------------------------- */

static int count_rows(struct statelog *sl, const char *table, int64_t *out)
{
    /* Table names cannot be bound: accept only the schema's own names. */
    static const char *const names[] = {
        "integrations", "tables", "activity", "lag_samples", "lag_rollups",
        "events", "commands",
    };
    char sql[64];
    sqlite3_stmt *st = NULL;
    size_t i;
    int rc;

    for (i = 0; i < sizeof names / sizeof names[0]; i++)
        if (strcmp(names[i], table) == 0)
            break;
    if (i == sizeof names / sizeof names[0])
        return sl_failf(sl, "count rows: no table named %s", table);
    snprintf(sql, sizeof sql, "SELECT count(*) FROM %s", names[i]);
    if (sqlite3_prepare_v2(sl->db, sql, -1, &st, NULL) != SQLITE_OK)
        return sl_fail(sl, "count rows");
    rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        sl_fail(sl, "count rows");
        sqlite3_finalize(st);
        return -1;
    }
    *out = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return 0;
}

int statelog_count_rows(struct statelog *sl, const char *table, int64_t *out)
{
    int rc;

    SL_RUN(sl, rc, count_rows(sl, table, out));
    return rc;
}

/* ---- open and close ------------------------------------------------------------ */

/* mkdir -p for the parent of `path`, new directories 0700. */
static int make_parent(const char *path, char *err, size_t errlen)
{
    char *dir = strdup(path);
    char *p;
    int rc = -1;

    if (!dir) {
        snprintf(err, errlen, "state log %s: out of memory", path);
        return -1;
    }
    p = strrchr(dir, '/');
    if (!p || p == dir) {
        rc = 0;
        goto out;
    }
    *p = '\0';
    for (p = dir + 1; ; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "state log %s: cannot create directory %s: %s",
                     path, dir, strerror(errno));
            goto out;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    rc = 0;
out:
    free(dir);
    return rc;
}

int statelog_open(struct statelog **out, const char *path, char *err, size_t errlen)
{
    struct statelog *sl;
    int rc;

    *out = NULL;
    if (make_parent(path, err, errlen) < 0)
        return -1;
    sl = calloc(1, sizeof *sl);
    if (!sl || !(sl->path = strdup(path))) {
        snprintf(err, errlen, "state log %s: out of memory", path);
        free(sl);
        return -1;
    }
    sl->lim = (struct statelog_limits){
        .lag_raw_ms = STATELOG_LAG_RAW_MS, .lag_rollup_ms = STATELOG_LAG_ROLLUP_MS,
        .events_max = STATELOG_EVENTS_MAX, .activity_max = STATELOG_ACTIVITY_MAX,
        .commands_keep_ms = STATELOG_COMMANDS_KEEP_MS,
        .prune_every = STATELOG_PRUNE_EVERY,
    };
    rc = sl_conn_open(sl);
    if (rc < 0 && sl->bad == SL_CORRUPT)
        rc = sl_heal(sl);               /* moved aside: a fresh log, said on stderr */
    if (rc < 0)
        goto fail;
    *out = sl;
    return 0;

fail:
    snprintf(err, errlen, "%s", sl->err);
    statelog_close(sl);
    return -1;
}

void statelog_close(struct statelog *sl)
{
    if (!sl)
        return;
    sl_conn_close(sl);
    sl_memo_free(sl);
    free(sl->path);
    free(sl);
}

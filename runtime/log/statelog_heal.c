/*
 * statelog_heal.c — the state log heals: a corrupt file is moved aside and a
 * fresh log started; a file deleted or replaced under an open handle is
 * noticed and the handle reopens the file at the path. The log is a record
 * for display (the checkpoint of record lives in the target), so starting
 * afresh loses history, never data. Contract: statelog.h ("Healing").
 *
 * Every creation of the file and every move aside runs under an flock on the
 * state directory (sl_dir_lock, statelog.c), so two handles (threads or
 * processes) healing at once do not move each other's fresh file aside, and
 * stale -wal/-shm files are only removed when no database file is there to
 * own them.
 */
#include "runtime/base/buf.h"
#include "runtime/base/clock.h"
#include "runtime/log/statelog_int.h"

#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* ---- notices: one line each, on stderr or kept for later --------------------- */

#define NOTICES_MAX 8

static pthread_mutex_t notice_mu = PTHREAD_MUTEX_INITIALIZER;
static int notice_defer;                    /* a console owns the terminal */
static char *notice_kept[NOTICES_MAX];
static int notice_n, notice_dropped;
/* The last change announced: from the file handles had open to the file now
 * at the path. Other handles of this process making the same change stay
 * quiet. The old file is held open until the new one exists, so the two
 * cannot share an inode number. */
static struct { dev_t dev; ino_t from, to; } announced;

void statelog_defer_notices(int on)
{
    pthread_mutex_lock(&notice_mu);
    notice_defer = on;
    pthread_mutex_unlock(&notice_mu);
}

void statelog_flush_notices(FILE *to)
{
    pthread_mutex_lock(&notice_mu);
    for (int i = 0; i < notice_n; i++) {
        fprintf(to, "%s\n", notice_kept[i]);
        free(notice_kept[i]);
    }
    if (notice_dropped)
        fprintf(to, "zetl: %d more state log notices; see the events in the state log\n",
                notice_dropped);
    notice_n = notice_dropped = 0;
    pthread_mutex_unlock(&notice_mu);
}

/* Say `line` once per change of file (inode `from` to inode `to`): 1 when
 * said, 0 when another handle of this process already said it. */
static int announce(dev_t dev, ino_t from, ino_t to, const char *line)
{
    int said = 0;

    pthread_mutex_lock(&notice_mu);
    if (dev != announced.dev || from != announced.from || to != announced.to) {
        announced.dev = dev;
        announced.from = from;
        announced.to = to;
        said = 1;
        if (!notice_defer)
            fprintf(stderr, "%s\n", line);
        else if (notice_n < NOTICES_MAX && (notice_kept[notice_n] = strdup(line)))
            notice_n++;
        else
            notice_dropped++;
    }
    pthread_mutex_unlock(&notice_mu);
    return said;
}

/* PATH.corrupt-YYYYMMDDTHHMMSS (UTC), with -2, -3, ... when taken. */
static void aside_name(char *buf, size_t len, const char *path)
{
    char stamp[32];
    time_t now = time(NULL);
    struct tm tm;
    struct stat st;

    gmtime_r(&now, &tm);
    strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%S", &tm);
    snprintf(buf, len, "%s.corrupt-%s", path, stamp);
    for (int i = 2; lstat(buf, &st) == 0 && i < 1000; i++)
        snprintf(buf, len, "%s.corrupt-%s-%d", path, stamp, i);
}

/* Rename the file and its -wal/-shm to `aside` (+ the same suffixes). */
static int move_aside(struct statelog *sl, const char *aside)
{
    static const char *const sfx[] = { "-wal", "-shm" };
    char from[4096], to[4200];

    if (rename(sl->path, aside) < 0)
        return sl_failf(sl, "is corrupt and cannot be moved to %s: %s; move or remove it by hand",
                        aside, strerror(errno));
    for (size_t i = 0; i < sizeof sfx / sizeof sfx[0]; i++) {
        sl_side_path(from, sizeof from, sl->path, sfx[i]);
        snprintf(to, sizeof to, "%s%s", aside, sfx[i]);
        if (rename(from, to) < 0 && errno != ENOENT)
            unlink(from);           /* never leave it to pair with the fresh file */
    }
    return 0;
}

/* ---- the memo: rows written again into a fresh log ------------------------------- */

static int set_str(char **dst, const char *src)
{
    char *c;

    if (!src)
        return 0;
    if (*dst && strcmp(*dst, src) == 0)
        return 0;
    if (!(c = strdup(src)))
        return -1;
    free(*dst);
    *dst = c;
    return 0;
}

static void reason_for(char **dst, const char *state, const char *reason)
{
    /* The reason goes with the state: a new state without one clears it. */
    if (!state)
        return;
    free(*dst);
    *dst = reason ? strdup(reason) : NULL;
}

static struct sl_memo_integ *find_integ(struct statelog *sl, const char *name, int add)
{
    struct sl_memo_integ *v;

    for (size_t i = 0; i < sl->nmig; i++)
        if (strcmp(sl->mig[i].name, name) == 0)
            return &sl->mig[i];
    if (!add || !(v = realloc(sl->mig, (sl->nmig + 1) * sizeof *v)))
        return NULL;
    sl->mig = v;
    memset(&v[sl->nmig], 0, sizeof v[0]);
    if (!(v[sl->nmig].name = strdup(name)))
        return NULL;
    return &v[sl->nmig++];
}

void sl_memo_integ(struct statelog *sl, const char *name, const char *state,
                   const char *reason, const char *source, const char *target,
                   const char *position, int set_endpoints)
{
    struct sl_memo_integ *g;

    if (!name || !(g = find_integ(sl, name, 1)))
        return;                     /* out of memory: the memo is best effort */
    if (!g->state && !state)
        state = istate_name(ISTATE_CREATING);
    if (state) {
        set_str(&g->state, state);
        reason_for(&g->reason, state, reason);
    }
    if (set_endpoints) {
        set_str(&g->source, source);
        set_str(&g->target, target);
    }
    set_str(&g->position, position);
}

static int table_cmp(const struct sl_memo_table *t, const char *integration, const char *name)
{
    int c = strcmp(t->integration, integration);
    return c ? c : strcmp(t->name, name);
}

/* Binary search in the sorted array; *at = where it is or would go. */
static struct sl_memo_table *find_table(struct statelog *sl, const char *integration,
                                        const char *name, size_t *at)
{
    size_t lo = 0, hi = sl->nmtb;

    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = table_cmp(&sl->mtb[mid], integration, name);
        if (c == 0) {
            *at = mid;
            return &sl->mtb[mid];
        }
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    *at = lo;
    return NULL;
}

void sl_memo_table(struct statelog *sl, const char *integration, const char *name,
                   const char *target, const char *state, const char *reason)
{
    struct sl_memo_table *t;
    size_t at;

    if (!integration || !name)
        return;
    if (!(t = find_table(sl, integration, name, &at))) {
        struct sl_memo_table *v = zarray_grow(sl->mtb, &sl->capmtb, sl->nmtb + 1, sizeof *v);
        if (!v)
            return;
        sl->mtb = v;
        char *ig = strdup(integration), *nm = strdup(name);
        if (!ig || !nm) {
            free(ig);
            free(nm);
            return;
        }
        memmove(&sl->mtb[at + 1], &sl->mtb[at], (sl->nmtb - at) * sizeof sl->mtb[0]);
        t = &sl->mtb[at];
        memset(t, 0, sizeof *t);
        t->integration = ig;
        t->name = nm;
        sl->nmtb++;
        if (!state)
            state = tstate_name(TSTATE_PENDING);
    }
    set_str(&t->target, target);
    if (state) {
        set_str(&t->state, state);
        reason_for(&t->reason, state, reason);
    }
}

static void integ_clear(struct sl_memo_integ *g)
{
    free(g->name);
    free(g->state);
    free(g->reason);
    free(g->source);
    free(g->target);
    free(g->position);
}

static void table_clear(struct sl_memo_table *t)
{
    free(t->integration);
    free(t->name);
    free(t->target);
    free(t->state);
    free(t->reason);
}

void sl_memo_forget(struct statelog *sl, const char *integration)
{
    size_t i, j;

    for (i = j = 0; i < sl->nmig; i++) {
        if (strcmp(sl->mig[i].name, integration) == 0)
            integ_clear(&sl->mig[i]);
        else
            sl->mig[j++] = sl->mig[i];
    }
    sl->nmig = j;
    for (i = j = 0; i < sl->nmtb; i++) {
        if (strcmp(sl->mtb[i].integration, integration) == 0)
            table_clear(&sl->mtb[i]);
        else
            sl->mtb[j++] = sl->mtb[i];
    }
    sl->nmtb = j;
}

void sl_memo_free(struct statelog *sl)
{
    for (size_t i = 0; i < sl->nmig; i++)
        integ_clear(&sl->mig[i]);
    for (size_t i = 0; i < sl->nmtb; i++)
        table_clear(&sl->mtb[i]);
    free(sl->mig);
    free(sl->mtb);
    sl->mig = NULL;
    sl->mtb = NULL;
    sl->nmig = sl->nmtb = sl->capmtb = 0;
}

/* Insert what the memo knows and the fresh log lacks (a row another handle
 * wrote meanwhile wins), plus the notice as a warning event, in one
 * transaction. A table whose integration row is missing is skipped. */
static int replay(struct statelog *sl, const char *notice)
{
    static const char *const ig_sql =
        "INSERT OR IGNORE INTO integrations (name, state, reason, source, target, position,"
        " updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)";
    static const char *const tb_sql =
        "INSERT OR IGNORE INTO tables (integration, name, target, state, reason, updated_at)"
        " SELECT ?1, ?2, ?3, ?4, ?5, ?6 WHERE EXISTS"
        " (SELECT 1 FROM integrations WHERE name = ?1)";
    static const char *const ev_sql =
        "INSERT INTO events (at, integration, tbl, level, kind, message, actor)"
        " VALUES (?1, NULL, NULL, 'warning', 'statelog', ?2, NULL)";
    sqlite3_stmt *ig = NULL, *tb = NULL, *ev = NULL;
    int64_t now = statelog_now_ms();
    int rc = -1;

    if (sl_tx_begin(sl, 1, "heal: begin") < 0)
        return -1;
    if (sqlite3_prepare_v2(sl->db, ig_sql, -1, &ig, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(sl->db, tb_sql, -1, &tb, NULL) != SQLITE_OK ||
        sqlite3_prepare_v2(sl->db, ev_sql, -1, &ev, NULL) != SQLITE_OK) {
        sl_fail(sl, "heal: prepare");
        goto out;
    }
    for (size_t i = 0; i < sl->nmig; i++) {
        const struct sl_memo_integ *g = &sl->mig[i];
        sqlite3_reset(ig);
        sl_bind_text(ig, 1, g->name);
        sl_bind_text(ig, 2, g->state ? g->state : istate_name(ISTATE_CREATING));
        sl_bind_text(ig, 3, g->reason);
        sl_bind_text(ig, 4, g->source);
        sl_bind_text(ig, 5, g->target);
        sl_bind_text(ig, 6, g->position);
        sqlite3_bind_int64(ig, 7, now);
        if (sl_step_done(sl, ig, "heal: integration row") < 0)
            goto out;
    }
    for (size_t i = 0; i < sl->nmtb; i++) {
        const struct sl_memo_table *t = &sl->mtb[i];
        sqlite3_reset(tb);
        sl_bind_text(tb, 1, t->integration);
        sl_bind_text(tb, 2, t->name);
        sl_bind_text(tb, 3, t->target ? t->target : t->name);
        sl_bind_text(tb, 4, t->state ? t->state : tstate_name(TSTATE_PENDING));
        sl_bind_text(tb, 5, t->reason);
        sqlite3_bind_int64(tb, 6, now);
        if (sl_step_done(sl, tb, "heal: table row") < 0)
            goto out;
    }
    if (notice) {
        sqlite3_bind_int64(ev, 1, now);
        sl_bind_text(ev, 2, notice);
        if (sl_step_done(sl, ev, "heal: event") < 0)
            goto out;
    }
    rc = sl_tx_commit(sl, "heal: commit");
out:
    if (rc < 0)
        sl_tx_rollback(sl);
    sqlite3_finalize(ig);
    sqlite3_finalize(tb);
    sqlite3_finalize(ev);
    return rc;
}

/* ---- healing ------------------------------------------------------------------ */

/* 1 when the path no longer names the file this handle has open. */
static int path_replaced(const struct statelog *sl, int *missing)
{
    struct stat st;

    *missing = 0;
    if (!sl->ino)
        return 0;
    if (stat(sl->path, &st) < 0) {
        *missing = errno == ENOENT;
        return *missing;
    }
    return st.st_dev != sl->dev || st.st_ino != sl->ino;
}

static int heal_once(struct statelog *sl)
{
    char aside[4096] = "", cause[256], line[9216];
    int corrupt = sl->bad == SL_CORRUPT, missing, replaced, lock, rc;
    ino_t old_ino;
    const char *c = strstr(sl->err, ": ");

    /* The cause: the error after "statelog PATH: ". */
    snprintf(cause, sizeof cause, "%.200s", c ? c + 2 : sl->err);
    /* quick_check answers in lines, and a garbled page can put its bytes in
     * the message: keep one line of printable ASCII (it goes to a terminal). */
    for (char *p = cause; *p; p++)
        if ((unsigned char)*p < ' ' || (unsigned char)*p > '~')
            *p = (unsigned char)*p < ' ' ? ' ' : '?';
    lock = sl_dir_lock(sl->path);
    old_ino = sl->ino;
    replaced = path_replaced(sl, &missing);
    if (corrupt && !replaced && sl->ino) {
        aside_name(aside, sizeof aside, sl->path);
        if (move_aside(sl, aside) < 0) {
            sl_dir_unlock(lock);
            return -1;
        }
    }
    /* Create the new file while the old one is still open (so it cannot get
     * the old inode number), then close the old: after the move, so SQLite
     * sees a moved file and leaves its WAL alone. The notice is said under
     * the lock: the handle that moved the file says why (corrupt, deleted)
     * before another handle of this process, healing the same change, can
     * say only that it found the file replaced. */
    rc = sl_create_locked(sl->path, sl->err, sizeof sl->err);
    struct stat st;
    ino_t new_ino = rc == 0 && stat(sl->path, &st) == 0 ? st.st_ino : 0;
    if (aside[0])
        snprintf(line, sizeof line, "zetl: state log %s is corrupt (%s); moved it to %s for "
                 "inspection and started a fresh log; nothing is lost: the checkpoint of "
                 "record is in the target", sl->path, cause, aside);
    else if (missing)
        snprintf(line, sizeof line, "zetl: state log %s was deleted while in use; started a "
                 "fresh log there; nothing is lost: the checkpoint of record is in the target",
                 sl->path);
    else
        snprintf(line, sizeof line, "zetl: state log %s was replaced while in use (moved "
                 "aside by another zetl, or by hand); reopened the file now at that path; the "
                 "checkpoint of record is in the target", sl->path);
    /* Another handle of this process reopening the same fresh file says nothing. */
    int said = new_ino && announce(sl->dev, old_ino, new_ino, line);
    sl_dir_unlock(lock);
    sl_conn_close(sl);
    sl->bad = SL_OK;
    if (rc < 0 || sl_conn_open(sl) < 0)
        return -1;
    sl->heals++;
    sl->next_check_ms = zclock_mono_ms() + STATELOG_RECHECK_MS;
    /* A failed replay leaves the fresh log open; the rows come back with the
     * next writes (a transition creates its row). */
    (void)replay(sl, said ? line + strlen("zetl: ") : NULL);
    return sl->bad == SL_OK ? 0 : -1;
}

int sl_heal(struct statelog *sl)
{
    /* A fresh file that is corrupt again (another process's) gets one more try. */
    for (int i = 0; i < 3; i++) {
        if (sl->bad == SL_OK && sl->db)
            return 0;
        if (sl->bad == SL_OK)
            sl->bad = SL_MOVED;     /* no connection (a failed reopen): open again */
        if (heal_once(sl) == 0 && sl->bad == SL_OK)
            return 0;
        if (sl->bad == SL_OK)
            return -1;              /* not a bad file: a real error (disk, permission) */
    }
    return -1;
}

int sl_enter(struct statelog *sl)
{
    int missing;
    int64_t now;

    if (sl->txdepth > 0)
        return 0;
    if (sl->bad == SL_OK && sl->db) {
        now = zclock_mono_ms();
        if (now < sl->next_check_ms)
            return 0;
        sl->next_check_ms = now + STATELOG_RECHECK_MS;
        if (!path_replaced(sl, &missing))
            return 0;
        sl->bad = SL_MOVED;
    }
    return sl_heal(sl);
}

int sl_recover(struct statelog *sl)
{
    if (sl->txdepth > 0 || sl->bad == SL_OK)
        return 0;
    return sl_heal(sl) == 0;
}

/*
 * describe.c — the describe pane (k9s-style `d`): everything known about the
 * selected integration, or the selected table, on one scrolling page, for an
 * operator in an incident:
 *   state and since when (its newest transition among the recent events),
 *   the whole reason wrapped (never cut), what the applier waits on (a lock
 *   and its holder, a long statement, a full queue), the retry attempt and
 *   the next try (n: retry now), the source's own position against the
 *   applied one and the bytes between (statelog.h "Source position"), the
 *   bytes queued, the slot and publication (PostgreSQL) or the binlog
 *   retention horizon (MySQL: when the checkpoint's file can be purged, a
 *   lower bound), copy progress with rows/s and ETA, and the recent
 *   events of that object; with ha, who holds the lease (the member, its
 *   pid, the epoch), this process's part and the standbys seen. What the
 *   snapshot does not know is said so.
 * Draws the snapshot only (views/view.h); the console sends the retry.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "views/widgets.h"
#include "views/view.h"

#define LABEL_W   12        /* the label column */
#define EVENTS_N  12        /* recent events shown */

static int top;             /* first row shown */
static int page = 10;
static int nrows;           /* rows of the last draw */

/* One draw pass: rows are counted from 0; only those in [top, top+h) are drawn. */
struct pane {
    WINDOW *w;
    int y, h, width;
    int row;                /* next row */
};

static void line(struct pane *p, const char *label, const char *text, attr_t a)
{
    int vw = p->width - LABEL_W - 2;
    if (vw < 10) vw = 10;
    int n = w_wrap(NULL, text, 0, 0, vw, 1000);
    int r0 = top > p->row ? top - p->row : 0;           /* its first row on screen */
    int sr = p->row + r0 - top, count = n - r0;
    if (count > p->h - sr) count = p->h - sr;           /* the last one then ends in "…": scroll */
    if (count > 0) {
        if (r0 == 0 && label) {
            wattrset(p->w, theme_attr(TH_HEADER));
            w_text(p->w, p->y + sr, 1, LABEL_W, label, 0);
        }
        wattrset(p->w, a);
        w_wrap_skip(p->w, text, p->y + sr, LABEL_W + 2, vw, r0, count);
        wattrset(p->w, A_NORMAL);
    }
    p->row += n;
}

static void title(struct pane *p, const char *text)
{
    int sr = p->row - top;
    if (sr >= 0 && sr < p->h) {
        wattrset(p->w, theme_attr(TH_HEADER) | A_BOLD);
        w_text(p->w, p->y + sr, 0, p->width, text, 0);
        wattrset(p->w, A_NORMAL);
    }
    p->row++;
}

static void fmt_dur(int64_t ms, char *buf, size_t len)
{
    if (ms < 0) snprintf(buf, len, "?");
    else if (ms < 60000) snprintf(buf, len, "%llds", (long long)(ms / 1000));
    else if (ms < 3600000) snprintf(buf, len, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
    else snprintf(buf, len, "%lldh%02lldm", (long long)(ms / 3600000), (long long)(ms / 60000 % 60));
}

/* The newest transition of the object among the snapshot's events (at 0: not among them). */
static const struct statelog_event *last_transition(const struct snapshot *s, const char *integ, const char *table)
{
    for (size_t i = 0; i < s->nev; i++) {
        const struct statelog_event *e = &s->ev[i];
        if (!e->integration || strcmp(e->integration, integ) != 0 || strcmp(e->kind, "transition") != 0) continue;
        if (table ? (e->table && strcmp(e->table, table) == 0) : !e->table) return e;
    }
    return NULL;
}

/* state as read (shown as it is), role its colour, attention: it needs the
 * operator (istate_needs_attention / tstate_needs_attention) */
static void state_lines(struct pane *p, const struct snapshot *s, const char *integ, const char *table,
                        const char *state, const char *reason, enum theme_role role, int attention)
{
    const struct statelog_event *e = last_transition(s, integ, table);
    char buf[256], clock[32], ago[32];
    if (e) {
        w_fmt_clock(e->at, clock, sizeof clock);
        w_fmt_ago(e->at, s->taken_at, ago, sizeof ago);
        snprintf(buf, sizeof buf, "%s since %s (%s)%s%s", state, clock, ago, e->actor ? ", by " : "",
                 e->actor ? e->actor : "");
    } else {
        snprintf(buf, sizeof buf, "%s (since before the last %d events: not known here)", state, MODEL_EVENTS);
    }
    line(p, "State", buf, theme_attr(role));
    line(p, "Reason", reason ? reason : "-", reason && attention ? theme_attr(TH_ERROR) : A_NORMAL);
}

static void wait_lines(struct pane *p, const struct snapshot *s, const struct statelog_integration *in)
{
    const struct statelog_wait *w = &in->wait;
    char buf[512], d[32], d2[32];
    if (!w->kind) {
        line(p, "Waiting on", "nothing (no wait of 2 s or more)", A_NORMAL);
    } else {
        fmt_dur(w->since ? s->taken_at - w->since : -1, d, sizeof d);
        snprintf(buf, sizeof buf, "%s, for %s: %s", w->kind, d, w->detail ? w->detail : "");
        line(p, "Waiting on", buf, theme_attr(TH_WARN));
        if (w->holder_pid) {
            fmt_dur(w->holder_since ? s->taken_at - w->holder_since : -1, d2, sizeof d2);
            snprintf(buf, sizeof buf, "pid %lld, user %s, %s, transaction open %s%s", (long long)w->holder_pid,
                     w->holder_user ? w->holder_user : "?", w->holder_state ? w->holder_state : "?", d2,
                     w->holders > 1 ? " (more sessions block too)" : "");
            line(p, "  holder", buf, A_BOLD);
            line(p, "  its query", w->holder_query && w->holder_query[0] ? w->holder_query : "(not shown)", A_NORMAL);
        }
        if (w->what) line(p, "  ours", w->what, A_NORMAL);
    }
    if (in->retry_attempt > 0) {
        char clock[32];
        if (in->retry_at) {
            w_fmt_clock(in->retry_at, clock, sizeof clock);
            fmt_dur(in->retry_at > s->taken_at ? in->retry_at - s->taken_at : 0, d, sizeof d);
            snprintf(buf, sizeof buf, "attempt %lld at %s (in %s); n: retry now", (long long)in->retry_attempt, clock, d);
        } else {
            snprintf(buf, sizeof buf, "attempt %lld under way", (long long)in->retry_attempt);
        }
        line(p, "Retry", buf, theme_attr(TH_WARN));
    } else {
        line(p, "Retry", "none waiting", A_NORMAL);
    }
}

/* "2026-12-06 14:03" local: a horizon days away needs the date. */
static void fmt_when(int64_t ms, char *buf, size_t len)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (!localtime_r(&t, &tm) || !strftime(buf, len, "%Y-%m-%d %H:%M", &tm)) snprintf(buf, len, "?");
}

/* MySQL/MariaDB: the binlog expiry and when the checkpoint's file can go. */
static void retention_line(struct pane *p, const struct snapshot *s, const struct statelog_integration *in)
{
    const struct statelog_source *src = &in->src;
    char buf[1024], file[256] = "", when[40], d[32];   /* buf holds the longest line whole */
    if (in->position) {
        const char *colon = strchr(in->position, ':');
        size_t n = colon ? (size_t)(colon - in->position) : 0;
        if (n && n < sizeof file && strchr(in->position, '.') && strchr(in->position, '.') < colon)
            snprintf(file, sizeof file, "%.*s", (int)n, in->position);
    }
    const char *f = file[0] ? file : "(a GTID position)";
    int64_t purge = statelog_purge_not_before(src);
    if (src->expire_s < 0) {
        snprintf(buf, sizeof buf, "binlog retention not read yet (the reader reads the server's "
                 "binlog_expire_logs_seconds when it connects); checkpoint binlog file %s", f);
    } else if (src->expire_s == 0) {
        snprintf(buf, sizeof buf, "binlog retention: never purged automatically (binlog_expire_logs_seconds 0); "
                 "the checkpoint's file %s stays until a PURGE BINARY LOGS or a full disk", f);
    } else {
        int64_t days = src->expire_s / 86400, hours = src->expire_s % 86400 / 3600;
        char exp[48];
        if (days && hours) snprintf(exp, sizeof exp, "%lld d %lld h", (long long)days, (long long)hours);
        else if (days) snprintf(exp, sizeof exp, "%lld d", (long long)days);
        else snprintf(exp, sizeof exp, "%lld s", (long long)src->expire_s);
        if (purge) {
            fmt_when(purge, when, sizeof when);
            fmt_dur(purge - s->taken_at, d, sizeof d);
            snprintf(buf, sizeof buf, "binlog retention %s: the checkpoint's file %s can be purged from about %s "
                     "(%s%s) — a lower bound: its last write is at least the checkpoint's commit", exp, f, when,
                     purge > s->taken_at ? "in " : "", purge > s->taken_at ? d : "already due");
        } else {
            snprintf(buf, sizeof buf, "binlog retention %s: the checkpoint's file %s can be purged %s after its "
                     "last write (no transaction applied from it yet this run: its time is not known)", exp, f, exp);
        }
    }
    line(p, "Retention", buf, purge && purge - s->taken_at < 3600000 ? theme_attr(TH_WARN) : A_NORMAL);
}

static void position_lines(struct pane *p, const struct snapshot *s, const struct statelog_integration *in,
                           const struct snap_integ *x)
{
    const struct statelog_source *src = &in->src;
    char buf[512], b[32], ago[32];
    snprintf(buf, sizeof buf, "%s", src->position ? src->position : "not seen yet (the reader has not heard "
             "from the server this run)");
    if (src->position && src->at) {
        w_fmt_ago(src->at, s->taken_at, ago, sizeof ago);
        size_t n = strlen(buf);
        snprintf(buf + n, sizeof buf - n, " (seen %s)", ago);
    }
    line(p, "Source at", buf, A_NORMAL);
    snprintf(buf, sizeof buf, "%s", in->position ? in->position : "none yet");
    line(p, "Applied", buf, A_NORMAL);
    if (src->bytes_between >= 0) {
        w_fmt_bytes(src->bytes_between, b, sizeof b);
        snprintf(buf, sizeof buf, "%s of source log between them", b);
    } else if (src->files_between > 0) {
        snprintf(buf, sizeof buf, "%lld binlog file%s behind (bytes across files not measured)",
                 (long long)src->files_between, src->files_between == 1 ? "" : "s");
    } else {
        snprintf(buf, sizeof buf, "unknown (no source position seen)");
    }
    line(p, "Between", buf, A_NORMAL);
    w_fmt_bytes(in->bytes_behind, b, sizeof b);
    snprintf(buf, sizeof buf, "%s read from the source and not yet applied", in->bytes_behind >= 0 ? b : "unknown");
    line(p, "Queued", buf, A_NORMAL);
    if (x && x->source_slot) {
        snprintf(buf, sizeof buf, "slot %s, publication %s (a paused or failed integration's slot retains WAL: "
                 "Between shows how much)", x->slot[0] ? x->slot : "?",
                 x->publication[0] ? x->publication : "?");
        line(p, "Source log", buf, A_NORMAL);
    } else if (x) {
        retention_line(p, s, in);
    }
}

/* One table's copy: rows, chunks, rows/s, ETA (the log's figures, statelog.h "Copy progress"). */
static void copy_line(struct pane *p, const struct statelog_table *t, int named)
{
    char buf[512], done[32], est[32], r[48] = "rate not measured yet", eta[48] = "", chunk[40] = "";
    w_fmt_count(t->rows_copied, done, sizeof done);
    if (t->copy_rows_per_s >= 0) {
        w_fmt_count((int64_t)(t->copy_rows_per_s + 0.5), est, sizeof est);
        snprintf(r, sizeof r, "%s rows/s", est);
    }
    if (t->copy_chunks >= 0) snprintf(chunk, sizeof chunk, " in %lld chunks", (long long)t->copy_chunks);
    if (t->copy_eta_s >= 0) {
        char d[32];
        w_fmt_eta(t->copy_eta_s, d, sizeof d);
        snprintf(eta, sizeof eta, ", ETA %s", d);
    }
    if (t->rows_estimated > 0) {
        w_fmt_count(t->rows_estimated, est, sizeof est);
        int pct = (int)(t->rows_copied * 100 / t->rows_estimated);
        snprintf(buf, sizeof buf, "%s%s%s of ~%s rows (%d%%)%s, %s%s", named ? t->name : "", named ? ": " : "",
                 done, est, pct > 100 ? 100 : pct, chunk, r, eta);
    } else {
        snprintf(buf, sizeof buf, "%s%s%s rows (no estimate)%s, %s", named ? t->name : "", named ? ": " : "", done,
                 chunk, r);
    }
    line(p, "Copy", buf, A_NORMAL);
}

static void events_lines(struct pane *p, const struct snapshot *s, const char *integ, const char *table)
{
    title(p, table ? "Recent events of the table" : "Recent events of the integration");
    int n = 0;
    for (size_t i = 0; i < s->nev && n < EVENTS_N; i++) {
        const struct statelog_event *e = &s->ev[i];
        if (!e->integration || strcmp(e->integration, integ) != 0) continue;
        if (table && (!e->table || strcmp(e->table, table) != 0)) continue;
        char clock[32], buf[1200];
        w_fmt_clock(e->at, clock, sizeof clock);
        snprintf(buf, sizeof buf, "%s %s%s%s: %s%s%s%s", e->level, e->kind, !table && e->table ? " " : "",
                 !table && e->table ? e->table : "", e->message, e->actor ? " (by " : "",
                 e->actor ? e->actor : "", e->actor ? ")" : "");
        line(p, clock, buf, !strcmp(e->level, "error") ? theme_attr(TH_ERROR)
                            : !strcmp(e->level, "warning") ? theme_attr(TH_WARN) : A_NORMAL);
        n++;
    }
    if (!n) line(p, "", "none among the recent events", A_NORMAL);
}

/* ha (statelog.h ha_*; nothing without it): the lease, this process, the standbys. */
static void ha_lines(struct pane *p, const struct statelog_integration *in, const struct snap_integ *x)
{
    char buf[640];
    if (!in->ha_role) return;
    w_fmt_ha_lease(buf, sizeof buf, in);
    line(p, "Lease", buf, A_NORMAL);
    const char *me = in->ha_member && in->ha_member[0] ? in->ha_member : "?";
    int stale = x && x->last_state[0];
    if (!strcmp(in->ha_role, "active"))
        snprintf(buf, sizeof buf, "%s, active: it holds the lease and runs the integration%s", me,
                 stale ? " (as of its last run: it is not running now)" : "");
    else if (!strcmp(in->ha_role, "standby"))
        snprintf(buf, sizeof buf, "%s, a standby: it holds no source connection and takes the lease over when "
                 "the holder's heartbeat stops (Reason says after how long)%s", me,
                 stale ? " (as of its last run: it is not running now)" : "");
    else
        snprintf(buf, sizeof buf, "%s, %s", me, in->ha_role);
    line(p, "This process", buf, A_NORMAL);
    line(p, "Standbys", in->ha_standbys && in->ha_standbys[0] ? in->ha_standbys
                        : "none seen (no other member has beaten within takeover_seconds)", A_NORMAL);
}

static void describe_integration(struct pane *p, const struct snapshot *s, const struct statelog_integration *in,
                                 const struct snap_integ *x)
{
    char buf[512];
    snprintf(buf, sizeof buf, "Integration %s   %s -> %s", in->name, in->source ? in->source : "?",
             in->target ? in->target : "?");
    title(p, buf);
    enum istate st = istate_parse(in->state);
    state_lines(p, s, in->name, NULL, in->state, in->reason, theme_istate_role(st), istate_needs_attention(st));
    ha_lines(p, in, x);
    wait_lines(p, s, in);
    position_lines(p, s, in, x);
    int ncopy = 0;
    size_t counts[4] = {0};         /* synced, copying, failed, other */
    for (size_t t = 0; t < in->ntables; t++) {
        const struct statelog_table *tb = &in->tables[t];
        enum tstate ts = tstate_parse(tb->state);
        int copying = tstate_copying(ts);
        counts[ts == TSTATE_SYNCED ? 0 : copying ? 1 : tstate_needs_attention(ts) ? 2 : 3]++;
        if (copying && ncopy++ < 8) copy_line(p, tb, 1);
    }
    snprintf(buf, sizeof buf, "%zu: %zu synced, %zu copying, %zu failed or resync_required, %zu other",
             in->ntables, counts[0], counts[1], counts[2], counts[3]);
    line(p, "Tables", buf, A_NORMAL);
    events_lines(p, s, in->name, NULL);
}

static void describe_table(struct pane *p, const struct snapshot *s, const struct statelog_integration *in,
                           const struct snap_integ *x, size_t ti)
{
    const struct statelog_table *t = &in->tables[ti];
    char buf[640], i[32], u[32], d[32], when[32];
    snprintf(buf, sizeof buf, "Table %s of %s   -> %s", t->name, in->name, t->target ? t->target : t->name);
    title(p, buf);
    enum tstate ts = tstate_parse(t->state);
    state_lines(p, s, in->name, t->name, t->state, t->reason, theme_tstate_role(ts), tstate_needs_attention(ts));
    if (tstate_copying(ts) || t->rows_copied)
        copy_line(p, t, 0);
    line(p, "Deletes", w_shape_history(t->shape) ? "history: every version kept; a delete closes the active one "
                                                   "(_record_is_active, _record_create_time, _record_delete_time)"
                       : w_shape_soft_delete(t->shape) ? "soft: marked (_zetl_is_deleted, _zetl_deleted_at), not removed"
                                                       : "removed from the target", A_NORMAL);
    w_fmt_shape(buf, sizeof buf, t->shape, 1);
    line(p, "Transforms", buf[0] ? buf : "none", A_NORMAL);
    line(p, "Rows", w_shape_filtered(t->shape) ? "only those its tables.filters entry selects" : "all", A_NORMAL);
    w_fmt_count(t->inserts, i, sizeof i);
    w_fmt_count(t->updates, u, sizeof u);
    w_fmt_count(t->deletes, d, sizeof d);
    w_fmt_ago(t->last_applied_at, s->taken_at, when, sizeof when);
    snprintf(buf, sizeof buf, "%s inserts, %s updates, %s deletes; last applied %s", i, u, d,
             t->last_applied_at ? when : "never");
    line(p, "Changes", buf, A_NORMAL);
    snprintf(buf, sizeof buf, "integration %s is %s", in->name, in->state);
    line(p, "Integration", buf, theme_attr(theme_istate_role(istate_parse(in->state))));
    if (w_fmt_ha(buf, sizeof buf, in, x && x->last_state[0]))
        line(p, "HA", buf, A_NORMAL);
    wait_lines(p, s, in);
    position_lines(p, s, in, x);
    events_lines(p, s, in->name, t->name);
}

static void update(struct view_ctx *c) { (void)c; }

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    const struct snap_integ *x = NULL;
    const struct statelog_integration *in = view_cur_integ(c, &x);
    struct pane p = {.w = w, .y = y, .h = h, .width = width};
    page = h;
    if (!in || !c->snap) {
        line(&p, "", "no integration selected", A_NORMAL);
        nrows = p.row;
        return;
    }
    if (c->describe_table) {
        size_t ti = in->ntables;
        for (size_t t = 0; t < in->ntables; t++)
            if (!strcmp(in->tables[t].name, c->table)) ti = t;
        if (ti == in->ntables) {
            char buf[400];
            snprintf(buf, sizeof buf, "table %s is no longer in integration %s", c->table, in->name);
            line(&p, "", buf, A_NORMAL);
        } else {
            describe_table(&p, c->snap, in, x, ti);
        }
    } else {
        describe_integration(&p, c->snap, in, x);
    }
    nrows = p.row;
    if (top > nrows - h) top = nrows - h;
    if (top < 0) top = 0;
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    switch (a) {
    case A_UP: top--; break;
    case A_DOWN: top++; break;
    case A_PGUP: top -= page; break;
    case A_PGDN: top += page; break;
    case A_HOME: top = 0; break;
    case A_END: top = nrows; break;
    case A_BACK: top = 0; return VF_BACK;
    case A_RETRY:
        req->action = A_RETRY;
        snprintf(req->integ, sizeof req->integ, "%s", c->integ);
        return VF_REQUEST;
    default: return VF_UNHANDLED;
    }
    if (top > nrows - page) top = nrows - page;
    if (top < 0) top = 0;
    return VF_REDRAW;
}

const struct view view_describe = {
    "Describe", &keymap_describe, update, draw, handle_key, NULL, NULL,
};

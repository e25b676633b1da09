/*
 * activity.c — the recent applied batches and checkpoints of the selected
 * integration, newest first (like Redshift's SYS_INTEGRATION_ACTIVITY):
 * time, position range, transactions, rows inserted/updated/deleted, bytes,
 * apply duration. `/` filters by a substring of the position range as it
 * is typed.
 *
 * The list follows new batches (view_tail), and counts those that arrived
 * while the operator looked further down ("N new"). The position range is
 * written compactly (the end's file is not repeated) and, when cut, loses
 * its start rather than its end: the end is where the integration is.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

static struct w_list list;
static struct view_tail tail;
static const struct statelog_activity **rows;
static size_t nrows, caprows;
static char filter_text[128];
static int page = 10;
static char idbuf[32];

static const char *id_of(size_t i, void *arg)
{
    (void)arg;
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)rows[i]->id);
    return idbuf;
}

static int64_t key_of(size_t i, void *arg)
{
    (void)arg;
    return rows[i]->id;
}

/* "binlog.000003:4567 → 8901" when both ends are in one file (the part up
 * to the last ':' alike), else "from → to". */
static void fmt_range(const struct statelog_activity *a, char *buf, size_t len)
{
    const char *from = a->pos_from ? a->pos_from : "-", *to = a->pos_to ? a->pos_to : "-";
    const char *fc = strrchr(from, ':'), *tc = strrchr(to, ':');
    if (fc && tc && fc - from == tc - to && strncmp(from, to, (size_t)(fc - from)) == 0 && !strchr(to, ','))
        snprintf(buf, len, "%s %s %s", from, theme_glyph->arrow, tc + 1);
    else
        snprintf(buf, len, "%s %s %s", from, theme_glyph->arrow, to);
}

static void update(struct view_ctx *c)
{
    const struct snapshot *s = c->snap;
    nrows = 0;
    if (!s) return;
    if (s->nact > caprows) {
        const struct statelog_activity **nr = realloc(rows, s->nact * sizeof *rows);
        if (!nr) return;
        rows = nr;
        caprows = s->nact;
    }
    for (size_t i = 0; i < s->nact; i++) {
        const struct statelog_activity *a = &s->act[i];
        if (filter_text[0] && !(a->pos_from && strcasestr(a->pos_from, filter_text)) &&
            !(a->pos_to && strcasestr(a->pos_to, filter_text)))
            continue;
        rows[nrows++] = a;
    }
    view_tail_resolve(&tail, &list, nrows, id_of, key_of, NULL);
}

enum { C_TIME, C_RANGE, C_TXN, C_INS, C_UPD, C_DEL, C_BYTES, C_DUR, NCOL };
static const struct w_col cols[NCOL] = {
    [C_TIME]  = {"TIME", 8, 0, 0, 0},
    [C_RANGE] = {"POSITION RANGE", 18, 3, 0, 1},
    [C_TXN]   = {"TXNS", 6, 1, 1, 0},
    [C_INS]   = {"INS", 7, 0, 1, 0},
    [C_UPD]   = {"UPD", 7, 0, 1, 0},
    [C_DEL]   = {"DEL", 7, 0, 1, 0},
    [C_BYTES] = {"BYTES", 8, 2, 1, 0},
    [C_DUR]   = {"DURATION", 8, 1, 1, 0},
};

static int col_x(const int *widths, int upto)
{
    int x = 0;
    for (int k = 0; k < upto; k++) if (widths[k]) x += widths[k] + 1;
    return x;
}

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    const struct snapshot *s = c->snap;
    char line[512], fresh[48] = "";
    if (tail.away && tail.nnew)
        snprintf(fresh, sizeof fresh, "  %s %zu new (g: newest)", theme_unicode ? "\xe2\x86\x91" : "^", tail.nnew);
    snprintf(line, sizeof line, "Activity of %s: %zu recent batches, newest first%s%s%s%s", s ? s->focus : "",
             nrows, filter_text[0] ? "  filter: \"" : "", filter_text, filter_text[0] ? "\"" : "", fresh);
    wattrset(w, A_BOLD);
    w_text(w, y, 0, width, line, 0);
    wattrset(w, A_NORMAL);
    int widths[NCOL];
    w_table_layout(cols, NCOL, width, widths);
    w_table_header(w, y + 1, cols, NCOL, widths);
    if (!nrows) {
        w_text(w, y + 2, 1, width - 1, s && s->nact ? "No batch matches the filter (/ to change it)."
                                                     : "No batch applied yet.", 0);
        return;
    }
    int nvis = h - 2;
    page = nvis;
    w_list_scroll(&list, nvis, nrows);
    for (int r = 0; r < nvis && list.top + r < (int)nrows; r++) {
        const struct statelog_activity *a = rows[list.top + r];
        char t[16], range[512], txn[16], ins[16], upd[16], del[16], bytes[16], dur[16];
        w_fmt_clock(a->at, t, sizeof t);
        fmt_range(a, range, sizeof range);
        w_fmt_count(a->transactions, txn, sizeof txn);
        w_fmt_count(a->inserted, ins, sizeof ins);
        w_fmt_count(a->updated, upd, sizeof upd);
        w_fmt_count(a->deleted, del, sizeof del);
        w_fmt_bytes(a->bytes, bytes, sizeof bytes);
        w_fmt_lag(a->duration_ms, dur, sizeof dur);
        const char *cells[NCOL] = {t, "", txn, ins, upd, del, bytes, dur};
        attr_t ra = list.top + r == list.sel ? theme_attr(TH_SELECTED) : A_NORMAL;
        w_table_row(w, y + 2 + r, cols, NCOL, widths, cells, NULL, ra);
        if (widths[C_RANGE]) {
            wattrset(w, ra);
            w_text_tail(w, y + 2 + r, col_x(widths, C_RANGE), widths[C_RANGE], range);
            wattrset(w, A_NORMAL);
        }
    }
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    (void)c;
    int f = view_move(&list, a, page, nrows, id_of, NULL);
    if (f) {
        view_tail_moved(&tail, &list, nrows, key_of, NULL);
        return f;
    }
    if (a == A_FILTER) {
        req->action = A_FILTER;
        return VF_REQUEST;
    }
    return VF_UNHANDLED;
}

static void set_filter(struct view_ctx *c, const char *text)
{
    snprintf(filter_text, sizeof filter_text, "%s", text ? text : "");
    update(c);
}

static const char *get_filter(void) { return filter_text; }

const struct view view_activity = {
    "Activity", &keymap_activity, update, draw, handle_key, set_filter, get_filter,
};

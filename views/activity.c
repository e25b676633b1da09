/*
 * activity.c — the recent applied batches and checkpoints of the selected
 * integration, newest first (like Redshift's SYS_INTEGRATION_ACTIVITY):
 * time, position range, transactions, rows inserted/updated/deleted, bytes,
 * apply duration.
 */
#include <stdio.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

static struct w_list list;
static int page = 10;
static char idbuf[32];

static const char *id_of(size_t i, void *arg)
{
    const struct snapshot *s = arg;
    snprintf(idbuf, sizeof idbuf, "%lld", (long long)s->act[i].id);
    return idbuf;
}

static void update(struct view_ctx *c)
{
    if (c->snap) w_list_resolve(&list, c->snap->nact, id_of, (void *)c->snap);
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

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    const struct snapshot *s = c->snap;
    char line[256];
    snprintf(line, sizeof line, "Activity of %s: %zu recent batches, newest first", s ? s->focus : "",
             s ? s->nact : 0);
    wattrset(w, A_BOLD);
    w_text(w, y, 0, width, line, 0);
    wattrset(w, A_NORMAL);
    int widths[NCOL];
    w_table_layout(cols, NCOL, width, widths);
    w_table_header(w, y + 1, cols, NCOL, widths);
    if (!s || !s->nact) {
        w_text(w, y + 2, 1, width - 1, "No batch applied yet.", 0);
        return;
    }
    int nvis = h - 2;
    page = nvis;
    w_list_scroll(&list, nvis, s->nact);
    for (int r = 0; r < nvis && list.top + r < (int)s->nact; r++) {
        const struct statelog_activity *a = &s->act[list.top + r];
        char t[16], range[256], txn[16], ins[16], upd[16], del[16], bytes[16], dur[16];
        w_fmt_clock(a->at, t, sizeof t);
        snprintf(range, sizeof range, "%s %s %s", a->pos_from ? a->pos_from : "-", theme_glyph->arrow,
                 a->pos_to ? a->pos_to : "-");
        w_fmt_count(a->transactions, txn, sizeof txn);
        w_fmt_count(a->inserted, ins, sizeof ins);
        w_fmt_count(a->updated, upd, sizeof upd);
        w_fmt_count(a->deleted, del, sizeof del);
        w_fmt_bytes(a->bytes, bytes, sizeof bytes);
        w_fmt_lag(a->duration_ms, dur, sizeof dur);
        const char *cells[NCOL] = {t, range, txn, ins, upd, del, bytes, dur};
        w_table_row(w, y + 2 + r, cols, NCOL, widths, cells, NULL,
                    list.top + r == list.sel ? theme_attr(TH_SELECTED) : A_NORMAL);
    }
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    (void)req;
    int f = view_move(&list, a, page, c->snap ? c->snap->nact : 0, id_of, (void *)c->snap);
    return f ? f : VF_UNHANDLED;
}

const struct view view_activity = {
    "Activity", &keymap_activity, update, draw, handle_key, NULL, NULL,
};

/*
 * integrations.c — the home view: one row per integration with its state,
 * lag and a sparkline of the last minutes, rows/s, tables synced/total and
 * the last error. The attention banner is drawn by the console from the
 * same snapshot (console_banner).
 */
#include <stdio.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

static struct w_list list;
static int page = 10;

static const char *id_of(size_t i, void *arg)
{
    const struct snapshot *s = arg;
    return s->integ[i].name;
}

static void update(struct view_ctx *c)
{
    const struct snapshot *s = c->snap;
    if (!s) return;
    if (c->integ[0] && !list.id[0]) snprintf(list.id, sizeof list.id, "%s", c->integ);
    w_list_resolve(&list, s->ninteg, id_of, (void *)s);
    if (s->ninteg) snprintf(c->integ, sizeof c->integ, "%.127s", list.id);
}

enum { C_NAME, C_ROUTE, C_STATE, C_LAG, C_TREND, C_RATE, C_TABLES, C_MODE, C_ERROR, NCOL };
static const struct w_col cols[NCOL] = {
    [C_NAME]   = {"INTEGRATION", 14, 0, 0, 0},
    [C_ROUTE]  = {"SOURCE -> TARGET", 30, 5, 0, 1},
    [C_STATE]  = {"STATE", 15, 0, 0, 0},
    [C_LAG]    = {"LAG", 7, 0, 1, 0},
    [C_TREND]  = {"LAG 10 MIN", 12, 3, 0, 0},
    [C_RATE]   = {"ROWS/S", 7, 2, 1, 0},
    [C_TABLES] = {"TABLES", 9, 1, 1, 0},
    [C_MODE]   = {"RUN BY", 12, 6, 0, 0},
    [C_ERROR]  = {"LAST ERROR", 20, 4, 0, 1},
};

/* The selected integration in full: the reason is never cut off here. */
static void draw_detail(WINDOW *w, int y, int rows, int width, const struct statelog_integration *in,
                        const struct snap_integ *x, int64_t now)
{
    char line[1024], lag[32], bytes[32];
    wattrset(w, theme_attr(TH_DIM));
    mvwhline(w, y, 0, ' ', width);
    wattrset(w, A_BOLD);
    snprintf(line, sizeof line, "%s: %s %s %s", in->name, in->source ? in->source : "?",
             theme_glyph->arrow, in->target ? in->target : "?");
    w_text(w, y + 1, 0, width, line, 0);
    wattrset(w, theme_attr(theme_state_role(in->state)));
    snprintf(line, sizeof line, "state %s%s%s", in->state, in->reason ? ": " : "", in->reason ? in->reason : "");
    int used = w_wrap(w, line, y + 2, 0, width, rows - 3);
    if (in->stalled_since && used < rows - 3) {
        char d[32];
        w_fmt_lag(now - in->stalled_since, d, sizeof d);
        wattrset(w, theme_attr(TH_WARN));
        snprintf(line, sizeof line, "STALLED for %s: changes wait and the applied position has not moved", d);
        used += w_wrap(w, line, y + 2 + used, 0, width, rows - 3 - used);
    }
    wattrset(w, A_NORMAL);
    w_fmt_lag_res(in->lag_ms, in->lag_res_ms, lag, sizeof lag);
    w_fmt_bytes(in->bytes_behind, bytes, sizeof bytes);
    snprintf(line, sizeof line, "position %s  lag %s  behind %s  %s", in->position ? in->position : "-",
             lag, bytes, x->attached ? "attached to `zetl run`: quitting leaves it running" : "");
    w_text(w, y + 2 + used, 0, width, line, 0);
}

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    const struct snapshot *s = c->snap;
    int widths[NCOL];
    w_table_layout(cols, NCOL, width, widths);
    w_table_header(w, y, cols, NCOL, widths);
    if (!s || s->ninteg == 0) {
        w_text(w, y + 2, 1, width - 2, s && s->error[0] ? s->error
               : "No integration has reported yet; the runtime is starting.", 0);
        return;
    }
    int detail = h >= 16 ? 6 : h >= 10 ? 4 : 0;
    int rows = h - 1 - detail;
    page = rows;
    w_list_scroll(&list, rows, s->ninteg);
    for (int r = 0; r < rows && list.top + r < (int)s->ninteg; r++) {
        int i = list.top + r;
        const struct statelog_integration *in = &s->integ[i];
        const struct snap_integ *x = &s->ext[i];
        char route[512], lag[32], rate[32], tables[32], mode[48];
        snprintf(route, sizeof route, "%s %s %s", in->source ? in->source : "?", theme_glyph->arrow,
                 in->target ? in->target : "?");
        w_fmt_lag_res(in->lag_ms, in->lag_res_ms, lag, sizeof lag);
        w_fmt_count((int64_t)(x->rows_per_s + 0.5), rate, sizeof rate);
        size_t synced = 0;
        for (size_t t = 0; t < in->ntables; t++)
            if (strcmp(in->tables[t].state, "synced") == 0) synced++;
        snprintf(tables, sizeof tables, "%zu/%zu", synced, in->ntables);
        if (x->attached) snprintf(mode, sizeof mode, "run pid %ld", x->holder_pid);
        else if (x->holder_pid) snprintf(mode, sizeof mode, "this console");
        else snprintf(mode, sizeof mode, "nobody");
        /* Stalled shows in place of the state it stalls (statelog.h "Lag"). */
        const char *cells[NCOL] = {in->name, route, in->stalled_since ? "stalled" : in->state, lag, "",
                                   rate, tables, mode, in->reason ? in->reason : ""};
        attr_t attrs[NCOL] = {0};
        attrs[C_STATE] = theme_attr(in->stalled_since ? TH_WARN : theme_state_role(in->state));
        if (in->reason && (!strcmp(in->state, "failed") || !strcmp(in->state, "needs_attention")))
            attrs[C_ERROR] = theme_attr(TH_ERROR);
        attr_t ra = i == list.sel ? theme_attr(TH_SELECTED) : A_NORMAL;
        w_table_row(w, y + 1 + r, cols, NCOL, widths, cells, attrs, ra);
        if (widths[C_TREND]) {
            int x0 = 0;
            for (int k = 0; k < C_TREND; k++) if (widths[k]) x0 += widths[k] + 1;
            w_sparkline(w, y + 1 + r, x0, widths[C_TREND], x->spark, MODEL_SPARK_N,
                        ra ? ra : theme_attr(TH_BUSY));
        }
    }
    if (detail && list.sel < (int)s->ninteg)
        draw_detail(w, y + h - detail, detail, width, &s->integ[list.sel], &s->ext[list.sel],
                    s->taken_at);
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    const struct snapshot *s = c->snap;
    size_t n = s ? s->ninteg : 0;
    int f = view_move(&list, a, page, n, id_of, (void *)s);
    if (f) {
        if (n) snprintf(c->integ, sizeof c->integ, "%.127s", list.id);
        return f;
    }
    switch (a) {
    case A_ENTER:
        if (!n) return 0;
        req->view = V_TABLES;
        return VF_OPEN;
    case A_RESYNC_ALL:
        if (!n) return 0;
        req->action = a;
        snprintf(req->integ, sizeof req->integ, "%s", c->integ);
        return VF_REQUEST;
    default:
        return VF_UNHANDLED;
    }
}

const struct view view_integrations = {
    "Integrations", &keymap_integrations, update, draw, handle_key, NULL, NULL,
};

/*
 * integrations.c — the home view: one row per integration with its state,
 * lag and a sparkline of the last minutes, rows/s, tables synced/total and
 * the last error. The attention banner is drawn by the console from the
 * same snapshot (console_banner). `/` filters as it is typed by a
 * substring of name, state, source, target, reason or ha holder. TABLES
 * counts synced of the tables still in the source (dropped ones are not
 * counted). SOURCE -> TARGET widens on a wide terminal as far as its
 * longest value. With ha (statelog.h ha_*), HOLDER names the member that
 * holds each integration's lease ("(this)": this process), and the line
 * below the list says the lease's epoch and the standbys; without ha on
 * any integration shown, HOLDER is not there at all.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

static struct w_list list;
static int page = 10;
static size_t *shown;           /* indexes into snap->integ that pass the filter */
static size_t nshown, capshown;
static char filter_text[128];

static const char *id_of(size_t i, void *arg)
{
    const struct snapshot *s = arg;
    return s->integ[shown[i]].name;
}

static int has(const char *field, const char *text)
{
    return field && strcasestr(field, text);
}

static void update(struct view_ctx *c)
{
    const struct snapshot *s = c->snap;
    nshown = 0;
    if (!s) return;
    if (s->ninteg > capshown) {
        size_t *nr = realloc(shown, s->ninteg * sizeof *shown);
        if (!nr) return;
        shown = nr;
        capshown = s->ninteg;
    }
    for (size_t i = 0; i < s->ninteg; i++) {
        const struct statelog_integration *in = &s->integ[i];
        if (filter_text[0] && !has(in->name, filter_text) && !has(in->state, filter_text) &&
            !has(in->source, filter_text) && !has(in->target, filter_text) && !has(in->reason, filter_text) &&
            !has(in->ha_holder, filter_text))
            continue;
        shown[nshown++] = i;
    }
    if (c->integ[0] && !list.id[0]) snprintf(list.id, sizeof list.id, "%s", c->integ);
    w_list_resolve(&list, nshown, id_of, (void *)s);
    if (nshown) snprintf(c->integ, sizeof c->integ, "%.127s", list.id);
}

enum { C_NAME, C_ROUTE, C_STATE, C_HA, C_LAG, C_TREND, C_RATE, C_TABLES, C_MODE, C_ERROR, NCOL };
static const struct w_col cols[NCOL] = {
    [C_NAME]   = {"INTEGRATION", 14, 0, 0, 0},
    [C_ROUTE]  = {"SOURCE -> TARGET", 30, 5, 0, 1},
    [C_STATE]  = {"STATE", 15, 0, 0, 0},
    [C_HA]     = {"HOLDER", 14, 2, 0, 0},       /* ha only: before RATE, so it stays at 80 */
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
    wattrset(w, theme_attr(theme_istate_role(istate_parse(in->state))));
    if (x->last_state[0]) {         /* nobody runs it: since when, who ran it, what it was */
        char live[640];
        liveness_describe(&x->live, live, sizeof live);
        snprintf(line, sizeof line, "state %s: %s; last state %s%s%s", in->state, live, x->last_state,
                 in->reason ? ": " : "", in->reason ? in->reason : "");
    } else if (x->live.running) {   /* and who runs it */
        char live[640];
        liveness_describe(&x->live, live, sizeof live);
        snprintf(line, sizeof line, "state %s%s%s; %s", in->state, in->reason ? ": " : "",
                 in->reason ? in->reason : "", live);
    } else {
        snprintf(line, sizeof line, "state %s%s%s", in->state, in->reason ? ": " : "", in->reason ? in->reason : "");
    }
    int used = w_wrap(w, line, y + 2, 0, width, rows - 3);
    if (in->stalled_since && used < rows - 3) {
        char d[32];
        w_fmt_lag(now - in->stalled_since, d, sizeof d);
        wattrset(w, theme_attr(TH_WARN));
        snprintf(line, sizeof line, "STALLED for %s: changes wait and the applied position has not moved", d);
        used += w_wrap(w, line, y + 2 + used, 0, width, rows - 3 - used);
    }
    if (in->wait.kind && strcmp(in->wait.kind, "held") == 0 && in->wait.detail && used < rows - 3) {
        char d[32];
        w_fmt_lag(in->wait.since ? now - in->wait.since : 0, d, sizeof d);
        wattrset(w, A_BOLD);
        snprintf(line, sizeof line, "RECEIVING for %s: %s", d, in->wait.detail);
        used += w_wrap(w, line, y + 2 + used, 0, width, rows - 3 - used);
    }
    wattrset(w, A_NORMAL);
    if (w_fmt_ha(line + 4, sizeof line - 4, in, x->last_state[0] != 0) && used < rows - 3) {
        memcpy(line, "ha: ", 4);    /* who holds the lease, this process's part, the standbys */
        used += w_wrap(w, line, y + 2 + used, 0, width, rows - 3 - used);
    }
    w_fmt_lag_res(in->lag_ms, in->lag_res_ms, lag, sizeof lag);
    w_fmt_bytes(in->bytes_behind, bytes, sizeof bytes);
    snprintf(line, sizeof line, "position %s  lag %s  behind %s  %s", in->position ? in->position : "-",
             lag, bytes, x->attached ? "attached to `zetl run`: quitting leaves it running" : "");
    w_text(w, y + 2 + used, 0, width, line, 0);
}

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    const struct snapshot *s = c->snap;
    int widths[NCOL], want[NCOL] = {0};
    /* SOURCE -> TARGET takes spare width only as far as its longest value */
    for (size_t i = 0; s && i < nshown; i++) {
        const struct statelog_integration *in = &s->integ[shown[i]];
        int n = (int)(strlen(in->source ? in->source : "?") + strlen(in->target ? in->target : "?") + 4);
        if (n > want[C_ROUTE]) want[C_ROUTE] = n;
    }
    if (!want[C_ROUTE]) want[C_ROUTE] = cols[C_ROUTE].width;
    /* HOLDER only when an integration shown has ha: else the layout is as without it */
    struct w_col lc[NCOL];
    memcpy(lc, cols, sizeof lc);
    int any_ha = 0;
    for (size_t i = 0; s && i < nshown; i++) any_ha |= s->integ[shown[i]].ha_role != NULL;
    if (!any_ha) lc[C_HA].width = 0;
    w_table_layout_want(lc, NCOL, width, want, widths);
    w_table_header(w, y, lc, NCOL, widths);
    if (!s || s->ninteg == 0) {
        w_text(w, y + 2, 1, width - 2, s && s->error[0] ? s->error
               : "No integration has reported yet; the runtime is starting.", 0);
        return;
    }
    if (nshown == 0) {
        w_text(w, y + 2, 1, width - 2, "No integration matches the filter (/ to change it).", 0);
        return;
    }
    int detail = h >= 16 ? 6 : h >= 10 ? 4 : 0;
    if (detail && h >= 18 && list.sel < (int)nshown && s->integ[shown[list.sel]].ha_role)
        detail += 2;                /* the ha line: holder, epoch, standbys */
    int nvis = h - 1 - detail;
    page = nvis;
    w_list_scroll(&list, nvis, nshown);
    for (int r = 0; r < nvis && list.top + r < (int)nshown; r++) {
        int i = (int)shown[list.top + r];
        const struct statelog_integration *in = &s->integ[i];
        const struct snap_integ *x = &s->ext[i];
        char route[512], lag[32], rate[32], tables[32], mode[48], holder[96];
        snprintf(route, sizeof route, "%s %s %s", in->source ? in->source : "?", theme_glyph->arrow,
                 in->target ? in->target : "?");
        w_fmt_lag_res(in->lag_ms, in->lag_res_ms, lag, sizeof lag);
        w_fmt_count((int64_t)(x->rows_per_s + 0.5), rate, sizeof rate);
        size_t synced = 0, counted = 0;
        for (size_t t = 0; t < in->ntables; t++) {
            enum tstate ts = tstate_parse(in->tables[t].state);
            if (ts == TSTATE_DROPPED_SOURCE) continue;   /* gone from the source */
            counted++;
            if (ts == TSTATE_SYNCED) synced++;
        }
        snprintf(tables, sizeof tables, "%zu/%zu", synced, counted);
        if (x->attached) snprintf(mode, sizeof mode, "run pid %ld", x->holder_pid);
        else if (x->holder_pid) snprintf(mode, sizeof mode, "this console");
        else snprintf(mode, sizeof mode, "nobody");
        w_fmt_ha_holder(holder, sizeof holder, in, widths[C_HA]);
        /* Stalled shows in place of the state it stalls (statelog.h "Lag"). */
        const char *cells[NCOL] = {in->name, route, in->stalled_since ? "stalled" : in->state, holder, lag, "",
                                   rate, tables, mode, in->reason ? in->reason : ""};
        attr_t attrs[NCOL] = {0};
        enum istate st = istate_parse(in->state);
        attrs[C_STATE] = theme_attr(in->stalled_since ? TH_WARN : theme_istate_role(st));
        if (in->reason && istate_needs_attention(st))
            attrs[C_ERROR] = theme_attr(TH_ERROR);
        attr_t ra = list.top + r == list.sel ? theme_attr(TH_SELECTED) : A_NORMAL;
        w_table_row(w, y + 1 + r, lc, NCOL, widths, cells, attrs, ra);
        if (widths[C_TREND]) {
            int x0 = 0;
            for (int k = 0; k < C_TREND; k++) if (widths[k]) x0 += widths[k] + 1;
            w_sparkline(w, y + 1 + r, x0, widths[C_TREND], x->spark, MODEL_SPARK_N,
                        ra ? ra : theme_attr(TH_BUSY));
        }
    }
    if (detail && list.sel < (int)nshown)
        draw_detail(w, y + h - detail, detail, width, &s->integ[shown[list.sel]], &s->ext[shown[list.sel]],
                    s->taken_at);
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    const struct snapshot *s = c->snap;
    size_t n = s ? nshown : 0;
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
    case A_FILTER:
        req->action = A_FILTER;
        return VF_REQUEST;
    default:
        return VF_UNHANDLED;
    }
}

static void set_filter(struct view_ctx *c, const char *text)
{
    snprintf(filter_text, sizeof filter_text, "%s", text ? text : "");
    update(c);
}

static const char *get_filter(void) { return filter_text; }

const struct view view_integrations = {
    "Integrations", &keymap_integrations, update, draw, handle_key, set_filter, get_filter,
};

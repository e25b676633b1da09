/*
 * tables.c — the tables of the selected integration: source and target
 * names, state with the copy's progress (a bar, and %, rows of the
 * estimate, chunk, rows/s, ETA: as much as the column holds; statelog.h
 * "Copy progress"), the reason for
 * failed/resync_required, stream counts, rows copied, last applied, lag,
 * and its mode (soft delete, column transforms: MODE).
 * `s` cycles the sort (state, name, lag, changes), `S` reverses it; the
 * title line and the sorted column's header show key and direction. `/`
 * filters by name as it is typed (the console calls set_filter per key).
 * Rows are rebuilt from each snapshot (filter + sort of pointers: 2,000
 * tables take well under a millisecond); the selection follows the table.
 *
 * Layout: a column whose cells are all empty in the rows shown (no reason,
 * nothing copying, no lag measured) gives way before one with values, so
 * 80 columns keep INS/UPD/DEL/APPLIED rather than blank PROGRESS/REASON.
 * The selected table's line below the list wraps: a long reason is read
 * to its end.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

enum sort_mode { SORT_STATE, SORT_NAME, SORT_LAG, SORT_CHANGES, SORT_COUNT };
static const char *sort_names[SORT_COUNT] = {"state", "name", "lag", "changes"};
/* The natural order of each key, then reversed; and whether the natural
 * order is ascending (for the header's arrow). */
static const char *sort_dir[SORT_COUNT][2] = {
    {"worst first", "best first"}, {"a-z", "z-a"}, {"highest first", "lowest first"},
    {"most first", "fewest first"},
};
static const int sort_ascending[SORT_COUNT] = {1, 1, 0, 0};
static int sort_rev;

static struct w_list list;
static const struct statelog_table **rows;
static size_t nrows, caprows, ntotal;
static enum sort_mode sort_by = SORT_STATE;
static char filter_text[128];
static char shown_integ[128];
static int page = 10;

static const char *id_of(size_t i, void *arg)
{
    (void)arg;
    return rows[i]->name;
}

/* Worst first: what needs the operator comes to the top (the tables that
 * need attention, then dropped_source), then the copies under way; a state
 * this zetl does not know goes last. */
static int state_rank(const char *s)
{
    switch (tstate_parse(s)) {
    case TSTATE_FAILED:          return 0;
    case TSTATE_RESYNC_REQUIRED: return 1;
    case TSTATE_DROPPED_SOURCE:  return 2;
    case TSTATE_RESYNCING:       return 3;
    case TSTATE_SNAPSHOTTING:    return 4;
    case TSTATE_PENDING:         return 5;
    case TSTATE_SYNCED:          return 6;
    case TSTATE_EXCLUDED:        return 7;
    default:                     return 99;
    }
}

static int cmp(const void *a, const void *b)
{
    const struct statelog_table *x = *(const struct statelog_table *const *)a;
    const struct statelog_table *y = *(const struct statelog_table *const *)b;
    int d = 0;
    switch (sort_by) {
    case SORT_STATE: d = state_rank(x->state) - state_rank(y->state); break;
    case SORT_LAG: d = (y->lag_ms > x->lag_ms) - (y->lag_ms < x->lag_ms); break;
    case SORT_CHANGES: {
        int64_t cx = x->inserts + x->updates + x->deletes, cy = y->inserts + y->updates + y->deletes;
        d = (cy > cx) - (cy < cx);
        break;
    }
    default: break;
    }
    d = d ? d : strcmp(x->name, y->name);
    return sort_rev ? -d : d;
}

static void update(struct view_ctx *c)
{
    const struct statelog_integration *in = view_cur_integ(c, NULL);
    nrows = ntotal = 0;
    if (!in) return;
    if (strcmp(shown_integ, in->name) != 0) {   /* another integration: start at the top */
        snprintf(shown_integ, sizeof shown_integ, "%s", in->name);
        memset(&list, 0, sizeof list);
        if (c->table[0]) snprintf(list.id, sizeof list.id, "%s", c->table);
    }
    if (in->ntables > caprows) {
        const struct statelog_table **nr = realloc(rows, in->ntables * sizeof *rows);
        if (!nr) return;
        rows = nr;
        caprows = in->ntables;
    }
    ntotal = in->ntables;
    for (size_t i = 0; i < in->ntables; i++) {
        const struct statelog_table *t = &in->tables[i];
        if (filter_text[0] && !strcasestr(t->name, filter_text) &&
            !(t->target && strcasestr(t->target, filter_text)))
            continue;
        rows[nrows++] = t;
    }
    if (nrows > 1) qsort(rows, nrows, sizeof *rows, cmp);
    w_list_resolve(&list, nrows, id_of, NULL);
    if (nrows) snprintf(c->table, sizeof c->table, "%s", list.id);
}

enum { C_NAME, C_TARGET, C_STATE, C_PROG, C_INS, C_UPD, C_DEL, C_COPIED, C_LAST, C_LAG, C_MODE, C_REASON, NCOL };
static const struct w_col cols[NCOL] = {
    [C_NAME]   = {"TABLE", 22, 0, 0, 1},
    [C_TARGET] = {"TARGET", 22, 7, 0, 1},
    [C_STATE]  = {"STATE", 15, 0, 0, 0},
    [C_PROG]   = {"PROGRESS", 12, 2, 0, 1},
    [C_INS]    = {"INS", 6, 3, 1, 0},
    [C_UPD]    = {"UPD", 6, 3, 1, 0},
    [C_DEL]    = {"DEL", 6, 3, 1, 0},
    [C_COPIED] = {"COPIED", 8, 6, 1, 0},
    [C_LAST]   = {"APPLIED", 8, 4, 0, 0},
    [C_LAG]    = {"LAG", 7, 5, 1, 0},
    [C_MODE]   = {"MODE", 27, 6, 0, 0},     /* "soft delete, hash 1, mask 1" */
    [C_REASON] = {"REASON", 18, 2, 0, 1},
};
#define EMPTY_GIVES_WAY 10      /* added to the prio of a column with no value shown */
#define PROG_COPYING    24      /* PROGRESS's width while a copy is shown: "45% 52.0k/s, ETA 11s" */
#define PROG_BAR        12      /* the bar a wide terminal adds before the whole progress text */
#define PROG_BAR_MIN    6       /* the least bar drawn: the text is shortened to leave it */

/* Which column the sort key is read from, for the header's arrow. */
static const int sort_col[SORT_COUNT] = {C_STATE, C_NAME, C_LAG, C_INS};

/* The cells of one table row (buffers owned by the caller). */
struct row_cells {
    char ins[16], upd[16], del[16], copied[16], last[16], lag[16], prog[160], mode[64];
};

static void fill_cells(const struct statelog_table *t, struct row_cells *b, const char **cells, int *copying)
{
    w_fmt_count(t->inserts, b->ins, sizeof b->ins);
    w_fmt_count(t->updates, b->upd, sizeof b->upd);
    w_fmt_count(t->deletes, b->del, sizeof b->del);
    w_fmt_count(t->rows_copied, b->copied, sizeof b->copied);
    w_fmt_clock(t->last_applied_at, b->last, sizeof b->last);
    w_fmt_lag_res(t->lag_ms, t->lag_res_ms, b->lag, sizeof b->lag);
    *copying = tstate_copying(tstate_parse(t->state));
    b->prog[0] = '\0';
    /* The whole form; draw fits it to the column. No estimate (a MySQL
     * table's can be 0): the rows copied so far, no percentage. */
    if (*copying)
        w_fmt_copy(b->prog, sizeof b->prog, 0, t->rows_copied, t->rows_estimated, t->copy_chunks,
                   t->copy_rows_per_s, t->copy_eta_s);
    cells[C_NAME] = t->name;
    cells[C_TARGET] = t->target ? t->target : t->name;
    cells[C_STATE] = t->state;
    cells[C_PROG] = b->prog;
    cells[C_INS] = b->ins;
    cells[C_UPD] = b->upd;
    cells[C_DEL] = b->del;
    cells[C_COPIED] = b->copied;
    cells[C_LAST] = b->last;
    cells[C_LAG] = b->lag;
    w_fmt_shape(b->mode, sizeof b->mode, t->shape, 0);
    cells[C_MODE] = b->mode;
    cells[C_REASON] = t->reason ? t->reason : "";
}

static int blank(const char *s) { return !s || !s[0] || !strcmp(s, "-"); }

static int col_x(const int *widths, int upto)
{
    int x = 0;
    for (int k = 0; k < upto; k++) if (widths[k]) x += widths[k] + 1;
    return x;
}

/* PROGRESS's width while a copy is shown (want[C_PROG], its text and a bar,
 * not 0): room for how far and how long, and on a terminal wider than every
 * other column needs, as much of the rest as it wants. Nothing copying: no
 * wider than its preferred width. */
static void prog_width(struct w_col *lc, int *want, int width)
{
    if (!want[C_PROG]) {
        want[C_PROG] = lc[C_PROG].width;
        return;
    }
    int others = 0;
    for (int k = 0; k < NCOL; k++) if (k != C_PROG) others += lc[k].width + 1;
    int room = width - others - 1;
    lc[C_PROG].width = room > want[C_PROG] ? want[C_PROG] : room > PROG_COPYING ? room : PROG_COPYING;
}

/* A copying table's progress in its row: a bar (with an estimate) and as
 * much of the text as PROGRESS holds beside at least PROG_BAR_MIN cells of
 * it; without the column, the percentage (or the rows copied) after the state. */
static void draw_progress(WINDOW *w, int y, const int *widths, const struct statelog_table *t,
                          struct row_cells *b, attr_t ra, attr_t state_attr)
{
    if (widths[C_PROG]) {
        int x0 = col_x(widths, C_PROG), cw = widths[C_PROG];
        int bar = t->rows_estimated > 0 && cw >= PROG_BAR_MIN + 1 + 4;     /* 4: "100%" */
        w_fmt_copy(b->prog, sizeof b->prog, bar ? cw - PROG_BAR_MIN - 1 : cw, t->rows_copied,
                   t->rows_estimated, t->copy_chunks, t->copy_rows_per_s, t->copy_eta_s);
        if (bar) {
            int bw = cw - (int)strlen(b->prog) - 1;
            w_bar(w, y, x0, bw, t->rows_copied, t->rows_estimated, ra ? ra : theme_attr(TH_BUSY));
            x0 += bw + 1;
        }
        wattrset(w, ra);
        w_text(w, y, x0, cw - (x0 - col_x(widths, C_PROG)), b->prog, 0);
        wattrset(w, A_NORMAL);
        return;
    }
    char line[160], pct[16] = "";
    if (t->rows_estimated > 0) {
        int64_t p = t->rows_copied * 100 / t->rows_estimated;
        snprintf(pct, sizeof pct, "%d%%", (int)(p > 100 ? 100 : p < 0 ? 0 : p));
    }
    snprintf(line, sizeof line, "%s %s", t->state, pct[0] ? pct : b->copied);
    wattrset(w, ra ? ra : state_attr);
    w_text(w, y, col_x(widths, C_STATE), widths[C_STATE], line, 0);
    wattrset(w, A_NORMAL);
}

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    const struct statelog_integration *in = view_cur_integ(c, NULL);
    char line[1024];
    if (!in) {
        w_text(w, y, 0, width, "No integration selected.", 0);
        return;
    }
    snprintf(line, sizeof line, "%s (%s): %zu of %zu tables  sort: %s %s%s%s%s", in->name, in->state, nrows, ntotal,
             sort_names[sort_by], sort_dir[sort_by][sort_rev], filter_text[0] ? "  filter: \"" : "", filter_text,
             filter_text[0] ? "\"" : "");
    wattrset(w, A_BOLD);
    w_text(w, y, 0, width, line, 0);
    wattrset(w, A_NORMAL);

    /* the selected table's line, wrapped: how many rows it takes */
    const struct statelog_table *cur = nrows ? rows[list.sel] : NULL;
    char detail_text[1200] = "";
    if (cur) {
        char last[16], copied[160];
        w_fmt_clock(cur->last_applied_at, last, sizeof last);
        if (tstate_copying(tstate_parse(cur->state)))     /* the whole progress, wrapped below */
            w_fmt_copy(copied, sizeof copied, 0, cur->rows_copied, cur->rows_estimated, cur->copy_chunks,
                       cur->copy_rows_per_s, cur->copy_eta_s);
        else if (cur->rows_estimated > 0)
            snprintf(copied, sizeof copied, "%lld/%lld", (long long)cur->rows_copied, (long long)cur->rows_estimated);
        else
            snprintf(copied, sizeof copied, "%lld", (long long)cur->rows_copied);
        snprintf(detail_text, sizeof detail_text, "%s %s %s  %s%s%s  ins %lld upd %lld del %lld  copied %s  applied %s",
                 cur->name, theme_glyph->arrow, cur->target ? cur->target : cur->name, cur->state,
                 cur->reason ? ": " : "", cur->reason ? cur->reason : "", (long long)cur->inserts,
                 (long long)cur->updates, (long long)cur->deletes, copied, last);
    }
    int detail = 0;
    if (h >= 12 && cur) {
        int max = h >= 20 ? 5 : 3;
        detail = 1 + w_wrap(NULL, detail_text, 0, 0, width, max);
    }
    int nvis = h - 2 - detail;
    page = nvis;
    w_list_scroll(&list, nvis, nrows);

    /* columns: the ones with nothing to show in these rows give way first */
    struct w_col lc[NCOL];
    memcpy(lc, cols, sizeof lc);
    int has[NCOL] = {0}, want[NCOL] = {0};
    for (int r = 0; r < nvis && list.top + r < (int)nrows; r++) {
        struct row_cells b;
        const char *cells[NCOL];
        int copying;
        fill_cells(rows[list.top + r], &b, cells, &copying);
        for (int k = 0; k < NCOL; k++) has[k] |= !blank(cells[k]);
        int need = copying ? (int)strlen(b.prog) + 1 + PROG_BAR : 0;
        if (need > want[C_PROG]) want[C_PROG] = need;
    }
    for (int k = 0; k < NCOL; k++)
        if (!has[k] && lc[k].prio > 0) lc[k].prio += EMPTY_GIVES_WAY;
    prog_width(lc, want, width);
    char sorted_title[32];
    snprintf(sorted_title, sizeof sorted_title, "%s%s", cols[sort_col[sort_by]].title,
             (sort_ascending[sort_by] ^ sort_rev) ? (theme_unicode ? "\xe2\x96\xb2" : "^")
                                                  : (theme_unicode ? "\xe2\x96\xbc" : "v"));
    lc[sort_col[sort_by]].title = sorted_title;
    int widths[NCOL];
    w_table_layout_want(lc, NCOL, width, want, widths);
    w_table_header(w, y + 1, lc, NCOL, widths);
    if (nrows == 0)
        w_text(w, y + 2, 1, width - 1, ntotal ? "No table matches the filter (/ to change it)."
                                             : "No tables yet.", 0);
    for (int r = 0; r < nvis && list.top + r < (int)nrows; r++) {
        const struct statelog_table *t = rows[list.top + r];
        struct row_cells b;
        const char *cells[NCOL];
        int copying;
        fill_cells(t, &b, cells, &copying);
        if (copying) cells[C_PROG] = "";
        attr_t attrs[NCOL] = {0};
        attrs[C_STATE] = theme_attr(theme_tstate_role(tstate_parse(t->state)));
        if (t->reason) attrs[C_REASON] = attrs[C_STATE];
        int sel = list.top + r == list.sel;
        attr_t ra = sel ? theme_attr(TH_SELECTED) : A_NORMAL;
        w_table_row(w, y + 2 + r, lc, NCOL, widths, cells, attrs, ra);
        if (copying) draw_progress(w, y + 2 + r, widths, t, &b, ra, attrs[C_STATE]);
    }
    if (detail) {
        wattrset(w, theme_attr(TH_DIM));
        mvwhline(w, y + h - detail, 0, ' ', width);
        wattrset(w, cur->reason ? theme_attr(theme_tstate_role(tstate_parse(cur->state))) : A_NORMAL);
        w_wrap(w, detail_text, y + h - detail + 1, 0, width, detail - 1);
        wattrset(w, A_NORMAL);
    }
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    int f = view_move(&list, a, page, nrows, id_of, NULL);
    if (f) {
        if (nrows) snprintf(c->table, sizeof c->table, "%s", list.id);
        return f;
    }
    switch (a) {
    case A_SORT:
        sort_by = (sort_by + 1) % SORT_COUNT;
        sort_rev = 0;
        update(c);
        return VF_REDRAW;
    case A_SORT_REV:
        sort_rev = !sort_rev;
        update(c);
        return VF_REDRAW;
    case A_FILTER:
        req->action = A_FILTER;
        return VF_REQUEST;
    case A_RESYNC:
        if (!nrows) return 0;
        req->action = A_RESYNC;
        snprintf(req->integ, sizeof req->integ, "%s", c->integ);
        snprintf(req->table, sizeof req->table, "%s", rows[list.sel]->name);
        return VF_REQUEST;
    case A_RESYNC_ALL:
        req->action = A_RESYNC_ALL;
        snprintf(req->integ, sizeof req->integ, "%s", c->integ);
        return VF_REQUEST;
    case A_ENTER:
        if (!nrows) return 0;
        c->events_only_table = 1;
        req->view = V_EVENTS;
        return VF_OPEN;
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

const struct view view_tables = {
    "Tables", &keymap_tables, update, draw, handle_key, set_filter, get_filter,
};

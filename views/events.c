/*
 * events.c — errors, warnings, state transitions and operator actions,
 * newest first; `l` cycles the level (all, warnings+, errors), `t` keeps
 * only the table selected in Tables, `a` switches between the selected
 * integration's events (with the process-wide ones) and one feed of every
 * integration's, `/` filters as it is typed by a substring of integration,
 * table, kind, message or actor.
 *
 * The list follows new events (view_tail): on the newest row it stays on
 * the newest; scrolled down, it keeps the operator's row and the title
 * counts the events that arrived since ("3 new"). The selected event's
 * line below the list wraps, so a long message is read to its end; BY
 * widens on a wide terminal up to the longest actor shown.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

static struct w_list list;
static struct view_tail tail;
static const struct statelog_event **rows;
static size_t nrows, caprows;
static int level;                 /* 0 all, 1 warning+, 2 error */
static int all_integ;             /* every integration's events */
static char filter_text[128];
static int page = 10;
static char idbuf[32];
static const char *level_names[] = {"all", "warnings and errors", "errors"};

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

static int level_of(const char *l)
{
    return !strcmp(l, "error") ? 2 : !strcmp(l, "warning") ? 1 : 0;
}

static int has(const char *field, const char *text)
{
    return field && strcasestr(field, text);
}

static void update(struct view_ctx *c)
{
    const struct snapshot *s = c->snap;
    nrows = 0;
    if (!s) return;
    if (s->nev > caprows) {
        const struct statelog_event **nr = realloc(rows, s->nev * sizeof *rows);
        if (!nr) return;
        rows = nr;
        caprows = s->nev;
    }
    for (size_t i = 0; i < s->nev; i++) {
        const struct statelog_event *e = &s->ev[i];
        if (!all_integ && e->integration && c->integ[0] && strcmp(e->integration, c->integ) != 0) continue;
        if (level_of(e->level) < level) continue;
        if (c->events_only_table && (!e->table || strcmp(e->table, c->table) != 0)) continue;
        if (filter_text[0] && !has(e->message, filter_text) && !has(e->table, filter_text) &&
            !has(e->integration, filter_text) && !has(e->kind, filter_text) && !has(e->actor, filter_text))
            continue;
        rows[nrows++] = e;
    }
    view_tail_resolve(&tail, &list, nrows, id_of, key_of, NULL);
}

enum { C_TIME, C_LEVEL, C_INTEG, C_KIND, C_TABLE, C_MSG, C_ACTOR, NCOL };
static const struct w_col cols[NCOL] = {
    [C_TIME]  = {"TIME", 8, 0, 0, 0},
    [C_LEVEL] = {"LEVEL", 7, 1, 0, 0},
    [C_INTEG] = {"INTEGRATION", 12, 2, 0, 0},
    [C_KIND]  = {"KIND", 10, 4, 0, 0},
    [C_TABLE] = {"TABLE", 18, 3, 0, 0},
    [C_MSG]   = {"MESSAGE", 30, 0, 0, 1},
    [C_ACTOR] = {"BY", 16, 5, 0, 1},
};

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    char line[1200], fresh[48] = "";
    if (tail.away && tail.nnew)
        snprintf(fresh, sizeof fresh, "  %s %zu new (g: newest)", theme_unicode ? "\xe2\x86\x91" : "^", tail.nnew);
    snprintf(line, sizeof line, "Events of %s: %zu shown  level: %s%s%s%s%s%s%s",
             all_integ || !c->integ[0] ? "all integrations" : c->integ, nrows, level_names[level],
             c->events_only_table ? "  table: " : "", c->events_only_table ? c->table : "",
             filter_text[0] ? "  filter: \"" : "", filter_text, filter_text[0] ? "\"" : "", fresh);
    wattrset(w, A_BOLD);
    w_text(w, y, 0, width, line, 0);
    wattrset(w, A_NORMAL);

    const struct statelog_event *cur = nrows ? rows[list.sel] : NULL;
    char detail_text[1200] = "";
    if (cur) {
        char t[16];
        w_fmt_clock(cur->at, t, sizeof t);
        snprintf(detail_text, sizeof detail_text, "%s %s %s%s%s: %s%s%s", t, cur->level,
                 cur->integration ? cur->integration : "", cur->table ? " " : "", cur->table ? cur->table : "",
                 cur->message ? cur->message : "", cur->actor ? "  by " : "", cur->actor ? cur->actor : "");
    }
    int detail = 0;
    if (h >= 12 && cur) detail = 1 + w_wrap(NULL, detail_text, 0, 0, width, h >= 20 ? 5 : 3);
    int nvis = h - 2 - detail;
    page = nvis;
    w_list_scroll(&list, nvis, nrows);

    /* BY grows only as far as the longest actor shown; MESSAGE takes the rest */
    int want[NCOL] = {0};
    want[C_ACTOR] = 2;
    for (int r = 0; r < nvis && list.top + r < (int)nrows; r++) {
        const struct statelog_event *e = rows[list.top + r];
        int n = e->actor ? (int)strlen(e->actor) : 0;
        if (n > want[C_ACTOR]) want[C_ACTOR] = n;
    }
    struct w_col lc[NCOL];
    memcpy(lc, cols, sizeof lc);
    if (!all_integ) lc[C_INTEG].prio = 99;      /* one integration: the title names it */
    int widths[NCOL];
    w_table_layout_want(lc, NCOL, width, want, widths);
    if (!all_integ) {
        /* hidden, its width to the message */
        if (widths[C_INTEG]) { widths[C_MSG] += widths[C_INTEG] + 1; widths[C_INTEG] = 0; }
    }
    w_table_header(w, y + 1, lc, NCOL, widths);
    if (!nrows) w_text(w, y + 2, 1, width - 1, "No events match.", 0);
    for (int r = 0; r < nvis && list.top + r < (int)nrows; r++) {
        const struct statelog_event *e = rows[list.top + r];
        char t[16];
        w_fmt_clock(e->at, t, sizeof t);
        const char *cells[NCOL] = {t, e->level, e->integration ? e->integration : "", e->kind ? e->kind : "",
                                   e->table ? e->table : "", e->message ? e->message : "",
                                   e->actor ? e->actor : ""};
        attr_t attrs[NCOL] = {0};
        int lv = level_of(e->level);
        attrs[C_LEVEL] = lv == 2 ? theme_attr(TH_ERROR) : lv == 1 ? theme_attr(TH_WARN) : 0;
        w_table_row(w, y + 2 + r, lc, NCOL, widths, cells, attrs,
                    list.top + r == list.sel ? theme_attr(TH_SELECTED) : A_NORMAL);
    }
    if (detail) {
        mvwhline(w, y + h - detail, 0, ' ', width);
        w_wrap(w, detail_text, y + h - detail + 1, 0, width, detail - 1);
    }
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    int f = view_move(&list, a, page, nrows, id_of, NULL);
    if (f) {
        view_tail_moved(&tail, &list, nrows, key_of, NULL);
        return f;
    }
    switch (a) {
    case A_LEVEL: level = (level + 1) % 3; update(c); return VF_REDRAW;
    case A_ONLY_TABLE: c->events_only_table = !c->events_only_table && c->table[0]; update(c); return VF_REDRAW;
    case A_ALL_INTEG: all_integ = !all_integ; update(c); return VF_REDRAW;
    case A_FILTER: req->action = A_FILTER; return VF_REQUEST;
    default: return VF_UNHANDLED;
    }
}

static void set_filter(struct view_ctx *c, const char *text)
{
    snprintf(filter_text, sizeof filter_text, "%s", text ? text : "");
    update(c);
}

static const char *get_filter(void) { return filter_text; }

const struct view view_events = {
    "Events", &keymap_events, update, draw, handle_key, set_filter, get_filter,
};

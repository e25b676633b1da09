/*
 * events.c — errors, warnings, state transitions and operator actions,
 * newest first; `l` cycles the level (all, warnings+, errors), `t` keeps
 * only the table selected in Tables, `/` filters by a substring of the
 * table or message. Shows the selected integration's events and the
 * process-wide ones.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

static struct w_list list;
static const struct statelog_event **rows;
static size_t nrows, caprows;
static int level;                 /* 0 all, 1 warning+, 2 error */
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

static int level_of(const char *l)
{
    return !strcmp(l, "error") ? 2 : !strcmp(l, "warning") ? 1 : 0;
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
        if (e->integration && c->integ[0] && strcmp(e->integration, c->integ) != 0) continue;
        if (level_of(e->level) < level) continue;
        if (c->events_only_table && (!e->table || strcmp(e->table, c->table) != 0)) continue;
        if (filter_text[0] && !strcasestr(e->message ? e->message : "", filter_text) &&
            !(e->table && strcasestr(e->table, filter_text)))
            continue;
        rows[nrows++] = e;
    }
    w_list_resolve(&list, nrows, id_of, NULL);
}

enum { C_TIME, C_LEVEL, C_KIND, C_TABLE, C_MSG, C_ACTOR, NCOL };
static const struct w_col cols[NCOL] = {
    [C_TIME]  = {"TIME", 8, 0, 0, 0},
    [C_LEVEL] = {"LEVEL", 7, 1, 0, 0},
    [C_KIND]  = {"KIND", 10, 3, 0, 0},
    [C_TABLE] = {"TABLE", 18, 2, 0, 0},
    [C_MSG]   = {"MESSAGE", 30, 0, 0, 1},
    [C_ACTOR] = {"BY", 16, 4, 0, 0},
};

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    char line[1200];
    snprintf(line, sizeof line, "Events of %s: %zu shown  level: %s%s%s%s%s%s", c->integ[0] ? c->integ : "all",
             nrows, level_names[level], c->events_only_table ? "  table: " : "",
             c->events_only_table ? c->table : "", filter_text[0] ? "  filter: \"" : "", filter_text,
             filter_text[0] ? "\"" : "");
    wattrset(w, A_BOLD);
    w_text(w, y, 0, width, line, 0);
    wattrset(w, A_NORMAL);
    int widths[NCOL];
    w_table_layout(cols, NCOL, width, widths);
    w_table_header(w, y + 1, cols, NCOL, widths);
    int detail = h >= 12 ? 2 : 0;
    int nvis = h - 2 - detail;
    page = nvis;
    w_list_scroll(&list, nvis, nrows);
    if (!nrows) w_text(w, y + 2, 1, width - 1, "No events match.", 0);
    for (int r = 0; r < nvis && list.top + r < (int)nrows; r++) {
        const struct statelog_event *e = rows[list.top + r];
        char t[16];
        w_fmt_clock(e->at, t, sizeof t);
        const char *cells[NCOL] = {t, e->level, e->kind ? e->kind : "", e->table ? e->table : "",
                                   e->message ? e->message : "", e->actor ? e->actor : ""};
        attr_t attrs[NCOL] = {0};
        int lv = level_of(e->level);
        attrs[C_LEVEL] = lv == 2 ? theme_attr(TH_ERROR) : lv == 1 ? theme_attr(TH_WARN) : 0;
        w_table_row(w, y + 2 + r, cols, NCOL, widths, cells, attrs,
                    list.top + r == list.sel ? theme_attr(TH_SELECTED) : A_NORMAL);
    }
    if (detail && nrows) {
        const struct statelog_event *e = rows[list.sel];
        char t[16];
        w_fmt_clock(e->at, t, sizeof t);
        snprintf(line, sizeof line, "%s %s %s%s%s: %s%s%s", t, e->level, e->integration ? e->integration : "",
                 e->table ? " " : "", e->table ? e->table : "", e->message ? e->message : "",
                 e->actor ? "  by " : "", e->actor ? e->actor : "");
        mvwhline(w, y + h - 2, 0, ' ', width);
        w_text(w, y + h - 1, 0, width, line, 0);
    }
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    int f = view_move(&list, a, page, nrows, id_of, NULL);
    if (f) return f;
    switch (a) {
    case A_LEVEL: level = (level + 1) % 3; update(c); return VF_REDRAW;
    case A_ONLY_TABLE: c->events_only_table = !c->events_only_table && c->table[0]; update(c); return VF_REDRAW;
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

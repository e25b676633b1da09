/*
 * view.h — one console screen as a struct of functions (htop Panel.h):
 *
 *   update(ctx)              a new snapshot arrived (ctx->snap): rebuild the
 *                            rows, keep the selection by row identity
 *   draw(ctx, win, y, h, w)  draw rows y .. y+h-1 of win; never refresh
 *   handle_key(ctx, action, req) → VF_* flags; anything that needs the
 *                            operator's confirmation or the state log is
 *                            returned as a request for the console to carry out
 *
 * Views read only the snapshot in ctx (tui/model.h); they never call a
 * database, never block and never refresh the screen — one loop
 * (tui/console.c) decides when to draw. Each view keeps its own list state
 * (static, one console per process).
 *
 * Thread: console thread only.
 */
#ifndef ZETL_VIEWS_VIEW_H
#define ZETL_VIEWS_VIEW_H

#include "views/keymap.h"
#include "views/snapshot.h"
#include "views/theme.h"

enum view_flags {
    VF_REDRAW  = 1 << 0,
    VF_BACK    = 1 << 1,    /* leave this view */
    VF_QUIT    = 1 << 2,
    VF_OPEN    = 1 << 3,    /* open req->view */
    VF_REQUEST = 1 << 4,    /* carry out req->action (prompts, commands) */
    VF_UNHANDLED = 1 << 5   /* not this view's key: try the global table */
};

/* The tabs come first; from V_HELP on, views opened over them. */
enum view_id { V_INTEGRATIONS = 0, V_TABLES, V_ACTIVITY, V_LAG, V_EVENTS, V_HELP, V_DESCRIBE, V_COUNT };

/* Shared between the views: what the operator has selected. */
struct view_ctx {
    const struct snapshot *snap;    /* the newest snapshot (borrowed) */
    char integ[128];                /* selected integration ("" none yet) */
    char table[256];                /* selected table of that integration */
    int  embedded;                  /* this console runs the runtime */
    int  events_only_table;         /* events view: only ctx->table */
    int  describe_table;            /* describe pane: ctx->table, not the integration */
    const struct keymap *help_for;  /* the help view lists this table */
};

struct view_request {
    enum action action;
    enum view_id view;
    char integ[128];
    char table[256];
};

struct view {
    const char *name;               /* tab name: "Tables" */
    const struct keymap *keys;
    void (*update)(struct view_ctx *c);
    void (*draw)(struct view_ctx *c, WINDOW *w, int y, int h, int width);
    int  (*handle_key)(struct view_ctx *c, enum action a, struct view_request *req);
    void (*set_filter)(struct view_ctx *c, const char *text);   /* NULL: no filter */
    const char *(*filter)(void);                                /* the current one */
};

extern const struct view view_integrations, view_tables, view_activity, view_lag,
    view_events, view_help, view_describe;

/* The snapshot's entry for ctx->integ, or NULL. */
const struct statelog_integration *view_cur_integ(const struct view_ctx *c, const struct snap_integ **ext);

/* List movement shared by the list views: A_UP..A_END on a w_list. */
struct w_list;
int view_move(struct w_list *l, enum action a, int page, size_t n,
              const char *(*id)(size_t, void *), void *arg);

/*
 * Tail mode of a newest-first list (events, activity): while the selection
 * is on the newest row, new rows arrive above it and the selection moves to
 * the newest one, so the list follows without a key pressed. Once the
 * operator moves down, the selection stays on its row and `nnew` counts the
 * rows that arrived since (the view shows "N new"); Home/g or moving back
 * to the top follows again. key(i): row i's increasing id (newest first).
 */
struct view_tail {
    int     away;       /* the operator left the newest row */
    int64_t seen;       /* the newest id when the operator left it */
    size_t  nnew;       /* rows newer than `seen` */
};
void view_tail_resolve(struct view_tail *t, struct w_list *l, size_t n,
                       const char *(*id)(size_t, void *), int64_t (*key)(size_t, void *), void *arg);
/* After a movement key. */
void view_tail_moved(struct view_tail *t, struct w_list *l, size_t n, int64_t (*key)(size_t, void *), void *arg);

#endif

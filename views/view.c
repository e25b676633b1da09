/* view.c — helpers shared by the views; see view.h. */
#include <limits.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

const struct statelog_integration *view_cur_integ(const struct view_ctx *c, const struct snap_integ **ext)
{
    int i = snapshot_find(c->snap, c->integ);
    if (i < 0 && c->snap && c->snap->ninteg && !c->integ[0]) i = 0;
    if (ext) *ext = i >= 0 ? &c->snap->ext[i] : NULL;
    return i >= 0 ? &c->snap->integ[i] : NULL;
}

int view_move(struct w_list *l, enum action a, int page, size_t n,
              const char *(*id)(size_t, void *), void *arg)
{
    if (page < 1) page = 1;
    switch (a) {
    case A_UP: w_list_move(l, -1, n, id, arg); break;
    case A_DOWN: w_list_move(l, 1, n, id, arg); break;
    case A_PGUP: w_list_move(l, -page, n, id, arg); break;
    case A_PGDN: w_list_move(l, page, n, id, arg); break;
    case A_HOME: w_list_move(l, INT_MIN, n, id, arg); break;
    case A_END: w_list_move(l, INT_MAX, n, id, arg); break;
    default: return 0;
    }
    return VF_REDRAW;
}

void view_tail_resolve(struct view_tail *t, struct w_list *l, size_t n,
                       const char *(*id)(size_t, void *), int64_t (*key)(size_t, void *), void *arg)
{
    if (!t->away || n == 0) {
        l->sel = 0;
        l->top = 0;
        l->id[0] = '\0';
        w_list_resolve(l, n, id, arg);
        t->seen = n ? key(0, arg) : 0;
        t->nnew = 0;
        t->away = 0;
        return;
    }
    w_list_resolve(l, n, id, arg);
    t->nnew = 0;
    while (t->nnew < n && key(t->nnew, arg) > t->seen) t->nnew++;
}

void view_tail_moved(struct view_tail *t, struct w_list *l, size_t n, int64_t (*key)(size_t, void *), void *arg)
{
    int was_away = t->away;
    t->away = n > 0 && l->sel > 0;
    if (!t->away) {
        t->seen = n ? key(0, arg) : 0;
        t->nnew = 0;
    } else if (!was_away) {
        t->nnew = 0;        /* seen: the newest row when the operator left it */
    }
}

int snapshot_find(const struct snapshot *s, const char *name)
{
    for (size_t i = 0; s && name && i < s->ninteg; i++)
        if (strcmp(s->integ[i].name, name) == 0) return (int)i;
    return -1;
}

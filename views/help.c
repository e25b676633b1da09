/*
 * help.c — every key of the view the operator came from, then the keys that
 * work everywhere, generated from the key tables (tui/keymap.c) so the help
 * can never drift from the real bindings. A help text longer than the
 * terminal is wide wraps under itself rather than being cut.
 */
#include <stdio.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

static int top;
static int page = 10;
static int nlines;

static void update(struct view_ctx *c) { (void)c; }

/* Draw (or only count, when w is NULL) the lines of one key table. */
static int put_map(WINDOW *w, const struct keymap *m, int line, int y, int h, int width)
{
    int row = line - top;
    if (w && row >= 0 && row < h) {
        wattrset(w, theme_attr(TH_HEADER));
        w_text(w, y + row, 0, width, m->mode, 0);
        wattrset(w, A_NORMAL);
    }
    line++;
    for (size_t i = 0; i < m->n; i++) {
        int n = w_wrap(NULL, m->b[i].help, 0, 0, width - 13, 8);
        row = line - top;
        if (w && row + n > 0 && row < h) {
            int skip = row < 0 ? -row : 0;
            if (!skip) {
                wattrset(w, theme_attr(TH_KEY));
                w_text(w, y + row, 2, 10, m->b[i].name, 0);
                wattrset(w, A_NORMAL);
            }
            w_wrap_skip(w, m->b[i].help, y + row + skip, 13, width - 13, skip, h - (row + skip));
        }
        line += n;
    }
    return line + 1;
}

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    const struct keymap *m = c->help_for ? c->help_for : &keymap_integrations;
    page = h;
    int line = 0;
    line = put_map(NULL, m, line, y, h, width);
    line = put_map(NULL, &keymap_global, line, y, h, width);
    nlines = line;
    if (top > nlines - h) top = nlines - h;
    if (top < 0) top = 0;
    line = put_map(w, m, 0, y, h, width);
    put_map(w, &keymap_global, line, y, h, width);
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    (void)c;
    (void)req;
    switch (a) {
    case A_UP: top--; break;
    case A_DOWN: top++; break;
    case A_PGUP: top -= page; break;
    case A_PGDN: top += page; break;
    case A_HOME: top = 0; break;
    case A_END: top = nlines; break;
    case A_BACK: case A_HELP: case A_QUIT: return VF_BACK;
    default: return VF_UNHANDLED;
    }
    if (top < 0) top = 0;
    return VF_REDRAW;
}

const struct view view_help = {
    "Help", &keymap_help, update, draw, handle_key, NULL, NULL,
};

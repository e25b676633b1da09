/* console.c — the event loop, prompts and overlays; see console.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tui/console.h"
#include "runtime/base/clock.h"
#include "tui/term.h"
#include "views/keymap.h"
#include "views/theme.h"
#include "views/widgets.h"
#include "views/view.h"

/* ---- terminal: tui/term.c ------------------------------------------------ */

int console_exit_signal(void) { return term_quit_signal(); }

static int start_failed_at_exit;
int console_start_failed(void) { return start_failed_at_exit; }

/* ---- console state ------------------------------------------------------ */

/* M_FILTER: the filter line at the bottom; every key typed re-filters the
 * view at once (no Enter needed to see what matches). */
enum mode { M_NORMAL, M_CONFIRM, M_INPUT, M_REPORT, M_FILTER };

struct prompt {
    enum action action;     /* what confirming does */
    char title[128];
    char lines[8][320];
    int  nlines;
    char input[128];        /* M_INPUT */
    char expect[128];       /* M_INPUT for delete: the name to type */
    char integ[128];
    char table[256];
};

static const struct view *const views[V_COUNT] = {
    &view_integrations, &view_tables, &view_activity, &view_lag, &view_events, &view_help,
    &view_describe,
};

struct console {
    const struct console_opts *o;
    struct view_ctx ctx;
    const struct snapshot *snap;
    enum view_id cur;
    enum view_id back[16];
    int  nback;
    enum mode mode;
    struct prompt p;
    int  report_top;
    char filter_was[128];   /* M_FILTER: the filter before `/`, for Esc */
    int  repaint;           /* Ctrl-L: clear the terminal at the next draw */
    int  embedded;          /* this process runs replication (o->embedded, or a retry started it) */
    char start_err[1024];   /* replication did not start: why ("" it did) */
    char note[512];         /* our own status message */
    uint64_t note_gen;      /* snapshot gen when the note was set */
    int  quit;
};

static void set_note(struct console *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void set_note(struct console *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->note, sizeof c->note, fmt, ap);
    va_end(ap);
    c->note_gen = c->snap ? c->snap->gen : 0;
}

static void open_view(struct console *c, enum view_id v)
{
    if (v == c->cur) return;
    if (c->nback == (int)(sizeof c->back / sizeof c->back[0])) {
        memmove(c->back, c->back + 1, sizeof c->back - sizeof c->back[0]);
        c->nback--;
    }
    c->back[c->nback++] = c->cur;
    if (v == V_HELP) c->ctx.help_for = views[c->cur]->keys;
    c->cur = v;
    views[v]->update(&c->ctx);
}

static void go_back(struct console *c)
{
    if (c->cur == V_EVENTS) c->ctx.events_only_table = 0;
    c->cur = c->nback ? c->back[--c->nback] : V_INTEGRATIONS;
    views[c->cur]->update(&c->ctx);
}

/* ---- drawing ------------------------------------------------------------ */

static int banner_text(const struct snapshot *s, char *buf, size_t len, int *nresync)
{
    int bad = 0;
    *nresync = 0;
    buf[0] = '\0';
    for (size_t i = 0; s && i < s->ninteg; i++) {
        const struct statelog_integration *in = &s->integ[i];
        int ibad = istate_needs_attention(istate_parse(in->state));
        int tbad = 0;
        const char *twhy = NULL, *tname = NULL;
        for (size_t t = 0; t < in->ntables; t++)
            if (tstate_needs_attention(tstate_parse(in->tables[t].state))) {
                tbad++;
                if (!tname) { tname = in->tables[t].name; twhy = in->tables[t].reason; }
            }
        *nresync += tbad;
        if (!ibad && !tbad) continue;
        if (!bad++) {
            if (ibad)
                snprintf(buf, len, "! %s %s%s%s", in->name, in->state, in->reason ? ": " : "",
                         in->reason ? in->reason : "");
            else
                snprintf(buf, len, "! %s: %d table%s need%s attention (%s%s%s)", in->name, tbad,
                         tbad == 1 ? "" : "s", tbad == 1 ? "s" : "", tname, twhy ? ": " : "", twhy ? twhy : "");
        }
    }
    if (bad > 1) {
        size_t n = strlen(buf);
        snprintf(buf + n, len - n, "  (+%d more)", bad - 1);
    }
    return bad;
}

static void draw_topbar(struct console *c, int width)
{
    attr_t t = theme_attr(TH_TITLE);
    attrset(t);
    mvhline(0, 0, ' ', width);
    int x = w_text(stdscr, 0, 0, width, " zetl ", 0);
    for (int v = 0; v < V_HELP && x < width; v++) {
        attr_t a = v == (int)c->cur ? theme_attr(TH_TAB_ON) : t;
        attrset(a);
        char name[32];
        snprintf(name, sizeof name, " %s ", views[v]->name);
        x += w_text(stdscr, 0, x, width - x, name, 0);
        attrset(t);
    }
    const struct snap_integ *ext = NULL;
    const struct statelog_integration *in = view_cur_integ(&c->ctx, &ext);
    char right[200] = "";
    if (in)
        snprintf(right, sizeof right, " %s%s ", in->name,
                 ext && ext->attached ? " (attached to zetl run)" : "");
    int rw = (int)strlen(right);
    if (x + rw < width) {
        attrset(t | A_BOLD);
        w_text(stdscr, 0, width - rw, rw, right, 1);
    }
    attrset(A_NORMAL);
}

static void draw_hints(struct console *c, int y, int width)
{
    const struct keymap *maps[2] = {views[c->cur]->keys, &keymap_global};
    if (c->mode == M_REPORT) { maps[0] = &keymap_report; maps[1] = NULL; }
    w_hints(stdscr, y, width, maps, 2);
}

/* A centred box with a border, cleared inside; returns its geometry. */
static void draw_box(int h, int w, int *py, int *px, const char *title)
{
    w_box(stdscr, h, w, py, px, title);
}

static void draw_prompt(struct console *c)
{
    int w = COLS - 4 < 90 ? COLS - 4 : 90;
    int rows = 0;
    for (int i = 0; i < c->p.nlines; i++)
        rows += w_wrap(NULL, c->p.lines[i] + (c->p.lines[i][0] == '!'), 0, 0, w - 4, 100);
    int h = rows + 3 + (c->mode == M_INPUT ? 1 : 0);
    int y, x;
    draw_box(h, w, &y, &x, c->p.title);
    int r = 0;
    for (int i = 0; i < c->p.nlines; i++) {
        if (c->p.lines[i][0] == '!') attrset(theme_attr(TH_WARN));
        r += w_wrap(stdscr, c->p.lines[i] + (c->p.lines[i][0] == '!'), y + 1 + r, x + 2, w - 4, 100);
        attrset(A_NORMAL);
    }
    if (c->mode == M_INPUT) {
        char in[160];
        snprintf(in, sizeof in, "> %s", c->p.input);
        attrset(A_BOLD);
        int n = w_text(stdscr, y + 2 + rows, x + 2, w - 4, in, 0);
        attrset(A_NORMAL);
        move(y + 2 + rows, x + 2 + (n < w - 5 ? n : w - 5));
    }
}

static void draw_report(struct console *c, int width, int height)
{
    const struct snapshot *s = c->snap;
    int y, x, h = height - 2, w = width - 2;
    draw_box(h, w, &y, &x, s && s->report_title[0] ? s->report_title : "Preflight checks");
    const char *text = s ? s->report : NULL;
    if (!text) {
        w_text(stdscr, y + 1, x + 2, w - 4, s && s->report_running
               ? "Running the preflight checks in the background..." : "No report.", 0);
        return;
    }
    int lines = 0;
    for (const char *p = text; *p; p++) if (*p == '\n') lines++;
    int vis = h - 2;
    if (c->report_top > lines - vis) c->report_top = lines - vis;
    if (c->report_top < 0) c->report_top = 0;
    const char *p = text;
    for (int l = 0; l < c->report_top && *p; l++) { p = strchr(p, '\n'); p = p ? p + 1 : ""; }
    for (int r = 0; r < vis && *p; r++) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        char line[1024];
        if (n >= sizeof line) n = sizeof line - 1;
        memcpy(line, p, n);
        line[n] = '\0';
        attrset(strstr(line, "FAIL") ? theme_attr(TH_ERROR) : strstr(line, "WARN") ? theme_attr(TH_WARN) : A_NORMAL);
        w_text(stdscr, y + 1 + r, x + 2, w - 4, line, 0);
        attrset(A_NORMAL);
        p = e ? e + 1 : p + n;
    }
}

static void draw_all(struct console *c)
{
    int H = LINES, W = COLS;
    erase();
    curs_set(0);
    if (H < 10 || W < 40) {
        mvaddstr(0, 0, "terminal too small for zetl (need 40x10); q quits");
        wnoutrefresh(stdscr);
        doupdate();
        return;
    }
    draw_topbar(c, W);
    int y = 1;
    char banner[600];
    int nresync;
    if (banner_text(c->snap, banner, sizeof banner, &nresync)) {
        attrset(theme_color ? theme_attr(TH_ERROR) | A_REVERSE : A_REVERSE | A_BOLD);
        mvhline(y, 0, ' ', W);
        w_text(stdscr, y, 0, W, banner, 0);
        attrset(A_NORMAL);
        y++;
    }
    if (c->start_err[0]) {
        /* Not a note that the next status replaces: the operator must see
         * that nothing replicates, why, and what to do. */
        char msg[1200];
        snprintf(msg, sizeof msg, "Replication did not start: %s", c->start_err);
        int max = (H - 2 - y) / 3 > 1 ? (H - 2 - y) / 3 : 1;
        attrset(theme_attr(TH_ERROR) | A_BOLD);
        int n = w_wrap(stdscr, msg, y, 0, W, max);
        attrset(A_NORMAL);
        y += n;
        attrset(theme_attr(TH_KEY));
        mvhline(y, 0, ' ', W);
        w_text(stdscr, y, 0, W, "T: try to start again (after fixing the cause)    q: quit", 0);
        attrset(A_NORMAL);
        y++;
    }
    views[c->cur]->draw(&c->ctx, stdscr, y, H - 2 - y, W);
    /* status line: our note, else the newest command outcome, else the log error */
    const char *st = c->note[0] ? c->note : c->snap && c->snap->status[0] ? c->snap->status
                   : c->snap && c->snap->error[0] ? c->snap->error : "";
    attrset(theme_attr(TH_DIM) == A_DIM && !theme_color ? A_NORMAL : A_NORMAL);
    mvhline(H - 2, 0, ' ', W);
    attrset(A_BOLD);
    if (c->mode == M_FILTER) {
        char in[200];
        snprintf(in, sizeof in, "Filter: %s", c->p.input);
        int n = w_text(stdscr, H - 2, 0, W, in, 0);
        attrset(A_NORMAL);
        mvhline(H - 1, 0, ' ', W);
        w_text(stdscr, H - 1, 0, W, "type to filter (applies as you type)   Enter: keep   Esc: drop   ^U: clear", 0);
        move(H - 2, n < W - 1 ? n : W - 1);
    } else {
        w_text(stdscr, H - 2, 0, W, st, 0);
        attrset(A_NORMAL);
        draw_hints(c, H - 1, W);
    }
    attrset(A_NORMAL);
    if (c->mode == M_CONFIRM || c->mode == M_INPUT) draw_prompt(c);
    else if (c->mode == M_REPORT) draw_report(c, W, H);
    if (c->mode == M_INPUT || c->mode == M_FILTER) curs_set(1);
    if (c->repaint) {       /* Ctrl-L: forget what curses thinks is on the screen */
        c->repaint = 0;
        clearok(curscr, TRUE);
    }
    wnoutrefresh(stdscr);
    doupdate();
}

/* ---- prompts and actions ------------------------------------------------- */

static void prompt_line(struct prompt *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void prompt_line(struct prompt *p, const char *fmt, ...)
{
    if (p->nlines >= (int)(sizeof p->lines / sizeof p->lines[0])) return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->lines[p->nlines++], sizeof p->lines[0], fmt, ap);
    va_end(ap);
}

static void prompt_begin(struct console *c, enum mode m, enum action a, const char *title)
{
    memset(&c->p, 0, sizeof c->p);
    c->mode = m;
    c->p.action = a;
    snprintf(c->p.title, sizeof c->p.title, "%s", title);
}

static int count_bad_tables(const struct statelog_integration *in)
{
    int n = 0;
    for (size_t t = 0; in && t < in->ntables; t++)
        if (tstate_needs_attention(tstate_parse(in->tables[t].state))) n++;
    return n;
}

/* A deleted integration runs no more, so nothing would take a command: a
 * key that would send one says so, and what to do, instead. */
static int refuse_deleted(struct console *c, const struct statelog_integration *in)
{
    if (!in || istate_parse(in->state) != ISTATE_DELETED) return 0;
    set_note(c, "%s is deleted, so nothing runs it: remove it from the config, or add it under a new name to replicate that source afresh",
             in->name);
    return 1;
}

/* Start what a key asked for: a command right away, or a prompt first. */
static void start_action(struct console *c, enum action a, const struct view_request *req)
{
    const struct snap_integ *ext = NULL;
    const struct statelog_integration *in = view_cur_integ(&c->ctx, &ext);
    const char *name = req && req->integ[0] ? req->integ : in ? in->name : NULL;
    switch (a) {
    case A_PAUSE: {
        if (!in) { set_note(c, "no integration selected"); return; }
        if (refuse_deleted(c, in)) return;
        enum zcmd cmd = istate_parse(in->state) == ISTATE_PAUSED ? ZCMD_RESUME : ZCMD_PAUSE;
        model_command(c->o->model, in->name, NULL, cmd);
        set_note(c, "%s %s: sending...", zcmd_name(cmd), in->name);
        return;
    }
    case A_RESYNC:
        if (refuse_deleted(c, in)) return;
        prompt_begin(c, M_CONFIRM, a, "Resync table");
        snprintf(c->p.integ, sizeof c->p.integ, "%s", req->integ);
        snprintf(c->p.table, sizeof c->p.table, "%s", req->table);
        prompt_line(&c->p, "Resync %s of integration %s?", req->table, req->integ);
        prompt_line(&c->p, "The table is copied again while the other tables keep streaming;");
        prompt_line(&c->p, "its changes during the copy are replayed after it.");
        prompt_line(&c->p, "%s", "");
        prompt_line(&c->p, "y: resync    n / Esc: cancel");
        return;
    case A_RESYNC_ALL: {
        if (refuse_deleted(c, in)) return;
        int n = count_bad_tables(in);
        if (!in || n == 0) { set_note(c, "no table of %s is failed or resync_required", name ? name : "?"); return; }
        prompt_begin(c, M_CONFIRM, a, "Resync failed tables");
        snprintf(c->p.integ, sizeof c->p.integ, "%s", in->name);
        prompt_line(&c->p, "Resync the %d table%s of %s in failed or resync_required?", n, n == 1 ? "" : "s", in->name);
        prompt_line(&c->p, "Each is copied again while the others keep streaming.");
        prompt_line(&c->p, "%s", "");
        prompt_line(&c->p, "y: resync them    n / Esc: cancel");
        return;
    }
    case A_DELETE:
        if (!in) { set_note(c, "no integration selected"); return; }
        if (refuse_deleted(c, in)) return;
        prompt_begin(c, M_INPUT, a, "Delete integration");
        snprintf(c->p.integ, sizeof c->p.integ, "%s", in->name);
        snprintf(c->p.expect, sizeof c->p.expect, "%s", in->name);
        prompt_line(&c->p, "!Delete integration %s? Replication stops for good.", in->name);
        prompt_line(&c->p, "Target data is kept: the tables in the warehouse stay as they are.");
        if (ext && ext->source_slot)
            prompt_line(&c->p, "On the PostgreSQL source, the replication slot and the publication are dropped.");
        else
            prompt_line(&c->p, "Nothing is changed on the MySQL source.");
        prompt_line(&c->p, "%s", "");
        prompt_line(&c->p, "Type the integration's name (%s) and Enter to delete; Esc cancels:", in->name);
        return;
    case A_RETRY:
        /* Sent even when the pane shows no retry: the runtime knows best, and
         * answers "not waiting for a retry" in the status line. */
        if (!in) { set_note(c, "no integration selected"); return; }
        model_command(c->o->model, in->name, NULL, ZCMD_RETRY);
        set_note(c, "retry %s now: sending...", in->name);
        return;
    case A_CHECK:
        if (!in) { set_note(c, "no integration selected"); return; }
        model_preflight(c->o->model, in->name);
        c->mode = M_REPORT;
        c->report_top = 0;
        return;
    case A_FILTER: {
        const struct view *v = views[c->cur];
        if (!v->set_filter) return;
        prompt_begin(c, M_FILTER, a, "Filter");
        snprintf(c->p.input, sizeof c->p.input, "%s", v->filter ? v->filter() : "");
        snprintf(c->filter_was, sizeof c->filter_was, "%s", c->p.input);
        return;
    }
    case A_QUIT:
        if (!c->embedded) { c->quit = 1; return; }
        prompt_begin(c, M_CONFIRM, a, "Quit");
        prompt_line(&c->p, "!Stop replication and quit?");
        prompt_line(&c->p, "This console runs the replication: it stops when the console exits.");
        prompt_line(&c->p, "To keep it running without a console, use `zetl run` under systemd");
        prompt_line(&c->p, "(a console started later attaches to it).");
        prompt_line(&c->p, "%s", "");
        prompt_line(&c->p, "y: stop replication and quit    n / Esc: stay");
        return;
    default:
        return;
    }
}

static void confirm_action(struct console *c)
{
    struct prompt *p = &c->p;
    c->mode = M_NORMAL;
    switch (p->action) {
    case A_RESYNC:
        model_command(c->o->model, p->integ, p->table, ZCMD_RESYNC);
        set_note(c, "resync %s %s: sending...", p->integ, p->table);
        break;
    case A_RESYNC_ALL: {
        int i = snapshot_find(c->snap, p->integ), n = 0;
        for (size_t t = 0; i >= 0 && t < c->snap->integ[i].ntables; t++) {
            const struct statelog_table *tb = &c->snap->integ[i].tables[t];
            if (tstate_needs_attention(tstate_parse(tb->state))) {
                model_command(c->o->model, p->integ, tb->name, ZCMD_RESYNC);
                n++;
            }
        }
        set_note(c, "resync of %d table%s of %s: sending...", n, n == 1 ? "" : "s", p->integ);
        break;
    }
    case A_DELETE:
        if (strcmp(p->input, p->expect) != 0) {
            set_note(c, "delete cancelled: \"%s\" is not the integration's name", p->input);
            break;
        }
        model_command(c->o->model, p->integ, NULL, ZCMD_DELETE);
        set_note(c, "delete %s: sending...", p->integ);
        break;
    case A_QUIT:
        c->quit = 1;
        break;
    default:
        break;
    }
}

/* ---- keys ---------------------------------------------------------------- */

static void key_prompt(struct console *c, int ch)
{
    if (c->mode == M_CONFIRM) {
        if (ch == 'y' || ch == 'Y') confirm_action(c);
        else if (ch == 'n' || ch == 'N' || ch == 27 || ch == 'q' || ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
            c->mode = M_NORMAL;
            if (c->p.action != A_QUIT) set_note(c, "cancelled");
        }
        return;
    }
    /* M_INPUT */
    size_t n = strlen(c->p.input);
    if (ch == 27) { c->mode = M_NORMAL; set_note(c, "cancelled"); }
    else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) confirm_action(c);
    else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) { if (n) c->p.input[n - 1] = '\0'; }
    else if (ch == 21) c->p.input[0] = '\0';   /* ^U */
    else if (ch >= 32 && ch < 127 && n + 1 < sizeof c->p.input) { c->p.input[n] = (char)ch; c->p.input[n + 1] = '\0'; }
}

/* The filter line: each key re-filters the view at once. */
static void key_filter(struct console *c, int ch)
{
    const struct view *v = views[c->cur];
    size_t n = strlen(c->p.input);
    if (ch == 27) {                 /* Esc: back to the filter before `/` */
        snprintf(c->p.input, sizeof c->p.input, "%s", c->filter_was);
        c->mode = M_NORMAL;
    } else if (ch == '\n' || ch == '\r' || ch == KEY_ENTER) {
        c->mode = M_NORMAL;
    } else if (ch == KEY_BACKSPACE || ch == 127 || ch == 8) {
        if (n) c->p.input[n - 1] = '\0';
    } else if (ch == 21) {          /* ^U */
        c->p.input[0] = '\0';
    } else if (ch >= 32 && ch < 127 && n + 1 < sizeof c->p.input) {
        c->p.input[n] = (char)ch;
        c->p.input[n + 1] = '\0';
    } else {
        return;
    }
    if (v->set_filter) v->set_filter(&c->ctx, c->p.input);
}

static void key_report(struct console *c, int ch)
{
    switch (keymap_lookup(&keymap_report, ch)) {
    case A_UP: c->report_top--; break;
    case A_DOWN: c->report_top++; break;
    case A_PGUP: c->report_top -= LINES - 4; break;
    case A_PGDN: c->report_top += LINES - 4; break;
    case A_HOME: c->report_top = 0; break;
    case A_END: c->report_top = 1 << 20; break;
    case A_BACK: c->mode = M_NORMAL; model_clear_report(c->o->model); break;
    default: break;
    }
}

static void key_normal(struct console *c, int ch)
{
    const struct view *v = views[c->cur];
    struct view_request req;
    memset(&req, 0, sizeof req);
    enum action a = keymap_lookup(v->keys, ch);
    if (a == A_DESCRIBE) {          /* integrations or tables: the pane of what is selected */
        c->ctx.describe_table = c->cur == V_TABLES && c->ctx.table[0];
        open_view(c, V_DESCRIBE);
        model_set_focus(c->o->model, c->ctx.integ);
        return;
    }
    int f = a != A_NONE ? v->handle_key(&c->ctx, a, &req) : VF_UNHANDLED;
    if (f & VF_UNHANDLED) {
        a = keymap_lookup(&keymap_global, ch);
        f = 0;
        switch (a) {
        case A_NEXT_VIEW: case A_PREV_VIEW: {
            int base = c->cur >= V_HELP ? 0 : (int)c->cur;
            int next = (base + (a == A_NEXT_VIEW ? 1 : V_HELP - 1)) % V_HELP;
            c->nback = 0;
            c->ctx.events_only_table = 0;
            c->cur = (enum view_id)next;
            views[c->cur]->update(&c->ctx);
            break;
        }
        case A_BACK: go_back(c); break;
        case A_HELP: if (c->cur != V_HELP) open_view(c, V_HELP); else go_back(c); break;
        case A_QUIT: start_action(c, A_QUIT, NULL); break;
        case A_PAUSE: case A_DELETE: case A_CHECK: start_action(c, a, NULL); break;
        case A_REPAINT: c->repaint = 1; break;
        case A_RESTART:
            if (!c->start_err[0] || !c->o->restart) break;
            if (c->o->restart(c->o->restart_arg, c->start_err, sizeof c->start_err) == 0) {
                c->start_err[0] = '\0';
                c->embedded = 1;
                c->ctx.embedded = 1;
                set_note(c, "replication started");
            } else {
                set_note(c, "still not started (see above)");
            }
            break;
        default: break;
        }
    }
    if (f & VF_OPEN) open_view(c, req.view);
    if (f & VF_BACK) go_back(c);
    if (f & VF_QUIT) c->quit = 1;
    if (f & VF_REQUEST) start_action(c, req.action, &req);
    model_set_focus(c->o->model, c->ctx.integ);
}

/* ---- the loop ------------------------------------------------------------ */

static void take_snapshot(struct console *c)
{
    const struct snapshot *s = model_acquire(c->o->model);
    if (!s) return;
    if (c->snap && s->gen == c->snap->gen) { model_release(c->o->model, s); return; }
    const struct snapshot *old = c->snap;
    c->snap = s;
    c->ctx.snap = s;
    for (int v = 0; v < V_COUNT; v++) views[v]->update(&c->ctx);
    /* the runtime's answer replaces our "sending..." note */
    if (c->note[0] && s->status[0] && (!old || strcmp(s->status, old->status) != 0) && s->gen > c->note_gen)
        c->note[0] = '\0';
    model_release(c->o->model, old);
    model_set_focus(c->o->model, c->ctx.integ);
}

enum console_exit console_run(const struct console_opts *o, char *err, size_t errlen)
{
    static struct console c;
    memset(&c, 0, sizeof c);
    c.o = o;
    c.ctx.embedded = o->embedded;
    c.embedded = o->embedded;
    if (o->start_error) snprintf(c.start_err, sizeof c.start_err, "%s", o->start_error);
    start_failed_at_exit = 0;
    c.cur = V_INTEGRATIONS;
    if (o->note) set_note(&c, "%s", o->note);

    if (term_open(o->wake_wr, err, errlen) != 0) return CONSOLE_ERROR;

    int dirty = 1;
    int64_t last_draw = 0;
    const int frame_ms = 1000 / CONSOLE_MAX_FPS;
    enum console_exit rc = CONSOLE_QUIT;
    for (;;) {
        if (term_quit_signal()) { rc = CONSOLE_SIGNAL; break; }
        if (term_check_resize()) dirty = 1;
        uint64_t before = c.snap ? c.snap->gen : 0;
        take_snapshot(&c);
        if ((c.snap ? c.snap->gen : 0) != before) dirty = 1;
        int ch;
        while ((ch = getch()) != ERR) {
            if (ch == KEY_RESIZE) { term_check_resize(); dirty = 1; continue; }
            if (c.mode == M_CONFIRM || c.mode == M_INPUT) key_prompt(&c, ch);
            else if (c.mode == M_REPORT) key_report(&c, ch);
            else if (c.mode == M_FILTER) key_filter(&c, ch);
            else key_normal(&c, ch);
            dirty = 1;
            if (c.quit) break;
        }
        if (c.quit) break;
        int timeout = -1;
        if (dirty) {
            int64_t now = zclock_mono_ms();
            if (now - last_draw >= frame_ms) {
                draw_all(&c);
                last_draw = now;
                dirty = 0;
            } else {
                timeout = (int)(frame_ms - (now - last_draw));
            }
        }
        int w = term_wait(o->wake_rd, timeout, err, errlen);
        if (w < 0) { rc = CONSOLE_ERROR; break; }
        if (w > 0) { rc = CONSOLE_SIGNAL; break; }   /* the terminal went away */
    }
    term_close();
    start_failed_at_exit = c.start_err[0] != '\0';
    model_release(o->model, c.snap);
    c.snap = NULL;
    return rc;
}

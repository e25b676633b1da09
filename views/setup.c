/*
 * setup.c (views) — drawing the walkthrough's steps (see setup.h), and its
 * key tables.
 *
 * Layout (80x24 and up): row 0 the steps, row 1 what the step is for, the
 * step's body, the status line (H-2) and the hint line (H-1). The body is
 * the form (label column, value, an inline "! error" row under an invalid
 * field, the focused field's help), then the result lines; the report list
 * with the selected item's fixes; the table list with checkboxes; or the
 * YAML. Overlays: a y/n prompt and the help, both centred boxes.
 */
#include <stdio.h>
#include <string.h>

#include "views/setup.h"
#include "views/widgets.h"

#define ESC 27
#define CTRL(c) ((c) & 0x1f)
#define N(t) (sizeof t / sizeof t[0])
#define LABEL_W 18

/* ---- key tables ------------------------------------------------------------ */

#define EDIT_KEYS \
    {{KEY_BACKSPACE, 127, 8, 0}, "Backspace", A_NONE, "delete the character before the cursor", NULL}, \
    {{KEY_DC, CTRL('d'), 0}, "Del", A_NONE, "delete the character under the cursor", NULL}, \
    {{KEY_HOME, CTRL('a'), 0}, "Home/^A", A_NONE, "start of the field", NULL}, \
    {{KEY_END, CTRL('e'), 0}, "End/^E", A_NONE, "end of the field", NULL}, \
    {{CTRL('u'), 0}, "^U", A_NONE, "clear the field", NULL}

#define FIELD_MOVES \
    {{'\t', KEY_DOWN, 0}, "Tab/Down", A_NEXT_FIELD, "next field", NULL}, \
    {{KEY_BTAB, KEY_UP, 0}, "S-Tab/Up", A_PREV_FIELD, "previous field", NULL}, \
    {{KEY_LEFT, 0}, "Left", A_MOVE_LEFT, "a choice: the previous one; text: the cursor left", NULL}, \
    {{KEY_RIGHT, 0}, "Right", A_MOVE_RIGHT, "a choice: the next one; text: the cursor right", NULL}

#define LIST_MOVES \
    {{KEY_UP, 'k', 0}, "k/Up", A_UP, "move the selection up", NULL}, \
    {{KEY_DOWN, 'j', 0}, "j/Down", A_DOWN, "move the selection down", NULL}, \
    {{KEY_PPAGE, 0}, "PgUp", A_PGUP, "one page up", NULL}, \
    {{KEY_NPAGE, 0}, "PgDn", A_PGDN, "one page down", NULL}, \
    {{KEY_HOME, 'g', 0}, "Home", A_HOME, "first row", NULL}, \
    {{KEY_END, 'G', 0}, "End", A_END, "last row", NULL}

/* In forms every letter is text: help and quit on function keys only. */
#define LEAVE_KEYS_FN \
    {{KEY_F(1), 0}, "F1", A_HELP, "the keys of this step", "help"}, \
    {{KEY_F(10), 0}, "F10", A_QUIT, "leave the walkthrough (asks first; nothing is written before step 5)", "quit"}

#define LEAVE_KEYS \
    {{'?', KEY_F(1), 0}, "?", A_HELP, "the keys of this step", "help"}, \
    {{'q', KEY_F(10), 0}, "q", A_QUIT, "leave the walkthrough (asks first; nothing is written before step 5)", "quit"}

static const struct key_binding form_b[] = {
    FIELD_MOVES,
    {{'\n', '\r', KEY_ENTER, 0}, "Enter", A_ENTER, "next field; on the last one: test the connection and go on", "next"},
    {{KEY_F(5), CTRL('t'), 0}, "F5/^T", A_GO, "test the connection and go on, from any field", "test"},
    {{ESC, 0}, "Esc", A_BACK, "back one step, keeping what was typed (on the first step: leave)", "back"},
    LEAVE_KEYS_FN,
    {{' ', 0}, "Space", A_NONE, "in a choice field: the next choice", NULL},
    EDIT_KEYS,
};

static const struct key_binding checks_b[] = {
    LIST_MOVES,
    {{'r', KEY_F(5), 0}, "r", A_RERUN, "run the checks again, after fixing something on the server", "re-run"},
    {{'\n', '\r', KEY_ENTER, 0}, "Enter", A_ENTER, "go on to the target (asks when a required check failed)", "continue"},
    {{ESC, KEY_BACKSPACE, 0}, "Esc", A_BACK, "back to the source, keeping what was typed", "back"},
    LEAVE_KEYS,
};

static const struct key_binding pattern_b[] = {
    {{'\t', KEY_DOWN, 0}, "Tab/Down", A_NEXT_FIELD, "to the table list (pick tables by hand)", NULL},
    {{KEY_LEFT, 0}, "Left", A_MOVE_LEFT, "the cursor left", NULL},
    {{KEY_RIGHT, 0}, "Right", A_MOVE_RIGHT, "the cursor right", NULL},
    {{'\n', '\r', KEY_ENTER, 0}, "Enter", A_ENTER, "go on to the review with the selected tables", "continue"},
    {{ESC, 0}, "Esc", A_BACK, "back to the target, keeping what was typed", "back"},
    LEAVE_KEYS_FN,
    EDIT_KEYS,
};

static const struct key_binding list_b[] = {
    LIST_MOVES,
    {{' ', 'x', 0}, "Space", A_TOGGLE, "pick or drop the selected table (from a pattern: picks by hand from then on, keeping the selection)", "pick"},
    {{'a', 0}, "a", A_SELECT_ALL, "pick every table", NULL},
    {{'n', 0}, "n", A_SELECT_NONE, "drop every table", NULL},
    {{'\t', '/', KEY_BTAB, 0}, "Tab or /", A_NEXT_FIELD, "edit the pattern", "pattern"},
    {{'\n', '\r', KEY_ENTER, 0}, "Enter", A_ENTER, "go on to the review with the selected tables", "continue"},
    {{ESC, KEY_BACKSPACE, 0}, "Esc", A_BACK, "back to the target, keeping what was typed", "back"},
    LEAVE_KEYS,
};

static const struct key_binding review_b[] = {
    FIELD_MOVES,
    {{KEY_PPAGE, 0}, "PgUp", A_PGUP, "scroll the YAML up", NULL},
    {{KEY_NPAGE, 0}, "PgDn", A_PGDN, "scroll the YAML down", NULL},
    {{'\n', '\r', KEY_ENTER, 0}, "Enter", A_ENTER, "next field; on the last one: write the config (mode 0600)", "next"},
    {{KEY_F(5), CTRL('t'), 0}, "F5/^T", A_GO, "write the config now, from any field", "write"},
    {{ESC, 0}, "Esc", A_BACK, "back to the tables, keeping what was typed", "back"},
    LEAVE_KEYS_FN,
    EDIT_KEYS,
};

static const struct key_binding start_b[] = {
    {{'\n', '\r', KEY_ENTER, 0}, "Enter", A_ENTER, "open the console on the new config: replication starts", "start"},
    {{'q', ESC, KEY_F(10), 0}, "q", A_QUIT, "leave without starting it (later: zetl console -c FILE, or zetl run)", "quit"},
    {{'?', KEY_F(1), 0}, "?", A_HELP, "the keys of this step", NULL},
};

static const struct key_binding prompt_b[] = {
    {{'y', 'Y', 0}, "y", A_ENTER, "yes", "yes"},
    {{'n', 'N', ESC, 0}, "n/Esc", A_BACK, "no", "no"},
};

const struct keymap keymap_setup_form = {"Setup: a form (source, target)", form_b, N(form_b)};
const struct keymap keymap_setup_checks = {"Setup: source checks", checks_b, N(checks_b)};
const struct keymap keymap_setup_pattern = {"Setup: table pattern", pattern_b, N(pattern_b)};
const struct keymap keymap_setup_list = {"Setup: table list", list_b, N(list_b)};
const struct keymap keymap_setup_review = {"Setup: review", review_b, N(review_b)};
const struct keymap keymap_setup_start = {"Setup: start", start_b, N(start_b)};
const struct keymap keymap_setup_prompt = {"Setup: question", prompt_b, N(prompt_b)};

/* ---- masking --------------------------------------------------------------- */

static void mask_span(char *s, size_t from, size_t to)
{
    for (size_t i = from; i < to && s[i]; i++) s[i] = '*';
}

void setup_mask_dsn(const char *dsn, char *out, size_t len)
{
    snprintf(out, len, "%s", dsn ? dsn : "");
    size_t n = strlen(out);
    const char *sep = strstr(out, "://");
    if (sep && (strncmp(out, "postgres", 8) == 0)) {          /* URI: user:pass@host, ?password= */
        size_t a = (size_t)(sep - out) + 3, end = a;
        while (end < n && out[end] != '/' && out[end] != '?') end++;
        const char *at = NULL;
        for (size_t i = a; i < end; i++) if (out[i] == '@') at = out + i;
        if (at)
            for (size_t i = a; out + i < at; i++)
                if (out[i] == ':') { mask_span(out, i + 1, (size_t)(at - out)); break; }
    }
    for (size_t i = 0; i + 8 <= n; i++) {                     /* password=... anywhere */
        if (strncmp(out + i, "password", 8) != 0) continue;
        if (i > 0 && out[i - 1] != ' ' && out[i - 1] != '\t' && out[i - 1] != '?' && out[i - 1] != '&') continue;
        size_t j = i + 8;
        while (j < n && out[j] == ' ') j++;
        if (j >= n || out[j] != '=') continue;
        j++;
        while (j < n && out[j] == ' ') j++;
        size_t k = j;
        if (k < n && out[k] == '\'') {
            for (k++; k < n && out[k] != '\''; k++) if (out[k] == '\\' && k + 1 < n) k++;
            mask_span(out, j + 1, k);
        } else {
            while (k < n && out[k] != ' ' && out[k] != '\t' && out[k] != '&') k++;
            mask_span(out, j, k);
        }
        i = k;
    }
}

/* ---- pieces ---------------------------------------------------------------- */

static const char *const step_names[SETUP_NSTEPS] = {"Source", "Checks", "Target", "Tables", "Review", "Start"};

static void topbar(struct setup_screen *s, WINDOW *w, int W)
{
    attr_t t = theme_attr(TH_TITLE);
    wattrset(w, t);
    mvwhline(w, 0, 0, ' ', W);
    int x = w_text(w, 0, 0, W, " zetl init ", 0);
    for (int i = 0; i < SETUP_NSTEPS && x < W; i++) {
        char name[32];
        snprintf(name, sizeof name, i == (int)s->step ? "[%d %s]" : " %d %s ", i + 1, step_names[i]);
        wattrset(w, i == (int)s->step ? theme_attr(TH_TAB_ON) : t);
        x += w_text(w, 0, x, W - x, name, 0);
        wattrset(w, t);
    }
    wattrset(w, A_NORMAL);
}

/* Characters (not bytes) of s[0..n). */
static int chars(const char *s, int n)
{
    int c = 0;
    for (int i = 0; i < n && s[i]; i++) if (((unsigned char)s[i] & 0xC0) != 0x80) c++;
    return c;
}

/* The field's value as shown, from the byte `from` on; returns the
 * cursor's cell within it. */
static int field_text(const struct setup_field *f, char *out, size_t len, int width)
{
    char shown[2048];
    if (f->type == SETUP_SECRET) {
        int n = chars(f->value, (int)strlen(f->value));
        if (n > (int)sizeof shown - 1) n = (int)sizeof shown - 1;
        memset(shown, '*', (size_t)n);
        shown[n] = '\0';
    } else if (f->type == SETUP_DSN) {
        setup_mask_dsn(f->value, shown, sizeof shown);
    } else {
        snprintf(shown, sizeof shown, "%s", f->value);
    }
    int cur = f->type == SETUP_SECRET ? chars(f->value, f->cur) : f->cur;
    int from = 0;
    if (cur >= width) from = cur - width + 1;
    while (from > 0 && ((unsigned char)shown[from] & 0xC0) == 0x80) from--;
    snprintf(out, len, "%s", shown + from);
    return chars(shown + from, cur - from);
}

/* One field row (and its error row); returns rows used. */
static int draw_field(struct setup_screen *s, WINDOW *w, int y, int W, int i, int *cy, int *cx)
{
    const struct setup_field *f = &s->fields[i];
    int focused = i == s->focus;
    int vx = LABEL_W + 2, vw = W - vx - 1;
    wattrset(w, focused ? A_BOLD : A_NORMAL);
    char label[64];
    snprintf(label, sizeof label, "%s%s", focused ? "> " : "  ", f->label);
    w_text(w, y, 0, LABEL_W + 2, label, 0);
    wattrset(w, A_NORMAL);
    if (f->type == SETUP_CHOICE) {
        int x = vx;
        for (int c = 0; c < f->nchoices && x < W; c++) {
            char opt[96];
            int on = c == f->choice;
            snprintf(opt, sizeof opt, on ? "[%s]" : " %s ", f->choices[c]);
            wattrset(w, on ? (focused ? theme_attr(TH_SELECTED) : A_BOLD) : A_NORMAL);
            x += w_text(w, y, x, W - x, opt, 0);
            wattrset(w, A_NORMAL);
            x += w_text(w, y, x, W - x, " ", 0);
        }
    } else {
        char shown[2048];
        int cc = field_text(f, shown, sizeof shown, vw);
        wattrset(w, focused ? A_UNDERLINE : A_NORMAL);
        w_text(w, y, vx, vw, shown, 0);
        wattrset(w, A_NORMAL);
        if (focused) { *cy = y; *cx = vx + (cc < vw ? cc : vw - 1); }
    }
    if (!f->error[0]) return 1;
    char e[400];
    snprintf(e, sizeof e, "! %s", f->error);
    wattrset(w, theme_attr(TH_ERROR));
    w_text(w, y + 1, vx, W - vx, e, 0);
    wattrset(w, A_NORMAL);
    return 2;
}

static int draw_form(struct setup_screen *s, WINDOW *w, int y, int ymax, int W, int *cy, int *cx)
{
    for (int i = 0; i < s->nfields && y < ymax; i++) {
        if (s->fields[i].hidden) continue;
        y += draw_field(s, w, y, W, i, cy, cx);
    }
    if (s->focus >= 0 && s->focus < s->nfields && s->fields[s->focus].help && y + 1 < ymax) {
        wattrset(w, theme_attr(TH_DIM));
        y += 1 + w_wrap(w, s->fields[s->focus].help, y + 1, 2, W - 4, 2);
        wattrset(w, A_NORMAL);
    }
    return y;
}

static int draw_msgs(struct setup_screen *s, WINDOW *w, int y, int ymax, int W)
{
    if (s->busy && y < ymax) {
        static const char spin[] = "|/-\\";
        char b[400];
        snprintf(b, sizeof b, "%c %s ... %ds", spin[s->busy_secs % 4], s->busy_text, s->busy_secs);
        wattrset(w, theme_attr(TH_BUSY) | A_BOLD);
        w_text(w, y++, 2, W - 4, b, 0);
        wattrset(w, A_NORMAL);
    }
    for (int i = 0; i < s->nmsg && y < ymax; i++) {
        wattrset(w, theme_attr(s->msg[i].role));
        y += w_wrap(w, s->msg[i].text, y, 2, W - 4, ymax - y);
        wattrset(w, A_NORMAL);
    }
    return y;
}

/* The selection inside [0, n), and the first shown row such that it is visible in h rows. */
static void keep_visible(int *sel, int *top, int n, int h)
{
    if (*sel >= n) *sel = n - 1;
    if (*sel < 0) *sel = 0;
    if (*sel < *top) *top = *sel;
    if (*sel >= *top + h) *top = *sel - h + 1;
    if (*top > n - h) *top = n - h;
    if (*top < 0) *top = 0;
}

static const char *const status_tag[] = {"PASS", "WARN", "FAIL"};
static const enum theme_role status_role[] = {TH_OK, TH_WARN, TH_ERROR};

/* The report: one row per item, the selected one's fixes underneath. */
static void draw_report(struct setup_screen *s, WINDOW *w, int y, int ymax, int W)
{
    const struct pf_report *r = s->report;
    if (!r || y >= ymax) return;
    wattrset(w, A_BOLD);
    w_text(w, y++, 0, W, r->subject, 0);
    wattrset(w, A_NORMAL);
    if (!r->n) return;
    if (s->step != SETUP_CHECKS) {      /* a short report: every line, the fixes under the problems */
        for (int i = 0; i < r->n && y < ymax; i++) {
            const struct pf_item *it = &r->items[i];
            char line[900];
            wattrset(w, theme_attr(status_role[it->status]));
            w_text(w, y, 1, 6, status_tag[it->status], 0);
            wattrset(w, A_NORMAL);
            snprintf(line, sizeof line, "%-28.28s %s", it->check, it->current);
            w_text(w, y++, 7, W - 8, line, 0);
            if (it->status == PF_PASS) continue;
            const char *fixes[2][2] = {{"fix: ", it->fix}, {"RDS/Aurora: ", it->fix_rds}};
            for (int k = 0; k < 2 && y < ymax; k++) {
                if (!fixes[k][1][0]) continue;
                snprintf(line, sizeof line, "%s%s", fixes[k][0], fixes[k][1]);
                y += w_wrap(w, line, y, 7, W - 8, ymax - y < 3 ? ymax - y : 3);
            }
        }
        return;
    }
    int detail = ymax - y >= 12 ? 5 : 4;
    int h = ymax - y - detail;
    if (h < 1) { h = ymax - y; detail = 0; }
    keep_visible(&s->rsel, &s->rtop, r->n, h);
    for (int i = s->rtop; i < r->n && i < s->rtop + h; i++, y++) {
        const struct pf_item *it = &r->items[i];
        char line[700];
        int sel = i == s->rsel;
        wattrset(w, sel ? theme_attr(TH_SELECTED) : theme_attr(status_role[it->status]));
        mvwhline(w, y, 0, ' ', W);
        w_text(w, y, 1, 6, status_tag[it->status], 0);
        wattrset(w, sel ? theme_attr(TH_SELECTED) : A_NORMAL);
        snprintf(line, sizeof line, "%-28.28s %s", it->check, it->current);
        w_text(w, y, 7, W - 8, line, 0);
        wattrset(w, A_NORMAL);
    }
    if (!detail) return;
    const struct pf_item *it = &r->items[s->rsel];
    int dy = ymax - detail;
    char line[900];
    if (it->required[0]) {
        snprintf(line, sizeof line, "required: %s", it->required);
        dy += w_wrap(w, line, dy, 2, W - 4, 1);
    }
    if (it->status != PF_PASS && it->fix[0] && dy < ymax) {
        snprintf(line, sizeof line, "fix: %s", it->fix);
        wattrset(w, theme_attr(status_role[it->status]));
        dy += w_wrap(w, line, dy, 2, W - 4, ymax - dy > 2 ? 2 : ymax - dy);
        wattrset(w, A_NORMAL);
    }
    if (it->status != PF_PASS && it->fix_rds[0] && dy < ymax) {
        snprintf(line, sizeof line, "RDS/Aurora: %s", it->fix_rds);
        w_wrap(w, line, dy, 2, W - 4, ymax - dy);
    }
}

static void draw_tables(struct setup_screen *s, WINDOW *w, int y, int ymax, int W)
{
    if (s->tables_note && y < ymax) {
        wattrset(w, A_BOLD);
        w_text(w, y++, 2, W - 4, s->tables_note, 0);
        wattrset(w, A_NORMAL);
    }
    if (y >= ymax || !s->ntables) return;
    static const struct w_col cols[] = {
        {"    TABLE", 40, 0, 0, 1}, {"KEY", 8, 1, 0, 0}, {"EST. ROWS", 10, 2, 1, 0},
    };
    int widths[3];
    w_table_layout(cols, 3, W, widths);
    w_table_header(w, y++, cols, 3, widths);
    int note_rows = 2, h = ymax - y - note_rows;
    if (h < 1) h = 1;
    keep_visible(&s->tsel, &s->ttop, s->ntables, h);
    int list_focus = s->focus == s->nfields;
    for (int i = s->ttop; i < s->ntables && i < s->ttop + h; i++, y++) {
        const struct setup_table *t = &s->tables[i];
        char name[300], rows[32];
        snprintf(name, sizeof name, "[%c] %s.%s", s->picked[i] ? 'x' : ' ', t->schema, t->name);
        if (t->rows < 0) snprintf(rows, sizeof rows, "?");
        else w_fmt_count(t->rows, rows, sizeof rows);
        const char *cells[3] = {name, t->has_pk ? "pk" : "NONE", rows};
        attr_t attrs[3] = {0, t->has_pk ? 0 : theme_attr(TH_WARN), 0};
        attr_t row = i == s->tsel && list_focus ? theme_attr(TH_SELECTED)
                   : s->picked[i] ? A_BOLD : A_NORMAL;
        w_table_row(w, y, cols, 3, widths, cells, attrs, row);
    }
    const struct setup_table *t = &s->tables[s->tsel];
    const char *note = setup_keyless_note(t);
    if (note) {
        char line[600];
        snprintf(line, sizeof line, "%s.%s: %s", t->schema, t->name, note);
        wattrset(w, theme_attr(TH_WARN));
        w_wrap(w, line, ymax - note_rows, 2, W - 4, note_rows);
        wattrset(w, A_NORMAL);
    }
}

static void draw_yaml(struct setup_screen *s, WINDOW *w, int y, int ymax, int W)
{
    if (!s->yaml || y >= ymax) return;
    wattrset(w, theme_attr(TH_HEADER));
    w_text(w, y++, 0, W, "The config to write (secrets shown as ***; PgUp/PgDn scroll):", 0);
    wattrset(w, A_NORMAL);
    int lines = 0;
    for (const char *p = s->yaml; *p; p++) if (*p == '\n') lines++;
    int h = ymax - y;
    if (s->ytop > lines - h) s->ytop = lines - h;
    if (s->ytop < 0) s->ytop = 0;
    const char *p = s->yaml;
    for (int l = 0; l < s->ytop && *p; l++) { p = strchr(p, '\n'); p = p ? p + 1 : ""; }
    for (; y < ymax && *p; y++) {
        const char *e = strchr(p, '\n');
        int n = e ? (int)(e - p) : (int)strlen(p);
        char line[1024];
        snprintf(line, sizeof line, "  %.*s", n, p);
        w_text(w, y, 0, W, line, 0);
        p = e ? e + 1 : p + n;
    }
}

static void draw_overlay(struct setup_screen *s, WINDOW *w, int H, int W)
{
    int bw = W - 4 < 90 ? W - 4 : 90, y, x;
    if (s->prompt[0]) {
        int rows = w_wrap(NULL, s->prompt, 0, 0, bw - 4, 12);
        w_box(w, rows + 4, bw, &y, &x, "Question");
        wattrset(w, theme_attr(TH_WARN));
        w_wrap(w, s->prompt, y + 1, x + 2, bw - 4, rows);
        wattrset(w, A_NORMAL);
        w_text(w, y + rows + 2, x + 2, bw - 4, "y: yes    n / Esc: no", 0);
        return;
    }
    if (!s->help || !s->keys) return;
    int rows = (int)s->keys->n;
    if (rows > H - 4) rows = H - 4;
    w_box(w, rows + 2, bw, &y, &x, s->keys->mode);
    for (int i = 0; i < rows; i++) {
        wattrset(w, theme_attr(TH_KEY));
        w_text(w, y + 1 + i, x + 2, 12, s->keys->b[i].name, 0);
        wattrset(w, A_NORMAL);
        w_text(w, y + 1 + i, x + 15, bw - 17, s->keys->b[i].help, 0);
    }
}

int setup_page_rows(void)
{
    return LINES > 14 ? LINES - 12 : 2;
}

void setup_draw(struct setup_screen *s, WINDOW *w)
{
    int H = getmaxy(w), W = getmaxx(w);
    int cy = -1, cx = -1;
    werase(w);
    curs_set(0);
    if (H < 16 || W < 60) {
        mvwaddstr(w, 0, 0, "terminal too small for zetl init (need 60x16); F10 quits");
        wnoutrefresh(w);
        return;
    }
    topbar(s, w, W);
    if (s->intro) {
        wattrset(w, theme_attr(TH_DIM) == A_DIM && !theme_color ? A_NORMAL : theme_attr(TH_DIM));
        w_text(w, 1, 1, W - 2, s->intro, 0);
        wattrset(w, A_NORMAL);
    }
    int y = 3, ymax = H - 2;
    switch (s->step) {
    case SETUP_SOURCE:
        y = draw_form(s, w, y, ymax, W, &cy, &cx);
        draw_msgs(s, w, y + 1, ymax, W);
        break;
    case SETUP_CHECKS:
        y = draw_msgs(s, w, y, ymax, W);
        draw_report(s, w, y, ymax, W);
        break;
    case SETUP_TARGET:
        y = draw_form(s, w, y, ymax, W, &cy, &cx);
        y = draw_msgs(s, w, y + 1, ymax, W);
        draw_report(s, w, y, ymax, W);
        break;
    case SETUP_TABLES:
        y = draw_form(s, w, y, ymax, W, &cy, &cx);
        y = draw_msgs(s, w, y, ymax, W);
        draw_tables(s, w, y, ymax, W);
        break;
    case SETUP_REVIEW:
        y = draw_form(s, w, y, ymax, W, &cy, &cx);
        y = draw_msgs(s, w, y, ymax, W);
        draw_yaml(s, w, y + 1, ymax, W);
        break;
    default:
        draw_msgs(s, w, y, ymax, W);
        break;
    }
    wattrset(w, A_BOLD);
    mvwhline(w, H - 2, 0, ' ', W);
    w_text(w, H - 2, 0, W, s->status, 0);
    wattrset(w, A_NORMAL);
    const struct keymap *maps[1] = {s->prompt[0] ? &keymap_setup_prompt : s->keys};
    w_hints(w, H - 1, W, maps, 1);
    draw_overlay(s, w, H, W);
    if (cy >= 0 && !s->prompt[0] && !s->help && !s->busy) {
        wmove(w, cy, cx);
        curs_set(1);
    }
    wnoutrefresh(w);
}

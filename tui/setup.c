/* setup.c (tui) — the walkthrough's keys, screen and loop (see setup.h). */
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tui/console_open.h"
#include "tui/setup.h"
#include "tui/setup_form.h"
#include "tui/setup_int.h"
#include "tui/term.h"

static const char *const intro[SETUP_NSTEPS] = {
    "The source database zetl reads changes from (binlog or logical replication).",
    "Is the source ready for replication? Each setting, its value and the fix.",
    "The warehouse zetl writes into: PostgreSQL or Amazon Redshift.",
    "Which tables: a pattern (% any run, _ one character) or picked by hand.",
    "Name the integration and choose where the config goes; the YAML is below.",
    "Written. Start replicating now, or later.",
};

/* ---- keys ---------------------------------------------------------------------------- */

static const struct keymap *keys_of(const struct wiz *z)
{
    switch (z->step) {
    case SETUP_CHECKS: return &keymap_setup_checks;
    case SETUP_TABLES: return z->focus[SETUP_TABLES] == 1 ? &keymap_setup_list : &keymap_setup_pattern;
    case SETUP_REVIEW: return &keymap_setup_review;
    case SETUP_START: return &keymap_setup_start;
    default: return &keymap_setup_form;
    }
}

static void answer(struct wiz *z, int yes)
{
    enum question q = z->q;
    z->q = Q_NONE;
    z->scr.prompt[0] = '\0';
    if (!yes) return;
    switch (q) {
    case Q_LEAVE: z->quit = 1; break;
    case Q_CHECKS_FAILED: wiz_set_step(z, SETUP_TARGET); break;
    case Q_TARGET_FAILED: wiz_set_step(z, SETUP_TABLES); break;
    case Q_OVERWRITE: wiz_write(z, 1); break;
    default: break;
    }
}

/* The focused field moves by dir among the visible ones; the field left is validated. */
static void move_focus(struct wiz *z, int dir)
{
    int n;
    const validator *v;
    struct setup_field *f = wiz_fields(z, z->step, &n, &v);
    int *focus = &z->focus[z->step];
    if (!f) return;
    if (*focus < n) wiz_check_field(&f[*focus], v[*focus]);
    int i = *focus;
    do i += dir; while (i >= 0 && i < n && f[i].hidden);
    if (i >= 0 && i < n) *focus = i;
}

static int last_visible(struct wiz *z)
{
    int n;
    const validator *v;
    struct setup_field *f = wiz_fields(z, z->step, &n, &v);
    int last = -1;
    for (int i = 0; f && i < n; i++) if (!f[i].hidden) last = i;
    return last;
}

static void go_back(struct wiz *z)
{
    switch (z->step) {
    case SETUP_SOURCE:
        if (z->scr.busy) { setup_jobs_cancel(); z->scr.busy = 0; z->awaiting = 0; wiz_status(z, "Test cancelled."); return; }
        wiz_ask(z, Q_LEAVE, "Leave the walkthrough? Nothing has been written.");
        return;
    case SETUP_TARGET:
        if (z->scr.busy) { setup_jobs_cancel(); z->scr.busy = 0; z->awaiting = 0; wiz_status(z, "Test cancelled."); return; }
        wiz_set_step(z, SETUP_CHECKS);
        return;
    case SETUP_START: z->quit = 1; return;
    default: wiz_set_step(z, z->step - 1); return;
    }
}

/* A field's value changed: its error follows it, and what depends on it. */
static void field_changed(struct wiz *z, struct setup_field *f)
{
    int n;
    const validator *v;
    struct setup_field *all = wiz_fields(z, z->step, &n, &v);
    int i = (int)(f - all);
    f->edited = 1;
    if (f->error[0]) {
        wiz_check_field(f, v[i]);
        size_t ll = strlen(f->label);
        if (!f->error[0] && !strncmp(z->scr.status, f->label, ll) && z->scr.status[ll] == ':')
            wiz_status(z, "%s is fine now.", f->label);
    }
    switch (z->step) {
    case SETUP_SOURCE: wiz_src_visibility(z); break;
    case SETUP_TABLES:
        if (f->value[0]) z->by_hand = 0;
        wiz_check_field(f, v[0]);
        wiz_apply_preview(z);
        break;
    case SETUP_REVIEW: wiz_refresh_yaml(z); break;
    default: break;
    }
}

static void list_key(struct wiz *z, enum action a)
{
    int page = setup_page_rows(), *sel = z->step == SETUP_CHECKS ? &z->scr.rsel : &z->scr.tsel;
    int n = z->step == SETUP_CHECKS ? z->checks.n : z->ntables;
    switch (a) {
    case A_UP: (*sel)--; break;
    case A_DOWN: (*sel)++; break;
    case A_PGUP: *sel -= page; break;
    case A_PGDN: *sel += page; break;
    case A_HOME: *sel = 0; break;
    case A_END: *sel = n - 1; break;
    default: break;
    }
    if (*sel >= n) *sel = n - 1;
    if (*sel < 0) *sel = 0;
}

static void table_pick(struct wiz *z, enum action a)
{
    if (!z->picked || !z->ntables) return;
    if (!z->by_hand) {              /* from the pattern's selection on, by hand */
        z->by_hand = 1;
        setup_field_set(&z->pat[0], "");
        z->pat[0].error[0] = '\0';
    }
    for (int i = 0; i < z->ntables; i++) {
        if (a == A_SELECT_ALL) z->picked[i] = 1;
        else if (a == A_SELECT_NONE) z->picked[i] = 0;
        else if (i == z->scr.tsel) z->picked[i] = !z->picked[i];
    }
    wiz_apply_preview(z);
}

static void on_key(struct wiz *z, int ch)
{
    if (z->scr.prompt[0]) {
        enum action a = keymap_lookup(&keymap_setup_prompt, ch);
        if (a == A_ENTER || a == A_BACK) answer(z, a == A_ENTER);
        return;
    }
    if (z->scr.help) { z->scr.help = 0; return; }
    const struct keymap *km = keys_of(z);
    enum action a = keymap_lookup(km, ch);
    int n;
    const validator *v;
    struct setup_field *fields = wiz_fields(z, z->step, &n, &v);
    int focus = z->focus[z->step];
    struct setup_field *f = fields && focus < n ? &fields[focus] : NULL;
    if (z->step == SETUP_TABLES && focus == 1) f = NULL;        /* the list has the focus */
    switch (a) {
    case A_NONE:
        if (f && setup_field_key(f, ch)) field_changed(z, f);
        return;
    case A_HELP: z->scr.help = 1; return;
    case A_QUIT:
        if (z->step == SETUP_START) z->quit = 1;
        else wiz_ask(z, Q_LEAVE, "Leave the walkthrough? %s", z->written ? "The config is written." : "Nothing has been written.");
        return;
    case A_BACK: go_back(z); return;
    case A_NEXT_FIELD: case A_PREV_FIELD:
        if (z->step == SETUP_TABLES) { z->focus[SETUP_TABLES] = !focus; return; }
        move_focus(z, a == A_NEXT_FIELD ? 1 : -1);
        return;
    case A_MOVE_LEFT: case A_MOVE_RIGHT:
        if (f) {
            setup_field_move(f, a == A_MOVE_LEFT ? -1 : 1);
            if (f->type == SETUP_CHOICE) field_changed(z, f);
        }
        return;
    case A_GO: wiz_submit(z); return;
    case A_ENTER:
        if (z->step == SETUP_CHECKS) {
            if (z->scr.busy) { wiz_status(z, "The checks are still running."); return; }
            if (!z->have_checks)
                wiz_ask(z, Q_CHECKS_FAILED, "The checks could not run (see above): zetl check will say more. Go on to the target anyway?");
            else if (z->checks.nfail)
                wiz_ask(z, Q_CHECKS_FAILED, "%d required check%s failed: zetl cannot replicate until %s fixed (zetl check shows them again). Go on to the target anyway?",
                    z->checks.nfail, z->checks.nfail == 1 ? "" : "s", z->checks.nfail == 1 ? "it is" : "they are");
            else
                wiz_set_step(z, SETUP_TARGET);
            return;
        }
        if (z->step == SETUP_START) { z->start_console = 1; z->quit = 1; return; }
        if (z->step == SETUP_TABLES || focus >= last_visible(z)) wiz_submit(z);
        else move_focus(z, 1);
        return;
    case A_RERUN:
        if (!z->scr.busy) wiz_start_checks(z);
        return;
    case A_TOGGLE: case A_SELECT_ALL: case A_SELECT_NONE: table_pick(z, a); return;
    case A_UP: case A_DOWN: case A_PGUP: case A_PGDN: case A_HOME: case A_END:
        if (z->step == SETUP_REVIEW) {
            z->scr.ytop += (a == A_PGUP ? -1 : 1) * setup_page_rows();
            if (z->scr.ytop < 0) z->scr.ytop = 0;
        } else {
            list_key(z, a);
        }
        return;
    default:
        return;
    }
}

/* ---- the screen -------------------------------------------------------------------- */

static void fill_screen(struct wiz *z)
{
    struct setup_screen *s = &z->scr;
    int n;
    const validator *v;
    s->step = z->step;
    s->intro = intro[z->step];
    s->fields = wiz_fields(z, z->step, &n, &v);
    s->nfields = n;
    s->focus = z->focus[z->step];
    s->keys = keys_of(z);
    s->report = z->step == SETUP_CHECKS && z->have_checks ? &z->checks
              : z->step == SETUP_TARGET && z->have_treport ? &z->treport : NULL;
    s->tables = z->tables;
    s->picked = z->picked;
    s->ntables = z->picked ? z->ntables : 0;
    s->tables_note = z->picked ? z->tables_note : NULL;
    s->yaml = z->step == SETUP_REVIEW ? z->yaml : NULL;
    if (s->busy) s->busy_secs = (int)((wiz_mono_ms() - z->busy_since) / 1000);
}

int setup_run(const char *path, int no_config)
{
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "zetl init: the walkthrough needs a terminal; write a config by hand instead (see config/example.yaml)\n");
        return 1;
    }
    setlocale(LC_ALL, "");
    static struct wiz z;
    char err[512];
    int pfd[2];
    if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) != 0) {
        perror("zetl init: pipe");
        return 1;
    }
    wiz_init(&z, path, no_config);
    setup_jobs_init(pfd[1]);
    int rc = 0;
    if (term_open(pfd[1], err, sizeof err) != 0) {
        fprintf(stderr, "zetl init: %s\n", err);
        rc = 1;
        goto out;
    }
    int dirty = 1, shown_secs = -1;
    for (;;) {
        int sig = term_quit_signal();
        if (sig) { rc = 128 + sig; break; }   /* 130 after Ctrl-C, as a shell reports it */
        if (term_check_resize()) dirty = 1;
        struct setup_job_result *r;
        if (setup_jobs_take(&r)) {
            wiz_on_result(&z, r);
            setup_job_free(r);
            dirty = 1;
        }
        int ch;
        while (!z.quit && (ch = getch()) != ERR) {
            if (ch == KEY_RESIZE) term_check_resize();
            else on_key(&z, ch);
            dirty = 1;
        }
        if (z.quit) break;
        if (z.scr.busy && (wiz_mono_ms() - z.busy_since) / 1000 != shown_secs) {
            shown_secs = (int)((wiz_mono_ms() - z.busy_since) / 1000);
            dirty = 1;
        }
        if (dirty) {
            fill_screen(&z);
            setup_draw(&z.scr, stdscr);
            doupdate();
            dirty = 0;
        }
        int w = term_wait(pfd[0], z.scr.busy ? 250 : -1, err, sizeof err);
        if (w != 0) { rc = 1; break; }
    }
    term_close();
out:
    setup_jobs_shutdown();          /* no job writes to the pipe from here on */
    close(pfd[0]);
    close(pfd[1]);
    int start = z.start_console && z.written;
    char written[4096];
    snprintf(written, sizeof written, "%s", z.written ? z.path : "");
    wiz_free(&z);
    if (start) {
        char note[4200];
        snprintf(note, sizeof note, "wrote %.4000s: the initial copy of every table starts now", written);
        return console_open_path(written, note);
    }
    if (written[0])
        printf("zetl init: wrote %s (mode 0600); start it with `zetl console -c %s`, or `zetl run -c %s`\n",
               written, written, written);
    else if (rc == 0)
        printf("zetl init: nothing written\n");
    return rc;
}

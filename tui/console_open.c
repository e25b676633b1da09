/*
 * console_open.c — the console on a config file (console_open.h): decide
 * per integration whether to run it here or attach to the `zetl run` that
 * holds its lock, start the model (data thread) and the event loop, and on
 * the way out stop what this process runs.
 *
 * Attach: an integration whose lock is held by another process is only read
 * from the state log and driven through its command queue; quitting the
 * console never stops that daemon. The free integrations are run here
 * (runtime_start once for all when none is held, else once per free one).
 *
 * When they cannot be started (the state directory cannot be created, …),
 * the console still opens and shows why in its body, with a key to try
 * again; if they never started, the exit status is 1, so `zetl init` and a
 * script see it.
 */
#include <errno.h>
#include <fcntl.h>
#include <locale.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "runtime/log/lock.h"
#include "runtime/runtime.h"
#include "runtime/log/statelog.h"
#include "tui/console.h"
#include "tui/console_open.h"
#include "tui/model.h"

#define MAX_RT 64

/* What this console runs, and how to start what is not running yet. */
struct starter {
    const struct config *cfg;
    int  *held;             /* per integration: another process holds it */
    int  *running;          /* per integration: started here */
    int   nheld;
    struct runtime *rts[MAX_RT];
    int   nrt;
    char  actor[200];
    char  last_err[4096];   /* why the last start failed */
};

/* Start every free integration not running yet: all at once when none is
 * held, else one by one. 0 when all run, -1 with the (last) reason. */
static int start_free(void *arg, char *err, size_t errlen)
{
    struct starter *st = arg;
    const struct config *cfg = st->cfg;
    struct runtime_opts ro = {.only = NULL, .log_stderr = 0, .actor = st->actor};
    char e[4096];
    int rc = 0, nrunning = 0;
    for (int i = 0; i < cfg->nintegrations; i++) nrunning += st->running[i];
    if (st->nheld == 0 && nrunning == 0) {
        if (runtime_start(&st->rts[st->nrt], cfg, &ro, e, sizeof e) == 0) {
            st->nrt++;
            for (int i = 0; i < cfg->nintegrations; i++) st->running[i] = 1;
            return 0;
        }
        snprintf(st->last_err, sizeof st->last_err, "%.4000s", e);
        snprintf(err, errlen, "%s", st->last_err);
        return -1;
    }
    for (int i = 0; i < cfg->nintegrations && st->nrt < MAX_RT; i++) {
        if (st->held[i] || st->running[i]) continue;
        ro.only = cfg->integrations[i].name;
        if (runtime_start(&st->rts[st->nrt], cfg, &ro, e, sizeof e) == 0) {
            st->nrt++;
            st->running[i] = 1;
        } else {
            snprintf(st->last_err, sizeof st->last_err, "%.100s: %.3800s", ro.only, e);
            snprintf(err, errlen, "%s", st->last_err);
            rc = -1;
        }
    }
    return rc;
}

int console_open_path(const char *path, const char *start_note)
{
    char err[8192] = "";
    int rc;
    struct config *cfg = NULL;
    if (config_load(path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "%s%s", err, err[0] && err[strlen(err) - 1] == '\n' ? "" : "\n");
        fprintf(stderr, "zetl console: cannot use config %s; fix it (see `zetl check -c %s`)\n", path, path);
        return 1;
    }
    if (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO)) {
        fprintf(stderr, "zetl console: needs a terminal; for headless replication use `zetl run -c %s`, "
                        "for a summary `zetl status -c %s`\n", path, path);
        config_free(cfg);
        return 1;
    }
    setlocale(LC_ALL, "");
    statelog_defer_notices(1);          /* a healed state log is said after the screen */

    /* Who runs what: attach to held integrations, run the free ones. */
    int nfree = 0;
    static struct starter st;
    memset(&st, 0, sizeof st);
    st.cfg = cfg;
    st.held = calloc((size_t)cfg->nintegrations + 1, sizeof *st.held);
    st.running = calloc((size_t)cfg->nintegrations + 1, sizeof *st.running);
    char note[1024] = "", start_err[4096] = "";
    if (!st.held || !st.running) { free(st.held); free(st.running); config_free(cfg); return 1; }
    for (int i = 0; i < cfg->nintegrations; i++) {
        pid_t pid = 0;
        char lerr[512];
        if (lock_holder_pid(cfg->state_dir, cfg->integrations[i].name, &pid, NULL, 0, lerr, sizeof lerr) == 1) {
            st.held[i] = 1;
            st.nheld++;
        } else {
            nfree++;
        }
    }
    char actor[200];
    runtime_actor("console", actor, sizeof actor);
    runtime_actor("zetl console", st.actor, sizeof st.actor);
    if (nfree > 0) start_free(&st, start_err, sizeof start_err);
    if (start_note && !start_err[0])
        snprintf(note, sizeof note, "%s", start_note);
    if (!note[0] && st.nheld)
        snprintf(note, sizeof note, "attached to `zetl run` for %d integration%s: quitting leaves %s running",
                 st.nheld, st.nheld == 1 ? "" : "s", st.nheld == 1 ? "it" : "them");

    int pfd[2] = {-1, -1};
    struct model *m = NULL;
    char logpath[4096];
    snprintf(logpath, sizeof logpath, "%s/%s", cfg->state_dir, STATELOG_FILENAME);
    rc = 1;
    if (pipe2(pfd, O_CLOEXEC | O_NONBLOCK) != 0) {
        fprintf(stderr, "zetl console: pipe: %s\n", strerror(errno));
        goto out;
    }
    if (model_start(&m, cfg, logpath, pfd[1], actor, err, sizeof err) != 0) {
        fprintf(stderr, "zetl console: %s\n", err);
        goto out;
    }
    struct console_opts co = {cfg, m, pfd[0], pfd[1], st.nrt > 0, note[0] ? note : NULL,
                              start_err[0] ? start_err : NULL, start_free, &st};
    enum console_exit ex = console_run(&co, err, sizeof err);
    if (ex == CONSOLE_ERROR) {
        fprintf(stderr, "zetl console: %s\n", err);
    } else {
        rc = 0;
        if (ex == CONSOLE_SIGNAL && console_exit_signal() == SIGINT) rc = 130;
        if (rc == 0 && console_start_failed()) {
            /* said after the screen is gone too: the failure outlives the console */
            fprintf(stderr, "zetl console: replication did not start: %s\n", st.last_err);
            rc = 1;
        }
    }
out:
    if (st.nrt) {
        fprintf(stderr, "zetl: stopping replication (finishing the current batch)...\n");
        for (int i = 0; i < st.nrt; i++) runtime_stop(st.rts[i]);
        for (int i = 0; i < st.nrt; i++) runtime_free(st.rts[i]);
        fprintf(stderr, "zetl: replication stopped\n");
    }
    free(st.held);
    free(st.running);
    model_stop(m);
    statelog_flush_notices(stderr);
    if (pfd[0] >= 0) close(pfd[0]);
    if (pfd[1] >= 0) close(pfd[1]);
    config_free(cfg);
    return rc;
}

/*
 * setup_int.h — the walkthrough's state, shared by its two files:
 * setup_steps.c (the fields, the answers, the jobs and their results, each
 * step's work: test, checks, tables, write) and setup.c (keys, the screen,
 * the loop). Not part of any API. Console thread only.
 */
#ifndef ZETL_TUI_SETUP_INT_H
#define ZETL_TUI_SETUP_INT_H

#include <stdint.h>

#include "runtime/source/source_ops.h"
#include "tui/setup_jobs.h"
#include "views/setup.h"

enum { F_KIND, F_HOST, F_PORT, F_USER, F_PWMODE, F_PASSWORD, F_PWVAR, F_PWCMD, F_DATABASES,
       F_DATABASE, F_SCHEMAS, F_SERVER_ID, F_TLS, F_SRC_N };
enum { T_KIND, T_DSN, T_N };
enum { R_NAME, R_PATH, R_STATE, R_N };

enum question { Q_NONE, Q_LEAVE, Q_CHECKS_FAILED, Q_TARGET_FAILED, Q_OVERWRITE };

typedef int (*validator)(const char *, char *, size_t);   /* tui/setup_form.h */

#define WIZ_MAX_KINDS 8

struct wiz {
    enum setup_step step;
    struct setup_field src[F_SRC_N], tgt[T_N], pat[1], rev[R_N];
    const char *src_kinds[WIZ_MAX_KINDS];   /* F_KIND's choices: the source drivers' labels */
    int focus[SETUP_NSTEPS];
    struct setup_screen scr;
    enum setup_job_kind awaiting;   /* the job whose result this step waits for, 0 none */
    int64_t busy_since;
    /* results */
    struct pf_report checks;
    int   have_checks;
    struct pf_report treport;
    int   have_treport;
    uint64_t tested_sig;            /* target answers when treport was made */
    struct setup_table *tables;
    unsigned char *picked;
    int   ntables;
    uint64_t tables_sig;            /* source answers when tables were listed */
    int   by_hand;
    char  tables_note[160];
    char *yaml;                     /* masked, for step 5 */
    char  path[4096];
    int   written, start_console, quit;
    enum question q;
    int   no_config;
};

/* setup_steps.c */
int64_t wiz_mono_ms(void);
void wiz_status(struct wiz *z, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void wiz_ask(struct wiz *z, enum question q, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
/* The step's fields and their validators (NULL when the step has none). */
struct setup_field *wiz_fields(struct wiz *z, enum setup_step st, int *n, const validator **v);
int  wiz_check_field(struct setup_field *f, validator v);
/* The source driver F_KIND has chosen (runtime/source/source_ops.h). */
const struct source_ops *wiz_source(const struct wiz *z);
void wiz_src_visibility(struct wiz *z);
void wiz_set_step(struct wiz *z, enum setup_step st);
void wiz_on_result(struct wiz *z, struct setup_job_result *r);
void wiz_start_checks(struct wiz *z);
void wiz_apply_preview(struct wiz *z);
void wiz_refresh_yaml(struct wiz *z);
/* Enter on the last field, or F5: test, go on, or write (step 5). */
void wiz_submit(struct wiz *z);
void wiz_write(struct wiz *z, int overwrite);
void wiz_init(struct wiz *z, const char *path, int no_config);
void wiz_free(struct wiz *z);

#endif

/* setup_steps.c — the walkthrough's fields, answers, jobs and steps (see setup.h, setup_int.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/base/clock.h"
#include "config/write.h"
#include "runtime/source/source.h"
#include "tui/setup_form.h"
#include "tui/setup_int.h"

static const char *const pw_modes[] = {"type it", "${VARIABLE}", "password command"};
static const char *const tls_modes[] = {"disable", "prefer", "require", "verify-full"};
static const char *const target_kinds[] = {"PostgreSQL", "Amazon Redshift"};


int64_t wiz_mono_ms(void) { return zclock_mono_ms(); }

/* ---- messages --------------------------------------------------------------- */

static void msg_clear(struct wiz *z) { z->scr.nmsg = 0; }

static void msg(struct wiz *z, enum theme_role role, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void msg(struct wiz *z, enum theme_role role, const char *fmt, ...)
{
    if (z->scr.nmsg >= SETUP_MAX_MSG) return;
    struct setup_msg *m = &z->scr.msg[z->scr.nmsg++];
    m->role = role;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(m->text, sizeof m->text, fmt, ap);
    va_end(ap);
}

void wiz_status(struct wiz *z, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(z->scr.status, sizeof z->scr.status, fmt, ap);
    va_end(ap);
}

void wiz_ask(struct wiz *z, enum question q, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(z->scr.prompt, sizeof z->scr.prompt, fmt, ap);
    va_end(ap);
    z->q = q;
}

/* ---- fields ----------------------------------------------------------------- */

static void field(struct setup_field *f, const char *label, enum setup_ftype type, const char *value,
                  const char *help)
{
    memset(f, 0, sizeof *f);
    f->label = label;
    f->type = type;
    f->help = help;
    setup_field_set(f, value);
}

static void choice(struct setup_field *f, const char *label, const char *const *choices, int n, int sel,
                   const char *help)
{
    field(f, label, SETUP_CHOICE, "", help);
    f->choices = choices;
    f->nchoices = n;
    f->choice = sel;
}

static const validator src_valid[F_SRC_N] = {
    [F_HOST] = setup_valid_host, [F_PORT] = setup_valid_port, [F_USER] = setup_valid_user,
    [F_PASSWORD] = setup_valid_text, [F_PWVAR] = setup_valid_env_var, [F_PWCMD] = setup_valid_command,
    [F_DATABASES] = setup_valid_names, [F_DATABASE] = setup_valid_database, [F_SCHEMAS] = setup_valid_names,
    [F_SERVER_ID] = setup_valid_server_id,
};
static const validator tgt_valid[T_N] = {[T_DSN] = setup_dsn_check};
static const validator pat_valid[1] = {setup_valid_patterns};
static const validator rev_valid[R_N] = {setup_valid_name, setup_valid_path, setup_valid_state_dir};

struct setup_field *wiz_fields(struct wiz *z, enum setup_step st, int *n, const validator **v)
{
    switch (st) {
    case SETUP_SOURCE: *n = F_SRC_N; *v = src_valid; return z->src;
    case SETUP_TARGET: *n = T_N; *v = tgt_valid; return z->tgt;
    case SETUP_TABLES: *n = 1; *v = pat_valid; return z->pat;
    case SETUP_REVIEW: *n = R_N; *v = rev_valid; return z->rev;
    default: *n = 0; *v = NULL; return NULL;
    }
}

const struct source_ops *wiz_source(const struct wiz *z)
{
    return source_driver_at(z->src[F_KIND].choice);
}

/* Which source fields apply, and the port default that follows the kind. */
void wiz_src_visibility(struct wiz *z)
{
    const struct source_ops *d = wiz_source(z);
    int my = d->multi_db, mode = z->src[F_PWMODE].choice;
    z->src[F_PASSWORD].hidden = mode == SETUP_PW_COMMAND;
    z->src[F_PASSWORD].help = mode == SETUP_PW_ENV
        ? "Used now to test the connection only; the file refers to ${VARIABLE}. Leave it empty when the variable is set."
        : "Masked. Written to the config file, which is created with mode 0600 (readable by you only).";
    z->src[F_PWVAR].hidden = mode != SETUP_PW_ENV;
    z->src[F_PWCMD].hidden = mode != SETUP_PW_COMMAND;
    z->src[F_DATABASES].hidden = !my;
    z->src[F_SERVER_ID].hidden = !my;
    z->src[F_DATABASE].hidden = my;
    z->src[F_SCHEMAS].hidden = my;
    char port[16];
    snprintf(port, sizeof port, "%d", d->default_port);
    if (!z->src[F_PORT].edited) setup_field_set(&z->src[F_PORT], port);
}

int wiz_check_field(struct setup_field *f, validator v)
{
    f->error[0] = '\0';
    if (!v || f->hidden || f->type == SETUP_CHOICE) return 0;
    return v(f->value, f->error, sizeof f->error);
}

/* Every visible field of the step; focus goes to the first bad one. */
static int check_step(struct wiz *z, enum setup_step st)
{
    int n, bad = -1;
    const validator *v;
    struct setup_field *f = wiz_fields(z, st, &n, &v);
    for (int i = 0; i < n; i++)
        if (wiz_check_field(&f[i], v[i]) != 0 && bad < 0) bad = i;
    if (bad >= 0) {
        z->focus[st] = bad;
        wiz_status(z, "%s: %s", f[bad].label, f[bad].error);
        return -1;
    }
    return 0;
}

/* ---- answers ------------------------------------------------------------------ */

static void expand_home(const char *in, char *out, size_t len)
{
    const char *home = getenv("HOME");
    if (in[0] == '~' && (in[1] == '/' || !in[1]) && home && *home)
        snprintf(out, len, "%s%s", home, in + 1);
    else
        snprintf(out, len, "%s", in);
}

/* The include patterns of the table step: the pattern, or the picks (a
 * schema whose every table is picked becomes schema.%). */
static void picks_to_include(const struct wiz *z, char *out, size_t len)
{
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < z->ntables; i++) {
        const char *schema = z->tables[i].schema;
        if (i && strcmp(z->tables[i - 1].schema, schema) == 0) continue;     /* one pass per schema */
        int all = 1, any = 0, j;
        for (j = i; j < z->ntables && strcmp(z->tables[j].schema, schema) == 0; j++) {
            all &= z->picked[j];
            any |= z->picked[j];
        }
        if (!any) continue;
        char es[300], et[300];
        config_like_escape(schema, es, sizeof es);
        for (int k = i; k < j; k++) {
            if (!all && !z->picked[k]) continue;
            config_like_escape(z->tables[k].name, et, sizeof et);
            int w = snprintf(out + o, len - o, "%s%s.%s", o ? ", " : "", es, all ? "%" : et);
            if (w < 0 || (size_t)w >= len - o) { out[o] = '\0'; return; }
            o += (size_t)w;
            if (all) break;
        }
    }
}

/* schema.% for every database/schema: what the checks and the default pattern cover. */
static void everything_include(const struct wiz *z, char *out, size_t len)
{
    char buf[1024], *items[SETUP_MAX_LIST];
    const char *list = wiz_source(z)->multi_db ? z->src[F_DATABASES].value
                     : z->src[F_SCHEMAS].value[0] ? z->src[F_SCHEMAS].value : "public";
    int n = setup_split_list(list, buf, sizeof buf, items, SETUP_MAX_LIST);
    size_t o = 0;
    out[0] = '\0';
    for (int i = 0; i < n; i++) {
        char e[300];
        if (config_like_escape(items[i], e, sizeof e) != 0) continue;
        int w = snprintf(out + o, len - o, "%s%s.%%", o ? ", " : "", e);
        if (w < 0 || (size_t)w >= len - o) break;
        o += (size_t)w;
    }
}

/* Fields never hold more than their max (setup_field_key), so nothing is cut. */
static void put(char *dst, size_t len, const char *src)
{
    size_t n = strnlen(src, len - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void fill_answers(const struct wiz *z, struct setup_answers *a, int for_checks)
{
    memset(a, 0, sizeof *a);
    put(a->name, sizeof a->name, z->rev[R_NAME].value);
    a->kind = wiz_source(z)->kind;
    put(a->host, sizeof a->host, z->src[F_HOST].value);
    a->port = atoi(z->src[F_PORT].value);
    put(a->user, sizeof a->user, z->src[F_USER].value);
    a->pw_mode = (enum setup_pw_mode)z->src[F_PWMODE].choice;
    if (a->pw_mode != SETUP_PW_COMMAND) put(a->password, sizeof a->password, z->src[F_PASSWORD].value);
    put(a->password_var, sizeof a->password_var, z->src[F_PWVAR].value);
    put(a->password_command, sizeof a->password_command, z->src[F_PWCMD].value);
    put(a->databases, sizeof a->databases, z->src[F_DATABASES].value);
    put(a->database, sizeof a->database, z->src[F_DATABASE].value);
    put(a->schemas, sizeof a->schemas, z->src[F_SCHEMAS].value);
    a->server_id = (uint32_t)strtoul(z->src[F_SERVER_ID].value, NULL, 10);
    a->tls = (enum tls_mode)z->src[F_TLS].choice;
    a->tkind = z->tgt[T_KIND].choice ? TARGET_REDSHIFT : TARGET_POSTGRES;
    put(a->dsn, sizeof a->dsn, z->tgt[T_DSN].value);
    if (for_checks) everything_include(z, a->include, sizeof a->include);
    else if (z->by_hand) picks_to_include(z, a->include, sizeof a->include);
    else put(a->include, sizeof a->include, z->pat[0].value);
    put(a->state_dir, sizeof a->state_dir, z->rev[R_STATE].value);
}

static uint64_t hash_fields(const struct setup_field *f, int n)
{
    uint64_t h = 1469598103934665603ULL;
    for (int i = 0; i < n; i++) {
        for (const char *p = f[i].value; *p; p++) { h ^= (unsigned char)*p; h *= 1099511628211ULL; }
        h ^= (uint64_t)(f[i].choice + 1) * 31;
        h *= 1099511628211ULL;
    }
    return h;
}

/* ---- jobs ---------------------------------------------------------------------- */

static void start_job(struct wiz *z, enum setup_job_kind kind, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void start_job(struct wiz *z, enum setup_job_kind kind, const char *fmt, ...)
{
    struct setup_answers *a = malloc(sizeof *a);
    if (!a) { wiz_status(z, "out of memory"); return; }
    fill_answers(z, a, kind == SETUP_JOB_CHECKS);
    int rc = setup_jobs_run(kind, a);
    explicit_bzero(a, sizeof *a);
    free(a);
    if (rc != 0) { wiz_status(z, "cannot start a thread for the test; try again"); return; }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(z->scr.busy_text, sizeof z->scr.busy_text, fmt, ap);
    va_end(ap);
    z->awaiting = kind;
    z->scr.busy = 1;
    z->scr.busy_secs = 0;
    z->busy_since = wiz_mono_ms();
}


/* "mysql://host:port" (and " as user"), for messages. */
static const char *source_where(const struct wiz *z, char *buf, size_t len, int with_user)
{
    snprintf(buf, len, "%s://%.200s:%.8s%s%.100s", wiz_source(z)->name, z->src[F_HOST].value,
             z->src[F_PORT].value, with_user ? " as " : "", with_user ? z->src[F_USER].value : "");
    return buf;
}

void wiz_start_checks(struct wiz *z)
{
    char where[400];
    source_where(z, where, sizeof where, 0);
    start_job(z, SETUP_JOB_CHECKS, "Running the preflight checks on %s", where);
    wiz_status(z, "Checking the source's settings in the background...");
}

static void start_tables(struct wiz *z)
{
    z->tables_sig = hash_fields(z->src, F_SRC_N);
    start_job(z, SETUP_JOB_TABLES, "Listing the tables of the source");
}

static void cause_lines(struct wiz *z, const struct setup_conn *c)
{
    msg(z, TH_ERROR, "Cannot connect to %s: %s", c->where, c->message);
    msg(z, TH_WARN, "Likely cause: %s. %s", setup_cause_name(c->cause), setup_cause_hint(c->cause));
}

static void report_status(struct wiz *z, const struct pf_report *r, const char *go_on)
{
    if (r->nfail)
        wiz_status(z, "%d check%s failed, %d warning%s: fix %s and press %s; Enter goes on anyway", r->nfail,
               r->nfail == 1 ? "" : "s", r->nwarn, r->nwarn == 1 ? "" : "s",
               z->step == SETUP_CHECKS ? "the server" : "it",
               z->step == SETUP_CHECKS ? "r to check again" : "Enter to test again");
    else
        wiz_status(z, "No check failed%s%s; %s", r->nwarn ? ", warnings: " : "", r->nwarn ? "see above" : "", go_on);
}


/* The first failed item, else the first warning, else 0: its fixes show. */
static int first_problem(const struct pf_report *r)
{
    for (enum pf_status st = PF_FAIL; st >= PF_WARN; st--)
        for (int i = 0; i < r->n; i++)
            if (r->items[i].status == st) return i;
    return 0;
}

void wiz_on_result(struct wiz *z, struct setup_job_result *r)
{
    if (r->kind != z->awaiting) return;
    z->awaiting = 0;
    z->scr.busy = 0;
    switch (r->kind) {
    case SETUP_JOB_SOURCE:
        msg_clear(z);
        if (r->rc != 0) {
            cause_lines(z, &r->conn);
            wiz_status(z, "Fix the source and press Enter on the last field (or F5) to test again.");
            return;
        }
        pf_free(&z->checks);            /* another source, or other settings: check afresh */
        z->have_checks = 0;
        wiz_set_step(z, SETUP_CHECKS);
        msg(z, TH_OK, "Connected to %s (%s).", r->conn.where, r->conn.server);
        wiz_start_checks(z);
        return;
    case SETUP_JOB_CHECKS:
        pf_free(&z->checks);
        z->checks = r->report;
        memset(&r->report, 0, sizeof r->report);
        z->have_checks = r->rc == 0;
        if (r->rc != 0) {
            msg_clear(z);
            msg(z, TH_ERROR, "The checks could not run: %s", r->err);
            wiz_status(z, "r tries again; Esc goes back to the source.");
            return;
        }
        z->scr.rsel = first_problem(&z->checks);
        report_status(z, &z->checks, "Enter goes on to the target");
        return;
    case SETUP_JOB_TARGET:
        msg_clear(z);
        pf_free(&z->treport);
        z->treport = r->report;
        memset(&r->report, 0, sizeof r->report);
        z->have_treport = r->rc == 0;
        z->tested_sig = hash_fields(z->tgt, T_N);
        if (r->rc != 0) {
            cause_lines(z, &r->conn);
            wiz_status(z, "Fix the DSN and press Enter to test again.");
            return;
        }
        if (!z->treport.nfail && !z->treport.nwarn) {
            wiz_set_step(z, SETUP_TABLES);
            msg(z, TH_OK, "Target: %s, zetl may create schemas and tables there.", r->conn.server);
            return;
        }
        report_status(z, &z->treport, "Enter goes on to the tables");
        return;
    case SETUP_JOB_TABLES:
        if (r->rc != 0) {
            msg(z, TH_ERROR, "Cannot list the tables: %s", r->err);
            wiz_status(z, "Esc goes back; F10 leaves.");
            return;
        }
        free(z->tables);
        free(z->picked);
        z->tables = r->tables;
        z->ntables = r->ntables;
        r->tables = NULL;
        z->picked = calloc((size_t)z->ntables + 1, 1);
        z->by_hand = 0;
        wiz_apply_preview(z);
        wiz_status(z, "%d tables. Type a pattern, or Tab to the list and Space to pick; Enter goes on.", z->ntables);
        return;
    }
}

/* ---- steps ----------------------------------------------------------------------- */


/* Until the operator names it, the integration is named after the first
 * database (it also names the PostgreSQL slot the checks look at). */
static void default_name(struct wiz *z)
{
    if (z->rev[R_NAME].edited) return;
    char name[64], buf[1024], *items[SETUP_MAX_LIST];
    int n = setup_split_list(wiz_source(z)->multi_db ? z->src[F_DATABASES].value : z->src[F_DATABASE].value,
                             buf, sizeof buf, items, SETUP_MAX_LIST);
    setup_name_from(n > 0 ? items[0] : "main", name, sizeof name);
    setup_field_set(&z->rev[R_NAME], name);
}

void wiz_set_step(struct wiz *z, enum setup_step st)
{
    setup_jobs_cancel();
    z->awaiting = 0;
    z->scr.busy = 0;
    z->step = st;
    msg_clear(z);
    z->scr.status[0] = '\0';
    z->scr.help = 0;
    switch (st) {
    case SETUP_SOURCE:
        wiz_status(z, "Enter moves to the next field; on the last one (or F5 anywhere) it tests the connection.");
        break;
    case SETUP_CHECKS:
        if (z->have_checks) report_status(z, &z->checks, "Enter goes on to the target");
        break;
    case SETUP_TARGET:
        if (z->have_treport && z->tested_sig == hash_fields(z->tgt, T_N))
            report_status(z, &z->treport, "Enter goes on to the tables");
        else
            wiz_status(z, "Enter on the DSN (or F5) tests the target.");
        break;
    case SETUP_TABLES:
        if (!z->tables || z->tables_sig != hash_fields(z->src, F_SRC_N)) {
            free(z->tables);
            free(z->picked);
            z->tables = NULL;
            z->picked = NULL;
            z->ntables = 0;
            if (!z->pat[0].edited) {
                char inc[1024];
                everything_include(z, inc, sizeof inc);
                setup_field_set(&z->pat[0], inc);
            }
            start_tables(z);
        }
        break;
    case SETUP_REVIEW:
        default_name(z);
        wiz_refresh_yaml(z);
        wiz_status(z, "Enter on the last field (or F5) writes the config.");
        break;
    case SETUP_START:
        break;
    default:
        break;
    }
}

static void submit_source(struct wiz *z)
{
    if (check_step(z, SETUP_SOURCE) != 0) return;
    msg_clear(z);
    default_name(z);
    char where[400];
    start_job(z, SETUP_JOB_SOURCE, "Connecting to %s", source_where(z, where, sizeof where, 1));
    wiz_status(z, "Testing the connection in the background (Esc cancels)...");
}

static void submit_target(struct wiz *z)
{
    if (check_step(z, SETUP_TARGET) != 0) return;
    if (z->have_treport && z->tested_sig == hash_fields(z->tgt, T_N)) {
        if (z->treport.nfail) {
            wiz_ask(z, Q_TARGET_FAILED, "%d target check%s failed: replication will fail until %s fixed. Go on to the tables anyway?",
                z->treport.nfail, z->treport.nfail == 1 ? "" : "s", z->treport.nfail == 1 ? "it is" : "they are");
            return;
        }
        wiz_set_step(z, SETUP_TABLES);
        return;
    }
    msg_clear(z);
    pf_free(&z->treport);
    z->have_treport = 0;
    char shown[600];
    config_redact(z->tgt[T_DSN].value, shown, sizeof shown);
    start_job(z, SETUP_JOB_TARGET, "Connecting to the target %s", shown);
    wiz_status(z, "Testing the target in the background (Esc cancels)...");
}

static int count_picked(const struct wiz *z)
{
    int n = 0;
    for (int i = 0; i < z->ntables; i++) n += z->picked[i] != 0;
    return n;
}

/* The pattern's live preview: which listed tables it selects. */
void wiz_apply_preview(struct wiz *z)
{
    if (!z->picked) return;
    if (!z->by_hand) {
        char buf[16384], *items[SETUP_MAX_LIST];
        int n = setup_split_list(z->pat[0].value, buf, sizeof buf, items, SETUP_MAX_LIST);
        struct config_tables t = {.include = items, .ninclude = n > 0 ? n : 0};
        for (int i = 0; i < z->ntables; i++)
            z->picked[i] = (unsigned char)config_table_selected(&t, z->tables[i].schema, z->tables[i].name);
    }
    int np = count_picked(z), keyless = 0;
    for (int i = 0; i < z->ntables; i++) keyless += z->picked[i] && !z->tables[i].has_pk;
    int w = snprintf(z->tables_note, sizeof z->tables_note, "%d of %d tables selected %s", np, z->ntables,
                     z->by_hand ? "(picked by hand)" : "by the pattern");
    if (keyless && w > 0 && (size_t)w < sizeof z->tables_note)
        snprintf(z->tables_note + w, sizeof z->tables_note - (size_t)w, "; %d without a primary key", keyless);
}

static void submit_tables(struct wiz *z)
{
    if (z->scr.busy || !z->picked) { wiz_status(z, "The table list is still loading."); return; }
    if (!z->by_hand && check_step(z, SETUP_TABLES) != 0) return;
    if (count_picked(z) == 0) {
        wiz_status(z, z->by_hand ? "No table is picked: Space picks the selected one, a picks all."
                             : "The pattern selects no table: change it, or Tab to the list and pick by hand.");
        return;
    }
    wiz_set_step(z, SETUP_REVIEW);
}

/* The config as YAML: masked for the screen, or the real text. */
static char *make_yaml(struct wiz *z, int masked, char *err, size_t errlen)
{
    struct setup_answers *a = malloc(sizeof *a);
    struct setup_cfg *cfg = malloc(sizeof *cfg);
    char *out = NULL;
    if (!a || !cfg) { snprintf(err, errlen, "out of memory"); goto done; }
    fill_answers(z, a, 0);
    if (setup_cfg_build(cfg, a, err, errlen) != 0) goto done;
    const char *env[1] = {a->pw_mode == SETUP_PW_ENV ? a->password_var : NULL};
    char comment[600], day[32];
    time_t now = time(NULL);
    struct tm tm;
    strftime(day, sizeof day, "%Y-%m-%d", localtime_r(&now, &tm));
    snprintf(comment, sizeof comment,
             "zetl configuration, written by `zetl init` on %s.\n"
             "Every key is described in config/example.yaml; check it with `zetl check -c FILE`.%s", day,
             env[0] ? "\nThe source password comes from the environment variable named below." : "");
    struct config_yaml_opts o = {env, comment, masked};
    if (config_to_yaml(&cfg->c, &o, &out, err, errlen) != 0) out = NULL;
done:
    if (a) { explicit_bzero(a, sizeof *a); free(a); }
    if (cfg) { setup_cfg_wipe(cfg); free(cfg); }
    return out;
}

void wiz_refresh_yaml(struct wiz *z)
{
    char err[300];
    config_yaml_free(z->yaml);
    z->yaml = make_yaml(z, 1, err, sizeof err);
    if (!z->yaml) wiz_status(z, "%s", err);
}

/* Write the file: the YAML must load back; never over a file without asking. */
void wiz_write(struct wiz *z, int overwrite)
{
    char err[8192] = "", path[4096];
    if (check_step(z, SETUP_REVIEW) != 0) return;
    msg_clear(z);
    if (z->src[F_PWMODE].choice == SETUP_PW_ENV && !getenv(z->src[F_PWVAR].value))
        setenv(z->src[F_PWVAR].value, z->src[F_PASSWORD].value, 0);   /* so it loads here, and the console runs */
    char *yaml = make_yaml(z, 0, err, sizeof err);
    if (!yaml) { msg(z, TH_ERROR, "Cannot make the config: %s", err); return; }
    expand_home(z->rev[R_PATH].value, path, sizeof path);
    struct config *c = NULL;
    if (config_load_buffer(path, yaml, strlen(yaml), &c, err, sizeof err) != 0) {
        char *nl = strchr(err, '\n');
        if (nl) *nl = '\0';
        msg(z, TH_ERROR, "The config would not load: %s", err);
        wiz_status(z, "Fix the value it names (Esc goes back to earlier steps).");
        config_yaml_free(yaml);
        return;
    }
    config_free(c);
    int rc = config_write_file(path, yaml, overwrite, err, sizeof err);
    config_yaml_free(yaml);
    if (rc == 1) {
        wiz_ask(z, Q_OVERWRITE, "%s already exists. Replace it with this config? (The old file is overwritten.)", path);
        return;
    }
    if (rc != 0) {
        msg(z, TH_ERROR, "%s", err);
        wiz_status(z, "Choose another file, or fix the directory's permissions.");
        return;
    }
    snprintf(z->path, sizeof z->path, "%s", path);
    z->written = 1;
    wiz_set_step(z, SETUP_START);
    msg(z, TH_OK, "Wrote %s (mode 0600).", path);
    char where[400];
    msg(z, TH_NORMAL, "Integration %s: %s into %s; %s.", z->rev[R_NAME].value,
        source_where(z, where, sizeof where, 0), z->tgt[T_KIND].choice ? "Amazon Redshift" : "PostgreSQL",
        z->tables_note);
    if (z->src[F_PWMODE].choice == SETUP_PW_ENV)
        msg(z, TH_WARN, "The file refers to ${%s}: set it in the environment of every zetl that uses this config.",
            z->src[F_PWVAR].value);
    msg(z, TH_NORMAL, "Enter opens the console on it: replication starts with the initial copy of every table, and the console shows it progressing.");
    msg(z, TH_NORMAL, "q leaves it written but not started; later: zetl console -c %s, or zetl run -c %s under systemd.",
        path, path);
    wiz_status(z, "Enter: start now    q: leave");
}

void wiz_submit(struct wiz *z)
{
    switch (z->step) {
    case SETUP_SOURCE: submit_source(z); break;
    case SETUP_TARGET: submit_target(z); break;
    case SETUP_TABLES: submit_tables(z); break;
    case SETUP_REVIEW: wiz_write(z, 0); break;
    default: break;
    }
}

/* ---- the walkthrough's fields ------------------------------------------------------ */

/* The config's own default (config_default_state_dir), else /var/lib/zetl. */
static void default_state_dir(char *buf, size_t len)
{
    char *d = config_default_state_dir();
    snprintf(buf, len, "%s", d ? d : "/var/lib/zetl");
    free(d);
}

void wiz_init(struct wiz *z, const char *path, int no_config)
{
    struct setup_field *s = z->src;
    memset(z, 0, sizeof *z);
    z->no_config = no_config;
    int nkinds = 0;
    for (const struct source_ops *d; nkinds < WIZ_MAX_KINDS && (d = source_driver_at(nkinds)); nkinds++)
        z->src_kinds[nkinds] = d->label;
    choice(&s[F_KIND], "Source kind", z->src_kinds, nkinds, 0, "Left/Right or Space chooses. MySQL/MariaDB reads the binlog; PostgreSQL uses logical replication (pgoutput).");
    field(&s[F_HOST], "Host", SETUP_TEXT, "127.0.0.1", "The server's name or address, as seen from this machine.");
    field(&s[F_PORT], "Port", SETUP_TEXT, "", "1 to 65535.");    /* the kind's: wiz_src_visibility */
    field(&s[F_USER], "User", SETUP_TEXT, "", "MySQL: needs REPLICATION SLAVE, REPLICATION CLIENT and SELECT. PostgreSQL: REPLICATION (RDS: rds_replication) and SELECT.");
    choice(&s[F_PWMODE], "Password from", pw_modes, 3, 0, "Type it (kept in the file, mode 0600), name an environment variable (the file holds ${VAR}), or a command that prints it (RDS IAM tokens).");
    field(&s[F_PASSWORD], "Password", SETUP_SECRET, "", NULL);
    field(&s[F_PWVAR], "Variable", SETUP_TEXT, "ZETL_SOURCE_PASSWORD", "The environment variable that holds the password; the file says password: ${VARIABLE}.");
    field(&s[F_PWCMD], "Command", SETUP_TEXT, "", "Run with /bin/sh at every connect; the first line it prints is the password.");
    field(&s[F_DATABASES], "Databases", SETUP_TEXT, "", "The databases to read, separated by commas.");
    field(&s[F_DATABASE], "Database", SETUP_TEXT, "", "The one database to read (logical replication works per database).");
    field(&s[F_SCHEMAS], "Schemas", SETUP_TEXT, "public", "The schemas to read, separated by commas.");
    field(&s[F_SERVER_ID], "Server id", SETUP_TEXT, "4242", "zetl's replica id: unique among the source's replicas, not the source's own server_id.");
    choice(&s[F_TLS], "TLS", tls_modes, 4, TLS_PREFER, "prefer: TLS when the server offers it; verify-full also checks the certificate and host name.");
    choice(&z->tgt[T_KIND], "Target kind", target_kinds, 2, 0, "Left/Right or Space chooses.");
    field(&z->tgt[T_DSN], "DSN", SETUP_DSN, "", "libpq key=value pairs (host port dbname user password) or postgresql://user@host/db; the password is masked here, kept in the file (0600).");
    field(&z->pat[0], "Pattern", SETUP_TEXT, "", "schema.table patterns separated by commas: % any run of characters, _ one, \\ makes the next one literal.");
    field(&z->rev[R_NAME], "Integration name", SETUP_TEXT, "", "Letters, digits, _ and -; it names the integration in the console, the log and the target's checkpoint.");
    field(&z->rev[R_PATH], "Config file", SETUP_TEXT, path, "Where the config is written (mode 0600). It is never replaced without asking.");
    char sd[1024];
    default_state_dir(sd, sizeof sd);
    field(&z->rev[R_STATE], "State directory", SETUP_TEXT, sd, "zetl's own files: the SQLite log, locks and spool files.");
    int smax[F_SRC_N] = {[F_HOST] = 255, [F_PORT] = 5, [F_USER] = 127, [F_PASSWORD] = 1023, [F_PWVAR] = 60,
                         [F_PWCMD] = 1023, [F_DATABASES] = 1023, [F_DATABASE] = 127, [F_SCHEMAS] = 1023,
                         [F_SERVER_ID] = 10};
    for (int i = 0; i < F_SRC_N; i++) s[i].max = smax[i];
    z->rev[R_NAME].max = 63;
    z->rev[R_STATE].max = 1023;
    wiz_src_visibility(z);
    wiz_set_step(z, SETUP_SOURCE);
    if (no_config)
        wiz_status(z, "No config at %s yet: this walkthrough writes one. Enter: next field; F1: keys.", path);
}

void wiz_free(struct wiz *z)
{
    explicit_bzero(z->src, sizeof z->src);
    explicit_bzero(z->tgt, sizeof z->tgt);
    pf_free(&z->checks);
    pf_free(&z->treport);
    free(z->tables);
    free(z->picked);
    config_yaml_free(z->yaml);
    z->yaml = NULL;
}

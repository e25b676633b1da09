/*
 * cmd_check.c — `zetl check`: validate the config, then (as the sources and
 * targets gain them) run every preflight check. Exit 1 on any failure.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config/config.h"
#include "runtime/mysql/preflight.h"
#include "runtime/pg/preflight.h"
#include "runtime/preflight.h"
#include "runtime/tables.h"
#include "runtime/target/target.h"
#include "tui/commands.h"

static const char *source_kind_name(enum source_kind k)
{
    return k == SOURCE_MYSQL ? "mysql" : "postgres";
}

static const char *target_kind_name(enum target_kind k)
{
    switch (k) {
    case TARGET_POSTGRES: return "postgres";
    case TARGET_REDSHIFT: return "redshift";
    case TARGET_HTTP: return "http";
    }
    return "?";
}

/* Count the lines of a multi-line error buffer. */
static int count_lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        if (*s == '\n') n++;
    if (s[-1] != '\n') n++;
    return n;
}

/* Print a preflight report (ran: what the checks returned); 0 when none failed. */
static int show_report(int ran, struct pf_report *r, const char *err)
{
    int rc;
    if (ran != 0) {
        printf("%s\n  FAIL  %s\n", r->subject, err);
        pf_free(r);
        return -1;
    }
    pf_print(r, stdout);
    rc = r->nfail ? -1 : 0;
    pf_free(r);
    return rc;
}

/* The http target's checks: the endpoint answers, TLS, the checkpoint file. */
static int check_http_target(const struct config_integration *in, const char *state_dir)
{
    struct pf_report r = {0};
    char err[1024];
    snprintf(r.subject, sizeof r.subject, "target %.60s: http", in->name);
    printf("\n");
    return show_report(target_http_preflight(in, state_dir, &r, err, sizeof err), &r, err);
}

/* The source's preflight checks, printed; 0 when none failed, 2 when they
 * could not run (the source unreachable: the name check is skipped). */
static int check_source(const struct config_integration *in)
{
    struct pf_report r = {0};
    char err[1024];
    int ran = in->source.kind == SOURCE_MYSQL ? mysql_preflight(in, &r, err, sizeof err)
                                              : pg_preflight(in, &r, err, sizeof err);
    int rc = show_report(ran, &r, err);
    return ran != 0 ? 2 : rc;
}

/* Every selected table and column gets a target name of its own. */
static int check_names(const struct config *cfg, const struct config_integration *in)
{
    struct pf_report r = {0};
    char err[1024];
    snprintf(r.subject, sizeof r.subject, "target names %.60s", in->name);
    printf("\n");
    return show_report(integ_check_names(cfg, in, &r, err, sizeof err), &r, err);
}

int cmd_check(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;

    char pathbuf[4096];
    const char *path = cli_config_path(&o, pathbuf, sizeof pathbuf);
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "zetl check: cannot read config %s: %s; pass -c FILE, or run `zetl init` to write one\n",
                path, strerror(errno));
        return 1;
    }

    struct config *cfg = NULL;
    char err[8192] = "";
    if (config_load(path, &cfg, err, sizeof err) != 0) {
        fputs(err, stderr);
        if (err[0] && err[strlen(err) - 1] != '\n') fputc('\n', stderr);
        int n = err[0] ? count_lines(err) : 1;
        fprintf(stderr, "zetl check: %s has %d problem%s\n", path, n, n == 1 ? "" : "s");
        return 1;
    }

    printf("config %s: ok (%d integration%s, state in %s)\n", path, cfg->nintegrations,
           cfg->nintegrations == 1 ? "" : "s", cfg->state_dir);
    rc = 0;
    for (int i = 0; i < cfg->nintegrations; i++) {
        const struct config_integration *in = &cfg->integrations[i];
        char target[512];
        config_redact(in->target.kind == TARGET_HTTP ? in->target.url : in->target.dsn,
                      target, sizeof target);
        printf("\nintegration %s: %s://%s:%d -> %s %s\n", in->name, source_kind_name(in->source.kind),
               in->source.host, in->source.port, target_kind_name(in->target.kind), target);
        int src = check_source(in);
        if (src != 0) rc = 1;
        if (src != 2 && check_names(cfg, in) != 0) rc = 1;
        if (in->target.kind == TARGET_HTTP && check_http_target(in, cfg->state_dir) != 0) rc = 1;
    }
    config_free(cfg);
    fflush(stdout);
    if (rc) fprintf(stderr, "zetl check: a required check failed; see the fixes above\n");
    return rc;
}

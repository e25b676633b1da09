/* preflight.c — every check of one integration, printed as each part
 * finishes (see preflight.h); the report model is runtime/base/pfreport.c. */
#include "runtime/check/preflight.h"

#include <libpq-fe.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "runtime/check/setup.h"
#include "runtime/integ/tables.h"
#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"
#include "runtime/target/lease.h"
#include "runtime/target/target.h"

/* ---- every check of one integration ---------------------------------------- */

#define PF_STR2(x) #x
#define PF_STR(x) PF_STR2(x)

/* "postgres://host:port/db" from a DSN: never the DSN itself, which may hold a password. */
static void target_where(const struct config_integration *in, char *out, size_t len)
{
    const struct target_driver *d = target_driver(in->target.kind);
    if (d && d->url) {
        config_redact(in->target.url, out, len);
        return;
    }
    const char *host = NULL, *port = NULL, *db = NULL, *user = NULL;
    char *perr = NULL;
    PQconninfoOption *o = PQconninfoParse(in->target.dsn ? in->target.dsn : "", &perr);
    PQfreemem(perr);                /* it may quote the password */
    for (PQconninfoOption *p = o; p && p->keyword; p++) {
        if (!p->val || !*p->val) continue;
        if (!strcmp(p->keyword, "host") || (!host && !strcmp(p->keyword, "hostaddr"))) host = p->val;
        else if (!strcmp(p->keyword, "port")) port = p->val;
        else if (!strcmp(p->keyword, "dbname")) db = p->val;
        else if (!strcmp(p->keyword, "user")) user = p->val;
    }
    snprintf(out, len, "%s://%s:%s/%s", d ? d->name : "?", host ? host : "localhost",
             port ? port : "5432", db ? db : user ? user : "");      /* libpq's default port */
    PQconninfoFree(o);
}

/* Print r (or, when the part could not run, its one failure); count it. */
static void part_done(FILE *out, int ran, struct pf_report *r, const char *err, int *nfail, int *nwarn)
{
    if (ran != 0) {
        fprintf(out, "%s\n  FAIL  %s\n", r->subject, err);
        *nfail += 1;
    } else {
        pf_print(r, out);
        *nfail += r->nfail;
        *nwarn += r->nwarn;
    }
    pf_free(r);
}

/* ha: the target can hold the lease (PostgreSQL 11+: hashtextextended), and
 * who holds it now, read without creating anything (lease.h tlease_peek). */
static void check_ha(const struct config *cfg, const struct config_integration *in, struct pf_report *r)
{
    const struct config_ha *h = &cfg->ha;
    struct tlease_opts o = { .dsn = in->target.dsn, .integration = in->name, .member = h->member,
                             .pid = (int)getpid(), .token = "zetl check",
                             .deadline_ms = PREFLIGHT_TIMEOUT_S * 1000 };
    struct tlease_view v;
    int ver = 0;
    char e[700];
    int rc = tlease_peek(&o, h->takeover_seconds, &v, &ver, e, sizeof e);
    const char *what = "ha lease";
    if (ver && ver < 110000)
        pf_add(r, PF_FAIL, what, "PostgreSQL 11 or later", "upgrade the target, or run this integration "
               "from a config without ha", "", "PostgreSQL %d.%d", ver / 10000, ver % 10000);
    else if (rc < 0)
        pf_add(r, PF_FAIL, what, "readable", "", "", "%s", e);
    else if (rc == 0 || !v.epoch)
        pf_add(r, PF_PASS, what, "", "", "", "member %s, takeover after %d s; nobody holds it yet: the "
               "first zetl run with this config takes it", h->member, h->takeover_seconds);
    else if (v.deleted)
        pf_add(r, PF_WARN, what, "not deleted", "remove the integration from the config", "",
               "deleted by %s: no member runs it", v.holder);
    else if (v.beat_age_s > h->takeover_seconds)
        pf_add(r, PF_WARN, what, "a live holder", "start zetl run on a member: it takes the lease over", "",
               "held by %s (pid %d, epoch %lld) but silent for %.0f s", v.holder, v.holder_pid,
               (long long)v.epoch, v.beat_age_s);
    else
        pf_add(r, PF_PASS, what, "", "", "", "member %s; held by %s (pid %d, epoch %lld, heartbeat %.0f s "
               "ago)%s%s", h->member, v.holder, v.holder_pid, (long long)v.epoch, v.beat_age_s,
               v.standbys[0] ? "; standbys: " : "", v.standbys);
}

static void check_target(const struct config *cfg, const struct config_integration *in, FILE *out,
                         int *nfail, int *nwarn)
{
    struct pf_report r = {0};
    char err[1024] = "", where[512];
    target_where(in, where, sizeof where);
    fputc('\n', out);
    const struct target_driver *d = target_driver(in->target.kind);
    snprintf(r.subject, sizeof r.subject, "target %.60s: %s", in->name, d ? d->name : "?");
    int own = target_preflight(in, cfg->state_dir, &r, err, sizeof err);
    if (own != 1) {             /* the driver's own check (http) */
        part_done(out, own, &r, err, nfail, nwarn);
        return;
    }
    struct setup_conn conn;
    int ran = setup_target_test(in->target.kind, in->target.dsn, PREFLIGHT_TIMEOUT_S, &conn, &r);
    char server[42] = "";      /* sized so the subject below always fits */
    if (conn.server[0]) snprintf(server, sizeof server, " (%.38s)", conn.server);
    snprintf(r.subject, sizeof r.subject, "target %.32s: %.72s%s", in->name, where, server);
    if (ran != 0) {
        /* Unreachable: one failure naming the cause, in the report's own form. */
        pf_add(&r, PF_FAIL, "connect", "a connection within " PF_STR(PREFLIGHT_TIMEOUT_S) " s",
               setup_cause_hint(conn.cause), "", "%s: %s", setup_cause_name(conn.cause), conn.message);
        ran = 0;
    } else if (cfg->ha.enabled) {
        check_ha(cfg, in, &r);
    }
    part_done(out, ran, &r, err, nfail, nwarn);
}

int preflight_integration(const struct config *cfg, const struct config_integration *in, FILE *out,
                          int *nfail_out, int *nwarn_out)
{
    int nfail = 0, nwarn = 0;
    char where[512], err[1024] = "";
    target_where(in, where, sizeof where);
    const struct source_ops *d = source_driver(in->source.kind);
    fprintf(out, "integration %s: %s://%s:%d -> %s\n", in->name, d ? d->name : "?",
            in->source.host, in->source.port, where);

    struct pf_report r = {0};
    int ran = setup_source_checks(in, &r, err, sizeof err);
    part_done(out, ran, &r, err, &nfail, &nwarn);
    if (ran == 0) {             /* the names come from the source's catalog */
        struct pf_report n = {0};
        snprintf(n.subject, sizeof n.subject, "target names %.60s", in->name);
        fputc('\n', out);
        part_done(out, integ_check_names(cfg, in, &n, err, sizeof err), &n, err, &nfail, &nwarn);
    }
    check_target(cfg, in, out, &nfail, &nwarn);
    fprintf(out, "\nintegration %s: %d failed, %d warning%s\n", in->name, nfail, nwarn, nwarn == 1 ? "" : "s");
    if (nfail_out) *nfail_out = nfail;
    if (nwarn_out) *nwarn_out = nwarn;
    return nfail ? 1 : 0;
}

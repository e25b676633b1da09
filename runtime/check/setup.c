/* setup.c — the walkthrough's source work: answers → config (in the shape
 * the source's driver declares), connection tests, preflight and table
 * listing, each through the driver (source_ops.h), whose own part does the
 * kind's work (see setup.h). */
#include "runtime/check/setup.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/source/source.h"
#include "runtime/source/source_ops.h"

/* ---- answers → config ---------------------------------------------------- */

static void copy_str(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

/* zetl_<name>, lowercase, _ for other characters (the config's default). */
static void default_object_name(char *buf, size_t len, const char *name)
{
    size_t o = (size_t)snprintf(buf, len, "zetl_");
    for (const char *p = name; *p && o + 1 < len && o < 63; p++) {
        char ch = *p >= 'A' && *p <= 'Z' ? (char)(*p - 'A' + 'a') : *p;
        buf[o++] = (ch >= 'a' && ch <= 'z') || (ch >= '0' && ch <= '9') ? ch : '_';
    }
    buf[o] = '\0';
}

int setup_cfg_build(struct setup_cfg *out, const struct setup_answers *a, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const struct source_ops *d = source_driver(a->kind);
    if (!d) {
        snprintf(err, errlen, "no source kind %d: choose mysql or postgres", (int)a->kind);
        return -1;
    }
    struct config_integration *ig = &out->ig;
    struct config_source *s = &ig->source;

    copy_str(out->name, sizeof out->name, a->name[0] ? a->name : "main");
    copy_str(out->host, sizeof out->host, a->host);
    copy_str(out->user, sizeof out->user, a->user);
    copy_str(out->dsn, sizeof out->dsn, a->dsn);
    copy_str(out->state_dir, sizeof out->state_dir, a->state_dir);
    ig->name = out->name;
    s->kind = a->kind;
    s->host = out->host;
    s->port = a->port ? a->port : d->default_port;
    s->user = out->user;
    s->tls = a->tls;
    s->integration = out->name;
    if (a->pw_mode == SETUP_PW_COMMAND) {
        copy_str(out->password_command, sizeof out->password_command, a->password_command);
        s->password_command = out->password_command;
    } else {
        const char *v = a->pw_mode == SETUP_PW_ENV && a->password_var[0] ? getenv(a->password_var) : NULL;
        copy_str(out->password, sizeof out->password, v ? v : a->password);
        s->password = out->password[0] ? out->password : NULL;
    }
    if (d->multi_db) {          /* databases:, and zetl's replica id */
        s->server_id = a->server_id ? a->server_id : 4242;
        s->ndatabases = setup_split_list(a->databases, out->dbbuf, sizeof out->dbbuf, out->dbs, SETUP_MAX_LIST);
        s->databases = out->dbs;
        if (s->ndatabases < 0) goto too_many;
    } else {                    /* one database: and its schemas: */
        copy_str(out->database, sizeof out->database, a->database);
        s->database = out->database;
        s->nschemas = setup_split_list(a->schemas[0] ? a->schemas : "public", out->schbuf,
                                       sizeof out->schbuf, out->schemas, SETUP_MAX_LIST);
        s->schemas = out->schemas;
        if (s->nschemas < 0) goto too_many;
    }
    if (d->keeps_slot) {        /* named after the integration, as the config's default */
        default_object_name(out->slot, sizeof out->slot, out->name);
        default_object_name(out->publication, sizeof out->publication, out->name);
        s->slot = out->slot;
        s->publication = out->publication;
    }
    ig->target.kind = a->tkind ? a->tkind : TARGET_POSTGRES;
    ig->target.dsn = out->dsn;
    ig->tables.ninclude = setup_split_list(a->include, out->incbuf, sizeof out->incbuf, out->include,
                                           SETUP_MAX_LIST);
    ig->tables.include = out->include;
    if (ig->tables.ninclude < 0) goto too_many;
    ig->apply.batch_rows = 20000;
    ig->apply.batch_ms = 200;
    ig->apply.memory_mb = 256;
    ig->apply.copy_workers = 1;
    ig->apply.drift_check_seconds = CONFIG_DRIFT_CHECK_DEFAULT;
    ig->apply.copy_chunk_rows = CONFIG_COPY_CHUNK_ROWS_DEFAULT;
    out->c.state_dir = out->state_dir[0] ? out->state_dir : NULL;
    out->c.integrations = ig;
    out->c.nintegrations = 1;
    return 0;
too_many:
    snprintf(err, errlen, "more than %d databases, schemas or table patterns (or a list longer than fits): use %% patterns",
             SETUP_MAX_LIST);
    setup_cfg_wipe(out);
    return -1;
}

void setup_cfg_wipe(struct setup_cfg *c)
{
    explicit_bzero(c->password, sizeof c->password);
    explicit_bzero(c->dsn, sizeof c->dsn);
}

/* ---- the source ----------------------------------------------------------- */

/* The config's driver, or NULL with the failure in out (a kind no driver reads). */
static const struct source_ops *driver(const struct config_integration *in, struct setup_conn *out)
{
    const struct source_ops *d = source_driver(in->source.kind);
    if (!d) {
        out->cause = SETUP_CAUSE_OTHER;
        snprintf(out->message, sizeof out->message, "no driver for source kind %d", (int)in->source.kind);
    }
    return d;
}

int setup_source_test(const struct config_integration *in, int timeout_s, struct setup_conn *out)
{
    memset(out, 0, sizeof *out);
    const struct source_ops *d = driver(in, out);
    int rc = d ? d->setup_test(in, timeout_s, out) : -1;
    if (rc != 0) out->ok = 0;
    return rc;
}

int setup_source_checks(const struct config_integration *in, struct pf_report *r, char *err, size_t errlen)
{
    const struct source_ops *d = source_driver(in->source.kind);
    if (!d) {
        snprintf(err, errlen, "no driver for source kind %d", (int)in->source.kind);
        return -1;
    }
    return d->preflight(in, r, err, errlen);
}

/* ---- tables --------------------------------------------------------------- */

int setup_list_tables(const struct config_integration *in, struct setup_table **out, int *n,
                      char *err, size_t errlen)
{
    const struct source_ops *d = source_driver(in->source.kind);
    *out = NULL;
    *n = 0;
    if (!d) {
        snprintf(err, errlen, "no driver for source kind %d", (int)in->source.kind);
        return -1;
    }
    return d->setup_list_tables(in, out, n, err, errlen);
}

const char *setup_keyless_note(const struct setup_table *t)
{
    if (t->has_pk) return NULL;
    /* Only a PostgreSQL listing has a replica identity (0 elsewhere). */
    if (t->replident == 'd' || t->replident == 'n')
        return "no primary key and REPLICA IDENTITY DEFAULT/NOTHING: once published its UPDATEs and DELETEs fail on the source; add a primary key or ALTER TABLE ... REPLICA IDENTITY FULL";
    return "no primary key: zetl keys it by the full row, so exact duplicate rows cannot be told apart (slower updates and deletes)";
}

/* setup.c — the walkthrough's source work: answers → config, connection
 * tests with the likely cause, preflight, table listing (see setup.h). */
#include "runtime/check/setup.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/mysql/conn.h"
#include "runtime/mysql/preflight.h"
#include "runtime/mysql/schema.h"
#include "runtime/pg/preflight.h"

/* ---- answers → config ---------------------------------------------------- */

int setup_split_list(const char *s, char *buf, size_t buflen, char **items, int max)
{
    size_t o = 0;
    int n = 0;
    const char *p = s ? s : "";

    while (*p) {
        while (*p == ' ' || *p == '\t') p++;
        size_t start = o;
        while (*p && *p != ',') {
            if (*p == '\\' && p[1] == ',') p++;     /* an escaped comma stays */
            if (o + 1 < buflen) buf[o++] = *p;
            p++;
        }
        while (o > start && (buf[o - 1] == ' ' || buf[o - 1] == '\t')) o--;
        if (*p == ',') p++;
        if (o == start) continue;                   /* empty item: "a,,b" */
        if (o + 1 >= buflen || n == max) return -1;
        buf[o++] = '\0';
        items[n++] = buf + start;
    }
    return n;
}

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
    s->port = a->port ? a->port : a->kind == SOURCE_POSTGRES ? 5432 : 3306;
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
    if (a->kind == SOURCE_MYSQL) {
        s->server_id = a->server_id ? a->server_id : 4242;
        s->ndatabases = setup_split_list(a->databases, out->dbbuf, sizeof out->dbbuf, out->dbs, SETUP_MAX_LIST);
        s->databases = out->dbs;
        if (s->ndatabases < 0) goto too_many;
    } else {
        copy_str(out->database, sizeof out->database, a->database);
        s->database = out->database;
        s->nschemas = setup_split_list(a->schemas[0] ? a->schemas : "public", out->schbuf,
                                       sizeof out->schbuf, out->schemas, SETUP_MAX_LIST);
        s->schemas = out->schemas;
        if (s->nschemas < 0) goto too_many;
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

/* ---- causes -------------------------------------------------------------- */

const char *setup_cause_name(enum setup_cause c)
{
    switch (c) {
    case SETUP_CAUSE_NONE: return "none";
    case SETUP_CAUSE_DNS: return "DNS";
    case SETUP_CAUSE_REFUSED: return "connection refused";
    case SETUP_CAUSE_TIMEOUT: return "timeout";
    case SETUP_CAUSE_AUTH: return "authentication";
    case SETUP_CAUSE_TLS: return "TLS";
    case SETUP_CAUSE_NO_DATABASE: return "unknown database";
    case SETUP_CAUSE_PASSWORD_COMMAND: return "password command";
    default: return "unknown";
    }
}

const char *setup_cause_hint(enum setup_cause c)
{
    switch (c) {
    case SETUP_CAUSE_DNS:
        return "The host name does not resolve from this machine: check host for a typo, or use the address (a private DNS name may not be visible here)";
    case SETUP_CAUSE_REFUSED:
        return "Nothing accepts connections at that host and port: is the server running, listening on that address (bind-address / listen_addresses), and is the port right?";
    case SETUP_CAUSE_TIMEOUT:
        return "No answer in time: a firewall or security group drops the packets, or the host is down; on RDS/Aurora allow this machine's address in the instance's security group";
    case SETUP_CAUSE_AUTH:
        return "The server refused the user or password: check both (or the password command), and that the user may connect from this host (MySQL: the user@host account; PostgreSQL: pg_hba.conf)";
    case SETUP_CAUSE_TLS:
        return "The TLS handshake failed: choose another TLS mode (disable | prefer | require | verify-full) or check the server's certificate";
    case SETUP_CAUSE_NO_DATABASE:
        return "The database or schema is not on the server, or the user cannot see it: pick one of those listed";
    case SETUP_CAUSE_PASSWORD_COMMAND:
        return "The password command failed: run it in a shell to see why";
    default:
        return "See the server's message";
    }
}

static int has(const char *s, const char *needle) { return strcasestr(s, needle) != NULL; }

enum setup_cause setup_classify(const char *m, unsigned code, long took_ms, long timeout_ms)
{
    if (!m) m = "";
    switch (code) {
    case 1044: case 1045: case 1251: case 1698:   /* access denied, auth plugin */
        return SETUP_CAUSE_AUTH;
    case 1049:                                    /* unknown database */
        return SETUP_CAUSE_NO_DATABASE;
    case 2005:                                    /* unknown server host */
        return SETUP_CAUSE_DNS;
    case 2026:                                    /* SSL connection error */
        return SETUP_CAUSE_TLS;
    case 2002: case 2003: case 2013:              /* can't connect, lost at handshake */
        if (has(m, "(110)") || has(m, "error: 110") || has(m, "timed out") ||
            (timeout_ms > 0 && took_ms >= timeout_ms - 300))
            return SETUP_CAUSE_TIMEOUT;
        if (code == 2013) return SETUP_CAUSE_OTHER;
        return SETUP_CAUSE_REFUSED;
    default:
        break;
    }
    if (has(m, "translate host name") || has(m, "Unknown server host") || has(m, "Name or service not known") ||
        has(m, "name resolution"))
        return SETUP_CAUSE_DNS;
    if (has(m, "Connection refused"))
        return SETUP_CAUSE_REFUSED;
    if (has(m, "timeout expired") || has(m, "timed out"))
        return SETUP_CAUSE_TIMEOUT;
    if (has(m, "password authentication failed") || has(m, "no pg_hba.conf entry") ||
        has(m, "no password supplied") || has(m, "authentication failed") || has(m, "Access denied") ||
        has(m, "role \"") )
        return SETUP_CAUSE_AUTH;
    if (has(m, "SSL") || has(m, "TLS") || has(m, "certificate"))
        return SETUP_CAUSE_TLS;
    if (has(m, "database \"") && has(m, "does not exist"))
        return SETUP_CAUSE_NO_DATABASE;
    if (has(m, "password_command"))
        return SETUP_CAUSE_PASSWORD_COMMAND;
    return SETUP_CAUSE_OTHER;
}

/* ---- helpers ------------------------------------------------------------- */

static long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void setup_one_line(char *dst, size_t len, const char *src)
{
    size_t o = 0;
    for (const char *p = src ? src : ""; *p && o + 1 < len; p++) {
        char ch = *p == '\n' || *p == '\t' || *p == '\r' ? ' ' : *p;
        if (ch == ' ' && (o == 0 || dst[o - 1] == ' ')) continue;
        dst[o++] = ch;
    }
    while (o && dst[o - 1] == ' ') o--;
    dst[o] = '\0';
}

static void add_name(struct setup_conn *c, const char *name)
{
    size_t used = 0;
    if (c->nnames < 0) return;
    if (c->nnames) used = (size_t)(c->names[c->nnames - 1] - c->namebuf) + strlen(c->names[c->nnames - 1]) + 1;
    size_t n = strlen(name) + 1;
    if (c->nnames == SETUP_MAX_LIST || used + n > sizeof c->namebuf) {
        c->nnames = -1;
        return;
    }
    memcpy(c->namebuf + used, name, n);
    c->names[c->nnames++] = c->namebuf + used;
}

static int name_known(const struct setup_conn *c, const char *name)
{
    if (c->nnames < 0) return 1;     /* too many to tell: the checks will say */
    for (int i = 0; i < c->nnames; i++)
        if (strcmp(c->names[i], name) == 0) return 1;
    return 0;
}

/* ok, or NO_DATABASE naming the first configured name the server lacks. */
static int check_names(struct setup_conn *c, char **want, int nwant, const char *what)
{
    for (int i = 0; i < nwant; i++) {
        if (name_known(c, want[i])) continue;
        char list[600] = "";
        size_t o = 0;
        for (int k = 0; k < c->nnames && o + 4 < sizeof list; k++) {
            int w = snprintf(list + o, sizeof list - o, "%s%s", k ? ", " : "", c->names[k]);
            if (w > 0) o += (size_t)w;
        }
        c->ok = 0;
        c->cause = SETUP_CAUSE_NO_DATABASE;
        snprintf(c->message, sizeof c->message, "%s %s is not on the server (or the user cannot see it); it has: %s",
                 what, want[i], c->nnames ? list : "none");
        return -1;
    }
    c->ok = 1;
    return 0;
}

/* ---- source test ---------------------------------------------------------- */

static int mysql_test(const struct config_integration *in, int timeout_s, struct setup_conn *out)
{
    const struct config_source *s = &in->source;
    MYSQL *db = NULL;
    char err[1024];
    long t0 = mono_ms();

    if (mysql_conn_open(&db, in->name, s, timeout_s, err, sizeof err) != 0) {
        long took = mono_ms() - t0;
        char pre[600];
        unsigned code = 0;
        const char *e = strstr(err, "(error ");
        for (const char *n; e && (n = strstr(e + 1, "(error ")); ) e = n;
        if (e) code = (unsigned)strtoul(e + 7, NULL, 10);
        snprintf(pre, sizeof pre, "cannot connect to mysql://%s:%d as %s: ", s->host, s->port, s->user);
        const char *m = strstr(err, pre);
        char msg[768];
        if (m && e && e > m + strlen(pre))
            snprintf(msg, sizeof msg, "%.*s", (int)(e - m - strlen(pre) - 1), m + strlen(pre));
        else
            snprintf(msg, sizeof msg, "%.767s", err);
        setup_one_line(out->message, sizeof out->message, msg);
        out->cause = !e && s->password_command ? SETUP_CAUSE_PASSWORD_COMMAND
                   : setup_classify(msg, code, took, timeout_s * 1000L);
        return -1;
    }
    mysql_conn_describe(db, out->server, sizeof out->server);
    MYSQL_RES *res = mysql_conn_query(db, "SHOW DATABASES", err, sizeof err);
    if (!res) {
        setup_one_line(out->message, sizeof out->message, err);
        out->cause = SETUP_CAUSE_OTHER;
        mysql_close(db);
        return -1;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(res)))
        if (row[0] && strcmp(row[0], "information_schema") && strcmp(row[0], "mysql") &&
            strcmp(row[0], "performance_schema") && strcmp(row[0], "sys"))
            add_name(out, row[0]);
    mysql_free_result(res);
    mysql_close(db);
    return check_names(out, s->databases, s->ndatabases, "database");
}

/* The libpq part of pg_source_connect's message ("...failed: <libpq>"). */
static const char *pg_reason(const char *err)
{
    const char *f = strstr(err, " failed: ");
    return f ? f + 9 : err;
}

static PGresult *pg_rows(PGconn *c, const char *sql, char *err, size_t errlen)
{
    PGresult *r = PQexec(c, sql);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        setup_one_line(err, errlen, PQresultErrorMessage(r));
        PQclear(r);
        return NULL;
    }
    return r;
}

/* After "database does not exist": the databases the user could pick. */
static void pg_list_databases(const struct config_source *s, struct setup_conn *out)
{
    struct config_source alt = *s;
    char err[512];
    alt.database = "postgres";
    PGconn *c = pg_source_connect(&alt, 0, err, sizeof err);
    if (!c) return;
    PGresult *r = pg_rows(c, "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn AND NOT datistemplate ORDER BY 1",
                          err, sizeof err);
    for (int i = 0; r && i < PQntuples(r); i++) add_name(out, PQgetvalue(r, i, 0));
    PQclear(r);
    PQfinish(c);
    if (out->nnames > 0) {
        size_t o = strlen(out->message);
        for (int i = 0; i < out->nnames && o + 4 < sizeof out->message; i++) {
            int w = snprintf(out->message + o, sizeof out->message - o, "%s%s", i ? ", " : "; the server has: ",
                             out->names[i]);
            if (w > 0) o += (size_t)w;
        }
    }
}

static int pg_test(const struct config_integration *in, struct setup_conn *out)
{
    const struct config_source *s = &in->source;
    char err[1024];
    long t0 = mono_ms();
    PGconn *c = pg_source_connect(s, 0, err, sizeof err);
    if (!c) {
        setup_one_line(out->message, sizeof out->message, pg_reason(err));
        out->cause = strstr(err, "password_command") || (s->password_command && !strstr(err, " failed: "))
                   ? SETUP_CAUSE_PASSWORD_COMMAND : setup_classify(out->message, 0, mono_ms() - t0, 10000);
        if (out->cause == SETUP_CAUSE_NO_DATABASE) pg_list_databases(s, out);
        return -1;
    }
    PGresult *r = pg_rows(c, "SELECT current_setting('server_version')", err, sizeof err);
    if (r) {
        snprintf(out->server, sizeof out->server, "PostgreSQL %s", PQgetvalue(r, 0, 0));
        PQclear(r);
    }
    r = pg_rows(c, "SELECT nspname FROM pg_catalog.pg_namespace WHERE nspname !~ '^pg_'"
                   " AND nspname <> 'information_schema' ORDER BY 1", err, sizeof err);
    if (!r) {
        snprintf(out->message, sizeof out->message, "listing schemas: %.700s", err);
        out->cause = SETUP_CAUSE_OTHER;
        PQfinish(c);
        return -1;
    }
    for (int i = 0; i < PQntuples(r); i++) add_name(out, PQgetvalue(r, i, 0));
    PQclear(r);
    PQfinish(c);
    return check_names(out, s->schemas, s->nschemas, "schema");
}

int setup_source_test(const struct config_integration *in, int timeout_s, struct setup_conn *out)
{
    const struct config_source *s = &in->source;
    memset(out, 0, sizeof *out);
    if (s->kind == SOURCE_MYSQL)
        snprintf(out->where, sizeof out->where, "mysql://%s:%d as %s", s->host, s->port, s->user);
    else
        snprintf(out->where, sizeof out->where, "postgres://%s:%d/%s as %s", s->host, s->port,
                 s->database ? s->database : "", s->user);
    int rc = s->kind == SOURCE_MYSQL ? mysql_test(in, timeout_s, out) : pg_test(in, out);
    if (rc != 0) out->ok = 0;
    return rc;
}

int setup_source_checks(const struct config_integration *in, struct pf_report *r, char *err, size_t errlen)
{
    return in->source.kind == SOURCE_MYSQL ? mysql_preflight(in, r, err, errlen)
                                           : pg_preflight(in, r, err, errlen);
}

/* ---- tables --------------------------------------------------------------- */

static int in_list(char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0) return 1;
    return 0;
}

static int push_table(struct setup_table **v, int *n, int *cap, const char *schema, const char *name,
                      int has_pk, int64_t rows, char ident)
{
    if (*n == *cap) {
        int nc = *cap ? *cap * 2 : 64;
        struct setup_table *nv = realloc(*v, (size_t)nc * sizeof *nv);
        if (!nv) return -1;
        *v = nv;
        *cap = nc;
    }
    struct setup_table *t = &(*v)[(*n)++];
    memset(t, 0, sizeof *t);
    snprintf(t->schema, sizeof t->schema, "%s", schema);
    snprintf(t->name, sizeof t->name, "%s", name);
    t->has_pk = has_pk;
    t->rows = rows;
    t->replident = ident;
    return 0;
}

int setup_list_tables(const struct config_integration *in, struct setup_table **out, int *n,
                      char *err, size_t errlen)
{
    const struct config_source *s = &in->source;
    struct setup_table *v = NULL;
    int nv = 0, cap = 0, rc = -1;
    *out = NULL;
    *n = 0;
    if (s->kind == SOURCE_MYSQL) {
        MYSQL *db = NULL;
        if (mysql_conn_open(&db, in->name, s, 10, err, errlen) != 0) return -1;
        /* Keys as the runtime's loader reads them (mysql/schema.h): visible with SELECT alone. */
        struct mysql_keyed keyed;
        MYSQL_RES *res = NULL;
        if (mysql_schema_keyed_load(db, &keyed, err, errlen) != 0) goto mysql_out;
        res = mysql_conn_query(db,
            "SELECT t.table_schema, t.table_name, t.table_rows"
            " FROM information_schema.tables t WHERE t.table_type IN ('BASE TABLE', 'SYSTEM VERSIONED')"
            " AND t.table_schema NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
            " ORDER BY t.table_schema, t.table_name", err, errlen);
        MYSQL_ROW row;
        while (res && (row = mysql_fetch_row(res))) {
            if (!row[0] || !row[1] || !in_list(s->databases, s->ndatabases, row[0])) continue;
            if (push_table(&v, &nv, &cap, row[0], row[1], mysql_schema_keyed_has(&keyed, row[0], row[1]),
                           row[2] ? strtoll(row[2], NULL, 10) : -1, 0) != 0) {
                snprintf(err, errlen, "out of memory listing tables");
                goto mysql_out;
            }
        }
        if (res) rc = 0;
mysql_out:
        if (res) mysql_free_result(res);
        mysql_schema_keyed_free(&keyed);
        mysql_close(db);
    } else {
        PGconn *c = pg_source_connect(s, 0, err, errlen);
        if (!c) return -1;
        char qerr[512];
        PGresult *r = pg_rows(c,
            "SELECT n.nspname, c.relname,"
            " CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE COALESCE(s.n_live_tup, -1) END,"
            " c.relreplident,"
            " EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary)"
            " FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace"
            " LEFT JOIN pg_catalog.pg_stat_user_tables s ON s.relid = c.oid"
            " WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition"
            "   AND n.nspname !~ '^pg_' AND n.nspname <> 'information_schema'"
            " ORDER BY 1, 2", qerr, sizeof qerr);
        if (!r) snprintf(err, errlen, "listing tables: %s", qerr);
        else rc = 0;
        for (int i = 0; r && rc == 0 && i < PQntuples(r); i++) {
            const char *schema = PQgetvalue(r, i, 0);
            if (!in_list(s->schemas, s->nschemas, schema)) continue;
            long long rows = strtoll(PQgetvalue(r, i, 2), NULL, 10);
            if (push_table(&v, &nv, &cap, schema, PQgetvalue(r, i, 1), PQgetvalue(r, i, 4)[0] == 't',
                           rows < 0 ? -1 : rows, PQgetvalue(r, i, 3)[0]) != 0) {
                snprintf(err, errlen, "out of memory listing tables");
                rc = -1;
            }
        }
        PQclear(r);
        PQfinish(c);
    }
    if (rc != 0) {
        free(v);
        return -1;
    }
    *out = v;
    *n = nv;
    return 0;
}

const char *setup_keyless_note(enum source_kind kind, const struct setup_table *t)
{
    if (t->has_pk) return NULL;
    if (kind == SOURCE_POSTGRES && (t->replident == 'd' || t->replident == 'n'))
        return "no primary key and REPLICA IDENTITY DEFAULT/NOTHING: once published its UPDATEs and DELETEs fail on the source; add a primary key or ALTER TABLE ... REPLICA IDENTITY FULL";
    return "no primary key: zetl keys it by the full row, so exact duplicate rows cannot be told apart (slower updates and deletes)";
}

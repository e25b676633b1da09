/* preflight.c (pg) — checks of a PostgreSQL source (see preflight.h). */
#include "runtime/pg/preflight.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESTART " then restart PostgreSQL"
#define RDS_REBOOT " in the DB parameter group (Aurora: the DB cluster parameter group), then reboot the instance"

static const char *sslmode(enum tls_mode t)
{
    switch (t) {
    case TLS_DISABLE: return "disable";
    case TLS_REQUIRE: return "require";
    case TLS_VERIFY_FULL: return "verify-full";
    default: return "prefer";
    }
}

static void trim_nl(char *s)
{
    size_t n = strlen(s);
    while (n && (s[n - 1] == '\n' || s[n - 1] == ' ')) s[--n] = 0;
}

/* A server NOTICE is not for the operator, and libpq's default prints it on
 * stderr, which is the console's screen while curses owns it: dropped. */
static void drop_notice(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

PGconn *pg_source_connect(const struct config_source *s, int replication, char *err, size_t errlen)
{
    char password[1024] = "", perr[256] = "", port[16];
    if (config_password(s, 10000, password, sizeof password, perr, sizeof perr)) {
        snprintf(err, errlen, "source %s: %s", s->integration ? s->integration : "?", perr);
        return NULL;
    }
    snprintf(port, sizeof port, "%d", s->port ? s->port : 5432);
    /* Keyword arrays, never a spliced conninfo string: nothing to escape, nothing to leak. */
    const char *keys[10], *vals[10];
    int n = 0;
    keys[n] = "host"; vals[n++] = s->host ? s->host : "127.0.0.1";
    keys[n] = "port"; vals[n++] = port;
    keys[n] = "dbname"; vals[n++] = s->database ? s->database : "postgres";
    keys[n] = "user"; vals[n++] = s->user;
    if (password[0]) { keys[n] = "password"; vals[n++] = password; }
    keys[n] = "sslmode"; vals[n++] = sslmode(s->tls);
    keys[n] = "application_name"; vals[n++] = "zetl";
    keys[n] = "connect_timeout"; vals[n++] = "10";
    if (replication) { keys[n] = "replication"; vals[n++] = "database"; }
    keys[n] = NULL; vals[n] = NULL;
    PGconn *c = PQconnectdbParams(keys, vals, 0);
    memset(password, 0, sizeof password);
    if (!c || PQstatus(c) != CONNECTION_OK) {
        char m[300];
        snprintf(m, sizeof m, "%s", c ? PQerrorMessage(c) : "out of memory");
        trim_nl(m);
        snprintf(err, errlen, "source %s: %sconnection to %s:%d failed: %s",
                 s->integration ? s->integration : "?", replication ? "replication " : "",
                 s->host ? s->host : "127.0.0.1", s->port ? s->port : 5432, m);
        PQfinish(c);
        return NULL;
    }
    PQsetNoticeProcessor(c, drop_notice, NULL);
    return c;
}

/* One-row query with text parameters; NULL with err set. */
static PGresult *q1(PGconn *c, const char *sql, int np, const char *const *params, char *err, size_t errlen)
{
    PGresult *r = PQexecParams(c, sql, np, NULL, params, NULL, NULL, 0);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        char m[300];
        snprintf(m, sizeof m, "%s", PQresultErrorMessage(r));
        trim_nl(m);
        snprintf(err, errlen, "preflight query failed: %s", m);
        PQclear(r);
        return NULL;
    }
    return r;
}

static int tbool(const PGresult *r, int row, int col) { return PQgetvalue(r, row, col)[0] == 't'; }

/* The integration's tables.include/exclude on "schema.table", within its schemas. */
static int table_selected(const struct config_integration *in, const char *schema, const char *name)
{
    int in_schema = in->source.nschemas == 0 && strcmp(schema, "public") == 0;
    for (int i = 0; i < in->source.nschemas; i++)
        if (strcmp(in->source.schemas[i], schema) == 0) in_schema = 1;
    if (!in_schema) return 0;
    char full[300];
    snprintf(full, sizeof full, "%s.%s", schema, name);
    int inc = 0;
    for (int i = 0; i < in->tables.ninclude && !inc; i++) inc = config_like(in->tables.include[i], full);
    for (int i = 0; i < in->tables.nexclude && inc; i++)
        if (config_like(in->tables.exclude[i], full)) inc = 0;
    return inc;
}

static const char server_sql[] =
    "SELECT current_setting('server_version_num')::int, current_setting('server_version'), "
    "       current_setting('wal_level'), current_setting('max_replication_slots')::int, "
    "       (SELECT count(*) FROM pg_catalog.pg_replication_slots), "
    "       current_setting('max_wal_senders')::int, "
    "       (SELECT count(*) FROM pg_catalog.pg_stat_replication), "
    "       r.rolsuper, r.rolreplication, "
    "       CASE WHEN EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'rds_replication') "
    "            THEN pg_catalog.pg_has_role(current_user, 'rds_replication', 'member') ELSE false END, "
    "       pg_catalog.has_database_privilege(current_database(), 'CREATE'), "
    "       current_database(), current_user, "
    "       COALESCE(current_setting('max_slot_wal_keep_size', true), ''), "
    "       EXISTS (SELECT 1 FROM pg_catalog.pg_roles WHERE rolname = 'rds_superuser') "
    "FROM pg_catalog.pg_roles r WHERE r.rolname = current_user";

static void check_server(PGconn *sql, const PGresult *r, const char *repl_err, struct pf_report *rep,
                         int *may_create)
{
    (void)sql;
    int vnum = atoi(PQgetvalue(r, 0, 0));
    const char *ver = PQgetvalue(r, 0, 1);
    const char *wal = PQgetvalue(r, 0, 2);
    int slots = atoi(PQgetvalue(r, 0, 3)), slots_used = atoi(PQgetvalue(r, 0, 4));
    int senders = atoi(PQgetvalue(r, 0, 5)), senders_used = atoi(PQgetvalue(r, 0, 6));
    int super = tbool(r, 0, 7), repl = tbool(r, 0, 8), rdsrepl = tbool(r, 0, 9);
    int can_create = tbool(r, 0, 10);
    const char *user = PQgetvalue(r, 0, 12);
    const char *keep = PQgetvalue(r, 0, 13);
    int rds = tbool(r, 0, 14);
    char fix[384], fix_rds[384];

    pf_add(rep, vnum >= 100000 ? PF_PASS : PF_FAIL, "server version", "PostgreSQL 10 or later (pgoutput)",
           "upgrade the source to PostgreSQL 10 or later", "", "PostgreSQL %s", ver);

    pf_add(rep, strcmp(wal, "logical") == 0 ? PF_PASS : PF_FAIL, "wal_level", "logical",
           "ALTER SYSTEM SET wal_level = logical;" RESTART,
           "set rds.logical_replication = 1" RDS_REBOOT, "%s", wal);

    snprintf(fix, sizeof fix, "ALTER SYSTEM SET max_replication_slots = %d;" RESTART, slots_used + 4);
    snprintf(fix_rds, sizeof fix_rds, "set max_replication_slots = %d" RDS_REBOOT, slots_used + 4);
    pf_add(rep, slots > slots_used ? PF_PASS : PF_FAIL, "max_replication_slots", "a free slot",
           fix, fix_rds, "%d (%d in use)", slots, slots_used);

    snprintf(fix, sizeof fix, "ALTER SYSTEM SET max_wal_senders = %d;" RESTART, senders_used + 4);
    snprintf(fix_rds, sizeof fix_rds, "set max_wal_senders = %d" RDS_REBOOT, senders_used + 4);
    pf_add(rep, senders > senders_used ? PF_PASS : PF_FAIL, "max_wal_senders", "a free WAL sender",
           fix, fix_rds, "%d (%d in use)", senders, senders_used);

    char *quser = PQescapeIdentifier(sql, user, strlen(user));
    snprintf(fix, sizeof fix, "ALTER ROLE %s WITH REPLICATION;", quser ? quser : user);
    snprintf(fix_rds, sizeof fix_rds, "GRANT rds_replication TO %s;", quser ? quser : user);
    pf_add(rep, super || repl || rdsrepl ? PF_PASS : PF_FAIL, "replication privilege",
           "REPLICATION (RDS: rds_replication)", fix, fix_rds, "%s%s", user,
           super ? " is a superuser" : repl ? " has REPLICATION" : rdsrepl ? " is in rds_replication" : " lacks REPLICATION");

    if (repl_err) {
        snprintf(fix, sizeof fix, "add \"host replication %s <zetl's address>/32 scram-sha-256\" to pg_hba.conf, then SELECT pg_reload_conf();",
                 user);
        pf_add(rep, PF_FAIL, "replication connection", "a walsender connection (replication=database)",
               fix, rds ? "check that the user is in rds_replication and the security group admits zetl" : "",
               "%.150s", repl_err);
    } else {
        pf_add(rep, PF_PASS, "replication connection", "a walsender connection (replication=database)",
               "", "", "IDENTIFY_SYSTEM answered");
    }

    /* Whether that is enough (the tables' owner) is the publication's item (check_tables). */
    *may_create = can_create || super;

    if (keep[0]) {
        int unlimited = strcmp(keep, "-1") == 0;
        pf_add(rep, unlimited ? PF_WARN : PF_PASS, "max_slot_wal_keep_size",
               "a bound, so a stalled slot cannot fill the disk",
               "ALTER SYSTEM SET max_slot_wal_keep_size = '50GB'; SELECT pg_reload_conf(); "
               "(a slot that falls further behind is lost and its tables need a resync)",
               "set max_slot_wal_keep_size in the DB parameter group (Aurora: the DB cluster parameter group); it applies without a reboot",
               "%s", unlimited ? "unlimited (-1)" : keep);
    }
    PQfreemem(quser);
}

static int check_slot(PGconn *sql, const struct config_integration *in, const char *db,
                      struct pf_report *rep, char *err, size_t errlen)
{
    const char *slot = in->source.slot;
    if (!slot) return 0;
    const char *p[1] = { slot };
    PGresult *r = q1(sql, "SELECT plugin, database, active, "
                          "COALESCE(pg_catalog.to_jsonb(s) ->> 'wal_status', ''), slot_type "
                          "FROM pg_catalog.pg_replication_slots s WHERE slot_name = $1",
                     1, p, err, errlen);
    if (!r) return -1;
    char check[64], fix[384];
    snprintf(check, sizeof check, "slot %s", slot);
    if (PQntuples(r) == 0) {
        pf_add(rep, PF_PASS, check, "pgoutput, this database", "", "", "does not exist yet; zetl creates it");
    } else {
        const char *plugin = PQgetvalue(r, 0, 0), *sdb = PQgetvalue(r, 0, 1), *ws = PQgetvalue(r, 0, 3);
        snprintf(fix, sizeof fix, "choose another slot: name in the config, or drop this one: SELECT pg_drop_replication_slot('%s');", slot);
        if (strcmp(PQgetvalue(r, 0, 4), "logical") != 0 || strcmp(plugin, "pgoutput") != 0)
            pf_add(rep, PF_FAIL, check, "logical, pgoutput", fix, "", "%s slot, plugin %s",
                   PQgetvalue(r, 0, 4), plugin[0] ? plugin : "none");
        else if (strcmp(sdb, db) != 0)
            pf_add(rep, PF_FAIL, check, "this database", fix, "", "belongs to database %s", sdb);
        else if (strcmp(ws, "lost") == 0)
            pf_add(rep, PF_FAIL, check, "WAL retained", "the slot's WAL was removed: every table needs a resync; drop the slot and let zetl snapshot again",
                   "", "lost (max_slot_wal_keep_size exceeded)");
        else
            pf_add(rep, tbool(r, 0, 2) ? PF_WARN : PF_PASS, check, "pgoutput, this database, not in use",
                   "stop the other consumer of this slot (SELECT active_pid FROM pg_replication_slots)", "",
                   "pgoutput%s%s%s", tbool(r, 0, 2) ? ", in use by another connection" : "",
                   ws[0] ? ", WAL " : "", ws);
    }
    PQclear(r);
    return 0;
}

/* Append name to a ", "-separated list unless it is there (a whole item). */
static void list_add_once(char *list, size_t len, const char *name)
{
    size_t n = strlen(name);
    for (const char *p = list; (p = strstr(p, name)); p += n)
        if ((p == list || p[-1] == ' ') && (p[n] == ',' || p[n] == '\0')) return;
    size_t used = strlen(list);
    snprintf(list + used, len - used, "%s%s", used ? ", " : "", name);
}

/*
 * The publication does not exist yet: zetl's start creates it FOR TABLE the
 * selected tables, which needs CREATE on the database and ownership of every
 * one of them (superusers pass both). When it cannot, the fix is the
 * statement the owner runs; zetl then adopts the publication.
 */
static void check_create_publication(PGconn *sql, struct pf_report *rep, int may_create, const char *me,
                                     const char *db, const char *qpub, int published, const char *all_list,
                                     int foreign, const char *foreign_list, const char *owners)
{
    char fix[1024];
    char *qme = PQescapeIdentifier(sql, me, strlen(me)), *qdb = PQescapeIdentifier(sql, db, strlen(db));
    if (may_create && !foreign) {
        pf_add(rep, PF_PASS, "create publication", "CREATE on the database, owning the selected tables",
               "", "", "%s does not exist yet; zetl creates it (%s owns the %d selected table%s)",
               qpub, me, published, published == 1 ? "" : "s");
        goto out;
    }
    if (foreign)
        snprintf(fix, sizeof fix, "as the tables' owner (%s) or a superuser, run: CREATE PUBLICATION %s FOR TABLE %s; "
                 "zetl then uses it (or make %s their owner: ALTER TABLE ... OWNER TO %s;)",
                 owners, qpub, all_list, me, qme ? qme : me);
    else
        snprintf(fix, sizeof fix, "GRANT CREATE ON DATABASE %s TO %s; or as a superuser run: "
                 "CREATE PUBLICATION %s FOR TABLE %s;", qdb ? qdb : db, qme ? qme : me, qpub, all_list);
    if (strlen(fix) == sizeof fix - 1)
        snprintf(fix + sizeof fix - 48, 48, " ... (%d tables: every selected table)", published);
    if (foreign)
        pf_add(rep, PF_FAIL, "create publication", "CREATE on the database, owning the selected tables",
               fix, "", "%s does not exist and %s cannot create it: it does not own %d of the selected tables "
               "(owner %s): %s", qpub, me, foreign, owners, foreign_list);
    else
        pf_add(rep, PF_FAIL, "create publication", "CREATE on the database, owning the selected tables",
               fix, "", "%s does not exist and %s cannot create it: no CREATE privilege on the database",
               qpub, me);
out:
    PQfreemem(qme);
    PQfreemem(qdb);
}

/*
 * The publication's items: what it publishes and who owns it, when it exists.
 * *exists and *all (FOR ALL TABLES) say what was found; *qpub is the quoted
 * name (NULL when quoting failed), for the caller to PQfreemem. 0, or -1 with
 * err set when the query fails.
 */
static int check_publication(PGconn *sql, const char *pub, struct pf_report *rep,
                             int *exists, int *all, char **qpub_out, char *err, size_t errlen)
{
    const char *p[1] = { pub ? pub : "" };
    PGresult *pr = q1(sql, "SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate, "
                           "       pg_catalog.pg_has_role(current_user, pubowner, 'USAGE'), "
                           "       pg_catalog.pg_get_userbyid(pubowner), current_user "
                           "FROM pg_catalog.pg_publication WHERE pubname = $1", 1, p, err, errlen);
    if (!pr) return -1;
    int pub_exists = PQntuples(pr) == 1, pub_all = pub_exists && tbool(pr, 0, 0);
    char check[64], fix[384];
    snprintf(check, sizeof check, "publication %s", pub ? pub : "?");
    char *qpub = PQescapeIdentifier(sql, p[0], strlen(p[0]));
    if (pub_exists) {
        int ok = tbool(pr, 0, 1) && tbool(pr, 0, 2) && tbool(pr, 0, 3) && tbool(pr, 0, 4);
        snprintf(fix, sizeof fix, "ALTER PUBLICATION %s SET (publish = 'insert, update, delete, truncate');", qpub ? qpub : p[0]);
        pf_add(rep, ok ? PF_PASS : PF_FAIL, check, "insert, update, delete, truncate", fix, "",
               "publishes%s%s%s%s%s", tbool(pr, 0, 1) ? " insert" : "", tbool(pr, 0, 2) ? " update" : "",
               tbool(pr, 0, 3) ? " delete" : "", tbool(pr, 0, 4) ? " truncate" : "",
               pub_all ? " (FOR ALL TABLES)" : "");
        /* zetl streams from a publication it does not own, but cannot ALTER it
         * (add back a table someone removed) nor DROP it when the integration
         * is deleted: the owner must. */
        const char *owner = PQgetvalue(pr, 0, 6), *me = PQgetvalue(pr, 0, 7);
        char *qowner = PQescapeIdentifier(sql, me, strlen(me));
        snprintf(fix, sizeof fix, "leave it to its owner %s (a table removed from it is added back by %s: "
                 "ALTER PUBLICATION %s ADD TABLE ...; after a delete: DROP PUBLICATION %s;), or as %s: "
                 "ALTER PUBLICATION %s OWNER TO %s;", owner, owner, qpub ? qpub : p[0], qpub ? qpub : p[0],
                 owner, qpub ? qpub : p[0], qowner ? qowner : me);
        pf_add(rep, tbool(pr, 0, 5) ? PF_PASS : PF_WARN, "publication owner", "zetl's user (to ALTER or DROP it)",
               fix, "", tbool(pr, 0, 5) ? "%s (zetl's user)" : "%s, not %s: zetl streams from it but cannot ALTER or DROP it",
               owner, me);
        PQfreemem(qowner);
    }
    PQclear(pr);
    *exists = pub_exists;
    *all = pub_all;
    *qpub_out = qpub;
    return 0;
}

/*
 * One selected table's item (row i of check_tables' query): logged, a key or
 * REPLICA IDENTITY FULL, in the publication, partitioned; and its generated
 * columns. The first problem found is the table's item.
 */
static void check_table_row(PGconn *sql, PGresult *r, int i, struct pgpf_cols *cols, const char *pub,
                            const char *qpub, int pub_exists, int pub_all, struct pf_report *rep)
{
    const char *schema = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 1);
    char check[64], fix[384];
    char ident = PQgetvalue(r, i, 2)[0], persist = PQgetvalue(r, i, 3)[0], kind = PQgetvalue(r, i, 4)[0];
    int has_pk = tbool(r, i, 5), in_pub = tbool(r, i, 6);
    char uk = PQgetvalue(r, i, 12)[0];      /* 'i', 'u' or none: the query's column 12 */
    char *qs = PQescapeIdentifier(sql, schema, strlen(schema));
    char *qn = PQescapeIdentifier(sql, name, strlen(name));
    snprintf(check, sizeof check, "table %s.%s", schema, name);
    int total = 0, kept = pgpf_cols_kept(cols, schema, name, &total);
    if (kept == 0) {
        pf_add(rep, PF_WARN, check, "a column to replicate",
               total ? "to replicate it, narrow tables.exclude_columns (then resync the table)"
                     : "to replicate it, add a column (then resync the table)", "",
               "no columns%s: excluded, not replicated", total ? " (after exclude_columns)" : "");
    } else if (persist == 'u') {
        snprintf(fix, sizeof fix, "ALTER TABLE %s.%s SET LOGGED;", qs, qn);
        pf_add(rep, PF_FAIL, check, "a logged table", fix, "", "UNLOGGED: its changes never reach the WAL");
    } else if (ident == 'n' || (ident == 'd' && !has_pk)) {
        snprintf(fix, sizeof fix, "ALTER TABLE %s.%s ADD PRIMARY KEY (...); or ALTER TABLE %s.%s REPLICA IDENTITY FULL;",
                 qs, qn, qs, qn);
        pf_add(rep, PF_FAIL, check, "a primary key, or REPLICA IDENTITY FULL", fix, "",
               "no primary key and REPLICA IDENTITY %s: once published, its UPDATEs and DELETEs fail on the source",
               ident == 'n' ? "NOTHING" : "DEFAULT");
    } else if (!has_pk && ident == 'i' && uk != 'i') {
        /* The old row of an UPDATE or DELETE carries only the index's
         * columns; zetl keys such a table only by a unique index of NOT NULL
         * integers (runtime/target/batch.h, keyed). */
        snprintf(fix, sizeof fix, "ALTER TABLE %s.%s REPLICA IDENTITY FULL; or ALTER TABLE %s.%s ADD PRIMARY KEY (...);",
                 qs, qn, qs, qn);
        pf_add(rep, PF_FAIL, check, "a primary key, REPLICA IDENTITY FULL, or a replica identity index of NOT NULL integers",
               fix, "", "no primary key and REPLICA IDENTITY USING INDEX on columns that are not all NOT NULL "
               "integers: its updates and deletes would carry too little of the old row for zetl to find it");
    } else if (!has_pk) {
        snprintf(fix, sizeof fix, "ALTER TABLE %s.%s ADD PRIMARY KEY (...);", qs, qn);
        pf_add(rep, PF_WARN, check, "a primary key", fix, "",
               "no primary key (REPLICA IDENTITY %s): %s; %s", ident == 'f' ? "FULL" : "INDEX",
               uk ? "its unique key of NOT NULL integers is the key" : "the full row is the key",
               uk ? "that key lets its initial copy and a resync go in chunks"
                               : "its initial copy and a resync copy it in one read, from the start again if cut short");
    } else if (pub_exists && !pub_all && !in_pub) {
        snprintf(fix, sizeof fix, "ALTER PUBLICATION %s ADD TABLE %s.%s;", qpub, qs, qn);
        pf_add(rep, PF_FAIL, check, "in the publication", fix, "", "not in publication %s", pub);
    } else {
        pf_add(rep, kind == 'p' ? PF_WARN : PF_PASS, check, "a primary key",
               kind == 'p' ? "changes of a partitioned table arrive per partition unless the publication has publish_via_partition_root = true" : "",
               "", "primary key%s%s", ident == 'f' ? ", REPLICA IDENTITY FULL" : "",
               kind == 'p' ? ", partitioned" : "");
        if (tbool(r, i, 11)) {
            snprintf(check, sizeof check, "copy of %.27s.%.27s", schema, name);
            pf_add(rep, PF_PASS, check, "in chunks by key", "", "",
                   "copied in one read: its primary key is not all integers, so its initial copy and a "
                   "resync cannot go in chunks, and start again from the first row if cut short");
        }
    }
    if (kept) pgpf_cols_check_generated(cols, schema, name, rep);
    PQfreemem(qs);
    PQfreemem(qn);
}

static int check_tables(PGconn *sql, const struct config_integration *in, int may_create,
                        struct pf_report *rep, char *err, size_t errlen)
{
    const char *pub = in->source.publication;
    const char *p[1] = { pub ? pub : "" };
    int pub_exists, pub_all;
    char *qpub = NULL;
    if (check_publication(sql, pub, rep, &pub_exists, &pub_all, &qpub, err, errlen) != 0) return -1;

    PGresult *r = q1(sql,
        "SELECT n.nspname, c.relname, c.relreplident, c.relpersistence, c.relkind, "
        "       EXISTS (SELECT 1 FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND i.indisprimary), "
        "       EXISTS (SELECT 1 FROM pg_catalog.pg_publication_tables pt "
        "               WHERE pt.pubname = $1 AND pt.schemaname = n.nspname AND pt.tablename = c.relname), "
        "       pg_catalog.pg_has_role(current_user, c.relowner, 'USAGE'), pg_catalog.pg_get_userbyid(c.relowner), "
        "       current_user, current_database(), "
        /* 11: a key column that is not an integer (runtime/pipe/zkey.h says why those only) */
        "       EXISTS (SELECT 1 FROM pg_catalog.pg_index i JOIN pg_catalog.pg_attribute a "
        "               ON a.attrelid = i.indrelid AND a.attnum = ANY (i.indkey) "
        "               WHERE i.indrelid = c.oid AND i.indisprimary "
        "                 AND a.atttypid NOT IN ('int2'::regtype, 'int4'::regtype, 'int8'::regtype)), "
        /* 12: without a primary key, the unique key it is keyed and copied in chunks by
         * (runtime/pg/catalog.c's choice, the replica identity's index first):
         * 'i' when that is the identity's index (its old rows carry exactly its
         * columns), 'u' another, '' none */
        "       COALESCE((SELECT CASE WHEN u.indisreplident THEN 'i' ELSE 'u' END "
        "                 FROM pg_catalog.pg_index u WHERE u.indrelid = c.oid AND u.indisunique "
        "                 AND u.indimmediate AND u.indisvalid AND u.indpred IS NULL AND u.indexprs IS NULL "
        "                 AND u.indnkeyatts <= 8 AND NOT EXISTS (SELECT 1 FROM "
        "                     unnest(u.indkey::pg_catalog.int2[]) WITH ORDINALITY AS x(att, n) "
        "                     JOIN pg_catalog.pg_attribute ua ON ua.attrelid = u.indrelid AND ua.attnum = x.att "
        "                     WHERE x.n <= u.indnkeyatts AND (NOT ua.attnotnull OR ua.atttypid NOT IN (20, 21, 23))) "
        "                 ORDER BY u.indisreplident DESC LIMIT 1), '') "
        "FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace "
        "WHERE c.relkind IN ('r', 'p') AND NOT c.relispartition "
        "  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' "
        "ORDER BY 1, 2", 1, p, err, errlen);
    if (!r) { PQfreemem(qpub); return -1; }
    struct pgpf_cols cols;
    if (pgpf_cols_load(&cols, sql, in, err, errlen) != 0) { PQclear(r); PQfreemem(qpub); return -1; }
    int selected = 0, published = 0, foreign = 0;
    /* CREATE PUBLICATION ... FOR TABLE needs every table's owner: the selected
     * tables (all, for the statement an owner could run) and those zetl's user
     * does not own, with their owners. */
    char *all_list = NULL, *foreign_list = NULL, owners[256] = "";
    size_t all_len = 0, foreign_len = 0;
    FILE *all_f = open_memstream(&all_list, &all_len);
    FILE *foreign_f = open_memstream(&foreign_list, &foreign_len);
    for (int i = 0; all_f && foreign_f && i < PQntuples(r); i++) {
        const char *schema = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 1);
        int total;
        if (!table_selected(in, schema, name) || pgpf_cols_kept(&cols, schema, name, &total) == 0) continue;
        char *qs = PQescapeIdentifier(sql, schema, strlen(schema));
        char *qn = PQescapeIdentifier(sql, name, strlen(name));
        fprintf(all_f, "%s%s.%s", published++ ? ", " : "", qs, qn);
        if (!tbool(r, i, 7)) {
            fprintf(foreign_f, "%s%s.%s", foreign++ ? ", " : "", qs, qn);
            list_add_once(owners, sizeof owners, PQgetvalue(r, i, 8));
        }
        PQfreemem(qs);
        PQfreemem(qn);
    }
    if (all_f) fclose(all_f);
    if (foreign_f) fclose(foreign_f);
    if (!all_f || !foreign_f)
        pf_add(rep, PF_FAIL, "create publication", "", "", "", "out of memory checking the tables' owners");
    else if (!pub_exists && published)
        check_create_publication(sql, rep, may_create, PQgetvalue(r, 0, 9), PQgetvalue(r, 0, 10),
                                 qpub ? qpub : p[0], published, all_list, foreign, foreign_list, owners);
    free(all_list);
    free(foreign_list);

    for (int i = 0; i < PQntuples(r); i++) {
        const char *schema = PQgetvalue(r, i, 0), *name = PQgetvalue(r, i, 1);
        if (!table_selected(in, schema, name)) continue;
        selected++;
        check_table_row(sql, r, i, &cols, pub, qpub, pub_exists, pub_all, rep);
    }
    pgpf_cols_free(&cols);
    PQclear(r);
    PQfreemem(qpub);
    if (!selected)
        pf_add(rep, PF_FAIL, "tables", "at least one table matching tables.include in the source's schemas",
               "check tables.include/exclude and source.schemas in the config", "", "no table matches");
    return 0;
}

int pg_preflight_conn(PGconn *sql, const struct config_integration *in, const char *repl_err,
                      struct pf_report *r, char *err, size_t errlen)
{
    PGresult *s = q1(sql, server_sql, 0, NULL, err, errlen);
    if (!s) return -1;
    if (PQntuples(s) != 1) {
        snprintf(err, errlen, "preflight: the current user is not in pg_roles");
        PQclear(s);
        return -1;
    }
    snprintf(r->subject, sizeof r->subject, "source %s: postgres://%s:%d/%s (PostgreSQL %s)",
             in->name, in->source.host ? in->source.host : "127.0.0.1",
             in->source.port ? in->source.port : 5432, PQgetvalue(s, 0, 11), PQgetvalue(s, 0, 1));
    char db[128];
    snprintf(db, sizeof db, "%s", PQgetvalue(s, 0, 11));
    int may_create = 0;
    check_server(sql, s, repl_err, r, &may_create);
    PQclear(s);
    if (check_slot(sql, in, db, r, err, errlen)) return -1;
    if (check_tables(sql, in, may_create, r, err, errlen)) return -1;
    return 0;
}

int pg_preflight(const struct config_integration *in, struct pf_report *r, char *err, size_t errlen)
{
    snprintf(r->subject, sizeof r->subject, "source %s: postgres://%s:%d/%s", in->name,
             in->source.host ? in->source.host : "127.0.0.1", in->source.port ? in->source.port : 5432,
             in->source.database ? in->source.database : "?");
    PGconn *sql = pg_source_connect(&in->source, 0, err, errlen);
    if (!sql) return -1;
    char repl_err[300] = "";
    PGconn *repl = pg_source_connect(&in->source, 1, repl_err, sizeof repl_err);
    if (repl) {
        PGresult *id = PQexec(repl, "IDENTIFY_SYSTEM");
        if (PQresultStatus(id) != PGRES_TUPLES_OK) {
            snprintf(repl_err, sizeof repl_err, "IDENTIFY_SYSTEM failed: %s", PQresultErrorMessage(id));
            trim_nl(repl_err);
        }
        PQclear(id);
        PQfinish(repl);
    }
    /* The server's own words are the useful part ("FATAL: must be superuser or replication role ..."). */
    const char *why = strstr(repl_err, "FATAL:");
    int rc = pg_preflight_conn(sql, in, repl_err[0] ? (why ? why : repl_err) : NULL, r, err, errlen);
    PQfinish(sql);
    return rc;
}

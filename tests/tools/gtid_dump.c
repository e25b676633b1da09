/*
 * gtid_dump — start a binlog stream the way zetl does when it resumes by a
 * MySQL GTID set, and print what the server answers.
 *
 *   gtid_dump -c FILE [-i NAME] -g GTIDSET [-n EVENTS]
 *       connect as integration NAME's source (first one unless -i), create
 *       the MARIADB_RPL handle, send COM_BINLOG_DUMP_GTID for GTIDSET with
 *       mysql_dump_gtid_start (runtime/mysql/dump_gtid.c, what replica.c
 *       calls), then read with mariadb_rpl_fetch, no mariadb_rpl_open.
 *   gtid_dump -c FILE [-i NAME] -r GTIDSET
 *       run zetl's replica (mysql_replica_run) from checkpoint
 *       gone-bin.000999:4 gtid=GTIDSET, a file no server has, so it must
 *       resume by GTID; prints its warnings and its result:
 *         WARN <message>
 *         REPLICA rc=<return value> <error message>
 *   gtid_dump -c FILE [-i NAME] -b BINLOGFILE:POS [-n EVENTS] [-u TYPE]
 *       the same reading path, but the stream is started by COM_BINLOG_DUMP
 *       (0x12) sent through mysql_dump_command (db_command): proves on a
 *       server that has no COM_BINLOG_DUMP_GTID (MariaDB) that a stream
 *       started by db_command is read by mariadb_rpl_fetch without
 *       mariadb_rpl_open.
 *   gtid_dump -c FILE [-i NAME] -s
 *       the server's current binlog position the way zetl reads it for
 *       bytes behind (mysql_replica_server_position, through
 *       mysql_conn_binlog_status: the statement depends on the server):
 *         POSITION <file>:<offset>        (exit 0)
 *         NOPOSITION <message>            (exit 3)
 *
 * Output, one line each:
 *   SERVER MariaDB 10.11.19
 *   SENT 0x1e 56 bytes
 *   EVENT ROTATE                         (up to EVENTS, default 3; with -u TYPE
 *                                        until an event of that type, at most 1000)
 *   REFUSED lost=1 <zetl's operator message>     (exit 3)
 *   DONE events=3                        (exit 0)
 * Other errors: one line on stderr, exit 1.
 */
#include "config/config.h"
#include "runtime/pipe/change.h"
#include "runtime/mysql/binlog.h"
#include "runtime/mysql/conn.h"
#include "runtime/mysql/dump_gtid.h"
#include "runtime/mysql/gtid.h"
#include "runtime/mysql/replica.h"
#include "runtime/base/wr.h"

#include <mariadb_rpl.h>
#include <mysql.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int usage(void)
{
    fprintf(stderr, "usage: gtid_dump -c FILE [-i NAME] (-g GTIDSET | -r GTIDSET | -b BINLOGFILE:POS | -s) [-n EVENTS] [-u TYPE]\n");
    return 2;
}

static int s_txn(void *ctx, const struct ztxn *t) { (void)ctx; (void)t; return 0; }
static int s_row(void *ctx, const struct zrowchange *rc) { (void)ctx; (void)rc; return 0; }
static int s_schema(void *ctx, const struct zschema_change *sc) { (void)ctx; (void)sc; return 0; }
static int s_hb(void *ctx, const struct zpos *p, int64_t now) { (void)ctx; (void)p; (void)now; return 0; }
static int s_want(void *ctx, const char *schema, const char *table) { (void)ctx; (void)schema; (void)table; return 1; }
static void s_warn(void *ctx, const char *msg) { (void)ctx; printf("WARN %s\n", msg); fflush(stdout); }

/* zetl's replica from a checkpoint whose file no server has. */
static int run_replica(const struct config_integration *in, const char *gtid)
{
    struct zpos from = {.kind = ZPOS_BINLOG, .offset = 4};
    char err[2048];
    atomic_int stop = 0;
    snprintf(from.file, sizeof from.file, "gone-bin.000999");
    snprintf(from.gtid, sizeof from.gtid, "%s", gtid);
    struct zsink sink = {.begin = s_txn, .row = s_row, .schema = s_schema, .commit = s_txn, .heartbeat = s_hb};
    struct mysql_replica_opts o = {
        .integration = in->name, .src = &in->source, .from = &from, .sink = &sink, .stop = &stop,
        .heartbeat_ms = 1000, .warn = s_warn, .want_table = s_want,
    };
    err[0] = 0;
    int rc = mysql_replica_run(&o, err, sizeof err);
    printf("REPLICA rc=%d %s\n", rc, err);
    return rc == 0 ? 0 : 3;
}

/* COM_BINLOG_DUMP payload: pos u32 | flags u16 | server_id u32 | file name. */
static int send_file_dump(MYSQL *db, uint32_t server_id, const char *spec, char *err, size_t errlen)
{
    const char *colon = strrchr(spec, ':');
    if (!colon) { snprintf(err, errlen, "-b wants FILE:POS, got %s", spec); return -1; }
    size_t flen = (size_t)(colon - spec);
    uint32_t pos = (uint32_t)strtoul(colon + 1, NULL, 10);
    uint8_t buf[512];
    struct wr w;
    if (flen > sizeof buf - 10) { snprintf(err, errlen, "file name too long"); return -1; }
    wr_init(&w, buf, 10 + flen);
    wr_u32le(&w, pos);
    wr_u16le(&w, 0);
    wr_u32le(&w, server_id);
    wr_bytes(&w, spec, flen);
    if (wr_end(&w) != 0) { snprintf(err, errlen, "internal error building COM_BINLOG_DUMP"); return -1; }
    /* What zetl's own session does before a dump (replica.c session_setup). */
    if (mysql_query(db, "SET @master_binlog_checksum = @@global.binlog_checksum") != 0 ||
        mysql_query(db, "SET @mariadb_slave_capability = 4") != 0) {
        snprintf(err, errlen, "session setup: %s", mysql_error(db));
        return -1;
    }
    printf("SENT 0x%02x %zu bytes\n", MYSQL_COM_BINLOG_DUMP, w.pos);
    return mysql_dump_command(db, MYSQL_COM_BINLOG_DUMP, buf, w.pos, err, errlen);
}

int main(int argc, char **argv)
{
    const char *cfgpath = NULL, *iname = NULL, *gtid = NULL, *binlog = NULL, *until = NULL, *replica = NULL;
    int nevents = 3, opt, status = 0;
    while ((opt = getopt(argc, argv, "c:i:g:r:b:n:u:s")) != -1) {
        switch (opt) {
        case 'c': cfgpath = optarg; break;
        case 'i': iname = optarg; break;
        case 'g': gtid = optarg; break;
        case 'r': replica = optarg; break;
        case 'b': binlog = optarg; break;
        case 'n': nevents = atoi(optarg); break;
        case 'u': until = optarg; nevents = 1000; break;
        case 's': status = 1; break;
        default: return usage();
        }
    }
    if (!cfgpath || (gtid != NULL) + (binlog != NULL) + (replica != NULL) + status != 1) return usage();

    char err[2048];
    struct config *cfg = NULL;
    if (config_load(cfgpath, &cfg, err, sizeof err)) { fprintf(stderr, "%s\n", err); return 1; }
    const struct config_integration *in = iname ? config_find(cfg, iname) : &cfg->integrations[0];
    if (!in) { fprintf(stderr, "gtid_dump: no integration %s\n", iname); return 1; }
    if (replica) {
        int r = run_replica(in, replica);
        config_free(cfg);
        return r;
    }

    int rc = 1;
    MYSQL *db = NULL;
    MARIADB_RPL *rpl = NULL;
    MARIADB_RPL_EVENT *ev = NULL;
    struct gtid_state g;
    gtid_state_init(&g);
    if (mysql_conn_open(&db, in->name, &in->source, 10, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    char desc[128];
    mysql_conn_describe(db, desc, sizeof desc);
    printf("SERVER %s\n", desc);
    fflush(stdout);
    if (status) {
        struct zpos pos;
        if (mysql_replica_server_position(db, &pos, err, sizeof err) != 0) {
            printf("NOPOSITION %s\n", err);
            rc = 3;
        } else {
            printf("POSITION %s:%llu\n", pos.file, (unsigned long long)pos.offset);
            rc = 0;
        }
        goto out;
    }
    /* mariadb_rpl_init runs a query of its own: before the dump command. */
    if (!(rpl = mariadb_rpl_init(db))) { fprintf(stderr, "gtid_dump: mariadb_rpl_init failed\n"); goto out; }
    if (gtid) {
        uint8_t *body;
        size_t len;
        if (gtid_state_parse(&g, gtid, err, sizeof err) != 0 ||
            mysql_dump_gtid_build(&g, in->source.server_id, "", 4, &body, &len, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            goto out;
        }
        free(body);
        printf("SENT 0x%02x %zu bytes\n", MYSQL_COM_BINLOG_DUMP_GTID, len);
        if (mysql_dump_gtid_start(db, &g, in->source.server_id, err, sizeof err) != 0) {
            fprintf(stderr, "%s\n", err);
            goto out;
        }
    } else if (send_file_dump(db, in->source.server_id, binlog, err, sizeof err) != 0) {
        fprintf(stderr, "%s\n", err);
        goto out;
    }
    fflush(stdout);
    int seen = 0;
    while (seen < nevents) {
        ev = mariadb_rpl_fetch(rpl, ev);
        if (!ev) break;
        printf("EVENT %s\n", binlog_type_name(ev->event_type));
        seen++;
        if (until && strcmp(until, binlog_type_name(ev->event_type)) == 0) break;
    }
    if (seen == nevents || (until && ev)) {
        printf("DONE events=%d\n", seen);
        rc = 0;
    } else if (seen == 0 && mysql_errno(db)) {
        char text[1024];
        if (gtid) gtid_state_format(&g, text, sizeof text);
        int lost = mysql_dump_gtid_refused(err, sizeof err, in->name, gtid ? text : binlog, mysql_errno(db),
                                           mysql_error(db));
        printf("REFUSED lost=%d %s\n", lost, err);
        rc = 3;
    } else {
        fprintf(stderr, "gtid_dump: stream ended after %d events: %s (error %u)\n", seen,
                mysql_errno(db) ? mysql_error(db) : "connection closed", mysql_errno(db));
    }
out:
    if (ev) mariadb_free_rpl_event(ev);
    if (rpl) mariadb_rpl_close(rpl);
    if (db) mysql_close(db);
    gtid_state_free(&g);
    config_free(cfg);
    return rc;
}

/* replica.c — binlog dump as a replica into the decoder (see replica.h). */
#include "runtime/mysql/replica.h"
#include "runtime/base/clock.h"

#include <errmsg.h>
#include <inttypes.h>
#include <mysql.h>
#include <mysqld_error.h>
#include <mariadb_rpl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/mysql/binlog.h"
#include "runtime/mysql/conn.h"
#include "runtime/mysql/dump_gtid.h"
#include "runtime/mysql/gtid.h"

/* How the dump starts. */
enum start_how {
    START_FILE,             /* COM_BINLOG_DUMP at the checkpoint's file:offset */
    START_MARIA_GTID,       /* @slave_connect_state, then COM_BINLOG_DUMP with no file */
    START_MYSQL_GTID,       /* COM_BINLOG_DUMP_GTID with the checkpoint's GTID set */
};

/* Does `file` still exist on the server? 1 yes (*size = its File_size), 0 no, -1 error. */
static int binlog_find(MYSQL *db, const char *file, uint64_t *size, char *err, size_t errlen)
{
    MYSQL_RES *res = mysql_conn_query(db, "SHOW BINARY LOGS", err, errlen);
    if (!res) return -1;
    int found = 0;
    MYSQL_ROW row;
    *size = 0;
    while ((row = mysql_fetch_row(res)))
        if (row[0] && strcmp(row[0], file) == 0) {
            found = 1;
            if (mysql_num_fields(res) > 1 && row[1]) *size = strtoull(row[1], NULL, 10);
            else *size = UINT64_MAX;        /* no size column: never "beyond its end" */
        }
    mysql_free_result(res);
    return found;
}

/* One text value of a one-row query into buf ("" for NULL); 0 ok, -1 with err. */
static int query_text(MYSQL *db, const char *sql, char *buf, size_t len, char *err, size_t errlen)
{
    MYSQL_RES *res = mysql_conn_query(db, sql, err, errlen);
    if (!res) return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    size_t o = 0;
    for (const char *p = row && row[0] ? row[0] : ""; *p && o + 1 < len; p++)
        if (*p != '\n' && *p != '\r') buf[o++] = *p;       /* MySQL breaks long GTID sets over lines */
    buf[o] = 0;
    mysql_free_result(res);
    return 0;
}

/*
 * The server's binlog expiry into *o->expire_s, once per side connection
 * (no round trip on the stream): @@binlog_expire_logs_seconds (MariaDB
 * 10.6+, MySQL 8), or @@expire_logs_days × 86400 where that is unset or
 * unknown; 0 = never purged automatically. Neither answering leaves it.
 */
static void read_expire(const struct mysql_replica_opts *o, MYSQL *side)
{
    char v[64], e[256];
    int64_t secs = -1;
    if (!o->expire_s || !side) return;
    if (query_text(side, "SELECT @@GLOBAL.binlog_expire_logs_seconds", v, sizeof v, e, sizeof e) == 0 && v[0])
        secs = strtoll(v, NULL, 10);
    if (secs <= 0 && query_text(side, "SELECT @@GLOBAL.expire_logs_days", v, sizeof v, e, sizeof e) == 0 && v[0]) {
        double days = strtod(v, NULL);         /* MariaDB: a decimal, e.g. 0.500000 */
        if (days > 0 || secs < 0) secs = (int64_t)(days * 86400.0);
    }
    if (secs >= 0) atomic_store(o->expire_s, secs);
}

/* MariaDB: is every domain-server-seq of the checkpoint in the server's
 * @@gtid_binlog_state (the last seq of each domain-server pair it ever
 * binlogged) with a seq at least as high? */
static int maria_covered(const struct gtid_state *ck, const char *server_state)
{
    for (uint32_t i = 0; i < ck->nm; i++) {
        int ok = 0;
        for (const char *p = server_state; *p && !ok;) {
            unsigned long d, sv;
            unsigned long long q;
            int n = 0;
            while (*p == ' ' || *p == ',') p++;
            if (!*p || sscanf(p, "%lu-%lu-%llu%n", &d, &sv, &q, &n) != 3) break;
            ok = d == ck->m[i].domain && sv == ck->m[i].server && q >= ck->m[i].seq;
            p += n;
        }
        if (!ok) return 0;
    }
    return 1;
}

/* MySQL: is the checkpoint's GTID set a subset of the server's gtid_executed? */
static int mysql_covered(const struct gtid_state *ck, const struct gtid_state *sv)
{
    for (uint32_t i = 0; i < ck->ns; i++) {
        const struct gtid_sid *a = &ck->s[i], *b = NULL;
        for (uint32_t k = 0; k < sv->ns && !b; k++)
            if (memcmp(sv->s[k].sid, a->sid, 16) == 0) b = &sv->s[k];
        for (uint32_t k = 0; k < a->n; k++) {
            int in = 0;
            for (uint32_t m = 0; b && m < b->n && !in; m++)
                in = b->iv[m].lo <= a->iv[k].lo && a->iv[k].hi <= b->iv[m].hi;
            if (!in) return 0;
        }
    }
    return 1;
}

/*
 * Is the checkpoint still a point in this server's binlog history? What
 * RESET MASTER (RESET BINARY LOGS AND GTIDS on MySQL 8.4) leaves behind, and
 * what a different server without our history looks like:
 *   - the checkpoint's GTIDs are ahead of every GTID the server has binlogged
 *     (the reset emptied @@gtid_binlog_state / @@gtid_executed);
 *   - the checkpoint's file exists again (re-created from .000001) but is
 *     shorter than the checkpoint's offset.
 * Either is MYSQL_REPLICA_POSITION_LOST with err saying which and what to do;
 * 0 when the checkpoint fits; -1 on a query error. A GTID state of the other
 * flavour is left to gtid_start, which explains that case.
 */
static int history_check(const struct mysql_replica_opts *o, MYSQL *db, const struct zpos *at, int exists,
                         uint64_t size, char *err, size_t errlen)
{
    char pos[ZPOS_FILE_MAX + 32];
    snprintf(pos, sizeof pos, "%s:%" PRIu64, at->file, at->offset);
    char e[512], sv[ZPOS_GTID_MAX + 1];
    int maria = mysql_conn_is_mariadb(db), rc = 0;
    struct gtid_state ck, srv;
    gtid_state_init(&ck);
    gtid_state_init(&srv);
    if (at->gtid[0] && gtid_state_parse(&ck, at->gtid, e, sizeof e) == 0 &&
        ck.kind == (maria ? GTID_MARIA : GTID_MYSQL)) {
        if (query_text(db, maria ? "SELECT @@GLOBAL.gtid_binlog_state" : "SELECT @@GLOBAL.gtid_executed",
                       sv, sizeof sv, e, sizeof e) != 0) {
            snprintf(err, errlen, "source %s: cannot read the server's GTID state: %s", o->integration, e);
            rc = -1;
            goto out;
        }
        int covered = maria ? maria_covered(&ck, sv)
                            : gtid_state_parse(&srv, sv[0] ? sv : "", e, sizeof e) != 0 || mysql_covered(&ck, &srv);
        if (!covered) {
            snprintf(err, errlen,
                     "source %s: the checkpoint (binlog position %s, GTIDs %.300s) is ahead of every transaction this server has binlogged (%s %.300s): its binlog was reset (RESET MASTER) or this is another server; the changes since the checkpoint are gone from the source log, so every table must be resynced (press R in the console)",
                     o->integration, pos, at->gtid, maria ? "gtid_binlog_state" : "gtid_executed",
                     sv[0] ? sv : "empty");
            rc = MYSQL_REPLICA_POSITION_LOST;
            goto out;
        }
    }
    if (exists && at->offset > size) {
        snprintf(err, errlen,
                 "source %s: binlog position %s is beyond the end of %s on the server (%" PRIu64 " bytes): the binlog was reset (RESET MASTER) and the file re-created, or this is another server; the changes since the checkpoint are gone from the source log, so every table must be resynced (press R in the console)",
                 o->integration, pos, at->file, size);
        rc = MYSQL_REPLICA_POSITION_LOST;
    }
out:
    gtid_state_free(&ck);
    gtid_state_free(&srv);
    return rc;
}

int mysql_replica_server_position(MYSQL *db, struct zpos *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    const char *stmt;
    MYSQL_RES *res = mysql_conn_binlog_status(db, &stmt, err, errlen);
    if (!res) return -1;
    MYSQL_ROW row = mysql_fetch_row(res);
    int rc = -1;
    if (row && row[0] && row[1] && strlen(row[0]) < sizeof out->file) {
        out->kind = ZPOS_BINLOG;
        strcpy(out->file, row[0]);
        out->offset = strtoull(row[1], NULL, 10);
        rc = 0;
    } else {
        snprintf(err, errlen, "%s returned no binlog position: is log_bin ON?", stmt);
    }
    mysql_free_result(res);
    return rc;
}

static int session_setup(MYSQL *db, int heartbeat_ms, char *err, size_t errlen)
{
    char sql[160];
    /* Values here are numbers we format ourselves, not operator input. */
    snprintf(sql, sizeof sql, "SET @master_heartbeat_period = %" PRIu64,
             (uint64_t)heartbeat_ms * UINT64_C(1000000));
    const char *stmts[] = {
        sql,
        "SET @master_binlog_checksum = @@global.binlog_checksum",
        "SET @source_binlog_checksum = @@global.binlog_checksum",
        "SET @mariadb_slave_capability = 4",
    };
    for (size_t i = 0; i < sizeof stmts / sizeof stmts[0]; i++) {
        if (mysql_query(db, stmts[i]) != 0) {
            snprintf(err, errlen, "%s (error %u) running: %s", mysql_error(db), mysql_errno(db), stmts[i]);
            return -1;
        }
    }
    return 0;
}

/*
 * The checkpoint's file is gone: can the dump start by its GTID state? Fills
 * gs and gtext (the state formatted from its parsed numbers) and returns
 * START_MARIA_GTID or START_MYSQL_GTID; otherwise MYSQL_REPLICA_POSITION_LOST
 * with err saying why and what to do.
 */
static int gtid_start(const struct mysql_replica_opts *o, MYSQL *db, const char *pos,
                      struct gtid_state *gs, char *gtext, size_t gtlen, char *err, size_t errlen)
{
    const char *g = o->from->gtid;
    char e[512];
    if (!g[0]) {
        snprintf(err, errlen,
                 "source %s: binlog position %s no longer exists on the server (the file was purged); the changes since then are gone from the source log, so every table must be resynced (press R in the console) — and raise binlog retention so it does not happen again",
                 o->integration, pos);
        return MYSQL_REPLICA_POSITION_LOST;
    }
    int bad = gtid_state_parse(gs, g, e, sizeof e) != 0;
    if (!bad && gtid_state_format(gs, gtext, gtlen) != 0) {
        bad = 1;
        snprintf(e, sizeof e, "its text form no longer fits %zu bytes", gtlen);
    }
    if (bad) {
        snprintf(err, errlen,
                 "source %s: binlog position %s no longer exists on the server, and its GTID state cannot be used to resume (%s); every table must be resynced (press R in the console)",
                 o->integration, pos, e);
        return MYSQL_REPLICA_POSITION_LOST;
    }
    int maria = mysql_conn_is_mariadb(db);
    if (maria && gs->kind == GTID_MYSQL) {
        snprintf(err, errlen,
                 "source %s: binlog position %s no longer exists on the server, and its GTID set %.300s is in MySQL form (server_uuid:transactions), which MariaDB cannot resume from: MariaDB GTIDs are \"domain-server-seq\" (e.g. 0-1-42). Was the source moved from MySQL to MariaDB? Every table must be resynced (press R in the console)",
                 o->integration, pos, g);
        return MYSQL_REPLICA_POSITION_LOST;
    }
    if (!maria && gs->kind == GTID_MARIA) {
        snprintf(err, errlen,
                 "source %s: binlog position %s no longer exists on the server, and its GTID state %.300s is in MariaDB form (domain-server-seq), which MySQL cannot resume from: MySQL GTID sets are \"server_uuid:transactions\". Was the source moved from MariaDB to MySQL? Every table must be resynced (press R in the console)",
                 o->integration, pos, g);
        return MYSQL_REPLICA_POSITION_LOST;
    }
    return maria ? START_MARIA_GTID : START_MYSQL_GTID;
}

/*
 * While streaming: is what the stream has read still in the server's
 * history? A RESET MASTER under a running dump can leave the dump thread
 * reading the deleted file (silence, with heartbeats) — this notices within
 * RESET_CHECK_MS, on a second connection. A query error is not the
 * stream's: the side connection is dropped and reopened at the next check.
 */
#define RESET_CHECK_MS 10000

static int live_check(const struct mysql_replica_opts *o, MYSQL **side, struct mysql_decoder *dec,
                      char *err, size_t errlen)
{
    char e[512];
    struct zpos at;
    uint64_t size = 0;
    mysql_decoder_position(dec, &at);
    if (at.kind != ZPOS_BINLOG || !at.file[0]) return 0;
    if (!*side) {
        if (mysql_conn_open_cut(side, o->integration, o->src, 10, o->cut, e, sizeof e) != 0) return 0;
        read_expire(o, *side);
    }
    int exists = binlog_find(*side, at.file, &size, e, sizeof e);
    int rc = exists < 0 ? -1 : history_check(o, *side, &at, exists, size, err, errlen);
    if (rc == -1) { mysql_conn_close_cut(*side, o->cut); *side = NULL; return 0; }
    return rc;
}

/* Ask for the stream; rpl is initialised (mariadb_rpl_init runs a query: before this). */
static int dump_start(const struct mysql_replica_opts *o, MYSQL *db, MARIADB_RPL *rpl,
                      enum start_how how, const struct gtid_state *gs, const char *gtext,
                      const char *pos, char *err, size_t errlen)
{
    char e[512];
    uint32_t server_id = o->src->server_id;
    if (how == START_MARIA_GTID) {
        /* gtext is formatted from the state's numbers: only digits, '-' and
         * ','. SET takes no parameters in the dump session. */
        char sql[ZPOS_GTID_MAX + 64];
        snprintf(sql, sizeof sql, "SET @slave_connect_state = '%s'", gtext);
        if (mysql_query(db, sql) != 0 || mysql_query(db, "SET @slave_gtid_strict_mode = 1") != 0) {
            snprintf(err, errlen, "source %s: cannot resume by GTID %s: %s (error %u)", o->integration,
                     gtext, mysql_error(db), mysql_errno(db));
            return -1;
        }
    }
    if (how != START_FILE && o->warn) {
        char m[ZPOS_GTID_MAX + 256];
        snprintf(m, sizeof m, "binlog file %s is gone from the server; resuming by GTID %s", o->from->file, gtext);
        o->warn(o->ctx, m);
    }
    if (how == START_MYSQL_GTID) {
        if (mysql_dump_gtid_start(db, gs, server_id, e, sizeof e) == 0) return 0;
        snprintf(err, errlen, "source %s: cannot start the binlog dump by GTID set %.300s: %s",
                 o->integration, gtext, e);
        return -1;
    }
    /* By MariaDB GTID: an empty file name, and the server starts from @slave_connect_state. */
    int by_gtid = how == START_MARIA_GTID;
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FILENAME, by_gtid ? "" : o->from->file,
                         by_gtid ? (size_t)0 : strlen(o->from->file));
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_START, by_gtid ? 4UL : (unsigned long)o->from->offset);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_SERVER_ID, server_id);
    mariadb_rpl_optionsv(rpl, MARIADB_RPL_FLAGS, 0);
    if (mariadb_rpl_open(rpl) == 0) return 0;
    if (by_gtid && mysql_errno(db) == ER_MASTER_FATAL_ERROR_READING_BINLOG) {
        snprintf(err, errlen,
                 "source %s: binlog position %s is gone and the server cannot resume from GTID %s either (%s); every table must be resynced",
                 o->integration, pos, gtext, mysql_error(db));
        return MYSQL_REPLICA_POSITION_LOST;
    }
    snprintf(err, errlen, "source %s: cannot start the binlog dump at %s: %s (error %u)",
             o->integration, pos, mysql_error(db), mysql_errno(db));
    return -1;
}

/* mariadb_rpl_fetch returned no event: the operator's message and the return value. */
static int stream_error(const struct mysql_replica_opts *o, MYSQL *db, struct mysql_decoder *dec,
                        enum start_how how, int nevents, const char *gtext, const char *pos,
                        char *err, size_t errlen)
{
    unsigned code = mysql_errno(db);
    /* The server's answer to COM_BINLOG_DUMP_GTID is its first packet: an
     * ERR there is the server refusing (client errors are CR_MIN_ERROR up). */
    if (how == START_MYSQL_GTID && nevents == 0 && code && code < CR_MIN_ERROR)
        return mysql_dump_gtid_refused(err, errlen, o->integration, gtext, code, mysql_error(db))
                   ? MYSQL_REPLICA_POSITION_LOST : -1;
    if (how != START_FILE && code == ER_MASTER_FATAL_ERROR_READING_BINLOG) {
        snprintf(err, errlen,
                 "source %s: binlog position %s is gone and the server cannot resume from GTID %s either (%s); the changes since then are gone from the source log, so every table must be resynced",
                 o->integration, pos, gtext, mysql_error(db));
        return MYSQL_REPLICA_POSITION_LOST;
    }
    struct zpos at;
    char now[ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32];
    mysql_decoder_position(dec, &at);
    zpos_format(&at, now, sizeof now);
    snprintf(err, errlen, "source %s: binlog stream broke after %s: %s (error %u)", o->integration, now,
             code ? mysql_error(db) : "connection closed", code);
    return -1;
}

/*
 * The binlog event in a packet from the dump (*rawlen bytes at raw; *rawlen is
 * updated): raw itself, one byte on, or a copy in fixed (fixed_len bytes).
 */
static const uint8_t *unwrap_event(const uint8_t *raw, size_t *rawlen, int seen_fde,
                                   uint8_t *fixed, size_t fixed_len)
{
    /* The network packet may still begin with its OK marker (0x00) before
     * the event; the event's own length field (header bytes 9..12) says
     * which: it equals the bytes that follow the marker. */
    if (*rawlen > 19 + 1 && raw[0] == 0x00) {
        uint32_t sz = (uint32_t)raw[10] | (uint32_t)raw[11] << 8 | (uint32_t)raw[12] << 16 |
                      (uint32_t)raw[13] << 24;
        if (sz == *rawlen - 1) { raw++; (*rawlen)--; }
    }
    /* The artificial ROTATE that opens a dump comes before the
     * FORMAT_DESCRIPTION, yet carries the CRC32 we asked for with
     * @master_binlog_checksum: verify and strip it here, since the
     * decoder cannot know the checksum setting before that event. */
    if (!seen_fde && *rawlen > 19 + 4 && *rawlen <= fixed_len && raw[4] == BL_ROTATE) {
        const uint8_t *c = raw + *rawlen - 4;
        uint32_t want = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
                        (uint32_t)c[3] << 24;
        if (binlog_crc32(0, raw, *rawlen - 4) == want) {
            memcpy(fixed, raw, *rawlen - 4);
            *rawlen -= 4;
            fixed[9] = (uint8_t)*rawlen;
            fixed[10] = (uint8_t)(*rawlen >> 8);
            fixed[11] = (uint8_t)(*rawlen >> 16);
            fixed[12] = (uint8_t)(*rawlen >> 24);
            raw = fixed;
        }
    }
    return raw;
}

int mysql_replica_run(const struct mysql_replica_opts *o, char *err, size_t errlen)
{
    int heartbeat_ms = o->heartbeat_ms > 0 ? o->heartbeat_ms : 1000;
    char pos[ZPOS_FILE_MAX + 32], e[512], gtext[ZPOS_GTID_MAX] = "";
    snprintf(pos, sizeof pos, "%s:%" PRIu64, o->from->file, o->from->offset);

    /* Read timeout: a few heartbeats; silence longer than that is a dead link. */
    MYSQL *db = NULL, *side = NULL;
    int timeout_s = heartbeat_ms / 1000 * 5 + 5;
    if (mysql_conn_open_cut(&db, o->integration, o->src, timeout_s, o->cut, err, errlen) != 0)
        return atomic_load(o->stop) ? 0 : -1;

    int rc = -1, nevents = 0;
    MARIADB_RPL *rpl = NULL;
    MARIADB_RPL_EVENT *ev = NULL;
    struct mysql_decoder *dec = NULL;
    struct gtid_state gs;
    gtid_state_init(&gs);

    uint64_t fsize = 0;
    int exists = binlog_find(db, o->from->file, &fsize, e, sizeof e);
    if (exists < 0) {
        snprintf(err, errlen, "source %s: cannot list binlogs: %s", o->integration, e);
        goto out;
    }
    if ((rc = history_check(o, db, o->from, exists, fsize, err, errlen)) != 0) goto out;
    rc = -1;
    /*
     * The file of the checkpoint is gone (purged, or another server after a
     * failover). Both flavours can still resume by GTID when the checkpoint
     * has a GTID state in the server's own form and the server's binlogs
     * still hold what follows it: MariaDB by @slave_connect_state, MySQL by
     * COM_BINLOG_DUMP_GTID (dump_gtid.h).
     */
    enum start_how how = START_FILE;
    if (!exists) {
        int k = gtid_start(o, db, pos, &gs, gtext, sizeof gtext, err, errlen);
        if (k == MYSQL_REPLICA_POSITION_LOST) { rc = k; goto out; }
        how = (enum start_how)k;
    }
    if (session_setup(db, heartbeat_ms, e, sizeof e) != 0) {
        snprintf(err, errlen, "source %s: %s", o->integration, e);
        goto out;
    }
    struct mysql_decoder_opts dopts = {
        .sink = o->sink, .file = how != START_FILE ? NULL : o->from->file,
        .offset = how != START_FILE ? 4 : o->from->offset,
        .gtid = o->from->gtid[0] ? o->from->gtid : NULL,
        .ctx = o->ctx, .warn = o->warn, .want_table = o->want_table, .table_def = o->table_def,
    };
    dec = mysql_decoder_new(&dopts);
    rpl = mariadb_rpl_init(db);
    if (!dec || !rpl) {
        snprintf(err, errlen, "source %s: out of memory starting the binlog stream", o->integration);
        goto out;
    }
    /* The side connection for live_check, opened now so a busy stream never waits on it. */
    if (mysql_conn_open_cut(&side, o->integration, o->src, 10, o->cut, e, sizeof e) != 0) side = NULL;
    read_expire(o, side);
    rc = dump_start(o, db, rpl, how, &gs, gtext, pos, err, errlen);
    if (rc != 0) goto out;
    rc = -1;
    int seen_fde = 0;
    int64_t next_check = zclock_mono_ms() + RESET_CHECK_MS;
    while (!atomic_load(o->stop)) {
        if (zclock_mono_ms() >= next_check) {
            next_check = zclock_mono_ms() + RESET_CHECK_MS;
            if ((rc = live_check(o, &side, dec, err, errlen)) != 0) goto out;
            rc = -1;
        }
        ev = mariadb_rpl_fetch(rpl, ev);
        if (!ev && atomic_load(o->stop)) break;     /* cut by the stopper: a clean stop */
        if (!ev) {
            rc = stream_error(o, db, dec, how, nevents, gtext, pos, err, errlen);
            /* The server cannot go on reading (1236): a RESET MASTER under the
             * dump may say so at once instead of leaving it silent. Is what we
             * read still in its history? If not, the position is lost. */
            char lost[1024];
            if (rc == -1 && mysql_errno(db) == ER_MASTER_FATAL_ERROR_READING_BINLOG &&
                live_check(o, &side, dec, lost, sizeof lost) == MYSQL_REPLICA_POSITION_LOST) {
                snprintf(err, errlen, "%s", lost);
                rc = MYSQL_REPLICA_POSITION_LOST;
            }
            goto out;
        }
        nevents++;
        if (!ev->raw_data || ev->raw_data_size == 0) continue;
        size_t rawlen = ev->raw_data_size;
        uint8_t fixed[512];
        const uint8_t *raw = unwrap_event(ev->raw_data, &rawlen, seen_fde, fixed, sizeof fixed);
        if (raw[4] == BL_FORMAT_DESCRIPTION) seen_fde = 1;
        int drc = mysql_decoder_event(dec, raw, rawlen);
        if (drc != 0) {
            snprintf(err, errlen, "source %s: %s", o->integration, mysql_decoder_error(dec));
            rc = mysql_decoder_position_lost(dec) ? MYSQL_REPLICA_POSITION_LOST : drc;
            goto out;
        }
    }
    rc = 0;
out:
    if (rc == -1 && atomic_load(o->stop)) rc = 0;   /* a call the stopper cut short */
    if (ev) mariadb_free_rpl_event(ev);
    if (rpl) mariadb_rpl_close(rpl);
    mysql_decoder_free(dec);
    gtid_state_free(&gs);
    mysql_conn_close_cut(side, o->cut);
    mysql_conn_close_cut(db, o->cut);
    return rc;
}

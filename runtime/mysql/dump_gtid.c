/* dump_gtid.c — COM_BINLOG_DUMP_GTID: build, parse, send (see dump_gtid.h). */
#include "runtime/mysql/dump_gtid.h"

#include <mysqld_error.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/base/rd.h"
#include "runtime/base/wr.h"

/*
 *   flags u16 | server_id u32 | name_size u32 | name | position u64 | data_size u32 | data
 */
int mysql_dump_gtid_build(const struct gtid_state *g, uint32_t server_id, const char *file,
                          uint64_t pos, uint8_t **out, size_t *len, char *err, size_t errlen)
{
    uint8_t *data = NULL, *buf = NULL;
    size_t dlen = 0, flen = strlen(file);
    *out = NULL;
    *len = 0;
    if (g->kind != GTID_MYSQL) {
        snprintf(err, errlen, "COM_BINLOG_DUMP_GTID needs a MySQL GTID set (uuid:N-M), not %s",
                 g->kind == GTID_MARIA ? "a MariaDB GTID state (domain-server-seq)" : "an empty one");
        return -1;
    }
    if (gtid_state_encode_sids(g, &data, &dlen, err, errlen) != 0) return -1;
    if (flen > UINT32_MAX || dlen > UINT32_MAX) {
        snprintf(err, errlen, "COM_BINLOG_DUMP_GTID: file name or GTID set too long");
        goto fail;
    }
    size_t n = 2 + 4 + 4 + flen + 8 + 4 + dlen;
    buf = malloc(n);
    if (!buf) {
        snprintf(err, errlen, "out of memory building COM_BINLOG_DUMP_GTID (%zu bytes)", n);
        goto fail;
    }
    struct wr w;
    wr_init(&w, buf, n);
    wr_u16le(&w, MYSQL_BINLOG_THROUGH_GTID);
    wr_u32le(&w, server_id);
    wr_u32le(&w, (uint32_t)flen);
    wr_bytes(&w, file, flen);
    wr_u64le(&w, pos);
    wr_u32le(&w, (uint32_t)dlen);
    wr_bytes(&w, data, dlen);
    if (wr_end(&w) != 0) {                  /* a programming error: the sizes above disagree */
        snprintf(err, errlen, "internal error: COM_BINLOG_DUMP_GTID is %zu bytes, computed %zu", w.pos, n);
        goto fail;
    }
    free(data);
    *out = buf;
    *len = n;
    return 0;
fail:
    free(buf);
    free(data);
    return -1;
}

int mysql_dump_gtid_parse(const uint8_t *p, size_t len, struct mysql_dump_gtid *out, char *err,
                          size_t errlen)
{
    struct rd r;
    memset(out, 0, sizeof *out);
    rd_init(&r, p, len);
    out->flags = rd_u16le(&r);
    out->server_id = rd_u32le(&r);
    out->name_size = rd_u32le(&r);
    out->name = (const char *)rd_bytes(&r, out->name_size);
    out->pos = rd_u64le(&r);
    out->data_size = rd_u32le(&r);
    out->data = rd_bytes(&r, out->data_size);
    if (r.err) {
        snprintf(err, errlen, "COM_BINLOG_DUMP_GTID payload of %zu bytes is truncated (its sizes say more)", len);
        return -1;
    }
    if (rd_end(&r) != 0) {
        snprintf(err, errlen, "COM_BINLOG_DUMP_GTID payload has %zu bytes after its data", len - r.pos);
        return -1;
    }
    return 0;
}

int mysql_dump_command(MYSQL *db, uint8_t command, const uint8_t *arg, size_t len, char *err,
                       size_t errlen)
{
    if (!db->methods || !db->methods->db_command) {
        snprintf(err, errlen, "libmariadb offers no command method on this connection");
        return -1;
    }
    /* skip_check = 1: do not wait for an OK; the reply is the stream (or an ERR). */
    if (db->methods->db_command(db, (enum enum_server_command)command, (const char *)arg, len, 1, NULL) != 0) {
        snprintf(err, errlen, "sending command 0x%02x: %s (error %u)", command, mysql_error(db), mysql_errno(db));
        return -1;
    }
    return 0;
}

int mysql_dump_gtid_start(MYSQL *db, const struct gtid_state *g, uint32_t server_id, char *err,
                          size_t errlen)
{
    uint8_t *body;
    size_t len;
    if (mysql_dump_gtid_build(g, server_id, "", 4, &body, &len, err, errlen) != 0) return -1;
    int rc = mysql_dump_command(db, MYSQL_COM_BINLOG_DUMP_GTID, body, len, err, errlen);
    free(body);
    return rc;
}

int mysql_dump_gtid_refused(char *err, size_t errlen, const char *integration, const char *gtid,
                            unsigned code, const char *msg)
{
    switch (code) {
    case ER_MASTER_FATAL_ERROR_READING_BINLOG:
        snprintf(err, errlen,
                 "source %s: the server cannot stream what follows GTID set %.300s: %s (error %u); those transactions are gone from its binlogs (purged), or it has fewer than the set (another server?), so every table must be resynced (press R in the console) — and raise binlog retention (binlog_expire_logs_seconds) so it does not happen again",
                 integration, gtid, msg, code);
        return 1;
    case ER_UNKNOWN_COM_ERROR:
        snprintf(err, errlen,
                 "source %s: the server does not know COM_BINLOG_DUMP_GTID (%s, error %u), so it cannot resume from MySQL GTID set %.300s: it is not MySQL 5.6 or later (a MariaDB server resumes from its own \"domain-server-seq\" GTIDs); check the source's host and port",
                 integration, msg, code, gtid);
        return 0;
    case ER_SPECIFIC_ACCESS_DENIED_ERROR:
        snprintf(err, errlen,
                 "source %s: the server refused to stream from GTID set %.300s: %s (error %u); the user needs REPLICATION SLAVE and REPLICATION CLIENT (GRANT REPLICATION SLAVE, REPLICATION CLIENT ON *.* TO ...)",
                 integration, gtid, msg, code);
        return 0;
    default:
        snprintf(err, errlen, "source %s: the server refused to stream from GTID set %.300s: %s (error %u)",
                 integration, gtid, msg, code);
        return 0;
    }
}

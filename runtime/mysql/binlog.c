/* binlog.c — event framing, CRC32 and one parser per event type (see binlog.h). */
#include "runtime/mysql/binlog.h"

#include <stdio.h>
#include <string.h>

const char *binlog_type_name(int type)
{
    switch (type) {
    case BL_START_V3: return "START_V3";
    case BL_QUERY: return "QUERY";
    case BL_STOP: return "STOP";
    case BL_ROTATE: return "ROTATE";
    case BL_INTVAR: return "INTVAR";
    case BL_LOAD: return "LOAD";
    case BL_SLAVE: return "SLAVE";
    case BL_CREATE_FILE: return "CREATE_FILE";
    case BL_APPEND_BLOCK: return "APPEND_BLOCK";
    case BL_EXEC_LOAD: return "EXEC_LOAD";
    case BL_DELETE_FILE: return "DELETE_FILE";
    case BL_NEW_LOAD: return "NEW_LOAD";
    case BL_BEGIN_LOAD_QUERY: return "BEGIN_LOAD_QUERY";
    case BL_EXECUTE_LOAD_QUERY: return "EXECUTE_LOAD_QUERY";
    case BL_PRE_GA_WRITE_ROWS: return "PRE_GA_WRITE_ROWS";
    case BL_PRE_GA_UPDATE_ROWS: return "PRE_GA_UPDATE_ROWS";
    case BL_PRE_GA_DELETE_ROWS: return "PRE_GA_DELETE_ROWS";
    case BL_IGNORABLE: return "IGNORABLE";
    case BL_RAND: return "RAND";
    case BL_USER_VAR: return "USER_VAR";
    case BL_FORMAT_DESCRIPTION: return "FORMAT_DESCRIPTION";
    case BL_XID: return "XID";
    case BL_TABLE_MAP: return "TABLE_MAP";
    case BL_WRITE_ROWS_V1: return "WRITE_ROWS_V1";
    case BL_UPDATE_ROWS_V1: return "UPDATE_ROWS_V1";
    case BL_DELETE_ROWS_V1: return "DELETE_ROWS_V1";
    case BL_INCIDENT: return "INCIDENT";
    case BL_HEARTBEAT: return "HEARTBEAT";
    case BL_ROWS_QUERY: return "ROWS_QUERY";
    case BL_WRITE_ROWS_V2: return "WRITE_ROWS";
    case BL_UPDATE_ROWS_V2: return "UPDATE_ROWS";
    case BL_DELETE_ROWS_V2: return "DELETE_ROWS";
    case BL_GTID: return "GTID";
    case BL_ANONYMOUS_GTID: return "ANONYMOUS_GTID";
    case BL_PREVIOUS_GTIDS: return "PREVIOUS_GTIDS";
    case BL_TRANSACTION_CONTEXT: return "TRANSACTION_CONTEXT";
    case BL_VIEW_CHANGE: return "VIEW_CHANGE";
    case BL_XA_PREPARE: return "XA_PREPARE";
    case BL_PARTIAL_UPDATE_ROWS: return "PARTIAL_UPDATE_ROWS";
    case BL_TRANSACTION_PAYLOAD: return "TRANSACTION_PAYLOAD";
    case BL_HEARTBEAT_V2: return "HEARTBEAT_V2";
    case BL_GTID_TAGGED: return "GTID_TAGGED";
    case BL_ANNOTATE_ROWS: return "ANNOTATE_ROWS";
    case BL_BINLOG_CHECKPOINT: return "BINLOG_CHECKPOINT";
    case BL_MARIA_GTID: return "GTID(MariaDB)";
    case BL_GTID_LIST: return "GTID_LIST";
    case BL_START_ENCRYPTION: return "START_ENCRYPTION";
    case BL_QUERY_COMPRESSED: return "QUERY_COMPRESSED";
    case BL_WRITE_ROWS_COMPRESSED_V1: return "WRITE_ROWS_COMPRESSED_V1";
    case BL_UPDATE_ROWS_COMPRESSED_V1: return "UPDATE_ROWS_COMPRESSED_V1";
    case BL_DELETE_ROWS_COMPRESSED_V1: return "DELETE_ROWS_COMPRESSED_V1";
    case BL_WRITE_ROWS_COMPRESSED: return "WRITE_ROWS_COMPRESSED";
    case BL_UPDATE_ROWS_COMPRESSED: return "UPDATE_ROWS_COMPRESSED";
    case BL_DELETE_ROWS_COMPRESSED: return "DELETE_ROWS_COMPRESSED";
    case BL_PARTIAL_ROW_DATA: return "PARTIAL_ROW_DATA";
    }
    return "UNKNOWN";
}

/* ---- header ----------------------------------------------------------------
 *
 *   0  timestamp   u32le
 *   4  type        u8
 *   5  server_id   u32le
 *   9  event_size  u32le     header + body + checksum
 *  13  log_pos     u32le     end of this event in its file
 *  17  flags       u16le
 */
int binlog_parse_header(struct rd *r, struct binlog_header *h)
{
    h->timestamp = rd_u32le(r);
    h->type = rd_u8(r);
    h->server_id = rd_u32le(r);
    h->event_size = rd_u32le(r);
    h->log_pos = rd_u32le(r);
    h->flags = rd_u16le(r);
    return r->err ? -1 : 0;
}

/* ---- FORMAT_DESCRIPTION ------------------------------------------------------
 *
 *  header (19)
 *   0  binlog_version    u16le (4)
 *   2  server_version    char[50], NUL-padded
 *  52  create_timestamp  u32le
 *  56  header_length     u8 (19)
 *  57  post_header_len   u8 × (number of event types this server knows)
 *   …  checksum_alg      u8      \ only from MySQL 5.6.1 / MariaDB 5.3 on:
 *   …  crc32             u32le   / the FDE always ends with these 5 bytes
 */
void binlog_fde_default(struct binlog_fde *f)
{
    memset(f, 0, sizeof *f);
    f->binlog_version = 4;
    f->header_len = BINLOG_HEADER_LEN;
    f->checksum_alg = BINLOG_CHECKSUM_OFF;
}

unsigned binlog_post_len(const struct binlog_fde *f, int type)
{
    if (type >= 1 && type <= f->npost && f->post_len[type - 1]) return f->post_len[type - 1];
    switch (type) {             /* binlog v4 defaults */
    case BL_QUERY: return 13;
    case BL_ROTATE: return 8;
    case BL_TABLE_MAP: return 8;
    case BL_WRITE_ROWS_V1: case BL_UPDATE_ROWS_V1: case BL_DELETE_ROWS_V1: return 8;
    case BL_WRITE_ROWS_V2: case BL_UPDATE_ROWS_V2: case BL_DELETE_ROWS_V2: return 10;
    case BL_PARTIAL_UPDATE_ROWS: return 10;
    case BL_WRITE_ROWS_COMPRESSED_V1: case BL_UPDATE_ROWS_COMPRESSED_V1:
    case BL_DELETE_ROWS_COMPRESSED_V1: return 8;
    case BL_WRITE_ROWS_COMPRESSED: case BL_UPDATE_ROWS_COMPRESSED:
    case BL_DELETE_ROWS_COMPRESSED: return 10;
    case BL_QUERY_COMPRESSED: return 13;
    }
    return 0;
}

static void version_triplet(const char *v, int out[3])
{
    out[0] = out[1] = out[2] = 0;
    for (int i = 0; i < 3; i++) {
        while (*v >= '0' && *v <= '9') { out[i] = out[i] * 10 + (*v - '0'); if (out[i] > 100000) out[i] = 100000; v++; }
        if (*v != '.') break;
        v++;
    }
}

int binlog_parse_fde(const uint8_t *ev, size_t len, struct binlog_fde *f, char *err, size_t errlen)
{
    struct rd r;
    const size_t min_body = 2 + 50 + 4 + 1;
    memset(f, 0, sizeof *f);
    if (len < BINLOG_HEADER_LEN + min_body) {
        snprintf(err, errlen, "FORMAT_DESCRIPTION truncated (need %zu bytes, have %zu)",
                 (size_t)BINLOG_HEADER_LEN + min_body, len);
        return -1;
    }
    rd_init(&r, ev + BINLOG_HEADER_LEN, len - BINLOG_HEADER_LEN);
    f->binlog_version = rd_u16le(&r);
    const uint8_t *sv = rd_bytes(&r, 50);
    f->create_timestamp = rd_u32le(&r);
    f->header_len = rd_u8(&r);
    if (r.err) { snprintf(err, errlen, "FORMAT_DESCRIPTION truncated"); return -1; }
    memcpy(f->server_version, sv, 50);
    f->server_version[50] = 0;
    if (f->binlog_version != 4) {
        snprintf(err, errlen, "FORMAT_DESCRIPTION: binlog version %u not supported (need 4)",
                 f->binlog_version);
        return -1;
    }
    if (f->header_len != BINLOG_HEADER_LEN) {
        snprintf(err, errlen, "FORMAT_DESCRIPTION: event header length %u not supported (need 19)",
                 f->header_len);
        return -1;
    }
    f->is_mariadb = strstr(f->server_version, "MariaDB") != NULL;
    int v[3];
    version_triplet(f->server_version, v);
    long vv = (long)v[0] * 10000 + v[1] * 100 + v[2];
    int has_alg = f->is_mariadb ? vv >= 50300 : vv >= 50601;
    size_t rest = rd_left(&r);
    if (has_alg) {
        if (rest < 5) {
            snprintf(err, errlen, "FORMAT_DESCRIPTION truncated (no checksum algorithm byte)");
            return -1;
        }
        rest -= 5;
    }
    const uint8_t *pl = rd_bytes(&r, rest);
    f->npost = (uint16_t)(rest > 255 ? 255 : rest);
    memcpy(f->post_len, pl, f->npost);
    f->checksum_alg = has_alg ? rd_u8(&r) : BINLOG_CHECKSUM_OFF;
    if (f->checksum_alg != BINLOG_CHECKSUM_OFF && f->checksum_alg != BINLOG_CHECKSUM_CRC32) {
        snprintf(err, errlen, "FORMAT_DESCRIPTION: checksum algorithm %u not supported",
                 f->checksum_alg);
        return -1;
    }
    if (f->checksum_alg == BINLOG_CHECKSUM_CRC32) {
        uint32_t want = rd_u32le(&r);
        /* The server sets LOG_EVENT_BINLOG_IN_USE_F (flags bit 0) in the FDE of
         * an open binlog after checksumming it: check with the bit cleared. */
        uint8_t fl = (uint8_t)(ev[17] & ~1u);
        uint32_t got = binlog_crc32(0, ev, 17);
        got = binlog_crc32(got, &fl, 1);
        got = binlog_crc32(got, ev + 18, len - BINLOG_CRC_LEN - 18);
        if (want != got) {
            snprintf(err, errlen, "FORMAT_DESCRIPTION checksum mismatch (stored %08x, computed %08x)",
                     want, got);
            return -1;
        }
    }
    return 0;
}

int binlog_frame(const uint8_t *ev, size_t len, const struct binlog_fde *f,
                 struct binlog_header *h, const uint8_t **body, size_t *body_len,
                 char *err, size_t errlen)
{
    struct rd r;
    if (len < BINLOG_HEADER_LEN) {
        snprintf(err, errlen, "truncated (need %d bytes, have %zu)", BINLOG_HEADER_LEN, len);
        return -1;
    }
    rd_init(&r, ev, len);
    binlog_parse_header(&r, h);
    if (h->event_size > len) {
        snprintf(err, errlen, "truncated (need %u bytes, have %zu)", h->event_size, len);
        return -1;
    }
    if (h->event_size != len) {
        snprintf(err, errlen, "%s: declared size %u but %zu bytes framed",
                 binlog_type_name(h->type), h->event_size, len);
        return -1;
    }
    size_t blen = len - BINLOG_HEADER_LEN;
    /* The FDE carries its own algorithm byte; binlog_parse_fde checks it. */
    if (f->checksum_alg == BINLOG_CHECKSUM_CRC32 && h->type != BL_FORMAT_DESCRIPTION) {
        if (blen < BINLOG_CRC_LEN) {
            snprintf(err, errlen, "%s truncated (need %d bytes, have %zu)",
                     binlog_type_name(h->type), BINLOG_HEADER_LEN + BINLOG_CRC_LEN, len);
            return -1;
        }
        blen -= BINLOG_CRC_LEN;
        const uint8_t *c = ev + len - BINLOG_CRC_LEN;
        uint32_t want = (uint32_t)c[0] | (uint32_t)c[1] << 8 | (uint32_t)c[2] << 16 |
                        (uint32_t)c[3] << 24;
        uint32_t got = binlog_crc32(0, ev, len - BINLOG_CRC_LEN);
        if (want != got) {
            snprintf(err, errlen, "%s checksum mismatch (stored %08x, computed %08x)",
                     binlog_type_name(h->type), want, got);
            return -1;
        }
    }
    *body = ev + BINLOG_HEADER_LEN;
    *body_len = blen;
    return 0;
}

#define TRUNC(name) do { snprintf(err, errlen, "%s truncated", name); return -1; } while (0)

/* ---- ROTATE ------------------------------------------------------------------
 *
 *   0  position   u64le   (post-header, 8 bytes in v4)
 *   8  next file  the rest of the body, not NUL-terminated
 */
int binlog_parse_rotate(struct rd *r, const struct binlog_fde *f, struct binlog_rotate *o,
                        char *err, size_t errlen)
{
    unsigned pl = binlog_post_len(f, BL_ROTATE);
    o->position = pl >= 8 ? rd_u64le(r) : 4;
    if (pl > 8) rd_skip(r, pl - 8);
    o->file_len = rd_left(r);
    o->file = (const char *)rd_bytes(r, o->file_len);
    if (r->err) TRUNC("ROTATE");
    if (o->file_len == 0 || o->file_len >= 128 || memchr(o->file, 0, o->file_len)) {
        snprintf(err, errlen, "ROTATE: bad file name (%zu bytes)", o->file_len);
        return -1;
    }
    return 0;
}

/* ---- QUERY ----------------------------------------------------------------------
 *
 *   0  thread_id        u32le     \
 *   4  exec_time        u32le      |
 *   8  db_len           u8         |  post-header (13 bytes in v4)
 *   9  error_code       u16le      |
 *  11  status_vars_len  u16le     /
 *  13  status vars      status_vars_len bytes (skipped: we need none of them)
 *   …  db               db_len bytes, then a NUL
 *   …  query            the rest of the body
 */
int binlog_parse_query(struct rd *r, const struct binlog_fde *f, struct binlog_query *o,
                       char *err, size_t errlen)
{
    unsigned pl = binlog_post_len(f, BL_QUERY);
    if (pl < 11) { snprintf(err, errlen, "QUERY: post-header length %u too short", pl); return -1; }
    o->thread_id = rd_u32le(r);
    o->exec_time = rd_u32le(r);
    o->db_len = rd_u8(r);
    o->error_code = rd_u16le(r);
    size_t svlen = pl >= 13 ? rd_u16le(r) : 0;
    if (pl > 13) rd_skip(r, pl - 13);
    rd_skip(r, svlen);
    o->db = (const char *)rd_bytes(r, o->db_len);
    uint8_t nul = rd_u8(r);
    if (r->err) TRUNC("QUERY");
    if (nul != 0) { snprintf(err, errlen, "QUERY: database name not NUL-terminated"); return -1; }
    o->query_len = rd_left(r);
    o->query = (const char *)rd_bytes(r, o->query_len);
    return 0;
}

/* ---- XID: body = xid u64le ---------------------------------------------------- */
int binlog_parse_xid(struct rd *r, struct binlog_xid *o, char *err, size_t errlen)
{
    o->xid = rd_u64le(r);
    if (r->err) TRUNC("XID");
    return 0;
}

/* ---- MySQL GTID / ANONYMOUS_GTID ------------------------------------------------
 *
 *   0  flags             u8
 *   1  sid               16 bytes (server UUID)
 *  17  gno               i64le
 *  25  lt_type           u8 (2)           \ 5.7+: logical clock
 *  26  last_committed    i64le             |
 *  34  sequence_number   i64le            /
 *  42  immediate_commit  7 bytes µs; bit 55 set → original_commit 7 bytes follows
 *   …  transaction_length  packed integer (lenenc)
 *   …  immediate_server_version u32le; bit 31 → original_server_version u32le
 *  Anything after what we know is ignored (newer servers append fields).
 */
int binlog_parse_gtid(struct rd *r, struct binlog_gtid *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->last_committed = o->sequence_number = -1;
    o->flags = rd_u8(r);
    const uint8_t *sid = rd_bytes(r, 16);
    o->gno = (int64_t)rd_u64le(r);
    if (r->err) TRUNC("GTID");
    memcpy(o->sid, sid, 16);
    if (rd_left(r) >= 17 && r->p[r->pos] == 2) {
        rd_u8(r);
        o->last_committed = (int64_t)rd_u64le(r);
        o->sequence_number = (int64_t)rd_u64le(r);
    }
    if (rd_left(r) >= 7) {
        uint64_t t = rd_uint_le(r, 7);
        o->immediate_commit_us = t & ~(1ULL << 55);
        o->original_commit_us = o->immediate_commit_us;
        if (t & (1ULL << 55)) {
            if (rd_left(r) < 7) TRUNC("GTID");
            o->original_commit_us = rd_uint_le(r, 7);
        }
        if (rd_left(r) >= 1) {
            struct rd save = *r;
            o->transaction_length = rd_lenenc(r);
            if (r->err) { *r = save; o->transaction_length = 0; }
        }
    }
    return 0;
}

/* ---- MariaDB GTID ------------------------------------------------------------------
 *
 *   0  seq_no      u64le
 *   8  domain_id   u32le
 *  12  flags       u8
 *  13  commit_id   u64le     only when flags & GROUP_COMMIT
 *      (XA fields and extra flags may follow; not needed here)
 */
int binlog_parse_maria_gtid(struct rd *r, uint32_t server_id, struct binlog_maria_gtid *o,
                            char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->seq_no = rd_u64le(r);
    o->domain_id = rd_u32le(r);
    o->flags = rd_u8(r);
    o->server_id = server_id;
    if (o->flags & MARIA_GTID_GROUP_COMMIT) o->commit_id = rd_u64le(r);
    if (r->err) TRUNC("GTID(MariaDB)");
    return 0;
}

/* ---- MariaDB GTID_LIST ----------------------------------------------------------
 *
 *   0  count_and_flags  u32le: low 28 bits count, high 4 bits flags
 *   4  count × { domain_id u32le, server_id u32le, seq_no u64le }
 */
int binlog_parse_gtid_list(struct rd *r, struct binlog_gtid_list *o, char *err, size_t errlen)
{
    uint32_t w = rd_u32le(r);
    if (r->err) TRUNC("GTID_LIST");
    o->count = w & 0x0fffffffu;
    o->flags = (uint8_t)(w >> 28);
    if (o->count > rd_left(r) / 16) {
        snprintf(err, errlen, "GTID_LIST: %u entries declared but only %zu bytes left",
                 o->count, rd_left(r));
        return -1;
    }
    o->entries = rd_bytes(r, (size_t)o->count * 16);
    return 0;
}

void binlog_gtid_list_get(const struct binlog_gtid_list *l, uint32_t i, struct binlog_gtid_entry *out)
{
    struct rd r;
    rd_init(&r, l->entries + (size_t)i * 16, 16);
    out->domain_id = rd_u32le(&r);
    out->server_id = rd_u32le(&r);
    out->seq_no = rd_u64le(&r);
}

/* ---- ANNOTATE_ROWS (MariaDB): the whole body is the statement text ------------ */
int binlog_parse_annotate(struct rd *r, struct binlog_annotate *o, char *err, size_t errlen)
{
    (void)err; (void)errlen;
    o->query_len = rd_left(r);
    o->query = (const char *)rd_bytes(r, o->query_len);
    return 0;
}

static uint64_t read_table_id(struct rd *r, unsigned pl)
{
    return pl == 6 ? rd_u32le(r) : rd_u48le(r);
}

/* ---- TABLE_MAP -------------------------------------------------------------------
 *
 *   0  table_id       u48le (u32le when post-header length is 6)   \ post-header
 *   6  flags          u16le                                         /
 *      db_len         u8,  db name,    NUL
 *      table_len      u8,  table name, NUL
 *      column_count   lenenc
 *      column_types   column_count bytes
 *      meta_len       lenenc
 *      metadata       meta_len bytes: per column 0, 1 or 2 bytes by type
 *      null_bitmap    (column_count + 7) / 8 bytes
 *      optional TLVs  { type u8, length lenenc, value } until the end
 */
int binlog_parse_table_map(struct rd *r, const struct binlog_fde *f, struct binlog_table_map *o,
                           char *err, size_t errlen)
{
    unsigned pl = binlog_post_len(f, BL_TABLE_MAP);
    if (pl != 6 && pl != 8) {
        snprintf(err, errlen, "TABLE_MAP: post-header length %u not supported", pl);
        return -1;
    }
    memset(o, 0, sizeof *o);
    o->table_id = read_table_id(r, pl);
    o->flags = rd_u16le(r);
    o->db_len = rd_u8(r);
    o->db = (const char *)rd_bytes(r, o->db_len);
    uint8_t nul1 = rd_u8(r);
    o->table_len = rd_u8(r);
    o->table = (const char *)rd_bytes(r, o->table_len);
    uint8_t nul2 = rd_u8(r);
    uint64_t n = rd_lenenc(r);
    if (r->err) TRUNC("TABLE_MAP");
    if (nul1 || nul2) { snprintf(err, errlen, "TABLE_MAP: names not NUL-terminated"); return -1; }
    if (n == 0 || n > 4096) {
        snprintf(err, errlen, "TABLE_MAP: column count %llu out of range (1..4096)",
                 (unsigned long long)n);
        return -1;
    }
    o->ncols = (uint32_t)n;
    o->types = rd_bytes(r, o->ncols);
    uint64_t ml = rd_lenenc(r);
    if (r->err) TRUNC("TABLE_MAP");
    if (ml > rd_left(r)) {
        snprintf(err, errlen, "TABLE_MAP: metadata length %llu exceeds the %zu bytes left",
                 (unsigned long long)ml, rd_left(r));
        return -1;
    }
    o->meta_len = (size_t)ml;
    o->meta = rd_bytes(r, o->meta_len);
    o->nullable = rd_bytes(r, (o->ncols + 7) / 8);
    if (r->err) TRUNC("TABLE_MAP");
    o->opt_len = rd_left(r);
    o->opt = rd_bytes(r, o->opt_len);
    return 0;
}

/* ---- ROWS (WRITE/UPDATE/DELETE, v1 and v2) ----------------------------------------
 *
 *   0  table_id        u48le (u32le when post-header length is 6)   \
 *   6  flags           u16le                                         | post-header
 *   8  extra_len       u16le, counts itself (v2 only)               /
 *  10  extra data      extra_len - 2 bytes (v2 only; skipped)
 *      column_count    lenenc
 *      present         (column_count + 7) / 8 bytes
 *      present_after   (column_count + 7) / 8 bytes (UPDATE only)
 *      rows            until the end: per row a null bitmap over the present
 *                      columns and their values (UPDATE: before, then after)
 */
int binlog_parse_rows(struct rd *r, const struct binlog_fde *f, int type, struct binlog_rows *o,
                      char *err, size_t errlen)
{
    int v2 = 0, update = 0;
    memset(o, 0, sizeof *o);
    o->type = type;
    switch (type) {
    case BL_WRITE_ROWS_V1: case BL_WRITE_ROWS_COMPRESSED_V1: o->op = 1; break;
    case BL_UPDATE_ROWS_V1: case BL_UPDATE_ROWS_COMPRESSED_V1: o->op = 2; update = 1; break;
    case BL_DELETE_ROWS_V1: case BL_DELETE_ROWS_COMPRESSED_V1: o->op = 3; break;
    case BL_WRITE_ROWS_V2: case BL_WRITE_ROWS_COMPRESSED: o->op = 1; v2 = 1; break;
    case BL_UPDATE_ROWS_V2: case BL_UPDATE_ROWS_COMPRESSED: case BL_PARTIAL_UPDATE_ROWS:
        o->op = 2; update = 1; v2 = 1; break;
    case BL_DELETE_ROWS_V2: case BL_DELETE_ROWS_COMPRESSED: o->op = 3; v2 = 1; break;
    default:
        snprintf(err, errlen, "event type %d is not a rows event", type);
        return -1;
    }
    unsigned pl = binlog_post_len(f, type);
    if (pl != 6 && pl != 8 && pl != 10) {
        snprintf(err, errlen, "%s: post-header length %u not supported", binlog_type_name(type), pl);
        return -1;
    }
    o->table_id = read_table_id(r, pl);
    o->flags = rd_u16le(r);
    if (v2 && pl == 10) {
        uint16_t extra = rd_u16le(r);
        if (r->err) goto trunc;
        if (extra < 2) {
            snprintf(err, errlen, "%s: extra data length %u below its minimum 2",
                     binlog_type_name(type), extra);
            return -1;
        }
        rd_skip(r, extra - 2u);
    }
    uint64_t n = rd_lenenc(r);
    if (r->err) goto trunc;
    if (n == 0 || n > 4096) {
        snprintf(err, errlen, "%s: column count %llu out of range (1..4096)",
                 binlog_type_name(type), (unsigned long long)n);
        return -1;
    }
    o->ncols = (uint32_t)n;
    o->present = rd_bytes(r, (o->ncols + 7) / 8);
    o->present_after = update ? rd_bytes(r, (o->ncols + 7) / 8) : NULL;
    if (r->err) goto trunc;
    o->rows_len = rd_left(r);
    o->rows = rd_bytes(r, o->rows_len);
    return 0;
trunc:
    snprintf(err, errlen, "%s truncated", binlog_type_name(type));
    return -1;
}

/* ---- TRANSACTION_PAYLOAD (MySQL 8.0.20+) --------------------------------------------
 *
 *  header fields, each { type lenenc, length lenenc, value (length bytes, lenenc) }:
 *      1 payload size, 2 compression type (0 zstd, 255 none), 3 uncompressed size
 *  0   end of the header fields (no length follows)
 *  …   payload: the (compressed) inner events, payload-size bytes
 */
int binlog_parse_payload(struct rd *r, struct binlog_payload *o, char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->compression = 255;
    int have_size = 0;
    for (;;) {
        uint64_t t = rd_lenenc(r);
        if (r->err) TRUNC("TRANSACTION_PAYLOAD");
        if (t == 0) break;
        uint64_t flen = rd_lenenc(r);
        if (r->err) TRUNC("TRANSACTION_PAYLOAD");
        if (flen > rd_left(r)) TRUNC("TRANSACTION_PAYLOAD");
        struct rd fr;
        rd_init(&fr, rd_bytes(r, (size_t)flen), (size_t)flen);
        uint64_t v = rd_lenenc(&fr);
        if (t >= 1 && t <= 3 && fr.err) {
            snprintf(err, errlen, "TRANSACTION_PAYLOAD: bad header field %llu", (unsigned long long)t);
            return -1;
        }
        if (t == 1) { o->payload_size = v; have_size = 1; }
        else if (t == 2) o->compression = v;
        else if (t == 3) o->uncompressed_size = v;
    }
    size_t left = rd_left(r);
    if (have_size && o->payload_size != left) {
        snprintf(err, errlen, "TRANSACTION_PAYLOAD: payload size %llu but %zu bytes present",
                 (unsigned long long)o->payload_size, left);
        return -1;
    }
    o->payload_len = left;
    o->payload = rd_bytes(r, left);
    if (o->compression != 0 && o->compression != 255) {
        snprintf(err, errlen, "TRANSACTION_PAYLOAD: compression type %llu not supported",
                 (unsigned long long)o->compression);
        return -1;
    }
    return 0;
}

/* ---- HEARTBEAT (v1: body = file name; log_pos in the header) and HEARTBEAT_V2
 *      (fields { type lenenc, length lenenc, value }: 1 file name, 2 position
 *      (lenenc); 0 ends) -------------------------------------------------------------- */
int binlog_parse_heartbeat(struct rd *r, int type, uint64_t log_pos, struct binlog_heartbeat *o,
                           char *err, size_t errlen)
{
    memset(o, 0, sizeof *o);
    o->position = log_pos;
    if (type == BL_HEARTBEAT) {
        o->file_len = rd_left(r);
        o->file = (const char *)rd_bytes(r, o->file_len);
        return 0;
    }
    while (rd_left(r) > 0) {
        uint64_t t = rd_lenenc(r);
        if (t == 0 || r->err) break;
        uint64_t flen = rd_lenenc(r);
        if (r->err || flen > rd_left(r)) TRUNC("HEARTBEAT_V2");
        const uint8_t *v = rd_bytes(r, (size_t)flen);
        if (t == 1) { o->file = (const char *)v; o->file_len = (size_t)flen; }
        else if (t == 2) {
            struct rd fr;
            rd_init(&fr, v, (size_t)flen);
            o->position = rd_lenenc(&fr);
        }
    }
    if (r->err) TRUNC("HEARTBEAT_V2");
    return 0;
}

void binlog_uuid_format(const uint8_t sid[16], char *buf)
{
    static const char hx[] = "0123456789abcdef";
    char *o = buf;
    for (int i = 0; i < 16; i++) {
        if (i == 4 || i == 6 || i == 8 || i == 10) *o++ = '-';
        *o++ = hx[sid[i] >> 4];
        *o++ = hx[sid[i] & 15];
    }
    *o = 0;
}

int binlog_gtid_format(const struct binlog_gtid *g, char *buf, size_t len)
{
    char u[37];
    binlog_uuid_format(g->sid, u);
    int n = snprintf(buf, len, "%s:%lld", u, (long long)g->gno);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/*
 * pgoutput.c — parsers for the pgoutput protocol (see pgoutput.h).
 *
 * Integers on the wire are big-endian. "String" is NUL-terminated. Each
 * reader below checks the bytes are there before reading (via rd.h) and, on a
 * short read, records in r->err how many bytes the field needed, so the
 * error can say "need 4 bytes, have 1". Layouts follow PostgreSQL's
 * "Logical Replication Message Formats" and "Streaming Replication Protocol".
 */
#include "runtime/pg/pgoutput.h"

#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

/* ---- field readers that remember what they needed ------------------------ */

static int want(struct rd *r, size_t n)
{
    if (r->err) return 0;
    if (n > r->len - r->pos) {
        r->err = n > INT_MAX ? INT_MAX : (int)n;
        return 0;
    }
    return 1;
}

static uint8_t g8(struct rd *r) { return want(r, 1) ? rd_u8(r) : 0; }
static uint16_t g16(struct rd *r) { return want(r, 2) ? rd_u16be(r) : 0; }
static uint32_t g32(struct rd *r) { return want(r, 4) ? rd_u32be(r) : 0; }
static uint64_t g64(struct rd *r) { return want(r, 8) ? rd_u64be(r) : 0; }

static const char *gstr(struct rd *r)
{
    if (r->err) return NULL;
    if (!memchr(r->p + r->pos, 0, r->len - r->pos)) {
        r->err = PGOUT_NEED_CSTR;
        return NULL;
    }
    return rd_cstr(r);
}

/* 0, or the right error once a run of reads is done. */
static int done(struct rd *r)
{
    if (r->err) return PGOUT_E_TRUNC;
    if (r->pos != r->len) return PGOUT_E_TRAILING;
    return 0;
}

/* ---- envelope ------------------------------------------------------------ */

/*
 * XLogData:
 *   Byte1('w')  (read by the caller)
 *   Int64       start LSN of the data
 *   Int64       current end of WAL on the server
 *   Int64       server clock at transmission, µs since 2000-01-01
 *   Byte n      the pgoutput message (rest of the CopyData)
 */
int pgout_parse_xlogdata(struct rd *r, struct pgout_xlogdata *out)
{
    out->start_lsn = g64(r);
    out->wal_end = g64(r);
    out->send_time = (int64_t)g64(r);
    if (r->err) return PGOUT_E_TRUNC;
    out->len = r->len - r->pos;
    out->data = rd_bytes(r, out->len);
    return 0;
}

/*
 * Primary keepalive:
 *   Byte1('k')  (read by the caller)
 *   Int64       current end of WAL on the server
 *   Int64       server clock at transmission, µs since 2000-01-01
 *   Byte1       1 = the client should reply immediately
 */
int pgout_parse_keepalive(struct rd *r, struct pgout_keepalive *out)
{
    out->wal_end = g64(r);
    out->send_time = (int64_t)g64(r);
    out->reply_requested = g8(r);
    return done(r);
}

int pgout_parse_copy(struct rd *r, struct pgout_copy *out)
{
    memset(out, 0, sizeof *out);
    out->tag = g8(r);
    if (r->err) return PGOUT_E_TRUNC;
    switch (out->tag) {
    case 'w': return pgout_parse_xlogdata(r, &out->w);
    case 'k': return pgout_parse_keepalive(r, &out->k);
    default:
        r->pos--;
        return PGOUT_E_TAG;
    }
}

static void put64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--) { p[i] = (uint8_t)v; v >>= 8; }
}

/*
 * Standby status update:
 *   Byte1('r')  Int64 written  Int64 flushed  Int64 applied
 *   Int64 client clock (µs since 2000-01-01)  Byte1 reply requested
 */
void pgout_build_status(uint8_t out[PGOUT_STATUS_LEN], uint64_t write_lsn, uint64_t flush_lsn,
                        uint64_t apply_lsn, int64_t now_pg_us, int reply_requested)
{
    out[0] = 'r';
    put64(out + 1, write_lsn);
    put64(out + 9, flush_lsn);
    put64(out + 17, apply_lsn);
    put64(out + 25, (uint64_t)now_pg_us);
    out[33] = reply_requested ? 1 : 0;
}

/* ---- pgoutput messages ------------------------------------------------------ */

/*
 * Begin:
 *   Byte1('B')  Int64 final (commit) LSN  Int64 commit time  Int32 xid
 */
int pgout_parse_begin(struct rd *r, struct pgout_begin *out)
{
    out->final_lsn = g64(r);
    out->commit_time = (int64_t)g64(r);
    out->xid = g32(r);
    return done(r);
}

/*
 * Commit:
 *   Byte1('C')  Int8 flags (0)  Int64 commit LSN  Int64 end LSN  Int64 commit time
 */
int pgout_parse_commit(struct rd *r, struct pgout_commit *out)
{
    out->flags = g8(r);
    out->commit_lsn = g64(r);
    out->end_lsn = g64(r);
    out->commit_time = (int64_t)g64(r);
    return done(r);
}

/*
 * Origin:
 *   Byte1('O')  Int64 commit LSN on the origin  String origin name
 */
int pgout_parse_origin(struct rd *r, struct pgout_origin *out)
{
    out->lsn = g64(r);
    out->name = gstr(r);
    return done(r);
}

/*
 * Relation:
 *   Byte1('R')  Int32 relation OID  String namespace  String name
 *   Int8 replica identity ('d','n','f','i')  Int16 ncols
 *   ncols × { Int8 flags (1 = key)  String name  Int32 type OID  Int32 typmod }
 */
int pgout_parse_relation(struct rd *r, struct pgout_relation *out)
{
    out->oid = g32(r);
    out->nspname = gstr(r);
    out->relname = gstr(r);
    out->replident = g8(r);
    size_t at = r->pos;
    uint16_t n = g16(r);
    if (r->err) return PGOUT_E_TRUNC;
    if (n & 0x8000) { r->pos = at; return PGOUT_E_NEGLEN; }
    out->ncols = n;
    size_t start = r->pos;
    for (uint16_t i = 0; i < n; i++) {
        (void)g8(r);
        (void)gstr(r);
        (void)g32(r);
        (void)g32(r);
        if (r->err) return PGOUT_E_TRUNC;
    }
    rd_init(&out->cols, r->p + start, r->pos - start);
    return done(r);
}

int pgout_next_column(struct rd *cols, struct pgout_column *out)
{
    out->flags = g8(cols);
    out->name = gstr(cols);
    out->type_oid = g32(cols);
    out->typmod = (int32_t)g32(cols);
    return cols->err ? -1 : 0;
}

/*
 * Type:
 *   Byte1('Y')  Int32 type OID  String namespace  String type name
 */
int pgout_parse_type(struct rd *r, struct pgout_type *out)
{
    out->oid = g32(r);
    out->nspname = gstr(r);
    out->typname = gstr(r);
    return done(r);
}

/*
 * TupleData:
 *   Int16 ncols
 *   ncols × { Byte1 kind: 'n' null | 'u' unchanged TOAST (no value)
 *                       | 't' text / 'b' binary: Int32 len, Byte len }
 */
int pgout_parse_tuple(struct rd *r, struct pgout_tuple *out)
{
    size_t at = r->pos;
    uint16_t n = g16(r);
    if (r->err) return PGOUT_E_TRUNC;
    if (n & 0x8000) { r->pos = at; return PGOUT_E_NEGLEN; }
    size_t start = r->pos;
    for (uint16_t i = 0; i < n; i++) {
        at = r->pos;
        uint8_t kind = g8(r);
        if (r->err) return PGOUT_E_TRUNC;
        switch (kind) {
        case 'n':
        case 'u':
            break;
        case 't':
        case 'b': {
            size_t lat = r->pos;
            uint32_t len = g32(r);
            if (r->err) return PGOUT_E_TRUNC;
            if (len & 0x80000000u) { r->pos = lat; return PGOUT_E_NEGLEN; }
            if (!want(r, len)) return PGOUT_E_TRUNC;
            rd_skip(r, len);
            break;
        }
        default:
            r->pos = at;
            return PGOUT_E_KIND;
        }
    }
    out->ncols = n;
    out->data = r->p + start;
    out->len = r->pos - start;
    return 0;
}

void pgout_tuple_first(struct rd *cur, const struct pgout_tuple *t)
{
    rd_init(cur, t->data, t->len);
}

int pgout_tuple_next(struct rd *cur, struct pgout_datum *out)
{
    out->kind = g8(cur);
    out->len = 0;
    out->p = NULL;
    if (out->kind == 't' || out->kind == 'b') {
        out->len = g32(cur);
        if (out->len & 0x80000000u) { cur->err = 1; return -1; }
        if (want(cur, out->len)) out->p = rd_bytes(cur, out->len);
    } else if (out->kind != 'n' && out->kind != 'u' && !cur->err) {
        cur->err = 1;
    }
    return cur->err ? -1 : 0;
}

/*
 * Insert:
 *   Byte1('I')  Int32 relation OID  Byte1('N')  TupleData new row
 */
int pgout_parse_insert(struct rd *r, struct pgout_insert *out)
{
    out->relid = g32(r);
    size_t at = r->pos;
    uint8_t n = g8(r);
    if (r->err) return PGOUT_E_TRUNC;
    if (n != 'N') { r->pos = at; return PGOUT_E_TUPLE; }
    int rc = pgout_parse_tuple(r, &out->newtup);
    return rc ? rc : done(r);
}

/*
 * Update:
 *   Byte1('U')  Int32 relation OID
 *   [ Byte1('K') TupleData old key | Byte1('O') TupleData old row ]   optional
 *   Byte1('N')  TupleData new row
 */
int pgout_parse_update(struct rd *r, struct pgout_update *out)
{
    memset(&out->oldtup, 0, sizeof out->oldtup);
    out->relid = g32(r);
    size_t at = r->pos;
    uint8_t k = g8(r);
    if (r->err) return PGOUT_E_TRUNC;
    out->old_kind = 0;
    if (k == 'K' || k == 'O') {
        out->old_kind = k;
        int rc = pgout_parse_tuple(r, &out->oldtup);
        if (rc) return rc;
        at = r->pos;
        k = g8(r);
        if (r->err) return PGOUT_E_TRUNC;
    }
    if (k != 'N') { r->pos = at; return PGOUT_E_TUPLE; }
    int rc = pgout_parse_tuple(r, &out->newtup);
    return rc ? rc : done(r);
}

/*
 * Delete:
 *   Byte1('D')  Int32 relation OID
 *   Byte1('K') TupleData old key | Byte1('O') TupleData old row
 */
int pgout_parse_delete(struct rd *r, struct pgout_delete *out)
{
    out->relid = g32(r);
    size_t at = r->pos;
    uint8_t k = g8(r);
    if (r->err) return PGOUT_E_TRUNC;
    if (k != 'K' && k != 'O') { r->pos = at; return PGOUT_E_TUPLE; }
    out->old_kind = k;
    int rc = pgout_parse_tuple(r, &out->oldtup);
    return rc ? rc : done(r);
}

/*
 * Truncate:
 *   Byte1('T')  Int32 nrels  Int8 options (1 CASCADE, 2 RESTART IDENTITY)
 *   nrels × Int32 relation OID
 */
int pgout_parse_truncate(struct rd *r, struct pgout_truncate *out)
{
    size_t at = r->pos;
    uint32_t n = g32(r);
    if (r->err) return PGOUT_E_TRUNC;
    if (n & 0x80000000u) { r->pos = at; return PGOUT_E_NEGLEN; }
    out->nrels = n;
    out->options = g8(r);
    if (!want(r, (size_t)n * 4)) return PGOUT_E_TRUNC;
    rd_init(&out->relids, r->p + r->pos, (size_t)n * 4);
    rd_skip(r, (size_t)n * 4);
    return done(r);
}

/*
 * Message (pg_logical_emit_message):
 *   Byte1('M')  Int8 flags (1 = transactional)  Int64 LSN  String prefix
 *   Int32 length  Byte length content
 */
int pgout_parse_message(struct rd *r, struct pgout_message *out)
{
    out->flags = g8(r);
    out->lsn = g64(r);
    out->prefix = gstr(r);
    size_t at = r->pos;
    out->len = g32(r);
    if (r->err) return PGOUT_E_TRUNC;
    if (out->len & 0x80000000u) { r->pos = at; return PGOUT_E_NEGLEN; }
    out->content = want(r, out->len) ? rd_bytes(r, out->len) : NULL;
    return done(r);
}

static int is_stream_tag(uint8_t t)
{
    return t == 'S' || t == 'E' || t == 'c' || t == 'A' || t == 'b' || t == 'P' ||
           t == 'K' || t == 'r' || t == 'p';
}

int pgout_parse(struct rd *r, struct pgout_msg *out)
{
    out->tag = g8(r);
    if (r->err) return PGOUT_E_TRUNC;
    switch (out->tag) {
    case 'B': return pgout_parse_begin(r, &out->u.begin);
    case 'C': return pgout_parse_commit(r, &out->u.commit);
    case 'O': return pgout_parse_origin(r, &out->u.origin);
    case 'R': return pgout_parse_relation(r, &out->u.relation);
    case 'Y': return pgout_parse_type(r, &out->u.type);
    case 'I': return pgout_parse_insert(r, &out->u.insert);
    case 'U': return pgout_parse_update(r, &out->u.update);
    case 'D': return pgout_parse_delete(r, &out->u.del);
    case 'T': return pgout_parse_truncate(r, &out->u.truncate);
    case 'M': return pgout_parse_message(r, &out->u.message);
    default:
        r->pos--;
        return is_stream_tag(out->tag) ? PGOUT_E_STREAM : PGOUT_E_TAG;
    }
}

/* ---- protocol version 2: streamed transactions ------------------------------ */

int pgout_is_stream_control(uint8_t tag)
{
    return tag == 'S' || tag == 'E' || tag == 'c' || tag == 'A';
}

int pgout_parse_stream(struct rd *r, struct pgout_stream *out)
{
    memset(out, 0, sizeof *out);
    out->tag = g8(r);
    if (r->err) return PGOUT_E_TRUNC;
    switch (out->tag) {
    case 'S':       /* Int32 xid, Int8 first segment */
        out->xid = g32(r);
        out->first = g8(r);
        return done(r);
    case 'E':
        return done(r);
    case 'c':       /* Int32 xid, Int8 flags, Int64 commit LSN, Int64 end LSN, Int64 time */
        out->xid = g32(r);
        out->flags = g8(r);
        out->commit_lsn = g64(r);
        out->end_lsn = g64(r);
        out->commit_time = (int64_t)g64(r);
        return done(r);
    case 'A':       /* Int32 xid, Int32 subxid (protocol 2 and 3) */
        out->xid = g32(r);
        out->subxid = g32(r);
        return done(r);
    default:
        r->pos--;
        return PGOUT_E_TAG;
    }
}

void pgout_build_begin(uint8_t out[PGOUT_BEGIN_LEN], uint64_t final_lsn, int64_t commit_time, uint32_t xid)
{
    out[0] = 'B';
    put64(out + 1, final_lsn);
    put64(out + 9, (uint64_t)commit_time);
    for (int i = 3; i >= 0; i--) { out[17 + i] = (uint8_t)xid; xid >>= 8; }
}

void pgout_build_commit(uint8_t out[PGOUT_COMMIT_LEN], uint64_t commit_lsn, uint64_t end_lsn, int64_t commit_time)
{
    out[0] = 'C';
    out[1] = 0;
    put64(out + 2, commit_lsn);
    put64(out + 10, end_lsn);
    put64(out + 18, (uint64_t)commit_time);
}

int pgout_stream_xid(const uint8_t *data, size_t len, uint32_t *xid)
{
    if (len < 5) return PGOUT_E_TRUNC;
    *xid = (uint32_t)data[1] << 24 | (uint32_t)data[2] << 16 | (uint32_t)data[3] << 8 | data[4];
    return 0;
}

/* ---- names and errors ------------------------------------------------------ */

const char *pgout_tag_name(uint8_t tag)
{
    switch (tag) {
    case 'B': return "Begin";
    case 'C': return "Commit";
    case 'O': return "Origin";
    case 'R': return "Relation";
    case 'Y': return "Type";
    case 'I': return "Insert";
    case 'U': return "Update";
    case 'D': return "Delete";
    case 'T': return "Truncate";
    case 'M': return "Message";
    case 'S': return "Stream Start";
    case 'E': return "Stream Stop";
    case 'c': return "Stream Commit";
    case 'A': return "Stream Abort";
    case 'b': return "Begin Prepare";
    case 'P': return "Prepare";
    case 'K': return "Commit Prepared";
    case 'r': return "Rollback Prepared";
    case 'p': return "Stream Prepare";
    case 'w': return "XLogData";
    case 'k': return "Keepalive";
    default:  return "message";
    }
}

const char *pgout_strerror(int code)
{
    switch (code) {
    case PGOUT_OK:         return "ok";
    case PGOUT_E_TRUNC:    return "truncated";
    case PGOUT_E_TAG:      return "unknown message tag";
    case PGOUT_E_KIND:     return "unknown tuple data kind";
    case PGOUT_E_NEGLEN:   return "negative length or count";
    case PGOUT_E_TRAILING: return "bytes left after the message";
    case PGOUT_E_STREAM:   return "streamed or two-phase transaction message, which protocol version 1 never sends";
    case PGOUT_E_TUPLE:    return "expected tuple marker 'K', 'O' or 'N'";
    case PGOUT_E_BINARY:   return "binary tuple data, which zetl does not request";
    case PGOUT_E_NCOLS:    return "tuple column count differs from its relation";
    default:               return "malformed";
    }
}

char *pgout_lsn_str(char *buf, size_t len, uint64_t lsn)
{
    snprintf(buf, len, "%X/%X", (unsigned)(lsn >> 32), (unsigned)lsn);
    return buf;
}

void pgout_format_error(char *buf, size_t len, const struct rd *r, int code,
                        uint8_t tag, uint64_t lsn)
{
    char at[24];
    pgout_lsn_str(at, sizeof at, lsn);
    const char *what = pgout_tag_name(tag);
    size_t pos = r->pos <= r->len ? r->pos : r->len;
    size_t have = r->len - pos;
    int bad = pos < r->len ? r->p[pos] : -1;

    switch (code) {
    case PGOUT_E_TRUNC:
        if (r->err == PGOUT_NEED_CSTR)
            snprintf(buf, len, "pgoutput: message at %s truncated (%s: need a NUL-terminated string, have %zu bytes)",
                     at, what, have);
        else
            snprintf(buf, len, "pgoutput: message at %s truncated (%s: need %d bytes, have %zu)",
                     at, what, r->err > 0 ? r->err : 1, have);
        break;
    case PGOUT_E_TAG:
        snprintf(buf, len, "pgoutput: message at %s malformed (unknown message tag 0x%02X at byte %zu)",
                 at, bad < 0 ? 0 : bad, pos);
        break;
    case PGOUT_E_KIND:
        snprintf(buf, len, "pgoutput: message at %s malformed (%s: unknown tuple data kind 0x%02X at byte %zu; expected n, u, t or b)",
                 at, what, bad < 0 ? 0 : bad, pos);
        break;
    case PGOUT_E_TUPLE:
        snprintf(buf, len, "pgoutput: message at %s malformed (%s: expected tuple marker 'K', 'O' or 'N', saw 0x%02X at byte %zu)",
                 at, what, bad < 0 ? 0 : bad, pos);
        break;
    case PGOUT_E_TRAILING:
        snprintf(buf, len, "pgoutput: message at %s malformed (%s: %zu bytes left after the message)",
                 at, what, have);
        break;
    case PGOUT_E_STREAM:
        snprintf(buf, len, "pgoutput: message at %s is a %s message (streamed or two-phase transactions), which protocol version 1 never sends; start replication with proto_version '1' and without streaming or two_phase",
                 at, what);
        break;
    default:
        snprintf(buf, len, "pgoutput: message at %s malformed (%s: %s at byte %zu)",
                 at, what, pgout_strerror(code), pos);
    }
}

/* change.c — small helpers for the change model (see change.h). */
#include "runtime/pipe/change.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *ztype_name(enum ztype t)
{
    switch (t) {
    case ZT_BOOL: return "bool";
    case ZT_INT16: return "int16";
    case ZT_INT32: return "int32";
    case ZT_INT64: return "int64";
    case ZT_UINT64: return "uint64";
    case ZT_FLOAT32: return "float32";
    case ZT_FLOAT64: return "float64";
    case ZT_DECIMAL: return "decimal";
    case ZT_CHAR: return "char";
    case ZT_VARCHAR: return "varchar";
    case ZT_TEXT: return "text";
    case ZT_BYTES: return "bytes";
    case ZT_DATE: return "date";
    case ZT_TIME: return "time";
    case ZT_TIMETZ: return "timetz";
    case ZT_TIMESTAMP: return "timestamp";
    case ZT_TIMESTAMPTZ: return "timestamptz";
    case ZT_INTERVAL: return "interval";
    case ZT_UUID: return "uuid";
    case ZT_JSON: return "json";
    case ZT_BIT: return "bit";
    case ZT_VARBIT: return "varbit";
    case ZT_ENUM: return "enum";
    case ZT_SET: return "set";
    case ZT_GEOMETRY: return "geometry";
    case ZT_INET: return "inet";
    case ZT_CIDR: return "cidr";
    case ZT_MACADDR: return "macaddr";
    case ZT_YEAR: return "year";
    case ZT_OTHER: return "other";
    }
    return "?";
}

int zpos_format(const struct zpos *p, char *buf, size_t len)
{
    int n;
    switch (p->kind) {
    case ZPOS_BINLOG:
        if (p->gtid[0])
            n = snprintf(buf, len, "%s:%" PRIu64 " gtid=%s", p->file, p->offset, p->gtid);
        else
            n = snprintf(buf, len, "%s:%" PRIu64, p->file, p->offset);
        break;
    case ZPOS_LSN:
        n = snprintf(buf, len, "%X/%X", (unsigned)(p->offset >> 32), (unsigned)p->offset);
        break;
    default:
        n = snprintf(buf, len, "none");
    }
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

int zpos_parse(struct zpos *out, const char *s, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    if (!s || !*s || strcmp(s, "none") == 0) return 0;
    unsigned hi, lo;
    char tail;
    if (sscanf(s, "%X/%X%c", &hi, &lo, &tail) == 2 && strchr(s, ':') == NULL) {
        out->kind = ZPOS_LSN;
        out->offset = ((uint64_t)hi << 32) | lo;
        return 0;
    }
    const char *colon = strrchr(s, ':');
    const char *gt = strstr(s, " gtid=");
    if (gt && colon > gt) {                 /* the colon belongs to the GTID set */
        colon = NULL;
        for (const char *c = s; c < gt; c++) if (*c == ':') colon = c;
    }
    if (!colon || colon == s || (size_t)(colon - s) >= ZPOS_FILE_MAX) goto bad;
    memcpy(out->file, s, (size_t)(colon - s));
    char *end;
    errno = 0;
    unsigned long long off = strtoull(colon + 1, &end, 10);
    if (errno || end == colon + 1 || (*end && *end != ' ')) goto bad;
    out->offset = off;
    if (gt) {
        if (strlen(gt + 6) >= ZPOS_GTID_MAX) goto bad;
        strcpy(out->gtid, gt + 6);
    }
    out->kind = ZPOS_BINLOG;
    return 0;
bad:
    memset(out, 0, sizeof *out);
    snprintf(err, errlen, "position \"%.200s\" is malformed (expected FILE:OFFSET, FILE:OFFSET gtid=SET, or an LSN like 0/16B3748)", s);
    return -1;
}

int zpos_before(const struct zpos *a, const struct zpos *b)
{
    if (a->kind != b->kind || a->kind == ZPOS_NONE) return 0;
    if (a->kind == ZPOS_LSN) return a->offset < b->offset;
    /* Binlog names share a base and differ in a zero-padded sequence number,
     * so a longer name is a later file and equal lengths compare as strings. */
    size_t la = strlen(a->file), lb = strlen(b->file);
    int c = la != lb ? (la < lb ? -1 : 1) : strcmp(a->file, b->file);
    return c < 0 || (c == 0 && a->offset < b->offset);
}

int zpos_txn_in_copy(const struct zpos *start, uint64_t commit_lsn, const struct zpos *copy)
{
    switch (copy->kind) {
    case ZPOS_BINLOG: return start->kind == ZPOS_BINLOG && zpos_before(start, copy);
    case ZPOS_LSN:    return commit_lsn != 0 && commit_lsn < copy->offset;
    default:          return 0;
    }
}

void ztable_free(struct ztable *t)
{
    if (!t) return;
    for (int i = 0; i < t->ncols; i++) {
        free(t->cols[i].name);
        free(t->cols[i].source_type);
        free(t->cols[i].gen_expr);
    }
    free(t->cols);
    for (int i = 0; i < t->ngen; i++) {
        free(t->gen[i].name);
        free(t->gen[i].source_type);
        free(t->gen[i].gen_expr);
    }
    free(t->gen);
    free(t->schema);
    free(t->name);
    free(t);
}

static char *dupnull(const char *s) { return s ? strdup(s) : NULL; }

struct ztable *ztable_dup(const struct ztable *t)
{
    struct ztable *d = calloc(1, sizeof *d);
    if (!d) return NULL;
    *d = *t;
    d->schema = dupnull(t->schema);
    d->name = dupnull(t->name);
    d->cols = t->ncols ? calloc((size_t)t->ncols, sizeof *d->cols) : NULL;
    d->gen = t->ngen ? calloc((size_t)t->ngen, sizeof *d->gen) : NULL;
    if ((t->ncols && !d->cols) || (t->ngen && !d->gen) || (t->schema && !d->schema) ||
        (t->name && !d->name)) {
        if (!d->cols) d->ncols = 0;
        if (!d->gen) d->ngen = 0;
        ztable_free(d);
        return NULL;
    }
    for (int i = 0; i < t->ncols; i++) {
        d->cols[i] = t->cols[i];
        d->cols[i].name = dupnull(t->cols[i].name);
        d->cols[i].source_type = dupnull(t->cols[i].source_type);
        d->cols[i].gen_expr = dupnull(t->cols[i].gen_expr);
    }
    for (int i = 0; i < t->ngen; i++) {
        d->gen[i] = t->gen[i];
        d->gen[i].name = dupnull(t->gen[i].name);
        d->gen[i].source_type = dupnull(t->gen[i].source_type);
        d->gen[i].gen_expr = dupnull(t->gen[i].gen_expr);
    }
    return d;
}

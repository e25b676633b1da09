/* tablemap.c — TABLE_MAP column metadata and optional metadata → struct
 * rows_table (declared in rows.h; the row decoding itself is rows.c). */
#include "runtime/mysql/rows.h"

#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- charsets ------------------------------------------------------------------
 *
 * Collation ids → character set, from MariaDB 10.11's information_schema
 * (ids 1..1270) plus MySQL 8's additions (utf8mb4 255..323, gb18030 248..250,
 * utf8mb3 76). Only the class matters on the hot path: utf8 passes through,
 * latin1 is converted by table, the rest go through iconv.
 */
struct csinfo { const char *name; const char *iconv; uint8_t mbmax; uint16_t ids[40]; };

static const struct csinfo charsets[] = {
    { "utf8mb4", NULL, 4, { 45,46,224,225,226,227,228,229,230,231,232,233,234,235,236,237,
                            238,239,240,241,242,243,244,245,246,247,608,609,610,1069,1070,1248,1270 } },
    { "utf8mb3", NULL, 3, { 33,83,76,192,193,194,195,196,197,198,199,200,201,202,203,204,205,206,
                            207,208,209,210,211,212,213,214,215,223,576,577,578,1057,1107,1216,1238 } },
    { "ascii", NULL, 1, { 11,65,1035,1089 } },
    { "latin1", NULL, 1, { 5,8,15,31,47,48,49,94,1032,1071 } },
    { "binary", NULL, 1, { 63 } },
    { "armscii8", "ARMSCII-8", 1, { 32,64,1056,1088 } },
    { "big5", "BIG5", 2, { 1,84,1025,1108 } },
    { "cp1250", "CP1250", 1, { 26,34,44,66,99,1050,1090 } },
    { "cp1251", "CP1251", 1, { 14,23,50,51,52,1074,1075 } },
    { "cp1256", "CP1256", 1, { 57,67,1081,1091 } },
    { "cp1257", "CP1257", 1, { 29,58,59,1082,1083 } },
    { "cp850", "CP850", 1, { 4,80,1028,1104 } },
    { "cp852", "CP852", 1, { 40,81,1064,1105 } },
    { "cp866", "CP866", 1, { 36,68,1060,1092 } },
    { "cp932", "CP932", 2, { 95,96,1119,1120 } },
    { "eucjpms", "EUC-JP-MS", 3, { 97,98,1121,1122 } },
    { "euckr", "EUC-KR", 2, { 19,85,1043,1109 } },
    { "gb2312", "GB2312", 2, { 24,86,1048,1110 } },
    { "gbk", "GBK", 2, { 28,87,1052,1111 } },
    { "gb18030", "GB18030", 4, { 248,249,250 } },
    { "geostd8", "GEORGIAN-PS", 1, { 92,93,1116,1117 } },
    { "greek", "ISO-8859-7", 1, { 25,70,1049,1094 } },
    { "hebrew", "ISO-8859-8", 1, { 16,71,1040,1095 } },
    { "koi8r", "KOI8-R", 1, { 7,74,1031,1098 } },
    { "koi8u", "KOI8-U", 1, { 22,75,1046,1099 } },
    { "latin2", "ISO-8859-2", 1, { 2,9,21,27,77,1033,1101 } },
    { "latin5", "ISO-8859-9", 1, { 30,78,1054,1102 } },
    { "latin7", "ISO-8859-13", 1, { 20,41,42,79,1065,1103 } },
    { "macce", "MAC-CENTRALEUROPE", 1, { 38,43,1062,1067 } },
    { "macroman", "MACINTOSH", 1, { 39,53,1063,1077 } },
    { "sjis", "SHIFT_JIS", 2, { 13,88,1037,1112 } },
    { "tis620", "TIS-620", 1, { 18,89,1042,1113 } },
    { "ujis", "EUC-JP", 3, { 12,91,1036,1115 } },
    { "ucs2", "UCS-2BE", 2, { 35,90,159,640,641,642,1059,1114,1152,1174 } },
    { "utf16", "UTF-16BE", 4, { 54,55,672,673,674,1078,1079,1125,1147 } },
    { "utf16le", "UTF-16LE", 4, { 56,62,1080,1086 } },
    { "utf32", "UTF-32BE", 4, { 60,61,736,737,738,1084,1085,1184,1206 } },
    /* dec8, hp8, swe7, keybcs2: no iconv equivalent */
    { "dec8", NULL, 1, { 3,69,1027,1093 } },
    { "hp8", NULL, 1, { 6,72,1030,1096 } },
    { "swe7", NULL, 1, { 10,82,1034,1106 } },
    { "keybcs2", NULL, 1, { 37,73,1061,1097 } },
};

enum rows_cs rows_charset_class(unsigned id, const char **iconv_name, int *mbmaxlen)
{
    const struct csinfo *hit = NULL;
    if (iconv_name) *iconv_name = NULL;
    if (mbmaxlen) *mbmaxlen = 1;
    if (id == 0) return CS_UNKNOWN;
    if (id >= 255 && id <= 323) hit = &charsets[0];                 /* MySQL 8 utf8mb4_* */
    else if (id >= 101 && id <= 124) hit = &charsets[34];           /* utf16_*_ci */
    else if (id >= 128 && id <= 151) hit = &charsets[33];           /* ucs2_*_ci */
    else if (id >= 160 && id <= 183) hit = &charsets[36];           /* utf32_*_ci */
    for (size_t i = 0; !hit && i < sizeof charsets / sizeof charsets[0]; i++)
        for (size_t k = 0; k < 40 && charsets[i].ids[k]; k++)
            if (charsets[i].ids[k] == id) { hit = &charsets[i]; break; }
    if (!hit) return CS_UNKNOWN;
    if (mbmaxlen) *mbmaxlen = hit->mbmax;
    if (hit == &charsets[0] || hit == &charsets[1] || hit == &charsets[2]) return CS_UTF8;
    if (hit == &charsets[3]) return CS_LATIN1;
    if (hit == &charsets[4]) return CS_BINARY;
    if (!hit->iconv) return CS_UNSUPPORTED;
    if (iconv_name) *iconv_name = hit->iconv;
    return CS_ICONV;
}

/* ---- table build -------------------------------------------------------------------- */

static int is_numeric(const struct rows_col *c)
{
    switch (c->type) {
    case MYT_TINY: case MYT_SHORT: case MYT_INT24: case MYT_LONG: case MYT_LONGLONG:
    case MYT_FLOAT: case MYT_DOUBLE: case MYT_NEWDECIMAL: case MYT_DECIMAL:
        return 1;
    }
    return 0;
}

static int is_enum_set(const struct rows_col *c) { return c->real_type == MYT_ENUM || c->real_type == MYT_SET; }

/* Columns the charset TLVs cover. MariaDB counts GEOMETRY (binary charset)
 * among them, MySQL does not (found against a real MariaDB 10.11). */
static int is_character(const struct rows_table *t, const struct rows_col *c)
{
    if (c->type == MYT_GEOMETRY) return t->mariadb;
    switch (c->type) {
    case MYT_STRING: return !is_enum_set(c);
    case MYT_VARCHAR: case MYT_VAR_STRING:
    case MYT_BLOB: case MYT_TINY_BLOB: case MYT_MEDIUM_BLOB: case MYT_LONG_BLOB:
        return 1;
    }
    return 0;
}

static void set_collation(struct rows_col *c, unsigned id)
{
    const char *ic = NULL;
    int mb = 1;
    c->collation = (uint16_t)(id > 65535 ? 0 : id);
    c->cs = (uint8_t)rows_charset_class(id, &ic, &mb);
    c->mbmaxlen = (uint8_t)mb;
    if (c->iconv != (void *)-1 && c->iconv) { iconv_close((iconv_t)c->iconv); }
    c->iconv = (void *)-1;
    if (c->cs == CS_ICONV) {
        iconv_t cd = iconv_open("UTF-8", ic);
        if (cd == (iconv_t)-1) c->cs = CS_UNSUPPORTED;
        else c->iconv = (void *)cd;
    }
}

/* Parse the per-column packed metadata. */
static int parse_colmeta(struct rows_table *t, const struct binlog_table_map *tm, char *err, size_t errlen)
{
    struct rd r;
    rd_init(&r, tm->meta, tm->meta_len);
    for (uint32_t i = 0; i < t->ncols; i++) {
        struct rows_col *c = &t->cols[i];
        c->type = tm->types[i];
        c->real_type = c->type;
        c->iconv = (void *)-1;
        switch (c->type) {
        case MYT_FLOAT: case MYT_DOUBLE:
        case MYT_TINY_BLOB: case MYT_MEDIUM_BLOB: case MYT_LONG_BLOB: case MYT_BLOB:
        case MYT_GEOMETRY: case MYT_JSON:
        case MYT_TIMESTAMP2: case MYT_DATETIME2: case MYT_TIME2:
            c->meta = rd_u8(&r);
            break;
        case MYT_VARCHAR: case MYT_VAR_STRING:
            c->meta = rd_u16le(&r);
            break;
        case MYT_BIT: {
            uint8_t bits = rd_u8(&r), bytes = rd_u8(&r);
            c->bits = (uint16_t)(bytes * 8 + bits);
            c->meta = (uint32_t)bytes + (bits ? 1 : 0);
            break;
        }
        case MYT_NEWDECIMAL:
            c->prec = rd_u8(&r);
            c->scale = rd_u8(&r);
            break;
        case MYT_STRING: case MYT_ENUM: case MYT_SET: {
            uint8_t m0 = rd_u8(&r), m1 = rd_u8(&r);
            if ((m0 & 0x30) != 0x30) {      /* CHAR longer than 255: length bits folded into m0 */
                c->meta = m1 | ((((unsigned)m0 & 0x30) ^ 0x30) << 4);
                c->real_type = (uint8_t)(m0 | 0x30);
            } else {
                c->meta = m1;
                c->real_type = m0;
            }
            if (c->type != MYT_STRING) c->real_type = c->type;
            break;
        }
        case MYT_TINY: case MYT_SHORT: case MYT_INT24: case MYT_LONG: case MYT_LONGLONG:
        case MYT_DATE: case MYT_NEWDATE: case MYT_TIME: case MYT_DATETIME: case MYT_TIMESTAMP:
        case MYT_YEAR: case MYT_NULL:
            break;
        case 140: case 141:
            snprintf(err, errlen, "column %u is a MariaDB COMPRESSED column (type %u), which zetl does not "
                     "decode; remove the attribute (ALTER TABLE … MODIFY the column without COMPRESSED)",
                     i + 1, c->type);
            return -2;
        default:
            snprintf(err, errlen, "column %u has MySQL type %u, which zetl does not decode",
                     i + 1, c->type);
            return -2;
        }
        if (r.err) {
            snprintf(err, errlen, "TABLE_MAP: column metadata truncated at column %u", i + 1);
            return -1;
        }
        if (c->real_type == MYT_ENUM && c->meta != 1 && c->meta != 2) goto badmeta;
        if (c->real_type == MYT_SET && (c->meta < 1 || c->meta > 8)) goto badmeta;
        if ((c->type == MYT_BLOB || c->type == MYT_TINY_BLOB || c->type == MYT_MEDIUM_BLOB ||
             c->type == MYT_LONG_BLOB || c->type == MYT_GEOMETRY || c->type == MYT_JSON) &&
            (c->meta < 1 || c->meta > 4)) goto badmeta;
        if ((c->type == MYT_TIMESTAMP2 || c->type == MYT_DATETIME2 || c->type == MYT_TIME2) &&
            c->meta > 6) goto badmeta;
        if ((c->type == MYT_FLOAT && c->meta != 4 && c->meta != 0) ||
            (c->type == MYT_DOUBLE && c->meta != 8 && c->meta != 0)) goto badmeta;
        if (c->type == MYT_NEWDECIMAL && rows_decimal_size(c->prec, c->scale) == 0) goto badmeta;
        if (c->type == MYT_BIT && (c->bits < 1 || c->bits > 64)) goto badmeta;
        continue;
badmeta:
        snprintf(err, errlen, "TABLE_MAP: column %u (type %u) has invalid metadata", i + 1, c->type);
        return -1;
    }
    if (r.pos != r.len) {
        snprintf(err, errlen, "TABLE_MAP: metadata is %zu bytes, columns use %zu", r.len, r.pos);
        return -1;
    }
    return 0;
}

static int parse_labels(struct rows_table *t, struct rd *v, uint8_t want_real, char *err, size_t errlen)
{
    for (uint32_t i = 0; i < t->ncols && rd_left(v) > 0; i++) {
        struct rows_col *c = &t->cols[i];
        if (c->real_type != want_real) continue;
        uint64_t n = rd_lenenc(v);
        if (v->err || n > rd_left(v) || n > 65535) goto bad;
        free(c->label); free(c->label_len);
        c->label = calloc(n ? n : 1, sizeof *c->label);
        c->label_len = calloc(n ? n : 1, sizeof *c->label_len);
        if (!c->label || !c->label_len) { snprintf(err, errlen, "out of memory"); return -1; }
        c->nlabels = (uint32_t)n;
        for (uint64_t k = 0; k < n; k++) {
            uint64_t l = rd_lenenc(v);
            if (v->err || l > rd_left(v)) goto bad;
            c->label[k] = (const char *)rd_bytes(v, (size_t)l);
            c->label_len[k] = (uint32_t)l;
        }
    }
    return 0;
bad:
    snprintf(err, errlen, "TABLE_MAP: %s labels malformed", want_real == MYT_ENUM ? "ENUM" : "SET");
    return -1;
}

/* Charset TLVs: DEFAULT (default + pairs of (ordinal, collation)) or per column. */
static int parse_charsets(struct rows_table *t, struct rd *v, int dflt, int enumset, char *err, size_t errlen)
{
    uint32_t ord = 0;
    if (dflt) {
        uint64_t d = rd_lenenc(v);
        if (v->err) goto bad;
        for (uint32_t i = 0; i < t->ncols; i++) {
            struct rows_col *c = &t->cols[i];
            if (enumset ? is_enum_set(c) : is_character(t, c)) set_collation(c, (unsigned)d);
        }
        while (rd_left(v) > 0) {
            uint64_t idx = rd_lenenc(v), coll = rd_lenenc(v);
            if (v->err) goto bad;
            ord = 0;
            for (uint32_t i = 0; i < t->ncols; i++) {
                struct rows_col *c = &t->cols[i];
                if (!(enumset ? is_enum_set(c) : is_character(t, c))) continue;
                if (ord++ == idx) { set_collation(c, (unsigned)coll); break; }
            }
        }
    } else {
        for (uint32_t i = 0; i < t->ncols && rd_left(v) > 0; i++) {
            struct rows_col *c = &t->cols[i];
            if (!(enumset ? is_enum_set(c) : is_character(t, c))) continue;
            uint64_t coll = rd_lenenc(v);
            if (v->err) goto bad;
            set_collation(c, (unsigned)coll);
        }
    }
    return 0;
bad:
    snprintf(err, errlen, "TABLE_MAP: charset metadata malformed");
    return -1;
}

static int parse_optional(struct rows_table *t, const struct binlog_table_map *tm, char *err, size_t errlen)
{
    struct rd r;
    rd_init(&r, tm->opt, tm->opt_len);
    while (rd_left(&r) > 0) {
        uint8_t type = rd_u8(&r);
        uint64_t len = rd_lenenc(&r);
        if (r.err || len > rd_left(&r)) {
            snprintf(err, errlen, "TABLE_MAP: optional metadata field %u truncated", type);
            return -1;
        }
        struct rd v;
        rd_init(&v, rd_bytes(&r, (size_t)len), (size_t)len);
        switch (type) {
        case TM_SIGNEDNESS: {
            uint32_t k = 0;
            for (uint32_t i = 0; i < t->ncols; i++) {
                if (!is_numeric(&t->cols[i])) continue;
                if (k / 8 < v.len) t->cols[i].is_unsigned = (v.p[k / 8] >> (7 - k % 8)) & 1;
                k++;
            }
            t->has_signedness = 1;
            break;
        }
        case TM_DEFAULT_CHARSET:
        case TM_COLUMN_CHARSET:
            if (parse_charsets(t, &v, type == TM_DEFAULT_CHARSET, 0, err, errlen)) return -1;
            t->has_charsets = 1;
            break;
        case TM_ENUM_AND_SET_DEFAULT_CHARSET:
        case TM_ENUM_AND_SET_COLUMN_CHARSET:
            if (parse_charsets(t, &v, type == TM_ENUM_AND_SET_DEFAULT_CHARSET, 1, err, errlen)) return -1;
            break;
        case TM_COLUMN_NAME:
            for (uint32_t i = 0; i < t->ncols && rd_left(&v) > 0; i++) {
                uint64_t l = rd_lenenc(&v);
                if (v.err || l > rd_left(&v) || l > 1024) {
                    snprintf(err, errlen, "TABLE_MAP: column names malformed");
                    return -1;
                }
                const char *nm = (const char *)rd_bytes(&v, (size_t)l);
                char *d = malloc((size_t)l + 1);
                if (!d) { snprintf(err, errlen, "out of memory"); return -1; }
                memcpy(d, nm, (size_t)l); d[l] = 0;
                free(t->zt->cols[i].name);
                t->zt->cols[i].name = d;
            }
            t->has_names = 1;
            break;
        case TM_SET_STR_VALUE:
            if (parse_labels(t, &v, MYT_SET, err, errlen)) return -1;
            break;
        case TM_ENUM_STR_VALUE:
            if (parse_labels(t, &v, MYT_ENUM, err, errlen)) return -1;
            break;
        case TM_SIMPLE_PRIMARY_KEY:
        case TM_PRIMARY_KEY_WITH_PREFIX: {
            int16_t ord = 0;
            while (rd_left(&v) > 0) {
                uint64_t idx = rd_lenenc(&v);
                if (type == TM_PRIMARY_KEY_WITH_PREFIX) (void)rd_lenenc(&v);
                if (v.err || idx >= t->ncols) {
                    snprintf(err, errlen, "TABLE_MAP: primary key metadata malformed");
                    return -1;
                }
                t->zt->cols[idx].pk_ord = ++ord;
            }
            t->zt->npk = ord;
            break;
        }
        default:            /* GEOMETRY_TYPE, COLUMN_VISIBILITY and future fields */
            break;
        }
    }
    return 0;
}

static char *xstrdup(const char *s) { return s ? strdup(s) : NULL; }

static void describe_column(struct rows_table *t, uint32_t i)
{
    struct rows_col *c = &t->cols[i];
    struct zcolumn *z = &t->zt->cols[i];
    char st[64];
    const char *u = c->is_unsigned ? " unsigned" : "";
    int binary = c->cs == CS_BINARY;
    int mb = c->mbmaxlen ? c->mbmaxlen : 1;
    z->length = -1;
    z->is_unsigned = c->is_unsigned;
    z->precision = 0;
    z->scale = 0;
    switch (c->real_type) {
    case MYT_TINY: z->type = ZT_INT16; snprintf(st, sizeof st, "tinyint%s", u); break;
    case MYT_SHORT: z->type = c->is_unsigned ? ZT_INT32 : ZT_INT16; snprintf(st, sizeof st, "smallint%s", u); break;
    case MYT_INT24: z->type = ZT_INT32; snprintf(st, sizeof st, "mediumint%s", u); break;
    case MYT_LONG: z->type = c->is_unsigned ? ZT_INT64 : ZT_INT32; snprintf(st, sizeof st, "int%s", u); break;
    case MYT_LONGLONG: z->type = c->is_unsigned ? ZT_UINT64 : ZT_INT64; snprintf(st, sizeof st, "bigint%s", u); break;
    case MYT_FLOAT: z->type = ZT_FLOAT32; snprintf(st, sizeof st, "float%s", u); break;
    case MYT_DOUBLE: z->type = ZT_FLOAT64; snprintf(st, sizeof st, "double%s", u); break;
    case MYT_NEWDECIMAL: case MYT_DECIMAL:
        z->type = ZT_DECIMAL; z->precision = c->prec; z->scale = c->scale;
        snprintf(st, sizeof st, "decimal(%u,%u)%s", c->prec, c->scale, u); break;
    case MYT_YEAR: z->type = ZT_YEAR; snprintf(st, sizeof st, "year"); break;
    case MYT_DATE: case MYT_NEWDATE: z->type = ZT_DATE; snprintf(st, sizeof st, "date"); break;
    case MYT_TIME: case MYT_TIME2:
        z->type = ZT_TIME; z->scale = (int16_t)(c->type == MYT_TIME2 ? c->meta : 0);
        snprintf(st, sizeof st, "time(%d)", z->scale); break;
    case MYT_DATETIME: case MYT_DATETIME2:
        z->type = ZT_TIMESTAMP; z->scale = (int16_t)(c->type == MYT_DATETIME2 ? c->meta : 0);
        snprintf(st, sizeof st, "datetime(%d)", z->scale); break;
    case MYT_TIMESTAMP: case MYT_TIMESTAMP2:
        z->type = ZT_TIMESTAMPTZ; z->scale = (int16_t)(c->type == MYT_TIMESTAMP2 ? c->meta : 0);
        snprintf(st, sizeof st, "timestamp(%d)", z->scale); break;
    case MYT_BIT: z->type = ZT_BIT; z->length = c->bits; snprintf(st, sizeof st, "bit(%u)", c->bits); break;
    case MYT_ENUM: z->type = ZT_ENUM; snprintf(st, sizeof st, "enum"); break;
    case MYT_SET: z->type = ZT_SET; snprintf(st, sizeof st, "set"); break;
    case MYT_JSON: z->type = ZT_JSON; snprintf(st, sizeof st, "json"); break;
    case MYT_GEOMETRY: z->type = ZT_GEOMETRY; snprintf(st, sizeof st, "geometry"); break;
    case MYT_VARCHAR: case MYT_VAR_STRING:
        z->type = binary ? ZT_BYTES : ZT_VARCHAR;
        z->length = (int32_t)(c->meta / (unsigned)mb);
        snprintf(st, sizeof st, "%s(%d)", binary ? "varbinary" : "varchar", z->length); break;
    case MYT_STRING:
        z->type = binary ? ZT_BYTES : ZT_CHAR;
        z->length = (int32_t)(c->meta / (unsigned)mb);
        snprintf(st, sizeof st, "%s(%d)", binary ? "binary" : "char", z->length); break;
    case MYT_BLOB: case MYT_TINY_BLOB: case MYT_MEDIUM_BLOB: case MYT_LONG_BLOB: {
        static const char *pre[] = { "", "tiny", "", "medium", "long" };
        int text = c->cs != CS_BINARY && c->cs != CS_UNKNOWN;
        z->type = text ? ZT_TEXT : ZT_BYTES;
        snprintf(st, sizeof st, "%s%s", pre[c->meta <= 4 ? c->meta : 0], text ? "text" : "blob"); break;
    }
    default: z->type = ZT_OTHER; snprintf(st, sizeof st, "type%u", c->type); break;
    }
    free(z->source_type);
    z->source_type = xstrdup(st);
}

void rows_table_free(struct rows_table *t)
{
    if (t->cols) {
        for (uint32_t i = 0; i < t->ncols; i++) {
            struct rows_col *c = &t->cols[i];
            if (c->iconv && c->iconv != (void *)-1) iconv_close((iconv_t)c->iconv);
            free(c->label);
            free(c->label_len);
        }
    }
    free(t->cols);
    ztable_free(t->zt);
    free(t->raw);
    memset(t, 0, sizeof *t);
}

static char *dupn(const char *s, size_t n)
{
    char *d = malloc(n + 1);
    if (d) { memcpy(d, s, n); d[n] = 0; }
    return d;
}

int rows_table_build(struct rows_table *t, const uint8_t *body, size_t body_len,
                     const struct binlog_fde *fde, char *err, size_t errlen)
{
    struct binlog_table_map tm;
    struct rd r;
    int rc = -1;
    memset(t, 0, sizeof *t);
    t->raw = malloc(body_len ? body_len : 1);
    if (!t->raw) { snprintf(err, errlen, "out of memory"); return -1; }
    memcpy(t->raw, body, body_len);
    t->raw_len = body_len;
    rd_init(&r, t->raw, body_len);
    if (binlog_parse_table_map(&r, fde, &tm, err, errlen)) goto fail;
    t->table_id = tm.table_id;
    t->ncols = tm.ncols;
    t->mariadb = fde->is_mariadb;
    t->cols = calloc(tm.ncols, sizeof *t->cols);
    t->zt = calloc(1, sizeof *t->zt);
    if (!t->cols || !t->zt) goto oom;
    t->zt->cols = calloc(tm.ncols, sizeof *t->zt->cols);
    t->zt->schema = dupn(tm.db, tm.db_len);
    t->zt->name = dupn(tm.table, tm.table_len);
    if (!t->zt->cols || !t->zt->schema || !t->zt->name) goto oom;
    t->zt->ncols = (int)tm.ncols;
    t->zt->id = tm.table_id;
    for (uint32_t i = 0; i < tm.ncols; i++) {
        char nm[16];
        snprintf(nm, sizeof nm, "@%u", i + 1);
        t->zt->cols[i].name = xstrdup(nm);
        t->zt->cols[i].nullable = (tm.nullable[i / 8] >> (i % 8)) & 1;
        if (!t->zt->cols[i].name) goto oom;
    }
    if ((rc = parse_colmeta(t, &tm, err, errlen))) goto fail;
    if ((rc = parse_optional(t, &tm, err, errlen))) goto fail;
    for (uint32_t i = 0; i < tm.ncols; i++) describe_column(t, i);
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    rc = -1;
fail:
    rows_table_free(t);
    return rc;
}

/* Labels from "enum('a','b''c')": the pointer array and the unescaped
 * strings share one allocation, owned through col->label. */
static int labels_from_source_type(struct rows_col *c, const char *st)
{
    const char *p = strchr(st, '(');
    if (!p) return -1;
    size_t n = 0;
    for (const char *q = p; *q; q++) if (*q == '\'') n++;
    n = n / 2 + 1;
    size_t bytes = strlen(p) + 1;
    const char **lab = malloc(n * sizeof *lab + bytes);
    uint32_t *ll = calloc(n, sizeof *ll);
    if (!lab || !ll) { free(lab); free(ll); return -1; }
    char *o = (char *)(lab + n);
    size_t k = 0;
    for (const char *q = p; *q && k < n; q++) {
        if (*q != '\'') continue;
        char *start = o;
        for (q++; *q; q++) {
            if (*q == '\'' && q[1] == '\'') { *o++ = '\''; q++; continue; }
            if (*q == '\'') break;
            *o++ = *q;
        }
        lab[k] = start; ll[k] = (uint32_t)(o - start); k++;
        if (!*q) break;
    }
    free(c->label); free(c->label_len);
    c->label = lab; c->label_len = ll; c->nlabels = (uint32_t)k;
    return 0;
}

int rows_table_apply_def(struct rows_table *t, const struct ztable *def, char *err, size_t errlen)
{
    if (!def || def->ncols != (int)t->ncols) {
        snprintf(err, errlen, "table definition has %d columns but the binlog table map has %u",
                 def ? def->ncols : 0, t->ncols);
        return -1;
    }
    for (uint32_t i = 0; i < t->ncols; i++) {
        struct rows_col *c = &t->cols[i];
        const struct zcolumn *d = &def->cols[i];
        struct zcolumn *z = &t->zt->cols[i];
        if (!t->has_names && d->name) { free(z->name); z->name = xstrdup(d->name); }
        if (!t->has_signedness && is_numeric(c)) c->is_unsigned = d->is_unsigned;
        if (!t->has_charsets && is_character(t, c) && c->cs == CS_UNKNOWN)
            c->cs = d->type == ZT_BYTES ? CS_BINARY : CS_UTF8;
        if (is_enum_set(c) && c->nlabels == 0 && d->source_type)
            (void)labels_from_source_type(c, d->source_type);
        z->pk_ord = d->pk_ord;
        describe_column(t, i);
    }
    t->zt->npk = def->npk;
    return 0;
}


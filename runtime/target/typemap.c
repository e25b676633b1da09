/*
 * typemap.c — source column → target column type (target_map_type, target.h).
 *
 * | source (ztype)              | MySQL → PostgreSQL     | PostgreSQL → PostgreSQL   | → Redshift                  |
 * |-----------------------------|------------------------|---------------------------|-----------------------------|
 * | BOOL (tinyint(1)/boolean)   | boolean                | declared type             | boolean                     |
 * | TINYINT [UNSIGNED] (INT16)  | smallint               | —                         | smallint                    |
 * | SMALLINT (INT16)            | smallint               | declared type             | smallint                    |
 * | SMALLINT UNSIGNED, MEDIUMINT [UNSIGNED], INT (INT32) | integer | declared type | integer                  |
 * | INT UNSIGNED, BIGINT (INT64)| bigint                 | declared type             | bigint                      |
 * | BIGINT UNSIGNED (UINT64)    | numeric(20,0)          | —                         | numeric(20,0)               |
 * | FLOAT / DOUBLE              | real / double precision| declared type             | real / double precision     |
 * | DECIMAL(p,s)                | numeric(p,s)           | declared type             | numeric(p,s) if p ≤ 38, else varchar(65535) |
 * | numeric (unconstrained)     | numeric                | numeric                   | varchar(65535) (exact text) |
 * | CHAR(n)                     | varchar(n) (¹)         | declared type             | varchar(min(4n,65535)) (²)  |
 * | VARCHAR(n)                  | varchar(n)             | declared type             | varchar(min(4n,65535)) (²)  |
 * | TEXT / unbounded varchar    | text                   | declared type             | varchar(65535)              |
 * | BINARY/VARBINARY/BLOB/bytea | bytea                  | bytea                     | varbyte(n) / varbyte(1024000) |
 * | DATE                        | date                   | date                      | date                        |
 * | TIME(p)                     | interval (³)           | declared type (time(p))   | varchar(32) (MySQL) / time  |
 * | time with time zone         | —                      | declared type             | timetz                      |
 * | DATETIME(p)                 | timestamp(p)           | declared type             | timestamp                   |
 * | TIMESTAMP(p)                | timestamptz(p)         | declared type             | timestamptz                 |
 * | interval                    | —                      | declared type             | varchar(64)                 |
 * | uuid                        | —                      | uuid                      | char(36)                    |
 * | JSON / json / jsonb         | jsonb                  | declared type             | super (values via JSON_PARSE) |
 * | BIT(n) / varbit(n)          | bit(n) / bit varying(n)| declared type             | varchar(n) (bits as text)   |
 * | ENUM                        | text                   | text (⁴)                  | varchar(1024)               |
 * | SET                         | text                   | —                         | varchar(65535)              |
 * | GEOMETRY (WKB)              | bytea                  | —                         | varbyte(1024000)            |
 * | inet / cidr / macaddr       | —                      | declared type             | varchar(64)                 |
 * | YEAR                        | smallint               | —                         | smallint                    |
 * | arrays (PG)                 | —                      | declared type (elem[])    | varchar(65535) (PG array text) |
 * | other types                 | text                   | declared if built-in, else text (⁴) | varchar(65535)    |
 *
 * (¹) MySQL CHAR values arrive without their pad spaces; PostgreSQL char(n)
 *     would re-pad them and compare differently, so varchar(n) keeps the value
 *     a MySQL client sees.
 * (²) Redshift VARCHAR lengths are bytes and CHAR is single-byte only: a
 *     UTF-8 character takes up to 4 bytes.
 * (³) MySQL TIME ranges -838:59:59 .. 838:59:59 (durations); PostgreSQL time
 *     holds only 00:00..24:00, so interval keeps every value ("-838:59:59"
 *     is valid interval input).
 * (⁴) PostgreSQL enums, domains and other user-defined types (source_type
 *     schema-qualified or not a built-in name) become text (arrays of them
 *     text[]): zetl does not create types in the target. A domain over a
 *     built-in type maps by its base ztype instead.
 * "declared type" = source_type verbatim when it names a built-in type.
 * Integers map by ztype alone: the source already widened unsigned types to
 * a ztype that holds their range (runtime/mysql/schema.c: SMALLINT UNSIGNED
 * → INT32, INT UNSIGNED → INT64, BIGINT UNSIGNED → UINT64).
 * Where the columns differ, the source's dialect (dialect.h) says how, not
 * its kind: MySQL's has char_padded 0, time_duration, scale0_declared and
 * zero_dates; PostgreSQL's pg_types and char_padded.
 */
#include "runtime/target/target.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int put(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, len, fmt, ap);
    va_end(ap);
    return (n < 0 || (size_t)n >= len) ? -1 : 0;
}

/* Built-in PostgreSQL type names as format_type() prints them (and common aliases). */
static const char *const pg_builtin[] = {
    "smallint", "integer", "bigint", "int2", "int4", "int8", "int", "real", "float4",
    "double precision", "float8", "numeric", "decimal", "boolean", "bool", "text",
    "character varying", "varchar", "character", "char", "\"char\"", "name", "bytea",
    "date", "time without time zone", "time", "time with time zone", "timetz",
    "timestamp without time zone", "timestamp", "timestamp with time zone", "timestamptz",
    "interval", "uuid", "json", "jsonb", "xml", "bit", "bit varying", "varbit", "inet",
    "cidr", "macaddr", "macaddr8", "money", "oid", "point", "line", "lseg", "box", "path",
    "polygon", "circle", "bpchar", "tsvector", "tsquery", "int4range", "int8range", "numrange",
    "tsrange", "tstzrange", "daterange", "pg_lsn", "jsonpath", NULL
};

/* Is source_type (e.g. "character varying(20)[]", "timestamp(3) with time zone") built-in? */
static int pg_is_builtin(const char *st)
{
    if (!st || !*st) return 0;
    char base[96];
    size_t o = 0;
    for (const char *s = st; *s && o + 1 < sizeof base; s++) {
        if (*s == '(') {                    /* drop the type modifier */
            while (*s && *s != ')') s++;
            if (!*s) break;
            continue;
        }
        if (*s == '[') break;
        base[o++] = (char)tolower((unsigned char)*s);
    }
    while (o && base[o - 1] == ' ') o--;
    base[o] = 0;
    if (strncmp(base, "pg_catalog.", 11) == 0) memmove(base, base + 11, strlen(base + 11) + 1);
    /* "timestamp with time zone" after dropping "(3)" leaves a double space */
    char norm[96];
    size_t k = 0;
    for (size_t i = 0; base[i]; i++)
        if (!(base[i] == ' ' && k && norm[k - 1] == ' ')) norm[k++] = base[i];
    norm[k] = 0;
    for (int i = 0; pg_builtin[i]; i++)
        if (strcmp(norm, pg_builtin[i]) == 0) return 1;
    return 0;
}

/* Into PostgreSQL, by ztype (MySQL sources, and PostgreSQL types we cannot keep). */
static int map_pg(const struct zdialect *src, const struct zcolumn *c, char *buf, size_t len)
{
    switch (c->type) {
    case ZT_BOOL: return put(buf, len, "boolean");
    case ZT_INT16: return put(buf, len, "smallint");
    case ZT_INT32: return put(buf, len, "integer");
    case ZT_INT64: return put(buf, len, "bigint");
    case ZT_UINT64: return put(buf, len, "numeric(20,0)");
    case ZT_FLOAT32: return put(buf, len, "real");
    case ZT_FLOAT64: return put(buf, len, "double precision");
    case ZT_DECIMAL:
        if (c->precision <= 0) return put(buf, len, "numeric");
        return put(buf, len, "numeric(%d,%d)", c->precision, c->scale);
    case ZT_CHAR:
        if (c->length <= 0) return put(buf, len, "text");
        return put(buf, len, src->char_padded ? "character(%d)" : "varchar(%d)", (int)c->length);
    case ZT_VARCHAR:
        if (c->length <= 0) return put(buf, len, "text");
        return put(buf, len, "varchar(%d)", (int)c->length);
    case ZT_TEXT: return put(buf, len, "text");
    case ZT_BYTES: case ZT_GEOMETRY: return put(buf, len, "bytea");
    case ZT_DATE: return put(buf, len, "date");
    case ZT_TIME:
        if (src->time_duration) return put(buf, len, "interval");
        return c->scale > 0 && c->scale <= 6 ? put(buf, len, "time(%d)", c->scale)
                                             : put(buf, len, "time");
    case ZT_TIMETZ: return put(buf, len, "time with time zone");
    case ZT_TIMESTAMP:
        return c->scale >= 0 && c->scale <= 6 && (src->scale0_declared || c->scale > 0)
               ? put(buf, len, "timestamp(%d)", c->scale) : put(buf, len, "timestamp");
    case ZT_TIMESTAMPTZ:
        return c->scale >= 0 && c->scale <= 6 && (src->scale0_declared || c->scale > 0)
               ? put(buf, len, "timestamptz(%d)", c->scale) : put(buf, len, "timestamptz");
    case ZT_INTERVAL: return put(buf, len, "interval");
    case ZT_UUID: return put(buf, len, "uuid");
    case ZT_JSON: return put(buf, len, "jsonb");
    case ZT_BIT:
        return c->length > 0 ? put(buf, len, "bit(%d)", (int)c->length) : put(buf, len, "bit varying");
    case ZT_VARBIT:
        return c->length > 0 ? put(buf, len, "bit varying(%d)", (int)c->length)
                             : put(buf, len, "bit varying");
    case ZT_ENUM: case ZT_SET: case ZT_OTHER: return put(buf, len, "text");
    case ZT_INET: return put(buf, len, "inet");
    case ZT_CIDR: return put(buf, len, "cidr");
    case ZT_MACADDR: return put(buf, len, "macaddr");
    case ZT_YEAR: return put(buf, len, "smallint");
    }
    return put(buf, len, "text");
}

static int map_redshift(const struct zdialect *src, const struct zcolumn *c, char *buf, size_t len)
{
    if (c->is_array) return put(buf, len, "varchar(65535)");
    switch (c->type) {
    case ZT_BOOL: return put(buf, len, "boolean");
    case ZT_INT16: return put(buf, len, "smallint");
    case ZT_INT32: return put(buf, len, "integer");
    case ZT_INT64: return put(buf, len, "bigint");
    case ZT_UINT64: return put(buf, len, "numeric(20,0)");
    case ZT_FLOAT32: return put(buf, len, "real");
    case ZT_FLOAT64: return put(buf, len, "double precision");
    case ZT_DECIMAL:
        if (c->precision <= 0 || c->precision > 38) return put(buf, len, "varchar(65535)");
        return put(buf, len, "numeric(%d,%d)", c->precision, c->scale);
    case ZT_CHAR: case ZT_VARCHAR: {
        if (c->length <= 0 || c->length > 65535 / 4) return put(buf, len, "varchar(65535)");
        return put(buf, len, "varchar(%d)", (int)c->length * 4);
    }
    case ZT_TEXT: case ZT_OTHER: case ZT_SET: return put(buf, len, "varchar(65535)");
    case ZT_ENUM: return put(buf, len, "varchar(1024)");
    case ZT_BYTES:
        if (c->length > 0 && c->length <= 1024000) return put(buf, len, "varbyte(%d)", (int)c->length);
        return put(buf, len, "varbyte(1024000)");
    case ZT_GEOMETRY: return put(buf, len, "varbyte(1024000)");
    case ZT_DATE: return put(buf, len, "date");
    case ZT_TIME: return put(buf, len, src->time_duration ? "varchar(32)" : "time");
    case ZT_TIMETZ: return put(buf, len, "timetz");
    case ZT_TIMESTAMP: return put(buf, len, "timestamp");
    case ZT_TIMESTAMPTZ: return put(buf, len, "timestamptz");
    case ZT_INTERVAL: return put(buf, len, "varchar(64)");
    case ZT_UUID: return put(buf, len, "char(36)");
    case ZT_JSON: return put(buf, len, "super");
    case ZT_BIT: case ZT_VARBIT:
        if (c->length <= 0 || c->length > 65535) return put(buf, len, "varchar(65535)");
        return put(buf, len, "varchar(%d)", (int)c->length);
    case ZT_INET: case ZT_CIDR: case ZT_MACADDR: return put(buf, len, "varchar(64)");
    case ZT_YEAR: return put(buf, len, "smallint");
    }
    return put(buf, len, "varchar(65535)");
}

/*
 * NOT NULL in the target: as the source declares it, and always for key
 * columns — except a MySQL DATE, DATETIME or TIMESTAMP, which may hold a zero
 * or partial-zero date ('0000-00-00', '2024-00-15') that PostgreSQL has no
 * value for: it arrives as NULL (rows.h), so such columns are created NULLable.
 */
int target_column_not_null(const struct zdialect *source, const struct zcolumn *c)
{
    if (c->pk_ord > 0) return 1;
    if (source && source->zero_dates &&
        (c->type == ZT_DATE || c->type == ZT_TIMESTAMP || c->type == ZT_TIMESTAMPTZ))
        return 0;
    return !c->nullable;
}

int target_map_type(enum target_kind kind, const struct zdialect *source, const struct zcolumn *c,
                    char *buf, size_t len)
{
    static const struct zdialect plain;         /* no dialect given: by ztype alone */
    if (!source) source = &plain;
    if (kind == TARGET_REDSHIFT) return map_redshift(source, c, buf, len);
    if (source->pg_types) {
        if (pg_is_builtin(c->source_type)) {
            const char *st = c->source_type;
            if (strncmp(st, "pg_catalog.", 11) == 0) st += 11;
            if (c->is_array && !strchr(st, '[')) return put(buf, len, "%s[]", st);
            return put(buf, len, "%s", st);
        }
        if (c->is_array) {
            char el[112];
            if (map_pg(source, c, el, sizeof el)) return -1;
            return put(buf, len, "%s[]", el);
        }
    }
    return map_pg(source, c, buf, len);
}

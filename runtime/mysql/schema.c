/* schema.c — MySQL/MariaDB table definitions from information_schema (see schema.h). */
#include "runtime/mysql/schema.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/mysql/conn.h"
#include "runtime/pipe/zkey.h"

/* ---- a prepared statement with string parameters, rows as strings ---------------- */

typedef int (*row_fn)(void *ctx, char **vals, int ncols, char *err, size_t errlen);

/*
 * Run sql with nparams string parameters (bound, never spliced) and call fn
 * for each row with the values as NUL-terminated strings (NULL for SQL NULL).
 * The result is stored client-side: use this for catalog queries only.
 */
static int query_rows(MYSQL *db, const char *sql, const char *const *params, int nparams,
                      row_fn fn, void *ctx, char *err, size_t errlen)
{
    int rc = -1, ncols = 0;
    MYSQL_BIND pb[8], *rb = NULL;
    unsigned long *lens = NULL;
    my_bool *nulls = NULL;
    char **bufs = NULL, **vals = NULL;
    size_t *caps = NULL;
    MYSQL_RES *meta = NULL;
    MYSQL_STMT *st = mysql_stmt_init(db);
    if (!st) { snprintf(err, errlen, "out of memory preparing a catalog query"); return -1; }
    if (mysql_stmt_prepare(st, sql, strlen(sql)) != 0) goto stmt_error;
    if (nparams > 8 || (int)mysql_stmt_param_count(st) != nparams) {
        snprintf(err, errlen, "catalog query takes %lu parameters, %d given: %.120s",
                 mysql_stmt_param_count(st), nparams, sql);
        goto close_stmt;
    }
    memset(pb, 0, sizeof pb);
    for (int i = 0; i < nparams; i++) {
        pb[i].buffer_type = MYSQL_TYPE_STRING;
        pb[i].buffer = (void *)(uintptr_t)params[i];
        pb[i].buffer_length = strlen(params[i]);
    }
    if (nparams && mysql_stmt_bind_param(st, pb) != 0) goto stmt_error;
    if (mysql_stmt_execute(st) != 0) goto stmt_error;
    meta = mysql_stmt_result_metadata(st);
    if (!meta) goto stmt_error;
    ncols = (int)mysql_num_fields(meta);
    if (mysql_stmt_store_result(st) != 0) goto stmt_error;
    rb = calloc((size_t)ncols, sizeof *rb);
    lens = calloc((size_t)ncols, sizeof *lens);
    nulls = calloc((size_t)ncols, sizeof *nulls);
    bufs = calloc((size_t)ncols, sizeof *bufs);
    caps = calloc((size_t)ncols, sizeof *caps);
    vals = calloc((size_t)ncols, sizeof *vals);
    if (!rb || !lens || !nulls || !bufs || !caps || !vals) {
        snprintf(err, errlen, "out of memory reading a catalog query");
        goto free_bufs;
    }
    for (int i = 0; i < ncols; i++) {
        rb[i].buffer_type = MYSQL_TYPE_STRING;
        rb[i].length = &lens[i];
        rb[i].is_null = &nulls[i];
    }
    if (mysql_stmt_bind_result(st, rb) != 0) goto stmt_error;
    for (;;) {
        int f = mysql_stmt_fetch(st);
        if (f == MYSQL_NO_DATA) break;
        if (f == 1) goto stmt_error;
        for (int i = 0; i < ncols; i++) {
            if (nulls[i]) { vals[i] = NULL; continue; }
            if (caps[i] < lens[i] + 1) {
                char *nb = realloc(bufs[i], lens[i] + 1);
                if (!nb) { snprintf(err, errlen, "out of memory reading a catalog query"); goto free_bufs; }
                bufs[i] = nb;
                caps[i] = lens[i] + 1;
            }
            MYSQL_BIND one;
            memset(&one, 0, sizeof one);
            one.buffer_type = MYSQL_TYPE_STRING;
            one.buffer = bufs[i];
            one.buffer_length = caps[i];
            if (lens[i] && mysql_stmt_fetch_column(st, &one, (unsigned)i, 0) != 0) goto stmt_error;
            bufs[i][lens[i]] = '\0';
            vals[i] = bufs[i];
        }
        if (fn(ctx, vals, ncols, err, errlen) != 0) goto free_bufs;
    }
    rc = 0;
    goto free_bufs;
stmt_error:
    snprintf(err, errlen, "%s (error %u) running: %.160s", mysql_stmt_error(st), mysql_stmt_errno(st), sql);
free_bufs:
    if (bufs) for (int i = 0; i < ncols; i++) free(bufs[i]);
    free(bufs); free(caps); free(vals); free(rb); free(lens); free(nulls);
    if (meta) mysql_free_result(meta);
close_stmt:
    mysql_stmt_close(st);
    return rc;
}

/* ---- type mapping ------------------------------------------------------------------ */

static int is_one_of(const char *s, const char *const *list)
{
    for (; *list; list++) if (strcasecmp(s, *list) == 0) return 1;
    return 0;
}

enum ztype mysql_schema_map_type(const char *dt, const char *charset, int uns)
{
    static const char *const geo[] = { "geometry", "point", "linestring", "polygon", "multipoint",
        "multilinestring", "multipolygon", "geometrycollection", "geomcollection", NULL };
    static const char *const blob[] = { "binary", "varbinary", "tinyblob", "blob", "mediumblob",
        "longblob", NULL };
    static const char *const text[] = { "tinytext", "text", "mediumtext", "longtext", NULL };
    int binary = charset && strcasecmp(charset, "binary") == 0;
    if (!strcasecmp(dt, "tinyint")) return ZT_INT16;
    if (!strcasecmp(dt, "smallint")) return uns ? ZT_INT32 : ZT_INT16;
    if (!strcasecmp(dt, "mediumint")) return ZT_INT32;
    if (!strcasecmp(dt, "int") || !strcasecmp(dt, "integer")) return uns ? ZT_INT64 : ZT_INT32;
    if (!strcasecmp(dt, "bigint")) return uns ? ZT_UINT64 : ZT_INT64;
    if (!strcasecmp(dt, "decimal") || !strcasecmp(dt, "numeric")) return ZT_DECIMAL;
    if (!strcasecmp(dt, "float")) return ZT_FLOAT32;
    if (!strcasecmp(dt, "double") || !strcasecmp(dt, "real")) return ZT_FLOAT64;
    if (!strcasecmp(dt, "bit")) return ZT_BIT;
    if (!strcasecmp(dt, "year")) return ZT_YEAR;
    if (!strcasecmp(dt, "date")) return ZT_DATE;
    if (!strcasecmp(dt, "time")) return ZT_TIME;
    if (!strcasecmp(dt, "datetime")) return ZT_TIMESTAMP;
    if (!strcasecmp(dt, "timestamp")) return ZT_TIMESTAMPTZ;
    if (!strcasecmp(dt, "char")) return binary ? ZT_BYTES : ZT_CHAR;
    if (!strcasecmp(dt, "varchar")) return binary ? ZT_BYTES : ZT_VARCHAR;
    if (is_one_of(dt, blob)) return ZT_BYTES;
    if (is_one_of(dt, text)) return binary ? ZT_BYTES : ZT_TEXT;
    if (!strcasecmp(dt, "enum")) return ZT_ENUM;
    if (!strcasecmp(dt, "set")) return ZT_SET;
    if (!strcasecmp(dt, "json")) return ZT_JSON;
    if (is_one_of(dt, geo)) return ZT_GEOMETRY;
    return ZT_OTHER;
}

/* ---- building the tables ------------------------------------------------------------ */

struct tlist {
    struct ztable **t;
    int n, cap;
    const char *schema;
    const struct config_integration *in;    /* NULL: no selection, no exclusion */
    const char *only;                        /* load_one: this exact table, no selection */
    int from;                                /* first table of the database being loaded */
    char *last_name;                         /* find_table_cached: the last name asked */
    struct ztable *last;                     /* … and its answer (NULL: not loaded) */
    struct ukey_acc {                        /* on_ukey: the unique key being read */
        struct ztable *t;
        char name[72];
        int n, bad, cols[ZKEY_MAX];
    } uk;
};

/* A table of the database being loaded (l->t from l->from on), by exact name. */
static struct ztable *find_table(struct tlist *l, const char *name)
{
    for (int i = l->n - 1; i >= l->from; i--)
        if (strcmp(l->t[i]->name, name) == 0) return l->t[i];
    return NULL;
}

/* find_table for catalog rows, which come grouped by table: the last answer
 * (a table or "not selected") is remembered, so a row costs one strcmp. */
static struct ztable *find_table_cached(struct tlist *l, const char *name)
{
    if (l->last_name && strcmp(l->last_name, name) == 0) return l->last;
    free(l->last_name);
    l->last_name = strdup(name);
    l->last = find_table(l, name);
    return l->last;
}

static long num(const char *s, long dflt) { return s ? strtol(s, NULL, 10) : dflt; }

/* tables: TABLE_NAME of a base table; creates its (empty) definition when selected. */
static int on_table(void *ctx, char **v, int ncols, char *err, size_t errlen)
{
    struct tlist *l = ctx;
    if (ncols < 1 || !v[0]) return 0;
    if (l->only) {
        if (strcmp(v[0], l->only) != 0) return 0;   /* the catalog may compare names without case */
    } else if (l->in && !config_table_selected(&l->in->tables, l->schema, v[0])) {
        return 0;
    }
    if (find_table(l, v[0])) return 0;
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 16;
        struct ztable **nt = realloc(l->t, (size_t)nc * sizeof *nt);
        if (!nt) goto oom;
        l->t = nt; l->cap = nc;
    }
    struct ztable *t = calloc(1, sizeof *t);
    if (!t) goto oom;
    l->t[l->n++] = t;
    t->schema = strdup(l->schema);
    t->name = strdup(v[0]);
    if (!t->schema || !t->name) goto oom;
    return 0;
oom:
    snprintf(err, errlen, "out of memory loading the definition of %s.%s", l->schema, v[0]);
    return -1;
}

/* columns: TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME,
 *          CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION */
static int on_column(void *ctx, char **v, int ncols, char *err, size_t errlen)
{
    struct tlist *l = ctx;
    if (ncols < 10 || !v[0] || !v[1] || !v[2] || !v[3]) {
        snprintf(err, errlen, "information_schema.columns returned an incomplete row");
        return -1;
    }
    struct ztable *t = find_table_cached(l, v[0]);  /* exact name: views, unselected tables absent */
    if (!t) return 0;
    /* Columns arrive one at a time: grow by one (tables are small; realloc amortizes). */
    struct zcolumn *nc = realloc(t->cols, (size_t)(t->ncols + 1) * sizeof *nc);
    if (!nc) goto oom;
    t->cols = nc;
    struct zcolumn *c = &t->cols[t->ncols++];
    memset(c, 0, sizeof *c);
    c->name = strdup(v[1]);
    c->source_type = strdup(v[3]);
    if (!c->name || !c->source_type) goto oom;
    c->is_unsigned = strstr(v[3], "unsigned") != NULL;
    c->nullable = v[4] && strcmp(v[4], "YES") == 0;
    c->type = mysql_schema_map_type(v[2], v[5], c->is_unsigned);
    c->length = -1;
    switch (c->type) {
    case ZT_CHAR: case ZT_VARCHAR:
        c->length = (int32_t)num(v[6], -1);
        break;
    case ZT_BYTES:
        if (!strcasecmp(v[2], "binary") || !strcasecmp(v[2], "varbinary") ||
            !strcasecmp(v[2], "char") || !strcasecmp(v[2], "varchar"))
            c->length = (int32_t)num(v[6], -1);
        break;
    case ZT_DECIMAL:
        c->precision = (int16_t)num(v[7], 0);
        c->scale = (int16_t)num(v[8], 0);
        break;
    case ZT_BIT:
        c->length = (int32_t)num(v[7], 1);
        break;
    case ZT_TIME: case ZT_TIMESTAMP: case ZT_TIMESTAMPTZ:
        c->scale = (int16_t)num(v[9], 0);
        break;
    default:
        break;
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory loading the definition of %s.%s", l->schema, v[0]);
    return -1;
}

/* key: TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION */
static int on_key(void *ctx, char **v, int ncols, char *err, size_t errlen)
{
    struct tlist *l = ctx;
    (void)err; (void)errlen;
    if (ncols < 3 || !v[0] || !v[1]) return 0;
    struct ztable *t = find_table_cached(l, v[0]);
    if (!t) return 0;
    for (int i = 0; i < t->ncols; i++) {
        if (strcmp(t->cols[i].name, v[1]) != 0) continue;
        t->cols[i].pk_ord = (int16_t)num(v[2], 0);
        t->npk++;
    }
    return 0;
}

/*
 * A unique key read whole (on_ukey): the table's chunk key (change.h, nuk)
 * when the table has no primary key and every column is a NOT NULL integer
 * (zkey.h) — the one of fewest columns, then the first by name (the rows come
 * ordered by it).
 */
static void ukey_done(struct ukey_acc *a)
{
    struct ztable *t = a->t;
    a->t = NULL;
    if (!t || a->bad || !a->n || t->npk > 0 || (t->nuk && t->nuk <= a->n)) return;
    for (int i = 0; i < t->ncols; i++) t->cols[i].uk_ord = 0;
    for (int k = 0; k < a->n; k++) t->cols[a->cols[k]].uk_ord = (int16_t)(k + 1);
    t->nuk = a->n;
}

/* unique keys: TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART, in key order */
static int on_ukey(void *ctx, char **v, int ncols, char *err, size_t errlen)
{
    struct tlist *l = ctx;
    (void)err; (void)errlen;
    if (ncols < 5 || !v[0] || !v[1] || !v[3]) return 0;
    struct ztable *t = find_table_cached(l, v[0]);
    if (!t) return 0;
    if (l->uk.t != t || strcmp(l->uk.name, v[1]) != 0) {
        ukey_done(&l->uk);
        l->uk = (struct ukey_acc){.t = t};
        snprintf(l->uk.name, sizeof l->uk.name, "%s", v[1]);
        l->uk.bad = strlen(v[1]) >= sizeof l->uk.name;
    }
    int k = l->uk.n++, found = 0;
    for (int i = 0; i < t->ncols && !found; i++) {
        if (strcmp(t->cols[i].name, v[3]) != 0) continue;
        found = 1;
        if (k >= ZKEY_MAX || num(v[2], 0) != k + 1 || v[4] || t->cols[i].nullable ||
            !zkey_type_ok(t->cols[i].type))
            l->uk.bad = 1;
        else
            l->uk.cols[k] = i;
    }
    if (!found) l->uk.bad = 1;          /* excluded (tables.exclude_columns) or unknown */
    return 0;
}

/* MariaDB JSON: TABLE_NAME, CHECK_CLAUSE of column-level checks "json_valid(`col`)". */
static int on_check(void *ctx, char **v, int ncols, char *err, size_t errlen)
{
    struct tlist *l = ctx;
    (void)err; (void)errlen;
    if (ncols < 2 || !v[0] || !v[1]) return 0;
    struct ztable *t = find_table(l, v[0]);
    if (!t) return 0;
    for (int i = 0; i < t->ncols; i++) {
        struct zcolumn *c = &t->cols[i];
        if (c->type != ZT_TEXT) continue;
        /* json_valid(`na``me`): the identifier quoted with backquotes doubled */
        char want[600], *o = want;
        size_t room = sizeof want - 16;
        o += sprintf(o, "json_valid(`");
        for (const char *p = c->name; *p && (size_t)(o - want) < room; p++) {
            if (*p == '`') *o++ = '`';
            *o++ = *p;
        }
        strcpy(o, "`)");
        if (strcmp(v[1], want) == 0) c->type = ZT_JSON;
    }
    return 0;
}

static void drop_column(struct ztable *t, int i)
{
    free(t->cols[i].name);
    free(t->cols[i].source_type);
    memmove(&t->cols[i], &t->cols[i + 1], (size_t)(t->ncols - i - 1) * sizeof *t->cols);
    t->ncols--;
}

/* Apply exclude_columns to the tables in l from index `from`. */
static int exclude_columns(struct tlist *l, int from, char *err, size_t errlen)
{
    if (!l->in) return 0;
    for (int k = from; k < l->n; k++) {
        struct ztable *t = l->t[k];
        for (int i = 0; i < t->ncols; i++) {
            if (!config_column_excluded(&l->in->tables, t->schema, t->name, t->cols[i].name)) continue;
            if (t->cols[i].pk_ord) {
                snprintf(err, errlen,
                         "source %s: tables.exclude_columns drops %s.%s.%s, which is part of the primary key; "
                         "key columns cannot be excluded (the target applies updates and deletes by key): "
                         "narrow the pattern",
                         l->in->name, t->schema, t->name, t->cols[i].name);
                return -1;
            }
            drop_column(t, i--);
        }
    }
    return 0;
}

static const char SQL_TABLES_DB[] =
    "SELECT TABLE_NAME FROM information_schema.TABLES"
    " WHERE TABLE_SCHEMA = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')"
    " ORDER BY TABLE_NAME";
static const char SQL_TABLES_ONE[] =
    "SELECT TABLE_NAME FROM information_schema.TABLES"
    " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND TABLE_TYPE IN ('BASE TABLE', 'SYSTEM VERSIONED')";
/* No join with TABLES: the catalog compares names without case, and T and t may both exist. */
static const char SQL_COLS_DB[] =
    "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME,"
    " CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION"
    " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ?"
    " ORDER BY TABLE_NAME, ORDINAL_POSITION";
static const char SQL_COLS_ONE[] =
    "SELECT TABLE_NAME, COLUMN_NAME, DATA_TYPE, COLUMN_TYPE, IS_NULLABLE, CHARACTER_SET_NAME,"
    " CHARACTER_MAXIMUM_LENGTH, NUMERIC_PRECISION, NUMERIC_SCALE, DATETIME_PRECISION"
    " FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ?"
    " ORDER BY ORDINAL_POSITION";
static const char SQL_KEY_DB[] =
    "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE"
    " WHERE TABLE_SCHEMA = ? AND CONSTRAINT_NAME = 'PRIMARY'";
static const char SQL_KEY_ONE[] =
    "SELECT TABLE_NAME, COLUMN_NAME, ORDINAL_POSITION FROM information_schema.KEY_COLUMN_USAGE"
    " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND CONSTRAINT_NAME = 'PRIMARY'";
static const char SQL_UKEY_DB[] =
    "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS"
    " WHERE TABLE_SCHEMA = ? AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY'"
    " ORDER BY TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX";
static const char SQL_UKEY_ONE[] =
    "SELECT TABLE_NAME, INDEX_NAME, SEQ_IN_INDEX, COLUMN_NAME, SUB_PART FROM information_schema.STATISTICS"
    " WHERE TABLE_SCHEMA = ? AND TABLE_NAME = ? AND NON_UNIQUE = 0 AND INDEX_NAME <> 'PRIMARY'"
    " ORDER BY INDEX_NAME, SEQ_IN_INDEX";
static const char SQL_CHECK_DB[] =
    "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
    " WHERE CONSTRAINT_SCHEMA = ? AND CHECK_CLAUSE LIKE 'json\\_valid(%'";
static const char SQL_CHECK_ONE[] =
    "SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS"
    " WHERE CONSTRAINT_SCHEMA = ? AND TABLE_NAME = ? AND CHECK_CLAUSE LIKE 'json\\_valid(%'";

/* Load the tables of one database (table == NULL) or one table into l. */
static int load_into(MYSQL *db, struct tlist *l, const char *schema, const char *table,
                     char *err, size_t errlen)
{
    const char *p[2] = { schema, table };
    int np = table ? 2 : 1, from = l->n, rc = -1;
    l->schema = schema;
    l->from = from;
    if (query_rows(db, table ? SQL_TABLES_ONE : SQL_TABLES_DB, p, np, on_table, l, err, errlen)) return -1;
    if (l->n == from) return 0;
    if (query_rows(db, table ? SQL_COLS_ONE : SQL_COLS_DB, p, np, on_column, l, err, errlen)) goto forget;
    if (query_rows(db, table ? SQL_KEY_ONE : SQL_KEY_DB, p, np, on_key, l, err, errlen)) goto forget;
    if (mysql_conn_is_mariadb(db) &&
        query_rows(db, table ? SQL_CHECK_ONE : SQL_CHECK_DB, p, np, on_check, l, err, errlen)) goto forget;
    rc = exclude_columns(l, from, err, errlen);
    /* after the exclusion: a unique key with a column left out is no key */
    if (rc == 0) {
        l->uk = (struct ukey_acc){0};
        rc = query_rows(db, table ? SQL_UKEY_ONE : SQL_UKEY_DB, p, np, on_ukey, l, err, errlen);
        ukey_done(&l->uk);
    }
forget:
    free(l->last_name);
    l->last_name = NULL;
    l->last = NULL;
    return rc;
}

static int on_schema_name(void *ctx, char **v, int ncols, char *err, size_t errlen)
{
    struct tlist *names = ctx;      /* reused as a list of strings in t[i]->schema */
    if (ncols < 1 || !v[0]) return 0;
    if (names->n == names->cap) {
        int nc = names->cap ? names->cap * 2 : 16;
        struct ztable **nt = realloc(names->t, (size_t)nc * sizeof *nt);
        if (!nt) goto oom;
        names->t = nt; names->cap = nc;
    }
    struct ztable *t = calloc(1, sizeof *t);
    if (!t || !(t->schema = strdup(v[0]))) { free(t); goto oom; }
    names->t[names->n++] = t;
    return 0;
oom:
    snprintf(err, errlen, "out of memory listing databases");
    return -1;
}

void mysql_schema_free(struct ztable **tables, int n)
{
    if (!tables) return;
    for (int i = 0; i < n; i++) ztable_free(tables[i]);
    free(tables);
}

int mysql_schema_load(MYSQL *db, const struct config_integration *in,
                      struct ztable ***out, int *n, char *err, size_t errlen)
{
    struct tlist l = { .in = in };
    struct tlist names = { 0 };
    char qerr[512];
    *out = NULL;
    *n = 0;
    if (in->source.ndatabases == 0) {
        /* No databases listed: every non-system database, filtered by include/exclude. */
        if (query_rows(db, "SELECT SCHEMA_NAME FROM information_schema.SCHEMATA WHERE SCHEMA_NAME"
                           " NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
                           " ORDER BY SCHEMA_NAME", NULL, 0, on_schema_name, &names, qerr, sizeof qerr))
            goto fail;
    }
    int ndb = in->source.ndatabases ? in->source.ndatabases : names.n;
    for (int i = 0; i < ndb; i++) {
        const char *schema = in->source.ndatabases ? in->source.databases[i] : names.t[i]->schema;
        if (load_into(db, &l, schema, NULL, qerr, sizeof qerr)) goto fail;
    }
    mysql_schema_free(names.t, names.n);
    *out = l.t;
    *n = l.n;
    return 0;
fail:
    if (strncmp(qerr, "source ", 7) == 0)
        snprintf(err, errlen, "%s", qerr);
    else
        snprintf(err, errlen, "source %s: reading table definitions from information_schema: %s",
                 in->name, qerr);
    mysql_schema_free(names.t, names.n);
    mysql_schema_free(l.t, l.n);
    return -1;
}

int mysql_schema_load_one(MYSQL *db, const struct config_integration *in,
                          const char *schema, const char *table,
                          struct ztable **out, char *err, size_t errlen)
{
    struct tlist l = { .in = in, .only = table };
    char qerr[512];
    *out = NULL;
    if (load_into(db, &l, schema, table, qerr, sizeof qerr)) {
        if (strncmp(qerr, "source ", 7) == 0)
            snprintf(err, errlen, "%s", qerr);
        else
            snprintf(err, errlen, "source %s: reading the definition of %s.%s: %s",
                     in ? in->name : "?", schema, table, qerr);
        mysql_schema_free(l.t, l.n);
        return -1;
    }
    if (l.n == 0) { free(l.t); return 1; }
    *out = l.t[0];
    for (int i = 1; i < l.n; i++) ztable_free(l.t[i]);  /* cannot happen: one name */
    free(l.t);
    return 0;
}

/* ---- which tables have a key (preflight, setup) ---------------------------- */

static int pair_cmp(const void *a, const void *b)
{
    char *const *x = a, *const *y = b;
    int c = strcmp(x[0], y[0]);
    return c ? c : strcmp(x[1], y[1]);
}

static int keyed_load(MYSQL *db, const char *sql, struct mysql_keyed *k, char *err, size_t errlen)
{
    memset(k, 0, sizeof *k);
    k->res = mysql_conn_query(db, sql, err, errlen);
    if (!k->res) return -1;
    size_t rows = mysql_num_rows(k->res);
    k->pairs = calloc(rows ? rows * 2 : 1, sizeof *k->pairs);
    if (!k->pairs) {
        snprintf(err, errlen, "out of memory reading primary keys");
        mysql_schema_keyed_free(k);
        return -1;
    }
    MYSQL_ROW row;
    while ((row = mysql_fetch_row(k->res)))
        if (row[0] && row[1]) {
            k->pairs[2 * k->n] = row[0];
            k->pairs[2 * k->n + 1] = row[1];
            k->n++;
        }
    qsort(k->pairs, k->n, 2 * sizeof *k->pairs, pair_cmp);
    return 0;
}

int mysql_schema_keyed_load(MYSQL *db, struct mysql_keyed *k, char *err, size_t errlen)
{
    /* The same rows as SQL_KEY_DB, for every database at once: no value to bind. */
    return keyed_load(db,
        "SELECT DISTINCT TABLE_SCHEMA, TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE"
        " WHERE CONSTRAINT_NAME = 'PRIMARY'"
        " AND TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
        k, err, errlen);
}

int mysql_schema_unchunked_load(MYSQL *db, struct mysql_keyed *k, char *err, size_t errlen)
{
    /* A key column that is not an integer (runtime/pipe/zkey.h says why those only). */
    return keyed_load(db,
        "SELECT DISTINCT k.TABLE_SCHEMA, k.TABLE_NAME FROM information_schema.KEY_COLUMN_USAGE k"
        " JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = k.TABLE_SCHEMA"
        " AND c.TABLE_NAME = k.TABLE_NAME AND c.COLUMN_NAME = k.COLUMN_NAME"
        " WHERE k.CONSTRAINT_NAME = 'PRIMARY'"
        " AND c.DATA_TYPE NOT IN ('tinyint', 'smallint', 'mediumint', 'int', 'bigint')"
        " AND k.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')",
        k, err, errlen);
}

int mysql_schema_ukeyed_load(MYSQL *db, struct mysql_keyed *k, char *err, size_t errlen)
{
    return keyed_load(db,
        "SELECT DISTINCT s.TABLE_SCHEMA, s.TABLE_NAME FROM information_schema.STATISTICS s"
        " WHERE s.NON_UNIQUE = 0 AND s.INDEX_NAME <> 'PRIMARY'"
        " AND s.TABLE_SCHEMA NOT IN ('mysql', 'information_schema', 'performance_schema', 'sys')"
        " AND NOT EXISTS (SELECT 1 FROM information_schema.STATISTICS x"
        "   JOIN information_schema.COLUMNS c ON c.TABLE_SCHEMA = x.TABLE_SCHEMA"
        "    AND c.TABLE_NAME = x.TABLE_NAME AND c.COLUMN_NAME = x.COLUMN_NAME"
        "   WHERE x.TABLE_SCHEMA = s.TABLE_SCHEMA AND x.TABLE_NAME = s.TABLE_NAME AND x.INDEX_NAME = s.INDEX_NAME"
        "   AND (c.IS_NULLABLE = 'YES' OR x.SUB_PART IS NOT NULL"
        "        OR c.DATA_TYPE NOT IN ('tinyint', 'smallint', 'mediumint', 'int', 'bigint')))",
        k, err, errlen);
}

int mysql_schema_keyed_has(const struct mysql_keyed *k, const char *schema, const char *table)
{
    const char *want[2] = { schema, table };
    return k->n && bsearch(want, k->pairs, k->n, 2 * sizeof *k->pairs, pair_cmp) != NULL;
}

void mysql_schema_keyed_free(struct mysql_keyed *k)
{
    if (k->res) mysql_free_result(k->res);
    free(k->pairs);
    memset(k, 0, sizeof *k);
}

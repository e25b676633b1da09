/*
 * schema.h — MySQL/MariaDB table definitions from information_schema.
 *
 * mysql_schema_load() lists every base table of the configured `databases`
 * (all non-system databases when none are configured) that
 * config_table_selected() keeps, and describes each as a struct ztable:
 *
 *   - columns in ordinal order, names in their exact case;
 *   - source_type = COLUMN_TYPE verbatim ("int(10) unsigned", "decimal(65,30)",
 *     "enum('a','b')"), which is also where the binlog decoder takes ENUM/SET
 *     labels from (rows_table_apply_def);
 *   - type from DATA_TYPE, the same mapping the binlog decoder's table maps
 *     use (rows.c describe_column), so both sides agree:
 *       tinyint, smallint → INT16 (smallint unsigned → INT32)
 *       mediumint, int    → INT32 (int unsigned → INT64)
 *       bigint            → INT64 (unsigned → UINT64)
 *       decimal(p,s) → DECIMAL   float → FLOAT32   double → FLOAT64
 *       bit(n) → BIT(n)   year → YEAR   date → DATE   time(fsp) → TIME
 *       datetime(fsp) → TIMESTAMP   timestamp(fsp) → TIMESTAMPTZ (UTC)
 *       char/varchar(n) → CHAR/VARCHAR(n) characters; with the binary
 *         charset, and binary, varbinary and the blobs → BYTES
 *       the texts → TEXT; MariaDB's JSON (a LONGTEXT with the column check
 *         json_valid(`col`)) and MySQL's json → JSON
 *       enum → ENUM   set → SET   geometry and its subtypes → GEOMETRY
 *       anything else (MariaDB inet6, uuid, …) → OTHER, as text
 *   - the primary key (pk_ord 1-based in key order, npk); a table without one
 *     has npk 0 (the full row is its key);
 *   - columns matched by tables.exclude_columns are left out. Excluding a
 *     primary-key column is refused with an error naming it: the key is how
 *     the target applies updates and deletes.
 *   - id is 0 (a binlog table_id belongs to the stream, not the definition).
 *
 * Every value that names a database or table travels as a bound parameter of
 * a prepared statement; nothing is spliced into SQL.
 *
 * Ownership: *out is an array of n tables, each ztable_free-compatible; free
 * the lot with mysql_schema_free(). Thread: the caller's, on its own MYSQL.
 */
#ifndef ZETL_MYSQL_SCHEMA_H
#define ZETL_MYSQL_SCHEMA_H

#include <stddef.h>
#include <mysql.h>

#include "config/config.h"
#include "runtime/pipe/change.h"

/* Every selected base table. 0 ok (n may be 0); -1 with err set. */
int mysql_schema_load(MYSQL *db, const struct config_integration *in,
                      struct ztable ***out, int *n, char *err, size_t errlen);

/*
 * One table, whether or not it is selected (DDL refresh, resync). With in ==
 * NULL no exclude_columns apply: every column in binlog order, as the binlog
 * decoder's table_def hook needs. 0 ok; 1 when the table does not exist
 * (dropped, or a view); -1 with err set.
 */
int mysql_schema_load_one(MYSQL *db, const struct config_integration *in,
                          const char *schema, const char *table,
                          struct ztable **out, char *err, size_t errlen);

void mysql_schema_free(struct ztable **tables, int n);

/*
 * Which tables have a primary key, for `zetl check` and `zetl init`, read
 * from the catalog rows the loader above takes the key from
 * (KEY_COLUMN_USAGE, constraint PRIMARY), so the checks and the copy/stream
 * agree on every table. A user with only SELECT on the tables can read
 * them; MariaDB hides TABLE_CONSTRAINTS from such a user, which made every
 * table look keyless. Names are compared exactly (T and t may both exist).
 * mysql_schema_keyed_load: 0, or -1 with err; free with _free.
 */
struct mysql_keyed {
    MYSQL_RES *res;
    char    **pairs;        /* schema, table, schema, table, ... sorted */
    size_t    n;            /* pairs */
};
int  mysql_schema_keyed_load(MYSQL *db, struct mysql_keyed *k, char *err, size_t errlen);
int  mysql_schema_keyed_has(const struct mysql_keyed *k, const char *schema, const char *table);
/* Tables whose primary key has a column that is not an integer: a resync
 * copies them in one read, not in chunks (runtime/pipe/zkey.h). As above. */
int  mysql_schema_unchunked_load(MYSQL *db, struct mysql_keyed *k, char *err, size_t errlen);
/* Tables with a unique key whose columns are all NOT NULL integers (whole,
 * not prefixes): without a primary key, they still copy in chunks by it
 * (change.h, nuk). As above. */
int  mysql_schema_ukeyed_load(MYSQL *db, struct mysql_keyed *k, char *err, size_t errlen);
void mysql_schema_keyed_free(struct mysql_keyed *k);

/* DATA_TYPE (+ charset, unsignedness) → enum ztype; exposed for the tests. */
enum ztype mysql_schema_map_type(const char *data_type, const char *charset, int is_unsigned);

#endif

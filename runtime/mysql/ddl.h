/*
 * ddl.h — what a QUERY event's statement does to tables.
 *
 * Enough of MySQL's lexer to classify the statements a row-format binlog
 * carries as text: whitespace, comments (slash-star, "-- ", "#"; the body
 * of an executable comment slash-star-bang-50100 is read as code), `quoted` and "quoted"
 * identifiers, qualified names. Never allocates; bounded by the given length
 * (the text is not NUL-terminated). Pure functions, any thread.
 */
#ifndef ZETL_MYSQL_DDL_H
#define ZETL_MYSQL_DDL_H

#include <stddef.h>

/*
 * The nth table (0-based) a statement creates, alters, renames, drops or
 * truncates. Returns enum zddl (ZDDL_CREATE_TABLE, _DROP_, _RENAME_, _ALTER_
 * — CREATE/DROP INDEX count as ALTER; DROP DATABASE is ZDDL_UNSUPPORTED with
 * table ""), -1 for TRUNCATE, 0 when the statement changes no table (GRANT,
 * CREATE VIEW, temporary tables, …) or has no nth table. schema defaults to
 * db when the name is not qualified. DROP TABLE a, b and RENAME TABLE a TO b,
 * c TO d list several tables (for RENAME, the old names).
 */
int mysql_ddl_nth(const char *q, size_t qlen, const char *db, size_t dblen, int nth,
                  char *schema, size_t schemalen, char *table, size_t tablelen);
int mysql_ddl_classify(const char *q, size_t qlen, const char *db, size_t dblen,
                       char *schema, size_t schemalen, char *table, size_t tablelen);

/* RENAME TABLE: the new name of the nth pair. 0 ok, -1 when the statement
 * is not a RENAME TABLE or has no nth pair. */
int mysql_ddl_rename_to(const char *q, size_t qlen, const char *db, size_t dblen, int nth,
                        char *schema, size_t schemalen, char *table, size_t tablelen);

/* 1 when the statement's first word is w1 (and its second w2, when given),
 * case-insensitively, after comments. */
int mysql_stmt_starts_with(const char *q, size_t qlen, const char *w1, const char *w2);

/*
 * The statement's first max characters, for a message: only its qlen bytes
 * are read; well-formed UTF-8 is kept, a control character (newline, tab,
 * …) becomes a space, an invalid byte becomes '?', and "..." follows when
 * it was cut. Always NUL-terminated when outlen > 0.
 * out needs max * 4 + 4 bytes to hold max characters.
 */
#define MYSQL_STMT_QUOTE_MAX 60
void mysql_stmt_quote(char *out, size_t outlen, const char *q, size_t qlen, size_t max);

#endif

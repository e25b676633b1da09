/*
 * names.h — target names: what a source schema, table or column is called in
 * the target (README "Target names").
 *
 *   table    the FIRST tables.rename rule whose `from` is exactly
 *            schema.table gives "schema.table" in the target (the same rule
 *            config_rename_find() picks); else the source's own names
 *   length   every target identifier (schema, table, column) fits the
 *            target's limit: PostgreSQL keeps 63 bytes of a name
 *            (NAMEDATALEN-1), Redshift 127; the http kind has none (the
 *            kind's name_max, target.h: target_driver). A name
 *            within the limit is kept byte for byte. A longer one becomes its
 *            first limit-9 bytes, cut back to a UTF-8 character boundary,
 *            then "_" and 8 lowercase hex digits of the 32-bit FNV-1a hash of
 *            the whole name: deterministic (the same on every run and
 *            machine) and distinct for names that differ anywhere, also
 *            after the cut
 *
 * Two source objects never share one target object: names_clash_columns()
 * finds two columns of a table whose target names are equal (the runtime
 * and `zetl check` refuse such a table, and two tables with one target
 * name, with the reason; tables.c).
 *
 * Pure functions, no I/O, no globals: thread-safe and unit-tested
 * (tests/unit/test_names.c).
 */
#ifndef ZETL_TARGET_NAMES_H
#define ZETL_TARGET_NAMES_H

#include <stddef.h>

#include "config/config.h"
#include "runtime/pipe/change.h"

/* The longest identifier (bytes) the target keeps; 0: no limit. */
size_t names_limit(enum target_kind kind);

/*
 * name as the target calls it, into out (outlen > the limit, or > strlen
 * name when there is none). Returns 1 shortened, 0 kept as is, -1 out too
 * small.
 */
int names_fit(enum target_kind kind, const char *name, char *out, size_t outlen);

/*
 * Target schema and table of source schema.table: the first matching rename
 * rule, then names_fit. *tschema and *tname are malloc'd; 0, or -1 out of memory.
 */
int names_table(const struct config_tables *t, enum target_kind kind, const char *schema,
                const char *table, char **tschema, char **tname);

/*
 * names_table by the rename rules alone, under no length limit: what the
 * operator asked for, which `zetl check` compares with the names a target
 * keeps. Same results as names_table.
 */
int names_renamed(const struct config_tables *t, const char *schema, const char *table,
                  char **tschema, char **tname);

/*
 * The target's definition of src: a copy (ztable_dup) with each column name
 * names_fit'ed; schema and table stay the source's (they name the table in
 * messages and events; the target names travel separately). NULL: out of memory.
 */
struct ztable *names_target_def(enum target_kind kind, const struct ztable *src);

/*
 * Two columns of src whose target names (in tdef, names_target_def of src)
 * are equal: 1 with what clashes in why (both source names and the target
 * name, one line), 0 when every column has a name of its own.
 */
int names_clash_columns(const struct ztable *src, const struct ztable *tdef, char *why, size_t len);

#endif

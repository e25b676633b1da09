/*
 * catalog.h — resolve a relation's columns from pg_catalog for the pgoutput
 * decoder (the pgdec_resolve_fn hook of decoder.h).
 *
 * pgoutput's Relation message names each column's type OID and typmod only.
 * The resolver adds what the catalog knows: format_type(atttypid, atttypmod)
 * as source_type, attnotnull, the primary key in key order (its key columns
 * only: INCLUDE columns are payload; also for tables with REPLICA IDENTITY
 * FULL), enums (ZT_ENUM) and domains (their base type).
 * It runs one query per Relation message on a regular SQL connection (a
 * walsender in COPY mode cannot take queries), with the relation OID as a
 * parameter, and caches the answer per OID, keyed on the message's column
 * names, type OIDs and typmods. The catalog is read "now", which may be later
 * than the stream's position: a column whose type changed since keeps the
 * message's own type; nullability and the key are taken as they are now.
 *
 * Every query waits as w says (pg/pgwait.h: a stop flag, a silence deadline):
 * a dead source link fails the resolve instead of hanging the reader.
 *
 * Thread: a pgcatalog and its PGconn belong to the reader thread.
 */
#ifndef ZETL_PG_CATALOG_H
#define ZETL_PG_CATALOG_H

#include <stddef.h>
#include <stdint.h>

#include <libpq-fe.h>

#include "runtime/pipe/change.h"
#include "runtime/pg/decoder.h"
#include "runtime/pg/pgwait.h"

/*
 * Resolves a relation's columns from the catalog: format_type(atttypid,
 * atttypmod) as source_type when the catalog still has the type the Relation
 * message named, attnotnull, the primary key (pk_ord in key order), enums
 * (ZT_ENUM), domains (their base type). Results are cached by relation OID
 * and keyed on the Relation message's column names, type OIDs and typmods.
 * Use: pgdec_set_resolver(dec, pgcatalog_resolve, cat).
 */
struct pgcatalog;
/* w (borrowed, may be NULL: unbounded) must outlive the catalog. */
struct pgcatalog *pgcatalog_new(PGconn *sql, const struct pgwait *w);
void pgcatalog_free(struct pgcatalog *c);
int pgcatalog_resolve(void *cat, struct ztable *t, const uint32_t *type_oids,
                      const int32_t *typmods, char *err, size_t errlen);

#endif

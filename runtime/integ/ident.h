/*
 * ident.h — whose checkpoint is it? (internal to runtime/)
 *
 * A checkpoint row is found by the integration's name alone. Reuse the name
 * with another source (a new config, a fresh state directory, the same
 * target) and the row of the old source would make zetl skip the initial
 * copy and stream the new source from a position of the old one. So the row
 * also records what it belongs to (target_set_identity): the source kind,
 * the source's identity (source_identity: the server, and for PostgreSQL the
 * database) and a digest of the selected tables. At every round's start:
 *
 *   no checkpoint            the identity is written with the first one
 *   row without identity     written by an earlier zetl: adopts this source's
 *                            identity, with an info event (upgrades keep working)
 *   same kind and identity   resume; a changed table digest (a table added to
 *                            or dropped from the selection) is an info event
 *                            and the new digest is recorded: table-set
 *                            changes are handled as before — unless not one
 *                            selected table is in the target (another
 *                            database of the same server): refused
 *   MySQL/MariaDB, another
 *   server holding the
 *   checkpoint's GTIDs       a failover: resume (warning), record the new server
 *   otherwise                refused: -1 with in->err naming both identities
 *                            and the fix (delete the row, or another name)
 *
 * The http kind keeps its checkpoint in the state directory: nothing to do.
 * Thread: the supervisor's; in->tgt connected, in->tables loaded.
 */
#ifndef ZETL_IDENT_H
#define ZETL_IDENT_H

#include <stddef.h>

#include "runtime/pipe/change.h"

struct integ;

/* found: target_read_checkpoint's answer (1: cp holds the checkpoint). 0, or -1 with in->err. */
int  integ_check_source(struct integ *in, int found, const struct zpos *cp);
/* "N:hex" — count and FNV-1a 64 of the sorted "schema.table" names. */
void ident_tables_digest(const char *const *names, int n, char *buf, size_t len);

#endif

/*
 * drift.h — is every synced table still whole in the target? (internal to
 * runtime/)
 *
 * Someone else's TRUNCATE or mass DELETE of a target table leaves no trace
 * in the source log, so the stream cannot see it. A cheap periodic check
 * can: every apply.drift_check_seconds (default 3600, 0 off) the applier
 * sweeps the integration's `synced` tables, one table at a time (at least
 * DRIFT_GAP_MS apart), comparing SELECT count(*) in the target with the
 * source's, each cut off after DRIFT_COUNT_TIMEOUT_MS (a table too big to
 * count in that time is skipped, with a warning event).
 *
 * No false alarm from changes in flight: a table is counted only while the
 * stream is caught up (nothing queued, no batch open, the source proved
 * current within 3 s), target first, then source. A difference is only a
 * suspicion: the table is counted again DRIFT_CONFIRM_MS later, caught up
 * again, and flagged only when both counts are unchanged and still differ
 * (a change in flight moves one of them). A flagged table goes
 * `resync_required` with the counts and the likely cause in its reason; its
 * changes are then set aside as for any resync_required table, and the
 * other tables keep streaming. Each sweep ends with one info event saying
 * how many tables were whole, changing while counted (counted again at the
 * next sweep), flagged and skipped.
 *
 * Thread: the supervisor's (the applier), between target transactions, on
 * its own target connection; each count opens a source connection of its own.
 */
#ifndef ZETL_DRIFT_H
#define ZETL_DRIFT_H

#include <stdint.h>

#define DRIFT_GAP_MS            1000
#define DRIFT_CONFIRM_MS        3000
#define DRIFT_COUNT_TIMEOUT_MS 10000

struct integ;

struct drift {
    int64_t next_ms;            /* monotonic ms before which nothing is counted */
    int     cursor;             /* the sweep's next table (index into in->tables) */
    int     pending;            /* table counted once with a difference, -1 none */
    int64_t src, tgt;           /* that first count */
    int     whole, moving, flagged, skipped;   /* this sweep's tables, for its summary */
};

/* At a streaming round's start: the first sweep begins one interval later. */
void drift_init(struct drift *d, const struct integ *in);
/* The applier is caught up and outside any target transaction: count at
 * most one table if one is due. Never fails the round. */
void drift_step(struct drift *d, struct integ *in);

#endif

/*
 * batch.h — the row changes of one target transaction, collapsed per key.
 *
 * The applier adds the zrowchange's of one or more committed source
 * transactions, in commit order, then hands the batch to target_apply().
 * Values are borrowed (change.h): zbatch_add() copies every value it keeps
 * into the batch's own arena, so the caller may reuse its buffers at once.
 *
 * Collapse rules, per table, per key (the primary-key columns; the whole row
 * when the table has no key, npk == 0):
 *
 *   keyed tables — each key ends in one final state:
 *     ZB_UPSERT   the key's final full image: the target deletes the key, then
 *                 inserts the image (insert→update→update ⇒ one upsert).
 *     ZB_DELETE   the key must not exist afterwards (insert→delete ⇒ DELETE,
 *                 harmless when the row never reached the target, and correct
 *                 when it existed before the batch).
 *     ZB_PARTIAL  an update whose after image still holds ZV_UNCHANGED (TOAST)
 *                 values that no earlier image in the batch (nor a full before
 *                 image) could supply: an UPDATE of only the known columns.
 *     ZV_UNCHANGED values are filled from the key's earlier image in the batch,
 *     else from the change's own full before image.
 *     A key-changing update = DELETE of the old key + UPSERT of the new key.
 *     A key-changing update that is still partial becomes a ZB_MOVE (UPDATE …
 *     SET key = new … WHERE key = old) in a segment of its own: the segments
 *     of a table are applied in order, so the move sees every earlier change
 *     and every later change sees the move.
 *
 *   keyless tables — a multiset: ZB_COUNT rows hold the net number of copies of
 *     that exact row to add (n > 0) or remove (n < 0). An update is −1 of the
 *     old row and +1 of the new. Removing n copies removes at most n matching
 *     rows (never "all duplicates"), so a keyless table converges to exactly
 *     the source's multiset when each change is applied once — which the
 *     checkpoint guarantees.
 *
 *   TRUNCATE discards everything the batch holds for that table; the target
 *   truncates first, then applies what follows in the batch.
 *
 * Within a segment every key appears once, so deletes, inserts and partial
 * updates may be applied set-based in any order (deletes first).
 *
 * Tables: each distinct source table (schema.name) in the batch gets one
 * struct zb_table, holding a copy of its definition from the first change.
 * The applier must flush the batch before applying a schema change; a change
 * whose definition has a different column count than the batch's copy is
 * refused (-1) so a missed flush cannot mix layouts.
 *
 * Target names: zbatch_add() takes the target schema/table (after rename
 * rules); NULL means the source's. Excluded columns are the applier's to
 * remove (pass a definition and images without them).
 *
 * Thread: a batch belongs to one applier thread; nothing here locks.
 * The structs below are public so the driver and the tests can read them;
 * only batch.c writes them.
 */
#ifndef ZETL_TARGET_BATCH_H
#define ZETL_TARGET_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/pipe/change.h"

enum zb_state {
    ZB_NONE = 0,        /* a slot collapsed away (skip it) */
    ZB_UPSERT,
    ZB_DELETE,
    ZB_PARTIAL,
    ZB_MOVE,
    ZB_COUNT            /* keyless: n copies */
};

struct zb_row {
    uint8_t  state;             /* enum zb_state */
    uint8_t  fresh;             /* keyed: the key's first change in this segment was an
                                   INSERT. By the source's own semantics the row did not
                                   exist when the segment began, so its final image can be
                                   inserted without a delete first (the driver falls back
                                   to delete-and-insert on a unique violation). */
    int32_t  next;              /* hash chain (index into rows), -1 ends */
    int64_t  n;                 /* ZB_COUNT: net copies, + add / − remove */
    int64_t  at_us;             /* the source transaction's time of the row's last change
                                   (zbatch_set_time; 0 unknown): a soft delete's time */
    struct zvalue *image;       /* ncols values in the arena: UPSERT/PARTIAL/MOVE after
                                   image (PARTIAL/MOVE may hold ZV_UNCHANGED), DELETE key
                                   values (other columns ZV_NULL), COUNT the full row */
    struct zvalue *old_key;     /* ZB_MOVE: the key before the update (ncols, key cols set) */
    uint64_t hash;              /* of the key values */
};

struct zb_seg {
    struct zb_row *rows;        /* in add order; states may be ZB_NONE */
    int      nrows, cap;
    int32_t *heads;             /* hash buckets → first row index, -1 empty */
    int      nheads;            /* power of two */
    int      move;              /* 1: this segment is one ZB_MOVE row */
    uint64_t txn;               /* history tables: the source transaction it holds (zbatch.txn) */
};

struct zb_table {
    struct ztable *def;         /* owned copy (ztable_dup) of the source definition */
    const struct ztable *last;  /* last definition pointer seen (lookup cache, names checked too) */
    char    *tschema, *tname;   /* target names (owned) */
    int     *keycols;           /* column indexes of the key: pk order, or all columns */
    int      nkeycols;
    int      keyed;             /* keycols is a key: the primary key, or for a table without
                                   one its unique key of NOT NULL integers (ztable.nuk; on
                                   PostgreSQL the replica identity's index when it is one);
                                   0: keyless, every column, rows counted as a multiset */
    int      history;           /* def->history: a segment per source transaction, so each
                                   transaction's last image of a key is a version */
    int      truncate;          /* 1: truncate before applying the segments */
    int64_t  truncate_us;       /* the truncating transaction's time (a soft delete's) */
    struct zb_seg *segs;
    int      nsegs, capsegs;
    uint64_t inserts, updates, deletes, truncates;  /* source changes added, not collapsed */
};

struct zb_chunk;

struct zbatch {
    struct zb_table *tables;
    int      ntables, captables;
    int      lastidx;           /* table of the previous change (lookup cache) */
    uint64_t nchanges;          /* zbatch_add calls since the last reset */
    size_t   bytes;             /* arena bytes + row slots: the byte budget's measure */
    int      adding_insert;     /* inside zbatch_add of an INSERT (sets zb_row.fresh) */
    struct zb_chunk *arena;     /* bump allocator for images and values */
    int64_t  now_us;            /* the source transaction being added: its time (zbatch_set_time) */
    uint64_t txn;               /* counts zbatch_set_time calls: which transaction is being added */
    int      refused;           /* the last zbatch_add failed on the change's own shape (its
                                   table cannot take it), not on memory */
    char     err[256];
};

struct zbatch *zbatch_new(void);
void   zbatch_free(struct zbatch *b);
/* The time of the source transaction whose changes come next (µs since
 * the epoch: its commit time as its begin knows it), stamped on each row it
 * changes (zb_row.at_us). */
void   zbatch_set_time(struct zbatch *b, int64_t us);
/* Empty the batch for the next transaction; keeps one arena chunk. */
void   zbatch_reset(struct zbatch *b);

/*
 * Add one change (ZOP_INSERT/UPDATE/DELETE/TRUNCATE). tschema/tname: target
 * names, NULL = the source's. Returns 0, or -1 with b->err set (out of memory,
 * a changed table layout, a keyless change without a full row image); b->refused
 * says the change's table cannot take it (the table fails, not the batch).
 */
int    zbatch_add(struct zbatch *b, const struct zrowchange *rc,
                  const char *tschema, const char *tname);

static inline size_t   zbatch_bytes(const struct zbatch *b) { return b->bytes; }
static inline uint64_t zbatch_changes(const struct zbatch *b) { return b->nchanges; }
/* 1 when nothing would be applied (no changes added). */
static inline int      zbatch_empty(const struct zbatch *b) { return b->nchanges == 0; }

/*
 * A batch of only table i of b, borrowing b's storage, for target_apply
 * (which reads the tables alone): the applier applies a batch table by table
 * so that an error names the table at fault. Valid until b changes.
 */
void   zbatch_view(const struct zbatch *b, int i, struct zbatch *one);

/* Equality of two values as key parts (kind and bytes). */
int    zbatch_value_eq(const struct zvalue *a, const struct zvalue *b);

#endif

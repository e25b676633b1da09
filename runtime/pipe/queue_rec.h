/*
 * queue_rec.h — the change queue's record format, and the table definitions
 * its records refer to (internal to runtime/pipe/queue.c).
 *
 * A record body is [u8 kind][payload]; the queue frames it (a length in
 * memory, a length and a checksum in a spool file). Host byte order: the
 * records never leave the process that wrote them.
 *
 *   QREC_BEGIN, QREC_COMMIT  pos end, i64 commit_time_us, u64 xid, u64 bytes,
 *                            u64 commit_lsn
 *   QREC_ROW                 u32 slot, u8 op, u8 flags (1 before, 2 after,
 *                            4 before_key_only), u32 ncols, values (ncols per image)
 *   QREC_SCHEMA              u8 kind, u32 old slot, u32 new slot, str statement, str reason
 *   QREC_HEARTBEAT           pos, i64 now_us
 *   QREC_TABLE               u32 slot, str schema, str name, u64 id, i32 ncols, i32 npk,
 *                            per column: str name, u32 type, i32 length, i16 precision,
 *                            i16 scale, u8 nullable, u8 is_unsigned, u8 is_array,
 *                            i16 pk_ord, str source_type
 *   QREC_TABLES_RESET        (no payload) every slot is free again
 *
 *   pos    u8 kind, str file, u64 offset, str gtid
 *   str    u32 n (0xffffffff = NULL), n bytes, NUL    (decoded in place, no copy)
 *   value  u8 kind; INT/UINT/FLOAT 8 bytes; TEXT/BYTES u32 len, len bytes
 *
 * Slots name table definitions (1-based; 0 = no table). The producer keeps
 * one slot per source ztable pointer (struct qrec_slots) and sends the
 * slot's QREC_TABLE before the first record that uses it, and again whenever
 * the content behind that pointer changed (a source may free a definition
 * and allocate the next at the same address, or alter it in place). After
 * QREC_SLOTS_MAX pointers it starts over with QREC_TABLES_RESET.
 *
 * The consumer (struct qrec_defs) keeps one struct ztable per distinct
 * content, shared by every slot with that content, and frees none before
 * qrec_defs_free: equal content is always the same pointer, and a pointer
 * never changes meaning, for the life of the queue. Memory grows with the
 * distinct definitions seen (tables and their schema changes), not with rows.
 *
 * Decoding checks every length against what is left before reading or
 * allocating, and a slot against the definitions received: a malformed body
 * is -1, never a crash. Decoded values and strings point into the body.
 *
 * Threads: a qrec_slots belongs to the producer, a qrec_defs to the consumer.
 */
#ifndef ZETL_QUEUE_REC_H
#define ZETL_QUEUE_REC_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/pipe/change.h"
#include "runtime/pipe/queue.h"

enum qrec_kind {
    QREC_BEGIN = 1, QREC_ROW, QREC_SCHEMA, QREC_COMMIT, QREC_HEARTBEAT,
    QREC_TABLE, QREC_TABLES_RESET
};

#define QREC_SLOTS_MAX 16384

/* ---- writing: each *_size is the body's exact size, kind byte included ----- */

size_t qrec_txn_size(const struct ztxn *t);
void   qrec_txn_write(uint8_t *p, enum qrec_kind kind, const struct ztxn *t);
/* -1 on a value of unknown kind, or text/bytes with a length and no pointer. */
int    qrec_row_size(const struct zrowchange *rc, uint64_t *size);
void   qrec_row_write(uint8_t *p, uint32_t slot, const struct zrowchange *rc);
size_t qrec_schema_size(const struct zschema_change *sc);
void   qrec_schema_write(uint8_t *p, uint32_t old_slot, uint32_t new_slot,
                         const struct zschema_change *sc);
size_t qrec_heartbeat_size(const struct zpos *pos);
void   qrec_heartbeat_write(uint8_t *p, const struct zpos *pos, int64_t now_us);
size_t qrec_table_size(const struct ztable *t);
void   qrec_table_write(uint8_t *p, uint32_t slot, const struct ztable *t);

/* ---- the producer's slots ----------------------------------------------------- */

struct qrec_slot {
    const struct ztable *src;       /* the source's pointer, only compared */
    struct ztable       *copy;      /* the content last sent for it */
    uint32_t            *lens;      /* copy's string lengths: schema, name, then per
                                       column name, source_type; UINT32_MAX = NULL */
};

struct qrec_slots {
    struct qrec_slot *v;            /* slot s is v[s - 1] */
    uint32_t  n, cap;
    uint32_t *hash;                 /* pointer → slot, open addressing, 0 empty */
    size_t    hcap;                 /* power of two */
    uint32_t  last;                 /* the previous answer, checked first */
};

/* The slot of t (non-NULL): 0 when the consumer has this content for it;
 * 1 when a QREC_TABLE for *slot must go first; 2 when the slots were full and
 * have been forgotten: a QREC_TABLES_RESET, then the QREC_TABLE; -1 out of
 * memory or an invalid definition (negative ncols, columns missing). */
int  qrec_slots_get(struct qrec_slots *s, const struct ztable *t, uint32_t *slot);
void qrec_slots_clear(struct qrec_slots *s);    /* forget every slot, keep the arrays */
void qrec_slots_free(struct qrec_slots *s);

/* ---- the consumer's definitions and decoding -------------------------------------- */

struct qrec_defs {
    struct ztable **by_slot;        /* not owned: pointers into all */
    uint32_t        nslots;
    struct ztable **all;            /* owned, one per distinct content */
    uint64_t       *all_hash;
    size_t          nall, allcap;
    size_t         *set;            /* content hash → index + 1 into all, 0 empty */
    size_t          setcap;         /* power of two */
    struct zvalue  *vals;           /* decoded images, reused */
    size_t          nvals;
};

/* One body: 1 with *out set (an item for the applier), 0 for a record the
 * queue keeps to itself (TABLE, TABLES_RESET), -1 malformed, -2 out of memory. */
int  qrec_decode(struct qrec_defs *d, const uint8_t *body, uint32_t len, struct cq_item *out);
/* Free every definition and buffer; d is empty and reusable afterwards. */
void qrec_defs_free(struct qrec_defs *d);

/* Same content (every field of the table and of each column)? */
int  qrec_table_same(const struct ztable *a, const struct ztable *b);

#endif

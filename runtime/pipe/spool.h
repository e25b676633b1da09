/*
 * spool.h — the change queue's overflow files: append-only files of
 * checksummed records, written by one thread while another reads them.
 *
 * The change queue (runtime/pipe/queue.c) spills the rest of a transaction that
 * does not fit its memory budget into a spool file, and reads it back in
 * order. This module knows files, framing and checksums, not the records'
 * contents: a record is an opaque run of bytes (the queue's kind + payload).
 *
 * File layout: records back to back, each framed as
 *
 *     [u32 len][u32 crc32c(body)][body: len bytes]      (host byte order)
 *
 * with 1 <= len <= SPOOL_RECORD_MAX. The files never outlive the process
 * that wrote them in any useful way (the source replays from its checkpoint
 * after a crash), so the byte order is the host's and there is no file header.
 *
 * Invariants
 *   - A spool is created with O_EXCL, mode 0600, close-on-exec, named
 *     DIR/NAME-SEQ.spool; spool_destroy() closes and unlinks it.
 *     spool_remove_leftovers() deletes every DIR/NAME-<digits>.spool, the
 *     files of a previous process that died before deleting its own.
 *   - The writer buffers; spool_written() counts only bytes handed to the
 *     kernel, and it always lies on a record boundary (a record is written
 *     whole or the write fails). The reader is told that count as `limit`
 *     (the queue publishes it under its lock) and never reads past it, so a
 *     record claiming bytes beyond `limit` is corrupt, not "not yet written".
 *   - The reader checks each record's length (minimum, maximum, against
 *     `limit`) before reading or allocating, and its checksum before handing
 *     it out. Failures are errors with the file, the offset and the cause;
 *     nothing here asserts on file contents.
 *
 * Threads: one writer thread uses spool_reserve/spool_commit/spool_flush/
 * spool_seal, one reader thread uses spool_next; the fields they touch are
 * disjoint, and the path and descriptor are immutable after spool_open, so
 * the two need no lock here beyond the caller publishing `limit`.
 * spool_destroy runs when neither is using the spool any more.
 * Errors: -1 with a message in the caller's err buffer.
 */
#ifndef ZETL_SPOOL_H
#define ZETL_SPOOL_H

#include <stddef.h>
#include <stdint.h>

#define SPOOL_RECORD_MAX   (1u << 30)   /* largest record body, bytes */
#define SPOOL_FRAME        8u           /* len + crc */

struct spool;

/* Create DIR/NAME-SEQ.spool (0600, O_EXCL). */
int  spool_open(struct spool **out, const char *dir, const char *name, uint64_t seq,
                char *err, size_t errlen);
/* Close, unlink and free (NULL is a no-op). */
void spool_destroy(struct spool *s);
const char *spool_path(const struct spool *s);

/* Delete DIR/NAME-<digits>.spool left by an earlier process; returns how many
 * were deleted, or -1 when the directory cannot be read. */
int  spool_remove_leftovers(const char *dir, const char *name, char *err, size_t errlen);

/* ---- writer ------------------------------------------------------------------ */

/* Room for a record body of n bytes: *body points where to write it. May
 * flush the buffer (and fail like spool_flush). Follow with spool_commit. */
int  spool_reserve(struct spool *s, size_t n, uint8_t **body, char *err, size_t errlen);
/* Frame (length, checksum) the body just written into the reserved room. */
int  spool_commit(struct spool *s, char *err, size_t errlen);
/* Hand every buffered record to the kernel (no fsync: the file is a spill
 * area, not a durable log). */
int  spool_flush(struct spool *s, char *err, size_t errlen);
/* Bytes written to the file so far (a record boundary). */
uint64_t spool_written(const struct spool *s);
/* Bytes of every committed record, buffered ones included: where the next
 * record will start (a record boundary). */
uint64_t spool_size(const struct spool *s);
/* Cut the spool back to size bytes, a boundary spool_size returned: the
 * records from there on are gone (the buffer is flushed first). */
int  spool_truncate(struct spool *s, uint64_t size, char *err, size_t errlen);
/* The writer is done: free its buffers (call after a successful flush). */
void spool_seal(struct spool *s);

/* ---- reader ------------------------------------------------------------------ */

/* The record at file offset pos, reading no further than limit. 1 with *body,
 * *len and *next (offset of the following record): *body stays valid until the
 * next spool_next; 0 when pos == limit; -1 on a read error or a corrupt record. */
int  spool_next(struct spool *s, uint64_t pos, uint64_t limit, const uint8_t **body,
                uint32_t *len, uint64_t *next, char *err, size_t errlen);

/* CRC-32C (Castagnoli), continuing from crc (0 to start). */
uint32_t spool_crc32c(uint32_t crc, const void *p, size_t n);

#endif

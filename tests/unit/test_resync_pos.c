/*
 * test_resync_pos.c — what a resync's handoff decides by (runtime/integ/resync.c):
 * zpos_txn_in_copy at and around both kinds of copy position, and the
 * PostgreSQL commit LSN that decision needs, from pgoutput's Begin through
 * the decoder, a queue record (the queue and the resync spool) and the
 * change queue itself to the applier's CQ_BEGIN.
 */
#include "tests/unit/test.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "runtime/pipe/change.h"
#include "runtime/pg/decoder.h"
#include "runtime/pipe/queue.h"
#include "runtime/pipe/queue_rec.h"

static struct zpos lsn_pos(uint64_t lsn)
{
    struct zpos p;
    memset(&p, 0, sizeof p);
    p.kind = ZPOS_LSN;
    p.offset = lsn;
    return p;
}

static struct zpos binlog_pos(const char *file, uint64_t off)
{
    struct zpos p;
    memset(&p, 0, sizeof p);
    p.kind = ZPOS_BINLOG;
    snprintf(p.file, sizeof p.file, "%s", file);
    p.offset = off;
    return p;
}

/* ---- zpos_txn_in_copy ------------------------------------------------------------ */

static void test_in_copy_lsn(void)
{
    const struct zpos cp = lsn_pos(0x16B3800);
    const struct zpos start_before = lsn_pos(0x16B3000), start_after = lsn_pos(0x16B3900);
    CHECK_INT(zpos_txn_in_copy(&start_before, 0x16B37FF, &cp), 1, "a commit one byte below the consistent point is in the copy");
    CHECK_INT(zpos_txn_in_copy(&start_before, 0x16B3800, &cp), 0, "a commit exactly at the consistent point is not in the copy");
    CHECK_INT(zpos_txn_in_copy(&start_before, 0x16B3801, &cp), 0, "a commit past the consistent point is not in the copy");
    /* The end of the previous commit says nothing: other WAL may lie between
     * it and this commit, and the consistent point in that gap. */
    CHECK_INT(zpos_txn_in_copy(&start_before, 0x16B3850, &cp), 0,
              "started before the point but committed after it: not in the copy");
    CHECK_INT(zpos_txn_in_copy(&start_after, 0x16B3700, &cp), 1,
              "the commit LSN decides, not where the transaction started");
    CHECK_INT(zpos_txn_in_copy(&start_before, 0, &cp), 0, "an unknown commit LSN is never in the copy (replayed)");
}

static void test_in_copy_binlog(void)
{
    const struct zpos snap = binlog_pos("binlog.000003", 4567);
    const struct zpos before = binlog_pos("binlog.000003", 4000), at = snap,
                      after = binlog_pos("binlog.000003", 4600), older_file = binlog_pos("binlog.000002", 99999),
                      newer_file = binlog_pos("binlog.000004", 4);
    CHECK_INT(zpos_txn_in_copy(&before, 0, &snap), 1, "a transaction starting before the snapshot position is in the copy");
    CHECK_INT(zpos_txn_in_copy(&at, 0, &snap), 0, "a transaction starting at the snapshot position is not");
    CHECK_INT(zpos_txn_in_copy(&after, 0, &snap), 0, "a transaction starting after it is not");
    CHECK_INT(zpos_txn_in_copy(&older_file, 0, &snap), 1, "an earlier binlog file is in the copy");
    CHECK_INT(zpos_txn_in_copy(&newer_file, 0, &snap), 0, "a later binlog file is not");
    CHECK_INT(zpos_txn_in_copy(&before, 1, &snap), 1, "a commit LSN plays no part for a binlog copy");
}

static void test_in_copy_none(void)
{
    const struct zpos none = {0}, lsn = lsn_pos(100), bl = binlog_pos("binlog.000001", 4);
    CHECK_INT(zpos_txn_in_copy(&lsn, 50, &none), 0, "no exact copy position: nothing is skipped");
    CHECK_INT(zpos_txn_in_copy(&lsn, 0, &bl), 0, "an LSN start never compares with a binlog copy");
}

/* ---- the commit LSN from pgoutput's Begin to the applier ------------------------------ */

struct seen { struct ztxn begin, commit; int nbegin, ncommit; };

static int s_begin(void *c, const struct ztxn *t) { struct seen *s = c; s->begin = *t; s->nbegin++; return 0; }
static int s_commit(void *c, const struct ztxn *t) { struct seen *s = c; s->commit = *t; s->ncommit++; return 0; }

static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (56 - 8 * i)); }

static void test_decoder_begin(void)
{
    struct seen s;
    memset(&s, 0, sizeof s);
    struct zsink sink = { .ctx = &s, .begin = s_begin, .commit = s_commit };
    struct pgdec *d = pgdec_new(&sink);
    CHECK(d != NULL, "decoder created");
    if (!d) return;
    uint8_t b[64];
    /* Begin: 'B', final_lsn, commit time, xid */
    b[0] = 'B'; put64(b + 1, 0x16B3800); put64(b + 9, 0); b[17] = 0; b[18] = 0; b[19] = 0; b[20] = 7;
    CHECK_INT(pgdec_feed(d, 0x16B3700, b, 21), 0, "Begin fed");
    CHECK_INT(s.nbegin, 1, "sink.begin called");
    CHECK_U64(s.begin.commit_lsn, 0x16B3800, "sink.begin sees the commit LSN (Begin's final_lsn)");
    CHECK_INT(s.begin.end.kind, ZPOS_NONE, "the end is not known at begin");
    /* Commit: 'C', flags, commit_lsn, end_lsn, commit time */
    b[0] = 'C'; b[1] = 0; put64(b + 2, 0x16B3800); put64(b + 10, 0x16B3830); put64(b + 18, 0);
    CHECK_INT(pgdec_feed(d, 0x16B3800, b, 26), 0, "Commit fed");
    CHECK_U64(s.commit.commit_lsn, 0x16B3800, "sink.commit keeps the commit LSN");
    CHECK_U64(s.commit.end.offset, 0x16B3830, "and the end is the commit's end LSN");
    pgdec_free(d);
}

static void test_record(void)
{
    struct ztxn t;
    memset(&t, 0, sizeof t);
    t.end = lsn_pos(0x16B3000);
    t.xid = 9;
    t.commit_lsn = 0xFFFFFFFF00000001ULL;
    uint8_t body[4096], work[4096];
    size_t n = qrec_txn_size(&t);
    CHECK(n <= sizeof body, "a transaction record is small");
    qrec_txn_write(body, QREC_COMMIT, &t);
    struct qrec_defs defs;
    memset(&defs, 0, sizeof defs);
    struct cq_item it;
    memset(&it, 0, sizeof it);
    CHECK_INT(qrec_decode(&defs, body, (uint32_t)n, &it), 1, "the record decodes");
    CHECK_U64(it.txn.commit_lsn, 0xFFFFFFFF00000001ULL, "the commit LSN survives a queue record");
    CHECK_U64(it.txn.end.offset, 0x16B3000, "next to the position (the resync marker's start)");
    int refused = 0;
    for (size_t k = 0; k < n; k++) {
        memcpy(work, body, k);
        refused += k == 0 || qrec_decode(&defs, work, (uint32_t)k, &it) < 0;
    }
    CHECK_INT(refused, (long long)n, "every truncation of it is refused");
    qrec_defs_free(&defs);
}

static void test_queue(void)
{
    char dir[] = "/tmp/zetl-test-resync-pos.XXXXXX", err[512];
    struct cqueue *q = NULL;
    if (!mkdtemp(dir)) { CHECK(0, "temp dir"); return; }
    if (cqueue_open(&q, 1 << 20, dir, "rp", err, sizeof err) != 0) {
        printf("# cqueue_open: %s\n", err);
        CHECK(0, "queue opened");
        rmdir(dir);
        return;
    }
    struct zsink s = cqueue_sink(q);
    struct ztxn t;
    memset(&t, 0, sizeof t);
    t.commit_lsn = 0x2000;
    CHECK_INT(s.begin(s.ctx, &t), 0, "begin queued");
    t.end = lsn_pos(0x2030);
    CHECK_INT(s.commit(s.ctx, &t), 0, "commit queued");
    struct cq_item it;
    CHECK_INT(cqueue_pop(q, &it, 1000), 1, "popped");
    CHECK_INT(it.kind, CQ_BEGIN, "BEGIN first");
    CHECK_U64(it.txn.commit_lsn, 0x2000, "the applier's CQ_BEGIN carries the commit LSN");
    CHECK_INT(cqueue_pop(q, &it, 1000), 1, "popped");
    CHECK_INT(it.kind, CQ_COMMIT, "then COMMIT");
    CHECK_U64(it.txn.commit_lsn, 0x2000, "so does its COMMIT");
    cqueue_close(q);
    rmdir(dir);
}

int main(void)
{
    TEST_RUN(test_in_copy_lsn);
    TEST_RUN(test_in_copy_binlog);
    TEST_RUN(test_in_copy_none);
    TEST_RUN(test_decoder_begin);
    TEST_RUN(test_record);
    TEST_RUN(test_queue);
    return test_exit();
}

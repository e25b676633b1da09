/*
 * queue_bench — throughput of the change queue (runtime/pipe/queue.h): a reader
 * thread pushes generated row changes through the sink, an applier thread
 * pops and reads every value; rows/s and MB/s of records, in memory and
 * spilled through a spool file.
 *
 *   queue_bench [--rows N] [--dir DIR] [--quick]
 *
 *   memory   budget 256 MiB, transactions of 100 rows: nothing spills
 *   spilled  budget 1 MiB, transactions of 1,000,000 rows: nearly every
 *            record goes through a spool file (written and read back)
 *
 * Rows are 10 columns (4 integers, 2 floats, 3 texts of 8..40 bytes, 16
 * bytes), about 150 bytes of record each. One line per case:
 *   queue_bench CASE: rows=N seconds=S rows_per_s=R mb_per_s=M record_bytes=B
 *                     mem_peak=P spooled=X
 * Exit status: 0 ok, 1 failure (message on stderr), 2 usage.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/pipe/queue.h"

static struct zcolumn cols[10] = {
    { .name = "id", .type = ZT_INT64, .length = -1, .pk_ord = 1, .source_type = "bigint" },
    { .name = "a", .type = ZT_INT32, .length = -1, .nullable = 1, .source_type = "int" },
    { .name = "b", .type = ZT_INT64, .length = -1, .nullable = 1, .source_type = "bigint" },
    { .name = "c", .type = ZT_INT16, .length = -1, .nullable = 1, .source_type = "smallint" },
    { .name = "price", .type = ZT_FLOAT64, .length = -1, .nullable = 1, .source_type = "double" },
    { .name = "ratio", .type = ZT_FLOAT32, .length = -1, .nullable = 1, .source_type = "float" },
    { .name = "name", .type = ZT_VARCHAR, .length = 64, .nullable = 1, .source_type = "varchar(64)" },
    { .name = "city", .type = ZT_VARCHAR, .length = 64, .nullable = 1, .source_type = "varchar(64)" },
    { .name = "note", .type = ZT_TEXT, .length = -1, .nullable = 1, .source_type = "text" },
    { .name = "hash", .type = ZT_BYTES, .length = 16, .nullable = 1, .source_type = "binary(16)" },
};
static struct ztable table = { .schema = "bench", .name = "orders", .id = 1, .ncols = 10,
                               .cols = cols, .npk = 1 };

static const char text[] = "the quick brown fox jumps over the lazy dog, again and again";

struct run {
    struct cqueue *q;
    uint64_t rows, per_txn;
    int      prod_rc;
    uint64_t got, bad, checksum;
};

static void *reader(void *arg)
{
    struct run *r = arg;
    struct zsink s = cqueue_sink(r->q);
    struct zvalue v[10];
    struct ztxn b, c;
    uint64_t i = 0;

    memset(&b, 0, sizeof b);
    memset(&c, 0, sizeof c);
    c.end.kind = ZPOS_BINLOG;
    strcpy(c.end.file, "binlog.000001");
    while (i < r->rows && !r->prod_rc) {
        if ((r->prod_rc = s.begin(s.ctx, &b)))
            break;
        for (uint64_t k = 0; k < r->per_txn && i < r->rows; k++, i++) {
            v[0] = (struct zvalue){ .kind = ZV_INT, .v.i = (int64_t)i };
            v[1] = (struct zvalue){ .kind = ZV_INT, .v.i = (int64_t)(i * 7) };
            v[2] = (struct zvalue){ .kind = ZV_INT, .v.i = -(int64_t)i };
            v[3] = (i & 15) ? (struct zvalue){ .kind = ZV_INT, .v.i = (int64_t)(i & 0x7fff) }
                            : (struct zvalue){ .kind = ZV_NULL };
            v[4] = (struct zvalue){ .kind = ZV_FLOAT, .v.f = (double)i * 0.25 };
            v[5] = (struct zvalue){ .kind = ZV_FLOAT, .v.f = 0.5 };
            v[6] = (struct zvalue){ .kind = ZV_TEXT, .len = 8 + (uint32_t)(i % 24), .v.p = text };
            v[7] = (struct zvalue){ .kind = ZV_TEXT, .len = 10, .v.p = text + 4 };
            v[8] = (struct zvalue){ .kind = ZV_TEXT, .len = 40, .v.p = text + 10 };
            v[9] = (struct zvalue){ .kind = ZV_BYTES, .len = 16, .v.p = text + 20 };
            struct zrowchange rc = { .op = ZOP_INSERT, .table = &table, .after = v };
            if ((r->prod_rc = s.row(s.ctx, &rc)))
                break;
        }
        c.end.offset = i;
        c.commit_time_us = (int64_t)i;
        if (!r->prod_rc)
            r->prod_rc = s.commit(s.ctx, &c);
    }
    return NULL;
}

static void *applier(void *arg)
{
    struct run *r = arg;
    struct cq_item it;

    while (r->got < r->rows) {
        int rc = cqueue_pop(r->q, &it, 5000);
        if (rc != 1)
            break;
        if (it.kind != CQ_ROW)
            continue;
        if (it.row.after[0].v.i != (int64_t)r->got)
            r->bad++;
        for (int k = 0; k < 10; k++) {
            const struct zvalue *x = &it.row.after[k];
            r->checksum += x->kind == ZV_TEXT || x->kind == ZV_BYTES
                               ? x->len + (uint8_t)(x->len ? x->v.p[x->len - 1] : 0)
                               : x->v.u;
        }
        r->got++;
    }
    return NULL;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int bench(const char *name, const char *dir, size_t budget, uint64_t rows, uint64_t per_txn)
{
    struct run r = { .rows = rows, .per_txn = per_txn };
    struct cqueue_stats st;
    pthread_t pt, ct;
    char err[512];
    double t0, secs;

    if (cqueue_open(&r.q, budget, dir, "bench", err, sizeof err)) {
        fprintf(stderr, "queue_bench: %s\n", err);
        return -1;
    }
    t0 = now_s();
    pthread_create(&ct, NULL, applier, &r);
    pthread_create(&pt, NULL, reader, &r);
    pthread_join(pt, NULL);
    pthread_join(ct, NULL);
    secs = now_s() - t0;
    cqueue_get_stats(r.q, &st);
    if (r.prod_rc || r.got != rows || r.bad) {
        cqueue_error(r.q, err, sizeof err);
        fprintf(stderr, "queue_bench %s: reader rc %d, %llu of %llu rows, %llu out of order: %s\n",
                name, r.prod_rc, (unsigned long long)r.got, (unsigned long long)rows,
                (unsigned long long)r.bad, err);
        cqueue_close(r.q);
        return -1;
    }
    printf("queue_bench %s: rows=%llu seconds=%.3f rows_per_s=%.0f mb_per_s=%.1f record_bytes=%llu mem_peak=%llu spooled=%llu\n",
           name, (unsigned long long)rows, secs, (double)rows / secs,
           (double)st.bytes_total / secs / 1e6, (unsigned long long)st.bytes_total,
           (unsigned long long)st.mem_peak, (unsigned long long)st.spool_bytes_total);
    fflush(stdout);
    cqueue_close(r.q);
    return 0;
}

int main(int argc, char **argv)
{
    uint64_t rows = 2000000;
    const char *dir = NULL;
    char tmpl[256], cmd[300];
    int rc = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--rows") == 0 && i + 1 < argc)
            rows = strtoull(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc)
            dir = argv[++i];
        else if (strcmp(argv[i], "--quick") == 0)
            rows = 200000;
        else {
            fprintf(stderr, "usage: queue_bench [--rows N] [--dir DIR] [--quick]\n");
            return 2;
        }
    }
    if (!rows) {
        fprintf(stderr, "queue_bench: --rows must be positive\n");
        return 2;
    }
    if (!dir) {
        const char *tmp = getenv("TMPDIR");
        snprintf(tmpl, sizeof tmpl, "%s/zetl-qbench-XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(tmpl)) {
            perror("queue_bench: mkdtemp");
            return 1;
        }
    }
    if (bench("memory", dir ? dir : tmpl, 256u << 20, rows, 100) ||
        bench("spilled", dir ? dir : tmpl, 1u << 20, rows, 1000000))
        rc = 1;
    if (!dir) {
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmpl);
        if (system(cmd) != 0)
            fprintf(stderr, "queue_bench: could not remove %s\n", tmpl);
    }
    return rc;
}

/*
 * source_pgstream.c — the PostgreSQL reader (source_stream for a postgres
 * source): the stream from the target's checkpoint, with its liveness and
 * the publication drift check (see source.h and source_pg.h).
 *
 * Liveness: every wait is bounded (pg/pgwait.h) by the reader's stop flag
 * and by a silence deadline; a silent server is probed on a side connection
 * before it is given up on. A stream given up on leaves its walsender
 * holding the slot on the server until wal_sender_timeout (an idle one, as
 * the initial copy's exporting connection, for ever while the dead link's
 * far end stays open); the next connect ends that walsender — it is ours:
 * the pid this process recorded for the slot — instead of failing on "slot
 * is active".
 *
 * Publication drift: at every connect and every PUB_CHECK_MS between
 * transactions, the publication is compared with the selected tables
 * (pgstream_publication_check); a table someone removed from it is added
 * back, and reported to the applier as a schema change it cannot apply
 * (ZDDL_UNSUPPORTED, with the reason), which marks it resync_required: the
 * changes made while it was missing never reached the stream.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/integ/integ.h"
#include "runtime/pg/catalog.h"
#include "runtime/pg/decoder.h"
#include "runtime/pg/stream.h"
#include "runtime/pipe/spool.h"
#include "runtime/source/source.h"
#include "runtime/source/source_pg.h"

#define PUB_CHECK_MS 15000      /* publication drift check while streaming */
#define PUB_CHECK_SILENCE_MS 5000
#define GONE_MAX     32

/* Walsenders this process gave up on, by slot (any reader thread). */
static pthread_mutex_t gone_mu = PTHREAD_MUTEX_INITIALIZER;
static struct { char slot[64]; int pid; } gone[GONE_MAX];

static void gone_set(const char *slot, int pid)
{
    pthread_mutex_lock(&gone_mu);
    int k = -1;
    for (int i = 0; i < GONE_MAX && k < 0; i++)
        if (strcmp(gone[i].slot, slot) == 0) k = i;
    for (int i = 0; i < GONE_MAX && k < 0; i++)
        if (!gone[i].slot[0]) k = i;
    if (k < 0) k = 0;
    snprintf(gone[k].slot, sizeof gone[k].slot, "%s", slot);
    gone[k].pid = pid;
    if (!pid) gone[k].slot[0] = '\0';
    pthread_mutex_unlock(&gone_mu);
}

static int gone_get(const char *slot)
{
    int pid = 0;
    pthread_mutex_lock(&gone_mu);
    for (int i = 0; i < GONE_MAX; i++)
        if (gone[i].slot[0] && strcmp(gone[i].slot, slot) == 0) pid = gone[i].pid;
    pthread_mutex_unlock(&gone_mu);
    return pid;
}

struct pg_reader {
    struct integ *in;
    const struct zsink *sink;
    PGconn *sql;
    const struct pgwait *w;
    struct pgstream_table *pt;  /* the selected tables' names, copied at the start */
    char  *reported;            /* per table: drift already reported this round */
    int    n;
    int    sink_rc;             /* the queue refused a report */
};

static void warn(struct integ *in, const char *msg)
{
    /* The reader thread has no state-log handle: warnings go to stderr only. */
    if (in->log_stderr) fprintf(stderr, "%s warning: %s\n", in->cfg->name, msg);
}

static void on_drift(void *ctx, int i, const char *why)
{
    struct pg_reader *r = ctx;
    if (r->reported[i] || r->sink_rc) return;
    r->reported[i] = 1;
    struct ztable stub = {.schema = (char *)r->pt[i].schema, .name = (char *)r->pt[i].name};
    struct zschema_change sc = {
        .kind = ZDDL_UNSUPPORTED, .old_def = &stub,
        .statement = "ALTER PUBLICATION (found by zetl's publication check)", .reason = why,
    };
    char m[1600];
    snprintf(m, sizeof m, "table %s.%s: %s", r->pt[i].schema, r->pt[i].name, why);
    warn(r->in, m);
    r->sink_rc = r->sink->schema(r->sink->ctx, &sc);
}

static int pub_check(struct pg_reader *r, char *err, size_t errlen)
{
    char e[1024];
    const char *pub = r->in->cfg->source.publication;
    if (pgstream_publication_check(r->sql, r->w, pub, r->pt, r->n, on_drift, r, e, sizeof e) != 0) {
        snprintf(err, errlen, "source %s: %s", r->in->cfg->name, e);
        return -1;
    }
    if (r->sink_rc) {
        snprintf(err, errlen, "source %s: the change queue refused the report of publication %s's drift",
                 r->in->cfg->name, pub);
        return r->sink_rc;
    }
    return 0;
}

/* While streaming: a shorter silence deadline than the stream's, so a check
 * caught by a dying link cannot delay noticing it past ~10 s. */
static int pub_idle(void *ctx, char *err, size_t errlen)
{
    struct pg_reader *r = ctx;
    struct pgwait w = *r->w;
    w.silence_ms = PUB_CHECK_SILENCE_MS;
    const struct pgwait *keep = r->w;
    r->w = &w;
    int rc = pub_check(r, err, errlen);
    r->w = keep;
    if (rc && w.stop && atomic_load(w.stop)) return 0;     /* the stream's stop ends it cleanly */
    return rc;
}

/* Copies the selected tables' names (the applier may reload definitions later). */
static int reader_tables(struct pg_reader *r)
{
    struct integ *in = r->in;
    r->pt = calloc((size_t)in->ntables + 1, sizeof *r->pt);
    r->reported = calloc((size_t)in->ntables + 1, 1);
    if (!r->pt || !r->reported) return -1;
    for (int i = 0; i < in->ntables; i++) {
        if (!in->tables[i].def) continue;
        char *sc = strdup(in->tables[i].def->schema), *nm = strdup(in->tables[i].def->name);
        if (!sc || !nm) { free(sc); free(nm); return -1; }
        r->pt[r->n].schema = sc;
        r->pt[r->n].name = nm;
        r->n++;
    }
    return 0;
}

static void reader_free(struct pg_reader *r)
{
    for (int i = 0; i < r->n; i++) {
        free((char *)r->pt[i].schema);
        free((char *)r->pt[i].name);
    }
    free(r->pt);
    free(r->reported);
}

void source_pg_slot_holder(const char *slot, int pid)
{
    gone_set(slot, pid);
}

int source_pg_slot_reclaim(struct integ *in, PGconn *sql, const struct pgwait *w, char *err, size_t errlen)
{
    const char *slot = in->cfg->source.slot;
    const char *params[1] = {slot};
    char e[512];
    int ours = gone_get(slot);
    /* ha: this process holds the integration's lease, so a walsender on its
     * slot is a member's that lost it (frozen, cut off, powered off): its
     * link may look alive for minutes (wal_sender_timeout), so end it. */
    int leased = atomic_load(&in->ha_epoch) > 0;
    for (int tries = 0;; tries++) {
        PGresult *q = pgwait_exec(sql, w, "SELECT coalesce(active_pid, 0) FROM pg_catalog.pg_replication_slots "
                                          "WHERE slot_name = $1", 1, params, e, sizeof e);
        if (!q || PQresultStatus(q) != PGRES_TUPLES_OK) {
            snprintf(err, errlen, "source %s: looking up slot %s: %s", in->cfg->name, slot,
                     q ? PQresultErrorMessage(q) : e);
            PQclear(q);
            return -1;
        }
        int have = PQntuples(q) == 1, pid = have ? atoi(PQgetvalue(q, 0, 0)) : 0;
        PQclear(q);
        if (!have || !pid || (!leased && (!ours || pid != ours))) {
            if (!pid) gone_set(slot, 0);
            return have;    /* free, or held by someone else: START_REPLICATION says so */
        }
        if (tries == 0) {
            char m[256];
            snprintf(m, sizeof m, pid == ours ? "slot %s is still held by walsender %d of a connection zetl gave "
                                                "up on; ending it"
                                              : "slot %s is held by walsender %d of the ha member that held the lease "
                                                "before this process; ending it",
                     slot, pid);
            warn(in, m);
            char pidtxt[16];
            snprintf(pidtxt, sizeof pidtxt, "%d", pid);
            const char *pp[1] = {pidtxt};
            PQclear(pgwait_exec(sql, w, "SELECT pg_catalog.pg_terminate_backend($1::int)", 1, pp, e, sizeof e));
        }
        if (tries >= 25 || (w->stop && atomic_load(w->stop))) return 1;    /* 5 s */
        struct timespec ts = {0, 200 * 1000000L};
        nanosleep(&ts, NULL);
    }
}

/* The slot must still exist: without it the changes since the checkpoint are
 * gone. 0, SOURCE_POSITION_LOST, or -1 with err. */
static int slot_ready(struct pg_reader *r, char *err, size_t errlen)
{
    struct integ *in = r->in;
    int have = source_pg_slot_reclaim(in, r->sql, r->w, err, errlen);
    if (have < 0) return -1;
    if (have) return 0;
    snprintf(err, errlen,
             "source %s: replication slot %s no longer exists (dropped, or invalidated by max_slot_wal_keep_size); the changes since checkpoint %X/%X are gone, so every table must be resynced",
             in->cfg->name, in->cfg->source.slot, (unsigned)(in->resume.offset >> 32), (unsigned)in->resume.offset);
    return SOURCE_POSITION_LOST;
}

int source_pg_stream(struct integ *in, const struct zsink *sink, char *err, size_t errlen)
{
    const struct config_source *s = &in->cfg->source;
    char ci[8192], e[1024];
    int rc = -1;
    struct pgstream *st = NULL;
    struct pgdec *dec = NULL;
    struct pgcatalog *cat = NULL;
    struct pg_reader r = {.in = in, .sink = sink};
    if (source_pg_conninfo(in, ci, sizeof ci, err, errlen) != 0) return -1;
    struct pgwait w = source_pg_wait(&in->stop_reader, ci);
    r.w = &w;
    r.sql = source_pg_sql_connect(in, &w, err, errlen);
    if (!r.sql) goto out;
    st = pgstream_connect_wait(ci, &w, e, sizeof e);
    if (!st) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, e);
        goto out;
    }
    if (reader_tables(&r) != 0) {
        snprintf(err, errlen, "source %s: out of memory", in->cfg->name);
        goto out;
    }
    if ((rc = slot_ready(&r, err, errlen)) != 0) goto out;
    rc = -1;
    /* From here this connection's walsender may hold the slot: should the
     * link die, the next connect ends it (source_pg_slot_reclaim). */
    source_pg_slot_holder(s->slot, pgstream_backend_pid(st));
    if (pub_check(&r, err, errlen) != 0) goto out;
    dec = pgdec_new(sink);
    cat = pgcatalog_new(r.sql, &w);
    if (!dec || !cat) {
        snprintf(err, errlen, "source %s: out of memory", in->cfg->name);
        goto out;
    }
    pgdec_set_resolver(dec, pgcatalog_resolve, cat);
    pgdec_set_held(dec, &in->held);
    /* Big transactions come while they run and wait in spools in the state
     * directory until their commit (runtime/pg/streamed.h); a dead process's
     * spools are of no use: the server sends those transactions again. */
    if (pgstream_stream_in_progress(st)) {
        char name[300];
        snprintf(name, sizeof name, "%s.streamed", in->cfg->name);
        spool_remove_leftovers(in->root->state_dir, name, e, sizeof e);
        if (pgdec_stream_in_progress(dec, in->root->state_dir, name) != 0) {
            snprintf(err, errlen, "source %s: out of memory", in->cfg->name);
            goto out;
        }
    }
    const char *pubs[1] = {s->publication};
    if (pgstream_start(st, s->slot, in->resume.offset, pubs, 1) != 0) {
        snprintf(err, errlen, "source %s: %s", in->cfg->name, pgstream_error(st));
        goto out;
    }
    struct pgstream_loop loop = {
        .dec = dec, .flushed_lsn = &in->flushed_lsn, .stop = &in->stop_reader,
        .want_position = &in->want_position,
        .status_interval_ms = 1000, .poll_ms = 200,
        .silence_ms = PGWAIT_SILENCE_MS, .probe_ci = ci,
        .idle = pub_idle, .idle_ctx = &r, .idle_ms = PUB_CHECK_MS,
    };
    rc = pgstream_run(st, &loop);
    if (rc == -1 && strncmp(pgstream_error(st), "source ", 7) == 0)
        snprintf(err, errlen, "%s", pgstream_error(st));        /* the drift check's own message */
    else if (rc == -1)
        snprintf(err, errlen, "source %s: %s", in->cfg->name, pgstream_error(st));
out:
    memset(ci, 0, sizeof ci);
    int dead = st && pgstream_dead(st);
    pgstream_close(st);
    pgdec_free(dec);
    pgcatalog_free(cat);
    /* One that failed a wait may sit on a dead link, as may the stream's twin. */
    source_pg_sql_close(r.sql, dead || rc != 0);
    reader_free(&r);
    return rc;
}

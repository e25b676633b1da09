/*
 * stream.c — the walsender connection, publications and the catalog resolver
 * (see stream.h).
 */
#include "runtime/pg/stream.h"
#include "runtime/base/buf.h"
#include "runtime/base/clock.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/pg/pgoutput.h"
#include "runtime/pg/pgwait.h"

/* A wake that yields fewer bytes than this sleeps before the next wait
 * (pgstream_run): COALESCE_US while the stream is behind, COALESCE_LIVE_US
 * while it is live. Well under libpq's 16 kB input buffer: a wake that
 * filled it has more waiting, and must not sleep. */
#define COALESCE_BYTES   4096
#define COALESCE_US      1000
#define COALESCE_LIVE_US  100
/* Behind: the last transaction begun was sent more than this after its
 * commit (both times the server's own clock, so no skew between hosts). */
#define BEHIND_US      100000

struct pgstream {
    PGconn   *conn;
    const struct pgwait *w;     /* waits' stop flag and deadline (&wbuf); NULL: none */
    struct pgwait wbuf;
    uint64_t  received;         /* wal_end from the server */
    int       behind;           /* the last Begin came BEHIND_US or more after its commit */
    int       streaming;        /* in COPY BOTH */
    int       dead;             /* the server stopped answering: close without a goodbye */
    int       in_progress;      /* ask for protocol 2 with streaming 'on' (pgstream_stream_in_progress) */
    char      err[1024];
};

/* ---- small helpers ------------------------------------------------------------ */

static int64_t now_pg_us(void) { return zclock_wall_us() - PGOUT_EPOCH_OFFSET_US; }

/* libpq messages may span lines ("...\n\tThis probably means..."): make them one. */
static const char *one_line(char *buf)
{
    char *o = buf;
    for (const char *p = buf; *p; p++) {
        char ch = (*p == '\n' || *p == '\t' || *p == '\r') ? ' ' : *p;
        if (ch == ' ' && (o == buf || o[-1] == ' ')) continue;
        *o++ = ch;
    }
    while (o > buf && o[-1] == ' ') o--;
    *o = 0;
    return buf;
}

static const char *pqmsg(PGconn *c)
{
    static _Thread_local char buf[400];
    snprintf(buf, sizeof buf, "%s", c ? PQerrorMessage(c) : "no connection");
    return one_line(buf);
}

static const char *resmsg(const PGresult *r)
{
    static _Thread_local char buf[400];
    snprintf(buf, sizeof buf, "%s", r ? PQresultErrorMessage(r) : "no result");
    return one_line(buf);
}

int pgstream_parse_lsn(const char *s, uint64_t *out)
{
    unsigned hi, lo;
    char tail;
    if (!s || sscanf(s, "%X/%X%c", &hi, &lo, &tail) != 2) return -1;
    *out = ((uint64_t)hi << 32) | lo;
    return 0;
}

/* PostgreSQL's rule for slot names (ReplicationSlotValidateName). */
static int slot_name_ok(const char *s)
{
    size_t n = strlen(s);
    if (n == 0 || n > 63) return 0;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_')) return 0;
    return 1;
}

/* ---- connection ------------------------------------------------------------------- */

struct pgstream *pgstream_connect(const char *conninfo, char *err, size_t errlen)
{
    return pgstream_connect_wait(conninfo, NULL, err, errlen);
}

struct pgstream *pgstream_connect_wait(const char *conninfo, const struct pgwait *w, char *err, size_t errlen)
{
    struct pgstream *s = calloc(1, sizeof *s);
    if (!s) { snprintf(err, errlen, "pg stream: out of memory"); return NULL; }
    /* Later keywords override what the expanded conninfo says. */
    const char *keys[] = { "dbname", "replication", "options", "application_name", NULL };
    const char *vals[] = { conninfo, "database",
        "-c DateStyle=ISO -c IntervalStyle=postgres -c TimeZone=UTC "
        "-c extra_float_digits=3 -c bytea_output=hex",
        "zetl", NULL };
    char e[512];
    if (w) {
        s->wbuf = *w;
        s->w = &s->wbuf;
    }
    s->conn = pgwait_connect(keys, vals, w, 0, e, sizeof e);
    if (!s->conn) {
        snprintf(err, errlen, "pg stream: replication connection failed: %s "
                 "(the user needs the REPLICATION attribute and pg_hba.conf must allow it)", e);
        pgstream_close(s);
        return NULL;
    }
    return s;
}

void pgstream_close(struct pgstream *s)
{
    if (!s) return;
    if (s->dead) pgwait_abandon(s->conn);
    else if (s->conn) PQfinish(s->conn);
    free(s);
}

const char *pgstream_error(const struct pgstream *s) { return s->err; }
int pgstream_server_version(const struct pgstream *s) { return PQserverVersion(s->conn); }

int pgstream_stream_in_progress(struct pgstream *s)
{
    s->in_progress = PQserverVersion(s->conn) >= 140000;
    return s->in_progress;
}
uint64_t pgstream_received_lsn(const struct pgstream *s) { return s->received; }
int pgstream_dead(const struct pgstream *s) { return s->dead; }
int pgstream_backend_pid(const struct pgstream *s) { return PQbackendPID(s->conn); }

/* Runs a replication command; returns the result (caller clears) or NULL with err set. */
static PGresult *repl_exec(struct pgstream *s, const char *cmd, const char *what, ExecStatusType want)
{
    char e[400];
    PGresult *r = pgwait_exec(s->conn, s->w, cmd, -1, NULL, e, sizeof e);
    if (!r) s->dead = 1;
    if (!r || PQresultStatus(r) != want) {
        snprintf(s->err, sizeof s->err, "pg stream: %s failed: %s", what, r ? resmsg(r) : e);
        PQclear(r);
        return NULL;
    }
    return r;
}

int pgstream_identify(struct pgstream *s, struct pgstream_sysinfo *out)
{
    memset(out, 0, sizeof *out);
    PGresult *r = repl_exec(s, "IDENTIFY_SYSTEM", "IDENTIFY_SYSTEM", PGRES_TUPLES_OK);
    if (!r) return -1;
    int rc = -1;
    if (PQntuples(r) != 1 || PQnfields(r) < 4) {
        snprintf(s->err, sizeof s->err, "pg stream: IDENTIFY_SYSTEM returned %d rows of %d fields, expected 1 of 4",
                 PQntuples(r), PQnfields(r));
        goto out;
    }
    snprintf(out->systemid, sizeof out->systemid, "%s", PQgetvalue(r, 0, 0));
    out->timeline = (uint32_t)strtoul(PQgetvalue(r, 0, 1), NULL, 10);
    if (pgstream_parse_lsn(PQgetvalue(r, 0, 2), &out->xlogpos)) {
        snprintf(s->err, sizeof s->err, "pg stream: IDENTIFY_SYSTEM returned a malformed xlogpos \"%.40s\"",
                 PQgetvalue(r, 0, 2));
        goto out;
    }
    if (PQgetisnull(r, 0, 3)) {
        snprintf(s->err, sizeof s->err, "pg stream: the connection is physical replication; "
                 "logical replication needs a database (replication=database)");
        goto out;
    }
    snprintf(out->dbname, sizeof out->dbname, "%s", PQgetvalue(r, 0, 3));
    rc = 0;
out:
    PQclear(r);
    return rc;
}

int pgstream_create_slot_send(struct pgstream *s, const char *slot, int temporary)
{
    if (!slot_name_ok(slot)) {
        snprintf(s->err, sizeof s->err, "pg stream: slot name \"%.80s\" is invalid; use 1-63 of a-z, 0-9 and _", slot);
        return -1;
    }
    char cmd[200], e[400];
    snprintf(cmd, sizeof cmd, "CREATE_REPLICATION_SLOT \"%s\"%s LOGICAL pgoutput EXPORT_SNAPSHOT",
             slot, temporary ? " TEMPORARY" : "");
    if (pgwait_send(s->conn, cmd, -1, NULL, e, sizeof e) != 0) {
        s->dead = 1;
        snprintf(s->err, sizeof s->err, "pg stream: CREATE_REPLICATION_SLOT failed: %s", e);
        return -1;
    }
    return 0;
}

int pgstream_create_slot(struct pgstream *s, const char *slot, int temporary,
                         char *snapshot, size_t snaplen, uint64_t *consistent_lsn)
{
    if (pgstream_create_slot_send(s, slot, temporary) != 0) return -1;
    return pgstream_create_slot_finish(s, slot, snapshot, snaplen, consistent_lsn);
}

int pgstream_create_slot_finish(struct pgstream *s, const char *slot, char *snapshot, size_t snaplen,
                                uint64_t *consistent_lsn)
{
    char e[400];
    PGresult *r = pgwait_collect(s->conn, s->w, e, sizeof e);
    if (!r) s->dead = 1;
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(s->err, sizeof s->err, "pg stream: CREATE_REPLICATION_SLOT failed: %s", r ? resmsg(r) : e);
        PQclear(r);
        return -1;
    }
    int rc = -1;
    if (PQntuples(r) != 1 || PQnfields(r) < 3 ||
        pgstream_parse_lsn(PQgetvalue(r, 0, 1), consistent_lsn)) {
        snprintf(s->err, sizeof s->err, "pg stream: CREATE_REPLICATION_SLOT %s returned an unexpected result", slot);
        goto out;
    }
    if (snapshot && snaplen) snprintf(snapshot, snaplen, "%s", PQgetvalue(r, 0, 2));
    rc = 0;
out:
    PQclear(r);
    return rc;
}

int pgstream_drop_slot(struct pgstream *s, const char *slot)
{
    if (!slot_name_ok(slot)) {
        snprintf(s->err, sizeof s->err, "pg stream: slot name \"%.80s\" is invalid; use 1-63 of a-z, 0-9 and _", slot);
        return -1;
    }
    char cmd[200];
    snprintf(cmd, sizeof cmd, "DROP_REPLICATION_SLOT \"%s\" WAIT", slot);
    PGresult *r = repl_exec(s, cmd, "DROP_REPLICATION_SLOT", PGRES_COMMAND_OK);
    if (!r) return -1;
    PQclear(r);
    return 0;
}

int pgstream_start(struct pgstream *s, const char *slot, uint64_t start_lsn,
                   const char *const *publications, int npub)
{
    if (!slot_name_ok(slot)) {
        snprintf(s->err, sizeof s->err, "pg stream: slot name \"%.80s\" is invalid; use 1-63 of a-z, 0-9 and _", slot);
        return -1;
    }
    if (npub < 1) {
        snprintf(s->err, sizeof s->err, "pg stream: START_REPLICATION needs at least one publication");
        return -1;
    }
    /* publication_names is a string literal holding a list of quoted identifiers. */
    size_t cap = 256;
    for (int i = 0; i < npub; i++) cap += 4 * strlen(publications[i]) + 8;
    char *cmd = malloc(cap);
    if (!cmd) { snprintf(s->err, sizeof s->err, "pg stream: out of memory"); return -1; }
    int n = snprintf(cmd, cap, "START_REPLICATION SLOT \"%s\" LOGICAL %X/%X (proto_version '%s', publication_names '",
                     slot, (unsigned)(start_lsn >> 32), (unsigned)start_lsn,
                     s->in_progress ? "2', streaming 'on" : "1");
    size_t o = (size_t)n;
    for (int i = 0; i < npub; i++) {
        const char *p = publications[i];
        if (!*p || strchr(p, '\\')) {
            snprintf(s->err, sizeof s->err, "pg stream: publication name \"%.80s\" is empty or holds a backslash", p);
            free(cmd);
            return -1;
        }
        if (i) cmd[o++] = ',';
        cmd[o++] = '"';
        for (; *p; p++) {
            if (*p == '"') cmd[o++] = '"';          /* identifier quoting */
            if (*p == '\'') cmd[o++] = '\'';        /* literal quoting */
            cmd[o++] = *p;
        }
        cmd[o++] = '"';
    }
    snprintf(cmd + o, cap - o, "')");
    char e[400];
    PGresult *r = pgwait_exec(s->conn, s->w, cmd, -1, NULL, e, sizeof e);
    free(cmd);
    if (!r) s->dead = 1;
    if (!r || PQresultStatus(r) != PGRES_COPY_BOTH) {
        snprintf(s->err, sizeof s->err, "pg stream: START_REPLICATION of slot %s failed: %s", slot,
                 r ? resmsg(r) : e);
        PQclear(r);
        return -1;
    }
    PQclear(r);
    s->streaming = 1;
    if (start_lsn > s->received) s->received = start_lsn;
    return 0;
}

/* ---- the loop ------------------------------------------------------------------------ */

static int stream_loop(struct pgstream *s, const struct pgstream_loop *l);
#define TICK_STOP 0x7a57        /* the decoder's hand-off ended by a stop: no error (replay_tick) */

static int send_status(struct pgstream *s, uint64_t flushed, int reply)
{
    uint8_t msg[PGOUT_STATUS_LEN];
    pgout_build_status(msg, flushed, flushed, flushed, now_pg_us(), reply);
    if (PQputCopyData(s->conn, (const char *)msg, sizeof msg) != 1 || PQflush(s->conn) != 0) {
        snprintf(s->err, sizeof s->err, "pg stream: sending the standby status update failed: %s", pqmsg(s->conn));
        return -1;
    }
    return 0;
}

/* One CopyData message from the server. Returns 0, -1 (err set) or the sink's value. */
static int handle(struct pgstream *s, const struct pgstream_loop *l, const char *buf, int n)
{
    struct rd r;
    struct pgout_copy c;
    rd_init(&r, buf, (size_t)n);
    int rc = pgout_parse_copy(&r, &c);
    if (rc) {
        pgout_format_error(s->err, sizeof s->err, &r, rc, n ? (uint8_t)buf[0] : 0, s->received);
        return -1;
    }
    if (c.tag == 'w') {
        if (c.w.wal_end > s->received) s->received = c.w.wal_end;
        rc = pgdec_feed(l->dec, c.w.start_lsn, c.w.data, c.w.len);
        if (rc == 0 && c.w.len > 0 && c.w.data[0] == 'B')   /* the decoder has its commit time */
            s->behind = pgdec_time_to_unix_us(c.w.send_time) - pgdec_txn_commit_time(l->dec) >= BEHIND_US;
        if (rc == TICK_STOP) return 0;          /* the loop sees the stop */
        if (rc && pgdec_error(l->dec)[0]) {
            snprintf(s->err, sizeof s->err, "%s", pgdec_error(l->dec));
            return -1;
        }
        return rc;
    }
    if (c.k.wal_end > s->received) s->received = c.k.wal_end;
    if (c.k.reply_requested && send_status(s, atomic_load(l->flushed_lsn), 0)) return -1;
    return pgdec_keepalive(l->dec, c.k.wal_end, c.k.send_time);
}

/* Clean end: status, CopyDone, drain the server's remaining data and results.
 * The drain waits 1 s at most, and not at all for a server that has gone
 * quiet: a stop is answered at once whatever the link does. */
static int finish(struct pgstream *s, uint64_t flushed, int quiet)
{
    if (quiet) {
        s->dead = 1;            /* pgstream_close: no goodbye into a dead link */
        s->streaming = 0;
        return 0;
    }
    int rc = send_status(s, flushed, 0);
    if (PQputCopyEnd(s->conn, NULL) != 1 || PQflush(s->conn) != 0) {
        snprintf(s->err, sizeof s->err, "pg stream: ending the stream failed: %s", pqmsg(s->conn));
        return -1;
    }
    s->streaming = 0;
    int64_t deadline = zclock_mono_ms() + 1000;
    for (;;) {
        char *buf = NULL;
        int n = PQgetCopyData(s->conn, &buf, 1);
        if (buf) PQfreemem(buf);
        if (n > 0) continue;
        if (n == 0) {
            int64_t left = deadline - zclock_mono_ms();
            if (left <= 0) { s->dead = 1; break; }
            struct pollfd p = { .fd = PQsocket(s->conn), .events = POLLIN };
            if (poll(&p, 1, (int)(left > 200 ? 200 : left)) > 0 && !PQconsumeInput(s->conn)) break;
            continue;
        }
        break;      /* -1: server's CopyDone; -2: error */
    }
    /* CommandComplete for START_REPLICATION, then ReadyForQuery: the connection is reusable. */
    while (!s->dead) {
        if (zclock_mono_ms() >= deadline) { s->dead = 1; break; }
        if (PQisBusy(s->conn)) {
            struct pollfd p = { .fd = PQsocket(s->conn), .events = POLLIN };
            if (poll(&p, 1, 200) > 0 && !PQconsumeInput(s->conn)) break;
            continue;
        }
        PGresult *r = PQgetResult(s->conn);
        if (!r) break;
        PQclear(r);
    }
    return rc;
}

/* The connection failed: the message names the server, never the conninfo. */
static int lost(struct pgstream *s, const char *what)
{
    char where[300];
    s->dead = 1;
    snprintf(s->err, sizeof s->err, "pg stream: %s the server at %s: %s", what,
             pgwait_where(s->conn, where, sizeof where), pqmsg(s->conn));
    return -1;
}

/*
 * Nothing from the server for silence ms although a reply is due: probe the
 * walsender through a side connection (pgwait_probe) and go on if it is
 * alive and busy (decoding a large transaction, it answers late); else the
 * link or the server is dead. 0 go on (*ask restarted), -1 with err.
 */
static int check_silence(struct pgstream *s, const struct pgstream_loop *l, int64_t now, int64_t *ask)
{
    int silence = l->silence_ms > 0 ? l->silence_ms : PGWAIT_SILENCE_MS;
    if (!*ask || now - *ask < silence) return 0;
    char why[300] = "no liveness probe was possible", where[300];
    if (l->probe_ci) {
        int alive = pgwait_probe(l->probe_ci, PQbackendPID(s->conn), l->stop, why, sizeof why);
        if (alive == 1) { *ask = zclock_mono_ms(); return 0; }
        if (alive == PGWAIT_STOPPED) return 0;      /* the loop's stop check ends it */
    }
    s->dead = 1;
    snprintf(s->err, sizeof s->err,
             "pg stream: no answer from the PostgreSQL server at %s for %d s although a reply was asked for, and %s: "
             "the network link or the server is dead (zetl reconnects when it answers again)",
             pgwait_where(s->conn, where, sizeof where), (int)((now - *ask) / 1000), why);
    return -1;
}

/*
 * While the decoder hands on a streamed transaction from its spool (it may
 * take minutes for millions of rows) nothing reads the socket: a status
 * update every second tells the walsender we live (else wal_sender_timeout
 * ends the stream), and a stop ends the hand-off at once.
 */
struct tick { struct pgstream *s; const struct pgstream_loop *l; int64_t next; };

static int replay_tick(void *ctx)
{
    struct tick *t = ctx;
    if (atomic_load(t->l->stop)) return TICK_STOP;
    int64_t now = zclock_mono_ms();
    if (now < t->next) return 0;
    t->next = now + 1000;
    return send_status(t->s, atomic_load(t->l->flushed_lsn), 0);
}

int pgstream_run(struct pgstream *s, const struct pgstream_loop *l)
{
    struct tick tk = {.s = s, .l = l};
    pgdec_set_tick(l->dec, replay_tick, &tk);
    int rc = stream_loop(s, l);
    pgdec_set_tick(l->dec, NULL, NULL);
    return rc;
}

static int stream_loop(struct pgstream *s, const struct pgstream_loop *l)
{
    if (!s->streaming) {
        snprintf(s->err, sizeof s->err, "pg stream: pgstream_run called before pgstream_start");
        return -1;
    }
    int interval = l->status_interval_ms > 0 ? l->status_interval_ms : 10000;
    int poll_ms = l->poll_ms > 0 ? l->poll_ms : 200;
    int64_t next_status = zclock_mono_ms() + interval;
    int64_t last_rx = zclock_mono_ms();    /* the last byte from the server */
    int64_t ask = 0;                /* when we asked for a reply that has not come; 0 none */
    int64_t next_idle = zclock_mono_ms() + l->idle_ms;
    uint64_t last_sent = 0;
    int handled = 0;                /* bytes since the last wait for the socket */

    for (;;) {
        int64_t now = zclock_mono_ms();
        if (atomic_load(l->stop))
            return finish(s, atomic_load(l->flushed_lsn), ask && now - ask > 1000);
        uint64_t flushed = atomic_load(l->flushed_lsn);
        int want = l->want_position && !pgdec_in_txn(l->dec) && !ask && atomic_exchange(l->want_position, 0);
        if (want || now >= next_status || (flushed != last_sent && now + interval / 2 >= next_status)) {
            /* Outside a transaction, ask for an immediate keepalive: its
             * wal_end proves we are current (lag 0) and lets an idle slot's
             * checkpoint move on, instead of waiting wal_sender_timeout/2.
             * Inside one, ask too once the server has been quiet for two
             * seconds: its answer is the proof that the link is alive. */
            int reply = !pgdec_in_txn(l->dec) || now - last_rx >= 2000;
            if (send_status(s, flushed, reply)) return -1;
            if (reply && !ask) ask = now;
            last_sent = flushed;
            next_status = now + interval;
        }
        /* Not while the server owes us a reply: liveness first (check_silence). */
        if (l->idle && now >= next_idle && !pgdec_in_txn(l->dec) && !(ask && now - ask > 2000)) {
            int rc = l->idle(l->idle_ctx, s->err, sizeof s->err);
            if (rc) return rc;
            next_idle = zclock_mono_ms() + l->idle_ms;
            continue;
        }

        char *buf = NULL;
        int n = PQgetCopyData(s->conn, &buf, 1);
        if (n > 0) {
            last_rx = now;
            ask = 0;
            int rc = handle(s, l, buf, n);
            PQfreemem(buf);
            if (rc) return rc;
            if (handled < COALESCE_BYTES) handled += n;     /* no overflow on a long run */
            continue;
        }
        if (n == 0 && handled > 0 && handled < COALESCE_BYTES) {
            /* A busy stream that this thread drains faster than the walsender
             * writes arrives a message or two per wake: a poll, a recv and a
             * wake-up of this thread for each ~100-byte message, which cost
             * more CPU than decoding it (catch-up of 50k small transactions:
             * 2.2 s of system time against 0.5 s of user time) and take a
             * core from the walsender, the stream's real bottleneck. Let
             * COALESCE_US of the stream gather in the socket and read it in
             * one go; it delays a change by at most that. A millisecond
             * only while behind (a backlog): on a live stream a transaction
             * comes in one burst of messages, which a tenth of that gathers,
             * and a millisecond was lag added to each transaction (stream_pg
             * at 5k rows/s: received 1.2 ms after its commit, p50, against
             * 0.5 ms). Not sleeping at all cost three times the CPU at 20k
             * rows/s, taken from the walsender. */
            handled = 0;
            struct timespec ts = {0, (s->behind ? COALESCE_US : COALESCE_LIVE_US) * 1000L};
            nanosleep(&ts, NULL);
            if (!PQconsumeInput(s->conn)) return lost(s, "connection lost to");
            continue;
        }
        if (n == 0) {
            handled = 0;
            int wait = (int)(next_status - now);
            if (wait > poll_ms) wait = poll_ms;
            if (wait < 0) wait = 0;
            struct pollfd p = { .fd = PQsocket(s->conn), .events = POLLIN };
            int pr = poll(&p, 1, wait);
            if (pr < 0 && errno != EINTR) {
                snprintf(s->err, sizeof s->err, "pg stream: poll failed: %s", strerror(errno));
                return -1;
            }
            if (pr > 0 && !PQconsumeInput(s->conn)) return lost(s, "connection lost to");
            if (pr == 0 && check_silence(s, l, zclock_mono_ms(), &ask) != 0) return -1;
            continue;
        }
        s->streaming = 0;
        if (n == -1) {
            PGresult *r = PQgetResult(s->conn);
            snprintf(s->err, sizeof s->err, "pg stream: the server ended the replication stream%s%s",
                     r && PQresultStatus(r) == PGRES_FATAL_ERROR ? ": " : "",
                     r && PQresultStatus(r) == PGRES_FATAL_ERROR ? resmsg(r) : "");
            PQclear(r);
            while ((r = PQgetResult(s->conn)) != NULL) PQclear(r);
            return -1;
        }
        return lost(s, "reading the replication stream from");
    }
}

/* ---- publications ------------------------------------------------------------------- */

/* "schema"."name" quoted into a malloc'd string, or NULL. */
static char *qualified(PGconn *c, const char *schema, const char *name)
{
    char *a = PQescapeIdentifier(c, schema, strlen(schema));
    char *b = PQescapeIdentifier(c, name, strlen(name));
    char *out = NULL;
    if (a && b && (out = malloc(strlen(a) + strlen(b) + 2)) != NULL)
        sprintf(out, "%s.%s", a, b);
    PQfreemem(a);
    PQfreemem(b);
    return out;
}

int pgstream_publication_ensure(PGconn *sql, const struct pgwait *w, const char *name,
                                const struct pgstream_table *tables, int ntables, char *err, size_t errlen)
{
    char e[400];
    int rc = -1;
    char *qname = NULL;
    struct zbuf stmt = { 0 }, missing = { 0 };
    PGresult *r = NULL;
    const char *params[3];

    if (ntables < 1) { snprintf(err, errlen, "publication %s: no tables to publish", name); return -1; }
    qname = PQescapeIdentifier(sql, name, strlen(name));
    if (!qname) { snprintf(err, errlen, "publication %s: %s", name, pqmsg(sql)); goto out; }

    params[0] = name;
    r = pgwait_exec(sql, w, "SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate "
                            "FROM pg_catalog.pg_publication WHERE pubname = $1", 1, params, e, sizeof e);
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "publication %s: looking it up failed: %s", name, r ? resmsg(r) : e);
        goto out;
    }
    if (PQntuples(r) == 0) {
        PQclear(r);
        r = NULL;
        zbuf_puts(&stmt, "CREATE PUBLICATION ");
        zbuf_puts(&stmt, qname);
        zbuf_puts(&stmt, " FOR TABLE ");
        for (int i = 0; i < ntables; i++) {
            char *q = qualified(sql, tables[i].schema, tables[i].name);
            if (!q) goto oom;
            if (i) zbuf_puts(&stmt, ", ");
            zbuf_puts(&stmt, q);
            free(q);
        }
        if (stmt.oom) goto oom;
        r = pgwait_exec(sql, w, stmt.p, -1, NULL, e, sizeof e);
        if (PQresultStatus(r) != PGRES_COMMAND_OK) {
            snprintf(err, errlen, "publication %s: CREATE PUBLICATION failed: %s "
                     "(the user must own the tables, or be a superuser)", name, r ? resmsg(r) : e);
            goto out;
        }
        rc = 0;
        goto out;
    }

    /* Adopt: it must publish every operation and every table. */
    int all = PQgetvalue(r, 0, 0)[0] == 't';
    const char *ops[] = { "insert", "update", "delete", "truncate" };
    char opsbad[64] = "";
    for (int i = 0; i < 4; i++) {
        if (PQgetvalue(r, 0, i + 1)[0] != 't') {
            if (opsbad[0]) strcat(opsbad, ", ");
            strcat(opsbad, ops[i]);
        }
    }
    PQclear(r);
    r = NULL;
    if (opsbad[0]) {
        snprintf(err, errlen, "publication %s exists but does not publish %s; run: ALTER PUBLICATION %s SET (publish = 'insert, update, delete, truncate')",
                 name, opsbad, qname);
        goto out;
    }
    if (all) { rc = 0; goto out; }
    for (int i = 0; i < ntables; i++) {
        params[0] = name;
        params[1] = tables[i].schema;
        params[2] = tables[i].name;
        r = pgwait_exec(sql, w, "SELECT 1 FROM pg_catalog.pg_publication_tables "
                                "WHERE pubname = $1 AND schemaname = $2 AND tablename = $3", 3, params, e, sizeof e);
        if (PQresultStatus(r) != PGRES_TUPLES_OK) {
            snprintf(err, errlen, "publication %s: checking its tables failed: %s", name, r ? resmsg(r) : e);
            goto out;
        }
        if (PQntuples(r) == 0) {
            char *q = qualified(sql, tables[i].schema, tables[i].name);
            if (!q) goto oom;
            if (missing.len) zbuf_puts(&missing, ", ");
            zbuf_puts(&missing, q);
            free(q);
            if (missing.oom) goto oom;
        }
        PQclear(r);
        r = NULL;
    }
    if (missing.len) {
        snprintf(err, errlen, "publication %s exists but does not include %s; run: ALTER PUBLICATION %s ADD TABLE %s",
                 name, missing.p, qname, missing.p);
        goto out;
    }
    rc = 0;
    goto out;
oom:
    snprintf(err, errlen, "publication %s: out of memory", name);
out:
    PQclear(r);
    PQfreemem(qname);
    zbuf_free(&stmt);
    zbuf_free(&missing);
    return rc;
}

/* Runs one repair statement; 0, 1 when the table no longer exists (dropped
 * at the source meanwhile: not drift), or -1 with the server's message in e. */
static int repair(PGconn *sql, const struct pgwait *w, const char *stmt, char *e, size_t elen)
{
    PGresult *r = pgwait_exec(sql, w, stmt, 0, NULL, e, elen);
    if (!r) return -1;
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        const char *state = PQresultErrorField(r, PG_DIAG_SQLSTATE);
        rc = state && strcmp(state, "42P01") == 0 ? 1 : -1;       /* undefined_table */
        snprintf(e, elen, "%s", resmsg(r));
    }
    PQclear(r);
    return rc;
}

int pgstream_publication_check(PGconn *sql, const struct pgwait *w, const char *name,
                               const struct pgstream_table *tables, int ntables,
                               void (*drift)(void *ctx, int i, const char *why), void *ctx,
                               char *err, size_t errlen)
{
    const char *params[1] = { name };
    char e[512], why[1400], *qname = NULL, *stmt = NULL;
    int rc = -1;
    PGresult *r = pgwait_exec(sql, w, "SELECT puballtables, pubinsert, pubupdate, pubdelete, pubtruncate "
                                      "FROM pg_catalog.pg_publication WHERE pubname = $1", 1, params, e, sizeof e);
    if (!r) { snprintf(err, errlen, "publication %s: checking it: %s", name, e); return -1; }
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "publication %s: checking it: %s", name, resmsg(r));
        goto out;
    }
    if (PQntuples(r) == 0) {
        snprintf(err, errlen, "publication %s no longer exists (dropped at the source): the server cannot stream "
                 "without it, and the changes since it was dropped are lost; delete and re-add the integration "
                 "(a fresh slot, publication and copy)", name);
        goto out;
    }
    int all = PQgetvalue(r, 0, 0)[0] == 't';
    char opsbad[64] = "";
    const char *ops[] = { "insert", "update", "delete", "truncate" };
    for (int i = 0; i < 4; i++) {
        if (PQgetvalue(r, 0, i + 1)[0] == 't') continue;
        if (opsbad[0]) strcat(opsbad, ", ");
        strcat(opsbad, ops[i]);
    }
    PQclear(r);
    r = NULL;
    qname = PQescapeIdentifier(sql, name, strlen(name));
    if (!qname) { snprintf(err, errlen, "publication %s: %s", name, pqmsg(sql)); goto out; }
    if (opsbad[0]) {
        char fix[600];
        snprintf(fix, sizeof fix, "ALTER PUBLICATION %s SET (publish = 'insert, update, delete, truncate')", qname);
        int bad = repair(sql, w, fix, e, sizeof e) != 0;
        snprintf(why, sizeof why, bad
                 ? "publication %s stopped publishing %s at the source: those changes are lost from the stream since then; setting it back failed (%s); run: %s, then resync the table"
                 : "publication %s stopped publishing %s at the source: those changes are lost from the stream since then; zetl set it back — resync the table to repair it exactly%s%s",
                 name, opsbad, bad ? e : "", bad ? fix : "");
        for (int i = 0; i < ntables; i++) drift(ctx, i, why);
    }
    if (all) { rc = 0; goto out; }

    /* The tables it names, and (PostgreSQL 15+) the schemas it publishes whole. */
    r = pgwait_exec(sql, w, PQserverVersion(sql) >= 150000
        ? "SELECT n.nspname, c.relname FROM pg_catalog.pg_publication p"
          " JOIN pg_catalog.pg_publication_rel pr ON pr.prpubid = p.oid"
          " JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid"
          " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE p.pubname = $1"
          " UNION ALL SELECT n.nspname, NULL FROM pg_catalog.pg_publication p"
          " JOIN pg_catalog.pg_publication_namespace pn ON pn.pnpubid = p.oid"
          " JOIN pg_catalog.pg_namespace n ON n.oid = pn.pnnspid WHERE p.pubname = $1"
        : "SELECT n.nspname, c.relname FROM pg_catalog.pg_publication p"
          " JOIN pg_catalog.pg_publication_rel pr ON pr.prpubid = p.oid"
          " JOIN pg_catalog.pg_class c ON c.oid = pr.prrelid"
          " JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace WHERE p.pubname = $1",
        1, params, e, sizeof e);
    if (!r || PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "publication %s: listing its tables: %s", name, r ? resmsg(r) : e);
        goto out;
    }
    for (int i = 0; i < ntables; i++) {
        int found = 0;
        for (int k = 0; k < PQntuples(r) && !found; k++)
            found = strcmp(PQgetvalue(r, k, 0), tables[i].schema) == 0 &&
                    (PQgetisnull(r, k, 1) || strcmp(PQgetvalue(r, k, 1), tables[i].name) == 0);
        if (found) continue;
        char *q = qualified(sql, tables[i].schema, tables[i].name);
        free(stmt);
        stmt = q ? malloc(strlen(qname) + strlen(q) + 40) : NULL;
        if (!stmt) { free(q); snprintf(err, errlen, "publication %s: out of memory", name); goto out; }
        sprintf(stmt, "ALTER PUBLICATION %s ADD TABLE %s", qname, q);
        free(q);
        int bad = repair(sql, w, stmt, e, sizeof e);
        if (bad == 1) continue;         /* dropped at the source: nothing to repair */
        snprintf(why, sizeof why, bad
                 ? "removed from publication %s at the source (ALTER PUBLICATION … DROP TABLE): its changes since then are lost from the stream; adding it back failed (%s); run: %s, then resync the table"
                 : "removed from publication %s at the source (ALTER PUBLICATION … DROP TABLE): its changes since then are lost from the stream; zetl added it back — resync the table to repair it exactly%s%s",
                 name, bad ? e : "", bad ? stmt : "");
        drift(ctx, i, why);
    }
    rc = 0;
out:
    PQclear(r);
    PQfreemem(qname);
    free(stmt);
    return rc;
}

int pgstream_publication_drop(PGconn *sql, const struct pgwait *w, const char *name, char *err, size_t errlen)
{
    char e[400];
    char *q = PQescapeIdentifier(sql, name, strlen(name));
    if (!q) { snprintf(err, errlen, "publication %s: %s", name, pqmsg(sql)); return -1; }
    char *stmt = malloc(strlen(q) + 40);
    if (!stmt) { PQfreemem(q); snprintf(err, errlen, "publication %s: out of memory", name); return -1; }
    sprintf(stmt, "DROP PUBLICATION IF EXISTS %s", q);
    PQfreemem(q);
    PGresult *r = pgwait_exec(sql, w, stmt, -1, NULL, e, sizeof e);
    free(stmt);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_COMMAND_OK) {
        snprintf(err, errlen, "publication %s: DROP PUBLICATION failed: %s", name, r ? resmsg(r) : e);
        rc = -1;
    }
    PQclear(r);
    return rc;
}

int pgstream_slot_drop_sql(PGconn *sql, const struct pgwait *w, const char *slot, char *err, size_t errlen)
{
    const char *params[1] = { slot };
    char e[400];
    PGresult *r = pgwait_exec(sql, w, "SELECT pg_catalog.pg_drop_replication_slot(slot_name) "
                                      "FROM pg_catalog.pg_replication_slots WHERE slot_name = $1", 1, params, e, sizeof e);
    int rc = 0;
    if (PQresultStatus(r) != PGRES_TUPLES_OK) {
        snprintf(err, errlen, "slot %s: dropping it failed: %s (a slot in use cannot be dropped: stop its stream first)",
                 slot, r ? resmsg(r) : e);
        rc = -1;
    }
    PQclear(r);
    return rc;
}

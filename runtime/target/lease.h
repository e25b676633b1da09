/*
 * lease.h — who runs an integration, decided in its PostgreSQL target
 * (config `ha:`; the policy and the threads are runtime/integ/lease.c).
 *
 * Two primitives PostgreSQL has proven, no consensus of our own:
 *
 *   election  a session-level advisory lock, pg_try_advisory_lock on the
 *             64-bit hash of "zetl-lease:INTEGRATION", held by a connection
 *             of its own (application_name "zetl-lease:INTEGRATION"). The
 *             server lets one session hold it; it goes with the session.
 *   fencing   zetl.leases(integration, epoch, holder, pid, token,
 *             acquired_at, deleted_at): whoever takes the lock raises the epoch by one.
 *             Every target transaction of a holder ends with
 *             TARGET_FENCE_SQL (pg.c, before its COMMIT, in the same
 *             pipeline): a FOR SHARE read of its own epoch's row, which
 *             fails the transaction when the epoch has moved. The raise is
 *             an UPDATE of that row, so it waits for every transaction that
 *             passed the check to end, and every one after it fails: once
 *             a new holder has its epoch, nothing of an older one commits.
 *
 * Why the lock is not on the applying connection: an integration writes
 * through several (the applier's, each copy worker's), and a round that
 * fails (a source outage) closes them; a lock on one of them would fence
 * none of the others, and would hand the integration to a standby at every
 * retry. The lease connection lives as long as the process holds the
 * lease; the epoch check fences every connection.
 *
 * Every member says it is there every TLEASE_BEAT_MS: its row of
 * zetl.lease_members (integration, token, member, pid, seen_at, the
 * server's clock; the token tells processes apart where member names and
 * pids repeat); the holder's row is its heartbeat (not the lease row, which every
 * fenced commit holds FOR SHARE). A contender finding the lock held and the
 * heartbeat older than takeover_s ends the holder's sessions (its lease
 * session, found through pg_locks, and its working sessions, named
 * "zetl:INTEGRATION"), so the lock is freed: this is how a frozen process,
 * a powered-off host or a host cut off from the target is taken over
 * without waiting for TCP to notice. Both clocks read are the server's.
 *
 * Every call waits under pgwait's deadlines (pgwait.h): stop flag, hook,
 * dead link. The handle belongs to one thread at a time.
 */
#ifndef ZETL_TARGET_LEASE_H
#define ZETL_TARGET_LEASE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define TLEASE_BEAT_MS 2000     /* the holder's heartbeat, and a contender's try */

/* The statement that ends every fenced transaction (pg.c): $1 the
 * integration, $2 the epoch. No row: division by zero (22012), the one
 * error a plain SELECT can raise without a function of ours. */
#define TARGET_FENCE_SQL \
    "SELECT 1 / count(*)::int FROM (SELECT 1 FROM zetl.leases WHERE integration = $1 " \
    "AND epoch = $2::bigint FOR SHARE) f"
#define TARGET_FENCE_SQLSTATE "22012"

struct tlease;

struct tlease_opts {
    const char *dsn;            /* the target's; may hold a password */
    const char *integration;
    const char *member;         /* this process among the members */
    int         pid;
    const char *token;          /* this process, unique among all members (lease_members'
                                   key: member names and pids may repeat across hosts) */
    atomic_int *stop;           /* give a call up (may be NULL) */
    int       (*hook)(void *);  /* non-zero: give a call up (operator command); may be NULL */
    void       *hook_ctx;
    int         deadline_ms;    /* > 0: a call with no answer this long fails (a heartbeat
                                   must not wait out pgwait's dead-link probe) */
};

/* What the lease table says, for the operator. */
struct tlease_view {
    int64_t epoch;              /* the current holder's, 0 none yet */
    char    holder[64];         /* its member name, "" none */
    int     holder_pid;
    double  beat_age_s;         /* since its last heartbeat, server clock; -1 unknown */
    char    standbys[512];      /* the other members seen within takeover_s, ", " between */
    int     deleted;            /* the integration was deleted by its holder */
    int     ours;               /* the holder is this process (its token) */
    int     terminated;         /* tlease_try: sessions of a silent holder ended */
};

/* Connect (its own session, application_name "zetl-lease:INTEGRATION") and
 * create zetl.leases and zetl.lease_members when missing. 0, or -1 with
 * err (no password). */
int  tlease_open(struct tlease **out, const struct tlease_opts *o, char *err, size_t errlen);
/* Close the session: the lock, when held, goes with it, so a standby takes
 * over at its next try (a clean stop hands over at once). NULL is fine. */
void tlease_close(struct tlease *l);
/* Any thread: the call in flight (or the next) gives up; the session is
 * then dead, for tlease_close. */
void tlease_cancel(struct tlease *l);
/* The calls that follow run on the calling thread (the hook only on the
 * thread that opened it). */

/*
 * Try to take the lease: say this member is here, try the lock; when held by
 * another whose heartbeat is older than takeover_s, end its sessions and
 * try again. 1 taken (*epoch is ours, v says whom it was taken from), 0
 * another holds it (v says who), 2 the holder deleted the integration, -1
 * the call failed (err; close and open again).
 */
int  tlease_try(struct tlease *l, int takeover_s, int64_t *epoch, struct tlease_view *v,
                char *err, size_t errlen);
/*
 * The holder's heartbeat: 1 still ours (v: the standbys seen), 0 lost (the
 * epoch moved: another took it, or the integration was deleted; v says
 * who), -1 the call failed (err; the
 * session, and with it the lock, may be gone: the lease is to be taken as
 * lost).
 */
int  tlease_beat(struct tlease *l, int64_t epoch, int takeover_s, struct tlease_view *v,
                 char *err, size_t errlen);
/*
 * The holder's lease session failed (a reset link, a restarted server): on a
 * new session from tlease_open, take the lock again and keep the lease only
 * if zetl.leases still names this member at epoch: then nobody held the
 * lock with a higher epoch meanwhile (a raise needs the lock), so nothing
 * was committed under another. 1 kept, 0 lost (v says who holds it), -1
 * the call failed (err).
 */
int  tlease_relock(struct tlease *l, int64_t epoch, int takeover_s, struct tlease_view *v,
                   char *err, size_t errlen);
/* The holder deletes the integration: the lease row says so, so a standby
 * does not take it up again. 0 or -1 (err). */
int  tlease_mark_deleted(struct tlease *l, int64_t epoch, char *err, size_t errlen);

/*
 * For zetl check: what the target says of the lease, creating nothing. 1
 * with v (zetl.leases exists; v->epoch 0 when nobody took this one yet), 0
 * the lease tables do not exist yet, -1 err. *server_version: the server's
 * (PQserverVersion, 0 unknown) whenever it connected.
 */
int  tlease_peek(const struct tlease_opts *o, int takeover_s, struct tlease_view *v, int *server_version,
                 char *err, size_t errlen);

#endif

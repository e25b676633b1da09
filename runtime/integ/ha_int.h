/*
 * ha_int.h — what ha.c (the lease's state, the heartbeat) and ha_standby.c
 * (waiting for the lease, taking it) share; integ.h has the contract. The
 * standby half polls commands, so it sits above commands.c, and the state
 * half below it (tests/layering.sh).
 */
#ifndef ZETL_INTEG_HA_INT_H
#define ZETL_INTEG_HA_INT_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "runtime/integ/integ.h"
#include "runtime/target/lease.h"

struct iha {
    struct tlease *tl;          /* the lease session: the beat thread's while it runs */
    pthread_t   beat;
    int         beating;
    atomic_int  beat_stop;
    atomic_int  lost;           /* the beat thread found the lease lost */
    atomic_int  fenced;         /* a commit found the epoch moved (target_opts.fenced) */
    _Atomic int64_t last_ok_ms; /* mono ms of the last heartbeat that got through */
    atomic_int  beat_now;       /* integ_ha_confirm: beat at once */
    pthread_mutex_t mu;         /* view, why, dirty */
    struct tlease_view view;
    char        why[512];       /* why it was lost */
    int         dirty;          /* view changed since the state log was told */
    char        shown[600];     /* the standby reason last recorded */
    int64_t     written_ms;     /* mono ms the state log was last told */
    char        token[33];      /* this process among the members (lease.h tlease_opts.token) */
};

static inline int integ_ha_takeover_s(const struct integ *in) { return in->root->ha.takeover_seconds; }

/* The lease session's options for this process: who it is, and the deadline
 * of a call (half of takeover_seconds, at least 3 s, so a heartbeat never
 * waits out pgwait's dead-link probe). The caller adds stop and hook. */
static inline struct tlease_opts integ_ha_lease_opts(const struct integ *in)
{
    int half = integ_ha_takeover_s(in) * 500;
    return (struct tlease_opts){
        .dsn = in->cfg->target.dsn, .integration = in->cfg->name, .member = in->root->ha.member,
        .pid = (int)getpid(), .token = in->ha->token, .deadline_ms = half > 3000 ? half : 3000,
    };
}

/* The state log's ha fields from what is known now (supervisor thread). */
void  integ_ha_write_view(struct integ *in);
/* The heartbeat thread's body (arg: the integration). */
void *integ_ha_beat_main(void *arg);

#endif

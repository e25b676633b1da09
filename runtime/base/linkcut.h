/*
 * linkcut.h — cut a connection's blocked wait short from another thread.
 *
 * libmariadb reads block in recv() until its read timeout (20 s for the
 * binlog dump, 60 s for a snapshot): on a link that went half-open — a
 * frozen server, a blackholing middlebox — a stop or an operator command
 * would wait that long. No libmariadb call interrupts another thread's read,
 * but shutdown(2) on the socket does, at once, whatever the peer does: recv
 * returns 0, and every later call on the connection fails. So each MySQL
 * connection a thread may block on is registered here while open, and the
 * thread that wants it to stop fires the cut:
 *
 *   - every registered socket is shut down (SHUT_RDWR; the descriptor stays
 *     open, so its owner closes it as usual and no number is reused under a
 *     registration: linkcut_remove comes before mysql_close);
 *   - `fired` is set, and a socket registered afterwards is shut down at
 *     once — a connection opened just after the stop is not missed;
 *   - `fired` doubles as the stop flag of the PostgreSQL waits (pgwait.h),
 *     which poll it every tick, so one cut ends the waits of both sources.
 *
 * linkcut_rearm clears `fired` before new work; the owner calls it, after
 * checking its own stop flag (a stop sets that flag before firing).
 *
 * Thread: all calls from any thread; registration is under the mutex, so a
 * socket is never shut down after its owner removed it.
 */
#ifndef ZETL_LINKCUT_H
#define ZETL_LINKCUT_H

#include <pthread.h>
#include <stdatomic.h>

#define LINKCUT_MAX 8

struct linkcut {
    pthread_mutex_t mu;
    int        fds[LINKCUT_MAX];
    int        n;
    atomic_int fired;
};

void linkcut_init(struct linkcut *c);
void linkcut_destroy(struct linkcut *c);

/* Register fd (>= 0); after a fire it is shut down at once. A full table
 * (LINKCUT_MAX) leaves fd out: it then ends by its own timeout only. */
void linkcut_add(struct linkcut *c, int fd);
void linkcut_remove(struct linkcut *c, int fd);

/* Shut every registered socket down and set fired. */
void linkcut_fire(struct linkcut *c);
void linkcut_rearm(struct linkcut *c);

/* Sockets registered now (a thread may be blocked on one). */
int  linkcut_busy(struct linkcut *c);

#endif

/*
 * held.h — the source transactions zetl holds on its own disk before they
 * commit (PostgreSQL's streamed transactions, runtime/pg/streamed.h), as the
 * reader thread last saw them, for the supervisor to show (runtime/integ/wait.c).
 *
 * The reader stores, the supervisor loads; each field alone is exact, and the
 * three together are at most one stream block apart, which is all a display needs.
 */
#ifndef ZETL_PIPE_HELD_H
#define ZETL_PIPE_HELD_H

#include <stdatomic.h>
#include <stdint.h>

struct zheld {
    atomic_int       open;      /* transactions held now */
    _Atomic uint64_t bytes;     /* their changes' bytes on disk */
    _Atomic int64_t  since_ms;  /* wall ms the oldest of them began to arrive; 0 none */
};

#endif

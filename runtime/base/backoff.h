/*
 * backoff.h — how long a failed integration waits before its next round
 * (supervisor.c): exponential from BACKOFF_MIN_MS, doubling per failed
 * round, with jitter so integrations that failed together do not retry in
 * step; the wait itself never passes BACKOFF_MAX_MS (the README's 60 s).
 * Pure functions; thread-safe.
 */
#ifndef ZETL_BACKOFF_H
#define ZETL_BACKOFF_H

#define BACKOFF_MIN_MS   1000
#define BACKOFF_MAX_MS   60000
#define BACKOFF_RESET_MS 30000      /* a round this long resets the backoff */

/* The wait for base (ms) and a random number: base plus up to a quarter of
 * base; at the cap, up to a quarter below it. Always in [base, MAX] or
 * [3/4 MAX, MAX]. */
int backoff_wait_ms(int base_ms, unsigned rnd);
/* The next base: doubled, at most BACKOFF_MAX_MS. */
int backoff_next(int base_ms);

#endif

/*
 * lock.h — one zetl process per integration: an exclusive flock(2) on
 * STATE_DIR/NAME.lock that holds the owner's pid and role.
 *
 * `zetl run` and `zetl console` take the lock of each integration they run.
 * A second process that finds it held does not start a second runtime: it
 * learns the holder (lock_holder_pid) and attaches through the SQLite log.
 *
 * Invariants
 *   - The lock is the flock, not the file: the file stays behind after
 *     release, and its contents ("PID ROLE\n") are only informative.
 *   - The kernel drops the flock when the holding process dies (kill -9
 *     included), so there is never a stale lock to clean up.
 *   - flock locks belong to an open file description: a second lock_acquire
 *     of the same integration fails even inside the same process.
 *   - The file is created 0600 in the state directory (created 0700 when
 *     missing, with any missing parents, as mkdir -p); the descriptor is
 *     close-on-exec.
 *   - NAME must be a plain file name: no '/', not starting with '.'.
 *
 * Threads: any thread; a struct lock is owned by the caller until
 * lock_release(). Functions return 0 on success, -1 with a message in err.
 */
#ifndef ZETL_LOCK_H
#define ZETL_LOCK_H

#include <stddef.h>
#include <sys/types.h>

struct lock;

/* Take the lock of integration `name` for this process, recording
 * `role` (e.g. "zetl run", "zetl console"). When another process holds it:
 * -1 and "integration NAME is held by ROLE (pid N); ...". */
int  lock_acquire(struct lock **out, const char *state_dir, const char *name,
                  const char *role, char *err, size_t errlen);

/* Release and free (NULL is a no-op). */
void lock_release(struct lock *l);

/* Who holds integration `name`: 1 with *pid (and role into role_buf when
 * given) when held by a live lock, 0 when free, -1 on error. */
int  lock_holder_pid(const char *state_dir, const char *name, pid_t *pid,
                     char *role_buf, size_t role_len, char *err, size_t errlen);

#endif

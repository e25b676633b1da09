/*
 * states.h — integration states, table states and operator commands as
 * enums, each with the one table of its names (states.c).
 *
 * The names are the strings of DESIGN.md "States": what the state log
 * stores, what `zetl status --json`, the metrics file and the alert texts
 * print. They never change; an enum is only how the code holds them.
 *
 * Parsing never fails: a name this zetl does not know (a state log written
 * by a newer zetl, a hand-edited file) gives the UNKNOWN value, and whoever
 * shows it shows the raw string it has. The enums are ordered as the
 * metrics file lists the states, so a loop from the first to the last
 * logged value prints them in that order.
 *
 * Pure functions over constant tables; any thread.
 */
#ifndef ZETL_STATES_H
#define ZETL_STATES_H

/* An integration's state. */
enum istate {
    ISTATE_UNKNOWN = 0,     /* not a name this zetl knows; in the runtime: none yet */
    ISTATE_CREATING,
    ISTATE_SNAPSHOTTING,
    ISTATE_ACTIVE,
    ISTATE_PAUSED,
    ISTATE_NEEDS_ATTENTION,
    ISTATE_FAILED,
    ISTATE_STANDBY,         /* ha: another process holds the lease and runs it */
    ISTATE_DELETING,
    ISTATE_DELETED,         /* the last state the log stores */
    ISTATE_STOPPED,         /* shown, never stored: nobody runs it (runtime/log/liveness.h) */
    ISTATE_COUNT
};
#define ISTATE_FIRST_LOGGED ISTATE_CREATING
#define ISTATE_LAST_LOGGED  ISTATE_DELETED

/* A table's state. */
enum tstate {
    TSTATE_UNKNOWN = 0,     /* not a name this zetl knows; in the runtime: none yet */
    TSTATE_PENDING,
    TSTATE_SNAPSHOTTING,
    TSTATE_SYNCED,
    TSTATE_RESYNC_REQUIRED,
    TSTATE_RESYNCING,
    TSTATE_FAILED,
    TSTATE_DROPPED_SOURCE,
    TSTATE_EXCLUDED,
    TSTATE_COUNT
};
#define TSTATE_FIRST_LOGGED TSTATE_PENDING
#define TSTATE_LAST_LOGGED  TSTATE_EXCLUDED

/* An operator command, from the console's key to the runtime
 * (runtime/integ/commands.c says what each does). The state log's command
 * queue stores its name. */
enum zcmd {
    ZCMD_UNKNOWN = 0,
    ZCMD_PAUSE,
    ZCMD_RESUME,
    ZCMD_RESYNC,            /* names a table */
    ZCMD_RESNAPSHOT,
    ZCMD_DELETE,
    ZCMD_STOP,
    ZCMD_RETRY,
    ZCMD_COUNT
};

/* The name of s ("needs_attention"); "unknown" for UNKNOWN or a value out
 * of range. Never NULL. */
const char *istate_name(enum istate s);
const char *tstate_name(enum tstate s);
const char *zcmd_name(enum zcmd c);

/* The value named by s; UNKNOWN for NULL or a name not in the table
 * ("stopped" parses as ISTATE_STOPPED). */
enum istate istate_parse(const char *s);
enum tstate tstate_parse(const char *s);
enum zcmd   zcmd_parse(const char *s);

/* A state the state log stores (an integration's "stopped" is not one). */
int istate_logged(enum istate s);
int tstate_logged(enum tstate s);

/* Does it need the operator? An integration that is failed or
 * needs_attention; a table that is failed or resync_required (the console's
 * banner, its "resync failed" key, the describe pane's counts, and the
 * runtime's needs_attention all ask this). */
int istate_needs_attention(enum istate s);
int tstate_needs_attention(enum tstate s);

/* Is the table being copied (snapshotting, resyncing)? */
int tstate_copying(enum tstate s);

#endif

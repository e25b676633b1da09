/* states.c — the one name table of each enum in states.h. */
#include "runtime/base/states.h"

#include <string.h>

#define N(a) (sizeof (a) / sizeof (a)[0])

static const char *const istate_names[ISTATE_COUNT] = {
    [ISTATE_UNKNOWN]         = "unknown",
    [ISTATE_CREATING]        = "creating",
    [ISTATE_SNAPSHOTTING]    = "snapshotting",
    [ISTATE_ACTIVE]          = "active",
    [ISTATE_PAUSED]          = "paused",
    [ISTATE_NEEDS_ATTENTION] = "needs_attention",
    [ISTATE_FAILED]          = "failed",
    [ISTATE_STANDBY]         = "standby",
    [ISTATE_DELETING]        = "deleting",
    [ISTATE_DELETED]         = "deleted",
    [ISTATE_STOPPED]         = "stopped",
};

static const char *const tstate_names[TSTATE_COUNT] = {
    [TSTATE_UNKNOWN]         = "unknown",
    [TSTATE_PENDING]         = "pending",
    [TSTATE_SNAPSHOTTING]    = "snapshotting",
    [TSTATE_SYNCED]          = "synced",
    [TSTATE_RESYNC_REQUIRED] = "resync_required",
    [TSTATE_RESYNCING]       = "resyncing",
    [TSTATE_FAILED]          = "failed",
    [TSTATE_DROPPED_SOURCE]  = "dropped_source",
    [TSTATE_EXCLUDED]        = "excluded",
};

static const char *const zcmd_names[ZCMD_COUNT] = {
    [ZCMD_UNKNOWN]    = "unknown",
    [ZCMD_PAUSE]      = "pause",
    [ZCMD_RESUME]     = "resume",
    [ZCMD_RESYNC]     = "resync",
    [ZCMD_RESNAPSHOT] = "resnapshot",
    [ZCMD_DELETE]     = "delete",
    [ZCMD_STOP]       = "stop",
    [ZCMD_RETRY]      = "retry",
};

/* Index of s in names[1..n-1] (0, UNKNOWN, is never a match). */
static int lookup(const char *const *names, size_t n, const char *s)
{
    if (!s)
        return 0;
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i], s) == 0)
            return (int)i;
    return 0;
}

const char *istate_name(enum istate s)
{
    return (unsigned)s < N(istate_names) ? istate_names[s] : istate_names[0];
}

const char *tstate_name(enum tstate s)
{
    return (unsigned)s < N(tstate_names) ? tstate_names[s] : tstate_names[0];
}

const char *zcmd_name(enum zcmd c)
{
    return (unsigned)c < N(zcmd_names) ? zcmd_names[c] : zcmd_names[0];
}

enum istate istate_parse(const char *s) { return (enum istate)lookup(istate_names, N(istate_names), s); }
enum tstate tstate_parse(const char *s) { return (enum tstate)lookup(tstate_names, N(tstate_names), s); }
enum zcmd   zcmd_parse(const char *s)   { return (enum zcmd)lookup(zcmd_names, N(zcmd_names), s); }

int istate_logged(enum istate s)
{
    return s >= ISTATE_FIRST_LOGGED && s <= ISTATE_LAST_LOGGED;
}

int tstate_logged(enum tstate s)
{
    return s >= TSTATE_FIRST_LOGGED && s <= TSTATE_LAST_LOGGED;
}

int istate_needs_attention(enum istate s)
{
    return s == ISTATE_FAILED || s == ISTATE_NEEDS_ATTENTION;
}

int tstate_needs_attention(enum tstate s)
{
    return s == TSTATE_FAILED || s == TSTATE_RESYNC_REQUIRED;
}

int tstate_copying(enum tstate s)
{
    return s == TSTATE_SNAPSHOTTING || s == TSTATE_RESYNCING;
}

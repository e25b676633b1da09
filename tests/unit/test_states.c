/*
 * test_states.c — the name tables of states and commands (runtime/base/states.h):
 * every value has today's string and parses back; an unknown or missing
 * name (a state log from a newer zetl) parses as UNKNOWN, never crashes.
 */
#include "tests/unit/test.h"

#include "runtime/base/states.h"

static void test_names(void)
{
    /* The strings of the state log, `zetl status --json` and the metrics file. */
    static const char *const integ[] = { "creating", "snapshotting", "active", "paused",
        "needs_attention", "failed", "standby", "deleting", "deleted" };
    static const char *const table[] = { "pending", "snapshotting", "synced", "resync_required",
        "resyncing", "failed", "dropped_source", "excluded" };
    static const char *const cmds[] = { "pause", "resume", "resync", "resnapshot", "delete",
        "stop", "retry" };
    int n = 0;
    for (int s = ISTATE_FIRST_LOGGED; s <= ISTATE_LAST_LOGGED; s++, n++)
        CHECK_STR(istate_name((enum istate)s), integ[n], "integration state name, in metrics order");
    CHECK_INT(n, 9, "nine integration states are logged (standby: ha)");
    n = 0;
    for (int s = TSTATE_FIRST_LOGGED; s <= TSTATE_LAST_LOGGED; s++, n++)
        CHECK_STR(tstate_name((enum tstate)s), table[n], "table state name, in metrics order");
    CHECK_INT(n, 8, "eight table states are logged");
    n = 0;
    for (int c = ZCMD_UNKNOWN + 1; c < ZCMD_COUNT; c++, n++)
        CHECK_STR(zcmd_name((enum zcmd)c), cmds[n], "command name");
    CHECK_INT(n, 7, "seven commands");
    CHECK_STR(istate_name(ISTATE_STOPPED), "stopped", "stopped is shown by that name");
    CHECK(!istate_logged(ISTATE_STOPPED), "stopped is never stored");
}

static void test_round_trip(void)
{
    int bad = 0;
    for (int s = 0; s < ISTATE_COUNT; s++)
        bad += istate_parse(istate_name((enum istate)s)) != (enum istate)s;
    for (int s = 0; s < TSTATE_COUNT; s++)
        bad += tstate_parse(tstate_name((enum tstate)s)) != (enum tstate)s;
    for (int c = 0; c < ZCMD_COUNT; c++)
        bad += zcmd_parse(zcmd_name((enum zcmd)c)) != (enum zcmd)c;
    CHECK_INT(bad, 0, "every name parses back to its value");
}

static void test_unknown(void)
{
    CHECK_INT(istate_parse("hibernating"), ISTATE_UNKNOWN, "a newer zetl's integration state");
    CHECK_INT(tstate_parse("archived"), TSTATE_UNKNOWN, "a newer zetl's table state");
    CHECK_INT(zcmd_parse("explode"), ZCMD_UNKNOWN, "an unknown command");
    CHECK_INT(istate_parse(NULL), ISTATE_UNKNOWN, "NULL state");
    CHECK_INT(tstate_parse(""), TSTATE_UNKNOWN, "empty state");
    CHECK_INT(tstate_parse("Synced"), TSTATE_UNKNOWN, "names are exact (case)");
    CHECK_INT(istate_parse("active "), ISTATE_UNKNOWN, "names are exact (space)");
    CHECK_INT(tstate_parse("active"), TSTATE_UNKNOWN, "an integration state is no table state");
    CHECK_INT(istate_parse("synced"), ISTATE_UNKNOWN, "a table state is no integration state");
    CHECK_STR(istate_name((enum istate)99), "unknown", "a value out of range has a name");
    CHECK_STR(tstate_name((enum tstate)-1), "unknown", "a negative value has a name");
    CHECK(!istate_logged(ISTATE_UNKNOWN) && !tstate_logged(TSTATE_UNKNOWN), "unknown is never stored");
}

static void test_attention(void)
{
    int n = 0;
    for (int s = 0; s < TSTATE_COUNT; s++) n += tstate_needs_attention((enum tstate)s);
    CHECK_INT(n, 2, "two table states need attention");
    CHECK(tstate_needs_attention(TSTATE_FAILED) && tstate_needs_attention(TSTATE_RESYNC_REQUIRED),
          "failed and resync_required tables need attention");
    CHECK(!tstate_needs_attention(TSTATE_UNKNOWN) && !tstate_needs_attention(TSTATE_DROPPED_SOURCE),
          "unknown and dropped_source tables do not");
    n = 0;
    for (int s = 0; s < ISTATE_COUNT; s++) n += istate_needs_attention((enum istate)s);
    CHECK_INT(n, 2, "two integration states need attention");
    CHECK(istate_needs_attention(ISTATE_FAILED) && istate_needs_attention(ISTATE_NEEDS_ATTENTION),
          "failed and needs_attention integrations need attention");
    n = 0;
    for (int s = 0; s < TSTATE_COUNT; s++) n += tstate_copying((enum tstate)s);
    CHECK(n == 2 && tstate_copying(TSTATE_SNAPSHOTTING) && tstate_copying(TSTATE_RESYNCING),
          "snapshotting and resyncing tables are being copied");
}

int main(void)
{
    TEST_RUN(test_names);
    TEST_RUN(test_round_trip);
    TEST_RUN(test_unknown);
    TEST_RUN(test_attention);
    return test_exit();
}

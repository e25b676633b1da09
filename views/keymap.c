/* keymap.c — the key tables; see keymap.h. The help view prints them. */
#include "views/keymap.h"
#include "views/theme.h"

#define N(t) (sizeof t / sizeof t[0])
#define ESC 27

/* Movement is shared by every list view. */
#define MOVES \
    {{KEY_UP, 'k', 0}, "k/Up", A_UP, "move the selection up", NULL}, \
    {{KEY_DOWN, 'j', 0}, "j/Down", A_DOWN, "move the selection down", NULL}, \
    {{KEY_PPAGE, 0}, "PgUp", A_PGUP, "one page up", NULL}, \
    {{KEY_NPAGE, ' ', 0}, "PgDn", A_PGDN, "one page down", NULL}, \
    {{KEY_HOME, 'g', 0}, "Home", A_HOME, "first row", NULL}, \
    {{KEY_END, 'G', 0}, "End", A_END, "last row", NULL}

static const struct key_binding global_b[] = {
    {{'\t', 0}, "Tab", A_NEXT_VIEW, "next view: Integrations, Tables, Activity, Lag, Events", "views"},
    {{KEY_BTAB, 0}, "S-Tab", A_PREV_VIEW, "previous view", NULL},
    {{ESC, KEY_BACKSPACE, 127, 8}, "Esc", A_BACK, "back to the previous view", NULL},
    {{'p', 0}, "p", A_PAUSE, "pause the selected integration, or resume it when paused", "pause/resume"},
    {{'D', 0}, "D", A_DELETE, "delete the selected integration (asks for its name; target data is kept)", "delete"},
    {{'c', 0}, "c", A_CHECK, "run the preflight checks of the selected integration (in the background)", "check"},
    {{'?', KEY_F(1), 0}, "?", A_HELP, "this help", "help"},
    {{'T', 0}, "T", A_RESTART, "when replication did not start in this console (shown above the view): try again", NULL},
    {{12, 0}, "^L", A_REPAINT, "clear the terminal and draw the whole screen again (after something wrote over it)", NULL},
    {{'q', 0}, "q", A_QUIT, "quit (asks whether to stop replication when this console runs it)", "quit"},
};

static const struct key_binding integrations_b[] = {
    MOVES,
    {{'\n', '\r', KEY_ENTER, 0}, "Enter", A_ENTER, "open the tables of the selected integration", "open"},
    {{'/', 0}, "/", A_FILTER, "filter integrations by a substring of name, state, source, target or reason, as you type", "filter"},
    {{'R', 0}, "R", A_RESYNC_ALL, "resync every table in failed or resync_required (asks y/N)", NULL},
    {{'d', 0}, "d", A_DESCRIBE, "describe the selected integration: state and since when, the whole reason, what it waits on, the retry, positions, recent events", "describe"},
};

static const struct key_binding tables_b[] = {
    MOVES,
    {{'r', 0}, "r", A_RESYNC, "resync the selected table: copy it again; the other tables catch up right after (asks y/N)", "resync"},
    {{'R', 0}, "R", A_RESYNC_ALL, "resync every table in failed or resync_required (asks y/N)", "resync failed"},
    {{'s', 0}, "s", A_SORT, "sort by state, name, lag or changes (the title and the column header show which)", "sort"},
    {{'S', 0}, "S", A_SORT_REV, "reverse the sort order", "reverse"},
    {{'/', 0}, "/", A_FILTER, "filter tables by a substring of their names, as you type (Enter keeps it, Esc drops it)", "filter"},
    {{'\n', '\r', KEY_ENTER, 0}, "Enter", A_ENTER, "the events of the selected table", NULL},
    {{'d', 0}, "d", A_DESCRIBE, "describe the selected table: state and since when, the whole reason, copy progress with rows/s and ETA, what its integration waits on, recent events", "describe"},
};

static const struct key_binding activity_b[] = {
    MOVES,
    {{'/', 0}, "/", A_FILTER, "filter batches by a substring of their position range, as you type", "filter"},
};

static const struct key_binding lag_b[] = {
    {{'+', '=', 0}, "+", A_UP, "zoom in (a shorter window)", "zoom in"},
    {{'-', 0}, "-", A_DOWN, "zoom out (a longer window)", "zoom out"},
};

static const struct key_binding events_b[] = {
    MOVES,
    {{'l', 0}, "l", A_LEVEL, "level filter: all, warnings and errors, errors only", "level"},
    {{'t', 0}, "t", A_ONLY_TABLE, "only the table selected in Tables, or every table", "this table"},
    {{'a', 0}, "a", A_ALL_INTEG, "every integration's events in one feed, or only the selected integration's", "all"},
    {{'/', 0}, "/", A_FILTER, "filter events by a substring of integration, table, kind, message or actor, as you type", "filter"},
};

static const struct key_binding describe_b[] = {
    MOVES,
    {{'n', 0}, "n", A_RETRY, "retry now: start the next attempt of a failed integration at once instead of waiting out the backoff", "retry now"},
    {{ESC, 'q', KEY_BACKSPACE, 127}, "Esc/q", A_BACK, "close the describe pane", "close"},
};

static const struct key_binding help_b[] = {
    MOVES,
    {{27, 'q', '?', KEY_BACKSPACE}, "Esc/q", A_BACK, "close the help", "close"},
};

static const struct key_binding report_b[] = {
    MOVES,
    {{ESC, 'q', '\n', KEY_BACKSPACE}, "Esc", A_BACK, "close the report", "close"},
};

const struct keymap keymap_global = {"Everywhere", global_b, N(global_b)};
const struct keymap keymap_integrations = {"Integrations", integrations_b, N(integrations_b)};
const struct keymap keymap_tables = {"Tables", tables_b, N(tables_b)};
const struct keymap keymap_activity = {"Activity", activity_b, N(activity_b)};
const struct keymap keymap_lag = {"Lag", lag_b, N(lag_b)};
const struct keymap keymap_events = {"Events", events_b, N(events_b)};
const struct keymap keymap_describe = {"Describe", describe_b, N(describe_b)};
const struct keymap keymap_help = {"Help", help_b, N(help_b)};
const struct keymap keymap_report = {"Preflight report", report_b, N(report_b)};

enum action keymap_lookup(const struct keymap *m, int key)
{
    for (size_t i = 0; m && i < m->n; i++)
        for (int k = 0; k < 4 && m->b[i].keys[k]; k++)
            if (m->b[i].keys[k] == key) return m->b[i].action;
    return A_NONE;
}

const struct key_binding *keymap_find(const struct keymap *m, enum action a)
{
    for (size_t i = 0; m && i < m->n; i++)
        if (m->b[i].action == a) return &m->b[i];
    return NULL;
}

/*
 * keymap.h — the console's key bindings: one table per mode, each entry with
 * its keys, the name shown to the operator, the action and its help text
 * (tmux key-bindings.c, htop Action.c). The help view and the hint line are
 * generated from these tables, so they can never drift from the real keys.
 *
 * Lookup order: the current view's table, then keymap_global. Overlays
 * (prompts, the preflight report) use their own tables.
 *
 * Thread: the tables are constant; any thread may read them.
 */
#ifndef ZETL_TUI_KEYMAP_H
#define ZETL_TUI_KEYMAP_H

#include <stddef.h>

enum action {
    A_NONE = 0,
    A_UP, A_DOWN, A_PGUP, A_PGDN, A_HOME, A_END,
    A_ENTER,        /* drill down */
    A_BACK,         /* Esc / Backspace */
    A_NEXT_VIEW, A_PREV_VIEW,
    /* The keys that send an operator command (enum zcmd, runtime/base/states.h):
     * the console (tui/console.c) sends it, after a prompt where one is asked. */
    A_PAUSE,        /* ZCMD_PAUSE the selected integration, ZCMD_RESUME when paused */
    A_RESYNC,       /* ZCMD_RESYNC the selected table (y/N) */
    A_RESYNC_ALL,   /* ZCMD_RESYNC every table that needs attention (y/N) */
    A_DELETE,       /* ZCMD_DELETE the integration (type its name) */
    A_CHECK,        /* preflight checks, in the background */
    A_FILTER,       /* substring filter */
    A_SORT,         /* cycle the sort order */
    A_SORT_REV,     /* reverse the sort order */
    A_ALL_INTEG,    /* events: every integration / the selected one */
    A_REPAINT,      /* Ctrl-L: clear and draw the whole screen again */
    A_RESTART,      /* replication did not start here: try again */
    A_LEVEL,        /* events: cycle the level filter */
    A_ONLY_TABLE,   /* events: only the selected table / all */
    A_DESCRIBE,     /* the describe pane of the selected integration or table */
    A_RETRY,        /* ZCMD_RETRY: the next attempt of a failed round now, without the backoff */
    A_HELP,
    A_QUIT,
    /* the setup walkthrough (views/setup.c) */
    A_NEXT_FIELD, A_PREV_FIELD,
    A_MOVE_LEFT, A_MOVE_RIGHT,    /* a choice field's previous/next choice; a text field's cursor */
    A_GO,           /* test and continue, from any field */
    A_TOGGLE,       /* pick or drop a table */
    A_SELECT_ALL, A_SELECT_NONE,
    A_RERUN         /* run the checks again */
};

struct key_binding {
    int         keys[4];    /* curses key codes, 0-terminated */
    const char *name;       /* as shown: "j/Down" */
    enum action action;
    const char *help;
    const char *hint;       /* label in the bottom hint line, NULL none */
};

struct keymap {
    const char *mode;       /* "Tables" */
    const struct key_binding *b;
    size_t      n;
};

extern const struct keymap keymap_global;
extern const struct keymap keymap_integrations;
extern const struct keymap keymap_tables;
extern const struct keymap keymap_activity;
extern const struct keymap keymap_lag;
extern const struct keymap keymap_events;
extern const struct keymap keymap_describe;
extern const struct keymap keymap_help;
extern const struct keymap keymap_report;   /* the preflight report overlay */

/* The action bound to key in m, else A_NONE. */
enum action keymap_lookup(const struct keymap *m, int key);

/* First binding of an action in m (for hints), or NULL. */
const struct key_binding *keymap_find(const struct keymap *m, enum action a);

#endif

/*
 * theme.h — colours, attributes and glyphs of the console.
 *
 * theme_init() runs once after initscr(): it picks colours only when the
 * terminal has them and NO_COLOR is unset (https://no-color.org), and
 * Unicode glyphs only when the locale's codeset is UTF-8; otherwise plain
 * ASCII, so the console reads the same on vt100, linux and over a C locale.
 * Every role has a monochrome fallback attribute (bold, reverse, dim).
 *
 * Thread: console thread only (it calls curses).
 */
#ifndef ZETL_TUI_THEME_H
#define ZETL_TUI_THEME_H

#ifndef NCURSES_WIDECHAR
#define NCURSES_WIDECHAR 1
#endif
#include <curses.h>

#include "runtime/base/states.h"

enum theme_role {
    TH_NORMAL = 0,
    TH_HEADER,      /* column headers */
    TH_TITLE,       /* the top bar */
    TH_TAB_ON,      /* the current view's name in the top bar */
    TH_SELECTED,    /* the selected row */
    TH_OK,          /* synced, active */
    TH_BUSY,        /* snapshotting, resyncing, pending, creating */
    TH_WARN,        /* paused, needs_attention, resync_required */
    TH_ERROR,       /* failed; the attention banner */
    TH_DIM,         /* deleted, excluded, standby (another member runs it), hints */
    TH_KEY,         /* key names in the hint line */
    TH_NROLES
};

struct theme_glyphs {
    const char *arrow;      /* "→" or "->" */
    const char *spark[8];   /* sparkline levels, low to high */
    const char *bar_full;   /* progress bar: done */
    const char *bar_empty;  /*               to do */
    const char *ellipsis;   /* "…" or "~" */
    const char *hline;      /* separator */
};

extern int theme_unicode;   /* 1 when the codeset is UTF-8 */
extern int theme_color;     /* 1 when colours are in use */
extern const struct theme_glyphs *theme_glyph;

/* After initscr(): decide colour and glyphs. */
void theme_init(void);

/* The attribute for a role (colour pair or monochrome fallback). */
attr_t theme_attr(enum theme_role r);

/* The role that colours an integration's state ("stopped" included) or a
 * table's; a state this zetl does not know (UNKNOWN) is shown as busy. */
enum theme_role theme_istate_role(enum istate s);
enum theme_role theme_tstate_role(enum tstate s);

#endif

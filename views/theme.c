/* theme.c — colours, monochrome fallbacks and glyph sets; see theme.h. */
#include <langinfo.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "views/theme.h"

int theme_unicode;
int theme_color;

static const struct theme_glyphs glyphs_utf8 = {
    "\xe2\x86\x92",
    {"\xe2\x96\x81", "\xe2\x96\x82", "\xe2\x96\x83", "\xe2\x96\x84",
     "\xe2\x96\x85", "\xe2\x96\x86", "\xe2\x96\x87", "\xe2\x96\x88"},
    "\xe2\x96\x88", "\xe2\x96\x91", "\xe2\x80\xa6", "\xe2\x94\x80",
};

static const struct theme_glyphs glyphs_ascii = {
    "->",
    {"_", ".", ",", "-", "=", "+", "*", "#"},
    "#", ".", "~", "-",
};

const struct theme_glyphs *theme_glyph = &glyphs_ascii;

/* Colour pair per role: foreground, background (-1 = terminal default). */
static const struct { short fg, bg; attr_t extra; attr_t mono; } roles[TH_NROLES] = {
    [TH_NORMAL]   = {-1, -1, 0, 0},
    [TH_HEADER]   = {COLOR_CYAN, -1, A_BOLD, A_BOLD | A_UNDERLINE},
    [TH_TITLE]    = {COLOR_BLACK, COLOR_CYAN, 0, A_REVERSE},
    [TH_TAB_ON]   = {COLOR_WHITE, COLOR_BLUE, A_BOLD, A_BOLD},
    [TH_SELECTED] = {COLOR_BLACK, COLOR_WHITE, 0, A_REVERSE},
    [TH_OK]       = {COLOR_GREEN, -1, 0, 0},
    [TH_BUSY]     = {COLOR_CYAN, -1, 0, 0},
    [TH_WARN]     = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
    [TH_ERROR]    = {COLOR_RED, -1, A_BOLD, A_BOLD},
    [TH_DIM]      = {-1, -1, A_DIM, A_DIM},
    [TH_KEY]      = {COLOR_YELLOW, -1, A_BOLD, A_BOLD},
};

void theme_init(void)
{
    const char *cs = nl_langinfo(CODESET);
    theme_unicode = cs && (strcasecmp(cs, "UTF-8") == 0 || strcasecmp(cs, "utf8") == 0);
    theme_glyph = theme_unicode ? &glyphs_utf8 : &glyphs_ascii;
    const char *nc = getenv("NO_COLOR");
    theme_color = !(nc && *nc) && has_colors();
    if (!theme_color) return;
    start_color();
    use_default_colors();
    for (int r = 1; r < TH_NROLES; r++)
        init_pair((short)r, roles[r].fg, roles[r].bg);
}

attr_t theme_attr(enum theme_role r)
{
    if (r <= TH_NORMAL || r >= TH_NROLES) return A_NORMAL;
    if (!theme_color) return roles[r].mono;
    if (roles[r].fg == -1 && roles[r].bg == -1) return roles[r].extra;
    return COLOR_PAIR(r) | roles[r].extra;
}

enum theme_role theme_istate_role(enum istate s)
{
    switch (s) {
    case ISTATE_ACTIVE:          return TH_OK;
    case ISTATE_FAILED:          return TH_ERROR;
    case ISTATE_PAUSED:
    case ISTATE_NEEDS_ATTENTION:
    case ISTATE_DELETING:
    case ISTATE_STOPPED:         return TH_WARN;
    case ISTATE_DELETED:
    case ISTATE_STANDBY:         return TH_DIM;     /* ha: healthy, run by another member */
    default:                     return TH_BUSY;    /* creating, snapshotting, unknown */
    }
}

enum theme_role theme_tstate_role(enum tstate s)
{
    switch (s) {
    case TSTATE_SYNCED:          return TH_OK;
    case TSTATE_FAILED:          return TH_ERROR;
    case TSTATE_RESYNC_REQUIRED:
    case TSTATE_DROPPED_SOURCE:  return TH_WARN;
    case TSTATE_EXCLUDED:        return TH_DIM;
    default:                     return TH_BUSY;    /* pending, snapshotting, resyncing, unknown */
    }
}

/*
 * widgets.h — drawing pieces the views share: clipped text, a table whose
 * columns give way by priority, a scrolling list that keeps its selection by
 * row identity, sparkline, progress bar, and number formatting.
 *
 * Widgets only draw into a WINDOW; they never refresh, never block, never
 * read input (prompts are the console's, tui/console.c).
 *
 * Thread: console thread only.
 */
#ifndef ZETL_TUI_WIDGETS_H
#define ZETL_TUI_WIDGETS_H

#include <stddef.h>
#include <stdint.h>

#include "views/theme.h"

/* Text clipped to `width` terminal cells at (y, x), UTF-8 aware; right
 * aligned when `right`; the rest of the field is blanked. Returns the
 * cells written. */
int w_text(WINDOW *w, int y, int x, int width, const char *s, int right);
/* As w_text, but a cut drops the start, not the end ("…:4567 → 0003:8901"):
 * for values whose end is the news, like a position range. */
int w_text_tail(WINDOW *w, int y, int x, int width, const char *s);

/* Word-wrap s into at most max_rows rows of `width` cells from (y, x); with
 * w NULL only counts. Returns the rows used. Long words are cut. */
int w_wrap(WINDOW *w, const char *s, int y, int x, int width, int max_rows);
/* The same, drawing only wrapped rows skip .. skip+max_rows-1 at y (for a
 * text scrolled partly off the top); returns the rows drawn. */
int w_wrap_skip(WINDOW *w, const char *s, int y, int x, int width, int skip, int max_rows);

/* A centred box of h x w (clipped to the screen) with a border and a
 * title, cleared inside; *py, *px get its top-left corner. */
void w_box(WINDOW *win, int h, int w, int *py, int *px, const char *title);

/* The hint line at row y: "KEY hint  " for every binding with a hint, from
 * the key tables maps[0..n) (NULL entries skipped). */
struct keymap;
void w_hints(WINDOW *w, int y, int width, const struct keymap *const *maps, int n);

/* ---- table ------------------------------------------------------------- */

struct w_col {
    const char *title;
    int   width;        /* preferred width in cells; 0: not shown at all (no separator either) */
    int   prio;         /* 0 = always shown; higher gives way first */
    int   right;        /* right-aligned (numbers) */
    int   flex;         /* takes the width left over */
};

/* Which columns fit in `avail` cells (one space between columns): fills
 * widths[i] (0 = hidden). Columns are hidden highest prio first; flexible
 * columns share what is left. */
void w_table_layout(const struct w_col *cols, int n, int avail, int *widths);
/* The same, where want[i] (NULL: none) is the cells flexible column i's
 * widest value needs (0 = no limit): spare width goes to each only that far
 * first, the rest to those without a limit, so a wide terminal shows whole
 * values (SOURCE -> TARGET, BY) rather than padding. */
void w_table_layout_want(const struct w_col *cols, int n, int avail, const int *want, int *widths);
void w_table_header(WINDOW *w, int y, const struct w_col *cols, int n, const int *widths);
/* One row: cells[i] per column; attrs[i] 0 = the row's attribute. */
void w_table_row(WINDOW *w, int y, const struct w_col *cols, int n, const int *widths,
                 const char *const *cells, const attr_t *attrs, attr_t row_attr);

/* ---- scrolling list with selection by identity ------------------------- */

struct w_list {
    int  sel;           /* selected index in the current rows */
    int  top;           /* first row shown */
    char id[256];       /* identity of the selected row ("" none) */
};

typedef const char *(*w_id_fn)(size_t i, void *arg);

/* After the rows changed: find the selected id again; when it is gone keep
 * the index (clamped) and adopt that row's id. */
void w_list_resolve(struct w_list *l, size_t n, w_id_fn id, void *arg);
/* Move by delta rows (clamped); INT_MIN/INT_MAX go to the ends. */
void w_list_move(struct w_list *l, int delta, size_t n, w_id_fn id, void *arg);
/* Keep the selection inside a window of `height` rows. */
void w_list_scroll(struct w_list *l, int height, size_t n);

/* ---- small graphics ---------------------------------------------------- */

/* Sparkline of v[0..n) (oldest first; < 0 = no data, drawn blank) scaled to
 * the largest value, at most `width` cells (the newest values). */
void w_sparkline(WINDOW *w, int y, int x, int width, const int64_t *v, int n, attr_t a);
/* Progress bar of done/total, `width` cells. */
void w_bar(WINDOW *w, int y, int x, int width, int64_t done, int64_t total, attr_t a);

/* ---- formatting -------------------------------------------------------- */

void w_fmt_lag(int64_t ms, char *buf, size_t len);      /* "120ms" "4.2s" "3m10s" "-" */
/* A lag measured to res_ms (statelog: 1, or 1000 from whole-second source
 * timestamps): never finer than that — "<1s" "12s" "3m10s" for 1000. */
void w_fmt_lag_res(int64_t ms, int64_t res_ms, char *buf, size_t len);
void w_fmt_count(int64_t n, char *buf, size_t len);     /* "999" "12.3k" "4.1M" */
void w_fmt_bytes(int64_t n, char *buf, size_t len);     /* "512B" "1.2MB" "-" */
void w_fmt_clock(int64_t ms, char *buf, size_t len);    /* local "HH:MM:SS", "-" for 0 */
void w_fmt_ago(int64_t ms, int64_t now, char *buf, size_t len);  /* "5s ago" */
void w_fmt_eta(int64_t s, char *buf, size_t len);       /* "11s" "3m10s" "2h05m" "5d" "-" */
/* A table's copy in at most `width` cells (0: no limit), the fullest form
 * that fits, from "45% 450.0k/1.0M rows, chunk 12, 52.0k rows/s, ETA 11s"
 * through "45% 450.0k/1.0M, 52.0k/s, ETA 11s" and "45% ETA 11s" to "45%"
 * (the last form may still be wider: the caller clips it). Pieces unknown
 * are left out: estimated <= 0 gives rows alone ("450.0k rows, …"),
 * chunks < 0 (a copy in one read) no chunk, rows_per_s < 0 no rate, eta_s
 * < 0 no ETA (statelog.h "Copy progress"). */
/*
 * A table's shape (runtime/integ/shape.h's string, "email=hash:1a2b3c4d,
 * phone=mask,soft_delete,filter:0a1b2c3d"): full 0, the short form of the
 * Tables view's MODE column ("filter, soft delete, hash 1, mask 1"); full 1, the transforms named
 * ("email hash, phone mask"), without the mode. "" for none.
 */
void w_fmt_shape(char *buf, size_t len, const char *shape, int full);
int  w_shape_soft_delete(const char *shape);
int  w_shape_filtered(const char *shape);
int  w_shape_history(const char *shape);

void w_fmt_copy(char *buf, size_t len, int width, int64_t rows, int64_t estimated, int64_t chunks,
                double rows_per_s, int64_t eta_s);

/*
 * ha (statelog.h: the integration's ha_* fields, ha_role NULL when ha is
 * off), in the words the console and `zetl status` share. "This process" is
 * the `zetl run` (or console) whose state log it is; its role is "active"
 * (it holds the lease) or "standby"; ha_standbys are the members seen other
 * than the holder (a standby is among them).
 *   w_fmt_ha_lease   who holds the lease: "hostA (pid 123) holds the lease
 *                    (epoch 4) and runs it", "this process (hostA, pid 41)
 *                    holds …", "no member holds the lease yet"
 *   w_fmt_ha         the one line: the lease, this process's part when it
 *                    stands by, the standbys ("standbys: hostB, hostC" or
 *                    "no standby seen"); stale 1 (nobody runs it here) says
 *                    it is as of this process's last run. Returns 0 with ""
 *                    when ha is off, else 1.
 *   w_fmt_ha_holder  the list's HOLDER cell in `width` cells (0: no limit):
 *                    the holder's name, "hostA (this)" when it is this
 *                    process (a long name is cut so "(this)" stays),
 *                    "none yet"; "" when ha is off.
 */
struct statelog_integration;
void w_fmt_ha_lease(char *buf, size_t len, const struct statelog_integration *in);
int  w_fmt_ha(char *buf, size_t len, const struct statelog_integration *in, int stale);
void w_fmt_ha_holder(char *buf, size_t len, const struct statelog_integration *in, int width);

#endif

/*
 * lag.c — lag over time for the selected integration, drawn with terminal
 * characters from the state log's samples (raw samples and 1-minute
 * rollups), with the current value, p50/p99 of the window and bytes behind.
 * `+`/`-` change the window (1, 5, 15, 60 minutes).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "views/widgets.h"
#include "views/view.h"

static const int windows_min[] = {1, 5, 15, 60};
static int win = 2;

static void update(struct view_ctx *c) { (void)c; }

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static void draw(struct view_ctx *c, WINDOW *w, int y, int h, int width)
{
    const struct snapshot *s = c->snap;
    const struct statelog_integration *in = s ? &s->integ[snapshot_find(s, s->focus) < 0 ? 0 : snapshot_find(s, s->focus)] : NULL;
    if (!s || !s->ninteg || !in) {
        w_text(w, y, 0, width, "No integration yet.", 0);
        return;
    }
    int64_t span = (int64_t)windows_min[win] * 60000, now = s->taken_at, from = now - span;
    /* samples in the window, for the percentiles */
    int64_t *vals = malloc((s->nlag ? s->nlag : 1) * sizeof *vals);
    size_t nv = 0;
    int64_t maxv = 0;
    for (size_t i = 0; vals && i < s->nlag; i++) {
        if (s->lag[i].at < from) continue;
        vals[nv++] = s->lag[i].lag_ms;
        int64_t mx = s->lag[i].lag_max_ms > s->lag[i].lag_ms ? s->lag[i].lag_max_ms : s->lag[i].lag_ms;
        if (mx > maxv) maxv = mx;
    }
    char cur[32], p50[32] = "-", p99[32] = "-", mx[32], bytes[32], line[512];
    if (nv) {
        qsort(vals, nv, sizeof *vals, cmp64);
        w_fmt_lag(vals[(nv - 1) * 50 / 100], p50, sizeof p50);
        w_fmt_lag(vals[(nv - 1) * 99 / 100], p99, sizeof p99);
    }
    w_fmt_lag_res(in->lag_ms, in->lag_res_ms, cur, sizeof cur);
    w_fmt_lag(nv ? maxv : -1, mx, sizeof mx);
    w_fmt_bytes(in->bytes_behind, bytes, sizeof bytes);
    snprintf(line, sizeof line, "Lag of %s, last %d min:  now %s  p50 %s  p99 %s  max %s  behind %s  (%zu samples)",
             in->name, windows_min[win], cur, p50, p99, mx, bytes, nv);
    wattrset(w, A_BOLD);
    w_text(w, y, 0, width, line, 0);
    wattrset(w, A_NORMAL);

    int gx = 9, gw = width - gx, gh = h - 3;
    if (gw < 10 || gh < 2) { free(vals); return; }
    int64_t *col = malloc((size_t)gw * sizeof *col);
    if (!col) { free(vals); return; }
    for (int i = 0; i < gw; i++) col[i] = -1;
    for (size_t i = 0; i < s->nlag; i++) {
        const struct statelog_lag_sample *l = &s->lag[i];
        if (l->at < from) continue;
        int k = (int)((l->at - from) * gw / span);
        if (k >= gw) k = gw - 1;
        int64_t v = l->lag_max_ms > l->lag_ms ? l->lag_max_ms : l->lag_ms;
        if (v > col[k]) col[k] = v;
    }
    int64_t top = maxv > 0 ? maxv : 1;
    /* y axis: top, middle, zero */
    char lbl[16];
    w_fmt_lag(top, lbl, sizeof lbl);
    w_text(w, y + 1, 0, gx - 1, lbl, 1);
    w_fmt_lag(top / 2, lbl, sizeof lbl);
    w_text(w, y + 1 + gh / 2, 0, gx - 1, lbl, 1);
    w_text(w, y + gh, 0, gx - 1, "0", 1);
    wattrset(w, theme_attr(TH_BUSY));
    for (int i = 0; i < gw; i++) {
        if (col[i] < 0) continue;
        int64_t eighths = col[i] * gh * 8 / top;
        if (col[i] > 0 && eighths == 0) eighths = 1;
        for (int r = 0; r < gh; r++) {
            int64_t cell = eighths - (int64_t)r * 8;
            if (cell <= 0) break;
            const char *g = cell >= 8 ? theme_glyph->spark[7] : theme_glyph->spark[cell - 1];
            mvwaddstr(w, y + gh - r, gx + i, g);
        }
        if (eighths == 0 && gh > 0) mvwaddstr(w, y + gh, gx + i, theme_glyph->spark[0]);
    }
    wattrset(w, theme_attr(TH_DIM));
    mvwhline(w, y + gh + 1, gx, ' ', gw);
    for (int i = 0; i < gw; i++) mvwaddstr(w, y + gh + 1, gx + i, theme_glyph->hline);
    wattrset(w, A_NORMAL);
    snprintf(line, sizeof line, "-%dm", windows_min[win]);
    w_text(w, y + gh + 2, gx, 8, line, 0);
    w_text(w, y + gh + 2, width - 4, 4, "now", 1);
    free(col);
    free(vals);
}

static int handle_key(struct view_ctx *c, enum action a, struct view_request *req)
{
    (void)c;
    (void)req;
    if (a == A_UP && win > 0) { win--; return VF_REDRAW; }
    if (a == A_DOWN && win < (int)(sizeof windows_min / sizeof windows_min[0]) - 1) { win++; return VF_REDRAW; }
    if (a == A_UP || a == A_DOWN) return 0;
    return VF_UNHANDLED;
}

const struct view view_lag = {
    "Lag", &keymap_lag, update, draw, handle_key, NULL, NULL,
};

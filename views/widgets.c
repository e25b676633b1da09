/* widgets.c — see widgets.h. */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <wchar.h>

#include "runtime/log/statelog.h"
#include "views/keymap.h"
#include "views/widgets.h"

int w_text(WINDOW *w, int y, int x, int width, const char *s, int right)
{
    if (width <= 0) return 0;
    wchar_t wbuf[512];
    int cells = 0, nw = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    const char *p = s ? s : "";
    size_t left = strlen(p);
    while (left > 0 && nw < (int)(sizeof wbuf / sizeof wbuf[0]) - 1) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, p, left, &st);
        if (k == (size_t)-1 || k == (size_t)-2) {   /* invalid: show '?' and go on */
            wc = L'?';
            k = 1;
            memset(&st, 0, sizeof st);
        } else if (k == 0) {
            break;
        }
        if (wc < L' ' || wc == 0x7f) wc = L' ';
        int cw = wcwidth(wc);
        if (cw < 0) { wc = L'?'; cw = 1; }
        if (cells + cw > width) {
            /* mark the cut with the last cell */
            if (nw > 0 && width >= 2) {
                int lw = wcwidth(wbuf[nw - 1]);
                wbuf[nw - 1] = theme_unicode ? L'\x2026' : L'~';
                cells -= lw - 1;
            }
            break;
        }
        wbuf[nw++] = wc;
        cells += cw;
        p += k;
        left -= k;
    }
    wbuf[nw] = 0;
    int pad = width - cells;
    if (right && pad > 0) {
        mvwhline(w, y, x, ' ', pad);
        mvwaddnwstr(w, y, x + pad, wbuf, nw);
    } else {
        mvwaddnwstr(w, y, x, wbuf, nw);
        if (pad > 0) mvwhline(w, y, x + cells, ' ', pad);
    }
    return cells;
}

int w_text_tail(WINDOW *w, int y, int x, int width, const char *s)
{
    if (width <= 0) return 0;
    const char *p = s ? s : "";
    /* cells of the whole string, counted as w_text draws them */
    int cells = 0;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (const char *q = p; *q;) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, q, strlen(q), &st);
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) { k = 1; wc = L'?'; memset(&st, 0, sizeof st); }
        int cw = wcwidth(wc);
        cells += cw > 0 ? cw : 1;
        q += k;
    }
    if (cells <= width || width < 2) return w_text(w, y, x, width, p, 0);
    /* skip whole characters from the start until the rest fits after the mark */
    memset(&st, 0, sizeof st);
    while (*p && cells > width - 1) {
        wchar_t wc;
        size_t k = mbrtowc(&wc, p, strlen(p), &st);
        if (k == (size_t)-1 || k == (size_t)-2 || k == 0) { k = 1; wc = L'?'; memset(&st, 0, sizeof st); }
        int cw = wcwidth(wc);
        cells -= cw > 0 ? cw : 1;
        p += k;
    }
    char buf[1024];
    snprintf(buf, sizeof buf, "%s%s", theme_unicode ? "\xe2\x80\xa6" : "~", p);
    return w_text(w, y, x, width, buf, 0);
}

int w_wrap(WINDOW *w, const char *s, int y, int x, int width, int max_rows)
{
    return w_wrap_skip(w, s, y, x, width, 0, max_rows);
}

int w_wrap_skip(WINDOW *w, const char *s, int y, int x, int width, int skip, int max_rows)
{
    int rows = 0;
    size_t len = strlen(s);
    if (width < 8) width = 8;
    if (skip < 0) skip = 0;
    if (len == 0) {
        if (w && max_rows > 0 && !skip) mvwhline(w, y, x, ' ', width);
        return skip ? 0 : 1;
    }
    max_rows += skip;
    while (len > 0 && rows < max_rows) {
        size_t n = len;
        if ((int)n > width && rows < max_rows - 1) {
            n = (size_t)width;
            while (n > 0 && s[n] != ' ') n--;
            if (n == 0) n = (size_t)width;
            while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80) n--;   /* not inside a UTF-8 character */
        }
        if (w && rows >= skip) {
            char line[1024];
            size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
            memcpy(line, s, k);
            line[k] = '\0';
            w_text(w, y + rows - skip, x, width, line, 0);
        }
        rows++;
        s += n;
        len -= n;
        while (*s == ' ') { s++; len--; }
    }
    return rows - skip > 0 ? rows - skip : 0;
}

void w_box(WINDOW *win, int h, int w, int *py, int *px, const char *title)
{
    int H = getmaxy(win), W = getmaxx(win);
    if (w > W - 2) w = W - 2;
    if (h > H - 2) h = H - 2;
    int y = (H - h) / 2, x = (W - w) / 2;
    wattrset(win, A_NORMAL);
    for (int r = 0; r < h; r++) mvwhline(win, y + r, x, ' ', w);
    mvwaddch(win, y, x, ACS_ULCORNER);
    mvwhline(win, y, x + 1, ACS_HLINE, w - 2);
    mvwaddch(win, y, x + w - 1, ACS_URCORNER);
    mvwvline(win, y + 1, x, ACS_VLINE, h - 2);
    mvwvline(win, y + 1, x + w - 1, ACS_VLINE, h - 2);
    mvwaddch(win, y + h - 1, x, ACS_LLCORNER);
    mvwhline(win, y + h - 1, x + 1, ACS_HLINE, w - 2);
    mvwaddch(win, y + h - 1, x + w - 1, ACS_LRCORNER);
    if (title) {
        wattrset(win, A_BOLD);
        char t[160];
        snprintf(t, sizeof t, " %s ", title);
        w_text(win, y, x + 2, w - 4, t, 0);
        wattrset(win, A_NORMAL);
    }
    *py = y;
    *px = x;
}

void w_hints(WINDOW *w, int y, int width, const struct keymap *const *maps, int n)
{
    int x = 0;
    wattrset(w, A_NORMAL);
    mvwhline(w, y, 0, ' ', width);
    for (int m = 0; m < n; m++)
        for (size_t i = 0; maps[m] && i < maps[m]->n && x < width; i++) {
            const struct key_binding *b = &maps[m]->b[i];
            if (!b->hint) continue;
            wattrset(w, theme_attr(TH_KEY));
            x += w_text(w, y, x, width - x, b->name, 0);
            wattrset(w, A_NORMAL);
            char h[64];
            snprintf(h, sizeof h, " %s  ", b->hint);
            x += w_text(w, y, x, width - x, h, 0);
        }
}

/* ---- table ------------------------------------------------------------- */

void w_table_layout(const struct w_col *cols, int n, int avail, int *widths)
{
    w_table_layout_want(cols, n, avail, NULL, widths);
}

void w_table_layout_want(const struct w_col *cols, int n, int avail, const int *want, int *widths)
{
#define WANT(i) (want ? want[i] : 0)
    int total = 0, shown = 0;
    for (int i = 0; i < n; i++) {
        widths[i] = cols[i].width > 0 ? cols[i].width : 0;    /* width 0: the caller hides it */
        if (!widths[i]) continue;
        total += widths[i];
        shown++;
    }
    total += shown > 0 ? shown - 1 : 0;
    /* hide the least important columns until the rest fits */
    while (total > avail) {
        int worst = -1;
        for (int i = 0; i < n; i++)
            if (widths[i] > 0 && cols[i].prio > 0 && (worst < 0 || cols[i].prio >= cols[worst].prio))
                worst = i;
        if (worst < 0) break;
        total -= widths[worst] + 1;
        widths[worst] = 0;
    }
    /* still too wide (only prio-0 columns left): shrink flexible ones, then the last */
    for (int i = n - 1; i >= 0 && total > avail; i--) {
        if (!widths[i] || !cols[i].flex) continue;
        int cut = total - avail;
        int can = widths[i] - 4;
        if (can <= 0) continue;
        if (cut > can) cut = can;
        widths[i] -= cut;
        total -= cut;
    }
    for (int i = n - 1; i >= 0 && total > avail; i--) {
        if (!widths[i]) continue;
        int cut = total - avail;
        if (cut > widths[i] - 1) cut = widths[i] - 1;
        widths[i] -= cut;
        total -= cut;
    }
    /* spare width goes to the flexible columns: first evenly to those that
     * still want more, then to the unlimited ones (else to all of them) */
    int spare = avail - total;
    while (spare > 0) {
        int nwant = 0;
        for (int i = 0; i < n; i++)
            if (widths[i] && cols[i].flex && (!WANT(i) || widths[i] < WANT(i))) nwant++;
        if (!nwant) break;
        int each = spare / nwant > 0 ? spare / nwant : 1, given = 0;
        for (int i = 0; i < n && spare > 0; i++) {
            if (!widths[i] || !cols[i].flex || (WANT(i) && widths[i] >= WANT(i))) continue;
            int add = each;
            if (WANT(i) && add > WANT(i) - widths[i]) add = WANT(i) - widths[i];
            if (add > spare) add = spare;
            widths[i] += add;
            spare -= add;
            given += add;
        }
        if (!given) break;
    }
    int nflex = 0;
    for (int i = 0; i < n; i++)
        if (widths[i] && cols[i].flex && !WANT(i)) nflex++;
    int any_unlimited = nflex > 0;
    if (!any_unlimited)
        for (int i = 0; i < n; i++)
            if (widths[i] && cols[i].flex) nflex++;
    if (nflex && spare > 0) {
        int each = spare / nflex;
        for (int i = 0; i < n; i++)
            if (widths[i] && cols[i].flex && (!any_unlimited || !WANT(i))) {
                int add = --nflex ? each : spare;
                widths[i] += add;
                spare -= add;
            }
    }
#undef WANT
}

void w_table_header(WINDOW *w, int y, const struct w_col *cols, int n, const int *widths)
{
    int x = 0, maxx = getmaxx(w);
    wattrset(w, theme_attr(TH_HEADER));
    mvwhline(w, y, 0, ' ', maxx);
    for (int i = 0; i < n; i++) {
        if (!widths[i]) continue;
        w_text(w, y, x, widths[i], cols[i].title, cols[i].right);
        x += widths[i] + 1;
    }
    wattrset(w, A_NORMAL);
}

void w_table_row(WINDOW *w, int y, const struct w_col *cols, int n, const int *widths,
                 const char *const *cells, const attr_t *attrs, attr_t row_attr)
{
    int x = 0, maxx = getmaxx(w);
    wattrset(w, row_attr);
    mvwhline(w, y, 0, ' ', maxx);
    for (int i = 0; i < n; i++) {
        if (!widths[i]) continue;
        wattrset(w, (attrs && attrs[i] && row_attr == A_NORMAL) ? attrs[i] : row_attr);
        w_text(w, y, x, widths[i], cells[i], cols[i].right);
        x += widths[i] + 1;
    }
    wattrset(w, A_NORMAL);
}

/* ---- list -------------------------------------------------------------- */

void w_list_resolve(struct w_list *l, size_t n, w_id_fn id, void *arg)
{
    if (n == 0) { l->sel = 0; l->top = 0; return; }
    if (l->id[0])
        for (size_t i = 0; i < n; i++)
            if (strcmp(id(i, arg), l->id) == 0) { l->sel = (int)i; return; }
    if (l->sel >= (int)n) l->sel = (int)n - 1;
    if (l->sel < 0) l->sel = 0;
    snprintf(l->id, sizeof l->id, "%s", id((size_t)l->sel, arg));
}

void w_list_move(struct w_list *l, int delta, size_t n, w_id_fn id, void *arg)
{
    if (n == 0) return;
    long s = delta == INT_MIN ? 0 : delta == INT_MAX ? (long)n - 1 : (long)l->sel + delta;
    if (s < 0) s = 0;
    if (s >= (long)n) s = (long)n - 1;
    l->sel = (int)s;
    snprintf(l->id, sizeof l->id, "%s", id((size_t)l->sel, arg));
}

void w_list_scroll(struct w_list *l, int height, size_t n)
{
    if (height < 1) height = 1;
    if (l->sel < l->top) l->top = l->sel;
    if (l->sel >= l->top + height) l->top = l->sel - height + 1;
    if (l->top > (int)n - height) l->top = (int)n - height;
    if (l->top < 0) l->top = 0;
}

/* ---- graphics ---------------------------------------------------------- */

void w_sparkline(WINDOW *w, int y, int x, int width, const int64_t *v, int n, attr_t a)
{
    if (width <= 0) return;
    int first = n > width ? n - width : 0;
    int64_t max = 0;
    for (int i = first; i < n; i++)
        if (v[i] > max) max = v[i];
    wattrset(w, a);
    mvwhline(w, y, x, ' ', width);
    int col = x + width - (n - first);
    for (int i = first; i < n; i++, col++) {
        if (v[i] < 0) continue;
        int lvl = max > 0 ? (int)(v[i] * 7 / max) : 0;
        if (lvl > 7) lvl = 7;
        mvwaddstr(w, y, col, theme_glyph->spark[lvl]);
    }
    wattrset(w, A_NORMAL);
}

void w_bar(WINDOW *w, int y, int x, int width, int64_t done, int64_t total, attr_t a)
{
    if (width <= 0) return;
    int fill = total > 0 ? (int)((done > total ? total : done) * width / total) : 0;
    wattrset(w, a);
    for (int i = 0; i < width; i++)
        mvwaddstr(w, y, x + i, i < fill ? theme_glyph->bar_full : theme_glyph->bar_empty);
    wattrset(w, A_NORMAL);
}

/* ---- formatting -------------------------------------------------------- */

void w_fmt_lag_res(int64_t ms, int64_t res_ms, char *buf, size_t len)
{
    if (res_ms < 1000 || ms < 0 || ms >= 60000) w_fmt_lag(ms, buf, len);
    else if (ms == 0) snprintf(buf, len, "0s");         /* proven caught up */
    else if (ms < 1000) snprintf(buf, len, "<1s");
    else snprintf(buf, len, "%llds", (long long)(ms / 1000));
}

void w_fmt_lag(int64_t ms, char *buf, size_t len)
{
    if (ms < 0) snprintf(buf, len, "-");
    else if (ms < 1000) snprintf(buf, len, "%lldms", (long long)ms);
    else if (ms < 60000) snprintf(buf, len, "%.1fs", (double)ms / 1000);
    else if (ms < 3600000) snprintf(buf, len, "%lldm%02llds", (long long)(ms / 60000), (long long)(ms / 1000 % 60));
    else snprintf(buf, len, "%lldh%02lldm", (long long)(ms / 3600000), (long long)(ms / 60000 % 60));
}

void w_fmt_count(int64_t n, char *buf, size_t len)
{
    if (n < 0) snprintf(buf, len, "-");
    else if (n < 10000) snprintf(buf, len, "%lld", (long long)n);
    else if (n < 1000000) snprintf(buf, len, "%.1fk", (double)n / 1e3);
    else if (n < 1000000000) snprintf(buf, len, "%.1fM", (double)n / 1e6);
    else snprintf(buf, len, "%.1fG", (double)n / 1e9);
}

void w_fmt_bytes(int64_t n, char *buf, size_t len)
{
    if (n < 0) snprintf(buf, len, "-");
    else if (n < 1024) snprintf(buf, len, "%lldB", (long long)n);
    else if (n < 1024 * 1024) snprintf(buf, len, "%.1fkB", (double)n / 1024);
    else if (n < 1024LL * 1024 * 1024) snprintf(buf, len, "%.1fMB", (double)n / (1024 * 1024));
    else snprintf(buf, len, "%.1fGB", (double)n / (1024.0 * 1024 * 1024));
}

void w_fmt_clock(int64_t ms, char *buf, size_t len)
{
    if (ms <= 0) { snprintf(buf, len, "-"); return; }
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    strftime(buf, len, "%H:%M:%S", &tm);
}

void w_fmt_ago(int64_t ms, int64_t now, char *buf, size_t len)
{
    if (ms <= 0) { snprintf(buf, len, "never"); return; }
    int64_t d = (now - ms) / 1000;
    if (d < 0) d = 0;
    if (d < 60) snprintf(buf, len, "%llds ago", (long long)d);
    else if (d < 3600) snprintf(buf, len, "%lldm ago", (long long)(d / 60));
    else if (d < 86400) snprintf(buf, len, "%lldh ago", (long long)(d / 3600));
    else snprintf(buf, len, "%lldd ago", (long long)(d / 86400));
}

void w_fmt_eta(int64_t s, char *buf, size_t len)
{
    if (s < 0) snprintf(buf, len, "-");
    else if (s < 60) snprintf(buf, len, "%llds", (long long)s);
    else if (s < 3600) snprintf(buf, len, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
    else if (s < 100 * 3600) snprintf(buf, len, "%lldh%02lldm", (long long)(s / 3600), (long long)(s / 60 % 60));
    else snprintf(buf, len, "%lldd", (long long)(s / 86400));
}

/*
 * The forms, fullest first, each piece present only when known: the
 * percentage and rows (or rows alone without an estimate), the chunk, the
 * rate, the ETA. Narrower forms shorten the words, then drop the chunk, the
 * rows, the rate: what is left longest is how far and how long.
 */
void w_fmt_copy(char *buf, size_t len, int width, int64_t rows, int64_t estimated, int64_t chunks,
                double rows_per_s, int64_t eta_s)
{
    char pct[16] = "", done[32], est[32], count[80], chunk[32] = "", rate[48] = "", rate_s[48] = "", eta[32] = "";
    w_fmt_count(rows, done, sizeof done);
    if (estimated > 0) {
        int64_t p = rows * 100 / estimated;
        snprintf(pct, sizeof pct, "%d%%", (int)(p > 100 ? 100 : p < 0 ? 0 : p));
        w_fmt_count(estimated, est, sizeof est);
        snprintf(count, sizeof count, "%s/%s", done, est);
    } else {
        snprintf(count, sizeof count, "%s", done);
    }
    if (chunks >= 0) snprintf(chunk, sizeof chunk, ", chunk %lld", (long long)chunks);
    if (rows_per_s >= 0) {
        char r[32];
        w_fmt_count((int64_t)(rows_per_s + 0.5), r, sizeof r);
        snprintf(rate, sizeof rate, ", %s rows/s", r);
        snprintf(rate_s, sizeof rate_s, ", %s/s", r);
    }
    if (eta_s >= 0) {
        char d[24];
        w_fmt_eta(eta_s, d, sizeof d);
        snprintf(eta, sizeof eta, ", ETA %s", d);
    }
    const char *sp = pct[0] ? " " : "";
    char forms[6][256];
    snprintf(forms[0], sizeof forms[0], "%s%s%s rows%s%s%s", pct, sp, count, chunk, rate, eta);
    snprintf(forms[1], sizeof forms[1], "%s%s%s%s%s%s", pct, sp, count, chunk, rate_s, eta);
    snprintf(forms[2], sizeof forms[2], "%s%s%s%s%s", pct, sp, count, rate_s, eta);
    if (pct[0]) {
        snprintf(forms[3], sizeof forms[3], "%s%s%s", pct, rate_s[0] ? " " : "", rate_s[0] ? rate_s + 2 : "");
        if (eta[0]) snprintf(forms[3] + strlen(forms[3]), sizeof forms[3] - strlen(forms[3]), "%s", eta);
        snprintf(forms[4], sizeof forms[4], "%s%s%s", pct, eta[0] ? " " : "", eta[0] ? eta + 2 : "");
        snprintf(forms[5], sizeof forms[5], "%s", pct);
    } else {
        snprintf(forms[3], sizeof forms[3], "%s rows", count);
        snprintf(forms[4], sizeof forms[4], "%s", count);
        snprintf(forms[5], sizeof forms[5], "%s", count);
    }
    int i = 0;
    while (width > 0 && i < 5 && (int)strlen(forms[i]) > width) i++;
    snprintf(buf, len, "%s", forms[i]);
}

int w_shape_soft_delete(const char *shape)
{
    if (!shape) return 0;
    for (const char *p = shape; (p = strstr(p, "soft_delete")); p += 11)
        if ((p == shape || p[-1] == ',') && (p[11] == ',' || p[11] == '\0')) return 1;
    return 0;
}

int w_shape_history(const char *shape)
{
    if (!shape) return 0;
    for (const char *p = shape; (p = strstr(p, "history")); p += 7)
        if ((p == shape || p[-1] == ',') && (p[7] == ',' || p[7] == '\0')) return 1;
    return 0;
}

int w_shape_filtered(const char *shape)
{
    if (!shape) return 0;
    for (const char *p = shape; (p = strstr(p, "filter:")); p += 7)
        if (p == shape || p[-1] == ',') return 1;
    return 0;
}

void w_fmt_shape(char *buf, size_t len, const char *shape, int full)
{
    static const char *const kinds[3] = {"hash", "mask", "null"};
    int count[3] = {0, 0, 0};
    size_t o = 0;
    buf[0] = '\0';
    if (!shape) return;
    for (const char *p = shape; *p;) {
        const char *e = strchr(p, ',');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (eq) {
            size_t cn = (size_t)(eq - p);
            for (int k = 0; k < 3; k++) {
                size_t kl = strlen(kinds[k]);
                if ((size_t)(p + n - eq - 1) >= kl && !strncmp(eq + 1, kinds[k], kl)) {
                    count[k]++;
                    if (full && o < len)
                        o += (size_t)snprintf(buf + o, len - o, "%s%.*s %s", o ? ", " : "", (int)cn, p, kinds[k]);
                }
            }
        }
        p += n;
        if (*p == ',') p++;
    }
    if (full) return;
    if (w_shape_filtered(shape) && o < len) o += (size_t)snprintf(buf + o, len - o, "filter");
    if (w_shape_history(shape) && o < len) o += (size_t)snprintf(buf + o, len - o, "%shistory", o ? ", " : "");
    if (w_shape_soft_delete(shape) && o < len) o += (size_t)snprintf(buf + o, len - o, "%ssoft delete", o ? ", " : "");
    for (int k = 0; k < 3; k++)
        if (count[k] && o < len) o += (size_t)snprintf(buf + o, len - o, "%s%s %d", o ? ", " : "", kinds[k], count[k]);
}

/* ---- ha ---------------------------------------------------------------- */

/* This process holds the lease: its role says so (a holder of the same
 * member name may be another process, e.g. one not yet taken over). */
static int ha_self(const struct statelog_integration *in)
{
    return in->ha_role && strcmp(in->ha_role, "active") == 0;
}

void w_fmt_ha_lease(char *buf, size_t len, const struct statelog_integration *in)
{
    char pid[32] = "", epoch[40] = "";
    const char *holder = in->ha_holder && in->ha_holder[0] ? in->ha_holder : NULL;
    int self = ha_self(in);
    if (self && !holder) holder = in->ha_member;
    if (!holder || !holder[0]) {
        snprintf(buf, len, "no member holds the lease yet");
        return;
    }
    if (in->ha_holder_pid > 0) snprintf(pid, sizeof pid, "pid %lld", (long long)in->ha_holder_pid);
    if (in->ha_epoch > 0) snprintf(epoch, sizeof epoch, " (epoch %lld)", (long long)in->ha_epoch);
    if (self)
        snprintf(buf, len, "this process (%s%s%s) holds the lease%s and runs it", holder, pid[0] ? ", " : "", pid,
                 epoch);
    else
        snprintf(buf, len, "%s%s%s%s holds the lease%s and runs it", holder, pid[0] ? " (" : "", pid,
                 pid[0] ? ")" : "", epoch);
}

int w_fmt_ha(char *buf, size_t len, const struct statelog_integration *in, int stale)
{
    char lease[256], part[192] = "";
    buf[0] = '\0';
    if (!in->ha_role) return 0;
    w_fmt_ha_lease(lease, sizeof lease, in);
    const char *me = in->ha_member && in->ha_member[0] ? in->ha_member : "?";
    if (strcmp(in->ha_role, "standby") == 0)
        snprintf(part, sizeof part, "; this process (%.80s) stands by", me);
    else if (!ha_self(in))      /* a role this zetl does not know: as read */
        snprintf(part, sizeof part, "; this process (%.80s) is %.60s", me, in->ha_role);
    const char *sb = in->ha_standbys && in->ha_standbys[0] ? in->ha_standbys : NULL;
    snprintf(buf, len, "%s%s; %s%s%s", lease, part, sb ? "standbys: " : "no standby seen", sb ? sb : "",
             stale ? " (as of this process's last run: it is not running now)" : "");
    return 1;
}

void w_fmt_ha_holder(char *buf, size_t len, const struct statelog_integration *in, int width)
{
    static const char mark[] = " (this)";
    buf[0] = '\0';
    if (!in->ha_role) return;
    int self = ha_self(in);
    const char *holder = in->ha_holder && in->ha_holder[0] ? in->ha_holder : self ? in->ha_member : NULL;
    if (!holder || !holder[0]) {
        snprintf(buf, len, "none yet");
        return;
    }
    if (!self) {
        snprintf(buf, len, "%s", holder);
        return;
    }
    /* member names are ASCII (config: letters, digits, . _ -): one cell a byte */
    int room = width > 0 ? width - (int)(sizeof mark - 1) : INT_MAX;
    if ((int)strlen(holder) <= room || room < 2)
        snprintf(buf, len, "%s%s", holder, mark);
    else
        snprintf(buf, len, "%.*s%s%s", room - 1, holder, theme_unicode ? "\xe2\x80\xa6" : "~", mark);
}

/*
 * report.c — collecting config problems and writing them for the operator.
 *
 * Problems are gathered while the document is walked (in walk order), then
 * sorted by position so the first line of the report is always the first
 * problem in the file, whatever order the checks ran in.
 */
#include "config/internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void cfg_report_add(struct cfg_report *r, int line, int col, const char *fmt, ...)
{
    char msg[768];
    va_list ap;

    if (r->n >= CFG_MAX_PROBLEMS + r->extra) {
        r->dropped++;
        return;
    }
    if (r->n == r->cap) {
        int ncap = r->cap ? r->cap * 2 : 8;
        struct cfg_problem *nv = realloc(r->v, (size_t)ncap * sizeof *nv);
        if (!nv) {
            r->dropped++;
            return;
        }
        r->v = nv;
        r->cap = ncap;
    }
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    r->v[r->n].msg = strdup(msg);
    if (!r->v[r->n].msg) {
        r->dropped++;
        return;
    }
    r->v[r->n].line = line;
    r->v[r->n].col = col;
    r->v[r->n].seq = r->n + r->dropped;
    r->n++;
}

static int problem_cmp(const void *a, const void *b)
{
    const struct cfg_problem *x = a, *y = b;

    if (x->line != y->line)
        return x->line < y->line ? -1 : 1;
    if (x->col != y->col)
        return x->col < y->col ? -1 : 1;
    return x->seq < y->seq ? -1 : x->seq > y->seq;
}

void cfg_report_flush(struct cfg_report *r, char *err, size_t errlen)
{
    size_t used = 0;
    int written = 0;

    if (r->n > 1)
        qsort(r->v, (size_t)r->n, sizeof *r->v, problem_cmp);
    if (err && errlen)
        err[0] = '\0';
    for (int i = 0; err && i < r->n; i++) {
        int k = snprintf(err + used, errlen - used, "%s%s:%d:%d: %s", used ? "\n" : "",
                         r->file, r->v[i].line, r->v[i].col, r->v[i].msg);
        if (k < 0 || (size_t)k >= errlen - used) {
            if (used == 0) {            /* the first line, cut short, beats nothing */
                used = strlen(err);
                written++;
            } else {
                err[used] = '\0';       /* later lines whole or not at all */
            }
            break;
        }
        used += (size_t)k;
        written++;
    }
    if (err && (written < r->n || r->dropped) && used) {
        int more = r->n - written + r->dropped;
        int k = snprintf(err + used, errlen - used, "\n%s: (%d more problem%s not shown)",
                         r->file, more, more == 1 ? "" : "s");
        if (k < 0 || (size_t)k >= errlen - used)
            err[used] = '\0';
    }
    if (err && errlen && !used && !r->n && r->dropped)
        snprintf(err, errlen, "%s: invalid config (out of memory while reporting)", r->file);
    cfg_report_free(r);
}

void cfg_report_free(struct cfg_report *r)
{
    for (int i = 0; i < r->n; i++)
        free(r->v[i].msg);
    free(r->v);
    r->v = NULL;
    r->n = r->cap = r->dropped = r->extra = 0;
}

int cfg_edit_distance(const char *a, const char *b)
{
    enum { MAXLEN = 64 };
    int d[MAXLEN + 1][MAXLEN + 1];
    size_t la = strlen(a), lb = strlen(b);

    if (la > MAXLEN || lb > MAXLEN)
        return 99;
    for (size_t i = 0; i <= la; i++)
        d[i][0] = (int)i;
    for (size_t j = 0; j <= lb; j++)
        d[0][j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        for (size_t j = 1; j <= lb; j++) {
            int ca = tolower((unsigned char)a[i - 1]), cb = tolower((unsigned char)b[j - 1]);
            int cost = ca != cb;
            int v = d[i - 1][j] + 1;
            if (d[i][j - 1] + 1 < v)
                v = d[i][j - 1] + 1;
            if (d[i - 1][j - 1] + cost < v)
                v = d[i - 1][j - 1] + cost;
            if (i > 1 && j > 1 && ca == tolower((unsigned char)b[j - 2]) &&
                tolower((unsigned char)a[i - 2]) == cb && d[i - 2][j - 2] + 1 < v)
                v = d[i - 2][j - 2] + 1;        /* transposition: "hots" → "host" */
            d[i][j] = v;
        }
    }
    return d[la][lb] > 99 ? 99 : d[la][lb];
}

const char *cfg_suggest(const char *word, const char *const *candidates, int n)
{
    const char *best = NULL;
    int bestd = 99;
    size_t wl = strlen(word);

    for (int i = 0; i < n; i++) {
        int dist = cfg_edit_distance(word, candidates[i]);
        size_t cl = strlen(candidates[i]);
        /* close enough: a third of the longer word, at least one edit */
        int limit = (int)((wl > cl ? wl : cl) / 3);
        if (limit < 1)
            limit = 1;
        if (dist <= limit && dist < bestd) {
            best = candidates[i];
            bestd = dist;
        }
    }
    return best;
}

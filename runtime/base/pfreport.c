/* pfreport.c — the preflight report: collect and print items (see pfreport.h). */
#include "runtime/base/pfreport.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t len, const char *src)
{
    snprintf(dst, len, "%s", src ? src : "");
}

void pf_add(struct pf_report *r, enum pf_status st, const char *check, const char *required,
            const char *fix, const char *fix_rds, const char *current_fmt, ...)
{
    if (st == PF_FAIL) r->nfail++;
    if (st == PF_WARN) r->nwarn++;
    if (r->n == r->cap) {
        int cap = r->cap ? r->cap * 2 : 16;
        struct pf_item *v = realloc(r->items, (size_t)cap * sizeof *v);
        if (!v) {
            if (st != PF_FAIL) r->nfail++;
            return;
        }
        r->items = v;
        r->cap = cap;
    }
    struct pf_item *it = &r->items[r->n++];
    memset(it, 0, sizeof *it);
    it->status = st;
    copy(it->check, sizeof it->check, check);
    copy(it->required, sizeof it->required, required);
    copy(it->fix, sizeof it->fix, fix);
    copy(it->fix_rds, sizeof it->fix_rds, fix_rds);
    va_list ap;
    va_start(ap, current_fmt);
    vsnprintf(it->current, sizeof it->current, current_fmt, ap);
    va_end(ap);
}

void pf_free(struct pf_report *r)
{
    free(r->items);
    r->items = NULL;
    r->n = r->cap = r->nfail = r->nwarn = 0;
}

void pf_print(const struct pf_report *r, FILE *out)
{
    static const char *const tag[] = {"PASS", "WARN", "FAIL"};
    fprintf(out, "%s\n", r->subject);
    for (int i = 0; i < r->n; i++) {
        const struct pf_item *it = &r->items[i];
        fprintf(out, "  %s  %-30s %s", tag[it->status], it->check, it->current);
        if (it->required[0] && it->status != PF_PASS)
            fprintf(out, "  (required: %s)", it->required);
        fputc('\n', out);
        if (it->status == PF_PASS) continue;
        if (it->fix[0])
            fprintf(out, "        fix: %s\n", it->fix);
        if (it->fix_rds[0])
            fprintf(out, "        RDS/Aurora: %s\n", it->fix_rds);
    }
    fprintf(out, "  %d failed, %d warning%s\n", r->nfail, r->nwarn, r->nwarn == 1 ? "" : "s");
}

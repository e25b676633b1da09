/*
 * test_widgets.c — the console's pure pieces, without a terminal: column
 * layout at 80 and 200 cells (priorities give way, nothing overflows, the
 * flexible column takes the rest), the list that keeps its selection by row
 * identity when rows come and go, the key tables (every action the console
 * handles has a key and a help line; lookups), and number formatting.
 */
#include <limits.h>
#include <string.h>

#include "tests/unit/test.h"
#include "views/keymap.h"
#include "views/widgets.h"

static const struct w_col cols[] = {
    {"TABLE", 22, 0, 0, 1},  {"TARGET", 22, 7, 0, 1}, {"STATE", 15, 0, 0, 0},
    {"PROGRESS", 12, 2, 0, 0}, {"INS", 7, 4, 1, 0},   {"UPD", 7, 4, 1, 0},
    {"DEL", 7, 4, 1, 0},     {"COPIED", 8, 5, 1, 0},  {"APPLIED", 8, 6, 0, 0},
    {"LAG", 7, 1, 1, 0},     {"REASON", 18, 3, 0, 1},
};
#define NC ((int)(sizeof cols / sizeof cols[0]))

static int used(const int *w)
{
    int t = 0, n = 0;
    for (int i = 0; i < NC; i++)
        if (w[i]) { t += w[i]; n++; }
    return t + (n ? n - 1 : 0);
}

static void test_layout(void)
{
    int w[NC];
    w_table_layout(cols, NC, 80, w);
    CHECK_INT(used(w), 80, "80 cells: the columns fill the width exactly");
    CHECK(w[0] && w[2] && w[9], "80 cells: TABLE, STATE and LAG stay");
    CHECK(w[10] > 0, "80 cells: REASON (prio 3) stays");
    CHECK(!w[1] && !w[7] && !w[8], "80 cells: TARGET, COPIED, APPLIED give way");
    w_table_layout(cols, NC, 200, w);
    int all = 1;
    for (int i = 0; i < NC; i++) all &= w[i] > 0;
    CHECK(all, "200 cells: every column shows");
    CHECK_INT(used(w), 200, "200 cells: flexible columns take the rest");
    w_table_layout(cols, NC, 30, w);
    CHECK(used(w) <= 30, "30 cells: still no overflow");
    CHECK(w[0] > 0 && w[2] > 0, "30 cells: the name and the state remain");
}

static const char *names_a[] = {"a", "b", "c", "d"};
static const char *names_b[] = {"new", "a", "c", "d"};   /* b gone, one added on top */
static const char *id_a(size_t i, void *arg) { (void)arg; return names_a[i]; }
static const char *id_b(size_t i, void *arg) { (void)arg; return names_b[i]; }

static void test_list_identity(void)
{
    struct w_list l;
    memset(&l, 0, sizeof l);
    w_list_resolve(&l, 4, id_a, NULL);
    CHECK_STR(l.id, "a", "an empty selection adopts the first row");
    w_list_move(&l, 2, 4, id_a, NULL);
    CHECK_STR(l.id, "c", "move down twice: c");
    w_list_resolve(&l, 4, id_b, NULL);
    CHECK_INT(l.sel, 2, "a row inserted above: the cursor stays on c (now index 2)");
    CHECK_STR(l.id, "c", "the selected id is still c");
    w_list_move(&l, INT_MAX, 4, id_b, NULL);
    CHECK_STR(l.id, "d", "End selects the last row");
    w_list_resolve(&l, 2, id_a, NULL);   /* d gone: only a, b left */
    CHECK_INT(l.sel, 1, "the selected row vanished: the index is clamped");
    CHECK_STR(l.id, "b", "... and the cursor adopts that row");
    l.sel = 50; l.top = 0;
    w_list_scroll(&l, 10, 100);
    CHECK_INT(l.top, 41, "scrolling keeps the selection on the last visible row");
}

static void test_keymaps(void)
{
    CHECK_INT(keymap_lookup(&keymap_tables, 'r'), A_RESYNC, "r resyncs in Tables");
    CHECK_INT(keymap_lookup(&keymap_tables, 'j'), A_DOWN, "j moves down");
    CHECK_INT(keymap_lookup(&keymap_tables, KEY_DOWN), A_DOWN, "Down moves down");
    CHECK_INT(keymap_lookup(&keymap_global, 'p'), A_PAUSE, "p pauses everywhere");
    CHECK_INT(keymap_lookup(&keymap_global, 'D'), A_DELETE, "D deletes");
    CHECK_INT(keymap_lookup(&keymap_global, 'q'), A_QUIT, "q quits");
    CHECK_INT(keymap_lookup(&keymap_integrations, 'x'), A_NONE, "an unbound key does nothing");
    const struct keymap *maps[] = {&keymap_global, &keymap_integrations, &keymap_tables, &keymap_activity,
                                   &keymap_lag, &keymap_events, &keymap_help, &keymap_report};
    int ok = 1;
    for (size_t m = 0; m < sizeof maps / sizeof maps[0]; m++)
        for (size_t i = 0; i < maps[m]->n; i++)
            ok &= maps[m]->b[i].name && maps[m]->b[i].help && strlen(maps[m]->b[i].help) > 5 &&
                  maps[m]->b[i].keys[0] != 0;
    CHECK(ok, "every binding has a key, a name and a help line");
    enum action needed[] = {A_NEXT_VIEW, A_BACK, A_PAUSE, A_DELETE, A_CHECK, A_HELP, A_QUIT};
    ok = 1;
    for (size_t i = 0; i < sizeof needed / sizeof needed[0]; i++) ok &= keymap_find(&keymap_global, needed[i]) != NULL;
    CHECK(ok, "the global table has Tab, Esc, p, D, c, ?, q");
    CHECK(keymap_find(&keymap_tables, A_SORT) && keymap_find(&keymap_tables, A_FILTER) &&
          keymap_find(&keymap_tables, A_RESYNC_ALL), "Tables has s, / and R");
    CHECK(keymap_find(&keymap_events, A_LEVEL) && keymap_find(&keymap_events, A_ONLY_TABLE),
          "Events has the level and table filters");
}

static void test_format(void)
{
    char b[32];
    w_fmt_lag(-1, b, sizeof b); CHECK_STR(b, "-", "unknown lag");
    w_fmt_lag(120, b, sizeof b); CHECK_STR(b, "120ms", "lag in ms");
    w_fmt_lag(4200, b, sizeof b); CHECK_STR(b, "4.2s", "lag in s");
    w_fmt_lag(190000, b, sizeof b); CHECK_STR(b, "3m10s", "lag in minutes");
    w_fmt_lag_res(537, 1000, b, sizeof b); CHECK_STR(b, "<1s", "second resolution: no milliseconds");
    w_fmt_lag_res(4200, 1000, b, sizeof b); CHECK_STR(b, "4s", "second resolution: whole seconds");
    w_fmt_lag_res(0, 1000, b, sizeof b); CHECK_STR(b, "0s", "second resolution: caught up");
    w_fmt_lag_res(537, 1, b, sizeof b); CHECK_STR(b, "537ms", "millisecond resolution: ms");
    w_fmt_count(9999, b, sizeof b); CHECK_STR(b, "9999", "small counts exact");
    w_fmt_count(12345, b, sizeof b); CHECK_STR(b, "12.3k", "thousands");
    w_fmt_count(4100000, b, sizeof b); CHECK_STR(b, "4.1M", "millions");
    w_fmt_bytes(1536, b, sizeof b); CHECK_STR(b, "1.5kB", "bytes");
}

/* A copy's progress in a cell of any width: the fullest form that fits,
 * pieces unknown left out, and never wider than the width while a form fits. */
static void test_copy_progress(void)
{
    char b[128];
    w_fmt_copy(b, sizeof b, 0, 450000, 1000000, 12, 52000, 11);
    CHECK_STR(b, "45% 450.0k/1.0M rows, chunk 12, 52.0k rows/s, ETA 11s", "no limit: every piece");
    w_fmt_copy(b, sizeof b, 50, 450000, 1000000, 12, 52000, 11);
    CHECK_STR(b, "45% 450.0k/1.0M, chunk 12, 52.0k/s, ETA 11s", "50 cells: shorter words");
    w_fmt_copy(b, sizeof b, 40, 450000, 1000000, 12, 52000, 11);
    CHECK_STR(b, "45% 450.0k/1.0M, 52.0k/s, ETA 11s", "40 cells: the chunk goes");
    w_fmt_copy(b, sizeof b, 24, 450000, 1000000, 12, 52000, 11);
    CHECK_STR(b, "45% 52.0k/s, ETA 11s", "24 cells: the rows go");
    w_fmt_copy(b, sizeof b, 13, 450000, 1000000, 12, 52000, 191);
    CHECK_STR(b, "45% ETA 3m11s", "13 cells: the rate goes as well");
    w_fmt_copy(b, sizeof b, 12, 450000, 1000000, 12, 52000, 191);
    CHECK_STR(b, "45%", "12 cells: the percentage alone");
    w_fmt_copy(b, sizeof b, 2, 450000, 1000000, 12, 52000, 11);
    CHECK_STR(b, "45%", "narrower than any form: the shortest (the caller clips)");
    w_fmt_copy(b, sizeof b, 0, 1200, 0, -1, -1, -1);
    CHECK_STR(b, "1200 rows", "no estimate, no chunks, no rate yet: rows alone");
    w_fmt_copy(b, sizeof b, 0, 45000, 0, -1, 9000, -1);
    CHECK_STR(b, "45.0k rows, 9000 rows/s", "no estimate: rows and rate, no percentage, no ETA");
    w_fmt_copy(b, sizeof b, 14, 45000, 0, 3, 9000, -1);
    CHECK_STR(b, "45.0k, 9000/s", "no estimate, 14 cells: rows and rate");
    w_fmt_copy(b, sizeof b, 0, 2000, 1000, -1, -1, -1);
    CHECK_STR(b, "100% 2000/1000 rows", "past the estimate: 100%, never more");
    w_fmt_eta(59, b, sizeof b); CHECK_STR(b, "59s", "ETA in seconds");
    w_fmt_eta(3700, b, sizeof b); CHECK_STR(b, "1h01m", "ETA in hours");
    w_fmt_eta(400000, b, sizeof b); CHECK_STR(b, "4d", "ETA in days");
}

int main(void)
{
    TEST_RUN(test_layout);
    TEST_RUN(test_list_identity);
    TEST_RUN(test_keymaps);
    TEST_RUN(test_format);
    TEST_RUN(test_copy_progress);
    return test_exit();
}

/*
 * test_ha_view.c — how the console and `zetl status` say who runs an ha
 * integration (views/widgets.h w_fmt_ha*): the holder, whether it is this
 * process, the lease's epoch and the standbys, from the state log's ha_*
 * fields as the runtime writes them (runtime/integ/ha.c); nothing at all
 * without ha; the HOLDER cell keeps "(this)" in a narrow column; a column
 * of width 0 takes no room in the layout (so HOLDER without ha changes
 * nothing); and `standby` has a colour of its own kind (dim: healthy, run
 * by another member), not the "busy" of an unknown state.
 */
#include <string.h>

#include "tests/unit/test.h"
#include "runtime/log/statelog.h"
#include "views/theme.h"
#include "views/widgets.h"

/* An integration row as read back (statelog_list_integrations). */
static struct statelog_integration integ(const char *role, const char *member, const char *holder, int64_t pid,
                                         int64_t epoch, const char *standbys)
{
    struct statelog_integration in;
    memset(&in, 0, sizeof in);
    in.name = (char *)"shop";
    in.state = (char *)(role && !strcmp(role, "standby") ? "standby" : "active");
    in.ha_role = (char *)role;
    in.ha_member = (char *)member;
    in.ha_holder = (char *)holder;
    in.ha_holder_pid = pid;
    in.ha_epoch = epoch;
    in.ha_standbys = (char *)standbys;
    return in;
}

static void test_off(void)
{
    struct statelog_integration in = integ(NULL, NULL, NULL, 0, 0, NULL);
    char b[512] = "x";
    CHECK_INT(w_fmt_ha(b, sizeof b, &in, 0), 0, "ha off: w_fmt_ha says there is nothing");
    CHECK_STR(b, "", "ha off: the line is empty");
    strcpy(b, "x");
    w_fmt_ha_holder(b, sizeof b, &in, 14);
    CHECK_STR(b, "", "ha off: the HOLDER cell is empty");
}

static void test_standby(void)
{
    struct statelog_integration in = integ("standby", "hostB", "hostA", 123, 4, "hostB, hostC");
    char b[512];
    CHECK_INT(w_fmt_ha(b, sizeof b, &in, 0), 1, "ha on: w_fmt_ha says so");
    CHECK_STR(b, "hostA (pid 123) holds the lease (epoch 4) and runs it; this process (hostB) stands by; "
                 "standbys: hostB, hostC", "a standby: the holder, its pid and epoch, this member, the standbys");
    w_fmt_ha(b, sizeof b, &in, 1);
    CHECK_STR(b, "hostA (pid 123) holds the lease (epoch 4) and runs it; this process (hostB) stands by; "
                 "standbys: hostB, hostC (as of this process's last run: it is not running now)",
              "nobody runs it here: the same, said to be as of its last run");
    w_fmt_ha_holder(b, sizeof b, &in, 14);
    CHECK_STR(b, "hostA", "a standby's HOLDER cell: the other member's name");
    w_fmt_ha_lease(b, sizeof b, &in);
    CHECK_STR(b, "hostA (pid 123) holds the lease (epoch 4) and runs it", "the lease alone (describe)");

    in = integ("standby", "hostB", NULL, 0, 0, "");
    w_fmt_ha(b, sizeof b, &in, 0);
    CHECK_STR(b, "no member holds the lease yet; this process (hostB) stands by; no standby seen",
              "no lease row yet: said so, no epoch, no pid");
    w_fmt_ha_holder(b, sizeof b, &in, 14);
    CHECK_STR(b, "none yet", "no holder yet: HOLDER says so");
}

static void test_active(void)
{
    struct statelog_integration in = integ("active", "hostA", "hostA", 41, 7, "hostB");
    char b[512];
    w_fmt_ha(b, sizeof b, &in, 0);
    CHECK_STR(b, "this process (hostA, pid 41) holds the lease (epoch 7) and runs it; standbys: hostB",
              "the holder itself: this process named, no 'stands by'");
    w_fmt_ha_holder(b, sizeof b, &in, 14);
    CHECK_STR(b, "hostA (this)", "the holder's HOLDER cell is marked (this)");
    w_fmt_ha_holder(b, sizeof b, &in, 0);
    CHECK_STR(b, "hostA (this)", "no width limit: the same");

    in = integ("active", "warehouse-loader-eu-1", "warehouse-loader-eu-1", 41, 7, NULL);
    w_fmt_ha_holder(b, sizeof b, &in, 14);
    CHECK_STR(b, "wareho~ (this)", "a long name in 14 cells is cut before \"(this)\", which stays (ASCII mark)");
    w_fmt_ha(b, sizeof b, &in, 0);
    CHECK_STR(b, "this process (warehouse-loader-eu-1, pid 41) holds the lease (epoch 7) and runs it; "
                 "no standby seen", "alone: no standby seen");

    /* just taken over: the view may not name the holder yet; this process holds it */
    in = integ("active", "hostB", NULL, 0, 9, "");
    w_fmt_ha(b, sizeof b, &in, 0);
    CHECK_STR(b, "this process (hostB) holds the lease (epoch 9) and runs it; no standby seen",
              "active without a holder read back: this process is the holder");
    /* two processes of one member name: the role, not the name, says whose it is */
    in = integ("standby", "hostA", "hostA", 77, 3, "hostA");
    w_fmt_ha_holder(b, sizeof b, &in, 14);
    CHECK_STR(b, "hostA", "a standby named like the holder is not marked (this)");
}

static void test_layout_hidden_column(void)
{
    static const struct w_col with[] = {
        {"NAME", 14, 0, 0, 0}, {"STATE", 15, 0, 0, 0}, {"HOLDER", 0, 2, 0, 0}, {"LAG", 7, 0, 1, 0},
        {"ERROR", 20, 4, 0, 1},
    };
    static const struct w_col without[] = {
        {"NAME", 14, 0, 0, 0}, {"STATE", 15, 0, 0, 0}, {"LAG", 7, 0, 1, 0}, {"ERROR", 20, 4, 0, 1},
    };
    int a[5], b[4];
    w_table_layout(with, 5, 80, a);
    w_table_layout(without, 4, 80, b);
    CHECK_INT(a[2], 0, "a column of width 0 is not shown");
    CHECK(a[0] == b[0] && a[1] == b[1] && a[3] == b[2] && a[4] == b[3],
          "... and takes no room: the others are laid out as without it");
}

static void test_standby_colour(void)
{
    CHECK_INT(theme_istate_role(ISTATE_STANDBY), TH_DIM, "standby is dim (healthy; another member runs it)");
    CHECK_INT(theme_istate_role(ISTATE_ACTIVE), TH_OK, "active stays green");
    CHECK(theme_istate_role(ISTATE_STANDBY) != theme_istate_role(ISTATE_UNKNOWN),
          "standby is not shown as an unknown state");
}

int main(void)
{
    TEST_RUN(test_off);
    TEST_RUN(test_standby);
    TEST_RUN(test_active);
    TEST_RUN(test_layout_hidden_column);
    TEST_RUN(test_standby_colour);
    return test_exit();
}

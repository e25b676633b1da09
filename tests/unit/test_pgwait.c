/*
 * test_pgwait.c — what the wait report shows of another session's query
 * (pgw_scrub_query): one line, cut at a character with "…", and never what
 * follows a password or a secret.
 */
#include "tests/unit/test.h"

#include "runtime/target/pgwait.h"

static void test_scrub(void)
{
    char out[64];

    pgw_scrub_query("LOCK TABLE s.t\n  IN ACCESS\tEXCLUSIVE MODE;", out, sizeof out);
    CHECK_STR(out, "LOCK TABLE s.t IN ACCESS EXCLUSIVE MODE;", "one line, blanks folded");
    pgw_scrub_query("ALTER ROLE app PASSWORD 'hunter2'", out, sizeof out);
    CHECK_STR(out, "ALTER ROLE app (hidden)", "from PASSWORD on, hidden");
    CHECK(!strstr(out, "hunter2"), "the password is not shown");
    pgw_scrub_query("SELECT dblink_connect('host=h password=pw')", out, sizeof out);
    CHECK(!strstr(out, "pw'") && strstr(out, "(hidden)"), "password= in a connection string, hidden");
    pgw_scrub_query("UPDATE t SET Secret_Key = 'k'", out, sizeof out);
    CHECK_STR(out, "UPDATE t SET (hidden)", "secret in any case, hidden");
    pgw_scrub_query("SELECT 'caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9 caf\xc3\xa9'",
                    out, sizeof out);
    CHECK(strlen(out) < sizeof out && strstr(out, "\xe2\x80\xa6"), "a long query is cut, with an ellipsis");
    size_t n = strlen(out) - 3;
    CHECK(((unsigned char)out[n - 1] & 0xc0) != 0xc0, "never in the middle of a character");
    pgw_scrub_query(NULL, out, sizeof out);
    CHECK_STR(out, "", "no query: empty");
}

int main(void)
{
    TEST_RUN(test_scrub);
    return test_exit();
}

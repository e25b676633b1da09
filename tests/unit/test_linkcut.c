/*
 * test_linkcut.c — a read blocked on a socket whose peer never answers (as a
 * frozen server's) ends at once when another thread fires the cut, and a
 * socket registered after the fire is cut on registration.
 */
#include "tests/unit/test.h"

#include <pthread.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/clock.h"
#include "runtime/base/linkcut.h"

struct reader { int fd; ssize_t got; int64_t ended_ms; };

static void *blocked_read(void *arg)
{
    struct reader *r = arg;
    char buf[16];
    r->got = recv(r->fd, buf, sizeof buf, 0);      /* the peer never writes */
    r->ended_ms = zclock_mono_ms();
    return NULL;
}

static void test_fire_ends_a_blocked_read(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    struct linkcut c;
    linkcut_init(&c);
    linkcut_add(&c, sv[0]);
    CHECK_INT(linkcut_busy(&c), 1, "one socket registered");
    struct reader r = {.fd = sv[0], .got = -2};
    pthread_t th;
    pthread_create(&th, NULL, blocked_read, &r);
    struct timespec ts = {0, 300 * 1000000L};
    nanosleep(&ts, NULL);
    CHECK_INT(r.got, -2, "the read is still blocked before the fire");
    int64_t fired = zclock_mono_ms();
    linkcut_fire(&c);
    pthread_join(th, NULL);
    CHECK_INT(r.got, 0, "the blocked read returns end of stream");
    CHECK(r.ended_ms - fired < 200, "within 200 ms of the fire");
    CHECK_INT(atomic_load(&c.fired), 1, "fired is set (the PostgreSQL waits' stop flag)");
    linkcut_remove(&c, sv[0]);
    CHECK_INT(linkcut_busy(&c), 0, "removed");
    close(sv[0]);
    close(sv[1]);
    linkcut_destroy(&c);
}

static void test_add_after_fire_cuts_at_once(void)
{
    int sv[2];
    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    struct linkcut c;
    linkcut_init(&c);
    linkcut_fire(&c);
    linkcut_add(&c, sv[0]);
    char b;
    CHECK_INT((int)recv(sv[0], &b, 1, 0), 0, "a socket registered after the fire is already cut");
    linkcut_remove(&c, sv[0]);
    close(sv[0]);
    close(sv[1]);

    CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
    linkcut_rearm(&c);
    linkcut_add(&c, sv[0]);
    CHECK_INT((int)send(sv[1], "x", 1, 0), 1, "peer writes");
    CHECK_INT((int)recv(sv[0], &b, 1, 0), 1, "after rearm a new socket reads normally");
    linkcut_remove(&c, sv[0]);
    linkcut_fire(&c);       /* removed: not shut down */
    CHECK_INT((int)send(sv[1], "y", 1, 0), 1, "peer writes again");
    CHECK_INT((int)recv(sv[0], &b, 1, 0), 1, "a removed socket is never cut");
    close(sv[0]);
    close(sv[1]);
    linkcut_destroy(&c);
}

int main(void)
{
    TEST_RUN(test_fire_ends_a_blocked_read);
    TEST_RUN(test_add_after_fire_cuts_at_once);
    return test_exit();
}

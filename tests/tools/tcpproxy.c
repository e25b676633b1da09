/*
 * tcpproxy — a loopback TCP relay that can break its links on command, for
 * fault tests: zetl's connections to a source or target go through it, and a
 * test turns a healthy link into a dead one without touching the server.
 *
 *   tcpproxy [--delay-ms N] UPSTREAM_PORT [LISTEN_PORT]   (127.0.0.1; LISTEN_PORT 0 = any)
 *
 * --delay-ms N holds what it reads N ms before passing it on, each way: a
 * peer N ms away (a round trip costs 2N ms more), for benchmarks of how many
 * round trips a protocol takes (bench/run.sh BENCH_TARGET_DELAY_MS). One
 * read is held at a time per direction, so it also caps a direction at
 * 64 KiB per N ms; with N 0 (the default) nothing is held.
 *
 * Prints the listening port on stdout once it accepts, then relays. Signals:
 *   SIGUSR1  blackhole: stop relaying on every link, in both directions, and
 *            accept new connections without ever relaying them. Nothing is
 *            closed, so no FIN and no RST reaches either peer: a half-open
 *            link, as when a peer's host dies or a firewall drops the flow.
 *            (The proxy's kernel still ACKs what it is sent, so TCP keepalives
 *            alone do not notice; only an application deadline does.)
 *   SIGUSR2  reset: every link is closed with an RST (SO_LINGER 0); relaying
 *            goes on for new connections.
 *   SIGHUP   heal: new connections are relayed again. Links that were
 *            blackholed stay frozen for good, as a dead link would.
 *   SIGTERM  exit.
 * It also exits when its parent dies (PR_SET_PDEATHSIG), so a test killed
 * with SIGKILL leaves no relay behind.
 *
 * Written for the tests, not copied: socat can relay but cannot freeze a
 * live link on command, which is the fault these tests need.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_LINKS 256
#define BUF_SIZE  65536

struct dir {                     /* one direction of a link: from → to */
    char   buf[BUF_SIZE];
    size_t len, off;             /* bytes held, bytes already written */
    int    eof;                  /* `from` closed its side */
    long long ready_at;          /* --delay-ms: monotonic ms the held bytes may go */
};

static int delay_ms;

static long long mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Held bytes that may be written now. */
static int due(const struct dir *d, long long now) { return d->len > d->off && now >= d->ready_at; }

struct link {
    int  cfd, ufd;               /* client side, upstream side; -1 closed */
    int  frozen;                 /* blackholed: never touched again */
    struct dir up, down;         /* client → upstream, upstream → client */
};

static volatile sig_atomic_t want_blackhole, want_reset, want_heal, want_exit;

static void on_signal(int sig)
{
    if (sig == SIGUSR1) want_blackhole = 1;
    else if (sig == SIGUSR2) want_reset = 1;
    else if (sig == SIGHUP) want_heal = 1;
    else want_exit = 1;
}

static struct link *links[MAX_LINKS];

static void link_close(struct link *l, int rst)
{
    int fds[2] = { l->cfd, l->ufd };
    for (int i = 0; i < 2; i++) {
        if (fds[i] < 0) continue;
        if (rst) {
            struct linger lg = { 1, 0 };
            setsockopt(fds[i], SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
        }
        close(fds[i]);
    }
    l->cfd = l->ufd = -1;
}

static void set_nonblock(int fd)
{
    fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK);
}

static int connect_upstream(int port)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0) return -1;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (connect(fd, (struct sockaddr *)&a, sizeof a) != 0) {
        close(fd);
        return -1;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return fd;
}

/* Move bytes one way; 0 ok, -1 the link is over. */
static int pump(struct dir *d, int from, int to, short rev_from, short rev_to)
{
    if (d->len == 0 && !d->eof && (rev_from & (POLLIN | POLLHUP | POLLERR))) {
        ssize_t n = read(from, d->buf, sizeof d->buf);
        if (n > 0) { d->len = (size_t)n; d->off = 0; d->ready_at = mono_ms() + delay_ms; }
        else if (n == 0) d->eof = 1;
        else if (errno != EAGAIN && errno != EINTR) return -1;
    }
    if (due(d, mono_ms()) && (rev_to & POLLOUT || d->off == 0)) {
        ssize_t n = write(to, d->buf + d->off, d->len - d->off);
        if (n > 0) {
            d->off += (size_t)n;
            if (d->off == d->len) d->len = d->off = 0;
        } else if (n < 0 && errno != EAGAIN && errno != EINTR) {
            return -1;
        }
    }
    if (d->eof && d->len == 0) return -1;   /* half-close: end the whole link */
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "--delay-ms") == 0) {
        delay_ms = atoi(argv[2]);
        argv += 2;
        argc -= 2;
    }
    if (argc < 2 || argc > 3 || delay_ms < 0) {
        fprintf(stderr, "usage: tcpproxy [--delay-ms N] UPSTREAM_PORT [LISTEN_PORT]\n");
        return 2;
    }
    int uport = atoi(argv[1]);
    int lport = argc == 3 ? atoi(argv[2]) : 0;
    prctl(PR_SET_PDEATHSIG, SIGTERM);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGUSR2, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    int lfd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)lport) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&a, sizeof a) != 0 || listen(lfd, 64) != 0 ||
        getsockname(lfd, (struct sockaddr *)&a, &alen) != 0) {
        fprintf(stderr, "tcpproxy: cannot listen on 127.0.0.1:%d: %s\n", lport, strerror(errno));
        return 1;
    }
    printf("%d\n", ntohs(a.sin_port));
    fflush(stdout);

    int blackhole = 0;
    struct pollfd pfd[1 + 2 * MAX_LINKS];
    while (!want_exit) {
        if (want_blackhole) {
            want_blackhole = 0;
            blackhole = 1;
            for (int i = 0; i < MAX_LINKS; i++) if (links[i]) links[i]->frozen = 1;
            fprintf(stderr, "tcpproxy: blackhole\n");
        }
        if (want_reset) {
            want_reset = 0;
            for (int i = 0; i < MAX_LINKS; i++) {
                if (!links[i]) continue;
                link_close(links[i], 1);
                free(links[i]);
                links[i] = NULL;
            }
            fprintf(stderr, "tcpproxy: reset\n");
        }
        if (want_heal) {
            want_heal = 0;
            blackhole = 0;
            fprintf(stderr, "tcpproxy: heal\n");
        }

        int n = 0, wait_ms = 100;
        long long now = mono_ms();
        pfd[n++] = (struct pollfd){ .fd = lfd, .events = POLLIN };
        int at[MAX_LINKS];
        for (int i = 0; i < MAX_LINKS; i++) {
            at[i] = -1;
            struct link *l = links[i];
            if (!l || l->frozen) continue;
            at[i] = n;
            pfd[n++] = (struct pollfd){ .fd = l->cfd,
                .events = (short)((l->up.len == 0 && !l->up.eof ? POLLIN : 0) | (due(&l->down, now) ? POLLOUT : 0)) };
            pfd[n++] = (struct pollfd){ .fd = l->ufd,
                .events = (short)((l->down.len == 0 && !l->down.eof ? POLLIN : 0) | (due(&l->up, now) ? POLLOUT : 0)) };
            const struct dir *ds[2] = { &l->up, &l->down };
            for (int k = 0; k < 2; k++)     /* wake when held bytes fall due */
                if (ds[k]->len > ds[k]->off && ds[k]->ready_at > now && ds[k]->ready_at - now < wait_ms)
                    wait_ms = (int)(ds[k]->ready_at - now);
        }
        if (poll(pfd, (nfds_t)n, wait_ms) < 0) {
            if (errno == EINTR) continue;
            perror("tcpproxy: poll");
            return 1;
        }
        if (want_blackhole || want_reset) continue;   /* act before relaying more */

        if (pfd[0].revents & POLLIN) {
            int cfd = accept(lfd, NULL, NULL);
            if (cfd >= 0) {
                int slot = -1;
                for (int i = 0; i < MAX_LINKS && slot < 0; i++) if (!links[i]) slot = i;
                struct link *l = slot >= 0 ? calloc(1, sizeof *l) : NULL;
                if (!l) {
                    close(cfd);
                } else {
                    l->cfd = cfd;
                    l->ufd = -1;
                    if (blackhole) {
                        l->frozen = 1;               /* accepted, never answered */
                    } else if ((l->ufd = connect_upstream(uport)) < 0) {
                        close(cfd);                  /* upstream down: refuse */
                        free(l);
                        l = NULL;
                    } else {
                        setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
                        set_nonblock(cfd);
                        set_nonblock(l->ufd);
                    }
                    links[slot] = l;
                }
            }
        }
        for (int i = 0; i < MAX_LINKS; i++) {
            struct link *l = links[i];
            if (!l || at[i] < 0) continue;
            short rc = pfd[at[i]].revents, ru = pfd[at[i] + 1].revents;
            if (pump(&l->up, l->cfd, l->ufd, rc, ru) != 0 ||
                pump(&l->down, l->ufd, l->cfd, ru, rc) != 0) {
                link_close(l, 0);
                free(l);
                links[i] = NULL;
            }
        }
    }
    return 0;
}

/*
 * cmd_demo.c — `zetl demo [--headless] [--seconds N]`: zetl on servers of
 * its own, with data and a live workload, from nothing to a replicating
 * warehouse in one command.
 *
 *   1. a demo directory (/tmp/zetl-demo.XXXXXX): config, state log, secrets,
 *      and the servers of tests/lib/harness.sh (tui/demo/demo_servers.c)
 *   2. the sample data: TICKIT in MariaDB, a shop in PostgreSQL
 *   3. the config (mode 0600, no password in it: password_command reads
 *      0600 files, the warehouse DSN names a pgpass file)
 *   4. the live workload thread, and then either
 *        the console on both integrations (console_open_path: the same code
 *        as `zetl console -c FILE`),
 *        until the operator quits (or --seconds N), or
 *        headless: the runtime for N seconds (default 60), then the workload
 *        stops, zetl catches up, `zetl verify` runs on every table, and a
 *        summary is printed (tests/integration/test_demo.sh reads it)
 *   5. everything stopped and the directory removed — also on Ctrl-C,
 *      SIGTERM, SIGHUP; and if zetl itself dies, the harness's child sees
 *      its pipe close and does it.
 *
 * Exit status: 0 ok (headless: every table synced and verified), 1 failed,
 * 2 usage, 128+N after signal N.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/clock.h"
#include "config/config.h"
#include "tui/demo/demo.h"
#include "runtime/runtime.h"
#include "tui/commands.h"
#include "tui/console_open.h"
#include "tui/demo/demo_report.h"

#define DEMO_SERVERS_START_S  240   /* three servers on a loaded machine, with retries */
#define DEMO_SERVERS_STOP_S   90
#define DEMO_HEADLESS_S       60
#define DEMO_TICKIT_PER_S     100   /* row changes a second on tickit */
#define DEMO_SHOP_PER_S       20    /* operations a second on shop (1-4 rows each) */
#define DEMO_BURST_FIRST_S    20
#define DEMO_BURST_EVERY_S    45
#define DEMO_ALTER_AFTER_S    60

static volatile sig_atomic_t demo_signal;

static void on_signal(int sig) { demo_signal = sig; }

static void install_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sigemptyset(&sa.sa_mask);
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
}

static double mono_s(void) { return (double)zclock_mono_us() / 1e6; }

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("zetl demo: ", stdout);
    vfprintf(stdout, fmt, ap);
    fputc('\n', stdout);
    va_end(ap);
    fflush(stdout);
}

/* ---- the config and its secrets ---------------------------------------------------- */

static int write_file(const char *path, const char *text, char *err, size_t errlen)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = strlen(text), off = 0;
    while (off < len) {
        ssize_t w = write(fd, text + off, len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) {
            snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
            close(fd);
            return -1;
        }
        off += (size_t)w;
    }
    if (close(fd) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return -1;
    }
    return 0;
}

/* A pgpass line's field: ':' and '\' escaped with '\'. */
static void pgpass_field(char *out, size_t len, const char *s)
{
    size_t j = 0;
    for (; *s && j + 2 < len; s++) {
        if (*s == ':' || *s == '\\') out[j++] = '\\';
        out[j++] = *s;
    }
    out[j] = '\0';
}

/* The secrets (DIR/secrets, 0700) and DIR/zetl.yaml (0600); path gets the config's path. */
static int write_config(const struct demo_servers *s, char *path, size_t pathlen, char *err, size_t errlen)
{
    char sec[300], file[400], text[4096], pw[300];
    snprintf(sec, sizeof sec, "%s/secrets", s->dir);
    if (mkdir(sec, 0700) != 0) {
        snprintf(err, errlen, "cannot create %s: %s", sec, strerror(errno));
        return -1;
    }
    snprintf(file, sizeof file, "%s/mariadb", sec);
    snprintf(text, sizeof text, "%s\n", s->my_password);
    int rc = write_file(file, text, err, errlen);
    snprintf(file, sizeof file, "%s/postgres", sec);
    snprintf(text, sizeof text, "%s\n", s->pg_password);
    if (rc == 0) rc = write_file(file, text, err, errlen);
    pgpass_field(pw, sizeof pw, s->pg_password);
    snprintf(file, sizeof file, "%s/pgpass", sec);
    snprintf(text, sizeof text, "127.0.0.1:%d:*:zetl:%s\n", s->pgtgt_port, pw);
    if (rc == 0) rc = write_file(file, text, err, errlen);
    memset(text, 0, sizeof text);
    memset(pw, 0, sizeof pw);
    if (rc != 0) return -1;

    char target[700];
    snprintf(target, sizeof target,
             "    target:\n"
             "      kind: postgres\n"
             "      dsn: \"host=127.0.0.1 port=%d dbname=warehouse user=zetl passfile=%s/pgpass sslmode=disable\"\n",
             s->pgtgt_port, sec);
    snprintf(text, sizeof text,
             "# Written by `zetl demo`; removed with %s when the demo exits.\n"
             "# No password here: password_command reads a 0600 file, and the\n"
             "# warehouse DSN names a pgpass file.\n"
             "state_dir: %s/state\n"
             "integrations:\n"
             "  - name: tickit\n"
             "    source:\n"
             "      kind: mysql\n"
             "      host: 127.0.0.1\n"
             "      port: %d\n"
             "      user: zetl\n"
             "      password_command: \"cat %s/mariadb\"\n"
             "      databases: [tickit]\n"
             "      server_id: 4242\n"
             "      tls: disable\n"
             "%s"
             "    tables:\n"
             "      include: [\"tickit.%%\"]\n"
             "  - name: shop\n"
             "    source:\n"
             "      kind: postgres\n"
             "      host: 127.0.0.1\n"
             "      port: %d\n"
             "      user: zetl\n"
             "      password_command: \"cat %s/postgres\"\n"
             "      database: shop\n"
             "      schemas: [shop]\n"
             "      tls: disable\n"
             "%s"
             "    tables:\n"
             "      include: [\"shop.%%\"]\n",
             s->dir, s->dir, s->my_port, sec, target, s->pgsrc_port, sec, target);
    snprintf(path, pathlen, "%s/zetl.yaml", s->dir);
    return write_file(path, text, err, errlen);
}

/* ---- console mode -------------------------------------------------------------------- */

/* --seconds N with the console: after N s, SIGTERM to the console thread
 * (its handler ends the event loop), again every second until it is gone. */
struct demo_timer {
    pthread_t  thread, target;
    int        seconds;
    atomic_int done;
};

static void *timer_main(void *arg)
{
    struct demo_timer *t = arg;
    double end = mono_s() + t->seconds, last = 0;
    while (!atomic_load(&t->done)) {
        double now = mono_s();
        if (now >= end && now - last >= 1.0) {
            pthread_kill(t->target, SIGTERM);
            last = now;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    return NULL;
}

static int run_console(const char *config_path, int seconds)
{
    struct demo_timer t = {.target = pthread_self(), .seconds = seconds};
    atomic_init(&t.done, 0);
    int timer = seconds > 0 && pthread_create(&t.thread, NULL, timer_main, &t) == 0;
    int rc = console_open_path(config_path, "zetl demo: live workload running; q quits and removes everything");
    if (timer) {
        atomic_store(&t.done, 1);
        pthread_join(t.thread, NULL);
    }
    install_signals();          /* the console installed its own */
    return rc;
}

/* ---- headless mode ------------------------------------------------------------------- */

static int run_headless(const struct config *cfg, int seconds, struct demo_workload **wl,
                        struct demo_report *rep)
{
    char err[8192] = "", actor[200];
    runtime_actor("zetl demo", actor, sizeof actor);
    struct runtime_opts ro = {.only = NULL, .log_stderr = 0, .actor = actor};
    struct runtime *rt = NULL;
    if (runtime_start(&rt, cfg, &ro, err, sizeof err) != 0) {
        fprintf(stderr, "zetl demo: cannot start replication: %s\n", err);
        return 1;
    }
    if (demo_report_open(rep, cfg, err, sizeof err) != 0) {
        fprintf(stderr, "zetl demo: %s\n", err);
        runtime_stop(rt);
        runtime_free(rt);
        return 1;
    }
    say("replicating for %d s under the live workload (a status line every 5 s)", seconds);
    double t0 = mono_s(), next = t0 + 5;
    while (!demo_signal && mono_s() - t0 < seconds) {
        if (mono_s() >= next) {
            demo_report_progress(rep, stdout, (int)(mono_s() - t0), *wl);
            next += 5;
        }
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    int rc = 1;
    if (!demo_signal) {
        struct demo_workload_stats ws;
        demo_workload_get_stats(*wl, &ws);
        demo_workload_stop(*wl);
        *wl = NULL;
        say("workload stopped; waiting for zetl to catch up, then verifying every table");
        rep->workload = ws;
        rc = demo_report_finish(rep, cfg, seconds, &demo_signal, stdout);
    }
    runtime_stop(rt);
    runtime_free(rt);
    return rc;
}

/* ---- the command ----------------------------------------------------------------------- */

/*
 * Start the three servers in srv->dir and load the sample data (sizes), saying
 * how long each took: 0 ready, 1 cancelled by a signal (the caller says so),
 * -1 failed (said on stderr).
 */
static int servers_with_data(struct demo_servers *srv, const char *harness, struct demo_sizes *sizes,
                             char *err, size_t errlen)
{
    say("starting MariaDB, a PostgreSQL source and a PostgreSQL warehouse (%s)...", harness);
    double t0 = mono_s();
    if (demo_servers_spawn(srv, harness, err, errlen) != 0) {
        fprintf(stderr, "zetl demo: cannot start the servers: %s\n", err);
        return -1;
    }
    int w = demo_servers_wait(srv, &demo_signal, DEMO_SERVERS_START_S, err, errlen);
    if (w != 0) {
        if (w < 0) fprintf(stderr, "zetl demo: %s\n", err);
        return w;
    }
    say("servers up in %.1f s: MariaDB 127.0.0.1:%d, PostgreSQL source :%d, warehouse :%d",
        mono_s() - t0, srv->my_port, srv->pgsrc_port, srv->pgtgt_port);

    demo_default_sizes(sizes);
    say("loading the sample data (TICKIT ticket sales into MariaDB, a shop into PostgreSQL)...");
    t0 = mono_s();
    w = demo_load_tickit(srv, sizes, stdout, &demo_signal, err, errlen);
    if (w == 0) w = demo_load_shop(srv, sizes, stdout, &demo_signal, err, errlen);
    if (w != 0) {
        if (w < 0) fprintf(stderr, "zetl demo: loading the sample data failed: %s\n", err);
        return w;
    }
    say("sample data loaded in %.1f s", mono_s() - t0);
    return 0;
}

int cmd_demo(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;
    if (!o.headless && (!isatty(STDIN_FILENO) || !isatty(STDOUT_FILENO))) {
        fprintf(stderr, "zetl demo: the console needs a terminal; without one run "
                        "`zetl demo --headless --seconds 60`\n");
        return 1;
    }
    int seconds = o.seconds > 0 ? o.seconds : (o.headless ? DEMO_HEADLESS_S : 0);
    char harness[4096], err[8192] = "";
    if (demo_harness_path(harness, sizeof harness, err, sizeof err) != 0) {
        fprintf(stderr, "zetl demo: %s\n", err);
        return 1;
    }
    install_signals();

    struct demo_servers srv;
    memset(&srv, 0, sizeof srv);
    srv.ctl_fd = srv.rep_fd = -1;
    if (demo_dir_create(srv.dir, sizeof srv.dir, err, sizeof err) != 0) {
        fprintf(stderr, "zetl demo: %s\n", err);
        return 1;
    }
    say("working in %s (config, state log, servers); it is removed when the demo exits", srv.dir);

    struct config *cfg = NULL;
    struct demo_workload *wl = NULL;
    struct demo_report rep;
    demo_report_init(&rep);
    char config_path[512];
    rc = 1;
    struct demo_sizes sizes;
    if (servers_with_data(&srv, harness, &sizes, err, sizeof err) != 0) goto out;

    if (write_config(&srv, config_path, sizeof config_path, err, sizeof err) != 0 ||
        config_load(config_path, &cfg, err, sizeof err) != 0) {
        fprintf(stderr, "zetl demo: the demo config: %s\n", err);
        goto out;
    }
    say("config %s: integrations tickit (MariaDB -> warehouse) and shop (PostgreSQL -> warehouse)",
        config_path);

    struct demo_workload_opts wo = {
        .srv = &srv, .sizes = sizes, .tickit_per_s = DEMO_TICKIT_PER_S, .shop_per_s = DEMO_SHOP_PER_S,
        .burst_first_s = DEMO_BURST_FIRST_S, .burst_every_s = DEMO_BURST_EVERY_S,
        .alter_after_s = DEMO_ALTER_AFTER_S, .seed = DEMO_SEED + 1,
    };
    /* A short headless run shows the burst and the ADD COLUMN too. */
    if (o.headless && seconds < 2 * DEMO_ALTER_AFTER_S) wo.alter_after_s = seconds / 2;
    if (o.headless && seconds * 2 / 3 < DEMO_BURST_FIRST_S) wo.burst_first_s = seconds * 2 / 3;
    if (demo_signal) goto out;
    rep.started_at = demo_report_now_ms();
    if (demo_workload_start(&wl, &wo, err, sizeof err) != 0) {
        fprintf(stderr, "zetl demo: %s\n", err);
        goto out;
    }
    say("live workload: about %d row changes/s on tickit and %d operations/s on shop; a %d-row "
        "transaction after %d s%s; ALTER TABLE tickit.sales ADD COLUMN channel after %d s",
        DEMO_TICKIT_PER_S, DEMO_SHOP_PER_S, DEMO_BURST_ROWS, wo.burst_first_s,
        wo.burst_every_s ? " and then every 45 s" : "", wo.alter_after_s);
    if (o.headless) {
        rc = run_headless(cfg, seconds, &wl, &rep);
    } else {
        say("opening the console; q quits and stops the demo. From another terminal: "
            "zetl status -c %s", config_path);
        rc = run_console(config_path, seconds);
    }
out:
    if (wl) demo_workload_stop(wl);
    demo_report_close(&rep);
    config_free(cfg);
    if (demo_signal) say("interrupted (signal %d): stopping everything", (int)demo_signal);
    if (srv.pid > 0 && !srv.ready && !srv.ended)
        say("letting the servers finish starting, so that they stop cleanly...");
    say("stopping the servers and removing %s...", srv.dir);
    if (demo_servers_stop(&srv, DEMO_SERVERS_STOP_S, err, sizeof err) != 0) {
        fprintf(stderr, "zetl demo: %s\n", err);
        if (rc == 0) rc = 1;
    } else {
        say("servers stopped, %s removed", srv.dir);
    }
    if (demo_signal) return 128 + (int)demo_signal;
    return rc;
}

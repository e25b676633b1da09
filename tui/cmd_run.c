/*
 * cmd_run.c — `zetl run`: the runtime without a console, for systemd or
 * tmux. One log line per event on stderr. SIGTERM or SIGINT: every
 * integration finishes its current batch, checkpoints, and the process
 * exits 0. SIGHUP is ignored (closing an SSH session must not stop it).
 */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "config/config.h"
#include "runtime/runtime.h"
#include "tui/commands.h"

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

int cmd_run(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;
    if (o.metrics_file) {
        fprintf(stderr, "zetl run: --metrics-file is not available in zetl %s yet\n", ZETL_VERSION);
        return 3;
    }

    struct config *cfg = NULL;
    if (cli_load_config(self, &o, &cfg) != 0) return 1;
    char err[8192] = "";

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGHUP, SIG_IGN);
    signal(SIGPIPE, SIG_IGN);

    char actor[256];
    runtime_actor("zetl run", actor, sizeof actor);
    struct runtime_opts ro = {.only = o.integration, .log_stderr = 1, .actor = actor};
    struct runtime *rt = NULL;
    if (runtime_start(&rt, cfg, &ro, err, sizeof err) != 0) {
        fprintf(stderr, "zetl run: %s\n", err);
        config_free(cfg);
        return 1;
    }
    while (!stop_requested && runtime_alive(rt) > 0) {
        struct timespec ts = {0, 100 * 1000000L};
        nanosleep(&ts, NULL);
    }
    if (stop_requested) fprintf(stderr, "zetl run: stopping: finishing the current batches\n");
    runtime_stop(rt);
    runtime_free(rt);
    config_free(cfg);
    return 0;
}

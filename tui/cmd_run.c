/*
 * cmd_run.c — `zetl run`: the runtime without a console, for systemd or
 * tmux. One log line per event on stderr. SIGTERM or SIGINT: every
 * integration finishes its current batch, checkpoints, and the process
 * exits 0, within 2 s whatever a connection is doing. SIGHUP is ignored
 * (closing an SSH session must not stop it).
 * --metrics-file PATH: Prometheus text rewritten every 10 s (monitor.h).
 * Exit 3 when every integration is deleted (one warning line each says so
 * and what to do): nothing to run.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/clock.h"
#include "config/config.h"
#include "runtime/runtime.h"
#include "tui/commands.h"

#define RUN_EXIT_DELETED 3          /* every integration is deleted: nothing to run (README) */
#define STOP_DEADLINE_MS 1500       /* SIGTERM is answered within 2 s: the exit itself and a busy machine need the rest */

static volatile sig_atomic_t stop_requested;

static void on_signal(int sig)
{
    (void)sig;
    stop_requested = 1;
}

/* --metrics-file PATH: written as PATH.tmp then renamed, so its directory
 * must exist and be writable; found out now rather than 10 s into the run. */
static int check_metrics_path(const char *path)
{
    char dir[4096];
    struct stat st;
    const char *slash = strrchr(path, '/');

    if (!*path) {
        fprintf(stderr, "zetl run: --metrics-file needs a file name, e.g. /var/lib/node_exporter/textfile/zetl.prom\n");
        return -1;
    }
    if ((slash && !slash[1]) || (stat(path, &st) == 0 && S_ISDIR(st.st_mode))) {
        fprintf(stderr, "zetl run: --metrics-file %s is a directory; give a file name, e.g. %s%szetl.prom\n",
                path, path, path[strlen(path) - 1] == '/' ? "" : "/");
        return -1;
    }
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash == path ? 1 : slash - path) : 1,
             slash ? path : ".");
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "zetl run: --metrics-file %s: directory %s does not exist; create it, or choose a path in an existing directory\n",
                path, dir);
        return -1;
    }
    if (access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "zetl run: --metrics-file %s: cannot write in %s: %s; choose a directory this user can write (e.g. node_exporter's textfile directory, made writable for it)\n",
                path, dir, strerror(errno));
        return -1;
    }
    return 0;
}

int cmd_run(int argc, char **argv, const struct cli_cmd *self)
{
    struct cli_opts o;
    int done;
    int rc = cli_parse(argc, argv, self, self->opts, &o, &done);
    if (done) return rc;
    if (o.metrics_file && check_metrics_path(o.metrics_file) != 0) return 1;

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
    struct runtime_opts ro = {.only = o.integration, .log_stderr = 1, .actor = actor,
                              .metrics_file = o.metrics_file};
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
    if (stop_requested) {
        fprintf(stderr, "zetl run: stopping: finishing the current batches\n");
        /* Answered within 2 s whatever a connection is doing: every target
         * wait gives up on the stop flag within about a second. Should a
         * thread still be stuck (a wait without a deadline is a bug), exit
         * anyway: the checkpoint in the target is where the next run resumes. */
        runtime_request_stop(rt);
        int64_t t0 = zclock_mono_ms();
        for (;;) {
            long ms = (long)(zclock_mono_ms() - t0);
            if (runtime_alive(rt) == 0) break;
            if (ms >= STOP_DEADLINE_MS) {
                fprintf(stderr, "zetl run: an integration did not stop within %d ms (a connection is stuck); exiting anyway: the next run resumes from the target's checkpoint\n",
                        STOP_DEADLINE_MS);
                fflush(stderr);
                _exit(1);
            }
            struct timespec step = {0, 20 * 1000000L};
            nanosleep(&step, NULL);
        }
    }
    /* Every integration deleted: each said so on stderr (supervisor.c). A
     * status of its own, so a service manager or script can tell "nothing
     * to run" from a clean stop (0) and a failure (1). */
    int all_deleted = !stop_requested && runtime_all_deleted(rt);
    runtime_stop(rt);
    runtime_free(rt);
    config_free(cfg);
    return all_deleted ? RUN_EXIT_DELETED : 0;
}

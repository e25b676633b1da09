/*
 * demo_servers.c — the demo's disposable servers, started by the test
 * harness in a bash child that owns them (see demo.h).
 *
 * The child runs in its own session (a terminal's Ctrl-C reaches zetl, which
 * then stops things in order), with TMPDIR set to the demo directory so the
 * harness puts its servers inside it. Its protocol:
 *
 *   fd 0  the control pipe: the child blocks reading it; EOF (zetl closed
 *         it, exited or died) makes it run harness_stop and remove the demo
 *         directory
 *   fd 3  the report pipe: KEY=VALUE lines (ports, the harness directory,
 *         the passwords), then READY, or FAILED when the servers did not start
 *   fd 2  the harness's progress and errors, into DIR/harness.log
 *
 * SIGTERM while it is still starting: the harness's own trap stops what has
 * started, then the EXIT trap removes the directory.
 */
#include "runtime/base/clock.h"
#include "tui/demo/demo.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* $1 the harness, $2 the demo directory. */
static const char child_script[] =
    "demo_dir=$2\n"
    "trap '' PIPE\n"
    "trap 'rm -rf -- \"$demo_dir\"' EXIT\n"
    "exec 3>&1 1>&2\n"
    "if ! source \"$1\"; then echo FAILED >&3; exec 3>&-; while read -r _; do :; done; exit 1; fi\n"
    "zh_unset_env\n"
    "if harness_start mariadb pgsrc pgtgt 3>&-; then\n"
    "    printf '%s\\n' \"ZH_DIR=$ZH_DIR\" \"MY_PORT=$ZH_MY_PORT\" \"PGSRC_PORT=$ZH_PGSRC_PORT\" \\\n"
    "        \"PGTGT_PORT=$ZH_PGTGT_PORT\" \"MY_PASSWORD=$ZH_MY_PASSWORD\" \\\n"
    "        \"PG_PASSWORD=$ZH_PG_PASSWORD\" READY >&3\n"
    "else\n"
    "    echo FAILED >&3\n"
    "fi\n"
    "exec 3>&-\n"
    "while read -r _; do :; done\n"
    "exit 0\n";

static int plain_path(const char *p)
{
    for (; *p; p++)
        if (!((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') || (*p >= '0' && *p <= '9') ||
              *p == '/' || *p == '.' || *p == '_' || *p == '-'))
            return 0;
    return 1;
}

int demo_harness_path(char *buf, size_t len, char *err, size_t errlen)
{
    const char *env = getenv("ZETL_HARNESS");
    if (env && *env) {
        snprintf(buf, len, "%s", env);
        if (access(buf, R_OK) == 0) return 0;
        snprintf(err, errlen, "ZETL_HARNESS=%s: %s; point it at tests/lib/harness.sh of zetl's source tree or PREFIX/share/zetl/harness.sh",
                 env, strerror(errno));
        return -1;
    }
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        snprintf(err, errlen, "cannot read /proc/self/exe (%s) to find the test harness; set ZETL_HARNESS "
                 "to the path of tests/lib/harness.sh", strerror(errno));
        return -1;
    }
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) *slash = '\0';
    /* A checkout (./zetl beside tests/), then an installed tree (PREFIX/bin/zetl
     * beside PREFIX/share/zetl, where `make install` and the .deb put it). */
    char tree[4200];
    snprintf(tree, sizeof tree, "%s/tests/lib/harness.sh", exe);
    if (access(tree, R_OK) == 0) {
        snprintf(buf, len, "%s", tree);
        return 0;
    }
    snprintf(buf, len, "%s/../share/zetl/harness.sh", exe);
    if (access(buf, R_OK) == 0) return 0;
    snprintf(err, errlen, "the demo starts its servers with zetl's harness script, which is neither at %s "
             "(a source tree) nor at %s (an installed zetl); reinstall zetl (`make install`, or the .deb), "
             "or set ZETL_HARNESS to the path of harness.sh", tree, buf);
    return -1;
}

/* As root the servers run as the users mysql and postgres: they must be able
 * to reach the directory through every component of its path. */
static int others_can_traverse(const char *dir)
{
    char p[256];
    snprintf(p, sizeof p, "%s", dir);
    for (;;) {
        struct stat st;
        if (stat(p, &st) != 0 || !(st.st_mode & S_IXOTH)) return 0;
        char *slash = strrchr(p, '/');
        if (!slash || slash == p) return 1;
        *slash = '\0';
    }
}

int demo_dir_create(char *buf, size_t len, char *err, size_t errlen)
{
    /* The harness's socket paths must stay under 107 bytes. */
    const char *base = getenv("TMPDIR");
    struct stat st;
    if (!base || !*base || base[0] != '/' || strlen(base) > 60 || !plain_path(base) ||
        stat(base, &st) != 0 || !S_ISDIR(st.st_mode) || access(base, W_OK) != 0 ||
        (geteuid() == 0 && !others_can_traverse(base)))
        base = "/tmp";
    snprintf(buf, len, "%s/zetl-demo.XXXXXX", base);
    if (!mkdtemp(buf)) {
        snprintf(err, errlen, "cannot create a directory in %s: %s; set TMPDIR to a writable directory",
                 base, strerror(errno));
        return -1;
    }
    if (chmod(buf, 0711) != 0) {
        snprintf(err, errlen, "chmod %s: %s", buf, strerror(errno));
        rmdir(buf);
        return -1;
    }
    return 0;
}

int demo_servers_spawn(struct demo_servers *s, const char *harness, char *err, size_t errlen)
{
    int ctl[2] = {-1, -1}, rep[2] = {-1, -1}, logfd = -1;
    s->pid = 0;
    s->ctl_fd = s->rep_fd = -1;
    s->ready = s->ended = 0;
    snprintf(s->log, sizeof s->log, "%s/harness.log", s->dir);
    if (pipe2(ctl, O_CLOEXEC) != 0 || pipe2(rep, O_CLOEXEC) != 0) {
        snprintf(err, errlen, "pipe: %s", strerror(errno));
        goto fail;
    }
    logfd = open(s->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (logfd < 0) {
        snprintf(err, errlen, "cannot create %s: %s", s->log, strerror(errno));
        goto fail;
    }
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(err, errlen, "fork: %s", strerror(errno));
        goto fail;
    }
    if (pid == 0) {
        /* Single-threaded parent (nothing started yet), so setenv is safe here. */
        setsid();
        if (dup2(ctl[0], 0) < 0 || dup2(rep[1], 1) < 0 || dup2(logfd, 2) < 0) _exit(127);
        signal(SIGPIPE, SIG_DFL);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        setenv("TMPDIR", s->dir, 1);
        unsetenv("ZH_KEEP");
        unsetenv("ZH_QUIET");
        execlp("bash", "bash", "-c", child_script, "zetl-demo-servers", harness, s->dir, (char *)NULL);
        dprintf(2, "zetl demo: cannot run bash: %s\n", strerror(errno));
        _exit(127);
    }
    close(ctl[0]);
    close(rep[1]);
    close(logfd);
    s->pid = pid;
    s->ctl_fd = ctl[1];
    s->rep_fd = rep[0];
    return 0;
fail:
    for (int i = 0; i < 2; i++) {
        if (ctl[i] >= 0) close(ctl[i]);
        if (rep[i] >= 0) close(rep[i]);
    }
    if (logfd >= 0) close(logfd);
    return -1;
}

/* The last `lines` lines of the harness log, indented, into buf. */
static void log_tail(const struct demo_servers *s, int lines, char *buf, size_t len)
{
    buf[0] = '\0';
    FILE *f = fopen(s->log, "r");
    if (!f) return;
    char text[8192];
    if (fseek(f, 0, SEEK_END) == 0) {
        long size = ftell(f);
        fseek(f, size > (long)sizeof text - 1 ? size - (long)sizeof text + 1 : 0, SEEK_SET);
    }
    size_t n = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[n] = '\0';
    while (n && text[n - 1] == '\n') text[--n] = '\0';
    char *start = text + n;
    for (int seen = 0; start > text; start--)
        if (start[-1] == '\n' && ++seen == lines) break;
    size_t used = 0;
    for (char *line = start; line && *line && used + 8 < len;) {
        char *nl = strchr(line, '\n');
        if (nl) *nl = '\0';
        int k = snprintf(buf + used, len - used, "\n  | %s", line);
        if (k < 0) break;
        used += (size_t)k < len - used ? (size_t)k : len - used - 1;
        line = nl ? nl + 1 : NULL;
    }
}

static void take_value(struct demo_servers *s, const char *line)
{
    const char *eq = strchr(line, '=');
    if (!eq) return;
    size_t k = (size_t)(eq - line);
    const char *v = eq + 1;
    if (k == 6 && strncmp(line, "ZH_DIR", k) == 0) snprintf(s->zh_dir, sizeof s->zh_dir, "%s", v);
    else if (k == 7 && strncmp(line, "MY_PORT", k) == 0) s->my_port = atoi(v);
    else if (k == 10 && strncmp(line, "PGSRC_PORT", k) == 0) s->pgsrc_port = atoi(v);
    else if (k == 10 && strncmp(line, "PGTGT_PORT", k) == 0) s->pgtgt_port = atoi(v);
    else if (k == 11 && strncmp(line, "MY_PASSWORD", k) == 0) snprintf(s->my_password, sizeof s->my_password, "%s", v);
    else if (k == 11 && strncmp(line, "PG_PASSWORD", k) == 0) snprintf(s->pg_password, sizeof s->pg_password, "%s", v);
}

enum report { REP_READY, REP_FAILED, REP_ENDED, REP_TIMEOUT, REP_CANCELLED, REP_ERROR };

/* Read the child's report until READY or FAILED (or EOF, the deadline, *cancel). */
static enum report read_report(struct demo_servers *s, const volatile sig_atomic_t *cancel,
                               int64_t deadline, char *err, size_t errlen)
{
    char buf[4096];
    size_t have = 0;
    enum report rc = REP_ERROR;
    for (;;) {
        if (cancel && *cancel) { rc = REP_CANCELLED; break; }
        int64_t left = deadline - zclock_mono_ms();
        if (left <= 0) { rc = REP_TIMEOUT; break; }
        struct pollfd p = {s->rep_fd, POLLIN, 0};
        int n = poll(&p, 1, left < 200 ? (int)left : 200);
        if (n < 0 && errno != EINTR) {
            snprintf(err, errlen, "poll: %s", strerror(errno));
            break;
        }
        if (n <= 0) continue;
        ssize_t r = read(s->rep_fd, buf + have, sizeof buf - 1 - have);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0 || have + (size_t)r >= sizeof buf - 1) { rc = REP_ENDED; break; }
        have += (size_t)r;
        buf[have] = '\0';
        char *line = buf, *nl;
        while ((nl = strchr(line, '\n'))) {
            *nl = '\0';
            if (strcmp(line, "READY") == 0) { rc = REP_READY; goto out; }
            if (strcmp(line, "FAILED") == 0) { rc = REP_FAILED; goto out; }
            take_value(s, line);
            line = nl + 1;
        }
        have = strlen(line);
        memmove(buf, line, have + 1);
    }
out:
    memset(buf, 0, sizeof buf);             /* it held the passwords */
    return rc;
}

int demo_servers_wait(struct demo_servers *s, const volatile sig_atomic_t *cancel,
                      int timeout_s, char *err, size_t errlen)
{
    char why[160] = "", tail[2048];
    int lines = 15;
    switch (read_report(s, cancel, zclock_mono_ms() + (int64_t)timeout_s * 1000, err, errlen)) {
    case REP_READY:
        if (!s->my_port || !s->pgsrc_port || !s->pgtgt_port || !s->zh_dir[0]) {
            snprintf(err, errlen, "the harness reported READY without every port");
            return -1;
        }
        s->ready = 1;
        return 0;
    case REP_CANCELLED:
        return 1;
    case REP_ERROR:
        return -1;
    case REP_FAILED:
        snprintf(why, sizeof why, "the servers did not start (are mariadb-server and postgresql installed? "
                 "In a source tree `make deps` installs them)");
        lines = 25;
        s->ended = 1;
        break;
    case REP_ENDED:
        snprintf(why, sizeof why, "the harness ended before the servers were ready (is bash installed?)");
        s->ended = 1;
        break;
    case REP_TIMEOUT:
        snprintf(why, sizeof why, "the servers did not start within %d s", timeout_s);
        break;
    }
    log_tail(s, lines, tail, sizeof tail);
    snprintf(err, errlen, "%s; the harness log says:%s", why, tail[0] ? tail : " (nothing)");
    return -1;
}

static int rm_entry(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb;
    (void)ftw;
    return flag == FTW_DP ? rmdir(path) : unlink(path);
}

int demo_servers_stop(struct demo_servers *s, int timeout_s, char *err, size_t errlen)
{
    err[0] = '\0';
    int64_t deadline = zclock_mono_ms() + (int64_t)timeout_s * 1000;
    /* Still starting (a signal arrived meanwhile): let the harness finish
     * first. Interrupted, its start-up jobs can outlive it for a moment and
     * launch a server after the teardown. */
    if (s->pid > 0 && !s->ready && !s->ended && s->rep_fd >= 0) {
        char e[256];
        if (read_report(s, NULL, deadline, e, sizeof e) == REP_TIMEOUT) kill(s->pid, SIGTERM);
    }
    memset(s->my_password, 0, sizeof s->my_password);
    memset(s->pg_password, 0, sizeof s->pg_password);
    if (s->ctl_fd >= 0) close(s->ctl_fd);   /* the child's cue: stop and remove everything */
    if (s->rep_fd >= 0) close(s->rep_fd);
    s->ctl_fd = s->rep_fd = -1;
    if (s->pid > 0) {
        int exited = 0;
        for (;;) {
            siginfo_t si;
            memset(&si, 0, sizeof si);
            /* WNOWAIT: the zombie keeps its pid (and group id) from reuse until reaped. */
            if (waitid(P_PID, (id_t)s->pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0 && si.si_pid == s->pid) {
                exited = 1;
                break;
            }
            if (zclock_mono_ms() >= deadline) break;
            struct timespec ts = {0, 50 * 1000000L};
            nanosleep(&ts, NULL);
        }
        /* Its process group (it called setsid) holds only its own helpers —
         * the servers and the watchdog run in sessions of their own — and,
         * when it did not stop in time, the child itself. */
        kill(-s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
        s->pid = 0;
        if (!exited) {
            snprintf(err, errlen, "the servers did not stop within %d s; the harness's watchdog stops "
                     "them shortly; then remove %s", timeout_s, s->dir);
            return -1;
        }
    }
    /* The child removed it; what is left (a failed rm) holds no running server. */
    struct stat st;
    if (stat(s->dir, &st) == 0 && nftw(s->dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS) != 0) {
        snprintf(err, errlen, "could not remove %s: %s", s->dir, strerror(errno));
        return -1;
    }
    return 0;
}

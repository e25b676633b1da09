/*
 * password.c — the source password for one connection attempt.
 *
 * password_command runs as `/bin/sh -c CMD` in its own process group, with
 * stdin and stderr on /dev/null and stdout on a pipe. The first line of its
 * stdout is the password; the rest is drained and dropped so the command never
 * blocks on a full pipe. Past the deadline the whole process group is killed
 * (SIGKILL) and reaped. Errors name the integration and the command's status
 * only: never its output (a token) and never the command line (it may embed a
 * credential).
 *
 * Thread-safe: no global state; posix_spawn (no fork of a threaded process's
 * handlers), pipes opened O_CLOEXEC so a concurrent spawn in another thread
 * never inherits them, and waitpid() on this child's pid only. Signal
 * dispositions and the mask are reset to defaults in the child.
 */
#include "config/config.h"
#include "runtime/base/clock.h"   /* base/ sits below config/: it includes nothing of zetl's */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char **environ;

#define PW_DEFAULT_TIMEOUT_MS 30000
#define PW_LINE_MAX 8192                /* an IAM token is ~1.5 KiB */

/* strsignal() is not thread-safe; the few a command dies of, by name. */
static const char *signal_name(int sig)
{
    switch (sig) {
    case SIGKILL: return "SIGKILL";
    case SIGTERM: return "SIGTERM";
    case SIGINT:  return "SIGINT";
    case SIGHUP:  return "SIGHUP";
    case SIGPIPE: return "SIGPIPE";
    case SIGSEGV: return "SIGSEGV";
    case SIGABRT: return "SIGABRT";
    case SIGBUS:  return "SIGBUS";
    default:      return "signal";
    }
}

static void kill_and_reap(pid_t pid)
{
    int st;

    kill(-pid, SIGKILL);                /* the shell and everything it started */
    kill(pid, SIGKILL);                 /* in case it left its group */
    while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
        ;
}

static int spawn_shell(const char *cmd, int outfd, pid_t *pid)
{
    posix_spawn_file_actions_t fa;
    posix_spawnattr_t attr;
    sigset_t none, dfl;
    char *argv[] = { "sh", "-c", (char *)cmd, NULL };
    static const int reset[] = { SIGPIPE, SIGINT, SIGTERM, SIGQUIT, SIGHUP, SIGCHLD,
                                 SIGALRM, SIGUSR1, SIGUSR2, SIGTSTP, SIGTTIN, SIGTTOU };
    int rc;

    if ((rc = posix_spawn_file_actions_init(&fa)) != 0)
        return rc;
    if ((rc = posix_spawnattr_init(&attr)) != 0) {
        posix_spawn_file_actions_destroy(&fa);
        return rc;
    }
    sigemptyset(&none);
    sigemptyset(&dfl);
    for (size_t i = 0; i < sizeof reset / sizeof reset[0]; i++)
        sigaddset(&dfl, reset[i]);
    if ((rc = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0)) ||
        (rc = posix_spawn_file_actions_adddup2(&fa, outfd, 1)) ||
        (rc = posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0)) ||
        (rc = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
                                              POSIX_SPAWN_SETSIGDEF)) ||
        (rc = posix_spawnattr_setpgroup(&attr, 0)) ||
        (rc = posix_spawnattr_setsigmask(&attr, &none)) ||
        (rc = posix_spawnattr_setsigdefault(&attr, &dfl)))
        goto destroy;
    rc = posix_spawn(pid, "/bin/sh", &fa, &attr, argv, environ);
destroy:
    posix_spawnattr_destroy(&attr);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

static int run_command(const struct config_source *s, const char *who, int timeout_ms,
                       char *buf, size_t buflen, char *err, size_t errlen)
{
    char line[PW_LINE_MAX];
    size_t have = 0;
    int fds[2], st = 0, rc = -1, got_eol = 0, overflow = 0, exited = 0;
    pid_t pid;
    long long deadline = zclock_mono_ms() + timeout_ms;

    if (pipe2(fds, O_CLOEXEC) < 0) {
        snprintf(err, errlen, "source %s: password_command: cannot create a pipe: %s", who,
                 strerror(errno));
        return -1;
    }
    int e = spawn_shell(s->password_command, fds[1], &pid);
    close(fds[1]);
    if (e) {
        snprintf(err, errlen, "source %s: password_command: cannot start /bin/sh: %s", who,
                 strerror(e));
        close(fds[0]);
        return -1;
    }

    for (;;) {                          /* read until EOF or the deadline */
        long long left = deadline - zclock_mono_ms();
        if (left <= 0)
            goto timeout;
        struct pollfd pfd = { .fd = fds[0], .events = POLLIN };
        int pr = poll(&pfd, 1, left > 1000 ? 1000 : (int)left);
        if (pr < 0 && errno == EINTR)
            continue;
        if (pr < 0) {
            snprintf(err, errlen, "source %s: password_command: poll failed: %s", who,
                     strerror(errno));
            kill_and_reap(pid);
            goto close;
        }
        if (pr == 0)
            continue;
        char chunk[4096];
        ssize_t n = read(fds[0], chunk, sizeof chunk);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            break;
        for (ssize_t i = 0; i < n && !got_eol; i++) {
            if (chunk[i] == '\n')
                got_eol = 1;
            else if (have < sizeof line)
                line[have++] = chunk[i];
            else
                overflow = 1;
        }
        explicit_bzero(chunk, sizeof chunk);
    }

    while (!exited) {                   /* stdout closed: wait for the exit */
        pid_t w = waitpid(pid, &st, WNOHANG);
        if (w == pid) {
            exited = 1;
            break;
        }
        if (w < 0 && errno != EINTR) {
            snprintf(err, errlen, "source %s: password_command: cannot collect its exit status: %s",
                     who, strerror(errno));
            kill(-pid, SIGKILL);
            goto close;
        }
        if (zclock_mono_ms() >= deadline)
            goto timeout;
        struct timespec ts = { 0, 5 * 1000 * 1000 };
        nanosleep(&ts, NULL);
    }

    if (WIFSIGNALED(st)) {
        snprintf(err, errlen, "source %s: password_command was killed by signal %d (%s); its output is not shown",
                 who, WTERMSIG(st), signal_name(WTERMSIG(st)));
        goto close;
    }
    if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
        snprintf(err, errlen, "source %s: password_command exited with status %d; its stderr is discarded, so run it by hand as zetl's user to see why",
                 who, WIFEXITED(st) ? WEXITSTATUS(st) : -1);
        goto close;
    }
    if (have && line[have - 1] == '\r')
        have--;
    if (have == 0) {
        snprintf(err, errlen, "source %s: password_command exited with status 0 but printed nothing on stdout; it must print the password on its first line",
                 who);
        goto close;
    }
    if (overflow || have >= buflen) {
        snprintf(err, errlen, "source %s: password_command printed a first line longer than %zu bytes",
                 who, (overflow ? sizeof line : buflen) - 1);
        goto close;
    }
    memcpy(buf, line, have);
    buf[have] = '\0';
    rc = 0;
    goto close;

timeout:
    kill_and_reap(pid);
    snprintf(err, errlen, "source %s: password_command timed out after %d ms and was killed; check that it does not wait for input",
             who, timeout_ms);
close:
    explicit_bzero(line, sizeof line);
    close(fds[0]);
    return rc;
}

int config_password(const struct config_source *s, int timeout_ms, char *buf, size_t buflen,
                    char *err, size_t errlen)
{
    const char *who = s && s->integration ? s->integration : "?";

    if (err && errlen)
        err[0] = '\0';
    if (!buf || !buflen) {
        snprintf(err, errlen, "source %s: no buffer for the password", who);
        return -1;
    }
    buf[0] = '\0';
    if (!s)
        return 0;
    if (timeout_ms <= 0)
        timeout_ms = PW_DEFAULT_TIMEOUT_MS;
    if (s->password_command && *s->password_command)
        return run_command(s, who, timeout_ms, buf, buflen, err, errlen);
    if (s->password) {
        size_t n = strlen(s->password);
        if (n >= buflen) {
            snprintf(err, errlen, "source %s: the password is longer than the %zu-byte buffer",
                     who, buflen - 1);
            return -1;
        }
        memcpy(buf, s->password, n + 1);
    }
    return 0;
}

/*
 * lock.c — per-integration process lock (flock on STATE_DIR/NAME.lock).
 * Contract: lock.h.
 */
#include "runtime/log/lock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

struct lock {
    int   fd;       /* holds the flock; closing it releases */
    char *path;
};

static int name_ok(const char *name)
{
    return name && name[0] && name[0] != '.' && !strchr(name, '/');
}

/* mkdir -p state_dir, new levels 0700: a first run names a state directory
 * whose parents do not exist yet (zetl init's ~/.local/state/zetl on a fresh
 * account), and the lock is the first thing written there. */
static int make_dirs(const char *state_dir, char *err, size_t errlen)
{
    char *dir = strdup(state_dir);
    if (!dir) {
        snprintf(err, errlen, "lock: out of memory");
        return -1;
    }
    int rc = 0;
    for (char *p = dir + (dir[0] != '\0');; p++) {
        if (*p != '/' && *p != '\0')
            continue;
        char c = *p;
        *p = '\0';
        if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
            snprintf(err, errlen, "lock: cannot create state directory %s: %s", dir, strerror(errno));
            rc = -1;
            break;
        }
        *p = c;
        if (c == '\0')
            break;
    }
    free(dir);
    return rc;
}

static char *lock_path(const char *state_dir, const char *name)
{
    char *p = NULL;

    if (asprintf(&p, "%s/%s.lock", state_dir, name) < 0)
        return NULL;
    return p;
}

/* Parse "PID ROLE\n"; 0 when no pid is written yet. */
static pid_t read_holder(int fd, char *role, size_t role_len)
{
    char buf[128];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    char *end, *nl;
    long pid;

    if (role && role_len)
        role[0] = '\0';
    if (n <= 0)
        return 0;
    buf[n] = '\0';
    pid = strtol(buf, &end, 10);
    if (end == buf || pid <= 0)
        return 0;
    if (role && role_len && *end == ' ') {
        end++;
        if ((nl = strchr(end, '\n')))
            *nl = '\0';
        snprintf(role, role_len, "%s", end);
    }
    return (pid_t)pid;
}

/* The holder writes its pid just after taking the lock: give it a moment. */
static pid_t wait_holder(int fd, char *role, size_t role_len)
{
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    pid_t pid = 0;

    for (int i = 0; i < 20 && (pid = read_holder(fd, role, role_len)) == 0; i++)
        nanosleep(&ts, NULL);
    return pid;
}

int lock_acquire(struct lock **out, const char *state_dir, const char *name,
                 const char *role, char *err, size_t errlen)
{
    struct lock *l = NULL;
    char line[128], holder[64];
    int len;
    pid_t pid;

    *out = NULL;
    if (!name_ok(name)) {
        snprintf(err, errlen, "lock: integration name \"%s\" cannot name a lock file "
                 "(no '/', no leading '.')", name ? name : "");
        return -1;
    }
    if (make_dirs(state_dir, err, errlen) != 0)
        return -1;
    if (!(l = calloc(1, sizeof *l)) || !(l->path = lock_path(state_dir, name))) {
        snprintf(err, errlen, "lock %s: out of memory", name);
        goto fail;
    }
    l->fd = open(l->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (l->fd < 0) {
        snprintf(err, errlen, "lock: cannot open %s: %s", l->path, strerror(errno));
        goto fail;
    }
    /* A console peeking with lock_holder_pid holds a shared lock for an
     * instant: retry briefly before concluding that a process holds it. */
    int locked = -1;
    for (int tries = 0; tries < 10; tries++) {
        locked = flock(l->fd, LOCK_EX | LOCK_NB);
        if (locked == 0 || errno != EWOULDBLOCK) break;
        struct timespec pause = {0, 30 * 1000000L};
        nanosleep(&pause, NULL);
    }
    if (locked < 0) {
        if (errno != EWOULDBLOCK) {
            snprintf(err, errlen, "lock: cannot lock %s: %s", l->path, strerror(errno));
            goto fail_close;
        }
        pid = wait_holder(l->fd, holder, sizeof holder);
        snprintf(err, errlen, "integration %s is held by %s (pid %ld); "
                 "attach with zetl console, or stop that process first", name,
                 holder[0] ? holder : "another zetl", (long)pid);
        goto fail_close;
    }
    /* Write over the old contents, then cut: a reader sees a pid at any time. */
    len = snprintf(line, sizeof line, "%ld %s\n", (long)getpid(), role ? role : "zetl");
    if (len < 0 || (size_t)len >= sizeof line)
        len = snprintf(line, sizeof line, "%ld zetl\n", (long)getpid());
    if (pwrite(l->fd, line, (size_t)len, 0) != len || ftruncate(l->fd, len) < 0) {
        snprintf(err, errlen, "lock: cannot write %s: %s", l->path, strerror(errno));
        goto fail_close;
    }
    *out = l;
    return 0;

fail_close:
    close(l->fd);
fail:
    if (l)
        free(l->path);
    free(l);
    return -1;
}

void lock_release(struct lock *l)
{
    if (!l)
        return;
    close(l->fd);          /* drops the flock; the file stays, it is harmless */
    free(l->path);
    free(l);
}

int lock_holder_pid(const char *state_dir, const char *name, pid_t *pid,
                    char *role_buf, size_t role_len, char *err, size_t errlen)
{
    char *path;
    int fd, r = -1;

    *pid = 0;
    if (role_buf && role_len)
        role_buf[0] = '\0';
    if (!name_ok(name)) {
        snprintf(err, errlen, "lock: integration name \"%s\" cannot name a lock file",
                 name ? name : "");
        return -1;
    }
    if (!(path = lock_path(state_dir, name))) {
        snprintf(err, errlen, "lock %s: out of memory", name);
        return -1;
    }
    fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        if (errno == ENOENT) {
            r = 0;
        } else {
            snprintf(err, errlen, "lock: cannot open %s: %s", path, strerror(errno));
        }
        goto out;
    }
    if (flock(fd, LOCK_SH | LOCK_NB) == 0) {
        flock(fd, LOCK_UN);
        r = 0;
    } else if (errno == EWOULDBLOCK) {
        *pid = wait_holder(fd, role_buf, role_len);
        r = 1;
    } else {
        snprintf(err, errlen, "lock: cannot test %s: %s", path, strerror(errno));
    }
    close(fd);
out:
    free(path);
    return r;
}

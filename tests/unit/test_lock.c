/*
 * test_lock.c — the per-integration process lock: exclusive, names its
 * holder, and freed by the kernel when the holder is killed with -9.
 */
#include "tests/unit/test.h"

#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "runtime/log/lock.h"

static char root[256];

static void test_acquire_twice(void)
{
    struct lock *a = NULL, *b = NULL;
    char err[256], want[256], path[300], role[64];
    pid_t pid = -1;
    struct stat st;

    CHECK_INT(lock_acquire(&a, root, "tickit", "zetl run", err, sizeof err), 0, "first acquire");
    snprintf(path, sizeof path, "%s/tickit.lock", root);
    CHECK(stat(path, &st) == 0 && (st.st_mode & 0777) == 0600, "lock file is 0600");
    CHECK_INT(lock_acquire(&b, root, "tickit", "zetl console", err, sizeof err), -1,
              "second acquire fails");
    CHECK(b == NULL, "no lock on failure");
    snprintf(want, sizeof want, "integration tickit is held by zetl run (pid %ld)",
             (long)getpid());
    CHECK(strncmp(err, want, strlen(want)) == 0, "message names the holder and its pid");
    if (strncmp(err, want, strlen(want)) != 0)
        printf("  saw: %s\n", err);
    CHECK_INT(lock_holder_pid(root, "tickit", &pid, role, sizeof role, err, sizeof err), 1,
              "holder reported");
    CHECK_INT(pid, getpid(), "holder pid");
    CHECK_STR(role, "zetl run", "holder role");
    CHECK_INT(lock_acquire(&b, root, "other", "zetl run", err, sizeof err), 0,
              "another integration is independent");
    lock_release(b);
    lock_release(a);
    CHECK_INT(lock_holder_pid(root, "tickit", &pid, NULL, 0, err, sizeof err), 0,
              "free after release");
    CHECK_INT(lock_holder_pid(root, "never", &pid, NULL, 0, err, sizeof err), 0,
              "free when never taken");
    CHECK_INT(lock_acquire(&a, root, "tickit", "zetl run", err, sizeof err), 0,
              "reacquire after release");
    lock_release(a);
    CHECK_INT(lock_acquire(&a, root, "../etc", "zetl run", err, sizeof err), -1,
              "a name with a slash is refused");
}

static void test_kill9_frees(void)
{
    int fds[2];
    pid_t child, pid = 0;
    struct lock *l = NULL;
    char err[256], c;

    if (pipe(fds) < 0) {
        CHECK(0, "pipe");
        return;
    }
    child = fork();
    if (child == 0) {
        struct lock *cl;
        char cerr[256];
        close(fds[0]);
        if (lock_acquire(&cl, root, "killme", "zetl run", cerr, sizeof cerr) < 0)
            _exit(2);
        if (write(fds[1], "x", 1) != 1)
            _exit(3);
        for (;;)
            pause();
    }
    close(fds[1]);
    CHECK(read(fds[0], &c, 1) == 1, "child took the lock");
    close(fds[0]);
    CHECK_INT(lock_holder_pid(root, "killme", &pid, NULL, 0, err, sizeof err), 1,
              "held by the child");
    CHECK_INT(pid, child, "holder pid is the child's");
    CHECK_INT(lock_acquire(&l, root, "killme", "zetl run", err, sizeof err), -1,
              "parent cannot take it while the child lives");
    kill(child, SIGKILL);
    waitpid(child, NULL, 0);
    CHECK_INT(lock_acquire(&l, root, "killme", "zetl run", err, sizeof err), 0,
              "kill -9 leaves no stale lock");
    lock_release(l);
}

int main(void)
{
    const char *tmp = getenv("TMPDIR");
    char cmd[300];

    snprintf(root, sizeof root, "%s/zetl-lock-XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(root)) {
        perror("mkdtemp");
        return 1;
    }
    TEST_RUN(test_acquire_twice);
    TEST_RUN(test_kill9_frees);
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", root);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", root);
    return test_exit();
}

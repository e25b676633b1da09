/* setup_jobs.c — one thread per walkthrough job, the newest result kept (see setup_jobs.h). */
#include "tui/setup_jobs.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct job {
    uint64_t id;
    enum setup_job_kind kind;
    struct setup_answers a;
};

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static int wake = -1;                   /* guarded by mu */
static uint64_t newest;                 /* id of the job whose result is wanted */
static struct setup_job_result *done;   /* its result, once finished */
static int running;

void setup_job_free(struct setup_job_result *r)
{
    if (!r) return;
    pf_free(&r->report);
    free(r->tables);
    free(r);
}

static void run(struct job *j, struct setup_job_result *r)
{
    struct setup_cfg *cfg = malloc(sizeof *cfg);
    if (!cfg || setup_cfg_build(cfg, &j->a, r->err, sizeof r->err) != 0) {
        if (!cfg) snprintf(r->err, sizeof r->err, "out of memory");
        r->rc = -1;
        r->conn.cause = SETUP_CAUSE_OTHER;
        snprintf(r->conn.message, sizeof r->conn.message, "%.700s", r->err);
        free(cfg);
        return;
    }
    switch (j->kind) {
    case SETUP_JOB_SOURCE:
        r->rc = setup_source_test(&cfg->ig, SETUP_TIMEOUT_S, &r->conn);
        break;
    case SETUP_JOB_CHECKS:
        r->rc = setup_source_checks(&cfg->ig, &r->report, r->err, sizeof r->err);
        break;
    case SETUP_JOB_TARGET:
        r->rc = setup_target_test(cfg->ig.target.kind, cfg->ig.target.dsn, SETUP_TIMEOUT_S, &r->conn, &r->report);
        break;
    case SETUP_JOB_TABLES:
        r->rc = setup_list_tables(&cfg->ig, &r->tables, &r->ntables, r->err, sizeof r->err);
        break;
    }
    setup_cfg_wipe(cfg);
    free(cfg);
}

static void *job_main(void *arg)
{
    struct job *j = arg;
    struct setup_job_result *r = calloc(1, sizeof *r);
    if (r) {
        r->kind = j->kind;
        run(j, r);
    }
    explicit_bzero(&j->a, sizeof j->a);
    pthread_mutex_lock(&mu);
    if (r && j->id == newest) {
        setup_job_free(done);
        done = r;
        r = NULL;
    }
    running--;
    if (wake >= 0) {
        ssize_t w = write(wake, "j", 1);
        (void)w;                        /* a full pipe already holds a wake-up */
    }
    pthread_mutex_unlock(&mu);
    setup_job_free(r);
    free(j);
    return NULL;
}

void setup_jobs_init(int wake_fd)
{
    pthread_mutex_lock(&mu);
    wake = wake_fd;
    pthread_mutex_unlock(&mu);
}

int setup_jobs_run(enum setup_job_kind kind, const struct setup_answers *a)
{
    struct job *j = malloc(sizeof *j);
    if (!j) return -1;
    j->kind = kind;
    j->a = *a;
    pthread_mutex_lock(&mu);
    j->id = ++newest;
    setup_job_free(done);
    done = NULL;
    running++;
    pthread_mutex_unlock(&mu);
    pthread_t t;
    pthread_attr_t at;
    pthread_attr_init(&at);
    pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
    int rc = pthread_create(&t, &at, job_main, j);
    pthread_attr_destroy(&at);
    if (rc != 0) {
        pthread_mutex_lock(&mu);
        running--;
        pthread_mutex_unlock(&mu);
        explicit_bzero(&j->a, sizeof j->a);
        free(j);
        return -1;
    }
    return 0;
}

int setup_jobs_take(struct setup_job_result **out)
{
    pthread_mutex_lock(&mu);
    *out = done;
    done = NULL;
    pthread_mutex_unlock(&mu);
    return *out != NULL;
}

void setup_jobs_cancel(void)
{
    pthread_mutex_lock(&mu);
    newest++;
    setup_job_free(done);
    done = NULL;
    pthread_mutex_unlock(&mu);
}

int setup_jobs_shutdown(void)
{
    pthread_mutex_lock(&mu);
    wake = -1;
    newest++;
    setup_job_free(done);
    done = NULL;
    int n = running;
    pthread_mutex_unlock(&mu);
    return n;
}

/*
 * setup_jobs.h — the walkthrough's database work off the console thread.
 *
 * setup_jobs_run() copies the answers and starts a thread that runs one
 * runtime/check/setup.h function on them (connection test, preflight checks,
 * target test, table listing). When it finishes, its result is kept under
 * the jobs mutex — only the newest job's: an older one still running (the
 * operator went back, or asked again) finishes and is dropped — and one byte
 * is written to the wake pipe, so the console thread's poll returns and it
 * collects the result with setup_jobs_take(). A slow or unreachable host
 * therefore never freezes the screen; a job ends by its connect timeout.
 *
 * The copied answers hold the password: they are wiped when the job ends.
 *
 * Threads: setup_jobs_* from the console thread only; the job threads touch
 * nothing but their own copy and the result slot.
 */
#ifndef ZETL_TUI_SETUP_JOBS_H
#define ZETL_TUI_SETUP_JOBS_H

#include "runtime/check/preflight.h"
#include "runtime/check/setup.h"

enum setup_job_kind { SETUP_JOB_SOURCE = 1, SETUP_JOB_CHECKS, SETUP_JOB_TARGET, SETUP_JOB_TABLES };

#define SETUP_TIMEOUT_S 8           /* connect timeout of a walkthrough test */

struct setup_job_result {
    enum setup_job_kind kind;
    int   rc;                       /* the function's return */
    struct setup_conn conn;         /* SOURCE, TARGET */
    struct pf_report report;        /* CHECKS, TARGET */
    struct setup_table *tables;     /* TABLES */
    int   ntables;
    char  err[1024];                /* CHECKS, TABLES when rc != 0 */
};

/* Where finished jobs wake the console (the write end of its pipe). */
void setup_jobs_init(int wake_fd);
/* Start a job; the previous one's result, if it comes, is dropped. 0, or
 * -1 when no thread could be started. */
int  setup_jobs_run(enum setup_job_kind kind, const struct setup_answers *a);
/* The newest job's result once it is done: 1 with *out (free it with
 * setup_job_free), else 0. */
int  setup_jobs_take(struct setup_job_result **out);
/* Forget the newest job (the operator left its step). */
void setup_jobs_cancel(void);
/* Detach from the wake pipe: jobs still running finish silently. Returns
 * the number still running (the caller may close the pipe only when 0). */
int  setup_jobs_shutdown(void);
void setup_job_free(struct setup_job_result *r);

#endif

/* webhook.c — the alert delivery queue and thread (see webhook.h). */
#include "runtime/watch/webhook.h"
#include "runtime/base/clock.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "runtime/log/runlog.h"
#include "runtime/log/statelog.h"

#define BACKOFF_FIRST_MS 1000
#define RESPONSE_KEEP    160    /* bytes of the receiver's answer kept for messages */

struct item {
    const char *url;            /* borrowed from the config */
    int   timeout_seconds;
    char *body;
    char  integration[64];
    char  summary[192];
};

struct webhook {
    pthread_t       thread;
    pthread_mutex_t mu;
    pthread_cond_t  cv;         /* queue changed, or stop */
    struct item     q[WEBHOOK_QUEUE_MAX];
    int             head, len;
    int             dropped;    /* since the delivery thread last looked */
    char            dropped_ig[64];
    int             stopping;
    int64_t         deadline;   /* monotonic ms: stop delivering after it (stopping) */
    int64_t         sent, failed;
    int             log_stderr;
    char           *log_path;
    struct statelog *sl;        /* the delivery thread's handle */
    int             log_failed; /* it could not be opened */
    unsigned        seed;
};

/* One event in the log (and on stderr): kind "alert". The log is opened
 * here, on the delivery thread, the first time it is needed. */
#define note(w, lvl, integration, ...) do {                                          \
        open_log(w);                                                                 \
        runlog_event((w)->sl, (w)->log_stderr, lvl, integration, "alert", __VA_ARGS__); \
    } while (0)

static void open_log(struct webhook *w)
{
    char err[256];
    if (w->sl || w->log_failed)
        return;
    if (statelog_open(&w->sl, w->log_path, err, sizeof err) != 0) {
        w->sl = NULL;
        w->log_failed = 1;          /* said once; the events still reach stderr */
        if (w->log_stderr)
            fprintf(stderr, "zetl: alerts: cannot open the state log: %s\n", err);
    }
}

/* ---- one attempt ---------------------------------------------------------- */

struct answer {
    char   text[RESPONSE_KEEP + 1];
    size_t len;
};

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    struct answer *a = arg;
    size_t k = size * n;
    for (size_t i = 0; i < k && a->len < RESPONSE_KEEP; i++) {
        unsigned char ch = (unsigned char)p[i];
        a->text[a->len++] = ch < 0x20 || ch == 0x7f ? ' ' : (char)ch;
    }
    a->text[a->len] = '\0';
    return k;
}

/* Abort a transfer that runs past the stop deadline. */
static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    struct webhook *w = arg;
    (void)dt, (void)dn, (void)ut, (void)un;
    pthread_mutex_lock(&w->mu);
    int late = w->stopping && zclock_mono_ms() > w->deadline;
    pthread_mutex_unlock(&w->mu);
    return late;
}

/* Cut every copy of needle (when long enough to be a secret) out of s. */
static void cut(char *s, const char *needle, size_t nlen)
{
    char *p;
    if (nlen < 4)
        return;
    while ((p = strstr(s, needle)) != NULL && nlen <= strlen(p)) {
        memcpy(p, "***", 3);
        memmove(p + 3, p + nlen, strlen(p + nlen) + 1);
    }
}

/* No piece of the URL that may hold the secret stays in why. */
static void scrub(char *why, const char *url)
{
    const char *auth = strstr(url, "://");
    cut(why, url, strlen(url));
    if (!auth)
        return;
    auth += 3;
    const char *path = auth + strcspn(auth, "/?#");
    cut(why, path, strlen(path));
    const char *at = memchr(auth, '@', (size_t)(path - auth));
    if (at)
        cut(why, auth, (size_t)(at - auth));
}

/* 0 delivered; 1 worth retrying; 2 not (a 4xx, a redirect). why says what. */
static int post_once(struct webhook *w, const struct item *it, char *why, size_t whylen)
{
    char errbuf[CURL_ERROR_SIZE] = "", ua[64];
    struct answer ans = { .len = 0 };
    struct curl_slist *hdr = NULL;
    long code = 0;
    int rc = 1;

    CURL *c = curl_easy_init();
    if (!c) {
        snprintf(why, whylen, "cannot start an HTTP client (out of memory)");
        return 1;
    }
    snprintf(ua, sizeof ua, "zetl/%s", ZETL_VERSION);
    hdr = curl_slist_append(hdr, "Content-Type: application/json");
    curl_easy_setopt(c, CURLOPT_URL, it->url);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#else
    curl_easy_setopt(c, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
    curl_easy_setopt(c, CURLOPT_USERAGENT, ua);
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, it->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)strlen(it->body));
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)WEBHOOK_CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)it->timeout_seconds * 1000L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &ans);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, w);
    CURLcode res = curl_easy_perform(c);
    if (res != CURLE_OK) {
        snprintf(why, whylen, "%s", res == CURLE_ABORTED_BY_CALLBACK ? "zetl is stopping"
                                    : errbuf[0] ? errbuf : curl_easy_strerror(res));
        rc = res == CURLE_ABORTED_BY_CALLBACK ? 2 : 1;
        goto out;
    }
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300) {
        rc = 0;
        goto out;
    }
    snprintf(why, whylen, "HTTP %ld%s%s%s", code, ans.len ? " \"" : "", ans.text, ans.len ? "\"" : "");
    if (code >= 300 && code < 400)
        snprintf(why + strlen(why), whylen - strlen(why), " (redirects are not followed: put the final URL in webhook_url)");
    rc = code == 408 || code == 429 || code >= 500 ? 1 : 2;
out:
    scrub(why, it->url);
    curl_slist_free_all(hdr);
    curl_easy_cleanup(c);
    return rc;
}

/* ---- the thread ----------------------------------------------------------- */

/* Wait up to ms, or until stop; 1 when stopping. */
static int nap(struct webhook *w, int ms)
{
    struct timespec ts = zclock_deadline(CLOCK_MONOTONIC, ms);
    pthread_mutex_lock(&w->mu);
    while (!w->stopping && pthread_cond_timedwait(&w->cv, &w->mu, &ts) == 0)
        ;
    int stopping = w->stopping;
    pthread_mutex_unlock(&w->mu);
    return stopping;
}

static void count(struct webhook *w, int64_t *counter)
{
    pthread_mutex_lock(&w->mu);
    (*counter)++;
    pthread_mutex_unlock(&w->mu);
}

static void deliver(struct webhook *w, const struct item *it)
{
    char dest[256], why[512];
    int backoff = BACKOFF_FIRST_MS;

    config_redact_origin(it->url, dest, sizeof dest);
    for (int attempt = 1;; attempt++) {
        pthread_mutex_lock(&w->mu);
        int late = w->stopping && zclock_mono_ms() > w->deadline;
        pthread_mutex_unlock(&w->mu);
        if (late) {
            note(w, STATELOG_ERROR, it->integration, "alert to %s not delivered: zetl stopped first; the alert was: %s",
                 dest, it->summary);
            count(w, &w->failed);
            return;
        }
        int rc = post_once(w, it, why, sizeof why);
        if (rc == 0) {
            note(w, STATELOG_INFO, it->integration, "alert sent to %s: %s", dest, it->summary);
            count(w, &w->sent);
            return;
        }
        pthread_mutex_lock(&w->mu);
        int stopping = w->stopping;
        pthread_mutex_unlock(&w->mu);
        if (rc == 2 || attempt == WEBHOOK_ATTEMPTS || stopping) {
            note(w, STATELOG_ERROR, it->integration, "alert to %s not delivered after %d attempt%s: %s%s; the alert was: %s",
                 dest, attempt, attempt == 1 ? "" : "s", why,
                 rc == 2 && !stopping ? " (not retried: check webhook_url)" : "", it->summary);
            count(w, &w->failed);
            return;
        }
        int wait = backoff + (int)(rand_r(&w->seed) % (unsigned)(backoff / 4 + 1));
        note(w, STATELOG_WARNING, it->integration, "alert delivery to %s failed (attempt %d of %d): %s; retrying in %.1f s",
             dest, attempt, WEBHOOK_ATTEMPTS, why, wait / 1000.0);
        backoff *= 2;
        nap(w, wait);               /* a stop cuts the wait: one more attempt, in the drain */
    }
}

static void *deliver_main(void *arg)
{
    pthread_setname_np(pthread_self(), "z-webhook");   /* top -H, gdb */
    struct webhook *w = arg;

    for (;;) {
        struct item it;
        pthread_mutex_lock(&w->mu);
        while (!w->len && !w->dropped && !w->stopping)
            pthread_cond_wait(&w->cv, &w->mu);
        int dropped = w->dropped, have = w->len > 0;
        char ig[64];
        snprintf(ig, sizeof ig, "%s", w->dropped_ig);
        w->dropped = 0;
        if (have) {
            it = w->q[w->head];
            w->head = (w->head + 1) % WEBHOOK_QUEUE_MAX;
            w->len--;
        }
        pthread_mutex_unlock(&w->mu);
        if (dropped)
            note(w, STATELOG_ERROR, ig, "%d alert%s dropped: the delivery queue was full (%d waiting; the webhook is slow or down)",
                 dropped, dropped == 1 ? "" : "s", WEBHOOK_QUEUE_MAX);
        if (!have) {
            if (!dropped)
                break;              /* stopping, and nothing left */
            continue;
        }
        deliver(w, &it);
        free(it.body);
    }
    statelog_close(w->sl);
    w->sl = NULL;
    return NULL;
}

/* ---- API ------------------------------------------------------------------ */

int webhook_start(struct webhook **out, const char *statelog_path, int log_stderr,
                  char *err, size_t errlen)
{
    pthread_condattr_t ca;
    struct webhook *w;

    *out = NULL;
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        snprintf(err, errlen, "alerts: cannot initialise libcurl");
        return -1;
    }
    w = calloc(1, sizeof *w);
    if (!w || !(w->log_path = strdup(statelog_path))) {
        free(w);
        snprintf(err, errlen, "alerts: out of memory");
        return -1;
    }
    w->log_stderr = log_stderr;
    w->seed = (unsigned)time(NULL) ^ (unsigned)(uintptr_t)w;
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_condattr_destroy(&ca);
    if (pthread_create(&w->thread, NULL, deliver_main, w) != 0) {
        snprintf(err, errlen, "alerts: cannot start the delivery thread");
        pthread_cond_destroy(&w->cv);
        pthread_mutex_destroy(&w->mu);
        free(w->log_path);
        free(w);
        return -1;
    }
    *out = w;
    return 0;
}

void webhook_post(struct webhook *w, struct alert_msg *m)
{
    if (!w) {
        free(m->body);
        return;
    }
    pthread_mutex_lock(&w->mu);
    if (w->len == WEBHOOK_QUEUE_MAX) {          /* drop the oldest */
        struct item *old = &w->q[w->head];
        free(old->body);
        snprintf(w->dropped_ig, sizeof w->dropped_ig, "%s", old->integration);
        w->head = (w->head + 1) % WEBHOOK_QUEUE_MAX;
        w->len--;
        w->dropped++;
        w->failed++;
    }
    struct item *it = &w->q[(w->head + w->len) % WEBHOOK_QUEUE_MAX];
    it->url = m->url;
    it->timeout_seconds = m->timeout_seconds;
    it->body = m->body;
    snprintf(it->integration, sizeof it->integration, "%s", m->integration);
    snprintf(it->summary, sizeof it->summary, "%s", m->summary);
    w->len++;
    m->body = NULL;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

void webhook_counts(struct webhook *w, int64_t *sent, int64_t *failed)
{
    *sent = *failed = 0;
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    *sent = w->sent;
    *failed = w->failed;
    pthread_mutex_unlock(&w->mu);
}

void webhook_stop(struct webhook *w, int drain_ms)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->mu);
    w->stopping = 1;
    w->deadline = zclock_mono_ms() + drain_ms;
    pthread_cond_broadcast(&w->cv);
    pthread_mutex_unlock(&w->mu);
    pthread_join(w->thread, NULL);
    for (int i = 0; i < w->len; i++)            /* nothing is left: the thread drains */
        free(w->q[(w->head + i) % WEBHOOK_QUEUE_MAX].body);
    pthread_cond_destroy(&w->cv);
    pthread_mutex_destroy(&w->mu);
    free(w->log_path);
    free(w);
}

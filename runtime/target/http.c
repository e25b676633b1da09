/*
 * http.c — the http target: change events (envelope.h) POSTed as
 * newline-delimited JSON with libcurl: the http driver (target_ops.h), whose
 * methods do what target.h says of the http kind; its table,
 * target_http_ops, is at the end.
 *
 * Delivery is at-least-once:
 *   - the events of a target transaction are buffered and POSTed whenever
 *     the buffer passes HTTP_POST_BYTES, and at commit;
 *   - the checkpoint file moves only after the 2xx for the POST that holds
 *     the batch's last change, so a crash before the rename sends those
 *     events again after the restart (same source.pos + source.seq);
 *   - a failed attempt (connection error, timeout, 5xx, 408, 429) is retried
 *     here with the identical body and Idempotency-Key — backoff from 0.5 s
 *     doubling to 30 s, plus up to 25 % jitter — until a 2xx or the stop
 *     flag. Meanwhile the applier waits in this call, the bounded change
 *     queue fills and the reader waits (or spills a big transaction), as for
 *     a slow warehouse: memory stays bounded. on_retry tells the runtime, so
 *     the operator sees `failed` with the reason while it retries;
 *   - any other answer fails the transaction for good (sticky until
 *     rollback): the round ends and the supervisor shows `failed` with the
 *     status and body, and retries the round with its own backoff.
 *
 * Secrets: the URL and the header values. Messages show the URL only as
 * config_redact() prints it, and scrub() removes any query, password or
 * header value from what an answer or libcurl says before it is quoted.
 *
 * Thread: one handle per thread (target.h). curl_global_init runs once,
 * under pthread_once.
 */
#include "runtime/base/clock.h"
#include "runtime/target/target_int.h"
#include "runtime/target/target_ops.h"

#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/pfreport.h"
#include "runtime/target/envelope.h"

#define RETRY_MIN_MS        500
#define RETRY_MAX_MS        30000
#define CONNECT_TIMEOUT_MS  10000
#define REQUEST_TIMEOUT_MS  30000
#define STOPPING_TIMEOUT_MS 5000        /* the one attempt made while zetl stops */
#define BODY_SHOWN          300         /* bytes of an answer's body kept for messages */
#define SECRET_MIN          4           /* shorter values are not scrubbed (too common) */
#define POS_MAX             (ZPOS_FILE_MAX + ZPOS_GTID_MAX + 32)
#define POSID_MAX           (ZPOS_FILE_MAX + 32)    /* "file:offset" or "X/X" */
#define ID_MAX              (POSID_MAX + 32)        /* POSID#SEQ, snapshot-MS#N */

struct http_target {
    CURL    *curl;                  /* kept across requests: connection reuse */
    char    *url;                   /* a secret: never printed */
    const struct config_integration *cfg;   /* borrowed: headers, source, rename rules */
    char    *ckpt_path;             /* STATE_DIR/NAME.http-checkpoint */
    char    *state_dir;
    atomic_int *stop;
    int      last_try;              /* stopping: one attempt, not cut short by stop */
    int    (*on_retry)(void *ctx, enum target_retry ev, const char *reason);
    void    *retry_ctx;
    unsigned seed;                  /* jitter */
    char   **secrets;               /* values scrubbed from every message */
    int      nsecrets;
    /* the events not yet POSTed */
    struct zbuf body;
    uint64_t nevents;
    char     first[ID_MAX], last[ID_MAX];   /* ids of the first and last buffered event */
    int      failed;                /* a POST of this transaction failed for good */
    /* the source transaction whose changes are being added */
    char     pos[POS_MAX];          /* source.pos; "" before the first transaction */
    char     pos_id[POSID_MAX];     /* its short form (no GTID set), for ids */
    uint64_t seq, txid;
    int64_t  ts_ms;
    struct zpos done;               /* the checkpoint last read or written */
    int64_t  done_time_us;          /* its source commit time */
    /* the copy's events */
    int64_t  snap_id;               /* wall ms when the target transaction began */
    uint64_t snap_seq;
    /* resync marks: as in the file, and as the open transaction leaves them */
    char   **marks;
    int      nmarks;
    char   **work;
    int      nwork;
    int      work_dirty;
    /* the last answer */
    char     resp[BODY_SHOWN + 1];
    size_t   resp_len;
    char     curl_err[CURL_ERROR_SIZE];
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static CURLcode curl_init_rc;

static void curl_init(void) { curl_init_rc = curl_global_init(CURL_GLOBAL_DEFAULT); }

/* ---- string lists (resync marks, secrets) --------------------------------------------- */

static void strv_free(char **v, int n)
{
    for (int i = 0; i < n; i++) free(v[i]);
    free(v);
}

static int strv_add(char ***v, int *n, const char *s, size_t len)
{
    char **nv = realloc(*v, (size_t)(*n + 1) * sizeof *nv);
    if (!nv) return -1;
    *v = nv;
    if (!(nv[*n] = strndup(s, len))) return -1;
    (*n)++;
    return 0;
}

static int strv_find(char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if (strcmp(v[i], s) == 0) return i;
    return -1;
}

static int strv_copy(char ***dst, int *dn, char **src, int sn)
{
    strv_free(*dst, *dn);
    *dst = NULL;
    *dn = 0;
    for (int i = 0; i < sn; i++)
        if (strv_add(dst, dn, src[i], strlen(src[i])) != 0) return -1;
    return 0;
}

/* ---- secrets ------------------------------------------------------------------------ */

/* The URL's password and query values, and every header value. */
static int collect_secrets(struct http_target *h)
{
    const char *u = h->url, *auth = strstr(u, "://");
    auth = auth ? auth + 3 : u;
    size_t alen = strcspn(auth, "/?#");
    const char *at = memchr(auth, '@', alen), *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon && at - colon - 1 >= SECRET_MIN &&
        strv_add(&h->secrets, &h->nsecrets, colon + 1, (size_t)(at - colon - 1)))
        return -1;
    const char *q = strchr(auth, '?');
    while (q && *q && *q != '#') {
        const char *k = q + 1, *e = k + strcspn(k, "&#"), *eq = memchr(k, '=', (size_t)(e - k));
        if (eq && e - eq - 1 >= SECRET_MIN &&
            strv_add(&h->secrets, &h->nsecrets, eq + 1, (size_t)(e - eq - 1)))
            return -1;
        q = *e == '&' ? e : NULL;
    }
    for (int i = 0; i < h->cfg->target.nheaders; i++) {
        const char *v = h->cfg->target.headers[i].value;
        if (strlen(v) >= SECRET_MIN && strv_add(&h->secrets, &h->nsecrets, v, strlen(v))) return -1;
        /* "Bearer TOKEN": the token alone, as an echo may quote just that */
        const char *sp = strrchr(v, ' ');
        if (sp && strlen(sp + 1) >= SECRET_MIN &&
            strv_add(&h->secrets, &h->nsecrets, sp + 1, strlen(sp + 1)))
            return -1;
    }
    return 0;
}

/* Replace every secret in the string s by "***" (never longer: SECRET_MIN > 3). */
static void scrub(const struct http_target *h, char *s)
{
    for (int i = 0; i < h->nsecrets; i++) {
        size_t n = strlen(h->secrets[i]);
        char *p;
        while ((p = strstr(s, h->secrets[i])) != NULL) {
            memcpy(p, "***", 3);
            memmove(p + 3, p + n, strlen(p + n) + 1);
        }
    }
}

/* An answer's body as one printable line: control characters become spaces,
 * bytes that are not UTF-8 '?', cut at BODY_SHOWN bytes. */
static void one_line(const char *in, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap;) {
        unsigned char c = (unsigned char)in[i];
        if (c < 0x80) {
            out[o++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
            i++;
            continue;
        }
        size_t k = (c & 0xe0) == 0xc0 ? 2 : (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 0;
        int ok = k && i + k <= n;
        for (size_t j = 1; ok && j < k; j++) ok = ((unsigned char)in[i + j] & 0xc0) == 0x80;
        if (!ok) {
            out[o++] = '?';
            i++;
            continue;
        }
        memcpy(out + o, in + i, k);
        o += k;
        i += k;
    }
    while (o && out[o - 1] == ' ') o--;
    out[o] = '\0';
}

/* ---- messages ------------------------------------------------------------------------- */

/* t->err = "target NAME (URL): " + the formatted text. Text from outside
 * (an answer's body, libcurl's detail) is scrubbed before it gets here. */
__attribute__((format(printf, 2, 3)))
static void seterr(struct target *t, const char *fmt, ...)
{
    int n = snprintf(t->err, sizeof t->err, "target %s (%s): ", t->integration, t->desc);
    if (n < 0 || (size_t)n >= sizeof t->err) n = 0;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(t->err + n, sizeof t->err - (size_t)n, fmt, ap);
    va_end(ap);
}

/* ---- libcurl ------------------------------------------------------------------------------ */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ctx)
{
    struct http_target *h = ctx;
    size_t n = size * nmemb, room = BODY_SHOWN - h->resp_len;
    if (room) {
        size_t k = n < room ? n : room;
        memcpy(h->resp + h->resp_len, p, k);
        h->resp_len += k;
        h->resp[h->resp_len] = '\0';
    }
    return n;                               /* the rest is read and dropped */
}

static int on_progress(void *ctx, curl_off_t dlt, curl_off_t dln, curl_off_t ult, curl_off_t uln)
{
    (void)dlt; (void)dln; (void)ult; (void)uln;
    struct http_target *h = ctx;
    return !h->last_try && h->stop && atomic_load(h->stop) ? 1 : 0;
}

/* An easy handle with everything but the method and the body. */
static CURL *easy_new(struct http_target *h)
{
    CURL *c = curl_easy_init();
    if (!c) return NULL;
    curl_easy_setopt(c, CURLOPT_URL, h->url);
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
#if LIBCURL_VERSION_NUM >= 0x075500
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
#endif
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, (long)CONNECT_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)REQUEST_TIMEOUT_MS);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "zetl/" ZETL_VERSION);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, h->curl_err);
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, h);
    curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(c, CURLOPT_XFERINFODATA, h);
    curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
    /* Redirects are not followed (the headers may hold credentials), TLS
     * peer and host verification stay libcurl's default: on. */
    return c;
}

/* The request headers: configured ones, then ours (unless configured). */
static struct curl_slist *request_headers(struct http_target *h, const char *key)
{
    struct curl_slist *l = NULL, *n;
    int have_ct = 0;
    char line[8192];
    for (int i = 0; i < h->cfg->target.nheaders; i++) {
        const struct config_header *hd = &h->cfg->target.headers[i];
        if (strcasecmp(hd->name, "Content-Type") == 0) have_ct = 1;
        if (strcasecmp(hd->name, "Idempotency-Key") == 0) continue;   /* ours */
        snprintf(line, sizeof line, "%s: %s", hd->name, hd->value);
        if (!(n = curl_slist_append(l, line))) goto oom;
        l = n;
    }
    if (key) {
        if (!have_ct) {
            if (!(n = curl_slist_append(l, "Content-Type: application/x-ndjson"))) goto oom;
            l = n;
        }
        if (!(n = curl_slist_append(l, "Expect:"))) goto oom;     /* no 100-continue round trip */
        l = n;
        snprintf(line, sizeof line, "Idempotency-Key: %s", key);
        if (!(n = curl_slist_append(l, line))) goto oom;
        l = n;
    }
    return l ? l : curl_slist_append(NULL, "Accept: */*");
oom:
    curl_slist_free_all(l);
    return NULL;
}

/* Perform a request on c; *status the HTTP status (0: none). Returns the curl code. */
static CURLcode perform(struct http_target *h, CURL *c, struct curl_slist *hdrs, long *status)
{
    h->resp_len = 0;
    h->resp[0] = '\0';
    h->curl_err[0] = '\0';
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
    CURLcode cc = curl_easy_perform(c);
    scrub(h, h->curl_err);                  /* libcurl's detail may quote the url */
    *status = 0;
    if (cc == CURLE_OK) curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    return cc;
}

/* A curl failure as text: libcurl's detail when it has one. */
static const char *curl_text(const struct http_target *h, CURLcode cc)
{
    return h->curl_err[0] ? h->curl_err : curl_easy_strerror(cc);
}

/* Failures that a later attempt cannot fix. */
static int curl_permanent(CURLcode cc)
{
    return cc == CURLE_URL_MALFORMAT || cc == CURLE_UNSUPPORTED_PROTOCOL ||
           cc == CURLE_NOT_BUILT_IN || cc == CURLE_BAD_FUNCTION_ARGUMENT ||
           cc == CURLE_OUT_OF_MEMORY;
}

static const char *curl_fix(CURLcode cc)
{
    switch (cc) {
    case CURLE_COULDNT_RESOLVE_HOST:
        return "check the host name in the target url and DNS on this machine";
    case CURLE_COULDNT_CONNECT:
        return "check the host and port in the target url and that the endpoint accepts connections from this host";
    case CURLE_OPERATION_TIMEDOUT:
        return "the endpoint did not answer in time (connect 10 s, request 30 s): check that it is up and not overloaded";
    case CURLE_PEER_FAILED_VERIFICATION: case CURLE_SSL_CACERT_BADFILE: case CURLE_SSL_CONNECT_ERROR:
        return "the endpoint's TLS certificate must verify against this machine's CA store (zetl never turns verification off): install the CA, or fix the certificate's name";
    default:
        return "check the target url and that the endpoint is up";
    }
}

/* ---- the handle ------------------------------------------------------------------------------ */

static void h_free(struct http_target *h)
{
    if (!h) return;
    if (h->curl) curl_easy_cleanup(h->curl);
    if (h->url) {
        memset(h->url, 0, strlen(h->url));
        free(h->url);
    }
    free(h->ckpt_path);
    free(h->state_dir);
    for (int i = 0; i < h->nsecrets; i++) memset(h->secrets[i], 0, strlen(h->secrets[i]));
    strv_free(h->secrets, h->nsecrets);
    strv_free(h->marks, h->nmarks);
    strv_free(h->work, h->nwork);
    tbuf_free(&h->body);
    free(h);
}

/* The handle and its state (a connect's failure path included). */
static void http_close(struct target *t)
{
    if (!t) return;
    h_free(t->http);
    free(t->integration);
    free(t);
}

static struct http_target *h_new(const struct config_integration *ci, const char *state_dir)
{
    struct http_target *h = calloc(1, sizeof *h);
    if (!h) return NULL;
    h->cfg = ci;
    h->url = strdup(ci->target.url ? ci->target.url : "");
    h->state_dir = strdup(state_dir ? state_dir : ".");
    size_t n = strlen(h->state_dir ? h->state_dir : "") + strlen(ci->name) + 40;
    h->ckpt_path = malloc(n);
    if (!h->url || !h->state_dir || !h->ckpt_path || collect_secrets(h) != 0) {
        h_free(h);
        return NULL;
    }
    snprintf(h->ckpt_path, n, "%s/%s.http-checkpoint", h->state_dir, ci->name);
    h->seed = (unsigned)zclock_wall_ms() ^ (unsigned)(uintptr_t)h;
    return h;
}

/* HEAD with the configured headers on a handle of its own: any HTTP answer
 * proves the endpoint reachable. 0 with *status, or -1 with err (scrubbed). */
static int probe(struct http_target *h, long *status, CURLcode *ccp)
{
    CURL *c = easy_new(h);
    struct curl_slist *hd = request_headers(h, NULL);
    CURLcode cc = CURLE_OUT_OF_MEMORY;
    if (c && hd) {
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
        cc = perform(h, c, hd, status);
    }
    curl_slist_free_all(hd);
    if (c) curl_easy_cleanup(c);
    *ccp = cc;
    return cc == CURLE_OK ? 0 : -1;
}

static int http_read_checkpoint(struct target *t, struct zpos *pos, int64_t *commit_time_us);

static int http_connect(struct target **out, const struct target_opts *o, char *err, size_t errlen)
{
    *out = NULL;
    const char *name = o->integration ? o->integration : "?";
    if (!o->config || !o->config->target.url) {
        snprintf(err, errlen, "target %s: an http target needs its url and headers from the config (internal: target_opts.config is not set)", name);
        return -1;
    }
    pthread_once(&curl_once, curl_init);
    if (curl_init_rc != CURLE_OK) {
        snprintf(err, errlen, "target %s: libcurl did not initialize: %s", name, curl_easy_strerror(curl_init_rc));
        return -1;
    }
    struct target *t = calloc(1, sizeof *t);
    if (!t || !(t->integration = strdup(name)) || !(t->http = h_new(o->config, o->state_dir))) {
        snprintf(err, errlen, "target %s: out of memory", name);
        goto fail;
    }
    struct http_target *h = t->http;
    t->kind = TARGET_HTTP;
    t->source = o->source;
    h->stop = o->stop;
    h->on_retry = o->on_retry;
    h->retry_ctx = o->retry_ctx;
    config_redact(h->url, t->desc, sizeof t->desc);

    long status;
    CURLcode cc;
    if (probe(h, &status, &cc) != 0) {
        seterr(t, "cannot reach the endpoint: %s; %s", curl_text(h, cc), curl_fix(cc));
        snprintf(err, errlen, "%s", t->err);
        goto fail;
    }
    if (!(h->curl = easy_new(h))) {
        snprintf(err, errlen, "target %s: out of memory", name);
        goto fail;
    }
    /* The marks and the position, so a broken checkpoint file fails here. */
    struct zpos pos;
    if (http_read_checkpoint(t, &pos, NULL) < 0) {
        snprintf(err, errlen, "%s", t->err);
        goto fail;
    }
    *out = t;
    return 0;
fail:
    http_close(t);
    return -1;
}

/* ---- the checkpoint file ------------------------------------------------------------------------
 *
 *   # zetl checkpoint of integration NAME (http target); written by zetl
 *   position binlog.000003:4567 gtid=0-1-42
 *   commit_time_us 1732183200000000
 *   resync shop.orders
 */

static int http_read_checkpoint(struct target *t, struct zpos *pos, int64_t *commit_time_us)
{
    struct http_target *h = t->http;
    memset(pos, 0, sizeof *pos);
    if (commit_time_us) *commit_time_us = 0;
    FILE *f = fopen(h->ckpt_path, "r");
    if (!f) {
        if (errno == ENOENT) {
            strv_free(h->marks, h->nmarks);
            h->marks = NULL;
            h->nmarks = 0;
            return 0;
        }
        seterr(t, "cannot read the checkpoint file %s: %s; fix its permissions", h->ckpt_path, strerror(errno));
        return -1;
    }
    char line[POS_MAX + 64], perr[300];
    char **marks = NULL;
    int nmarks = 0, found = 0, lineno = 0, rc = -1;
    int64_t ct = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t n = strcspn(line, "\r\n");
        if (line[n] == '\0' && !feof(f)) {
            seterr(t, "checkpoint file %s:%d: line too long; delete the file to copy every table again (the endpoint then receives a fresh snapshot)",
                   h->ckpt_path, lineno);
            goto out;
        }
        line[n] = '\0';
        if (!line[0] || line[0] == '#') continue;
        char *val = strchr(line, ' ');
        if (val) *val++ = '\0';
        if (val && strcmp(line, "position") == 0) {
            if (zpos_parse(pos, val, perr, sizeof perr) != 0) {
                seterr(t, "checkpoint file %s:%d: %s; delete the file to copy every table again (the endpoint then receives a fresh snapshot)",
                       h->ckpt_path, lineno, perr);
                goto out;
            }
            found = pos->kind != ZPOS_NONE;
        } else if (val && strcmp(line, "commit_time_us") == 0) {
            ct = strtoll(val, NULL, 10);
        } else if (val && strcmp(line, "resync") == 0) {
            if (strv_add(&marks, &nmarks, val, strlen(val)) != 0) {
                seterr(t, "out of memory reading %s", h->ckpt_path);
                goto out;
            }
        } else {
            seterr(t, "checkpoint file %s:%d: unknown line \"%.40s\"; it holds position, commit_time_us and resync lines — delete the file to copy every table again",
                   h->ckpt_path, lineno, line);
            goto out;
        }
    }
    if (ferror(f)) {
        seterr(t, "reading the checkpoint file %s failed", h->ckpt_path);
        goto out;
    }
    strv_free(h->marks, h->nmarks);
    h->marks = marks;
    h->nmarks = nmarks;
    marks = NULL;
    nmarks = 0;
    if (!t->in_txn && strv_copy(&h->work, &h->nwork, h->marks, h->nmarks) != 0) {
        seterr(t, "out of memory reading %s", h->ckpt_path);
        goto out;
    }
    if (found) {
        h->done = *pos;
        h->done_time_us = ct;
    }
    if (commit_time_us) *commit_time_us = found ? ct : 0;
    rc = found;
out:
    strv_free(marks, nmarks);
    fclose(f);
    return rc;
}

/* Write the file atomically: temp file, fsync, rename, fsync the directory. */
static int write_checkpoint(struct target *t, const struct zpos *pos, int64_t commit_time_us)
{
    struct http_target *h = t->http;
    struct zbuf b = {0};
    char p[POS_MAX], tmp[4200];
    int rc = -1, fd = -1;
    snprintf(tmp, sizeof tmp, "%s.tmp", h->ckpt_path);
    tbuf_puts(&b, "# zetl checkpoint of integration ");
    tbuf_puts(&b, t->integration);
    tbuf_puts(&b, " (http target); written by zetl, read at every start\n");
    if (pos && pos->kind != ZPOS_NONE) {
        if (zpos_format(pos, p, sizeof p) != 0) {
            seterr(t, "the checkpoint position does not fit");
            goto out;
        }
        tbuf_puts(&b, "position ");
        tbuf_puts(&b, p);
        snprintf(p, sizeof p, "\ncommit_time_us %" PRId64 "\n", commit_time_us);
        tbuf_puts(&b, p);
    }
    for (int i = 0; i < h->nwork; i++) {
        tbuf_puts(&b, "resync ");
        tbuf_puts(&b, h->work[i]);
        tbuf_putc(&b, '\n');
    }
    if (b.oom) {
        seterr(t, "out of memory writing the checkpoint");
        goto out;
    }
    fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) goto io;
    for (size_t off = 0; off < b.len;) {
        ssize_t w = write(fd, b.p + off, b.len - off);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) goto io;
        off += (size_t)w;
    }
    if (fsync(fd) != 0) goto io;
    if (close(fd) != 0) {
        fd = -1;
        goto io;
    }
    fd = -1;
    if (rename(tmp, h->ckpt_path) != 0) goto io;
    int dfd = open(h->state_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    rc = 0;
    goto out;
io:
    seterr(t, "writing the checkpoint file %s: %s; check free space and permissions in the state directory",
           h->ckpt_path, strerror(errno));
    unlink(tmp);
out:
    if (fd >= 0) close(fd);
    tbuf_free(&b);
    return rc;
}

/* A re-snapshot (target.h): the file keeps neither position nor marks, so
 * the next read finds no checkpoint. Written as any checkpoint is. */
static int http_discard_checkpoint(struct target *t)
{
    struct http_target *h = t->http;
    if (t->in_txn) {
        seterr(t, "checkpoint discarded inside a transaction");
        return -1;
    }
    strv_free(h->work, h->nwork);
    h->work = NULL;
    h->nwork = 0;
    if (write_checkpoint(t, NULL, 0) != 0) return -1;
    strv_free(h->marks, h->nmarks);
    h->marks = NULL;
    h->nmarks = 0;
    memset(&h->done, 0, sizeof h->done);
    h->done_time_us = 0;
    return 0;
}

/* ---- delivery ----------------------------------------------------------------------------------- */

/* Wait ms before the next attempt: -1 early when stop is set, -2 when
 * on_retry (asked every 250 ms) gives up. */
static int nap(const struct http_target *h, int ms)
{
    for (int slept = 0; slept < ms; slept += 250) {
        if (h->stop && atomic_load(h->stop)) return -1;
        if (h->on_retry && h->on_retry(h->retry_ctx, TARGET_RETRY_WAIT, NULL)) return -2;
        int step = ms - slept < 250 ? ms - slept : 250;
        struct timespec ts = {0, step * 1000000L};
        nanosleep(&ts, NULL);
    }
    return h->stop && atomic_load(h->stop) ? -1 : 0;
}

static void buffer_reset(struct http_target *h)
{
    h->body.len = 0;
    if (h->body.p) h->body.p[0] = '\0';
    h->body.oom = 0;
    h->nevents = 0;
    h->first[0] = h->last[0] = '\0';
}

/*
 * POST what is buffered; retry the identical request while the failure may
 * pass. 0 after a 2xx (buffer emptied), -1 with t->err (sticky: h->failed).
 * Called while zetl stops (the applier's last batch), it makes one attempt
 * of at most STOPPING_TIMEOUT_MS; stop set during the retries ends them.
 */
static int post_buffer(struct target *t)
{
    struct http_target *h = t->http;
    if (h->failed) return -1;
    if (!h->nevents) return 0;
    if (h->body.oom) {
        seterr(t, "out of memory building the events");
        goto fail;
    }
    char key[2 * ID_MAX + 160], reason[900], shown[BODY_SHOWN * 2 + 8];
    snprintf(key, sizeof key, "%s:%s..%s", t->integration, h->first, h->last);
    struct curl_slist *hd = request_headers(h, key);
    if (!hd) {
        seterr(t, "out of memory building the request");
        goto fail;
    }
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDS, h->body.p);
    curl_easy_setopt(h->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)h->body.len);
    h->last_try = h->stop && atomic_load(h->stop);
    curl_easy_setopt(h->curl, CURLOPT_TIMEOUT_MS, (long)(h->last_try ? STOPPING_TIMEOUT_MS : REQUEST_TIMEOUT_MS));
    int delay = RETRY_MIN_MS;
    for (int attempt = 1;; attempt++) {
        long status;
        CURLcode cc = perform(h, h->curl, hd, &status);
        one_line(h->resp, h->resp_len, shown, sizeof shown);
        scrub(h, shown);                    /* an endpoint may echo a token back */
        if (cc == CURLE_OK && status >= 200 && status < 300) {
            curl_slist_free_all(hd);
            h->last_try = 0;
            if (attempt > 1 && h->on_retry) h->on_retry(h->retry_ctx, TARGET_RETRY_DELIVERED, NULL);
            buffer_reset(h);
            return 0;
        }
        if (cc == CURLE_OK)
            snprintf(reason, sizeof reason, "answered %ld%s%s", status, shown[0] ? ": " : "", shown);
        else
            snprintf(reason, sizeof reason, "%s", curl_text(h, cc));
        if (cc == CURLE_ABORTED_BY_CALLBACK || (h->stop && atomic_load(h->stop))) {
            seterr(t, "POST of %" PRIu64 " events not delivered: zetl is stopping%s%s; they are sent again at the next start",
                   h->nevents, cc == CURLE_ABORTED_BY_CALLBACK ? "" : " and the last attempt failed: ",
                   cc == CURLE_ABORTED_BY_CALLBACK ? "" : reason);
            break;
        }
        if (cc != CURLE_OK && curl_permanent(cc)) {
            seterr(t, "POST of %" PRIu64 " events failed: %s; %s", h->nevents, curl_text(h, cc), curl_fix(cc));
            break;
        }
        if (cc == CURLE_OK && !(status >= 500 || status == 408 || status == 429)) {
            seterr(t, "POST of %" PRIu64 " events (Idempotency-Key %s) was answered %ld%s%s; %s",
                   h->nevents, key, status, shown[0] ? ": " : " with no body", shown,
                   status >= 300 && status < 400
                       ? "zetl does not follow redirects: set the target url to the final address"
                       : "the endpoint refused the events: fix what its answer names (url, headers, payload limits); zetl sends them again when the integration retries");
            break;
        }
        int wait = delay + (int)(rand_r(&h->seed) % (unsigned)(delay / 4 + 1));
        /* the same text at every attempt, so the reason shown stays put */
        seterr(t, "POST of %" PRIu64 " events (Idempotency-Key %s) failed: %s; retrying the same request with backoff%s%s",
               h->nevents, key, reason, cc != CURLE_OK ? "; " : "", cc != CURLE_OK ? curl_fix(cc) : "");
        if (h->on_retry) h->on_retry(h->retry_ctx, TARGET_RETRY_FAILED, t->err);
        int napped = nap(h, wait);
        if (napped != 0) {
            seterr(t, "POST of %" PRIu64 " events given up while retrying: %s; they are sent again when the integration runs again",
                   h->nevents, napped == -1 ? "zetl is stopping" : "an operator command ended the round");
            break;
        }
        delay = delay * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : delay * 2;
    }
    curl_slist_free_all(hd);
    h->last_try = 0;
fail:
    h->failed = 1;
    return -1;
}

/* ---- events ------------------------------------------------------------------------------------- */

/* Buffer one event; POST when the buffer is full. */
static int add_event(struct target *t, const struct zrowchange *rc, const char *tschema,
                     const char *tname, int snapshot)
{
    struct http_target *h = t->http;
    if (h->failed) return -1;
    struct envelope_src src = {
        .connector = t->source->connector, .name = t->integration, .snapshot = snapshot,
        .db = t->source->db_in_events ? h->cfg->source.database : NULL,
    };
    char *id = h->nevents ? h->last : h->first;
    if (snapshot) {
        src.seq = h->snap_seq++;
        snprintf(id, ID_MAX, "snapshot-%" PRId64 "#%" PRIu64, h->snap_id, src.seq);
    } else {
        src.pos = h->pos[0] ? h->pos : NULL;
        src.seq = h->seq++;
        src.txid = h->txid;
        src.ts_ms = h->ts_ms;
        snprintf(id, ID_MAX, "%s#%" PRIu64, h->pos_id[0] ? h->pos_id : "start", src.seq);
    }
    if (h->nevents == 0) snprintf(h->last, sizeof h->last, "%s", h->first);
    h->nevents++;
    if (envelope_encode(&h->body, &src, rc, tschema, tname, zclock_wall_ms()) != 0) {
        seterr(t, "out of memory building an event of %s.%s", rc->table->schema, rc->table->name);
        h->failed = 1;
        return -1;
    }
    if (h->body.len >= HTTP_POST_BYTES) return post_buffer(t);
    return 0;
}

static void http_txn_begin(struct target *t, const struct ztxn *txn, const struct zpos *start)
{
    struct http_target *h = t->http;
    /* After an idle checkpoint the file is ahead of the last commit: a replay
     * starts there, so the transaction is named by it in both runs. */
    const struct zpos *p = start;
    if (!p || p->kind == ZPOS_NONE || zpos_before(p, &h->done)) p = &h->done;
    h->pos[0] = h->pos_id[0] = '\0';
    if (p->kind != ZPOS_NONE && zpos_format(p, h->pos, sizeof h->pos) == 0) {
        struct zpos s = *p;
        s.gtid[0] = '\0';
        zpos_format(&s, h->pos_id, sizeof h->pos_id);
    }
    h->seq = 0;
    h->txid = txn ? txn->xid : 0;
    h->ts_ms = txn ? txn->commit_time_us / 1000 : 0;
}

static int http_add(struct target *t, struct zbatch *b, const struct zrowchange *rc,
                    const char *tschema, const char *tname, int snapshot)
{
    if (add_event(t, rc, tschema, tname, snapshot) == 0) return 0;
    size_t n = strnlen(t->err, sizeof b->err - 1);   /* the start: b->err is short */
    memcpy(b->err, t->err, n);
    b->err[n] = '\0';
    return -1;
}

/* The source names come with the call, schema and table apart: a name may
 * hold dots, and a target name (renamed, shortened) does not lead back to
 * its source. */
static int http_truncate(struct target *t, const struct ztable *src, const char *schema,
                         const char *table)
{
    struct ztable def = {.schema = src ? src->schema : (char *)schema,
                         .name = src ? src->name : (char *)table};
    struct zrowchange rc = {.op = ZOP_TRUNCATE, .table = &def};
    return add_event(t, &rc, schema, table, 1);
}

/*
 * A batch that went through zbatch_add (a path not yet on target_add): its
 * collapsed rows as events — upserts as op u with no before image, deletes
 * with the key, keyless counts as that many c or d events.
 */
static int http_apply(struct target *t, const struct zbatch *b)
{
    if (!t->in_txn) {
        seterr(t, "apply outside a transaction (call target_begin)");
        return -1;
    }
    for (int ti = 0; ti < b->ntables; ti++) {
        const struct zb_table *bt = &b->tables[ti];
        struct zrowchange rc = {.table = bt->def};
        if (bt->truncate) {
            rc.op = ZOP_TRUNCATE;
            if (add_event(t, &rc, bt->tschema, bt->tname, 0)) return -1;
        }
        for (int si = 0; si < bt->nsegs; si++)
            for (int ri = 0; ri < bt->segs[si].nrows; ri++) {
                const struct zb_row *r = &bt->segs[si].rows[ri];
                rc = (struct zrowchange){.table = bt->def};
                int64_t times = 1;
                switch (r->state) {
                case ZB_UPSERT: case ZB_PARTIAL: rc.op = ZOP_UPDATE; rc.after = r->image; break;
                case ZB_MOVE:
                    rc.op = ZOP_UPDATE;
                    rc.before = r->old_key;
                    rc.before_key_only = 1;
                    rc.after = r->image;
                    break;
                case ZB_DELETE: rc.op = ZOP_DELETE; rc.before = r->image; rc.before_key_only = 1; break;
                case ZB_COUNT:
                    rc.op = r->n > 0 ? ZOP_INSERT : ZOP_DELETE;
                    if (r->n > 0) rc.after = r->image;
                    else rc.before = r->image;
                    times = r->n > 0 ? r->n : -r->n;
                    break;
                default: continue;
                }
                for (int64_t k = 0; k < times; k++)
                    if (add_event(t, &rc, bt->tschema, bt->tname, 0)) return -1;
            }
    }
    return 0;
}

/* ---- transactions ---------------------------------------------------------------------------------- */

static int http_begin(struct target *t)
{
    struct http_target *h = t->http;
    if (t->in_txn) {
        seterr(t, "begin inside an open transaction");
        return -1;
    }
    /* The buffer is left alone: the applier adds a transaction's changes
     * before it opens the target transaction that commits them. */
    h->snap_id = zclock_wall_ms();
    h->snap_seq = 0;
    if (strv_copy(&h->work, &h->nwork, h->marks, h->nmarks) != 0) {
        seterr(t, "out of memory");
        return -1;
    }
    h->work_dirty = 0;
    t->in_txn = 1;
    return 0;
}

static int http_commit(struct target *t, const struct zpos *pos, int64_t commit_time_us)
{
    struct http_target *h = t->http;
    if (!t->in_txn) {
        seterr(t, "commit without begin");
        return -1;
    }
    t->in_txn = 0;
    if (post_buffer(t) != 0) return -1;
    int moved = pos && pos->kind != ZPOS_NONE;
    if (moved || h->work_dirty) {
        /* a plain commit (pos NULL) keeps the position the file has */
        const struct zpos *keep = moved ? pos : &h->done;
        int64_t ct = moved ? commit_time_us : h->done_time_us;
        if (write_checkpoint(t, keep, ct) != 0) return -1;
        if (moved) {
            h->done = *pos;
            h->done_time_us = commit_time_us;
        }
        if (strv_copy(&h->marks, &h->nmarks, h->work, h->nwork) != 0) {
            seterr(t, "out of memory");
            return -1;
        }
        h->work_dirty = 0;
    }
    return 0;
}

static int http_rollback(struct target *t)
{
    struct http_target *h = t->http;
    t->in_txn = 0;
    buffer_reset(h);
    h->failed = 0;
    h->work_dirty = 0;
    return strv_copy(&h->work, &h->nwork, h->marks, h->nmarks);
}

/* ---- resync marks: lines of the checkpoint file, committed with it ------------------------------------- */

static int http_resync_mark(struct target *t, const char *source_table)
{
    struct http_target *h = t->http;
    int own = !t->in_txn;
    if (own && http_begin(t) != 0) return -1;
    if (strv_find(h->work, h->nwork, source_table) < 0 &&
        strv_add(&h->work, &h->nwork, source_table, strlen(source_table)) != 0) {
        seterr(t, "out of memory");
        if (own) http_rollback(t);
        return -1;
    }
    h->work_dirty = 1;
    return own ? http_commit(t, NULL, 0) : 0;
}

static int http_resync_unmark(struct target *t, const char *source_table)
{
    struct http_target *h = t->http;
    if (!t->in_txn) {
        seterr(t, "resync mark removed outside a transaction");
        return -1;
    }
    int i = strv_find(h->work, h->nwork, source_table);
    if (i >= 0) {
        free(h->work[i]);
        h->work[i] = h->work[--h->nwork];
        h->work_dirty = 1;
    }
    return 0;
}

static int http_resync_marks(struct target *t, char ***tables, int *n)
{
    struct http_target *h = t->http;
    *tables = NULL;
    *n = 0;
    struct zpos pos;
    if (http_read_checkpoint(t, &pos, NULL) < 0) return -1;
    if (strv_copy(tables, n, h->marks, h->nmarks) != 0) {
        seterr(t, "out of memory");
        return -1;
    }
    return 0;
}

/* ---- zetl check ------------------------------------------------------------------------------------------ */

static int loopback_host(const char *url)
{
    const char *a = strstr(url, "://");
    a = a ? a + 3 : url;
    size_t n = strcspn(a, "/?#");
    const char *at = memchr(a, '@', n);
    if (at) {
        n -= (size_t)(at + 1 - a);
        a = at + 1;
    }
    return (n >= 9 && strncmp(a, "localhost", 9) == 0 && (n == 9 || a[9] == ':')) ||
           strncmp(a, "127.", 4) == 0 || strncmp(a, "[::1]", 5) == 0;
}

static int http_preflight(const struct config_integration *ci, const char *state_dir,
                          struct pf_report *r, char *err, size_t errlen)
{
    pthread_once(&curl_once, curl_init);
    struct target t = {.kind = TARGET_HTTP, .integration = (char *)ci->name};   /* sends no event */
    if (curl_init_rc != CURLE_OK || !(t.http = h_new(ci, state_dir))) {
        snprintf(err, errlen, "target %s: cannot start libcurl", ci->name);
        return -1;
    }
    struct http_target *h = t.http;
    config_redact(h->url, t.desc, sizeof t.desc);
    snprintf(r->subject, sizeof r->subject, "target %.40s: http %.100s", ci->name, t.desc);

    long status = 0;
    CURLcode cc;
    if (probe(h, &status, &cc) != 0) {
        seterr(&t, "%s", curl_text(h, cc));
        pf_add(r, PF_FAIL, "endpoint", "answers HTTP", curl_fix(cc), "", "%s", t.err);
    } else if (status == 401 || status == 403 || status == 404) {
        pf_add(r, PF_WARN, "endpoint", "answers HTTP",
               status == 404 ? "check the path in the target url" : "check the credentials in the target headers or url",
               "", "HTTP %ld to a HEAD request with the configured headers", status);
    } else if (status >= 500) {
        pf_add(r, PF_WARN, "endpoint", "answers HTTP",
               "the endpoint reports an error now; zetl retries deliveries until it answers 2xx", "",
               "HTTP %ld to a HEAD request", status);
    } else {
        pf_add(r, PF_PASS, "endpoint", "answers HTTP", "", "", "HTTP %ld to a HEAD request", status);
    }
    if (strncmp(h->url, "https://", 8) == 0)
        pf_add(r, PF_PASS, "tls", "https, certificate verified", "", "", "https");
    else if (loopback_host(h->url))
        pf_add(r, PF_PASS, "tls", "https off loopback", "", "", "plain http on loopback");
    else
        pf_add(r, PF_WARN, "tls", "https", "use an https:// url: events and headers travel unencrypted", "",
               "plain http to a remote host");

    struct zpos pos;
    int found = http_read_checkpoint(&t, &pos, NULL);
    char p[POS_MAX];
    if (found < 0) {
        pf_add(r, PF_FAIL, "checkpoint", "readable", "", "", "%s", t.err);
    } else if (access(h->state_dir, W_OK) != 0) {
        pf_add(r, PF_FAIL, "checkpoint", "state directory writable",
               "create the state directory or give zetl write access to it", "",
               "%s: %s", h->state_dir, strerror(errno));
    } else if (found == 0) {
        pf_add(r, PF_PASS, "checkpoint", "readable", "", "",
               "none yet: the first run sends every selected table as op r events");
    } else {
        zpos_format(&pos, p, sizeof p);
        pf_add(r, PF_PASS, "checkpoint", "readable", "", "", "at %s (%s)", p, h->ckpt_path);
    }
    h_free(h);
    return 0;
}

/* ---- the driver's table ---------------------------------------------------------------------------------------- */

/* NULL: no such thing for an event stream (target_ops.h gives the answers):
 * no connection to break or reap, no tables or DDL to send (every event
 * names its columns), no raw load, no row counts; the checkpoint's owner
 * lives in the state directory, not in a checkpoint row. */
const struct target_ops target_http_ops = {
    .name = "http",
    .connect = http_connect,
    .close = http_close,
    .begin = http_begin,
    .apply = http_apply,
    .commit = http_commit,
    .rollback = http_rollback,
    .read_checkpoint = http_read_checkpoint,
    .discard_checkpoint = http_discard_checkpoint,
    .txn_begin = http_txn_begin,
    .add = http_add,
    .resync_mark = http_resync_mark,
    .resync_unmark = http_resync_unmark,
    .resync_marks = http_resync_marks,
    .truncate = http_truncate,
    .preflight = http_preflight,
};

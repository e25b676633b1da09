/*
 * http_sink — a small real HTTP/1.1 server on loopback that records every
 * request it receives (tests only: the http target, webhook alerts).
 *
 *   http_sink --dir DIR [--port PORT]
 *
 * Listens on 127.0.0.1:PORT (default 0: a free port chosen by the kernel),
 * with SO_REUSEADDR so a test can stop it and start it again on the same port.
 * Once listening it writes the bound port number to DIR/port (DIR/port.tmp,
 * then rename); a stale DIR/port is removed at start-up and at exit, so
 * "wait until DIR/port exists" works across restarts. Runs until SIGTERM or
 * SIGINT, then exits 0.
 *
 * Each complete request is appended as ONE JSON line to DIR/requests.jsonl
 * (a single write(2) on an O_APPEND descriptor, so a reader never sees half a
 * line), when the request is complete and before it is answered:
 *   {"seq":N,"method":"POST","path":"/hook?x=1","headers":{"content-type":"..."},"body":"..."}
 * seq counts from 1 and continues the lines already in the file after a
 * restart. Header names are lower-cased; a repeated header is joined with
 * ", ". The body is a JSON string: valid UTF-8 passes through, quotes,
 * backslashes and control characters are escaped, and a byte that is not
 * valid UTF-8 is written as \u00XX. Bodies up to 256 MB are accepted
 * (Content-Length or chunked); a larger one is answered 413 and not recorded.
 *
 * The response: when DIR/respond exists, its first line is "CODE" or
 * "sleep SECONDS CODE" (wait SECONDS, fractions allowed, before answering —
 * for client timeouts; other connections are served meanwhile) and the rest of
 * the file is the response body, byte for byte. The file is read once per
 * request, so a test can change the answer between requests. Otherwise the
 * answer is 200 with body "ok". HEAD answers carry no body.
 *
 * Supports Expect: 100-continue, keep-alive (HTTP/1.1 default; "Connection:
 * close" and HTTP/1.0 close after the answer) and pipelined requests.
 * Single-threaded: one poll(2) loop over the listener and every connection.
 * Exit status: 0 after SIGTERM/SIGINT, 1 on a start-up or file error, 2 on usage.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "runtime/base/utf8.h"

#define MAX_HEADER_BYTES (1u << 20)          /* request line + headers */
#define MAX_BODY_BYTES   (256ull << 20)

static volatile sig_atomic_t g_stop;

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

/* ---- growable byte buffer ------------------------------------------------ */

struct buf {
    char  *p;
    size_t len, cap;
};

static void buf_reserve(struct buf *b, size_t more)
{
    if (b->len + more <= b->cap) return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + more) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) {
        fprintf(stderr, "http_sink: out of memory (%zu bytes)\n", cap);
        exit(1);
    }
    b->p = p;
    b->cap = cap;
}

static void buf_add(struct buf *b, const void *data, size_t n)
{
    buf_reserve(b, n + 1);
    memcpy(b->p + b->len, data, n);
    b->len += n;
    b->p[b->len] = '\0';
}

static void buf_str(struct buf *b, const char *s) { buf_add(b, s, strlen(s)); }

static void buf_printf(struct buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    buf_reserve(b, (size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static void buf_free(struct buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Drops the first n bytes. */
static void buf_consume(struct buf *b, size_t n)
{
    if (n >= b->len) {
        b->len = 0;
    } else {
        memmove(b->p, b->p + n, b->len - n);
        b->len -= n;
    }
    if (b->p) b->p[b->len] = '\0';
}

/* Appends s[0..n) as a JSON string, quotes included. */
static void buf_json_str(struct buf *b, const char *s, size_t n)
{
    const unsigned char *u = (const unsigned char *)s;
    buf_reserve(b, n + 3);
    buf_add(b, "\"", 1);
    size_t i = 0;
    while (i < n) {
        unsigned char c = u[i];
        char esc[8];
        if (c == '"' || c == '\\') {
            esc[0] = '\\'; esc[1] = (char)c;
            buf_add(b, esc, 2);
            i++;
        } else if (c == '\n') { buf_add(b, "\\n", 2); i++; }
        else if (c == '\r') { buf_add(b, "\\r", 2); i++; }
        else if (c == '\t') { buf_add(b, "\\t", 2); i++; }
        else if (c < 0x20 || c == 0x7f) {
            snprintf(esc, sizeof esc, "\\u%04x", c);
            buf_add(b, esc, 6);
            i++;
        } else {
            size_t k = zutf8_len(u + i, n - i);
            if (k == 0) {
                snprintf(esc, sizeof esc, "\\u%04x", c);
                buf_add(b, esc, 6);
                i++;
            } else {
                /* copy the run of plain bytes in one go */
                size_t j = i + k;
                while (j < n && u[j] >= 0x20 && u[j] < 0x80 && u[j] != '"' && u[j] != '\\' && u[j] != 0x7f)
                    j++;
                buf_add(b, s + i, j - i);
                i = j;
            }
        }
    }
    buf_add(b, "\"", 1);
}

/* ---- clock ------------------------------------------------------------------ */

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- one connection -------------------------------------------------------- */

enum chunk_state { CH_SIZE, CH_DATA, CH_DATA_END, CH_TRAILER, CH_DONE };

struct conn {
    int        fd;
    struct buf in;             /* bytes received, not yet consumed */
    struct buf out;            /* bytes to send */
    /* the request being read; hdr_len == 0 until its headers are complete */
    size_t     hdr_len;        /* request line + headers + blank line */
    char       method[32];
    struct buf path;
    struct buf headers;        /* the JSON object's members, without braces */
    int        chunked;
    uint64_t   clen;           /* Content-Length (not chunked) */
    int        expect100, sent100;
    int        close_after;    /* Connection: close or HTTP/1.0 */
    /* chunked decoding */
    size_t     cur;            /* parse cursor in in */
    enum chunk_state ch;
    uint64_t   ch_left;        /* bytes left in the current chunk */
    struct buf body;           /* the decoded chunked body */
    /* the answer */
    int        answering;      /* a complete request awaits its response */
    int64_t    answer_at;      /* monotonic ms; the answer waits in pending */
    struct buf pending;
    int        closing;        /* close once out is sent */
};

struct sink {
    const char *dir;
    int         log_fd;
    long long   seq;
    struct conn **conns;
    size_t      nconns;
};

static void conn_reset_request(struct conn *c)
{
    c->hdr_len = 0;
    c->method[0] = '\0';
    c->path.len = 0;
    c->headers.len = 0;
    c->chunked = 0;
    c->clen = 0;
    c->expect100 = c->sent100 = 0;
    c->cur = 0;
    c->ch = CH_SIZE;
    c->ch_left = 0;
    c->body.len = 0;
}

static void conn_free(struct conn *c)
{
    close(c->fd);
    buf_free(&c->in);
    buf_free(&c->out);
    buf_free(&c->path);
    buf_free(&c->headers);
    buf_free(&c->body);
    buf_free(&c->pending);
    free(c);
}

static const char *reason_phrase(int code)
{
    switch (code) {
    case 200: return "OK";
    case 201: return "Created";
    case 202: return "Accepted";
    case 204: return "No Content";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 408: return "Request Timeout";
    case 409: return "Conflict";
    case 413: return "Content Too Large";
    case 422: return "Unprocessable Content";
    case 429: return "Too Many Requests";
    case 431: return "Request Header Fields Too Large";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    case 504: return "Gateway Timeout";
    default:  return "Status";
    }
}

/* Formats a full response into dst. */
static void format_response(struct buf *dst, int code, const char *body, size_t n,
                            int head, int close_conn)
{
    int no_body = head || code == 204 || code == 304 || (code >= 100 && code < 200);
    buf_printf(dst, "HTTP/1.1 %d %s\r\nContent-Type: text/plain\r\n", code, reason_phrase(code));
    if (code != 204 && !(code >= 100 && code < 200))
        buf_printf(dst, "Content-Length: %zu\r\n", n);
    if (close_conn) buf_str(dst, "Connection: close\r\n");
    buf_str(dst, "\r\n");
    if (!no_body) buf_add(dst, body, n);
}

/* An error answer for a request we cannot read; the connection then closes. */
static void conn_fail(struct conn *c, int code, const char *why)
{
    fprintf(stderr, "http_sink: answering %d: %s\n", code, why);
    format_response(&c->out, code, why, strlen(why), 0, 1);
    c->closing = 1;
    c->answering = 1;
}

/* Reads DIR/respond: code, delay and body of the answer. */
static void read_respond(struct sink *s, int *code, double *delay, struct buf *body)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/respond", s->dir);
    *code = 200;
    *delay = 0;
    body->len = 0;
    FILE *f = fopen(path, "rb");
    if (!f) {
        buf_str(body, "ok");
        return;
    }
    struct buf all = {0};
    char tmp[8192];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) buf_add(&all, tmp, n);
    fclose(f);
    buf_add(&all, "", 0);
    char *nl = memchr(all.p, '\n', all.len);
    size_t first = nl ? (size_t)(nl - all.p) : all.len;
    char line[256];
    size_t ll = first < sizeof line - 1 ? first : sizeof line - 1;
    memcpy(line, all.p, ll);
    line[ll] = '\0';
    if (ll && line[ll - 1] == '\r') line[ll - 1] = '\0';
    double secs = 0;
    int cd = 0;
    char extra;
    if (sscanf(line, "sleep %lf %d %c", &secs, &cd, &extra) == 2 && secs >= 0) {
        *delay = secs;
    } else if (sscanf(line, "%d %c", &cd, &extra) != 1) {
        cd = 0;
    }
    if (cd < 100 || cd > 599) {
        fprintf(stderr, "http_sink: %s: first line \"%s\" is not \"CODE\" or \"sleep SECONDS CODE\"; answering 500\n",
                path, line);
        *code = 500;
        *delay = 0;
        buf_str(body, "http_sink: bad respond file");
        buf_free(&all);
        return;
    }
    *code = cd;
    if (nl) buf_add(body, nl + 1, all.len - first - 1);
    buf_free(&all);
}

/* Appends the request as one JSON line, with a single write. */
static void log_request(struct sink *s, struct conn *c, const char *body, size_t blen)
{
    struct buf line = {0};
    buf_reserve(&line, blen + blen / 8 + c->headers.len + c->path.len + 256);
    buf_printf(&line, "{\"seq\":%lld,\"method\":", ++s->seq);
    buf_json_str(&line, c->method, strlen(c->method));
    buf_str(&line, ",\"path\":");
    buf_json_str(&line, c->path.p ? c->path.p : "", c->path.len);
    buf_str(&line, ",\"headers\":{");
    if (c->headers.len) buf_add(&line, c->headers.p, c->headers.len);
    buf_str(&line, "},\"body\":");
    buf_json_str(&line, body, blen);
    buf_str(&line, "}\n");
    size_t off = 0;
    while (off < line.len) {
        ssize_t w = write(s->log_fd, line.p + off, line.len - off);
        if (w < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "http_sink: writing %s/requests.jsonl: %s\n", s->dir, strerror(errno));
            exit(1);
        }
        off += (size_t)w;
    }
    buf_free(&line);
}

/* Adds one header to the JSON members, joining a repeated name with ", ". */
static void add_header(struct conn *c, const char *name, size_t nlen, const char *val, size_t vlen)
{
    struct buf key = {0};
    buf_json_str(&key, name, nlen);
    buf_add(&key, ":", 1);
    /* a repeated header: find "name": and extend its value */
    char *at = NULL;
    if (c->headers.len) {
        char *p = c->headers.p;
        while ((p = strstr(p, key.p)) != NULL) {
            if (p == c->headers.p || p[-1] == ',') { at = p; break; }
            p++;
        }
    }
    if (at) {
        /* rebuild: old value + ", " + new value */
        char *vend = at + key.len + 1;        /* after the value's opening quote */
        while (*vend != '"') vend += (*vend == '\\') ? 2 : 1;
        struct buf add = {0};
        buf_str(&add, ", ");
        buf_add(&add, val, vlen);
        struct buf enc = {0};
        buf_json_str(&enc, add.p, add.len);
        size_t pos = (size_t)(vend - c->headers.p);
        /* insert enc without its quotes before the closing quote */
        buf_reserve(&c->headers, enc.len);
        memmove(c->headers.p + pos + enc.len - 2, c->headers.p + pos, c->headers.len - pos + 1);
        memcpy(c->headers.p + pos, enc.p + 1, enc.len - 2);
        c->headers.len += enc.len - 2;
        buf_free(&add);
        buf_free(&enc);
    } else {
        if (c->headers.len) buf_add(&c->headers, ",", 1);
        buf_add(&c->headers, key.p, key.len);
        buf_json_str(&c->headers, val, vlen);
    }
    buf_free(&key);
}

static int ieq(const char *a, size_t alen, const char *b)
{
    return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

static int has_token(const char *v, size_t n, const char *tok)
{
    size_t tl = strlen(tok);
    for (size_t i = 0; i + tl <= n; i++)
        if (strncasecmp(v + i, tok, tl) == 0 &&
            (i == 0 || v[i - 1] == ',' || v[i - 1] == ' ') &&
            (i + tl == n || v[i + tl] == ',' || v[i + tl] == ' '))
            return 1;
    return 0;
}

/* Parses the request line and headers in c->in[0..hdr_end). 0 ok, -1 bad. */
static int parse_head(struct conn *c, size_t hdr_end)
{
    char *p = c->in.p, *end = c->in.p + hdr_end;
    char *eol = memchr(p, '\n', (size_t)(end - p));
    if (!eol) return -1;
    size_t ll = (size_t)(eol - p);
    if (ll && p[ll - 1] == '\r') ll--;
    char *sp1 = memchr(p, ' ', ll);
    if (!sp1 || sp1 == p || (size_t)(sp1 - p) >= sizeof c->method) return -1;
    char *sp2 = memchr(sp1 + 1, ' ', ll - (size_t)(sp1 + 1 - p));
    if (!sp2 || sp2 == sp1 + 1) return -1;
    memcpy(c->method, p, (size_t)(sp1 - p));
    c->method[sp1 - p] = '\0';
    buf_add(&c->path, sp1 + 1, (size_t)(sp2 - sp1 - 1));
    const char *ver = sp2 + 1;
    size_t vl = ll - (size_t)(ver - p);
    if (ieq(ver, vl, "HTTP/1.0")) c->close_after = 1;
    else if (!ieq(ver, vl, "HTTP/1.1")) return -1;
    int have_clen = 0;
    for (p = eol + 1; p < end; p = eol + 1) {
        eol = memchr(p, '\n', (size_t)(end - p));
        if (!eol) break;
        ll = (size_t)(eol - p);
        if (ll && p[ll - 1] == '\r') ll--;
        if (ll == 0) break;
        char *colon = memchr(p, ':', ll);
        if (!colon || colon == p) return -1;
        size_t nlen = (size_t)(colon - p);
        char name[256];
        if (nlen >= sizeof name) return -1;
        for (size_t i = 0; i < nlen; i++) name[i] = (char)tolower((unsigned char)p[i]);
        name[nlen] = '\0';
        const char *v = colon + 1;
        size_t vlen = ll - nlen - 1;
        while (vlen && (*v == ' ' || *v == '\t')) { v++; vlen--; }
        while (vlen && (v[vlen - 1] == ' ' || v[vlen - 1] == '\t')) vlen--;
        add_header(c, name, nlen, v, vlen);
        if (strcmp(name, "content-length") == 0) {
            char num[32];
            if (vlen == 0 || vlen >= sizeof num) return -1;
            memcpy(num, v, vlen);
            num[vlen] = '\0';
            char *e;
            errno = 0;
            unsigned long long n = strtoull(num, &e, 10);
            if (*e || errno || (have_clen && n != c->clen)) return -1;
            c->clen = n;
            have_clen = 1;
        } else if (strcmp(name, "transfer-encoding") == 0) {
            if (has_token(v, vlen, "chunked")) c->chunked = 1;
        } else if (strcmp(name, "expect") == 0) {
            if (ieq(v, vlen, "100-continue")) c->expect100 = 1;
        } else if (strcmp(name, "connection") == 0) {
            if (has_token(v, vlen, "close")) c->close_after = 1;
        }
    }
    return 0;
}

/*
 * Advances the chunked decoder over c->in from c->cur. Returns 1 when the
 * body is complete, 0 when more bytes are needed, -1 on a malformed body.
 */
static int chunk_step(struct conn *c)
{
    for (;;) {
        char *p = c->in.p + c->cur;
        size_t avail = c->in.len - c->cur;
        switch (c->ch) {
        case CH_SIZE: {
            char *eol = memchr(p, '\n', avail);
            if (!eol) return avail > 1024 ? -1 : 0;
            char *e;
            errno = 0;
            unsigned long long n = strtoull(p, &e, 16);
            if (e == p || errno || (*e != ';' && *e != '\r' && *e != '\n' && *e != ' ')) return -1;
            if (c->body.len + n > MAX_BODY_BYTES) return -2;
            c->cur += (size_t)(eol - p) + 1;
            c->ch_left = n;
            c->ch = n ? CH_DATA : CH_TRAILER;
            break;
        }
        case CH_DATA: {
            if (!avail) return 0;
            size_t take = avail < c->ch_left ? avail : (size_t)c->ch_left;
            buf_add(&c->body, p, take);
            c->cur += take;
            c->ch_left -= take;
            if (c->ch_left == 0) c->ch = CH_DATA_END;
            break;
        }
        case CH_DATA_END:
            if (avail >= 1 && p[0] == '\n') { c->cur += 1; c->ch = CH_SIZE; break; }
            if (avail < 2) return 0;
            if (p[0] != '\r' || p[1] != '\n') return -1;
            c->cur += 2;
            c->ch = CH_SIZE;
            break;
        case CH_TRAILER: {
            char *eol = memchr(p, '\n', avail);
            if (!eol) return avail > MAX_HEADER_BYTES ? -1 : 0;
            size_t ll = (size_t)(eol - p);
            c->cur += ll + 1;
            if (ll == 0 || (ll == 1 && p[0] == '\r')) { c->ch = CH_DONE; return 1; }
            break;
        }
        case CH_DONE:
            return 1;
        }
    }
}

/* A complete request: record it and prepare (perhaps delay) the answer. */
static void finish_request(struct sink *s, struct conn *c, const char *body, size_t blen, size_t consumed)
{
    log_request(s, c, body, blen);
    int code;
    double delay;
    struct buf rbody = {0};
    read_respond(s, &code, &delay, &rbody);
    c->pending.len = 0;
    format_response(&c->pending, code, rbody.p ? rbody.p : "", rbody.len,
                    strcmp(c->method, "HEAD") == 0, c->close_after);
    buf_free(&rbody);
    c->answering = 1;
    c->answer_at = now_ms() + (int64_t)(delay * 1000.0);
    if (c->close_after) c->closing = 1;
    buf_consume(&c->in, consumed);
    conn_reset_request(c);
}

/* Moves a due answer to the output buffer. */
static void release_answer(struct conn *c, int64_t now)
{
    if (c->answering && c->pending.len && now >= c->answer_at) {
        buf_add(&c->out, c->pending.p, c->pending.len);
        c->pending.len = 0;
    }
}

/* Parses what has arrived; stops while an answer is outstanding. */
static void conn_process(struct sink *s, struct conn *c)
{
    while (!c->answering && !c->closing) {
        if (!c->hdr_len) {
            char *e = c->in.len ? memmem(c->in.p, c->in.len, "\r\n\r\n", 4) : NULL;
            size_t hl;
            if (e) {
                hl = (size_t)(e - c->in.p) + 4;
            } else {
                char *e2 = c->in.len ? memmem(c->in.p, c->in.len, "\n\n", 2) : NULL;
                if (!e2) {
                    if (c->in.len > MAX_HEADER_BYTES) conn_fail(c, 431, "request headers too large");
                    return;
                }
                hl = (size_t)(e2 - c->in.p) + 2;
            }
            if (parse_head(c, hl) != 0) {
                conn_fail(c, 400, "malformed request");
                return;
            }
            if (!c->chunked && c->clen > MAX_BODY_BYTES) {
                conn_fail(c, 413, "request body over 256 MB");
                return;
            }
            c->hdr_len = hl;
            c->cur = hl;
        }
        int complete;
        if (c->chunked) {
            complete = chunk_step(c);
            if (complete == -2) { conn_fail(c, 413, "request body over 256 MB"); return; }
            if (complete < 0) { conn_fail(c, 400, "malformed chunked body"); return; }
        } else {
            complete = c->in.len - c->hdr_len >= c->clen;
        }
        if (!complete) {
            if (c->expect100 && !c->sent100) {
                buf_str(&c->out, "HTTP/1.1 100 Continue\r\n\r\n");
                c->sent100 = 1;
            }
            return;
        }
        if (c->chunked) {
            finish_request(s, c, c->body.p ? c->body.p : "", c->body.len, c->cur);
        } else {
            /* finish_request consumes the input; copy nothing, log first */
            finish_request(s, c, c->in.p + c->hdr_len, (size_t)c->clen, c->hdr_len + (size_t)c->clen);
        }
    }
}

/* Sends what is queued. Returns -1 when the connection should go. */
static int conn_flush(struct conn *c)
{
    while (c->out.len) {
        ssize_t w = send(c->fd, c->out.p, c->out.len, MSG_NOSIGNAL);
        if (w < 0) {
            if (errno == EINTR) continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) return 0;
            return -1;
        }
        buf_consume(&c->out, (size_t)w);
    }
    if (c->answering && !c->pending.len) {
        /* the answer is fully sent */
        c->answering = 0;
        if (c->closing) return -1;
    }
    return 0;
}

/* ---- start-up ------------------------------------------------------------------ */

static long long count_lines(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return 0;
    long long n = 0;
    int ch;
    while ((ch = getc(f)) != EOF)
        if (ch == '\n') n++;
    fclose(f);
    return n;
}

static int write_port_file(const char *dir, int port)
{
    char tmp[4096], dst[4096];
    snprintf(tmp, sizeof tmp, "%s/port.tmp", dir);
    snprintf(dst, sizeof dst, "%s/port", dir);
    FILE *f = fopen(tmp, "w");
    if (!f) return -1;
    fprintf(f, "%d\n", port);
    if (fclose(f) != 0) return -1;
    return rename(tmp, dst);
}

static void usage(void)
{
    fprintf(stderr, "usage: http_sink --dir DIR [--port PORT]\n");
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    long port = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--dir") == 0 && i + 1 < argc) {
            dir = argv[++i];
        } else if (strcmp(argv[i], "--port") == 0 && i + 1 < argc) {
            char *e;
            port = strtol(argv[++i], &e, 10);
            if (*e || port < 0 || port > 65535) {
                fprintf(stderr, "http_sink: --port %s is not a port number (0-65535)\n", argv[i]);
                return 2;
            }
        } else {
            usage();
            return 2;
        }
    }
    if (!dir) {
        usage();
        return 2;
    }

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    char path[4096];
    snprintf(path, sizeof path, "%s/port", dir);
    unlink(path);

    struct sink s = {.dir = dir};
    snprintf(path, sizeof path, "%s/requests.jsonl", dir);
    s.seq = count_lines(path);
    s.log_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (s.log_fd < 0) {
        fprintf(stderr, "http_sink: cannot open %s: %s\n", path, strerror(errno));
        return 1;
    }

    int lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        fprintf(stderr, "http_sink: socket: %s\n", strerror(errno));
        return 1;
    }
    int one = 1;
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in addr;
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((uint16_t)port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0) {
        fprintf(stderr, "http_sink: bind 127.0.0.1:%ld: %s\n", port, strerror(errno));
        return 1;
    }
    if (listen(lfd, 64) != 0) {
        fprintf(stderr, "http_sink: listen: %s\n", strerror(errno));
        return 1;
    }
    socklen_t alen = sizeof addr;
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    if (write_port_file(dir, ntohs(addr.sin_port)) != 0) {
        fprintf(stderr, "http_sink: cannot write %s/port: %s\n", dir, strerror(errno));
        return 1;
    }

    struct pollfd *pfds = NULL;
    size_t pcap = 0;
    while (!g_stop) {
        if (pcap < s.nconns + 1) {
            pcap = (s.nconns + 1) * 2;
            pfds = realloc(pfds, pcap * sizeof *pfds);
            if (!pfds) return 1;
        }
        int64_t now = now_ms();
        int timeout = 200;
        pfds[0] = (struct pollfd){.fd = lfd, .events = POLLIN};
        for (size_t i = 0; i < s.nconns; i++) {
            struct conn *c = s.conns[i];
            release_answer(c, now);
            if (c->answering && c->pending.len) {
                int64_t d = c->answer_at - now;
                if (d < timeout) timeout = d < 0 ? 0 : (int)d;
            }
            /* a closing connection is not read again: its peer may have hung up */
            pfds[i + 1] = (struct pollfd){.fd = c->fd,
                                          .events = (short)((c->closing ? 0 : POLLIN) | (c->out.len ? POLLOUT : 0))};
        }
        int n = poll(pfds, s.nconns + 1, timeout);
        if (n < 0) {
            if (errno == EINTR) continue;
            fprintf(stderr, "http_sink: poll: %s\n", strerror(errno));
            return 1;
        }
        now = now_ms();
        size_t nc = s.nconns;          /* connections accepted below are polled next round */
        for (size_t i = 0; i < nc; i++) {
            struct conn *c = s.conns[i];
            int drop = 0, eof = 0;
            short re = pfds[i + 1].revents;
            if (re & (POLLIN | POLLHUP | POLLERR)) {
                char tmp[65536];
                for (;;) {
                    ssize_t r = recv(c->fd, tmp, sizeof tmp, 0);
                    if (r > 0) {
                        buf_add(&c->in, tmp, (size_t)r);
                        if ((size_t)r < sizeof tmp) break;
                        continue;
                    }
                    if (r < 0 && errno == EINTR) continue;
                    if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) break;
                    if (r == 0) eof = 1;   /* the client closed (or half-closed) */
                    else drop = 1;
                    break;
                }
            }
            if (!drop) {
                conn_process(&s, c);
                if (eof) {
                    /* answer what was complete, then close */
                    if (c->answering) c->closing = 1;
                    else drop = 1;
                }
            }
            if (!drop) {
                release_answer(c, now);
                if (conn_flush(c) != 0) drop = 1;
                else if (!c->answering) conn_process(&s, c);   /* a pipelined request */
                release_answer(c, now);
                if (!drop && conn_flush(c) != 0) drop = 1;
            }
            if (drop) {
                conn_free(c);
                s.conns[i] = NULL;
            }
        }
        /* compact */
        size_t k = 0;
        for (size_t i = 0; i < s.nconns; i++)
            if (s.conns[i]) s.conns[k++] = s.conns[i];
        s.nconns = k;
        if (pfds[0].revents & POLLIN) {
            for (;;) {
                int fd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
                if (fd < 0) break;
                struct conn *c = calloc(1, sizeof *c);
                struct conn **nv = realloc(s.conns, (s.nconns + 1) * sizeof *nv);
                if (!c || !nv) {
                    fprintf(stderr, "http_sink: out of memory\n");
                    return 1;
                }
                s.conns = nv;
                c->fd = fd;
                conn_reset_request(c);
                s.conns[s.nconns++] = c;
            }
        }
    }
    for (size_t i = 0; i < s.nconns; i++) conn_free(s.conns[i]);
    free(s.conns);
    free(pfds);
    close(lfd);
    close(s.log_fd);
    snprintf(path, sizeof path, "%s/port", dir);
    unlink(path);
    return 0;
}

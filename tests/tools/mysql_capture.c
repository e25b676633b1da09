/*
 * mysql_capture — a loopback listener that speaks just enough of the MySQL
 * client/server protocol to record the binlog dump command a client sends.
 *
 *   mysql_capture PORTFILE OUTFILE [VERSION]
 *
 * Listens on 127.0.0.1, on a free port it writes to PORTFILE (written to a
 * temporary name, then renamed, so a reader never sees half a number), and
 * serves ONE client:
 *   - Handshake v10 (protocol documentation, connection phase): server
 *     version VERSION (default "8.0.99-zetl-capture": a MySQL, not a
 *     MariaDB), no TLS (CLIENT_SSL not offered), auth plugin
 *     mysql_native_password;
 *   - any HandshakeResponse41 is answered with OK: the login is not checked;
 *   - a COM_QUERY is recorded and answered: SET ... with OK, SHOW BINARY LOGS
 *     with an empty result set (no binlog file exists here), the binlog
 *     status with one row (binlog.000042, 1234, '', '', a GTID set) where
 *     that MySQL version has the statement — SHOW MASTER STATUS before 8.4,
 *     SHOW BINARY LOG STATUS from 8.2, SELECT @@GLOBAL.gtid_executed with
 *     one row (…:1-9) — anything else with ERR 1064; so
 *     zetl's replica (runtime/mysql/replica.c) gets as far as its dump
 *     command, as against a MySQL server that purged its files;
 *   - COM_BINLOG_DUMP_GTID (0x1e) or COM_BINLOG_DUMP (0x12) is recorded, as
 *     the hex of the whole packet (4-byte header, command byte, payload) and,
 *     for 0x1e, its fields decoded, then answered with ERR 1236 (as a MySQL
 *     server that has no such binlog would), and the listener exits 0.
 * OUTFILE lines:
 *   QUERY <sql>
 *   PACKET <hex>
 *   DUMP_GTID flags=0x0004 server_id=4242 file='' pos=4 gtid=<set>
 *   DUMP
 *   COMMAND 0xNN
 * It is a recorder for byte-level tests of what zetl sends, not a server:
 * nothing is replicated. Exit 1 (with a line on stderr) when no dump command
 * arrives within 60 s or the client goes away first — except after a binlog
 * status was answered: then the client's COM_QUIT ends it with exit 0.
 */
#include "runtime/mysql/dump_gtid.h"
#include "runtime/mysql/gtid.h"
#include "runtime/base/wr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define DEADLINE_S 60

static time_t deadline;
static FILE *out;
static const char *version = "8.0.99-zetl-capture";

/* Read (or write) exactly n bytes before the deadline. 0 ok, -1 EOF/error/timeout. */
static int xfer(int fd, uint8_t *p, size_t n, int writing)
{
    while (n) {
        int left = (int)(deadline - time(NULL));
        struct pollfd pf = {.fd = fd, .events = writing ? POLLOUT : POLLIN};
        if (left <= 0 || poll(&pf, 1, left * 1000) <= 0) return -1;
        ssize_t k = writing ? write(fd, p, n) : read(fd, p, n);
        if (k <= 0) {
            if (k < 0 && errno == EINTR) continue;
            return -1;
        }
        p += k;
        n -= (size_t)k;
    }
    return 0;
}
static int read_full(int fd, uint8_t *p, size_t n) { return xfer(fd, p, n, 0); }
static int write_full(int fd, const uint8_t *p, size_t n) { return xfer(fd, (uint8_t *)p, n, 1); }

/* One packet: payload_length u24 | sequence_id u8 | payload. */
static int send_packet(int fd, uint8_t seq, const uint8_t *payload, size_t len)
{
    uint8_t hdr[4];
    struct wr w;
    wr_init(&w, hdr, sizeof hdr);
    wr_u24le(&w, (uint32_t)len);
    wr_u8(&w, seq);
    return write_full(fd, hdr, sizeof hdr) || write_full(fd, payload, len) ? -1 : 0;
}

/* Reads one packet into *buf (malloc'd, header included); returns its total length or -1. */
static long recv_packet(int fd, uint8_t **buf)
{
    uint8_t hdr[4];
    *buf = NULL;
    if (read_full(fd, hdr, 4)) return -1;
    size_t len = (size_t)hdr[0] | (size_t)hdr[1] << 8 | (size_t)hdr[2] << 16;
    uint8_t *b = malloc(len + 4);
    if (!b) return -1;
    memcpy(b, hdr, 4);
    if (read_full(fd, b + 4, len)) { free(b); return -1; }
    *buf = b;
    return (long)(len + 4);
}

/* ERR packet: 0xff | code u16 | '#' | sqlstate[5] | message. */
static int send_err(int fd, uint8_t seq, uint16_t code, const char *state, const char *msg)
{
    uint8_t p[256];
    size_t mlen = strlen(msg);
    struct wr w;
    wr_init(&w, p, 1 + 2 + 1 + 5 + mlen);
    wr_u8(&w, 0xff);
    wr_u16le(&w, code);
    wr_u8(&w, '#');
    wr_bytes(&w, state, 5);
    wr_bytes(&w, msg, mlen);
    return wr_end(&w) ? -1 : send_packet(fd, seq, p, w.pos);
}

/*
 * Handshake v10: protocol 10 | server version NUL | thread id u32 |
 * auth data part 1 [8] | 0x00 | capabilities low u16 | charset u8 |
 * status u16 | capabilities high u16 | auth data length u8 | 10 x 0x00 |
 * auth data part 2 [13, last NUL] | auth plugin name NUL
 */
static int send_handshake(int fd)
{
    static const char plugin[] = "mysql_native_password";
    size_t vlen = strlen(version) + 1;
    static const uint8_t salt[21] = "zetlcapture_salt_20b";
    /* LONG_PASSWORD LONG_FLAG CONNECT_WITH_DB PROTOCOL_41 TRANSACTIONS
     * SECURE_CONNECTION MULTI_STATEMENTS MULTI_RESULTS PLUGIN_AUTH; no SSL. */
    uint32_t caps = 0x1u | 0x4u | 0x8u | 0x200u | 0x2000u | 0x8000u | 0x10000u | 0x20000u | 0x80000u;
    uint8_t p[192];
    uint8_t zero[10] = {0};
    struct wr w;
    if (vlen > 64) return -1;
    wr_init(&w, p, 1 + vlen + 4 + 8 + 1 + 2 + 1 + 2 + 2 + 1 + 10 + 13 + sizeof plugin);
    wr_u8(&w, 10);
    wr_bytes(&w, version, vlen);
    wr_u32le(&w, 1);
    wr_bytes(&w, salt, 8);
    wr_u8(&w, 0);
    wr_u16le(&w, (uint16_t)caps);
    wr_u8(&w, 45);                              /* utf8mb4_general_ci */
    wr_u16le(&w, 0x0002);                       /* SERVER_STATUS_AUTOCOMMIT */
    wr_u16le(&w, (uint16_t)(caps >> 16));
    wr_u8(&w, 21);
    wr_bytes(&w, zero, 10);
    wr_bytes(&w, salt + 8, 12);
    wr_u8(&w, 0);
    wr_bytes(&w, plugin, sizeof plugin);
    return wr_end(&w) ? -1 : send_packet(fd, 0, p, w.pos);
}

static void record_dump(const uint8_t *pkt, long len)
{
    fprintf(out, "PACKET ");
    for (long i = 0; i < len; i++) fprintf(out, "%02x", pkt[i]);
    fprintf(out, "\n");
    if (pkt[4] != MYSQL_COM_BINLOG_DUMP_GTID) { fprintf(out, "DUMP\n"); return; }
    struct mysql_dump_gtid d;
    struct gtid_state g;
    char err[512], text[2048];
    gtid_state_init(&g);
    if (mysql_dump_gtid_parse(pkt + 5, (size_t)len - 5, &d, err, sizeof err) != 0 ||
        gtid_state_decode_sids(&g, d.data, d.data_size, err, sizeof err) != 0) {
        fprintf(out, "DUMP_GTID malformed: %s\n", err);
    } else {
        gtid_state_format(&g, text, sizeof text);
        fprintf(out, "DUMP_GTID flags=0x%04x server_id=%u file='%.*s' pos=%llu gtid=%s\n", d.flags, d.server_id,
                (int)d.name_size, d.name, (unsigned long long)d.pos, text);
    }
    gtid_state_free(&g);
}

/* A length-encoded string of fewer than 251 bytes. */
static void wr_lenstr(struct wr *w, const char *s)
{
    wr_u8(w, (uint8_t)strlen(s));
    wr_bytes(w, s, strlen(s));
}

/*
 * A text result set of VAR_STRING columns (protocol 4.1, no
 * CLIENT_DEPRECATE_EOF): column count | ColumnDefinition41 per column | EOF |
 * one text row per row (length-encoded strings) | EOF. ColumnDefinition41:
 * catalog "def", schema, table, org_table, name, org_name (length-encoded
 * strings) | 0x0c | charset u16 | length u32 | type u8 | flags u16 |
 * decimals u8 | 2 x 0x00.
 */
static int send_result(int fd, const char *const *names, int ncols, const char *const *values, int nrows)
{
    static const uint8_t eof[] = {0xfe, 0x00, 0x00, 0x02, 0x00};
    uint8_t seq = 1, n = (uint8_t)ncols, p[512];
    if (send_packet(fd, seq++, &n, 1)) return -1;
    for (int i = 0; i < ncols; i++) {
        struct wr w;
        wr_init(&w, p, sizeof p);
        wr_lenstr(&w, "def");
        wr_lenstr(&w, "");
        wr_lenstr(&w, "");
        wr_lenstr(&w, "");
        wr_lenstr(&w, names[i]);
        wr_lenstr(&w, "");
        wr_u8(&w, 0x0c);
        wr_u16le(&w, 45);
        wr_u32le(&w, 255);
        wr_u8(&w, 0xfd);                        /* VAR_STRING */
        wr_u16le(&w, 0);
        wr_u8(&w, 0);
        wr_u16le(&w, 0);
        if (w.err || send_packet(fd, seq++, p, w.pos)) return -1;
    }
    if (send_packet(fd, seq++, eof, sizeof eof)) return -1;
    for (int r = 0; r < nrows; r++) {
        struct wr w;
        wr_init(&w, p, sizeof p);
        for (int i = 0; i < ncols; i++) wr_lenstr(&w, values[r * ncols + i]);
        if (w.err || send_packet(fd, seq++, p, w.pos)) return -1;
    }
    return send_packet(fd, seq, eof, sizeof eof);
}

static int send_empty_binlog_list(int fd)
{
    static const char *const names[] = {"Log_name", "File_size"};
    return send_result(fd, names, 2, NULL, 0);
}

/* @@GLOBAL.gtid_executed: a set past the checkpoints the tests resume from
 * (the replica's history check: the server has binlogged them). */
static int send_gtid_executed(int fd)
{
    static const char *const names[] = {"@@GLOBAL.gtid_executed"};
    static const char *const row[] = {"3e11fa47-71ca-11e1-9e33-c80aa9429562:1-9"};
    return send_result(fd, names, 1, row, 1);
}

/* The binlog status, where this MySQL version has the statement asked for:
 * 1 the row went out, 0 refused as that version would (ERR 1064), -1 error. */
static int send_binlog_status(int fd, int binary_log_status)
{
    static const char *const names[] = {"File", "Position", "Binlog_Do_DB", "Binlog_Ignore_DB",
                                        "Executed_Gtid_Set"};
    static const char *const row[] = {"binlog.000042", "1234", "", "", "3e11fa47-71ca-11e1-9e33-c80aa9429562:1-5"};
    unsigned major = 0, minor = 0;
    sscanf(version, "%u.%u", &major, &minor);
    unsigned v = major * 100 + minor;
    if (binary_log_status ? v < 802 : v >= 804)
        return send_err(fd, 1, 1064, "42000", "You have an error in your SQL syntax (mysql_capture)");
    return send_result(fd, names, 5, row, 1) == 0 ? 1 : -1;
}

/* The conversation with one client; 0 when a dump command was recorded, or
 * the client quit after a binlog status was answered. */
static int serve(int fd)
{
    static const uint8_t ok[] = {0x00, 0x00, 0x00, 0x02, 0x00, 0x00, 0x00};
    uint8_t *pkt = NULL;
    long len;
    if (send_handshake(fd)) return -1;
    if ((len = recv_packet(fd, &pkt)) < 4) { fprintf(stderr, "mysql_capture: no login from the client\n"); return -1; }
    free(pkt);
    if (send_packet(fd, 2, ok, sizeof ok)) return -1;
    int status_answered = 0;
    for (;;) {
        if ((len = recv_packet(fd, &pkt)) < 5) {
            fprintf(stderr, "mysql_capture: the client went away before a binlog dump command\n");
            free(pkt);
            return -1;
        }
        uint8_t cmd = pkt[4];
        int done = 0;
        if (cmd == 0x03) {
            const char *sql = (const char *)pkt + 5;
            int n = (int)(len - 5);
            fprintf(out, "QUERY %.*s\n", n, sql);
            if (n >= 4 && strncasecmp(sql, "SET ", 4) == 0)
                send_packet(fd, 1, ok, sizeof ok);
            else if (n == 16 && strncasecmp(sql, "SHOW BINARY LOGS", 16) == 0)
                send_empty_binlog_list(fd);
            else if (n == 29 && strncasecmp(sql, "SELECT @@GLOBAL.gtid_executed", 29) == 0)
                send_gtid_executed(fd);
            else if (n == 18 && strncasecmp(sql, "SHOW MASTER STATUS", 18) == 0)
                status_answered |= send_binlog_status(fd, 0) == 1;
            else if (n == 22 && strncasecmp(sql, "SHOW BINARY LOG STATUS", 22) == 0)
                status_answered |= send_binlog_status(fd, 1) == 1;
            else
                send_err(fd, 1, 1064, "42000", "mysql_capture: no such query here");
        } else if (cmd == MYSQL_COM_BINLOG_DUMP_GTID || cmd == MYSQL_COM_BINLOG_DUMP) {
            record_dump(pkt, len);
            send_err(fd, 1, 1236, "HY000", "mysql_capture: recorded; no binlog here");
            done = 1;
        } else {
            fprintf(out, "COMMAND 0x%02x\n", cmd);
            if (cmd == 0x01) {                          /* COM_QUIT */
                free(pkt);
                return status_answered ? 0 : -1;
            }
            send_err(fd, 1, 1047, "08S01", "mysql_capture: unknown command");
        }
        fflush(out);
        free(pkt);
        if (done) return 0;
    }
}

int main(int argc, char **argv)
{
    if (argc != 3 && argc != 4) { fprintf(stderr, "usage: mysql_capture PORTFILE OUTFILE [VERSION]\n"); return 2; }
    if (argc == 4) version = argv[3];
    deadline = time(NULL) + DEADLINE_S;
    int ls = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (ls < 0 || bind(ls, (struct sockaddr *)&a, sizeof a) || listen(ls, 1) ||
        getsockname(ls, (struct sockaddr *)&a, &alen)) {
        perror("mysql_capture: listen");
        return 1;
    }
    if (!(out = fopen(argv[2], "w"))) { perror(argv[2]); return 1; }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", argv[1]);
    FILE *pf = fopen(tmp, "w");
    if (!pf || fprintf(pf, "%u\n", ntohs(a.sin_port)) < 0 || fclose(pf) || rename(tmp, argv[1])) {
        perror(argv[1]);
        return 1;
    }
    struct pollfd p = {.fd = ls, .events = POLLIN};
    if (poll(&p, 1, DEADLINE_S * 1000) <= 0) { fprintf(stderr, "mysql_capture: no client within %d s\n", DEADLINE_S); return 1; }
    int fd = accept(ls, NULL, NULL);
    if (fd < 0) { perror("mysql_capture: accept"); return 1; }
    int rc = serve(fd);
    /* Let the client read the ERR and close first. */
    uint8_t sink[256];
    while (rc == 0 && read_full(fd, sink, 1) == 0) {}
    close(fd);
    close(ls);
    fclose(out);
    return rc == 0 ? 0 : 1;
}

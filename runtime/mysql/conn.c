/* conn.c — connecting to a MySQL/MariaDB source (see conn.h). */
#include "runtime/mysql/conn.h"

#include <errmsg.h>
#include <mysqld_error.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "runtime/base/clock.h"

static pthread_once_t lib_once = PTHREAD_ONCE_INIT;
static void lib_init(void) { mysql_library_init(0, NULL, NULL); }

/* The likely cause of a connection error, for the operator. */
static const char *likely_cause(unsigned code)
{
    switch (code) {
    case ER_ACCESS_DENIED_ERROR:
    case ER_DBACCESS_DENIED_ERROR:
        return "authentication failed: check user and password (or password_command), and that the user may connect from this host";
    case CR_CONN_HOST_ERROR:
    case CR_CONNECTION_ERROR:
        return "connection refused or timed out: is the server running and listening on that host and port, and does a firewall or security group allow it?";
    case CR_UNKNOWN_HOST:
        return "the host name does not resolve (DNS): check host";
    case CR_SSL_CONNECTION_ERROR:
        return "TLS failed: check tls (disable | prefer | require | verify-full) and the server's certificate";
    case CR_SERVER_LOST:
    case CR_SERVER_GONE_ERROR:
        return "the server closed the connection: check max_connections and the server log";
    default:
        return "see the server's message";
    }
}

/*
 * Every read and write on a source connection has a deadline of at most
 * this many seconds: a server that froze or a link that went dead without a
 * FIN or RST (the peer's kernel or a middlebox still ACKing, so TCP
 * keepalives never fire) is noticed in well under 30 s, also in the middle
 * of a snapshot read. A read waits for the server only while a query runs
 * or rows stream: the snapshot reads in key-ordered chunks, whose rows come
 * at once; a slow consumer (the target) is the server's wait, not ours.
 */
#define READ_TIMEOUT_MAX_S 20

#define CONNECT_TICK_MS 100

/* NULL: out of memory, or *stopped set when *stop ended the attempt. */
static MYSQL *try_connect(const struct config_source *src, const char *password, int tls,
                          int verify, int timeout_s, const atomic_int *stop, int *stopped)
{
    MYSQL *db = mysql_init(NULL);
    if (!db) return NULL;
    unsigned t = (unsigned)(timeout_s < READ_TIMEOUT_MAX_S ? timeout_s : READ_TIMEOUT_MAX_S);
    mysql_optionsv(db, MYSQL_OPT_CONNECT_TIMEOUT, &t);
    mysql_optionsv(db, MYSQL_OPT_READ_TIMEOUT, &t);
    mysql_optionsv(db, MYSQL_OPT_WRITE_TIMEOUT, &t);
    mysql_optionsv(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    my_bool on = 1, off = 0;
    mysql_optionsv(db, MYSQL_OPT_SSL_ENFORCE, tls ? &on : &off);
    mysql_optionsv(db, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, verify ? &on : &off);
    if (!stop) {
        mysql_real_connect(db, src->host, src->user, password, NULL, (unsigned)src->port, NULL,
                           CLIENT_MULTI_RESULTS);
        return db;
    }
    /* With a stop flag: libmariadb's non-blocking connect, driven here in
     * ticks, so a stop ends a connect stuck on a frozen link (the blocking
     * one waits out the handshake's read timeout). The connection's later
     * calls block as usual: the two APIs mix on one handle. */
    MYSQL *ret = NULL;
    mysql_optionsv(db, MYSQL_OPT_NONBLOCK, 0);
    int status = mysql_real_connect_start(&ret, db, src->host, src->user, password, NULL,
                                          (unsigned)src->port, NULL, CLIENT_MULTI_RESULTS);
    int64_t deadline = 0;
    while (status) {
        if (atomic_load(stop)) {
            /* Mid-handshake: no goodbye into the link; the handle is freed. */
            int fd = mysql_get_socket(db);
            if (fd >= 0) (void)shutdown(fd, SHUT_RDWR);
            mysql_close(db);
            *stopped = 1;
            return NULL;
        }
        if ((status & MYSQL_WAIT_TIMEOUT) && !deadline)
            deadline = zclock_mono_ms() + (int64_t)mysql_get_timeout_value_ms(db);
        int64_t slice = CONNECT_TICK_MS;
        if (deadline && deadline - zclock_mono_ms() < slice) slice = deadline - zclock_mono_ms();
        if (slice < 0) slice = 0;
        struct pollfd pfd = {.fd = mysql_get_socket(db)};
        if (status & MYSQL_WAIT_READ) pfd.events |= POLLIN;
        if (status & MYSQL_WAIT_WRITE) pfd.events |= POLLOUT;
        if (status & MYSQL_WAIT_EXCEPT) pfd.events |= POLLPRI;
        int n = poll(&pfd, pfd.fd >= 0 && pfd.events ? 1 : 0, (int)slice);
        int ready = 0;
        if (n > 0) {
            if (pfd.revents & (POLLIN | POLLHUP | POLLERR)) ready |= MYSQL_WAIT_READ;
            if (pfd.revents & (POLLOUT | POLLHUP | POLLERR)) ready |= MYSQL_WAIT_WRITE;
            if (pfd.revents & POLLPRI) ready |= MYSQL_WAIT_EXCEPT;
            ready &= status;
        }
        if (!ready && deadline && zclock_mono_ms() >= deadline) ready = MYSQL_WAIT_TIMEOUT;
        if (!ready) continue;
        deadline = 0;
        status = mysql_real_connect_cont(&ret, db, ready);
    }
    return db;
}

int mysql_conn_open(MYSQL **out, const char *integration, const struct config_source *src,
                    int timeout_s, char *err, size_t errlen)
{
    return mysql_conn_open_cut(out, integration, src, timeout_s, NULL, err, errlen);
}

int mysql_conn_open_cut(MYSQL **out, const char *integration, const struct config_source *src,
                        int timeout_s, struct linkcut *cut, char *err, size_t errlen)
{
    *out = NULL;
    pthread_once(&lib_once, lib_init);
    char password[4096], perr[512];
    if (config_password(src, timeout_s * 1000, password, sizeof password, perr, sizeof perr) != 0) {
        snprintf(err, errlen, "source %s: %s", integration, perr);
        return -1;
    }
    int tls = src->tls != TLS_DISABLE;
    int verify = src->tls == TLS_VERIFY_FULL;
    int stopped = 0;
    const atomic_int *stop = cut ? &cut->fired : NULL;
    MYSQL *db = try_connect(src, password, tls, verify, timeout_s, stop, &stopped);
    /* prefer: a server without TLS is accepted in the clear. */
    if (db && mysql_errno(db) == CR_SSL_CONNECTION_ERROR && src->tls == TLS_PREFER) {
        mysql_close(db);
        db = try_connect(src, password, 0, 0, timeout_s, stop, &stopped);
    }
    memset(password, 0, sizeof password);
    if (stopped) {
        snprintf(err, errlen, "source %s: connecting to mysql://%s:%d: stopped", integration, src->host,
                 src->port);
        return -1;
    }
    if (!db) {
        snprintf(err, errlen, "source %s: out of memory creating a connection", integration);
        return -1;
    }
    if (mysql_errno(db)) {
        unsigned code = mysql_errno(db);
        snprintf(err, errlen, "source %s: cannot connect to mysql://%s:%d as %s: %s (error %u); %s",
                 integration, src->host, src->port, src->user, mysql_error(db), code,
                 likely_cause(code));
        mysql_close(db);
        return -1;
    }
    linkcut_add(cut, mysql_get_socket(db));
    *out = db;
    return 0;
}

void mysql_conn_close_cut(MYSQL *db, struct linkcut *cut)
{
    if (!db) return;
    linkcut_remove(cut, mysql_get_socket(db));
    mysql_close(db);
}

int mysql_conn_is_mariadb(MYSQL *db)
{
    const char *v = mysql_get_server_info(db);
    return v && strstr(v, "MariaDB") != NULL;
}

void mysql_conn_describe(MYSQL *db, char *buf, size_t len)
{
    const char *v = mysql_get_server_info(db);
    char ver[64];
    snprintf(ver, sizeof ver, "%s", v ? v : "?");
    char *dash = strchr(ver, '-');
    if (dash) *dash = '\0';
    snprintf(buf, len, "%s %s", mysql_conn_is_mariadb(db) ? "MariaDB" : "MySQL", ver);
}

MYSQL_RES *mysql_conn_query(MYSQL *db, const char *sql, char *err, size_t errlen)
{
    if (mysql_query(db, sql) != 0) {
        snprintf(err, errlen, "%s (error %u) running: %.120s", mysql_error(db), mysql_errno(db), sql);
        return NULL;
    }
    MYSQL_RES *res = mysql_store_result(db);
    if (!res)
        snprintf(err, errlen, "%s (error %u) reading the result of: %.120s", mysql_error(db),
                 mysql_errno(db), sql);
    return res;
}

MYSQL_RES *mysql_conn_binlog_status(MYSQL *db, const char **stmt, char *err, size_t errlen)
{
    const char *sql = !mysql_conn_is_mariadb(db) && mysql_get_server_version(db) >= 80200
                          ? "SHOW BINARY LOG STATUS" : "SHOW MASTER STATUS";
    if (stmt) *stmt = sql;
    return mysql_conn_query(db, sql, err, errlen);
}

/*
 * conn.h — connecting to a MySQL/MariaDB source (libmariadb).
 *
 * One place that turns a config_source into a connection: the password (or
 * password_command, re-run on every call, so expiring RDS IAM tokens keep
 * working), TLS mode, timeouts, and an operator-facing error that names the
 * server, the server's own message and the likely cause — never the password.
 *
 * Thread: any; a MYSQL handle then belongs to the calling thread.
 * mysql_library_init must have run (mysql_conn_open calls it once).
 */
#ifndef ZETL_MYSQL_CONN_H
#define ZETL_MYSQL_CONN_H

#include <stddef.h>
#include <mysql.h>

#include "config/config.h"
#include "runtime/base/linkcut.h"

/* Connect; database may be NULL. 0 ok, -1 with err set. */
int mysql_conn_open(MYSQL **out, const char *integration, const struct config_source *src,
                    int timeout_s, char *err, size_t errlen);

/*
 * The same, for a connection another thread may have to cut short
 * (linkcut.h): the connect itself ends within 100 ms of cut->fired (a
 * non-blocking handshake), and the open connection is registered in cut
 * until mysql_conn_close_cut. cut NULL: as mysql_conn_open.
 */
int mysql_conn_open_cut(MYSQL **out, const char *integration, const struct config_source *src,
                        int timeout_s, struct linkcut *cut, char *err, size_t errlen);
void mysql_conn_close_cut(MYSQL *db, struct linkcut *cut);

/* Server flavour and version for messages: "MariaDB 10.11.19", "MySQL 8.0.36". */
void mysql_conn_describe(MYSQL *db, char *buf, size_t len);
int  mysql_conn_is_mariadb(MYSQL *db);

/* Run a statement that takes no values and store its result; NULL with err. */
MYSQL_RES *mysql_conn_query(MYSQL *db, const char *sql, char *err, size_t errlen);

/*
 * The server's current binlog status row (File, Position, …; MySQL adds the
 * executed GTID set as the fifth column): SHOW BINARY LOG STATUS on MySQL
 * 8.2 and later (8.4 removed SHOW MASTER STATUS), SHOW MASTER STATUS on
 * MariaDB and older MySQL. *stmt (may be NULL) names the statement run, for
 * messages. NULL with err.
 */
MYSQL_RES *mysql_conn_binlog_status(MYSQL *db, const char **stmt, char *err, size_t errlen);

#endif

/*
 * replica.h — stream a MySQL/MariaDB binlog as a replica, into a zsink.
 *
 * Connects with mysql_conn_open (password_command re-run on every call),
 * checks that the start file still exists on the server, registers for the
 * binlog dump from file:offset with this integration's server_id, asks for a
 * heartbeat every heartbeat_ms so an idle server still proves the stream is
 * current, and feeds every event to a mysql_decoder (which verifies CRC32
 * checksums and drives the sink). The dump protocol itself is libmariadb's
 * (mariadb_rpl_*): a well-kept implementation of COM_BINLOG_DUMP; we only
 * take the raw event bytes from it, all parsing is ours and bounds-checked.
 *
 * Resuming: `from` is a transaction boundary (the checkpoint), so the stream
 * starts exactly after the last applied transaction. Reconnecting after an
 * error is the caller's job, from its own last durable position.
 *
 * When from's file is gone from the server (purged, or a failover to another
 * server), the stream starts by from's GTID state instead, in the server's
 * own form: MariaDB "domain-server-seq" through @slave_connect_state and
 * COM_BINLOG_DUMP with no file; MySQL "uuid:N-M" through COM_BINLOG_DUMP_GTID
 * (dump_gtid.h). No GTID state, or one of the other flavour's form, is
 * MYSQL_REPLICA_POSITION_LOST with a message saying which and what to do.
 *
 * RESET MASTER (or another server without our history) is a lost position
 * too: the checkpoint's GTIDs ahead of the server's (@@gtid_binlog_state /
 * @@gtid_executed), or its offset past the end of a re-created file. Checked
 * before the dump, and every 10 s while streaming on a second connection
 * (the dump thread may sit on the deleted file, sending heartbeats); the
 * decoder reports a MariaDB GTID_LIST behind what it read the same way.
 *
 * Retention: each time the side connection connects, the server's binlog
 * expiry is read on it into *expire_s (@@binlog_expire_logs_seconds, or
 * @@expire_logs_days × 86400), for the describe pane's retention horizon.
 *
 * Stop: *stop is checked after every event and heartbeat, so a stop is
 * answered within heartbeat_ms (default 1 s) on a live link. On a frozen
 * one the read blocks until its timeout: the stopper fires `cut`
 * (linkcut.h), where both connections are registered, and the blocked read
 * ends at once; a stop seen after a failed read is a clean stop (0).
 *
 * Thread: the calling thread (the integration's reader) owns everything.
 */
#ifndef ZETL_MYSQL_REPLICA_H
#define ZETL_MYSQL_REPLICA_H

#include <stdatomic.h>
#include <stddef.h>
#include <mysql.h>

#include "config/config.h"
#include "runtime/pipe/change.h"
#include "runtime/base/linkcut.h"
#include "runtime/mysql/decoder.h"

/* mysql_replica_run's return value when the start position is gone (purged). */
#define MYSQL_REPLICA_POSITION_LOST (-2)

struct mysql_replica_opts {
    const char *integration;                /* for messages */
    const struct config_source *src;
    const struct zpos *from;                /* binlog file:offset to continue after */
    const struct zsink *sink;
    const atomic_int *stop;                 /* non-zero: return 0 soon */
    int heartbeat_ms;                       /* default 1000 */
    struct linkcut *cut;                    /* optional: the connections are registered here */
    _Atomic int64_t *expire_s;              /* optional: the server's binlog expiry (s, 0 never),
                                               read on the side connection at each connect */
    /* decoder hooks, passed through (see decoder.h); optional */
    void *ctx;
    void (*warn)(void *ctx, const char *msg);
    int (*want_table)(void *ctx, const char *schema, const char *table);
    int (*table_def)(void *ctx, const char *schema, const char *table, struct ztable **out);
};

/*
 * Stream until *stop (returns 0), a sink callback returns non-zero (that
 * value), the position is lost (MYSQL_REPLICA_POSITION_LOST, err says what
 * to do), or an error (-1, err names the server, binlog position and cause).
 */
int mysql_replica_run(const struct mysql_replica_opts *o, char *err, size_t errlen);

/* The server's current binlog position (mysql_conn_binlog_status), for bytes behind. */
int mysql_replica_server_position(MYSQL *db, struct zpos *out, char *err, size_t errlen);

#endif

/*
 * dump_gtid.h — start a MySQL binlog stream from a GTID set (COM_BINLOG_DUMP_GTID).
 *
 * A MySQL 5.6+ server (Aurora MySQL too) streams every transaction that is
 * NOT in a replica's GTID set when the replica sends COM_BINLOG_DUMP_GTID
 * (command byte 0x1e) with that set: the server itself finds the first
 * binlog file holding a missing transaction, so zetl can resume after its
 * checkpoint's file was purged (or after a failover to another server that
 * has the same transactions under other file names). MariaDB has no such
 * command (it answers "Unknown command", error 1047): it resumes by its own
 * GTID form through @slave_connect_state and COM_BINLOG_DUMP (replica.c).
 *
 * The command's payload after the command byte (integers little-endian;
 * MySQL's com_binlog_dump_gtid reads it in this order, data_size always):
 *
 *   flags        u16        MYSQL_BINLOG_THROUGH_GTID (0x04)
 *   server_id    u32        this replica's server_id
 *   name_size    u32        bytes of the file name
 *   name         name_size  "" (with position 4): let the server choose by GTID
 *   position     u64        4 with an empty name
 *   data_size    u32        bytes of data
 *   data         data_size  the GTID set's binary form (gtid.h)
 *
 * Sending: libmariadb has no public call for an arbitrary command, but mysql.h
 * publishes the connection's method table (struct st_mariadb_methods), whose
 * db_command(mysql, command, arg, len, skip_check, opt_arg) frames the packet
 * (4-byte header, command byte, arg). With skip_check it returns once the
 * packet is written, like mariadb_rpl_open does for COM_BINLOG_DUMP; the
 * stream is then read with mariadb_rpl_fetch on a handle from
 * mariadb_rpl_init WITHOUT mariadb_rpl_open: fetch only reads the next packet
 * of the connection, whatever command started the stream. mariadb_rpl_init
 * runs a query of its own (select @@binlog_checksum), so it must be called
 * BEFORE the command is sent. A server that refuses the stream answers with
 * an ERR packet, which the first fetch returns as NULL with mysql_errno set
 * (mysql_dump_gtid_refused words it). (mysql.h also publishes
 * mysql_net_read_packet, a raw read of the next packet into
 * mysql->net.read_pos, should a libmariadb ever need a different read path;
 * fetch is enough for libmariadb 3.3, the one tested here.) tests/integration/test_mysql_gtid_dump.sh
 * proves both halves: the exact bytes on the wire (a loopback listener) and
 * reading a real MariaDB stream started through db_command.
 *
 * Thread: the caller's, which owns the MYSQL handle. The builders and the
 * parser do no I/O and allocate only their output.
 */
#ifndef ZETL_MYSQL_DUMP_GTID_H
#define ZETL_MYSQL_DUMP_GTID_H

#include <stddef.h>
#include <stdint.h>
#include <mysql.h>

#include "runtime/mysql/gtid.h"

#define MYSQL_COM_BINLOG_DUMP       0x12
#define MYSQL_COM_BINLOG_DUMP_GTID  0x1e
#define MYSQL_BINLOG_THROUGH_GTID   0x0004

/*
 * The COM_BINLOG_DUMP_GTID payload above (without the command byte) for the
 * MySQL GTID set g, into *out (malloc'd, the caller frees) of *len bytes.
 * file may be "" (then pos should be 4). 0 ok; -1 with err.
 */
int mysql_dump_gtid_build(const struct gtid_state *g, uint32_t server_id, const char *file,
                          uint64_t pos, uint8_t **out, size_t *len, char *err, size_t errlen);

/* The fields of a COM_BINLOG_DUMP_GTID payload; pointers point into it. */
struct mysql_dump_gtid {
    uint16_t flags;
    uint32_t server_id;
    const char *name;               /* NOT NUL-terminated: name_size bytes */
    uint32_t name_size;
    uint64_t pos;
    const uint8_t *data;            /* the GTID set's binary form */
    uint32_t data_size;
};

/* Parse a payload (bytes from the wire, exactly len). 0 ok; -1 with err. */
int mysql_dump_gtid_parse(const uint8_t *p, size_t len, struct mysql_dump_gtid *out,
                          char *err, size_t errlen);

/*
 * Send one command with payload arg through db_command, not waiting for a
 * reply (see above). 0 ok; -1 with err (the connection broke).
 */
int mysql_dump_command(MYSQL *db, uint8_t command, const uint8_t *arg, size_t len, char *err,
                       size_t errlen);

/*
 * Start the stream after the MySQL GTID set g: build and send
 * COM_BINLOG_DUMP_GTID with an empty file name and position 4. Create the
 * MARIADB_RPL handle first. 0 ok; -1 with err.
 */
int mysql_dump_gtid_start(MYSQL *db, const struct gtid_state *g, uint32_t server_id, char *err,
                          size_t errlen);

/*
 * The server answered COM_BINLOG_DUMP_GTID with error `code`/`msg` before the
 * first event: one operator line into err naming the integration, the GTID
 * set and what to do. Returns 1 when the position is lost (error 1236: the
 * server purged transactions after the set, or has fewer than it), else 0.
 */
int mysql_dump_gtid_refused(char *err, size_t errlen, const char *integration, const char *gtid,
                            unsigned code, const char *msg);

#endif

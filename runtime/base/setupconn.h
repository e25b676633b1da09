/*
 * setupconn.h — the setup walkthrough's connection-test model (`zetl init`,
 * runtime/check/setup.h): why a connection failed and what to do, what the
 * server has (its databases or schemas), the tables it lists, and the
 * one-line and comma-list text the answers and messages go through. The
 * source drivers' walkthrough parts (runtime/mysql/setup.c,
 * runtime/pg/setup.c) and the target's test (runtime/check/setup_target.c)
 * fill it, so it sits below them all. Pure: no I/O, no secret.
 *
 * Thread: a result belongs to the thread that fills it; the functions are
 * safe to call from any thread.
 */
#ifndef ZETL_SETUPCONN_H
#define ZETL_SETUPCONN_H

#include <stddef.h>
#include <stdint.h>

#define SETUP_MAX_LIST     64       /* databases, schemas or include patterns */

/* src as one line: newlines and tabs become spaces, runs of spaces collapse. */
void setup_one_line(char *dst, size_t len, const char *src);

/* Splits a comma-separated list, trimming blanks around each item (a
 * backslash-escaped comma stays in the item). Items are written into buf;
 * returns the number of items (at most max; -1 when there are more). */
int  setup_split_list(const char *s, char *buf, size_t buflen, char **items, int max);

/* ---- connection tests -------------------------------------------------- */

enum setup_cause {
    SETUP_CAUSE_NONE = 0,
    SETUP_CAUSE_DNS,                /* the host name does not resolve */
    SETUP_CAUSE_REFUSED,            /* nothing listens there */
    SETUP_CAUSE_TIMEOUT,            /* no answer: firewall, security group */
    SETUP_CAUSE_AUTH,               /* user/password, pg_hba.conf, host grants */
    SETUP_CAUSE_TLS,
    SETUP_CAUSE_NO_DATABASE,        /* a database or schema that is not there */
    SETUP_CAUSE_PASSWORD_COMMAND,   /* password_command failed */
    SETUP_CAUSE_OTHER
};

/* "DNS", "connection refused", "timeout", "authentication", ... */
const char *setup_cause_name(enum setup_cause c);
/* What the cause usually means and what to do, one sentence. */
const char *setup_cause_hint(enum setup_cause c);
/* The cause of a connection failure from its message (and the MySQL client
 * error number, 0 for libpq); took_ms: how long the attempt took (a MySQL
 * "can't connect" that used the whole timeout timed out). Pure. */
enum setup_cause setup_classify(const char *message, unsigned mysql_code, long took_ms,
                                long timeout_ms);

struct setup_conn {
    int   ok;
    enum setup_cause cause;         /* when !ok */
    char  server[128];              /* "MariaDB 10.11.6", "PostgreSQL 15.4" */
    char  message[768];             /* the server's or library's own words (no secret) */
    char  where[300];               /* "mysql://127.0.0.1:3306 as zetl" */
    char *names[SETUP_MAX_LIST];    /* databases (mysql) / schemas (postgres) on the server */
    int   nnames;                   /* -1 more than fit */
    char  namebuf[4096];
};

/* ---- tables ------------------------------------------------------------ */

struct setup_table {
    char    schema[128];
    char    name[128];
    int     has_pk;
    int64_t rows;                   /* the server's estimate; -1 unknown */
    char    replident;              /* postgres: d(efault) n(othing) f(ull) i(ndex); 0 mysql */
};

/* ---- filling a result ---------------------------------------------------- */

/* Add a name the server has to c->names (c->nnames -1 once they do not fit). */
void setup_conn_add_name(struct setup_conn *c, const char *name);
/* 0 (c->ok) when the server has each of want[0..nwant) — or too many names
 * to tell —, else -1 with NO_DATABASE and a message naming the first it
 * lacks ("what" names the kind of name: "database", "schema") and listing
 * those it has. */
int  setup_conn_check_names(struct setup_conn *c, char **want, int nwant, const char *what);
/* Is s one of v[0..n)? */
int  setup_name_listed(char **v, int n, const char *s);
/* Append a table to *v (*n used of *cap, grown as needed). 0, or -1 out of memory. */
int  setup_tables_add(struct setup_table **v, int *n, int *cap, const char *schema, const char *name,
                      int has_pk, int64_t rows, char ident);

#endif

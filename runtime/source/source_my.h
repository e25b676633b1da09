/*
 * source_my.h — internal to runtime/source*.c: the MySQL/MariaDB source's
 * short SQL connections (catalog, identity, counts) on the supervisor's
 * thread, registered in in->cut (linkcut.h) while open, so a stop or a
 * waiting operator command ends a read blocked on a frozen link at once
 * instead of after the 10 s read timeout. Thread: the caller's.
 */
#ifndef ZETL_SOURCE_MY_H
#define ZETL_SOURCE_MY_H

#include <stddef.h>
#include <mysql.h>

struct integ;

int  source_my_open(struct integ *in, MYSQL **db, char *err, size_t errlen);
void source_my_close(struct integ *in, MYSQL *db);

#endif

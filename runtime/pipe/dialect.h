/*
 * dialect.h — what a consumer of a source's changes must know of the
 * source's kind: how its column types read (the target's type mapping,
 * runtime/target/typemap.c) and how change events name it (envelope.h).
 *
 * Each source driver holds one (runtime/source/source_ops.h); the target
 * gets it through target_opts.source, so nothing downstream of the source
 * asks which kind it is. Constant data: any thread may read it.
 */
#ifndef ZETL_DIALECT_H
#define ZETL_DIALECT_H

struct zdialect {
    const char *connector;          /* change events' source.connector: "mysql", "postgresql" */
    unsigned db_in_events : 1;      /* events carry source.db, the config's one database */
    unsigned pg_types : 1;          /* zcolumn.source_type is a PostgreSQL type name: a
                                       built-in one is kept as declared (arrays too) */
    unsigned char_padded : 1;       /* CHAR(n) values keep their pad spaces: character(n);
                                       else they arrive trimmed: varchar(n) */
    unsigned time_duration : 1;     /* TIME is a duration (MySQL: -838:59:59 .. 838:59:59):
                                       interval (Redshift: varchar(32)), not time */
    unsigned scale0_declared : 1;   /* a timestamp's scale 0 was declared (DATETIME is
                                       DATETIME(0)): timestamp(0); else 0 means none given */
    unsigned zero_dates : 1;        /* DATE, DATETIME and TIMESTAMP may hold zero dates,
                                       which arrive as NULL: such columns are never NOT NULL */
};

#endif

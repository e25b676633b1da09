/*
 * envelope.h — one row change as one JSON change event: the http target's
 * wire format (README "Change events over HTTP"), in the style of Debezium's
 * envelope. One event is one line of newline-delimited JSON (NDJSON):
 *
 *   {"op":"u","before":{...},"after":{...},
 *    "source":{"connector":"mysql","name":"shop","db":"shop","schema":"shop",
 *              "table":"orders","pos":"binlog.000003:4567","seq":0,"txid":null,
 *              "ts_ms":1732183200000,"snapshot":false},
 *    "target":"shop.orders","ts_ms":1732183200123}
 *
 *   op       c insert, u update, d delete, r snapshot row, t truncate
 *   before   update/delete: the row before (only the key columns when the
 *            source logged only those), else null
 *   after    insert/update/snapshot: the row after, else null
 *   source   where the change comes from: pos is the source position just
 *            before the change's transaction (resuming from it replays the
 *            transaction; every change of one transaction carries the same
 *            pos and it never decreases), seq the change's index among the
 *            transaction's changes that zetl sends (so pos + seq name one
 *            change, the same across replays); snapshot rows have pos null and
 *            seq counting the copy's rows; txid and ts_ms (source commit time)
 *            are null when the source does not say
 *   target   the target name "schema.table" after rename rules
 *   ts_ms    when zetl encoded the event (ms since the epoch)
 *
 * Values (envelope_value): NULL → null; integers → JSON numbers when
 * |v| <= 2^53 (exact in every JSON parser), else strings; booleans → true /
 * false; floats → the shortest number that reads back to the same value
 * ("NaN", "Infinity", "-Infinity" as strings); DECIMAL → strings (exact);
 * JSON columns → embedded JSON (re-serialized without insignificant
 * whitespace; text that is not valid JSON becomes a string); dates and times
 * → ISO 8601 strings ("2024-02-29T10:00:00.5Z" for a timestamp with time zone,
 * "2024-02-29T10:00:00.5" without; values ISO 8601 cannot spell, like
 * "infinity", MySQL TIME beyond 24 h or BC dates, as the source spells them);
 * bytes (BINARY, BLOB, bytea, GEOMETRY WKB) → base64 strings (RFC 4648, with
 * padding); arrays, intervals, BIT, SET and every other type → their text
 * form as a string. Text that is not valid UTF-8 gets U+FFFD for each bad
 * byte. A PostgreSQL TOAST value that did not change and is not in the before
 * image is left out of "after" (the consumer keeps the value it has).
 *
 * Pure functions: no I/O, no globals; thread-safe. Output goes to a struct
 * zbuf (base/buf.h); its oom flag reports out of memory.
 */
#ifndef ZETL_TARGET_ENVELOPE_H
#define ZETL_TARGET_ENVELOPE_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/pipe/change.h"
#include "runtime/target/target.h"

struct envelope_src {
    const char *connector;      /* "mysql" or "postgresql" */
    const char *name;           /* the integration */
    const char *db;             /* PostgreSQL: the database; NULL: the table's schema (MySQL) */
    const char *pos;            /* transaction start position; NULL → null (snapshot rows) */
    uint64_t    seq;            /* change index in its transaction (snapshot: in the copy) */
    uint64_t    txid;           /* source transaction id; 0 → null */
    int64_t     ts_ms;          /* source commit time, ms; 0 → null */
    int         snapshot;       /* 1: a snapshot event (op r, or the copy's truncate) */
};

/*
 * Append one event and its '\n' to out. tschema/tname: target names (NULL:
 * the source's). now_ms: the envelope's ts_ms. Returns 0, or -1 when out ran
 * out of memory (out->oom).
 */
int  envelope_encode(struct zbuf *out, const struct envelope_src *src, const struct zrowchange *rc,
                     const char *tschema, const char *tname, int64_t now_ms);

/* One column value as JSON, per the rules above (ZV_UNCHANGED writes null). */
void envelope_value(struct zbuf *out, const struct zcolumn *c, const struct zvalue *v);

/* s[0..n) as a JSON string, quotes included; invalid UTF-8 bytes → U+FFFD. */
void envelope_json_string(struct zbuf *out, const char *s, size_t n);

/*
 * s[0..n) re-serialized as compact JSON (whitespace between tokens dropped,
 * strings and numbers copied verbatim). Returns 0; -1 when s is not one
 * valid JSON value (out is then restored to its length before the call).
 */
int  envelope_json_compact(struct zbuf *out, const char *s, size_t n);


#endif

/*
 * rows_text.h — the text forms that row decoding (rows.c) and MySQL binary
 * JSON (json.c) both write: packed DECIMAL → text, packed temporals → text,
 * and the digit writers behind them. They sit below both files, so neither
 * depends on the other's helpers. (Their byte buffer is base's zbuf.)
 *
 * Pure functions on caller memory; any thread.
 */
#ifndef ZETL_MYSQL_ROWS_TEXT_H
#define ZETL_MYSQL_ROWS_TEXT_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of a packed DECIMAL(prec,scale); 0 when prec/scale are invalid. */
size_t rows_decimal_size(int prec, int scale);
/* Packed DECIMAL → text into out (≥ prec + 3 bytes); returns length or -1. */
int rows_decimal_text(const uint8_t *p, int prec, int scale, char *out);
/* MySQL "packed" temporals (JSON opaque DATE/TIME/DATETIME, 8 bytes LE int):
 * kind 'd' date, 't' time, 'T' datetime; 6 fraction digits; returns length. */
int rows_packed_temporal_text(int64_t packed, char kind, char *out);

/* ---- digit writers: each writes at o and returns the end --------------------------- */

static const uint32_t rows_pow10[10] = { 1, 10, 100, 1000, 10000, 100000, 1000000, 10000000,
                                         100000000, 1000000000 };

static inline char *rows_put_n(char *o, uint32_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) { o[i] = (char)('0' + v % 10); v /= 10; }
    return o + width;
}

static inline char *rows_put_frac(char *o, uint32_t usec, int fsp)
{
    if (fsp <= 0) return o;
    *o++ = '.';
    return rows_put_n(o, usec / rows_pow10[6 - fsp], fsp);
}

static inline char *rows_put_hours(char *o, uint32_t h)
{
    if (h >= 1000) o = rows_put_n(o, h, 4);
    else if (h >= 100) o = rows_put_n(o, h, 3);
    else o = rows_put_n(o, h, 2);
    return o;
}

static inline char *rows_put_date(char *o, uint32_t y, uint32_t m, uint32_t d)
{
    o = rows_put_n(o, y, 4); *o++ = '-'; o = rows_put_n(o, m, 2); *o++ = '-'; return rows_put_n(o, d, 2);
}

static inline char *rows_put_hms(char *o, uint32_t h, uint32_t mi, uint32_t s)
{
    o = rows_put_n(o, h, 2); *o++ = ':'; o = rows_put_n(o, mi, 2); *o++ = ':'; return rows_put_n(o, s, 2);
}

/* days since 1970-01-01 → civil date (proleptic Gregorian) */
static inline void rows_civil_from_days(int64_t z, uint32_t *y, uint32_t *m, uint32_t *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    uint32_t doe = (uint32_t)(z - era * 146097);
    uint32_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t yy = (int64_t)yoe + era * 400;
    uint32_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    uint32_t mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (uint32_t)(yy + (*m <= 2));
}

#endif

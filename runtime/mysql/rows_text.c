/* rows_text.c — packed DECIMAL and packed temporal text shared by row
 * decoding and JSON (see rows_text.h). */
#include "runtime/mysql/rows_text.h"

#include <stdlib.h>
#include <string.h>

/* ---- packed DECIMAL ------------------------------------------------------------------ */

static const int dig2bytes[10] = { 0, 1, 1, 2, 2, 3, 3, 4, 4, 4 };

size_t rows_decimal_size(int prec, int scale)
{
    if (prec < 1 || prec > 65 || scale < 0 || scale > 38 || scale > prec) return 0;
    int intg = prec - scale;
    return (size_t)((intg / 9) * 4 + dig2bytes[intg % 9] + (scale / 9) * 4 + dig2bytes[scale % 9]);
}

/*
 * Packed DECIMAL: the integer part in base-10⁹ groups of 4 big-endian bytes,
 * led by a shorter group for the leftover digits; then the fraction likewise,
 * the shorter group last. The sign is the inverted top bit of the first byte;
 * a negative number has every byte inverted.
 */
int rows_decimal_text(const uint8_t *p, int prec, int scale, char *out)
{
    size_t size = rows_decimal_size(prec, scale);
    uint8_t b[64];
    if (size == 0 || size > sizeof b) return -1;
    memcpy(b, p, size);
    int neg = !(b[0] & 0x80);
    b[0] ^= 0x80;
    if (neg) for (size_t i = 0; i < size; i++) b[i] ^= 0xff;
    int intg = prec - scale, intg0 = intg / 9, intg0x = intg % 9;
    int frac0 = scale / 9, frac0x = scale % 9;
    size_t pos = 0;
    char *o = out;
    char digits[80];
    int nd = 0;
    #define GROUP(nbytes, ndig) do {                                          \
        uint32_t v_ = 0;                                                      \
        for (int k_ = 0; k_ < (nbytes); k_++) v_ = (v_ << 8) | b[pos++];      \
        if (v_ >= rows_pow10[ndig]) return -1;                                    \
        for (int k_ = (ndig) - 1; k_ >= 0; k_--) { digits[nd + k_] = (char)('0' + v_ % 10); v_ /= 10; } \
        nd += (ndig);                                                         \
    } while (0)
    if (intg0x) GROUP(dig2bytes[intg0x], intg0x);
    for (int i = 0; i < intg0; i++) GROUP(4, 9);
    int int_digits = nd;
    for (int i = 0; i < frac0; i++) GROUP(4, 9);
    if (frac0x) GROUP(dig2bytes[frac0x], frac0x);
    #undef GROUP
    int lead = 0;
    while (lead < int_digits && digits[lead] == '0') lead++;
    int allzero = 1;
    for (int i = 0; i < nd; i++) if (digits[i] != '0') { allzero = 0; break; }
    if (neg && !allzero) *o++ = '-';
    if (lead == int_digits) *o++ = '0';
    else { memcpy(o, digits + lead, (size_t)(int_digits - lead)); o += int_digits - lead; }
    if (scale) {
        *o++ = '.';
        memcpy(o, digits + int_digits, (size_t)scale);
        o += scale;
    }
    return (int)(o - out);
}

int rows_packed_temporal_text(int64_t packed, char kind, char *out)
{
    char *o = out;
    int neg = packed < 0;
    uint64_t t = neg ? (uint64_t)(-(packed + 1)) + 1 : (uint64_t)packed;
    uint32_t usec = (uint32_t)(t % (1u << 24));
    uint64_t ip = t >> 24;
    if (kind == 't') {
        if (neg) *o++ = '-';
        uint32_t h = (uint32_t)((ip >> 12) % (1 << 10)), mi = (uint32_t)((ip >> 6) % 64), s = (uint32_t)(ip % 64);
        o = rows_put_hours(o, h); *o++ = ':'; o = rows_put_n(o, mi, 2); *o++ = ':'; o = rows_put_n(o, s, 2);
        return (int)(rows_put_frac(o, usec % 1000000, 6) - out);
    }
    uint64_t ymd = ip >> 17, ym = ymd >> 5, hms = ip % (1 << 17);
    uint32_t d = (uint32_t)(ymd % 32), m = (uint32_t)(ym % 13), y = (uint32_t)((ym / 13) % 10000);
    o = rows_put_date(o, y, m, d);
    if (kind == 'd') return (int)(o - out);
    *o++ = ' ';
    o = rows_put_hms(o, (uint32_t)((hms >> 12) % 32), (uint32_t)((hms >> 6) % 64), (uint32_t)(hms % 64));
    return (int)(rows_put_frac(o, usec % 1000000, 6) - out);
}

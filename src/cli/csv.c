/*
 * csv.c: the CSV reader and writer of csv.h, and its number conversions.
 *
 * `whaco analyze` spends most of its time here rather than in the model, so
 * the hot paths avoid stdio and libc's general conversions: input comes in
 * blocks of CSV_BLOCK bytes and is split in place; plain decimal numbers are
 * converted with one exact floating-point operation (Clinger's fast path);
 * fixed-point output is computed with integers from the double's bits. Each
 * fast path gives exactly what the libc function gives (tests/unit/test_csv.c
 * checks both against strtod and snprintf) and hands anything else to it.
 */
#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "whaco/alloc.h"
#include "cli/csv.h"
#include "banned.h"

#define MIN_READ (64u << 10) /* grow the buffer when less room than this is left */

void csv_reader_init(struct csv_reader *r, FILE *fp)
{
    memset(r, 0, sizeof *r);
    r->fp = fp;
    r->fd = fileno(fp); /* -1 for fmemopen and other descriptor-less streams */
}

void csv_reader_release(struct csv_reader *r)
{
    whaco_free(r->buf);
    r->buf = NULL;
    r->cap = r->pos = r->end = r->scanned = 0;
}

/*
 * Read more input after buf[end], first moving the unconsumed part to the
 * front and growing the buffer if a long line left little room. One byte
 * past end is always kept free for the NUL of a last line without newline.
 * Returns 0 (r->eof set at end of input) or -2 on a read error (errno
 * ENOMEM if the buffer could not grow; the reader is then as it was, with
 * the unconsumed input kept).
 */
static int refill(struct csv_reader *r)
{
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->end -= r->pos;
        r->scanned -= r->pos;
        r->pos = 0;
    }
    if (r->cap - r->end < MIN_READ + 1) {
        size_t cap = r->cap ? 2 * r->cap : CSV_BLOCK + 1;
        char *buf = whaco_reallocarray(r->buf, cap, 1);
        if (!buf) {
            errno = ENOMEM;
            return -2;
        }
        r->buf = buf;
        r->cap = cap;
    }
    size_t room = r->cap - r->end - 1;
    if (room > CSV_BLOCK)
        room = CSV_BLOCK;
    if (r->fd < 0) {
        size_t n = fread(r->buf + r->end, 1, room, r->fp);
        r->end += n;
        if (n == 0) {
            if (ferror(r->fp))
                return -2;
            r->eof = 1;
        }
        return 0;
    }
    for (;;) {
        ssize_t n = read(r->fd, r->buf + r->end, room);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -2;
        r->end += (size_t)n;
        r->eof = n == 0;
        return 0;
    }
}

/* Split line[0..len) in place. Returns 0, or -1 with r->error set. */
static int split(struct csv_reader *r, char *line, size_t len)
{
    char *p = line, *end = line + len;
    r->nfields = 0;
    for (;;) {
        if (r->nfields == CSV_MAX_FIELDS) {
            r->error = "too many fields";
            return -1;
        }
        char *out = p;
        r->fields[r->nfields++] = p;
        if (p < end && *p == '"') {
            /* Quoted: copy down over the opening quote and doubled quotes. */
            char *q = p + 1;
            for (;;) {
                if (q >= end) {
                    r->error = "unterminated quoted field";
                    return -1;
                }
                if (*q == '"') {
                    if (q + 1 < end && q[1] == '"') {
                        *out++ = '"';
                        q += 2;
                        continue;
                    }
                    q++;
                    break;
                }
                *out++ = *q++;
            }
            if (q < end && *q != ',') {
                r->error = "text after a closing quote";
                return -1;
            }
            *out = '\0';
            if (q >= end)
                return 0;
            p = q + 1;
        } else {
            /* Fields are short (a customer's are under 12 bytes): a plain
             * loop beats a memchr call per field. */
            while (p < end && *p != ',')
                p++;
            if (p == end) {
                *end = '\0';
                return 0;
            }
            *p++ = '\0';
        }
    }
}

int csv_read(struct csv_reader *r)
{
    char *nl = NULL;
    r->error = NULL;
    errno = 0;
    for (;;) {
        if (r->end > r->scanned)
            nl = memchr(r->buf + r->scanned, '\n', r->end - r->scanned);
        if (nl || r->eof)
            break;
        r->scanned = r->end;
        if (refill(r))
            return -2;
    }
    size_t start = r->pos;
    if (nl) {
        r->pos = (size_t)(nl - r->buf) + 1;
    } else {
        if (r->pos == r->end)
            return 0;
        r->pos = r->end;
    }
    r->scanned = r->pos;
    r->consumed += r->pos - start;
    r->lineno++;
    char *line = r->buf + start;
    size_t len = r->pos - start;
    while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
        len--;
    if (memchr(line, '\0', len)) {
        r->error = "NUL byte in line";
        return -1;
    }
    line[len] = '\0'; /* the newline's byte, or the one kept free past end */
    return split(r, line, len) == 0 ? 1 : -1;
}

int csv_line_ready(struct csv_reader *r)
{
    if (r->eof)
        return 1;
    char *nl = r->end > r->scanned ? memchr(r->buf + r->scanned, '\n', r->end - r->scanned) : NULL;
    /* Remember how far there is no newline, so csv_read does not rescan. */
    r->scanned = nl ? (size_t)(nl - r->buf) : r->end;
    return nl != NULL;
}

void csv_write_field(FILE *out, const char *s)
{
    if (!strpbrk(s, ",\"\r\n")) {
        fputs(s, out);
        return;
    }
    putc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', out);
        putc(*s, out);
    }
    putc('"', out);
}

/* ==== Numbers ==== */

/* strtod's half of csv_parse_double, for every syntax the fast path skips. */
static int parse_double_strtod(const char *s, double *out)
{
    char *end;
    if (*s == '\0')
        return -1;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    while (*end == ' ' || *end == '\t') /* strtod skips leading blanks too */
        end++;
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

/*
 * Clinger's fast path (W. D. Clinger, "How to read floating point numbers
 * accurately", PLDI 1990): when the decimal significand m is at most 2^53
 * and the number of decimals k at most 22, both m and 10^k are exact
 * doubles, so the one IEEE division m / 10^k is the correctly rounded value
 * of the decimal, which is what strtod returns. It needs double arithmetic
 * without extra precision (FLT_EVAL_METHOD 0, as on x86-64 and AArch64);
 * elsewhere every number goes to strtod.
 */
static const double pow10_exact[23] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,
                                       1e8,  1e9,  1e10, 1e11, 1e12, 1e13, 1e14, 1e15,
                                       1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22};

int csv_parse_double(const char *s, double *out)
{
#if FLT_EVAL_METHOD == 0
    const char *p = s;
    int neg = *p == '-';
    if (*p == '-' || *p == '+')
        p++;
    uint64_t m = 0;
    int digits = 0, decimals = 0;
    for (; (unsigned)(*p - '0') < 10; p++) {
        m = m * 10 + (uint64_t)(*p - '0');
        digits++;
    }
    if (*p == '.') {
        for (p++; (unsigned)(*p - '0') < 10; p++) {
            m = m * 10 + (uint64_t)(*p - '0');
            digits++;
            decimals++;
        }
    }
    while (*p == ' ' || *p == '\t')
        p++;
    /* 19 digits cannot overflow m; more, an exponent or junk: strtod. */
    if (*p == '\0' && digits > 0 && digits <= 19 && m <= (UINT64_C(1) << 53) && decimals <= 22) {
        double v = (double)m / pow10_exact[decimals];
        *out = neg ? -v : v;
        return 0;
    }
#endif
    return parse_double_strtod(s, out);
}

static const uint32_t pow5[5] = {1, 5, 25, 125, 625};
static const uint32_t pow10_u32[5] = {1, 10, 100, 1000, 10000};

/*
 * A finite double is m * 2^e exactly (m < 2^53). Then v * 10^d is
 * m * 5^d * 2^(e+d): with d <= 4, m * 5^d < 2^63 fits in 64 bits, and for
 * |v| < 2^40 the exponent e + d is negative, so the rounded value of
 * v * 10^d is that integer shifted right by s = -(e + d), rounded half to
 * even on the bits shifted out -- what glibc's printf does with the exact
 * value. Only the digits are then written; no floating-point arithmetic.
 */
size_t csv_format_fixed(char *buf, double v, int decimals)
{
    if (decimals < 0 || decimals > 4 || !(fabs(v) < 0x1p40)) {
        int n = snprintf(buf, CSV_FIXED_MAX, "%.*f", decimals, v);
        return n > 0 ? (size_t)n : 0;
    }
    uint64_t bits;
    memcpy(&bits, &v, sizeof bits);
    int biased = (int)((bits >> 52) & 0x7ff);
    uint64_t m = bits & ((UINT64_C(1) << 52) - 1);
    int e;
    if (biased == 0) {
        e = -1074; /* zero or subnormal */
    } else {
        m |= UINT64_C(1) << 52;
        e = biased - 1075;
    }
    uint64_t big = m * pow5[decimals];
    int shift = -(e + decimals); /* >= 9 here */
    uint64_t q;
    if (shift >= 64) {
        q = 0; /* big < 2^63 <= half of 2^shift: rounds down */
    } else {
        uint64_t rem = big & ((UINT64_C(1) << shift) - 1), half = UINT64_C(1) << (shift - 1);
        q = big >> shift;
        if (rem > half || (rem == half && (q & 1)))
            q++;
    }
    uint64_t ip = q / pow10_u32[decimals];
    uint32_t frac = (uint32_t)(q % pow10_u32[decimals]);

    char tmp[24];
    int n = 0;
    do {
        tmp[n++] = (char)('0' + ip % 10);
        ip /= 10;
    } while (ip);
    char *p = buf;
    if (bits >> 63)
        *p++ = '-';
    while (n)
        *p++ = tmp[--n];
    if (decimals) {
        *p++ = '.';
        for (int i = decimals - 1; i >= 0; i--) {
            p[i] = (char)('0' + frac % 10);
            frac /= 10;
        }
        p += decimals;
    }
    *p = '\0';
    return (size_t)(p - buf);
}

int csv_parse_u64(const char *s, uint64_t *out)
{
    char *end;
    if (!s || *s < '0' || *s > '9')
        return -1;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*end || errno == ERANGE)
        return -1;
    *out = v;
    return 0;
}

/*
 * csv.c: the CSV reader and writer of csv.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli/csv.h"
#include "banned.h"

void csv_reader_init(struct csv_reader *r, FILE *fp)
{
    memset(r, 0, sizeof *r);
    r->fp = fp;
}

void csv_reader_release(struct csv_reader *r)
{
    free(r->line);
    r->line = NULL;
    r->cap = 0;
}

/* Split r->line in place. Returns 0, or -1 with r->error set. */
static int split(struct csv_reader *r, size_t len)
{
    char *p = r->line, *end = r->line + len;
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
            char *comma = memchr(p, ',', (size_t)(end - p));
            if (!comma) {
                *end = '\0';
                return 0;
            }
            *comma = '\0';
            p = comma + 1;
        }
    }
}

int csv_read(struct csv_reader *r)
{
    r->error = NULL;
    errno = 0;
    ssize_t n = getline(&r->line, &r->cap, r->fp);
    if (n < 0)
        return ferror(r->fp) ? -2 : 0;
    r->lineno++;
    size_t len = (size_t)n;
    while (len > 0 && (r->line[len - 1] == '\n' || r->line[len - 1] == '\r'))
        len--;
    if (memchr(r->line, '\0', len)) {
        r->error = "NUL byte in line";
        return -1;
    }
    r->line[len] = '\0';
    return split(r, len) == 0 ? 1 : -1;
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

int csv_parse_double(const char *s, double *out)
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

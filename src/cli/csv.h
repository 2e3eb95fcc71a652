/*
 * cli/csv.h: a small RFC 4180 CSV reader and writer for the command line,
 * and the exact number conversions its bulk paths need.
 *
 * The reader yields one record per line: fields split on commas, double
 * quotes around a field allow commas and "" inside it. A quoted field may
 * not span lines (a customer CSV never needs it); that, an unterminated
 * quote or more than CSV_MAX_FIELDS fields is a parse error for that line
 * only, and reading goes on with the next line. CRLF line ends are accepted.
 *
 * The reader reads big blocks (CSV_BLOCK bytes), not lines: from fp's file
 * descriptor with read(2) when fp has one (so a pipe's lines are handled as
 * they arrive, not when a block has filled), else with fread. So fp must not
 * hold input already buffered by stdio when the reader starts: open it, or
 * rewind it, and hand it over. Lines of any length are read (the buffer
 * grows).
 *
 * Field pointers point into the reader's buffer and stay valid until the
 * next csv_read(). Not thread-safe.
 */
#ifndef WHACO_CLI_CSV_H
#define WHACO_CLI_CSV_H

#include <stdint.h>
#include <stdio.h>

#define CSV_MAX_FIELDS 64
#define CSV_BLOCK      (1u << 20) /* bytes asked of each read */
#define CSV_FIXED_MAX  330        /* csv_format_fixed's buffer: any double, 4 decimals */

struct csv_reader {
    FILE *fp;                     /* borrowed */
    int fd;                       /* fileno(fp), or -1 to use fread */
    char *buf;                    /* owned: unconsumed input, lines split in place */
    size_t cap;                   /* bytes allocated for buf */
    size_t pos;                   /* start of the unconsumed input in buf */
    size_t end;                   /* end of the input read into buf */
    size_t scanned;               /* buf[pos..scanned) is known to hold no newline */
    int eof;                      /* the last read returned end of input */
    long lineno;                  /* 1-based number of the current line */
    uint64_t consumed;            /* input bytes of the lines returned so far */
    int nfields;                  /* fields in the current record */
    char *fields[CSV_MAX_FIELDS]; /* NUL-terminated, into buf */
    const char *error;            /* why the current line failed, or NULL */
};

/* Start reading fp (borrowed; the caller closes it). Allocates nothing yet. */
void csv_reader_init(struct csv_reader *r, FILE *fp);

/* Free the reader's buffer. Does not close fp. */
void csv_reader_release(struct csv_reader *r);

/*
 * Read the next record. Returns 1 and fills fields, 0 at end of input,
 * -1 if the line could not be parsed (r->error says why; call again for the
 * next line) and -2 on a read error (errno set; ENOMEM when a long line
 * could not get memory -- nothing is lost, a later call may succeed).
 */
int csv_read(struct csv_reader *r);

/*
 * 1 if the next csv_read() can return without reading input (a whole line
 * is buffered, or the input has ended), 0 if it would have to read -- and
 * so may wait, on a pipe or a terminal. A caller that buffers output
 * flushes it then, so that rows arriving slowly are answered as they come.
 */
int csv_line_ready(struct csv_reader *r);

/* Write s as one CSV field, quoting it only if it needs quotes. */
void csv_write_field(FILE *out, const char *s);

/*
 * Parse a whole field as a double (strtod syntax; blanks around the number
 * are allowed, nothing else is left over): 0 on success, -1 if it is empty
 * or not a number. Overflow and "nan"/"inf" parse
 * to non-finite values on purpose, so that validation can report them as
 * such rather than as unreadable.
 *
 * The result is always strtod's (correctly rounded, C locale): a plain
 * decimal ([+-]digits[.digits], at most 19 digits, significand up to 2^53,
 * at most 22 decimals) is converted by hand, exactly, and anything else by
 * strtod itself.
 */
int csv_parse_double(const char *s, double *out);

/*
 * Write v with `decimals` digits after the point (0..4), exactly as
 * snprintf(buf, CSV_FIXED_MAX, "%.*f", decimals, v) would in the default
 * rounding mode: the exact binary value, rounded half to even, "-" kept on
 * negative values that round to zero. buf holds CSV_FIXED_MAX bytes; the
 * text is NUL-terminated and its length returned. Magnitudes up to 2^40
 * take an integer-only path; larger, non-finite or other precisions use
 * snprintf.
 */
size_t csv_format_fixed(char *buf, double v, int decimals);

/*
 * Parse a whole field (or command-line value) as a decimal unsigned
 * integer: digits only, no sign, no blanks, no overflow. 0 on success, -1
 * otherwise (s may be NULL).
 */
int csv_parse_u64(const char *s, uint64_t *out);

#endif /* WHACO_CLI_CSV_H */

/*
 * cli/csv.h: a small RFC 4180 CSV reader and writer for the command line.
 *
 * The reader yields one record per line: fields split on commas, double
 * quotes around a field allow commas and "" inside it. A quoted field may
 * not span lines (a customer CSV never needs it); that, an unterminated
 * quote or more than CSV_MAX_FIELDS fields is a parse error for that line
 * only, and reading goes on with the next line. CRLF line ends are accepted.
 *
 * Field pointers point into the reader's line buffer and stay valid until
 * the next csv_read(). Not thread-safe.
 */
#ifndef WHACO_CLI_CSV_H
#define WHACO_CLI_CSV_H

#include <stdio.h>

#define CSV_MAX_FIELDS 64

struct csv_reader {
    FILE *fp;                     /* borrowed */
    char *line;                   /* owned: the current line, split in place */
    size_t cap;                   /* bytes allocated for line */
    long lineno;                  /* 1-based number of the current line */
    int nfields;                  /* fields in the current record */
    char *fields[CSV_MAX_FIELDS]; /* NUL-terminated, into line */
    const char *error;            /* why the current line failed, or NULL */
};

/* Start reading fp (borrowed; the caller closes it). */
void csv_reader_init(struct csv_reader *r, FILE *fp);

/* Free the reader's buffer. Does not close fp. */
void csv_reader_release(struct csv_reader *r);

/*
 * Read the next record. Returns 1 and fills fields, 0 at end of input,
 * -1 if the line could not be parsed (r->error says why; call again for the
 * next line) and -2 on a read error (errno set).
 */
int csv_read(struct csv_reader *r);

/* Write s as one CSV field, quoting it only if it needs quotes. */
void csv_write_field(FILE *out, const char *s);

/*
 * Parse a whole field as a double (strtod syntax; blanks around the number
 * are allowed, nothing else is left over): 0 on success, -1 if it is empty
 * or not a number. Overflow and "nan"/"inf" parse
 * to non-finite values on purpose, so that validation can report them as
 * such rather than as unreadable.
 */
int csv_parse_double(const char *s, double *out);

#endif /* WHACO_CLI_CSV_H */

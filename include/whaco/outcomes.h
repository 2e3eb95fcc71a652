/*
 * whaco/outcomes.h: an outcomes file from a CRM or DMS -- the sales (and
 * walk-ins that ended without one) that a dealership records outside the
 * desk -- and what each of its rows came to (docs/outcomes.md).
 *
 * The file is CSV (RFC 4180: quoted fields may hold commas, quotes doubled
 * and line breaks; CRLF or LF; a UTF-8 byte order mark is skipped) whose
 * first non-blank row names the columns, in any order:
 *   customerId     required: the walk-in, as analyze-customer named it
 *   outcome        required: sold, no_sale, be_back or appointment (case,
 *                  spaces and hyphens aside: "No Sale" is no_sale)
 *   time           required: when it happened, ISO 8601 with Z or an offset
 *                  (2026-03-01T14:30:00Z, 2026-03-01 09:30:00-05:00)
 *   salespersonId  optional column; required in a sold row
 *   dealId         optional
 * Column names match ignoring case, spaces, '_' and '-' ("Customer ID" is
 * customerId); other columns are ignored and listed. Blank rows (nothing
 * or only separators) are skipped. Rows are numbered as a spreadsheet
 * shows them: the header is row 1, blank rows count.
 *
 * whaco_outcomes_parse reads such a file from memory: a file it cannot
 * read as one (no header, a required column missing, broken quoting, too
 * many rows) is an error of the file; a row with a bad value is a row
 * marked invalid, naming the column. whaco_outcome_explain turns what a
 * row came to (its parse, then whaco_intel_outcome's result) into the
 * report's status, reason and message, the same for the HTTP API and the
 * CLI.
 *
 * Pure: no I/O, no clock; allocation through whaco/alloc.h. Thread-safe
 * (no shared state).
 */
#ifndef WHACO_OUTCOMES_H
#define WHACO_OUTCOMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/intel.h"

#define WHACO_OUTCOMES_ROWS_MAX    1000 /* data rows in one file */
#define WHACO_OUTCOMES_COLUMNS_MAX 256  /* columns in one file */
#define WHACO_OUTCOMES_IGNORED_MAX 8    /* ignored columns listed by name */
#define WHACO_OUTCOMES_PROBLEM_MAX 200  /* bytes of a problem or message, NUL included */

/* One data row as read. */
struct whaco_outcome_line {
    uint32_t row;                   /* its number in the file (the header is row 1) */
    char customer_id[WHACO_ID_MAX]; /* as the file has it, for the report (cut to 63 bytes,
                                       control characters as '?'); "" if none */
    bool valid;                     /* r may be applied */
    struct whaco_outcome_row r;     /* valid: the row */
    const char *field;              /* !valid: the column at fault, NULL for the row's shape */
    char problem[WHACO_OUTCOMES_PROBLEM_MAX]; /* !valid: what is wrong and what is allowed */
};

/* A file read by whaco_outcomes_parse. */
struct whaco_outcome_file {
    struct whaco_outcome_line *lines; /* the n data rows, in file order */
    size_t n;
    /* The names of the first ignored columns (cut to 63 bytes), and how many in all. */
    char ignored[WHACO_OUTCOMES_IGNORED_MAX][WHACO_ID_MAX];
    uint32_t n_ignored;
};

/* Why a file is not an outcomes file (the API's 400 answer). */
struct whaco_outcomes_error {
    /* CSV_NO_HEADER, CSV_MISSING_COLUMN, CSV_DUPLICATE_COLUMN, CSV_SYNTAX,
     * CSV_TOO_MANY_ROWS, CSV_TOO_MANY_COLUMNS: static storage */
    const char *code;
    const char *field; /* the column concerned, or NULL */
    char message[WHACO_OUTCOMES_PROBLEM_MAX];
};

/*
 * Read the outcomes file text[0..len) into *f (zeroed first; release it
 * with whaco_outcomes_release). Returns WHACO_OK; WHACO_E_PARSE with *e
 * filled when the file is not an outcomes file (*f then holds nothing);
 * WHACO_E_NOMEM (*f holds nothing).
 */
int whaco_outcomes_parse(const char *text, size_t len, struct whaco_outcome_file *f,
                         struct whaco_outcomes_error *e);

/* Free what *f holds and zero it. Safe on a zeroed file. */
void whaco_outcomes_release(struct whaco_outcome_file *f);

/*
 * Parse an ISO 8601 date and time with its offset, s[0..len): YYYY-MM-DD,
 * 'T' (or 't' or a space), hh:mm, optionally :ss and a fraction (cut to
 * milliseconds), then 'Z' (or 'z') or +hh:mm, +hhmm, +hh (or '-'). Years
 * 1970..9999, every field in its range (no leap second, no 24:00).
 * Returns WHACO_OK with *ms the Unix time in ms, or WHACO_E_PARSE.
 */
int whaco_time_parse(const char *s, size_t len, int64_t *ms);

/* Write Unix ms (>= 0) as "2026-03-01T14:30:00Z" (seconds, UTC) into buf. */
void whaco_time_format(int64_t ms, char buf[32]);

/* What one row came to. */
enum whaco_outcome_status {
    WHACO_ROW_RECORDED = 0,  /* the walk-in ended now */
    WHACO_ROW_ALREADY = 1,   /* already recorded: nothing to do */
    WHACO_ROW_UNMATCHED = 2, /* not applied: reason and message say why */
};

struct whaco_outcome_report {
    int status;         /* enum whaco_outcome_status */
    const char *reason; /* UNMATCHED: INVALID_ROW, INVALID_FIELD, UNKNOWN_CUSTOMER,
                           OUTCOME_CONFLICT, BEFORE_ARRIVAL, UNKNOWN_SALESPERSON,
                           WRONG_SALESPERSON, FLOOR_NOT_TRACKED, NOT_RECORDED; else NULL */
    const char *field;  /* the row's field at fault, or NULL */
    char message[WHACO_OUTCOMES_PROBLEM_MAX + 64]; /* for people; "" when recorded */
};

/*
 * What line came to: an invalid line is INVALID_ROW or INVALID_FIELD with
 * its problem; a valid one is what whaco_intel_outcome (or the engine, for
 * WHACO_E_NOMEM and the like: NOT_RECORDED) returned as rc, with its
 * detail d (may be NULL).
 */
void whaco_outcome_explain(const struct whaco_outcome_line *line, int rc,
                           const struct whaco_outcome_detail *d, struct whaco_outcome_report *rep);

#endif /* WHACO_OUTCOMES_H */

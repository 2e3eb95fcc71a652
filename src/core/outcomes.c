/*
 * outcomes.c: the outcomes file of whaco/outcomes.h -- CSV read from memory
 * into rows, ISO 8601 times, and the report of what each row came to.
 *
 * The reader walks the text once, field by field, without copying it:
 * only the values of the five known columns are unescaped, into bounded
 * buffers that remember the full length (so a value too long to keep is
 * still known to be too long). Invariants: a file is either refused whole
 * (WHACO_E_PARSE, nothing kept) or read whole, every data row once, in
 * file order; a row is valid only if every value passed the same checks
 * whaco_intel_outcome makes (and UTF-8, which the API's JSON needs).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/floor.h"
#include "whaco/outcomes.h"
#include "whaco/team.h"
#include "whaco/utf8.h"
#include "core/internal.h"
#include "banned.h"

#define MS_PER_DAY 86400000LL
#define FIELD_CAP  128 /* bytes kept of a value: more than any valid one needs */

/*==== Columns =============================================================*/

enum column { COL_CUSTOMER, COL_OUTCOME, COL_TIME, COL_SALESPERSON, COL_DEAL, COL_N };

/* The API's names; the first three are required. */
static const char *const column_names[COL_N] = {"customerId", "outcome", "time", "salespersonId",
                                                "dealId"};
#define COL_REQUIRED 3

/*
 * A column name as it is matched: lower case, without spaces, tabs, '_'
 * and '-', into out[cap] (cut). Returns out.
 */
static char *normalize(const char *s, size_t len, char *out, size_t cap)
{
    size_t n = 0;
    for (size_t i = 0; i < len && n + 1 < cap; i++) {
        char ch = s[i];
        if (ch == ' ' || ch == '\t' || ch == '_' || ch == '-')
            continue;
        out[n++] = ch >= 'A' && ch <= 'Z' ? (char)(ch - 'A' + 'a') : ch;
    }
    out[n] = '\0';
    return out;
}

/* The known column called name[0..len), or -1. */
static int column_of(const char *name, size_t len)
{
    char want[FIELD_CAP], have[FIELD_CAP];
    normalize(name, len, have, sizeof have);
    for (int c = 0; c < COL_N; c++) {
        const char *n = column_names[c];
        if (strcmp(normalize(n, strlen(n), want, sizeof want), have) == 0)
            return c;
    }
    return -1;
}

/*==== Reading CSV =========================================================*/

struct csv {
    const char *p, *end;
    uint32_t row; /* the record being read: the header's is 1 if it is the first line */
};

/* A value as read: its first FIELD_CAP - 1 bytes, and its whole length. */
struct field {
    char buf[FIELD_CAP];
    size_t len;
};

static void field_put(struct field *fd, char ch)
{
    if (fd->len < sizeof fd->buf - 1)
        fd->buf[fd->len] = ch;
    fd->len++;
}

static void field_end(struct field *fd)
{
    fd->buf[fd->len < sizeof fd->buf ? fd->len : sizeof fd->buf - 1] = '\0';
}

/* At the end of a record: a line break (consumed) or the end of the text. */
static bool at_record_end(struct csv *c)
{
    if (c->p == c->end)
        return true;
    if (*c->p == '\n') {
        c->p++;
        return true;
    }
    if (*c->p == '\r' && c->p + 1 < c->end && c->p[1] == '\n') {
        c->p += 2;
        return true;
    }
    return false;
}

static void skip_blanks(struct csv *c)
{
    while (c->p < c->end && (*c->p == ' ' || *c->p == '\t'))
        c->p++;
}

static int syntax_error(const struct csv *c, struct whaco_outcomes_error *e, const char *what)
{
    e->code = "CSV_SYNTAX";
    e->field = NULL;
    snprintf(e->message, sizeof e->message, "row %u: %s", (unsigned)c->row, what);
    return -1;
}

/* A quoted field after its opening quote: up to the closing one ("" is a quote). */
static int quoted(struct csv *c, struct field *fd, struct whaco_outcomes_error *e)
{
    for (;;) {
        if (c->p == c->end)
            return syntax_error(c, e, "a quoted field is not closed (a \" is missing)");
        char ch = *c->p++;
        if (ch == '"') {
            if (c->p < c->end && *c->p == '"') {
                c->p++;
                field_put(fd, '"');
                continue;
            }
            return 0;
        }
        field_put(fd, ch);
    }
}

/*
 * Read the next field of the record into *fd, without the spaces and tabs
 * around it. Returns 1 if another field of the record follows, 0 if the
 * record ended, -1 on broken quoting (*e filled).
 */
static int next_field(struct csv *c, struct field *fd, struct whaco_outcomes_error *e)
{
    fd->len = 0;
    skip_blanks(c);
    if (c->p < c->end && *c->p == '"') {
        c->p++;
        if (quoted(c, fd, e) < 0)
            return -1;
        skip_blanks(c);
        field_end(fd);
        if (at_record_end(c))
            return 0;
        if (*c->p != ',')
            return syntax_error(c, e, "text after a closing quote (a field is \"...\" alone)");
        c->p++;
        return 1;
    }
    size_t keep = 0; /* the length up to the last character that is not a blank */
    for (;;) {
        if (at_record_end(c))
            break;
        char ch = *c->p++;
        if (ch == ',') {
            fd->len = keep;
            field_end(fd);
            return 1;
        }
        field_put(fd, ch);
        if (ch != ' ' && ch != '\t')
            keep = fd->len;
    }
    fd->len = keep;
    field_end(fd);
    return 0;
}

/*==== Times ===============================================================*/

/* Days from 1970-01-01 to y-m-d of the proleptic Gregorian calendar (Hinnant's). */
static int64_t days_from_civil(int64_t y, int64_t m, int64_t d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    int64_t yoe = y - era * 400;
    int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

static int days_in_month(int64_t y, int64_t m)
{
    static const int days[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* n decimal digits at s[*at] as a number; -1 if they are not all digits. */
static int64_t digits(const char *s, size_t len, size_t *at, size_t n)
{
    int64_t v = 0;
    if (*at + n > len)
        return -1;
    for (size_t i = 0; i < n; i++) {
        char ch = s[*at + i];
        if (ch < '0' || ch > '9')
            return -1;
        v = v * 10 + (ch - '0');
    }
    *at += n;
    return v;
}

/* s[*at] is ch (consumed). */
static bool expect(const char *s, size_t len, size_t *at, char ch)
{
    if (*at < len && s[*at] == ch) {
        (*at)++;
        return true;
    }
    return false;
}

/* The zone at s[*at..len): Z, or +hh[[:]mm] / -hh[[:]mm]; *off_min its offset. */
static bool zone(const char *s, size_t len, size_t at, int64_t *off_min)
{
    if (at + 1 == len && (s[at] == 'Z' || s[at] == 'z')) {
        *off_min = 0;
        return true;
    }
    if (at >= len || (s[at] != '+' && s[at] != '-'))
        return false;
    int64_t sign = s[at++] == '-' ? -1 : 1, mm = 0;
    int64_t hh = digits(s, len, &at, 2);
    if (at < len) {
        expect(s, len, &at, ':');
        mm = digits(s, len, &at, 2);
    }
    if (hh < 0 || hh > 23 || mm < 0 || mm > 59 || at != len)
        return false;
    *off_min = sign * (hh * 60 + mm);
    return true;
}

int whaco_time_parse(const char *s, size_t len, int64_t *ms)
{
    size_t at = 0;
    int64_t y = digits(s, len, &at, 4), mo = -1, d = -1, h = -1, mi = -1, sec = 0, frac = 0;
    if (expect(s, len, &at, '-'))
        mo = digits(s, len, &at, 2);
    if (expect(s, len, &at, '-'))
        d = digits(s, len, &at, 2);
    if (at < len && (s[at] == 'T' || s[at] == 't' || s[at] == ' ')) {
        at++;
        h = digits(s, len, &at, 2);
    }
    if (expect(s, len, &at, ':'))
        mi = digits(s, len, &at, 2);
    if (mi >= 0 && expect(s, len, &at, ':')) {
        sec = digits(s, len, &at, 2);
        if (sec >= 0 && (expect(s, len, &at, '.') || expect(s, len, &at, ','))) {
            size_t first = at;
            int64_t scale = 100; /* of the next digit, in ms: 0 after the milliseconds */
            while (at < len && s[at] >= '0' && s[at] <= '9') {
                frac += (s[at] - '0') * scale;
                scale /= 10;
                at++;
            }
            if (at == first || at - first > 9)
                return WHACO_E_PARSE;
        }
    }
    int64_t off = 0;
    if (y < 1970 || y > 9999 || mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) || h < 0 ||
        h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59 || !zone(s, len, at, &off))
        return WHACO_E_PARSE;
    int64_t t = days_from_civil(y, mo, d) * MS_PER_DAY + ((h * 60 + mi - off) * 60 + sec) * 1000;
    if (t + frac < 0)
        return WHACO_E_PARSE; /* before 1970 in UTC: 1970-01-01T00:30+01:00 */
    *ms = t + frac;
    return WHACO_OK;
}

void whaco_time_format(int64_t ms, char buf[32])
{
    const int64_t last = 253402300799999LL; /* 9999-12-31T23:59:59.999Z */
    if (ms < 0)
        ms = 0;
    if (ms > last)
        ms = last;
    int64_t days = ms / MS_PER_DAY, rest = ms % MS_PER_DAY / 1000;
    /* Hinnant's civil_from_days. */
    int64_t z = days + 719468, era = z / 146097, doe = z - era * 146097;
    int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100), mp = (5 * doy + 2) / 153;
    int64_t d = doy - (153 * mp + 2) / 5 + 1, m = mp < 10 ? mp + 3 : mp - 9;
    int64_t y = yoe + era * 400 + (m <= 2);
    /* The modulos bound each field for the compiler; after the clamp they change nothing. */
    snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02uZ", (unsigned)(y % 10000), (unsigned)(m % 100),
             (unsigned)(d % 100), (unsigned)(rest / 3600 % 100), (unsigned)(rest / 60 % 60),
             (unsigned)(rest % 60));
}

/*==== Rows ================================================================*/

/* s[0..len) as a report shows it: cut to fit out[cap], control characters as '?'. */
static void shown(char *out, size_t cap, const char *s, size_t len)
{
    size_t n = len < cap - 1 ? len : cap - 1;
    for (size_t i = 0; i < n; i++)
        out[i] = (unsigned char)s[i] < 0x20 || s[i] == 0x7f ? '?' : s[i];
    memset(out + n, 0, cap - n);
}

/* A text value of min..cap-1 bytes, printable UTF-8, into dst[cap]. */
static bool text_value(const struct field *fd, size_t min, char *dst, size_t cap)
{
    if (fd->len < min || fd->len >= cap || !whaco_text_printable(fd->buf, fd->len) ||
        !whaco_utf8_valid(fd->buf, fd->len))
        return false;
    memcpy(dst, fd->buf, fd->len);
    memset(dst + fd->len, 0, cap - fd->len);
    return true;
}

/* The outcome named by a value, "No Sale" and "no-sale" as no_sale; -1 if none. */
static int outcome_value(const struct field *fd)
{
    char name[32];
    size_t n = 0;
    if (fd->len >= sizeof name)
        return -1;
    for (size_t i = 0; i < fd->len; i++) {
        char ch = fd->buf[i];
        if (ch == ' ' || ch == '-')
            ch = '_';
        else if (ch >= 'A' && ch <= 'Z')
            ch = (char)(ch - 'A' + 'a');
        name[n++] = ch;
    }
    name[n] = '\0';
    return whaco_outcome_parse(name);
}

/* Mark line invalid: the field at fault (NULL: the row) and what is wrong, printf-style. */
static bool invalid(struct whaco_outcome_line *line, const char *field, const char *fmt, ...)
{
    va_list ap;
    line->valid = false;
    line->field = field;
    va_start(ap, fmt);
    vsnprintf(line->problem, sizeof line->problem, fmt, ap);
    va_end(ap);
    return false;
}

/* Check the values of a data row into line->r; false (line marked) at the first bad one. */
static bool check_row(struct whaco_outcome_line *line, const struct field v[COL_N])
{
    struct whaco_outcome_row *r = &line->r;
    char seen[48];
    shown(seen, sizeof seen, v[COL_OUTCOME].buf, v[COL_OUTCOME].len);
    if (!text_value(&v[COL_CUSTOMER], 1, r->customer_id, sizeof r->customer_id))
        return invalid(line, "customerId",
                       "customerId must be 1 to 63 bytes of printable text (UTF-8)");
    int outcome = outcome_value(&v[COL_OUTCOME]);
    if (outcome < 0)
        return invalid(line, "outcome",
                       "outcome must be one of sold, no_sale, be_back, appointment (got '%s')",
                       seen);
    r->outcome = (uint8_t)outcome;
    if (!text_value(&v[COL_SALESPERSON], 0, r->salesperson_id, sizeof r->salesperson_id) ||
        (r->salesperson_id[0] && !whaco_member_id_valid(r->salesperson_id)))
        return invalid(line, "salespersonId",
                       "salespersonId must be 1 to 63 bytes of printable ASCII without spaces");
    if (outcome == WHACO_OUTCOME_SOLD && !r->salesperson_id[0])
        return invalid(line, "salespersonId", "salespersonId is required for a sold row");
    if (!text_value(&v[COL_DEAL], 0, r->deal_id, sizeof r->deal_id))
        return invalid(line, "dealId", "dealId must be at most 63 bytes of printable text");
    shown(seen, sizeof seen, v[COL_TIME].buf, v[COL_TIME].len);
    if (v[COL_TIME].len >= FIELD_CAP ||
        whaco_time_parse(v[COL_TIME].buf, v[COL_TIME].len, &r->time_ms) != WHACO_OK)
        return invalid(line, "time",
                       "time must be an ISO 8601 date and time with Z or an offset, such as "
                       "2026-03-01T14:30:00Z (got '%s')",
                       seen);
    line->valid = true;
    return true;
}

/*==== The file ============================================================*/

struct reader {
    struct csv c;
    int col[WHACO_OUTCOMES_COLUMNS_MAX]; /* the header's column i: enum column, or -1 */
    uint32_t ncols;
    struct whaco_outcome_file *f;
    size_t cap; /* lines allocated */
};

/* Remember an ignored column's name (the first few), and count it. */
static void ignore_column(struct whaco_outcome_file *f, const struct field *fd)
{
    if (f->n_ignored < WHACO_OUTCOMES_IGNORED_MAX)
        shown(f->ignored[f->n_ignored], sizeof f->ignored[0], fd->buf, fd->len);
    f->n_ignored++;
}

static int file_error(struct whaco_outcomes_error *e, const char *code, const char *field,
                      const char *message)
{
    e->code = code;
    e->field = field;
    snprintf(e->message, sizeof e->message, "%s", message);
    return -1;
}

/* One header field: a known column (once), or one to ignore. */
static int header_field(struct reader *rd, const struct field *fd, bool *known_seen,
                        struct whaco_outcomes_error *e)
{
    if (rd->ncols == WHACO_OUTCOMES_COLUMNS_MAX)
        return file_error(e, "CSV_TOO_MANY_COLUMNS", NULL, "the header has more than 256 columns");
    int c = column_of(fd->buf, fd->len < FIELD_CAP ? fd->len : FIELD_CAP - 1);
    for (uint32_t i = 0; c >= 0 && i < rd->ncols; i++)
        if (rd->col[i] == c) {
            snprintf(e->message, sizeof e->message, "the column %s appears twice in the header",
                     column_names[c]);
            e->code = "CSV_DUPLICATE_COLUMN";
            e->field = column_names[c];
            return -1;
        }
    if (c < 0 && fd->len > 0)
        ignore_column(rd->f, fd);
    *known_seen = *known_seen || c >= 0;
    rd->col[rd->ncols++] = c;
    return 0;
}

/* The header: the first record with anything in it. */
static int read_header(struct reader *rd, struct whaco_outcomes_error *e)
{
    struct field fd;
    bool known = false;
    for (rd->c.row = 1; rd->c.p < rd->c.end; rd->c.row++) {
        int more;
        rd->ncols = 0;
        rd->f->n_ignored = 0;
        bool blank = true;
        do {
            more = next_field(&rd->c, &fd, e);
            if (more < 0 || header_field(rd, &fd, &known, e) < 0)
                return -1;
            blank = blank && fd.len == 0;
        } while (more);
        if (!blank)
            break;
    }
    if (rd->ncols == 0 || !known)
        return file_error(e, "CSV_NO_HEADER", NULL,
                          "the first row must name the columns: customerId,outcome,time "
                          "(required), salespersonId, dealId");
    for (int c = 0; c < COL_REQUIRED; c++) {
        bool have = false;
        for (uint32_t i = 0; i < rd->ncols; i++)
            have = have || rd->col[i] == c;
        if (!have) {
            snprintf(e->message, sizeof e->message,
                     "the header has no %s column (required: customerId, outcome, time)",
                     column_names[c]);
            e->code = "CSV_MISSING_COLUMN";
            e->field = column_names[c];
            return -1;
        }
    }
    return 0;
}

/* The next line of f (grown as needed); NULL when out of memory. */
static struct whaco_outcome_line *new_line(struct reader *rd)
{
    struct whaco_outcome_file *f = rd->f;
    if (f->n == rd->cap) {
        size_t cap = rd->cap ? 2 * rd->cap : 16;
        struct whaco_outcome_line *grown = whaco_reallocarray(f->lines, cap, sizeof *grown);
        if (!grown)
            return NULL;
        f->lines = grown;
        rd->cap = cap;
    }
    struct whaco_outcome_line *line = &f->lines[f->n];
    memset(line, 0, sizeof *line);
    return line;
}

/* What read_row did. */
enum row_read {
    ROW_END,   /* the text is over */
    ROW_READ,  /* a record was read (and kept unless blank) */
    ROW_BAD,   /* the file is not an outcomes file (*e) */
    ROW_NOMEM, /* out of memory */
};

/* Read one data record into rd->f. */
static enum row_read read_row(struct reader *rd, struct whaco_outcomes_error *e)
{
    struct field v[COL_N], extra;
    uint32_t n = 0;
    bool blank = true;
    int more;
    if (rd->c.p == rd->c.end)
        return ROW_END;
    rd->c.row++;
    memset(v, 0, sizeof v);
    do {
        struct field *fd = n < rd->ncols && rd->col[n] >= 0 ? &v[rd->col[n]] : &extra;
        more = next_field(&rd->c, fd, e);
        if (more < 0)
            return ROW_BAD;
        blank = blank && fd->len == 0;
        n++;
    } while (more);
    if (blank)
        return ROW_READ;
    if (rd->f->n == WHACO_OUTCOMES_ROWS_MAX) {
        file_error(e, "CSV_TOO_MANY_ROWS", NULL,
                   "the file has more than 1000 rows; import it in parts");
        return ROW_BAD;
    }
    struct whaco_outcome_line *line = new_line(rd);
    if (!line)
        return ROW_NOMEM;
    line->row = rd->c.row;
    shown(line->customer_id, sizeof line->customer_id, v[COL_CUSTOMER].buf, v[COL_CUSTOMER].len);
    if (n > rd->ncols) {
        invalid(line, NULL, "the row has %u fields, the header %u", (unsigned)n,
                (unsigned)rd->ncols);
    } else {
        check_row(line, v);
    }
    rd->f->n++;
    return ROW_READ;
}

int whaco_outcomes_parse(const char *text, size_t len, struct whaco_outcome_file *f,
                         struct whaco_outcomes_error *e)
{
    struct reader *rd = whaco_calloc(1, sizeof *rd);
    int rc = WHACO_OK;
    memset(f, 0, sizeof *f);
    memset(e, 0, sizeof *e);
    if (!rd)
        return WHACO_E_NOMEM;
    rd->f = f;
    rd->c.p = text;
    rd->c.end = text + len;
    if (len >= 3 && memcmp(text, "\xef\xbb\xbf", 3) == 0)
        rd->c.p += 3; /* a UTF-8 byte order mark (Excel's "CSV UTF-8") */
    if (read_header(rd, e) < 0) {
        rc = WHACO_E_PARSE;
    } else {
        enum row_read got;
        do
            got = read_row(rd, e);
        while (got == ROW_READ);
        rc = got == ROW_END ? WHACO_OK : got == ROW_BAD ? WHACO_E_PARSE : WHACO_E_NOMEM;
    }
    if (rc != WHACO_OK)
        whaco_outcomes_release(f);
    whaco_free(rd);
    return rc;
}

void whaco_outcomes_release(struct whaco_outcome_file *f)
{
    whaco_free(f->lines);
    memset(f, 0, sizeof *f);
}

/*==== The report ==========================================================*/

static void unmatched(struct whaco_outcome_report *rep, const char *reason, const char *field,
                      const char *fmt, ...)
{
    va_list ap;
    rep->status = WHACO_ROW_UNMATCHED;
    rep->reason = reason;
    rep->field = field;
    va_start(ap, fmt);
    vsnprintf(rep->message, sizeof rep->message, fmt, ap);
    va_end(ap);
}

/* A refusal of whaco_intel_outcome's own field checks. */
static void explain_field(struct whaco_outcome_report *rep, const struct whaco_outcome_row *r,
                          int rc, const char *field)
{
    char when[32];
    if (rc == WHACO_E_TIME_FUTURE) {
        whaco_time_format(r->time_ms, when);
        unmatched(rep, "INVALID_FIELD", "time",
                  "time %s is more than 5 minutes after the import: an outcome cannot be in the "
                  "future",
                  when);
    } else {
        unmatched(rep, "INVALID_FIELD", field, "%s: %s", field ? field : "row", whaco_strerror(rc));
    }
}

/* A row that reached the floor: what the match said. */
static void explain_match(struct whaco_outcome_report *rep, const struct whaco_outcome_row *r,
                          int rc, const struct whaco_outcome_detail *d)
{
    char when[32];
    const char *id = r->customer_id, *how = whaco_outcome_name(d->recorded);
    switch (rc) {
    case WHACO_E_CUSTOMER_NOT_FOUND:
        unmatched(rep, "UNKNOWN_CUSTOMER", "customerId",
                  "no walk-in '%s' is known: never analysed while the floor was tracked, or it "
                  "ended before the last %d that the floor remembers",
                  id, WHACO_FLOOR_RECENT);
        break;
    case WHACO_E_OUTCOME_CONFLICT:
        unmatched(rep, "OUTCOME_CONFLICT", "outcome",
                  "the walk-in '%s' already ended as %s, not %s", id, how ? how : "?",
                  whaco_outcome_name(r->outcome));
        break;
    case WHACO_E_BEFORE_ARRIVAL:
        whaco_time_format(d->arrived_ms, when);
        unmatched(rep, "BEFORE_ARRIVAL", "time",
                  "the walk-in '%s' in the store arrived at %s, after this outcome: the row is "
                  "about an earlier visit",
                  id, when);
        break;
    case WHACO_E_NOT_FOUND:
        unmatched(rep, "UNKNOWN_SALESPERSON", "salespersonId",
                  "salespersonId '%s' is not on the team", r->salesperson_id);
        break;
    case WHACO_E_WRONG_SALESPERSON:
        if (d->with_id[0])
            unmatched(rep, "WRONG_SALESPERSON", "salespersonId",
                      "the walk-in '%s' is with '%s', not '%s' (assign it to them, then import "
                      "again)",
                      id, d->with_id, r->salesperson_id);
        else
            unmatched(rep, "WRONG_SALESPERSON", "salespersonId",
                      "the walk-in '%s' is waiting at the desk, not with '%s' (assign it to "
                      "them, then import again)",
                      id, r->salesperson_id);
        break;
    case WHACO_E_FLOOR_OFF:
        unmatched(rep, "FLOOR_NOT_TRACKED", NULL,
                  "the floor is not tracked (floor-tracking off, or auto before the first "
                  "clock-in): there are no walk-ins to match");
        break;
    default:
        unmatched(rep, "NOT_RECORDED", NULL, "not recorded: %s; import the file again",
                  whaco_strerror(rc));
        break;
    }
}

void whaco_outcome_explain(const struct whaco_outcome_line *line, int rc,
                           const struct whaco_outcome_detail *d, struct whaco_outcome_report *rep)
{
    static const struct whaco_outcome_detail none;
    memset(rep, 0, sizeof *rep);
    if (!d)
        d = &none;
    if (!line->valid) {
        unmatched(rep, line->field ? "INVALID_FIELD" : "INVALID_ROW", line->field, "%s",
                  line->problem);
    } else if (rc == WHACO_OK) {
        rep->status = WHACO_ROW_RECORDED;
    } else if (rc == WHACO_E_ALREADY_RECORDED) {
        rep->status = WHACO_ROW_ALREADY;
        snprintf(rep->message, sizeof rep->message, "the walk-in '%s' already ended as %s",
                 line->r.customer_id, whaco_outcome_name(line->r.outcome));
    } else if (rc == WHACO_E_TIME_FUTURE || rc == WHACO_E_ID_LENGTH ||
               rc == WHACO_E_OUTCOME_VALUE || rc == WHACO_E_INVAL) {
        explain_field(rep, &line->r, rc, d->field);
    } else {
        explain_match(rep, &line->r, rc, d);
    }
}

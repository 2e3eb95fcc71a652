/*
 * fuzz_csv.c: libFuzzer target for the CSV input of `whaco analyze`: the
 * reader (src/cli/csv.h), its number conversions, and the whole command
 * (header mapping, row-to-customer mapping, validation, output); and for
 * an outcomes file from a CRM (whaco/outcomes.h).
 *
 * Input: byte 0 without its bit 7 picks the mode (modulo 6), the rest is
 * the data:
 *   0  CSV text for csv_reader over fmemopen (the fread path). Checks:
 *      every record has 1..CSV_MAX_FIELDS NUL-terminated fields inside the
 *      reader's buffer, a refused line says why, line numbers count up,
 *      the consumed bytes never exceed the input, reading ends; and every
 *      record written back with csv_write_field reads back to the same
 *      fields.
 *   1  a field for csv_parse_double, checked against strtod (the contract:
 *      the result is always strtod's, blanks allowed around the number).
 *   2  a field for csv_parse_u64, checked against a plain digit loop.
 *   3  8 bytes of a double and a precision for csv_format_fixed, checked
 *      against snprintf("%.*f").
 *   4  a CSV file for whaco_cmd_analyze (`whaco analyze FILE`), through a
 *      memfd (the read(2) path); bit 7 of byte 0 picks --format json.
 *   5  an outcomes file for whaco_outcomes_parse, in a buffer of exactly
 *      its length. Checks: a refusal has a code and a message and keeps
 *      nothing; a file read has at most WHACO_OUTCOMES_ROWS_MAX rows with
 *      increasing row numbers from 2, each valid row passing the checks
 *      whaco_intel_outcome makes (it is applied to a tracked floor, which
 *      must accept or refuse it with the state unchanged), each invalid
 *      row naming what is wrong; every row's report has a status and, when
 *      unmatched, a reason and a message.
 * A broken invariant aborts, which libFuzzer reports as a crash.
 */
#define _GNU_SOURCE /* memfd_create */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "whaco/err.h"
#include "whaco/intel.h"
#include "whaco/outcomes.h"
#include "cli/cli.h"
#include "cli/csv.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_csv: invariant failed: %s (%s:%d)\n", #cond, __FILE__,           \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static FILE *devnull;

/* Copy p[0..n) as a C string, cut at the first NUL. */
static char *cstring(const uint8_t *p, size_t n)
{
    char *s = malloc(n + 1);
    CHECK(s != NULL);
    memcpy(s, p, n);
    s[n] = '\0';
    return s;
}

/* Write one record back as CSV and check that it reads as the same fields. */
static void check_rewrite(const struct csv_reader *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    CHECK(out != NULL);
    for (int i = 0; i < r->nfields; i++) {
        if (i)
            putc(',', out);
        csv_write_field(out, r->fields[i]);
    }
    putc('\n', out);
    CHECK(fclose(out) == 0);

    FILE *in = fmemopen(text, len, "r");
    CHECK(in != NULL);
    struct csv_reader back;
    csv_reader_init(&back, in);
    CHECK(csv_read(&back) == 1);
    CHECK(back.nfields == r->nfields);
    for (int i = 0; i < r->nfields; i++)
        CHECK(strcmp(back.fields[i], r->fields[i]) == 0);
    CHECK(csv_read(&back) == 0);
    csv_reader_release(&back);
    fclose(in);
    free(text);
}

static void fuzz_reader(const uint8_t *p, size_t n)
{
    /* fmemopen of zero bytes is refused; one spare byte stays unread. */
    char *text = malloc(n + 1);
    CHECK(text != NULL);
    memcpy(text, p, n);
    FILE *fp = fmemopen(text, n ? n : 1, "r");
    CHECK(fp != NULL);
    if (n == 0)
        (void)fgetc(fp); /* empty input: consume the spare byte */
    struct csv_reader r;
    csv_reader_init(&r, fp);
    long last = 0;
    for (size_t round = 0;; round++) {
        CHECK(round <= n + 1); /* at least one byte per line */
        int rc = csv_read(&r);
        CHECK(rc >= -1 && rc <= 1);
        if (rc == 0)
            break;
        CHECK(r.lineno == last + 1);
        last = r.lineno;
        CHECK(r.consumed <= n);
        if (rc < 0) {
            CHECK(r.error != NULL && r.error[0]);
            continue;
        }
        CHECK(r.error == NULL);
        CHECK(r.nfields >= 1 && r.nfields <= CSV_MAX_FIELDS);
        for (int i = 0; i < r.nfields; i++) {
            CHECK(r.fields[i] >= r.buf && r.fields[i] < r.buf + r.cap);
            CHECK(memchr(r.fields[i], '\0', (size_t)(r.buf + r.cap - r.fields[i])) != NULL);
        }
        check_rewrite(&r);
    }
    CHECK(r.consumed == n);
    CHECK(csv_read(&r) == 0); /* end of input stays the end */
    csv_reader_release(&r);
    fclose(fp);
    free(text);
}

/* The contract of csv_parse_double, from strtod alone. */
static int reference_double(const char *s, double *out)
{
    char *end;
    if (*s == '\0')
        return -1;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    end += strspn(end, " \t");
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

static void fuzz_double(const uint8_t *p, size_t n)
{
    char *s = cstring(p, n);
    double got = 0, want = 0;
    int rc = csv_parse_double(s, &got);
    int want_rc = reference_double(s, &want);
    CHECK(rc == want_rc);
    if (rc == 0)
        CHECK(memcmp(&got, &want, sizeof got) == 0 || (got != got && want != want));
    free(s);
}

static void fuzz_u64(const uint8_t *p, size_t n)
{
    char *s = cstring(p, n);
    uint64_t got = 0, want = 0;
    int want_rc = *s ? 0 : -1;
    for (const char *c = s; *c && want_rc == 0; c++) {
        if (*c < '0' || *c > '9' || want > (UINT64_MAX - (uint64_t)(*c - '0')) / 10)
            want_rc = -1;
        else
            want = want * 10 + (uint64_t)(*c - '0');
    }
    int rc = csv_parse_u64(s, &got);
    CHECK(rc == want_rc);
    if (rc == 0)
        CHECK(got == want);
    free(s);
}

static void fuzz_fixed(const uint8_t *p, size_t n)
{
    double v;
    char got[CSV_FIXED_MAX], want[CSV_FIXED_MAX];
    if (n < 9)
        return;
    memcpy(&v, p, sizeof v);
    int decimals = (int)(p[8] % 7) - 1; /* -1..5: out-of-range precisions too */
    size_t len = csv_format_fixed(got, v, decimals);
    int wn = snprintf(want, sizeof want, "%.*f", decimals, v);
    CHECK(wn >= 0 && len == (size_t)wn && strcmp(got, want) == 0);
}

/* `whaco analyze /proc/self/fd/N` on the input: the command as a user runs it. */
static void fuzz_analyze(const uint8_t *p, size_t n, int json)
{
    char path[64];
    int fd = memfd_create("fuzz_csv", 0);
    CHECK(fd >= 0);
    for (size_t off = 0; off < n;) {
        ssize_t w = write(fd, p + off, n - off);
        CHECK(w > 0);
        off += (size_t)w;
    }
    snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
    char *argv_json[] = {"analyze", "--format", "json", path, NULL};
    char *argv_csv[] = {"analyze", path, NULL};
    int rc = json ? whaco_cmd_analyze(4, argv_json, devnull, devnull)
                  : whaco_cmd_analyze(2, argv_csv, devnull, devnull);
    CHECK(rc == 0 || rc == 1 || rc == 2);
    close(fd);
}

/* A tracked floor with one salesperson and the walk-in "c-1", for outcome rows. */
static struct whaco_intel *outcome_floor(int64_t t)
{
    struct whaco_intel *in = calloc(1, sizeof *in);
    struct whaco_member_spec spec = {"sp-1", "Sp", 0.5, 0.9, 0.0, 0};
    struct whaco_customer c = {"c-1", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    struct whaco_analysis an;
    CHECK(in != NULL && whaco_intel_init(in, NULL, NULL, NULL) == WHACO_OK);
    CHECK(whaco_intel_add_salesperson(in, &spec, t, NULL) == WHACO_OK);
    CHECK(whaco_intel_clock_in(in, "sp-1", t, NULL) == WHACO_OK);
    CHECK(whaco_intel_analyze(in, &c, t, &an, NULL) == WHACO_OK);
    return in;
}

static void fuzz_outcomes(const uint8_t *p, size_t n)
{
    const int64_t t = 1772375400000; /* 2026-03-01T14:30:00Z */
    char *text = malloc(n ? n : 1);
    CHECK(text != NULL);
    if (n)
        memcpy(text, p, n);
    struct whaco_outcome_file f;
    struct whaco_outcomes_error e;
    int rc = whaco_outcomes_parse(text, n, &f, &e);
    CHECK(rc == WHACO_OK || rc == WHACO_E_PARSE);
    if (rc == WHACO_E_PARSE) {
        CHECK(e.code && e.code[0] && e.message[0] && f.n == 0 && !f.lines);
        free(text);
        return;
    }
    CHECK(f.n <= WHACO_OUTCOMES_ROWS_MAX);
    struct whaco_intel *in = outcome_floor(t);
    uint32_t last = 1;
    for (size_t i = 0; i < f.n; i++) {
        const struct whaco_outcome_line *l = &f.lines[i];
        struct whaco_outcome_detail d;
        struct whaco_outcome_report rep;
        CHECK(l->row > last);
        last = l->row;
        CHECK(memchr(l->customer_id, '\0', sizeof l->customer_id) != NULL);
        int applied = WHACO_OK;
        if (l->valid) {
            struct whaco_buf before = WHACO_BUF_INIT, after = WHACO_BUF_INIT;
            whaco_intel_save(in, &before);
            applied = whaco_intel_outcome(in, &l->r, t + 60000, NULL, &d);
            CHECK(applied != WHACO_E_ID_LENGTH && applied != WHACO_E_OUTCOME_VALUE &&
                  applied != WHACO_E_INVAL && applied != WHACO_E_TIME_BACKWARDS);
            whaco_intel_save(in, &after);
            if (applied != WHACO_OK)
                CHECK(after.len == before.len && memcmp(after.data, before.data, after.len) == 0);
            whaco_buf_release(&before);
            whaco_buf_release(&after);
        } else {
            CHECK(l->problem[0] != '\0');
        }
        whaco_outcome_explain(l, applied, l->valid ? &d : NULL, &rep);
        CHECK(rep.status >= WHACO_ROW_RECORDED && rep.status <= WHACO_ROW_UNMATCHED);
        CHECK(rep.status != WHACO_ROW_UNMATCHED || (rep.reason && rep.message[0]));
    }
    whaco_intel_release(in);
    free(in);
    whaco_outcomes_release(&f);
    free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (!devnull) {
        devnull = fopen("/dev/null", "w");
        CHECK(devnull != NULL);
    }
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch ((data[0] & 0x7fu) % 6u) {
    case 0:
        fuzz_reader(p, n);
        break;
    case 1:
        fuzz_double(p, n);
        break;
    case 2:
        fuzz_u64(p, n);
        break;
    case 3:
        fuzz_fixed(p, n);
        break;
    case 4:
        fuzz_analyze(p, n, data[0] >= 0x80);
        break;
    default:
        fuzz_outcomes(p, n);
        break;
    }
    return 0;
}

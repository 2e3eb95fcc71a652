/*
 * test_csv.c: the command line's CSV reader and writer (src/cli/csv.h).
 *
 * Inputs are in-memory files (fmemopen), so the test needs no disk and can
 * hold bytes a text file rarely does (NUL, a lone CR, no final newline).
 * Links whaco_cli, whose PUBLIC _POSIX_C_SOURCE makes fmemopen visible.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

#include "cli/csv.h"

/* A reader over the first n bytes of text (which may hold NULs). */
struct fixture {
    FILE *fp;
    struct csv_reader r;
};

static void open_bytes(struct fixture *f, const char *text, size_t n)
{
    /* fmemopen of zero bytes is an error before glibc 2.22; use tmpfile. */
    f->fp = tmpfile();
    assert_non_null(f->fp);
    if (n)
        assert_int_equal(fwrite(text, 1, n, f->fp), n);
    rewind(f->fp);
    csv_reader_init(&f->r, f->fp);
}

static void open_text(struct fixture *f, const char *text)
{
    f->fp = fmemopen((void *)text, strlen(text), "r");
    assert_non_null(f->fp);
    csv_reader_init(&f->r, f->fp);
}

static void close_fixture(struct fixture *f)
{
    csv_reader_release(&f->r);
    fclose(f->fp);
}

/* Read one record and check it holds exactly the n given fields. */
static void expect_record(struct fixture *f, int n, const char *const *want)
{
    int rc = csv_read(&f->r);
    if (rc != 1)
        fail_msg("csv_read returned %d (%s) on line %ld", rc, f->r.error ? f->r.error : "-",
                 f->r.lineno);
    assert_null(f->r.error);
    assert_int_equal(f->r.nfields, n);
    for (int i = 0; i < n; i++)
        assert_string_equal(f->r.fields[i], want[i]);
}

#define EXPECT(f, ...)                                                                             \
    do {                                                                                           \
        static const char *const want_[] = {__VA_ARGS__};                                          \
        expect_record((f), (int)(sizeof want_ / sizeof want_[0]), want_);                          \
    } while (0)

static void expect_error(struct fixture *f, const char *why)
{
    assert_int_equal(csv_read(&f->r), -1);
    assert_non_null(f->r.error);
    assert_string_equal(f->r.error, why);
}

static void csv__plain_fields(void **state)
{
    (void)state;
    struct fixture f;
    open_text(&f, "customerId,creditScore,annualIncome\nc1,720,85000\nc2,  650 ,x y\n");
    EXPECT(&f, "customerId", "creditScore", "annualIncome");
    assert_int_equal(f.r.lineno, 1);
    EXPECT(&f, "c1", "720", "85000");
    assert_int_equal(f.r.lineno, 2);
    /* Unquoted fields are taken as they are, spaces included. */
    EXPECT(&f, "c2", "  650 ", "x y");
    assert_int_equal(csv_read(&f.r), 0);
    assert_int_equal(csv_read(&f.r), 0); /* and stays at the end */
    assert_int_equal(f.r.lineno, 3);
    close_fixture(&f);
}

static void csv__quoted_fields(void **state)
{
    (void)state;
    struct fixture f;
    open_text(&f, "\"a,b\",\"he said \"\"hi\"\"\",c\n"
                  "\"\",\"\"\"\",\"x\"\n"
                  "\"only\"\n"
                  "plain,\"\"\"quoted\"\" start\",\"end\"\n"
                  "\"a\",\n");
    EXPECT(&f, "a,b", "he said \"hi\"", "c");
    EXPECT(&f, "", "\"", "x");
    EXPECT(&f, "only");
    EXPECT(&f, "plain", "\"quoted\" start", "end");
    EXPECT(&f, "a", "");
    assert_int_equal(csv_read(&f.r), 0);
    close_fixture(&f);
}

static void csv__empty_fields(void **state)
{
    (void)state;
    struct fixture f;
    open_text(&f, ",,\na,,c\n,b\na,\n\"\",\n");
    EXPECT(&f, "", "", "");
    EXPECT(&f, "a", "", "c");
    EXPECT(&f, "", "b");
    EXPECT(&f, "a", "");
    EXPECT(&f, "", "");
    assert_int_equal(csv_read(&f.r), 0);
    close_fixture(&f);
}

static void csv__crlf_and_missing_final_newline(void **state)
{
    (void)state;
    struct fixture f;
    open_text(&f, "a,b\r\n\"q,1\",c\r\nlast,line");
    EXPECT(&f, "a", "b");
    EXPECT(&f, "q,1", "c");
    EXPECT(&f, "last", "line");
    assert_int_equal(f.r.lineno, 3);
    assert_int_equal(csv_read(&f.r), 0);
    close_fixture(&f);

    open_text(&f, "x,\"y\"\r\nonly");
    EXPECT(&f, "x", "y");
    EXPECT(&f, "only");
    assert_int_equal(csv_read(&f.r), 0);
    close_fixture(&f);
}

static void csv__blank_lines(void **state)
{
    (void)state;
    /* A blank line is one empty field; the caller decides to skip it. */
    struct fixture f;
    open_text(&f, "a\n\n\r\nb\n");
    EXPECT(&f, "a");
    EXPECT(&f, "");
    assert_int_equal(f.r.lineno, 2);
    EXPECT(&f, "");
    EXPECT(&f, "b");
    assert_int_equal(f.r.lineno, 4);
    assert_int_equal(csv_read(&f.r), 0);
    close_fixture(&f);
}

static void csv__empty_input(void **state)
{
    (void)state;
    struct fixture f;
    open_bytes(&f, "", 0);
    assert_int_equal(csv_read(&f.r), 0);
    assert_int_equal(f.r.lineno, 0);
    close_fixture(&f);
}

static void csv__unterminated_quote_spoils_only_its_line(void **state)
{
    (void)state;
    struct fixture f;
    open_text(&f, "a,b\n\"abc,def\nx,y\nc,\"d\n\"e\"\n");
    EXPECT(&f, "a", "b");
    expect_error(&f, "unterminated quoted field");
    assert_int_equal(f.r.lineno, 2);
    EXPECT(&f, "x", "y"); /* the next line reads normally */
    assert_int_equal(f.r.lineno, 3);
    expect_error(&f, "unterminated quoted field");
    EXPECT(&f, "e");
    assert_int_equal(f.r.lineno, 5);
    assert_int_equal(csv_read(&f.r), 0);
    close_fixture(&f);

    /* An unterminated quote on the last line, without a newline. */
    open_text(&f, "\"open");
    expect_error(&f, "unterminated quoted field");
    assert_int_equal(csv_read(&f.r), 0);
    close_fixture(&f);
}

static void csv__text_after_closing_quote(void **state)
{
    (void)state;
    struct fixture f;
    open_text(&f, "\"a\"b,c\n\"a\" ,c\nok\n");
    expect_error(&f, "text after a closing quote");
    expect_error(&f, "text after a closing quote");
    EXPECT(&f, "ok");
    close_fixture(&f);
}

static void csv__field_count_limit(void **state)
{
    (void)state;
    /* CSV_MAX_FIELDS fields are fine; one more is an error for that line. */
    char line[4 * (CSV_MAX_FIELDS + 1) + 8];
    char text[2 * sizeof line + 16];
    size_t n = 0;
    for (int i = 0; i < CSV_MAX_FIELDS; i++)
        n += (size_t)snprintf(line + n, sizeof line - n, i ? ",%d" : "%d", i);
    int len = snprintf(text, sizeof text, "%s\n%s,x\nafter\n", line, line);
    assert_true(len > 0 && (size_t)len < sizeof text);

    struct fixture f;
    open_text(&f, text);
    assert_int_equal(csv_read(&f.r), 1);
    assert_int_equal(f.r.nfields, CSV_MAX_FIELDS);
    assert_string_equal(f.r.fields[0], "0");
    assert_string_equal(f.r.fields[CSV_MAX_FIELDS - 1], "63");
    expect_error(&f, "too many fields");
    EXPECT(&f, "after");
    close_fixture(&f);

    /* Trailing empty fields count too. */
    char commas[CSV_MAX_FIELDS + 2];
    memset(commas, ',', CSV_MAX_FIELDS);
    commas[CSV_MAX_FIELDS] = '\n';
    commas[CSV_MAX_FIELDS + 1] = '\0';
    open_text(&f, commas);
    expect_error(&f, "too many fields");
    close_fixture(&f);
}

static void csv__nul_byte(void **state)
{
    (void)state;
    static const char text[] = "a\0b,c\nd,e\n\"x\0\"\nlast\n";
    struct fixture f;
    open_bytes(&f, text, sizeof text - 1);
    expect_error(&f, "NUL byte in line");
    EXPECT(&f, "d", "e");
    expect_error(&f, "NUL byte in line");
    EXPECT(&f, "last");
    assert_int_equal(f.r.lineno, 4);
    assert_int_equal(csv_read(&f.r), 0);
    close_fixture(&f);
}

static void csv__long_line(void **state)
{
    (void)state;
    /* Far longer than any first buffer: the reader must grow. */
    enum { LEN = 100000 };
    char *text = malloc(2 * LEN + 8);
    assert_non_null(text);
    memset(text, 'x', LEN);
    text[LEN] = ',';
    text[LEN + 1] = '"';
    memset(text + LEN + 2, ',', LEN - 4);
    memcpy(text + 2 * LEN - 2, "\"\nz\n", 5);

    struct fixture f;
    open_text(&f, text);
    assert_int_equal(csv_read(&f.r), 1);
    assert_int_equal(f.r.nfields, 2);
    assert_int_equal(strlen(f.r.fields[0]), LEN);
    assert_int_equal(strlen(f.r.fields[1]), LEN - 4);
    assert_int_equal(strspn(f.r.fields[1], ","), LEN - 4);
    EXPECT(&f, "z");
    close_fixture(&f);
    free(text);
}

static void csv__read_error(void **state)
{
    (void)state;
    /* Reading a directory fails in read(2) (EISDIR): -2, not end of input. */
    FILE *fp = fopen(".", "r");
    assert_non_null(fp);
    struct csv_reader r;
    csv_reader_init(&r, fp);
    assert_int_equal(csv_read(&r), -2);
    csv_reader_release(&r);
    fclose(fp);
}

/* What csv_write_field writes for s. */
static char *written(const char *s)
{
    static char out[256];
    FILE *fp = tmpfile();
    assert_non_null(fp);
    csv_write_field(fp, s);
    long n = ftell(fp);
    assert_true(n >= 0 && (size_t)n < sizeof out);
    rewind(fp);
    assert_int_equal(fread(out, 1, (size_t)n, fp), (size_t)n);
    out[n] = '\0';
    fclose(fp);
    return out;
}

static void csv__write_field_quoting(void **state)
{
    (void)state;
    assert_string_equal(written("plain"), "plain");
    assert_string_equal(written(""), "");
    assert_string_equal(written(" spaced "), " spaced ");
    assert_string_equal(written("Prime Buyers"), "Prime Buyers");
    assert_string_equal(written("a,b"), "\"a,b\"");
    assert_string_equal(written("he said \"hi\""), "\"he said \"\"hi\"\"\"");
    assert_string_equal(written("\""), "\"\"\"\"");
    assert_string_equal(written("two\nlines"), "\"two\nlines\"");
    assert_string_equal(written("cr\r"), "\"cr\r\"");
    assert_string_equal(written("FICO significantly different | Income significantly different"),
                        "FICO significantly different | Income significantly different");
}

static void csv__write_then_read_round_trip(void **state)
{
    (void)state;
    static const char *const fields[] = {"c-1", "",     "a,b", "\"", "say \"x\", then y",
                                         " s ", "\"\"", ","};
    enum { N = sizeof fields / sizeof fields[0] };
    FILE *fp = tmpfile();
    assert_non_null(fp);
    for (int i = 0; i < N; i++) {
        if (i)
            putc(',', fp);
        csv_write_field(fp, fields[i]);
    }
    putc('\n', fp);
    rewind(fp);
    struct fixture f = {fp, {0}};
    csv_reader_init(&f.r, fp);
    expect_record(&f, N, fields);
    assert_int_equal(csv_read(&f.r), 0);
    close_fixture(&f);
}

static void csv__parse_double(void **state)
{
    (void)state;
    double v;
    static const struct {
        const char *s;
        double want;
    } good[] = {
        {"0", 0.0},       {"720", 720.0},
        {"-3.5", -3.5},   {"+5", 5.0},
        {"1e3", 1000.0},  {"0.125", 0.125},
        {".5", 0.5},      {"5.", 5.0},
        {"0x1p3", 8.0},   {"1E-2", 0.01},
        {"85000", 85000}, {"-0", -0.0},
        {"1e-400", 0.0},  {"123456789.25", 123456789.25},
        {"1.5 ", 1.5},    {" 720\t", 720.0},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        v = 42.0;
        if (csv_parse_double(good[i].s, &v) != 0)
            fail_msg("\"%s\" did not parse", good[i].s);
        assert_true(v == good[i].want);
    }
    assert_int_equal(csv_parse_double("-0", &v), 0);
    assert_true(signbit(v));

    static const char *const bad[] = {"",   "abc", "1.5x", "1.5 x", "12,5", "-",  ".",    "e5",
                                      "1e", "--1", "1 2",  "0x",    "$100", "5%", "1.2.3"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        v = 42.0;
        if (csv_parse_double(bad[i], &v) != -1)
            fail_msg("\"%s\" parsed", bad[i]);
        assert_true(v == 42.0); /* untouched on failure */
    }
}

static void csv__parse_double_non_finite(void **state)
{
    (void)state;
    /* Parsed on purpose, so that validation can call them not finite. */
    double v = 0.0;
    assert_int_equal(csv_parse_double("1e999", &v), 0);
    assert_true(isinf(v) && v > 0);
    assert_int_equal(csv_parse_double("-1e999", &v), 0);
    assert_true(isinf(v) && v < 0);
    assert_int_equal(csv_parse_double("inf", &v), 0);
    assert_true(isinf(v) && v > 0);
    assert_int_equal(csv_parse_double("-Infinity", &v), 0);
    assert_true(isinf(v) && v < 0);
    assert_int_equal(csv_parse_double("nan", &v), 0);
    assert_true(isnan(v));
    assert_int_equal(csv_parse_double("NaN", &v), 0);
    assert_true(isnan(v));
    assert_int_equal(csv_parse_double("nanx", &v), -1);
}

/* ---- the fast paths against libc ---- */

/* A small deterministic generator (xorshift64*), so failures reproduce. */
static uint64_t rng_state = 0x9e3779b97f4a7c15u;

static uint64_t next_u64(void)
{
    rng_state ^= rng_state >> 12;
    rng_state ^= rng_state << 25;
    rng_state ^= rng_state >> 27;
    return rng_state * 0x2545f4914f6cdd1du;
}

static unsigned below(unsigned n)
{
    return (unsigned)(next_u64() % n);
}

/* What csv_parse_double returned before its fast path: strtod alone. */
static int reference_parse(const char *s, double *out)
{
    char *end;
    if (*s == '\0')
        return -1;
    double v = strtod(s, &end);
    if (end == s)
        return -1;
    while (*end == ' ' || *end == '\t')
        end++;
    if (*end != '\0')
        return -1;
    *out = v;
    return 0;
}

/* csv_parse_double(s) must agree with strtod bit for bit, or both fail. */
static void expect_same_parse(const char *s)
{
    double want = 42.0, got = 42.0;
    int want_rc = reference_parse(s, &want), got_rc = csv_parse_double(s, &got);
    if (want_rc != got_rc)
        fail_msg("\"%s\": returned %d, strtod path %d", s, got_rc, want_rc);
    if (memcmp(&want, &got, sizeof got) != 0)
        fail_msg("\"%s\": %.17g, strtod %.17g", s, got, want);
}

/* A random string of digits, dots, signs, exponents and blanks. */
static void random_number_text(char *buf, size_t cap)
{
    static const char *const signs[] = {"", "", "", "-", "+"};
    size_t n = 0;
    n += (size_t)snprintf(buf + n, cap - n, "%s", signs[below(5)]);
    unsigned int_digits = below(4) == 0 ? below(26) : below(8);
    unsigned frac_digits = below(3) == 0 ? below(26) : below(6);
    if (below(8) == 0)
        buf[n++] = '0'; /* leading zeros */
    for (unsigned i = 0; i < int_digits && n < cap - 40; i++)
        buf[n++] = (char)('0' + (i == 0 && below(2) ? 1 + below(9) : below(10)));
    if (frac_digits || below(4) == 0)
        buf[n++] = '.';
    for (unsigned i = 0; i < frac_digits && n < cap - 40; i++)
        buf[n++] = (char)('0' + (below(3) == 0 ? 0 : below(10)));
    switch (below(12)) {
    case 0:
        n += (size_t)snprintf(buf + n, cap - n, "e%d", (int)below(50) - 25);
        break;
    case 1:
        buf[n++] = ' ';
        break;
    case 2:
        buf[n++] = '\t';
        buf[n++] = ' ';
        break;
    case 3:
        buf[n++] = "x.,-e k"[below(7)];
        break;
    default:
        break;
    }
    buf[n] = '\0';
}

static void csv__parse_double_matches_strtod(void **state)
{
    (void)state;
    static const char *const edge[] = {
        "0",
        "-0",
        "+0",
        "0.0",
        "-0.000",
        ".0",
        "0.",
        "+.5",
        "-.5",
        ".",
        "+",
        "-",
        "+-1",
        "0.1",
        "0.2",
        "0.3",
        "4.35",
        "0.334",
        "101600",
        "30325",
        "9007199254740991",
        "9007199254740992",
        "9007199254740993",
        "9007199254740994",
        "18014398509481985",
        "9999999999999999999",
        "10000000000000000000",
        "99999999999999999999",
        "0.0000000000000000000001",
        "0.00000000000000000000001",
        "1.0000000000000000000001",
        "123456789012345678.9",
        "1234567890123456789",
        "0.9007199254740993",
        "1.7976931348623157",
        "179769313486231570000000000000000000000",
        "2.2250738585072014",
        "1e22",
        "1e23",
        "5e-324",
        "1 ",
        "1\t",
        " 1",
        "\t1",
        "1 2",
        "1..2",
        "00000000000000000000000000001.5",
        "0000000000000000001",
        "1.50000000000000000000000000",
        "720.000000000000000000000",
        "0x10",
        "0X1.8p1",
        "infinity",
        "-INF",
        "nan(123)",
        "1,5",
        "12e",
        "12e+",
        "850",
        "299.99999999999999999",
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        expect_same_parse(edge[i]);

    char buf[128];
    for (int i = 0; i < 300000; i++) {
        random_number_text(buf, sizeof buf);
        expect_same_parse(buf);
    }
    /* Every double printed the usual ways reads back as strtod reads it. */
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = next_u64();
        double v;
        memcpy(&v, &bits, sizeof v);
        static const char *const formats[] = {"%.17g", "%.4f", "%.15g", "%.2f", "%.0f"};
        snprintf(buf, sizeof buf, formats[below(5)], below(2) ? v : (double)(bits >> 40) / 1e6);
        expect_same_parse(buf);
    }
}

/* csv_format_fixed must write exactly what snprintf writes. */
static void expect_same_format(double v, int decimals)
{
    char want[CSV_FIXED_MAX], got[CSV_FIXED_MAX];
    int n = snprintf(want, sizeof want, "%.*f", decimals, v);
    assert_true(n > 0 && n < (int)sizeof want);
    memset(got, 'x', sizeof got);
    size_t len = csv_format_fixed(got, v, decimals);
    if (len != (size_t)n || strcmp(got, want) != 0)
        fail_msg("%a with %d decimals: \"%s\" (%zu), snprintf \"%s\"", v, decimals, got, len, want);
}

static void expect_same_format_all(double v)
{
    for (int d = 0; d <= 6; d++) {
        expect_same_format(v, d);
        expect_same_format(-v, d);
    }
}

static void csv__format_fixed_matches_snprintf(void **state)
{
    (void)state;
    static const double edge[] = {
        0.0,
        1.0,
        0.5,
        1.5,
        2.5,
        0.05,
        0.005,
        0.0005,
        0.00005,
        0.000049999999999999996,
        0.00015,
        0.125,
        0.375,
        0.03125,
        0.15625,
        0.99995,
        0.999949999999,
        9.99995,
        0.95,
        0.85,
        0.3,
        0.6,
        0.8,
        4.75,
        2.3017,
        0.9812,
        1e-300,
        5e-324,
        2.2250738585072014e-308,
        1099511627775.9999,
        1099511627776.0,
        1099511627776.5,
        4503599627370495.5,
        9007199254740993.0,
        1e15,
        1e300,
        1.7976931348623157e308,
        HUGE_VAL,
        NAN,
    };
    for (size_t i = 0; i < sizeof edge / sizeof edge[0]; i++)
        expect_same_format_all(edge[i]);

    /* Exact ties: k / 2^n has n binary and n decimal places. */
    for (int n = 1; n <= 24; n++)
        for (int i = 0; i < 500; i++)
            expect_same_format_all((double)below(1u << 20) / (double)(1u << n));
    /* Decimal near-ties: k / 10^d one digit past the precision. */
    for (int i = 0; i < 30000; i++) {
        static const double scale[] = {1e1, 1e2, 1e3, 1e4, 1e5, 1e6};
        expect_same_format_all((double)below(10000000) / scale[below(6)]);
    }
    /* Any bit pattern, and doubles spread over the range that matters. */
    for (int i = 0; i < 100000; i++) {
        uint64_t bits = next_u64();
        double v;
        memcpy(&v, &bits, sizeof v);
        expect_same_format(v, (int)below(7));
        v = ldexp((double)(bits >> 11), (int)below(120) - 150);
        expect_same_format(v, (int)below(5));
        expect_same_format(-v, (int)below(5));
    }
}

/* ---- block reading ---- */

/* Line i of the big input: varying lengths, quoted fields now and then. */
static int big_line(char *buf, size_t cap, int i)
{
    if (i % 7 == 3)
        return snprintf(buf, cap, "\"id,%d\",%d,x%0*d\r\n", i, i * 3, i % 97, 0);
    return snprintf(
        buf, cap, "id%d,%d,%.*s\n", i, i * 3, i % 300,
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz"
        "abcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyzabcdefghijklmnopqrstuvwxyz");
}

/* Read back n big lines from fp, each field checked, and the byte count. */
static void read_big(FILE *fp, int n, long size)
{
    struct csv_reader r;
    char want[512], field[512];
    csv_reader_init(&r, fp);
    for (int i = 0; i < n; i++) {
        if (csv_read(&r) != 1)
            fail_msg("line %d: %s", i + 1, r.error ? r.error : "end");
        assert_int_equal(r.nfields, 3);
        big_line(want, sizeof want, i);
        if (i % 7 == 3)
            snprintf(field, sizeof field, "id,%d", i);
        else
            snprintf(field, sizeof field, "id%d", i);
        assert_string_equal(r.fields[0], field);
        snprintf(field, sizeof field, "%d", i * 3);
        assert_string_equal(r.fields[1], field);
        assert_int_equal(r.lineno, i + 1);
    }
    assert_int_equal(csv_read(&r), 0);
    assert_int_equal(r.consumed, (uint64_t)size);
    csv_reader_release(&r);
}

static void csv__lines_across_block_boundaries(void **state)
{
    (void)state;
    /* Over 3 blocks of input, so many lines straddle a read boundary. */
    enum { N = 40000 };
    FILE *fp = tmpfile();
    assert_non_null(fp);
    char line[512];
    long size = 0;
    for (int i = 0; i < N; i++) {
        int n = big_line(line, sizeof line, i);
        assert_int_equal(fwrite(line, 1, (size_t)n, fp), (size_t)n);
        size += n;
    }
    assert_true(size > 3 * (long)CSV_BLOCK);
    rewind(fp);
    read_big(fp, N, size); /* through the descriptor */

    /* The same bytes through stdio alone (fmemopen has no descriptor). */
    char *text = malloc((size_t)size);
    assert_non_null(text);
    rewind(fp);
    assert_int_equal(fread(text, 1, (size_t)size, fp), (size_t)size);
    FILE *mem = fmemopen(text, (size_t)size, "r");
    assert_non_null(mem);
    read_big(mem, N, size);
    fclose(mem);
    free(text);
    fclose(fp);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(csv__plain_fields),
        cmocka_unit_test(csv__quoted_fields),
        cmocka_unit_test(csv__empty_fields),
        cmocka_unit_test(csv__crlf_and_missing_final_newline),
        cmocka_unit_test(csv__blank_lines),
        cmocka_unit_test(csv__empty_input),
        cmocka_unit_test(csv__unterminated_quote_spoils_only_its_line),
        cmocka_unit_test(csv__text_after_closing_quote),
        cmocka_unit_test(csv__field_count_limit),
        cmocka_unit_test(csv__nul_byte),
        cmocka_unit_test(csv__long_line),
        cmocka_unit_test(csv__read_error),
        cmocka_unit_test(csv__write_field_quoting),
        cmocka_unit_test(csv__write_then_read_round_trip),
        cmocka_unit_test(csv__parse_double),
        cmocka_unit_test(csv__parse_double_non_finite),
        cmocka_unit_test(csv__parse_double_matches_strtod),
        cmocka_unit_test(csv__format_fixed_matches_snprintf),
        cmocka_unit_test(csv__lines_across_block_boundaries),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_analyze.c: `whaco analyze` (src/cli/analyze.c), driven in-process.
 *
 * Each case writes an input CSV to a mkstemp file in /tmp, calls
 * whaco_cmd_analyze with tmpfile() streams for stdout and stderr, and checks
 * the exit status, the rows written (parsed back with the CLI's own CSV
 * reader) and the messages. Results are cross-checked against the library:
 * the command must give exactly what whaco_segment_learn gives for the same
 * customers in the same order, and byte for byte against the former
 * fprintf formatting. Links whaco_cli, whose PUBLIC _POSIX_C_SOURCE makes
 * mkstemp and fmemopen visible; _XOPEN_SOURCE adds the pseudo-terminal
 * calls the progress-bar test needs.
 */
#define _XOPEN_SOURCE 700
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/gen.h"
#include "whaco/segment.h"
#include "cli/cli.h"
#include "cli/csv.h"

#define HEADER                                                                                     \
    "customerId,creditScore,annualIncome,vehiclePrice,downPayment,tradeValue,visitCount,"          \
    "timeOnLot,engagement\n"

#define OUT_HEADER                                                                                 \
    "customerId,clusterId,clusterName,isOutlier,outlierScore,confidence,priorityScore,"            \
    "outlierReason"

/* Two ordinary customers, used around a bad row. */
#define GOOD1 "good1,720,85000,32000,4000,3000,2,60,0.6\n"
#define GOOD2 "good2,580,42000,21000,1500,0,1,45,0.4\n"

/* ---- running the command ---- */

struct run {
    int status;
    char *out; /* owned, NUL-terminated */
    char *err; /* owned, NUL-terminated */
};

static char *slurp(FILE *fp)
{
    long n = ftell(fp);
    assert_true(n >= 0);
    char *s = malloc((size_t)n + 1);
    assert_non_null(s);
    rewind(fp);
    assert_int_equal(fread(s, 1, (size_t)n, fp), (size_t)n);
    s[n] = '\0';
    return s;
}

/* Write len bytes of text to a new temporary file; its path goes in path. */
static void write_temp(char path[32], const char *text, size_t len)
{
    memcpy(path, "/tmp/whaco-test-XXXXXX", sizeof "/tmp/whaco-test-XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *fp = fdopen(fd, "w");
    assert_non_null(fp);
    assert_int_equal(fwrite(text, 1, len, fp), len);
    assert_int_equal(fclose(fp), 0);
}

/* Call a subcommand with argv (argv[0] its name) and capture everything. */
static struct run call(int (*cmd)(int, char **, FILE *, FILE *), int argc, char **argv)
{
    struct run r;
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    r.status = cmd(argc, argv, out, err);
    r.out = slurp(out);
    r.err = slurp(err);
    fclose(out);
    fclose(err);
    return r;
}

/*
 * Run `whaco analyze [opts...] FILE` on input (a NULL-terminated option
 * list, may be NULL). The file is removed afterwards.
 */
static struct run analyze_text(const char *input, const char *const *opts)
{
    char path[32];
    char *argv[16];
    int argc = 0;
    write_temp(path, input, strlen(input));
    argv[argc++] = "analyze";
    for (; opts && *opts; opts++) {
        assert_true(argc < 14);
        argv[argc++] = (char *)*opts;
    }
    argv[argc++] = path;
    argv[argc] = NULL;
    struct run r = call(whaco_cmd_analyze, argc, argv);
    unlink(path);
    return r;
}

static struct run analyze_argv(int argc, char **argv)
{
    return call(whaco_cmd_analyze, argc, argv);
}

static void run_free(struct run *r)
{
    free(r->out);
    free(r->err);
}

/* ---- reading the output ---- */

struct row {
    char id[WHACO_ID_MAX];
    int cluster_id;
    int is_outlier;
    double outlier_score, confidence, priority;
    char reason[256];
};

static double number(const char *s)
{
    double v;
    if (csv_parse_double(s, &v))
        fail_msg("not a number: \"%s\"", s);
    return v;
}

/*
 * Parse CSV output: the exact header, then rows into rows[max]. Checks the
 * internal consistency of every row (name matches id, priority matches the
 * profile, reason present exactly for outliers). Returns the row count.
 */
static int parse_csv_output(const char *out, struct row *rows, int max)
{
    FILE *fp = fmemopen((void *)out, strlen(out), "r");
    assert_non_null(fp);
    struct csv_reader r;
    csv_reader_init(&r, fp);
    assert_int_equal(csv_read(&r), 1);
    const char *expect[] = {"customerId",   "clusterId",  "clusterName",   "isOutlier",
                            "outlierScore", "confidence", "priorityScore", "outlierReason"};
    assert_int_equal(r.nfields, 8);
    for (int i = 0; i < 8; i++)
        assert_string_equal(r.fields[i], expect[i]);
    int n = 0;
    int rc;
    for (;;) {
        rc = csv_read(&r);
        if (rc != 1)
            break;
        assert_true(n < max);
        struct row *w = &rows[n++];
        assert_int_equal(r.nfields, 8);
        assert_true(strlen(r.fields[0]) < sizeof w->id);
        memcpy(w->id, r.fields[0], strlen(r.fields[0]) + 1);
        double cid = number(r.fields[1]);
        assert_true(cid == floor(cid) && cid >= 0 && cid < WHACO_CLUSTERS);
        w->cluster_id = (int)cid;
        assert_string_equal(r.fields[2], whaco_profile(w->cluster_id)->name);
        assert_true(!strcmp(r.fields[3], "0") || !strcmp(r.fields[3], "1"));
        w->is_outlier = r.fields[3][0] == '1';
        w->outlier_score = number(r.fields[4]);
        assert_true(w->outlier_score >= 0.0 && isfinite(w->outlier_score));
        w->confidence = number(r.fields[5]);
        assert_true(w->confidence >= 0.0 && w->confidence <= 1.0);
        w->priority = number(r.fields[6]);
        assert_true(fabs(w->priority - whaco_profile(w->cluster_id)->priority) < 0.005);
        assert_true(strlen(r.fields[7]) < sizeof w->reason);
        memcpy(w->reason, r.fields[7], strlen(r.fields[7]) + 1);
        if (w->is_outlier)
            assert_non_null(strstr(w->reason, " significantly different"));
        else
            assert_string_equal(w->reason, "");
    }
    assert_int_equal(rc, 0);
    csv_reader_release(&r);
    fclose(fp);
    return n;
}

/* Count the lines of s. */
static int lines(const char *s)
{
    int n = 0;
    for (; *s; s++)
        n += *s == '\n';
    return n;
}

/* ---- the summary on stderr ---- */

struct summary {
    long rows, bad, outliers;
    long segment[WHACO_CLUSTERS];
    double seconds, rate;
};

/*
 * Read the summary that ends err: four lines, after exactly `before` other
 * lines (the rejected-row messages). stderr is a file here, not a terminal,
 * so there must be no trace of a progress bar (no CR, no escape).
 */
static void read_summary(const char *err, int before, struct summary *s)
{
    memset(s, 0, sizeof *s);
    if (lines(err) != before + 4)
        fail_msg("expected %d lines on stderr, got: %s", before + 4, err);
    assert_null(strchr(err, '\r'));
    assert_null(strchr(err, '\033'));
    const char *p = err;
    for (int i = 0; i < before; i++)
        p = strchr(p, '\n') + 1;
    int n = -1;
    if (sscanf(p, "whaco analyze: %ld rows analysed, %ld rejected\n%n", &s->rows, &s->bad, &n) !=
            2 ||
        n < 0)
        fail_msg("no summary line in: %s", p);
    p += n;
    assert_memory_equal(p, "whaco analyze: segments: ", 25);
    p += 25;
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        const char *name = whaco_profile(k)->name;
        if (k) {
            assert_memory_equal(p, ", ", 2);
            p += 2;
        }
        assert_memory_equal(p, name, strlen(name));
        p += strlen(name);
        n = -1;
        assert_int_equal(sscanf(p, " %ld%n", &s->segment[k], &n), 1);
        p += n;
    }
    assert_memory_equal(p, "\nwhaco analyze: outliers: ", 26);
    p += 26;
    n = -1;
    double pct;
    assert_int_equal(sscanf(p,
                            "%ld (%lf%% of the rows analysed, each also counted in its "
                            "nearest segment)\n%n",
                            &s->outliers, &pct, &n),
                     2);
    assert_true(n > 0);
    p += n;
    n = -1;
    assert_int_equal(sscanf(p, "whaco analyze: %lf s, %lf rows/s\n%n", &s->seconds, &s->rate, &n),
                     2);
    assert_true(n > 0 && p[n] == '\0');
    assert_true(s->seconds >= 0 && s->rate >= 0);
    long total = 0;
    for (int k = 0; k < WHACO_CLUSTERS; k++)
        total += s->segment[k];
    assert_int_equal(total, s->rows);
    assert_true(s->outliers <= s->rows);
    if (s->rows)
        assert_true(fabs(pct - 100.0 * (double)s->outliers / (double)s->rows) <= 0.005 + 1e-9);
}

/* ---- the library's own verdict, for cross-checks ---- */

/* The result the library gives for customers cs[0..n) learned in order. */
static void expected_results(const struct whaco_customer *cs, int n,
                             struct whaco_segment_result *res)
{
    static struct whaco_segmenter seg;
    assert_int_equal(whaco_segmenter_init(&seg, NULL, NULL), WHACO_OK);
    for (int i = 0; i < n; i++)
        assert_int_equal(whaco_segment_learn(&seg, &cs[i], 0, &res[i], NULL), WHACO_OK);
}

/* Check that err is only the summary of the library's results res[0..n). */
static void expect_summary_of(const char *err, const struct whaco_segment_result *res, int n,
                              int before)
{
    struct summary s;
    long seg[WHACO_CLUSTERS] = {0}, outliers = 0;
    read_summary(err, before, &s);
    for (int i = 0; i < n; i++) {
        seg[res[i].cluster_id]++;
        outliers += res[i].is_outlier;
    }
    assert_int_equal(s.rows, n);
    assert_int_equal(s.bad, 0);
    assert_int_equal(s.outliers, outliers);
    for (int k = 0; k < WHACO_CLUSTERS; k++)
        assert_int_equal(s.segment[k], seg[k]);
}

/* Append customer c as a CSV row, every number exactly (%.17g). */
static size_t put_row(char *buf, size_t cap, const struct whaco_customer *c)
{
    int n = snprintf(buf, cap, "%s,%.17g,%.17g,%.17g,%.17g,%.17g,%d,%.17g,%.17g\n", c->id,
                     c->credit_score, c->annual_income, c->vehicle_price, c->down_payment,
                     c->trade_value, (int)c->visit_count, c->time_on_lot, c->engagement);
    assert_true(n > 0 && (size_t)n < cap);
    return (size_t)n;
}

/* n generated customers with ids "gNNNN" and their true segments. */
static void generate(uint64_t seed, double anomaly_rate, int n, struct whaco_customer *cs,
                     int *truth)
{
    struct whaco_gen_params p;
    whaco_gen_params_default(&p);
    p.anomaly_rate = anomaly_rate;
    struct whaco_rng rng;
    whaco_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) {
        int seg = whaco_gen_customer(&rng, &p, &cs[i], NULL);
        if (truth)
            truth[i] = seg;
        snprintf(cs[i].id, sizeof cs[i].id, "g%04d", i);
    }
}

/* A CSV (with HEADER) of cs[0..n); caller frees. */
static char *customers_csv(const struct whaco_customer *cs, int n)
{
    size_t cap = sizeof HEADER + (size_t)n * 256, len = sizeof HEADER - 1;
    char *text = malloc(cap);
    assert_non_null(text);
    memcpy(text, HEADER, sizeof HEADER);
    for (int i = 0; i < n; i++)
        len += put_row(text + len, cap - len, &cs[i]);
    return text;
}

/* Check printed rows against the library's results for the same customers. */
static void assert_rows_match(const struct row *rows, const struct whaco_customer *cs,
                              const struct whaco_segment_result *res, int n)
{
    for (int i = 0; i < n; i++) {
        assert_string_equal(rows[i].id, cs[i].id);
        assert_int_equal(rows[i].cluster_id, res[i].cluster_id);
        assert_int_equal(rows[i].is_outlier, res[i].is_outlier);
        /* Printed with 4 decimals: within half a unit of the last place. */
        assert_true(fabs(rows[i].outlier_score - res[i].outlier_score) <= 0.00005 + 1e-12);
        assert_true(fabs(rows[i].confidence - res[i].confidence) <= 0.00005 + 1e-12);
        if (res[i].is_outlier) {
            char reason[256];
            whaco_reason_format(res[i].reasons, res[i].n_reasons, reason, sizeof reason);
            assert_string_equal(rows[i].reason, reason);
        }
    }
}

/* ---- the tests ---- */

static void analyze__rows_in_order_match_the_library(void **state)
{
    (void)state;
    enum { N = 500 };
    static struct whaco_customer cs[N];
    static struct whaco_segment_result res[N];
    static struct row rows[N];
    generate(21, 0.05, N, cs, NULL);
    expected_results(cs, N, res);

    char *text = customers_csv(cs, N);
    struct run r = analyze_text(text, NULL);
    assert_int_equal(r.status, 0);
    expect_summary_of(r.err, res, N, 0);
    assert_memory_equal(r.out, OUT_HEADER "\n", sizeof OUT_HEADER);
    assert_int_equal(lines(r.out), N + 1);
    assert_int_equal(parse_csv_output(r.out, rows, N), N);
    assert_rows_match(rows, cs, res, N);

    /* Some outliers among them, so the reason column was exercised. */
    int outliers = 0;
    for (int i = 0; i < N; i++)
        outliers += res[i].is_outlier;
    assert_true(outliers > 0);
    run_free(&r);
    free(text);
}

/* The value of "key": in a JSON line, up to the next ',' or '}' (strings
 * are copied with their quotes). Fails if the key is missing. */
static void json_value(const char *line, const char *key, char *out, size_t cap)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    const char *p = strstr(line, pat);
    if (!p)
        fail_msg("key %s missing in %s", key, line);
    p += strlen(pat);
    size_t n = 0;
    if (*p == '"') {
        /* A string: to the closing quote, honouring backslash escapes. */
        out[n++] = *p++;
        while (*p && *p != '"') {
            if (*p == '\\')
                out[n++] = *p++;
            out[n++] = *p++;
            assert_true(n < cap - 2);
        }
        out[n++] = *p;
    } else {
        while (*p && *p != ',' && *p != '}') {
            out[n++] = *p++;
            assert_true(n < cap - 1);
        }
    }
    out[n] = '\0';
}

static void analyze__json_lines(void **state)
{
    (void)state;
    enum { N = 300 };
    static struct whaco_customer cs[N];
    static struct whaco_segment_result res[N];
    generate(22, 0.05, N, cs, NULL);
    expected_results(cs, N, res);

    char *text = customers_csv(cs, N);
    static const char *const opts[] = {"--format", "json", NULL};
    struct run r = analyze_text(text, opts);
    assert_int_equal(r.status, 0);
    expect_summary_of(r.err, res, N, 0);
    assert_int_equal(lines(r.out), N); /* no header line */

    static const char *const keys[] = {"customerId",    "clusterId",    "clusterName",
                                       "isOutlier",     "outlierScore", "confidence",
                                       "priorityScore", "outlierReason"};
    const char *line = r.out;
    for (int i = 0; i < N; i++) {
        const char *nl = strchr(line, '\n');
        assert_non_null(nl);
        char one[1024], v[512], want[512];
        assert_true((size_t)(nl - line) < sizeof one);
        memcpy(one, line, (size_t)(nl - line));
        one[nl - line] = '\0';
        assert_true(one[0] == '{' && one[nl - line - 1] == '}');

        /* Every documented key, once, in the documented order. */
        const char *prev = one;
        for (size_t k = 0; k < sizeof keys / sizeof keys[0]; k++) {
            char pat[64];
            snprintf(pat, sizeof pat, "\"%s\":", keys[k]);
            const char *at = strstr(one, pat);
            assert_non_null(at);
            assert_true(at >= prev);
            assert_null(strstr(at + 1, pat));
            prev = at;
        }

        json_value(one, "customerId", v, sizeof v);
        assert_true(v[0] == '"' && strlen(v) == strlen(cs[i].id) + 2);
        assert_memory_equal(v + 1, cs[i].id, strlen(cs[i].id));
        json_value(one, "clusterId", v, sizeof v);
        assert_true(number(v) == res[i].cluster_id);
        json_value(one, "clusterName", v, sizeof v);
        snprintf(want, sizeof want, "\"%s\"", whaco_profile(res[i].cluster_id)->name);
        assert_string_equal(v, want);
        json_value(one, "isOutlier", v, sizeof v);
        assert_string_equal(v, res[i].is_outlier ? "true" : "false");
        json_value(one, "outlierScore", v, sizeof v);
        assert_true(fabs(number(v) - res[i].outlier_score) <= 0.00005 + 1e-12);
        json_value(one, "confidence", v, sizeof v);
        assert_true(fabs(number(v) - res[i].confidence) <= 0.00005 + 1e-12);
        json_value(one, "priorityScore", v, sizeof v);
        assert_true(fabs(number(v) - res[i].priority) < 0.005);
        json_value(one, "outlierReason", v, sizeof v);
        if (res[i].is_outlier) {
            char reason[256];
            whaco_reason_format(res[i].reasons, res[i].n_reasons, reason, sizeof reason);
            snprintf(want, sizeof want, "\"%s\"", reason);
            assert_string_equal(v, want);
        } else {
            assert_string_equal(v, "null");
        }
        line = nl + 1;
    }
    assert_string_equal(line, "");
    run_free(&r);
    free(text);
}

static void analyze__json_escapes_ids(void **state)
{
    (void)state;
    /* A quote and a backslash in an id; the CSV form of the id is quoted. */
    static const char *const opts[] = {"--format", "json", NULL};
    struct run r =
        analyze_text(HEADER "\"a\"\"b\\c,d\",720,85000,32000,4000,3000,2,60,0.6\n", opts);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "{\"customerId\":\"a\\\"b\\\\c,d\","));
    run_free(&r);

    /* And the CSV output quotes it back. */
    r = analyze_text(HEADER "\"a\"\"b\\c,d\",720,85000,32000,4000,3000,2,60,0.6\n", NULL);
    assert_int_equal(r.status, 0);
    struct row row;
    assert_int_equal(parse_csv_output(r.out, &row, 1), 1);
    assert_string_equal(row.id, "a\"b\\c,d");
    run_free(&r);
}

/* One bad row between two good ones: reported with its line and field. */
static void expect_bad_row(const char *bad, const char *field, const char *why)
{
    char text[1024];
    snprintf(text, sizeof text, HEADER GOOD1 "%s\n" GOOD2, bad);
    struct run r = analyze_text(text, NULL);
    struct row rows[4];
    if (r.status != 1)
        fail_msg("row \"%s\": status %d, stderr: %s", bad, r.status, r.err);
    assert_int_equal(parse_csv_output(r.out, rows, 4), 2);
    assert_string_equal(rows[0].id, "good1");
    assert_string_equal(rows[1].id, "good2");

    char want[256];
    if (field)
        snprintf(want, sizeof want, "whaco analyze: line 3: %s: %s\n", field, why);
    else
        snprintf(want, sizeof want, "whaco analyze: line 3: %s\n", why);
    if (!strstr(r.err, want))
        fail_msg("row \"%s\": expected \"%s\" in stderr, got: %s", bad, want, r.err);
    struct summary sum;
    read_summary(r.err, 1, &sum);
    assert_int_equal(sum.rows, 2);
    assert_int_equal(sum.bad, 1);
    run_free(&r);
}

static void analyze__accepts_a_byte_order_mark(void **state)
{
    (void)state;
    struct run r = analyze_text("\xef\xbb\xbf" HEADER GOOD1 GOOD2, NULL);
    struct row rows[4];
    assert_int_equal(r.status, 0);
    assert_int_equal(parse_csv_output(r.out, rows, 4), 2);
    assert_string_equal(rows[0].id, "good1");
    run_free(&r);
}

static void analyze__bad_rows_are_reported_and_skipped(void **state)
{
    (void)state;
    const char *nan_msg = whaco_strerror(WHACO_E_NOT_FINITE);
    const char *unreadable = "missing or not a number";

    expect_bad_row("b,900,85000,32000,4000,3000,2,60,0.6", "creditScore",
                   whaco_strerror(WHACO_E_CREDIT_SCORE_RANGE));
    expect_bad_row("b,299,85000,32000,4000,3000,2,60,0.6", "creditScore",
                   whaco_strerror(WHACO_E_CREDIT_SCORE_RANGE));
    expect_bad_row("b,nan,85000,32000,4000,3000,2,60,0.6", "creditScore", nan_msg);
    expect_bad_row("b,720,NaN,32000,4000,3000,2,60,0.6", "annualIncome", nan_msg);
    expect_bad_row("b,720,85000,1e999,4000,3000,2,60,0.6", "vehiclePrice", nan_msg);
    expect_bad_row("b,720,85000,32000,4000,3000,2,60,inf", "engagement", nan_msg);
    expect_bad_row("b,720,85000,32000,4000,3000,nan,60,0.6", "visitCount", nan_msg);
    expect_bad_row("b,720,-1,32000,4000,3000,2,60,0.6", "annualIncome",
                   whaco_strerror(WHACO_E_NEGATIVE_MONEY));
    expect_bad_row("b,720,85000,0,0,0,2,60,0.6", "vehiclePrice",
                   whaco_strerror(WHACO_E_VEHICLE_PRICE));
    expect_bad_row("b,720,85000,32000,32001,3000,2,60,0.6", "downPayment",
                   whaco_strerror(WHACO_E_DOWN_EXCEEDS_PRICE));
    expect_bad_row("b,720,85000,32000,4000,-5,2,60,0.6", "tradeValue",
                   whaco_strerror(WHACO_E_NEGATIVE_MONEY));
    expect_bad_row("b,720,85000,32000,4000,3000,2.5,60,0.6", "visitCount",
                   whaco_strerror(WHACO_E_NOT_INTEGER));
    expect_bad_row("b,720,85000,32000,4000,3000,1e10,60,0.6", "visitCount",
                   whaco_strerror(WHACO_E_NOT_INTEGER));
    expect_bad_row("b,720,85000,32000,4000,3000,-1,60,0.6", "visitCount",
                   whaco_strerror(WHACO_E_NEGATIVE_COUNT));
    /* Two bad fields: the first in column order is the one named. */
    expect_bad_row("b,900,85000,32000,4000,3000,2.5,60,0.6", "creditScore",
                   whaco_strerror(WHACO_E_CREDIT_SCORE_RANGE));
    expect_bad_row("b,720,85000,32000,4000,3000,2.5,60,7", "visitCount",
                   whaco_strerror(WHACO_E_NOT_INTEGER));
    expect_bad_row("b,720,85000,32000,4000,3000,2,-1,0.6", "timeOnLot",
                   whaco_strerror(WHACO_E_NEGATIVE_COUNT));
    expect_bad_row("b,720,85000,32000,4000,3000,2,60,1.01", "engagement",
                   whaco_strerror(WHACO_E_ENGAGEMENT_RANGE));
    /* Missing fields: the first column past the end of the row is named. */
    expect_bad_row("b,720,85000,32000,4000,3000,2,60", "engagement", unreadable);
    expect_bad_row("b,720", "annualIncome", unreadable);
    /* An empty cell is an unknown field (it was refused as unreadable
     * before fields could be unknown), but a row must know some feature:
     * a down payment and a trade-in are none without the price. */
    expect_bad_row("b,,,,4000,3000,,,", NULL, whaco_strerror(WHACO_E_NO_KNOWN_FEATURE));
    expect_bad_row("b,,,,,,,,", NULL, whaco_strerror(WHACO_E_NO_KNOWN_FEATURE));
    /* ...and its known fields are still checked. */
    expect_bad_row("b,,,,-1,3000,,,", "downPayment", whaco_strerror(WHACO_E_NEGATIVE_MONEY));
    expect_bad_row("b,720,85000,32k,4000,3000,2,60,0.6", "vehiclePrice", unreadable);
    expect_bad_row("b,720,85000,32000,4000,3000,2,60,0.6x", "engagement", unreadable);
    expect_bad_row("b,720,85000,32000,4000,3000,two,60,0.6", "visitCount", unreadable);
    /* Identifiers: 1 to 63 bytes of printable text. */
    expect_bad_row(",720,85000,32000,4000,3000,2,60,0.6", "customerId",
                   whaco_strerror(WHACO_E_ID_LENGTH));
    expect_bad_row("1234567890123456789012345678901234567890123456789012345678901234"
                   ",720,85000,32000,4000,3000,2,60,0.6",
                   "customerId", whaco_strerror(WHACO_E_ID_LENGTH));
    expect_bad_row("\"tab\there\",720,85000,32000,4000,3000,2,60,0.6", "customerId",
                   whaco_strerror(WHACO_E_ID_LENGTH));
    /* Lines the CSV reader rejects. */
    expect_bad_row("\"b,720,85000,32000,4000,3000,2,60,0.6", NULL, "unterminated quoted field");
    expect_bad_row("\"b\"x,720,85000,32000,4000,3000,2,60,0.6", NULL, "text after a closing quote");
}

static void analyze__id_of_63_bytes_is_fine(void **state)
{
    (void)state;
    static const char id63[] = "123456789012345678901234567890123456789012345678901234567890123";
    char text[512];
    snprintf(text, sizeof text, HEADER "%s,720,85000,32000,4000,3000,2,60,0.6\n", id63);
    struct run r = analyze_text(text, NULL);
    assert_int_equal(r.status, 0);
    struct row row;
    assert_int_equal(parse_csv_output(r.out, &row, 1), 1);
    assert_string_equal(row.id, id63);
    run_free(&r);
}

static void analyze__line_numbers_count_every_line(void **state)
{
    (void)state;
    /* Several bad rows, a blank line and CRLF ends: each line number right. */
    struct run r = analyze_text(HEADER GOOD1 "\r\n"
                                             "x1,900,85000,32000,4000,3000,2,60,0.6\r\n" GOOD2
                                             "x2,720,85000,32000,4000,3000,2,60,2\n"
                                             "\n"
                                             "x3,720,85000,32000,4000,3000,2.5,60,0.6\n"
                                             "ok3,700,60000,30000,3000,,1,30,0.2",
                                NULL);
    assert_int_equal(r.status, 1);
    struct row rows[8];
    assert_int_equal(parse_csv_output(r.out, rows, 8), 3);
    assert_string_equal(rows[0].id, "good1");
    assert_string_equal(rows[1].id, "good2");
    assert_string_equal(rows[2].id, "ok3");
    assert_non_null(strstr(r.err, "line 4: creditScore:"));
    assert_non_null(strstr(r.err, "line 6: engagement:"));
    assert_non_null(strstr(r.err, "line 8: visitCount:"));
    assert_non_null(strstr(r.err, "3 rows analysed, 3 rejected"));
    struct summary sum;
    read_summary(r.err, 3, &sum);
    assert_int_equal(sum.rows, 3);
    assert_int_equal(sum.bad, 3);
    run_free(&r);
}

static void analyze__all_bad_rows(void **state)
{
    (void)state;
    struct run r = analyze_text(HEADER "b,900,85000,32000,4000,3000,2,60,0.6\n", NULL);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, OUT_HEADER "\n");
    run_free(&r);

    /* A header alone is a valid, empty input. */
    r = analyze_text(HEADER, NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, OUT_HEADER "\n");
    struct summary sum;
    read_summary(r.err, 0, &sum);
    assert_int_equal(sum.rows, 0);
    assert_int_equal(sum.bad, 0);
    assert_int_equal(sum.outliers, 0);
    run_free(&r);
}

/* A header problem: exit 2, the reason on stderr, no rows. */
static void expect_header_error(const char *text, const char *why)
{
    struct run r = analyze_text(text, NULL);
    if (r.status != 2)
        fail_msg("status %d for %s", r.status, text);
    assert_non_null(strstr(r.err, why));
    assert_null(strstr(r.out, "good1"));
    run_free(&r);
}

static void analyze__header_errors_exit_2(void **state)
{
    (void)state;
    expect_header_error("customerId,creditScore,annualIncome,vehiclePrice,downPayment,"
                        "tradeValue,visitCount,timeOnLot\n" GOOD1,
                        "line 1: missing column engagement");
    expect_header_error("customerId,annualIncome,vehiclePrice,downPayment,"
                        "tradeValue,visitCount,timeOnLot,engagement\n" GOOD1,
                        "line 1: missing column creditScore");
    expect_header_error("creditScore,customerId,annualIncome,vehiclePrice,downPayment,"
                        "tradeValue,visitCount,timeOnLot,engagement\n" GOOD1,
                        "line 1: the first column must be customerId");
    expect_header_error("id,creditScore,annualIncome,vehiclePrice,downPayment,"
                        "tradeValue,visitCount,timeOnLot,engagement\n" GOOD1,
                        "line 1: the first column must be customerId");
    expect_header_error("customerId,creditScore,annualIncome,vehiclePrice,downPayment,"
                        "tradeValue,visitCount,timeOnLot,engagement,creditScore\n" GOOD1,
                        "line 1: column creditScore appears twice");
    expect_header_error("customerId,creditScore,annualIncome,vehiclePrice,downPayment,"
                        "tradeValue,visitCount,timeOnLot,engagement,customerId\n" GOOD1,
                        "line 1: column customerId appears twice");
    expect_header_error("", "line 1: no header row");
    expect_header_error("\"customerId,creditScore\n" GOOD1, "line 1: unterminated quoted field");
}

static void analyze__usage_and_io_errors_exit_2(void **state)
{
    (void)state;
    char path[32];
    write_temp(path, HEADER GOOD1, strlen(HEADER GOOD1));

    struct {
        int argc;
        char *argv[6];
    } bad[] = {
        {1, {"analyze"}},                                     /* no file */
        {3, {"analyze", path, path}},                         /* two files */
        {3, {"analyze", "--bogus", path}},                    /* unknown option */
        {4, {"analyze", "--format", "xml", path}},            /* bad format */
        {2, {"analyze", "--format"}},                         /* missing value */
        {3, {"analyze", path, "--format"}},                   /* missing value, last */
        {4, {"analyze", "--outlier-threshold", "0", path}},   /* must be > 0 */
        {4, {"analyze", "--outlier-threshold", "-1", path}},  /* must be > 0 */
        {4, {"analyze", "--outlier-threshold", "nan", path}}, /* must be finite */
        {4, {"analyze", "--outlier-threshold", "inf", path}}, /* must be finite */
        {4, {"analyze", "--outlier-threshold", "abc", path}}, /* not a number */
        {4, {"analyze", "--weight-rule", "huang", path}},     /* unknown rule */
        {2, {"analyze", "/nonexistent/whaco/customers.csv"}}, /* missing file */
        {2, {"analyze", "/tmp"}},                             /* a directory */
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct run r = analyze_argv(bad[i].argc, bad[i].argv);
        if (r.status != 2)
            fail_msg("case %zu: status %d, stderr: %s", i, r.status, r.err);
        assert_true(strlen(r.err) > 0);
        assert_null(strstr(r.out, "good1"));
        run_free(&r);
    }

    struct run r = analyze_argv(2, (char *[]){"analyze", "/nonexistent/whaco/customers.csv"});
    assert_non_null(strstr(r.err, "cannot open /nonexistent/whaco/customers.csv"));
    run_free(&r);
    r = analyze_argv(3, (char *[]){"analyze", "--bogus", path});
    assert_non_null(strstr(r.err, "usage: whaco analyze"));
    run_free(&r);

    /* The valid spellings of every option are accepted. */
    static const char *const good[][5] = {
        {"--format", "csv"},
        {"--format", "json"},
        {"--outlier-threshold", "3.5"},
        {"--weight-rule", "dispersion"},
        {"--weight-rule", "seed"},
        {"--weight-rule", "fixed"},
        {"--format", "json", "--weight-rule", "seed"},
    };
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        char *argv[8] = {"analyze"};
        int argc = 1;
        for (int k = 0; k < 5 && good[i][k]; k++)
            argv[argc++] = (char *)good[i][k];
        argv[argc++] = path;
        r = analyze_argv(argc, argv);
        if (r.status != 0)
            fail_msg("good case %zu: status %d, stderr: %s", i, r.status, r.err);
        assert_non_null(strstr(r.out, "good1"));
        run_free(&r);
    }
    unlink(path);
}

static void analyze__options_change_the_model(void **state)
{
    (void)state;
    enum { N = 400 };
    static struct whaco_customer cs[N];
    static struct whaco_segment_result res[N];
    static struct row rows[N];
    generate(23, 0.0, N, cs, NULL);
    char *text = customers_csv(cs, N);

    /* A tiny threshold flags (nearly) everyone; the default very few. */
    static const char *const low[] = {"--outlier-threshold", "0.5", NULL};
    struct run r = analyze_text(text, low);
    assert_int_equal(r.status, 0);
    assert_int_equal(parse_csv_output(r.out, rows, N), N);
    int flagged = 0;
    for (int i = 0; i < N; i++)
        flagged += rows[i].is_outlier;
    assert_true(flagged > N * 9 / 10);
    run_free(&r);

    /* --weight-rule seed gives what the library gives with that rule. */
    static struct whaco_segmenter seg;
    struct whaco_segment_config cfg;
    whaco_segment_config_default(&cfg);
    cfg.weight_rule = WHACO_WEIGHTS_SEED;
    assert_int_equal(whaco_segmenter_init(&seg, &cfg, NULL), WHACO_OK);
    for (int i = 0; i < N; i++)
        assert_int_equal(whaco_segment_learn(&seg, &cs[i], 0, &res[i], NULL), WHACO_OK);
    static const char *const seed_rule[] = {"--weight-rule", "seed", NULL};
    r = analyze_text(text, seed_rule);
    assert_int_equal(r.status, 0);
    assert_int_equal(parse_csv_output(r.out, rows, N), N);
    assert_rows_match(rows, cs, res, N);
    run_free(&r);
    free(text);
}

static void analyze__trade_value_is_optional(void **state)
{
    (void)state;
    /* An absent column and an explicit 0 mean no trade-in, as an absent
     * field in the API; an empty cell is unknown (it meant 0 before fields
     * could be unknown), as the API's null. */
    struct run absent =
        analyze_text("customerId,creditScore,annualIncome,vehiclePrice,downPayment,"
                     "visitCount,timeOnLot,engagement\n"
                     "a,720,85000,32000,4000,2,60,0.6\nb,580,42000,21000,1500,1,45,0.4\n",
                     NULL);
    struct run empty = analyze_text(HEADER "a,720,85000,32000,4000,,2,60,0.6\n"
                                           "b,580,42000,21000,1500,,1,45,0.4\n",
                                    NULL);
    struct run zero = analyze_text(HEADER "a,720,85000,32000,4000,0,2,60,0.6\n"
                                          "b,580,42000,21000,1500,0,1,45,0.4\n",
                                   NULL);
    struct run some = analyze_text(HEADER "a,720,85000,32000,4000,30000,2,60,0.6\n"
                                          "b,580,42000,21000,1500,0,1,45,0.4\n",
                                   NULL);
    assert_int_equal(absent.status, 0);
    assert_int_equal(empty.status, 0);
    assert_int_equal(zero.status, 0);
    assert_int_equal(some.status, 0);
    assert_string_equal(absent.out, zero.out);
    assert_string_not_equal(empty.out, zero.out);
    /* ...and a trade-in, when given, is used. */
    assert_string_not_equal(some.out, zero.out);
    struct row rows[2];
    assert_int_equal(parse_csv_output(absent.out, rows, 2), 2);
    run_free(&absent);
    run_free(&empty);
    run_free(&zero);
    run_free(&some);
}

static void analyze__column_order_and_extra_columns(void **state)
{
    (void)state;
    /* customerId first, then any order, and unknown columns ignored. */
    struct run canonical = analyze_text(HEADER GOOD1 GOOD2, NULL);
    struct run shuffled = analyze_text("customerId,note,engagement,timeOnLot,visitCount,"
                                       "tradeValue,downPayment,vehiclePrice,annualIncome,"
                                       "creditScore,segment\n"
                                       "good1,\"hi, there\",0.6,60,2,3000,4000,32000,85000,720,1\n"
                                       "good2,,0.4,45,1,0,1500,21000,42000,580,3\n",
                                       NULL);
    assert_int_equal(canonical.status, 0);
    assert_int_equal(shuffled.status, 0);
    assert_string_equal(shuffled.out, canonical.out);
    run_free(&canonical);
    run_free(&shuffled);

    /* Quoted header names and CRLF line ends read the same. */
    struct run quoted = analyze_text("\"customerId\",\"creditScore\",annualIncome,vehiclePrice,"
                                     "downPayment,tradeValue,visitCount,timeOnLot,engagement\r\n"
                                     "good1,720,85000,32000,4000,3000,2,60,0.6\r\n"
                                     "good2,580,42000,21000,1500,0,1,45,0.4\r\n",
                                     NULL);
    canonical = analyze_text(HEADER GOOD1 GOOD2, NULL);
    assert_int_equal(quoted.status, 0);
    assert_string_equal(quoted.out, canonical.out);
    run_free(&canonical);
    run_free(&quoted);
}

static void analyze__reads_stdin(void **state)
{
    (void)state;
    char path[32];
    write_temp(path, HEADER GOOD1 GOOD2, strlen(HEADER GOOD1 GOOD2));
    struct run from_file = analyze_argv(2, (char *[]){"analyze", path});
    assert_non_null(freopen(path, "r", stdin));
    struct run from_stdin = analyze_argv(2, (char *[]){"analyze", "-"});
    assert_int_equal(from_stdin.status, 0);
    assert_string_equal(from_stdin.out, from_file.out);
    assert_int_equal(lines(from_stdin.out), 3);
    run_free(&from_file);
    run_free(&from_stdin);
    unlink(path);
}

static void analyze__generated_customers_look_plausible(void **state)
{
    (void)state;
    enum { N = 4000 };
    static struct whaco_customer cs[N];
    static int truth[N];
    static struct row rows[N];
    generate(24, 0.025, N, cs, truth);
    char *text = customers_csv(cs, N);
    struct run r = analyze_text(text, NULL);
    assert_int_equal(r.status, 0);
    struct summary sum;
    read_summary(r.err, 0, &sum);
    assert_int_equal(sum.rows, N);
    assert_int_equal(parse_csv_output(r.out, rows, N), N);

    int outliers = 0, anomalies = 0, anomalies_flagged = 0, normal = 0, normal_flagged = 0;
    int used[WHACO_CLUSTERS] = {0};
    for (int i = 0; i < N; i++) {
        used[rows[i].cluster_id]++;
        outliers += rows[i].is_outlier;
        if (truth[i] < 0) {
            anomalies++;
            anomalies_flagged += rows[i].is_outlier;
        } else {
            normal++;
            normal_flagged += rows[i].is_outlier;
        }
    }
    /* Few outliers overall, every segment in use, anomalies flagged far
     * more often than normal customers. */
    assert_true(outliers < N * 5 / 100);
    for (int k = 0; k < WHACO_CLUSTERS; k++)
        assert_true(used[k] > N / 50);
    assert_true(anomalies > 0 && normal > 0);
    assert_true((double)anomalies_flagged / anomalies > 5.0 * (double)normal_flagged / normal);
    run_free(&r);
    free(text);
}

static void analyze__generate_output_parses_back(void **state)
{
    (void)state;
    static const char *const variants[][8] = {
        {"generate", "--count", "3000", "--seed", "9"},
        {"generate", "--count", "2000", "--seed", "10", "--labels"},
        {"generate", "--count", "2000", "--seed", "11", "--anomaly-rate", "1"},
        {"generate", "--count", "2000", "--price-scale", "1.15", "--fico-shift", "-20"},
    };
    static const int counts[] = {3000, 2000, 2000, 2000};
    for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
        char *argv[8];
        int argc = 0;
        for (; argc < 8 && variants[v][argc]; argc++)
            argv[argc] = (char *)variants[v][argc];
        struct run g = call(whaco_cmd_generate, argc, argv);
        assert_int_equal(g.status, 0);
        assert_string_equal(g.err, "");
        assert_int_equal(lines(g.out), counts[v] + 1);

        struct run r = analyze_text(g.out, NULL);
        if (r.status != 0)
            fail_msg("generate variant %zu: analyze status %d, stderr: %s", v, r.status, r.err);
        struct summary sum;
        read_summary(r.err, 0, &sum);
        assert_int_equal(sum.rows, counts[v]);
        assert_int_equal(lines(r.out), counts[v] + 1);
        run_free(&g);
        run_free(&r);
    }
}

static void analyze__write_error_exit_2(void **state)
{
    (void)state;
    /* /dev/full accepts the open and fails every write (Linux). */
    FILE *full = fopen("/dev/full", "w");
    if (!full)
        skip();
    char path[32];
    write_temp(path, HEADER GOOD1 GOOD2, strlen(HEADER GOOD1 GOOD2));
    FILE *err = tmpfile();
    assert_non_null(err);
    int status = whaco_cmd_analyze(2, (char *[]){"analyze", path}, full, err);
    char *msg = slurp(err);
    assert_int_equal(status, 2);
    assert_non_null(strstr(msg, "write error"));
    free(msg);
    fclose(err);
    fclose(full);
    unlink(path);
}

static void analyze__read_error_on_header_is_reported(void **state)
{
    (void)state;
    /* A read error on the header line (here EISDIR) is reported as one,
     * with its errno text, like a read error in the body. */
    struct run r = analyze_argv(2, (char *[]){"analyze", "/tmp"});
    assert_int_equal(r.status, 2);
    assert_null(strstr(r.err, "(null)"));
    assert_non_null(strstr(r.err, "read error"));
    run_free(&r);
}

static void analyze__generate_rejects_bad_arguments(void **state)
{
    (void)state;
    static const char *const bad[][4] = {
        {"generate", "--count", "-1"},
        {"generate", "--count", "ten"},
        {"generate", "--count"},
        {"generate", "--seed", "1x"},
        {"generate", "--anomaly-rate", "2"},
        {"generate", "--anomaly-rate", "nan"},
        {"generate", "--price-scale", "0"},
        {"generate", "--fico-shift", "-600"},
        {"generate", "--bogus"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *argv[4];
        int argc = 0;
        for (; argc < 4 && bad[i][argc]; argc++)
            argv[argc] = (char *)bad[i][argc];
        struct run g = call(whaco_cmd_generate, argc, argv);
        if (g.status != 2)
            fail_msg("generate case %zu: status %d", i, g.status);
        assert_non_null(strstr(g.err, "usage: whaco generate"));
        assert_string_equal(g.out, "");
        run_free(&g);
    }
}

static void analyze__generate_rejects_count_overflow(void **state)
{
    (void)state;
    /* strtoull saturates out-of-range numbers to ULLONG_MAX: that must be
     * a usage error, not a request for 18 quintillion rows. */
    struct run g =
        call(whaco_cmd_generate, 3, (char *[]){"generate", "--count", "99999999999999999999"});
    assert_int_equal(g.status, 2);
    assert_string_equal(g.out, "");
    run_free(&g);
}

/* ---- output byte for byte ---- */

static void old_json_string(FILE *out, const char *s)
{
    putc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            putc(*p, out);
    }
    putc('"', out);
}

/* A result row exactly as the command wrote it with fprintf before its fast
 * output path: the reference for byte-for-byte comparison. */
static void old_write_result(FILE *out, int json, const char *id,
                             const struct whaco_segment_result *res)
{
    char reason[256];
    const struct whaco_profile *p = whaco_profile(res->cluster_id);
    whaco_reason_format(res->reasons, res->n_reasons, reason, sizeof reason);
    if (json) {
        fputs("{\"customerId\":", out);
        old_json_string(out, id);
        fprintf(out, ",\"clusterId\":%d,\"clusterName\":", res->cluster_id);
        old_json_string(out, p->name);
        fprintf(out,
                ",\"isOutlier\":%s,\"outlierScore\":%.4f,\"confidence\":%.4f,"
                "\"priorityScore\":%.2f,\"outlierReason\":",
                res->is_outlier ? "true" : "false", res->outlier_score, res->confidence,
                res->priority);
        if (res->is_outlier)
            old_json_string(out, reason);
        else
            fputs("null", out);
        fputs("}\n", out);
        return;
    }
    csv_write_field(out, id);
    fprintf(out, ",%d,%s,%d,%.4f,%.4f,%.2f,", res->cluster_id, p->name, res->is_outlier,
            res->outlier_score, res->confidence, res->priority);
    csv_write_field(out, reason);
    putc('\n', out);
}

/*
 * n generated customers as CSV text with awkward ids (commas, quotes,
 * backslashes, spaces, UTF-8) and numbers written as %.17g or %.16e (both
 * exact), so both the fast and the strtod number paths are read. Also fills
 * the expected output of `analyze` (json or CSV) by the former formatting
 * code. Both strings are the caller's to free.
 */
static void awkward_input(uint64_t seed, int n, int json, char **input, char **expected,
                          struct whaco_segment_result *res_out)
{
    static const char *const id_forms[] = {"g%05d", "a,%d",      "q\"%d\"",
                                           "b\\%d", "sp ace %d", "\xc3\xbcn\xc3\xaf%d"};
    size_t in_len = 0, ex_len = 0;
    FILE *in = open_memstream(input, &in_len), *ex = open_memstream(expected, &ex_len);
    assert_non_null(in);
    assert_non_null(ex);
    fputs(HEADER, in);
    if (!json)
        fputs(OUT_HEADER "\n", ex);
    static struct whaco_segmenter seg;
    assert_int_equal(whaco_segmenter_init(&seg, NULL, NULL), WHACO_OK);
    struct whaco_gen_params p;
    whaco_gen_params_default(&p);
    p.anomaly_rate = 0.15;
    struct whaco_rng rng;
    whaco_rng_seed(&rng, seed);
    for (int i = 0; i < n; i++) {
        struct whaco_customer c;
        struct whaco_segment_result res;
        whaco_gen_customer(&rng, &p, &c, NULL);
        snprintf(c.id, sizeof c.id, id_forms[i % 6], i);
        csv_write_field(in, c.id);
        const double v[] = {c.credit_score, c.annual_income, c.vehicle_price, c.down_payment,
                            c.trade_value,  c.time_on_lot,   c.engagement};
        for (int k = 0; k < 7; k++) {
            if (k == 5)
                fprintf(in, ",%d", (int)c.visit_count);
            fprintf(in, (i + k) % 5 == 0 ? ",%.16e" : ",%.17g", v[k]);
        }
        putc('\n', in);
        assert_int_equal(whaco_segment_learn(&seg, &c, 0, &res, NULL), WHACO_OK);
        old_write_result(ex, json, c.id, &res);
        if (res_out)
            res_out[i] = res;
    }
    assert_int_equal(fclose(in), 0);
    assert_int_equal(fclose(ex), 0);
}

static void analyze__output_is_byte_identical_to_the_printf_path(void **state)
{
    (void)state;
    enum { N = 20000 };
    static struct whaco_segment_result res[N];
    static const char *const json_opts[] = {"--format", "json", NULL};
    for (int json = 0; json <= 1; json++) {
        char *input, *expected;
        awkward_input(40 + (uint64_t)json, N, json, &input, &expected, res);
        struct run r = analyze_text(input, json ? json_opts : NULL);
        assert_int_equal(r.status, 0);
        expect_summary_of(r.err, res, N, 0);
        assert_int_equal(strlen(r.out), strlen(expected));
        if (strcmp(r.out, expected)) {
            size_t at = 0;
            while (r.out[at] == expected[at])
                at++;
            fail_msg("output differs at byte %zu: \"%.80s\" vs \"%.80s\"", at, r.out + at,
                     expected + at);
        }
        /* Outliers (the reason column) were exercised. */
        int outliers = 0;
        for (int i = 0; i < N; i++)
            outliers += res[i].is_outlier;
        assert_true(outliers > N / 20);
        run_free(&r);
        free(input);
        free(expected);
    }
}

/* ---- --state and --save ---- */

static char *make_temp_dir(void)
{
    char *dir = malloc(32);
    assert_non_null(dir);
    memcpy(dir, "/tmp/whaco-an-XXXXXX", sizeof "/tmp/whaco-an-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return dir;
}

static void remove_dir(char *dir)
{
    char cmd[96];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    assert_int_equal(system(cmd), 0);
    free(dir);
}

/* dir/name in a static buffer (one at a time). */
static const char *path_in(const char *dir, const char *name)
{
    static char buf[2][512];
    static int which;
    which ^= 1;
    snprintf(buf[which], sizeof buf[which], "%s/%s", dir, name);
    return buf[which];
}

/* The output lines of text after the first `skip` lines. */
static const char *after_lines(const char *text, int skip)
{
    for (int i = 0; i < skip; i++) {
        text = strchr(text, '\n');
        assert_non_null(text);
        text++;
    }
    return text;
}

static void analyze__save_then_state_continues_the_model(void **state)
{
    (void)state;
    enum { NA = 3000, NB = 2000 };
    static struct whaco_customer cs[NA + NB];
    generate(31, 0.05, NA + NB, cs, NULL);
    char *all = customers_csv(cs, NA + NB), *a = customers_csv(cs, NA),
         *b = customers_csv(cs + NA, NB);
    char *dir = make_temp_dir();
    const char *saved = path_in(dir, "saved"); /* does not exist yet */
    char saved_dir[128];
    snprintf(saved_dir, sizeof saved_dir, "%s", saved);

    /* A then B in one run ... */
    struct run one = analyze_text(all, NULL);
    assert_int_equal(one.status, 0);

    /* ... equals A with --save, then B with --state. */
    const char *save_opts[] = {"--save", saved_dir, NULL};
    struct run ra = analyze_text(a, save_opts);
    if (ra.status != 0)
        fail_msg("--save: status %d, stderr: %s", ra.status, ra.err);
    char want[256];
    snprintf(want, sizeof want,
             "whaco analyze: saved the model (%d customers learned in all) and 0 salespeople to "
             "%s\n",
             NA, saved_dir);
    assert_memory_equal(ra.err, want, strlen(want));
    struct summary sum;
    read_summary(ra.err, 1, &sum);
    assert_int_equal(sum.rows, NA);
    assert_memory_equal(ra.out, one.out, strlen(ra.out));

    const char *state_opts[] = {"--state", saved_dir, NULL};
    struct run rb = analyze_text(b, state_opts);
    if (rb.status != 0)
        fail_msg("--state: status %d, stderr: %s", rb.status, rb.err);
    snprintf(want, sizeof want,
             "whaco analyze: starting from %s: a model that has learned from %d customers\n",
             saved_dir, NA);
    assert_memory_equal(rb.err, want, strlen(want));
    read_summary(rb.err, 1, &sum);
    assert_int_equal(sum.rows, NB);
    assert_string_equal(after_lines(rb.out, 1), after_lines(one.out, 1 + NA));

    /* The learned model matters: B alone from the seeded profiles differs. */
    struct run fresh = analyze_text(b, NULL);
    assert_int_equal(fresh.status, 0);
    assert_string_not_equal(fresh.out, rb.out);

    /* --state only reads: a second run gives the same again. */
    struct run again = analyze_text(b, state_opts);
    assert_int_equal(again.status, 0);
    assert_string_equal(again.out, rb.out);

    /* A directory written by --save holds no events: --save may write it
     * again; JSON output saves the same model. */
    const char *json_save[] = {"--format", "json", "--save", saved_dir, NULL};
    struct run rj = analyze_text(a, json_save);
    assert_int_equal(rj.status, 0);
    struct run rb2 = analyze_text(b, state_opts);
    assert_string_equal(rb2.out, rb.out);

    run_free(&one);
    run_free(&ra);
    run_free(&rb);
    run_free(&fresh);
    run_free(&again);
    run_free(&rj);
    run_free(&rb2);
    free(all);
    free(a);
    free(b);
    remove_dir(dir);
}

/* Engine views are not used here; any non-NULL pointer will do. */
static void *no_view(const struct whaco_intel *in, void *ctx)
{
    (void)in;
    return ctx;
}

static void no_view_free(void *view)
{
    (void)view;
}

/* A service data directory with one salesperson and n analysed customers. */
static void make_service_dir(const char *dir, int n)
{
    struct whaco_engine_config cfg;
    struct whaco_engine *e = NULL;
    struct whaco_event ev;
    struct whaco_engine_reply reply;
    static int dummy;
    char msg[512];
    whaco_engine_config_default(&cfg);
    cfg.store.location = dir;
    cfg.publish = no_view;
    cfg.view_free = no_view_free;
    cfg.ctx = &dummy;
    cfg.daily_reset = false;
    cfg.store.sync = WHACO_SYNC_NORMAL;
    if (whaco_engine_start(&cfg, &e, msg, sizeof msg) != WHACO_OK)
        fail_msg("engine start: %s", msg);
    whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
    snprintf(ev.id, sizeof ev.id, "s1");
    snprintf(ev.name, sizeof ev.name, "Sam One");
    ev.skill_level = 0.8;
    ev.natural_frequency = 1.0;
    assert_int_equal(whaco_engine_call(e, &ev, &reply), WHACO_OK);
    assert_int_equal(reply.rc, WHACO_OK);
    struct whaco_customer cs[64];
    assert_true(n <= 64);
    generate(33, 0.0, n, cs, NULL);
    for (int i = 0; i < n; i++) {
        whaco_event_init(&ev, WHACO_EV_ANALYZE);
        ev.customer = cs[i];
        assert_int_equal(whaco_engine_call(e, &ev, &reply), WHACO_OK);
        assert_int_equal(reply.rc, WHACO_OK);
    }
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

static void analyze__state_of_a_service_and_save_refusal(void **state)
{
    (void)state;
    enum { NS = 40, NB = 500 };
    static struct whaco_customer cs[NB];
    char *dir = make_temp_dir();
    char service[128], out_dir[128];
    snprintf(service, sizeof service, "%s", path_in(dir, "service"));
    snprintf(out_dir, sizeof out_dir, "%s", path_in(dir, "learned"));
    make_service_dir(service, NS);
    generate(34, 0.05, NB, cs, NULL);
    char *b = customers_csv(cs, NB);

    /* --save never replaces a service's events. */
    const char *save_service[] = {"--save", service, NULL};
    struct run r = analyze_text(b, save_service);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "not saved: the directory holds a service's events"));
    assert_non_null(strstr(r.err, "500 rows analysed, 0 rejected")); /* the summary still */
    run_free(&r);

    /* --state from it, --save elsewhere: the team comes along, the model
     * is the service's model having learned B after its own customers. */
    const char *both[] = {"--state", service, "--save", out_dir, NULL};
    r = analyze_text(b, both);
    if (r.status != 0)
        fail_msg("status %d, stderr: %s", r.status, r.err);
    assert_non_null(strstr(r.err, "and 1 salespeople to"));
    run_free(&r);

    char msg[512];
    struct whaco_intel *svc = calloc(1, sizeof *svc), *got = calloc(1, sizeof *got);
    assert_non_null(svc);
    assert_non_null(got);
    assert_int_equal(whaco_intel_init(svc, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_init(got, NULL, NULL, NULL), WHACO_OK);
    struct whaco_store_spec spec = {WHACO_STORE_SQLITE, service, WHACO_SYNC_FULL, 0};
    if (whaco_engine_load(&spec, svc, msg, sizeof msg) != WHACO_OK)
        fail_msg("load service: %s", msg);
    spec.location = out_dir;
    if (whaco_engine_load(&spec, got, msg, sizeof msg) != WHACO_OK)
        fail_msg("load saved: %s", msg);
    assert_int_equal(svc->seg.processed, NS); /* the refused --save changed nothing */
    assert_int_equal(got->team.n, 1);
    assert_string_equal(got->team.members[0].id, "s1");
    assert_string_equal(got->team.members[0].name, "Sam One");
    for (int i = 0; i < NB; i++)
        assert_int_equal(
            whaco_segment_learn(&svc->seg, &cs[i], 0, &(struct whaco_segment_result){0}, NULL),
            WHACO_OK);
    assert_int_equal(got->seg.processed, NS + NB);
    assert_int_equal(got->seg.outliers, svc->seg.outliers);
    assert_memory_equal(got->seg.clusters, svc->seg.clusters, sizeof got->seg.clusters);
    assert_memory_equal(got->seg.weights, svc->seg.weights, sizeof got->seg.weights);
    whaco_intel_release(svc);
    whaco_intel_release(got);
    free(svc);
    free(got);
    free(b);
    remove_dir(dir);
}

static void analyze__state_errors(void **state)
{
    (void)state;
    char *dir = make_temp_dir();
    char missing[128];
    snprintf(missing, sizeof missing, "%s", path_in(dir, "missing"));

    /* A directory without a service state: exit 2, and nothing created. */
    const char *opts[] = {"--state", missing, NULL};
    struct run r = analyze_text(HEADER GOOD1, opts);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "no service state there"));
    assert_string_equal(r.out, "");
    assert_int_not_equal(access(missing, F_OK), 0);
    run_free(&r);

    /* A damaged store is reported, not read. */
    assert_int_equal(mkdir(missing, 0700), 0);
    FILE *fp = fopen(path_in(missing, "whaco.db"), "w");
    assert_non_null(fp);
    fputs("this is not a database, not at all, not even a little bit\n", fp);
    assert_int_equal(fclose(fp), 0);
    r = analyze_text(HEADER GOOD1, opts);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "whaco analyze: --state "));
    run_free(&r);

    /* The state keeps its own settings: model options are refused with it. */
    const char *conflict[] = {"--state", dir, "--outlier-threshold", "3", NULL};
    r = analyze_text(HEADER GOOD1, conflict);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "apply to a new model only"));
    run_free(&r);
    const char *conflict2[] = {"--weight-rule", "seed", "--state", dir, NULL};
    r = analyze_text(HEADER GOOD1, conflict2);
    assert_int_equal(r.status, 2);
    run_free(&r);

    /* A missing value is a usage error. */
    r = analyze_argv(3, (char *[]){"analyze", "x.csv", "--save"});
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage: whaco analyze"));
    run_free(&r);

    /* A read error leaves --save undone. */
    char saved[128];
    snprintf(saved, sizeof saved, "%s", path_in(dir, "saved"));
    r = analyze_argv(4, (char *[]){"analyze", "--save", saved, "/tmp"});
    assert_int_equal(r.status, 2);
    assert_int_not_equal(access(saved, F_OK), 0);
    run_free(&r);
    remove_dir(dir);
}

/* ---- progress ---- */

/* A large CSV: the same customer n times with distinct ids; caller frees. */
static char *many_rows(int n, size_t *len)
{
    size_t cap = sizeof HEADER + (size_t)n * 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t at = sizeof HEADER - 1;
    memcpy(text, HEADER, at);
    for (int i = 0; i < n; i++)
        at +=
            (size_t)snprintf(text + at, cap - at, "c%07d,720,85000,32000,4000,3000,2,60,0.6\n", i);
    text[at] = '\0';
    *len = at;
    return text;
}

static void analyze__no_progress_bar_when_stderr_is_not_a_terminal(void **state)
{
    (void)state;
    enum { N = 150000 };
    size_t len;
    char *text = many_rows(N, &len);
    struct run r = analyze_text(text, NULL);
    assert_int_equal(r.status, 0);
    struct summary sum;
    read_summary(r.err, 0, &sum); /* nothing but the summary: no CR, no escapes */
    assert_int_equal(sum.rows, N);
    assert_int_equal(lines(r.out), N + 1);
    run_free(&r);
    free(text);
}

static void analyze__progress_bar_on_a_terminal(void **state)
{
    (void)state;
    /* A pseudo-terminal as stderr. Enough rows to take over 0.1 s. */
    int master = posix_openpt(O_RDWR | O_NOCTTY);
    if (master < 0 || grantpt(master) || unlockpt(master) || !ptsname(master)) {
        if (master >= 0)
            close(master);
        skip();
    }
    int slave = open(ptsname(master), O_RDWR | O_NOCTTY);
    assert_true(slave >= 0);
    FILE *err = fdopen(slave, "w");
    assert_non_null(err);
    assert_true(isatty(fileno(err)));

    enum { N = 400000 };
    size_t len;
    char *text = many_rows(N, &len);
    char path[32];
    write_temp(path, text, len);
    FILE *out = fopen("/dev/null", "w");
    assert_non_null(out);
    int status = whaco_cmd_analyze(2, (char *[]){"analyze", path}, out, err);
    assert_int_equal(status, 0);
    fclose(out);
    fclose(err);

    /* Everything written to the terminal is waiting on the master side. */
    static char seen[1 << 16];
    size_t n = 0;
    assert_int_equal(fcntl(master, F_SETFL, O_NONBLOCK), 0);
    for (;;) {
        ssize_t got = read(master, seen + n, sizeof seen - 1 - n);
        if (got <= 0)
            break;
        n += (size_t)got;
    }
    seen[n] = '\0';
    close(master);
    /* At least one bar (with ETA: the input is a regular file), each
     * erased, then the summary. */
    const char *bar = strstr(seen, "\rwhaco analyze: [");
    if (!bar)
        fail_msg("no progress bar in: %s", seen);
    assert_non_null(strstr(bar, "rows/s  ETA "));
    assert_non_null(strstr(bar, "\r\033[K"));
    const char *summary = strstr(seen, "whaco analyze: 400000 rows analysed, 0 rejected");
    assert_non_null(summary);
    assert_true(summary > bar);
    assert_null(strchr(summary, '\033')); /* no bar after the summary */
    unlink(path);
    free(text);
}

static void analyze__rows_from_a_slow_pipe_are_answered_as_they_come(void **state)
{
    (void)state;
    /* A child feeds stdin one row, waits (at most 10 s) for its result on
     * our stdout pipe, and only then sends the next row and closes: it
     * exits 0 only if the first answer came before the input ended. */
    int in_pipe[2], out_pipe[2];
    assert_int_equal(pipe(in_pipe), 0);
    assert_int_equal(pipe(out_pipe), 0);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(in_pipe[0]);
        close(out_pipe[1]);
        alarm(10);
        static const char first[] = HEADER GOOD1;
        if (write(in_pipe[1], first, sizeof first - 1) != (ssize_t)(sizeof first - 1))
            _exit(3);
        char got[4096];
        size_t n = 0;
        while (n < sizeof got - 1) {
            ssize_t k = read(out_pipe[0], got + n, sizeof got - 1 - n);
            if (k <= 0)
                _exit(4);
            n += (size_t)k;
            got[n] = '\0';
            if (strstr(got, "good1,"))
                break;
        }
        if (write(in_pipe[1], GOOD2, sizeof GOOD2 - 1) != (ssize_t)(sizeof GOOD2 - 1))
            _exit(5);
        close(in_pipe[1]);
        while (read(out_pipe[0], got, sizeof got) > 0)
            ; /* the rest, to the end */
        _exit(0);
    }
    close(in_pipe[1]);
    close(out_pipe[0]);
    /* The pipe becomes descriptor 0, which `-` reads (never through
     * stdio's buffer, so swapping the descriptor is enough). */
    int saved_fd0 = dup(0);
    assert_true(saved_fd0 >= 0);
    assert_int_equal(dup2(in_pipe[0], 0), 0);
    close(in_pipe[0]);
    FILE *out = fdopen(out_pipe[1], "w"), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    void (*saved_sigpipe)(int) = signal(SIGPIPE, SIG_IGN); /* if the child fails early */
    int status = whaco_cmd_analyze(2, (char *[]){"analyze", "-"}, out, err);
    assert_int_equal(dup2(saved_fd0, 0), 0);
    close(saved_fd0);
    fclose(out);
    signal(SIGPIPE, saved_sigpipe);
    int child;
    assert_int_equal(waitpid(pid, &child, 0), pid);
    assert_true(WIFEXITED(child));
    assert_int_equal(WEXITSTATUS(child), 0);
    assert_int_equal(status, 0);
    char *msg = slurp(err);
    assert_non_null(strstr(msg, "2 rows analysed, 0 rejected"));
    free(msg);
    fclose(err);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(analyze__rows_in_order_match_the_library),
        cmocka_unit_test(analyze__json_lines),
        cmocka_unit_test(analyze__json_escapes_ids),
        cmocka_unit_test(analyze__accepts_a_byte_order_mark),
        cmocka_unit_test(analyze__bad_rows_are_reported_and_skipped),
        cmocka_unit_test(analyze__id_of_63_bytes_is_fine),
        cmocka_unit_test(analyze__line_numbers_count_every_line),
        cmocka_unit_test(analyze__all_bad_rows),
        cmocka_unit_test(analyze__header_errors_exit_2),
        cmocka_unit_test(analyze__usage_and_io_errors_exit_2),
        cmocka_unit_test(analyze__options_change_the_model),
        cmocka_unit_test(analyze__trade_value_is_optional),
        cmocka_unit_test(analyze__column_order_and_extra_columns),
        cmocka_unit_test(analyze__reads_stdin),
        cmocka_unit_test(analyze__generated_customers_look_plausible),
        cmocka_unit_test(analyze__generate_output_parses_back),
        cmocka_unit_test(analyze__write_error_exit_2),
        cmocka_unit_test(analyze__read_error_on_header_is_reported),
        cmocka_unit_test(analyze__generate_rejects_bad_arguments),
        cmocka_unit_test(analyze__generate_rejects_count_overflow),
        cmocka_unit_test(analyze__output_is_byte_identical_to_the_printf_path),
        cmocka_unit_test(analyze__save_then_state_continues_the_model),
        cmocka_unit_test(analyze__state_of_a_service_and_save_refusal),
        cmocka_unit_test(analyze__state_errors),
        cmocka_unit_test(analyze__no_progress_bar_when_stderr_is_not_a_terminal),
        cmocka_unit_test(analyze__progress_bar_on_a_terminal),
        cmocka_unit_test(analyze__rows_from_a_slow_pipe_are_answered_as_they_come),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

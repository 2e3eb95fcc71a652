/*
 * analyze.c: `whaco analyze FILE.csv|-` segments a CSV of customers in
 * input order, learning online as the service would, and writes one result
 * row per customer (CSV, or JSON lines with --format json).
 *
 * Input: a header row with the API's camelCase names, customerId first;
 * the columns creditScore, annualIncome, vehiclePrice, downPayment,
 * visitCount, timeOnLot and engagement are required, tradeValue is optional
 * (an absent column is no trade-in, 0, as an absent field in the API), and
 * other columns are ignored. An empty cell is an unknown field (a null in
 * the API): the customer is segmented on what is known (whaco/segment.h).
 * A column must be there even if every cell of it is empty, so that a
 * misspelt header is an error rather than a field silently unknown. A row
 * that cannot be read or fails validation (no known feature included) is
 * reported on stderr with its line number and field, and skipped; the exit
 * status is then 1.
 *
 * A bulk tool: it starts from the seeded profiles or from a service's
 * learned state (--state DIR, read-only), can write what it learned as a
 * service state (--save DIR), draws a progress bar when stderr is a
 * terminal and always ends with a summary on stderr (rows, rejected rows,
 * segments, outliers, time).
 *
 * Throughput (goal: 1,000,000 customers/s from CSV on a 2-core machine):
 * the model itself costs ~350 ns a customer, so everything around it is
 * kept off stdio and libc's general conversions. The reader takes big
 * blocks (csv.h), numbers are parsed and printed by csv.h's exact fast
 * paths, rows are built in a 256 KiB buffer written with one fwrite, and
 * nothing is allocated per row. Output is byte-identical to the former
 * fprintf("%.4f") code (tests/unit/test_analyze.c checks it).
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "whaco/alloc.h"
#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/intel.h"
#include "whaco/segment.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/csv.h"
#include "banned.h"

enum column {
    COL_CUSTOMER_ID,
    COL_CREDIT_SCORE,
    COL_ANNUAL_INCOME,
    COL_VEHICLE_PRICE,
    COL_DOWN_PAYMENT,
    COL_TRADE_VALUE,
    COL_VISIT_COUNT,
    COL_TIME_ON_LOT,
    COL_ENGAGEMENT,
    COL_COUNT
};

static const char *const column_names[COL_COUNT] = {
    "customerId", "creditScore", "annualIncome", "vehiclePrice", "downPayment",
    "tradeValue", "visitCount",  "timeOnLot",    "engagement",
};

struct options {
    const char *path;
    const char *state_dir; /* --state: start from this service state, or NULL */
    const char *save_dir;  /* --save: write the learned state here, or NULL */
    int json;
    int model_options; /* --outlier-threshold or --weight-rule given */
    struct whaco_segment_config cfg;
};

static int usage(FILE *err)
{
    fputs("usage: whaco analyze [--format csv|json] [--outlier-threshold D]\n"
          "                     [--weight-rule dispersion|seed|fixed]\n"
          "                     [--state DIR] [--save DIR] FILE.csv|-\n",
          err);
    return 2;
}

/* Report a bad option on err; returns -1 for parse_options to return. */
static int option_error(FILE *err, const char *what)
{
    fprintf(err, "whaco analyze: %s\n", what);
    return -1;
}

/* The --weight-rule values. */
static const struct {
    const char *name;
    enum whaco_weight_rule rule;
} weight_rules[] = {
    {"dispersion", WHACO_WEIGHTS_DISPERSION},
    {"seed", WHACO_WEIGHTS_SEED},
    {"fixed", WHACO_WEIGHTS_FIXED},
};

/* Set o->cfg.weight_rule from its name; 0, or -1 if v names none. */
static int parse_weight_rule(const char *v, struct options *o)
{
    for (size_t k = 0; k < sizeof weight_rules / sizeof weight_rules[0]; k++) {
        if (!strcmp(v, weight_rules[k].name)) {
            o->cfg.weight_rule = weight_rules[k].rule;
            return 0;
        }
    }
    return -1;
}

static int parse_options(int argc, char **argv, struct options *o, FILE *err)
{
    memset(o, 0, sizeof *o);
    whaco_segment_config_default(&o->cfg);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--format") && v) {
            if (!strcmp(v, "json"))
                o->json = 1;
            else if (strcmp(v, "csv"))
                return option_error(err, "--format must be csv or json");
            i++;
        } else if (!strcmp(a, "--outlier-threshold") && v) {
            if (csv_parse_double(v, &o->cfg.outlier_threshold) ||
                !(o->cfg.outlier_threshold > 0.0) || !isfinite(o->cfg.outlier_threshold))
                return option_error(err, "--outlier-threshold must be > 0");
            o->model_options = 1;
            i++;
        } else if (!strcmp(a, "--weight-rule") && v) {
            if (parse_weight_rule(v, o))
                return option_error(err, "--weight-rule must be dispersion, seed or fixed");
            o->model_options = 1;
            i++;
        } else if (!strcmp(a, "--state") && v && *v) {
            o->state_dir = v;
            i++;
        } else if (!strcmp(a, "--save") && v && *v) {
            o->save_dir = v;
            i++;
        } else if ((a[0] != '-' || !strcmp(a, "-")) && !o->path) {
            o->path = a;
        } else {
            return -1;
        }
    }
    if (o->state_dir && o->model_options)
        return option_error(err, "--state keeps the state's own model settings; "
                                 "--outlier-threshold and --weight-rule apply to a new model only");
    return o->path ? 0 : -1;
}

/* Map header fields to columns. Returns 0, or -1 after reporting. */
static int read_header(struct csv_reader *r, int idx[COL_COUNT], FILE *err)
{
    int rc = csv_read(r);
    if (rc == -2)
        fprintf(err, "whaco analyze: read error: %s\n", strerror(errno));
    else if (rc <= 0)
        fprintf(err, "whaco analyze: line 1: %s\n", rc == 0 ? "no header row" : r->error);
    if (rc <= 0)
        return -1;
    for (int c = 0; c < COL_COUNT; c++)
        idx[c] = -1;
    /* Spreadsheets often start a UTF-8 file with a byte-order mark. */
    if (!strncmp(r->fields[0], "\xef\xbb\xbf", 3))
        r->fields[0] += 3;
    for (int f = 0; f < r->nfields; f++) {
        for (int c = 0; c < COL_COUNT; c++) {
            if (strcmp(r->fields[f], column_names[c]))
                continue;
            if (idx[c] >= 0) {
                fprintf(err, "whaco analyze: line 1: column %s appears twice\n", column_names[c]);
                return -1;
            }
            idx[c] = f;
        }
    }
    if (idx[COL_CUSTOMER_ID] != 0) {
        fprintf(err, "whaco analyze: line 1: the first column must be customerId\n");
        return -1;
    }
    for (int c = 0; c < COL_COUNT; c++) {
        if (idx[c] < 0 && c != COL_TRADE_VALUE) {
            fprintf(err, "whaco analyze: line 1: missing column %s\n", column_names[c]);
            return -1;
        }
    }
    return 0;
}

/* 1 if an API field comes after visitCount in column order. */
static int field_after_visits(const char *field)
{
    return field && (!strcmp(field, "timeOnLot") || !strcmp(field, "engagement"));
}

/* The field bit of each input column (the customer's `missing` set). */
static const uint32_t column_bits[COL_COUNT] = {
    0,
    WHACO_FIELD_CREDIT_SCORE,
    WHACO_FIELD_ANNUAL_INCOME,
    WHACO_FIELD_VEHICLE_PRICE,
    WHACO_FIELD_DOWN_PAYMENT,
    WHACO_FIELD_TRADE_VALUE,
    WHACO_FIELD_VISIT_COUNT,
    WHACO_FIELD_TIME_ON_LOT,
    WHACO_FIELD_ENGAGEMENT,
};

/*
 * Fill a customer from the current record; an empty cell is an unknown
 * field. Returns WHACO_OK or the error of the first bad field in column
 * order, *field naming it. The range checks of whaco_customer_check are
 * left to whaco_segment_learn, which makes them anyway, except when
 * visitCount is not a whole number: then they run here, to decide which of
 * the two errors comes first.
 */
static int read_customer(const struct csv_reader *r, const int idx[COL_COUNT],
                         struct whaco_customer *c, const char **field)
{
    double v[COL_COUNT] = {0};
    uint32_t missing = 0;
    for (int col = 0; col < COL_COUNT; col++) {
        if (idx[col] >= r->nfields) {
            *field = column_names[col];
            return WHACO_E_PARSE;
        }
        if (col == COL_CUSTOMER_ID || idx[col] < 0)
            continue;
        const char *s = r->fields[idx[col]];
        if (*s == '\0') {
            missing |= column_bits[col];
            continue;
        }
        if (csv_parse_double(s, &v[col])) {
            *field = column_names[col];
            return WHACO_E_PARSE;
        }
    }
    const char *id = r->fields[idx[COL_CUSTOMER_ID]];
    size_t n = strlen(id);
    if (n == 0 || n >= sizeof c->id) {
        *field = "customerId";
        return WHACO_E_ID_LENGTH;
    }
    memcpy(c->id, id, n + 1);
    c->credit_score = v[COL_CREDIT_SCORE];
    c->annual_income = v[COL_ANNUAL_INCOME];
    c->vehicle_price = v[COL_VEHICLE_PRICE];
    c->down_payment = v[COL_DOWN_PAYMENT];
    c->trade_value = v[COL_TRADE_VALUE];
    c->time_on_lot = v[COL_TIME_ON_LOT];
    c->engagement = v[COL_ENGAGEMENT];
    c->missing = missing;

    /* visitCount is a whole number in the core; a value that is not one is
     * reported unless a field before it in column order is wrong too. An
     * unknown one reads as 0, which is whole. */
    double visits = v[COL_VISIT_COUNT];
    int visits_rc = !isfinite(visits)                               ? WHACO_E_NOT_FINITE
                    : visits != floor(visits) || visits > INT32_MAX ? WHACO_E_NOT_INTEGER
                                                                    : WHACO_OK;
    c->visit_count = visits_rc != WHACO_OK ? 0 : visits < 0 ? -1 : (int32_t)visits;
    if (visits_rc == WHACO_OK)
        return WHACO_OK;
    const char *check_field = NULL;
    int rc = whaco_customer_check(c, &check_field);
    if (rc == WHACO_OK || field_after_visits(check_field)) {
        *field = "visitCount";
        return visits_rc;
    }
    *field = check_field;
    return rc;
}

/* ==== Output: rows built in one buffer ==== */

#define OUT_CAP    (256u << 10) /* bytes buffered before an fwrite */
#define ROW_MAX    4096         /* > the longest row: escaped id, reason, 3 numbers */
#define REASON_MAX 256          /* bytes of an outlier reason, NUL included */
_Static_assert(ROW_MAX > CLI_JSON_ESCAPED_MAX(WHACO_ID_MAX + REASON_MAX) + 3 * CSV_FIXED_MAX + 256,
               "ROW_MAX holds a row of the escaped id and reason, 3 numbers and the rest");

struct out {
    FILE *fp;          /* borrowed */
    size_t len;        /* bytes in buf */
    int failed;        /* an fwrite fell short */
    char buf[OUT_CAP]; /* rows not yet written */
};

static void out_flush(struct out *o)
{
    if (o->len && fwrite(o->buf, 1, o->len, o->fp) != o->len)
        o->failed = 1;
    o->len = 0;
}

static char *put(char *p, const char *s, size_t n)
{
    memcpy(p, s, n);
    return p + n;
}

#define PUT_LIT(p, lit) put((p), (lit), sizeof(lit) - 1)

/* s as one CSV field, quoted only if it needs quotes (as csv_write_field). */
static char *put_csv_field(char *p, const char *s)
{
    size_t n = strlen(s);
    if (!strpbrk(s, ",\"\r\n"))
        return put(p, s, n);
    *p++ = '"';
    for (; *s; s++) {
        if (*s == '"')
            *p++ = '"';
        *p++ = *s;
    }
    *p++ = '"';
    return p;
}

/* s as a JSON string, escaped by the CLI's one rule (cli_json_escape). */
static char *put_json_string(char *p, const char *s)
{
    *p++ = '"';
    p = cli_json_escape(p, s, strlen(s));
    *p++ = '"';
    return p;
}

static char *put_fixed(char *p, double v, int decimals)
{
    return p + csv_format_fixed(p, v, decimals);
}

/* The result row for one customer, as the former fprintf code wrote it. */
static void write_result(struct out *o, int json, const struct whaco_customer *c,
                         const struct whaco_segment_result *res)
{
    char reason[REASON_MAX] = "";
    const struct whaco_profile *prof = whaco_profile(res->cluster_id);
    if (o->len > OUT_CAP - ROW_MAX)
        out_flush(o);
    char *p = o->buf + o->len;
    if (res->is_outlier)
        whaco_reason_format(res->reasons, res->n_reasons, reason, sizeof reason);
    if (json) {
        p = PUT_LIT(p, "{\"customerId\":");
        p = put_json_string(p, c->id);
        p = PUT_LIT(p, ",\"clusterId\":");
        *p++ = (char)('0' + res->cluster_id); /* 0..WHACO_CLUSTERS-1 */
        p = PUT_LIT(p, ",\"clusterName\":");
        p = put_json_string(p, prof->name);
        p = res->is_outlier ? PUT_LIT(p, ",\"isOutlier\":true,\"outlierScore\":")
                            : PUT_LIT(p, ",\"isOutlier\":false,\"outlierScore\":");
        p = put_fixed(p, res->outlier_score, 4);
        p = PUT_LIT(p, ",\"confidence\":");
        p = put_fixed(p, res->confidence, 4);
        p = PUT_LIT(p, ",\"priorityScore\":");
        p = put_fixed(p, res->priority, 2);
        p = PUT_LIT(p, ",\"outlierReason\":");
        p = res->is_outlier ? put_json_string(p, reason) : PUT_LIT(p, "null");
        p = PUT_LIT(p, "}\n");
    } else {
        p = put_csv_field(p, c->id);
        *p++ = ',';
        *p++ = (char)('0' + res->cluster_id);
        *p++ = ',';
        p = put(p, prof->name, strlen(prof->name));
        p = res->is_outlier ? PUT_LIT(p, ",1,") : PUT_LIT(p, ",0,");
        p = put_fixed(p, res->outlier_score, 4);
        *p++ = ',';
        p = put_fixed(p, res->confidence, 4);
        *p++ = ',';
        p = put_fixed(p, res->priority, 2);
        *p++ = ',';
        p = put_csv_field(p, reason);
        *p++ = '\n';
    }
    o->len = (size_t)(p - o->buf);
}

/* ==== Progress bar (stderr on a terminal only) ==== */

#define PROGRESS_EVERY  4096 /* input lines between clock reads */
#define PROGRESS_PERIOD 0.1  /* seconds between redraws: at most ~10 a second */

struct progress {
    FILE *err;      /* borrowed */
    int on;         /* err is a terminal */
    uint64_t total; /* input bytes when the input is a regular file, else 0 */
    double start;   /* monotonic seconds at the start */
    double last;    /* when the bar was last drawn */
    int shown;      /* a bar is on screen */
};

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress_init(struct progress *pg, FILE *err, FILE *in)
{
    struct stat st;
    memset(pg, 0, sizeof *pg);
    pg->err = err;
    pg->start = pg->last = now_s();
    int efd = fileno(err), ifd = fileno(in);
    pg->on = efd >= 0 && isatty(efd);
    if (pg->on && ifd >= 0 && fstat(ifd, &st) == 0 && S_ISREG(st.st_mode)) {
        off_t at = lseek(ifd, 0, SEEK_CUR);
        if (at >= 0 && st.st_size > at)
            pg->total = (uint64_t)(st.st_size - at);
    }
}

/* Erase the bar, before any other message and at the end. */
static void progress_clear(struct progress *pg)
{
    if (pg->shown)
        fputs("\r\033[K", pg->err);
    pg->shown = 0;
}

/* Redraw if PROGRESS_PERIOD has passed: rows, rate, and with a known size
 * a bar, the share of bytes read and the time left. */
static void progress_tick(struct progress *pg, long rows, uint64_t bytes)
{
    if (!pg->on)
        return;
    double t = now_s();
    if (t - pg->last < PROGRESS_PERIOD)
        return;
    pg->last = t;
    double elapsed = t - pg->start, rate = elapsed > 0 ? (double)rows / elapsed : 0;
    char line[160];
    int n = 0;
    if (pg->total) {
        double done = (double)bytes / (double)pg->total;
        if (done > 1)
            done = 1;
        char bar[21];
        int fill = (int)(done * 20);
        for (int i = 0; i < 20; i++)
            bar[i] = i < fill ? '#' : '.';
        bar[20] = '\0';
        long eta = done > 0 ? (long)(elapsed * (1 - done) / done + 0.5) : 0;
        n = snprintf(line, sizeof line, "[%s] %3d%%  ", bar, (int)(done * 100));
        snprintf(line + n, sizeof line - (size_t)n, "%ld rows  %.0f rows/s  ETA %ld:%02ld", rows,
                 rate, eta / 60, eta % 60);
    } else {
        snprintf(line, sizeof line, "%ld rows  %.0f rows/s", rows, rate);
    }
    fprintf(pg->err, "\rwhaco analyze: %s\033[K", line);
    fflush(pg->err);
    pg->shown = 1;
}

/* ==== The command ==== */

struct tally {
    long rows;                    /* rows analysed */
    long bad;                     /* rows rejected */
    long outliers;                /* of the rows analysed */
    long segment[WHACO_CLUSTERS]; /* rows analysed, by assigned segment */
};

static void print_summary(FILE *err, const struct tally *t, double seconds)
{
    fprintf(err, "whaco analyze: %ld rows analysed, %ld rejected\n", t->rows, t->bad);
    fputs("whaco analyze: segments:", err);
    for (int k = 0; k < WHACO_CLUSTERS; k++)
        fprintf(err, "%s %s %ld", k ? "," : "", whaco_profile(k)->name, t->segment[k]);
    fprintf(err,
            "\nwhaco analyze: outliers: %ld (%.2f%% of the rows analysed, each also counted "
            "in its nearest segment)\n",
            t->outliers, t->rows ? 100.0 * (double)t->outliers / (double)t->rows : 0.0);
    fprintf(err, "whaco analyze: %.3f s, %.0f rows/s\n", seconds,
            seconds > 0 ? (double)t->rows / seconds : 0.0);
}

/*
 * --state: load the service's state from dir into *in (initialised). A
 * missing store is refused, not created (WHACO_STORE_MUST_EXIST): --state
 * never writes. Its absence is told apart from a damaged store by opening
 * it first. Returns 0, or -1 after reporting.
 */
static int load_state(const char *dir, struct whaco_intel *in, FILE *err)
{
    char msg[1024];
    struct whaco_store_spec spec = {0};
    struct whaco_store *s = NULL;
    int rc = whaco_store_spec_parse(&spec, dir, msg, sizeof msg);
    spec.flags = WHACO_STORE_MUST_EXIST;
    if (rc == WHACO_OK)
        rc = whaco_store_open(&spec, &s, msg, sizeof msg);
    whaco_store_close(s);
    if (rc == WHACO_E_NOT_FOUND) {
        fprintf(err, "whaco analyze: --state %s: no service state there (%s)\n", dir, msg);
        return -1;
    }
    if (rc == WHACO_OK)
        rc = whaco_engine_load(&spec, in, msg, sizeof msg);
    if (rc != WHACO_OK) {
        fprintf(err, "whaco analyze: --state %s: %s\n", dir, msg);
        return -1;
    }
    return 0;
}

/* --save: write *in as the state of dir. Returns 0, or -1 after reporting. */
static int save_state(const char *dir, const struct whaco_intel *in, int64_t now_ms, FILE *err)
{
    char msg[1024];
    struct whaco_store_spec spec = {0};
    int rc = whaco_store_spec_parse(&spec, dir, msg, sizeof msg);
    if (rc == WHACO_OK)
        rc = whaco_engine_import(&spec, in, false, now_ms, msg, sizeof msg);
    if (rc == WHACO_E_DUPLICATE) {
        fprintf(err,
                "whaco analyze: --save %s: not saved: the directory holds a service's events, "
                "which --save never replaces; save to a new directory\n",
                dir);
        return -1;
    }
    if (rc != WHACO_OK) {
        fprintf(err, "whaco analyze: --save %s: not saved: %s\n", dir, msg);
        return -1;
    }
    fprintf(err,
            "whaco analyze: saved the model (%llu customers learned in all) and %zu "
            "salespeople to %s\n",
            (unsigned long long)in->seg.processed, in->team.n, dir);
    return 0;
}

/*
 * The model to start from: a new one with o's settings, or the state of
 * o->state_dir. Returns it (the caller frees it with free_model), or NULL
 * after reporting.
 */
static struct whaco_intel *open_model(const struct options *o, FILE *err)
{
    struct whaco_intel *in = whaco_xcalloc(1, sizeof *in); /* 43 KiB: off the stack */
    const char *field = NULL;
    int rc = whaco_intel_init(in, &o->cfg, NULL, &field);
    if (rc != WHACO_OK) {
        if (rc == WHACO_E_NOMEM)
            fprintf(err, "whaco analyze: %s\n", whaco_strerror(rc));
        else
            fprintf(err, "whaco analyze: invalid setting %s\n", field);
        whaco_free(in);
        return NULL;
    }
    if (o->state_dir && load_state(o->state_dir, in, err)) {
        whaco_intel_release(in);
        whaco_free(in);
        return NULL;
    }
    return in;
}

static void free_model(struct whaco_intel *in)
{
    whaco_intel_release(in);
    whaco_free(in);
}

/* One pass over the input: what its steps share. */
struct pass {
    const struct options *o;
    struct whaco_segmenter *seg; /* borrowed: the model that learns */
    int64_t now_ms;              /* the time every customer is learned at */
    struct csv_reader r;
    int idx[COL_COUNT];
    struct out *ob; /* owned: the rows not yet written */
    struct progress pg;
    struct tally t;
    FILE *err; /* borrowed */
};

/*
 * The data rows: each read, learned and written (a rejected one reported
 * and counted), until the end of the input. Returns 0, or 2 on a read
 * error (reported). The hot loop of the command: no allocation, no stdio
 * but for the output buffer's fwrite.
 */
static int analyze_rows(struct pass *a, FILE *out)
{
    for (;;) {
        /* Before waiting for input, hand over the rows so far (a pipe fed
         * slowly, or a terminal, gets its answers as the rows come). */
        if (a->ob->len && !csv_line_ready(&a->r)) {
            out_flush(a->ob);
            fflush(out);
        }
        int rc = csv_read(&a->r);
        if (rc == 0)
            return 0;
        if ((a->r.lineno & (PROGRESS_EVERY - 1)) == 0)
            progress_tick(&a->pg, a->t.rows, a->r.consumed);
        if (rc == -2) {
            progress_clear(&a->pg);
            fprintf(a->err, "whaco analyze: read error: %s\n", strerror(errno));
            return 2;
        }
        if (rc < 0) {
            progress_clear(&a->pg);
            fprintf(a->err, "whaco analyze: line %ld: %s\n", a->r.lineno, a->r.error);
            a->t.bad++;
            continue;
        }
        if (a->r.nfields == 1 && a->r.fields[0][0] == '\0')
            continue; /* blank line */

        struct whaco_customer c;
        struct whaco_segment_result res;
        const char *field = NULL;
        int e = read_customer(&a->r, a->idx, &c, &field);
        if (e == WHACO_OK)
            e = whaco_segment_learn(a->seg, &c, a->now_ms, &res, &field);
        if (e != WHACO_OK) {
            progress_clear(&a->pg);
            /* A row with no known feature has no one field to blame. */
            fprintf(a->err, "whaco analyze: line %ld: %s%s%s\n", a->r.lineno, field ? field : "",
                    field ? ": " : "",
                    e == WHACO_E_PARSE ? "missing or not a number" : whaco_strerror(e));
            a->t.bad++;
            continue;
        }
        write_result(a->ob, a->o->json, &c, &res);
        a->t.rows++;
        a->t.outliers += res.is_outlier;
        a->t.segment[res.cluster_id]++;
    }
}

/*
 * Read the header, then the rows (analyze_rows), writing the results to
 * out. Returns 0, or 2 after reporting a bad header, a read or a write
 * error; *header_ok says whether the header was read.
 */
static int analyze_input(struct pass *a, FILE *fin, FILE *out, int *header_ok)
{
    int status = 0;
    a->ob = whaco_xmalloc(sizeof *a->ob);
    a->ob->fp = out;
    a->ob->len = 0;
    a->ob->failed = 0;
    csv_reader_init(&a->r, fin);
    progress_init(&a->pg, a->err, fin);
    *header_ok = read_header(&a->r, a->idx, a->err) == 0;
    if (*header_ok) {
        if (a->o->state_dir)
            fprintf(a->err,
                    "whaco analyze: starting from %s: a model that has learned from %llu "
                    "customers\n",
                    a->o->state_dir, (unsigned long long)a->seg->processed);
        if (!a->o->json)
            a->ob->len = (size_t)(PUT_LIT(a->ob->buf, "customerId,clusterId,clusterName,isOutlier,"
                                                      "outlierScore,confidence,priorityScore,"
                                                      "outlierReason\n") -
                                  a->ob->buf);
        status = analyze_rows(a, out);
    } else {
        status = 2;
    }
    progress_clear(&a->pg);
    csv_reader_release(&a->r);
    if (fin != stdin)
        fclose(fin);
    out_flush(a->ob);
    if (fflush(out) || ferror(out) || a->ob->failed) {
        fprintf(a->err, "whaco analyze: write error\n");
        status = 2;
    }
    whaco_free(a->ob);
    a->ob = NULL;
    return status;
}

int whaco_cmd_analyze(int argc, char **argv, FILE *out, FILE *err)
{
    struct options o;
    if (parse_options(argc, argv, &o, err))
        return usage(err);
    struct whaco_intel *in = open_model(&o, err);
    if (!in)
        return 2;
    FILE *fin = strcmp(o.path, "-") ? fopen(o.path, "r") : stdin;
    if (!fin) {
        fprintf(err, "whaco analyze: cannot open %s: %s\n", o.path, strerror(errno));
        free_model(in);
        return 2;
    }

    struct pass a = {.o = &o, .seg = &in->seg, .now_ms = (int64_t)time(NULL) * 1000, .err = err};
    int header_ok = 0;
    int status = analyze_input(&a, fin, out, &header_ok); /* closes fin */
    if (status == 0 && a.t.bad)
        status = 1;
    double seconds = now_s() - a.pg.start;
    if (o.save_dir && status == 2)
        fprintf(err, "whaco analyze: --save %s: not saved after the error above\n", o.save_dir);
    else if (o.save_dir && save_state(o.save_dir, in, a.now_ms, err))
        status = 2;
    if (header_ok)
        print_summary(err, &a.t, seconds);
    free_model(in);
    return status;
}

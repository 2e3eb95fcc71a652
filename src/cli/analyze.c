/*
 * analyze.c: `whaco analyze FILE.csv|-` segments a CSV of customers in
 * input order, learning online as the service would, and writes one result
 * row per customer (CSV, or JSON lines with --format json).
 *
 * Input: a header row with the API's camelCase names, customerId first;
 * creditScore, annualIncome, vehiclePrice, downPayment, visitCount,
 * timeOnLot and engagement are required, tradeValue is optional (0 when
 * absent or empty, as in the API), and other columns are ignored. A row that
 * cannot be read or fails validation is reported on stderr with its line
 * number and field, and skipped; the exit status is then 1.
 */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whaco/err.h"
#include "whaco/segment.h"
#include "cli/cli.h"
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
    int json;
    struct whaco_segment_config cfg;
};

static int usage(FILE *err)
{
    fputs("usage: whaco analyze [--format csv|json] [--outlier-threshold D]\n"
          "                     [--weight-rule dispersion|seed|fixed] FILE.csv|-\n",
          err);
    return 2;
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
                return fprintf(err, "whaco analyze: --format must be csv or json\n"), -1;
            i++;
        } else if (!strcmp(a, "--outlier-threshold") && v) {
            if (csv_parse_double(v, &o->cfg.outlier_threshold) ||
                !(o->cfg.outlier_threshold > 0.0) || !isfinite(o->cfg.outlier_threshold))
                return fprintf(err, "whaco analyze: --outlier-threshold must be > 0\n"), -1;
            i++;
        } else if (!strcmp(a, "--weight-rule") && v) {
            if (!strcmp(v, "dispersion"))
                o->cfg.weight_rule = WHACO_WEIGHTS_DISPERSION;
            else if (!strcmp(v, "seed"))
                o->cfg.weight_rule = WHACO_WEIGHTS_SEED;
            else if (!strcmp(v, "fixed"))
                o->cfg.weight_rule = WHACO_WEIGHTS_FIXED;
            else
                return fprintf(err,
                               "whaco analyze: --weight-rule must be dispersion, seed or fixed\n"),
                       -1;
            i++;
        } else if ((a[0] != '-' || !strcmp(a, "-")) && !o->path) {
            o->path = a;
        } else {
            return -1;
        }
    }
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
    return !strcmp(field, "timeOnLot") || !strcmp(field, "engagement");
}

/*
 * Fill a customer from the current record and validate it. Returns WHACO_OK
 * or the error of the first bad field in column order, *field naming it.
 */
static int read_customer(const struct csv_reader *r, const int idx[COL_COUNT],
                         struct whaco_customer *c, const char **field)
{
    double v[COL_COUNT] = {0};
    memset(c, 0, sizeof *c);
    for (int col = 0; col < COL_COUNT; col++) {
        if (idx[col] >= r->nfields) {
            *field = column_names[col];
            return WHACO_E_PARSE;
        }
        if (col == COL_CUSTOMER_ID || idx[col] < 0)
            continue;
        const char *s = r->fields[idx[col]];
        if (col == COL_TRADE_VALUE && *s == '\0')
            continue;
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

    /* visitCount is a whole number in the core; a value that is not one is
     * reported unless a field before it in column order is wrong too. */
    double visits = v[COL_VISIT_COUNT];
    int visits_rc = !isfinite(visits)                               ? WHACO_E_NOT_FINITE
                    : visits != floor(visits) || visits > INT32_MAX ? WHACO_E_NOT_INTEGER
                                                                    : WHACO_OK;
    c->visit_count = visits_rc != WHACO_OK ? 0 : visits < 0 ? -1 : (int32_t)visits;
    const char *check_field = NULL;
    int rc = whaco_customer_check(c, &check_field);
    if (visits_rc != WHACO_OK && (rc == WHACO_OK || field_after_visits(check_field))) {
        *field = "visitCount";
        return visits_rc;
    }
    if (rc != WHACO_OK)
        *field = check_field;
    return rc;
}

static void json_string(FILE *out, const char *s)
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

static void write_result(FILE *out, int json, const struct whaco_customer *c,
                         const struct whaco_segment_result *res)
{
    char reason[256];
    const struct whaco_profile *p = whaco_profile(res->cluster_id);
    whaco_reason_format(res->reasons, res->n_reasons, reason, sizeof reason);
    if (json) {
        fputs("{\"customerId\":", out);
        json_string(out, c->id);
        fprintf(out, ",\"clusterId\":%d,\"clusterName\":", res->cluster_id);
        json_string(out, p->name);
        fprintf(out,
                ",\"isOutlier\":%s,\"outlierScore\":%.4f,\"confidence\":%.4f,"
                "\"priorityScore\":%.2f,\"outlierReason\":",
                res->is_outlier ? "true" : "false", res->outlier_score, res->confidence,
                res->priority);
        if (res->is_outlier)
            json_string(out, reason);
        else
            fputs("null", out);
        fputs("}\n", out);
        return;
    }
    csv_write_field(out, c->id);
    fprintf(out, ",%d,%s,%d,%.4f,%.4f,%.2f,", res->cluster_id, p->name, res->is_outlier,
            res->outlier_score, res->confidence, res->priority);
    csv_write_field(out, reason);
    putc('\n', out);
}

int whaco_cmd_analyze(int argc, char **argv, FILE *out, FILE *err)
{
    struct options o;
    if (parse_options(argc, argv, &o, err))
        return usage(err);

    FILE *in = strcmp(o.path, "-") ? fopen(o.path, "r") : stdin;
    if (!in) {
        fprintf(err, "whaco analyze: cannot open %s: %s\n", o.path, strerror(errno));
        return 2;
    }

    static struct whaco_segmenter seg; /* 43 KiB: keep it off the stack */
    struct csv_reader r;
    int idx[COL_COUNT];
    int status = 0;
    long bad = 0, rows = 0;
    int64_t now_ms = (int64_t)time(NULL) * 1000;

    whaco_segmenter_init(&seg, &o.cfg, NULL);
    csv_reader_init(&r, in);
    if (read_header(&r, idx, err)) {
        status = 2;
        goto done;
    }
    if (!o.json)
        fputs("customerId,clusterId,clusterName,isOutlier,outlierScore,confidence,"
              "priorityScore,outlierReason\n",
              out);
    for (;;) {
        int rc = csv_read(&r);
        if (rc == 0)
            break;
        if (rc == -2) {
            fprintf(err, "whaco analyze: read error: %s\n", strerror(errno));
            status = 2;
            break;
        }
        if (rc < 0) {
            fprintf(err, "whaco analyze: line %ld: %s\n", r.lineno, r.error);
            bad++;
            continue;
        }
        if (r.nfields == 1 && r.fields[0][0] == '\0')
            continue; /* blank line */

        struct whaco_customer c;
        struct whaco_segment_result res;
        const char *field = NULL;
        int e = read_customer(&r, idx, &c, &field);
        if (e == WHACO_OK)
            e = whaco_segment_learn(&seg, &c, now_ms, &res, &field);
        if (e != WHACO_OK) {
            fprintf(err, "whaco analyze: line %ld: %s: %s\n", r.lineno, field,
                    e == WHACO_E_PARSE ? "missing or not a number" : whaco_strerror(e));
            bad++;
            continue;
        }
        write_result(out, o.json, &c, &res);
        rows++;
    }
done:
    csv_reader_release(&r);
    if (in != stdin)
        fclose(in);
    if (fflush(out) || ferror(out)) {
        fprintf(err, "whaco analyze: write error\n");
        return 2;
    }
    if (status == 0 && bad)
        status = 1;
    if (bad)
        fprintf(err, "whaco analyze: %ld rows analysed, %ld rejected\n", rows, bad);
    return status;
}

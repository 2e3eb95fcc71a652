/*
 * test_outcomes.c: outcomes from a CRM (whaco/outcomes.h and
 * whaco_intel_outcome in whaco/intel.h) -- ISO 8601 times, the outcomes
 * file read from memory (its header, quoting, blank rows, every file error
 * and every invalid value), the matching rules on a tracked floor (each
 * reason, every refusal leaving the saved state byte-identical), the close
 * model and the desk's line moving as the desk's own calls would, the
 * report's reasons and messages, and idempotency: the same rows applied
 * again as events leave the saved state byte-identical.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/floor.h"
#include "whaco/gen.h"
#include "whaco/intel.h"
#include "whaco/outcomes.h"
#include "whaco/rng.h"

#define T0     1772375400000LL /* 2026-03-01T14:30:00Z */
#define MINUTE 60000LL

static struct whaco_intel in;

/*==== Helpers =============================================================*/

static int64_t parse_time(const char *s)
{
    int64_t ms = -1;
    int rc = whaco_time_parse(s, strlen(s), &ms);
    return rc == WHACO_OK ? ms : -1;
}

/* Parse text, which must be an outcomes file. */
static void parse_ok(const char *text, struct whaco_outcome_file *f)
{
    struct whaco_outcomes_error e;
    int rc = whaco_outcomes_parse(text, strlen(text), f, &e);
    if (rc != WHACO_OK)
        fail_msg("parse: %s %s", e.code ? e.code : "-", e.message);
}

/* Parse text, which must be refused with code (and field, or NULL). */
static void parse_refused(const char *text, const char *code, const char *field)
{
    struct whaco_outcome_file f;
    struct whaco_outcomes_error e;
    assert_int_equal(whaco_outcomes_parse(text, strlen(text), &f, &e), WHACO_E_PARSE);
    assert_string_equal(e.code, code);
    if (field)
        assert_string_equal(e.field, field);
    else
        assert_null(e.field);
    assert_true(strlen(e.message) > 0);
    assert_null(f.lines);
    assert_int_equal(f.n, 0);
}

static struct whaco_buf save(void)
{
    struct whaco_buf b = WHACO_BUF_INIT;
    assert_int_equal(whaco_intel_save(&in, &b), WHACO_OK);
    return b;
}

static void assert_state_is(const struct whaco_buf *b)
{
    struct whaco_buf now = save();
    assert_int_equal(now.len, b->len);
    assert_memory_equal(now.data, b->data, b->len);
    whaco_buf_release(&now);
}

static void walk_in(const char *id, int64_t now)
{
    struct whaco_customer c = {"", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    struct whaco_analysis an;
    const char *field = NULL;
    snprintf(c.id, sizeof c.id, "%s", id);
    assert_int_equal(whaco_intel_analyze(&in, &c, now, &an, &field), WHACO_OK);
}

/*
 * A tracked floor at T0: sp-1 and sp-2 on it, max-customers 1; c-1 with
 * sp-1, c-2 with sp-2, c-3 waiting at the desk (all arrived at T0).
 */
static void busy_floor(void)
{
    struct whaco_floor_config cfg;
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    whaco_floor_config_default(&cfg);
    cfg.max_customers = 1;
    cfg.rule = WHACO_RULE_UP_ROTATION;
    assert_int_equal(whaco_intel_configure_floor(&in, &cfg, T0, NULL), WHACO_OK);
    const char *team[] = {"sp-1", "sp-2", "sp-3"};
    for (int i = 0; i < 3; i++) {
        struct whaco_member_spec spec = {team[i], team[i], 0.5, 0.9, 0.0, 0};
        assert_int_equal(whaco_intel_add_salesperson(&in, &spec, T0, NULL), WHACO_OK);
    }
    assert_int_equal(whaco_intel_clock_in(&in, "sp-1", T0, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_clock_in(&in, "sp-2", T0, NULL), WHACO_OK);
    walk_in("c-1", T0);
    walk_in("c-2", T0);
    walk_in("c-3", T0);
}

static const char *with_whom(const char *customer_id)
{
    int32_t k = whaco_floor_find(&in.floor, customer_id);
    return k < 0 ? NULL : in.floor.open[k].salesperson_id;
}

static struct whaco_outcome_row row(const char *customer, int outcome, const char *sp,
                                    int64_t time_ms)
{
    struct whaco_outcome_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.customer_id, sizeof r.customer_id, "%s", customer);
    r.outcome = (uint8_t)outcome;
    snprintf(r.salesperson_id, sizeof r.salesperson_id, "%s", sp);
    r.time_ms = time_ms;
    return r;
}

/* r at now must be refused with err, the state byte-identical; returns the detail. */
static struct whaco_outcome_detail refused(struct whaco_outcome_row r, int64_t now, int err)
{
    struct whaco_outcome_detail d;
    struct whaco_floor_news news;
    struct whaco_buf before = save();
    memset(&news, 0, sizeof news);
    assert_int_equal(whaco_intel_outcome(&in, &r, now, &news, &d), err);
    assert_state_is(&before);
    whaco_buf_release(&before);
    return d;
}

/*==== Times ===============================================================*/

static void outcomes__iso_8601_times(void **state)
{
    (void)state;
    assert_true(parse_time("2026-03-01T14:30:00Z") == T0);
    assert_true(parse_time("2026-03-01t14:30:00z") == T0);
    assert_true(parse_time("2026-03-01 14:30:00Z") == T0);
    assert_true(parse_time("2026-03-01T14:30Z") == T0);
    assert_true(parse_time("2026-03-01T14:30:00.250Z") == T0 + 250);
    assert_true(parse_time("2026-03-01T14:30:00,5Z") == T0 + 500);
    assert_true(parse_time("2026-03-01T14:30:00.123456789Z") == T0 + 123);
    assert_true(parse_time("2026-03-01T09:30:00-05:00") == T0);
    assert_true(parse_time("2026-03-01T20:00:00+0530") == T0);
    assert_true(parse_time("2026-03-01T15:30:00+01") == T0);
    assert_true(parse_time("1970-01-01T00:00:00Z") == 0);
    assert_true(parse_time("2024-02-29T00:00:00Z") == 1709164800000LL);
    assert_true(parse_time("9999-12-31T23:59:59.999Z") == 253402300799999LL);
    const char *bad[] = {
        "",
        "2026-03-01",                      /* no time */
        "2026-03-01T14:30:00",             /* no zone: local time is ambiguous */
        "2026-03-01T14:30:00 Z",           /* a space before the zone */
        "2026-3-1T14:30:00Z",              /* digits missing */
        "2026-02-29T14:30:00Z",            /* not a leap year */
        "2026-13-01T14:30:00Z",            /* month */
        "2026-04-31T14:30:00Z",            /* day */
        "2026-03-01T24:00:00Z",            /* hour */
        "2026-03-01T14:60:00Z",            /* minute */
        "2026-03-01T14:30:60Z",            /* leap second */
        "2026-03-01T14:30:00.Z",           /* empty fraction */
        "2026-03-01T14:30:00.1234567890Z", /* ten fraction digits */
        "2026-03-01T14:30:00+24:00",       /* offset */
        "2026-03-01T14:30:00+05:60",       /* offset minutes */
        "2026-03-01T14:30:00+5",           /* offset digits */
        "2026-03-01T14:30:00Zjunk",        /* trailing text */
        "1969-12-31T23:59:59Z",            /* before 1970 */
        "1970-01-01T00:30:00+01:00",       /* before 1970 in UTC */
        "20260301T143000Z",                /* the basic format */
        "march 1st",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        if (parse_time(bad[i]) != -1)
            fail_msg("accepted '%s'", bad[i]);
    char buf[32];
    whaco_time_format(T0 + 999, buf);
    assert_string_equal(buf, "2026-03-01T14:30:00Z");
    whaco_time_format(1709164800000LL, buf);
    assert_string_equal(buf, "2024-02-29T00:00:00Z");
    whaco_time_format(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00Z");
}

/*==== The file ============================================================*/

static void outcomes__a_file_in_any_column_order_with_quotes_and_blank_rows(void **state)
{
    (void)state;
    struct whaco_outcome_file f;
    parse_ok("\xef\xbb\xbf"
             "Deal ID,time,Notes,OUTCOME,customer_id,Sales-Person-Id,Vehicle\r\n"
             "d-1,2026-03-01T14:30:00Z,\"likes red, blue\",sold,c-1,sp-1,sedan\r\n"
             "\r\n"
             ",,,,,,\n"
             "  , 2026-03-01T15:00:00+01:00 ,\"two\nlines\", No Sale ,\"c-\"\"2\"\"\",,\n"
             "d-3,2026-03-01T14:30:00Z,,Be-Back,c-3,sp-2",
             &f);
    assert_int_equal(f.n, 3);
    assert_int_equal(f.n_ignored, 2);
    assert_string_equal(f.ignored[0], "Notes");
    assert_string_equal(f.ignored[1], "Vehicle");
    const struct whaco_outcome_line *l = f.lines;
    assert_int_equal(l[0].row, 2);
    assert_true(l[0].valid);
    assert_string_equal(l[0].r.customer_id, "c-1");
    assert_string_equal(l[0].customer_id, "c-1");
    assert_int_equal(l[0].r.outcome, WHACO_OUTCOME_SOLD);
    assert_string_equal(l[0].r.salesperson_id, "sp-1");
    assert_string_equal(l[0].r.deal_id, "d-1");
    assert_true(l[0].r.time_ms == T0);
    /* Blank rows count in the numbering, as a spreadsheet shows them. */
    assert_int_equal(l[1].row, 5);
    assert_true(l[1].valid);
    assert_string_equal(l[1].r.customer_id, "c-\"2\"");
    assert_int_equal(l[1].r.outcome, WHACO_OUTCOME_NO_SALE);
    assert_string_equal(l[1].r.salesperson_id, "");
    assert_string_equal(l[1].r.deal_id, "");
    assert_true(l[1].r.time_ms == T0 - 30 * MINUTE);
    assert_int_equal(l[2].row, 6);
    assert_int_equal(l[2].r.outcome, WHACO_OUTCOME_BE_BACK);
    whaco_outcomes_release(&f);
    assert_null(f.lines);

    /* Only the required columns; a header alone is a file of no rows. */
    parse_ok("\n\ncustomerId,outcome,time\n", &f);
    assert_int_equal(f.n, 0);
    assert_int_equal(f.n_ignored, 0);
    whaco_outcomes_release(&f);
    parse_ok("customerId,outcome,time\nc-1,appointment,2026-03-01T14:30:00Z", &f);
    assert_int_equal(f.n, 1);
    assert_true(f.lines[0].valid);
    assert_int_equal(f.lines[0].row, 2);
    whaco_outcomes_release(&f);
}

static void outcomes__files_that_are_not_outcomes_files_are_refused(void **state)
{
    (void)state;
    parse_refused("", "CSV_NO_HEADER", NULL);
    parse_refused("\n\r\n,,\n", "CSV_NO_HEADER", NULL);
    parse_refused("c-1,sold,sp-1,d-1,2026-03-01T14:30:00Z\n", "CSV_NO_HEADER", NULL);
    parse_refused("customerId,outcome\nc-1,sold\n", "CSV_MISSING_COLUMN", "time");
    parse_refused("outcome,time,dealId\n", "CSV_MISSING_COLUMN", "customerId");
    parse_refused("customerId,outcome,time,Customer ID\n", "CSV_DUPLICATE_COLUMN", "customerId");
    parse_refused("customerId,outcome,time\n\"c-1,sold,2026-03-01T14:30:00Z\n", "CSV_SYNTAX", NULL);
    parse_refused("customerId,outcome,time\n\"c-1\"x,sold,2026-03-01T14:30:00Z\n", "CSV_SYNTAX",
                  NULL);
    parse_refused("\"customerId,outcome,time\n", "CSV_SYNTAX", NULL);

    /* 1000 rows are read, 1001 refused; blank rows do not count. */
    size_t cap = 64 * 1002 + 64;
    char *text = malloc(cap);
    assert_non_null(text);
    size_t n = (size_t)snprintf(text, cap, "customerId,outcome,time\n");
    for (int i = 0; i < WHACO_OUTCOMES_ROWS_MAX; i++)
        n += (size_t)snprintf(text + n, cap - n, "c-%d,no_sale,2026-03-01T14:30:00Z\n\n", i);
    struct whaco_outcome_file f;
    parse_ok(text, &f);
    assert_int_equal(f.n, WHACO_OUTCOMES_ROWS_MAX);
    assert_int_equal(f.lines[WHACO_OUTCOMES_ROWS_MAX - 1].row, 2 * WHACO_OUTCOMES_ROWS_MAX);
    whaco_outcomes_release(&f);
    snprintf(text + n, cap - n, "c-x,sold,2026-03-01T14:30:00Z\n");
    parse_refused(text, "CSV_TOO_MANY_ROWS", NULL);

    /* 256 columns are read, 257 refused. */
    n = (size_t)snprintf(text, cap, "customerId,outcome,time");
    for (int i = 3; i < WHACO_OUTCOMES_COLUMNS_MAX; i++)
        n += (size_t)snprintf(text + n, cap - n, ",x%d", i);
    parse_ok(text, &f);
    assert_int_equal(f.n_ignored, WHACO_OUTCOMES_COLUMNS_MAX - 3);
    assert_string_equal(f.ignored[WHACO_OUTCOMES_IGNORED_MAX - 1], "x10");
    whaco_outcomes_release(&f);
    snprintf(text + n, cap - n, ",one-more\n");
    parse_refused(text, "CSV_TOO_MANY_COLUMNS", NULL);
    free(text);
}

static void outcomes__each_bad_value_marks_its_row_naming_the_column(void **state)
{
    (void)state;
    static const struct {
        const char *row;
        const char *field; /* NULL: the row's shape */
    } cases[] = {
        {",sold,sp-1,,2026-03-01T14:30:00Z", "customerId"},
        {"cccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccccc,sold,sp-1,,"
         "2026-03-01T14:30:00Z",
         "customerId"},
        {"c-\x01,sold,sp-1,,2026-03-01T14:30:00Z", "customerId"},
        {"c-\xff,sold,sp-1,,2026-03-01T14:30:00Z", "customerId"},
        {"c-1,won,sp-1,,2026-03-01T14:30:00Z", "outcome"},
        {"c-1,,sp-1,,2026-03-01T14:30:00Z", "outcome"},
        {"c-1,sold,,,2026-03-01T14:30:00Z", "salespersonId"},
        {"c-1,sold,sp 1,,2026-03-01T14:30:00Z", "salespersonId"},
        {"c-1,no_sale,sp-\xc3\xa9,,2026-03-01T14:30:00Z", "salespersonId"},
        {"c-1,sold,sp-1,d-\x7f,2026-03-01T14:30:00Z", "dealId"},
        {"c-1,sold,sp-1,,2026-03-01", "time"},
        {"c-1,sold,sp-1,,", "time"},
        {"c-1,sold,sp-1,,2026-03-01T14:30:00Z,extra", NULL},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[512];
        struct whaco_outcome_file f;
        struct whaco_outcome_report rep;
        snprintf(text, sizeof text, "customerId,outcome,salespersonId,dealId,time\n%s\n",
                 cases[i].row);
        parse_ok(text, &f);
        assert_int_equal(f.n, 1);
        const struct whaco_outcome_line *l = &f.lines[0];
        if (l->valid)
            fail_msg("case %zu accepted", i);
        assert_int_equal(l->row, 2);
        whaco_outcome_explain(l, WHACO_OK, NULL, &rep);
        assert_int_equal(rep.status, WHACO_ROW_UNMATCHED);
        if (cases[i].field) {
            assert_string_equal(l->field, cases[i].field);
            assert_string_equal(rep.reason, "INVALID_FIELD");
            assert_string_equal(rep.field, cases[i].field);
            assert_non_null(strstr(rep.message, cases[i].field));
        } else {
            assert_null(l->field);
            assert_string_equal(rep.reason, "INVALID_ROW");
            assert_null(rep.field);
        }
        for (const char *p = l->customer_id; *p; p++) /* shown without control characters */
            assert_true((unsigned char)*p >= 0x20 && *p != 0x7f);
        whaco_outcomes_release(&f);
    }
}

/*==== Matching on the floor ===============================================*/

static void outcomes__rows_end_open_walk_ins_as_the_desk_would(void **state)
{
    (void)state;
    struct whaco_floor_news news;
    struct whaco_outcome_detail d;
    busy_floor();
    assert_string_equal(with_whom("c-3"), "");
    uint64_t learned = in.learn.outcomes;
    size_t sp1;
    assert_int_equal(whaco_team_find(&in.team, "sp-1", &sp1), WHACO_OK);
    uint32_t deals = in.team.members[sp1].deals_today;

    /* sold by sp-1: counted, learned, and the waiting c-3 goes to sp-1. */
    struct whaco_outcome_row r = row("c-1", WHACO_OUTCOME_SOLD, "sp-1", T0 + 20 * MINUTE);
    memset(&news, 0, sizeof news);
    assert_int_equal(whaco_intel_outcome(&in, &r, T0 + 60 * MINUTE, &news, &d), WHACO_OK);
    assert_null(with_whom("c-1"));
    assert_true(news.ended);
    assert_int_equal(news.end.outcome, WHACO_OUTCOME_SOLD);
    assert_int_equal(news.n, 1);
    assert_string_equal(news.a[0].customer_id, "c-3");
    assert_string_equal(news.a[0].salesperson_id, "sp-1");
    assert_string_equal(with_whom("c-3"), "sp-1");
    assert_int_equal(in.team.members[sp1].deals_today, deals + 1);
    assert_true(in.learn.outcomes == learned + 1);
    assert_true(in.clock_ms == T0 + 60 * MINUTE);

    /* no_sale without a salesperson; be_back naming the right one. */
    r = row("c-2", WHACO_OUTCOME_NO_SALE, "", T0 + 30 * MINUTE);
    assert_int_equal(whaco_intel_outcome(&in, &r, T0 + 61 * MINUTE, NULL, NULL), WHACO_OK);
    assert_null(with_whom("c-2"));
    r = row("c-3", WHACO_OUTCOME_BE_BACK, "sp-1", T0 + 62 * MINUTE);
    assert_int_equal(whaco_intel_outcome(&in, &r, T0 + 62 * MINUTE, NULL, NULL), WHACO_OK);
    assert_true(in.learn.outcomes == learned + 3);
    assert_int_equal(in.floor.n_open, 0);
    assert_true(whaco_floor_ended(&in.floor, "c-3"));

    /* The same rows again: already recorded, nothing changes. */
    r = row("c-1", WHACO_OUTCOME_SOLD, "sp-1", T0 + 20 * MINUTE);
    d = refused(r, T0 + 70 * MINUTE, WHACO_E_ALREADY_RECORDED);
    assert_int_equal(d.recorded, WHACO_OUTCOME_SOLD);
    r = row("c-2", WHACO_OUTCOME_NO_SALE, "", T0 + 30 * MINUTE);
    refused(r, T0 + 70 * MINUTE, WHACO_E_ALREADY_RECORDED);
    /* ... even naming a salesperson no longer on the team. */
    r = row("c-3", WHACO_OUTCOME_BE_BACK, "sp-gone", T0 + 62 * MINUTE);
    refused(r, T0 + 70 * MINUTE, WHACO_E_ALREADY_RECORDED);
    whaco_intel_release(&in);
}

static void outcomes__every_other_row_is_unmatched_with_its_reason(void **state)
{
    (void)state;
    struct whaco_outcome_detail d;
    busy_floor();
    int64_t now = T0 + 60 * MINUTE;

    d = refused(row("c-9", WHACO_OUTCOME_NO_SALE, "", T0), now, WHACO_E_CUSTOMER_NOT_FOUND);
    assert_string_equal(d.field, "customerId");
    d = refused(row("c-1", WHACO_OUTCOME_SOLD, "sp-9", T0), now, WHACO_E_NOT_FOUND);
    assert_string_equal(d.field, "salespersonId");
    d = refused(row("c-1", WHACO_OUTCOME_SOLD, "sp-2", T0), now, WHACO_E_WRONG_SALESPERSON);
    assert_string_equal(d.with_id, "sp-1");
    d = refused(row("c-3", WHACO_OUTCOME_SOLD, "sp-1", T0), now, WHACO_E_WRONG_SALESPERSON);
    assert_string_equal(d.with_id, ""); /* waiting at the desk */
    d = refused(row("c-2", WHACO_OUTCOME_NO_SALE, "sp-1", T0), now, WHACO_E_WRONG_SALESPERSON);
    assert_string_equal(d.with_id, "sp-2");
    /* Before the walk-in arrived (beyond the allowed skew): another visit. */
    d = refused(row("c-1", WHACO_OUTCOME_NO_SALE, "", T0 - WHACO_OUTCOME_SKEW_MS - 1), now,
                WHACO_E_BEFORE_ARRIVAL);
    assert_true(d.arrived_ms == T0);
    assert_string_equal(d.field, "time");
    /* In the future (beyond the skew). */
    d = refused(row("c-1", WHACO_OUTCOME_NO_SALE, "", now + WHACO_OUTCOME_SKEW_MS + 1), now,
                WHACO_E_TIME_FUTURE);
    assert_string_equal(d.field, "time");
    /* Values no file gives. */
    struct whaco_outcome_row bad = row("c-1", 9, "", T0);
    d = refused(bad, now, WHACO_E_OUTCOME_VALUE);
    assert_string_equal(d.field, "outcome");
    d = refused(row("", WHACO_OUTCOME_NO_SALE, "", T0), now, WHACO_E_ID_LENGTH);
    assert_string_equal(d.field, "customerId");
    d = refused(row("c-1", WHACO_OUTCOME_SOLD, "", T0), now, WHACO_E_ID_LENGTH);
    assert_string_equal(d.field, "salespersonId");
    d = refused(row("c-1", WHACO_OUTCOME_NO_SALE, "sp 1", T0), now, WHACO_E_ID_LENGTH);
    d = refused(row("c-1", WHACO_OUTCOME_NO_SALE, "", -1), now, WHACO_E_INVAL);
    assert_string_equal(d.field, "time");
    refused(row("c-1", WHACO_OUTCOME_NO_SALE, "", T0), T0 - 1, WHACO_E_TIME_BACKWARDS);

    /* Within the skew either way: recorded. */
    struct whaco_outcome_row r = row("c-1", WHACO_OUTCOME_NO_SALE, "", T0 - WHACO_OUTCOME_SKEW_MS);
    assert_int_equal(whaco_intel_outcome(&in, &r, now, NULL, NULL), WHACO_OK);
    r = row("c-2", WHACO_OUTCOME_NO_SALE, "", now + WHACO_OUTCOME_SKEW_MS);
    assert_int_equal(whaco_intel_outcome(&in, &r, now, NULL, NULL), WHACO_OK);
    /* Ended with another outcome. */
    d = refused(row("c-1", WHACO_OUTCOME_SOLD, "sp-1", T0), now, WHACO_E_OUTCOME_CONFLICT);
    assert_int_equal(d.recorded, WHACO_OUTCOME_NO_SALE);
    assert_string_equal(d.field, "outcome");

    /* c-1 comes back: a row of the first visit is already recorded, one of this visit ends it. */
    walk_in("c-1", now + 60 * MINUTE);
    refused(row("c-1", WHACO_OUTCOME_NO_SALE, "", T0), now + 61 * MINUTE, WHACO_E_ALREADY_RECORDED);
    /* ... also when the first visit's outcome is within the skew of the return. */
    refused(row("c-1", WHACO_OUTCOME_NO_SALE, "", now + 59 * MINUTE), now + 61 * MINUTE,
            WHACO_E_ALREADY_RECORDED);
    r = row("c-1", WHACO_OUTCOME_APPOINTMENT, "", now + 61 * MINUTE);
    assert_int_equal(whaco_intel_outcome(&in, &r, now + 61 * MINUTE, NULL, NULL), WHACO_OK);
    whaco_intel_release(&in);

    /* An untracked floor has no walk-ins to match. */
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    walk_in("c-1", T0);
    refused(row("c-1", WHACO_OUTCOME_NO_SALE, "", T0), T0, WHACO_E_FLOOR_OFF);
    whaco_intel_release(&in);
}

/*==== The report ==========================================================*/

static void outcomes__the_report_names_the_reason_and_the_field(void **state)
{
    (void)state;
    static const struct {
        int rc;
        const char *reason, *field, *words;
    } cases[] = {
        {WHACO_E_CUSTOMER_NOT_FOUND, "UNKNOWN_CUSTOMER", "customerId", "no walk-in 'c-1'"},
        {WHACO_E_OUTCOME_CONFLICT, "OUTCOME_CONFLICT", "outcome", "ended as no_sale, not sold"},
        {WHACO_E_BEFORE_ARRIVAL, "BEFORE_ARRIVAL", "time", "2026-03-01T14:30:00Z"},
        {WHACO_E_NOT_FOUND, "UNKNOWN_SALESPERSON", "salespersonId", "'sp-1' is not on the team"},
        {WHACO_E_WRONG_SALESPERSON, "WRONG_SALESPERSON", "salespersonId", "with 'sp-2'"},
        {WHACO_E_FLOOR_OFF, "FLOOR_NOT_TRACKED", NULL, "not tracked"},
        {WHACO_E_TIME_FUTURE, "INVALID_FIELD", "time", "future"},
        {WHACO_E_NOMEM, "NOT_RECORDED", NULL, "again"},
    };
    struct whaco_outcome_line line;
    memset(&line, 0, sizeof line);
    line.valid = true;
    line.r = row("c-1", WHACO_OUTCOME_SOLD, "sp-1", T0);
    struct whaco_outcome_detail d;
    memset(&d, 0, sizeof d);
    d.recorded = WHACO_OUTCOME_NO_SALE;
    d.arrived_ms = T0;
    memcpy(d.with_id, "sp-2", 5);
    struct whaco_outcome_report rep;
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        whaco_outcome_explain(&line, cases[i].rc, &d, &rep);
        assert_int_equal(rep.status, WHACO_ROW_UNMATCHED);
        assert_string_equal(rep.reason, cases[i].reason);
        if (cases[i].field)
            assert_string_equal(rep.field, cases[i].field);
        else
            assert_null(rep.field);
        if (!strstr(rep.message, cases[i].words))
            fail_msg("%s: '%s' lacks '%s'", cases[i].reason, rep.message, cases[i].words);
    }
    whaco_outcome_explain(&line, WHACO_OK, NULL, &rep);
    assert_int_equal(rep.status, WHACO_ROW_RECORDED);
    assert_null(rep.reason);
    whaco_outcome_explain(&line, WHACO_E_ALREADY_RECORDED, &d, &rep);
    assert_int_equal(rep.status, WHACO_ROW_ALREADY);
    assert_null(rep.reason);
    memset(d.with_id, 0, sizeof d.with_id);
    whaco_outcome_explain(&line, WHACO_E_WRONG_SALESPERSON, &d, &rep);
    assert_non_null(strstr(rep.message, "waiting at the desk"));
}

/*==== Idempotency through the event log ===================================*/

/* The rows of an import as outcome events (as the API and the CLI make them). */
static size_t import_events(const char *text, struct whaco_event *evs, size_t cap)
{
    struct whaco_outcome_file f;
    size_t n = 0;
    parse_ok(text, &f);
    for (size_t i = 0; i < f.n && n < cap; i++) {
        const struct whaco_outcome_line *l = &f.lines[i];
        if (!l->valid)
            continue;
        struct whaco_event *ev = &evs[n++];
        whaco_event_init(ev, WHACO_EV_OUTCOME);
        memcpy(ev->customer_id, l->r.customer_id, sizeof ev->customer_id);
        ev->outcome = l->r.outcome;
        memcpy(ev->id, l->r.salesperson_id, sizeof ev->id);
        memcpy(ev->deal_id, l->r.deal_id, sizeof ev->deal_id);
        ev->outcome_ms = l->r.time_ms;
        ev->via = WHACO_VIA_API;
        ev->row = l->row;
    }
    whaco_outcomes_release(&f);
    return n;
}

static void outcomes__importing_the_same_rows_twice_changes_nothing(void **state)
{
    (void)state;
    static const char file[] = "customerId,outcome,salespersonId,dealId,time\n"
                               "c-1,sold,sp-1,d-1,2026-03-01T14:40:00Z\n"
                               "c-2,be_back,sp-2,,2026-03-01T14:50:00Z\n"
                               "c-9,no_sale,,,2026-03-01T14:50:00Z\n"      /* unknown */
                               "c-3,sold,sp-2,d-3,2026-03-01T14:55:00Z\n"  /* at the desk */
                               "c-2,be_back,sp-2,,2026-03-01T14:50:00Z\n"; /* twice in one file */
    struct whaco_event evs[8];
    struct whaco_event_result res;
    busy_floor();
    size_t n = import_events(file, evs, 8);
    assert_int_equal(n, 5);
    /* When c-1 bought, the waiting c-3 went to the first free in the up order, sp-1. */
    const int want[] = {WHACO_OK, WHACO_OK, WHACO_E_CUSTOMER_NOT_FOUND, WHACO_E_WRONG_SALESPERSON,
                        WHACO_E_ALREADY_RECORDED};
    for (size_t i = 0; i < n; i++) {
        evs[i].time_ms = T0 + 60 * MINUTE;
        assert_int_equal(whaco_event_apply(&in, &evs[i], &res, NULL), want[i]);
    }
    assert_string_equal(with_whom("c-3"), "sp-1");
    struct whaco_buf once = save();
    /* The same file later: every row already recorded or unmatched, the state byte-identical. */
    for (size_t i = 0; i < n; i++) {
        evs[i].time_ms = T0 + 90 * MINUTE;
        int rc = whaco_event_apply(&in, &evs[i], &res, NULL);
        assert_int_not_equal(rc, WHACO_OK);
        assert_true(rc == WHACO_E_ALREADY_RECORDED || rc == WHACO_E_CUSTOMER_NOT_FOUND ||
                    rc == WHACO_E_WRONG_SALESPERSON);
    }
    assert_state_is(&once);
    whaco_buf_release(&once);
    whaco_intel_release(&in);
}

/* The floor remembers WHACO_FLOOR_RECENT ended walk-ins, and they survive save and load. */
static void outcomes__the_floor_remembers_1024_ended_walk_ins(void **state)
{
    (void)state;
    assert_int_equal(WHACO_FLOOR_RECENT, 1024);
    busy_floor();
    assert_int_equal(whaco_intel_clock_in(&in, "sp-3", T0, NULL), WHACO_OK);
    int64_t t = T0;
    for (int i = 0; i < WHACO_FLOOR_RECENT + 1; i++) {
        char id[16];
        snprintf(id, sizeof id, "w-%d", i);
        walk_in(id, t += 1000);
        struct whaco_outcome_row r = row(id, WHACO_OUTCOME_NO_SALE, "", t);
        assert_int_equal(whaco_intel_outcome(&in, &r, t, NULL, NULL), WHACO_OK);
    }
    /* A read view's copy has the walk-ins in the store, not the ended ones. */
    walk_in("open-1", t += 1000);
    struct whaco_floor *view = calloc(1, sizeof *view);
    assert_non_null(view);
    whaco_floor_copy_for_reading(view, &in.floor);
    assert_int_equal(view->n_open, in.floor.n_open);
    assert_memory_equal(view->open, in.floor.open, in.floor.n_open * sizeof in.floor.open[0]);
    assert_true(whaco_floor_find(view, "open-1") >= 0);
    assert_true(view->tracked && view->next_up == in.floor.next_up);
    assert_int_equal(view->recent_count, 0);
    assert_false(whaco_floor_ended(view, "w-1024"));
    free(view);
    struct whaco_buf b = save();
    struct whaco_intel back;
    assert_int_equal(whaco_intel_init(&back, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_load(&back, b.data, b.len), WHACO_OK);
    assert_false(whaco_floor_ended(&back.floor, "w-0")); /* forgotten */
    assert_true(whaco_floor_ended(&back.floor, "w-1"));
    assert_true(whaco_floor_ended(&back.floor, "w-1024"));
    assert_int_equal(back.floor.recent_count, WHACO_FLOOR_RECENT);
    struct whaco_outcome_row r = row("w-0", WHACO_OUTCOME_NO_SALE, "", T0);
    assert_int_equal(whaco_intel_outcome(&back, &r, t, NULL, NULL), WHACO_E_CUSTOMER_NOT_FOUND);
    r = row("w-1", WHACO_OUTCOME_NO_SALE, "", T0);
    assert_int_equal(whaco_intel_outcome(&back, &r, t, NULL, NULL), WHACO_E_ALREADY_RECORDED);
    whaco_buf_release(&b);
    whaco_intel_release(&back);
    whaco_intel_release(&in);
}

/*==== Random days =========================================================*/

static void random_member(struct whaco_rng *rng, char *id)
{
    static const char *const ids[] = {"sp-0", "sp-1", "sp-2", "sp-3", "stranger"};
    snprintf(id, WHACO_TEAM_ID_MAX, "%s", ids[whaco_rng_below(rng, 5)]);
}

/* A customer id: in the store, one seen before, or never seen. */
static void random_customer(struct whaco_rng *rng, int seen, char *id)
{
    uint64_t k = whaco_rng_below(rng, 10);
    if (k < 6 && in.floor.n_open > 0)
        snprintf(id, WHACO_ID_MAX, "%s",
                 in.floor.open[whaco_rng_below(rng, in.floor.n_open)].customer_id);
    else if (k < 9 && seen > 0)
        snprintf(id, WHACO_ID_MAX, "c-%d", (int)whaco_rng_below(rng, (uint64_t)seen));
    else
        snprintf(id, WHACO_ID_MAX, "never-%d", (int)whaco_rng_below(rng, 3));
}

/* A random outcome row about the floor as it is at now. */
static void random_row(struct whaco_rng *rng, int seen, int64_t now, struct whaco_event *ev)
{
    struct whaco_outcome_row r;
    memset(&r, 0, sizeof r);
    random_customer(rng, seen, r.customer_id);
    r.outcome = (uint8_t)(1 + whaco_rng_below(rng, 4));
    int32_t k = whaco_floor_find(&in.floor, r.customer_id);
    uint64_t who = whaco_rng_below(rng, 4);
    if (who < 2 && k >= 0)
        memcpy(r.salesperson_id, in.floor.open[k].salesperson_id, sizeof r.salesperson_id);
    else if (who == 2)
        random_member(rng, r.salesperson_id);
    if (r.outcome == WHACO_OUTCOME_SOLD && !r.salesperson_id[0])
        memcpy(r.salesperson_id, "sp-0", 5);
    uint64_t when = whaco_rng_below(rng, 10);
    r.time_ms = when < 7   ? now - (int64_t)whaco_rng_below(rng, 30 * (uint64_t)MINUTE)
                : when < 9 ? now - 24 * 60 * MINUTE
                           : now + 60 * MINUTE;
    whaco_event_outcome(ev, &r, 2, WHACO_VIA_API);
}

/*
 * Random days of walk-ins, the desk's calls and CRM rows: every outcome
 * row either applies, leaving a state that saves and loads (the decoder
 * checks the floor's invariants), or changes nothing; the logged events
 * replay to the same bytes; and all the rows applied again change nothing.
 */
static void outcomes__random_days_stay_consistent_and_replay_exactly(void **state)
{
    (void)state;
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    struct whaco_buf log = WHACO_BUF_INIT, before = WHACO_BUF_INIT, after = WHACO_BUF_INIT;
    static struct whaco_event rows[1200]; /* the recorded rows */
    size_t offsets[1201], n = 0, n_rows = 0, recorded = 0;
    int seen = 0;
    int64_t now = T0;
    whaco_rng_seed(&rng, 13);
    whaco_gen_params_default(&gp);
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    for (int e = 0; e < 1200; e++) {
        struct whaco_event ev;
        uint64_t kind = whaco_rng_below(&rng, 100);
        now += (int64_t)whaco_rng_below(&rng, 3 * (uint64_t)MINUTE);
        if (e < 4) {
            whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
            snprintf(ev.id, sizeof ev.id, "sp-%d", e);
            memcpy(ev.name, ev.id, sizeof ev.id);
            ev.skill_level = 0.5;
            ev.natural_frequency = 0.9;
        } else if (kind < 35) {
            whaco_event_init(&ev, WHACO_EV_ANALYZE);
            whaco_gen_customer(&rng, &gp, &ev.customer, NULL);
            snprintf(ev.customer.id, sizeof ev.customer.id, "c-%d",
                     whaco_rng_below(&rng, 4) ? seen++ : (int)whaco_rng_below(&rng, seen + 1));
        } else if (kind < 45) {
            whaco_event_init(&ev,
                             whaco_rng_below(&rng, 3) ? WHACO_EV_CLOCK_IN : WHACO_EV_CLOCK_OUT);
            random_member(&rng, ev.id);
        } else if (kind < 52) {
            whaco_event_init(&ev, WHACO_EV_CUSTOMER_LEFT);
            random_customer(&rng, seen, ev.customer_id);
            ev.outcome = (uint8_t)(2 + whaco_rng_below(&rng, 3));
        } else if (kind < 58) {
            whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
            random_member(&rng, ev.id);
        } else {
            random_row(&rng, seen, now, &ev);
        }
        ev.time_ms = now;
        whaco_intel_save(&in, &before);
        int rc = whaco_event_apply(&in, &ev, NULL, NULL);
        if (ev.type == WHACO_EV_OUTCOME && rc == WHACO_OK && n_rows < sizeof rows / sizeof rows[0])
            rows[n_rows++] = ev;
        if (ev.type == WHACO_EV_OUTCOME) { /* the same row at once again changes nothing */
            struct whaco_buf now_state = WHACO_BUF_INIT, again = WHACO_BUF_INIT;
            whaco_intel_save(&in, &now_state);
            int rc2 = whaco_event_apply(&in, &ev, NULL, NULL);
            assert_int_not_equal(rc2, WHACO_OK);
            assert_true(rc != WHACO_OK || rc2 == WHACO_E_ALREADY_RECORDED);
            whaco_intel_save(&in, &again);
            assert_int_equal(again.len, now_state.len);
            assert_memory_equal(again.data, now_state.data, again.len);
            whaco_buf_release(&now_state);
            whaco_buf_release(&again);
        }
        if (rc != WHACO_OK) {
            whaco_buf_clear(&after);
            whaco_intel_save(&in, &after);
            assert_int_equal(after.len, before.len);
            assert_memory_equal(after.data, before.data, after.len);
        } else {
            recorded += ev.type == WHACO_EV_OUTCOME;
            offsets[n++] = log.len;
            whaco_event_encode(&ev, &log);
            if (ev.type == WHACO_EV_OUTCOME) { /* the state it leaves loads */
                struct whaco_intel back;
                whaco_buf_clear(&after);
                whaco_intel_save(&in, &after);
                assert_int_equal(whaco_intel_init(&back, NULL, NULL, NULL), WHACO_OK);
                assert_int_equal(whaco_intel_load(&back, after.data, after.len), WHACO_OK);
                whaco_intel_release(&back);
            }
        }
        whaco_buf_clear(&before);
    }
    print_message("%zu outcome rows recorded, %zu events logged\n", recorded, n);
    assert_true(recorded > 50);

    /* The log replays to the same bytes. */
    struct whaco_intel replayed;
    offsets[n] = log.len;
    assert_int_equal(whaco_intel_init(&replayed, NULL, NULL, NULL), WHACO_OK);
    for (size_t i = 0; i < n; i++) {
        struct whaco_event ev;
        assert_int_equal(
            whaco_event_decode(&ev, log.data + offsets[i], offsets[i + 1] - offsets[i]), WHACO_OK);
        assert_int_equal(whaco_event_apply(&replayed, &ev, NULL, NULL), WHACO_OK);
    }
    whaco_buf_clear(&before);
    whaco_intel_save(&in, &before);
    whaco_buf_clear(&after);
    whaco_intel_save(&replayed, &after);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, after.len);
    whaco_intel_release(&replayed);

    /* Every recorded row again, later: nothing is recorded twice. */
    for (size_t i = 0; i < n_rows; i++) {
        rows[i].time_ms = now + MINUTE;
        assert_int_not_equal(whaco_event_apply(&in, &rows[i], NULL, NULL), WHACO_OK);
    }
    whaco_buf_clear(&after);
    whaco_intel_save(&in, &after);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, after.len);
    whaco_buf_release(&log);
    whaco_buf_release(&before);
    whaco_buf_release(&after);
    whaco_intel_release(&in);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outcomes__iso_8601_times),
        cmocka_unit_test(outcomes__a_file_in_any_column_order_with_quotes_and_blank_rows),
        cmocka_unit_test(outcomes__files_that_are_not_outcomes_files_are_refused),
        cmocka_unit_test(outcomes__each_bad_value_marks_its_row_naming_the_column),
        cmocka_unit_test(outcomes__rows_end_open_walk_ins_as_the_desk_would),
        cmocka_unit_test(outcomes__every_other_row_is_unmatched_with_its_reason),
        cmocka_unit_test(outcomes__the_report_names_the_reason_and_the_field),
        cmocka_unit_test(outcomes__importing_the_same_rows_twice_changes_nothing),
        cmocka_unit_test(outcomes__the_floor_remembers_1024_ended_walk_ins),
        cmocka_unit_test(outcomes__random_days_stay_consistent_and_replay_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

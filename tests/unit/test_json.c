/*
 * test_json.c: the JSON mapping of the HTTP API (http/json.h).
 *
 * Requests: the seed's examples parse into the right event fields, and a
 * catalogue of bad bodies each gets its exact status, code and field with
 * the event left untouched. Responses: every builder's output is parsed
 * back with jansson and checked key by key (names and JSON types of the
 * seed's "API Reference" plus our documented additions), on real core
 * objects built through whaco_intel. Also timestamps, number formatting,
 * out-of-memory behaviour and api/openapi.json.
 */
#include <stdarg.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/intel.h"
#include "http/json.h"

#define T0     1737124200000 /* 2025-01-17T14:30:00Z */
#define MINUTE 60000
#define PI     3.14159265358979323846

/*==== Helpers ====*/

/* Parse a builder's output (freed here) back into a jansson value. */
static json_t *reparse(char *s)
{
    json_error_t err;
    assert_non_null(s);
    json_t *v = json_loads(s, 0, &err);
    if (!v)
        fail_msg("builder output is not JSON (%s): %s", err.text, s);
    free(s);
    return v;
}

enum jtype { T_STR, T_NUM, T_INT, T_BOOL, T_ARR, T_OBJ, T_NULL, T_STR_OR_NULL, T_NUM_OR_NULL };

struct key {
    const char *name;
    enum jtype type;
};

static int type_ok(const json_t *v, enum jtype t)
{
    switch (t) {
    case T_STR:
        return json_is_string(v);
    case T_NUM:
        return json_is_number(v);
    case T_INT:
        return json_is_integer(v);
    case T_BOOL:
        return json_is_boolean(v);
    case T_ARR:
        return json_is_array(v);
    case T_OBJ:
        return json_is_object(v);
    case T_NULL:
        return json_is_null(v);
    case T_STR_OR_NULL:
        return json_is_string(v) || json_is_null(v);
    case T_NUM_OR_NULL:
        return json_is_number(v) || json_is_null(v);
    }
    return 0;
}

/* o has exactly the listed keys, each of the listed JSON type. */
static void check_keys(const json_t *o, const struct key *keys, size_t n, const char *what)
{
    if (!json_is_object(o))
        fail_msg("%s: not an object", what);
    for (size_t i = 0; i < n; i++) {
        json_t *v = json_object_get(o, keys[i].name);
        if (!v)
            fail_msg("%s: key \"%s\" missing", what, keys[i].name);
        if (!type_ok(v, keys[i].type))
            fail_msg("%s: key \"%s\" has the wrong JSON type", what, keys[i].name);
    }
    if (json_object_size(o) != n) {
        char *s = json_dumps(o, JSON_COMPACT);
        fail_msg("%s: %zu keys, expected %zu: %s", what, json_object_size(o), n, s);
    }
}

#define CHECK_KEYS(o, keys) check_keys((o), (keys), sizeof(keys) / sizeof((keys)[0]), #keys)

static int one_of(const char *s, const char *const *list)
{
    for (; *list; list++)
        if (!strcmp(s, *list))
            return 1;
    return 0;
}

static const char *const bands[] = {"excellent", "good", "needs_attention", "critical", NULL};
static const char *const member_states[] = {"overloaded", "behind",   "slow_day", "crushing_it",
                                            "ready",      "on_track", NULL};
static const char *const phase_labels[] = {"ready", "negotiating", "closing", "paperwork", NULL};
static const char *const issues[] = {"Overloaded - too many active deals",
                                     "Significantly behind team rhythm",
                                     "Slow day - no deals closed yet", NULL};

static const struct key analysis_keys[] = {{"customerAnalysis", T_OBJ},
                                           {"assignedTo", T_STR},
                                           {"teamStatus", T_OBJ},
                                           {"recommendedActions", T_ARR}};
static const struct key analysis_empty_keys[] = {{"customerAnalysis", T_OBJ},
                                                 {"assignedTo", T_NULL},
                                                 {"teamStatus", T_OBJ},
                                                 {"recommendedActions", T_ARR},
                                                 {"warning", T_STR}};
static const struct key customer_analysis_keys[] = {
    {"clusterId", T_INT},           {"clusterName", T_STR},           {"clusterDescription", T_STR},
    {"isOutlier", T_BOOL},          {"outlierReason", T_STR_OR_NULL}, {"confidence", T_NUM},
    {"recommendedApproach", T_STR}, {"priorityScore", T_NUM},         {"outlierScore", T_NUM},
    {"missingFields", T_ARR},       {"closeProbability", T_NUM}}; /* additions of "Learning what
                                                                     sells" */
static const struct key team_short_keys[] = {{"coherence", T_NUM},
                                             {"status", T_STR},
                                             {"totalSalespeople", T_INT},
                                             {"bottlenecks", T_ARR},
                                             {"mentoringOpportunities", T_ARR}};
static const struct key team_short_empty_keys[] = {{"coherence", T_NUM},
                                                   {"status", T_STR},
                                                   {"totalSalespeople", T_INT},
                                                   {"bottlenecks", T_ARR},
                                                   {"mentoringOpportunities", T_ARR},
                                                   {"message", T_STR}};
static const struct key team_full_keys[] = {{"coherence", T_NUM},
                                            {"status", T_STR},
                                            {"totalSalespeople", T_INT},
                                            {"bottlenecks", T_ARR},
                                            {"mentoringOpportunities", T_ARR},
                                            {"teamMembers", T_ARR},
                                            {"meanPhase", T_NUM},
                                            {"floorTracked", T_BOOL},
                                            {"coverage", T_NUM}};
static const struct key team_full_empty_keys[] = {{"coherence", T_NUM},
                                                  {"status", T_STR},
                                                  {"totalSalespeople", T_INT},
                                                  {"bottlenecks", T_ARR},
                                                  {"mentoringOpportunities", T_ARR},
                                                  {"message", T_STR},
                                                  {"teamMembers", T_ARR},
                                                  {"meanPhase", T_NUM},
                                                  {"floorTracked", T_BOOL},
                                                  {"coverage", T_NUM}};
static const struct key bottleneck_keys[] = {{"salespersonId", T_STR},
                                             {"name", T_STR},
                                             {"phaseDifference", T_NUM},
                                             {"activeDeals", T_INT},
                                             {"issue", T_STR}};
static const struct key mentoring_keys[] = {
    {"mentorId", T_STR}, {"mentorName", T_STR}, {"menteeId", T_STR},      {"menteeName", T_STR},
    {"skillGap", T_NUM}, {"phaseLead", T_NUM},  {"recommendation", T_STR}};
static const struct key member_keys[] = {
    {"id", T_STR},         {"name", T_STR},         {"phase", T_NUM},
    {"phaseLabel", T_STR}, {"activeDeals", T_INT},  {"dealsToday", T_INT},
    {"leadsToday", T_INT}, {"skillLevel", T_NUM},   {"naturalFrequency", T_NUM},
    {"status", T_STR},     {"observedSkill", T_OBJ}};
static const struct key segments_keys[] = {{"totalCustomersProcessed", T_INT},
                                           {"outliersDetected", T_INT},
                                           {"clusters", T_ARR},
                                           {"featureNames", T_ARR},
                                           {"featureWeights", T_ARR}};
static const struct key cluster_keys[] = {{"id", T_INT},
                                          {"profile", T_OBJ},
                                          {"centroid", T_ARR},
                                          {"sizeEstimate", T_INT},
                                          {"share", T_NUM},
                                          {"observedCloseRate", T_NUM_OR_NULL},
                                          {"outcomesRecorded", T_INT}};
static const struct key profile_keys[] = {
    {"name", T_STR}, {"description", T_STR}, {"approach", T_STR}, {"priority", T_NUM}};
static const struct key anomaly_keys[] = {{"timestamp", T_STR},   {"customerId", T_STR_OR_NULL},
                                          {"features", T_OBJ},    {"clusterId", T_INT},
                                          {"clusterName", T_STR}, {"outlierScore", T_NUM},
                                          {"reason", T_STR}};
static const struct key features_keys[] = {{"ficoScore", T_NUM},          {"income", T_NUM},
                                           {"vehiclePrice", T_NUM},       {"downPayment", T_NUM},
                                           {"downPaymentPercent", T_NUM}, {"tradeValue", T_NUM},
                                           {"visitCount", T_INT},         {"timeOnLot", T_NUM},
                                           {"engagement", T_NUM}};
static const struct key anomalies_keys[] = {{"anomalies", T_ARR}, {"total", T_INT}};
static const struct key insights_keys[] = {
    {"teamStatus", T_OBJ}, {"customerSegments", T_OBJ}, {"recentAnomalies", T_ARR}};
static const struct key salespeople_keys[] = {{"salespeople", T_ARR}, {"total", T_INT}};
static const struct key salesperson_keys[] = {
    {"id", T_STR},    {"name", T_STR},        {"skillLevel", T_NUM}, {"naturalFrequency", T_NUM},
    {"phase", T_NUM}, {"activeDeals", T_INT}, {"dealsToday", T_INT}, {"leadsToday", T_INT},
    {"status", T_STR}};
static const struct key history_keys[] = {{"hours", T_NUM}, {"samples", T_ARR}};
static const struct key sample_keys[] = {{"timestamp", T_STR}, {"coherence", T_NUM}};
static const struct key deal_keys[] = {
    {"status", T_STR}, {"salespersonId", T_STR}, {"dealId", T_STR_OR_NULL}, {"timestamp", T_STR}};
static const struct key added_keys[] = {{"status", T_STR}, {"id", T_STR}, {"name", T_STR}};
static const struct key removed_keys[] = {{"status", T_STR}, {"id", T_STR}};
static const struct key reset_keys[] = {{"status", T_STR}, {"timestamp", T_STR}};
static const struct key error_keys[] = {{"code", T_STR}, {"message", T_STR}, {"field", T_STR}};
static const struct key error_nofield_keys[] = {{"code", T_STR}, {"message", T_STR}};

static const char *str(const json_t *o, const char *key)
{
    const char *s = json_string_value(json_object_get(o, key));
    if (!s)
        fail_msg("\"%s\" is not a string", key);
    return s;
}

static double number(const json_t *o, const char *key)
{
    json_t *v = json_object_get(o, key);
    if (!json_is_number(v))
        fail_msg("\"%s\" is not a number", key);
    return json_number_value(v);
}

/* The values shared by the short and the full team status. */
static void check_team_short(const json_t *ts, const struct whaco_team *t,
                             const struct whaco_team_status *st)
{
    assert_true(number(ts, "coherence") >= 0.0 && number(ts, "coherence") <= 1.0);
    assert_true(fabs(number(ts, "coherence") - st->r) < 1e-5);
    assert_true(one_of(str(ts, "status"), bands));
    assert_int_equal(json_integer_value(json_object_get(ts, "totalSalespeople")), t->n);
}

/*==== Requests: good bodies ====*/

static const char seed_analyze[] = "{\n"
                                   "  \"customerId\": \"cust_123\",\n"
                                   "  \"creditScore\": 720,\n"
                                   "  \"annualIncome\": 75000,\n"
                                   "  \"vehiclePrice\": 28000,\n"
                                   "  \"downPayment\": 3000,\n"
                                   "  \"tradeValue\": 5000,\n"
                                   "  \"visitCount\": 1,\n"
                                   "  \"timeOnLot\": 45,\n"
                                   "  \"engagement\": 0.7\n"
                                   "}";

static void json__seed_analyze_request_fills_the_event(void **state)
{
    (void)state;
    struct whaco_event ev;
    struct api_error e;
    memset(&ev, 0xab, sizeof ev);
    assert_int_equal(json_parse_analyze(seed_analyze, strlen(seed_analyze), &ev, &e), 0);
    assert_int_equal(ev.type, WHACO_EV_ANALYZE);
    assert_true(ev.time_ms == 0); /* the engine sets it */
    assert_string_equal(ev.customer.id, "cust_123");
    assert_true(ev.customer.credit_score == 720.0);
    assert_true(ev.customer.annual_income == 75000.0);
    assert_true(ev.customer.vehicle_price == 28000.0);
    assert_true(ev.customer.down_payment == 3000.0);
    assert_true(ev.customer.trade_value == 5000.0);
    assert_int_equal(ev.customer.visit_count, 1);
    assert_true(ev.customer.time_on_lot == 45.0);
    assert_true(ev.customer.engagement == 0.7);
    assert_string_equal(ev.id, "");
    assert_string_equal(ev.name, "");
    assert_int_equal(ev.active_deals, 0);
}

static void json__analyze_defaults_tradevalue_and_customerid(void **state)
{
    (void)state;
    struct whaco_event ev;
    struct api_error e;
    /* The seed's TypeScript example: no tradeValue; customerId-less too. */
    const char *body = "{\"creditScore\":720,\"annualIncome\":75000,\"vehiclePrice\":28000,"
                       "\"downPayment\":3000,\"visitCount\":1,\"timeOnLot\":30,\"engagement\":0.7}";
    assert_int_equal(json_parse_analyze(body, strlen(body), &ev, &e), 0);
    assert_string_equal(ev.customer.id, "");
    assert_true(ev.customer.trade_value == 0.0);
    assert_int_equal(ev.customer.missing, 0); /* no trade-in is known: 0 */
    assert_true(ev.customer.time_on_lot == 30.0);

    /* A null customerId is absent; a null tradeValue is unknown (it was 0
     * before fields could be unknown); 1.0 is a whole number; unknown
     * fields are ignored; reals are taken as they are. */
    body = "{\"customerId\":null,\"creditScore\":700.5,\"annualIncome\":0,\"vehiclePrice\":0.01,"
           "\"downPayment\":0.01,\"tradeValue\":null,\"visitCount\":2.0,\"timeOnLot\":0,"
           "\"engagement\":1,\"futureField\":{\"x\":[1,2]}}";
    assert_int_equal(json_parse_analyze(body, strlen(body), &ev, &e), 0);
    assert_string_equal(ev.customer.id, "");
    assert_true(ev.customer.credit_score == 700.5);
    assert_true(ev.customer.trade_value == 0.0);
    assert_int_equal(ev.customer.missing, WHACO_FIELD_TRADE_VALUE);
    assert_int_equal(ev.customer.visit_count, 2);
    assert_true(ev.customer.engagement == 1.0);

    /* 62 bytes of id, non-ASCII text and the largest visit count are fine;
     * the length is taken from len, not a NUL. */
    char buf[512];
    int n = snprintf(buf, sizeof buf,
                     "{\"customerId\":\"%.62s\",\"creditScore\":300,\"annualIncome\":5e6,"
                     "\"vehiclePrice\":4e5,\"downPayment\":0,\"visitCount\":2147483647,"
                     "\"timeOnLot\":900,\"engagement\":0}XXXX",
                     "ééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééééé");
    assert_true(n > 4);
    assert_int_equal(json_parse_analyze(buf, (size_t)n - 4, &ev, &e), 0);
    assert_int_equal(strlen(ev.customer.id), 62); /* 31 two-byte characters */
    assert_int_equal(ev.customer.visit_count, INT32_MAX);
    assert_true(ev.customer.annual_income == 5e6);
}

/*
 * Any of the eight numbers may be unknown: absent or null, but for an
 * absent tradeValue, which keeps the seed's meaning (no trade-in, 0). Known
 * fields are checked as before.
 */
static void json__unknown_fields_are_absent_or_null(void **state)
{
    (void)state;
    static const struct {
        const char *body;
        uint32_t missing;
    } rows[] = {
        {"{\"creditScore\":720,\"annualIncome\":75000,\"vehiclePrice\":28000,\"downPayment\":3000,"
         "\"tradeValue\":5000,\"visitCount\":1,\"timeOnLot\":45,\"engagement\":0.7}",
         0},
        /* The desk at arrival: no credit, income, time on the lot or engagement yet. */
        {"{\"customerId\":\"w-1\",\"vehiclePrice\":28000,\"downPayment\":3000,\"visitCount\":1}",
         WHACO_FIELD_CREDIT_SCORE | WHACO_FIELD_ANNUAL_INCOME | WHACO_FIELD_TIME_ON_LOT |
             WHACO_FIELD_ENGAGEMENT},
        {"{\"creditScore\":null,\"annualIncome\":null,\"vehiclePrice\":28000,\"downPayment\":null,"
         "\"tradeValue\":null,\"visitCount\":null,\"timeOnLot\":45,\"engagement\":null}",
         WHACO_FIELD_CREDIT_SCORE | WHACO_FIELD_ANNUAL_INCOME | WHACO_FIELD_DOWN_PAYMENT |
             WHACO_FIELD_TRADE_VALUE | WHACO_FIELD_VISIT_COUNT | WHACO_FIELD_ENGAGEMENT},
        /* A web lead: one visit, nothing else; tradeValue absent is 0, known. */
        {"{\"visitCount\":1}",
         WHACO_FIELDS_ALL & ~(WHACO_FIELD_VISIT_COUNT | WHACO_FIELD_TRADE_VALUE)},
        {"{\"visitCount\":1,\"tradeValue\":null}", WHACO_FIELDS_ALL & ~WHACO_FIELD_VISIT_COUNT},
        /* A down payment without the price is known, but no feature. */
        {"{\"engagement\":0.2,\"downPayment\":500}",
         WHACO_FIELDS_ALL &
             ~(WHACO_FIELD_ENGAGEMENT | WHACO_FIELD_DOWN_PAYMENT | WHACO_FIELD_TRADE_VALUE)},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct whaco_event ev;
        struct api_error e;
        if (json_parse_analyze(rows[i].body, strlen(rows[i].body), &ev, &e) != 0)
            fail_msg("row %zu (%s): refused: %s", i, rows[i].body, e.message);
        assert_int_equal(ev.customer.missing, rows[i].missing);
        assert_int_equal(whaco_customer_check(&ev.customer, NULL), WHACO_OK);
        /* An unknown field reads as 0. */
        if (rows[i].missing & WHACO_FIELD_CREDIT_SCORE)
            assert_true(ev.customer.credit_score == 0.0);
        if (rows[i].missing & WHACO_FIELD_VISIT_COUNT)
            assert_int_equal(ev.customer.visit_count, 0);
    }

    /* Known fields are still checked, unknown ones are not looked at: a
     * down payment above the price needs both. */
    static const struct {
        const char *body, *code, *field;
    } bad[] = {
        {"{\"visitCount\":1,\"engagement\":2}", "ENGAGEMENT_RANGE", "engagement"},
        {"{\"creditScore\":100}", "CREDIT_SCORE_RANGE", "creditScore"},
        {"{\"vehiclePrice\":20000,\"downPayment\":30000}", "DOWN_EXCEEDS_PRICE", "downPayment"},
        {"{\"timeOnLot\":\"45\"}", "WRONG_TYPE", "timeOnLot"},
        {"{\"visitCount\":1.5}", "NOT_INTEGER", "visitCount"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct whaco_event ev;
        struct api_error e;
        assert_int_equal(json_parse_analyze(bad[i].body, strlen(bad[i].body), &ev, &e), -1);
        assert_string_equal(e.code, bad[i].code);
        assert_string_equal(e.field, bad[i].field);
    }
    const char *ok = "{\"downPayment\":30000,\"visitCount\":1}";
    struct whaco_event ev;
    struct api_error e;
    assert_int_equal(json_parse_analyze(ok, strlen(ok), &ev, &e), 0);
}

static void json__seed_deal_closed_request_fills_the_event(void **state)
{
    (void)state;
    struct whaco_event ev;
    struct api_error e;
    const char *body = "{\n  \"salespersonId\": \"sp-123\",\n  \"dealId\": \"deal-456\"\n}";
    memset(&ev, 0xab, sizeof ev);
    assert_int_equal(json_parse_deal_closed(body, strlen(body), &ev, &e), 0);
    assert_int_equal(ev.type, WHACO_EV_DEAL_CLOSED);
    assert_string_equal(ev.id, "sp-123");
    assert_string_equal(ev.deal_id, "deal-456");
    assert_true(ev.time_ms == 0);

    /* The TypeScript example sends dealId first; dealId is optional. */
    body = "{\"dealId\":\"d1\",\"salespersonId\":\"sp-9\"}";
    assert_int_equal(json_parse_deal_closed(body, strlen(body), &ev, &e), 0);
    assert_string_equal(ev.id, "sp-9");
    assert_string_equal(ev.deal_id, "d1");
    body = "{\"salespersonId\":\"sp-9\"}";
    assert_int_equal(json_parse_deal_closed(body, strlen(body), &ev, &e), 0);
    assert_string_equal(ev.deal_id, "");
    body = "{\"salespersonId\":\"sp-9\",\"dealId\":null}";
    assert_int_equal(json_parse_deal_closed(body, strlen(body), &ev, &e), 0);
    assert_string_equal(ev.deal_id, "");
    body = "{\"salespersonId\":\"sp-9\",\"dealId\":\"\"}";
    assert_int_equal(json_parse_deal_closed(body, strlen(body), &ev, &e), 0);
    assert_string_equal(ev.deal_id, "");
}

static void json__seed_add_salesperson_request_fills_the_event(void **state)
{
    (void)state;
    struct whaco_event ev;
    struct api_error e;
    const char *body = "{\n  \"id\": \"sp-999\",\n  \"name\": \"New Salesperson\",\n"
                       "  \"skillLevel\": 0.6,\n  \"naturalFrequency\": 0.9\n}";
    memset(&ev, 0xab, sizeof ev);
    assert_int_equal(json_parse_add_salesperson(body, strlen(body), &ev, &e), 0);
    assert_int_equal(ev.type, WHACO_EV_ADD_SALESPERSON);
    assert_string_equal(ev.id, "sp-999");
    assert_string_equal(ev.name, "New Salesperson");
    assert_true(ev.skill_level == 0.6);
    assert_true(ev.natural_frequency == 0.9);
    assert_true(ev.phase == 0.0);
    assert_int_equal(ev.active_deals, 0);
    assert_string_equal(ev.deal_id, "");

    /* Defaults and the optional fields. */
    body = "{\"id\":\"sp-1\",\"name\":\"Zoë Ångström\",\"skillLevel\":1}";
    assert_int_equal(json_parse_add_salesperson(body, strlen(body), &ev, &e), 0);
    assert_string_equal(ev.name, "Zoë Ångström");
    assert_true(ev.natural_frequency == 0.9);
    body = "{\"id\":\"sp-1\",\"name\":\"A\",\"skillLevel\":0,\"naturalFrequency\":0,"
           "\"phase\":-7.5,\"activeDeals\":12.0}";
    assert_int_equal(json_parse_add_salesperson(body, strlen(body), &ev, &e), 0);
    assert_true(ev.natural_frequency == 0.0);
    assert_true(ev.phase == -7.5); /* the team wraps it */
    assert_int_equal(ev.active_deals, 12);
}

/*==== Requests: the catalogue of bad bodies ====*/

enum parser { ANALYZE, DEAL, ADD };

/* Base bodies; a case may replace (or with value NULL remove) one field. */
static const char *const analyze_base[][2] = {{"customerId", "\"cust_123\""},
                                              {"creditScore", "720"},
                                              {"annualIncome", "75000"},
                                              {"vehiclePrice", "28000"},
                                              {"downPayment", "3000"},
                                              {"tradeValue", "5000"},
                                              {"visitCount", "1"},
                                              {"timeOnLot", "45"},
                                              {"engagement", "0.7"},
                                              {NULL, NULL}};
static const char *const deal_base[][2] = {
    {"salespersonId", "\"sp-123\""}, {"dealId", "\"deal-456\""}, {NULL, NULL}};
static const char *const add_base[][2] = {{"id", "\"sp-999\""},
                                          {"name", "\"New Salesperson\""},
                                          {"skillLevel", "0.6"},
                                          {"naturalFrequency", "0.9"},
                                          {NULL, NULL}};

#define ID64 "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa\""
#define NAME128                                                                                    \
    "\"nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn" \
    "n"                                                                                            \
    "nnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnnn\""

struct bad {
    enum parser parser;
    const char *body;  /* the whole body, or NULL to edit the base */
    const char *key;   /* with body NULL: the field to replace or add */
    const char *value; /* its raw JSON text, or NULL to remove it */
    int status;
    const char *code;
    const char *field; /* NULL: none expected */
};

#define RAW(p, body, code)                                                                         \
    {                                                                                              \
        p, body, NULL, NULL, 400, code, NULL                                                       \
    }
#define SET(p, key, val, code, f)                                                                  \
    {                                                                                              \
        p, NULL, key, val, 400, code, f                                                            \
    }

static const struct bad bad_bodies[] = {
    /* Not JSON, or not an object. */
    RAW(ANALYZE, "{\"creditScore\":720,", "INVALID_JSON"),
    RAW(ANALYZE, "{\"creditScore\":720} x", "INVALID_JSON"),
    RAW(ANALYZE, "{}{}", "INVALID_JSON"),
    RAW(ANALYZE, "", "INVALID_JSON"),
    RAW(ANALYZE, "  \n ", "INVALID_JSON"),
    RAW(ANALYZE, "{'creditScore':720}", "INVALID_JSON"),
    RAW(ANALYZE, "{\"creditScore\":720,}", "INVALID_JSON"),
    RAW(ANALYZE, "[1,2,3]", "NOT_AN_OBJECT"),
    RAW(ANALYZE, "\"hello\"", "NOT_AN_OBJECT"),
    RAW(ANALYZE, "42", "NOT_AN_OBJECT"),
    RAW(ANALYZE, "null", "NOT_AN_OBJECT"),
    RAW(ANALYZE, "true", "NOT_AN_OBJECT"),
    RAW(ANALYZE, "{\"creditScore\":720,\"creditScore\":700}", "INVALID_JSON"),
    /* Any of the eight may be unknown (absent or null: the requests of
     * json__unknown_fields_are_absent_or_null), but not all: a customer
     * with no known feature has no field to blame. A down payment and a
     * trade-in are no feature without the price. */
    RAW(ANALYZE, "{}", "NO_KNOWN_FEATURE"),
    RAW(ANALYZE, "{\"customerId\":\"c-1\"}", "NO_KNOWN_FEATURE"),
    RAW(ANALYZE,
        "{\"creditScore\":null,\"annualIncome\":null,\"vehiclePrice\":null,"
        "\"downPayment\":null,\"tradeValue\":null,\"visitCount\":null,"
        "\"timeOnLot\":null,\"engagement\":null}",
        "NO_KNOWN_FEATURE"),
    RAW(ANALYZE, "{\"downPayment\":3000,\"tradeValue\":5000}", "NO_KNOWN_FEATURE"),
    SET(ANALYZE, "creditScore", "NaN", "INVALID_JSON", NULL),
    SET(ANALYZE, "creditScore", "Infinity", "INVALID_JSON", NULL),
    SET(ANALYZE, "annualIncome", "-Infinity", "INVALID_JSON", NULL),
    SET(ANALYZE, "annualIncome", "1e999", "INVALID_JSON", NULL),
    SET(ANALYZE, "visitCount", "99999999999999999999", "INVALID_JSON", NULL),
    SET(ANALYZE, "customerId", "\"a\\u0000b\"", "INVALID_JSON", NULL),
    SET(ANALYZE, "customerId", "\"\xff\xfe\"", "INVALID_JSON", NULL),
    SET(ANALYZE, "customerId", "\"\xc0\xaf\"", "INVALID_JSON", NULL),
    SET(ANALYZE, "customerId", "\"\\ud800\"", "INVALID_JSON", NULL),
    SET(ANALYZE, "customerId", "\"a\tb\"", "INVALID_JSON", NULL), /* raw control char */
    /* creditScore */
    SET(ANALYZE, "creditScore", "299", "CREDIT_SCORE_RANGE", "creditScore"),
    SET(ANALYZE, "creditScore", "851", "CREDIT_SCORE_RANGE", "creditScore"),
    SET(ANALYZE, "creditScore", "299.999", "CREDIT_SCORE_RANGE", "creditScore"),
    SET(ANALYZE, "creditScore", "\"720\"", "WRONG_TYPE", "creditScore"),
    SET(ANALYZE, "creditScore", "true", "WRONG_TYPE", "creditScore"),
    SET(ANALYZE, "creditScore", "{}", "WRONG_TYPE", "creditScore"),
    SET(ANALYZE, "creditScore", "[720]", "WRONG_TYPE", "creditScore"),
    /* money */
    SET(ANALYZE, "annualIncome", "-1", "NEGATIVE_MONEY", "annualIncome"),
    SET(ANALYZE, "downPayment", "-0.01", "NEGATIVE_MONEY", "downPayment"),
    SET(ANALYZE, "tradeValue", "-5", "NEGATIVE_MONEY", "tradeValue"),
    SET(ANALYZE, "tradeValue", "\"5000\"", "WRONG_TYPE", "tradeValue"),
    SET(ANALYZE, "vehiclePrice", "0", "VEHICLE_PRICE", "vehiclePrice"),
    SET(ANALYZE, "vehiclePrice", "-28000", "VEHICLE_PRICE", "vehiclePrice"),
    SET(ANALYZE, "downPayment", "28000.01", "DOWN_EXCEEDS_PRICE", "downPayment"),
    /* counts */
    SET(ANALYZE, "visitCount", "1.5", "NOT_INTEGER", "visitCount"),
    SET(ANALYZE, "visitCount", "-1", "NEGATIVE_COUNT", "visitCount"),
    SET(ANALYZE, "visitCount", "-1.0", "NEGATIVE_COUNT", "visitCount"),
    SET(ANALYZE, "visitCount", "1e12", "NOT_INTEGER", "visitCount"),
    SET(ANALYZE, "visitCount", "2147483648", "NOT_INTEGER", "visitCount"),
    SET(ANALYZE, "visitCount", "-2147483649", "NOT_INTEGER", "visitCount"),
    SET(ANALYZE, "visitCount", "\"1\"", "WRONG_TYPE", "visitCount"),
    SET(ANALYZE, "timeOnLot", "-1", "NEGATIVE_COUNT", "timeOnLot"),
    SET(ANALYZE, "timeOnLot", "false", "WRONG_TYPE", "timeOnLot"),
    /* engagement */
    SET(ANALYZE, "engagement", "1.01", "ENGAGEMENT_RANGE", "engagement"),
    SET(ANALYZE, "engagement", "-0.1", "ENGAGEMENT_RANGE", "engagement"),
    /* customerId */
    SET(ANALYZE, "customerId", "\"\"", "ID_LENGTH", "customerId"),
    SET(ANALYZE, "customerId", ID64, "ID_LENGTH", "customerId"),
    SET(ANALYZE, "customerId", "123", "WRONG_TYPE", "customerId"),
    SET(ANALYZE, "customerId", "\"a\\nb\"", "ID_LENGTH", "customerId"),
    SET(ANALYZE, "customerId", "\"a\\u007fb\"", "ID_LENGTH", "customerId"),
    /* deal-closed */
    RAW(DEAL, "[]", "NOT_AN_OBJECT"),
    RAW(DEAL, "{\"salespersonId\":\"a\",\"salespersonId\":\"b\"}", "INVALID_JSON"),
    SET(DEAL, "salespersonId", NULL, "MISSING_FIELD", "salespersonId"),
    SET(DEAL, "salespersonId", "null", "MISSING_FIELD", "salespersonId"),
    SET(DEAL, "salespersonId", "123", "WRONG_TYPE", "salespersonId"),
    SET(DEAL, "salespersonId", "\"\"", "ID_LENGTH", "salespersonId"),
    SET(DEAL, "salespersonId", ID64, "ID_LENGTH", "salespersonId"),
    SET(DEAL, "salespersonId", "\"sp 123\"", "ID_LENGTH", "salespersonId"),
    SET(DEAL, "dealId", ID64, "ID_LENGTH", "dealId"),
    SET(DEAL, "dealId", "456", "WRONG_TYPE", "dealId"),
    SET(DEAL, "dealId", "\"d\\r\\n\"", "ID_LENGTH", "dealId"),
    /* add-salesperson */
    RAW(ADD, "\"sp-999\"", "NOT_AN_OBJECT"),
    SET(ADD, "id", NULL, "MISSING_FIELD", "id"),
    SET(ADD, "id", "999", "WRONG_TYPE", "id"),
    SET(ADD, "id", "\"\"", "ID_LENGTH", "id"),
    SET(ADD, "id", ID64, "ID_LENGTH", "id"),
    SET(ADD, "id", "\"sp 999\"", "ID_LENGTH", "id"),
    SET(ADD, "name", NULL, "MISSING_FIELD", "name"),
    SET(ADD, "name", "\"\"", "NAME_LENGTH", "name"),
    SET(ADD, "name", "\"New\\u0001Salesperson\"", "NAME_LENGTH", "name"),
    SET(ADD, "name", NAME128, "NAME_LENGTH", "name"),
    SET(ADD, "skillLevel", "1.5", "SKILL_RANGE", "skillLevel"),
    SET(ADD, "skillLevel", "-0.1", "SKILL_RANGE", "skillLevel"),
    SET(ADD, "skillLevel", NULL, "MISSING_FIELD", "skillLevel"),
    SET(ADD, "skillLevel", "\"high\"", "WRONG_TYPE", "skillLevel"),
    SET(ADD, "naturalFrequency", "-1", "FREQUENCY_RANGE", "naturalFrequency"),
    SET(ADD, "naturalFrequency", "100.5", "FREQUENCY_RANGE", "naturalFrequency"),
    SET(ADD, "phase", "\"ready\"", "WRONG_TYPE", "phase"),
    SET(ADD, "activeDeals", "2.5", "NOT_INTEGER", "activeDeals"),
    SET(ADD, "activeDeals", "-1", "NEGATIVE_COUNT", "activeDeals"),
    SET(ADD, "activeDeals", "1000001", "INVAL", "activeDeals"),
    SET(ADD, "activeDeals", "1e12", "NOT_INTEGER", "activeDeals"),
};

/* Build a body from base with key replaced by value (removed if NULL). */
static size_t edit_body(char *buf, size_t cap, const char *const base[][2], const char *key,
                        const char *value)
{
    size_t len = 0;
    int found = 0, first = 1;
    len += (size_t)snprintf(buf + len, cap - len, "{");
    for (size_t i = 0; base[i][0]; i++) {
        const char *v = base[i][1];
        if (!strcmp(base[i][0], key)) {
            found = 1;
            v = value;
        }
        if (!v)
            continue;
        len +=
            (size_t)snprintf(buf + len, cap - len, "%s\"%s\":%s", first ? "" : ",", base[i][0], v);
        first = 0;
    }
    if (!found && value)
        len += (size_t)snprintf(buf + len, cap - len, ",\"%s\":%s", key, value);
    len += (size_t)snprintf(buf + len, cap - len, "}");
    assert_true(len < cap);
    return len;
}

static int run_parser(enum parser p, const char *body, size_t len, struct whaco_event *ev,
                      struct api_error *e)
{
    switch (p) {
    case ANALYZE:
        return json_parse_analyze(body, len, ev, e);
    case DEAL:
        return json_parse_deal_closed(body, len, ev, e);
    case ADD:
        return json_parse_add_salesperson(body, len, ev, e);
    }
    return 0;
}

static void json__bad_bodies_get_exact_codes_and_fields(void **state)
{
    (void)state;
    size_t n = sizeof bad_bodies / sizeof bad_bodies[0];
    assert_true(n >= 40);
    for (size_t i = 0; i < n; i++) {
        const struct bad *b = &bad_bodies[i];
        char buf[1024];
        const char *body = b->body;
        size_t len = body ? strlen(body) : 0;
        if (!body) {
            const char *const(*base)[2] = b->parser == ANALYZE ? analyze_base
                                          : b->parser == DEAL  ? deal_base
                                                               : add_base;
            len = edit_body(buf, sizeof buf, base, b->key, b->value);
            body = buf;
        }
        struct whaco_event ev, before;
        struct api_error e;
        memset(&ev, 0x5a, sizeof ev);
        before = ev;
        memset(&e, 0, sizeof e);
        int rc = run_parser(b->parser, body, len, &ev, &e);
        if (rc != -1)
            fail_msg("case %zu (%s) was accepted", i, body);
        if (e.status != b->status || !e.code || strcmp(e.code, b->code))
            fail_msg("case %zu (%s): got %d %s, expected %d %s (%s)", i, body, e.status,
                     e.code ? e.code : "(null)", b->status, b->code, e.message);
        if ((b->field == NULL) != (e.field == NULL) || (b->field && strcmp(b->field, e.field)))
            fail_msg("case %zu (%s): field %s, expected %s", i, body, e.field ? e.field : "NULL",
                     b->field ? b->field : "NULL");
        if (memcmp(&ev, &before, sizeof ev))
            fail_msg("case %zu (%s): the event was changed on error", i, body);
        if (strlen(e.message) == 0)
            fail_msg("case %zu: empty message", i);
        /* Every error renders as valid JSON. */
        json_t *doc = reparse(json_error(&e));
        json_decref(doc);
    }
}

static void json__error_messages_name_the_problem(void **state)
{
    (void)state;
    struct whaco_event ev;
    struct api_error e;
    char buf[512];
    size_t len = 2;
    assert_int_equal(json_parse_analyze("{}", len, &ev, &e), -1);
    assert_string_equal(e.message, "no feature of the customer is known: give at least one of "
                                   "creditScore, annualIncome, vehiclePrice, visitCount, "
                                   "timeOnLot, engagement (downPayment and tradeValue count "
                                   "only with vehiclePrice)");
    len = edit_body(buf, sizeof buf, analyze_base, "creditScore", "\"720\"");
    assert_int_equal(json_parse_analyze(buf, len, &ev, &e), -1);
    assert_string_equal(e.message, "creditScore must be a number");
    len = edit_body(buf, sizeof buf, analyze_base, "customerId", "1");
    assert_int_equal(json_parse_analyze(buf, len, &ev, &e), -1);
    assert_string_equal(e.message, "customerId must be a string");
    len = edit_body(buf, sizeof buf, analyze_base, "creditScore", "299");
    assert_int_equal(json_parse_analyze(buf, len, &ev, &e), -1);
    assert_string_equal(e.message, "creditScore must be between 300 and 850");
    /* A message shared by several fields is prefixed with the field. */
    api_error_from_whaco(&e, WHACO_E_NEGATIVE_MONEY, "tradeValue");
    assert_string_equal(e.message, "tradeValue: money amounts must not be negative");

    /* jansson's line and column. */
    const char *body = "{\n  \"creditScore\": 720,\n  \"annualIncome\": NaN\n}";
    assert_int_equal(json_parse_analyze(body, strlen(body), &ev, &e), -1);
    assert_string_equal(e.code, "INVALID_JSON");
    assert_non_null(strstr(e.message, "line 3"));
    assert_non_null(strstr(e.message, "column"));
    body = "{\"a\":1,\"a\":2}";
    assert_int_equal(json_parse_deal_closed(body, strlen(body), &ev, &e), -1);
    assert_non_null(strstr(e.message, "duplicate"));

    /* Structural problems come before range problems, then field order. */
    body = "{\"creditScore\":100,\"annualIncome\":-1,\"vehiclePrice\":0,\"downPayment\":0,"
           "\"visitCount\":1,\"timeOnLot\":0,\"engagement\":0}";
    assert_int_equal(json_parse_analyze(body, strlen(body), &ev, &e), -1);
    assert_string_equal(e.field, "creditScore");
    body = "{\"creditScore\":100,\"annualIncome\":-1,\"vehiclePrice\":0,\"downPayment\":0,"
           "\"visitCount\":1.5,\"timeOnLot\":0,\"engagement\":0}";
    assert_int_equal(json_parse_analyze(body, strlen(body), &ev, &e), -1);
    assert_string_equal(e.field, "visitCount");

    /* A NULL body is the empty body. */
    assert_int_equal(json_parse_analyze(NULL, 0, &ev, &e), -1);
    assert_string_equal(e.code, "INVALID_JSON");
}

static void json__deep_nesting_is_rejected_without_crashing(void **state)
{
    (void)state;
    const size_t depth = 100000;
    char *buf = malloc(2 * depth + 64);
    struct whaco_event ev;
    struct api_error e;
    assert_non_null(buf);

    /* [[[[...]]]] balanced, then unbalanced, then objects. */
    memset(buf, '[', depth);
    memset(buf + depth, ']', depth);
    for (int p = ANALYZE; p <= ADD; p++) {
        assert_int_equal(run_parser((enum parser)p, buf, 2 * depth, &ev, &e), -1);
        assert_int_equal(e.status, 400);
        assert_string_equal(e.code, "INVALID_JSON");
    }
    assert_int_equal(json_parse_analyze(buf, depth, &ev, &e), -1);
    assert_string_equal(e.code, "INVALID_JSON");
    size_t len = 0;
    for (size_t i = 0; i < depth / 5; i++) {
        memcpy(buf + len, "{\"a\":", 5);
        len += 5;
    }
    assert_int_equal(json_parse_analyze(buf, len, &ev, &e), -1);
    assert_string_equal(e.code, "INVALID_JSON");
    /* Nested inside a valid object, as an ignored field. */
    len = (size_t)snprintf(buf, 64, "{\"x\":");
    memset(buf + len, '[', depth);
    len += depth;
    memset(buf + len, ']', depth);
    len += depth;
    buf[len++] = '}';
    assert_int_equal(json_parse_deal_closed(buf, len, &ev, &e), -1);
    assert_string_equal(e.code, "INVALID_JSON");
    free(buf);
}

/*==== Responses ====*/

struct world {
    struct whaco_intel in;
    struct whaco_team_status st;
    struct whaco_analysis normal, outlier;
};

static void add_member(struct whaco_intel *in, const char *id, const char *name, double skill,
                       double phase, uint32_t active)
{
    struct whaco_member_spec spec = {id, name, skill, 0.9, phase, active};
    assert_int_equal(whaco_intel_add_salesperson(in, &spec, T0, NULL), WHACO_OK);
}

static struct whaco_customer prime(void)
{
    struct whaco_customer c = {"cust_123", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    return c;
}

/*
 * A team of five at T0 (no time passes, so phases stay as given): Jane
 * (skilled, ahead) can mentor Bob; John carries 12 deals (Overloaded).
 * Then one normal customer and one obvious outlier.
 */
static void world_init(struct world *w)
{
    struct whaco_customer c = prime();
    assert_int_equal(whaco_intel_init(&w->in, NULL, NULL, NULL), WHACO_OK);
    add_member(&w->in, "sp-123", "Jane Smith", 0.9, 0.8, 0);
    add_member(&w->in, "sp-789", "Bob Johnson", 0.4, 0.0, 0);
    add_member(&w->in, "sp-456", "John Doe", 0.6, 0.2, 12);
    add_member(&w->in, "sp-222", "Ana Lima", 0.7, 0.1, 1);
    add_member(&w->in, "sp-333", "Li Wei", 0.65, 0.3, 2);
    assert_int_equal(whaco_intel_analyze(&w->in, &c, T0, &w->normal, NULL), WHACO_OK);
    assert_false(w->normal.segment.is_outlier);
    c.credit_score = 420;
    c.annual_income = 2000000;
    c.down_payment = 0;
    snprintf(c.id, sizeof c.id, "cust_999");
    assert_int_equal(whaco_intel_analyze(&w->in, &c, T0 + 1500, &w->outlier, NULL), WHACO_OK);
    assert_true(w->outlier.segment.is_outlier);
    whaco_team_status_init(&w->st);
    assert_int_equal(whaco_team_status_compute(&w->st, &w->in.team), WHACO_OK);
    assert_true(w->st.n_bottlenecks >= 1);
    assert_true(w->st.n_mentoring >= 1);
}

static void world_release(struct world *w)
{
    whaco_team_status_release(&w->st);
    whaco_intel_release(&w->in);
}

static void json__analysis_has_the_seed_fields(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    char *ts = json_team_status_short(&w.in.team, &w.st);
    assert_non_null(ts);
    json_t *doc = reparse(json_analysis(&w.normal, ts));
    free(ts);

    CHECK_KEYS(doc, analysis_keys);
    json_t *ca = json_object_get(doc, "customerAnalysis");
    CHECK_KEYS(ca, customer_analysis_keys);
    const struct whaco_profile *p = whaco_profile(w.normal.segment.cluster_id);
    assert_int_equal(json_integer_value(json_object_get(ca, "clusterId")),
                     w.normal.segment.cluster_id);
    assert_string_equal(str(ca, "clusterName"), p->name);
    assert_string_equal(str(ca, "clusterDescription"), p->description);
    assert_string_equal(str(ca, "recommendedApproach"), p->approach);
    assert_true(json_is_false(json_object_get(ca, "isOutlier")));
    assert_true(json_is_null(json_object_get(ca, "outlierReason")));
    assert_true(fabs(number(ca, "priorityScore") - p->priority) < 1e-9);
    assert_true(fabs(number(ca, "confidence") - w.normal.segment.confidence) < 1e-5);
    assert_string_equal(str(doc, "assignedTo"), w.normal.assigned_id);

    CHECK_KEYS(json_object_get(doc, "teamStatus"), team_short_keys);
    check_team_short(json_object_get(doc, "teamStatus"), &w.in.team, &w.st);

    json_t *actions = json_object_get(doc, "recommendedActions");
    assert_int_equal(json_array_size(actions), w.normal.n_actions);
    for (size_t i = 0; i < json_array_size(actions); i++)
        assert_string_equal(json_string_value(json_array_get(actions, i)), w.normal.actions[i]);
    json_decref(doc);

    /* The outlier: the seed's reason text. */
    doc = reparse(json_analysis(&w.outlier, NULL));
    ca = json_object_get(doc, "customerAnalysis");
    CHECK_KEYS(ca, customer_analysis_keys);
    assert_true(json_is_true(json_object_get(ca, "isOutlier")));
    char reason[512];
    whaco_reason_format(w.outlier.segment.reasons, w.outlier.segment.n_reasons, reason,
                        sizeof reason);
    assert_string_equal(str(ca, "outlierReason"), reason);
    assert_non_null(strstr(reason, "significantly different"));
    /* No status given: teamStatus is null rather than broken JSON. */
    assert_true(json_is_null(json_object_get(doc, "teamStatus")));
    json_decref(doc);
    world_release(&w);
}

static void json__analysis_with_an_empty_team_warns(void **state)
{
    (void)state;
    struct whaco_intel in;
    struct whaco_analysis an;
    struct whaco_customer c = prime();
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_analyze(&in, &c, T0, &an, NULL), WHACO_OK);
    assert_int_equal(an.assign_rc, WHACO_E_EMPTY_TEAM);

    char *ts = json_team_status_short(&in.team, NULL);
    json_t *doc = reparse(json_analysis(&an, ts));
    CHECK_KEYS(doc, analysis_empty_keys);
    assert_string_equal(str(doc, "warning"), "No salespeople in network");
    json_t *t = json_object_get(doc, "teamStatus");
    CHECK_KEYS(t, team_short_empty_keys);
    assert_true(number(t, "coherence") == 0.0);
    assert_string_equal(str(t, "status"), "critical");
    assert_int_equal(json_integer_value(json_object_get(t, "totalSalespeople")), 0);
    assert_int_equal(json_array_size(json_object_get(t, "bottlenecks")), 0);
    assert_int_equal(json_array_size(json_object_get(t, "mentoringOpportunities")), 0);
    assert_string_equal(str(t, "message"), "No salespeople in network");
    json_decref(doc);
    /* The spliced text is the short status, verbatim as JSON. */
    json_t *alone = reparse(ts);
    json_decref(alone);

    /* Full status and salespeople of an empty team (also with t NULL). */
    doc = reparse(json_team_status(&in.team, NULL, NULL));
    CHECK_KEYS(doc, team_full_empty_keys);
    assert_int_equal(json_array_size(json_object_get(doc, "teamMembers")), 0);
    assert_true(number(doc, "meanPhase") == 0.0);
    json_decref(doc);
    doc = reparse(json_team_status(NULL, NULL, NULL));
    CHECK_KEYS(doc, team_full_empty_keys);
    json_decref(doc);
    doc = reparse(json_salespeople(&in.team, NULL));
    CHECK_KEYS(doc, salespeople_keys);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 0);
    json_decref(doc);
    whaco_intel_release(&in);
}

static void json__team_status_has_the_seed_fields(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    json_t *doc = reparse(json_team_status(&w.in.team, &w.st, &w.in.floor));
    CHECK_KEYS(doc, team_full_keys);
    check_team_short(doc, &w.in.team, &w.st);
    assert_true(fabs(number(doc, "meanPhase") - w.st.psi) < 1e-5);

    json_t *bn = json_object_get(doc, "bottlenecks");
    assert_int_equal(json_array_size(bn), w.st.n_bottlenecks);
    int overloaded = 0;
    for (size_t i = 0; i < json_array_size(bn); i++) {
        json_t *b = json_array_get(bn, i);
        CHECK_KEYS(b, bottleneck_keys);
        assert_true(one_of(str(b, "issue"), issues));
        if (!strcmp(str(b, "salespersonId"), "sp-456")) {
            overloaded = 1;
            assert_string_equal(str(b, "name"), "John Doe");
            assert_string_equal(str(b, "issue"), "Overloaded - too many active deals");
            assert_int_equal(json_integer_value(json_object_get(b, "activeDeals")), 12);
        }
    }
    assert_true(overloaded);

    json_t *mo = json_object_get(doc, "mentoringOpportunities");
    assert_int_equal(json_array_size(mo), w.st.n_mentoring);
    int jane_bob = 0;
    for (size_t i = 0; i < json_array_size(mo); i++) {
        json_t *m = json_array_get(mo, i);
        CHECK_KEYS(m, mentoring_keys);
        assert_true(number(m, "skillGap") > 0.0);
        if (!strcmp(str(m, "menteeId"), "sp-789")) {
            jane_bob = 1;
            assert_string_equal(str(m, "mentorId"), "sp-123");
            assert_string_equal(str(m, "mentorName"), "Jane Smith");
            assert_string_equal(str(m, "menteeName"), "Bob Johnson");
            assert_string_equal(str(m, "recommendation"),
                                "Jane Smith can help Bob Johnson move deals faster");
            assert_true(fabs(number(m, "skillGap") - 0.5) < 1e-6);
        }
    }
    assert_true(jane_bob);

    json_t *members = json_object_get(doc, "teamMembers");
    assert_int_equal(json_array_size(members), w.in.team.n);
    for (size_t i = 0; i < json_array_size(members); i++) {
        json_t *m = json_array_get(members, i);
        CHECK_KEYS(m, member_keys);
        assert_string_equal(str(m, "id"), w.in.team.members[i].id);
        assert_true(one_of(str(m, "status"), member_states));
        assert_string_equal(str(m, "status"), whaco_member_state_name(w.st.members[i].state));
        assert_true(one_of(str(m, "phaseLabel"), phase_labels));
    }
    assert_string_equal(str(json_array_get(members, 2), "status"), "overloaded");
    json_decref(doc);

    /* The short form is the first five keys of the full one. */
    doc = reparse(json_team_status_short(&w.in.team, &w.st));
    CHECK_KEYS(doc, team_short_keys);
    json_decref(doc);

    doc = reparse(json_salespeople(&w.in.team, &w.st));
    CHECK_KEYS(doc, salespeople_keys);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 5);
    json_t *list = json_object_get(doc, "salespeople");
    assert_int_equal(json_array_size(list), 5);
    for (size_t i = 0; i < 5; i++) {
        json_t *m = json_array_get(list, i);
        CHECK_KEYS(m, salesperson_keys);
        assert_true(one_of(str(m, "status"), member_states));
    }
    /* Leads assigned by the two analyses show. */
    json_int_t leads = 0;
    for (size_t i = 0; i < 5; i++)
        leads += json_integer_value(json_object_get(json_array_get(list, i), "leadsToday"));
    assert_int_equal(leads, 2);
    json_decref(doc);
    world_release(&w);
}

static void json__phase_labels_split_the_cycle_in_quarters(void **state)
{
    (void)state;
    static const struct {
        double phase;
        const char *label;
    } cases[] = {
        {0.0, "ready"},
        {PI / 4.0 - 1e-9, "ready"},
        {PI / 4.0, "negotiating"},
        {PI / 2.0, "negotiating"},
        {3.0 * PI / 4.0 - 1e-9, "negotiating"},
        {3.0 * PI / 4.0, "closing"},
        {PI, "closing"},
        {5.0 * PI / 4.0, "paperwork"},
        {3.0 * PI / 2.0, "paperwork"},
        {7.0 * PI / 4.0 - 1e-9, "paperwork"},
        {7.0 * PI / 4.0, "ready"},
        {2.0 * PI - 1e-9, "ready"},
    };
    size_t n = sizeof cases / sizeof cases[0];
    struct whaco_intel in;
    struct whaco_team_status st;
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    for (size_t i = 0; i < n; i++) {
        char id[16];
        snprintf(id, sizeof id, "sp-%zu", i);
        add_member(&in, id, "Member", 0.5, cases[i].phase, 0);
    }
    whaco_team_status_init(&st);
    assert_int_equal(whaco_team_status_compute(&st, &in.team), WHACO_OK);
    json_t *doc = reparse(json_team_status(&in.team, &st, NULL));
    json_t *members = json_object_get(doc, "teamMembers");
    assert_int_equal(json_array_size(members), n);
    for (size_t i = 0; i < n; i++) {
        json_t *m = json_array_get(members, i);
        if (strcmp(str(m, "phaseLabel"), cases[i].label))
            fail_msg("phase %.12f: %s, expected %s", cases[i].phase, str(m, "phaseLabel"),
                     cases[i].label);
    }
    json_decref(doc);
    whaco_team_status_release(&st);
    whaco_intel_release(&in);
}

static void json__segments_have_the_seed_fields(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    json_t *doc = reparse(json_customer_segments(&w.in.seg, &w.in.learn));
    assert_int_equal(json_object_size(doc), 1);
    json_t *s = json_object_get(doc, "segments");
    CHECK_KEYS(s, segments_keys);
    assert_int_equal(json_integer_value(json_object_get(s, "totalCustomersProcessed")), 2);
    assert_int_equal(json_integer_value(json_object_get(s, "outliersDetected")), 1);
    json_t *clusters = json_object_get(s, "clusters");
    assert_int_equal(json_array_size(clusters), WHACO_CLUSTERS);
    for (size_t k = 0; k < WHACO_CLUSTERS; k++) {
        json_t *c = json_array_get(clusters, k);
        CHECK_KEYS(c, cluster_keys);
        assert_int_equal(json_integer_value(json_object_get(c, "id")), k);
        json_t *prof = json_object_get(c, "profile");
        CHECK_KEYS(prof, profile_keys);
        assert_string_equal(str(prof, "name"), whaco_profile((int)k)->name);
        json_t *centroid = json_object_get(c, "centroid");
        assert_int_equal(json_array_size(centroid), WHACO_FEATURES);
        for (size_t j = 0; j < WHACO_FEATURES; j++)
            assert_true(json_is_number(json_array_get(centroid, j)));
    }
    json_t *names = json_object_get(s, "featureNames");
    json_t *weights = json_object_get(s, "featureWeights");
    assert_int_equal(json_array_size(names), WHACO_FEATURES);
    assert_int_equal(json_array_size(weights), WHACO_FEATURES);
    for (size_t j = 0; j < WHACO_FEATURES; j++) {
        assert_string_equal(json_string_value(json_array_get(names, j)),
                            whaco_feature_name((int)j));
        assert_true(json_is_number(json_array_get(weights, j)));
    }
    json_decref(doc);

    /* The bare summary is the same object. */
    char *a = json_segments_summary(&w.in.seg, &w.in.learn),
         *b = json_customer_segments(&w.in.seg, &w.in.learn);
    assert_non_null(strstr(b, a));
    free(a);
    free(b);
    world_release(&w);
}

static void json__anomalies_have_the_seed_fields(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    json_t *doc = reparse(json_anomalies(&w.in.seg, 20));
    CHECK_KEYS(doc, anomalies_keys);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 1);
    json_t *list = json_object_get(doc, "anomalies");
    assert_int_equal(json_array_size(list), 1);
    json_t *a = json_array_get(list, 0);
    CHECK_KEYS(a, anomaly_keys);
    assert_string_equal(str(a, "timestamp"), "2025-01-17T14:30:01.500Z");
    assert_string_equal(str(a, "customerId"), "cust_999");
    json_t *f = json_object_get(a, "features");
    CHECK_KEYS(f, features_keys);
    /* Whole inputs are exact integers, as in the seed's example. */
    assert_true(json_is_integer(json_object_get(f, "ficoScore")));
    assert_int_equal(json_integer_value(json_object_get(f, "ficoScore")), 420);
    assert_int_equal(json_integer_value(json_object_get(f, "income")), 2000000);
    assert_int_equal(json_integer_value(json_object_get(f, "vehiclePrice")), 28000);
    assert_true(number(f, "downPaymentPercent") == 0.0);
    assert_true(fabs(number(f, "engagement") - 0.7) < 1e-9);
    assert_int_equal(json_integer_value(json_object_get(a, "clusterId")),
                     w.outlier.segment.cluster_id);
    assert_string_equal(str(a, "clusterName"), whaco_profile(w.outlier.segment.cluster_id)->name);
    char reason[512];
    whaco_reason_format(w.outlier.segment.reasons, w.outlier.segment.n_reasons, reason,
                        sizeof reason);
    assert_string_equal(str(a, "reason"), reason);
    json_decref(doc);

    /* limit 0, and the single anomaly alone. */
    doc = reparse(json_anomalies(&w.in.seg, 0));
    assert_int_equal(json_array_size(json_object_get(doc, "anomalies")), 0);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 1);
    json_decref(doc);
    doc = reparse(json_anomaly(whaco_segment_anomaly(&w.in.seg, 0)));
    CHECK_KEYS(doc, anomaly_keys);
    json_decref(doc);

    /* Insights: full team status, summary and the anomalies. */
    doc = reparse(json_insights(&w.in, &w.st, 20));
    CHECK_KEYS(doc, insights_keys);
    CHECK_KEYS(json_object_get(doc, "teamStatus"), team_full_keys);
    CHECK_KEYS(json_object_get(doc, "customerSegments"), segments_keys);
    assert_int_equal(json_array_size(json_object_get(doc, "recentAnomalies")), 1);
    CHECK_KEYS(json_array_get(json_object_get(doc, "recentAnomalies"), 0), anomaly_keys);
    json_decref(doc);
    world_release(&w);
}

/*
 * missingFields lists the unknown fields by their API names (always there,
 * [] when all are known), in the answer and the analyzed-customer event; an
 * anomaly's unknown features are null.
 */
static void json__unknown_fields_in_answers_events_and_anomalies(void **state)
{
    (void)state;
    struct whaco_intel in;
    struct whaco_analysis an;
    struct whaco_customer c = prime();
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);

    assert_int_equal(whaco_intel_analyze(&in, &c, T0, &an, NULL), WHACO_OK);
    json_t *doc = reparse(json_analysis(&an, NULL));
    json_t *mf = json_object_get(json_object_get(doc, "customerAnalysis"), "missingFields");
    assert_true(json_is_array(mf));
    assert_int_equal(json_array_size(mf), 0);
    json_decref(doc);

    c.missing = WHACO_FIELD_ENGAGEMENT | WHACO_FIELD_CREDIT_SCORE | WHACO_FIELD_TIME_ON_LOT;
    c.credit_score = c.time_on_lot = c.engagement = 0;
    assert_int_equal(whaco_intel_analyze(&in, &c, T0 + 1000, &an, NULL), WHACO_OK);
    static const char *const want[] = {"creditScore", "timeOnLot", "engagement"};
    doc = reparse(json_analysis(&an, NULL));
    mf = json_object_get(json_object_get(doc, "customerAnalysis"), "missingFields");
    assert_int_equal(json_array_size(mf), 3);
    for (size_t i = 0; i < 3; i++)
        assert_string_equal(json_string_value(json_array_get(mf, i)), want[i]);
    json_decref(doc);
    doc = reparse(json_event_analyzed(&an, c.id, T0 + 1000));
    mf = json_object_get(doc, "missingFields");
    assert_int_equal(json_array_size(mf), 3);
    assert_string_equal(json_string_value(json_array_get(mf, 2)), "engagement");
    json_decref(doc);

    /* An outlier known by its income and price only. */
    struct whaco_customer odd = {.id = "odd", .annual_income = 5e6, .vehicle_price = 400000};
    odd.missing = WHACO_FIELDS_ALL & ~(WHACO_FIELD_ANNUAL_INCOME | WHACO_FIELD_VEHICLE_PRICE);
    assert_int_equal(whaco_intel_analyze(&in, &odd, T0 + 2000, &an, NULL), WHACO_OK);
    assert_true(an.segment.is_outlier);
    doc = reparse(json_anomaly(whaco_segment_anomaly(&in.seg, 0)));
    CHECK_KEYS(doc, anomaly_keys);
    json_t *f = json_object_get(doc, "features");
    assert_int_equal(json_object_size(f), 9); /* the features_keys, some null */
    assert_int_equal(json_integer_value(json_object_get(f, "income")), 5000000);
    assert_int_equal(json_integer_value(json_object_get(f, "vehiclePrice")), 400000);
    static const char *const nulls[] = {"ficoScore",  "downPayment", "downPaymentPercent",
                                        "tradeValue", "visitCount",  "timeOnLot",
                                        "engagement"};
    for (size_t i = 0; i < sizeof nulls / sizeof nulls[0]; i++)
        if (!json_is_null(json_object_get(f, nulls[i])))
            fail_msg("%s is not null", nulls[i]);
    json_decref(doc);
    whaco_intel_release(&in);
}

static void json__anomaly_ring_is_listed_newest_first_up_to_limit(void **state)
{
    (void)state;
    struct whaco_intel in;
    struct whaco_analysis an;
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    for (int i = 0; i < 30; i++) {
        struct whaco_customer c = {"", 420, 2000000, 28000.5, 0, 0, 40, 900, 0.1, 0};
        snprintf(c.id, sizeof c.id, "odd-%d", i);
        assert_int_equal(whaco_intel_analyze(&in, &c, T0 + i * MINUTE, &an, NULL), WHACO_OK);
        assert_true(an.segment.is_outlier);
    }
    json_t *doc = reparse(json_anomalies(&in.seg, 20));
    json_t *list = json_object_get(doc, "anomalies");
    assert_int_equal(json_array_size(list), 20);
    assert_int_equal(json_integer_value(json_object_get(doc, "total")), 30);
    assert_string_equal(str(json_array_get(list, 0), "customerId"), "odd-29");
    assert_string_equal(str(json_array_get(list, 19), "customerId"), "odd-10");
    /* A non-whole price stays a real. */
    json_t *f = json_object_get(json_array_get(list, 0), "features");
    assert_true(json_is_real(json_object_get(f, "vehiclePrice")));
    assert_true(number(f, "vehiclePrice") == 28000.5);
    json_decref(doc);
    doc = reparse(json_anomalies(&in.seg, 256));
    assert_int_equal(json_array_size(json_object_get(doc, "anomalies")), 30);
    json_decref(doc);
    whaco_intel_release(&in);
}

static void json__coherence_history_samples(void **state)
{
    (void)state;
    struct world w;
    struct whaco_coherence_sample samples[16];
    world_init(&w);
    for (int i = 1; i <= 3; i++)
        assert_int_equal(whaco_intel_tick(&w.in, T0 + i * 5 * MINUTE), WHACO_OK);
    size_t n = whaco_team_history_since(&w.in.team, T0, samples, 16);
    assert_int_equal(n, 3);
    json_t *doc = reparse(json_coherence_history(24, samples, n));
    CHECK_KEYS(doc, history_keys);
    assert_true(json_is_integer(json_object_get(doc, "hours")));
    assert_int_equal(json_integer_value(json_object_get(doc, "hours")), 24);
    json_t *list = json_object_get(doc, "samples");
    assert_int_equal(json_array_size(list), 3);
    for (size_t i = 0; i < 3; i++) {
        json_t *s = json_array_get(list, i);
        CHECK_KEYS(s, sample_keys);
        assert_true(fabs(number(s, "coherence") - samples[i].r) < 1e-5);
    }
    assert_string_equal(str(json_array_get(list, 0), "timestamp"), "2025-01-17T14:35:00.000Z");
    json_decref(doc);
    doc = reparse(json_coherence_history(1.5, NULL, 0));
    assert_true(number(doc, "hours") == 1.5);
    assert_int_equal(json_array_size(json_object_get(doc, "samples")), 0);
    json_decref(doc);
    world_release(&w);
}

static void json__acknowledgements(void **state)
{
    (void)state;
    struct whaco_event ev;
    struct api_error e;
    const char *body = "{\"salespersonId\":\"sp-123\",\"dealId\":\"deal-456\"}";
    assert_int_equal(json_parse_deal_closed(body, strlen(body), &ev, &e), 0);
    ev.time_ms = 1737124500000; /* the seed's 14:35 */
    json_t *doc = reparse(json_deal_recorded(&ev));
    CHECK_KEYS(doc, deal_keys);
    assert_string_equal(str(doc, "status"), "recorded");
    assert_string_equal(str(doc, "salespersonId"), "sp-123");
    assert_string_equal(str(doc, "dealId"), "deal-456");
    assert_string_equal(str(doc, "timestamp"), "2025-01-17T14:35:00.000Z");
    json_decref(doc);
    ev.deal_id[0] = '\0';
    doc = reparse(json_deal_recorded(&ev));
    CHECK_KEYS(doc, deal_keys);
    assert_true(json_is_null(json_object_get(doc, "dealId")));
    json_decref(doc);

    body = "{\"id\":\"sp-999\",\"name\":\"New Salesperson\",\"skillLevel\":0.6}";
    assert_int_equal(json_parse_add_salesperson(body, strlen(body), &ev, &e), 0);
    char *s = json_salesperson_added(&ev);
    assert_string_equal(s, "{\"status\":\"added\",\"id\":\"sp-999\",\"name\":\"New Salesperson\"}");
    free(s);
    doc = reparse(json_salesperson_added(&ev));
    CHECK_KEYS(doc, added_keys);
    json_decref(doc);
    s = json_salesperson_removed("sp-999");
    assert_string_equal(s, "{\"status\":\"removed\",\"id\":\"sp-999\"}");
    free(s);
    doc = reparse(json_salesperson_removed("sp-999"));
    CHECK_KEYS(doc, removed_keys);
    json_decref(doc);
    s = json_reset_done(T0);
    assert_string_equal(s, "{\"status\":\"reset\",\"timestamp\":\"2025-01-17T14:30:00.000Z\"}");
    free(s);
    doc = reparse(json_reset_done(T0));
    CHECK_KEYS(doc, reset_keys);
    json_decref(doc);
}

static void json__errors_render(void **state)
{
    (void)state;
    struct api_error e;
    api_error_from_whaco(&e, WHACO_E_CREDIT_SCORE_RANGE, "creditScore");
    assert_int_equal(e.status, 400);
    assert_string_equal(e.code, "CREDIT_SCORE_RANGE");
    assert_string_equal(e.message, "creditScore must be between 300 and 850");
    char *s = json_error(&e);
    assert_string_equal(s, "{\"error\":{\"code\":\"CREDIT_SCORE_RANGE\",\"message\":\"creditScore "
                           "must be between 300 and 850\",\"field\":\"creditScore\"}}");
    free(s);
    json_t *doc = reparse(json_error(&e));
    CHECK_KEYS(json_object_get(doc, "error"), error_keys);
    json_decref(doc);

    api_error_set(&e, 404, "NOT_FOUND", NULL, "salesperson %s not found", "sp-1");
    doc = reparse(json_error(&e));
    assert_int_equal(json_object_size(doc), 1);
    json_t *err = json_object_get(doc, "error");
    CHECK_KEYS(err, error_nofield_keys);
    assert_string_equal(str(err, "message"), "salesperson sp-1 not found");
    json_decref(doc);

    /* A message cut inside a UTF-8 sequence, quotes and control
     * characters still make valid JSON. */
    char longtext[sizeof e.message + 144]; /* longer than any message */
    size_t n = 0;
    while (n + 2 < sizeof longtext) {
        memcpy(longtext + n, "\xc3\xa9", 2);
        n += 2;
    }
    longtext[n] = '\0';
    api_error_set(&e, 400, "X", "f", "\"%s", longtext);
    assert_int_equal(strlen(e.message), sizeof e.message - 1);
    doc = reparse(json_error(&e));
    json_decref(doc);
    api_error_set(&e, 400, "X", NULL, "tab\there \"quoted\" \\ \x01");
    doc = reparse(json_error(&e));
    assert_string_equal(str(json_object_get(doc, "error"), "message"),
                        "tab\there \"quoted\" \\ \x01");
    json_decref(doc);
}

static void json__iso8601(void **state)
{
    (void)state;
    char buf[32];
    json_iso8601(1737124200000, buf);
    assert_string_equal(buf, "2025-01-17T14:30:00.000Z");
    json_iso8601(0, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.000Z");
    json_iso8601(999, buf);
    assert_string_equal(buf, "1970-01-01T00:00:00.999Z");
    json_iso8601(1737124200999, buf);
    assert_string_equal(buf, "2025-01-17T14:30:00.999Z");
    json_iso8601(-1, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.999Z");
    json_iso8601(-1000, buf);
    assert_string_equal(buf, "1969-12-31T23:59:59.000Z");
    json_iso8601(951782400000, buf); /* a leap day */
    assert_string_equal(buf, "2000-02-29T00:00:00.000Z");
    json_iso8601(INT64_MAX, buf);
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
    json_iso8601(INT64_MIN, buf);
    assert_string_equal(buf, "0000-01-01T00:00:00.000Z");
    json_iso8601(253402300800000, buf); /* one ms past the clamp */
    assert_string_equal(buf, "9999-12-31T23:59:59.999Z");
}

static void json__reals_have_six_significant_digits(void **state)
{
    (void)state;
    struct whaco_coherence_sample s[2] = {{T0, 0.123456789}, {T0, 1.0}};
    char *out = json_coherence_history(168, s, 2);
    assert_non_null(out);
    assert_non_null(strstr(out, "\"hours\":168,"));
    assert_non_null(strstr(out, "\"coherence\":0.123457}"));
    assert_non_null(strstr(out, "\"coherence\":1.0}"));
    free(out);
    /* NaN cannot be JSON: it becomes null instead of a missing key. */
    s[0].r = NAN;
    json_t *doc = reparse(json_coherence_history(INFINITY, s, 1));
    assert_true(json_is_null(json_object_get(doc, "hours")));
    assert_true(json_is_null(
        json_object_get(json_array_get(json_object_get(doc, "samples"), 0), "coherence")));
    json_decref(doc);
}

/*==== Out of memory ====*/

static long alloc_budget = -1; /* allocations left; -1 unlimited */

static void *budget_malloc(size_t n)
{
    if (alloc_budget == 0)
        return NULL;
    if (alloc_budget > 0)
        alloc_budget--;
    return malloc(n);
}

static void budget_free(void *p)
{
    free(p);
}

static void json__out_of_memory_gives_null_or_an_error_and_no_leak(void **state)
{
    (void)state;
    struct world w;
    world_init(&w);
    char *ts = json_team_status_short(&w.in.team, &w.st);
    json_set_alloc_funcs(budget_malloc, budget_free);
    int ok_seen = 0;
    for (long budget = 0; budget < 100000 && !ok_seen; budget++) {
        alloc_budget = budget;
        char *a = json_insights(&w.in, &w.st, 20);
        char *b = json_analysis(&w.normal, ts);
        ok_seen = a && b;
        free(a);
        free(b);
    }
    assert_true(ok_seen);
    ok_seen = 0;
    for (long budget = 0; budget < 1000 && !ok_seen; budget++) {
        struct whaco_event ev;
        struct api_error e;
        alloc_budget = budget;
        int rc = json_parse_analyze(seed_analyze, strlen(seed_analyze), &ev, &e);
        /* jansson's lexer reports some allocation failures as syntax
         * errors; the rest are 503 OUT_OF_MEMORY. Either way: no crash, no
         * leak, a filled error. */
        if (rc != 0 && strcmp(e.code, "INVALID_JSON") &&
            (e.status != 503 || strcmp(e.code, "OUT_OF_MEMORY")))
            fail_msg("budget %ld: %d %s %s", budget, e.status, e.code, e.message);
        ok_seen = rc == 0;
    }
    assert_true(ok_seen);
    alloc_budget = -1;
    json_set_alloc_funcs(malloc, free);
    free(ts);
    world_release(&w);
}

/*==== api/openapi.json ====*/

static void json__openapi_describes_every_endpoint(void **state)
{
    (void)state;
    static const char *const paths[] = {"/api/intelligence/analyze-customer",
                                        "/api/intelligence/team-status",
                                        "/api/intelligence/customer-segments",
                                        "/api/intelligence/anomalies",
                                        "/api/intelligence/deal-closed",
                                        "/api/intelligence/insights",
                                        "/api/intelligence/add-salesperson",
                                        "/api/intelligence/salesperson/{id}",
                                        "/api/intelligence/reset",
                                        "/api/intelligence/salespeople",
                                        "/api/intelligence/coherence-history",
                                        "/healthz",
                                        "/metrics",
                                        "/api/openapi.json",
                                        NULL};
    json_error_t err;
    json_t *doc =
        json_load_file(WHACO_SOURCE_DIR "/api/openapi.json", JSON_REJECT_DUPLICATES, &err);
    if (!doc)
        fail_msg("api/openapi.json line %d column %d: %s", err.line, err.column, err.text);
    assert_string_equal(str(doc, "openapi"), "3.0.3");
    json_t *p = json_object_get(doc, "paths");
    assert_true(json_is_object(p));
    for (size_t i = 0; paths[i]; i++)
        if (!json_is_object(json_object_get(p, paths[i])))
            fail_msg("api/openapi.json lacks %s", paths[i]);
    json_t *schemes = json_object_get(json_object_get(doc, "components"), "securitySchemes");
    assert_true(json_is_object(schemes));
    json_t *bearer = json_object_get(schemes, "bearerAuth");
    assert_string_equal(str(bearer, "type"), "http");
    assert_string_equal(str(bearer, "scheme"), "bearer");
    /* The status enums match the core's strings. */
    json_t *schemas = json_object_get(json_object_get(doc, "components"), "schemas");
    json_t *band = json_object_get(json_object_get(schemas, "CoherenceBand"), "enum");
    assert_int_equal(json_array_size(band), 4);
    for (int b = 0; b < 4; b++)
        assert_string_equal(json_string_value(json_array_get(band, (size_t)b)),
                            whaco_team_band_name(b));
    json_t *states = json_object_get(json_object_get(schemas, "MemberStatus"), "enum");
    assert_int_equal(json_array_size(states), 6);
    for (int s = 0; s < 6; s++)
        assert_string_equal(json_string_value(json_array_get(states, (size_t)s)),
                            whaco_member_state_name(s));
    json_t *iss = json_object_get(json_object_get(schemas, "BottleneckIssue"), "enum");
    assert_int_equal(json_array_size(iss), 3);
    for (int s = 1; s <= 3; s++)
        assert_string_equal(json_string_value(json_array_get(iss, (size_t)s - 1)),
                            whaco_team_issue_text(s));
    json_decref(doc);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(json__seed_analyze_request_fills_the_event),
        cmocka_unit_test(json__analyze_defaults_tradevalue_and_customerid),
        cmocka_unit_test(json__unknown_fields_are_absent_or_null),
        cmocka_unit_test(json__seed_deal_closed_request_fills_the_event),
        cmocka_unit_test(json__seed_add_salesperson_request_fills_the_event),
        cmocka_unit_test(json__bad_bodies_get_exact_codes_and_fields),
        cmocka_unit_test(json__error_messages_name_the_problem),
        cmocka_unit_test(json__deep_nesting_is_rejected_without_crashing),
        cmocka_unit_test(json__analysis_has_the_seed_fields),
        cmocka_unit_test(json__analysis_with_an_empty_team_warns),
        cmocka_unit_test(json__team_status_has_the_seed_fields),
        cmocka_unit_test(json__phase_labels_split_the_cycle_in_quarters),
        cmocka_unit_test(json__segments_have_the_seed_fields),
        cmocka_unit_test(json__anomalies_have_the_seed_fields),
        cmocka_unit_test(json__unknown_fields_in_answers_events_and_anomalies),
        cmocka_unit_test(json__anomaly_ring_is_listed_newest_first_up_to_limit),
        cmocka_unit_test(json__coherence_history_samples),
        cmocka_unit_test(json__acknowledgements),
        cmocka_unit_test(json__errors_render),
        cmocka_unit_test(json__iso8601),
        cmocka_unit_test(json__reals_have_six_significant_digits),
        cmocka_unit_test(json__out_of_memory_gives_null_or_an_error_and_no_leak),
        cmocka_unit_test(json__openapi_describes_every_endpoint),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

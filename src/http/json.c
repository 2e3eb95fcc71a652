/*
 * http/json.c: the JSON mapping of the HTTP API (http/json.h), on jansson.
 *
 * Requests. A body is parsed with json_loadb(JSON_REJECT_DUPLICATES |
 * JSON_DECODE_ANY): jansson itself refuses malformed text, trailing garbage,
 * invalid UTF-8, "\u0000", NaN/Infinity literals, numbers that overflow a
 * double (1e999) or an int64, duplicate keys and nesting deeper than
 * JSON_PARSER_MAX_DEPTH (2048) -- all INVALID_JSON with jansson's line and
 * column. JSON_DECODE_ANY lets a bare scalar parse so that it is reported as
 * what it is, NOT_AN_OBJECT, like a top-level array. Fields are then read in
 * the order of the API Reference; the first structural problem wins
 * (MISSING_FIELD, WRONG_TYPE, NOT_INTEGER, ID_LENGTH for a string too long
 * to copy), and only a structurally complete request reaches the core's
 * value check (whaco_customer_check, whaco_member_spec_check), whose first
 * error in field order is reported. A JSON null counts as absent: the
 * default for an optional field, MISSING_FIELD for a required one. The
 * exception is analyze-customer's eight numbers, of which any may be
 * unknown: absent or null is unknown (the customer's `missing` set), but
 * for an absent tradeValue, which keeps the seed's meaning, no trade-in (0);
 * a customer with no known feature is NO_KNOWN_FEATURE, with no field.
 * Unknown fields are ignored. Out-parameters are written only on success.
 *
 * Responses. Documents are built as jansson values and dumped with
 * JSON_COMPACT | JSON_REAL_PRECISION(6); keys keep insertion order (jansson
 * 2.14), which is the order of the seed's examples. Two choices keep the
 * output exact and always valid:
 *   - echoed inputs measured in dollars, points or minutes (creditScore,
 *     money, timeOnLot, hours) are written as JSON integers when they are
 *     whole and within 2^53 (150000, not 150000.0 or 1.5e+05); computed
 *     values (coherence, phases, scores, shares) are reals, at most 6
 *     significant digits;
 *   - jansson cannot represent NaN or infinity, and refuses strings that are
 *     not UTF-8: a non-finite number is written as null and a string with
 *     invalid UTF-8 (only possible from a corrupt state) has its non-ASCII
 *     bytes replaced by '?'. Neither happens with validated state.
 * Every jansson constructor can fail on out-of-memory; builders track that
 * with a flag and return NULL rather than a document with holes.
 *
 * Memory: json_alloc_init() points jansson's allocator at whaco_malloc and
 * whaco_free (whaco/alloc.h), so injected allocation failures reach jansson
 * too (tests/unit/test_oom.c). Strings returned by the builders come from
 * json_dumps, i.e. that allocator: the caller frees them with free() or
 * whaco_free(). jansson's lexer can report a failed allocation as a syntax
 * error; load_object() tells the two apart with the calling thread's count
 * of failed allocations. No static mutable state besides the once-flag of
 * json_alloc_init: thread-safe.
 */
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <jansson.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/experiment.h"
#include "whaco/floor.h"
#include "whaco/learn.h"
#include "whaco/intel.h"
#include "whaco/outcomes.h"
#include "whaco/segment.h"
#include "whaco/team.h"
#include "whaco/utf8.h"
#include "http/json.h"
#include "banned.h"

#define DUMP_FLAGS         (JSON_COMPACT | JSON_REAL_PRECISION(6))
#define LOAD_FLAGS         (JSON_REJECT_DUPLICATES | JSON_DECODE_ANY)
#define EXACT_INT_MAX      9007199254740992.0  /* 2^53: doubles are exact integers below */
#define ISO_MIN_MS         (-62167219200000LL) /* 0000-01-01T00:00:00.000Z */
#define ISO_MAX_MS         253402300799999LL   /* 9999-12-31T23:59:59.999Z */
#define REASON_BUF         512                 /* > 8 reasons of the longest feature name */
#define RECOMMENDATION_BUF 512                 /* > two 127-byte names and the sentence */

/*==== Memory ====*/

static pthread_once_t alloc_once = PTHREAD_ONCE_INIT;

static void route_jansson_alloc(void)
{
    json_set_alloc_funcs(whaco_malloc, whaco_free);
}

void json_alloc_init(void)
{
    pthread_once(&alloc_once, route_jansson_alloc);
}

/*==== Errors ====*/

void api_error_set(struct api_error *e, int status, const char *code, const char *field,
                   const char *fmt, ...)
{
    va_list ap;
    e->status = status;
    e->code = code;
    e->field = field;
    va_start(ap, fmt);
    vsnprintf(e->message, sizeof e->message, fmt, ap);
    va_end(ap);
}

void api_error_from_whaco(struct api_error *e, int whaco_err, const char *field)
{
    const char *msg = whaco_strerror(whaco_err);
    /* Shared messages ("money amounts must not be negative") get the field
     * in front, so every message names the field it is about. */
    if (field && strncmp(msg, field, strlen(field)) != 0)
        api_error_set(e, 400, whaco_errname(whaco_err), field, "%s: %s", field, msg);
    else
        api_error_set(e, 400, whaco_errname(whaco_err), field, "%s", msg);
}

/*==== Building documents ====*/

/* json_object_set_new, recording failure (a NULL value from an out-of-memory
 * constructor, or a failed insert) in *oom. Consumes v either way. */
static void put(json_t *o, const char *key, json_t *v, bool *oom)
{
    if (json_object_set_new(o, key, v) != 0)
        *oom = true;
}

/* json_array_append_new with the same bookkeeping. Consumes v. */
static void push(json_t *a, json_t *v, bool *oom)
{
    if (json_array_append_new(a, v) != 0)
        *oom = true;
}

/* A computed real; null if it is not finite (jansson has no NaN). */
static json_t *real(double x)
{
    return isfinite(x) ? json_real(x) : json_null();
}

/* An echoed input: an exact integer when whole and within 2^53, else a real. */
static json_t *num(double x)
{
    if (isfinite(x) && x == floor(x) && fabs(x) <= EXACT_INT_MAX)
        return json_integer((json_int_t)x);
    return real(x);
}

/* A counter; u64 values beyond the JSON integer range saturate. */
static json_t *count(uint64_t n)
{
    return json_integer(n > (uint64_t)INT64_MAX ? (json_int_t)INT64_MAX : (json_int_t)n);
}

/*
 * The string s[0..cap) up to its NUL (or all cap bytes), or null for NULL.
 * Invalid UTF-8 cannot be a JSON string: then the non-ASCII bytes become
 * '?'. Checking here (and creating with the _nocheck variant) keeps a NULL
 * result meaning out-of-memory only.
 */
static json_t *text_n(const char *s, size_t cap)
{
    if (!s)
        return json_null();
    const char *end = memchr(s, '\0', cap);
    size_t len = end ? (size_t)(end - s) : cap;
    if (whaco_utf8_valid(s, len))
        return json_stringn_nocheck(s, len);
    char *copy = whaco_malloc(len + 1);
    if (!copy)
        return NULL;
    for (size_t i = 0; i < len; i++)
        copy[i] = (unsigned char)s[i] < 0x80 ? s[i] : '?';
    json_t *v = json_stringn_nocheck(copy, len);
    whaco_free(copy);
    return v;
}

static json_t *text(const char *s)
{
    return s ? text_n(s, strlen(s) + 1) : json_null();
}

/* A timestamp string (json_iso8601). */
static json_t *iso(int64_t ms)
{
    char buf[32];
    json_iso8601(ms, buf);
    return json_string(buf);
}

/*
 * Dump root (consumed) as the builders' result: NULL if anything failed.
 * jansson's dumper can drop bytes it failed to allocate room for and still
 * return a (damaged) text, so a failed allocation during the dump, seen in
 * this thread's count, discards the text.
 */
static char *finish(json_t *root, bool oom)
{
    char *s = NULL;
    uint64_t failures = whaco_alloc_failures_here();
    if (root && !oom)
        s = json_dumps(root, DUMP_FLAGS);
    if (s && whaco_alloc_failures_here() != failures) {
        whaco_free(s);
        s = NULL;
    }
    json_decref(root);
    return s;
}

/* A one-key object {key: v} (v consumed). */
static char *wrap(const char *key, json_t *v, bool oom)
{
    json_t *root = json_object();
    put(root, key, v, &oom);
    return finish(root, oom);
}

/*==== Timestamps ====*/

void json_iso8601(int64_t ms, char buf[32])
{
    /* Clamp to the years 0000..9999 that the format can spell. */
    if (ms < ISO_MIN_MS)
        ms = ISO_MIN_MS;
    if (ms > ISO_MAX_MS)
        ms = ISO_MAX_MS;
    int64_t secs = ms / 1000;
    int millis = (int)(ms % 1000);
    if (millis < 0) { /* C division truncates: floor for times before 1970 */
        millis += 1000;
        secs -= 1;
    }
    time_t tt = (time_t)secs;
    struct tm tm;
    if ((int64_t)tt != secs || !gmtime_r(&tt, &tm)) {
        /* Only with a 32-bit time_t: say so rather than print a wrong date. */
        snprintf(buf, 32, "%s", secs < 0 ? "1901-12-13T20:45:52.000Z" : "2038-01-19T03:14:07.000Z");
        return;
    }
    /* The modulos bound each field for the compiler; after the clamp they
     * change nothing (tm_year + 1900 is 0..9999). */
    snprintf(buf, 32, "%04u-%02u-%02uT%02u:%02u:%02u.%03uZ", (unsigned)(tm.tm_year + 1900) % 10000u,
             (unsigned)(tm.tm_mon + 1) % 100u, (unsigned)tm.tm_mday % 100u,
             (unsigned)tm.tm_hour % 100u, (unsigned)tm.tm_min % 100u, (unsigned)tm.tm_sec % 100u,
             (unsigned)millis % 1000u);
}

/*==== Errors as JSON ====*/

char *json_error(const struct api_error *e)
{
    bool oom = false;
    json_t *err = json_object();
    put(err, "code", text(e->code ? e->code : "UNKNOWN"), &oom);
    put(err, "message", text_n(e->message, sizeof e->message), &oom);
    if (e->field)
        put(err, "field", text(e->field), &oom);
    return wrap("error", err, oom);
}

/*==== Requests ====*/

/* Parse body as a JSON object; NULL with *e filled otherwise. */
static json_t *load_object(const char *body, size_t len, struct api_error *e)
{
    json_error_t jerr;
    uint64_t failures = whaco_alloc_failures_here();
    json_t *root = json_loadb(body ? body : "", body ? len : 0, LOAD_FLAGS, &jerr);
    /* Out of memory is not the client's fault. jansson says so with its
     * error code, or (when its lexer cannot even start) with no error text.
     * But its lexer may also drop a byte it could not store, and then report
     * a syntax error or even return a document with a damaged string: so
     * any allocation that failed on this thread during the parse makes the
     * result untrustworthy and the failure ours. */
    bool oom = whaco_alloc_failures_here() != failures;
    if (oom ||
        (!root && (json_error_code(&jerr) == json_error_out_of_memory || jerr.text[0] == '\0'))) {
        json_decref(root);
        api_error_set(e, 503, "OUT_OF_MEMORY", NULL, "out of memory while reading the request");
        return NULL;
    }
    if (!root) {
        api_error_set(e, 400, "INVALID_JSON", NULL, "invalid JSON at line %d, column %d: %s",
                      jerr.line, jerr.column, jerr.text);
        return NULL;
    }
    if (!json_is_object(root)) {
        json_decref(root);
        api_error_set(e, 400, "NOT_AN_OBJECT", NULL, "the request body must be a JSON object");
        return NULL;
    }
    return root;
}

/*
 * o[name] in *out, or NULL when absent or null. A required field that is
 * absent fills *e (MISSING_FIELD) and returns -1.
 */
static int get(json_t *o, const char *name, bool required, json_t **out, struct api_error *e)
{
    json_t *v = json_object_get(o, name);
    if (json_is_null(v))
        v = NULL;
    if (!v && required) {
        api_error_set(e, 400, "MISSING_FIELD", name, "%s is required", name);
        return -1;
    }
    *out = v;
    return 0;
}

static int wrong_type(struct api_error *e, const char *name, const char *what)
{
    api_error_set(e, 400, "WRONG_TYPE", name, "%s must be %s", name, what);
    return -1;
}

/* A JSON number (integer or real) into *out, dflt when optional and absent. */
static int get_number(json_t *o, const char *name, bool required, double dflt, double *out,
                      struct api_error *e)
{
    json_t *v;
    if (get(o, name, required, &v, e) < 0)
        return -1;
    if (v && !json_is_number(v))
        return wrong_type(e, name, "a number");
    *out = v ? json_number_value(v) : dflt;
    return 0;
}

/*
 * A whole number within [lo, hi] into *out: a JSON integer, or a real with
 * an integral value (1 and 1.0 alike). Anything else, including a whole
 * number outside [lo, hi], is NOT_INTEGER.
 */
static int get_whole(json_t *o, const char *name, bool required, int64_t dflt, int64_t lo,
                     int64_t hi, int64_t *out, struct api_error *e)
{
    json_t *v;
    int64_t n = dflt;
    if (get(o, name, required, &v, e) < 0)
        return -1;
    if (v && !json_is_number(v))
        return wrong_type(e, name, "a number");
    if (json_is_integer(v)) {
        n = (int64_t)json_integer_value(v);
    } else if (v) {
        double d = json_real_value(v);
        /* Compare before converting: the bounds are exact doubles here. */
        if (d != floor(d) || d < (double)lo || d > (double)hi) {
            api_error_from_whaco(e, WHACO_E_NOT_INTEGER, name);
            return -1;
        }
        n = (int64_t)d;
    }
    if (n < lo || n > hi) {
        api_error_from_whaco(e, WHACO_E_NOT_INTEGER, name);
        return -1;
    }
    *out = n;
    return 0;
}

/* A JSON string into *out (borrowed from o) and its byte length. */
static int get_string(json_t *o, const char *name, bool required, const char **out, size_t *len,
                      struct api_error *e)
{
    json_t *v;
    if (get(o, name, required, &v, e) < 0)
        return -1;
    if (v && !json_is_string(v))
        return wrong_type(e, name, "a string");
    *out = v ? json_string_value(v) : NULL;
    *len = v ? json_string_length(v) : 0;
    return 0;
}

/*
 * Copy s[0..len) into dst[cap] if min_len <= len < cap; otherwise
 * ID_LENGTH for field. Strings from jansson hold no NUL (JSON_ALLOW_NUL is
 * off), so len is also their strlen.
 */
static int copy_id(char *dst, size_t cap, const char *s, size_t len, size_t min_len,
                   const char *field, int err, struct api_error *e)
{
    if (len < min_len || len >= cap) {
        api_error_from_whaco(e, err, field);
        return -1;
    }
    memcpy(dst, s, len);
    dst[len] = '\0';
    return 0;
}

/*
 * A customer's number field that may be unknown: absent or null sets bit in
 * *missing (and leaves *out 0), a number is read into *out. 0, or -1 with
 * *e filled (WRONG_TYPE).
 */
static int get_feature(json_t *o, const char *name, uint32_t bit, double *out, uint32_t *missing,
                       struct api_error *e)
{
    json_t *v = json_object_get(o, name);
    if (!v || json_is_null(v)) {
        *missing |= bit;
        return 0;
    }
    return get_number(o, name, true, 0.0, out, e);
}

int json_parse_analyze(const char *body, size_t len, struct whaco_event *ev, struct api_error *e)
{
    struct whaco_customer c;
    const char *id = NULL, *field = NULL;
    size_t id_len = 0;
    int64_t visits = 0;
    uint32_t missing = 0;
    int rc, err;

    json_t *root = load_object(body, len, e);
    if (!root)
        return -1;
    memset(&c, 0, sizeof c);
    rc = get_string(root, "customerId", false, &id, &id_len, e);
    if (rc == 0 && id)
        rc = copy_id(c.id, sizeof c.id, id, id_len, 1, "customerId", WHACO_E_ID_LENGTH, e);
    if (rc == 0)
        rc = get_feature(root, "creditScore", WHACO_FIELD_CREDIT_SCORE, &c.credit_score, &missing,
                         e);
    if (rc == 0)
        rc = get_feature(root, "annualIncome", WHACO_FIELD_ANNUAL_INCOME, &c.annual_income,
                         &missing, e);
    if (rc == 0)
        rc = get_feature(root, "vehiclePrice", WHACO_FIELD_VEHICLE_PRICE, &c.vehicle_price,
                         &missing, e);
    if (rc == 0)
        rc = get_feature(root, "downPayment", WHACO_FIELD_DOWN_PAYMENT, &c.down_payment, &missing,
                         e);
    /* The seed's tradeValue was optional with 0 for no trade-in: an absent
     * one still means that, so its requests mean what they meant; only an
     * explicit null is unknown. */
    if (rc == 0 && json_object_get(root, "tradeValue"))
        rc = get_feature(root, "tradeValue", WHACO_FIELD_TRADE_VALUE, &c.trade_value, &missing, e);
    if (rc == 0) {
        json_t *v = json_object_get(root, "visitCount");
        if (!v || json_is_null(v))
            missing |= WHACO_FIELD_VISIT_COUNT;
        else
            rc = get_whole(root, "visitCount", true, 0, INT32_MIN, INT32_MAX, &visits, e);
    }
    if (rc == 0)
        rc = get_feature(root, "timeOnLot", WHACO_FIELD_TIME_ON_LOT, &c.time_on_lot, &missing, e);
    if (rc == 0)
        rc = get_feature(root, "engagement", WHACO_FIELD_ENGAGEMENT, &c.engagement, &missing, e);
    if (rc == 0) {
        c.missing = missing;
        c.visit_count = (int32_t)visits;
        err = whaco_customer_check(&c, &field);
        if (err != WHACO_OK) {
            api_error_from_whaco(e, err, field);
            rc = -1;
        }
    }
    if (rc == 0) {
        /* Filled by hand rather than whaco_event_init: json.c needs only
         * the struct, not the event code (src/core/event.c). */
        memset(ev, 0, sizeof *ev);
        ev->type = WHACO_EV_ANALYZE;
        ev->customer = c;
    }
    json_decref(root);
    return rc;
}

/*
 * A salesperson id field: a string of 1..63 printable ASCII bytes without
 * spaces (whaco_member_id_valid) into dst[WHACO_TEAM_ID_MAX]; absent and
 * optional leaves dst "". 0, or -1 with *e filled.
 */
static int get_member_id(json_t *root, const char *name, bool required, char *dst,
                         struct api_error *e)
{
    const char *s = NULL;
    size_t len = 0;
    dst[0] = '\0';
    if (get_string(root, name, required, &s, &len, e) != 0)
        return -1;
    if (!s)
        return 0;
    if (copy_id(dst, WHACO_TEAM_ID_MAX, s, len, 1, name, WHACO_E_ID_LENGTH, e) != 0)
        return -1;
    if (!whaco_member_id_valid(dst)) {
        api_error_from_whaco(e, WHACO_E_ID_LENGTH, name);
        return -1;
    }
    return 0;
}

/*
 * A text id field of min_len..cap-1 bytes without control characters (a
 * customer or deal id) into dst[cap]; absent and optional leaves dst "".
 */
static int get_text_id(json_t *root, const char *name, bool required, size_t min_len, char *dst,
                       size_t cap, struct api_error *e)
{
    const char *s = NULL;
    size_t len = 0;
    dst[0] = '\0';
    if (get_string(root, name, required, &s, &len, e) != 0)
        return -1;
    if (s && copy_id(dst, cap, s, len, min_len, name, WHACO_E_ID_LENGTH, e) != 0)
        return -1;
    if (!whaco_text_printable(dst, strlen(dst))) {
        api_error_from_whaco(e, WHACO_E_ID_LENGTH, name);
        return -1;
    }
    return 0;
}

/* A string field that must be one of a closed set: its parse (>= 0), else err for name. */
static int get_choice(json_t *root, const char *name, int (*parse)(const char *), int err, int *out,
                      struct api_error *e)
{
    const char *s = NULL;
    size_t len = 0;
    if (get_string(root, name, true, &s, &len, e) != 0)
        return -1;
    *out = parse(s);
    if (*out < 0) {
        api_error_from_whaco(e, err, name);
        return -1;
    }
    return 0;
}

int json_parse_deal_closed(const char *body, size_t len, struct whaco_event *ev,
                           struct api_error *e)
{
    struct whaco_event d;
    json_t *root = load_object(body, len, e);
    if (!root)
        return -1;
    memset(&d, 0, sizeof d);
    d.type = WHACO_EV_DEAL_CLOSED;
    int rc = get_member_id(root, "salespersonId", true, d.id, e);
    if (rc == 0)
        rc = get_text_id(root, "dealId", false, 0, d.deal_id, sizeof d.deal_id, e);
    if (rc == 0)
        rc = get_text_id(root, "customerId", false, 1, d.customer_id, sizeof d.customer_id, e);
    if (rc == 0)
        *ev = d;
    json_decref(root);
    return rc;
}

int json_parse_member_event(const char *body, size_t len, uint32_t type, struct whaco_event *ev,
                            struct api_error *e)
{
    struct whaco_event d;
    json_t *root = load_object(body, len, e);
    if (!root)
        return -1;
    memset(&d, 0, sizeof d);
    d.type = type;
    int rc = get_member_id(root, "salespersonId", true, d.id, e);
    if (rc == 0)
        *ev = d;
    json_decref(root);
    return rc;
}

/* available, break, delivery, appointment: "off" is clock-out's. */
static int parse_floor_status(const char *name)
{
    int v = whaco_seat_status_parse(name);
    return v == WHACO_SEAT_OFF ? -1 : v;
}

int json_parse_salesperson_status(const char *body, size_t len, struct whaco_event *ev,
                                  struct api_error *e)
{
    struct whaco_event d;
    int status = 0;
    json_t *root = load_object(body, len, e);
    if (!root)
        return -1;
    memset(&d, 0, sizeof d);
    d.type = WHACO_EV_STATUS;
    int rc = get_member_id(root, "salespersonId", true, d.id, e);
    if (rc == 0)
        rc = get_choice(root, "status", parse_floor_status, WHACO_E_STATUS_VALUE, &status, e);
    if (rc == 0) {
        d.status = (uint8_t)status;
        *ev = d;
    }
    json_decref(root);
    return rc;
}

/* no_sale, be_back, appointment: a sale is deal-closed's. */
static int parse_left_outcome(const char *name)
{
    int v = whaco_outcome_parse(name);
    return v == WHACO_OUTCOME_SOLD ? -1 : v;
}

int json_parse_customer_left(const char *body, size_t len, struct whaco_event *ev,
                             struct api_error *e)
{
    struct whaco_event d;
    int outcome = 0;
    json_t *root = load_object(body, len, e);
    if (!root)
        return -1;
    memset(&d, 0, sizeof d);
    d.type = WHACO_EV_CUSTOMER_LEFT;
    int rc = get_text_id(root, "customerId", true, 1, d.customer_id, sizeof d.customer_id, e);
    if (rc == 0)
        rc = get_choice(root, "outcome", parse_left_outcome, WHACO_E_OUTCOME_VALUE, &outcome, e);
    if (rc == 0)
        rc = get_member_id(root, "salespersonId", false, d.id, e);
    if (rc == 0) {
        d.outcome = (uint8_t)outcome;
        *ev = d;
    }
    json_decref(root);
    return rc;
}

int json_parse_assign(const char *body, size_t len, struct whaco_event *ev, struct api_error *e)
{
    struct whaco_event d;
    json_t *root = load_object(body, len, e);
    if (!root)
        return -1;
    memset(&d, 0, sizeof d);
    d.type = WHACO_EV_OVERRIDE;
    int rc = get_text_id(root, "customerId", true, 1, d.customer_id, sizeof d.customer_id, e);
    if (rc == 0)
        rc = get_member_id(root, "salespersonId", true, d.id, e);
    if (rc == 0)
        *ev = d;
    json_decref(root);
    return rc;
}

int json_parse_add_salesperson(const char *body, size_t len, struct whaco_event *ev,
                               struct api_error *e)
{
    struct whaco_member_spec spec;
    const char *id = NULL, *name = NULL, *field = NULL;
    size_t id_len = 0, name_len = 0;
    int64_t active = 0;
    int rc, err;

    json_t *root = load_object(body, len, e);
    if (!root)
        return -1;
    memset(&spec, 0, sizeof spec);
    rc = get_string(root, "id", true, &id, &id_len, e);
    if (rc == 0 && id_len >= WHACO_TEAM_ID_MAX) {
        api_error_from_whaco(e, WHACO_E_ID_LENGTH, "id");
        rc = -1;
    }
    if (rc == 0)
        rc = get_string(root, "name", true, &name, &name_len, e);
    if (rc == 0 && name_len >= WHACO_TEAM_NAME_MAX) {
        api_error_from_whaco(e, WHACO_E_NAME_LENGTH, "name");
        rc = -1;
    }
    if (rc == 0)
        rc = get_number(root, "skillLevel", true, 0.0, &spec.skill_level, e);
    if (rc == 0)
        rc = get_number(root, "naturalFrequency", false, 0.9, &spec.natural_frequency, e);
    if (rc == 0)
        rc = get_number(root, "phase", false, 0.0, &spec.phase, e);
    if (rc == 0)
        rc = get_whole(root, "activeDeals", false, 0, INT32_MIN, INT32_MAX, &active, e);
    if (rc == 0) {
        spec.id = id;
        spec.name = name;
        spec.active_deals = active < 0 ? 0 : (uint32_t)active; /* negative: refused below */
        err = whaco_member_spec_check(&spec, &field);
        if (err == WHACO_E_INVAL && strcmp(field, "activeDeals") == 0) {
            api_error_set(e, 400, whaco_errname(err), field, "activeDeals must be between 0 and %u",
                          WHACO_TEAM_ACTIVE_DEALS_MAX);
            rc = -1;
        } else if (err != WHACO_OK) {
            api_error_from_whaco(e, err, field);
            rc = -1;
        }
    }
    if (rc == 0 && active < 0) {
        api_error_from_whaco(e, WHACO_E_NEGATIVE_COUNT, "activeDeals");
        rc = -1;
    }
    if (rc == 0) {
        memset(ev, 0, sizeof *ev);
        ev->type = WHACO_EV_ADD_SALESPERSON;
        memcpy(ev->id, id, id_len + 1);
        memcpy(ev->name, name, name_len + 1);
        ev->skill_level = spec.skill_level;
        ev->natural_frequency = spec.natural_frequency;
        ev->phase = spec.phase;
        ev->active_deals = spec.active_deals;
    }
    json_decref(root);
    return rc;
}

/*==== Team ====*/

/* The empty-team status and report to use: 1 when there is nothing to show. */
static int team_empty(const struct whaco_team *t, const struct whaco_team_status *st)
{
    return !t || !st || t->n == 0 || st->n_members == 0;
}

/* Members the report describes: both the team and the report have them. */
static size_t team_rows(const struct whaco_team *t, const struct whaco_team_status *st)
{
    if (team_empty(t, st))
        return 0;
    return t->n < st->n_members ? t->n : st->n_members;
}

static const struct whaco_member *member(const struct whaco_team *t, uint32_t i)
{
    return i < t->n ? &t->members[i] : NULL;
}

static json_t *bottleneck(const struct whaco_team *t, const struct whaco_bottleneck *b, bool *oom)
{
    const struct whaco_member *m = member(t, b->member);
    json_t *o = json_object();
    put(o, "salespersonId", m ? text_n(m->id, sizeof m->id) : json_null(), oom);
    put(o, "name", m ? text_n(m->name, sizeof m->name) : json_null(), oom);
    put(o, "phaseDifference", real(b->phase_difference), oom);
    put(o, "activeDeals", json_integer(b->active_deals), oom);
    put(o, "issue", text(whaco_team_issue_text(b->issue)), oom);
    return o;
}

static json_t *mentoring(const struct whaco_team *t, const struct whaco_mentoring *p, bool *oom)
{
    const struct whaco_member *mentor = member(t, p->mentor), *mentee = member(t, p->mentee);
    char rec[RECOMMENDATION_BUF];
    json_t *o = json_object();
    put(o, "mentorId", mentor ? text_n(mentor->id, sizeof mentor->id) : json_null(), oom);
    put(o, "mentorName", mentor ? text_n(mentor->name, sizeof mentor->name) : json_null(), oom);
    put(o, "menteeId", mentee ? text_n(mentee->id, sizeof mentee->id) : json_null(), oom);
    put(o, "menteeName", mentee ? text_n(mentee->name, sizeof mentee->name) : json_null(), oom);
    put(o, "skillGap", real(p->skill_gap), oom);
    put(o, "phaseLead", real(p->phase_lead), oom);
    if (mentor && mentee) {
        whaco_team_recommendation(t, p, rec, sizeof rec);
        put(o, "recommendation", text_n(rec, sizeof rec), oom);
    } else {
        put(o, "recommendation", json_null(), oom);
    }
    return o;
}

/* The short team status (json_team_status_short) as a jansson object. */
static json_t *team_short(const struct whaco_team *t, const struct whaco_team_status *st, bool *oom)
{
    json_t *o = json_object(), *bn = json_array(), *mo = json_array();
    if (team_empty(t, st)) {
        put(o, "coherence", json_real(0.0), oom);
        put(o, "status", text(whaco_team_band_name(WHACO_BAND_CRITICAL)), oom);
        put(o, "totalSalespeople", json_integer(0), oom);
        put(o, "bottlenecks", bn, oom);
        put(o, "mentoringOpportunities", mo, oom);
        put(o, "message", text(whaco_strerror(WHACO_E_EMPTY_TEAM)), oom);
        return o;
    }
    for (size_t i = 0; i < st->n_bottlenecks; i++)
        push(bn, bottleneck(t, &st->bottlenecks[i], oom), oom);
    for (size_t i = 0; i < st->n_mentoring; i++)
        push(mo, mentoring(t, &st->mentoring[i], oom), oom);
    put(o, "coherence", real(st->r), oom);
    put(o, "status", text(whaco_team_band_name(st->band)), oom);
    put(o, "totalSalespeople", count(st->n_members), oom);
    put(o, "bottlenecks", bn, oom);
    put(o, "mentoringOpportunities", mo, oom);
    return o;
}

/*
 * What member i is seen to be good at (whaco_observed_skill): an object
 * keyed by segment name, each {"rate" (the shrunk close rate), "outcomes"}.
 */
static json_t *observed_skill(const struct whaco_team *t, size_t i, bool *oom)
{
    json_t *o = json_object();
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        double rate;
        uint32_t n;
        whaco_observed_skill(t, i, k, &rate, &n);
        json_t *cell = json_object();
        put(cell, "rate", real(rate), oom);
        put(cell, "outcomes", json_integer(n), oom);
        put(o, whaco_profile(k)->name, cell, oom);
    }
    return o;
}

/* The full team status (json_team_status) as a jansson object; floor may be NULL. */
static json_t *team_full(const struct whaco_team *t, const struct whaco_team_status *st,
                         const struct whaco_floor *floor, bool *oom)
{
    json_t *o = team_short(t, st, oom), *members = json_array();
    size_t n = team_rows(t, st);
    for (size_t i = 0; i < n; i++) {
        const struct whaco_member *m = &t->members[i];
        json_t *row = json_object();
        put(row, "id", text_n(m->id, sizeof m->id), oom);
        put(row, "name", text_n(m->name, sizeof m->name), oom);
        put(row, "phase", real(m->phase), oom);
        put(row, "phaseLabel", text(whaco_phase_label(m->phase)), oom);
        put(row, "activeDeals", json_integer(m->active_deals), oom);
        put(row, "dealsToday", json_integer(m->deals_today), oom);
        put(row, "leadsToday", json_integer(m->leads_today), oom);
        put(row, "skillLevel", real(m->skill), oom);
        put(row, "naturalFrequency", real(m->omega), oom);
        put(row, "status", text(whaco_member_state_name(st->members[i].state)), oom);
        put(row, "observedSkill", observed_skill(t, i, oom), oom);
        push(members, row, oom);
    }
    put(o, "teamMembers", members, oom);
    put(o, "meanPhase", n ? real(st->psi) : json_real(0.0), oom);
    put(o, "floorTracked", json_boolean(floor && floor->tracked), oom);
    put(o, "coverage", t && t->n ? real(whaco_floor_coverage(t)) : json_real(0.0), oom);
    return o;
}

char *json_team_status_short(const struct whaco_team *t, const struct whaco_team_status *st)
{
    bool oom = false;
    json_t *o = team_short(t, st, &oom);
    return finish(o, oom);
}

char *json_team_status(const struct whaco_team *t, const struct whaco_team_status *st,
                       const struct whaco_floor *floor)
{
    bool oom = false;
    json_t *o = team_full(t, st, floor, &oom);
    return finish(o, oom);
}

char *json_salespeople(const struct whaco_team *t, const struct whaco_team_status *st)
{
    bool oom = false;
    json_t *root = json_object(), *list = json_array();
    size_t n = t ? t->n : 0;
    for (size_t i = 0; i < n; i++) {
        const struct whaco_member *m = &t->members[i];
        json_t *row = json_object();
        put(row, "id", text_n(m->id, sizeof m->id), &oom);
        put(row, "name", text_n(m->name, sizeof m->name), &oom);
        put(row, "skillLevel", real(m->skill), &oom);
        put(row, "naturalFrequency", real(m->omega), &oom);
        put(row, "phase", real(m->phase), &oom);
        put(row, "activeDeals", json_integer(m->active_deals), &oom);
        put(row, "dealsToday", json_integer(m->deals_today), &oom);
        put(row, "leadsToday", json_integer(m->leads_today), &oom);
        /* null only if the caller's report does not cover this member */
        put(row, "status",
            st && i < st->n_members ? text(whaco_member_state_name(st->members[i].state))
                                    : json_null(),
            &oom);
        push(list, row, &oom);
    }
    put(root, "salespeople", list, &oom);
    put(root, "total", count(n), &oom);
    return finish(root, oom);
}

char *json_coherence_history(double hours, const struct whaco_coherence_sample *samples, size_t n)
{
    bool oom = false;
    json_t *root = json_object(), *list = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *row = json_object();
        put(row, "timestamp", iso(samples[i].timestamp_ms), &oom);
        put(row, "coherence", real(samples[i].r), &oom);
        push(list, row, &oom);
    }
    put(root, "hours", num(hours), &oom);
    put(root, "samples", list, &oom);
    return finish(root, oom);
}

/*==== Customers ====*/

/* The placeholder for spliced JSON; dumps as "\u0001teamStatus\u0001". */
#define TEAM_MARKER      "\001teamStatus\001"
#define TEAM_MARKER_JSON "\"\\u0001teamStatus\\u0001\""

/*
 * Replace the dumped marker in doc (consumed) with json, which must be a
 * valid JSON value. Returns the new document, or doc itself when there is
 * no marker, or NULL when out of memory.
 */
static char *splice(char *doc, const char *json)
{
    char *at = doc && json ? strstr(doc, TEAM_MARKER_JSON) : NULL;
    if (!at)
        return doc;
    size_t head = (size_t)(at - doc), mlen = strlen(TEAM_MARKER_JSON), jlen = strlen(json);
    size_t tail = strlen(at + mlen);
    char *out = whaco_malloc(head + jlen + tail + 1);
    if (out) {
        memcpy(out, doc, head);
        memcpy(out + head, json, jlen);
        memcpy(out + head + jlen, at + mlen, tail + 1);
    }
    whaco_free(doc);
    return out;
}

/* The API names of the fields in missing (enum whaco_field_flags), in field order: [] for none. */
static json_t *missing_fields(uint32_t missing, bool *oom)
{
    json_t *a = json_array();
    for (int i = 0; i < WHACO_FIELDS; i++)
        if (missing & (1u << i))
            push(a, json_string(whaco_field_name(i)), oom);
    return a;
}

char *json_analysis(const struct whaco_analysis *an, const char *team_status_short)
{
    bool oom = false;
    const struct whaco_segment_result *r = &an->segment;
    const struct whaco_profile *p = whaco_profile(r->cluster_id);
    json_t *root = json_object(), *ca = json_object(), *actions = json_array();
    char reason[REASON_BUF];

    put(ca, "clusterId", json_integer(r->cluster_id), &oom);
    put(ca, "clusterName", text(p ? p->name : NULL), &oom);
    put(ca, "clusterDescription", text(p ? p->description : NULL), &oom);
    put(ca, "isOutlier", json_boolean(r->is_outlier), &oom);
    if (r->is_outlier) {
        unsigned n = r->n_reasons < WHACO_FEATURES ? r->n_reasons : WHACO_FEATURES;
        whaco_reason_format(r->reasons, n, reason, sizeof reason);
        put(ca, "outlierReason", text_n(reason, sizeof reason), &oom);
    } else {
        put(ca, "outlierReason", json_null(), &oom);
    }
    put(ca, "confidence", real(r->confidence), &oom);
    put(ca, "recommendedApproach", text(p ? p->approach : NULL), &oom);
    put(ca, "priorityScore", real(r->priority), &oom);
    put(ca, "outlierScore", real(r->outlier_score), &oom);
    put(ca, "missingFields", missing_fields(r->missing, &oom), &oom);
    put(ca, "closeProbability", real(an->close_probability), &oom);
    put(root, "customerAnalysis", ca, &oom);

    if (an->assign_rc == WHACO_OK && an->assigned_id[0])
        put(root, "assignedTo", text_n(an->assigned_id, sizeof an->assigned_id), &oom);
    else
        put(root, "assignedTo", json_null(), &oom);
    if (an->floor_tracked) { /* the floor's additions; an untracked floor keeps the seed's shape */
        put(root, "queuePosition",
            an->queue_position ? json_integer(an->queue_position) : json_null(), &oom);
        put(root, "customerId", text_n(an->customer_id, sizeof an->customer_id), &oom);
    }

    /* The caller's short status is already JSON: a marker holds its place
     * and the text is spliced in after dumping, instead of parsing it back
     * into a tree on every analysis. */
    put(root, "teamStatus", team_status_short ? json_string(TEAM_MARKER) : json_null(), &oom);

    unsigned n_actions = an->n_actions < WHACO_ACTIONS_MAX ? an->n_actions : WHACO_ACTIONS_MAX;
    for (unsigned i = 0; i < n_actions; i++)
        push(actions, text(an->actions[i]), &oom);
    put(root, "recommendedActions", actions, &oom);
    if (an->assign_rc != WHACO_OK)
        put(root, "warning", text(whaco_strerror(an->assign_rc)), &oom);
    return splice(finish(root, oom), team_status_short);
}

/* The segments summary (json_segments_summary) as a jansson object; learn may be NULL. */
static json_t *segments(const struct whaco_segmenter *s, const struct whaco_learn *learn, bool *oom)
{
    json_t *o = json_object(), *clusters = json_array();
    json_t *names = json_array(), *weights = json_array();
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        const struct whaco_cluster *c = &s->clusters[k];
        const struct whaco_profile *p = whaco_profile(k);
        json_t *row = json_object(), *prof = json_object(), *centroid = json_array();
        put(prof, "name", text(p->name), oom);
        put(prof, "description", text(p->description), oom);
        put(prof, "approach", text(p->approach), oom);
        put(prof, "priority", real(p->priority), oom);
        for (int j = 0; j < WHACO_FEATURES; j++)
            push(centroid, real(c->centroid[j]), oom);
        put(row, "id", json_integer(k), oom);
        put(row, "profile", prof, oom);
        put(row, "centroid", centroid, oom);
        put(row, "sizeEstimate", count(c->size), oom);
        put(row, "share", real(c->share), oom);
        double rate = 0.0;
        uint64_t n = 0;
        bool seen = learn && whaco_learn_segment_rate(learn, k, &rate, &n);
        put(row, "observedCloseRate", seen ? real(rate) : json_null(), oom);
        put(row, "outcomesRecorded", count(n), oom);
        push(clusters, row, oom);
    }
    for (int j = 0; j < WHACO_FEATURES; j++) {
        push(names, text(whaco_feature_name(j)), oom);
        push(weights, real(s->weights[j]), oom);
    }
    put(o, "totalCustomersProcessed", count(s->processed), oom);
    put(o, "outliersDetected", count(s->outliers), oom);
    put(o, "clusters", clusters, oom);
    put(o, "featureNames", names, oom);
    put(o, "featureWeights", weights, oom);
    return o;
}

char *json_segments_summary(const struct whaco_segmenter *s, const struct whaco_learn *learn)
{
    bool oom = false;
    json_t *o = segments(s, learn, &oom);
    return finish(o, oom);
}

char *json_customer_segments(const struct whaco_segmenter *s, const struct whaco_learn *learn)
{
    bool oom = false;
    json_t *o = segments(s, learn, &oom);
    return wrap("segments", o, oom);
}

/* v (consumed), or null when the customer's field bit is unknown. */
static json_t *known_or_null(const struct whaco_customer *c, uint32_t bit, json_t *v)
{
    if (!(c->missing & bit))
        return v;
    json_decref(v);
    return json_null();
}

/*
 * One anomaly as a jansson object. "features" are the raw inputs under the
 * seed's names (ficoScore = creditScore, income = annualIncome) plus
 * downPaymentPercent = downPayment / vehiclePrice as a fraction (0.01 is
 * 1%), each null when unknown (downPaymentPercent when either is);
 * customerId is null when the request had none.
 */
static json_t *anomaly(const struct whaco_anomaly *a, bool *oom)
{
    const struct whaco_customer *c = &a->customer;
    const struct whaco_profile *p = whaco_profile(a->cluster_id);
    json_t *o = json_object(), *f = json_object();
    char reason[REASON_BUF];
    unsigned n = a->n_reasons < WHACO_FEATURES ? a->n_reasons : WHACO_FEATURES;

    put(f, "ficoScore", known_or_null(c, WHACO_FIELD_CREDIT_SCORE, num(c->credit_score)), oom);
    put(f, "income", known_or_null(c, WHACO_FIELD_ANNUAL_INCOME, num(c->annual_income)), oom);
    put(f, "vehiclePrice", known_or_null(c, WHACO_FIELD_VEHICLE_PRICE, num(c->vehicle_price)), oom);
    put(f, "downPayment", known_or_null(c, WHACO_FIELD_DOWN_PAYMENT, num(c->down_payment)), oom);
    put(f, "downPaymentPercent",
        known_or_null(c, WHACO_FIELD_DOWN_PAYMENT | WHACO_FIELD_VEHICLE_PRICE,
                      real(c->vehicle_price > 0.0 ? c->down_payment / c->vehicle_price : 0.0)),
        oom);
    put(f, "tradeValue", known_or_null(c, WHACO_FIELD_TRADE_VALUE, num(c->trade_value)), oom);
    put(f, "visitCount", known_or_null(c, WHACO_FIELD_VISIT_COUNT, json_integer(c->visit_count)),
        oom);
    put(f, "timeOnLot", known_or_null(c, WHACO_FIELD_TIME_ON_LOT, num(c->time_on_lot)), oom);
    put(f, "engagement", known_or_null(c, WHACO_FIELD_ENGAGEMENT, real(c->engagement)), oom);
    whaco_reason_format(a->reasons, n, reason, sizeof reason);

    put(o, "timestamp", iso(a->timestamp_ms), oom);
    put(o, "customerId", c->id[0] ? text_n(c->id, sizeof c->id) : json_null(), oom);
    put(o, "features", f, oom);
    put(o, "clusterId", json_integer(a->cluster_id), oom);
    put(o, "clusterName", text(p ? p->name : NULL), oom);
    put(o, "outlierScore", real(a->score), oom);
    put(o, "reason", text_n(reason, sizeof reason), oom);
    return o;
}

/* The newest min(limit, ring count) anomalies, newest first. */
static json_t *anomaly_list(const struct whaco_segmenter *s, unsigned limit, bool *oom)
{
    json_t *list = json_array();
    unsigned n = limit < s->ring_count ? limit : s->ring_count;
    for (unsigned i = 0; i < n; i++) {
        const struct whaco_anomaly *a = whaco_segment_anomaly(s, i);
        if (a)
            push(list, anomaly(a, oom), oom);
    }
    return list;
}

char *json_anomaly(const struct whaco_anomaly *a)
{
    bool oom = false;
    json_t *o = anomaly(a, &oom);
    return finish(o, oom);
}

char *json_anomalies(const struct whaco_segmenter *s, unsigned limit)
{
    bool oom = false;
    json_t *root = json_object();
    put(root, "anomalies", anomaly_list(s, limit, &oom), &oom);
    put(root, "total", json_integer(s->ring_count), &oom);
    return finish(root, oom);
}

char *json_insights(const struct whaco_intel *in, const struct whaco_team_status *st,
                    unsigned anomaly_limit)
{
    bool oom = false;
    json_t *root = json_object();
    put(root, "teamStatus", team_full(&in->team, st, &in->floor, &oom), &oom);
    put(root, "customerSegments", segments(&in->seg, &in->learn, &oom), &oom);
    put(root, "recentAnomalies", anomaly_list(&in->seg, anomaly_limit, &oom), &oom);
    return finish(root, oom);
}

/*==== Acknowledgements ====*/

char *json_deal_recorded(const struct whaco_event *ev)
{
    bool oom = false;
    json_t *root = json_object();
    put(root, "status", json_string("recorded"), &oom);
    put(root, "salespersonId", text_n(ev->id, sizeof ev->id), &oom);
    put(root, "dealId", ev->deal_id[0] ? text_n(ev->deal_id, sizeof ev->deal_id) : json_null(),
        &oom);
    if (ev->customer_id[0]) /* the floor's link; the seed's request has none */
        put(root, "customerId", text_n(ev->customer_id, sizeof ev->customer_id), &oom);
    put(root, "timestamp", iso(ev->time_ms), &oom);
    return finish(root, oom);
}

char *json_salesperson_added(const struct whaco_event *ev)
{
    bool oom = false;
    json_t *root = json_object();
    put(root, "status", json_string("added"), &oom);
    put(root, "id", text_n(ev->id, sizeof ev->id), &oom);
    put(root, "name", text_n(ev->name, sizeof ev->name), &oom);
    return finish(root, oom);
}

char *json_salesperson_removed(const char *id)
{
    bool oom = false;
    json_t *root = json_object();
    put(root, "status", json_string("removed"), &oom);
    put(root, "id", text(id), &oom);
    return finish(root, oom);
}

char *json_reset_done(int64_t time_ms)
{
    bool oom = false;
    json_t *root = json_object();
    put(root, "status", json_string("reset"), &oom);
    put(root, "timestamp", iso(time_ms), &oom);
    return finish(root, oom);
}

/*==== The floor ====*/

/* The assignments an event made: [{"customerId","salespersonId","waitSeconds","override"}]. */
static json_t *assignments(const struct whaco_floor_news *news, bool *oom)
{
    json_t *list = json_array();
    for (uint32_t k = 0; news && k < news->n && k < WHACO_FLOOR_NEWS_MAX; k++) {
        const struct whaco_assignment *a = &news->a[k];
        json_t *row = json_object();
        put(row, "customerId", text_n(a->customer_id, sizeof a->customer_id), oom);
        put(row, "salespersonId", text_n(a->salesperson_id, sizeof a->salesperson_id), oom);
        put(row, "waitSeconds", real((double)a->waited_ms / 1000.0), oom);
        put(row, "override", json_boolean(a->override), oom);
        push(list, row, oom);
    }
    return list;
}

char *json_floor_done(const char *status, const struct whaco_event *ev,
                      const struct whaco_floor_news *news)
{
    bool oom = false;
    json_t *root = json_object();
    put(root, "status", text(status), &oom);
    if (ev->customer_id[0])
        put(root, "customerId", text_n(ev->customer_id, sizeof ev->customer_id), &oom);
    if (ev->type == WHACO_EV_CUSTOMER_LEFT)
        put(root, "outcome", text(whaco_outcome_name(ev->outcome)), &oom);
    put(root, "salespersonId", ev->id[0] ? text_n(ev->id, sizeof ev->id) : json_null(), &oom);
    if (ev->type == WHACO_EV_STATUS)
        put(root, "floorStatus", text(whaco_seat_status_name(ev->status)), &oom);
    put(root, "assignments", assignments(news, &oom), &oom);
    put(root, "timestamp", iso(ev->time_ms), &oom);
    return finish(root, oom);
}

/* One unmatched row: {"row","customerId","reason","field","message"}. */
static json_t *unmatched_row(const struct whaco_outcome_line *line,
                             const struct whaco_outcome_report *rep, bool *oom)
{
    json_t *row = json_object();
    put(row, "row", count(line->row), oom);
    put(row, "customerId", text_n(line->customer_id, sizeof line->customer_id), oom);
    put(row, "reason", text(rep->reason), oom);
    put(row, "field", text(rep->field), oom);
    put(row, "message", text_n(rep->message, sizeof rep->message), oom);
    return row;
}

char *json_outcomes_done(const struct whaco_outcome_file *f,
                         const struct whaco_outcome_report *reports,
                         const struct whaco_floor_news *const *news, size_t n_news, int64_t time_ms)
{
    bool oom = false;
    uint64_t recorded = 0, already = 0;
    json_t *root = json_object(), *unmatched = json_array(), *ignored = json_array();
    json_t *assigned = json_array();
    for (size_t i = 0; i < f->n; i++) {
        recorded += reports[i].status == WHACO_ROW_RECORDED;
        already += reports[i].status == WHACO_ROW_ALREADY;
        if (reports[i].status == WHACO_ROW_UNMATCHED)
            push(unmatched, unmatched_row(&f->lines[i], &reports[i], &oom), &oom);
    }
    for (uint32_t k = 0; k < f->n_ignored && k < WHACO_OUTCOMES_IGNORED_MAX; k++)
        push(ignored, text_n(f->ignored[k], sizeof f->ignored[k]), &oom);
    for (size_t i = 0; i < n_news; i++) {
        json_t *some = assignments(news[i], &oom);
        if (json_array_extend(assigned, some) != 0)
            oom = true;
        json_decref(some);
    }
    put(root, "rows", count(f->n), &oom);
    put(root, "recorded", count(recorded), &oom);
    put(root, "alreadyRecorded", count(already), &oom);
    put(root, "unmatched", unmatched, &oom);
    put(root, "ignoredColumns", ignored, &oom);
    put(root, "assignments", assigned, &oom);
    put(root, "timestamp", iso(time_ms), &oom);
    return finish(root, oom);
}

char *json_customer_assigned(const struct whaco_assignment *a, int64_t time_ms)
{
    bool oom = false;
    json_t *root = json_object();
    put(root, "customerId", text_n(a->customer_id, sizeof a->customer_id), &oom);
    put(root, "salespersonId", text_n(a->salesperson_id, sizeof a->salesperson_id), &oom);
    put(root, "waitSeconds", real((double)a->waited_ms / 1000.0), &oom);
    put(root, "override", json_boolean(a->override), &oom);
    put(root, "timestamp", iso(time_ms), &oom);
    return finish(root, oom);
}

/* What the up board says a member is doing (tracked floor). */
static const char *board_state(const struct whaco_member *m)
{
    if (m->seat.status == WHACO_SEAT_AVAILABLE && m->active_deals > 0)
        return "with_customer";
    return whaco_seat_status_name(m->seat.status);
}

/* One row of the up board's salespeople; position 0 when off the floor. */
static json_t *board_member(const struct whaco_floor *f, const struct whaco_team *t,
                            const struct whaco_member *m, size_t position, bool *oom)
{
    json_t *row = json_object(), *customers = json_array();
    uint32_t max = f->cfg.max_customers;
    bool free = f->tracked && m->seat.status == WHACO_SEAT_AVAILABLE && m->active_deals < max;
    put(row, "id", text_n(m->id, sizeof m->id), oom);
    put(row, "name", text_n(m->name, sizeof m->name), oom);
    put(row, "state", text(f->tracked ? board_state(m) : "off"), oom);
    put(row, "position", position ? json_integer((json_int_t)position) : json_null(), oom);
    put(row, "since", m->seat.since_ms ? iso(m->seat.since_ms) : json_null(), oom);
    for (uint32_t k = 0; k < f->n_open; k++) {
        const struct whaco_visit *v = &f->open[k];
        if (strcmp(v->salesperson_id, m->id) != 0)
            continue;
        json_t *c = json_object();
        put(c, "customerId", text_n(v->customer_id, sizeof v->customer_id), oom);
        put(c, "since", iso(v->assigned_ms), oom);
        put(c, "override", json_boolean(v->override), oom);
        push(customers, c, oom);
    }
    put(row, "customers", customers, oom);
    put(row, "freeSlots", json_integer(free ? (json_int_t)(max - m->active_deals) : 0), oom);
    put(row, "walkInsToday", json_integer(m->seat.walkins_today), oom);
    put(row, "overridesToday", json_integer(m->seat.overrides_today), oom);
    put(row, "observedSkill", observed_skill(t, (size_t)(m - t->members), oom), oom);
    return row;
}

/* The desk's line: [{"customerId","position","arrived","waitSeconds",...}]. */
static json_t *board_waiting(const struct whaco_floor *f, int64_t now_ms, bool *oom)
{
    json_t *list = json_array();
    for (uint32_t k = 0; k < f->n_open; k++) {
        const struct whaco_visit *v = &f->open[k];
        uint32_t pos = whaco_floor_queue_position(f, k);
        if (!pos)
            continue;
        const struct whaco_profile *p = whaco_profile(v->cluster_id);
        json_t *row = json_object();
        put(row, "customerId", text_n(v->customer_id, sizeof v->customer_id), oom);
        put(row, "position", json_integer(pos), oom);
        put(row, "arrived", iso(v->arrived_ms), oom);
        put(row, "waitSeconds", real((double)(now_ms - v->arrived_ms) / 1000.0), oom);
        put(row, "clusterId", json_integer(v->cluster_id), oom);
        put(row, "clusterName", text(p ? p->name : NULL), oom);
        put(row, "priorityScore", real(v->priority), oom);
        put(row, "returningTo",
            v->original_id[0] ? text_n(v->original_id, sizeof v->original_id) : json_null(), oom);
        push(list, row, oom);
    }
    return list;
}

char *json_up_board(const struct whaco_intel *in, int64_t now_ms)
{
    bool oom = false;
    const struct whaco_floor *f = &in->floor;
    const struct whaco_team *t = &in->team;
    uint32_t *up = whaco_calloc(t->n ? t->n : 1, sizeof *up);
    if (!up)
        return NULL;
    json_t *root = json_object(), *order = json_array(), *people = json_array();
    size_t n_up = f->tracked ? whaco_floor_up_order(t, up) : 0;
    for (size_t p = 0; p < n_up; p++) {
        const struct whaco_member *m = &t->members[up[p]];
        push(order, text_n(m->id, sizeof m->id), &oom);
        push(people, board_member(f, t, m, p + 1, &oom), &oom);
    }
    whaco_free(up);
    for (size_t i = 0; i < t->n; i++) /* then everyone off the floor, in team order */
        if (!f->tracked || t->members[i].seat.status == WHACO_SEAT_OFF)
            push(people, board_member(f, t, &t->members[i], 0, &oom), &oom);
    put(root, "floorTracked", json_boolean(f->tracked), &oom);
    put(root, "floorTracking", text(whaco_floor_tracking_name((int)f->cfg.tracking)), &oom);
    put(root, "assignment", text(whaco_floor_rule_name((int)f->cfg.rule)), &oom);
    put(root, "maxCustomers", json_integer(f->cfg.max_customers), &oom);
    put(root, "upOrder", order, &oom);
    put(root, "salespeople", people, &oom);
    put(root, "waiting", board_waiting(f, now_ms, &oom), &oom);
    put(root, "timestamp", iso(now_ms), &oom);
    return finish(root, oom);
}

/*==== The A/B test ====*/

/* {"estimate","low","high"}, or null when it is not known. */
static json_t *interval(const struct whaco_exp_interval *d, bool *oom)
{
    if (!d->known)
        return json_null();
    json_t *o = json_object();
    put(o, "estimate", real(d->estimate), oom);
    put(o, "low", real(d->low), oom);
    put(o, "high", real(d->high), oom);
    return o;
}

/* One arm of GET experiment. */
static json_t *experiment_arm(const struct whaco_experiment *x, const struct whaco_exp_report *r,
                              int k, bool *oom)
{
    const struct whaco_exp_arm_report *a = &r->arm[k];
    json_t *o = json_object();
    put(o, "name", text(whaco_experiment_arm_name(k)), oom);
    put(o, "assignment", text(whaco_floor_rule_name(x->cfg.rule[k])), oom);
    put(o, "walkIns", count(a->walkins), oom);
    put(o, "ended", count(a->ended), oom);
    put(o, "deals", count(a->deals), oom);
    put(o, "closeRate", a->has_rate ? real(a->close_rate) : json_null(), oom);
    put(o, "waitMeanMinutes", a->has_wait ? real(a->wait_mean_min) : json_null(), oom);
    put(o, "waitP95Minutes", a->has_wait ? real(a->wait_p95_min) : json_null(), oom);
    return o;
}

char *json_experiment(const struct whaco_intel *in, int64_t now_ms)
{
    bool oom = false;
    const struct whaco_experiment *x = &in->exp;
    json_t *root = json_object();
    put(root, "enabled", json_boolean(x->cfg.enabled), &oom);
    if (!x->cfg.enabled)
        return finish(root, oom);
    struct whaco_exp_report r;
    whaco_experiment_report(x, &r);
    json_t *arms = json_array(), *diff = json_object();
    for (int k = 0; k < WHACO_EXP_ARMS; k++)
        push(arms, experiment_arm(x, &r, k, &oom), &oom);
    put(diff, "closeRatePoints", interval(&r.close_points, &oom), &oom);
    put(diff, "waitMeanMinutes", interval(&r.wait_min, &oom), &oom);
    put(root, "since", iso(x->since_ms), &oom);
    put(root, "seed", count(x->cfg.seed), &oom);
    put(root, "floorTracked", json_boolean(in->floor.tracked), &oom);
    put(root, "minimumEnded", json_integer(WHACO_EXP_MIN_ENDED), &oom);
    put(root, "arms", arms, &oom);
    put(root, "difference", diff, &oom);
    put(root, "verdict", text(r.verdict_text), &oom);
    put(root, "timestamp", iso(now_ms), &oom);
    return finish(root, oom);
}

char *json_health(const char *status, uint64_t last_seq, uint64_t snapshots, const char *reason,
                  int64_t since_ms)
{
    bool oom = false;
    json_t *root = json_object();
    put(root, "status", json_string(status), &oom);
    put(root, "lastSeq", json_integer((json_int_t)last_seq), &oom);
    put(root, "snapshots", json_integer((json_int_t)snapshots), &oom);
    if (reason) {
        put(root, "reason", json_string(reason), &oom);
        put(root, "since", iso(since_ms), &oom);
    }
    return finish(root, oom);
}

char *json_event_analyzed(const struct whaco_analysis *an, const char *customer_id, int64_t time_ms)
{
    bool oom = false;
    const struct whaco_segment_result *r = &an->segment;
    const struct whaco_profile *p = whaco_profile(r->cluster_id);
    json_t *root = json_object();
    put(root, "customerId", customer_id && *customer_id ? text(customer_id) : json_null(), &oom);
    put(root, "clusterId", json_integer(r->cluster_id), &oom);
    put(root, "clusterName", text(p ? p->name : NULL), &oom);
    put(root, "isOutlier", json_boolean(r->is_outlier), &oom);
    put(root, "priorityScore", real(r->priority), &oom);
    put(root, "missingFields", missing_fields(r->missing, &oom), &oom);
    if (an->assign_rc == WHACO_OK && an->assigned_id[0])
        put(root, "assignedTo", text_n(an->assigned_id, sizeof an->assigned_id), &oom);
    else
        put(root, "assignedTo", json_null(), &oom);
    put(root, "timestamp", iso(time_ms), &oom);
    return finish(root, oom);
}

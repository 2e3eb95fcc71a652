/*
 * fuzz_requests.c: libFuzzer target for the request decoders of every POST
 * body (src/http/json.h): json_parse_analyze, json_parse_deal_closed and
 * json_parse_add_salesperson.
 *
 * Input: byte 0 picks the decoder (0 analyze, 1 deal-closed, 2
 * add-salesperson, modulo 3); the rest is the body, handed over in a buffer
 * of exactly its length (no NUL after it), so an over-read is an ASan
 * report.
 *
 * Invariants checked beyond "no crash":
 *   - a refusal returns -1 with status 400, a non-empty code and a
 *     NUL-terminated, non-empty message, and json_error() renders it;
 *   - an accepted body gives an event of the decoder's type whose values
 *     pass the core's validators (whaco_customer_check,
 *     whaco_member_spec_check, the id rules), which round-trips through
 *     whaco_event_encode / whaco_event_decode to identical bytes and equal
 *     fields, and whose answer builders succeed; an analyzed customer is
 *     classified by a fresh segmenter without error.
 * A broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/segment.h"
#include "whaco/team.h"
#include "http/json.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_requests: invariant failed: %s (%s:%d)\n", #cond, __FILE__,      \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

typedef int (*decoder_fn)(const char *body, size_t len, struct whaco_event *ev,
                          struct api_error *e);

static const decoder_fn decoders[3] = {json_parse_analyze, json_parse_deal_closed,
                                       json_parse_add_salesperson};
static const uint32_t decoder_types[3] = {WHACO_EV_ANALYZE, WHACO_EV_DEAL_CLOSED,
                                          WHACO_EV_ADD_SALESPERSON};

static struct whaco_segmenter fresh_segmenter;

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *field = NULL;
    (void)argc;
    (void)argv;
    if (whaco_segmenter_init(&fresh_segmenter, NULL, &field) != WHACO_OK)
        abort();
    return 0;
}

/* A string field of the event is terminated inside its array. */
static int terminated(const char *s, size_t cap)
{
    return memchr(s, '\0', cap) != NULL;
}

static void check_refusal(const struct api_error *e)
{
    CHECK(e->status == 400);
    CHECK(e->code && e->code[0]);
    CHECK(terminated(e->message, sizeof e->message) && e->message[0]);
    char *json = json_error(e);
    CHECK(json && json[0] == '{');
    free(json);
}

/* Printable ASCII without spaces: the rule for salesperson ids. */
static int id_chars_ok(const char *s)
{
    if (!*s)
        return 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        if (*p < 0x21 || *p > 0x7e)
            return 0;
    return 1;
}

static int same_double(double a, double b)
{
    return memcmp(&a, &b, sizeof a) == 0;
}

/* The fields the event's type uses are equal (doubles bit for bit). */
static int same_event(const struct whaco_event *a, const struct whaco_event *b)
{
    if (a->type != b->type || a->time_ms != b->time_ms)
        return 0;
    switch (a->type) {
    case WHACO_EV_ANALYZE: {
        const struct whaco_customer *x = &a->customer, *y = &b->customer;
        return !strcmp(x->id, y->id) && same_double(x->credit_score, y->credit_score) &&
               same_double(x->annual_income, y->annual_income) &&
               same_double(x->vehicle_price, y->vehicle_price) &&
               same_double(x->down_payment, y->down_payment) &&
               same_double(x->trade_value, y->trade_value) && x->visit_count == y->visit_count &&
               same_double(x->time_on_lot, y->time_on_lot) &&
               same_double(x->engagement, y->engagement);
    }
    case WHACO_EV_DEAL_CLOSED:
        return !strcmp(a->id, b->id) && !strcmp(a->deal_id, b->deal_id);
    default:
        return !strcmp(a->id, b->id) && !strcmp(a->name, b->name) &&
               same_double(a->skill_level, b->skill_level) &&
               same_double(a->natural_frequency, b->natural_frequency) &&
               same_double(a->phase, b->phase) && a->active_deals == b->active_deals;
    }
}

static void check_round_trip(const struct whaco_event *ev)
{
    struct whaco_buf first = WHACO_BUF_INIT, second = WHACO_BUF_INIT;
    struct whaco_event back;
    whaco_event_encode(ev, &first);
    CHECK(whaco_event_decode(&back, first.data, first.len) == WHACO_OK);
    CHECK(same_event(ev, &back));
    whaco_event_encode(&back, &second);
    CHECK(first.len == second.len && memcmp(first.data, second.data, first.len) == 0);
    whaco_buf_release(&first);
    whaco_buf_release(&second);
}

static void check_accepted(const struct whaco_event *ev, uint32_t want_type)
{
    const char *field = NULL;
    char *json = NULL;
    CHECK(ev->type == want_type);
    CHECK(terminated(ev->id, sizeof ev->id) && terminated(ev->deal_id, sizeof ev->deal_id) &&
          terminated(ev->name, sizeof ev->name) &&
          terminated(ev->customer.id, sizeof ev->customer.id));
    switch (ev->type) {
    case WHACO_EV_ANALYZE: {
        struct whaco_segment_result r;
        CHECK(whaco_customer_check(&ev->customer, &field) == WHACO_OK);
        CHECK(whaco_segment_classify(&fresh_segmenter, &ev->customer, &r, &field) == WHACO_OK);
        CHECK(r.cluster_id >= 0 && r.cluster_id < WHACO_CLUSTERS);
        break;
    }
    case WHACO_EV_DEAL_CLOSED:
        CHECK(id_chars_ok(ev->id));
        json = json_deal_recorded(ev);
        CHECK(json != NULL);
        break;
    default: {
        struct whaco_member_spec spec = {
            ev->id, ev->name, ev->skill_level, ev->natural_frequency, ev->phase, ev->active_deals};
        CHECK(whaco_member_spec_check(&spec, &field) == WHACO_OK);
        json = json_salesperson_added(ev);
        CHECK(json != NULL);
        break;
    }
    }
    free(json);
    check_round_trip(ev);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    unsigned which = data[0] % 3u;
    size_t len = size - 1;
    /* Exactly len bytes on the heap: reading past the body is caught. */
    char *body = malloc(len ? len : 1);
    if (!body)
        return 0;
    memcpy(body, data + 1, len);

    struct whaco_event ev;
    struct api_error e;
    memset(&ev, 0x5a, sizeof ev); /* garbage in: the decoder must set what it returns */
    memset(&e, 0, sizeof e);
    int rc = decoders[which](body, len, &ev, &e);
    CHECK(rc == 0 || rc == -1);
    if (rc == 0)
        check_accepted(&ev, decoder_types[which]);
    else
        check_refusal(&e);
    free(body);
    return 0;
}

/*
 * test_event.c: events as plain data (whaco/event.h): encoding round trips,
 * damaged encodings rejected, and replay through the encoding giving the
 * same state as applying the events directly.
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
#include "whaco/gen.h"

#define T0 1737124200000

static struct whaco_intel direct, replayed;

#define SEED_EVENTS 7 /* the first events of sample_events: the seed's seven types */
#define SAMPLES     (WHACO_EV_COUNT + 2)

/* One event of every type, with every field set. */
static int sample_events(struct whaco_event *evs)
{
    int n = 0;
    whaco_event_init(&evs[n], WHACO_EV_ADD_SALESPERSON);
    memcpy(evs[n].id, "sp-123", 7);
    memcpy(evs[n].name, "Jane Smith", 11);
    evs[n].skill_level = 0.9;
    evs[n].natural_frequency = 0.95;
    evs[n].phase = 0.25;
    evs[n].active_deals = 2;
    evs[n++].time_ms = T0;
    whaco_event_init(&evs[n], WHACO_EV_ANALYZE);
    struct whaco_customer c = {"cust_123", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    evs[n].customer = c;
    evs[n++].time_ms = T0 + 1000;
    whaco_event_init(&evs[n], WHACO_EV_DEAL_CLOSED);
    memcpy(evs[n].id, "sp-123", 7);
    memcpy(evs[n].deal_id, "deal-456", 9);
    evs[n++].time_ms = T0 + 2000;
    whaco_event_init(&evs[n], WHACO_EV_TICK);
    evs[n++].time_ms = T0 + 300000;
    whaco_event_init(&evs[n], WHACO_EV_DAILY_RESET);
    evs[n++].time_ms = T0 + 400000;
    whaco_event_init(&evs[n], WHACO_EV_REMOVE_SALESPERSON);
    memcpy(evs[n].id, "sp-123", 7);
    evs[n++].time_ms = T0 + 500000;
    whaco_event_init(&evs[n], WHACO_EV_RESET);
    evs[n++].time_ms = T0 + 600000;
    /* The floor's (SEED_EVENTS above are the seed's, in an order that applies). */
    whaco_event_init(&evs[n], WHACO_EV_CLOCK_IN);
    memcpy(evs[n].id, "sp-123", 7);
    evs[n++].time_ms = T0 + 700000;
    whaco_event_init(&evs[n], WHACO_EV_CLOCK_OUT);
    memcpy(evs[n].id, "sp-123", 7);
    evs[n++].time_ms = T0 + 700001;
    whaco_event_init(&evs[n], WHACO_EV_STATUS);
    memcpy(evs[n].id, "sp-123", 7);
    evs[n].status = WHACO_SEAT_BREAK;
    evs[n++].time_ms = T0 + 700002;
    whaco_event_init(&evs[n], WHACO_EV_CUSTOMER_LEFT);
    memcpy(evs[n].customer_id, "cust_123", 9);
    evs[n].outcome = WHACO_OUTCOME_BE_BACK;
    memcpy(evs[n].id, "sp-123", 7);
    evs[n++].time_ms = T0 + 700003;
    whaco_event_init(&evs[n], WHACO_EV_OVERRIDE);
    memcpy(evs[n].customer_id, "cust_123", 9);
    memcpy(evs[n].id, "sp-123", 7);
    evs[n++].time_ms = T0 + 700004;
    whaco_event_init(&evs[n], WHACO_EV_FLOOR_SETTINGS);
    whaco_floor_config_default(&evs[n].floor);
    evs[n].floor.rule = WHACO_RULE_LEAST_BUSY;
    evs[n].floor.max_customers = 3;
    evs[n++].time_ms = T0 + 700005;
    whaco_event_init(&evs[n], WHACO_EV_OUTCOME);
    memcpy(evs[n].customer_id, "cust_123", 9);
    evs[n].outcome = WHACO_OUTCOME_SOLD;
    memcpy(evs[n].id, "sp-123", 7);
    memcpy(evs[n].deal_id, "deal-789", 9);
    evs[n].outcome_ms = T0 + 650000;
    evs[n].via = WHACO_VIA_CLI;
    evs[n].row = 7;
    evs[n++].time_ms = T0 + 700005;
    whaco_event_init(&evs[n], WHACO_EV_EXPERIMENT_SETTINGS);
    evs[n].experiment.enabled = true;
    evs[n].experiment.rule[0] = WHACO_RULE_UP_ROTATION;
    evs[n].experiment.rule[1] = WHACO_RULE_NETWORK;
    evs[n].experiment.seed = 1795827749783;
    evs[n++].time_ms = T0 + 700005;
    whaco_event_init(&evs[n], WHACO_EV_DEAL_CLOSED); /* linked to a walk-in */
    memcpy(evs[n].id, "sp-123", 7);
    memcpy(evs[n].customer_id, "cust_123", 9);
    evs[n++].time_ms = T0 + 700006;
    whaco_event_init(&evs[n], WHACO_EV_ANALYZE); /* a walk-in whose credit and visit are unknown */
    struct whaco_customer partial = {.id = "cust_456",
                                     .vehicle_price = 31000,
                                     .down_payment = 4000,
                                     .visit_count = 2,
                                     .missing = WHACO_FIELD_CREDIT_SCORE |
                                                WHACO_FIELD_ANNUAL_INCOME |
                                                WHACO_FIELD_TIME_ON_LOT | WHACO_FIELD_ENGAGEMENT};
    evs[n].customer = partial;
    evs[n++].time_ms = T0 + 700007;
    return n;
}

static void event__every_type_round_trips(void **state)
{
    (void)state;
    struct whaco_event evs[SAMPLES], back;
    int n = sample_events(evs);
    for (int i = 0; i < n; i++) {
        struct whaco_buf b = WHACO_BUF_INIT, again = WHACO_BUF_INIT;
        whaco_event_encode(&evs[i], &b);
        assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_OK);
        assert_memory_equal(&back, &evs[i], sizeof back);
        whaco_event_encode(&back, &again);
        assert_int_equal(b.len, again.len);
        assert_memory_equal(b.data, again.data, b.len);
        assert_string_not_equal(whaco_event_name(evs[i].type), "unknown");
        whaco_buf_release(&b);
        whaco_buf_release(&again);
    }
    assert_string_equal(whaco_event_name(99), "unknown");
}

static void event__damaged_encodings_are_rejected(void **state)
{
    (void)state;
    struct whaco_event evs[SAMPLES], back;
    int n = sample_events(evs);
    for (int i = 0; i < n; i++) {
        struct whaco_buf b = WHACO_BUF_INIT;
        whaco_event_encode(&evs[i], &b);
        for (size_t cut = 0; cut < b.len; cut++)
            assert_int_equal(whaco_event_decode(&back, b.data, cut), WHACO_E_STATE_CORRUPT);
        whaco_buf_put_u8(&b, 0); /* one byte too many */
        assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_E_STATE_CORRUPT);
        whaco_buf_release(&b);
    }
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_event_encode(&evs[1], &b);
    b.data[0] = 4; /* a newer format */
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_E_STATE_VERSION);
    b.data[0] = 0;
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_E_STATE_CORRUPT);
    b.data[0] = 3;
    b.data[1] = 42; /* unknown type */
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_E_STATE_CORRUPT);
    whaco_buf_release(&b);

    /* A customer that could never have been accepted is corruption. */
    struct whaco_event bad = evs[1];
    bad.customer.credit_score = 900;
    whaco_event_encode(&bad, &b);
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_E_STATE_CORRUPT);
    whaco_buf_release(&b);
}

static void event__apply_dispatches_and_reports_errors(void **state)
{
    (void)state;
    struct whaco_event evs[SAMPLES];
    struct whaco_event_result res;
    const char *field = NULL;
    int n = sample_events(evs);
    assert_int_equal(whaco_intel_init(&direct, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_event_apply(&direct, &evs[0], NULL, NULL), WHACO_OK);
    assert_int_equal(direct.team.n, 1);
    assert_int_equal(whaco_event_apply(&direct, &evs[1], &res, NULL), WHACO_OK);
    assert_string_equal(res.analysis.assigned_id, "sp-123");
    /* Errors leave the state alone and name what was wrong. */
    struct whaco_event again = evs[0];
    again.time_ms = evs[1].time_ms;
    assert_int_equal(whaco_event_apply(&direct, &again, NULL, &field), WHACO_E_DUPLICATE);
    assert_string_equal(field, "id");
    struct whaco_event unknown = evs[3];
    unknown.type = 99;
    assert_int_equal(whaco_event_apply(&direct, &unknown, NULL, NULL), WHACO_E_INVAL);
    for (int i = 2; i < SEED_EVENTS; i++)
        assert_int_equal(whaco_event_apply(&direct, &evs[i], NULL, NULL), WHACO_OK);
    assert_true(n > SEED_EVENTS);
    assert_int_equal(direct.team.n, 0);
    whaco_intel_release(&direct);
}

/*
 * The table is the one list of types: every type 1..WHACO_EV_COUNT has a
 * name of its own and round-trips (sample_events holds one of each), and a
 * type outside the table is refused by encode, decode and apply alike --
 * never written to the log as a header with no payload.
 */
static void event__types_outside_the_table_are_refused(void **state)
{
    (void)state;
    struct whaco_event evs[SAMPLES], back;
    int n = sample_events(evs);
    assert_int_equal(n, WHACO_EV_COUNT + 2); /* every type, deal-closed and analyze twice */
    for (uint32_t t = 1; t <= WHACO_EV_COUNT; t++) {
        assert_true(whaco_event_type_valid(t));
        assert_string_not_equal(whaco_event_name(t), "unknown");
        for (uint32_t u = 1; u < t; u++)
            assert_string_not_equal(whaco_event_name(t), whaco_event_name(u));
        int seen = 0;
        for (int i = 0; i < n; i++)
            seen += evs[i].type == t;
        assert_true(seen >= 1);
    }
    const uint32_t outside[] = {0, WHACO_EV_COUNT + 1, 99, UINT32_MAX};
    for (size_t i = 0; i < sizeof outside / sizeof outside[0]; i++) {
        struct whaco_buf b = WHACO_BUF_INIT;
        struct whaco_event ev = evs[0];
        ev.type = outside[i];
        assert_false(whaco_event_type_valid(ev.type));
        assert_string_equal(whaco_event_name(ev.type), "unknown");
        assert_int_equal(whaco_event_encode(&ev, &b), WHACO_E_INVAL);
        assert_int_equal(b.len, 0);
        /* The same bytes as a valid event but for the type: corrupt. */
        struct whaco_buf good = WHACO_BUF_INIT;
        assert_int_equal(whaco_event_encode(&evs[0], &good), WHACO_OK);
        memcpy(good.data + 1, &outside[i], 4); /* little-endian u32 type after the version */
        assert_int_equal(whaco_event_decode(&back, good.data, good.len), WHACO_E_STATE_CORRUPT);
        whaco_buf_release(&good);
    }
}

/*
 * Logs written before the floor (event format 1) still replay: their
 * deal-closed records had no customerId and read as linked to nothing.
 */
static void event__format_1_records_still_decode(void **state)
{
    (void)state;
    struct whaco_buf b = WHACO_BUF_INIT;
    struct whaco_event back;
    whaco_buf_put_u8(&b, 1);
    whaco_buf_put_u32(&b, WHACO_EV_DEAL_CLOSED);
    whaco_buf_put_i64(&b, T0);
    whaco_buf_put_str(&b, "sp-123");
    whaco_buf_put_str(&b, "deal-456");
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_OK);
    assert_string_equal(back.id, "sp-123");
    assert_string_equal(back.deal_id, "deal-456");
    assert_string_equal(back.customer_id, "");
    whaco_buf_put_str(&b, "cust_1"); /* format 1 had no third string */
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_E_STATE_CORRUPT);
    whaco_buf_release(&b);
}

/* Field by field: a struct's padding bytes are not the customer. */
static void assert_same_customer(const struct whaco_customer *a, const struct whaco_customer *b)
{
    assert_string_equal(a->id, b->id);
    assert_true(a->credit_score == b->credit_score);
    assert_true(a->annual_income == b->annual_income);
    assert_true(a->vehicle_price == b->vehicle_price);
    assert_true(a->down_payment == b->down_payment);
    assert_true(a->trade_value == b->trade_value);
    assert_int_equal(a->visit_count, b->visit_count);
    assert_true(a->time_on_lot == b->time_on_lot);
    assert_true(a->engagement == b->engagement);
    assert_int_equal(a->missing, b->missing);
}

/*
 * An analyze record of format 2, written before fields could be unknown,
 * holds every field (no missing set) and still decodes, as a complete
 * customer; the same bytes with format 3 are not a customer of the new
 * layout.
 */
static void event__format_2_analyze_records_still_decode(void **state)
{
    (void)state;
    struct whaco_buf b = WHACO_BUF_INIT;
    struct whaco_event back;
    whaco_buf_put_u8(&b, 2);
    whaco_buf_put_u32(&b, WHACO_EV_ANALYZE);
    whaco_buf_put_i64(&b, T0);
    whaco_buf_put_str(&b, "cust_123");
    whaco_buf_put_f64(&b, 720);
    whaco_buf_put_f64(&b, 75000);
    whaco_buf_put_f64(&b, 28000);
    whaco_buf_put_f64(&b, 3000);
    whaco_buf_put_f64(&b, 5000);
    whaco_buf_put_u32(&b, 1);
    whaco_buf_put_f64(&b, 45);
    whaco_buf_put_f64(&b, 0.7);
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_OK);
    struct whaco_customer want = {"cust_123", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    assert_int_equal(back.type, WHACO_EV_ANALYZE);
    assert_same_customer(&back.customer, &want);

    /* Re-encoded, it is format 3: the set of unknown fields, empty, after the id. */
    struct whaco_buf again = WHACO_BUF_INIT;
    assert_int_equal(whaco_event_encode(&back, &again), WHACO_OK);
    assert_int_equal(again.data[0], 3);
    assert_int_equal(again.len, b.len + 1);
    b.data[0] = 3;
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_E_STATE_CORRUPT);
    whaco_buf_release(&again);
    whaco_buf_release(&b);
}

/*
 * Format 3 stores an unknown field as nothing: a missing set that leaves no
 * feature known, or one whose fields' bytes are not all there, is corrupt.
 */
static void event__unknown_fields_take_no_bytes(void **state)
{
    (void)state;
    struct whaco_event ev, back;
    struct whaco_buf full = WHACO_BUF_INIT, part = WHACO_BUF_INIT;
    whaco_event_init(&ev, WHACO_EV_ANALYZE);
    struct whaco_customer c = {"w", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    ev.customer = c;
    ev.time_ms = T0;
    whaco_event_encode(&ev, &full);
    ev.customer.missing = WHACO_FIELD_TIME_ON_LOT | WHACO_FIELD_ENGAGEMENT;
    ev.customer.time_on_lot = 0;
    ev.customer.engagement = 0;
    whaco_event_encode(&ev, &part);
    assert_int_equal(part.len, full.len - 16);
    assert_int_equal(whaco_event_decode(&back, part.data, part.len), WHACO_OK);
    assert_same_customer(&back.customer, &ev.customer);

    /* Nothing known but the id: never accepted, so never logged. */
    whaco_buf_clear(&part);
    memset(&ev.customer, 0, sizeof ev.customer);
    ev.customer.missing = WHACO_FIELDS_ALL;
    whaco_event_encode(&ev, &part);
    assert_int_equal(whaco_event_decode(&back, part.data, part.len), WHACO_E_STATE_CORRUPT);
    /* A trade-in alone gives no feature without the price. */
    whaco_buf_clear(&part);
    ev.customer.missing = WHACO_FIELDS_ALL & ~WHACO_FIELD_TRADE_VALUE;
    whaco_event_encode(&ev, &part);
    assert_int_equal(whaco_event_decode(&back, part.data, part.len), WHACO_E_STATE_CORRUPT);
    whaco_buf_release(&full);
    whaco_buf_release(&part);
}

/*
 * Format 2 (before the outcome and experiment_settings events) is read as it
 * was; a record of either claiming format 2, or an outcome record with an outcome or a source
 * outside their sets, is corruption. (Format 2's analyze records have their own layout:
 * event__format_2_analyze_records_still_decode.)
 */
static void event__format_2_records_decode_and_outcome_records_are_checked(void **state)
{
    (void)state;
    struct whaco_event evs[SAMPLES], back;
    int n = sample_events(evs);
    for (int i = 0; i < n; i++) {
        struct whaco_buf b = WHACO_BUF_INIT;
        whaco_event_encode(&evs[i], &b);
        assert_int_equal(b.data[0], 3);
        b.data[0] = 2;
        if (evs[i].type == WHACO_EV_ANALYZE) {
            whaco_buf_release(&b);
            continue;
        }
        int want = evs[i].type == WHACO_EV_OUTCOME || evs[i].type == WHACO_EV_EXPERIMENT_SETTINGS
                       ? WHACO_E_STATE_CORRUPT
                       : WHACO_OK;
        assert_int_equal(whaco_event_decode(&back, b.data, b.len), want);
        if (want == WHACO_OK)
            assert_memory_equal(&back, &evs[i], sizeof back);
        whaco_buf_release(&b);
    }
    struct whaco_event ev;
    for (int i = 0; i < n; i++)
        if (evs[i].type == WHACO_EV_OUTCOME)
            ev = evs[i];
    const struct {
        uint8_t outcome, via;
    } bad[] = {
        {0, WHACO_VIA_API}, {5, WHACO_VIA_API}, {WHACO_OUTCOME_SOLD, 0}, {WHACO_OUTCOME_SOLD, 3}};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct whaco_buf b = WHACO_BUF_INIT;
        ev.outcome = bad[i].outcome;
        ev.via = bad[i].via;
        whaco_event_encode(&ev, &b);
        assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_E_STATE_CORRUPT);
        whaco_buf_release(&b);
    }
}

/*
 * A logged event is held to the request's rules: an add-salesperson that
 * carries more activeDeals than a request may (a damaged or forged log)
 * decodes, but applying it is refused and names the field.
 */
static void event__logged_events_meet_the_request_rules(void **state)
{
    (void)state;
    struct whaco_event evs[SAMPLES], back;
    struct whaco_buf b = WHACO_BUF_INIT;
    const char *field = NULL;
    sample_events(evs);
    evs[0].active_deals = WHACO_TEAM_ACTIVE_DEALS_MAX + 1;
    assert_int_equal(whaco_event_encode(&evs[0], &b), WHACO_OK);
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_OK);
    assert_int_equal(whaco_intel_init(&direct, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_event_apply(&direct, &back, NULL, &field), WHACO_E_INVAL);
    assert_string_equal(field, "activeDeals");
    assert_int_equal(direct.team.n, 0);
    memcpy(back.id, "sp 1", 5); /* a space: not a salesperson id */
    back.active_deals = 0;
    assert_int_equal(whaco_event_apply(&direct, &back, NULL, &field), WHACO_E_ID_LENGTH);
    assert_string_equal(field, "id");
    whaco_intel_release(&direct);
    whaco_buf_release(&b);
}

/*
 * An experiment_settings record that no server could have written (the
 * same rule twice, a rule outside the floor's, "off" with a seed, enabled
 * neither 0 nor 1) is corruption; off, all zero, is a record.
 */
static void event__impossible_experiment_settings_are_corrupt(void **state)
{
    (void)state;
    static const uint8_t bad[][4] = {
        /* enabled, rule A, rule B, seed (low byte) */
        {1, 2, 2, 7}, {1, 0, 4, 7}, {1, 9, 0, 7}, {0, 0, 0, 7}, {0, 1, 2, 0}, {2, 0, 1, 7},
    };
    struct whaco_event back;
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct whaco_buf b = WHACO_BUF_INIT;
        whaco_buf_put_u8(&b, 2);
        whaco_buf_put_u32(&b, WHACO_EV_EXPERIMENT_SETTINGS);
        whaco_buf_put_i64(&b, T0);
        whaco_buf_put_u8(&b, bad[i][0]);
        whaco_buf_put_u8(&b, bad[i][1]);
        whaco_buf_put_u8(&b, bad[i][2]);
        whaco_buf_put_u64(&b, bad[i][3]);
        if (whaco_event_decode(&back, b.data, b.len) != WHACO_E_STATE_CORRUPT)
            fail_msg("experiment_settings %zu decoded", i);
        whaco_buf_release(&b);
    }
    struct whaco_buf b = WHACO_BUF_INIT;
    struct whaco_event off;
    whaco_event_init(&off, WHACO_EV_EXPERIMENT_SETTINGS);
    off.time_ms = T0;
    assert_int_equal(whaco_event_encode(&off, &b), WHACO_OK);
    assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_OK);
    assert_false(back.experiment.enabled);
    whaco_buf_release(&b);
    /* Applied, an impossible setting names the field and changes nothing. */
    const char *field = NULL;
    assert_int_equal(whaco_intel_init(&direct, NULL, NULL, NULL), WHACO_OK);
    off.experiment.enabled = true;
    off.experiment.seed = 3;
    assert_int_equal(whaco_event_apply(&direct, &off, NULL, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "experiment");
    assert_false(direct.exp.cfg.enabled);
    assert_false(direct.clock_set);
    whaco_intel_release(&direct);
}

/*
 * The store's property: applying events directly and replaying their
 * encodings give byte-identical saved states.
 */
static void event__replay_through_the_encoding_is_exact(void **state)
{
    (void)state;
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    struct whaco_buf log = WHACO_BUF_INIT;
    size_t offsets[2001], n = 0;
    whaco_rng_seed(&rng, 5);
    whaco_gen_params_default(&gp);
    assert_int_equal(whaco_intel_init(&direct, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_init(&replayed, NULL, NULL, NULL), WHACO_OK);

    int64_t now = T0;
    for (int i = 0; i < 2000; i++) {
        struct whaco_event ev;
        now += (int64_t)whaco_rng_below(&rng, 120000);
        if (i < 5) {
            whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
            snprintf(ev.id, sizeof ev.id, "sp-%d", i);
            snprintf(ev.name, sizeof ev.name, "Person %d", i);
            ev.skill_level = whaco_rng_uniform(&rng);
            ev.natural_frequency = 0.9;
        } else if (i % 7 == 0) {
            whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
            snprintf(ev.id, sizeof ev.id, "sp-%d", (int)whaco_rng_below(&rng, 5));
        } else if (i % 11 == 0) {
            whaco_event_init(&ev, WHACO_EV_TICK);
        } else {
            whaco_event_init(&ev, WHACO_EV_ANALYZE);
            whaco_gen_customer(&rng, &gp, &ev.customer, NULL);
        }
        ev.time_ms = now;
        assert_int_equal(whaco_event_apply(&direct, &ev, NULL, NULL), WHACO_OK);
        offsets[n++] = log.len;
        whaco_event_encode(&ev, &log);
    }
    offsets[n] = log.len;
    for (size_t i = 0; i < n; i++) {
        struct whaco_event ev;
        assert_int_equal(
            whaco_event_decode(&ev, log.data + offsets[i], offsets[i + 1] - offsets[i]), WHACO_OK);
        assert_int_equal(whaco_event_apply(&replayed, &ev, NULL, NULL), WHACO_OK);
    }
    struct whaco_buf a = WHACO_BUF_INIT, b = WHACO_BUF_INIT;
    whaco_intel_save(&direct, &a);
    whaco_intel_save(&replayed, &b);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    whaco_buf_release(&a);
    whaco_buf_release(&b);
    whaco_buf_release(&log);
    whaco_intel_release(&direct);
    whaco_intel_release(&replayed);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(event__every_type_round_trips),
        cmocka_unit_test(event__damaged_encodings_are_rejected),
        cmocka_unit_test(event__apply_dispatches_and_reports_errors),
        cmocka_unit_test(event__types_outside_the_table_are_refused),
        cmocka_unit_test(event__logged_events_meet_the_request_rules),
        cmocka_unit_test(event__format_1_records_still_decode),
        cmocka_unit_test(event__format_2_analyze_records_still_decode),
        cmocka_unit_test(event__unknown_fields_take_no_bytes),
        cmocka_unit_test(event__format_2_records_decode_and_outcome_records_are_checked),
        cmocka_unit_test(event__impossible_experiment_settings_are_corrupt),
        cmocka_unit_test(event__replay_through_the_encoding_is_exact),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

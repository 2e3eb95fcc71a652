/*
 * test_floor.c: the sales floor (whaco/floor.h) as the service drives it,
 * through the intelligence layer (whaco/intel.h) and the event table
 * (whaco/event.h).
 *
 * Covered: the settings and their names; an untracked floor behaving
 * exactly as the seed; when tracking starts and stops (floor-tracking
 * auto, on, off, reconfiguring, reset); who may take a walk-in, the desk's
 * line and every cause that moves it (with the news each event reports);
 * the four assignment rules, their tie-breaking by the up order and its
 * fairness over a day; the up order itself; clock-out and removal with
 * customers; customer-left and deal-closed with their refusals; be-backs;
 * the phases the floor sets and the held members of the dynamics; a
 * walk-in analysed twice; every refusal leaving the saved state
 * byte-identical; save/load, event-log replay and states saved before the
 * floor (no FLOR section, TEAM layout 1) or that no events make;
 * whaco_floor_coverage against an exact union; a full store; and random
 * days checked against the floor's invariants after every event.
 *
 * Most scenarios put every event at the same instant, so the network does
 * not move between them and phases and scores are exact.
 */
#include <math.h>
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
#include "whaco/rng.h"
#include "whaco/serial.h"
#include "whaco/team.h"

#define T0     1737124200000 /* 2025-01-17T14:30:00Z */
#define MINUTE 60000
#define PI     3.14159265358979323846
#define TAU    (2.0 * PI)

static struct whaco_intel in_a, in_b, scratch;

/*==== Helpers ====*/

/* A fresh layer whose floor has these settings (configured at T0). */
static void open_floor(struct whaco_intel *in, int tracking, int rule, uint32_t max_customers)
{
    struct whaco_floor_config cfg;
    assert_int_equal(whaco_intel_init(in, NULL, NULL, NULL), WHACO_OK);
    whaco_floor_config_default(&cfg);
    cfg.tracking = (enum whaco_floor_tracking)tracking;
    cfg.rule = (enum whaco_floor_rule)rule;
    cfg.max_customers = max_customers;
    assert_int_equal(whaco_intel_configure_floor(in, &cfg, T0, NULL), WHACO_OK);
}

static void configure(struct whaco_intel *in, int tracking, int rule, uint32_t max_customers,
                      bool be_back_to_original, int64_t now, struct whaco_floor_news *news)
{
    struct whaco_floor_config cfg;
    whaco_floor_config_default(&cfg);
    cfg.tracking = (enum whaco_floor_tracking)tracking;
    cfg.rule = (enum whaco_floor_rule)rule;
    cfg.max_customers = max_customers;
    cfg.be_back_to_original = be_back_to_original;
    if (news)
        memset(news, 0, sizeof *news);
    assert_int_equal(whaco_intel_configure_floor(in, &cfg, now, news), WHACO_OK);
}

/* Hire a salesperson at T0 (natural frequency 0.9, the given phase). */
static void hire_at(struct whaco_intel *in, const char *id, double skill, double phase)
{
    struct whaco_member_spec spec = {id, id, skill, 0.9, phase, 0};
    const char *field = NULL;
    int rc = whaco_intel_add_salesperson(in, &spec, T0, &field);
    if (rc != WHACO_OK)
        fail_msg("hire %s: %s (%s)", id, whaco_strerror(rc), field ? field : "-");
}

static void hire(struct whaco_intel *in, const char *id)
{
    hire_at(in, id, 0.5, 0.0);
}

/* n identical salespeople named sp-0 .. sp-(n-1). */
static void hire_team(struct whaco_intel *in, int n)
{
    for (int i = 0; i < n; i++) {
        char id[24];
        snprintf(id, sizeof id, "sp-%d", i);
        hire(in, id);
    }
}

static void clock_in(struct whaco_intel *in, const char *id, int64_t now)
{
    assert_int_equal(whaco_intel_clock_in(in, id, now, NULL), WHACO_OK);
}

static void set_status(struct whaco_intel *in, const char *id, int status, int64_t now)
{
    assert_int_equal(whaco_intel_set_status(in, id, status, now, NULL), WHACO_OK);
}

static struct whaco_customer customer(const char *id)
{
    struct whaco_customer c = {"", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    snprintf(c.id, sizeof c.id, "%s", id);
    return c;
}

static struct whaco_analysis walk_in(struct whaco_intel *in, const char *id, int64_t now)
{
    struct whaco_analysis an;
    struct whaco_customer c = customer(id);
    const char *field = NULL;
    int rc = whaco_intel_analyze(in, &c, now, &an, &field);
    if (rc != WHACO_OK)
        fail_msg("analyze %s: %s (%s)", id, whaco_strerror(rc), field ? field : "-");
    return an;
}

static const struct whaco_member *member(const struct whaco_intel *in, const char *id)
{
    size_t i;
    if (whaco_team_find(&in->team, id, &i) != WHACO_OK)
        fail_msg("no member %s", id);
    return &in->team.members[i];
}

/* The salesperson an open walk-in is with ("" while it waits). */
static const char *with_whom(const struct whaco_intel *in, const char *customer_id)
{
    int32_t k = whaco_floor_find(&in->floor, customer_id);
    if (k < 0)
        fail_msg("%s is not in the store", customer_id);
    return in->floor.open[k].salesperson_id;
}

/* Its place at the desk (1 = next), 0 when with someone. */
static uint32_t queue_pos(const struct whaco_intel *in, const char *customer_id)
{
    int32_t k = whaco_floor_find(&in->floor, customer_id);
    if (k < 0)
        fail_msg("%s is not in the store", customer_id);
    return whaco_floor_queue_position(&in->floor, (uint32_t)k);
}

static struct whaco_buf save(const struct whaco_intel *in)
{
    struct whaco_buf b = WHACO_BUF_INIT;
    assert_int_equal(whaco_intel_save(in, &b), WHACO_OK);
    return b;
}

static void assert_state_is(const struct whaco_intel *in, const struct whaco_buf *b)
{
    struct whaco_buf now = save(in);
    assert_int_equal(now.len, b->len);
    assert_memory_equal(now.data, b->data, b->len);
    whaco_buf_release(&now);
}

static void assert_same_state(const struct whaco_intel *x, const struct whaco_intel *y)
{
    struct whaco_buf b = save(y);
    assert_state_is(x, &b);
    whaco_buf_release(&b);
}

/* call must return err and leave *in byte-for-byte as it was. */
#define ASSERT_REFUSED(in, call, err)                                                              \
    do {                                                                                           \
        struct whaco_buf before_ = save(in);                                                       \
        assert_int_equal((call), (err));                                                           \
        assert_state_is((in), &before_);                                                           \
        whaco_buf_release(&before_);                                                               \
    } while (0)

static void assert_news(const struct whaco_floor_news *news, uint32_t k, const char *customer_id,
                        const char *salesperson_id, int64_t waited_ms, bool override)
{
    assert_true(k < news->n);
    assert_string_equal(news->a[k].customer_id, customer_id);
    assert_string_equal(news->a[k].salesperson_id, salesperson_id);
    assert_true(news->a[k].waited_ms == waited_ms);
    assert_int_equal(news->a[k].override, override);
}

/* The up order as a string of ids, "a,b,c". */
static const char *up_order(const struct whaco_intel *in)
{
    static char text[512];
    uint32_t order[64];
    assert_true(in->team.n <= 64);
    size_t n = whaco_floor_up_order(&in->team, order);
    text[0] = '\0';
    for (size_t k = 0; k < n; k++) {
        if (k)
            strcat(text, ",");
        strcat(text, in->team.members[order[k]].id);
    }
    return text;
}

/*
 * The floor's invariants (floor.c's header): activeDeals counts walk-ins,
 * held is exactly "tracked and not available", up numbers are distinct
 * for those on the floor and 0 for the others, open ids are unique, the
 * line moves whenever a slot is free, an untracked floor is empty -- and
 * the state saves and loads back to the same bytes.
 */
static void check_floor(const struct whaco_intel *in)
{
    const struct whaco_floor *f = &in->floor;
    const struct whaco_team *t = &in->team;
    bool someone_waits = false, someone_free = false;
    if (!f->tracked)
        assert_int_equal(f->n_open, 0);
    for (uint32_t k = 0; k < f->n_open; k++) {
        assert_true(f->open[k].customer_id[0] != '\0');
        assert_int_equal(whaco_floor_find(f, f->open[k].customer_id), (int32_t)k);
        someone_waits |= f->open[k].salesperson_id[0] == '\0';
    }
    for (size_t i = 0; i < t->n; i++) {
        const struct whaco_member *m = &t->members[i];
        uint32_t with = 0;
        for (uint32_t k = 0; k < f->n_open; k++)
            with += strcmp(f->open[k].salesperson_id, m->id) == 0;
        if (f->tracked)
            assert_int_equal(m->active_deals, with);
        else
            assert_int_equal(m->seat.status, WHACO_SEAT_OFF);
        assert_int_equal(m->held, f->tracked && m->seat.status != WHACO_SEAT_AVAILABLE);
        assert_int_equal(m->seat.status == WHACO_SEAT_OFF, m->seat.up == 0);
        for (size_t j = 0; j < i && m->seat.up; j++)
            assert_true(t->members[j].seat.up != m->seat.up);
        someone_free |= whaco_floor_is_free(f, t, i);
    }
    assert_false(someone_waits && someone_free);

    struct whaco_buf b = save(in);
    assert_int_equal(whaco_intel_init(&scratch, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_load(&scratch, b.data, b.len), WHACO_OK);
    assert_state_is(&scratch, &b);
    whaco_intel_release(&scratch);
    whaco_buf_release(&b);
}

/*==== 0. Names and settings ====*/

static void floor__names_and_settings(void **state)
{
    (void)state;
    const char *tracking[] = {"auto", "on", "off"};
    const char *rules[] = {"network", "up-rotation", "round-robin", "least-busy"};
    const char *outcomes[] = {NULL, "sold", "no_sale", "be_back", "appointment"};
    const char *statuses[] = {"off", "available", "break", "delivery", "appointment"};
    for (int i = 0; i < 3; i++) {
        assert_string_equal(whaco_floor_tracking_name(i), tracking[i]);
        assert_int_equal(whaco_floor_tracking_parse(tracking[i]), i);
    }
    for (int i = 0; i < 4; i++) {
        assert_string_equal(whaco_floor_rule_name(i), rules[i]);
        assert_int_equal(whaco_floor_rule_parse(rules[i]), i);
    }
    for (int i = 1; i < 5; i++) {
        assert_string_equal(whaco_outcome_name(i), outcomes[i]);
        assert_int_equal(whaco_outcome_parse(outcomes[i]), i);
    }
    for (int i = 0; i < 5; i++) {
        assert_string_equal(whaco_seat_status_name(i), statuses[i]);
        assert_int_equal(whaco_seat_status_parse(statuses[i]), i);
    }
    assert_null(whaco_floor_tracking_name(3));
    assert_null(whaco_floor_rule_name(-1));
    assert_null(whaco_outcome_name(0));
    assert_null(whaco_seat_status_name(5));
    assert_int_equal(whaco_floor_rule_parse("Network"), -1);
    assert_int_equal(whaco_outcome_parse(NULL), -1);
    assert_int_equal(whaco_seat_status_parse(""), -1);

    struct whaco_floor_config cfg;
    const char *field = NULL;
    whaco_floor_config_default(&cfg);
    assert_int_equal(cfg.tracking, WHACO_TRACKING_AUTO);
    assert_int_equal(cfg.rule, WHACO_RULE_NETWORK);
    assert_int_equal(cfg.max_customers, 2);
    assert_true(cfg.be_back_to_original);
    assert_int_equal(whaco_floor_config_check(&cfg, &field), WHACO_OK);
    cfg.max_customers = WHACO_FLOOR_CUSTOMERS_MAX + 1;
    assert_int_equal(whaco_floor_config_check(&cfg, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "maxCustomers");
    cfg.rule = (enum whaco_floor_rule)9;
    assert_int_equal(whaco_floor_config_check(&cfg, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "assignment");
    cfg.tracking = (enum whaco_floor_tracking)9;
    assert_int_equal(whaco_floor_config_check(&cfg, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "floorTracking");
}

/*==== 1. An untracked floor is the seed ====*/

/*
 * With floor-tracking auto and nobody clocked in, analyze-customer assigns
 * each walk-in at arrival across the whole team by the seed's rule, with
 * no queue however many customers each salesperson has; floor-tracking off
 * does the same.
 */
static void floor__untracked_floor_assigns_at_arrival_like_the_seed(void **state)
{
    (void)state;
    struct whaco_team seed;
    struct whaco_member_spec s1 = {"sp-1", "sp-1", 0.9, 0.9, 0.0, 0};
    struct whaco_member_spec s2 = {"sp-2", "sp-2", 0.4, 0.9, 0.0, 0};
    assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
    open_floor(&in_b, WHACO_TRACKING_OFF, WHACO_RULE_NETWORK, 2);
    assert_int_equal(whaco_team_init(&seed, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_team_add(&seed, &s1, NULL), WHACO_OK);
    assert_int_equal(whaco_team_add(&seed, &s2, NULL), WHACO_OK);
    hire_at(&in_a, "sp-1", 0.9, 0.0);
    hire_at(&in_a, "sp-2", 0.4, 0.0);
    hire_at(&in_b, "sp-1", 0.9, 0.0);
    hire_at(&in_b, "sp-2", 0.4, 0.0);

    for (int k = 0; k < 7; k++) {
        char id[24];
        size_t expect;
        snprintf(id, sizeof id, "c%d", k);
        struct whaco_analysis a = walk_in(&in_a, id, T0);
        struct whaco_analysis b = walk_in(&in_b, id, T0);
        assert_int_equal(whaco_team_assign(&seed, a.segment.priority, &expect, NULL), WHACO_OK);
        assert_false(a.floor_tracked);
        assert_false(a.returning);
        assert_int_equal(a.queue_position, 0);
        assert_int_equal(a.assign_rc, WHACO_OK);
        assert_string_equal(a.assigned_id, seed.members[expect].id);
        assert_memory_equal(&a, &b, sizeof a);
    }
    /* Nobody waited: 7 leads on 2 salespeople, beyond any max-customers. */
    assert_int_equal(in_a.floor.n_open, 0);
    assert_false(in_a.floor.tracked);
    assert_int_equal(in_a.team.members[0].active_deals + in_a.team.members[1].active_deals, 7);
    /* The team is exactly the seed's. */
    struct whaco_buf x = WHACO_BUF_INIT, y = WHACO_BUF_INIT;
    whaco_team_encode(&in_a.team, &x);
    whaco_team_encode(&seed, &y);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);

    /* deal-closed is the seed's too: a customerId is ignored. */
    double phase = in_a.team.members[0].phase;
    uint32_t active = in_a.team.members[0].active_deals;
    assert_int_equal(whaco_intel_deal_closed(&in_a, "sp-1", "c0", T0, NULL), WHACO_OK);
    assert_int_equal(whaco_team_deal_closed(&seed, "sp-1"), WHACO_OK);
    assert_true(fabs(in_a.team.members[0].phase - fmod(phase + PI / 2, TAU)) < 1e-12);
    assert_int_equal(in_a.team.members[0].active_deals, active - 1);
    assert_int_equal(in_a.team.members[0].deals_today, 1);
    whaco_buf_clear(&x);
    whaco_buf_clear(&y);
    whaco_team_encode(&in_a.team, &x);
    whaco_team_encode(&seed, &y);
    assert_memory_equal(x.data, y.data, x.len);
    /* Nothing is held on an untracked floor: everyone moves. */
    assert_false(in_a.team.members[0].held);
    assert_false(in_a.team.members[1].held);

    /* The floor's own events have no walk-ins to act on before tracking. */
    ASSERT_REFUSED(&in_a,
                   whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_NO_SALE, NULL, T0, NULL),
                   WHACO_E_FLOOR_OFF);
    ASSERT_REFUSED(&in_a, whaco_intel_override(&in_a, "c1", "sp-1", T0, NULL), WHACO_E_FLOOR_OFF);
    ASSERT_REFUSED(&in_a, whaco_intel_set_status(&in_a, "sp-1", WHACO_SEAT_BREAK, T0, NULL),
                   WHACO_E_OFF_FLOOR);
    /* A clock-out of someone not clocked in changes nothing and starts nothing. */
    assert_int_equal(whaco_intel_clock_out(&in_a, "sp-1", T0, NULL), WHACO_OK);
    assert_false(in_a.floor.tracked);

    whaco_buf_release(&x);
    whaco_buf_release(&y);
    whaco_team_release(&seed);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

/*==== 2. Tracking ====*/

static void floor__tracking_auto_starts_at_the_first_clock_in(void **state)
{
    (void)state;
    assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(in_a.floor.cfg.tracking, WHACO_TRACKING_AUTO);
    hire_team(&in_a, 3);
    struct whaco_analysis an = walk_in(&in_a, "early", T0);
    assert_false(an.floor_tracked);
    assert_int_equal(member(&in_a, an.assigned_id)->active_deals, 1);

    struct whaco_floor_news news;
    memset(&news, 0, sizeof news);
    assert_int_equal(whaco_intel_clock_in(&in_a, "sp-1", T0 + MINUTE, &news), WHACO_OK);
    assert_int_equal(news.n, 0);
    assert_true(in_a.floor.tracked);
    /* The untracked floor's open leads are forgotten: activeDeals counts walk-ins now. */
    for (size_t i = 0; i < in_a.team.n; i++)
        assert_int_equal(in_a.team.members[i].active_deals, 0);
    assert_int_equal(member(&in_a, "sp-1")->seat.status, WHACO_SEAT_AVAILABLE);
    assert_false(member(&in_a, "sp-1")->held);
    assert_true(member(&in_a, "sp-1")->phase == 0.0);
    assert_true(member(&in_a, "sp-0")->held);
    assert_true(member(&in_a, "sp-2")->held);
    assert_int_equal(member(&in_a, "sp-0")->seat.status, WHACO_SEAT_OFF);

    an = walk_in(&in_a, "c1", T0 + MINUTE);
    assert_true(an.floor_tracked);
    assert_false(an.returning);
    assert_int_equal(an.queue_position, 0);
    assert_int_equal(an.assign_rc, WHACO_OK);
    assert_string_equal(an.assigned_id, "sp-1");
    assert_string_equal(in_a.team.members[an.assigned].id, "sp-1");
    assert_string_equal(an.customer_id, "c1");
    assert_int_equal(member(&in_a, "sp-1")->active_deals, 1);
    assert_int_equal(member(&in_a, "sp-1")->seat.walkins_today, 1);
    /* A salesperson hired later is off the floor, held, until they clock in. */
    struct whaco_member_spec spec = {"late", "late", 0.5, 0.9, 1.0, 4};
    assert_int_equal(whaco_intel_add_salesperson(&in_a, &spec, T0 + MINUTE, NULL), WHACO_OK);
    assert_true(member(&in_a, "late")->held);
    assert_int_equal(member(&in_a, "late")->active_deals, 0);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

static void floor__tracking_off_refuses_floor_events(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_OFF, WHACO_RULE_NETWORK, 2);
    hire_team(&in_a, 2);
    struct whaco_analysis an = walk_in(&in_a, "c1", T0);
    assert_false(an.floor_tracked);
    assert_int_equal(an.assign_rc, WHACO_OK);
    assert_string_not_equal(an.assigned_id, "");
    ASSERT_REFUSED(&in_a, whaco_intel_clock_in(&in_a, "sp-0", T0, NULL), WHACO_E_FLOOR_OFF);
    ASSERT_REFUSED(&in_a, whaco_intel_clock_out(&in_a, "sp-0", T0, NULL), WHACO_E_FLOOR_OFF);
    ASSERT_REFUSED(&in_a, whaco_intel_set_status(&in_a, "sp-0", WHACO_SEAT_BREAK, T0, NULL),
                   WHACO_E_FLOOR_OFF);
    ASSERT_REFUSED(&in_a,
                   whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_NO_SALE, NULL, T0, NULL),
                   WHACO_E_FLOOR_OFF);
    ASSERT_REFUSED(&in_a, whaco_intel_override(&in_a, "c1", "sp-0", T0, NULL), WHACO_E_FLOOR_OFF);
    ASSERT_REFUSED(&in_a, whaco_intel_clock_in(&in_a, "nobody", T0, NULL), WHACO_E_NOT_FOUND);
    /* deal-closed is the seed's: a customerId is ignored, not refused. */
    assert_int_equal(whaco_intel_deal_closed(&in_a, an.assigned_id, "c1", T0, NULL), WHACO_OK);
    assert_int_equal(member(&in_a, an.assigned_id)->deals_today, 1);
    assert_false(in_a.floor.tracked);
    whaco_intel_release(&in_a);
}

static void floor__tracking_on_tracks_from_the_start(void **state)
{
    (void)state;
    struct whaco_floor_news news;
    open_floor(&in_a, WHACO_TRACKING_ON, WHACO_RULE_NETWORK, 2);
    assert_true(in_a.floor.tracked);
    /* Nobody on the team: the walk-in still waits at the desk. */
    struct whaco_analysis an = walk_in(&in_a, "c0", T0);
    assert_true(an.floor_tracked);
    assert_int_equal(an.queue_position, 1);
    assert_int_equal(an.assign_rc, WHACO_E_EMPTY_TEAM);
    assert_string_equal(an.assigned_id, "");

    hire_team(&in_a, 2);
    assert_true(member(&in_a, "sp-0")->held); /* off the floor */
    an = walk_in(&in_a, "c1", T0 + MINUTE);
    assert_int_equal(an.queue_position, 2);
    assert_string_equal(an.assigned_id, "");
    an = walk_in(&in_a, "c2", T0 + 2 * MINUTE);
    assert_int_equal(an.queue_position, 3);

    memset(&news, 0, sizeof news);
    assert_int_equal(whaco_intel_clock_in(&in_a, "sp-0", T0 + 5 * MINUTE, &news), WHACO_OK);
    assert_int_equal(news.n, 2); /* max-customers 2 */
    assert_false(news.truncated);
    assert_news(&news, 0, "c0", "sp-0", 5 * MINUTE, false);
    assert_news(&news, 1, "c1", "sp-0", 4 * MINUTE, false);
    assert_int_equal(queue_pos(&in_a, "c2"), 1);
    assert_int_equal(in_a.floor.open[whaco_floor_find(&in_a.floor, "c0")].assigned_ms,
                     T0 + 5 * MINUTE);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

static void floor__reconfiguring_turns_tracking_on_and_off(void **state)
{
    (void)state;
    struct whaco_floor_news news;
    assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
    hire_team(&in_a, 3);
    clock_in(&in_a, "sp-0", T0);
    clock_in(&in_a, "sp-1", T0);
    walk_in(&in_a, "c1", T0);
    walk_in(&in_a, "c2", T0);
    walk_in(&in_a, "c3", T0);
    set_status(&in_a, "sp-1", WHACO_SEAT_BREAK, T0);
    assert_int_equal(in_a.floor.n_open, 3);

    /* Off: the walk-ins are forgotten, nobody is on the floor or held. */
    configure(&in_a, WHACO_TRACKING_OFF, WHACO_RULE_NETWORK, 2, true, T0, &news);
    assert_false(in_a.floor.tracked);
    assert_int_equal(in_a.floor.n_open, 0);
    for (size_t i = 0; i < in_a.team.n; i++) {
        assert_int_equal(in_a.team.members[i].seat.status, WHACO_SEAT_OFF);
        assert_true(in_a.team.members[i].seat.up == 0);
        assert_false(in_a.team.members[i].held);
        assert_int_equal(in_a.team.members[i].active_deals, 0);
    }
    check_floor(&in_a);
    struct whaco_analysis an = walk_in(&in_a, "c4", T0);
    assert_false(an.floor_tracked);
    assert_string_not_equal(an.assigned_id, "");
    ASSERT_REFUSED(&in_a, whaco_intel_clock_in(&in_a, "sp-0", T0, NULL), WHACO_E_FLOOR_OFF);

    /* Back to auto: still untracked until someone clocks in. */
    configure(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_NETWORK, 2, true, T0, NULL);
    assert_false(in_a.floor.tracked);
    clock_in(&in_a, "sp-2", T0);
    assert_true(in_a.floor.tracked);
    assert_int_equal(member(&in_a, "sp-2")->active_deals, 0);
    check_floor(&in_a);

    /* Off, then on: tracked at once, everybody off the floor and held. */
    configure(&in_a, WHACO_TRACKING_OFF, WHACO_RULE_NETWORK, 2, true, T0, NULL);
    walk_in(&in_a, "c5", T0);
    configure(&in_a, WHACO_TRACKING_ON, WHACO_RULE_NETWORK, 2, true, T0, NULL);
    assert_true(in_a.floor.tracked);
    for (size_t i = 0; i < in_a.team.n; i++) {
        assert_true(in_a.team.members[i].held);
        assert_int_equal(in_a.team.members[i].active_deals, 0);
    }
    /* On, then auto: still tracked (auto only ever starts tracking). */
    configure(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_NETWORK, 2, true, T0, NULL);
    assert_true(in_a.floor.tracked);

    /* max-customers: a rise moves the line at once, a fall takes nothing away. */
    clock_in(&in_a, "sp-0", T0);
    walk_in(&in_a, "d1", T0);
    walk_in(&in_a, "d2", T0);
    walk_in(&in_a, "d3", T0 + MINUTE);
    assert_int_equal(queue_pos(&in_a, "d3"), 1);
    configure(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_NETWORK, 3, true, T0 + 3 * MINUTE, &news);
    assert_int_equal(news.n, 1);
    assert_news(&news, 0, "d3", "sp-0", 2 * MINUTE, false);
    configure(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_NETWORK, 1, true, T0 + 3 * MINUTE, &news);
    assert_int_equal(news.n, 0);
    assert_int_equal(member(&in_a, "sp-0")->active_deals, 3);
    assert_int_equal(walk_in(&in_a, "d4", T0 + 3 * MINUTE).queue_position, 1);
    /* A bad setting is refused and changes nothing. */
    struct whaco_floor_config bad;
    whaco_floor_config_default(&bad);
    bad.max_customers = 0;
    ASSERT_REFUSED(&in_a, whaco_intel_configure_floor(&in_a, &bad, T0 + 3 * MINUTE, NULL),
                   WHACO_E_CONFIG);
    bad.max_customers = WHACO_FLOOR_CUSTOMERS_MAX + 1;
    ASSERT_REFUSED(&in_a, whaco_intel_configure_floor(&in_a, &bad, T0 + 3 * MINUTE, NULL),
                   WHACO_E_CONFIG);
    whaco_floor_config_default(&bad);
    bad.rule = (enum whaco_floor_rule)4;
    ASSERT_REFUSED(&in_a, whaco_intel_configure_floor(&in_a, &bad, T0 + 3 * MINUTE, NULL),
                   WHACO_E_CONFIG);
    whaco_floor_config_default(&bad);
    bad.tracking = (enum whaco_floor_tracking)3;
    ASSERT_REFUSED(&in_a, whaco_intel_configure_floor(&in_a, &bad, T0 + 3 * MINUTE, NULL),
                   WHACO_E_CONFIG);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/*==== 3. Who is free, the desk's line, and what moves it ====*/

static void floor__walk_ins_go_only_to_free_salespeople(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 2);
    hire_team(&in_a, 4);
    clock_in(&in_a, "sp-0", T0);
    clock_in(&in_a, "sp-1", T0);
    clock_in(&in_a, "sp-2", T0);
    set_status(&in_a, "sp-1", WHACO_SEAT_BREAK, T0); /* sp-3 stays clocked out */
    const char *expect[] = {"sp-0", "sp-2", "sp-0", "sp-2"};
    for (int k = 0; k < 4; k++) {
        char id[24];
        snprintf(id, sizeof id, "c%d", k);
        struct whaco_analysis an = walk_in(&in_a, id, T0);
        assert_string_equal(an.assigned_id, expect[k]);
        assert_int_equal(an.queue_position, 0);
    }
    for (uint32_t k = 4; k < 7; k++) {
        char id[24];
        snprintf(id, sizeof id, "c%u", k);
        struct whaco_analysis an = walk_in(&in_a, id, T0);
        assert_int_equal(an.queue_position, k - 3);
        assert_string_equal(an.assigned_id, "");
        assert_string_equal(with_whom(&in_a, id), "");
    }
    assert_int_equal(member(&in_a, "sp-0")->active_deals, 2);
    assert_int_equal(member(&in_a, "sp-2")->active_deals, 2);
    assert_int_equal(member(&in_a, "sp-1")->active_deals, 0);
    assert_int_equal(member(&in_a, "sp-3")->active_deals, 0);
    assert_false(whaco_floor_is_free(&in_a.floor, &in_a.team, 1));
    assert_false(whaco_floor_is_free(&in_a.floor, &in_a.team, 3));
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/*
 * The floor every "line moves" scenario starts from, up-rotation and
 * max-customers 1: sp-a and sp-b clocked in with c1 and c2, sp-d clocked in
 * but on a break, sp-c clocked out, c3 and c4 waiting (1, 2). c<k> arrived
 * at T0 + k minutes.
 */
static void busy_line(struct whaco_intel *in)
{
    open_floor(in, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 1);
    hire(in, "sp-a");
    hire(in, "sp-b");
    hire(in, "sp-c");
    hire(in, "sp-d");
    clock_in(in, "sp-a", T0);
    clock_in(in, "sp-b", T0);
    clock_in(in, "sp-d", T0);
    set_status(in, "sp-d", WHACO_SEAT_BREAK, T0);
    assert_string_equal(walk_in(in, "c1", T0 + 1 * MINUTE).assigned_id, "sp-a");
    assert_string_equal(walk_in(in, "c2", T0 + 2 * MINUTE).assigned_id, "sp-b");
    assert_int_equal(walk_in(in, "c3", T0 + 3 * MINUTE).queue_position, 1);
    assert_int_equal(walk_in(in, "c4", T0 + 4 * MINUTE).queue_position, 2);
}

/* Each cause that frees a slot hands the head of the line over at once. */
static void floor__the_line_moves_the_moment_a_slot_frees(void **state)
{
    (void)state;
    const int64_t now = T0 + 10 * MINUTE;
    struct whaco_floor_news news;
    for (int cause = 0; cause < 7; cause++) {
        busy_line(&in_a);
        memset(&news, 0, sizeof news);
        switch (cause) {
        case 0: /* a customer leaves */
            assert_int_equal(
                whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_NO_SALE, "sp-a", now, &news),
                WHACO_OK);
            assert_int_equal(news.n, 1);
            assert_news(&news, 0, "c3", "sp-a", 7 * MINUTE, false);
            break;
        case 1: /* a deal closes on a named walk-in */
            assert_int_equal(whaco_intel_deal_closed(&in_a, "sp-b", "c2", now, &news), WHACO_OK);
            assert_int_equal(news.n, 1);
            assert_news(&news, 0, "c3", "sp-b", 7 * MINUTE, false);
            break;
        case 2: /* a deal closes without a customerId: linked to sp-a's walk-in */
            assert_int_equal(whaco_intel_deal_closed(&in_a, "sp-a", NULL, now, &news), WHACO_OK);
            assert_int_equal(news.n, 1);
            assert_news(&news, 0, "c3", "sp-a", 7 * MINUTE, false);
            assert_true(whaco_floor_ended(&in_a.floor, "c1"));
            break;
        case 3: /* someone clocks in */
            assert_int_equal(whaco_intel_clock_in(&in_a, "sp-c", now, &news), WHACO_OK);
            assert_int_equal(news.n, 1);
            assert_news(&news, 0, "c3", "sp-c", 7 * MINUTE, false);
            break;
        case 4: /* back from a break */
            assert_int_equal(
                whaco_intel_set_status(&in_a, "sp-d", WHACO_SEAT_AVAILABLE, now, &news), WHACO_OK);
            assert_int_equal(news.n, 1);
            assert_news(&news, 0, "c3", "sp-d", 7 * MINUTE, false);
            break;
        case 5: /* a manager moves c1 away from sp-a (to someone on a break: allowed) */
            assert_int_equal(whaco_intel_override(&in_a, "c1", "sp-d", now, &news), WHACO_OK);
            assert_int_equal(news.n, 2);
            assert_news(&news, 0, "c1", "sp-d", 9 * MINUTE, true);
            assert_news(&news, 1, "c3", "sp-a", 7 * MINUTE, false);
            break;
        case 6: /* max-customers rises: both move */
            configure(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 2, true, now, &news);
            assert_int_equal(news.n, 2);
            assert_news(&news, 0, "c3", "sp-a", 7 * MINUTE, false);
            assert_news(&news, 1, "c4", "sp-b", 6 * MINUTE, false);
            break;
        }
        if (cause != 6) {
            assert_int_equal(queue_pos(&in_a, "c4"), 1);
            assert_int_equal(in_a.floor.open[whaco_floor_find(&in_a.floor, "c3")].assigned_ms, now);
        }
        assert_int_equal(queue_pos(&in_a, "c3"), 0);
        check_floor(&in_a);
        whaco_intel_release(&in_a);
    }
}

/* More assignments than one event's news holds: the first ones, and truncated. */
static void floor__news_of_a_big_move_is_truncated(void **state)
{
    (void)state;
    struct whaco_floor_news news;
    open_floor(&in_a, WHACO_TRACKING_ON, WHACO_RULE_UP_ROTATION, 1);
    hire_team(&in_a, 2);
    for (int k = 0; k < 30; k++) {
        char id[24];
        snprintf(id, sizeof id, "c%02d", k);
        walk_in(&in_a, id, T0);
    }
    clock_in(&in_a, "sp-0", T0);
    clock_in(&in_a, "sp-1", T0);
    configure(&in_a, WHACO_TRACKING_ON, WHACO_RULE_UP_ROTATION, WHACO_FLOOR_CUSTOMERS_MAX, true, T0,
              &news);
    assert_int_equal(news.n, WHACO_FLOOR_NEWS_MAX);
    assert_true(news.truncated);
    assert_news(&news, 0, "c02", "sp-0", 0, false);
    assert_int_equal(member(&in_a, "sp-0")->active_deals + member(&in_a, "sp-1")->active_deals, 30);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/*==== 4. The rules ====*/

/*
 * The network rule's score of free member i (an oracle computed here, as
 * docs/floor.md states it): the seed's whaco_team_score plus 0.3 times its
 * turn -- 1 for the first free in the up order, evenly down to 0 for the
 * last.
 */
static double network_score(const struct whaco_intel *in, size_t i, double priority)
{
    size_t nfree = 0, ahead = 0;
    for (size_t j = 0; j < in->team.n; j++) {
        if (!whaco_floor_is_free(&in->floor, &in->team, j))
            continue;
        nfree++;
        ahead += in->team.members[j].seat.up < in->team.members[i].seat.up;
    }
    double turn = nfree > 1 ? 1.0 - (double)ahead / (double)(nfree - 1) : 1.0;
    return whaco_team_score(&in->team, i, priority) + 0.3 * turn;
}

/* network: the best network_score among the free. */
static void floor__network_gives_the_best_score(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_NETWORK, 3);
    hire_at(&in_a, "junior", 0.2, 0.0);
    hire_at(&in_a, "middle", 0.6, 0.0);
    hire_at(&in_a, "senior", 0.95, 0.0);
    clock_in(&in_a, "senior", T0);
    clock_in(&in_a, "junior", T0);
    clock_in(&in_a, "middle", T0);
    struct whaco_analysis an = walk_in(&in_a, "c0", T0);
    assert_true(an.segment.priority > 0.9);
    assert_string_equal(an.assigned_id, "senior"); /* first up and the best match */

    for (int k = 1; k < 8; k++) {
        size_t best = SIZE_MAX;
        double best_score = -1.0;
        struct whaco_customer c = customer("");
        snprintf(c.id, sizeof c.id, "c%d", k);
        c.credit_score = 500 + 40 * k; /* a spread of segments and priorities */
        c.annual_income = 30000 + 9000 * k;
        int64_t now = T0 + k * 7 * MINUTE;
        /* Advance first (a tick), so the oracle sees the phases the analyze sees. */
        assert_int_equal(whaco_intel_tick(&in_a, now), WHACO_OK);
        struct whaco_segment_result r;
        struct whaco_segmenter seg = in_a.seg;
        assert_int_equal(whaco_segment_learn(&seg, &c, now, &r, NULL), WHACO_OK);
        for (size_t i = 0; i < in_a.team.n; i++) {
            if (!whaco_floor_is_free(&in_a.floor, &in_a.team, i))
                continue;
            double s = network_score(&in_a, i, r.priority);
            if (s > best_score) {
                best = i;
                best_score = s;
            }
        }
        struct whaco_analysis got;
        assert_int_equal(whaco_intel_analyze(&in_a, &c, now, &got, NULL), WHACO_OK);
        if (best == SIZE_MAX) {
            assert_true(got.queue_position > 0);
        } else {
            assert_string_equal(got.assigned_id, in_a.team.members[best].id);
        }
    }
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

static void floor__up_rotation_gives_the_first_up(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 2);
    hire_at(&in_a, "a", 0.9, 0.0);
    hire_at(&in_a, "b", 0.1, 0.0);
    hire_at(&in_a, "c", 0.5, 2.0);
    clock_in(&in_a, "c", T0);
    clock_in(&in_a, "b", T0);
    clock_in(&in_a, "a", T0);
    assert_string_equal(up_order(&in_a), "c,b,a");
    const char *expect[] = {"c", "b", "a", "c", "b", "a"};
    for (int k = 0; k < 6; k++) {
        char id[24];
        snprintf(id, sizeof id, "c%d", k);
        assert_string_equal(walk_in(&in_a, id, T0 + k * MINUTE).assigned_id, expect[k]);
    }
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

static void floor__round_robin_cycles_in_team_order(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_ROUND_ROBIN, 5);
    hire_team(&in_a, 4);
    clock_in(&in_a, "sp-3", T0); /* the up order is the reverse of the team's */
    clock_in(&in_a, "sp-2", T0);
    clock_in(&in_a, "sp-1", T0);
    clock_in(&in_a, "sp-0", T0);
    const char *expect[] = {"sp-0", "sp-1", "sp-2", "sp-3", "sp-0", "sp-1"};
    for (int k = 0; k < 6; k++) {
        char id[24];
        snprintf(id, sizeof id, "c%d", k);
        assert_string_equal(walk_in(&in_a, id, T0).assigned_id, expect[k]);
    }
    /* Those not free are skipped, and the cycle goes on after them. */
    set_status(&in_a, "sp-2", WHACO_SEAT_DELIVERY, T0);
    const char *then[] = {"sp-3", "sp-0", "sp-1", "sp-3"};
    for (int k = 0; k < 4; k++) {
        char id[24];
        snprintf(id, sizeof id, "d%d", k);
        assert_string_equal(walk_in(&in_a, id, T0).assigned_id, then[k]);
    }
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/* The last one chosen leaves the team: the turn goes on after them, not back to the first. */
static void floor__round_robin_goes_on_after_a_removed_salesperson(void **state)
{
    (void)state;
    struct whaco_floor_news news;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_ROUND_ROBIN, 5);
    hire_team(&in_a, 5);
    for (int i = 0; i < 5; i++) {
        char id[24];
        snprintf(id, sizeof id, "sp-%d", i);
        clock_in(&in_a, id, T0);
    }
    assert_string_equal(walk_in(&in_a, "c0", T0).assigned_id, "sp-0");
    assert_string_equal(walk_in(&in_a, "c1", T0).assigned_id, "sp-1");
    assert_string_equal(walk_in(&in_a, "c2", T0).assigned_id, "sp-2");
    /* sp-2 leaves: c2 goes to the next in turn, sp-3, then sp-4, then round to sp-0. */
    memset(&news, 0, sizeof news);
    assert_int_equal(whaco_intel_remove_salesperson(&in_a, "sp-2", T0, &news), WHACO_OK);
    assert_int_equal(news.n, 1);
    assert_news(&news, 0, "c2", "sp-3", 0, false);
    assert_string_equal(walk_in(&in_a, "c3", T0).assigned_id, "sp-4");
    /* sp-4 (the last chosen) leaves with nobody waiting: the turn is sp-0's. */
    assert_int_equal(whaco_intel_customer_left(&in_a, "c3", WHACO_OUTCOME_NO_SALE, NULL, T0, NULL),
                     WHACO_OK);
    assert_int_equal(whaco_intel_remove_salesperson(&in_a, "sp-4", T0, NULL), WHACO_OK);
    assert_string_equal(walk_in(&in_a, "c4", T0).assigned_id, "sp-0");
    /* The one chosen last is the first of the team and leaves: the next is the new first. */
    assert_string_equal(walk_in(&in_a, "c5", T0).assigned_id, "sp-1");
    assert_string_equal(walk_in(&in_a, "c6", T0).assigned_id, "sp-3");
    assert_string_equal(walk_in(&in_a, "c7", T0).assigned_id, "sp-0");
    const char *gone[] = {"c0", "c4", "c7"}; /* sp-0 is with nobody */
    for (int k = 0; k < 3; k++)
        assert_int_equal(
            whaco_intel_customer_left(&in_a, gone[k], WHACO_OUTCOME_NO_SALE, NULL, T0, NULL),
            WHACO_OK);
    assert_int_equal(whaco_intel_remove_salesperson(&in_a, "sp-0", T0, &news), WHACO_OK);
    assert_string_equal(walk_in(&in_a, "c8", T0).assigned_id, "sp-1");
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

static void floor__least_busy_gives_the_fewest_walk_ins(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_LEAST_BUSY, 3);
    hire_team(&in_a, 3);
    clock_in(&in_a, "sp-1", T0);
    clock_in(&in_a, "sp-2", T0);
    clock_in(&in_a, "sp-0", T0);
    const char *expect[] = {"sp-1", "sp-2", "sp-0", "sp-1"};
    for (int k = 0; k < 4; k++) {
        char id[24];
        snprintf(id, sizeof id, "c%d", k);
        assert_string_equal(walk_in(&in_a, id, T0).assigned_id, expect[k]);
    }
    /* sp-2 lets go of c1: the only one with fewer. */
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_NO_SALE, "sp-2", T0, NULL), WHACO_OK);
    assert_string_equal(walk_in(&in_a, "c4", T0).assigned_id, "sp-2");
    /* Manager overrides pile two more on sp-0: the next goes elsewhere. */
    assert_int_equal(whaco_intel_override(&in_a, "c0", "sp-0", T0, NULL), WHACO_OK);
    assert_int_equal(member(&in_a, "sp-0")->active_deals, 2);
    assert_string_equal(walk_in(&in_a, "c5", T0).assigned_id, "sp-1");
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/* Identical candidates: the earlier in the up order wins, whatever the team order. */
static void floor__ties_go_to_the_earlier_in_the_up_order(void **state)
{
    (void)state;
    const int rules[] = {WHACO_RULE_NETWORK, WHACO_RULE_UP_ROTATION, WHACO_RULE_LEAST_BUSY};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        open_floor(&in_a, WHACO_TRACKING_AUTO, rules[r], 2);
        hire_team(&in_a, 3);
        clock_in(&in_a, "sp-2", T0);
        clock_in(&in_a, "sp-0", T0);
        clock_in(&in_a, "sp-1", T0);
        assert_string_equal(walk_in(&in_a, "c0", T0).assigned_id, "sp-2");
        assert_string_equal(walk_in(&in_a, "c1", T0).assigned_id, "sp-0");
        assert_string_equal(walk_in(&in_a, "c2", T0).assigned_id, "sp-1");
        /* All with one walk-in again, each at pi/2: sp-2 went back first. */
        assert_string_equal(walk_in(&in_a, "c3", T0).assigned_id, "sp-2");
        whaco_intel_release(&in_a);
    }
}

/*
 * A day of walk-ins on identical salespeople: who takes them must not
 * depend on where one sits in the team. Walk-ins arrive and leave at
 * random (seeded); under each rule every member ends the day with close to
 * a quarter of them. With ties broken by team index instead of the up
 * order, sp-0 would take far more than sp-3.
 */
static void day_of_walk_ins(int rule, bool moving, uint32_t counts[4])
{
    struct whaco_rng rng;
    int64_t now = T0;
    int arrived = 0;
    whaco_rng_seed(&rng, 2024u + (uint64_t)rule);
    open_floor(&in_a, WHACO_TRACKING_AUTO, rule, 2);
    hire_team(&in_a, 4);
    for (int i = 0; i < 4; i++) {
        char id[24];
        snprintf(id, sizeof id, "sp-%d", i);
        clock_in(&in_a, id, T0);
    }
    while (arrived < 2000) {
        if (moving)
            now += (int64_t)whaco_rng_below(&rng, 3 * MINUTE);
        if (in_a.floor.n_open < 6 && whaco_rng_below(&rng, 2) == 0) {
            char id[24];
            snprintf(id, sizeof id, "c%d", arrived++);
            walk_in(&in_a, id, now);
        } else if (in_a.floor.n_open > 0) {
            /* A random walk-in in the store leaves or buys. */
            const struct whaco_visit *v =
                &in_a.floor.open[whaco_rng_below(&rng, in_a.floor.n_open)];
            char cust[WHACO_ID_MAX], sp[WHACO_TEAM_ID_MAX];
            memcpy(cust, v->customer_id, sizeof cust);
            memcpy(sp, v->salesperson_id, sizeof sp);
            if (sp[0] && whaco_rng_below(&rng, 3) == 0)
                assert_int_equal(whaco_intel_deal_closed(&in_a, sp, cust, now, NULL), WHACO_OK);
            else
                assert_int_equal(
                    whaco_intel_customer_left(&in_a, cust, WHACO_OUTCOME_NO_SALE, NULL, now, NULL),
                    WHACO_OK);
        }
    }
    for (int i = 0; i < 4; i++)
        counts[i] = in_a.team.members[i].seat.walkins_today;
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

static void floor__a_day_of_walk_ins_favours_no_fixed_order(void **state)
{
    (void)state;
    const int rules[] = {WHACO_RULE_NETWORK, WHACO_RULE_LEAST_BUSY, WHACO_RULE_UP_ROTATION,
                         WHACO_RULE_ROUND_ROBIN};
    for (size_t r = 0; r < sizeof rules / sizeof rules[0]; r++) {
        for (int moving = 0; moving < 2; moving++) {
            uint32_t counts[4], total = 0;
            day_of_walk_ins(rules[r], moving, counts);
            for (int i = 0; i < 4; i++)
                total += counts[i];
            for (int i = 0; i < 4; i++) {
                /* A quarter each, within 3 points (binomial sd ~1 point). */
                double share = (double)counts[i] / total;
                if (share < 0.22 || share > 0.28)
                    fail_msg("rule %s, %s: sp-%d took %u of %u walk-ins",
                             whaco_floor_rule_name(rules[r]), moving ? "moving" : "still", i,
                             counts[i], total);
            }
        }
    }
}

/*==== 5. The up order ====*/

static void floor__the_up_order(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 2);
    hire(&in_a, "a");
    hire(&in_a, "b");
    hire(&in_a, "c");
    clock_in(&in_a, "a", T0);
    clock_in(&in_a, "b", T0);
    clock_in(&in_a, "c", T0);
    assert_string_equal(up_order(&in_a), "a,b,c");
    /* A clock-in sends one to the back; a second clock-in changes nothing. */
    assert_int_equal(whaco_intel_clock_out(&in_a, "a", T0, NULL), WHACO_OK);
    assert_string_equal(up_order(&in_a), "b,c");
    clock_in(&in_a, "a", T0);
    assert_string_equal(up_order(&in_a), "b,c,a");
    clock_in(&in_a, "a", T0);
    clock_in(&in_a, "b", T0);
    assert_string_equal(up_order(&in_a), "b,c,a");
    /* Taking a walk-in by the rule: to the back. */
    assert_string_equal(walk_in(&in_a, "c1", T0).assigned_id, "b");
    assert_string_equal(up_order(&in_a), "c,a,b");
    /* Breaks, deliveries and appointments keep the place, and so does coming back. */
    set_status(&in_a, "c", WHACO_SEAT_BREAK, T0);
    assert_string_equal(up_order(&in_a), "c,a,b");
    assert_string_equal(walk_in(&in_a, "c2", T0).assigned_id, "a");
    assert_string_equal(up_order(&in_a), "c,b,a");
    set_status(&in_a, "c", WHACO_SEAT_APPOINTMENT, T0);
    set_status(&in_a, "c", WHACO_SEAT_AVAILABLE, T0);
    assert_string_equal(up_order(&in_a), "c,b,a");
    /* An override is not a turn: the place is kept and counted apart. */
    assert_int_equal(whaco_intel_override(&in_a, "c1", "c", T0, NULL), WHACO_OK);
    assert_string_equal(up_order(&in_a), "c,b,a");
    assert_int_equal(member(&in_a, "c")->seat.overrides_today, 1);
    assert_int_equal(member(&in_a, "c")->seat.walkins_today, 0);
    assert_int_equal(member(&in_a, "b")->seat.walkins_today, 1);
    assert_string_equal(walk_in(&in_a, "c3", T0).assigned_id, "c");
    assert_int_equal(member(&in_a, "c")->seat.walkins_today, 1);
    assert_string_equal(up_order(&in_a), "b,a,c");
    /* The daily reset clears the day's counts, not the order. */
    assert_int_equal(whaco_intel_daily_reset(&in_a, T0 + 60 * MINUTE), WHACO_OK);
    assert_int_equal(member(&in_a, "c")->seat.walkins_today, 0);
    assert_int_equal(member(&in_a, "c")->seat.overrides_today, 0);
    assert_string_equal(up_order(&in_a), "b,a,c");
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/*==== 6. Clock-out and removal with customers ====*/

static void floor__clock_out_sends_walk_ins_to_the_head_of_the_line(void **state)
{
    (void)state;
    struct whaco_floor_news news;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 2);
    hire(&in_a, "a");
    hire(&in_a, "b");
    hire(&in_a, "c");
    clock_in(&in_a, "a", T0);
    clock_in(&in_a, "b", T0);
    clock_in(&in_a, "c", T0);
    set_status(&in_a, "c", WHACO_SEAT_BREAK, T0);
    assert_string_equal(walk_in(&in_a, "c1", T0 + 1 * MINUTE).assigned_id, "a");
    assert_string_equal(walk_in(&in_a, "c2", T0 + 2 * MINUTE).assigned_id, "b");
    assert_string_equal(walk_in(&in_a, "c3", T0 + 3 * MINUTE).assigned_id, "a");
    assert_string_equal(walk_in(&in_a, "c4", T0 + 4 * MINUTE).assigned_id, "b");
    assert_int_equal(walk_in(&in_a, "c5", T0 + 5 * MINUTE).queue_position, 1);

    /* Nobody free: a's two wait ahead of c5, in their arrival order. */
    memset(&news, 0, sizeof news);
    assert_int_equal(whaco_intel_clock_out(&in_a, "a", T0 + 10 * MINUTE, &news), WHACO_OK);
    assert_int_equal(news.n, 0);
    assert_int_equal(queue_pos(&in_a, "c1"), 1);
    assert_int_equal(queue_pos(&in_a, "c3"), 2);
    assert_int_equal(queue_pos(&in_a, "c5"), 3);
    assert_int_equal(member(&in_a, "a")->active_deals, 0);
    assert_int_equal(member(&in_a, "a")->seat.status, WHACO_SEAT_OFF);
    assert_true(member(&in_a, "a")->held);
    assert_true(member(&in_a, "a")->phase == 0.0);
    check_floor(&in_a);

    /* c comes back: takes the head of the line. */
    assert_int_equal(
        whaco_intel_set_status(&in_a, "c", WHACO_SEAT_AVAILABLE, T0 + 12 * MINUTE, &news),
        WHACO_OK);
    assert_int_equal(news.n, 2);
    assert_news(&news, 0, "c1", "c", 11 * MINUTE, false);
    assert_news(&news, 1, "c3", "c", 9 * MINUTE, false);
    assert_int_equal(queue_pos(&in_a, "c5"), 1);

    /* With someone free, a clock-out's walk-ins are reassigned at once. */
    clock_in(&in_a, "a", T0 + 13 * MINUTE);
    memset(&news, 0, sizeof news);
    assert_string_equal(with_whom(&in_a, "c5"), "a");
    assert_int_equal(whaco_intel_clock_out(&in_a, "b", T0 + 14 * MINUTE, &news), WHACO_OK);
    assert_int_equal(news.n, 1);
    assert_news(&news, 0, "c2", "a", 12 * MINUTE, false);
    assert_int_equal(queue_pos(&in_a, "c4"), 1);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/*
 * A walk-in handed on by a clock-out is, for its new salesperson, as old
 * as its arrival: a deal closed without a customerId links their oldest.
 */
static void floor__oldest_walk_in_is_by_arrival_after_a_clock_out(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 2);
    hire(&in_a, "a");
    hire(&in_a, "b");
    clock_in(&in_a, "a", T0);
    clock_in(&in_a, "b", T0);
    assert_string_equal(walk_in(&in_a, "early", T0 + 1 * MINUTE).assigned_id, "a");
    assert_string_equal(walk_in(&in_a, "later", T0 + 2 * MINUTE).assigned_id, "b");
    assert_int_equal(whaco_intel_clock_out(&in_a, "b", T0 + 3 * MINUTE, NULL), WHACO_OK);
    assert_string_equal(with_whom(&in_a, "later"), "a");
    assert_int_equal(whaco_intel_deal_closed(&in_a, "a", NULL, T0 + 4 * MINUTE, NULL), WHACO_OK);
    assert_true(whaco_floor_ended(&in_a.floor, "early"));
    assert_string_equal(with_whom(&in_a, "later"), "a");
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

static void floor__removing_a_salesperson_returns_their_walk_ins(void **state)
{
    (void)state;
    struct whaco_floor_news news;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 2);
    hire(&in_a, "a");
    hire(&in_a, "b");
    clock_in(&in_a, "a", T0);
    clock_in(&in_a, "b", T0);
    walk_in(&in_a, "c1", T0 + 1 * MINUTE); /* a */
    walk_in(&in_a, "c2", T0 + 2 * MINUTE); /* b */
    walk_in(&in_a, "c3", T0 + 3 * MINUTE); /* a */
    assert_string_equal(with_whom(&in_a, "c3"), "a");
    memset(&news, 0, sizeof news);
    assert_int_equal(whaco_intel_remove_salesperson(&in_a, "a", T0 + 5 * MINUTE, &news), WHACO_OK);
    assert_int_equal(in_a.team.n, 1);
    assert_int_equal(news.n, 1);
    assert_news(&news, 0, "c1", "b", 4 * MINUTE, false);
    assert_int_equal(queue_pos(&in_a, "c3"), 1);
    check_floor(&in_a);
    /* The last salesperson leaves: everyone waits. */
    assert_int_equal(whaco_intel_remove_salesperson(&in_a, "b", T0 + 6 * MINUTE, &news), WHACO_OK);
    assert_int_equal(in_a.floor.n_open, 3);
    assert_int_equal(queue_pos(&in_a, "c1"), 1);
    assert_int_equal(queue_pos(&in_a, "c2"), 2);
    assert_int_equal(queue_pos(&in_a, "c3"), 3);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/*==== 7. customer-left and be-backs ====*/

static void floor__customer_left_outcomes_and_refusals(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 1);
    hire(&in_a, "a");
    hire(&in_a, "b");
    clock_in(&in_a, "a", T0);
    clock_in(&in_a, "b", T0);
    walk_in(&in_a, "c1", T0); /* a */
    walk_in(&in_a, "c2", T0); /* b */
    walk_in(&in_a, "c3", T0); /* waits */
    walk_in(&in_a, "c4", T0); /* waits */
    const int64_t now = T0 + MINUTE;

    ASSERT_REFUSED(&in_a,
                   whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_NO_SALE, "b", now, NULL),
                   WHACO_E_WRONG_SALESPERSON);
    ASSERT_REFUSED(&in_a,
                   whaco_intel_customer_left(&in_a, "c3", WHACO_OUTCOME_NO_SALE, "a", now, NULL),
                   WHACO_E_WRONG_SALESPERSON);
    ASSERT_REFUSED(&in_a,
                   whaco_intel_customer_left(&in_a, "zz", WHACO_OUTCOME_NO_SALE, NULL, now, NULL),
                   WHACO_E_CUSTOMER_NOT_FOUND);
    const int bad[] = {0, WHACO_OUTCOME_SOLD, 5, -1, 255};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_REFUSED(&in_a, whaco_intel_customer_left(&in_a, "c1", bad[i], "a", now, NULL),
                       WHACO_E_OUTCOME_VALUE);
    ASSERT_REFUSED(&in_a,
                   whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_NO_SALE, "a", T0 - 1, NULL),
                   WHACO_E_TIME_BACKWARDS);

    /* A waiting walk-in may leave too: the line closes up. */
    assert_int_equal(whaco_intel_customer_left(&in_a, "c3", WHACO_OUTCOME_NO_SALE, NULL, now, NULL),
                     WHACO_OK);
    assert_int_equal(queue_pos(&in_a, "c4"), 1);
    /* Each outcome ends the visit; a second end is VISIT_ENDED. */
    assert_int_equal(whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_BE_BACK, "a", now, NULL),
                     WHACO_OK);
    assert_string_equal(with_whom(&in_a, "c4"), "a");
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "c2", WHACO_OUTCOME_APPOINTMENT, NULL, now, NULL),
        WHACO_OK);
    const char *ended[] = {"c1", "c2", "c3"};
    for (size_t i = 0; i < 3; i++) {
        assert_true(whaco_floor_ended(&in_a.floor, ended[i]));
        ASSERT_REFUSED(
            &in_a,
            whaco_intel_customer_left(&in_a, ended[i], WHACO_OUTCOME_NO_SALE, NULL, now, NULL),
            WHACO_E_VISIT_ENDED);
        ASSERT_REFUSED(&in_a, whaco_intel_override(&in_a, ended[i], "a", now, NULL),
                       WHACO_E_VISIT_ENDED);
    }
    assert_int_equal(member(&in_a, "b")->active_deals, 0);
    assert_true(member(&in_a, "b")->phase == 0.0);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/* c1 was with a and left as a be-back; a is not first up when c1 returns. */
static void be_back_floor(struct whaco_intel *in, bool to_original)
{
    open_floor(in, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 1);
    configure(in, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 1, to_original, T0, NULL);
    hire(in, "a");
    hire(in, "b");
    hire(in, "c");
    clock_in(in, "a", T0);
    clock_in(in, "b", T0);
    clock_in(in, "c", T0);
    assert_string_equal(walk_in(in, "c1", T0).assigned_id, "a");
    assert_int_equal(
        whaco_intel_customer_left(in, "c1", WHACO_OUTCOME_BE_BACK, "a", T0 + MINUTE, NULL),
        WHACO_OK);
    assert_string_equal(up_order(in), "b,c,a");
}

static void floor__a_be_back_returns_to_their_salesperson(void **state)
{
    (void)state;
    be_back_floor(&in_a, true);
    struct whaco_analysis an = walk_in(&in_a, "c1", T0 + 60 * MINUTE);
    assert_false(an.returning); /* a new visit: it had left */
    assert_string_equal(an.assigned_id, "a");
    assert_string_equal(in_a.floor.open[0].original_id, "a");
    check_floor(&in_a);
    whaco_intel_release(&in_a);

    /* Their salesperson busy: the rule. */
    be_back_floor(&in_a, true);
    assert_string_equal(walk_in(&in_a, "x", T0 + 2 * MINUTE).assigned_id, "b");
    assert_string_equal(walk_in(&in_a, "y", T0 + 2 * MINUTE).assigned_id, "c");
    assert_string_equal(walk_in(&in_a, "z", T0 + 2 * MINUTE).assigned_id, "a");
    assert_string_equal(walk_in(&in_a, "c1", T0 + 3 * MINUTE).assigned_id, "");
    /* Waiting, they go to whoever frees first, by the rule. */
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "x", WHACO_OUTCOME_NO_SALE, NULL, T0 + 4 * MINUTE, NULL),
        WHACO_OK);
    assert_string_equal(with_whom(&in_a, "c1"), "b"); /* b freed first: b by the rule */
    whaco_intel_release(&in_a);

    be_back_floor(&in_a, true);
    assert_int_equal(whaco_intel_clock_out(&in_a, "a", T0 + 2 * MINUTE, NULL), WHACO_OK);
    assert_string_equal(walk_in(&in_a, "c1", T0 + 3 * MINUTE).assigned_id, "b");
    whaco_intel_release(&in_a);

    /* be-back-to-original off: the rule. */
    be_back_floor(&in_a, false);
    assert_string_equal(walk_in(&in_a, "c1", T0 + 3 * MINUTE).assigned_id, "b");
    whaco_intel_release(&in_a);
}

/*
 * A be-back handed to their salesperson of last time is not a walk-in
 * taken by the rule: that salesperson keeps their place in the up order
 * (and round-robin's turn does not move).
 */
static void floor__a_be_back_to_their_salesperson_is_not_a_turn(void **state)
{
    (void)state;
    be_back_floor(&in_a, true);
    assert_string_equal(walk_in(&in_a, "x", T0 + 2 * MINUTE).assigned_id, "b");
    assert_string_equal(up_order(&in_a), "c,a,b");
    assert_string_equal(walk_in(&in_a, "c1", T0 + 3 * MINUTE).assigned_id, "a");
    assert_string_equal(up_order(&in_a), "c,a,b");
    assert_int_equal(member(&in_a, "a")->seat.walkins_today, 1); /* c1's first visit */
    assert_int_equal(member(&in_a, "a")->leads_today, 2);
    assert_int_equal(member(&in_a, "a")->active_deals, 1);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/*
 * A be-back is the customer's latest visit ending as be_back: once a later
 * visit ended otherwise, they come back as anyone does.
 */
static void floor__a_be_back_is_forgotten_after_a_later_visit(void **state)
{
    (void)state;
    be_back_floor(&in_a, true); /* c1 left a as a be-back; up order b,c,a */
    assert_string_equal(walk_in(&in_a, "y", T0 + 2 * MINUTE).assigned_id, "b");
    assert_int_equal(whaco_intel_override(&in_a, "y", "a", T0 + 2 * MINUTE, NULL), WHACO_OK);
    /* a busy: the be-back goes by the rule, to c, and leaves without a sale. */
    assert_string_equal(walk_in(&in_a, "c1", T0 + 3 * MINUTE).assigned_id, "c");
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_NO_SALE, "c", T0 + 4 * MINUTE, NULL),
        WHACO_OK);
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "y", WHACO_OUTCOME_NO_SALE, "a", T0 + 5 * MINUTE, NULL),
        WHACO_OK);
    assert_string_equal(walk_in(&in_a, "z", T0 + 6 * MINUTE).assigned_id, "a");
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "z", WHACO_OUTCOME_NO_SALE, "a", T0 + 7 * MINUTE, NULL),
        WHACO_OK);
    assert_string_equal(up_order(&in_a), "b,c,a");
    /* Everyone free: c1 is an ordinary walk-in now, for the first up. */
    struct whaco_analysis an = walk_in(&in_a, "c1", T0 + 8 * MINUTE);
    assert_string_equal(an.assigned_id, "b");
    assert_string_equal(in_a.floor.open[whaco_floor_find(&in_a.floor, "c1")].original_id, "");

    /* A second be-back visit: back to whoever had them last. */
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_BE_BACK, "b", T0 + 9 * MINUTE, NULL),
        WHACO_OK);
    assert_string_equal(up_order(&in_a), "c,a,b");
    assert_string_equal(walk_in(&in_a, "c1", T0 + 10 * MINUTE).assigned_id, "b");
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/*==== 8. deal-closed, phases, held members ====*/

static void floor__deal_closed_links_the_walk_in(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 2);
    hire(&in_a, "a");
    hire(&in_a, "b");
    hire(&in_a, "off");
    clock_in(&in_a, "a", T0);
    clock_in(&in_a, "b", T0);
    walk_in(&in_a, "c1", T0 + 1 * MINUTE); /* a */
    walk_in(&in_a, "c2", T0 + 2 * MINUTE); /* b */
    walk_in(&in_a, "c3", T0 + 3 * MINUTE); /* a */
    walk_in(&in_a, "c4", T0 + 4 * MINUTE); /* b */
    walk_in(&in_a, "c5", T0 + 5 * MINUTE); /* waits */
    const int64_t now = T0 + 10 * MINUTE;

    ASSERT_REFUSED(&in_a, whaco_intel_deal_closed(&in_a, "a", "c2", now, NULL),
                   WHACO_E_WRONG_SALESPERSON);
    ASSERT_REFUSED(&in_a, whaco_intel_deal_closed(&in_a, "a", "c5", now, NULL),
                   WHACO_E_WRONG_SALESPERSON);
    ASSERT_REFUSED(&in_a, whaco_intel_deal_closed(&in_a, "a", "zz", now, NULL),
                   WHACO_E_CUSTOMER_NOT_FOUND);
    ASSERT_REFUSED(&in_a, whaco_intel_deal_closed(&in_a, "nobody", "c1", now, NULL),
                   WHACO_E_NOT_FOUND);
    ASSERT_REFUSED(&in_a, whaco_intel_deal_closed(&in_a, "a", "c1", T0, NULL),
                   WHACO_E_TIME_BACKWARDS);

    /* Linked to c3: the visit ends as sold, the deal counts, paperwork. */
    struct whaco_floor_news news;
    memset(&news, 0, sizeof news);
    assert_int_equal(whaco_intel_deal_closed(&in_a, "a", "c3", now, &news), WHACO_OK);
    assert_true(whaco_floor_ended(&in_a.floor, "c3"));
    assert_int_equal(member(&in_a, "a")->deals_today, 1);
    assert_true(member(&in_a, "a")->phase == 3 * PI / 2);
    assert_int_equal(news.n, 1);
    assert_news(&news, 0, "c5", "a", 5 * MINUTE, false);
    ASSERT_REFUSED(&in_a, whaco_intel_deal_closed(&in_a, "a", "c3", now, NULL),
                   WHACO_E_VISIT_ENDED);
    ASSERT_REFUSED(&in_a,
                   whaco_intel_customer_left(&in_a, "c3", WHACO_OUTCOME_NO_SALE, NULL, now, NULL),
                   WHACO_E_VISIT_ENDED);

    /* Without a customerId: b's oldest, c2. */
    assert_int_equal(whaco_intel_deal_closed(&in_a, "b", NULL, now, NULL), WHACO_OK);
    assert_true(whaco_floor_ended(&in_a.floor, "c2"));
    assert_string_equal(with_whom(&in_a, "c4"), "b");
    assert_int_equal(member(&in_a, "b")->deals_today, 1);
    assert_int_equal(member(&in_a, "b")->active_deals, 1);
    assert_int_equal(whaco_intel_deal_closed(&in_a, "b", "", now, NULL), WHACO_OK);
    assert_true(whaco_floor_ended(&in_a.floor, "c4"));
    assert_int_equal(member(&in_a, "b")->deals_today, 2);
    assert_int_equal(member(&in_a, "b")->active_deals, 0);

    /* Nobody to link: the seed's rule (counted, phase + pi/2). */
    double phase = member(&in_a, "off")->phase;
    assert_int_equal(whaco_intel_deal_closed(&in_a, "off", NULL, now, NULL), WHACO_OK);
    assert_int_equal(member(&in_a, "off")->deals_today, 1);
    assert_true(fabs(member(&in_a, "off")->phase - (phase + PI / 2)) < 1e-12);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

static void floor__phases_follow_what_happens_on_the_floor(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 3);
    hire_at(&in_a, "a", 0.5, 1.0);
    hire_at(&in_a, "b", 0.5, 2.5);
    clock_in(&in_a, "a", T0);
    assert_true(member(&in_a, "a")->phase == 0.0); /* clock-in: ready */
    assert_true(member(&in_a, "a")->readiness == 1.0);
    assert_true(member(&in_a, "b")->phase == 2.5); /* off the floor: held where it was */
    walk_in(&in_a, "c1", T0);
    assert_true(member(&in_a, "a")->phase == PI / 2); /* first customer: negotiating */
    walk_in(&in_a, "c2", T0);
    assert_true(member(&in_a, "a")->phase == PI / 2); /* a second one changes nothing */
    walk_in(&in_a, "c3", T0);
    assert_int_equal(whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_NO_SALE, "a", T0, NULL),
                     WHACO_OK);
    assert_true(member(&in_a, "a")->phase == PI / 2); /* still with two */
    assert_int_equal(whaco_intel_deal_closed(&in_a, "a", "c2", T0, NULL), WHACO_OK);
    assert_true(member(&in_a, "a")->phase == 3 * PI / 2); /* a sale: paperwork */
    assert_int_equal(whaco_intel_customer_left(&in_a, "c3", WHACO_OUTCOME_NO_SALE, "a", T0, NULL),
                     WHACO_OK);
    assert_true(member(&in_a, "a")->phase == 0.0); /* with nobody: ready */
    walk_in(&in_a, "c4", T0);
    set_status(&in_a, "a", WHACO_SEAT_BREAK, T0);
    assert_true(member(&in_a, "a")->held); /* a break holds the phase */
    assert_true(member(&in_a, "a")->phase == PI / 2);
    set_status(&in_a, "a", WHACO_SEAT_AVAILABLE, T0);
    assert_false(member(&in_a, "a")->held);
    assert_true(member(&in_a, "a")->phase == PI / 2); /* back with c4: as it was */
    assert_int_equal(whaco_intel_customer_left(&in_a, "c4", WHACO_OUTCOME_NO_SALE, "a", T0, NULL),
                     WHACO_OK);
    assert_int_equal(whaco_intel_tick(&in_a, T0 + 5 * MINUTE), WHACO_OK);
    assert_true(member(&in_a, "a")->phase > 0.1); /* moving again */
    set_status(&in_a, "a", WHACO_SEAT_DELIVERY, T0 + 5 * MINUTE);
    set_status(&in_a, "a", WHACO_SEAT_AVAILABLE, T0 + 5 * MINUTE);
    assert_true(member(&in_a, "a")->phase == 0.0); /* back with nobody: ready */
    walk_in(&in_a, "c5", T0 + 5 * MINUTE);
    assert_int_equal(whaco_intel_clock_out(&in_a, "a", T0 + 5 * MINUTE, NULL), WHACO_OK);
    assert_true(member(&in_a, "a")->phase == 0.0); /* clock-out: 0 and held */
    assert_true(member(&in_a, "a")->held);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

static void floor__held_members_neither_move_nor_pull(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_NETWORK, 2);
    hire_at(&in_a, "a", 0.5, 0.0);
    hire_at(&in_a, "off", 0.8, 2.0);
    hire_at(&in_a, "break", 0.2, 4.0);
    clock_in(&in_a, "a", T0);
    clock_in(&in_a, "break", T0);
    set_status(&in_a, "break", WHACO_SEAT_BREAK, T0);
    /* The same salesperson alone on a floor. */
    open_floor(&in_b, WHACO_TRACKING_AUTO, WHACO_RULE_NETWORK, 2);
    hire_at(&in_b, "a", 0.5, 0.0);
    clock_in(&in_b, "a", T0);

    double off = member(&in_a, "off")->phase, brk = member(&in_a, "break")->phase;
    for (int k = 1; k <= 6; k++) {
        assert_int_equal(whaco_intel_tick(&in_a, T0 + 5 * k * MINUTE), WHACO_OK);
        assert_int_equal(whaco_intel_tick(&in_b, T0 + 5 * k * MINUTE), WHACO_OK);
    }
    assert_true(member(&in_a, "a")->phase > 1.0); /* moved: 0.9 rad per 10 minutes */
    assert_true(member(&in_a, "off")->phase == off);
    assert_true(member(&in_a, "break")->phase == brk);
    /* The held pull nobody: a moves exactly as it would alone. */
    assert_true(fabs(member(&in_a, "a")->phase - member(&in_b, "a")->phase) < 1e-12);
    /* ... and are left out of the order parameter. */
    double r = 0, psi = 0;
    assert_int_equal(whaco_team_coherence(&in_a.team, &r, &psi), WHACO_OK);
    assert_true(r > 1.0 - 1e-12);
    assert_true(fabs(psi - member(&in_a, "a")->phase) < 1e-9);
    /* Back from the break: moves again. */
    set_status(&in_a, "break", WHACO_SEAT_AVAILABLE, T0 + 30 * MINUTE);
    assert_int_equal(whaco_intel_tick(&in_a, T0 + 35 * MINUTE), WHACO_OK);
    assert_true(member(&in_a, "break")->phase != 0.0);
    assert_true(member(&in_a, "off")->phase == off);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

/*==== 9. Analysed twice ====*/

static void floor__a_second_analyze_is_not_a_new_walk_in(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_UP_ROTATION, 1);
    hire(&in_a, "a");
    hire(&in_a, "b");
    clock_in(&in_a, "a", T0);
    clock_in(&in_a, "b", T0);
    walk_in(&in_a, "c1", T0);
    walk_in(&in_a, "c2", T0);
    walk_in(&in_a, "c3", T0);
    walk_in(&in_a, "c4", T0);
    struct whaco_analysis an = walk_in(&in_a, "c1", T0 + MINUTE);
    assert_true(an.returning);
    assert_true(an.floor_tracked);
    assert_string_equal(an.assigned_id, "a");
    assert_int_equal(an.queue_position, 0);
    an = walk_in(&in_a, "c4", T0 + MINUTE);
    assert_true(an.returning);
    assert_int_equal(an.queue_position, 2);
    assert_string_equal(an.assigned_id, "");
    assert_int_equal(in_a.floor.n_open, 4);
    assert_int_equal(member(&in_a, "a")->active_deals, 1);
    assert_int_equal(member(&in_a, "a")->seat.walkins_today, 1);
    assert_int_equal(member(&in_a, "a")->leads_today, 1);
    assert_true(in_a.floor.walkins == 4);
    /* Once gone, the same customer is a new visit. */
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "c1", WHACO_OUTCOME_NO_SALE, NULL, T0 + MINUTE, NULL),
        WHACO_OK);
    an = walk_in(&in_a, "c1", T0 + 2 * MINUTE);
    assert_false(an.returning);
    assert_int_equal(an.queue_position, 2);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/* Walk-ins without an id are named walk-in-N, never the name of one in the store. */
static void floor__anonymous_walk_ins_get_unique_names(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_ON, WHACO_RULE_NETWORK, 2);
    struct whaco_analysis an = walk_in(&in_a, "", T0);
    assert_string_equal(an.customer_id, "walk-in-1");
    walk_in(&in_a, "walk-in-3", T0);
    an = walk_in(&in_a, "", T0);
    assert_string_not_equal(an.customer_id, "walk-in-3");
    assert_int_equal(an.queue_position, 3);
    assert_int_equal(in_a.floor.n_open, 3);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

/* reset empties the floor and keeps its settings, as a fresh state configured alike. */
static void floor__reset_empties_the_floor_and_keeps_its_settings(void **state)
{
    (void)state;
    const int tracking[] = {WHACO_TRACKING_AUTO, WHACO_TRACKING_ON};
    for (int k = 0; k < 2; k++) {
        open_floor(&in_a, tracking[k], WHACO_RULE_LEAST_BUSY, 3);
        hire_team(&in_a, 2);
        clock_in(&in_a, "sp-0", T0);
        walk_in(&in_a, "c1", T0);
        walk_in(&in_a, "", T0);
        assert_int_equal(whaco_intel_reset(&in_a, T0 + MINUTE), WHACO_OK);
        assert_int_equal(in_a.floor.n_open, 0);
        assert_int_equal(in_a.floor.tracked, tracking[k] == WHACO_TRACKING_ON);
        assert_int_equal(in_a.floor.cfg.rule, WHACO_RULE_LEAST_BUSY);
        assert_int_equal(in_a.floor.cfg.max_customers, 3);
        assert_int_equal(whaco_intel_init(&in_b, NULL, NULL, NULL), WHACO_OK);
        configure(&in_b, tracking[k], WHACO_RULE_LEAST_BUSY, 3, true, T0 + MINUTE, NULL);
        assert_same_state(&in_a, &in_b);
        /* c1 is no one the floor knows now. */
        ASSERT_REFUSED(&in_a, whaco_intel_override(&in_a, "c1", "sp-0", T0 + MINUTE, NULL),
                       tracking[k] == WHACO_TRACKING_ON ? WHACO_E_CUSTOMER_NOT_FOUND
                                                        : WHACO_E_FLOOR_OFF);
        whaco_intel_release(&in_a);
        whaco_intel_release(&in_b);
    }
}

/*==== 10. Refusals, save/load, replay, old states ====*/

static void floor__refused_events_change_nothing(void **state)
{
    (void)state;
    busy_line(&in_a);
    const int64_t now = T0 + 10 * MINUTE, past = T0;
    /* Time backwards, for every floor event. */
    ASSERT_REFUSED(&in_a, whaco_intel_clock_in(&in_a, "sp-c", past, NULL), WHACO_E_TIME_BACKWARDS);
    ASSERT_REFUSED(&in_a, whaco_intel_clock_out(&in_a, "sp-a", past, NULL), WHACO_E_TIME_BACKWARDS);
    ASSERT_REFUSED(&in_a, whaco_intel_set_status(&in_a, "sp-a", WHACO_SEAT_BREAK, past, NULL),
                   WHACO_E_TIME_BACKWARDS);
    ASSERT_REFUSED(&in_a, whaco_intel_override(&in_a, "c1", "sp-b", past, NULL),
                   WHACO_E_TIME_BACKWARDS);
    struct whaco_floor_config cfg;
    whaco_floor_config_default(&cfg);
    ASSERT_REFUSED(&in_a, whaco_intel_configure_floor(&in_a, &cfg, past, NULL),
                   WHACO_E_TIME_BACKWARDS);
    struct whaco_analysis an;
    struct whaco_customer c = customer("c9");
    ASSERT_REFUSED(&in_a, whaco_intel_analyze(&in_a, &c, past, &an, NULL), WHACO_E_TIME_BACKWARDS);
    ASSERT_REFUSED(&in_a, whaco_intel_remove_salesperson(&in_a, "sp-a", past, NULL),
                   WHACO_E_TIME_BACKWARDS);
    /* Unknown salespeople. */
    ASSERT_REFUSED(&in_a, whaco_intel_clock_in(&in_a, "zz", now, NULL), WHACO_E_NOT_FOUND);
    ASSERT_REFUSED(&in_a, whaco_intel_clock_out(&in_a, "zz", now, NULL), WHACO_E_NOT_FOUND);
    ASSERT_REFUSED(&in_a, whaco_intel_set_status(&in_a, "zz", WHACO_SEAT_BREAK, now, NULL),
                   WHACO_E_NOT_FOUND);
    ASSERT_REFUSED(&in_a, whaco_intel_override(&in_a, "c1", "zz", now, NULL), WHACO_E_NOT_FOUND);
    ASSERT_REFUSED(&in_a, whaco_intel_remove_salesperson(&in_a, "zz", now, NULL),
                   WHACO_E_NOT_FOUND);
    ASSERT_REFUSED(&in_a, whaco_intel_clock_in(&in_a, NULL, now, NULL), WHACO_E_NOT_FOUND);
    /* Off the floor, bad status values. */
    ASSERT_REFUSED(&in_a, whaco_intel_set_status(&in_a, "sp-c", WHACO_SEAT_BREAK, now, NULL),
                   WHACO_E_OFF_FLOOR);
    ASSERT_REFUSED(&in_a, whaco_intel_override(&in_a, "c3", "sp-c", now, NULL), WHACO_E_OFF_FLOOR);
    const int bad[] = {WHACO_SEAT_OFF, 5, -1, 200};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
        ASSERT_REFUSED(&in_a, whaco_intel_set_status(&in_a, "sp-a", bad[i], now, NULL),
                       WHACO_E_STATUS_VALUE);
    /* Walk-ins the floor does not have. */
    ASSERT_REFUSED(&in_a, whaco_intel_override(&in_a, "zz", "sp-a", now, NULL),
                   WHACO_E_CUSTOMER_NOT_FOUND);
    ASSERT_REFUSED(&in_a, whaco_intel_override(&in_a, NULL, "sp-a", now, NULL),
                   WHACO_E_CUSTOMER_NOT_FOUND);
    ASSERT_REFUSED(&in_a,
                   whaco_intel_customer_left(&in_a, NULL, WHACO_OUTCOME_NO_SALE, NULL, now, NULL),
                   WHACO_E_CUSTOMER_NOT_FOUND);
    ASSERT_REFUSED(&in_a,
                   whaco_intel_customer_left(&in_a, "", WHACO_OUTCOME_NO_SALE, NULL, now, NULL),
                   WHACO_E_CUSTOMER_NOT_FOUND);
    /* A bad customer. */
    c.credit_score = 100;
    ASSERT_REFUSED(&in_a, whaco_intel_analyze(&in_a, &c, now, &an, NULL),
                   WHACO_E_CREDIT_SCORE_RANGE);
    /* The same through the event table. */
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_STATUS);
    memcpy(ev.id, "sp-a", 5);
    ev.status = 9;
    ev.time_ms = now;
    ASSERT_REFUSED(&in_a, whaco_event_apply(&in_a, &ev, NULL, NULL), WHACO_E_STATUS_VALUE);
    whaco_event_init(&ev, WHACO_EV_CUSTOMER_LEFT);
    memcpy(ev.customer_id, "c1", 3);
    ev.outcome = WHACO_OUTCOME_NO_SALE;
    memcpy(ev.id, "sp-b", 5);
    ev.time_ms = now;
    ASSERT_REFUSED(&in_a, whaco_event_apply(&in_a, &ev, NULL, NULL), WHACO_E_WRONG_SALESPERSON);
    whaco_intel_release(&in_a);
}

/*
 * A random floor day as events: walk-ins (new, returning, anonymous, ones
 * still in the store), departures and sales (right and wrong salesperson),
 * overrides, clock-ins and -outs, statuses (valid or not), settings,
 * hires, departures from the team, ticks and midnights. Each event is
 * applied through the whaco_intel_* call it stands for; *rcs gets each
 * result and *log (if not NULL) each encoding.
 */
struct played {
    struct whaco_event *evs;
    int *rcs;
    struct whaco_floor_news *news;
    int n;
};

static int apply_direct(struct whaco_intel *in, const struct whaco_event *ev,
                        struct whaco_floor_news *news)
{
    struct whaco_analysis an;
    const char *cust = ev->customer_id[0] ? ev->customer_id : NULL;
    memset(news, 0, sizeof *news);
    switch (ev->type) {
    case WHACO_EV_ANALYZE:
        return whaco_intel_analyze(in, &ev->customer, ev->time_ms, &an, NULL);
    case WHACO_EV_DEAL_CLOSED:
        return whaco_intel_deal_closed(in, ev->id, cust, ev->time_ms, news);
    case WHACO_EV_ADD_SALESPERSON: {
        struct whaco_member_spec spec = {
            ev->id, ev->name, ev->skill_level, ev->natural_frequency, ev->phase, ev->active_deals};
        return whaco_intel_add_salesperson(in, &spec, ev->time_ms, NULL);
    }
    case WHACO_EV_REMOVE_SALESPERSON:
        return whaco_intel_remove_salesperson(in, ev->id, ev->time_ms, news);
    case WHACO_EV_TICK:
        return whaco_intel_tick(in, ev->time_ms);
    case WHACO_EV_DAILY_RESET:
        return whaco_intel_daily_reset(in, ev->time_ms);
    case WHACO_EV_CLOCK_IN:
        return whaco_intel_clock_in(in, ev->id, ev->time_ms, news);
    case WHACO_EV_CLOCK_OUT:
        return whaco_intel_clock_out(in, ev->id, ev->time_ms, news);
    case WHACO_EV_STATUS:
        return whaco_intel_set_status(in, ev->id, ev->status, ev->time_ms, news);
    case WHACO_EV_CUSTOMER_LEFT:
        return whaco_intel_customer_left(in, ev->customer_id, ev->outcome,
                                         ev->id[0] ? ev->id : NULL, ev->time_ms, news);
    case WHACO_EV_OVERRIDE:
        return whaco_intel_override(in, ev->customer_id, ev->id, ev->time_ms, news);
    case WHACO_EV_FLOOR_SETTINGS:
        return whaco_intel_configure_floor(in, &ev->floor, ev->time_ms, news);
    default:
        fail_msg("no direct call for event %u", ev->type);
    }
    return WHACO_E_INVAL;
}

/* A random member's id into id, or a stranger's now and then. */
static void any_member(struct whaco_rng *rng, const struct whaco_intel *in, char *id)
{
    if (in->team.n == 0 || whaco_rng_below(rng, 20) == 0)
        snprintf(id, WHACO_TEAM_ID_MAX, "stranger");
    else
        snprintf(id, WHACO_TEAM_ID_MAX, "%s",
                 in->team.members[whaco_rng_below(rng, in->team.n)].id);
}

/* A random customer id: in the store, gone, or never seen. */
static void any_customer(struct whaco_rng *rng, const struct whaco_intel *in, int seen, char *id)
{
    uint64_t k = whaco_rng_below(rng, 10);
    if (k < 7 && in->floor.n_open > 0)
        snprintf(id, WHACO_ID_MAX, "%s",
                 in->floor.open[whaco_rng_below(rng, in->floor.n_open)].customer_id);
    else if (k < 9 && seen > 0)
        snprintf(id, WHACO_ID_MAX, "c-%d", (int)whaco_rng_below(rng, (uint64_t)seen));
    else
        snprintf(id, WHACO_ID_MAX, "never-%d", (int)whaco_rng_below(rng, 5));
}

static void play_floor(struct whaco_intel *in, uint64_t seed, int64_t start, int events,
                       struct played *out, bool check)
{
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    int64_t now = start;
    int hired = 0, seen = 0;
    whaco_rng_seed(&rng, seed);
    whaco_gen_params_default(&gp);
    for (int e = 0; e < events; e++) {
        struct whaco_event ev;
        struct whaco_floor_news news;
        uint64_t kind = whaco_rng_below(&rng, 100);
        now += (int64_t)whaco_rng_below(&rng, 4 * MINUTE);
        if (in->team.n < 3 || kind < 3) {
            whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
            snprintf(ev.id, sizeof ev.id, "sp-%d-%d", (int)seed, hired++);
            memcpy(ev.name, ev.id, sizeof ev.id);
            ev.skill_level = whaco_rng_uniform(&rng);
            ev.natural_frequency = 0.8 + 0.2 * whaco_rng_uniform(&rng);
            ev.phase = TAU * whaco_rng_uniform(&rng);
            ev.active_deals = (uint32_t)whaco_rng_below(&rng, 3);
        } else if (kind < 40) {
            whaco_event_init(&ev, WHACO_EV_ANALYZE);
            whaco_gen_customer(&rng, &gp, &ev.customer, NULL);
            uint64_t who = whaco_rng_below(&rng, 10);
            if (who < 6)
                snprintf(ev.customer.id, sizeof ev.customer.id, "c-%d", seen++);
            else if (who < 9)
                any_customer(&rng, in, seen, ev.customer.id);
            else
                ev.customer.id[0] = '\0';
        } else if (kind < 55) {
            whaco_event_init(&ev, WHACO_EV_CUSTOMER_LEFT);
            any_customer(&rng, in, seen, ev.customer_id);
            ev.outcome = (uint8_t)(1 + whaco_rng_below(&rng, 4));
            int32_t k = whaco_floor_find(&in->floor, ev.customer_id);
            uint64_t sp = whaco_rng_below(&rng, 4);
            if (sp == 0 && k >= 0)
                memcpy(ev.id, in->floor.open[k].salesperson_id, sizeof ev.id);
            else if (sp == 1)
                any_member(&rng, in, ev.id);
        } else if (kind < 65) {
            whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
            uint64_t how = whaco_rng_below(&rng, 4);
            int32_t k = in->floor.n_open ? (int32_t)whaco_rng_below(&rng, in->floor.n_open) : -1;
            if (how < 2 && k >= 0 && in->floor.open[k].salesperson_id[0]) {
                memcpy(ev.id, in->floor.open[k].salesperson_id, sizeof ev.id);
                if (how == 0)
                    memcpy(ev.customer_id, in->floor.open[k].customer_id, sizeof ev.customer_id);
            } else {
                any_member(&rng, in, ev.id);
                if (how == 3)
                    any_customer(&rng, in, seen, ev.customer_id);
            }
        } else if (kind < 70) {
            whaco_event_init(&ev, WHACO_EV_OVERRIDE);
            any_customer(&rng, in, seen, ev.customer_id);
            any_member(&rng, in, ev.id);
        } else if (kind < 78) {
            whaco_event_init(&ev, WHACO_EV_CLOCK_IN);
            any_member(&rng, in, ev.id);
        } else if (kind < 82) {
            whaco_event_init(&ev, WHACO_EV_CLOCK_OUT);
            any_member(&rng, in, ev.id);
        } else if (kind < 90) {
            whaco_event_init(&ev, WHACO_EV_STATUS);
            any_member(&rng, in, ev.id);
            ev.status = (uint8_t)whaco_rng_below(&rng, 6);
            if (ev.status == 0 || ev.status == 5)
                ev.status = (uint8_t)(whaco_rng_below(&rng, 8) ? WHACO_SEAT_AVAILABLE : ev.status);
        } else if (kind < 95) {
            whaco_event_init(&ev, WHACO_EV_TICK);
        } else if (kind < 97) {
            whaco_event_init(&ev, WHACO_EV_FLOOR_SETTINGS);
            whaco_floor_config_default(&ev.floor);
            uint64_t tr = whaco_rng_below(&rng, 10);
            ev.floor.tracking =
                tr < 6 ? WHACO_TRACKING_AUTO : (tr < 9 ? WHACO_TRACKING_ON : WHACO_TRACKING_OFF);
            ev.floor.rule = (enum whaco_floor_rule)whaco_rng_below(&rng, 4);
            ev.floor.max_customers = 1 + (uint32_t)whaco_rng_below(&rng, 3);
            ev.floor.be_back_to_original = whaco_rng_below(&rng, 4) != 0;
        } else if (kind < 98) {
            whaco_event_init(&ev, WHACO_EV_REMOVE_SALESPERSON);
            any_member(&rng, in, ev.id);
        } else {
            whaco_event_init(&ev, WHACO_EV_DAILY_RESET);
        }
        ev.time_ms = now;
        struct whaco_buf before = WHACO_BUF_INIT;
        if (check)
            before = save(in);
        int rc = apply_direct(in, &ev, &news);
        if (check && rc != WHACO_OK) /* refused: byte for byte as it was */
            assert_state_is(in, &before);
        whaco_buf_release(&before);
        if (ev.type == WHACO_EV_ADD_SALESPERSON || ev.type == WHACO_EV_TICK ||
            ev.type == WHACO_EV_DAILY_RESET || ev.type == WHACO_EV_FLOOR_SETTINGS)
            assert_int_equal(rc, WHACO_OK);
        if (ev.type == WHACO_EV_ANALYZE)
            assert_true(rc == WHACO_OK || rc == WHACO_E_FLOOR_FULL);
        if (out) {
            out->evs[out->n] = ev;
            out->rcs[out->n] = rc;
            out->news[out->n] = news;
            out->n++;
        }
        if (check)
            check_floor(in);
    }
}

static void floor__random_days_keep_the_invariants(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
        play_floor(&in_a, seed, T0, 1500, NULL, true);
        whaco_intel_release(&in_a);
    }
}

#define PLAYED 3000

static void floor__replay_through_the_event_log_is_exact(void **state)
{
    (void)state;
    struct played p;
    p.evs = calloc(PLAYED, sizeof *p.evs);
    p.rcs = calloc(PLAYED, sizeof *p.rcs);
    p.news = calloc(PLAYED, sizeof *p.news);
    p.n = 0;
    assert_non_null(p.evs);
    assert_non_null(p.rcs);
    assert_non_null(p.news);
    assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
    play_floor(&in_a, 99, T0, PLAYED, &p, false);
    int ok = 0;
    for (int i = 0; i < p.n; i++)
        ok += p.rcs[i] == WHACO_OK;
    assert_true(ok > PLAYED / 2);
    assert_true(in_a.floor.tracked);

    /* Every event (refused ones too) through encode, decode and apply. */
    assert_int_equal(whaco_intel_init(&in_b, NULL, NULL, NULL), WHACO_OK);
    for (int i = 0; i < p.n; i++) {
        struct whaco_buf b = WHACO_BUF_INIT;
        struct whaco_event back;
        struct whaco_event_result res;
        assert_int_equal(whaco_event_encode(&p.evs[i], &b), WHACO_OK);
        assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_OK);
        int rc = whaco_event_apply(&in_b, &back, &res, NULL);
        if (rc != p.rcs[i])
            fail_msg("event %d (%s): %s directly, %s replayed", i, whaco_event_name(back.type),
                     whaco_errname(p.rcs[i]), whaco_errname(rc));
        assert_int_equal(res.news.n, p.news[i].n);
        assert_memory_equal(res.news.a, p.news[i].a, p.news[i].n * sizeof res.news.a[0]);
        whaco_buf_release(&b);
    }
    assert_same_state(&in_a, &in_b);
    free(p.evs);
    free(p.rcs);
    free(p.news);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

static void floor__a_busy_floor_round_trips_and_continues_identically(void **state)
{
    (void)state;
    assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
    play_floor(&in_a, 5, T0, 1200, NULL, false);
    assert_true(in_a.floor.tracked);
    assert_true(in_a.floor.n_open > 0);
    assert_true(in_a.floor.recent_count > 0);
    struct whaco_buf b = save(&in_a);
    assert_int_equal(whaco_intel_init(&in_b, NULL, NULL, NULL), WHACO_OK);
    hire(&in_b, "someone-else");
    assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_OK);
    assert_state_is(&in_b, &b);
    check_floor(&in_b);
    /* The same events on both from here give the same bytes. */
    int64_t later = in_a.clock_ms;
    play_floor(&in_a, 6, later, 800, NULL, false);
    play_floor(&in_b, 6, later, 800, NULL, false);
    assert_same_state(&in_a, &in_b);
    whaco_buf_release(&b);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

/* A hand-written TEAM payload in layout 1 (before the floor: no seats). */
static void encode_team_v1(const struct whaco_team *t, struct whaco_buf *b)
{
    const struct whaco_team_config *c = &t->cfg;
    whaco_buf_put_u32(b, 1);
    whaco_buf_put_f64(b, c->coupling);
    whaco_buf_put_f64(b, c->dt_max);
    whaco_buf_put_u8(b, c->workload ? 1u : 0u);
    whaco_buf_put_f64(b, c->workload_gain);
    whaco_buf_put_f64(b, c->nominal_deals);
    whaco_buf_put_u32(b, c->overload_deals);
    whaco_buf_put_f64(b, c->slow_day_hours);
    whaco_buf_put_f64(b, c->behind_phase);
    whaco_buf_put_f64(b, c->behind_pace);
    whaco_buf_put_f64(b, c->ready_level);
    whaco_buf_put_u32(b, c->crushing_deals);
    whaco_buf_put_f64(b, c->mentor_gap);
    whaco_buf_put_u32(b, c->mentoring_max);
    whaco_buf_put_f64(b, c->assign_phase);
    whaco_buf_put_f64(b, c->assign_load);
    whaco_buf_put_f64(b, c->assign_skill);
    whaco_buf_put_f64(b, c->lead_hours);
    whaco_buf_put_f64(b, t->day_hours);
    whaco_buf_put_f64(b, t->total_hours);
    whaco_buf_put_u32(b, (uint32_t)t->n);
    for (size_t i = 0; i < t->n; i++) {
        const struct whaco_member *m = &t->members[i];
        whaco_buf_put_str(b, m->id);
        whaco_buf_put_str(b, m->name);
        whaco_buf_put_f64(b, m->skill);
        whaco_buf_put_f64(b, m->omega);
        whaco_buf_put_f64(b, m->phase);
        whaco_buf_put_u32(b, m->active_deals);
        whaco_buf_put_u32(b, m->n_timed);
        for (uint32_t k = 0; k < m->n_timed; k++)
            whaco_buf_put_f64(b, m->lead_start[k]);
        whaco_buf_put_u32(b, m->deals_today);
        whaco_buf_put_u32(b, m->leads_today);
        whaco_buf_put_u64(b, m->deals_total);
        whaco_buf_put_u64(b, m->leads_total);
    }
    size_t n_hist = whaco_team_history_len(t);
    struct whaco_coherence_sample *hist = calloc(n_hist + 1, sizeof *hist);
    assert_non_null(hist);
    assert_int_equal(whaco_team_history_since(t, INT64_MIN, hist, n_hist), n_hist);
    whaco_buf_put_u32(b, (uint32_t)n_hist);
    for (size_t k = 0; k < n_hist; k++) { /* oldest first */
        whaco_buf_put_i64(b, hist[k].timestamp_ms);
        whaco_buf_put_f64(b, hist[k].r);
    }
    free(hist);
}

/* A state without the FLOR section, the TEAM one in layout `team_layout`. */
static void save_before_the_floor(const struct whaco_intel *in, int team_layout,
                                  struct whaco_buf *b)
{
    struct whaco_state_writer w;
    size_t s;
    whaco_state_begin(&w, b);
    s = whaco_state_section_begin(&w, WHACO_TAG_SEGMENT);
    whaco_segmenter_encode(&in->seg, b);
    whaco_state_section_end(&w, s);
    s = whaco_state_section_begin(&w, WHACO_TAG_TEAM);
    if (team_layout == 1)
        encode_team_v1(&in->team, b);
    else
        whaco_team_encode(&in->team, b);
    whaco_state_section_end(&w, s);
    s = whaco_state_section_begin(&w, WHACO_TAG_INTEL);
    whaco_buf_put_u8(b, in->clock_set);
    whaco_buf_put_i64(b, in->clock_set ? in->clock_ms : 0);
    whaco_state_section_end(&w, s);
    whaco_state_finish(&w);
    assert_int_equal(whaco_buf_error(b), WHACO_OK);
}

static void floor__a_state_saved_before_the_floor_loads_untracked(void **state)
{
    (void)state;
    /* The seed's world: a team, leads assigned at arrival, a few ticks. */
    assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
    hire_at(&in_a, "sp-1", 0.9, 0.3);
    hire_at(&in_a, "sp-2", 0.4, 1.3);
    for (int k = 0; k < 5; k++) {
        char id[24];
        snprintf(id, sizeof id, "c%d", k);
        walk_in(&in_a, id, T0 + k * 5 * MINUTE);
        assert_int_equal(whaco_intel_tick(&in_a, T0 + k * 5 * MINUTE + MINUTE), WHACO_OK);
    }
    assert_int_equal(whaco_intel_deal_closed(&in_a, "sp-1", NULL, T0 + 30 * MINUTE, NULL),
                     WHACO_OK);
    for (int layout = 1; layout <= 2; layout++) {
        struct whaco_buf old = WHACO_BUF_INIT;
        save_before_the_floor(&in_a, layout, &old);
        assert_int_equal(whaco_intel_init(&in_b, NULL, NULL, NULL), WHACO_OK);
        hire(&in_b, "someone-else");
        clock_in(&in_b, "someone-else", T0);
        assert_int_equal(whaco_intel_load(&in_b, old.data, old.len), WHACO_OK);
        assert_false(in_b.floor.tracked);
        assert_int_equal(in_b.floor.cfg.tracking, WHACO_TRACKING_AUTO);
        assert_int_equal(in_b.floor.n_open, 0);
        for (size_t i = 0; i < in_b.team.n; i++) {
            assert_false(in_b.team.members[i].held);
            assert_int_equal(in_b.team.members[i].seat.status, WHACO_SEAT_OFF);
        }
        /* It is the state it was (in_a's floor is the default, untracked one). */
        assert_same_state(&in_a, &in_b);
        /* ... and goes on the same: tracking starts at the first clock-in. */
        clock_in(&in_b, "sp-2", T0 + 40 * MINUTE);
        assert_true(in_b.floor.tracked);
        assert_int_equal(in_b.team.members[1].active_deals, 0);
        check_floor(&in_b);
        whaco_intel_release(&in_b);
        whaco_buf_release(&old);
    }
    whaco_intel_release(&in_a);
}

/* A whole state whose FLOR section is *f (the rest from *in). */
static void save_with_floor(const struct whaco_intel *in, const struct whaco_floor *f,
                            struct whaco_buf *b)
{
    struct whaco_state_writer w;
    size_t s;
    whaco_state_begin(&w, b);
    s = whaco_state_section_begin(&w, WHACO_TAG_SEGMENT);
    whaco_segmenter_encode(&in->seg, b);
    whaco_state_section_end(&w, s);
    s = whaco_state_section_begin(&w, WHACO_TAG_TEAM);
    whaco_team_encode(&in->team, b);
    whaco_state_section_end(&w, s);
    s = whaco_state_section_begin(&w, WHACO_TAG_INTEL);
    whaco_buf_put_u8(b, in->clock_set);
    whaco_buf_put_i64(b, in->clock_set ? in->clock_ms : 0);
    whaco_state_section_end(&w, s);
    s = whaco_state_section_begin(&w, WHACO_TAG_FLOOR);
    whaco_floor_encode(f, b);
    whaco_state_section_end(&w, s);
    whaco_state_finish(&w);
    assert_int_equal(whaco_buf_error(b), WHACO_OK);
}

/*
 * States no sequence of events makes are refused, not loaded: seats on
 * the floor without a FLOR section (which loads as an untracked floor),
 * and a floor tracked under floor-tracking off or untracked under on.
 */
static void floor__load_refuses_floors_no_events_make(void **state)
{
    (void)state;
    struct whaco_floor f;
    struct whaco_buf b = WHACO_BUF_INIT;
    assert_int_equal(whaco_intel_init(&in_b, NULL, NULL, NULL), WHACO_OK);
    hire(&in_b, "keep");
    struct whaco_buf before = save(&in_b);

    assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
    hire(&in_a, "a");
    hire(&in_a, "b");
    /* The state itself, rebuilt by hand, loads: the builder is right. */
    save_with_floor(&in_a, &in_a.floor, &b);
    assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_OK);
    assert_same_state(&in_a, &in_b);
    whaco_intel_release(&in_b);
    assert_int_equal(whaco_intel_init(&in_b, NULL, NULL, NULL), WHACO_OK);
    hire(&in_b, "keep");

    /* Untracked under on. */
    f = in_a.floor;
    f.cfg.tracking = WHACO_TRACKING_ON;
    whaco_buf_clear(&b);
    save_with_floor(&in_a, &f, &b);
    assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_E_STATE_CORRUPT);

    /* Tracked under off (nobody on the floor, everyone held: consistent otherwise). */
    clock_in(&in_a, "a", T0);
    assert_int_equal(whaco_intel_clock_out(&in_a, "a", T0, NULL), WHACO_OK);
    f = in_a.floor;
    f.cfg.tracking = WHACO_TRACKING_OFF;
    whaco_buf_clear(&b);
    save_with_floor(&in_a, &f, &b);
    assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_E_STATE_CORRUPT);

    /* A tracked floor's seats without its FLOR section. */
    clock_in(&in_a, "a", T0);
    whaco_buf_clear(&b);
    save_before_the_floor(&in_a, 2, &b);
    assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_E_STATE_CORRUPT);
    assert_int_equal(whaco_intel_clock_out(&in_a, "a", T0, NULL), WHACO_OK); /* held, off */
    whaco_buf_clear(&b);
    save_before_the_floor(&in_a, 2, &b);
    assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_E_STATE_CORRUPT);

    assert_state_is(&in_b, &before);
    whaco_buf_release(&b);
    whaco_buf_release(&before);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

/*==== 11. Coverage ====*/

/* The exact measure of the union of [theta - pi/4, theta + pi/4] over 2pi. */
static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double exact_coverage(const double *theta, size_t n)
{
    double start[64], sum = 0.0;
    if (n == 0)
        return 0.0;
    for (size_t i = 0; i < n; i++) {
        double s = fmod(theta[i] - PI / 4, TAU);
        start[i] = s < 0 ? s + TAU : s;
    }
    qsort(start, n, sizeof start[0], cmp_double);
    /* Equal-length arcs: each adds the part before the next one starts. */
    for (size_t i = 0; i < n; i++) {
        double gap = i + 1 < n ? start[i + 1] - start[i] : start[0] + TAU - start[i];
        sum += gap < PI / 2 ? gap : PI / 2;
    }
    return sum / TAU;
}

static void team_of_phases(struct whaco_team *t, const double *theta, size_t n)
{
    assert_int_equal(whaco_team_init(t, NULL, NULL), WHACO_OK);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "m%zu", i);
        struct whaco_member_spec s = {id, id, 0.5, 0.9, theta[i], 0};
        assert_int_equal(whaco_team_add(t, &s, NULL), WHACO_OK);
    }
}

static void floor__coverage_is_the_union_of_the_ready_windows(void **state)
{
    (void)state;
    struct whaco_team t;
    double theta[64] = {0};

    team_of_phases(&t, theta, 0);
    assert_true(whaco_floor_coverage(&t) == 0.0);
    whaco_team_release(&t);

    for (size_t i = 0; i < 5; i++)
        theta[i] = 1.234;
    team_of_phases(&t, theta, 5);
    assert_true(fabs(whaco_floor_coverage(&t) - 0.25) < 1.0 / 720 + 1e-12);
    whaco_team_release(&t);

    const double spread[] = {0.0, PI / 2, PI, 3 * PI / 2};
    for (int shift = 0; shift < 8; shift++) {
        for (size_t i = 0; i < 4; i++)
            theta[i] = fmod(spread[i] + shift * 0.3, TAU);
        team_of_phases(&t, theta, 4);
        double got = whaco_floor_coverage(&t);
        if (got != 1.0)
            fail_msg("4 salespeople pi/2 apart (shift %d): coverage %.6f", shift, got);
        whaco_team_release(&t);
    }

    /* Random phases: within 1.2% of the exact union. */
    struct whaco_rng rng;
    whaco_rng_seed(&rng, 11);
    double worst = 0.0;
    for (int trial = 0; trial < 2000; trial++) {
        size_t n = 1 + whaco_rng_below(&rng, 12);
        for (size_t i = 0; i < n; i++)
            theta[i] = TAU * whaco_rng_uniform(&rng);
        team_of_phases(&t, theta, n);
        double d = fabs(whaco_floor_coverage(&t) - exact_coverage(theta, n));
        worst = d > worst ? d : worst;
        whaco_team_release(&t);
    }
    assert_true(worst <= 0.012);

    /* Only those who can move count: the held are left out. */
    open_floor(&in_a, WHACO_TRACKING_AUTO, WHACO_RULE_NETWORK, 2);
    hire_at(&in_a, "a", 0.5, 0.0);
    hire_at(&in_a, "b", 0.5, PI);
    assert_true(fabs(whaco_floor_coverage(&in_a.team) - 0.5) < 2.0 / 720 + 1e-12);
    clock_in(&in_a, "a", T0); /* b is off the floor now */
    assert_true(fabs(whaco_floor_coverage(&in_a.team) - 0.25) < 1.0 / 720 + 1e-12);
    set_status(&in_a, "a", WHACO_SEAT_BREAK, T0);
    assert_true(whaco_floor_coverage(&in_a.team) == 0.0);
    whaco_intel_release(&in_a);
}

/*==== 12. A full store ====*/

static void floor__a_full_store_refuses_one_more(void **state)
{
    (void)state;
    open_floor(&in_a, WHACO_TRACKING_ON, WHACO_RULE_NETWORK, 2);
    hire_team(&in_a, 2); /* nobody clocked in: everyone waits */
    for (uint32_t k = 0; k < WHACO_FLOOR_OPEN_MAX; k++) {
        char id[24];
        snprintf(id, sizeof id, "c%u", k);
        assert_int_equal(walk_in(&in_a, id, T0 + k).queue_position, k + 1);
    }
    struct whaco_analysis an;
    struct whaco_customer c = customer("one-more");
    const int64_t now = T0 + WHACO_FLOOR_OPEN_MAX;
    ASSERT_REFUSED(&in_a, whaco_intel_analyze(&in_a, &c, now, &an, NULL), WHACO_E_FLOOR_FULL);
    c.id[0] = '\0';
    ASSERT_REFUSED(&in_a, whaco_intel_analyze(&in_a, &c, now, &an, NULL), WHACO_E_FLOOR_FULL);
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_ANALYZE);
    ev.customer = customer("one-more");
    ev.time_ms = now;
    ASSERT_REFUSED(&in_a, whaco_event_apply(&in_a, &ev, NULL, NULL), WHACO_E_FLOOR_FULL);
    /* One still in the store is not a new walk-in: fine. */
    an = walk_in(&in_a, "c7", now);
    assert_true(an.returning);
    assert_int_equal(an.queue_position, 8);
    /* One leaves: room again. */
    assert_int_equal(whaco_intel_customer_left(&in_a, "c0", WHACO_OUTCOME_NO_SALE, NULL, now, NULL),
                     WHACO_OK);
    assert_int_equal(walk_in(&in_a, "one-more", now).queue_position, WHACO_FLOOR_OPEN_MAX);
    check_floor(&in_a);
    whaco_intel_release(&in_a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(floor__names_and_settings),
        cmocka_unit_test(floor__untracked_floor_assigns_at_arrival_like_the_seed),
        cmocka_unit_test(floor__tracking_auto_starts_at_the_first_clock_in),
        cmocka_unit_test(floor__tracking_off_refuses_floor_events),
        cmocka_unit_test(floor__tracking_on_tracks_from_the_start),
        cmocka_unit_test(floor__reconfiguring_turns_tracking_on_and_off),
        cmocka_unit_test(floor__walk_ins_go_only_to_free_salespeople),
        cmocka_unit_test(floor__the_line_moves_the_moment_a_slot_frees),
        cmocka_unit_test(floor__news_of_a_big_move_is_truncated),
        cmocka_unit_test(floor__network_gives_the_best_score),
        cmocka_unit_test(floor__up_rotation_gives_the_first_up),
        cmocka_unit_test(floor__round_robin_cycles_in_team_order),
        cmocka_unit_test(floor__round_robin_goes_on_after_a_removed_salesperson),
        cmocka_unit_test(floor__least_busy_gives_the_fewest_walk_ins),
        cmocka_unit_test(floor__ties_go_to_the_earlier_in_the_up_order),
        cmocka_unit_test(floor__a_day_of_walk_ins_favours_no_fixed_order),
        cmocka_unit_test(floor__the_up_order),
        cmocka_unit_test(floor__clock_out_sends_walk_ins_to_the_head_of_the_line),
        cmocka_unit_test(floor__oldest_walk_in_is_by_arrival_after_a_clock_out),
        cmocka_unit_test(floor__removing_a_salesperson_returns_their_walk_ins),
        cmocka_unit_test(floor__customer_left_outcomes_and_refusals),
        cmocka_unit_test(floor__a_be_back_returns_to_their_salesperson),
        cmocka_unit_test(floor__a_be_back_to_their_salesperson_is_not_a_turn),
        cmocka_unit_test(floor__a_be_back_is_forgotten_after_a_later_visit),
        cmocka_unit_test(floor__deal_closed_links_the_walk_in),
        cmocka_unit_test(floor__phases_follow_what_happens_on_the_floor),
        cmocka_unit_test(floor__held_members_neither_move_nor_pull),
        cmocka_unit_test(floor__a_second_analyze_is_not_a_new_walk_in),
        cmocka_unit_test(floor__anonymous_walk_ins_get_unique_names),
        cmocka_unit_test(floor__reset_empties_the_floor_and_keeps_its_settings),
        cmocka_unit_test(floor__refused_events_change_nothing),
        cmocka_unit_test(floor__random_days_keep_the_invariants),
        cmocka_unit_test(floor__replay_through_the_event_log_is_exact),
        cmocka_unit_test(floor__a_busy_floor_round_trips_and_continues_identically),
        cmocka_unit_test(floor__a_state_saved_before_the_floor_loads_untracked),
        cmocka_unit_test(floor__load_refuses_floors_no_events_make),
        cmocka_unit_test(floor__coverage_is_the_union_of_the_ready_windows),
        cmocka_unit_test(floor__a_full_store_refuses_one_more),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

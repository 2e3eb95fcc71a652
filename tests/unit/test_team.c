/*
 * test_team.c: the oscillator team network (whaco/team.h).
 *
 * Validation, events and reports are checked exactly; the dynamics are
 * checked against an O(N^2) reference integrator written here and against
 * the Kuramoto model's known steady state (Strogatz, "From Kuramoto to
 * Crawford", Physica D 143, 2000: for Lorentzian natural frequencies of
 * half-width gamma, r = sqrt(1 - 2 gamma / K) above K_c = 2 gamma). Every
 * statistical assertion states its margin. Nothing here measures time.
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
#include "whaco/rng.h"
#include "whaco/serial.h"
#include "whaco/team.h"

#define PI  3.14159265358979323846
#define TAU (2.0 * PI)

/*==== Helpers ====*/

static struct whaco_member_spec spec(const char *id, const char *name, double skill, double omega)
{
    struct whaco_member_spec s = {id, name, skill, omega, 0.0, 0};
    return s;
}

static void add_ok(struct whaco_team *t, const struct whaco_member_spec *s)
{
    const char *field = NULL;
    int rc = whaco_team_add(t, s, &field);
    if (rc != WHACO_OK)
        fail_msg("add %s: %s (%s)", s->id, whaco_strerror(rc), field ? field : "-");
}

static void add_simple(struct whaco_team *t, const char *id, double skill, double omega,
                       double phase, uint32_t active)
{
    struct whaco_member_spec s = {id, id, skill, omega, phase, active};
    add_ok(t, &s);
}

static void init_cfg(struct whaco_team *t, const struct whaco_team_config *cfg)
{
    assert_int_equal(whaco_team_init(t, cfg, NULL), WHACO_OK);
}

/* Phase difference a - b wrapped to [-pi, pi). */
static double wrapd(double a, double b)
{
    double d = fmod(a - b + PI, TAU);
    if (d < 0)
        d += TAU;
    return d - PI;
}

static double coherence(const struct whaco_team *t)
{
    double r = -1, psi = -1;
    assert_int_equal(whaco_team_coherence(t, &r, &psi), WHACO_OK);
    return r;
}

/* Add n members with ids m0.., skill/omega/phase drawn as documented at the caller. */
static void add_random_team(struct whaco_team *t, size_t n, struct whaco_rng *rng, double omega0,
                            double omega_sd, double skill0, double skill_sd)
{
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "m%zu", i);
        double s = skill0 + skill_sd * whaco_rng_normal(rng);
        s = s < 0 ? 0 : s > 1 ? 1 : s;
        double w = omega0 + omega_sd * whaco_rng_normal(rng);
        w = w < 0 ? 0 : w;
        add_simple(t, id, s, w, TAU * whaco_rng_uniform(rng), 0);
    }
}

/* Advance in 5-minute ticks, as the service does. */
static void advance_ticks(struct whaco_team *t, double hours)
{
    int ticks = (int)lround(hours * 12.0);
    for (int k = 0; k < ticks; k++)
        assert_int_equal(whaco_team_advance(t, 5.0 / 60.0), WHACO_OK);
}

/*==== Configuration and validation ====*/

static void team__config_defaults_are_valid_and_checked(void **state)
{
    (void)state;
    struct whaco_team_config cfg;
    whaco_team_config_default(&cfg);
    const char *field = NULL;
    assert_int_equal(whaco_team_config_check(&cfg, &field), WHACO_OK);
    assert_true(fabs(cfg.coupling - 0.3) < 1e-15);

    struct whaco_team_config bad = cfg;
    bad.coupling = -0.1;
    assert_int_equal(whaco_team_config_check(&bad, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "coupling");
    bad = cfg;
    bad.coupling = NAN;
    assert_int_equal(whaco_team_config_check(&bad, &field), WHACO_E_NOT_FINITE);
    assert_string_equal(field, "coupling");
    bad = cfg;
    bad.dt_max = 0;
    assert_int_equal(whaco_team_config_check(&bad, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "dtMax");
    bad = cfg;
    bad.overload_deals = 0;
    assert_int_equal(whaco_team_config_check(&bad, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "overloadDeals");
    bad = cfg;
    bad.behind_phase = 0;
    assert_int_equal(whaco_team_config_check(&bad, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "behindPhase");
    bad = cfg;
    bad.mentor_gap = INFINITY;
    assert_int_equal(whaco_team_config_check(&bad, &field), WHACO_E_NOT_FINITE);
    assert_string_equal(field, "mentorGap");
    bad = cfg;
    bad.assign_skill = 1.5;
    assert_int_equal(whaco_team_config_check(&bad, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "assignSkill");

    /* init refuses a bad configuration and leaves the team alone. */
    struct whaco_team t;
    memset(&t, 0xab, sizeof t);
    bad = cfg;
    bad.nominal_deals = 0;
    assert_int_equal(whaco_team_init(&t, &bad, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "nominalDeals");
    assert_int_equal(((unsigned char *)&t)[0], 0xab);
}

static void expect_add_error(struct whaco_team *t, struct whaco_member_spec s, int rc,
                             const char *field_name)
{
    const char *field = NULL;
    size_t before = t->n;
    int got = whaco_team_add(t, &s, &field);
    if (got != rc)
        fail_msg("id=%s: got %s, want %s", s.id ? s.id : "(null)", whaco_errname(got),
                 whaco_errname(rc));
    assert_non_null(field);
    assert_string_equal(field, field_name);
    assert_int_equal(t->n, before);
}

static void team__add_validates_every_field(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    char long_id[65], long_name[129];
    memset(long_id, 'a', 64);
    long_id[64] = '\0';
    memset(long_name, 'b', 128);
    long_name[128] = '\0';

    expect_add_error(&t, spec(NULL, "A", 0.5, 0.9), WHACO_E_ID_LENGTH, "id");
    expect_add_error(&t, spec("", "A", 0.5, 0.9), WHACO_E_ID_LENGTH, "id");
    expect_add_error(&t, spec(long_id, "A", 0.5, 0.9), WHACO_E_ID_LENGTH, "id");
    expect_add_error(&t, spec("sp 1", "A", 0.5, 0.9), WHACO_E_ID_LENGTH, "id");
    expect_add_error(&t, spec("sp\n1", "A", 0.5, 0.9), WHACO_E_ID_LENGTH, "id");
    expect_add_error(&t, spec("sp-1", NULL, 0.5, 0.9), WHACO_E_NAME_LENGTH, "name");
    expect_add_error(&t, spec("sp-1", "", 0.5, 0.9), WHACO_E_NAME_LENGTH, "name");
    expect_add_error(&t, spec("sp-1", long_name, 0.5, 0.9), WHACO_E_NAME_LENGTH, "name");
    expect_add_error(&t, spec("sp-1", "Jane\tSmith", 0.5, 0.9), WHACO_E_NAME_LENGTH, "name");
    expect_add_error(&t, spec("sp-1", "Jane\x7f", 0.5, 0.9), WHACO_E_NAME_LENGTH, "name");
    expect_add_error(&t, spec("sp-1", "Jos\xe9", 0.5, 0.9), WHACO_E_NAME_LENGTH, "name");
    expect_add_error(&t, spec("sp-1", "A", NAN, 0.9), WHACO_E_NOT_FINITE, "skillLevel");
    expect_add_error(&t, spec("sp-1", "A", -0.01, 0.9), WHACO_E_SKILL_RANGE, "skillLevel");
    expect_add_error(&t, spec("sp-1", "A", 1.01, 0.9), WHACO_E_SKILL_RANGE, "skillLevel");
    expect_add_error(&t, spec("sp-1", "A", 0.5, INFINITY), WHACO_E_NOT_FINITE, "naturalFrequency");
    expect_add_error(&t, spec("sp-1", "A", 0.5, -0.1), WHACO_E_FREQUENCY_RANGE, "naturalFrequency");
    expect_add_error(&t, spec("sp-1", "A", 0.5, WHACO_TEAM_OMEGA_MAX * 1.001),
                     WHACO_E_FREQUENCY_RANGE, "naturalFrequency");
    struct whaco_member_spec s = spec("sp-1", "A", 0.5, 0.9);
    s.phase = NAN;
    expect_add_error(&t, s, WHACO_E_NOT_FINITE, "phase");

    /* The limits themselves are valid; UTF-8 names are text; phases wrap. */
    memset(long_id + 63, 0, 2);
    memset(long_name + 127, 0, 2);
    add_ok(&t, &(struct whaco_member_spec){long_id, long_name, 0.0, 0.0, -PI / 2, 0});
    add_ok(&t, &(struct whaco_member_spec){"sp-2", "Jos\xc3\xa9 Mu\xc3\xb1oz", 1.0,
                                           WHACO_TEAM_OMEGA_MAX, 5 * TAU + 1.0, 0});
    assert_int_equal(t.n, 2);
    assert_true(fabs(t.members[0].phase - 1.5 * PI) < 1e-12);
    assert_true(fabs(t.members[1].phase - 1.0) < 1e-9);
    assert_string_equal(t.members[1].name, "Jos\xc3\xa9 Mu\xc3\xb1oz");
    whaco_team_release(&t);
}

static void team__duplicate_and_unknown_ids(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    add_simple(&t, "sp-1", 0.5, 0.9, 0, 0);
    expect_add_error(&t, spec("sp-1", "Other", 0.7, 1.0), WHACO_E_DUPLICATE, "id");
    assert_string_equal(t.members[0].name, "sp-1");
    assert_int_equal(whaco_team_remove(&t, "sp-9"), WHACO_E_NOT_FOUND);
    assert_int_equal(whaco_team_remove(&t, NULL), WHACO_E_NOT_FOUND);
    assert_int_equal(whaco_team_deal_closed(&t, "sp-9"), WHACO_E_NOT_FOUND);
    assert_int_equal(t.n, 1);
    assert_string_equal(whaco_strerror(WHACO_E_NOT_FOUND), "salesperson not found");
    whaco_team_release(&t);
}

static void team__remove_keeps_insertion_order(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    const char *ids[] = {"a", "b", "c", "d", "e"};
    for (size_t i = 0; i < 5; i++)
        add_simple(&t, ids[i], 0.1 * (double)(5 - i), 0.9, 0, 0);
    assert_int_equal(whaco_team_remove(&t, "b"), WHACO_OK);
    assert_int_equal(whaco_team_remove(&t, "e"), WHACO_OK);
    assert_int_equal(t.n, 3);
    assert_string_equal(t.members[0].id, "a");
    assert_string_equal(t.members[1].id, "c");
    assert_string_equal(t.members[2].id, "d");
    size_t i = 99;
    assert_int_equal(whaco_team_find(&t, "d", &i), WHACO_OK);
    assert_int_equal(i, 2);
    /* The freed id can be used again. */
    add_simple(&t, "b", 0.9, 0.9, 0, 0);
    assert_int_equal(t.n, 4);
    whaco_team_release(&t);
}

static void team__full_team_refuses_members(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    char id[32];
    for (int i = 0; i < WHACO_TEAM_MAX; i++) {
        snprintf(id, sizeof id, "s%d", i);
        add_simple(&t, id, 0.5, 0.9, 0, 0);
    }
    const char *field = NULL;
    struct whaco_member_spec s = spec("one-more", "One More", 0.5, 0.9);
    assert_int_equal(whaco_team_add(&t, &s, &field), WHACO_E_TEAM_FULL);
    assert_int_equal(t.n, WHACO_TEAM_MAX);
    assert_int_equal(whaco_team_remove(&t, "s0"), WHACO_OK);
    add_ok(&t, &s);
    whaco_team_release(&t);
}

static void team__empty_network_errors(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    size_t idx = 77;
    const char *field = NULL;
    int rc = whaco_team_assign(&t, 0.5, &idx, &field);
    assert_int_equal(rc, WHACO_E_EMPTY_TEAM);
    assert_string_equal(whaco_strerror(rc), "No salespeople in network");
    assert_int_equal(idx, 77);
    double r = 5, psi = 5;
    assert_int_equal(whaco_team_coherence(&t, &r, &psi), WHACO_E_EMPTY_TEAM);
    assert_true(r > 4.9 && psi > 4.9);
    struct whaco_team_status st;
    whaco_team_status_init(&st);
    assert_int_equal(whaco_team_status_compute(&st, &t), WHACO_E_EMPTY_TEAM);
    assert_int_equal(whaco_team_record(&t, 1000), WHACO_E_EMPTY_TEAM);
    assert_int_equal(whaco_team_history_len(&t), 0);
    /* An empty team still counts the business day. */
    assert_int_equal(whaco_team_advance(&t, 2.0), WHACO_OK);
    assert_true(fabs(t.day_hours - 2.0) < 1e-15);
    whaco_team_status_release(&st);
    whaco_team_release(&t);
}

static void team__advance_rejects_bad_elapsed_time(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    add_simple(&t, "a", 0.5, 0.9, 1.0, 0);
    assert_int_equal(whaco_team_advance(&t, NAN), WHACO_E_NOT_FINITE);
    assert_int_equal(whaco_team_advance(&t, INFINITY), WHACO_E_NOT_FINITE);
    assert_int_equal(whaco_team_advance(&t, -1e-9), WHACO_E_TIME_BACKWARDS);
    assert_int_equal(whaco_team_advance(&t, WHACO_TEAM_ADVANCE_MAX + 1), WHACO_E_CONFIG);
    assert_true(fabs(t.members[0].phase - 1.0) < 1e-15);
    assert_true(fabs(t.day_hours) < 1e-300);
    /* Alone, a member turns at omega f(0) = 0.9 * 1.25 rad per model unit. */
    assert_int_equal(whaco_team_advance(&t, 2.0 * WHACO_TEAM_TIME_UNIT_HOURS), WHACO_OK);
    assert_true(fabs(t.members[0].phase - (1.0 + 2.0 * 0.9 * 1.25)) < 1e-12);
    whaco_team_release(&t);
}

/*==== Open leads ====*/

/* A lead that never closes ends after leadHours; a closed deal ends the oldest. */
static void team__open_leads_expire_and_close_oldest_first(void **state)
{
    (void)state;
    struct whaco_team t;
    size_t who;
    init_cfg(&t, NULL);
    add_simple(&t, "a", 0.5, 0.9, 0.0, 0);
    assert_int_equal(whaco_team_assign(&t, 0.5, &who, NULL), WHACO_OK); /* at 0 h */
    assert_int_equal(whaco_team_advance(&t, 1.0), WHACO_OK);
    assert_int_equal(whaco_team_assign(&t, 0.5, &who, NULL), WHACO_OK); /* at 1 h */
    assert_int_equal(t.members[0].active_deals, 2);
    /* The first lead's deal closes: the one from 1 h stays open. */
    assert_int_equal(whaco_team_deal_closed(&t, "a"), WHACO_OK);
    assert_int_equal(t.members[0].active_deals, 1);
    assert_int_equal(whaco_team_advance(&t, 3.9), WHACO_OK); /* 4.9 h: 3.9 h old */
    assert_int_equal(t.members[0].active_deals, 1);
    assert_int_equal(whaco_team_advance(&t, 0.2), WHACO_OK); /* 5.1 h: 4.1 h old */
    assert_int_equal(t.members[0].active_deals, 0);
    /* A deal with no open lead changes no count below zero. */
    assert_int_equal(whaco_team_deal_closed(&t, "a"), WHACO_OK);
    assert_int_equal(t.members[0].active_deals, 0);
    whaco_team_release(&t);
}

/*
 * Found by fuzz_state (fuzz/corpus/fuzz_state/crash-slow-add-active-deals):
 * a carried-in count near UINT32_MAX, as a log record may hold, was opened
 * one lead at a time. The count must be kept exactly; only the first
 * WHACO_TEAM_LEADS_MAX get a start (they expire), the rest end with deals.
 */
static void team__huge_carried_in_count_is_kept_exactly(void **state)
{
    (void)state;
    struct whaco_team t;
    struct whaco_member_spec spec = {"a", "A", 0.5, 0.9, 0.0, WHACO_TEAM_ACTIVE_DEALS_MAX + 1};
    const char *field = NULL;
    init_cfg(&t, NULL);
    /* The bound is the core's: a request, a logged event or a state file above it is refused. */
    assert_int_equal(whaco_team_add(&t, &spec, &field), WHACO_E_INVAL);
    assert_string_equal(field, "activeDeals");
    assert_int_equal(t.n, 0);
    add_simple(&t, "a", 0.5, 0.9, 0.0, WHACO_TEAM_ACTIVE_DEALS_MAX);
    assert_int_equal(t.members[0].active_deals, WHACO_TEAM_ACTIVE_DEALS_MAX);
    assert_int_equal(t.members[0].n_timed, WHACO_TEAM_LEADS_MAX);
    assert_int_equal(whaco_team_advance(&t, 4.5), WHACO_OK); /* the timed ones expire */
    assert_int_equal(t.members[0].active_deals, WHACO_TEAM_ACTIVE_DEALS_MAX - WHACO_TEAM_LEADS_MAX);
    assert_int_equal(whaco_team_deal_closed(&t, "a"), WHACO_OK);
    assert_int_equal(t.members[0].active_deals,
                     WHACO_TEAM_ACTIVE_DEALS_MAX - WHACO_TEAM_LEADS_MAX - 1);
    whaco_team_release(&t);
}

static void team__carried_in_and_excess_leads_are_bounded(void **state)
{
    (void)state;
    struct whaco_team t;
    size_t who;
    init_cfg(&t, NULL);
    add_simple(&t, "a", 0.5, 0.9, 0.0, 3); /* carried in: they start now */
    assert_int_equal(t.members[0].active_deals, 3);
    assert_int_equal(whaco_team_advance(&t, 4.5), WHACO_OK);
    assert_int_equal(t.members[0].active_deals, 0);
    /* More open leads than are tracked: the oldest ends early. */
    for (int i = 0; i < WHACO_TEAM_LEADS_MAX + 8; i++)
        assert_int_equal(whaco_team_assign(&t, 0.5, &who, NULL), WHACO_OK);
    assert_int_equal(t.members[0].active_deals, WHACO_TEAM_LEADS_MAX);
    assert_int_equal(t.members[0].leads_today, WHACO_TEAM_LEADS_MAX + 8);
    /* Open leads survive a round trip through the saved state. */
    struct whaco_buf b = WHACO_BUF_INIT, again = WHACO_BUF_INIT;
    struct whaco_reader r;
    struct whaco_team u;
    memset(&u, 0, sizeof u);
    whaco_team_encode(&t, &b);
    whaco_reader_init(&r, b.data, b.len);
    assert_int_equal(whaco_team_decode(&u, &r), WHACO_OK);
    whaco_team_encode(&u, &again);
    assert_int_equal(b.len, again.len);
    assert_memory_equal(b.data, again.data, b.len);
    assert_int_equal(whaco_team_advance(&u, 4.5), WHACO_OK);
    assert_int_equal(u.members[0].active_deals, 0);
    whaco_buf_release(&b);
    whaco_buf_release(&again);
    whaco_team_release(&u);
    whaco_team_release(&t);
}

/*==== Events ====*/

static void team__deal_closed_advances_phase_and_counts(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    add_simple(&t, "a", 0.5, 0.9, 1.5 * PI + 0.1, 2);
    add_simple(&t, "b", 0.5, 0.9, 0.25, 0);
    assert_int_equal(whaco_team_deal_closed(&t, "a"), WHACO_OK);
    assert_true(fabs(t.members[0].phase - 0.1) < 1e-12); /* wrapped past 2pi */
    assert_int_equal(t.members[0].active_deals, 1);
    assert_int_equal(t.members[0].deals_today, 1);
    assert_int_equal(t.members[0].deals_total, 1);

    /* activeDeals does not go below zero; the deal still counts. */
    assert_int_equal(whaco_team_deal_closed(&t, "b"), WHACO_OK);
    assert_int_equal(whaco_team_deal_closed(&t, "b"), WHACO_OK);
    assert_int_equal(t.members[1].active_deals, 0);
    assert_int_equal(t.members[1].deals_today, 2);
    assert_true(fabs(t.members[1].phase - (0.25 + PI)) < 1e-12);
    /* The other member is untouched. */
    assert_int_equal(t.members[0].deals_today, 1);
    whaco_team_release(&t);
}

static void team__daily_reset_clears_today_only(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    add_simple(&t, "a", 0.5, 0.9, 0, 0);
    add_simple(&t, "b", 0.8, 0.9, 0, 0);
    size_t idx;
    assert_int_equal(whaco_team_assign(&t, 0.5, &idx, NULL), WHACO_OK);
    assert_int_equal(whaco_team_assign(&t, 0.5, &idx, NULL), WHACO_OK);
    assert_int_equal(whaco_team_deal_closed(&t, "b"), WHACO_OK);
    assert_int_equal(whaco_team_advance(&t, 6.0), WHACO_OK);
    assert_int_equal(whaco_team_record(&t, 1000), WHACO_OK);
    double phase_b = t.members[1].phase;
    uint32_t active = t.members[0].active_deals + t.members[1].active_deals;

    whaco_team_daily_reset(&t);
    for (size_t i = 0; i < 2; i++) {
        assert_int_equal(t.members[i].deals_today, 0);
        assert_int_equal(t.members[i].leads_today, 0);
    }
    assert_true(fabs(t.day_hours) < 1e-300);
    assert_true(fabs(t.total_hours - 6.0) < 1e-12);
    assert_true(fabs(t.members[1].phase - phase_b) < 1e-300);
    assert_int_equal(t.members[0].active_deals + t.members[1].active_deals, active);
    assert_int_equal(t.members[0].leads_total + t.members[1].leads_total, 2);
    assert_int_equal(t.members[1].deals_total, 1);
    assert_int_equal(whaco_team_history_len(&t), 1);
    whaco_team_release(&t);
}

static void team__assign_prefers_ready_unloaded_skill_matched(void **state)
{
    (void)state;
    struct whaco_team t;
    struct whaco_team_config cfg;
    whaco_team_config_default(&cfg);
    init_cfg(&t, &cfg);
    size_t idx = 99;
    const char *field = NULL;

    /* Readiness: same skill and load, phase 0 beats phase pi. */
    add_simple(&t, "busy-phase", 0.5, 0.9, PI, 0);
    add_simple(&t, "ready", 0.5, 0.9, 0.0, 0);
    assert_int_equal(whaco_team_pick(&t, 0.5, &idx, &field), WHACO_OK);
    assert_int_equal(idx, 1);

    /* Workload: same phase and skill, the one with fewer active deals. */
    assert_int_equal(whaco_team_remove(&t, "busy-phase"), WHACO_OK);
    add_simple(&t, "idle", 0.5, 0.9, 0.0, 0);
    t.members[0].active_deals = 4; /* read-only by contract; a test may set up state */
    assert_int_equal(whaco_team_pick(&t, 0.5, &idx, NULL), WHACO_OK);
    assert_string_equal(t.members[idx].id, "idle");

    /* Skill: high-priority lead to the skilled member, low to the junior. */
    whaco_team_release(&t);
    init_cfg(&t, &cfg);
    add_simple(&t, "junior", 0.2, 0.9, 0.0, 0);
    add_simple(&t, "senior", 0.9, 0.9, 0.0, 0);
    assert_int_equal(whaco_team_pick(&t, 0.95, &idx, NULL), WHACO_OK);
    assert_string_equal(t.members[idx].id, "senior");
    assert_int_equal(whaco_team_pick(&t, 0.1, &idx, NULL), WHACO_OK);
    assert_string_equal(t.members[idx].id, "junior");

    /* Ties go to the lowest insertion index. */
    whaco_team_release(&t);
    init_cfg(&t, &cfg);
    add_simple(&t, "x", 0.5, 0.9, 0.3, 1);
    add_simple(&t, "y", 0.5, 0.9, 0.3, 1);
    add_simple(&t, "z", 0.5, 0.9, 0.3, 1);
    assert_int_equal(whaco_team_pick(&t, 0.5, &idx, NULL), WHACO_OK);
    assert_int_equal(idx, 0);

    /* assign counts the lead, which then tips the next one elsewhere. */
    assert_int_equal(whaco_team_assign(&t, 0.5, &idx, NULL), WHACO_OK);
    assert_int_equal(idx, 0);
    assert_int_equal(t.members[0].active_deals, 2);
    assert_int_equal(t.members[0].leads_today, 1);
    assert_int_equal(t.members[0].leads_total, 1);
    assert_int_equal(whaco_team_assign(&t, 0.5, &idx, NULL), WHACO_OK);
    assert_int_equal(idx, 1);

    /* Overloaded members get leads only when everyone is overloaded. */
    t.members[0].phase = t.members[1].phase = 0.0;
    t.members[0].active_deals = t.members[1].active_deals = cfg.overload_deals;
    t.members[2].phase = PI;
    assert_int_equal(whaco_team_pick(&t, 0.5, &idx, NULL), WHACO_OK);
    assert_int_equal(idx, 2);
    t.members[2].active_deals = cfg.overload_deals + 3;
    assert_int_equal(whaco_team_pick(&t, 0.5, &idx, NULL), WHACO_OK);
    assert_int_equal(idx, 0);

    /* A bad priority is refused and nothing is counted. */
    uint32_t before = t.members[0].active_deals;
    idx = 42;
    assert_int_equal(whaco_team_assign(&t, NAN, &idx, &field), WHACO_E_NOT_FINITE);
    assert_string_equal(field, "leadPriority");
    field = NULL;
    assert_int_equal(whaco_team_assign(&t, 1.5, &idx, &field), WHACO_E_INVAL);
    assert_string_equal(field, "leadPriority");
    assert_int_equal(idx, 42);
    assert_int_equal(t.members[0].active_deals, before);
    whaco_team_release(&t);
}

/*==== Dynamics ====*/

/* The model of whaco/team.h, summed the obvious O(N^2) way. */
struct ref_model {
    size_t n;
    double k;
    const double *s, *w;
};

static void ref_rhs(const struct ref_model *m, const double *th, double *out)
{
    for (size_t i = 0; i < m->n; i++) {
        double sum = 0;
        for (size_t j = 0; j < m->n; j++)
            sum += (1.0 - fabs(m->s[i] - m->s[j])) * sin(th[j] - th[i]);
        out[i] = m->w[i] + m->k / (double)m->n * sum;
    }
}

static void ref_rk4(const struct ref_model *m, double *th, double h, int steps)
{
    size_t n = m->n;
    double *k1 = calloc(n, sizeof *k1), *k2 = calloc(n, sizeof *k2);
    double *k3 = calloc(n, sizeof *k3), *k4 = calloc(n, sizeof *k4);
    double *y = calloc(n, sizeof *y);
    assert_non_null(k1);
    assert_non_null(k2);
    assert_non_null(k3);
    assert_non_null(k4);
    assert_non_null(y);
    for (int st = 0; st < steps; st++) {
        ref_rhs(m, th, k1);
        for (size_t i = 0; i < n; i++)
            y[i] = th[i] + 0.5 * h * k1[i];
        ref_rhs(m, y, k2);
        for (size_t i = 0; i < n; i++)
            y[i] = th[i] + 0.5 * h * k2[i];
        ref_rhs(m, y, k3);
        for (size_t i = 0; i < n; i++)
            y[i] = th[i] + h * k3[i];
        ref_rhs(m, y, k4);
        for (size_t i = 0; i < n; i++)
            th[i] += h / 6.0 * (k1[i] + 2 * k2[i] + 2 * k3[i] + k4[i]);
    }
    free(k1), free(k2), free(k3), free(k4), free(y);
}

static void check_against_reference(bool workload)
{
    enum { N = 300 };
    struct whaco_team_config cfg;
    whaco_team_config_default(&cfg);
    cfg.coupling = 2.5;
    cfg.dt_max = 0.01;
    cfg.workload = workload;
    struct whaco_team t;
    init_cfg(&t, &cfg);
    struct whaco_rng rng;
    whaco_rng_seed(&rng, workload ? 11 : 7);
    static double s[N], w[N], th[N];
    for (size_t i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "r%zu", i);
        /* Some exact skill ties, to exercise the tie split of the prefix sums. */
        s[i] = i % 7 == 0 ? 0.5 : whaco_rng_uniform(&rng);
        double omega = 0.5 + whaco_rng_uniform(&rng);
        th[i] = TAU * whaco_rng_uniform(&rng);
        uint32_t active = (uint32_t)whaco_rng_below(&rng, 10);
        struct whaco_member_spec sp = {id, id, s[i], omega, th[i], active};
        add_ok(&t, &sp);
        double f = workload ? (1 + cfg.workload_gain) /
                                  (1 + cfg.workload_gain * active / cfg.nominal_deals)
                            : 1.0;
        w[i] = omega * f;
    }
    struct ref_model m = {N, cfg.coupling, s, w};
    assert_int_equal(whaco_team_advance(&t, 0.05), WHACO_OK); /* 5 steps of 0.01 h */
    ref_rk4(&m, th, 0.01 / WHACO_TEAM_TIME_UNIT_HOURS, 5);    /* in model units */
    double worst = 0;
    for (size_t i = 0; i < N; i++) {
        double d = fabs(wrapd(t.members[i].phase, th[i]));
        worst = d > worst ? d : worst;
    }
    if (!(worst < 1e-12))
        fail_msg("O(N) coupling differs from the O(N^2) reference by %g rad", worst);
    whaco_team_release(&t);
}

static void team__coupling_matches_quadratic_reference(void **state)
{
    (void)state;
    check_against_reference(false);
    check_against_reference(true);
}

/*
 * Kuramoto fidelity through the public API. Equal skills (w_ij = 1),
 * workload off: the model is the classic one. omega_i are deterministic
 * quantiles of a Lorentzian of half-width gamma = 0.5, which removes most of
 * the finite-size noise of random draws. The team API requires omega >= 0,
 * so the distribution is centred at omega0 = 50 rad/unit instead of 0: a common
 * rotation changes neither r nor the dynamics of phase differences (RK4 is
 * exactly equivariant under it in exact arithmetic). The 0.6% of quantiles
 * beyond +-50 are clamped to [0, 100]; they drift far from the locked
 * cluster and contribute nothing to r either way.
 */
static double run_kuramoto(double k, double t_settle, double t_avg)
{
    enum { N = 2000 };
    const double gamma = 0.5, omega0 = 50.0;
    struct whaco_team_config cfg;
    whaco_team_config_default(&cfg);
    cfg.coupling = k;
    cfg.workload = false;
    cfg.dt_max = 0.1 * WHACO_TEAM_TIME_UNIT_HOURS; /* 0.1 model units */
    struct whaco_team t;
    init_cfg(&t, &cfg);
    struct whaco_rng rng;
    whaco_rng_seed(&rng, 2000);
    for (size_t i = 0; i < N; i++) {
        char id[32];
        snprintf(id, sizeof id, "k%zu", i);
        double q = gamma * tan(PI * ((double)i + 0.5) / N - PI / 2);
        double omega = omega0 + q;
        omega = omega < 0 ? 0 : omega > 2 * omega0 ? 2 * omega0 : omega;
        struct whaco_member_spec sp = {id, id, 0.5, omega, TAU * whaco_rng_uniform(&rng), 0};
        add_ok(&t, &sp);
    }
    /* Times are in model units; advance() takes hours. */
    for (double u = 0; u < t_settle; u += 1.0)
        assert_int_equal(whaco_team_advance(&t, 1.0 * WHACO_TEAM_TIME_UNIT_HOURS), WHACO_OK);
    double sum = 0;
    int samples = 0;
    for (double u = 0; u < t_avg; u += 0.5) {
        assert_int_equal(whaco_team_advance(&t, 0.5 * WHACO_TEAM_TIME_UNIT_HOURS), WHACO_OK);
        sum += coherence(&t);
        samples++;
    }
    whaco_team_release(&t);
    return sum / samples;
}

static void team__kuramoto_steady_state_matches_theory(void **state)
{
    (void)state;
    const double ks[] = {1.5, 2.0, 3.0, 4.0};
    for (size_t i = 0; i < sizeof ks / sizeof ks[0]; i++) {
        /* Relaxation slows near K_c = 1: settle longer for small K. */
        double r = run_kuramoto(ks[i], ks[i] < 2.5 ? 40 : 20, 30);
        double theory = sqrt(1 - 2 * 0.5 / ks[i]);
        print_message("K=%.1f r=%.4f theory=%.4f\n", ks[i], r, theory);
        if (!(fabs(r - theory) < 0.03))
            fail_msg("K=%.1f: r=%.4f, theory %.4f (tolerance 0.03)", ks[i], r, theory);
    }
    double r = run_kuramoto(0.5, 20, 30);
    print_message("K=0.5 r=%.4f theory=0 (incoherent)\n", r);
    if (!(r < 0.1))
        fail_msg("K=0.5 below K_c: r=%.4f should stay incoherent (< 0.1)", r);
}

static void team__healthy_team_is_good_after_a_business_day(void **state)
{
    (void)state;
    struct whaco_team_status st;
    whaco_team_status_init(&st);
    double worst = 1;
    for (size_t n = 5; n <= 15; n += 2) {
        for (uint64_t seed = 1; seed <= 4; seed++) {
            struct whaco_team t;
            init_cfg(&t, NULL);
            struct whaco_rng rng;
            whaco_rng_seed(&rng, 1000 * n + seed);
            add_random_team(&t, n, &rng, 0.9, 0.05, 0.6, 0.1);
            advance_ticks(&t, 10.0);
            assert_int_equal(whaco_team_status_compute(&st, &t), WHACO_OK);
            if (!(st.r > 0.6) || st.band > WHACO_BAND_GOOD)
                fail_msg("n=%zu seed=%llu: r=%.3f (%s) after 10 h", n, (unsigned long long)seed,
                         st.r, whaco_team_band_name(st.band));
            worst = st.r < worst ? st.r : worst;
            /* The report's r is bit for bit whaco_team_coherence's. */
            double r = coherence(&t);
            assert_memory_equal(&r, &st.r, sizeof r);
            /* Nobody in a healthy team is a bottleneck. */
            if (st.n_bottlenecks != 0)
                fail_msg("n=%zu seed=%llu: r=%.3f, member %u is a bottleneck: %s (%.2f rad)", n,
                         (unsigned long long)seed, st.r, st.bottlenecks[0].member,
                         whaco_team_issue_text(st.bottlenecks[0].issue),
                         st.bottlenecks[0].phase_difference);
            whaco_team_release(&t);
        }
    }
    print_message("healthy teams of 5..15: lowest r after 10 h = %.4f\n", worst);
    whaco_team_status_release(&st);
}

/*
 * The bands mean something: with K = 0.3 a team whose velocities are
 * spread well beyond the locking threshold (sigma 0.45 against about 0.19)
 * does not synchronise, so its coherence, averaged over the afternoon,
 * stays below "good" -- unlike the healthy teams above.
 */
static void team__uneven_team_stays_below_good(void **state)
{
    (void)state;
    double worst = 0;
    for (uint64_t seed = 1; seed <= 4; seed++) {
        struct whaco_team t;
        init_cfg(&t, NULL);
        struct whaco_rng rng;
        whaco_rng_seed(&rng, 500 + seed);
        add_random_team(&t, 15, &rng, 0.9, 0.45, 0.6, 0.1);
        advance_ticks(&t, 5.0);
        double sum = 0;
        for (int k = 0; k < 60; k++) {
            advance_ticks(&t, 5.0 / 60.0);
            sum += coherence(&t);
        }
        double r = sum / 60;
        worst = r > worst ? r : worst;
        if (!(r < 0.6))
            fail_msg("seed %llu: uneven team averaged r = %.3f", (unsigned long long)seed, r);
        whaco_team_release(&t);
    }
    print_message("uneven teams of 15: highest afternoon r = %.4f\n", worst);
}

/* A healthy team of 8 with member 3 changed by `bend`, after a business day. */
static void expect_single_bottleneck(double omega3, uint32_t active3, int issue, const char *text)
{
    struct whaco_team t;
    init_cfg(&t, NULL);
    struct whaco_rng rng;
    whaco_rng_seed(&rng, 42);
    add_random_team(&t, 8, &rng, 0.9, 0.05, 0.6, 0.1);
    t.members[3].omega = omega3;
    t.members[3].active_deals = active3;
    advance_ticks(&t, 10.0);

    struct whaco_team_status st;
    whaco_team_status_init(&st);
    assert_int_equal(whaco_team_status_compute(&st, &t), WHACO_OK);
    if (st.n_bottlenecks != 1)
        fail_msg("want one bottleneck, got %zu (r=%.3f)", st.n_bottlenecks, st.r);
    const struct whaco_bottleneck *b = &st.bottlenecks[0];
    assert_int_equal(b->member, 3);
    assert_int_equal(b->issue, issue);
    assert_string_equal(whaco_team_issue_text(b->issue), text);
    assert_int_equal(b->active_deals, active3);
    assert_true(b->phase_difference >= 0 && b->phase_difference <= PI);
    double psi = st.psi;
    assert_true(fabs(b->phase_difference - fabs(wrapd(t.members[3].phase, psi))) < 1e-12);
    assert_int_equal(st.members[3].issue, issue);
    whaco_team_status_release(&st);
    whaco_team_release(&t);
}

static void team__overloaded_member_is_a_bottleneck(void **state)
{
    (void)state;
    expect_single_bottleneck(0.9, 12, WHACO_ISSUE_OVERLOADED, "Overloaded - too many active deals");
}

static void team__stalled_member_is_a_bottleneck(void **state)
{
    (void)state;
    expect_single_bottleneck(0.02, 0, WHACO_ISSUE_BEHIND, "Significantly behind team rhythm");
    expect_single_bottleneck(0.3, 0, WHACO_ISSUE_BEHIND, "Significantly behind team rhythm");
}

static void team__status_rules(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    /* Three members in step at phase 0.2 (ready), one behind, one ahead. */
    add_simple(&t, "ann", 0.9, 0.9, 0.2, 3);
    add_simple(&t, "bob", 0.5, 0.9, 0.2, 0);
    add_simple(&t, "cat", 0.6, 0.9, 0.2, 7);
    add_simple(&t, "dan", 0.3, 0.9, 0.2 - 1.2, 0);
    add_simple(&t, "eve", 0.5, 0.9, 1.4, 1);
    t.members[0].deals_today = 2;
    t.members[0].deals_total = 2;
    assert_int_equal(whaco_team_advance(&t, 0.0), WHACO_OK);
    t.day_hours = 5.0; /* afternoon: "Slow day" applies */

    struct whaco_team_status st;
    whaco_team_status_init(&st);
    assert_int_equal(whaco_team_status_compute(&st, &t), WHACO_OK);
    assert_int_equal(st.n_members, 5);
    assert_true(st.r > 0.6);
    assert_string_equal(whaco_team_band_name(st.band), st.r > 0.8 ? "excellent" : "good");
    assert_string_equal(whaco_member_state_name(st.members[0].state), "crushing_it");
    assert_string_equal(whaco_member_state_name(st.members[1].state), "slow_day");
    assert_string_equal(whaco_member_state_name(st.members[2].state), "overloaded");
    assert_string_equal(whaco_member_state_name(st.members[3].state), "behind");
    assert_string_equal(whaco_member_state_name(st.members[4].state), "slow_day");
    assert_int_equal(st.n_bottlenecks, 4);
    assert_string_equal(whaco_team_issue_text(st.bottlenecks[0].issue),
                        "Slow day - no deals closed yet");
    assert_int_equal(st.bottlenecks[1].member, 2);
    assert_int_equal(st.bottlenecks[2].member, 3);
    assert_int_equal(st.bottlenecks[3].member, 4);

    /* Before slowDayHours nobody has a slow day: bob is ready, eve on track. */
    t.day_hours = 1.0;
    assert_int_equal(whaco_team_status_compute(&st, &t), WHACO_OK);
    assert_string_equal(whaco_member_state_name(st.members[1].state), "ready");
    assert_string_equal(whaco_member_state_name(st.members[4].state), "on_track");
    assert_int_equal(st.n_bottlenecks, 2);

    /*
     * Mentoring: ann (0.9) is not ahead of dan? She is: dan lags by 1.2 rad.
     * ann mentors dan (gap 0.6, behind, so first), bob and eve are not
     * behind ann... eve is ahead of ann, so her mentor must be ahead of her:
     * nobody with skill >= 0.7 is, so eve gets none. bob (0.5) and ann share
     * a phase, so no lead; cat is overloaded and cannot mentor.
     */
    assert_int_equal(st.n_mentoring, 1);
    assert_int_equal(st.mentoring[0].mentor, 0);
    assert_int_equal(st.mentoring[0].mentee, 3);
    assert_true(fabs(st.mentoring[0].skill_gap - 0.6) < 1e-12);
    assert_true(fabs(st.mentoring[0].phase_lead - 1.2) < 1e-12);
    char buf[256];
    size_t len = whaco_team_recommendation(&t, &st.mentoring[0], buf, sizeof buf);
    assert_string_equal(buf, "ann can help dan move deals faster");
    assert_int_equal(len, strlen(buf));
    char small[8];
    assert_int_equal(whaco_team_recommendation(&t, &st.mentoring[0], small, sizeof small), len);
    assert_string_equal(small, "ann can");

    /* Bands at their edges. */
    assert_int_equal(whaco_team_band(0.81), WHACO_BAND_EXCELLENT);
    assert_int_equal(whaco_team_band(0.8), WHACO_BAND_GOOD);
    assert_int_equal(whaco_team_band(0.6), WHACO_BAND_GOOD);
    assert_int_equal(whaco_team_band(0.59), WHACO_BAND_NEEDS_ATTENTION);
    assert_int_equal(whaco_team_band(0.4), WHACO_BAND_NEEDS_ATTENTION);
    assert_int_equal(whaco_team_band(0.39), WHACO_BAND_CRITICAL);
    assert_int_equal(whaco_team_band(NAN), WHACO_BAND_CRITICAL);
    assert_string_equal(whaco_team_band_name(WHACO_BAND_NEEDS_ATTENTION), "needs_attention");
    assert_string_equal(whaco_team_band_name(WHACO_BAND_CRITICAL), "critical");
    assert_null(whaco_team_band_name(4));
    whaco_team_status_release(&st);
    whaco_team_release(&t);
}

static void team__mentoring_is_bounded_and_best_first(void **state)
{
    (void)state;
    struct whaco_team_config cfg;
    whaco_team_config_default(&cfg);
    cfg.mentoring_max = 3;
    struct whaco_team t;
    init_cfg(&t, &cfg);
    /* Two mentors ahead in phase, six juniors behind them. */
    add_simple(&t, "star", 0.95, 0.9, 1.0, 0);
    add_simple(&t, "good", 0.8, 0.9, 1.0, 0);
    const char *juniors[] = {"j0", "j1", "j2", "j3", "j4", "j5"};
    const double skills[] = {0.5, 0.2, 0.7, 0.3, 0.2, 0.6};
    for (size_t i = 0; i < 6; i++)
        add_simple(&t, juniors[i], skills[i], 0.9, 0.6, 0);
    struct whaco_team_status st;
    whaco_team_status_init(&st);
    assert_int_equal(whaco_team_status_compute(&st, &t), WHACO_OK);
    assert_int_equal(st.n_mentoring, 3);
    /* Largest gaps first (j1 and j4 tie at 0.75: lower index first), all to "star". */
    assert_int_equal(st.mentoring[0].mentee, 3);
    assert_int_equal(st.mentoring[1].mentee, 6);
    assert_int_equal(st.mentoring[2].mentee, 5);
    for (size_t k = 0; k < 3; k++) {
        assert_int_equal(st.mentoring[k].mentor, 0);
        assert_true(st.mentoring[k].phase_lead > 0 && st.mentoring[k].phase_lead < PI);
        assert_true(st.mentoring[k].skill_gap >= cfg.mentor_gap);
    }
    /* Each mentee appears once. */
    assert_true(st.mentoring[0].mentee != st.mentoring[1].mentee);
    whaco_team_status_release(&st);
    whaco_team_release(&t);
}

/*==== Coherence history ====*/

static void team__history_ring_is_bounded_and_ordered(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    add_simple(&t, "a", 0.5, 0.9, 0, 0);
    add_simple(&t, "b", 0.5, 0.9, PI / 2, 0);
    const int64_t t0 = 1737100000000; /* 2025-01-17 */
    assert_int_equal(whaco_team_record(&t, t0), WHACO_OK);
    assert_int_equal(whaco_team_record(&t, t0 - 1), WHACO_E_TIME_BACKWARDS);
    assert_int_equal(whaco_team_record(&t, t0), WHACO_OK); /* same time is fine */
    struct whaco_coherence_sample out[4];
    assert_int_equal(whaco_team_history_since(&t, t0, out, 4), 2);
    assert_true(fabs(out[0].r - sqrt(0.5)) < 1e-12);

    const int total = WHACO_TEAM_HISTORY + 100;
    for (int k = 2; k < total; k++)
        assert_int_equal(whaco_team_record(&t, t0 + (int64_t)k * WHACO_TEAM_HISTORY_STEP),
                         WHACO_OK);
    assert_int_equal(whaco_team_history_len(&t), WHACO_TEAM_HISTORY);
    static struct whaco_coherence_sample all[WHACO_TEAM_HISTORY + 1];
    assert_int_equal(whaco_team_history_since(&t, INT64_MIN, all, WHACO_TEAM_HISTORY + 1),
                     WHACO_TEAM_HISTORY);
    assert_true(all[0].timestamp_ms == t0 + 100LL * WHACO_TEAM_HISTORY_STEP);
    assert_true(all[WHACO_TEAM_HISTORY - 1].timestamp_ms ==
                t0 + (int64_t)(total - 1) * WHACO_TEAM_HISTORY_STEP);
    for (int k = 1; k < WHACO_TEAM_HISTORY; k++)
        assert_true(all[k].timestamp_ms > all[k - 1].timestamp_ms);
    /* "Since T" keeps the newest when the caller's buffer is short. */
    int64_t since = t0 + (int64_t)(total - 10) * WHACO_TEAM_HISTORY_STEP;
    assert_int_equal(whaco_team_history_since(&t, since, all, 100), 10);
    assert_true(all[0].timestamp_ms == since);
    assert_int_equal(whaco_team_history_since(&t, since, all, 3), 3);
    assert_true(all[2].timestamp_ms == t0 + (int64_t)(total - 1) * WHACO_TEAM_HISTORY_STEP);
    assert_int_equal(whaco_team_history_since(&t, INT64_MAX, all, 100), 0);
    assert_int_equal(whaco_team_history_since(&t, 0, NULL, 0), 0);
    whaco_team_release(&t);
}

/*==== Serialisation ====*/

static void build_small_team(struct whaco_team *t)
{
    init_cfg(t, NULL);
    add_ok(t, &(struct whaco_member_spec){"sp-123", "Jane Smith", 0.9, 0.95, 0.5, 3});
    add_ok(t, &(struct whaco_member_spec){"sp-456", "John Doe", 0.5, 0.85, 2.0, 6});
    add_ok(t, &(struct whaco_member_spec){"sp-789", "Bob Johnson", 0.65, 0.9, 4.0, 0});
    size_t idx;
    assert_int_equal(whaco_team_assign(t, 0.8, &idx, NULL), WHACO_OK);
    assert_int_equal(whaco_team_deal_closed(t, "sp-123"), WHACO_OK);
    assert_int_equal(whaco_team_advance(t, 0.25), WHACO_OK);
    assert_int_equal(whaco_team_record(t, 1737100000000), WHACO_OK);
    assert_int_equal(whaco_team_advance(t, 5.0 / 60.0), WHACO_OK);
    assert_int_equal(whaco_team_record(t, 1737100300000), WHACO_OK);
}

static void encode(const struct whaco_team *t, struct whaco_buf *b)
{
    b->len = 0;
    whaco_team_encode(t, b);
}

static void team__encode_decode_round_trip(void **state)
{
    (void)state;
    struct whaco_team a, b;
    build_small_team(&a);
    init_cfg(&b, NULL);
    struct whaco_buf x = WHACO_BUF_INIT, y = WHACO_BUF_INIT;
    encode(&a, &x);
    struct whaco_reader r;
    whaco_reader_init(&r, x.data, x.len);
    assert_int_equal(whaco_team_decode(&b, &r), WHACO_OK);
    assert_int_equal(r.off, x.len);
    encode(&b, &y);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    assert_int_equal(b.n, 3);
    assert_string_equal(b.members[1].name, "John Doe");
    assert_int_equal(whaco_team_history_len(&b), 2);

    /* The decoded team evolves bit for bit like the original. */
    for (int k = 0; k < 3; k++) {
        size_t i1, i2;
        assert_int_equal(whaco_team_advance(&a, 0.7), WHACO_OK);
        assert_int_equal(whaco_team_advance(&b, 0.7), WHACO_OK);
        assert_int_equal(whaco_team_assign(&a, 0.3, &i1, NULL), WHACO_OK);
        assert_int_equal(whaco_team_assign(&b, 0.3, &i2, NULL), WHACO_OK);
        assert_int_equal(i1, i2);
    }
    assert_int_equal(whaco_team_add(&a, &(struct whaco_member_spec){"n", "N", 0.65, 1, 1, 0}, NULL),
                     WHACO_OK);
    assert_int_equal(whaco_team_add(&b, &(struct whaco_member_spec){"n", "N", 0.65, 1, 1, 0}, NULL),
                     WHACO_OK);
    assert_int_equal(whaco_team_advance(&a, 1.0), WHACO_OK);
    assert_int_equal(whaco_team_advance(&b, 1.0), WHACO_OK);
    encode(&a, &x);
    encode(&b, &y);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);

    /* A copy is independent and equal. */
    struct whaco_team c;
    memset(&c, 0, sizeof c);
    whaco_team_copy(&c, &a);
    encode(&c, &y);
    assert_memory_equal(x.data, y.data, x.len);
    assert_int_equal(whaco_team_advance(&c, 1.0), WHACO_OK);
    encode(&a, &y);
    assert_memory_equal(x.data, y.data, x.len);

    whaco_team_release(&c);
    whaco_buf_release(&x);
    whaco_buf_release(&y);
    whaco_team_release(&a);
    whaco_team_release(&b);
}

static void team__same_operations_give_identical_bytes(void **state)
{
    (void)state;
    struct whaco_buf x = WHACO_BUF_INIT, y = WHACO_BUF_INIT;
    for (int pass = 0; pass < 2; pass++) {
        struct whaco_team t;
        init_cfg(&t, NULL);
        struct whaco_rng rng;
        whaco_rng_seed(&rng, 99);
        add_random_team(&t, 40, &rng, 0.9, 0.1, 0.5, 0.2);
        for (int k = 0; k < 50; k++) {
            size_t i;
            assert_int_equal(whaco_team_assign(&t, whaco_rng_uniform(&rng), &i, NULL), WHACO_OK);
            if (k % 3 == 0)
                assert_int_equal(whaco_team_deal_closed(&t, t.members[i].id), WHACO_OK);
            assert_int_equal(whaco_team_advance(&t, 5.0 / 60.0), WHACO_OK);
            assert_int_equal(whaco_team_record(&t, 1000 * (int64_t)k), WHACO_OK);
        }
        assert_int_equal(whaco_team_remove(&t, "m7"), WHACO_OK);
        assert_int_equal(whaco_team_advance(&t, 1.0), WHACO_OK);
        encode(&t, pass ? &y : &x);
        whaco_team_release(&t);
    }
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    whaco_buf_release(&x);
    whaco_buf_release(&y);
}

/* Decode bytes into a team holding `small`; check the all-or-nothing contract. */
static int decode_checked(const uint8_t *p, size_t len, const struct whaco_buf *before)
{
    struct whaco_team t;
    build_small_team(&t);
    struct whaco_reader r;
    whaco_reader_init(&r, p, len);
    int rc = whaco_team_decode(&t, &r);
    struct whaco_buf after = WHACO_BUF_INIT;
    whaco_team_encode(&t, &after);
    if (rc == WHACO_OK) {
        /* A valid state: it re-encodes to the bytes it came from. */
        assert_int_equal(after.len, r.off);
        assert_memory_equal(after.data, p, after.len);
        size_t idx;
        assert_int_equal(whaco_team_advance(&t, 1.0), WHACO_OK);
        if (t.n)
            assert_int_equal(whaco_team_assign(&t, 0.5, &idx, NULL), WHACO_OK);
    } else {
        assert_int_equal(rc, WHACO_E_STATE_CORRUPT);
        assert_int_equal(r.err, WHACO_E_STATE_CORRUPT);
        assert_int_equal(after.len, before->len);
        assert_memory_equal(after.data, before->data, after.len);
    }
    whaco_buf_release(&after);
    whaco_team_release(&t);
    return rc;
}

static void team__decode_rejects_corrupt_and_truncated_payloads(void **state)
{
    (void)state;
    struct whaco_team t;
    build_small_team(&t);
    struct whaco_buf good = WHACO_BUF_INIT;
    whaco_team_encode(&t, &good);
    whaco_team_release(&t);

    for (size_t len = 0; len < good.len; len++)
        assert_int_equal(decode_checked(good.data, len, &good), WHACO_E_STATE_CORRUPT);

    uint8_t *bad = malloc(good.len);
    assert_non_null(bad);
    const uint8_t flips[] = {0xff, 0x01, 0x80};
    size_t rejected = 0;
    for (size_t pos = 0; pos < good.len; pos++) {
        for (size_t f = 0; f < sizeof flips; f++) {
            memcpy(bad, good.data, good.len);
            bad[pos] ^= flips[f];
            rejected += decode_checked(bad, good.len, &good) != WHACO_OK;
        }
    }
    /* Most flips hit a checked value; others (a low mantissa bit) give valid states. */
    print_message("flipped %zu bytes x 3: %zu rejected\n", good.len, rejected);
    assert_true(rejected > 0);

    /*
     * Specific impossibilities, at their offsets in the layout of
     * docs/team.md: version at 0, workload flag at 20, member count at 137,
     * first member at 141 ("sp-123", "Jane Smith", skill, omega, phase).
     */
    const size_t off_workload = 20, off_n = 137, off_skill = 141 + 4 + 6 + 4 + 10;
    const size_t off_phase = off_skill + 16;
    const size_t off_hist = good.len - 2 * 16 - 4;
    struct {
        size_t off;
        uint64_t value;
        int bytes;
    } cases[] = {
        {0, 3, 4},                                  /* unknown layout version */
        {off_workload, 2, 1},                       /* boolean that is not 0/1 */
        {off_n, 4, 4},                              /* more members than bytes */
        {off_n, 0xffffffffu, 4},                    /* more than WHACO_TEAM_MAX */
        {off_n, 2, 4},                              /* fewer: bytes left over misread */
        {141, 200, 4},                              /* id longer than the buffer */
        {off_skill, 0x3ff8000000000000u, 8},        /* skill 1.5 */
        {off_phase, 0x7ff8000000000000u, 8},        /* phase NaN */
        {off_phase, 0x401921fb54442d18u, 8},        /* phase 2pi: not < 2pi */
        {off_hist, 3, 4},                           /* more samples than bytes */
        {off_hist + 4 + 8, 0x4000000000000000u, 8}, /* r = 2 */
        {off_hist + 4 + 16, 0, 8},                  /* timestamps going back */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        memcpy(bad, good.data, good.len);
        for (int i = 0; i < cases[k].bytes; i++)
            bad[cases[k].off + (size_t)i] = (uint8_t)(cases[k].value >> (8 * i));
        if (decode_checked(bad, good.len, &good) != WHACO_E_STATE_CORRUPT)
            fail_msg("case %zu (offset %zu) was accepted", k, cases[k].off);
    }
    free(bad);
    whaco_buf_release(&good);
}

static void team__decode_rejects_duplicate_ids(void **state)
{
    (void)state;
    struct whaco_team t;
    init_cfg(&t, NULL);
    add_simple(&t, "aa", 0.5, 0.9, 0, 0);
    add_simple(&t, "ab", 0.5, 0.9, 0, 0);
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_team_encode(&t, &b);
    whaco_team_release(&t);
    /* Rename the second "ab" to "aa" in the payload. */
    for (size_t i = 0; i + 1 < b.len; i++) {
        if (b.data[i] == 'a' && b.data[i + 1] == 'b') {
            b.data[i + 1] = 'a';
            break;
        }
    }
    struct whaco_buf empty = WHACO_BUF_INIT;
    struct whaco_team fresh;
    build_small_team(&fresh);
    whaco_team_encode(&fresh, &empty);
    whaco_team_release(&fresh);
    assert_int_equal(decode_checked(b.data, b.len, &empty), WHACO_E_STATE_CORRUPT);
    whaco_buf_release(&empty);
    whaco_buf_release(&b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(team__config_defaults_are_valid_and_checked),
        cmocka_unit_test(team__add_validates_every_field),
        cmocka_unit_test(team__duplicate_and_unknown_ids),
        cmocka_unit_test(team__remove_keeps_insertion_order),
        cmocka_unit_test(team__full_team_refuses_members),
        cmocka_unit_test(team__empty_network_errors),
        cmocka_unit_test(team__advance_rejects_bad_elapsed_time),
        cmocka_unit_test(team__open_leads_expire_and_close_oldest_first),
        cmocka_unit_test(team__carried_in_and_excess_leads_are_bounded),
        cmocka_unit_test(team__huge_carried_in_count_is_kept_exactly),
        cmocka_unit_test(team__deal_closed_advances_phase_and_counts),
        cmocka_unit_test(team__daily_reset_clears_today_only),
        cmocka_unit_test(team__assign_prefers_ready_unloaded_skill_matched),
        cmocka_unit_test(team__coupling_matches_quadratic_reference),
        cmocka_unit_test(team__kuramoto_steady_state_matches_theory),
        cmocka_unit_test(team__healthy_team_is_good_after_a_business_day),
        cmocka_unit_test(team__uneven_team_stays_below_good),
        cmocka_unit_test(team__overloaded_member_is_a_bottleneck),
        cmocka_unit_test(team__stalled_member_is_a_bottleneck),
        cmocka_unit_test(team__status_rules),
        cmocka_unit_test(team__mentoring_is_bounded_and_best_first),
        cmocka_unit_test(team__history_ring_is_bounded_and_ordered),
        cmocka_unit_test(team__encode_decode_round_trip),
        cmocka_unit_test(team__same_operations_give_identical_bytes),
        cmocka_unit_test(team__decode_rejects_corrupt_and_truncated_payloads),
        cmocka_unit_test(team__decode_rejects_duplicate_ids),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

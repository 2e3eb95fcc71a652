/*
 * test_intel.c: the intelligence layer (whaco/intel.h): events on both
 * engines, recommended actions, and the whole-state save format that the
 * durable store replays on.
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
#include "whaco/gen.h"
#include "whaco/intel.h"

#define T0     1737124200000 /* 2025-01-17T14:30:00Z */
#define MINUTE 60000

static struct whaco_intel in_a, in_b;

static void init(struct whaco_intel *in)
{
    assert_int_equal(whaco_intel_init(in, NULL, NULL, NULL), WHACO_OK);
}

static void add(struct whaco_intel *in, const char *id, const char *name, double skill,
                double omega, int64_t now)
{
    struct whaco_member_spec spec = {id, name, skill, omega, 0.0, 0};
    assert_int_equal(whaco_intel_add_salesperson(in, &spec, now, NULL), WHACO_OK);
}

static struct whaco_customer prime(void)
{
    struct whaco_customer c = {"cust_123", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    return c;
}

/* Save *in into a fresh buffer (caller releases). */
static struct whaco_buf save(const struct whaco_intel *in)
{
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_intel_save(in, &b);
    return b;
}

static void assert_same_state(const struct whaco_intel *x, const struct whaco_intel *y)
{
    struct whaco_buf a = save(x), b = save(y);
    assert_int_equal(a.len, b.len);
    assert_memory_equal(a.data, b.data, a.len);
    whaco_buf_release(&a);
    whaco_buf_release(&b);
}

static void intel__analyze_segments_assigns_and_recommends(void **state)
{
    (void)state;
    struct whaco_analysis an;
    struct whaco_customer c = prime();
    init(&in_a);
    add(&in_a, "sp-1", "Jane Smith", 0.9, 0.9, T0);
    add(&in_a, "sp-2", "Bob Johnson", 0.4, 0.9, T0);
    assert_int_equal(whaco_intel_analyze(&in_a, &c, T0 + MINUTE, &an, NULL), WHACO_OK);
    assert_int_equal(an.segment.cluster_id, WHACO_PRIME_BUYERS);
    assert_int_equal(an.assign_rc, WHACO_OK);
    /* A 0.95-priority lead goes to the skilled salesperson. */
    assert_string_equal(an.assigned_id, "sp-1");
    assert_string_equal(in_a.team.members[an.assigned].id, "sp-1");
    assert_int_equal(in_a.team.members[an.assigned].active_deals, 1);
    /* The seed's example list, in order. */
    assert_int_equal(an.n_actions, 4);
    assert_string_equal(an.actions[0], "Show premium inventory");
    assert_string_equal(an.actions[1], "Offer competitive financing rates");
    assert_string_equal(an.actions[2], "Quick close approach - minimal back and forth");
    assert_string_equal(an.actions[3], "🔥 HIGH PRIORITY - Assign experienced salesperson");
    assert_int_equal(in_a.seg.processed, 1);
    assert_true(in_a.clock_ms == T0 + MINUTE);
    whaco_intel_release(&in_a);
}

static void intel__empty_team_still_analyses(void **state)
{
    (void)state;
    struct whaco_analysis an;
    struct whaco_customer c = prime();
    init(&in_a);
    assert_int_equal(whaco_intel_analyze(&in_a, &c, T0, &an, NULL), WHACO_OK);
    assert_int_equal(an.assign_rc, WHACO_E_EMPTY_TEAM);
    assert_string_equal(whaco_strerror(an.assign_rc), "No salespeople in network");
    assert_string_equal(an.assigned_id, "");
    assert_int_equal(in_a.seg.processed, 1);
    whaco_intel_release(&in_a);
}

static void intel__outliers_get_verification_and_approval(void **state)
{
    (void)state;
    struct whaco_analysis an;
    struct whaco_customer c = prime();
    c.credit_score = 420;
    c.annual_income = 2000000;
    c.down_payment = 0;
    init(&in_a);
    assert_int_equal(whaco_intel_analyze(&in_a, &c, T0, &an, NULL), WHACO_OK);
    assert_true(an.segment.is_outlier);
    assert_true(an.n_actions >= 5);
    assert_non_null(strstr(an.actions[0], "Verify"));
    assert_non_null(strstr(an.actions[an.n_actions - 1], "manager approval"));
    whaco_intel_release(&in_a);
}

static void intel__actions_for_every_segment(void **state)
{
    (void)state;
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        struct whaco_segment_result r;
        const char *actions[WHACO_ACTIONS_MAX];
        memset(&r, 0, sizeof r);
        r.cluster_id = k;
        r.priority = whaco_profile(k)->priority;
        unsigned n = whaco_recommended_actions(&r, actions);
        /* Three segment actions, plus the high-priority line for Prime only. */
        assert_int_equal(n, k == WHACO_PRIME_BUYERS ? 4 : 3);
        for (unsigned i = 0; i < n; i++)
            assert_true(strlen(actions[i]) > 0);
        r.is_outlier = true;
        assert_int_equal(whaco_recommended_actions(&r, actions), n + 2);
    }
}

static void intel__bad_events_change_nothing(void **state)
{
    (void)state;
    struct whaco_analysis an;
    struct whaco_customer c = prime();
    const char *field = NULL;
    init(&in_a);
    add(&in_a, "sp-1", "Jane Smith", 0.9, 0.9, T0);
    assert_int_equal(whaco_intel_analyze(&in_a, &c, T0 + MINUTE, &an, NULL), WHACO_OK);
    struct whaco_buf before = save(&in_a);

    c.engagement = 2;
    memset(&an, 0x3c, sizeof an);
    struct whaco_analysis untouched = an;
    assert_int_equal(whaco_intel_analyze(&in_a, &c, T0 + 2 * MINUTE, &an, &field),
                     WHACO_E_ENGAGEMENT_RANGE);
    assert_string_equal(field, "engagement");
    assert_memory_equal(&an, &untouched, sizeof an);
    c = prime();
    assert_int_equal(whaco_intel_analyze(&in_a, &c, T0, &an, NULL), WHACO_E_TIME_BACKWARDS);
    assert_int_equal(whaco_intel_deal_closed(&in_a, "nobody", NULL, T0 + 2 * MINUTE, NULL),
                     WHACO_E_NOT_FOUND);
    assert_int_equal(whaco_intel_deal_closed(&in_a, "sp-1", NULL, T0, NULL),
                     WHACO_E_TIME_BACKWARDS);
    assert_int_equal(whaco_intel_remove_salesperson(&in_a, "nobody", T0 + 2 * MINUTE, NULL),
                     WHACO_E_NOT_FOUND);
    struct whaco_member_spec dup = {"sp-1", "Again", 0.5, 0.9, 0.0, 0};
    assert_int_equal(whaco_intel_add_salesperson(&in_a, &dup, T0 + 2 * MINUTE, &field),
                     WHACO_E_DUPLICATE);
    assert_string_equal(field, "id");
    struct whaco_member_spec bad = {"sp-9", "Bad", 1.5, 0.9, 0.0, 0};
    assert_int_equal(whaco_intel_add_salesperson(&in_a, &bad, T0 + 2 * MINUTE, &field),
                     WHACO_E_SKILL_RANGE);
    assert_string_equal(field, "skillLevel");
    assert_int_equal(whaco_intel_tick(&in_a, T0), WHACO_E_TIME_BACKWARDS);
    assert_int_equal(whaco_intel_daily_reset(&in_a, T0), WHACO_E_TIME_BACKWARDS);
    assert_int_equal(whaco_intel_reset(&in_a, T0), WHACO_E_TIME_BACKWARDS);

    struct whaco_buf after = save(&in_a);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    whaco_buf_release(&before);
    whaco_buf_release(&after);
    whaco_intel_release(&in_a);
}

static void intel__deal_closed_and_daily_reset(void **state)
{
    (void)state;
    init(&in_a);
    add(&in_a, "sp-1", "Jane Smith", 0.9, 0.9, T0);
    double phase = in_a.team.members[0].phase;
    assert_int_equal(whaco_intel_deal_closed(&in_a, "sp-1", NULL, T0, NULL), WHACO_OK);
    assert_int_equal(in_a.team.members[0].deals_today, 1);
    assert_true(in_a.team.members[0].phase > phase + 1.5);
    assert_int_equal(whaco_intel_daily_reset(&in_a, T0 + 60 * MINUTE), WHACO_OK);
    assert_int_equal(in_a.team.members[0].deals_today, 0);
    whaco_intel_release(&in_a);
}

static void intel__ticks_advance_and_record_history(void **state)
{
    (void)state;
    init(&in_a);
    add(&in_a, "sp-1", "Jane Smith", 0.9, 0.9, T0);
    add(&in_a, "sp-2", "Bob Johnson", 0.8, 1.0, T0);
    double p0 = in_a.team.members[0].phase;
    for (int i = 1; i <= 12; i++)
        assert_int_equal(whaco_intel_tick(&in_a, T0 + 5 * i * MINUTE), WHACO_OK);
    assert_int_equal(whaco_team_history_len(&in_a.team), 12);
    assert_true(in_a.team.members[0].phase != p0);
    assert_true(in_a.team.total_hours > 0.999 && in_a.team.total_hours < 1.001);

    /* A long gap advances by at most WHACO_INTEL_GAP_MAX_HOURS. */
    init(&in_b);
    add(&in_b, "sp-1", "Jane Smith", 0.9, 0.9, T0);
    assert_int_equal(whaco_intel_tick(&in_b, T0 + 3 * 24 * 60 * MINUTE), WHACO_OK);
    assert_true(in_b.team.total_hours == WHACO_INTEL_GAP_MAX_HOURS);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

static void intel__reset_forgets_everything(void **state)
{
    (void)state;
    struct whaco_analysis an;
    struct whaco_customer c = prime();
    init(&in_a);
    add(&in_a, "sp-1", "Jane Smith", 0.9, 0.9, T0);
    assert_int_equal(whaco_intel_analyze(&in_a, &c, T0, &an, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_reset(&in_a, T0 + MINUTE), WHACO_OK);
    assert_int_equal(in_a.team.n, 0);
    assert_int_equal(in_a.seg.processed, 0);

    init(&in_b);
    assert_int_equal(whaco_intel_tick(&in_b, T0 + MINUTE), WHACO_OK);
    assert_same_state(&in_a, &in_b);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

/*
 * Apply a seeded random mix of events, as the service would see them: walk
 * ins, closed deals, ticks, hires, departures and midnights.
 */
static void play(struct whaco_intel *in, uint64_t seed, int events)
{
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    int64_t now = T0;
    int hired = 0;
    whaco_rng_seed(&rng, seed);
    whaco_gen_params_default(&gp);
    for (int e = 0; e < events; e++) {
        now += (int64_t)whaco_rng_below(&rng, 10 * MINUTE);
        uint64_t kind = whaco_rng_below(&rng, 100);
        char id[WHACO_TEAM_ID_MAX];
        if (kind < 8 || in->team.n < 3) {
            snprintf(id, sizeof id, "sp-%d", hired++);
            add(in, id, id, whaco_rng_uniform(&rng), 0.8 + 0.2 * whaco_rng_uniform(&rng), now);
        } else if (kind < 70) {
            struct whaco_customer c;
            struct whaco_analysis an;
            whaco_gen_customer(&rng, &gp, &c, NULL);
            snprintf(c.id, sizeof c.id, "c-%d", e);
            assert_int_equal(whaco_intel_analyze(in, &c, now, &an, NULL), WHACO_OK);
        } else if (kind < 85) {
            const char *who = in->team.members[whaco_rng_below(&rng, in->team.n)].id;
            assert_int_equal(whaco_intel_deal_closed(in, who, NULL, now, NULL), WHACO_OK);
        } else if (kind < 96) {
            assert_int_equal(whaco_intel_tick(in, now), WHACO_OK);
        } else if (kind < 99) {
            snprintf(id, sizeof id, "%s", in->team.members[0].id);
            assert_int_equal(whaco_intel_remove_salesperson(in, id, now, NULL), WHACO_OK);
        } else {
            assert_int_equal(whaco_intel_daily_reset(in, now), WHACO_OK);
        }
    }
}

static void intel__same_events_replay_to_identical_bytes(void **state)
{
    (void)state;
    init(&in_a);
    init(&in_b);
    play(&in_a, 42, 3000);
    play(&in_b, 42, 3000);
    assert_same_state(&in_a, &in_b);

    /* A different history gives different bytes. */
    whaco_intel_release(&in_b);
    init(&in_b);
    play(&in_b, 43, 3000);
    struct whaco_buf a = save(&in_a), b = save(&in_b);
    assert_true(a.len != b.len || memcmp(a.data, b.data, a.len) != 0);
    whaco_buf_release(&a);
    whaco_buf_release(&b);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

static void intel__state_round_trips_and_continues_identically(void **state)
{
    (void)state;
    init(&in_a);
    play(&in_a, 7, 2000);
    struct whaco_buf b = save(&in_a);

    init(&in_b);
    assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_OK);
    assert_same_state(&in_a, &in_b);

    /* Loaded and original states respond to the same events identically. */
    struct whaco_customer c = prime();
    struct whaco_analysis x, y;
    int64_t later = in_a.clock_ms + 5 * MINUTE;
    assert_int_equal(whaco_intel_analyze(&in_a, &c, later, &x, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_analyze(&in_b, &c, later, &y, NULL), WHACO_OK);
    assert_memory_equal(&x, &y, sizeof x);
    assert_same_state(&in_a, &in_b);
    whaco_buf_release(&b);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

static void intel__damaged_state_is_rejected_without_harm(void **state)
{
    (void)state;
    init(&in_a);
    play(&in_a, 9, 300);
    struct whaco_buf good = save(&in_a);
    init(&in_b);
    add(&in_b, "keep", "Keep Me", 0.5, 0.9, T0);
    struct whaco_buf before = save(&in_b);
    uint8_t *copy = malloc(good.len);
    assert_non_null(copy);

    /* Every truncation and every single-byte flip is caught (the CRC sees
     * every flip; the structural checks see truncation). */
    for (size_t n = 0; n < good.len; n += 1 + n / 64)
        assert_int_equal(whaco_intel_load(&in_b, good.data, n), WHACO_E_STATE_CORRUPT);
    for (size_t i = 0; i < good.len; i += 1 + i / 256) {
        memcpy(copy, good.data, good.len);
        copy[i] ^= 0x01;
        assert_true(whaco_intel_load(&in_b, copy, good.len) < 0);
    }
    /* A future format version is named as such. */
    memcpy(copy, good.data, good.len);
    copy[8] = 2;
    assert_int_equal(whaco_intel_load(&in_b, copy, good.len), WHACO_E_STATE_VERSION);

    struct whaco_buf after = save(&in_b);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    free(copy);
    whaco_buf_release(&good);
    whaco_buf_release(&before);
    whaco_buf_release(&after);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(intel__analyze_segments_assigns_and_recommends),
        cmocka_unit_test(intel__empty_team_still_analyses),
        cmocka_unit_test(intel__outliers_get_verification_and_approval),
        cmocka_unit_test(intel__actions_for_every_segment),
        cmocka_unit_test(intel__bad_events_change_nothing),
        cmocka_unit_test(intel__deal_closed_and_daily_reset),
        cmocka_unit_test(intel__ticks_advance_and_record_history),
        cmocka_unit_test(intel__reset_forgets_everything),
        cmocka_unit_test(intel__same_events_replay_to_identical_bytes),
        cmocka_unit_test(intel__state_round_trips_and_continues_identically),
        cmocka_unit_test(intel__damaged_state_is_rejected_without_harm),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

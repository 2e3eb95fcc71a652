/*
 * test_learn.c: what whaco learns from outcomes (whaco/learn.h) -- the close
 * model starts at the prior and recovers a known probability from a
 * generated stream; the observed skill is shrunk toward the team's rate;
 * the floor's outcomes teach the model through the intelligence layer, and
 * all of it survives a save and a load.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "whaco/err.h"
#include "whaco/gen.h"
#include "whaco/intel.h"
#include "whaco/learn.h"
#include "whaco/rng.h"

#define T0     1767258000000LL /* 2026-01-01T09:00:00Z */
#define MINUTE 60000LL

static struct whaco_walkin_profile profile_of(const struct whaco_customer *c, int cluster,
                                              bool outlier)
{
    struct whaco_segment_result r;
    struct whaco_walkin_profile pr;
    memset(&r, 0, sizeof r);
    r.cluster_id = cluster;
    r.is_outlier = outlier;
    whaco_walkin_profile(&pr, c, &r);
    return pr;
}

static void learn__an_untaught_model_predicts_the_prior(void **state)
{
    (void)state;
    struct whaco_learn l;
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    whaco_learn_init(&l);
    whaco_rng_seed(&rng, 1);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < 50; i++) {
        struct whaco_customer c;
        whaco_gen_customer(&rng, &gp, &c, NULL);
        struct whaco_walkin_profile pr = profile_of(&c, i % WHACO_CLUSTERS, i % 7 == 0);
        assert_float_equal(whaco_learn_predict(&l, &pr), WHACO_LEARN_PRIOR_RATE, 1e-12);
    }
    double rate;
    uint64_t n;
    assert_false(whaco_learn_segment_rate(&l, 0, &rate, &n));
    assert_int_equal(n, 0);
}

/* The chance the test's "world" gives a walk-in: a logistic function of its features. */
static double true_chance(const struct whaco_walkin_profile *pr)
{
    double s = -2.2 + 2.5 * (pr->x[WHACO_F_FICO] - 0.6) + 1.5 * pr->x[WHACO_F_ENGAGEMENT] +
               (pr->cluster == WHACO_TIRE_KICKERS ? -1.0 : 0.0) + (pr->outlier ? -1.5 : 0.0);
    return 1.0 / (1.0 + exp(-s));
}

/*
 * On 5,000 generated outcomes drawn from a known logistic chance, the model
 * learns it: its predictions on fresh walk-ins are within 0.03 of the truth
 * on average, and calibrated (the mean prediction matches the mean truth).
 */
static void learn__recovers_a_known_probability(void **state)
{
    (void)state;
    struct whaco_learn l;
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    whaco_learn_init(&l);
    whaco_rng_seed(&rng, 7);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < 5000; i++) {
        struct whaco_customer c;
        int seg;
        whaco_gen_customer(&rng, &gp, &c, &seg);
        struct whaco_walkin_profile pr = profile_of(&c, seg < 0 ? 0 : seg, seg < 0);
        whaco_learn_outcome(&l, &pr, whaco_rng_uniform(&rng) < true_chance(&pr));
    }
    assert_int_equal(l.outcomes, 5000);
    double err = 0.0, mean_p = 0.0, mean_t = 0.0;
    for (int i = 0; i < 2000; i++) {
        struct whaco_customer c;
        int seg;
        whaco_gen_customer(&rng, &gp, &c, &seg);
        struct whaco_walkin_profile pr = profile_of(&c, seg < 0 ? 0 : seg, seg < 0);
        double p = whaco_learn_predict(&l, &pr), t = true_chance(&pr);
        err += fabs(p - t);
        mean_p += p;
        mean_t += t;
    }
    err /= 2000.0;
    mean_p /= 2000.0;
    mean_t /= 2000.0;
    if (err > 0.03 || fabs(mean_p - mean_t) > 0.01)
        fail_msg("mean |p - truth| %.4f (want <= 0.03), mean p %.4f vs truth %.4f", err, mean_p,
                 mean_t);
    uint64_t total = 0, sold = 0;
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        total += l.seg_outcomes[k];
        sold += l.seg_sold[k];
        assert_true(l.seg_sold[k] <= l.seg_outcomes[k]);
    }
    assert_int_equal(total, 5000);
    assert_true(sold > 0 && sold < total);
}

/* A team of n members with the given outcomes in segment k. */
static void team_with(struct whaco_team *t, size_t n, const uint32_t *outcomes,
                      const uint32_t *sold, int k)
{
    assert_int_equal(whaco_team_init(t, NULL, NULL), WHACO_OK);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "sp-%zu", i);
        struct whaco_member_spec spec = {id, id, 0.5, 0.9, 0.0, 0};
        assert_int_equal(whaco_team_add(t, &spec, NULL), WHACO_OK);
        for (uint32_t o = 0; o < outcomes[i]; o++)
            whaco_team_count_outcome(t, i, k, o < sold[i]);
    }
}

/*
 * Empirical Bayes: three lucky sales do not make a star; a long record is
 * believed; with no evidence the team's rate stands.
 */
static void learn__observed_skill_is_shrunk_toward_the_team(void **state)
{
    (void)state;
    struct whaco_team t;
    double rate;
    uint32_t n;
    /* Only sp-0 has outcomes: the team's rate is (3 + 20 x 0.2) / 23, and
     * sp-0's is shrunk toward it with the default strength, 20. */
    static const uint32_t lucky_o[] = {3, 0}, lucky_s[] = {3, 0};
    team_with(&t, 2, lucky_o, lucky_s, WHACO_PRIME_BUYERS);
    assert_true(whaco_observed_skill(&t, 0, WHACO_PRIME_BUYERS, &rate, &n));
    assert_int_equal(n, 3);
    double team_p = (3.0 + 20.0 * WHACO_LEARN_PRIOR_RATE) / 23.0;
    assert_float_equal(rate, (3.0 + 20.0 * team_p) / 23.0, 1e-12);
    assert_false(whaco_observed_skill(&t, 1, WHACO_PRIME_BUYERS, &rate, &n));
    assert_int_equal(n, 0);
    whaco_team_release(&t);

    /* A team whose members all sell about 20%: chance explains most of their
     * spread, the prior is strong, and 3 of 3 reads barely above the team. */
    static const uint32_t even_o[] = {3, 200, 200, 200, 200}, even_s[] = {3, 40, 44, 36, 42};
    team_with(&t, 5, even_o, even_s, WHACO_CREDIT_CHALLENGED);
    double lucky, team_rate = (3.0 + 40 + 44 + 36 + 42) / 803.0;
    assert_true(whaco_observed_skill(&t, 0, WHACO_CREDIT_CHALLENGED, &lucky, &n));
    if (!(lucky > team_rate && lucky < 0.25))
        fail_msg("lucky %.3f, team %.3f", lucky, team_rate);
    whaco_team_release(&t);

    /* A team with a real star (60 of 100 against 15%): the spread is beyond
     * chance, the prior weakens, and a long record is believed. */
    static const uint32_t o[] = {3, 100, 200, 200, 200}, s[] = {3, 60, 30, 30, 30};
    team_with(&t, 5, o, s, WHACO_CREDIT_CHALLENGED);
    double star, average;
    assert_true(whaco_observed_skill(&t, 1, WHACO_CREDIT_CHALLENGED, &star, &n));
    assert_true(whaco_observed_skill(&t, 2, WHACO_CREDIT_CHALLENGED, &average, &n));
    team_rate = (3.0 + 60 + 90) / (3.0 + 100 + 600);
    if (!(star > 0.55 && star < 0.6 && average < team_rate && average > 0.15))
        fail_msg("star %.3f, average %.3f, team %.3f", star, average, team_rate);
    /* Other segments: nobody has outcomes, every rate is the prior. */
    assert_false(whaco_observed_skill(&t, 1, WHACO_PRIME_BUYERS, &rate, &n));
    assert_float_equal(rate, WHACO_LEARN_PRIOR_RATE, 1e-12);
    /* The network's skill match moves from the entered skill to the observed one. */
    assert_float_equal(whaco_skill_match(&t, 1, WHACO_PRIME_BUYERS, 0.95), 1.0 - fabs(0.5 - 0.95),
                       1e-12);
    assert_true(whaco_skill_match(&t, 1, WHACO_CREDIT_CHALLENGED, 0.6) >
                whaco_skill_match(&t, 2, WHACO_CREDIT_CHALLENGED, 0.6));
    whaco_team_release(&t);
}

static struct whaco_intel in_a, in_b;

static void walk_in(struct whaco_intel *in, const char *id, int64_t t)
{
    struct whaco_customer c = {"", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    struct whaco_analysis an;
    snprintf(c.id, sizeof c.id, "%s", id);
    assert_int_equal(whaco_intel_analyze(in, &c, t, &an, NULL), WHACO_OK);
    assert_true(an.close_probability > 0.0 && an.close_probability < 1.0);
}

static void save_eq(const struct whaco_intel *a, const struct whaco_intel *b)
{
    struct whaco_buf x = WHACO_BUF_INIT, y = WHACO_BUF_INIT;
    assert_int_equal(whaco_intel_save(a, &x), WHACO_OK);
    assert_int_equal(whaco_intel_save(b, &y), WHACO_OK);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    whaco_buf_release(&x);
    whaco_buf_release(&y);
}

/*
 * On a tracked floor each walk-in that ends teaches the model once: a
 * linked sale as sold, a customer leaving as not; the salesperson's record
 * counts it. An unlinked deal on an untracked floor teaches nothing. The
 * model is part of the saved state.
 */
static void learn__the_floor_s_outcomes_teach_the_model(void **state)
{
    (void)state;
    struct whaco_member_spec spec = {"sp-1", "One", 0.8, 0.9, 0.0, 0};
    assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_add_salesperson(&in_a, &spec, T0, NULL), WHACO_OK);
    walk_in(&in_a, "u1", T0 + MINUTE); /* untracked */
    assert_int_equal(whaco_intel_deal_closed(&in_a, "sp-1", NULL, T0 + 2 * MINUTE, NULL), WHACO_OK);
    assert_int_equal(in_a.learn.outcomes, 0);

    assert_int_equal(whaco_intel_clock_in(&in_a, "sp-1", T0 + 3 * MINUTE, NULL), WHACO_OK);
    walk_in(&in_a, "c1", T0 + 4 * MINUTE);
    walk_in(&in_a, "c2", T0 + 5 * MINUTE);
    assert_int_equal(whaco_intel_deal_closed(&in_a, "sp-1", "c1", T0 + 6 * MINUTE, NULL), WHACO_OK);
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "c2", WHACO_OUTCOME_BE_BACK, NULL, T0 + 7 * MINUTE, NULL),
        WHACO_OK);
    assert_int_equal(in_a.learn.outcomes, 2);
    int k = in_a.learn.seg_outcomes[0] ? 0 : -1;
    for (int j = 0; j < WHACO_CLUSTERS; j++)
        if (in_a.learn.seg_outcomes[j])
            k = j;
    assert_true(k >= 0);
    const struct whaco_member *m = &in_a.team.members[0];
    uint32_t outcomes = 0, sold = 0;
    for (int j = 0; j < 5; j++) {
        outcomes += m->seg_outcomes[j];
        sold += m->seg_sold[j];
    }
    assert_int_equal(outcomes, 2);
    assert_int_equal(sold, 1);
    /* A refused ending teaches nothing. */
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "c2", WHACO_OUTCOME_NO_SALE, NULL, T0 + 8 * MINUTE, NULL),
        WHACO_E_VISIT_ENDED);
    assert_int_equal(in_a.learn.outcomes, 2);

    struct whaco_buf b = WHACO_BUF_INIT;
    assert_int_equal(whaco_intel_save(&in_a, &b), WHACO_OK);
    assert_int_equal(whaco_intel_init(&in_b, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_OK);
    save_eq(&in_a, &in_b);
    assert_memory_equal(&in_a.learn, &in_b.learn, sizeof in_a.learn);
    whaco_buf_release(&b);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

/* A tracked floor with sp-1 on it, at T0. */
static void tracked(struct whaco_intel *in)
{
    struct whaco_member_spec spec = {"sp-1", "One", 0.8, 0.9, 0.0, 0};
    assert_int_equal(whaco_intel_init(in, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_add_salesperson(in, &spec, T0, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_clock_in(in, "sp-1", T0, NULL), WHACO_OK);
}

static void analyze_at(struct whaco_intel *in, const struct whaco_customer *c, int64_t t)
{
    struct whaco_analysis an;
    assert_int_equal(whaco_intel_analyze(in, c, t, &an, NULL), WHACO_OK);
    assert_false(an.segment.is_outlier);
}

static void segmenter_eq(const struct whaco_intel *a, const struct whaco_intel *b)
{
    struct whaco_buf x = WHACO_BUF_INIT, y = WHACO_BUF_INIT;
    whaco_segmenter_encode(&a->seg, &x);
    whaco_segmenter_encode(&b->seg, &y);
    assert_int_equal(x.len, y.len);
    assert_memory_equal(x.data, y.data, x.len);
    whaco_buf_release(&x);
    whaco_buf_release(&y);
}

/*
 * Re-analysis (docs/learning.md): a walk-in analysed three times in one
 * visit, with more fields each time, teaches the segmenter once, at its
 * first complete analysis -- the segmenter and the close model are then
 * byte for byte those of one complete analysis (the team's phases differ in
 * their last bits: the network was stepped at more moments) -- and an
 * incomplete analysis teaches nothing until the visit ends, when the
 * walk-in's latest analysis is learned.
 */
static void learn__three_partial_analyses_teach_as_one_full_one(void **state)
{
    (void)state;
    struct whaco_customer full = {"c-1", 735, 82000, 31000, 4000, 6000, 2, 70, 0.72, 0};
    struct whaco_customer first = full, second = full;
    first.missing = WHACO_FIELD_CREDIT_SCORE | WHACO_FIELD_ANNUAL_INCOME |
                    WHACO_FIELD_DOWN_PAYMENT | WHACO_FIELD_TRADE_VALUE | WHACO_FIELD_TIME_ON_LOT;
    first.credit_score = first.annual_income = first.down_payment = first.trade_value = 0.0;
    first.time_on_lot = 0.0;
    second.missing = WHACO_FIELD_TIME_ON_LOT;
    second.time_on_lot = 0.0;

    tracked(&in_a);
    tracked(&in_b);
    analyze_at(&in_a, &first, T0 + MINUTE);
    analyze_at(&in_a, &second, T0 + 2 * MINUTE);
    segmenter_eq(&in_a, &in_b); /* nothing learned yet */
    analyze_at(&in_a, &full, T0 + 3 * MINUTE);
    analyze_at(&in_b, &full, T0 + MINUTE);
    segmenter_eq(&in_a, &in_b);
    assert_int_equal(in_a.seg.processed, 1);
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "c-1", WHACO_OUTCOME_NO_SALE, NULL, T0 + 9 * MINUTE, NULL),
        WHACO_OK);
    assert_int_equal(
        whaco_intel_customer_left(&in_b, "c-1", WHACO_OUTCOME_NO_SALE, NULL, T0 + 9 * MINUTE, NULL),
        WHACO_OK);
    segmenter_eq(&in_a, &in_b);
    assert_memory_equal(&in_a.learn, &in_b.learn, sizeof in_a.learn);
    assert_memory_equal(in_a.floor.recent, in_b.floor.recent, sizeof in_a.floor.recent);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);

    /* Never complete: learned once, at the end, from the latest analysis. */
    tracked(&in_a);
    tracked(&in_b);
    analyze_at(&in_a, &first, T0 + MINUTE);
    analyze_at(&in_a, &second, T0 + 2 * MINUTE);
    assert_int_equal(in_a.seg.processed, 0);
    assert_int_equal(whaco_intel_deal_closed(&in_a, "sp-1", "c-1", T0 + 9 * MINUTE, NULL),
                     WHACO_OK);
    assert_int_equal(in_a.seg.processed, 1);
    struct whaco_segment_result r;
    assert_int_equal(whaco_segment_learn(&in_b.seg, &second, T0, &r, NULL), WHACO_OK);
    segmenter_eq(&in_a, &in_b);
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(learn__an_untaught_model_predicts_the_prior),
        cmocka_unit_test(learn__recovers_a_known_probability),
        cmocka_unit_test(learn__observed_skill_is_shrunk_toward_the_team),
        cmocka_unit_test(learn__the_floor_s_outcomes_teach_the_model),
        cmocka_unit_test(learn__three_partial_analyses_teach_as_one_full_one),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

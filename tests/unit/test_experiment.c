/*
 * test_experiment.c: the A/B test of assignment rules (whaco/experiment.h)
 * alone and as the service drives it, through the intelligence layer and
 * the event table.
 *
 * Covered: the setting's text, check and format; the split (splitmix64's
 * published outputs, balance, reproducibility from the seed); the counts,
 * the waits' histogram and 95th percentile; the close-rate interval
 * against Newcombe's published example, the Welch interval, the verdict at
 * each of its thresholds; the days-needed formula; the saved section (a
 * round trip, every cut, inconsistent counts refused); on the floor: each
 * walk-in given out by its arm's rule, the waits and outcomes counted at
 * the end of the visit, an untracked floor not split, a new experiment
 * clearing the arms and the counts, reset, saved states checked against
 * the floor; and random days with experiments started and ended, replayed
 * through the event encoding to byte-identical states.
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
#include "whaco/experiment.h"
#include "whaco/gen.h"
#include "whaco/intel.h"
#include "whaco/rng.h"

#define T0     1737124200000 /* 2025-01-17T14:30:00Z */
#define MINUTE 60000

static struct whaco_intel in_a, in_b;

/*==== Helpers ====*/

static struct whaco_experiment_config exp_cfg(int a, int b, uint64_t seed)
{
    struct whaco_experiment_config c;
    memset(&c, 0, sizeof c);
    c.enabled = true;
    c.rule[0] = (uint8_t)a;
    c.rule[1] = (uint8_t)b;
    c.seed = seed;
    return c;
}

/* A seed whose walk-ins 0..n-1 go to the arms in want[] (0 A, 1 B). */
static uint64_t seed_for(const int *want, int n)
{
    for (uint64_t seed = 1;; seed++) {
        int k = 0;
        while (k < n && whaco_experiment_arm_of(seed, (uint64_t)k) == want[k])
            k++;
        if (k == n)
            return seed;
    }
}

/* A layer with a tracked floor (max customers 2), n salespeople sp1..spn clocked in at T0. */
static void open_floor(struct whaco_intel *in, int n)
{
    struct whaco_floor_config cfg;
    assert_int_equal(whaco_intel_init(in, NULL, NULL, NULL), WHACO_OK);
    whaco_floor_config_default(&cfg);
    cfg.tracking = WHACO_TRACKING_ON;
    cfg.rule = WHACO_RULE_UP_ROTATION;
    assert_int_equal(whaco_intel_configure_floor(in, &cfg, T0, NULL), WHACO_OK);
    for (int i = 1; i <= n; i++) {
        char id[16];
        snprintf(id, sizeof id, "sp%d", i);
        struct whaco_member_spec spec = {id, id, 0.5, 0.9, 0.0, 0};
        assert_int_equal(whaco_intel_add_salesperson(in, &spec, T0, NULL), WHACO_OK);
        assert_int_equal(whaco_intel_clock_in(in, id, T0, NULL), WHACO_OK);
    }
}

static struct whaco_analysis walk_in(struct whaco_intel *in, const char *id, int64_t now)
{
    struct whaco_customer c = {"", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    struct whaco_analysis an;
    snprintf(c.id, sizeof c.id, "%s", id);
    assert_int_equal(whaco_intel_analyze(in, &c, now, &an, NULL), WHACO_OK);
    return an;
}

static const struct whaco_visit *visit(const struct whaco_intel *in, const char *id)
{
    int32_t k = whaco_floor_find(&in->floor, id);
    assert_true(k >= 0);
    return &in->floor.open[k];
}

static struct whaco_buf save(const struct whaco_intel *in)
{
    struct whaco_buf b = WHACO_BUF_INIT;
    assert_int_equal(whaco_intel_save(in, &b), WHACO_OK);
    return b;
}

/* An arm of n ended walk-ins, `deals` of them sold, each having waited wait_ms. */
static void fill(struct whaco_experiment *x, int arm, int n, int deals, int64_t wait_ms)
{
    for (int i = 0; i < n; i++) {
        x->arm[arm - 1].walkins++;
        x->draws++;
        whaco_experiment_observe(x, arm, i < deals, wait_ms);
    }
}

/*==== The setting ====*/

static void experiment__the_setting_reads_checks_and_prints(void **state)
{
    (void)state;
    struct whaco_experiment_config c;
    char why[256], text[64];
    assert_int_equal(whaco_experiment_parse("up-rotation,network", &c, why, sizeof why), WHACO_OK);
    assert_true(c.enabled);
    assert_int_equal(c.rule[0], WHACO_RULE_UP_ROTATION);
    assert_int_equal(c.rule[1], WHACO_RULE_NETWORK);
    assert_int_equal(c.seed, 0);
    whaco_experiment_format(&c, text, sizeof text);
    assert_string_equal(text, "up-rotation,network");
    assert_int_equal(whaco_experiment_parse("least-busy,round-robin,42", &c, why, sizeof why),
                     WHACO_OK);
    assert_int_equal(c.seed, 42);
    whaco_experiment_format(&c, text, sizeof text);
    assert_string_equal(text, "least-busy,round-robin,42");
    assert_int_equal(
        whaco_experiment_parse("network,up-rotation,9007199254740991", &c, why, sizeof why),
        WHACO_OK);
    assert_int_equal(c.seed, WHACO_EXP_SEED_MAX);
    assert_int_equal(whaco_experiment_config_check(&c, NULL), WHACO_OK);
    assert_int_equal(whaco_experiment_parse("off", &c, why, sizeof why), WHACO_OK);
    assert_false(c.enabled);
    whaco_experiment_format(&c, text, sizeof text);
    assert_string_equal(text, "off");
    assert_int_equal(whaco_experiment_config_check(&c, NULL), WHACO_OK);

    /* Refused, with c unchanged and a reason that says what is allowed. */
    static const char *const bad[] = {
        "",
        "on",
        "network",
        "network,",
        ",network",
        "a,b",
        "network,x",
        "network,network",
        "network,up-rotation,",
        "network,up-rotation,0",
        "network,up-rotation,-1",
        "network,up-rotation,1x",
        "network,up-rotation,9007199254740992",
        "network,up-rotation,1,2",
        "Network,up-rotation",
        "network ,up-rotation",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        struct whaco_experiment_config keep = exp_cfg(1, 2, 7), got = keep;
        why[0] = '\0';
        if (whaco_experiment_parse(bad[i], &got, why, sizeof why) != WHACO_E_CONFIG)
            fail_msg("'%s' was accepted", bad[i]);
        assert_memory_equal(&got, &keep, sizeof got);
        assert_non_null(strstr(why, "up-rotation,network"));
    }
    assert_int_equal(whaco_experiment_parse("least-busy,least-busy", &c, why, sizeof why),
                     WHACO_E_CONFIG);
    assert_non_null(strstr(why, "must differ (least-busy twice)"));

    /* The check: two different rules when on; all zero when off. */
    const char *field = NULL;
    c = exp_cfg(WHACO_RULE_NETWORK, WHACO_RULE_NETWORK, 1);
    assert_int_equal(whaco_experiment_config_check(&c, &field), WHACO_E_CONFIG);
    assert_string_equal(field, "experiment");
    c = exp_cfg(WHACO_RULE_NETWORK, 9, 1);
    assert_int_equal(whaco_experiment_config_check(&c, NULL), WHACO_E_CONFIG);
    c = exp_cfg(0, 1, WHACO_EXP_SEED_MAX + 1);
    assert_int_equal(whaco_experiment_config_check(&c, NULL), WHACO_E_CONFIG);
    c = exp_cfg(0, 1, 5);
    c.enabled = false;
    assert_int_equal(whaco_experiment_config_check(&c, NULL), WHACO_E_CONFIG);
    assert_string_equal(whaco_experiment_arm_name(0), "A");
    assert_string_equal(whaco_experiment_arm_name(1), "B");
    assert_null(whaco_experiment_arm_name(2));
}

/*==== The split ====*/

static void experiment__the_split_is_splitmix64_and_even(void **state)
{
    (void)state;
    /* splitmix64 seeded with 0 outputs 0xe220a8397b1dcdaf, 0x6e789e6aa1b965f4,
     * 0x06c45d188009454f first (Vigna's reference): top bits 1, 0, 0. */
    assert_int_equal(whaco_experiment_arm_of(0, 0), 1);
    assert_int_equal(whaco_experiment_arm_of(0, 1), 0);
    assert_int_equal(whaco_experiment_arm_of(0, 2), 0);
    /* The same seed, the same split; another seed, another split. */
    int same = 0, b = 0, runs = 0, last = -1;
    for (uint64_t n = 0; n < 20000; n++) {
        int arm = whaco_experiment_arm_of(1795827749783, n);
        assert_int_equal(arm, whaco_experiment_arm_of(1795827749783, n));
        same += arm == whaco_experiment_arm_of(1795827749784, n);
        b += arm;
        runs += arm != last;
        last = arm;
    }
    /* Even: 10000 expected, sd 71; independent: about 10000 runs. */
    assert_true(b > 9700 && b < 10300);
    assert_true(same > 9700 && same < 10300);
    assert_true(runs > 9600 && runs < 10400);

    struct whaco_experiment x;
    struct whaco_experiment_config c = exp_cfg(WHACO_RULE_UP_ROTATION, WHACO_RULE_NETWORK, 42);
    whaco_experiment_init(&x);
    assert_int_equal(whaco_experiment_draw(&x), 0); /* off: nobody is split */
    assert_int_equal(x.draws, 0);
    whaco_experiment_start(&x, &c, T0);
    assert_int_equal(x.since_ms, T0);
    for (uint64_t n = 0; n < 100; n++)
        assert_int_equal(whaco_experiment_draw(&x), 1 + whaco_experiment_arm_of(42, n));
    assert_int_equal(x.draws, 100);
    assert_int_equal(x.arm[0].walkins + x.arm[1].walkins, 100);
    c.enabled = false;
    c.rule[0] = c.rule[1] = 0;
    c.seed = 0;
    whaco_experiment_start(&x, &c, T0 + 1);
    struct whaco_experiment zero;
    whaco_experiment_init(&zero);
    assert_memory_equal(&x, &zero, sizeof x); /* off is all zero */
}

/*==== Counts and the report ====*/

static void experiment__waits_and_their_95th_percentile(void **state)
{
    (void)state;
    struct whaco_experiment x;
    struct whaco_exp_report r;
    struct whaco_experiment_config c = exp_cfg(0, 1, 1);
    whaco_experiment_start(&x, &c, T0);
    whaco_experiment_report(&x, &r);
    assert_false(r.arm[0].has_rate);
    assert_false(r.arm[0].has_wait);
    assert_false(r.close_points.known);
    assert_false(r.wait_min.known);
    assert_int_equal(r.verdict, WHACO_EXP_NOT_ENOUGH);
    assert_string_equal(r.verdict_text, "not enough data yet");

    /* 19 served at once and one after 90 s: the 95th percentile is 0. */
    fill(&x, 1, 19, 5, 0);
    fill(&x, 1, 1, 0, 90000);
    whaco_experiment_report(&x, &r);
    assert_int_equal(r.arm[0].ended, 20);
    assert_int_equal(r.arm[0].deals, 5);
    assert_float_equal(r.arm[0].close_rate, 0.25, 1e-12);
    assert_float_equal(r.arm[0].wait_mean_min, 1.5 / 20, 1e-12);
    assert_float_equal(r.arm[0].wait_p95_min, 0.0, 0);
    /* Two more after 90 s: the nearest rank (21 of 22) is in (1, 2]: 1.5, the largest. */
    fill(&x, 1, 2, 0, 90000);
    whaco_experiment_report(&x, &r);
    assert_float_equal(r.arm[0].wait_p95_min, 1.5, 1e-12);
    /* A longer one: the rank (22 of 23) is still in (1, 2], which now reports its upper edge. */
    fill(&x, 1, 1, 0, 10 * MINUTE);
    whaco_experiment_report(&x, &r);
    assert_float_equal(r.arm[0].wait_p95_min, 2.0, 0);
    /* Another: the rank (23 of 24) is in (9, 10]. */
    fill(&x, 1, 1, 0, 10 * MINUTE);
    whaco_experiment_report(&x, &r);
    assert_float_equal(r.arm[0].wait_p95_min, 10.0, 0);
    /* Exactly k minutes is in bin k; past 240 minutes the largest wait is reported. */
    struct whaco_experiment y;
    whaco_experiment_start(&y, &c, T0);
    fill(&y, 2, 1, 0, 3 * MINUTE);
    assert_int_equal(y.arm[1].bins[3], 1);
    fill(&y, 2, 1, 0, 3 * MINUTE + 1);
    assert_int_equal(y.arm[1].bins[4], 1);
    fill(&y, 2, 1, 0, -5); /* a negative wait counts as none */
    assert_int_equal(y.arm[1].bins[0], 1);
    for (int i = 0; i < 20; i++)
        fill(&y, 2, 1, 0, 300 * MINUTE);
    assert_int_equal(y.arm[1].bins[WHACO_EXP_BINS - 1], 20);
    whaco_experiment_report(&y, &r);
    assert_float_equal(r.arm[1].wait_p95_min, 300.0, 0);
    /* Arms out of range are ignored. */
    struct whaco_experiment before = y;
    whaco_experiment_observe(&y, 0, true, 0);
    whaco_experiment_observe(&y, 3, true, 0);
    assert_memory_equal(&y, &before, sizeof y);
}

static void experiment__close_rate_difference_is_newcombes(void **state)
{
    (void)state;
    struct whaco_experiment x;
    struct whaco_exp_report r;
    struct whaco_experiment_config c = exp_cfg(0, 1, 1);
    /* Newcombe (1998), Statistics in Medicine 17:873, Table II, example (a):
     * 56/70 - 48/80, method 10 (hybrid score): 0.0524 to 0.3339. */
    whaco_experiment_start(&x, &c, T0);
    fill(&x, 2, 70, 56, 0);
    fill(&x, 1, 80, 48, 0);
    whaco_experiment_report(&x, &r);
    assert_true(r.close_points.known);
    assert_float_equal(r.close_points.estimate, 20.0, 1e-9);
    assert_float_equal(r.close_points.low, 5.24, 0.005);
    assert_float_equal(r.close_points.high, 33.39, 0.005);
    assert_int_equal(r.verdict, WHACO_EXP_B_MORE);
    assert_string_equal(r.verdict_text, "B closes more: +20.0 [+5.2, +33.4]");
    /* The other way round: A's lead, in A's favour. */
    whaco_experiment_start(&x, &c, T0);
    fill(&x, 1, 70, 56, 0);
    fill(&x, 2, 80, 48, 0);
    whaco_experiment_report(&x, &r);
    assert_float_equal(r.close_points.estimate, -20.0, 1e-9);
    assert_float_equal(r.close_points.high, -5.24, 0.005);
    assert_int_equal(r.verdict, WHACO_EXP_A_MORE);
    assert_string_equal(r.verdict_text, "A closes more: +20.0 [+5.2, +33.4]");
    /* Every walk-in waited as long in both arms: the wait difference is exact. */
    assert_true(r.wait_min.known);
    assert_float_equal(r.wait_min.low, 0.0, 0);
    assert_float_equal(r.wait_min.high, 0.0, 0);
}

static void experiment__the_verdict_waits_for_30_ended_in_each_arm(void **state)
{
    (void)state;
    struct whaco_experiment x;
    struct whaco_exp_report r;
    struct whaco_experiment_config c = exp_cfg(0, 1, 1);
    whaco_experiment_start(&x, &c, T0);
    fill(&x, 1, 29, 0, 0);
    fill(&x, 2, 200, 200, 0); /* all of B bought, none of A: still not enough of A */
    whaco_experiment_report(&x, &r);
    assert_true(r.close_points.known);
    assert_int_equal(r.verdict, WHACO_EXP_NOT_ENOUGH);
    fill(&x, 1, 1, 0, 0);
    whaco_experiment_report(&x, &r);
    assert_int_equal(r.verdict, WHACO_EXP_B_MORE);
    assert_true(r.close_points.low > 80.0);
    assert_string_equal(r.verdict_text, "B closes more: +100.0 [+88.5, +100.0]");
    /* Equal rates: no difference. */
    whaco_experiment_start(&x, &c, T0);
    fill(&x, 1, 40, 8, 0);
    fill(&x, 2, 40, 9, 0);
    whaco_experiment_report(&x, &r);
    assert_true(r.close_points.low < 0.0 && r.close_points.high > 0.0);
    assert_int_equal(r.verdict, WHACO_EXP_NO_DIFFERENCE);
    assert_string_equal(r.verdict_text, "no difference detected");
    /* Walk-ins split but not ended do not count. */
    whaco_experiment_start(&x, &c, T0);
    x.arm[0].walkins = x.arm[1].walkins = 500;
    x.draws = 1000;
    whaco_experiment_report(&x, &r);
    assert_int_equal(r.arm[0].walkins, 500);
    assert_int_equal(r.verdict, WHACO_EXP_NOT_ENOUGH);
}

static void experiment__the_wait_difference_is_welchs(void **state)
{
    (void)state;
    struct whaco_experiment x;
    struct whaco_exp_report r;
    struct whaco_experiment_config c = exp_cfg(0, 1, 1);
    whaco_experiment_start(&x, &c, T0);
    /* A: 1, 2, 3, 4, 5 minutes; B: 2, 4, 6, 8, 10, 12, 14 minutes. Means 3 and 8,
     * variances 2.5 and 18.667; se = sqrt(0.5 + 2.6667) = 1.7795; Welch's df = 8.037. */
    for (int i = 1; i <= 5; i++) {
        x.arm[0].walkins++;
        x.draws++;
        whaco_experiment_observe(&x, 1, false, (int64_t)i * MINUTE);
    }
    for (int i = 1; i <= 7; i++) {
        x.arm[1].walkins++;
        x.draws++;
        whaco_experiment_observe(&x, 2, false, (int64_t)(2 * i) * MINUTE);
    }
    whaco_experiment_report(&x, &r);
    assert_true(r.wait_min.known);
    assert_float_equal(r.wait_min.estimate, 5.0, 1e-9);
    /* t(0.975, 8.037) = 2.3042 (the t density integrated numerically); half-width 4.100. */
    assert_float_equal(r.wait_min.low, 5.0 - 4.100, 0.002);
    assert_float_equal(r.wait_min.high, 5.0 + 4.100, 0.002);
    /* The same from the groups' sizes, means and variances. */
    struct whaco_exp_interval d;
    whaco_experiment_welch(5, 3.0, 2.5, 7, 8.0, 56.0 / 3.0, &d);
    assert_true(d.known);
    assert_float_equal(d.low, r.wait_min.low, 1e-9);
    assert_float_equal(d.high, r.wait_min.high, 1e-9);
    whaco_experiment_welch(1, 3.0, 0.0, 7, 8.0, 1.0, &d);
    assert_false(d.known);
    /* One ended walk-in in an arm: no variance, no interval. */
    whaco_experiment_start(&x, &c, T0);
    fill(&x, 1, 1, 0, MINUTE);
    fill(&x, 2, 5, 0, MINUTE);
    whaco_experiment_report(&x, &r);
    assert_false(r.wait_min.known);
    assert_true(r.close_points.known);
}

static void experiment__days_needed_by_the_normal_approximation(void **state)
{
    (void)state;
    /* 20% against 23%: 7.84 (0.16 + 0.1771) / 0.0009 = 2936.5 per arm. */
    assert_float_equal(whaco_experiment_walkins_needed(0.20, 0.03), 2936.5, 0.1);
    /* Halving the difference needs about four times as many. */
    double n1 = whaco_experiment_walkins_needed(0.20, 0.01);
    double n3 = whaco_experiment_walkins_needed(0.20, 0.03);
    assert_true(n1 / n3 > 8.0 && n1 / n3 < 9.5);
    assert_true(isinf(whaco_experiment_walkins_needed(0.20, 0.0)));
    assert_true(isinf(whaco_experiment_walkins_needed(0.99, 0.02)));
    assert_true(isinf(whaco_experiment_walkins_needed(NAN, 0.02)));
}

/*==== The saved section ====*/

static void experiment__the_section_round_trips_and_refuses_damage(void **state)
{
    (void)state;
    struct whaco_experiment x, back;
    struct whaco_experiment_config c = exp_cfg(WHACO_RULE_LEAST_BUSY, WHACO_RULE_NETWORK, 99);
    whaco_experiment_start(&x, &c, T0);
    for (int i = 0; i < 50; i++)
        whaco_experiment_draw(&x);
    for (int i = 0; i < 10; i++)
        whaco_experiment_observe(&x, 1 + i % 2, i % 3 == 0, (int64_t)i * 37000);
    struct whaco_buf b = WHACO_BUF_INIT;
    whaco_experiment_encode(&x, &b);
    struct whaco_reader r;
    whaco_reader_init(&r, b.data, b.len);
    whaco_experiment_decode(&back, &r);
    assert_int_equal(r.err, WHACO_OK);
    assert_int_equal(r.off, b.len);
    assert_memory_equal(&back, &x, sizeof x);
    for (size_t cut = 0; cut < b.len; cut++) {
        whaco_reader_init(&r, b.data, cut);
        whaco_experiment_decode(&back, &r);
        assert_int_not_equal(r.err, WHACO_OK);
    }
    whaco_buf_release(&b);

    /* Counts that cannot happen: each refused. */
    struct whaco_experiment bad[10];
    for (int i = 0; i < 10; i++)
        bad[i] = x;
    bad[0].arm[0].deals = bad[0].arm[0].ended + 1;
    bad[1].arm[1].ended = bad[1].arm[1].walkins + 1;
    bad[2].draws++;
    bad[3].arm[0].bins[5]++;
    bad[4].arm[0].wait_max = 1000.0; /* not in its highest bin */
    bad[5].arm[1].wait_sum = NAN;
    bad[6].cfg.rule[1] = bad[6].cfg.rule[0];
    bad[7].cfg.enabled = false; /* off with counts */
    bad[8].arm[0].wait_sum = -1.0;
    bad[9].arm[1].wait_sum = 1e9; /* above ended x max */
    for (int i = 0; i < 10; i++) {
        struct whaco_buf e = WHACO_BUF_INIT;
        whaco_experiment_encode(&bad[i], &e);
        whaco_reader_init(&r, e.data, e.len);
        whaco_experiment_decode(&back, &r);
        if (r.err == WHACO_OK)
            fail_msg("damaged experiment %d was accepted", i);
        whaco_buf_release(&e);
    }
    /* A version of the future. */
    whaco_experiment_encode(&x, &b);
    b.data[0] = 2;
    whaco_reader_init(&r, b.data, b.len);
    whaco_experiment_decode(&back, &r);
    assert_int_not_equal(r.err, WHACO_OK);
    whaco_buf_release(&b);
}

/*==== On the floor ====*/

/*
 * Three on the floor; w0 goes to sp1 by either rule (nobody busy, sp1
 * first up); a manager moves it to sp2, which keeps sp2 first in the up
 * order with one walk-in: up-rotation then gives w1 to sp2, least-busy to
 * sp3.
 */
static void experiment__each_walk_in_follows_its_arms_rule(void **state)
{
    (void)state;
    for (int b_arm = 0; b_arm < 2; b_arm++) {
        const int want[2] = {0, b_arm};
        struct whaco_experiment_config c =
            exp_cfg(WHACO_RULE_UP_ROTATION, WHACO_RULE_LEAST_BUSY, seed_for(want, 2));
        open_floor(&in_a, 3);
        assert_int_equal(whaco_intel_configure_experiment(&in_a, &c, T0), WHACO_OK);
        assert_string_equal(walk_in(&in_a, "w0", T0).assigned_id, "sp1");
        assert_int_equal(visit(&in_a, "w0")->arm, 1);
        assert_int_equal(whaco_intel_override(&in_a, "w0", "sp2", T0, NULL), WHACO_OK);
        struct whaco_analysis an = walk_in(&in_a, "w1", T0);
        assert_int_equal(visit(&in_a, "w1")->arm, 1 + b_arm);
        assert_int_equal(visit(&in_a, "w1")->arm_rule,
                         b_arm ? WHACO_RULE_LEAST_BUSY : WHACO_RULE_UP_ROTATION);
        assert_string_equal(an.assigned_id, b_arm ? "sp3" : "sp2");
        /* A second analysis of w1 is no new walk-in: nothing drawn. */
        walk_in(&in_a, "w1", T0 + 1);
        assert_int_equal(in_a.exp.draws, 2);
        whaco_intel_release(&in_a);
    }
}

static void experiment__outcomes_and_waits_count_at_the_end_of_the_visit(void **state)
{
    (void)state;
    /* One salesperson, one walk-in at a time: w1 waits for w0 to end. */
    const int want[3] = {0, 1, 1};
    struct whaco_experiment_config c =
        exp_cfg(WHACO_RULE_UP_ROTATION, WHACO_RULE_NETWORK, seed_for(want, 3));
    struct whaco_floor_config fc;
    open_floor(&in_a, 1);
    fc = in_a.floor.cfg;
    fc.max_customers = 1;
    assert_int_equal(whaco_intel_configure_floor(&in_a, &fc, T0, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_configure_experiment(&in_a, &c, T0), WHACO_OK);
    walk_in(&in_a, "w0", T0);
    assert_int_equal(walk_in(&in_a, "w1", T0 + MINUTE).queue_position, 1);
    assert_int_equal(walk_in(&in_a, "w2", T0 + 2 * MINUTE).queue_position, 2);
    assert_int_equal(in_a.exp.arm[0].walkins, 1);
    assert_int_equal(in_a.exp.arm[1].walkins, 2);
    assert_int_equal(in_a.exp.arm[0].ended + in_a.exp.arm[1].ended, 0);

    /* w0 buys at +5 min: A has one ended, sold, no wait; w1 goes to sp1. */
    assert_int_equal(whaco_intel_deal_closed(&in_a, "sp1", "w0", T0 + 5 * MINUTE, NULL), WHACO_OK);
    assert_int_equal(in_a.exp.arm[0].ended, 1);
    assert_int_equal(in_a.exp.arm[0].deals, 1);
    assert_int_equal(in_a.exp.arm[0].bins[0], 1);
    assert_string_equal(visit(&in_a, "w1")->salesperson_id, "sp1");
    assert_int_equal(visit(&in_a, "w1")->first_wait_ms, 4 * MINUTE);
    /* w2 gives up at +10 min, still waiting: its wait is until it left. */
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "w2", WHACO_OUTCOME_NO_SALE, NULL, T0 + 10 * MINUTE, NULL),
        WHACO_OK);
    assert_int_equal(in_a.exp.arm[1].ended, 1);
    assert_float_equal(in_a.exp.arm[1].wait_max, 8.0, 0);
    /* w1 leaves at +20 min: its wait stays the 4 minutes to its salesperson. */
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "w1", WHACO_OUTCOME_BE_BACK, NULL, T0 + 20 * MINUTE, NULL),
        WHACO_OK);
    assert_int_equal(in_a.exp.arm[1].ended, 2);
    assert_int_equal(in_a.exp.arm[1].deals, 0);
    assert_float_equal(in_a.exp.arm[1].wait_sum, 12.0, 1e-12);
    assert_int_equal(in_a.exp.arm[1].bins[4], 1);
    assert_int_equal(in_a.exp.arm[1].bins[8], 1);
    /* A deal not linked to a walk-in counts nowhere. */
    walk_in(&in_a, "w3", T0 + 21 * MINUTE);
    struct whaco_experiment before = in_a.exp;
    assert_int_equal(whaco_intel_deal_closed(&in_a, "sp1", NULL, T0 + 22 * MINUTE, NULL), WHACO_OK);
    assert_int_equal(in_a.exp.arm[0].ended + in_a.exp.arm[1].ended,
                     before.arm[0].ended + before.arm[1].ended +
                         1); /* ... but its oldest walk-in */
    whaco_intel_release(&in_a);
}

static void experiment__untracked_floors_are_not_split(void **state)
{
    (void)state;
    struct whaco_experiment_config c = exp_cfg(WHACO_RULE_UP_ROTATION, WHACO_RULE_NETWORK, 5);
    assert_int_equal(whaco_intel_init(&in_a, NULL, NULL, NULL), WHACO_OK);
    struct whaco_member_spec spec = {"sp1", "sp1", 0.5, 0.9, 0.0, 0};
    assert_int_equal(whaco_intel_add_salesperson(&in_a, &spec, T0, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_configure_experiment(&in_a, &c, T0), WHACO_OK);
    assert_string_equal(walk_in(&in_a, "w0", T0).assigned_id, "sp1"); /* the seed's way */
    assert_int_equal(in_a.exp.draws, 0);
    /* Tracking starts at the first clock-in: from then on they are. */
    assert_int_equal(whaco_intel_clock_in(&in_a, "sp1", T0 + 1, NULL), WHACO_OK);
    walk_in(&in_a, "w1", T0 + 2);
    assert_int_equal(in_a.exp.draws, 1);
    whaco_intel_release(&in_a);
}

static void experiment__a_new_experiment_starts_afresh(void **state)
{
    (void)state;
    struct whaco_experiment_config c = exp_cfg(WHACO_RULE_UP_ROTATION, WHACO_RULE_NETWORK, 5);
    open_floor(&in_a, 1);
    assert_int_equal(whaco_intel_configure_experiment(&in_a, &c, T0), WHACO_OK);
    for (int i = 0; i < 5; i++) {
        char id[16];
        snprintf(id, sizeof id, "w%d", i);
        walk_in(&in_a, id, T0 + i);
    }
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "w0", WHACO_OUTCOME_NO_SALE, NULL, T0 + 9, NULL),
        WHACO_OK);
    assert_int_equal(in_a.exp.draws, 5);

    /* Another pair: the counts start again and the walk-ins in the store leave their arms. */
    struct whaco_experiment_config d = exp_cfg(WHACO_RULE_LEAST_BUSY, WHACO_RULE_NETWORK, 6);
    assert_int_equal(whaco_intel_configure_experiment(&in_a, &d, T0 + 10), WHACO_OK);
    assert_int_equal(in_a.exp.since_ms, T0 + 10);
    assert_int_equal(in_a.exp.draws, 0);
    assert_int_equal(in_a.exp.arm[0].ended, 0);
    for (uint32_t k = 0; k < in_a.floor.n_open; k++)
        assert_int_equal(in_a.floor.open[k].arm, 0);
    assert_int_equal(
        whaco_intel_customer_left(&in_a, "w1", WHACO_OUTCOME_NO_SALE, NULL, T0 + 11, NULL),
        WHACO_OK);
    assert_int_equal(in_a.exp.arm[0].ended + in_a.exp.arm[1].ended, 0); /* not in this one */

    /* Refusals change nothing. */
    struct whaco_buf before = save(&in_a), after;
    struct whaco_experiment_config same = exp_cfg(WHACO_RULE_NETWORK, WHACO_RULE_NETWORK, 6);
    assert_int_equal(whaco_intel_configure_experiment(&in_a, &same, T0 + 12), WHACO_E_CONFIG);
    assert_int_equal(whaco_intel_configure_experiment(&in_a, &d, T0 + 1), WHACO_E_TIME_BACKWARDS);
    after = save(&in_a);
    assert_int_equal(after.len, before.len);
    assert_memory_equal(after.data, before.data, after.len);
    whaco_buf_release(&before);
    whaco_buf_release(&after);

    /* Reset: the rules and the seed stay, the counts start again. */
    walk_in(&in_a, "w9", T0 + 13);
    assert_int_equal(whaco_intel_reset(&in_a, T0 + 20), WHACO_OK);
    assert_true(in_a.exp.cfg.enabled);
    assert_int_equal(in_a.exp.cfg.seed, 6);
    assert_int_equal(in_a.exp.draws, 0);
    assert_int_equal(in_a.exp.since_ms, T0 + 20);

    /* Off: nothing is split any more. */
    struct whaco_experiment_config off;
    memset(&off, 0, sizeof off);
    assert_int_equal(whaco_intel_configure_experiment(&in_a, &off, T0 + 30), WHACO_OK);
    assert_false(in_a.exp.cfg.enabled);
    assert_int_equal(in_a.exp.since_ms, 0);
    whaco_intel_release(&in_a);
}

static void experiment__saved_states_agree_with_the_floor(void **state)
{
    (void)state;
    struct whaco_experiment_config c = exp_cfg(WHACO_RULE_UP_ROTATION, WHACO_RULE_NETWORK, 5);
    open_floor(&in_a, 1);
    assert_int_equal(whaco_intel_configure_experiment(&in_a, &c, T0), WHACO_OK);
    walk_in(&in_a, "w0", T0);
    walk_in(&in_a, "w1", T0);
    walk_in(&in_a, "w2", T0); /* waits */
    struct whaco_buf b = save(&in_a), again;
    assert_int_equal(whaco_intel_init(&in_b, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_OK);
    assert_memory_equal(&in_b.exp, &in_a.exp, sizeof in_a.exp);
    again = save(&in_b);
    assert_int_equal(again.len, b.len);
    assert_memory_equal(again.data, b.data, b.len);
    whaco_buf_release(&again);
    whaco_buf_release(&b);

    /* A walk-in in an arm whose rule is not the arm's, or in an arm with no
     * experiment, or more open walk-ins in an arm than it has not ended:
     * the state is corrupt. in_b holds the good state each time. */
    for (int damage = 0; damage < 3; damage++) {
        struct whaco_intel probe;
        struct whaco_experiment_arm *arm = &in_b.exp.arm[in_b.floor.open[0].arm - 1];
        if (damage == 0) {
            in_b.floor.open[0].arm_rule = WHACO_RULE_LEAST_BUSY;
        } else if (damage == 1) {
            whaco_experiment_init(&in_b.exp);
        } else { /* every walk-in of the arm ended (at once), yet one is in the store */
            arm->ended = arm->walkins;
            memset(arm->bins, 0, sizeof arm->bins);
            arm->bins[0] = (uint32_t)arm->walkins;
        }
        struct whaco_buf bad = save(&in_b);
        assert_int_equal(whaco_intel_init(&probe, NULL, NULL, NULL), WHACO_OK);
        if (whaco_intel_load(&probe, bad.data, bad.len) != WHACO_E_STATE_CORRUPT)
            fail_msg("damage %d was loaded", damage);
        whaco_intel_release(&probe);
        whaco_buf_release(&bad);
        b = save(&in_a);
        assert_int_equal(whaco_intel_load(&in_b, b.data, b.len), WHACO_OK);
        whaco_buf_release(&b);
    }
    whaco_intel_release(&in_a);
    whaco_intel_release(&in_b);
}

/*==== Random days through the event log ====*/

/* A random event of a floor day, now and then starting, changing or ending the experiment. */
static void random_event(struct whaco_rng *rng, const struct whaco_intel *in, int *seen,
                         struct whaco_event *ev)
{
    static const struct whaco_gen_params *gp;
    static struct whaco_gen_params params;
    if (!gp) {
        whaco_gen_params_default(&params);
        gp = &params;
    }
    uint64_t kind = whaco_rng_below(rng, 100);
    char sp[WHACO_TEAM_ID_MAX];
    snprintf(sp, sizeof sp, "sp%d", 1 + (int)whaco_rng_below(rng, 4));
    if (kind < 40) {
        whaco_event_init(ev, WHACO_EV_ANALYZE);
        whaco_gen_customer(rng, gp, &ev->customer, NULL);
        snprintf(ev->customer.id, sizeof ev->customer.id, "c-%d", (*seen)++);
    } else if (kind < 80 && in->floor.n_open > 0) {
        const struct whaco_visit *v = &in->floor.open[whaco_rng_below(rng, in->floor.n_open)];
        if (v->salesperson_id[0] && kind < 55) {
            whaco_event_init(ev, WHACO_EV_DEAL_CLOSED);
            memcpy(ev->id, v->salesperson_id, sizeof ev->id);
            memcpy(ev->customer_id, v->customer_id, sizeof ev->customer_id);
        } else {
            whaco_event_init(ev, WHACO_EV_CUSTOMER_LEFT);
            memcpy(ev->customer_id, v->customer_id, sizeof ev->customer_id);
            ev->outcome = (uint8_t)(2 + whaco_rng_below(rng, 3));
        }
    } else if (kind < 88) {
        whaco_event_init(ev, whaco_rng_below(rng, 3) ? WHACO_EV_CLOCK_IN : WHACO_EV_CLOCK_OUT);
        memcpy(ev->id, sp, sizeof ev->id);
    } else if (kind < 92) {
        whaco_event_init(ev, WHACO_EV_EXPERIMENT_SETTINGS);
        if (whaco_rng_below(rng, 4)) {
            ev->experiment.enabled = true;
            ev->experiment.rule[0] = (uint8_t)whaco_rng_below(rng, 4);
            ev->experiment.rule[1] =
                (uint8_t)((ev->experiment.rule[0] + 1 + whaco_rng_below(rng, 3)) % 4);
            ev->experiment.seed = 1 + whaco_rng_below(rng, 1000);
        }
    } else if (kind < 94) {
        whaco_event_init(ev, WHACO_EV_OVERRIDE);
        memcpy(ev->id, sp, sizeof ev->id);
        snprintf(ev->customer_id, sizeof ev->customer_id, "c-%d",
                 *seen ? (int)whaco_rng_below(rng, (uint64_t)*seen) : 0);
    } else {
        whaco_event_init(ev, WHACO_EV_TICK);
    }
}

static void experiment__random_days_replay_exactly(void **state)
{
    (void)state;
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct whaco_rng rng;
        struct whaco_buf log = WHACO_BUF_INIT;
        size_t offsets[3001], n = 0;
        int seen = 0;
        whaco_rng_seed(&rng, seed);
        open_floor(&in_a, 4);
        assert_int_equal(whaco_intel_init(&in_b, NULL, NULL, NULL), WHACO_OK);
        struct whaco_buf start = save(&in_a);
        assert_int_equal(whaco_intel_load(&in_b, start.data, start.len), WHACO_OK);
        whaco_buf_release(&start);
        int64_t now = T0;
        uint64_t ended = 0;
        for (int e = 0; e < 3000; e++) {
            struct whaco_event ev;
            random_event(&rng, &in_a, &seen, &ev);
            now += (int64_t)whaco_rng_below(&rng, 3 * MINUTE);
            ev.time_ms = now;
            if (whaco_event_apply(&in_a, &ev, NULL, NULL) != WHACO_OK)
                continue;
            offsets[n++] = log.len;
            assert_int_equal(whaco_event_encode(&ev, &log), WHACO_OK);
            assert_true(whaco_experiment_fits_floor(&in_a.exp, &in_a.floor));
            ended += ev.type == WHACO_EV_CUSTOMER_LEFT || ev.type == WHACO_EV_DEAL_CLOSED;
        }
        offsets[n] = log.len;
        assert_true(ended > 500);
        for (size_t i = 0; i < n; i++) {
            struct whaco_event ev;
            assert_int_equal(
                whaco_event_decode(&ev, log.data + offsets[i], offsets[i + 1] - offsets[i]),
                WHACO_OK);
            assert_int_equal(whaco_event_apply(&in_b, &ev, NULL, NULL), WHACO_OK);
        }
        struct whaco_buf a = save(&in_a), b = save(&in_b);
        assert_int_equal(a.len, b.len);
        assert_memory_equal(a.data, b.data, a.len);
        /* ... and the saved state loads back to the same. */
        assert_int_equal(whaco_intel_load(&in_b, a.data, a.len), WHACO_OK);
        assert_memory_equal(&in_b.exp, &in_a.exp, sizeof in_a.exp);
        whaco_buf_release(&a);
        whaco_buf_release(&b);
        whaco_buf_release(&log);
        whaco_intel_release(&in_a);
        whaco_intel_release(&in_b);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(experiment__the_setting_reads_checks_and_prints),
        cmocka_unit_test(experiment__the_split_is_splitmix64_and_even),
        cmocka_unit_test(experiment__waits_and_their_95th_percentile),
        cmocka_unit_test(experiment__close_rate_difference_is_newcombes),
        cmocka_unit_test(experiment__the_verdict_waits_for_30_ended_in_each_arm),
        cmocka_unit_test(experiment__the_wait_difference_is_welchs),
        cmocka_unit_test(experiment__days_needed_by_the_normal_approximation),
        cmocka_unit_test(experiment__the_section_round_trips_and_refuses_damage),
        cmocka_unit_test(experiment__each_walk_in_follows_its_arms_rule),
        cmocka_unit_test(experiment__outcomes_and_waits_count_at_the_end_of_the_visit),
        cmocka_unit_test(experiment__untracked_floors_are_not_split),
        cmocka_unit_test(experiment__a_new_experiment_starts_afresh),
        cmocka_unit_test(experiment__saved_states_agree_with_the_floor),
        cmocka_unit_test(experiment__random_days_replay_exactly),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_gen.c: the synthetic customer generator of whaco/gen.h.
 *
 * The generator feeds every other test and the benchmarks, so it is held to
 * its contract: every customer valid, the requested segment mix and anomaly
 * rate (within 5 binomial standard errors), determinism per seed, drift
 * parameters that move prices and FICO scores as documented, and segments
 * that look like their names (the engine's naming tests rely on it).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/gen.h"
#include "whaco/segment.h"

#define N 100000

/* |observed share - p| within 5 standard errors of a binomial share. */
static void assert_share(long hits, long n, double p)
{
    double se = sqrt(p * (1.0 - p) / (double)n);
    double share = (double)hits / (double)n;
    if (fabs(share - p) >= 5.0 * se + 1e-12)
        fail_msg("share %.5f, expected %.5f +- %.5f", share, p, 5.0 * se);
}

static int is_multiple(double v, double step)
{
    return fabs(v / step - floor(v / step + 0.5)) < 1e-9;
}

static void gen__params_default(void **state)
{
    (void)state;
    struct whaco_gen_params p;
    memset(&p, 0xff, sizeof p);
    whaco_gen_params_default(&p);
    double sum = 0.0;
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        assert_true(p.mix[k] > 0.0 && p.mix[k] < 1.0);
        sum += p.mix[k];
    }
    assert_true(fabs(sum - 1.0) < 1e-12);
    assert_true(fabs(p.anomaly_rate - 0.025) < 1e-12);
    assert_true(p.price_scale == 1.0);
    assert_true(p.fico_shift == 0.0);
}

/* Draw n customers and check each one; returns nothing, fails on the first. */
static void check_all(uint64_t seed, const struct whaco_gen_params *p, long n)
{
    struct whaco_rng rng;
    whaco_rng_seed(&rng, seed);
    for (long i = 0; i < n; i++) {
        struct whaco_customer c;
        int kind = -99;
        memset(&c, 0x5a, sizeof c);
        int seg = whaco_gen_customer(&rng, p, &c, &kind);
        const char *field = NULL;
        int rc = whaco_customer_check(&c, &field);
        if (rc != WHACO_OK)
            fail_msg("seed %llu customer %ld: %s: %s (credit %.1f income %.1f price %.1f "
                     "down %.1f trade %.1f visits %d time %.1f engagement %.3f)",
                     (unsigned long long)seed, i, field ? field : "?", whaco_strerror(rc),
                     c.credit_score, c.annual_income, c.vehicle_price, c.down_payment,
                     c.trade_value, (int)c.visit_count, c.time_on_lot, c.engagement);
        assert_string_equal(c.id, "");
        assert_true(seg >= -1 && seg < WHACO_CLUSTERS);
        if (seg < 0)
            assert_true(kind >= WHACO_GEN_FRAUD && kind <= WHACO_GEN_EXTREME);
        else
            assert_int_equal(kind, WHACO_GEN_NORMAL);
        /* Recorded as a form would hold them. */
        assert_true(is_multiple(c.credit_score, 1.0));
        assert_true(is_multiple(c.annual_income, 100.0));
        assert_true(is_multiple(c.down_payment, 10.0));
        assert_true(is_multiple(c.trade_value, 10.0));
        assert_true(is_multiple(c.time_on_lot, 1.0));
        assert_true(is_multiple(c.engagement, 0.001));
        if (p->price_scale == 1.0)
            assert_true(is_multiple(c.vehicle_price, 5.0));
        if (seg >= 0) {
            /* A segment customer stays inside the ranges gen.c clips to
             * (the price clip is applied before the drift scale and the
             * rounding to $5). */
            assert_true(c.credit_score >= 300.0 && c.credit_score <= 850.0);
            assert_true(c.annual_income >= 8000.0 && c.annual_income <= 900000.0);
            assert_true(c.vehicle_price >= 12000.0 * p->price_scale - 2.5 &&
                        c.vehicle_price <= 95000.0 * p->price_scale + 2.5);
            assert_true(c.visit_count >= 1 && c.visit_count <= 6);
            assert_true(c.time_on_lot >= 5.0 && c.time_on_lot <= 240.0);
        }
    }
}

static void gen__every_customer_is_valid(void **state)
{
    (void)state;
    static const uint64_t seeds[] = {1, 2, 0xfeedfaceu};
    static const struct {
        double anomaly_rate, price_scale, fico_shift;
    } variants[] = {
        {0.025, 1.0, 0.0},   /* defaults */
        {0.0, 1.0, 0.0},     /* no anomalies */
        {1.0, 1.0, 0.0},     /* only anomalies */
        {0.025, 1.15, -20},  /* the drift */
        {0.025, 0.2, 400},   /* cheap cars, FICO pushed past 850 */
        {0.025, 20.0, -500}, /* luxury cars, FICO pushed below 300 */
    };
    for (size_t s = 0; s < sizeof seeds / sizeof seeds[0]; s++) {
        for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++) {
            struct whaco_gen_params p;
            whaco_gen_params_default(&p);
            p.anomaly_rate = variants[v].anomaly_rate;
            p.price_scale = variants[v].price_scale;
            p.fico_shift = variants[v].fico_shift;
            check_all(seeds[s], &p, N);
        }
    }
}

static void gen__only_anomalies_or_none(void **state)
{
    (void)state;
    struct whaco_gen_params p;
    whaco_gen_params_default(&p);
    struct whaco_rng rng;
    struct whaco_customer c;
    long kinds[4] = {0};

    p.anomaly_rate = 1.0;
    whaco_rng_seed(&rng, 11);
    for (long i = 0; i < N; i++) {
        int kind = 0;
        assert_int_equal(whaco_gen_customer(&rng, &p, &c, &kind), -1);
        kinds[kind]++;
    }
    /* The three anomaly families are equally likely. */
    assert_int_equal(kinds[WHACO_GEN_NORMAL], 0);
    for (int k = WHACO_GEN_FRAUD; k <= WHACO_GEN_EXTREME; k++)
        assert_share(kinds[k], N, 1.0 / 3.0);

    p.anomaly_rate = 0.0;
    whaco_rng_seed(&rng, 11);
    for (long i = 0; i < N; i++)
        assert_true(whaco_gen_customer(&rng, &p, &c, NULL) >= 0);
}

static void gen__segment_mix(void **state)
{
    (void)state;
    struct whaco_gen_params p;
    whaco_gen_params_default(&p);
    static const double mixes[][WHACO_CLUSTERS] = {
        {0.24, 0.25, 0.19, 0.20, 0.12}, /* the default */
        {0.05, 0.10, 0.15, 0.30, 0.40},
        {0.5, 0.0, 0.5, 0.0, 0.0},
    };
    for (size_t m = 0; m < sizeof mixes / sizeof mixes[0]; m++) {
        memcpy(p.mix, mixes[m], sizeof p.mix);
        p.anomaly_rate = m == 0 ? 0.025 : 0.0;
        struct whaco_rng rng;
        whaco_rng_seed(&rng, 100 + m);
        long counts[WHACO_CLUSTERS] = {0}, normal = 0;
        for (long i = 0; i < N; i++) {
            struct whaco_customer c;
            int seg = whaco_gen_customer(&rng, &p, &c, NULL);
            if (seg >= 0) {
                counts[seg]++;
                normal++;
            }
        }
        /* The mix applies to the customers that are not anomalies. */
        for (int k = 0; k < WHACO_CLUSTERS; k++) {
            if (mixes[m][k] == 0.0)
                assert_int_equal(counts[k], 0);
            else
                assert_share(counts[k], normal, mixes[m][k]);
        }
    }
}

static void gen__anomaly_rate(void **state)
{
    (void)state;
    static const double rates[] = {0.025, 0.1, 0.5};
    for (size_t t = 0; t < sizeof rates / sizeof rates[0]; t++) {
        struct whaco_gen_params p;
        whaco_gen_params_default(&p);
        p.anomaly_rate = rates[t];
        struct whaco_rng rng;
        whaco_rng_seed(&rng, 7 + t);
        long anomalies = 0;
        for (long i = 0; i < N; i++) {
            struct whaco_customer c;
            anomalies += whaco_gen_customer(&rng, &p, &c, NULL) < 0;
        }
        assert_share(anomalies, N, rates[t]);
    }
}

static int same_customer(const struct whaco_customer *a, const struct whaco_customer *b)
{
    return !strcmp(a->id, b->id) && a->credit_score == b->credit_score &&
           a->annual_income == b->annual_income && a->vehicle_price == b->vehicle_price &&
           a->down_payment == b->down_payment && a->trade_value == b->trade_value &&
           a->visit_count == b->visit_count && a->time_on_lot == b->time_on_lot &&
           a->engagement == b->engagement;
}

static void gen__deterministic_per_seed(void **state)
{
    (void)state;
    struct whaco_gen_params p;
    whaco_gen_params_default(&p);
    p.anomaly_rate = 0.1;
    struct whaco_rng a, b, other;
    whaco_rng_seed(&a, 2025);
    whaco_rng_seed(&b, 2025);
    whaco_rng_seed(&other, 2026);
    long differ = 0;
    for (long i = 0; i < N; i++) {
        struct whaco_customer ca, cb, co;
        int ka = -7, kb = -8;
        int sa = whaco_gen_customer(&a, &p, &ca, &ka);
        int sb = whaco_gen_customer(&b, &p, &cb, &kb);
        whaco_gen_customer(&other, &p, &co, NULL);
        assert_int_equal(sa, sb);
        assert_int_equal(ka, kb);
        assert_true(same_customer(&ca, &cb));
        differ += !same_customer(&ca, &co);
    }
    /* Another seed gives another stream (ties only by coincidence). */
    assert_true(differ > N * 99 / 100);
}

/* Means over a stream of normal (non-anomalous) customers. */
struct stream_means {
    double price, fico, down_pct;
    long n;
};

static struct stream_means stream(uint64_t seed, double price_scale, double fico_shift)
{
    struct whaco_gen_params p;
    whaco_gen_params_default(&p);
    p.anomaly_rate = 0.0;
    p.price_scale = price_scale;
    p.fico_shift = fico_shift;
    struct whaco_rng rng;
    whaco_rng_seed(&rng, seed);
    struct stream_means m = {0, 0, 0, 0};
    for (long i = 0; i < N; i++) {
        struct whaco_customer c;
        whaco_gen_customer(&rng, &p, &c, NULL);
        m.price += c.vehicle_price;
        m.fico += c.credit_score;
        m.down_pct += c.down_payment / c.vehicle_price;
        m.n++;
    }
    m.price /= (double)m.n;
    m.fico /= (double)m.n;
    m.down_pct /= (double)m.n;
    return m;
}

static void gen__drift_moves_price_and_fico(void **state)
{
    (void)state;
    /*
     * The drift parameters do not change which random numbers are drawn,
     * so the same seed gives the same customers, shifted: prices scale
     * (up to rounding to $5) and FICO moves by the shift except where the
     * 300..850 clip bites, which can only shrink the move.
     */
    struct stream_means base = stream(3, 1.0, 0.0);
    struct stream_means up = stream(3, 1.15, -20.0);
    assert_true(fabs(up.price / base.price - 1.15) < 0.001);
    assert_true(up.fico - base.fico <= -19.0 && up.fico - base.fico >= -20.0 - 1e-9);
    /* Down payment is a share of the price, so its share does not move. */
    assert_true(fabs(up.down_pct - base.down_pct) < 0.001);

    struct stream_means down = stream(3, 0.8, 25.0);
    assert_true(fabs(down.price / base.price - 0.8) < 0.001);
    assert_true(down.fico - base.fico >= 24.0 && down.fico - base.fico <= 25.0 + 1e-9);

    /* A different seed with drift: still the expected move, statistically. */
    struct stream_means other = stream(4, 1.15, -20.0);
    assert_true(fabs(other.price / base.price - 1.15) < 0.02);
    assert_true(fabs(other.fico - base.fico + 20.0) < 2.0);
}

struct seg_means {
    double fico, income, down_pct, engagement, time, visits;
    double min_down_pct, max_down_pct;
    long n;
};

static void gen__segment_profiles(void **state)
{
    (void)state;
    struct whaco_gen_params p;
    whaco_gen_params_default(&p);
    p.anomaly_rate = 0.0;
    struct whaco_rng rng;
    whaco_rng_seed(&rng, 8);
    struct seg_means m[WHACO_CLUSTERS];
    memset(m, 0, sizeof m);
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        m[k].min_down_pct = INFINITY;
        m[k].max_down_pct = -INFINITY;
    }
    for (long i = 0; i < N; i++) {
        struct whaco_customer c;
        int k = whaco_gen_customer(&rng, &p, &c, NULL);
        assert_true(k >= 0);
        double dp = c.down_payment / c.vehicle_price;
        m[k].fico += c.credit_score;
        m[k].income += c.annual_income;
        m[k].down_pct += dp;
        m[k].engagement += c.engagement;
        m[k].time += c.time_on_lot;
        m[k].visits += c.visit_count;
        m[k].min_down_pct = fmin(m[k].min_down_pct, dp);
        m[k].max_down_pct = fmax(m[k].max_down_pct, dp);
        m[k].n++;
    }
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        assert_true(m[k].n > 0);
        double n = (double)m[k].n;
        m[k].fico /= n;
        m[k].income /= n;
        m[k].down_pct /= n;
        m[k].engagement /= n;
        m[k].time /= n;
        m[k].visits /= n;
    }
    const struct seg_means *prime = &m[WHACO_PRIME_BUYERS], *mot = &m[WHACO_MOTIVATED_SHOPPERS],
                           *tk = &m[WHACO_TIRE_KICKERS], *cc = &m[WHACO_CREDIT_CHALLENGED],
                           *cash = &m[WHACO_CASH_STRONG_BUYERS];

    /* The names the engine must keep truthful (issue 2, section 3). */
    assert_true(prime->fico > 700.0);
    assert_true(cc->fico < 620.0);
    assert_true(cash->down_pct > 0.3);
    assert_true(tk->engagement < 0.35);

    /* And the contrasts between segments that make them segments. */
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        if (k != WHACO_PRIME_BUYERS) {
            assert_true(prime->fico > m[k].fico);
            assert_true(prime->income > m[k].income);
        }
        if (k != WHACO_CREDIT_CHALLENGED)
            assert_true(cc->fico < m[k].fico);
        if (k != WHACO_TIRE_KICKERS) {
            assert_true(tk->engagement < m[k].engagement);
            assert_true(tk->time < m[k].time);
        }
        if (k != WHACO_MOTIVATED_SHOPPERS) {
            assert_true(mot->engagement > m[k].engagement);
            assert_true(mot->visits > m[k].visits);
        }
        /* Cash strong: every one puts 30% or more down; nobody else does. */
        if (k != WHACO_CASH_STRONG_BUYERS)
            assert_true(m[k].max_down_pct < 0.30);
    }
    /* Rounding the down payment to $10 can move the share by < $5/$12,000. */
    assert_true(cash->min_down_pct > 0.30 - 5.0 / 12000.0);
}

static void gen__anomaly_shapes(void **state)
{
    (void)state;
    struct whaco_gen_params p;
    whaco_gen_params_default(&p);
    p.anomaly_rate = 1.0;
    struct whaco_rng rng;
    whaco_rng_seed(&rng, 12);
    for (long i = 0; i < N / 10; i++) {
        struct whaco_customer c;
        int kind = 0;
        whaco_gen_customer(&rng, &p, &c, &kind);
        switch (kind) {
        case WHACO_GEN_FRAUD:
            assert_true(c.credit_score <= 460.0);
            assert_true(c.annual_income >= 400000.0);
            assert_true(c.down_payment <= 0.01 * c.vehicle_price + 5.0);
            break;
        case WHACO_GEN_INCONSISTENT:
            assert_true(c.engagement >= 0.93);
            assert_true(c.credit_score <= 420.0);
            assert_true(c.vehicle_price >= 120000.0);
            assert_true(c.trade_value == 0.0);
            break;
        case WHACO_GEN_EXTREME:
            assert_true(c.annual_income >= 2000000.0 || c.time_on_lot >= 600.0 ||
                        c.vehicle_price >= 250000.0);
            break;
        default:
            fail_msg("anomaly kind %d", kind);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(gen__params_default),
        cmocka_unit_test(gen__every_customer_is_valid),
        cmocka_unit_test(gen__only_anomalies_or_none),
        cmocka_unit_test(gen__segment_mix),
        cmocka_unit_test(gen__anomaly_rate),
        cmocka_unit_test(gen__deterministic_per_seed),
        cmocka_unit_test(gen__drift_moves_price_and_fico),
        cmocka_unit_test(gen__segment_profiles),
        cmocka_unit_test(gen__anomaly_shapes),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * segment.c: the WHACO segmentation engine (see whaco/segment.h for the model).
 *
 * Invariants of a struct whaco_segmenter, kept by every function that
 * changes one and checked by the decoder:
 *   - centroids, weights and global moments are finite;
 *   - every variance is finite and >= its feature's floor (var_floor[]);
 *   - cluster shares are in [0, 1] and sum to 1 (up to rounding);
 *   - weights are > 0 and sum to WHACO_FEATURES;
 *   - sum of cluster sizes == processed - outliers (customers learned: a
 *     walk-in on a tracked floor is learned once, possibly after its
 *     anomaly entered the ring, so the ring is not bounded by outliers);
 *   - a ring customer's unknown fields hold 0 (as they encode and decode);
 *   - log_var, inv_var and log_share hold log(variance), 1/variance and
 *     log(share): caches, not serialised, always recomputed from the values
 *     themselves (never updated incrementally), so a decoded state holds
 *     bit-identical caches and replays exactly like the original.
 *
 * The per-customer path (classify, learn) does not allocate and costs a few
 * hundred nanoseconds: the 40 variance logarithms the likelihood needs are
 * cached and refreshed only for the one cluster a customer moves.
 */
#include <math.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/segment.h"
#include "whaco/utf8.h"
#include "core/internal.h"
#include "banned.h"

/*
 * Profiles, from the seed: names, descriptions, approaches and priorities
 * are the API's contract.
 */
static const struct whaco_profile profiles[WHACO_CLUSTERS] = {
    {"Prime Buyers", "High credit, strong income, serious buyers",
     "Premium vehicles, competitive rates, quick close", 0.95},
    {"Motivated Shoppers", "Decent credit, actively engaged, ready to buy",
     "Focus on value, flexible terms, build rapport", 0.85},
    {"Tire Kickers", "Low engagement, browsing only, not serious",
     "Minimal time, capture info, follow-up campaign", 0.3},
    {"Credit Challenged", "Subprime credit, needs special financing",
     "Larger down payment, subprime lenders, realistic expectations", 0.6},
    {"Cash Strong Buyers", "High down payment, moderate credit",
     "Leverage cash position, focus on deal structure", 0.8},
};

static const char *const feature_names[WHACO_FEATURES] = {
    "FICO", "Income", "Price", "Down%", "Trade%", "Visits", "Time on lot", "Engagement",
};

/* The API's names of the fields, in bit order (enum whaco_field_flags). */
static const char *const field_names[WHACO_FIELDS] = {
    "creditScore", "annualIncome", "vehiclePrice", "downPayment",
    "tradeValue",  "visitCount",   "timeOnLot",    "engagement",
};
_Static_assert(WHACO_FIELDS == WHACO_FEATURES, "field bit j feeds feature j");
_Static_assert(WHACO_FIELDS_ALL == (1u << WHACO_FIELDS) - 1, "one bit per field");

/* Features that are a share of the vehicle price: unknown without it. */
#define PRICE_SHARES ((1u << WHACO_F_DOWN_PCT) | (1u << WHACO_F_TRADE_PCT))

/*
 * The outlier threshold by the number of known features n, as a factor of
 * the eight-feature threshold (cfg.outlier_threshold, 4.75 by default);
 * index n, 1..8. The distance over n features of a customer who belongs to
 * its segment is smaller the fewer features there are (about chi with n
 * degrees of freedom), so the threshold must shrink with n for the same
 * share of false alarms. The factors are measured, not derived: on the
 * generator's data (whaco generate --labels, seeds 11 to 14, 200,000 rows,
 * each row keeping a random number n of known features, uniform in 1..8:
 * bench/mask-fields --per-k), factor n is the quantile of normal
 * customers' distances over n features at the share that 4.75 flags on
 * complete data (0.78%), over the same quantile for n = 8. The chi
 * quantiles' ratios would be 0.61, 0.70, 0.77, 0.83, 0.88, 0.92, 0.96: too
 * high for few features, which flagged no normal customer at all with one
 * or two known, because the segment is chosen on the same few features
 * that the distance is then measured on (the nearest of five is nearer
 * than a chi says). docs/quality.md has the per-n false alarms on the dev
 * data. A score is reported divided by its factor, so every score reads on
 * the eight-feature scale and one threshold applies. [0] is unused (a
 * customer with no known feature is refused).
 */
static const double threshold_factor[WHACO_FEATURES + 1] = {
    1.0, 0.441, 0.587, 0.682, 0.791, 0.838, 0.907, 0.951, 1.0,
};

/*
 * Starting centroids, in feature units, from the segment descriptions and
 * typical US figures (a FICO above 700 for prime, below 620 for subprime,
 * more than 30% down for cash-strong, little time and engagement for tire
 * kickers). Raw values, for reading:
 *                 FICO income  price  down% trade% visits  min  engagement
 *   Prime          760  $120k  $42k   0.13   0.12    2     90     0.65
 *   Motivated      690   $80k  $34k   0.10   0.10    4    160     0.80
 *   Tire kickers   680   $60k  $33k   0.06   0.03    1     25     0.20
 *   Credit chall.  570   $48k  $26k   0.08   0.03    2     90     0.50
 *   Cash strong    690   $95k  $34k   0.42   0.15    2     80     0.55
 * They only seed the model; online learning moves them.
 */
static const double seed_centroid[WHACO_CLUSTERS][WHACO_FEATURES] = {
    {0.8364, 0.5558, 0.42, 0.13, 0.12, 0.2, 0.3750, 0.65},
    {0.7091, 0.4761, 0.34, 0.10, 0.10, 0.4, 0.6667, 0.80},
    {0.6909, 0.4216, 0.33, 0.06, 0.03, 0.1, 0.1042, 0.20},
    {0.4909, 0.3811, 0.26, 0.08, 0.03, 0.2, 0.3750, 0.50},
    {0.7091, 0.5094, 0.34, 0.42, 0.15, 0.2, 0.3333, 0.55},
};

/* Starting standard deviations per feature (feature units), all clusters. */
static const double seed_sd[WHACO_FEATURES] = {0.09, 0.09, 0.13, 0.05, 0.12, 0.10, 0.20, 0.15};

/*
 * Variance floors. A cluster whose customers all share one value (every
 * tire kicker on their first visit) must not shrink to zero variance and
 * call the next second-time visitor infinitely far away. visitCount moves in
 * steps of 0.1 feature units, so its floor is that step's quantisation
 * variance, 0.1^2/12; the continuous features get a 0.01 standard deviation
 * (5.5 FICO points, $1,000 of a $100k price).
 */
static const double var_floor[WHACO_FEATURES] = {1e-4, 1e-4, 1e-4, 1e-4, 1e-4, 8.4e-4, 1e-4, 1e-4};

/* ln(101): income $0 -> 0, $100k -> 0.52, $1M -> 1.0. */
#define INCOME_LOG_SCALE 4.61512051684125945

/*
 * Dispersion weights follow (G_j / V_j)^(1/4). Huang et al.'s
 * exponent is 1/(beta_h - 1); their beta_h = 2 (exponent 1) feeds back on
 * itself online: the most separating feature (Down%) gains weight, clusters
 * then split on it alone, it looks more separating still, and on the
 * development data the weight reached 5 of 8 and ARI fell from 0.85 to 0.26.
 * beta_h = 5 (exponent 1/4) keeps the ordering, so noise still loses
 * weight, without the runaway.
 */
#define WEIGHT_ROOT(x) sqrt(sqrt(x)) /* x^(1/4), far cheaper than pow() */

/*
 * The share of the evidence (evidence_share) below which an incomplete
 * customer is segmented and counted but teaches the model nothing. Measured
 * (docs/quality.md, "Learning from incomplete customers"): customers known
 * by half the evidence or less (price, down payment, trade-in and visits
 * only) dragged the segments; with 0.6 they no longer do, and customers
 * missing one or two features (0.74 or more) still teach.
 */
#define LEARN_MIN_EVIDENCE 0.6

/* Outlier reasons: strongest features until they explain this share of d^2. */
#define REASON_SHARE 0.75
#define REASON_MAX   3

void whaco_segment_config_default(struct whaco_segment_config *cfg)
{
    cfg->alpha = 0.05;
    cfg->alpha_var = 0.01;
    cfg->alpha_prior = 0.005;
    cfg->beta = 0.01;
    cfg->outlier_threshold = 4.75;
    cfg->weight_rule = WHACO_WEIGHTS_DISPERSION;
}

static int in_unit_open(double v)
{
    return isfinite(v) && v > 0.0 && v <= 1.0;
}

int whaco_segment_config_check(const struct whaco_segment_config *cfg, const char **field)
{
    const char *bad = NULL;
    if (!in_unit_open(cfg->alpha))
        bad = "alpha";
    else if (!in_unit_open(cfg->alpha_var))
        bad = "alphaVar";
    else if (!in_unit_open(cfg->alpha_prior))
        bad = "alphaPrior";
    else if (!isfinite(cfg->beta) || cfg->beta < 0.0 || cfg->beta > 1.0)
        bad = "beta";
    else if (!isfinite(cfg->outlier_threshold) || cfg->outlier_threshold <= 0.0)
        bad = "outlierThreshold";
    else if (cfg->weight_rule < WHACO_WEIGHTS_DISPERSION || cfg->weight_rule > WHACO_WEIGHTS_FIXED)
        bad = "weightRule";
    if (!bad)
        return WHACO_OK;
    if (field)
        *field = bad;
    return WHACO_E_CONFIG;
}

const struct whaco_profile *whaco_profile(int k)
{
    return k >= 0 && k < WHACO_CLUSTERS ? &profiles[k] : NULL;
}

const char *whaco_feature_name(int j)
{
    return j >= 0 && j < WHACO_FEATURES ? feature_names[j] : "?";
}

const char *whaco_field_name(int i)
{
    return i >= 0 && i < WHACO_FIELDS ? field_names[i] : "?";
}

uint32_t whaco_features_known(const struct whaco_customer *c)
{
    uint32_t known = ~c->missing & WHACO_FIELDS_ALL;
    if (c->missing & WHACO_FIELD_VEHICLE_PRICE)
        known &= ~PRICE_SHARES;
    return known;
}

/* Number of bits set in m (at most WHACO_FEATURES of them). */
static int popcount8(uint32_t m)
{
    int n = 0;
    for (; m; m &= m - 1)
        n++;
    return n;
}

/* 1 if s is NUL-terminated within cap bytes and has no control characters. */
static int id_ok(const char *s, size_t cap)
{
    const char *end = memchr(s, '\0', cap);
    return end && whaco_text_printable(s, (size_t)(end - s));
}

int whaco_customer_check(const struct whaco_customer *c, const char **field)
{
    int rc = WHACO_OK;
    const char *f = NULL;
    const uint32_t m = c->missing;
    /* A rule about an unknown field holds trivially. */
#define KNOWN(bits) ((m & (bits)) == 0)

    WHACO_CHECK(id_ok(c->id, sizeof c->id), "customerId", WHACO_E_ID_LENGTH);
    WHACO_CHECK((m & ~WHACO_FIELDS_ALL) == 0, NULL, WHACO_E_INVAL);
    if (KNOWN(WHACO_FIELD_CREDIT_SCORE)) {
        WHACO_CHECK(isfinite(c->credit_score), "creditScore", WHACO_E_NOT_FINITE);
        WHACO_CHECK(c->credit_score >= 300.0 && c->credit_score <= 850.0, "creditScore",
                    WHACO_E_CREDIT_SCORE_RANGE);
    }
    if (KNOWN(WHACO_FIELD_ANNUAL_INCOME)) {
        WHACO_CHECK(isfinite(c->annual_income), "annualIncome", WHACO_E_NOT_FINITE);
        WHACO_CHECK(c->annual_income >= 0.0, "annualIncome", WHACO_E_NEGATIVE_MONEY);
    }
    if (KNOWN(WHACO_FIELD_VEHICLE_PRICE)) {
        WHACO_CHECK(isfinite(c->vehicle_price), "vehiclePrice", WHACO_E_NOT_FINITE);
        WHACO_CHECK(c->vehicle_price > 0.0, "vehiclePrice", WHACO_E_VEHICLE_PRICE);
    }
    if (KNOWN(WHACO_FIELD_DOWN_PAYMENT)) {
        WHACO_CHECK(isfinite(c->down_payment), "downPayment", WHACO_E_NOT_FINITE);
        WHACO_CHECK(c->down_payment >= 0.0, "downPayment", WHACO_E_NEGATIVE_MONEY);
    }
    if (KNOWN(WHACO_FIELD_DOWN_PAYMENT | WHACO_FIELD_VEHICLE_PRICE))
        WHACO_CHECK(c->down_payment <= c->vehicle_price, "downPayment", WHACO_E_DOWN_EXCEEDS_PRICE);
    if (KNOWN(WHACO_FIELD_TRADE_VALUE)) {
        WHACO_CHECK(isfinite(c->trade_value), "tradeValue", WHACO_E_NOT_FINITE);
        WHACO_CHECK(c->trade_value >= 0.0, "tradeValue", WHACO_E_NEGATIVE_MONEY);
    }
    if (KNOWN(WHACO_FIELD_VISIT_COUNT))
        WHACO_CHECK(c->visit_count >= 0, "visitCount", WHACO_E_NEGATIVE_COUNT);
    if (KNOWN(WHACO_FIELD_TIME_ON_LOT)) {
        WHACO_CHECK(isfinite(c->time_on_lot), "timeOnLot", WHACO_E_NOT_FINITE);
        WHACO_CHECK(c->time_on_lot >= 0.0, "timeOnLot", WHACO_E_NEGATIVE_COUNT);
    }
    if (KNOWN(WHACO_FIELD_ENGAGEMENT)) {
        WHACO_CHECK(isfinite(c->engagement), "engagement", WHACO_E_NOT_FINITE);
        WHACO_CHECK(c->engagement >= 0.0 && c->engagement <= 1.0, "engagement",
                    WHACO_E_ENGAGEMENT_RANGE);
    }
    WHACO_CHECK(whaco_features_known(c) != 0, NULL, WHACO_E_NO_KNOWN_FEATURE);
#undef KNOWN

    if (rc != WHACO_OK && field)
        *field = f;
    return rc;
}

void whaco_features(const struct whaco_customer *c, double x[WHACO_FEATURES])
{
    uint32_t known = whaco_features_known(c);
    x[WHACO_F_FICO] = (c->credit_score - 300.0) / 550.0;
    x[WHACO_F_INCOME] = log1p(c->annual_income / 10000.0) / INCOME_LOG_SCALE;
    x[WHACO_F_PRICE] = c->vehicle_price / 100000.0;
    x[WHACO_F_DOWN_PCT] = c->down_payment / c->vehicle_price;
    x[WHACO_F_TRADE_PCT] = c->trade_value / c->vehicle_price;
    x[WHACO_F_VISITS] = (double)c->visit_count / 10.0;
    x[WHACO_F_TIME] = c->time_on_lot / 240.0;
    x[WHACO_F_ENGAGEMENT] = c->engagement;
    if (known != WHACO_FIELDS_ALL) /* an unknown price makes the shares 0/0 */
        for (int j = 0; j < WHACO_FEATURES; j++)
            if (!(known & (1u << j)))
                x[j] = 0.0;
}

/* Recompute the caches of cluster k's variances. */
static void refresh_variance_cache(struct whaco_segmenter *s, int k)
{
    for (int j = 0; j < WHACO_FEATURES; j++) {
        s->log_var[k][j] = log(s->clusters[k].variance[j]);
        s->inv_var[k][j] = 1.0 / s->clusters[k].variance[j];
    }
}

/* Recompute the cache of the shares' logarithms. */
static void refresh_share_cache(struct whaco_segmenter *s)
{
    for (int k = 0; k < WHACO_CLUSTERS; k++)
        s->log_share[k] = log(s->clusters[k].share);
}

/* Global moments implied by the clusters (used to seed them). */
static void moments_from_clusters(struct whaco_segmenter *s)
{
    for (int j = 0; j < WHACO_FEATURES; j++) {
        double m = 0.0, v = 0.0;
        for (int k = 0; k < WHACO_CLUSTERS; k++)
            m += s->clusters[k].share * s->clusters[k].centroid[j];
        for (int k = 0; k < WHACO_CLUSTERS; k++) {
            double d = s->clusters[k].centroid[j] - m;
            v += s->clusters[k].share * (s->clusters[k].variance[j] + d * d);
        }
        s->global_mean[j] = m;
        s->global_var[j] = v;
    }
}

int whaco_segmenter_init(struct whaco_segmenter *s, const struct whaco_segment_config *cfg,
                         const char **field)
{
    struct whaco_segment_config def;
    if (!cfg) {
        whaco_segment_config_default(&def);
        cfg = &def;
    }
    int rc = whaco_segment_config_check(cfg, field);
    if (rc != WHACO_OK)
        return rc;

    memset(s, 0, sizeof *s);
    s->cfg = *cfg;
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        struct whaco_cluster *cl = &s->clusters[k];
        for (int j = 0; j < WHACO_FEATURES; j++) {
            cl->centroid[j] = seed_centroid[k][j];
            cl->variance[j] = seed_sd[j] * seed_sd[j];
        }
        cl->share = 1.0 / WHACO_CLUSTERS;
        refresh_variance_cache(s, k);
    }
    refresh_share_cache(s);
    for (int j = 0; j < WHACO_FEATURES; j++)
        s->weights[j] = 1.0;
    moments_from_clusters(s);
    return WHACO_OK;
}

/*
 * The share of the evidence that the known features carry: their weights
 * over the sum of all weights (WHACO_FEATURES), in (0, 1]. The dispersion
 * weights measure how much each feature separates the segments, so a
 * customer known by the features that matter most counts for more.
 */
static double evidence_share(const struct whaco_segmenter *s, uint32_t known)
{
    double sum = 0.0;
    for (int j = 0; j < WHACO_FEATURES; j++)
        if (known & (1u << j))
            sum += s->weights[j];
    return sum / WHACO_FEATURES;
}

/*
 * The model's verdict on feature vector x, of which the features in `known`
 * (a mask of enum whaco_feature bits, not empty) are known. Fills
 * everything in *out but the outlier reasons and the customer's fields.
 *
 * Unknown features are marginalised: under a diagonal Gaussian the density
 * of the known coordinates is the product of their own terms, so an unknown
 * feature's term is left out of L_k, of d^2 and of z (0). Its weight is
 * zeroed rather than branched on: w * (...) + 0 terms leave a complete
 * customer's sums bit for bit what they were before unknown fields existed.
 */
static void score(const struct whaco_segmenter *s, const double x[WHACO_FEATURES], uint32_t known,
                  struct whaco_segment_result *out)
{
    double ll[WHACO_CLUSTERS], w[WHACO_FEATURES];
    int best = 0;
    const int n_known = popcount8(known);

    for (int j = 0; j < WHACO_FEATURES; j++)
        w[j] = known & (1u << j) ? s->weights[j] : 0.0;
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        const struct whaco_cluster *cl = &s->clusters[k];
        double acc = 0.0;
        for (int j = 0; j < WHACO_FEATURES; j++) {
            double d = x[j] - cl->centroid[j];
            acc += w[j] * (d * d * s->inv_var[k][j] + s->log_var[k][j]);
        }
        ll[k] = s->log_share[k] - 0.5 * acc;
        if (ll[k] > ll[best])
            best = k;
    }

    /* Posterior by a max-shifted softmax (no overflow, best gets exp(0)). */
    double sum = 0.0;
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        out->posterior[k] = exp(ll[k] - ll[best]);
        sum += out->posterior[k];
    }
    for (int k = 0; k < WHACO_CLUSTERS; k++)
        out->posterior[k] /= sum;

    const struct whaco_cluster *cl = &s->clusters[best];
    double d2 = 0.0;
    for (int j = 0; j < WHACO_FEATURES; j++) {
        out->z[j] = known & (1u << j) ? (x[j] - cl->centroid[j]) / sqrt(cl->variance[j]) : 0.0;
        d2 += out->z[j] * out->z[j];
    }
    out->cluster_id = best;
    out->confidence = out->posterior[best];
    out->priority = profiles[best].priority;
    out->outlier_score = sqrt(d2) / threshold_factor[n_known];
    out->is_outlier = out->outlier_score > s->cfg.outlier_threshold;
    out->n_reasons = 0;
    out->known = known;
}

/*
 * Name the features that drive an outlier's distance: strongest |z| first,
 * until they explain REASON_SHARE of d^2, at most REASON_MAX of them. d2 is
 * the sum of the z_j^2 (unknown features have z_j = 0 and are never named:
 * the known ones explain all of d^2 first).
 */
static void explain(struct whaco_segment_result *out, double d2)
{
    uint8_t order[WHACO_FEATURES];

    for (int j = 0; j < WHACO_FEATURES; j++)
        order[j] = (uint8_t)j;
    /* Insertion sort by z^2, descending; ties keep feature order. */
    for (int i = 1; i < WHACO_FEATURES; i++) {
        uint8_t v = order[i];
        int j = i;
        while (j > 0 && out->z[order[j - 1]] * out->z[order[j - 1]] < out->z[v] * out->z[v]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = v;
    }
    double explained = 0.0;
    unsigned n = 0;
    while (n < REASON_MAX && (n == 0 || explained < REASON_SHARE * d2)) {
        explained += out->z[order[n]] * out->z[order[n]];
        out->reasons[n] = order[n];
        n++;
    }
    out->n_reasons = (uint8_t)n;
}

/* Check c, compute its features into x and the verdict into *out. */
static int analyse(const struct whaco_segmenter *s, const struct whaco_customer *c,
                   double x[WHACO_FEATURES], struct whaco_segment_result *out, const char **field)
{
    int rc = whaco_customer_check(c, field);
    if (rc != WHACO_OK)
        return rc;
    uint32_t known = whaco_features_known(c);
    whaco_features(c, x);
    score(s, x, known, out);
    out->missing = c->missing;
    if (out->is_outlier) {
        /* The distance itself, back from the eight-feature scale (a
         * complete customer's factor is 1: d^2 exactly as before). */
        double d = out->outlier_score * threshold_factor[popcount8(known)];
        explain(out, d * d);
    }
    return WHACO_OK;
}

int whaco_segment_classify(const struct whaco_segmenter *s, const struct whaco_customer *c,
                           struct whaco_segment_result *out, const char **field)
{
    double x[WHACO_FEATURES];
    return analyse(s, c, x, out, field);
}

/* Scale weights to mean 1 (sum WHACO_FEATURES). */
static void normalise_weights(double *w)
{
    double sum = 0.0;
    for (int j = 0; j < WHACO_FEATURES; j++)
        sum += w[j];
    for (int j = 0; j < WHACO_FEATURES; j++)
        w[j] *= WHACO_FEATURES / sum;
}

/*
 * Feature weights after learning x into cluster k.
 *
 * Dispersion rule (default): Huang et al.'s W-k-means sets w_j proportional
 * to 1/D_j (beta = 2), D_j the within-cluster dispersion of feature j. On
 * features standardised by their global variance G_j, D_j = V_j / G_j with
 * V_j = sum_k pi_k s2_kj the pooled within-cluster variance, so the target is
 * w_j ~ G_j / V_j: how much tighter the feature is inside a segment than
 * overall. A feature that separates segments scores well above 1; a
 * pure-noise feature, as spread inside each segment as across them, scores
 * about 1 and loses weight relative to the others. Weights move towards the
 * target at rate beta so one customer cannot swing them.
 *
 * The dispersion rule reads only the model, so a customer's unknown
 * features change nothing in it.
 *
 * Seed rule: W_j += beta |x_j - c_kj|, then normalise: the features a
 * customer is furthest from the centroid on, i.e. the noisiest, gain weight;
 * its unknown features gain nothing.
 */
static void adapt_weights(struct whaco_segmenter *s, const double *x, uint32_t known, int k)
{
    double *w = s->weights;
    if (s->cfg.weight_rule == WHACO_WEIGHTS_FIXED || s->cfg.beta <= 0.0)
        return;
    if (s->cfg.weight_rule == WHACO_WEIGHTS_SEED) {
        for (int j = 0; j < WHACO_FEATURES; j++)
            if (known & (1u << j)) /* an unknown feature is no distance */
                w[j] += WHACO_FEATURES * s->cfg.beta * fabs(x[j] - s->clusters[k].centroid[j]);
        normalise_weights(w);
        return;
    }
    double target[WHACO_FEATURES], sum = 0.0;
    for (int j = 0; j < WHACO_FEATURES; j++) {
        double pooled = 0.0;
        for (int c = 0; c < WHACO_CLUSTERS; c++)
            pooled += s->clusters[c].share * s->clusters[c].variance[j];
        target[j] = WEIGHT_ROOT(s->global_var[j] / pooled);
        sum += target[j];
    }
    for (int j = 0; j < WHACO_FEATURES; j++) {
        double t = WHACO_FEATURES * target[j] / sum;
        w[j] += s->cfg.beta * (t - w[j]);
    }
    normalise_weights(w);
}

/*
 * Move the assigned cluster k = r->cluster_id and the global moments towards
 * x (a normal customer). A complete customer moves them at the configured
 * rates, as it always did.
 *
 * A customer with unknown features moves the known coordinates only: an
 * unknown one says nothing about where the segment's centre or spread is,
 * so it keeps its centroid, variance and global moments. Its size counts
 * the customer, and every rate (alpha, alpha_var, alpha_prior: the known
 * coordinates and the shares) is multiplied by evidence_share(known) x
 * posterior[k]; below LEARN_MIN_EVIDENCE the customer is counted and
 * moves nothing (the weights neither). The reason is measured (docs/quality.md,
 * "Learning from incomplete customers"): hard assignment on a few features
 * is often wrong, and its errors feed on themselves -- they pull the known
 * coordinates towards where the segment already wins and shrink its
 * variances there. With time on the lot and engagement never known and
 * credit and income unknown for half, learning at the full rate let Credit
 * Challenged drift onto the customers without a trade-in (Trade% is 0 for
 * half of them; its variance fell to the floor, which made the cluster more
 * attractive still): ARI 0.20 on 100,000 generated customers, where the
 * model learned from the complete data scores 0.57 on the same masked
 * customers. Scaled, 0.44; scaled and gated, 0.55 (dev data: 0.38, 0.45,
 * 0.47, against 0.48).
 */
static void learn_normal(struct whaco_segmenter *s, const double *x,
                         const struct whaco_segment_result *r)
{
    const int k = r->cluster_id;
    const uint32_t known = r->known;
    struct whaco_cluster *cl = &s->clusters[k];
    double a = s->cfg.alpha, av = s->cfg.alpha_var, ap = s->cfg.alpha_prior;

    if (known != WHACO_FIELDS_ALL) {
        /* An incomplete customer teaches in proportion to what is known of
         * it and to how sure its segment is, and not at all below
         * LEARN_MIN_EVIDENCE (see the comment above). */
        double share = evidence_share(s, known);
        if (share < LEARN_MIN_EVIDENCE) {
            cl->size++; /* counted in its segment, and nothing else */
            return;
        }
        double rate = share * r->posterior[k];
        a *= rate;
        av *= rate;
        ap *= rate;
    }
    for (int j = 0; j < WHACO_FEATURES; j++) {
        if (!(known & (1u << j)))
            continue;
        double d = x[j] - cl->centroid[j];
        cl->centroid[j] += a * d;
        /* Exponentially weighted variance (Finch, 2009), floored. */
        double v = (1.0 - av) * (cl->variance[j] + av * d * d);
        cl->variance[j] = v > var_floor[j] ? v : var_floor[j];

        double g = x[j] - s->global_mean[j];
        s->global_mean[j] += av * g;
        s->global_var[j] = (1.0 - av) * (s->global_var[j] + av * g * g);
    }
    refresh_variance_cache(s, k);

    double total = 0.0;
    for (int c = 0; c < WHACO_CLUSTERS; c++) {
        s->clusters[c].share += ap * ((c == k ? 1.0 : 0.0) - s->clusters[c].share);
        total += s->clusters[c].share;
    }
    for (int c = 0; c < WHACO_CLUSTERS; c++)
        s->clusters[c].share /= total;
    refresh_share_cache(s);
    cl->size++;
    adapt_weights(s, x, known, k);
}

/* Set c's unknown fields to 0, the value they encode and decode as. */
static void clear_unknown(struct whaco_customer *c)
{
    const uint32_t m = c->missing;
    c->credit_score = m & WHACO_FIELD_CREDIT_SCORE ? 0.0 : c->credit_score;
    c->annual_income = m & WHACO_FIELD_ANNUAL_INCOME ? 0.0 : c->annual_income;
    c->vehicle_price = m & WHACO_FIELD_VEHICLE_PRICE ? 0.0 : c->vehicle_price;
    c->down_payment = m & WHACO_FIELD_DOWN_PAYMENT ? 0.0 : c->down_payment;
    c->trade_value = m & WHACO_FIELD_TRADE_VALUE ? 0.0 : c->trade_value;
    c->visit_count = m & WHACO_FIELD_VISIT_COUNT ? 0 : c->visit_count;
    c->time_on_lot = m & WHACO_FIELD_TIME_ON_LOT ? 0.0 : c->time_on_lot;
    c->engagement = m & WHACO_FIELD_ENGAGEMENT ? 0.0 : c->engagement;
}

static void remember_anomaly(struct whaco_segmenter *s, const struct whaco_customer *c,
                             int64_t now_ms, const struct whaco_segment_result *r)
{
    struct whaco_anomaly *a = &s->ring[s->ring_head];
    memset(a, 0, sizeof *a);
    a->timestamp_ms = now_ms;
    a->customer = *c;
    clear_unknown(&a->customer); /* as it will decode, whatever the caller left there */
    a->cluster_id = r->cluster_id;
    a->score = r->outlier_score;
    memcpy(a->reasons, r->reasons, r->n_reasons);
    a->n_reasons = r->n_reasons;
    s->ring_head = (s->ring_head + 1) % WHACO_ANOMALY_RING;
    if (s->ring_count < WHACO_ANOMALY_RING)
        s->ring_count++;
}

int whaco_segment_learn(struct whaco_segmenter *s, const struct whaco_customer *c, int64_t now_ms,
                        struct whaco_segment_result *out, const char **field)
{
    double x[WHACO_FEATURES];
    int rc = analyse(s, c, x, out, field);
    if (rc != WHACO_OK)
        return rc;
    s->processed++;
    if (out->is_outlier) {
        s->outliers++;
        remember_anomaly(s, c, now_ms, out);
    } else {
        learn_normal(s, x, out);
    }
    return WHACO_OK;
}

int whaco_segment_observe(struct whaco_segmenter *s, const struct whaco_customer *c, int64_t now_ms,
                          bool remember, struct whaco_segment_result *out, const char **field)
{
    double x[WHACO_FEATURES];
    int rc = analyse(s, c, x, out, field);
    if (rc == WHACO_OK && out->is_outlier && remember)
        remember_anomaly(s, c, now_ms, out);
    return rc;
}

int whaco_segment_fit(struct whaco_segmenter *s, const struct whaco_customer *c,
                      struct whaco_segment_result *out, const char **field)
{
    double x[WHACO_FEATURES];
    int rc = analyse(s, c, x, out, field);
    if (rc != WHACO_OK)
        return rc;
    s->processed++;
    if (out->is_outlier)
        s->outliers++;
    else
        learn_normal(s, x, out);
    return WHACO_OK;
}

size_t whaco_reason_format(const uint8_t *reasons, unsigned n, char *buf, size_t cap)
{
    static const char sep[] = " | ", tail[] = " significantly different";
    size_t len = 0;

    for (unsigned i = 0; i < n; i++) {
        const char *parts[3] = {i ? sep : "", whaco_feature_name(reasons[i]), tail};
        for (int p = 0; p < 3; p++) {
            size_t m = strlen(parts[p]);
            if (len < cap) {
                size_t room = cap - 1 - len;
                memcpy(buf + len, parts[p], m < room ? m : room);
            }
            len += m;
        }
    }
    if (cap)
        buf[len < cap ? len : cap - 1] = '\0';
    return len;
}

const struct whaco_anomaly *whaco_segment_anomaly(const struct whaco_segmenter *s, unsigned i)
{
    if (i >= s->ring_count)
        return NULL;
    unsigned slot = (s->ring_head + WHACO_ANOMALY_RING - 1 - i) % WHACO_ANOMALY_RING;
    return &s->ring[slot];
}

/*==== Serialisation =======================================================*/

void whaco_customer_encode(const struct whaco_customer *c, struct whaco_buf *b)
{
    const uint32_t m = c->missing;
    whaco_buf_put_str(b, c->id);
    whaco_buf_put_u8(b, (uint8_t)(m & WHACO_FIELDS_ALL));
    if (!(m & WHACO_FIELD_CREDIT_SCORE))
        whaco_buf_put_f64(b, c->credit_score);
    if (!(m & WHACO_FIELD_ANNUAL_INCOME))
        whaco_buf_put_f64(b, c->annual_income);
    if (!(m & WHACO_FIELD_VEHICLE_PRICE))
        whaco_buf_put_f64(b, c->vehicle_price);
    if (!(m & WHACO_FIELD_DOWN_PAYMENT))
        whaco_buf_put_f64(b, c->down_payment);
    if (!(m & WHACO_FIELD_TRADE_VALUE))
        whaco_buf_put_f64(b, c->trade_value);
    if (!(m & WHACO_FIELD_VISIT_COUNT))
        whaco_buf_put_u32(b, (uint32_t)c->visit_count);
    if (!(m & WHACO_FIELD_TIME_ON_LOT))
        whaco_buf_put_f64(b, c->time_on_lot);
    if (!(m & WHACO_FIELD_ENGAGEMENT))
        whaco_buf_put_f64(b, c->engagement);
}

void whaco_customer_decode(struct whaco_customer *c, struct whaco_reader *r, int layout)
{
    memset(c, 0, sizeof *c);
    whaco_reader_str(r, c->id, sizeof c->id);
    if (layout == WHACO_CUSTOMER_PARTIAL)
        c->missing = whaco_reader_u8(r);
    else if (layout != WHACO_CUSTOMER_COMPLETE)
        whaco_reader_fail(r);
    const uint32_t m = c->missing;
    if (!(m & WHACO_FIELD_CREDIT_SCORE))
        c->credit_score = whaco_reader_f64(r);
    if (!(m & WHACO_FIELD_ANNUAL_INCOME))
        c->annual_income = whaco_reader_f64(r);
    if (!(m & WHACO_FIELD_VEHICLE_PRICE))
        c->vehicle_price = whaco_reader_f64(r);
    if (!(m & WHACO_FIELD_DOWN_PAYMENT))
        c->down_payment = whaco_reader_f64(r);
    if (!(m & WHACO_FIELD_TRADE_VALUE))
        c->trade_value = whaco_reader_f64(r);
    if (!(m & WHACO_FIELD_VISIT_COUNT))
        c->visit_count = (int32_t)whaco_reader_u32(r);
    if (!(m & WHACO_FIELD_TIME_ON_LOT))
        c->time_on_lot = whaco_reader_f64(r);
    if (!(m & WHACO_FIELD_ENGAGEMENT))
        c->engagement = whaco_reader_f64(r);
    if (whaco_customer_check(c, NULL) != WHACO_OK)
        whaco_reader_fail(r);
}

/*
 * The SEGM payload's layouts. Layout 1 had no marker: it began with
 * cfg.alpha, a double in (0, 1] whose sign bit is clear. Layout 2 begins
 * with the bits of -2.0 as a u64, a sign bit set that no alpha has, then
 * layout 1's fields; the ring's customers are WHACO_CUSTOMER_PARTIAL where
 * layout 1's were WHACO_CUSTOMER_COMPLETE. Both are read.
 */
#define SEGM_LAYOUT_2_MARK UINT64_C(0xc000000000000000) /* -2.0 as an IEEE-754 double */

void whaco_segmenter_encode(const struct whaco_segmenter *s, struct whaco_buf *b)
{
    const struct whaco_segment_config *cfg = &s->cfg;
    whaco_buf_put_u64(b, SEGM_LAYOUT_2_MARK);
    whaco_buf_put_f64(b, cfg->alpha);
    whaco_buf_put_f64(b, cfg->alpha_var);
    whaco_buf_put_f64(b, cfg->alpha_prior);
    whaco_buf_put_f64(b, cfg->beta);
    whaco_buf_put_f64(b, cfg->outlier_threshold);
    whaco_buf_put_u32(b, (uint32_t)cfg->weight_rule);
    whaco_buf_put_u32(b, WHACO_CLUSTERS);
    whaco_buf_put_u32(b, WHACO_FEATURES);
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        const struct whaco_cluster *cl = &s->clusters[k];
        for (int j = 0; j < WHACO_FEATURES; j++)
            whaco_buf_put_f64(b, cl->centroid[j]);
        for (int j = 0; j < WHACO_FEATURES; j++)
            whaco_buf_put_f64(b, cl->variance[j]);
        whaco_buf_put_f64(b, cl->share);
        whaco_buf_put_u64(b, cl->size);
    }
    for (int j = 0; j < WHACO_FEATURES; j++) {
        whaco_buf_put_f64(b, s->weights[j]);
        whaco_buf_put_f64(b, s->global_mean[j]);
        whaco_buf_put_f64(b, s->global_var[j]);
    }
    whaco_buf_put_u64(b, s->processed);
    whaco_buf_put_u64(b, s->outliers);
    /* The ring, oldest first, so equal histories give equal bytes. */
    whaco_buf_put_u32(b, s->ring_count);
    for (unsigned i = s->ring_count; i-- > 0;) {
        const struct whaco_anomaly *a = whaco_segment_anomaly(s, i);
        whaco_buf_put_i64(b, a->timestamp_ms);
        whaco_customer_encode(&a->customer, b);
        whaco_buf_put_u32(b, (uint32_t)a->cluster_id);
        whaco_buf_put_f64(b, a->score);
        whaco_buf_put_u8(b, a->n_reasons);
        whaco_buf_put(b, a->reasons, a->n_reasons);
    }
}

static int finite_pos(double v)
{
    return isfinite(v) && v > 0.0;
}

/* Check the invariants listed at the top of this file. */
static int state_valid(const struct whaco_segmenter *s)
{
    double share_sum = 0.0, weight_sum = 0.0;
    uint64_t sizes = 0;

    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        const struct whaco_cluster *cl = &s->clusters[k];
        for (int j = 0; j < WHACO_FEATURES; j++)
            if (!isfinite(cl->centroid[j]) || !isfinite(cl->variance[j]) ||
                cl->variance[j] < var_floor[j])
                return 0;
        if (!isfinite(cl->share) || cl->share < 0.0 || cl->share > 1.0)
            return 0;
        share_sum += cl->share;
        if (cl->size > UINT64_MAX - sizes)
            return 0;
        sizes += cl->size;
    }
    for (int j = 0; j < WHACO_FEATURES; j++) {
        if (!finite_pos(s->weights[j]) || !isfinite(s->global_mean[j]) ||
            !finite_pos(s->global_var[j]))
            return 0;
        weight_sum += s->weights[j];
    }
    return fabs(share_sum - 1.0) < 1e-9 && fabs(weight_sum - WHACO_FEATURES) < 1e-9 &&
           s->outliers <= s->processed && sizes == s->processed - s->outliers;
}

int whaco_segmenter_decode(struct whaco_segmenter *s, struct whaco_reader *r)
{
    /* Decode into a scratch copy: *s stays untouched unless all is well. */
    static const struct whaco_segmenter zero;
    struct whaco_segmenter t = zero;
    struct whaco_segment_config *cfg = &t.cfg;

    int customers = WHACO_CUSTOMER_COMPLETE;
    uint64_t first = whaco_reader_u64(r);
    if (first == SEGM_LAYOUT_2_MARK) {
        customers = WHACO_CUSTOMER_PARTIAL;
        cfg->alpha = whaco_reader_f64(r);
    } else { /* layout 1: the first eight bytes were alpha */
        memcpy(&cfg->alpha, &first, sizeof cfg->alpha);
    }
    cfg->alpha_var = whaco_reader_f64(r);
    cfg->alpha_prior = whaco_reader_f64(r);
    cfg->beta = whaco_reader_f64(r);
    cfg->outlier_threshold = whaco_reader_f64(r);
    cfg->weight_rule = (int)whaco_reader_u32(r);
    if (whaco_reader_u32(r) != WHACO_CLUSTERS || whaco_reader_u32(r) != WHACO_FEATURES ||
        whaco_segment_config_check(cfg, NULL) != WHACO_OK)
        whaco_reader_fail(r);
    for (int k = 0; k < WHACO_CLUSTERS && !r->err; k++) {
        struct whaco_cluster *cl = &t.clusters[k];
        for (int j = 0; j < WHACO_FEATURES; j++)
            cl->centroid[j] = whaco_reader_f64(r);
        for (int j = 0; j < WHACO_FEATURES; j++)
            cl->variance[j] = whaco_reader_f64(r);
        cl->share = whaco_reader_f64(r);
        cl->size = whaco_reader_u64(r);
    }
    for (int j = 0; j < WHACO_FEATURES; j++) {
        t.weights[j] = whaco_reader_f64(r);
        t.global_mean[j] = whaco_reader_f64(r);
        t.global_var[j] = whaco_reader_f64(r);
    }
    t.processed = whaco_reader_u64(r);
    t.outliers = whaco_reader_u64(r);
    uint32_t n = whaco_reader_u32(r);
    if (n > WHACO_ANOMALY_RING)
        whaco_reader_fail(r);
    for (uint32_t i = 0; i < n && !r->err; i++) {
        struct whaco_anomaly *a = &t.ring[i];
        a->timestamp_ms = whaco_reader_i64(r);
        whaco_customer_decode(&a->customer, r, customers);
        a->cluster_id = (int32_t)whaco_reader_u32(r);
        a->score = whaco_reader_f64(r);
        a->n_reasons = whaco_reader_u8(r);
        if (a->cluster_id < 0 || a->cluster_id >= WHACO_CLUSTERS || !isfinite(a->score) ||
            a->score < 0.0 || a->n_reasons < 1 || a->n_reasons > WHACO_FEATURES) {
            whaco_reader_fail(r);
            break;
        }
        whaco_reader_get(r, a->reasons, a->n_reasons);
        unsigned seen = 0;
        for (unsigned q = 0; q < a->n_reasons; q++) {
            if (a->reasons[q] >= WHACO_FEATURES || (seen & (1u << a->reasons[q])))
                whaco_reader_fail(r);
            else
                seen |= 1u << a->reasons[q];
        }
    }
    t.ring_count = n;
    t.ring_head = n % WHACO_ANOMALY_RING;
    if (r->err || !state_valid(&t)) {
        whaco_reader_fail(r);
        return WHACO_E_STATE_CORRUPT;
    }
    for (int k = 0; k < WHACO_CLUSTERS; k++)
        refresh_variance_cache(&t, k);
    refresh_share_cache(&t);
    *s = t;
    return WHACO_OK;
}

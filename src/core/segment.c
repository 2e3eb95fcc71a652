/*
 * segment.c: the WHACO segmentation engine (see whaco/segment.h for the model).
 *
 * Invariants of a struct whaco_segmenter, kept by every function that
 * changes one and checked by the decoder:
 *   - centroids, weights and global moments are finite;
 *   - every variance is finite and >= its feature's floor (var_floor[]);
 *   - cluster shares are in [0, 1] and sum to 1 (up to rounding);
 *   - weights are > 0 and sum to WHACO_FEATURES;
 *   - sum of cluster sizes == processed - outliers; ring_count <= outliers;
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

    WHACO_CHECK(id_ok(c->id, sizeof c->id), "customerId", WHACO_E_ID_LENGTH);
    WHACO_CHECK(isfinite(c->credit_score), "creditScore", WHACO_E_NOT_FINITE);
    WHACO_CHECK(c->credit_score >= 300.0 && c->credit_score <= 850.0, "creditScore",
                WHACO_E_CREDIT_SCORE_RANGE);
    WHACO_CHECK(isfinite(c->annual_income), "annualIncome", WHACO_E_NOT_FINITE);
    WHACO_CHECK(c->annual_income >= 0.0, "annualIncome", WHACO_E_NEGATIVE_MONEY);
    WHACO_CHECK(isfinite(c->vehicle_price), "vehiclePrice", WHACO_E_NOT_FINITE);
    WHACO_CHECK(c->vehicle_price > 0.0, "vehiclePrice", WHACO_E_VEHICLE_PRICE);
    WHACO_CHECK(isfinite(c->down_payment), "downPayment", WHACO_E_NOT_FINITE);
    WHACO_CHECK(c->down_payment >= 0.0, "downPayment", WHACO_E_NEGATIVE_MONEY);
    WHACO_CHECK(c->down_payment <= c->vehicle_price, "downPayment", WHACO_E_DOWN_EXCEEDS_PRICE);
    WHACO_CHECK(isfinite(c->trade_value), "tradeValue", WHACO_E_NOT_FINITE);
    WHACO_CHECK(c->trade_value >= 0.0, "tradeValue", WHACO_E_NEGATIVE_MONEY);
    WHACO_CHECK(c->visit_count >= 0, "visitCount", WHACO_E_NEGATIVE_COUNT);
    WHACO_CHECK(isfinite(c->time_on_lot), "timeOnLot", WHACO_E_NOT_FINITE);
    WHACO_CHECK(c->time_on_lot >= 0.0, "timeOnLot", WHACO_E_NEGATIVE_COUNT);
    WHACO_CHECK(isfinite(c->engagement), "engagement", WHACO_E_NOT_FINITE);
    WHACO_CHECK(c->engagement >= 0.0 && c->engagement <= 1.0, "engagement",
                WHACO_E_ENGAGEMENT_RANGE);

    if (rc != WHACO_OK && field)
        *field = f;
    return rc;
}

void whaco_features(const struct whaco_customer *c, double x[WHACO_FEATURES])
{
    x[WHACO_F_FICO] = (c->credit_score - 300.0) / 550.0;
    x[WHACO_F_INCOME] = log1p(c->annual_income / 10000.0) / INCOME_LOG_SCALE;
    x[WHACO_F_PRICE] = c->vehicle_price / 100000.0;
    x[WHACO_F_DOWN_PCT] = c->down_payment / c->vehicle_price;
    x[WHACO_F_TRADE_PCT] = c->trade_value / c->vehicle_price;
    x[WHACO_F_VISITS] = (double)c->visit_count / 10.0;
    x[WHACO_F_TIME] = c->time_on_lot / 240.0;
    x[WHACO_F_ENGAGEMENT] = c->engagement;
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
 * The model's verdict on feature vector x. Fills everything in *out but the
 * outlier reasons.
 */
static void score(const struct whaco_segmenter *s, const double x[WHACO_FEATURES],
                  struct whaco_segment_result *out)
{
    double ll[WHACO_CLUSTERS];
    int best = 0;

    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        const struct whaco_cluster *cl = &s->clusters[k];
        double acc = 0.0;
        for (int j = 0; j < WHACO_FEATURES; j++) {
            double d = x[j] - cl->centroid[j];
            acc += s->weights[j] * (d * d * s->inv_var[k][j] + s->log_var[k][j]);
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
        out->z[j] = (x[j] - cl->centroid[j]) / sqrt(cl->variance[j]);
        d2 += out->z[j] * out->z[j];
    }
    out->cluster_id = best;
    out->confidence = out->posterior[best];
    out->priority = profiles[best].priority;
    out->outlier_score = sqrt(d2);
    out->is_outlier = out->outlier_score > s->cfg.outlier_threshold;
    out->n_reasons = 0;
}

/*
 * Name the features that drive an outlier's distance: strongest |z| first,
 * until they explain REASON_SHARE of d^2, at most REASON_MAX of them.
 */
static void explain(struct whaco_segment_result *out)
{
    uint8_t order[WHACO_FEATURES];
    double d2 = out->outlier_score * out->outlier_score;

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
    whaco_features(c, x);
    score(s, x, out);
    if (out->is_outlier)
        explain(out);
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
 * Seed rule: W_j += beta |x_j - c_kj|, then normalise: the features a
 * customer is furthest from the centroid on, i.e. the noisiest, gain weight.
 */
static void adapt_weights(struct whaco_segmenter *s, const double *x, int k)
{
    double *w = s->weights;
    if (s->cfg.weight_rule == WHACO_WEIGHTS_FIXED || s->cfg.beta <= 0.0)
        return;
    if (s->cfg.weight_rule == WHACO_WEIGHTS_SEED) {
        for (int j = 0; j < WHACO_FEATURES; j++)
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

/* Move cluster k and the global moments towards x (a normal customer). */
static void learn_normal(struct whaco_segmenter *s, const double *x, int k)
{
    struct whaco_cluster *cl = &s->clusters[k];
    double a = s->cfg.alpha, av = s->cfg.alpha_var, ap = s->cfg.alpha_prior;

    for (int j = 0; j < WHACO_FEATURES; j++) {
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
    adapt_weights(s, x, k);
}

static void remember_anomaly(struct whaco_segmenter *s, const struct whaco_customer *c,
                             int64_t now_ms, const struct whaco_segment_result *r)
{
    struct whaco_anomaly *a = &s->ring[s->ring_head];
    memset(a, 0, sizeof *a);
    a->timestamp_ms = now_ms;
    a->customer = *c;
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
        learn_normal(s, x, out->cluster_id);
    }
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
    whaco_buf_put_str(b, c->id);
    whaco_buf_put_f64(b, c->credit_score);
    whaco_buf_put_f64(b, c->annual_income);
    whaco_buf_put_f64(b, c->vehicle_price);
    whaco_buf_put_f64(b, c->down_payment);
    whaco_buf_put_f64(b, c->trade_value);
    whaco_buf_put_u32(b, (uint32_t)c->visit_count);
    whaco_buf_put_f64(b, c->time_on_lot);
    whaco_buf_put_f64(b, c->engagement);
}

void whaco_customer_decode(struct whaco_customer *c, struct whaco_reader *r)
{
    memset(c, 0, sizeof *c);
    whaco_reader_str(r, c->id, sizeof c->id);
    c->credit_score = whaco_reader_f64(r);
    c->annual_income = whaco_reader_f64(r);
    c->vehicle_price = whaco_reader_f64(r);
    c->down_payment = whaco_reader_f64(r);
    c->trade_value = whaco_reader_f64(r);
    c->visit_count = (int32_t)whaco_reader_u32(r);
    c->time_on_lot = whaco_reader_f64(r);
    c->engagement = whaco_reader_f64(r);
    if (whaco_customer_check(c, NULL) != WHACO_OK)
        whaco_reader_fail(r);
}

void whaco_segmenter_encode(const struct whaco_segmenter *s, struct whaco_buf *b)
{
    const struct whaco_segment_config *cfg = &s->cfg;
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
           s->outliers <= s->processed && sizes == s->processed - s->outliers &&
           s->ring_count <= s->outliers;
}

int whaco_segmenter_decode(struct whaco_segmenter *s, struct whaco_reader *r)
{
    /* Decode into a scratch copy: *s stays untouched unless all is well. */
    static const struct whaco_segmenter zero;
    struct whaco_segmenter t = zero;
    struct whaco_segment_config *cfg = &t.cfg;

    cfg->alpha = whaco_reader_f64(r);
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
        whaco_customer_decode(&a->customer, r);
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

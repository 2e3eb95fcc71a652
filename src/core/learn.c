/*
 * learn.c: the close model and the segments' observed rates of
 * whaco/learn.h.
 *
 * Invariants: cov is symmetric with a diagonal in (0, 1] (the prior's
 * variance 1 only shrinks); every mean and covariance is finite; seg_sold[k] <= seg_outcomes[k] and
 * their sums are `outcomes`. whaco_learn_decode refuses a state that breaks one.
 */
#include <math.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/learn.h"
#include "core/internal.h"
#include "banned.h"

#define LEARN_LAYOUT_VERSION 1u
#define PRIOR_VARIANCE       1.0   /* every weight ~ N(mean, 1) before any outcome */
#define MIN_VARIANCE         1e-12 /* a variance the update keeps above (rounding) */
#define X_LO                 -1.0  /* features are clipped to [X_LO, X_HI] as inputs: */
#define X_HI                 2.0   /* extreme values are the outlier flag's job */

/* Input positions in z. */
enum {
    Z_BIAS = 0,
    Z_X = 1,
    Z_MISSING = Z_X + WHACO_FEATURES,
    Z_SEGMENT = Z_MISSING + WHACO_FEATURES,
    Z_OUTLIER = Z_SEGMENT + WHACO_CLUSTERS
};
_Static_assert(Z_OUTLIER + 1 == WHACO_LEARN_INPUTS, "the inputs fill z");

static double sigmoid(double s)
{
    return s >= 0.0 ? 1.0 / (1.0 + exp(-s)) : exp(s) / (1.0 + exp(s));
}

void whaco_learn_init(struct whaco_learn *l)
{
    memset(l, 0, sizeof *l);
    l->mean[Z_BIAS] = log(WHACO_LEARN_PRIOR_RATE / (1.0 - WHACO_LEARN_PRIOR_RATE));
    for (int i = 0; i < WHACO_LEARN_INPUTS; i++)
        l->cov[i][i] = PRIOR_VARIANCE;
}

void whaco_walkin_profile(struct whaco_walkin_profile *pr, const struct whaco_customer *c,
                          const struct whaco_segment_result *r)
{
    memset(pr, 0, sizeof *pr);
    whaco_features(c, pr->x);
    pr->known = (uint8_t)whaco_features_known(c);
    for (int j = 0; j < WHACO_FEATURES; j++)
        if (!(pr->known & (1u << j)))
            pr->x[j] = 0.0; /* as saved: an unknown value is 0 */
    pr->cluster = (int8_t)r->cluster_id;
    pr->outlier = r->is_outlier;
}

/* The model's inputs z for profile pr. */
static void inputs(const struct whaco_walkin_profile *pr, double z[WHACO_LEARN_INPUTS])
{
    memset(z, 0, WHACO_LEARN_INPUTS * sizeof z[0]);
    z[Z_BIAS] = 1.0;
    for (int j = 0; j < WHACO_FEATURES; j++) {
        if (pr->known & (1u << j)) {
            double x = pr->x[j];
            z[Z_X + j] = !(x >= X_LO) ? X_LO : (x > X_HI ? X_HI : x); /* NaN: X_LO */
        } else {
            z[Z_MISSING + j] = 1.0;
        }
    }
    if (pr->cluster >= 0 && pr->cluster < WHACO_CLUSTERS)
        z[Z_SEGMENT + pr->cluster] = 1.0;
    z[Z_OUTLIER] = pr->outlier ? 1.0 : 0.0;
}

/* The score m.z of the posterior mean (summed in input order). */
static double score(const struct whaco_learn *l, const double z[WHACO_LEARN_INPUTS])
{
    double s = 0.0;
    for (int i = 0; i < WHACO_LEARN_INPUTS; i++)
        s += l->mean[i] * z[i];
    return s;
}

double whaco_learn_predict(const struct whaco_learn *l, const struct whaco_walkin_profile *pr)
{
    double z[WHACO_LEARN_INPUTS];
    inputs(pr, z);
    return sigmoid(score(l, z));
}

/*
 * The filter's step (see whaco/learn.h). The covariance update keeps the
 * matrix symmetric by computing each pair once; a rank-one downdate that
 * rounding would take a variance to zero or below is skipped (it cannot
 * happen in exact arithmetic: the new variance is at least the old over
 * 1 + h z'cov z).
 */
void whaco_learn_outcome(struct whaco_learn *l, const struct whaco_walkin_profile *pr, bool sold)
{
    enum { D = WHACO_LEARN_INPUTS };
    double z[D], cz[D];
    inputs(pr, z);
    double p = sigmoid(score(l, z)), h = p * (1.0 - p), y = sold ? 1.0 : 0.0, zcz = 0.0;
    for (int i = 0; i < D; i++) {
        cz[i] = 0.0;
        for (int j = 0; j < D; j++)
            cz[i] += l->cov[i][j] * z[j];
        zcz += z[i] * cz[i];
    }
    double g = h / (1.0 + h * zcz);
    bool keeps_positive = zcz >= 0.0;
    for (int i = 0; i < D && keeps_positive; i++)
        keeps_positive = l->cov[i][i] - g * cz[i] * cz[i] >= MIN_VARIANCE;
    if (keeps_positive) {
        for (int i = 0; i < D; i++)
            for (int j = i; j < D; j++)
                l->cov[i][j] = l->cov[j][i] = l->cov[i][j] - g * cz[i] * cz[j];
        for (int i = 0; i < D; i++)
            cz[i] *= 1.0 - g * zcz; /* cov_new z = cov z (1 - g z'cov z) */
    }
    for (int i = 0; i < D; i++)
        l->mean[i] += (y - p) * cz[i];
    l->outcomes++;
    if (pr->cluster >= 0 && pr->cluster < WHACO_CLUSTERS) {
        l->seg_outcomes[pr->cluster]++;
        l->seg_sold[pr->cluster] += sold ? 1u : 0u;
    }
}

bool whaco_learn_segment_rate(const struct whaco_learn *l, int k, double *rate, uint64_t *n)
{
    *rate = 0.0;
    *n = 0;
    if (k < 0 || k >= WHACO_CLUSTERS || l->seg_outcomes[k] == 0)
        return false;
    *n = l->seg_outcomes[k];
    *rate = (double)l->seg_sold[k] / (double)l->seg_outcomes[k];
    return true;
}

/*==== Observed skill ======================================================*/

#define SHRINK_MIN     5.0
#define SHRINK_MAX     200.0
#define SHRINK_DEFAULT 20.0

/*
 * The prior of segment k's close rates in team t: its mean *p (the team's
 * rate, shrunk toward the industry's as if 20 more outcomes were at it)
 * and its strength *a (method of moments, see whaco/learn.h).
 */
static void team_prior(const struct whaco_team *t, int k, double *p, double *a)
{
    double sold = 0.0, total = 0.0, sq = 0.0;
    size_t with = 0;
    for (size_t j = 0; j < t->n; j++) {
        const struct whaco_member *m = &t->members[j];
        sold += m->seg_sold[k];
        total += m->seg_outcomes[k];
        sq += (double)m->seg_outcomes[k] * (double)m->seg_outcomes[k];
        with += m->seg_outcomes[k] > 0;
    }
    *p = (sold + SHRINK_DEFAULT * WHACO_LEARN_PRIOR_RATE) / (total + SHRINK_DEFAULT);
    *a = SHRINK_DEFAULT;
    if (with < 2)
        return;
    /* Method of moments: the members' rates spread by chance alone with
     * variance p(1-p)/n_j; what is left is the true spread tau^2. */
    double ss = 0.0;
    for (size_t j = 0; j < t->n; j++) {
        const struct whaco_member *m = &t->members[j];
        if (m->seg_outcomes[k] == 0)
            continue;
        double d = (double)m->seg_sold[k] / (double)m->seg_outcomes[k] - *p;
        ss += (double)m->seg_outcomes[k] * d * d;
    }
    double tau2 = (ss - *p * (1.0 - *p) * (double)(with - 1)) / (total - sq / total);
    double est = tau2 > 0.0 ? *p * (1.0 - *p) / tau2 - 1.0 : SHRINK_MAX;
    *a = est < SHRINK_MIN ? SHRINK_MIN : (est > SHRINK_MAX ? SHRINK_MAX : est);
}

/* Member m's close rate with segment k, shrunk toward the prior (p, a) of team_prior. */
static double shrunk_rate(const struct whaco_member *m, int k, double p, double a)
{
    return ((double)m->seg_sold[k] + a * p) / ((double)m->seg_outcomes[k] + a);
}

bool whaco_observed_skill(const struct whaco_team *t, size_t i, int k, double *rate, uint32_t *n)
{
    *n = 0;
    *rate = WHACO_LEARN_PRIOR_RATE;
    if (k < 0 || k >= WHACO_CLUSTERS || i >= t->n)
        return false;
    double p, a;
    team_prior(t, k, &p, &a);
    const struct whaco_member *m = &t->members[i];
    *n = m->seg_outcomes[k];
    *rate = shrunk_rate(m, k, p, a);
    return m->seg_outcomes[k] > 0;
}

double whaco_skill_match(const struct whaco_team *t, size_t i, int k, double p)
{
    const struct whaco_member *m = &t->members[i];
    double seed = 1.0 - fabs(m->skill - p);
    if (k < 0 || k >= WHACO_CLUSTERS || m->seg_outcomes[k] == 0)
        return seed;
    double team, a, n = (double)m->seg_outcomes[k];
    team_prior(t, k, &team, &a);
    double rate = shrunk_rate(m, k, team, a);
    double lift = rate / team - 0.5; /* the team's rate: 0.5; 1.5 times it: 1 */
    lift = lift < 0.0 ? 0.0 : (lift > 1.0 ? 1.0 : lift);
    double w = n / (n + WHACO_LEARN_EVIDENCE_HALF);
    return (1.0 - w) * seed + w * lift;
}

/*==== Saved state =========================================================*/

/*
 * Layout: u32 version (1), u32 inputs (WHACO_LEARN_INPUTS), then the means
 * and the covariance's upper triangle row by row (f64 each), u64 outcomes, and per segment u64
 * outcomes and u64 sales.
 */
void whaco_learn_encode(const struct whaco_learn *l, struct whaco_buf *b)
{
    whaco_buf_put_u32(b, LEARN_LAYOUT_VERSION);
    whaco_buf_put_u32(b, WHACO_LEARN_INPUTS);
    for (int i = 0; i < WHACO_LEARN_INPUTS; i++)
        whaco_buf_put_f64(b, l->mean[i]);
    for (int i = 0; i < WHACO_LEARN_INPUTS; i++)
        for (int j = i; j < WHACO_LEARN_INPUTS; j++)
            whaco_buf_put_f64(b, l->cov[i][j]);
    whaco_buf_put_u64(b, l->outcomes);
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        whaco_buf_put_u64(b, l->seg_outcomes[k]);
        whaco_buf_put_u64(b, l->seg_sold[k]);
    }
}

void whaco_learn_decode(struct whaco_learn *l, struct whaco_reader *r)
{
    memset(l, 0, sizeof *l);
    uint32_t version = whaco_reader_u32(r), n = whaco_reader_u32(r);
    if (version != LEARN_LAYOUT_VERSION || n != WHACO_LEARN_INPUTS) {
        whaco_reader_fail(r);
        return;
    }
    bool ok = true;
    for (int i = 0; i < WHACO_LEARN_INPUTS; i++) {
        l->mean[i] = whaco_reader_f64(r);
        ok = ok && isfinite(l->mean[i]);
    }
    for (int i = 0; i < WHACO_LEARN_INPUTS; i++)
        for (int j = i; j < WHACO_LEARN_INPUTS; j++) {
            double c = whaco_reader_f64(r);
            l->cov[i][j] = l->cov[j][i] = c;
            ok = ok && isfinite(c) && (j > i || (c > 0.0 && c <= PRIOR_VARIANCE));
        }
    l->outcomes = whaco_reader_u64(r);
    uint64_t sum = 0;
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        l->seg_outcomes[k] = whaco_reader_u64(r);
        l->seg_sold[k] = whaco_reader_u64(r);
        ok = ok && l->seg_sold[k] <= l->seg_outcomes[k];
        sum += l->seg_outcomes[k];
    }
    if (!ok || sum > l->outcomes)
        whaco_reader_fail(r);
}

void whaco_walkin_profile_encode(const struct whaco_walkin_profile *pr, struct whaco_buf *b)
{
    for (int j = 0; j < WHACO_FEATURES; j++)
        whaco_buf_put_f64(b, pr->known & (1u << j) ? pr->x[j] : 0.0);
    whaco_buf_put_u8(b, pr->known);
    whaco_buf_put_u8(b, (uint8_t)pr->cluster);
    whaco_buf_put_u8(b, pr->outlier ? 1u : 0u);
}

void whaco_walkin_profile_decode(struct whaco_walkin_profile *pr, struct whaco_reader *r)
{
    memset(pr, 0, sizeof *pr);
    bool ok = true;
    for (int j = 0; j < WHACO_FEATURES; j++) {
        pr->x[j] = whaco_reader_f64(r);
        ok = ok && isfinite(pr->x[j]);
    }
    pr->known = whaco_reader_u8(r);
    uint8_t cluster = whaco_reader_u8(r), outlier = whaco_reader_u8(r);
    pr->cluster = (int8_t)cluster;
    pr->outlier = outlier != 0;
    if (!ok || cluster >= WHACO_CLUSTERS || outlier > 1)
        whaco_reader_fail(r);
}

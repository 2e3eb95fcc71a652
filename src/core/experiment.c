/*
 * experiment.c: the A/B test of assignment rules of whaco/experiment.h --
 * the setting, the split, the counts per arm, the report with its intervals
 * and verdict, and the saved section.
 *
 * Invariants (checked again by whaco_experiment_decode): off is all zero;
 * on, the rules are two different floor rules, draws is the sum of the
 * arms' walk-ins, and in each arm deals <= ended <= walkins, the bins hold
 * exactly the ended walk-ins, and the largest wait lies in the highest
 * non-empty bin. Sums are taken in event order, so a replay gives the same
 * bits.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/experiment.h"
#include "core/internal.h"
#include "banned.h"

#define MS_PER_MIN                60000
#define Z_975                     1.959963984540054 /* the standard normal's 97.5th percentile */
#define EXPERIMENT_LAYOUT_VERSION 1u

static const char rules_allowed[] =
    "expected off, or two different rules A,B from network, up-rotation, round-robin, "
    "least-busy, optionally followed by ,SEED (1 to 9007199254740991), e.g. up-rotation,network";

/*==== Settings ============================================================*/

int whaco_experiment_config_check(const struct whaco_experiment_config *c, const char **field)
{
    bool ok;
    if (c->enabled)
        ok = whaco_floor_rule_name(c->rule[0]) && whaco_floor_rule_name(c->rule[1]) &&
             c->rule[0] != c->rule[1] && c->seed <= WHACO_EXP_SEED_MAX;
    else
        ok = c->rule[0] == 0 && c->rule[1] == 0 && c->seed == 0;
    if (!ok && field)
        *field = "experiment";
    return ok ? WHACO_OK : WHACO_E_CONFIG;
}

/* text[0..n) as a rule: its value, or -1. */
static int rule_n(const char *text, size_t n)
{
    char name[32];
    if (n == 0 || n >= sizeof name)
        return -1;
    memcpy(name, text, n);
    name[n] = '\0';
    return whaco_floor_rule_parse(name);
}

/* text as a seed, 1..WHACO_EXP_SEED_MAX in decimal digits only; 0 if it is not one. */
static uint64_t seed_of(const char *text)
{
    uint64_t v = 0;
    if (!*text)
        return 0;
    for (const char *p = text; *p; p++) {
        if (*p < '0' || *p > '9')
            return 0;
        uint64_t digit = (uint64_t)(*p - '0');
        if (v > (WHACO_EXP_SEED_MAX - digit) / 10)
            return 0;
        v = v * 10 + digit;
    }
    return v;
}

int whaco_experiment_parse(const char *text, struct whaco_experiment_config *c, char *why,
                           size_t whylen)
{
    struct whaco_experiment_config out;
    memset(&out, 0, sizeof out);
    if (strcmp(text, "off") == 0) {
        *c = out;
        return WHACO_OK;
    }
    const char *comma = strchr(text, ',');
    const char *second = comma ? comma + 1 : NULL;
    const char *third = second ? strchr(second, ',') : NULL;
    int a = comma ? rule_n(text, (size_t)(comma - text)) : -1;
    int b = second ? rule_n(second, third ? (size_t)(third - second) : strlen(second)) : -1;
    out.enabled = true;
    out.seed = third ? seed_of(third + 1) : 0;
    if (a < 0 || b < 0 || (third && out.seed == 0)) {
        snprintf(why, whylen, "%s", rules_allowed);
        return WHACO_E_CONFIG;
    }
    if (a == b) {
        snprintf(why, whylen, "the rules A and B must differ (%s twice), e.g. up-rotation,network",
                 whaco_floor_rule_name(a));
        return WHACO_E_CONFIG;
    }
    out.rule[0] = (uint8_t)a;
    out.rule[1] = (uint8_t)b;
    *c = out;
    return WHACO_OK;
}

void whaco_experiment_format(const struct whaco_experiment_config *c, char *buf, size_t cap)
{
    const char *a = whaco_floor_rule_name(c->rule[0]), *b = whaco_floor_rule_name(c->rule[1]);
    if (!c->enabled || !a || !b)
        snprintf(buf, cap, "off");
    else if (c->seed)
        snprintf(buf, cap, "%s,%s,%llu", a, b, (unsigned long long)c->seed);
    else
        snprintf(buf, cap, "%s,%s", a, b);
}

const char *whaco_experiment_arm_name(int arm)
{
    return arm == 0 ? "A" : arm == 1 ? "B" : NULL;
}

/*==== The split and the counts ============================================*/

int whaco_experiment_arm_of(uint64_t seed, uint64_t n)
{
    /* splitmix64 (Steele, Lea, Flood 2014): output n + 1 of the stream seeded with seed. */
    uint64_t z = seed + (n + 1) * 0x9e3779b97f4a7c15ull;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    z ^= z >> 31;
    return (int)(z >> 63);
}

void whaco_experiment_init(struct whaco_experiment *x)
{
    memset(x, 0, sizeof *x);
}

void whaco_experiment_start(struct whaco_experiment *x, const struct whaco_experiment_config *c,
                            int64_t now_ms)
{
    struct whaco_experiment_config keep = *c; /* c may be x's own */
    whaco_experiment_init(x);
    if (!keep.enabled)
        return;
    x->cfg = keep;
    x->since_ms = now_ms;
}

uint8_t whaco_experiment_draw(struct whaco_experiment *x)
{
    if (!x->cfg.enabled)
        return 0;
    int arm = whaco_experiment_arm_of(x->cfg.seed, x->draws++);
    x->arm[arm].walkins++;
    return (uint8_t)(arm + 1);
}

/* The bin of a wait of ms milliseconds: 0 for none, k for (k-1, k] minutes, the last above. */
static size_t bin_of(int64_t ms)
{
    if (ms <= 0)
        return 0;
    int64_t k = (ms + MS_PER_MIN - 1) / MS_PER_MIN;
    return k > WHACO_EXP_WAIT_MINUTES ? WHACO_EXP_BINS - 1 : (size_t)k;
}

void whaco_experiment_observe(struct whaco_experiment *x, int arm, bool sold, int64_t waited_ms)
{
    if (!x->cfg.enabled || arm < 1 || arm > WHACO_EXP_ARMS)
        return;
    struct whaco_experiment_arm *a = &x->arm[arm - 1];
    if (waited_ms < 0)
        waited_ms = 0;
    double min = (double)waited_ms / MS_PER_MIN;
    a->ended++;
    a->deals += sold ? 1u : 0u;
    a->wait_sum += min;
    a->wait_sumsq += min * min;
    if (min > a->wait_max)
        a->wait_max = min;
    a->bins[bin_of(waited_ms)]++;
}

/*==== The report ==========================================================*/

/* The nearest-rank 95th percentile from the bins: the upper edge of its bin, at most the max. */
static double p95_of(const struct whaco_experiment_arm *a)
{
    uint64_t rank = (uint64_t)ceil(0.95 * (double)a->ended), seen = 0;
    if (rank == 0)
        rank = 1;
    for (size_t k = 0; k < WHACO_EXP_BINS; k++) {
        seen += a->bins[k];
        if (seen < rank)
            continue;
        if (k == 0)
            return 0.0;
        return k < WHACO_EXP_BINS - 1 && (double)k < a->wait_max ? (double)k : a->wait_max;
    }
    return a->wait_max; /* not reached: the bins hold every ended walk-in */
}

static void arm_report(const struct whaco_experiment_arm *a, struct whaco_exp_arm_report *r)
{
    memset(r, 0, sizeof *r);
    r->walkins = a->walkins;
    r->ended = a->ended;
    r->deals = a->deals;
    if (a->ended == 0)
        return;
    r->has_rate = r->has_wait = true;
    r->close_rate = (double)a->deals / (double)a->ended;
    r->wait_mean_min = a->wait_sum / (double)a->ended;
    r->wait_p95_min = p95_of(a);
}

/* Wilson's 95% score interval of a proportion x / n (n > 0). */
static void wilson(uint64_t x, uint64_t n, double *lo, double *hi)
{
    double nn = (double)n, p = (double)x / nn, z2 = Z_975 * Z_975;
    double centre = (p + z2 / (2.0 * nn)) / (1.0 + z2 / nn);
    double half = Z_975 / (1.0 + z2 / nn) * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn));
    *lo = centre - half < 0.0 ? 0.0 : centre - half;
    *hi = centre + half > 1.0 ? 1.0 : centre + half;
}

/*
 * B - A of the close rates, in points, with Newcombe's hybrid score
 * interval (Newcombe 1998, method 10): it keeps its coverage with small
 * arms and rates near 0 or 1, where the Wald interval does not.
 */
static void close_difference(const struct whaco_experiment *x, struct whaco_exp_interval *d)
{
    const struct whaco_experiment_arm *a = &x->arm[0], *b = &x->arm[1];
    memset(d, 0, sizeof *d);
    if (a->ended == 0 || b->ended == 0)
        return;
    double pa = (double)a->deals / (double)a->ended, pb = (double)b->deals / (double)b->ended;
    double la, ua, lb, ub;
    wilson(a->deals, a->ended, &la, &ua);
    wilson(b->deals, b->ended, &lb, &ub);
    double est = pb - pa;
    d->known = true;
    d->estimate = 100.0 * est;
    d->low = 100.0 * (est - sqrt((pb - lb) * (pb - lb) + (ua - pa) * (ua - pa)));
    d->high = 100.0 * (est + sqrt((ub - pb) * (ub - pb) + (pa - la) * (pa - la)));
}

/*
 * The two-sided 95% Student t quantile for df degrees of freedom (df may
 * be fractional: Welch's): the table's values, interpolated in 1/df, which
 * is nearly linear; beyond 30 towards the normal's 1.96.
 */
static double t975(double df)
{
    static const double t[31] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                 2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                 2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                 2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    if (!(df > 1.0))
        return t[1];
    if (df >= 30.0)
        return Z_975 + (t[30] - Z_975) * 30.0 / df;
    int k = (int)df;
    double w = (1.0 / k - 1.0 / df) / (1.0 / k - 1.0 / (k + 1)); /* 0 at k, 1 at k + 1 */
    return t[k] + w * (t[k + 1] - t[k]);
}

/* An arm's wait variance (minutes squared, n >= 2), from its sums; never negative. */
static double wait_var(const struct whaco_experiment_arm *a)
{
    double n = (double)a->ended, mean = a->wait_sum / n;
    double v = (a->wait_sumsq - n * mean * mean) / (n - 1.0);
    return v > 0.0 ? v : 0.0;
}

void whaco_experiment_welch(double n_a, double mean_a, double var_a, double n_b, double mean_b,
                            double var_b, struct whaco_exp_interval *d)
{
    memset(d, 0, sizeof *d);
    if (!(n_a >= 2.0 && n_b >= 2.0))
        return;
    double sa = var_a / n_a, sb = var_b / n_b, se = sqrt(sa + sb);
    d->known = true;
    d->estimate = mean_b - mean_a;
    d->low = d->high = d->estimate;
    if (!(se > 0.0))
        return; /* every value equal in both groups: the difference is exact */
    double df = (sa + sb) * (sa + sb) / (sa * sa / (n_a - 1.0) + sb * sb / (n_b - 1.0));
    double half = t975(df) * se;
    d->low = d->estimate - half;
    d->high = d->estimate + half;
}

/* B - A of the mean waits, minutes, with Welch's interval (unequal variances). */
static void wait_difference(const struct whaco_experiment *x, struct whaco_exp_interval *d)
{
    const struct whaco_experiment_arm *a = &x->arm[0], *b = &x->arm[1];
    memset(d, 0, sizeof *d);
    if (a->ended < 2 || b->ended < 2)
        return;
    double na = (double)a->ended, nb = (double)b->ended;
    whaco_experiment_welch(na, a->wait_sum / na, wait_var(a), nb, b->wait_sum / nb, wait_var(b), d);
}

/* The verdict on the close rates and its words (whaco/experiment.h). */
static void verdict(const struct whaco_experiment *x, struct whaco_exp_report *r)
{
    const struct whaco_exp_interval *d = &r->close_points;
    if (x->arm[0].ended < WHACO_EXP_MIN_ENDED || x->arm[1].ended < WHACO_EXP_MIN_ENDED ||
        !d->known) {
        r->verdict = WHACO_EXP_NOT_ENOUGH;
        snprintf(r->verdict_text, sizeof r->verdict_text, "not enough data yet");
    } else if (d->low <= 0.0 && d->high >= 0.0) {
        r->verdict = WHACO_EXP_NO_DIFFERENCE;
        snprintf(r->verdict_text, sizeof r->verdict_text, "no difference detected");
    } else if (d->low > 0.0) {
        r->verdict = WHACO_EXP_B_MORE;
        snprintf(r->verdict_text, sizeof r->verdict_text, "B closes more: %+.1f [%+.1f, %+.1f]",
                 d->estimate, d->low, d->high);
    } else {
        r->verdict = WHACO_EXP_A_MORE; /* A's lead: the difference A - B */
        snprintf(r->verdict_text, sizeof r->verdict_text, "A closes more: %+.1f [%+.1f, %+.1f]",
                 -d->estimate, -d->high, -d->low);
    }
}

void whaco_experiment_report(const struct whaco_experiment *x, struct whaco_exp_report *r)
{
    memset(r, 0, sizeof *r);
    for (int k = 0; k < WHACO_EXP_ARMS; k++)
        arm_report(&x->arm[k], &r->arm[k]);
    close_difference(x, &r->close_points);
    wait_difference(x, &r->wait_min);
    verdict(x, r);
}

double whaco_experiment_walkins_needed(double p_a, double delta)
{
    double p_b = p_a + delta;
    if (!(p_a >= 0.0 && p_a <= 1.0) || !(delta > 0.0) || !(p_b < 1.0))
        return HUGE_VAL;
    return WHACO_EXP_POWER_Z * WHACO_EXP_POWER_Z * (p_a * (1.0 - p_a) + p_b * (1.0 - p_b)) /
           (delta * delta);
}

/*==== Saved state =========================================================*/

/*
 * Layout (little-endian, whaco/serial.h): u32 layout version (1); u8
 * enabled, u8 rule A, u8 rule B, u64 seed; i64 since; u64 draws; then per
 * arm: u64 walkins, u64 ended, u64 deals, f64 wait_sum, f64 wait_sumsq, f64
 * wait_max, u32 bins (WHACO_EXP_BINS) and each bin as a u32.
 */
void whaco_experiment_encode(const struct whaco_experiment *x, struct whaco_buf *b)
{
    whaco_buf_put_u32(b, EXPERIMENT_LAYOUT_VERSION);
    whaco_buf_put_u8(b, x->cfg.enabled ? 1u : 0u);
    whaco_buf_put_u8(b, x->cfg.rule[0]);
    whaco_buf_put_u8(b, x->cfg.rule[1]);
    whaco_buf_put_u64(b, x->cfg.seed);
    whaco_buf_put_i64(b, x->since_ms);
    whaco_buf_put_u64(b, x->draws);
    for (int k = 0; k < WHACO_EXP_ARMS; k++) {
        const struct whaco_experiment_arm *a = &x->arm[k];
        whaco_buf_put_u64(b, a->walkins);
        whaco_buf_put_u64(b, a->ended);
        whaco_buf_put_u64(b, a->deals);
        whaco_buf_put_f64(b, a->wait_sum);
        whaco_buf_put_f64(b, a->wait_sumsq);
        whaco_buf_put_f64(b, a->wait_max);
        whaco_buf_put_u32(b, WHACO_EXP_BINS);
        for (size_t i = 0; i < WHACO_EXP_BINS; i++)
            whaco_buf_put_u32(b, a->bins[i]);
    }
}

/* Whether arm a's counts hold together (the invariants at the top of this file). */
static bool arm_consistent(const struct whaco_experiment_arm *a)
{
    uint64_t in_bins = 0;
    size_t top = 0;
    for (size_t i = 0; i < WHACO_EXP_BINS; i++) {
        in_bins += a->bins[i];
        if (a->bins[i])
            top = i;
    }
    bool sums = isfinite(a->wait_sum) && isfinite(a->wait_sumsq) && isfinite(a->wait_max) &&
                a->wait_sum >= 0.0 && a->wait_sumsq >= 0.0 && a->wait_max >= 0.0 &&
                a->wait_sum <= (double)a->ended * a->wait_max * (1.0 + 1e-6); /* + rounding */
    bool max_in_top = top == 0 ? !(a->wait_max > 0.0)
                      : top < WHACO_EXP_BINS - 1
                          ? a->wait_max > (double)(top - 1) && a->wait_max <= (double)top
                          : a->wait_max > WHACO_EXP_WAIT_MINUTES;
    return a->deals <= a->ended && a->ended <= a->walkins && in_bins == a->ended && sums &&
           max_in_top && (a->ended > 0 || !(a->wait_sumsq > 0.0));
}

void whaco_experiment_decode(struct whaco_experiment *x, struct whaco_reader *r)
{
    whaco_experiment_init(x);
    uint32_t version = whaco_reader_u32(r);
    uint8_t enabled = whaco_reader_u8(r);
    x->cfg.enabled = enabled != 0;
    x->cfg.rule[0] = whaco_reader_u8(r);
    x->cfg.rule[1] = whaco_reader_u8(r);
    x->cfg.seed = whaco_reader_u64(r);
    x->since_ms = whaco_reader_i64(r);
    x->draws = whaco_reader_u64(r);
    bool ok = version == EXPERIMENT_LAYOUT_VERSION && enabled <= 1 &&
              whaco_experiment_config_check(&x->cfg, NULL) == WHACO_OK;
    uint64_t walkins = 0;
    for (int k = 0; k < WHACO_EXP_ARMS && ok; k++) {
        struct whaco_experiment_arm *a = &x->arm[k];
        a->walkins = whaco_reader_u64(r);
        a->ended = whaco_reader_u64(r);
        a->deals = whaco_reader_u64(r);
        a->wait_sum = whaco_reader_f64(r);
        a->wait_sumsq = whaco_reader_f64(r);
        a->wait_max = whaco_reader_f64(r);
        ok = whaco_reader_u32(r) == WHACO_EXP_BINS;
        for (size_t i = 0; i < WHACO_EXP_BINS && ok; i++)
            a->bins[i] = whaco_reader_u32(r);
        ok = ok && r->err == WHACO_OK && arm_consistent(a);
        walkins += a->walkins;
    }
    /* Off is all zero: no walk-in was split, nothing started. */
    if (ok && !x->cfg.enabled)
        ok = x->since_ms == 0 && x->draws == 0 && walkins == 0;
    if (!ok || walkins != x->draws)
        whaco_reader_fail(r);
}

bool whaco_experiment_fits_floor(const struct whaco_experiment *x, const struct whaco_floor *f)
{
    uint64_t open[WHACO_EXP_ARMS] = {0, 0};
    for (uint32_t k = 0; k < f->n_open; k++) {
        const struct whaco_visit *v = &f->open[k];
        if (v->arm == 0)
            continue;
        if (!x->cfg.enabled || v->arm > WHACO_EXP_ARMS || v->arm_rule != x->cfg.rule[v->arm - 1])
            return false;
        open[v->arm - 1]++;
    }
    for (int k = 0; k < WHACO_EXP_ARMS; k++)
        if (open[k] > x->arm[k].walkins - x->arm[k].ended)
            return false;
    return true;
}

/*
 * gen.c: the synthetic customer generator of whaco/gen.h. Each segment is a
 * product of simple distributions (normal, log-normal, binomial) with the
 * parameters in the table below; docs/generator.md explains the choices.
 * Values are clipped to what a real form would hold (FICO 300..850, engagement
 * 0..1), and money is rounded to tens of dollars as dealers record it.
 */
#include <math.h>
#include <string.h>

#include "whaco/gen.h"
#include "banned.h"

struct segment_shape {
    double fico_mean, fico_sd;
    double income_median, income_sigma; /* log-normal */
    double price_median, price_sigma;   /* log-normal */
    double down_mean, down_sd;          /* fraction of price */
    double trade_prob;                  /* has a trade-in */
    double visits_base, visits_p;       /* base + Binomial(4, p) */
    double time_mean, time_sd;          /* minutes */
    double engage_mean, engage_sd;
};

static const struct segment_shape shapes[WHACO_CLUSTERS] = {
    /* Prime Buyers */
    {760, 35, 120000, 0.45, 43000, 0.30, 0.13, 0.050, 0.60, 1, 0.25, 95, 40, 0.65, 0.14},
    /* Motivated Shoppers */
    {690, 40, 78000, 0.40, 34000, 0.30, 0.10, 0.045, 0.55, 2, 0.50, 160, 40, 0.80, 0.11},
    /* Tire Kickers */
    {690, 70, 60000, 0.55, 33000, 0.30, 0.065, 0.035, 0.35, 1, 0.08, 28, 12, 0.20, 0.12},
    /* Credit Challenged */
    {570, 35, 47000, 0.40, 24000, 0.30, 0.085, 0.040, 0.35, 1, 0.25, 90, 45, 0.50, 0.16},
    /* Cash Strong Buyers */
    {690, 45, 95000, 0.40, 33000, 0.30, 0.43, 0.070, 0.60, 1, 0.25, 80, 40, 0.55, 0.15},
};

static double clip(double v, double lo, double hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

static double normal(struct whaco_rng *rng, double mean, double sd)
{
    return mean + sd * whaco_rng_normal(rng);
}

static double lognormal(struct whaco_rng *rng, double median, double sigma)
{
    return median * exp(sigma * whaco_rng_normal(rng));
}

static double round_to(double v, double step)
{
    return floor(v / step + 0.5) * step;
}

static double uniform(struct whaco_rng *rng, double lo, double hi)
{
    return lo + (hi - lo) * whaco_rng_uniform(rng);
}

void whaco_gen_params_default(struct whaco_gen_params *p)
{
    static const double mix[WHACO_CLUSTERS] = {0.24, 0.25, 0.19, 0.20, 0.12};
    memcpy(p->mix, mix, sizeof mix);
    p->anomaly_rate = 0.025;
    p->price_scale = 1.0;
    p->fico_shift = 0.0;
}

static void draw_segment(struct whaco_rng *rng, const struct whaco_gen_params *p, int k,
                         struct whaco_customer *c)
{
    const struct segment_shape *s = &shapes[k];
    c->credit_score =
        round_to(clip(normal(rng, s->fico_mean, s->fico_sd) + p->fico_shift, 300, 850), 1);
    c->annual_income =
        round_to(clip(lognormal(rng, s->income_median, s->income_sigma), 8000, 900000), 100);
    c->vehicle_price = round_to(
        clip(lognormal(rng, s->price_median, s->price_sigma), 12000, 95000) * p->price_scale, 5);
    double down = k == WHACO_CASH_STRONG_BUYERS
                      ? clip(normal(rng, s->down_mean, s->down_sd), 0.30, 0.75)
                      : clip(normal(rng, s->down_mean, s->down_sd), 0.0, 0.29);
    c->down_payment = round_to(down * c->vehicle_price, 10);
    c->trade_value = 0.0;
    if (whaco_rng_uniform(rng) < s->trade_prob)
        c->trade_value = round_to(clip(normal(rng, 0.18, 0.09), 0.02, 0.6) * c->vehicle_price, 10);
    int visits = (int)s->visits_base;
    for (int i = 0; i < 4; i++)
        visits += whaco_rng_uniform(rng) < s->visits_p;
    c->visit_count = visits;
    c->time_on_lot = round_to(clip(normal(rng, s->time_mean, s->time_sd), 5, 240), 1);
    c->engagement = round_to(clip(normal(rng, s->engage_mean, s->engage_sd), 0.0, 1.0), 0.001);
}

/* Injected anomalies, in the three families the seed names. */
static int draw_anomaly(struct whaco_rng *rng, struct whaco_customer *c)
{
    int kind = 1 + (int)whaco_rng_below(rng, 3);
    draw_segment(rng, &(struct whaco_gen_params){{0}, 0, 1.0, 0.0}, (int)whaco_rng_below(rng, 5),
                 c);
    switch (kind) {
    case WHACO_GEN_FRAUD: /* impossibly high income with no money down */
        c->credit_score = round_to(uniform(rng, 300, 460), 1);
        c->annual_income = round_to(uniform(rng, 400000, 2500000), 100);
        c->down_payment = round_to(uniform(rng, 0.0, 0.01) * c->vehicle_price, 10);
        break;
    case WHACO_GEN_INCONSISTENT: /* high engagement, poor credit, no trade, luxury car */
        c->engagement = round_to(uniform(rng, 0.93, 1.0), 0.001);
        c->credit_score = round_to(uniform(rng, 300, 420), 1);
        c->trade_value = 0.0;
        c->vehicle_price = round_to(uniform(rng, 120000, 250000), 5);
        c->down_payment = round_to(uniform(rng, 0.0, 0.02) * c->vehicle_price, 10);
        break;
    case WHACO_GEN_EXTREME: /* one extreme value */
        switch (whaco_rng_below(rng, 3)) {
        case 0:
            c->annual_income = round_to(uniform(rng, 2000000, 6000000), 100);
            break;
        case 1:
            c->time_on_lot = round_to(uniform(rng, 600, 1000), 1);
            break;
        case 2:
            c->vehicle_price = round_to(uniform(rng, 250000, 450000), 5);
            break;
        default:
            break; /* not reached: whaco_rng_below(rng, 3) < 3 */
        }
        if (c->down_payment > c->vehicle_price)
            c->down_payment = c->vehicle_price;
        break;
    default:
        break; /* not reached: kind is 1 + whaco_rng_below(rng, 3) */
    }
    return kind;
}

int whaco_gen_customer(struct whaco_rng *rng, const struct whaco_gen_params *p,
                       struct whaco_customer *out, int *kind)
{
    memset(out, 0, sizeof *out);
    if (whaco_rng_uniform(rng) < p->anomaly_rate) {
        int k = draw_anomaly(rng, out);
        if (kind)
            *kind = k;
        return -1;
    }
    double u = whaco_rng_uniform(rng), acc = 0.0;
    int seg = WHACO_CLUSTERS - 1;
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        acc += p->mix[k];
        if (u < acc) {
            seg = k;
            break;
        }
    }
    draw_segment(rng, p, seg, out);
    if (kind)
        *kind = WHACO_GEN_NORMAL;
    return seg;
}

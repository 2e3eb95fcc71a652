/*
 * world.c: building simulated worlds (whaco/sim.h) -- parameters, the
 * default team, the synthetic walk-ins with their pre-drawn randomness,
 * and the statistics helpers.
 *
 * Invariants: a generated world's customers are in non-decreasing arrival
 * order and inside business hours; its clock events are in time order; all
 * randomness comes from one xoshiro256** stream per world seed, drawn in a
 * fixed order, so a seed gives the same world on every platform. The model
 * numbers and their sources are in docs/simulation.md.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/gen.h"
#include "whaco/rng.h"
#include "whaco/sim.h"
#include "whaco/team.h"
#include "sim/internal.h"
#include "banned.h"

#define MS_PER_MIN  60000LL
#define MS_PER_HOUR 3600000LL
#define MS_PER_DAY  86400000LL
#define EPOCH_MS    1767225600000LL /* 2026-01-01T00:00:00Z, a Thursday */
#define TICK_MS     (5 * MS_PER_MIN)

static const char *const strategy_names[WHACO_SIM_STRATEGIES] = {
    "up-rotation", "round-robin", "least-busy", "random", "skill-match", "oscillator", "network",
};

const char *whaco_sim_strategy_name(int s)
{
    if (s < 0 || s >= WHACO_SIM_STRATEGIES)
        return NULL;
    return strategy_names[s];
}

int whaco_sim_strategy_parse(const char *name)
{
    if (!name)
        return -1;
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
        if (!strcmp(name, strategy_names[s]))
            return s;
    }
    if (!strcmp(name, "oscillator-desk")) /* network's name before the service ran it */
        return WHACO_SIM_NETWORK;
    return -1;
}

void whaco_sim_params_default(struct whaco_sim_params *p)
{
    /* Busier afternoons: a relative profile for 9:00..18:59, mean 1. */
    static const double profile[10] = {0.6, 0.8, 0.9, 1.0, 1.0, 1.1, 1.2, 1.3, 1.2, 0.9};
    memset(p, 0, sizeof *p);
    p->days = 5;
    p->arrival_rate = 4.0;
    p->saturday_factor = 1.5;
    p->open_hour = 9;
    p->close_hour = 19;
    for (int h = 0; h < 10; h++)
        p->profile[h] = profile[h];
    p->max_load = 2;
    p->patience_min = 20.0;
    /* Segment order: Prime, Motivated, Tire Kickers, Credit Challenged, Cash Strong. */
    p->close_base[WHACO_PRIME_BUYERS] = 0.32;
    p->close_base[WHACO_MOTIVATED_SHOPPERS] = 0.30;
    p->close_base[WHACO_TIRE_KICKERS] = 0.04;
    p->close_base[WHACO_CREDIT_CHALLENGED] = 0.12;
    p->close_base[WHACO_CASH_STRONG_BUYERS] = 0.25;
    p->close_anomaly = 0.05;
    p->skill_close_gain = 0.4;
    p->load_close_loss = 0.08;
    p->wait_halfway_min = 30.0;
    p->skill_time_gain = 0.3;
    p->load_time_gain = 0.25;
    p->high_priority = WHACO_HIGH_PRIORITY;
    p->feature_close_gain = 0.0;
    p->hidden_skill_spread = 0.0;
    p->observed_skills = true;
}

static int bad(const char **field, const char *name, double v)
{
    if (field)
        *field = name;
    return isfinite(v) ? WHACO_E_CONFIG : WHACO_E_NOT_FINITE;
}

static int in_range(double v, double lo, double hi)
{
    return isfinite(v) && v >= lo && v <= hi;
}

int whaco_sim_params_check(const struct whaco_sim_params *p, const char **field)
{
    if (p->days < 1 || p->days > 365)
        return bad(field, "days", 0.0);
    if (!in_range(p->arrival_rate, 1e-9, 100.0))
        return bad(field, "arrivalRate", p->arrival_rate);
    if (!in_range(p->saturday_factor, 0.0, 10.0))
        return bad(field, "saturdayFactor", p->saturday_factor);
    if (p->open_hour > 23 || p->close_hour <= p->open_hour || p->close_hour > 24)
        return bad(field, "openHours", 0.0);
    for (uint32_t h = 0; h < p->close_hour - p->open_hour; h++) {
        if (!in_range(p->profile[h], 0.0, 100.0))
            return bad(field, "profile", p->profile[h]);
    }
    if (p->max_load < 1 || p->max_load > 100)
        return bad(field, "maxLoad", 0.0);
    if (!in_range(p->patience_min, 1e-3, 1e4))
        return bad(field, "patience", p->patience_min);
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        if (!in_range(p->close_base[k], 0.0, 1.0))
            return bad(field, "closeBase", p->close_base[k]);
    }
    if (!in_range(p->close_anomaly, 0.0, 1.0))
        return bad(field, "closeAnomaly", p->close_anomaly);
    if (!in_range(p->feature_close_gain, 0.0, 3.0))
        return bad(field, "featureCloseGain", p->feature_close_gain);
    if (!in_range(p->hidden_skill_spread, 0.0, 1.0))
        return bad(field, "hiddenSkillSpread", p->hidden_skill_spread);
    if (!in_range(p->skill_close_gain, 0.0, 1.0))
        return bad(field, "skillCloseGain", p->skill_close_gain);
    if (!in_range(p->load_close_loss, 0.0, 1.0))
        return bad(field, "loadCloseLoss", p->load_close_loss);
    if (!in_range(p->wait_halfway_min, 1e-3, 1e6))
        return bad(field, "waitHalfway", p->wait_halfway_min);
    if (!in_range(p->skill_time_gain, 0.0, 1.9))
        return bad(field, "skillTimeGain", p->skill_time_gain);
    if (!in_range(p->load_time_gain, 0.0, 10.0))
        return bad(field, "loadTimeGain", p->load_time_gain);
    if (!in_range(p->high_priority, 0.0, 1.0))
        return bad(field, "highPriority", p->high_priority);
    return WHACO_OK;
}

void whaco_sim_default_team(struct whaco_sim_member *out, size_t n, double skill_mean,
                            double skill_spread)
{
    /* A fixed shuffle of the skill ranks: index and skill must not be
     * correlated, or index tie-breaks would look like skill preferences. */
    struct whaco_rng rng;
    whaco_rng_seed(&rng, 0x5eedULL);
    size_t *rank = whaco_xmalloc((n ? n : 1) * sizeof *rank);
    for (size_t i = 0; i < n; i++)
        rank[i] = i;
    for (size_t i = n; i > 1; i--) {
        size_t j = (size_t)whaco_rng_below(&rng, (uint64_t)i);
        size_t tmp = rank[i - 1];
        rank[i - 1] = rank[j];
        rank[j] = tmp;
    }
    for (size_t i = 0; i < n; i++) {
        struct whaco_sim_member *m = &out[i];
        double frac = n > 1 ? (double)rank[i] / (double)(n - 1) : 0.5;
        double s = skill_mean + skill_spread * (frac - 0.5);
        memset(m, 0, sizeof *m);
        snprintf(m->id, sizeof m->id, "sp%zu", i + 1);
        snprintf(m->name, sizeof m->name, "Salesperson %zu", i + 1);
        m->skill = s < 0.0 ? 0.0 : (s > 1.0 ? 1.0 : s);
        /* omega ~ 0.9 +- 0.05 (docs/team.md's healthy team), deterministic. */
        m->omega = 0.9 + 0.1 * ((double)((i * 7 + 3) % 11) / 10.0 - 0.5);
        /* Phases spread by the golden angle: a team that has not yet synchronised. */
        m->phase = whaco_team_spread_phase(i);
    }
    whaco_free(rank);
}

/* Weekday of calendar day c after EPOCH_MS: 0 Monday .. 6 Sunday. */
static int weekday(int64_t c)
{
    return (int)((c + 3) % 7);
}

void whaco__sim_push_clock(struct whaco_sim_world *w, size_t *cap, int64_t t, uint32_t type,
                           size_t member)
{
    if (w->n_clock == *cap) {
        *cap = *cap ? *cap * 2 : 1024;
        w->clock = whaco_xreallocarray(w->clock, *cap, sizeof *w->clock);
    }
    struct whaco_sim_clock *k = &w->clock[w->n_clock++];
    k->t_ms = t;
    k->type = type;
    k->member = member == SIZE_MAX ? -1 : (int32_t)member;
}

void whaco__sim_draw(struct whaco_sim_customer *c, struct whaco_rng *rng, double patience_min)
{
    /* Exponential patience with the configured mean; 1 - u is in (0, 1]. */
    c->patience_min = -patience_min * log(1.0 - whaco_rng_uniform(rng));
    if (c->patience_min < 0.5)
        c->patience_min = 0.5;
    c->u_close = whaco_rng_uniform(rng);
    c->u_pick = whaco_rng_uniform(rng);
    c->rec_member = -1;
    c->rec_closed = -1;
    c->rec_close_ms = 0;
}

size_t whaco__sim_find_member(const struct whaco_sim_world *w, const char *id)
{
    for (size_t m = 0; m < w->n_members; m++) {
        if (!strcmp(w->members[m].id, id))
            return m;
    }
    return SIZE_MAX;
}

double whaco__sim_intent(const struct whaco_customer *c)
{
    double down = c->vehicle_price > 0.0 ? c->down_payment / c->vehicle_price : 0.0;
    down = down > 0.5 ? 0.5 : down;
    return (c->engagement - 0.5) / 0.2 + 0.6 * (c->credit_score - 680.0) / 80.0 +
           0.4 * (down - 0.12) / 0.1;
}

/*
 * Each segment's mean intent (over 2,000 of its walk-ins from the
 * generator, on a stream of their own), which the chance subtracts so that
 * intent spreads a segment's walk-ins around its base rate instead of
 * moving the segment.
 */
static void center_intent(struct whaco_sim_world *w)
{
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    whaco_rng_seed(&rng, 0x696e74656e74ull); /* "intent": the same centres in every world */
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        whaco_gen_params_default(&gp);
        for (int j = 0; j < WHACO_CLUSTERS; j++)
            gp.mix[j] = j == k ? 1.0 : 0.0;
        gp.anomaly_rate = 0.0;
        double sum = 0.0;
        for (int i = 0; i < 2000; i++) {
            struct whaco_customer c;
            whaco_gen_customer(&rng, &gp, &c, NULL);
            sum += whaco__sim_intent(&c);
        }
        w->intent_center[k] = sum / 2000.0;
    }
}

/*
 * Each member's true skill with each segment: entered + N(0, spread^2),
 * clipped to [0, 1], from a stream of its own (seed's golden-ratio
 * neighbour) so that the walk-ins are the same with and without it.
 */
static void draw_true_skills(struct whaco_sim_world *w, double spread, uint64_t seed)
{
    struct whaco_rng rng;
    whaco_rng_seed(&rng, seed ^ 0x9e3779b97f4a7c15ull);
    w->true_skill = whaco_xmalloc(w->n_members * WHACO_CLUSTERS * sizeof *w->true_skill);
    for (size_t m = 0; m < w->n_members; m++)
        for (int k = 0; k < WHACO_CLUSTERS; k++) {
            double s = w->members[m].skill + spread * whaco_rng_normal(&rng);
            w->true_skill[m * WHACO_CLUSTERS + (size_t)k] = s < 0.0 ? 0.0 : (s > 1.0 ? 1.0 : s);
        }
}

void whaco_sim_world_generate(struct whaco_sim_world *w, const struct whaco_sim_params *p,
                              const struct whaco_sim_member *members, size_t n, uint64_t seed)
{
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    size_t cap = 0, clock_cap = 0;

    memset(w, 0, sizeof *w);
    whaco_rng_seed(&rng, seed);
    whaco_gen_params_default(&gp);
    w->members = whaco_xmalloc(n * sizeof *w->members);
    memcpy(w->members, members, n * sizeof *w->members);
    w->n_members = n;
    w->opens = whaco_xmalloc(p->days * sizeof *w->opens);
    w->closes = whaco_xmalloc(p->days * sizeof *w->closes);
    w->start_ms = EPOCH_MS;

    int64_t c = 0;
    while (w->n_days < p->days) {
        if (weekday(c) == 6) { /* Sunday: closed */
            c++;
            continue;
        }
        int64_t day0 = EPOCH_MS + c * MS_PER_DAY;
        double factor = weekday(c) == 5 ? p->saturday_factor : 1.0;
        w->opens[w->n_days] = day0 + (int64_t)p->open_hour * MS_PER_HOUR;
        w->closes[w->n_days] = day0 + (int64_t)p->close_hour * MS_PER_HOUR;
        w->n_days++;
        /* Piecewise-constant Poisson process: exponential gaps inside each hour
         * (memorylessness makes restarting at the hour boundary exact). */
        for (uint32_t h = p->open_hour; h < p->close_hour; h++) {
            double rate = p->arrival_rate * factor * p->profile[h - p->open_hour]; /* per hour */
            double t = 0.0;
            if (!(rate > 0.0))
                continue;
            for (;;) {
                t += -log(1.0 - whaco_rng_uniform(&rng)) / rate;
                if (t >= 1.0)
                    break;
                if (w->n_customers == cap) {
                    cap = cap ? cap * 2 : 256;
                    w->customers = whaco_xreallocarray(w->customers, cap, sizeof *w->customers);
                }
                struct whaco_sim_customer *cu = &w->customers[w->n_customers];
                memset(cu, 0, sizeof *cu);
                cu->arrive_ms =
                    day0 + (int64_t)h * MS_PER_HOUR + (int64_t)(t * (double)MS_PER_HOUR);
                cu->segment = whaco_gen_customer(&rng, &gp, &cu->c, NULL);
                snprintf(cu->c.id, sizeof cu->c.id, "w%zu", w->n_customers + 1);
                whaco__sim_draw(cu, &rng, p->patience_min);
                w->n_customers++;
            }
        }
        c++;
    }
    /* The network's clock: a tick every 5 minutes and a reset at each midnight,
     * from the start to the last closing time. */
    int64_t end = w->closes[w->n_days - 1];
    for (size_t i = 0; i < n; i++)
        whaco__sim_push_clock(w, &clock_cap, EPOCH_MS, WHACO_SIM_ADD, i);
    for (int64_t t = EPOCH_MS + TICK_MS; t <= end; t += TICK_MS) {
        if (t % MS_PER_DAY == 0)
            whaco__sim_push_clock(w, &clock_cap, t, WHACO_SIM_RESET, SIZE_MAX);
        whaco__sim_push_clock(w, &clock_cap, t, WHACO_SIM_TICK, SIZE_MAX);
    }
    if (p->hidden_skill_spread > 0.0)
        draw_true_skills(w, p->hidden_skill_spread, seed);
    if (p->feature_close_gain > 0.0)
        center_intent(w);
}

void whaco_sim_world_release(struct whaco_sim_world *w)
{
    whaco_free(w->members);
    whaco_free(w->customers);
    whaco_free(w->opens);
    whaco_free(w->closes);
    whaco_free(w->clock);
    whaco_free(w->state);
    whaco_free(w->true_skill);
    memset(w, 0, sizeof *w);
}

/* ===== Statistics ===== */

void whaco_sim_stat(const double *x, size_t n, struct whaco_sim_stat *out)
{
    /* Two-sided 95% Student t quantiles for 1..30 degrees of freedom. */
    static const double t975[31] = {0,     12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365,
                                    2.306, 2.262,  2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
                                    2.120, 2.110,  2.101, 2.093, 2.086, 2.080, 2.074, 2.069,
                                    2.064, 2.060,  2.056, 2.052, 2.048, 2.045, 2.042};
    double sum = 0.0, ss = 0.0;
    memset(out, 0, sizeof *out);
    if (n == 0)
        return;
    for (size_t i = 0; i < n; i++)
        sum += x[i];
    out->mean = sum / (double)n;
    out->lo = out->hi = out->mean;
    if (n < 2)
        return;
    for (size_t i = 0; i < n; i++)
        ss += (x[i] - out->mean) * (x[i] - out->mean);
    double se = sqrt(ss / (double)(n - 1) / (double)n);
    double t = n - 1 <= 30 ? t975[n - 1] : 1.96 + 2.4 / (double)(n - 1);
    out->lo = out->mean - t * se;
    out->hi = out->mean + t * se;
}

double whaco_sim_gini(const double *x, size_t n)
{
    double sum = 0.0, diff = 0.0;
    for (size_t i = 0; i < n; i++) {
        sum += x[i];
        for (size_t j = 0; j < n; j++)
            diff += fabs(x[i] - x[j]);
    }
    if (!(sum > 0.0))
        return 0.0;
    return diff / (2.0 * (double)n * sum);
}

/* ===== Metrics ===== */

/* The metrics' names and how many decimals a report shows, by enum whaco_sim_metric. */
static const struct {
    const char *key, *label;
    int decimals;
} metrics[WHACO_SIM_METRICS] = {
    [WHACO_SIM_M_DEALS] = {"deals", "deals closed", 1},
    [WHACO_SIM_M_CLOSE_RATE] = {"closeRate", "close rate", 3},
    [WHACO_SIM_M_WAIT_MEAN] = {"waitMeanMin", "mean wait (min)", 1},
    [WHACO_SIM_M_WAIT_P95] = {"waitP95Min", "p95 wait (min)", 1},
    [WHACO_SIM_M_ABANDONED] = {"abandoned", "walk-ins lost (abandoned + waiting at close)", 1},
    [WHACO_SIM_M_LEADS_PER] = {"leadsPerSp", "leads per salesperson", 1},
    [WHACO_SIM_M_DEALS_PER] = {"dealsPerSp", "deals per salesperson", 2},
    [WHACO_SIM_M_LEADS_GINI] = {"leadsGini", "Gini of leads", 3},
    [WHACO_SIM_M_DEALS_GINI] = {"dealsGini", "Gini of deals", 3},
    [WHACO_SIM_M_PEAK_LOAD] = {"peakLoad", "peak load (customers on one salesperson)", 1},
    [WHACO_SIM_M_TOP_SKILL] = {"topSkillHigh", "high priority served by top-skill staff", 3},
    [WHACO_SIM_M_COHERENCE] = {"coherenceMean", "mean coherence r", 3},
    [WHACO_SIM_M_COVERAGE] = {"coverageMean", "mean coverage", 3},
};

const char *whaco_sim_metric_key(int m)
{
    return m >= 0 && m < WHACO_SIM_METRICS ? metrics[m].key : NULL;
}

const char *whaco_sim_metric_label(int m)
{
    return m >= 0 && m < WHACO_SIM_METRICS ? metrics[m].label : NULL;
}

int whaco_sim_metric_decimals(int m)
{
    return m >= 0 && m < WHACO_SIM_METRICS ? metrics[m].decimals : 0;
}

double whaco_sim_metric(const struct whaco_sim_result *r, int m)
{
    switch (m) {
    case WHACO_SIM_M_DEALS:
        return (double)r->deals;
    case WHACO_SIM_M_CLOSE_RATE:
        return r->close_rate;
    case WHACO_SIM_M_WAIT_MEAN:
        return r->wait_mean_min;
    case WHACO_SIM_M_WAIT_P95:
        return r->wait_p95_min;
    case WHACO_SIM_M_ABANDONED:
        return (double)r->abandoned + (double)r->at_close;
    case WHACO_SIM_M_LEADS_PER:
        return r->leads_per_member;
    case WHACO_SIM_M_DEALS_PER:
        return r->deals_per_member;
    case WHACO_SIM_M_LEADS_GINI:
        return r->leads_gini;
    case WHACO_SIM_M_DEALS_GINI:
        return r->deals_gini;
    case WHACO_SIM_M_PEAK_LOAD:
        return (double)r->peak_load;
    case WHACO_SIM_M_TOP_SKILL:
        return r->top_skill_share;
    case WHACO_SIM_M_COHERENCE:
        return r->coherence_mean;
    case WHACO_SIM_M_COVERAGE:
        return r->coverage_mean;
    default:
        return 0.0; /* not a metric (the contract: 0 when m is out of range) */
    }
}

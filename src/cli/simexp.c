/*
 * simexp.c: the A/B test in the simulator (cli/simexp.h) -- the experiment
 * and both rules on the whole floor played on each replication's world,
 * then the report as text or JSON.
 *
 * Invariants: the experiment of replication r is seeded cfg.seed + r, so
 * replications split differently and a run is reproducible; the
 * whole-floor difference is paired (both rules on the same world); the
 * pooled experiment is the sum of the replications' counts, which is the
 * experiment one would have run over all their days in a row; the per-day
 * split draws day d's rule as whaco_experiment_arm_of(seed ^ DAY_SALT, d).
 */
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <string.h>
#include <time.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "cli/common.h"
#include "cli/simexp.h"
#include "banned.h"

#define DAY_MS   86400000LL
#define DAY_SALT 0x6461792d73706c69ull /* "day-spli": the per-day split's own draws */

static const char *const figure_keys[SIMEXP_FIGURES] = {"walkIns", "deals", "closeRate",
                                                        "waitMeanMinutes", "waitP95Minutes"};
static const char *const figure_labels[SIMEXP_FIGURES] = {"walk-ins", "deals closed", "close rate",
                                                          "mean wait (min)", "p95 wait (min)"};
static const int figure_decimals[SIMEXP_FIGURES] = {1, 1, 3, 1, 1};

int simexp_strategy_of(int rule)
{
    switch (rule) {
    case WHACO_RULE_NETWORK:
        return WHACO_SIM_NETWORK;
    case WHACO_RULE_UP_ROTATION:
        return WHACO_SIM_UP_ROTATION;
    case WHACO_RULE_ROUND_ROBIN:
        return WHACO_SIM_ROUND_ROBIN;
    case WHACO_RULE_LEAST_BUSY:
        return WHACO_SIM_LEAST_BUSY;
    default:
        return -1; /* not a rule: whaco_experiment_config_check refuses it */
    }
}

/*
 * A world's business days: its days when it has a calendar (simulate),
 * else the local dates on which walk-ins arrived (replay: the log's days).
 */
static double world_days(const struct whaco_sim_world *w)
{
    if (w->n_days > 0)
        return (double)w->n_days;
    double days = 0.0;
    int last_y = -1, last_d = -1;
    for (size_t i = 0; i < w->n_customers; i++) { /* in arrival order */
        time_t t = (time_t)(w->customers[i].arrive_ms / 1000);
        struct tm tm;
        if (!localtime_r(&t, &tm))
            continue;
        if (tm.tm_year != last_y || tm.tm_yday != last_d)
            days += 1.0;
        last_y = tm.tm_year;
        last_d = tm.tm_yday;
    }
    return days;
}

/* Add x's counts to the pooled experiment p. */
static void pool(struct whaco_experiment *p, const struct whaco_experiment *x)
{
    p->draws += x->draws;
    for (int k = 0; k < WHACO_EXP_ARMS; k++) {
        struct whaco_experiment_arm *a = &p->arm[k];
        const struct whaco_experiment_arm *b = &x->arm[k];
        a->walkins += b->walkins;
        a->ended += b->ended;
        a->deals += b->deals;
        a->wait_sum += b->wait_sum;
        a->wait_sumsq += b->wait_sumsq;
        if (b->wait_max > a->wait_max)
            a->wait_max = b->wait_max;
        for (size_t i = 0; i < WHACO_EXP_BINS; i++)
            a->bins[i] += b->bins[i];
    }
}

/* What one replication gave: per arm the figures, and the differences (NAN when not known). */
struct replication {
    double fig[WHACO_EXP_ARMS][SIMEXP_FIGURES];
    double close_points, wait_min, whole_floor, day_points;
};

/*
 * day[i] := the business day (0, 1, ...) walk-in i arrived on: the world's
 * days (UTC of the simulated clock) when it has a calendar, else local
 * dates. Returns the number of days.
 */
static size_t day_of_walkins(const struct whaco_sim_world *w, size_t *day)
{
    size_t days = 0;
    long long last = LLONG_MIN;
    for (size_t i = 0; i < w->n_customers; i++) {
        long long key = w->customers[i].arrive_ms / DAY_MS;
        if (w->n_days == 0) {
            time_t t = (time_t)(w->customers[i].arrive_ms / 1000);
            struct tm tm;
            key = localtime_r(&t, &tm) ? (long long)tm.tm_year * 400 + tm.tm_yday : key;
        }
        if (key != last)
            days++;
        last = key;
        day[i] = days - 1;
    }
    return days;
}

/*
 * The per-day split of replication rep: each day under one rule, its
 * outcome from that rule's whole-floor run (outcomes o[arm]); the days'
 * close rates feed the variance of a day under each rule, and Welch's
 * interval of the replication's B - A (points) is returned in *d.
 */
static void per_day(struct simexp *se, const struct whaco_sim_world *w, uint64_t seed,
                    struct whaco_sim_outcome *const o[WHACO_EXP_ARMS], struct whaco_exp_interval *d)
{
    size_t nc = w->n_customers ? w->n_customers : 1;
    size_t *day = whaco_xcalloc(nc, sizeof *day);
    size_t days = day_of_walkins(w, day);
    double *walkins = whaco_xcalloc(days ? days : 1, sizeof *walkins);
    double *deals = whaco_xcalloc(2 * (days ? days : 1), sizeof *deals);
    for (size_t i = 0; i < w->n_customers; i++) {
        walkins[day[i]] += 1.0;
        for (int k = 0; k < WHACO_EXP_ARMS; k++)
            deals[(size_t)k * days + day[i]] += o[k][i].closed ? 1.0 : 0.0;
    }
    double n[WHACO_EXP_ARMS] = {0, 0}, sum[WHACO_EXP_ARMS] = {0, 0}, sumsq[WHACO_EXP_ARMS] = {0, 0};
    for (int k = 0; k < WHACO_EXP_ARMS && days > 1; k++) { /* every day under each rule */
        double s = 0.0, ss = 0.0;
        for (size_t dd = 0; dd < days; dd++) {
            double rate = deals[(size_t)k * days + dd] / walkins[dd];
            s += rate;
            ss += rate * rate;
        }
        se->day_ss[k] += ss - s * s / (double)days;
        se->day_df[k] += (double)(days - 1);
    }
    for (size_t dd = 0; dd < days; dd++) {
        int arm = whaco_experiment_arm_of(seed ^ DAY_SALT, dd);
        double rate = deals[(size_t)arm * days + dd] / walkins[dd];
        n[arm] += 1.0;
        sum[arm] += rate;
        sumsq[arm] += rate * rate;
    }
    double mean[WHACO_EXP_ARMS], var[WHACO_EXP_ARMS];
    for (int k = 0; k < WHACO_EXP_ARMS; k++) {
        mean[k] = n[k] > 0.0 ? sum[k] / n[k] : 0.0;
        var[k] = n[k] > 1.0 ? (sumsq[k] - n[k] * mean[k] * mean[k]) / (n[k] - 1.0) : 0.0;
        if (var[k] < 0.0)
            var[k] = 0.0;
    }
    whaco_experiment_welch(n[0], 100.0 * mean[0], 1e4 * var[0], n[1], 100.0 * mean[1], 1e4 * var[1],
                           d);
    whaco_free(day);
    whaco_free(walkins);
    whaco_free(deals);
}

/* Play replication rep on w: the experiment and both rules on the whole floor. */
static int play_replication(struct simexp *se, const struct whaco_sim_params *p,
                            const struct whaco_sim_world *w, uint64_t rep, struct replication *out,
                            FILE *err)
{
    struct whaco_experiment_config cfg = se->cfg;
    struct whaco_sim_result res, whole[WHACO_EXP_ARMS];
    struct whaco_experiment x;
    struct whaco_exp_report r;
    struct whaco_exp_interval by_day;
    size_t nc = w->n_customers ? w->n_customers : 1;
    struct whaco_sim_outcome *o[WHACO_EXP_ARMS] = {whaco_xcalloc(nc, sizeof *o[0]),
                                                   whaco_xcalloc(nc, sizeof *o[1])};
    cfg.seed = (se->cfg.seed + rep) & WHACO_EXP_SEED_MAX;
    int rc = whaco_sim_run_experiment(w, p, &cfg, &res, &x);
    for (int k = 0; k < WHACO_EXP_ARMS && rc == WHACO_OK; k++)
        rc = whaco_sim_run(w, p, simexp_strategy_of(cfg.rule[k]), &whole[k], o[k]);
    if (rc == WHACO_OK)
        per_day(se, w, cfg.seed, o, &by_day);
    whaco_free(o[0]);
    whaco_free(o[1]);
    if (rc != WHACO_OK) {
        fprintf(err, "whaco: the experiment: %s\n", whaco_strerror(rc));
        return -1;
    }
    out->day_points = by_day.known ? by_day.estimate : NAN;
    se->day_known += by_day.known;
    se->day_detected += by_day.known && (by_day.low > 0.0 || by_day.high < 0.0);
    whaco_experiment_report(&x, &r);
    for (int k = 0; k < WHACO_EXP_ARMS; k++) {
        const struct whaco_exp_arm_report *a = &r.arm[k];
        out->fig[k][SIMEXP_WALKINS] = (double)a->walkins;
        out->fig[k][SIMEXP_DEALS] = (double)a->deals;
        out->fig[k][SIMEXP_CLOSE_RATE] = a->has_rate ? a->close_rate : NAN;
        out->fig[k][SIMEXP_WAIT_MEAN] = a->has_wait ? a->wait_mean_min : NAN;
        out->fig[k][SIMEXP_WAIT_P95] = a->has_wait ? a->wait_p95_min : NAN;
    }
    out->close_points = r.close_points.known ? r.close_points.estimate : NAN;
    out->wait_min = r.wait_min.known ? r.wait_min.estimate : NAN;
    out->whole_floor = 100.0 * (whole[1].close_rate - whole[0].close_rate);
    se->verdicts[r.verdict]++;
    se->walkins += w->n_customers;
    se->days += world_days(w);
    pool(&se->pooled, &x);
    return 0;
}

/* The mean and interval of the known (finite) values among x[0..n). */
static void stat_known(const double *x, size_t n, struct whaco_sim_stat *st)
{
    double *v = whaco_xcalloc(n ? n : 1, sizeof *v);
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (isfinite(x[i]))
            v[k++] = x[i];
    whaco_sim_stat(v, k, st);
    whaco_free(v);
}

/* The summaries over replications, the pooled report and the power figures. */
static void summarise(struct simexp *se, const struct replication *reps)
{
    size_t n = (size_t)se->reps;
    double *col = whaco_xcalloc(n ? n : 1, sizeof *col);
    for (int k = 0; k < WHACO_EXP_ARMS; k++) {
        for (int f = 0; f < SIMEXP_FIGURES; f++) {
            for (size_t r = 0; r < n; r++)
                col[r] = reps[r].fig[k][f];
            stat_known(col, n, &se->arm[k][f]);
        }
    }
    for (size_t r = 0; r < n; r++)
        col[r] = reps[r].close_points;
    stat_known(col, n, &se->close_points);
    for (size_t r = 0; r < n; r++)
        col[r] = reps[r].wait_min;
    stat_known(col, n, &se->wait_min);
    for (size_t r = 0; r < n; r++)
        col[r] = reps[r].whole_floor;
    stat_known(col, n, &se->whole_floor);
    for (size_t r = 0; r < n; r++)
        col[r] = reps[r].day_points;
    stat_known(col, n, &se->day_points);
    whaco_free(col);
    for (int k = 0; k < WHACO_EXP_ARMS; k++) {
        se->day_var[k] = se->day_df[k] > 0.0 ? se->day_ss[k] / se->day_df[k] : NAN;
        if (se->day_var[k] < 0.0)
            se->day_var[k] = 0.0;
    }
    double delta = se->detect_points / 100.0;
    se->days_needed_per_day = 2.0 * WHACO_EXP_POWER_Z * WHACO_EXP_POWER_Z *
                              (se->day_var[0] + se->day_var[1]) / (delta * delta);

    whaco_experiment_report(&se->pooled, &se->pooled_report);
    const struct whaco_exp_arm_report *a = &se->pooled_report.arm[0];
    double p_a = a->has_rate ? a->close_rate : WHACO_LEARN_PRIOR_RATE;
    se->walkins_per_day = se->days > 0.0 ? (double)se->walkins / se->days : 0.0;
    se->needed_per_arm = whaco_experiment_walkins_needed(p_a, se->detect_points / 100.0);
    se->days_needed =
        se->walkins_per_day > 0.0 ? 2.0 * se->needed_per_arm / se->walkins_per_day : HUGE_VAL;
    double whole = fabs(se->whole_floor.mean) / 100.0;
    double low = se->whole_floor.mean < 0.0 ? p_a - whole : p_a; /* the lower rate of the two */
    se->days_needed_whole =
        se->walkins_per_day > 0.0
            ? 2.0 * whaco_experiment_walkins_needed(low, whole) / se->walkins_per_day
            : HUGE_VAL;
}

int simexp_run(struct simexp *se, const struct whaco_sim_params *p,
               const struct whaco_experiment_config *cfg, double detect_points, simout_world_cb cb,
               void *ctx, uint64_t reps, FILE *err)
{
    const char *field = NULL;
    memset(se, 0, sizeof *se);
    if (!cfg->enabled || whaco_experiment_config_check(cfg, &field) != WHACO_OK ||
        whaco_sim_params_check(p, &field) != WHACO_OK) {
        fprintf(err, "whaco: the experiment: invalid %s\n", field ? field : "experiment");
        return -1;
    }
    se->cfg = *cfg;
    se->detect_points = detect_points;
    se->reps = reps;
    whaco_experiment_start(&se->pooled, cfg, 0);
    struct replication *rs = whaco_xcalloc((size_t)reps, sizeof *rs);
    int rc = 0;
    for (uint64_t r = 0; r < reps && rc == 0; r++) {
        struct whaco_sim_world w;
        memset(&w, 0, sizeof w);
        rc = cb(ctx, r, &w) ? -1 : play_replication(se, p, &w, r, &rs[r], err);
        whaco_sim_world_release(&w);
    }
    if (rc == 0)
        summarise(se, rs);
    whaco_free(rs);
    return rc;
}

/*==== Reports =============================================================*/

static const char *rule_of(const struct simexp *se, int k)
{
    return whaco_floor_rule_name(se->cfg.rule[k]);
}

/* "+1.2 [-0.3, +2.7]" of an interval (lo/hi), or "-" when not known. */
static void interval_text(char *buf, size_t cap, bool known, double est, double lo, double hi)
{
    if (!known)
        snprintf(buf, cap, "-");
    else
        snprintf(buf, cap, "%+.1f [%+.1f, %+.1f]", est, lo, hi);
}

/* A count of days, "never" when infinite, "unknown" when it cannot be computed (NAN). */
static void days_text(char *buf, size_t cap, double days)
{
    if (isnan(days))
        snprintf(buf, cap, "unknown (fewer than two business days per replication)");
    else if (!isfinite(days))
        snprintf(buf, cap, "never (no difference to detect)");
    else
        snprintf(buf, cap, "%.0f business days", ceil(days));
}

void simexp_table(const struct simexp *se, FILE *out)
{
    char a[64], b[64], buf[96];
    const struct whaco_exp_report *pr = &se->pooled_report;
    double per_rep = se->reps ? round(se->days / (double)se->reps) : 0.0;
    fprintf(out,
            "\nA/B test, split per walk-in: A = %s, B = %s (%" PRIu64
            " replications of %.0f business day%s, %.1f walk-ins a day)\n",
            rule_of(se, 0), rule_of(se, 1), se->reps, per_rep, per_rep == 1.0 ? "" : "s",
            se->walkins_per_day);
    snprintf(a, sizeof a, "A %s", rule_of(se, 0));
    snprintf(b, sizeof b, "B %s", rule_of(se, 1));
    fprintf(out, "%-44s %18s %18s\n", "per arm (mean ±95% half-width)", a, b);
    for (int f = 0; f < SIMEXP_FIGURES; f++) {
        fprintf(out, "%-44s", figure_labels[f]);
        for (int k = 0; k < WHACO_EXP_ARMS; k++) {
            const struct whaco_sim_stat *st = &se->arm[k][f];
            snprintf(buf, sizeof buf, "%.*f ±%.*f", figure_decimals[f], st->mean,
                     figure_decimals[f], (st->hi - st->lo) / 2.0);
            fprintf(out, " %18s", buf);
        }
        fputc('\n', out);
    }
    fprintf(out, "%-44s %+.1f ±%.1f\n", "B - A, close rate (points), per replication",
            se->close_points.mean, (se->close_points.hi - se->close_points.lo) / 2.0);
    fprintf(out, "%-44s %+.1f ±%.1f\n", "B - A, mean wait (min), per replication",
            se->wait_min.mean, (se->wait_min.hi - se->wait_min.lo) / 2.0);
    fprintf(out, "%-44s %+.1f ±%.1f\n", "B - A on the whole floor (points, paired)",
            se->whole_floor.mean, (se->whole_floor.hi - se->whole_floor.lo) / 2.0);
    interval_text(buf, sizeof buf, pr->close_points.known, pr->close_points.estimate,
                  pr->close_points.low, pr->close_points.high);
    fprintf(out, "%-44s %s: %s\n", "all replications as one experiment", buf, pr->verdict_text);
    uint64_t detected = se->verdicts[WHACO_EXP_B_MORE] + se->verdicts[WHACO_EXP_A_MORE];
    fprintf(out,
            "verdicts: %" PRIu64 " not enough data, %" PRIu64 " no difference, %" PRIu64
            " B closes more, %" PRIu64 " A closes more: a difference detected in %" PRIu64
            " of %" PRIu64 " (empirical power %.0f%%)\n",
            se->verdicts[WHACO_EXP_NOT_ENOUGH], se->verdicts[WHACO_EXP_NO_DIFFERENCE],
            se->verdicts[WHACO_EXP_B_MORE], se->verdicts[WHACO_EXP_A_MORE], detected, se->reps,
            se->reps ? 100.0 * (double)detected / (double)se->reps : 0.0);
    days_text(buf, sizeof buf, se->days_needed);
    fprintf(out,
            "to detect %.1f points (80%% power, 5%% significance) from A's close rate %.3f: "
            "%.0f walk-ins per arm, %s at this traffic\n",
            se->detect_points, pr->arm[0].has_rate ? pr->arm[0].close_rate : 0.0,
            ceil(se->needed_per_arm), buf);
    days_text(buf, sizeof buf, se->days_needed_whole);
    fprintf(out, "to detect the whole-floor difference (%+.2f points): %s\n", se->whole_floor.mean,
            buf);
    fprintf(out,
            "split per day instead: B - A %+.1f ±%.1f points per replication; a difference "
            "detected in %" PRIu64 " of %" PRIu64 " (%" PRIu64 " had two days in each arm)\n",
            se->day_points.mean, (se->day_points.hi - se->day_points.lo) / 2.0, se->day_detected,
            se->reps, se->day_known);
    days_text(buf, sizeof buf, se->days_needed_per_day);
    fprintf(out,
            "to detect %.1f points split per day: %s (a day's close rate has a standard deviation "
            "of %.1f points under A, %.1f under B)\n",
            se->detect_points, buf, 100.0 * sqrt(se->day_var[0]), 100.0 * sqrt(se->day_var[1]));
}

static void stat_json(FILE *out, const char *key, const struct whaco_sim_stat *st, int comma)
{
    fprintf(out, "%s\"%s\":{\"mean\":%.6g,\"lo\":%.6g,\"hi\":%.6g}", comma ? "," : "", key,
            st->mean, st->lo, st->hi);
}

/* A finite number, or null. */
static void number_json(FILE *out, double v)
{
    if (isfinite(v))
        fprintf(out, "%.6g", v);
    else
        fputs("null", out);
}

static void interval_json(FILE *out, const struct whaco_exp_interval *d)
{
    if (!d->known) {
        fputs("null", out);
        return;
    }
    fprintf(out, "{\"estimate\":%.6g,\"low\":%.6g,\"high\":%.6g}", d->estimate, d->low, d->high);
}

void simexp_json(const struct simexp *se, FILE *out)
{
    const struct whaco_exp_report *pr = &se->pooled_report;
    fprintf(out, "{\"assignmentA\":\"%s\",\"assignmentB\":\"%s\",\"split\":\"walk-in\"",
            rule_of(se, 0), rule_of(se, 1));
    fprintf(out, ",\"replications\":%" PRIu64 ",\"businessDays\":%.6g,\"walkinsPerDay\":%.6g",
            se->reps, se->days, se->walkins_per_day);
    fputs(",\"arms\":[", out);
    for (int k = 0; k < WHACO_EXP_ARMS; k++) {
        fprintf(out, "%s{\"name\":\"%s\",\"assignment\":\"%s\"", k ? "," : "",
                whaco_experiment_arm_name(k), rule_of(se, k));
        for (int f = 0; f < SIMEXP_FIGURES; f++)
            stat_json(out, figure_keys[f], &se->arm[k][f], 1);
        fputc('}', out);
    }
    fputs("],\"difference\":{", out);
    stat_json(out, "closeRatePoints", &se->close_points, 0);
    stat_json(out, "waitMeanMinutes", &se->wait_min, 1);
    stat_json(out, "wholeFloorCloseRatePoints", &se->whole_floor, 1);
    fputs("},\"pooled\":{\"closeRatePoints\":", out);
    interval_json(out, &pr->close_points);
    fputs(",\"waitMeanMinutes\":", out);
    interval_json(out, &pr->wait_min);
    fputs(",\"verdict\":", out);
    cli_json_string(out, pr->verdict_text);
    uint64_t detected = se->verdicts[WHACO_EXP_B_MORE] + se->verdicts[WHACO_EXP_A_MORE];
    fprintf(out,
            "},\"verdicts\":{\"notEnoughData\":%" PRIu64 ",\"noDifference\":%" PRIu64
            ",\"bClosesMore\":%" PRIu64 ",\"aClosesMore\":%" PRIu64 "},\"empiricalPower\":%.6g",
            se->verdicts[WHACO_EXP_NOT_ENOUGH], se->verdicts[WHACO_EXP_NO_DIFFERENCE],
            se->verdicts[WHACO_EXP_B_MORE], se->verdicts[WHACO_EXP_A_MORE],
            se->reps ? (double)detected / (double)se->reps : 0.0);
    fprintf(out, ",\"detectPoints\":%.6g,\"walkinsPerArmNeeded\":", se->detect_points);
    number_json(out, ceil(se->needed_per_arm));
    fputs(",\"daysNeeded\":", out);
    number_json(out, ceil(se->days_needed));
    fputs(",\"daysNeededForWholeFloorDifference\":", out);
    number_json(out, ceil(se->days_needed_whole));
    fputs(",\"perDay\":{", out);
    stat_json(out, "closeRatePoints", &se->day_points, 0);
    fprintf(out,
            ",\"replicationsWithTwoDaysEachArm\":%" PRIu64 ",\"detected\":%" PRIu64
            ",\"empiricalPower\":%.6g,\"dayCloseRateSdPoints\":[",
            se->day_known, se->day_detected,
            se->reps ? (double)se->day_detected / (double)se->reps : 0.0);
    number_json(out, 100.0 * sqrt(se->day_var[0]));
    fputc(',', out);
    number_json(out, 100.0 * sqrt(se->day_var[1]));
    fputs("],\"daysNeeded\":", out);
    number_json(out, ceil(se->days_needed_per_day));
    fputs("}}", out);
}

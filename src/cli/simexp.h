/*
 * cli/simexp.h: the A/B test in the simulator, shared by `whaco simulate
 * --experiment A,B` and `whaco replay --experiment A,B` (simexp.c).
 *
 * On each replication's world the experiment is played as the service runs
 * it (whaco_sim_run_experiment: every walk-in split per walk-in, given out
 * by its arm's rule), and each rule is also played on the whole floor
 * (whaco_sim_run with its strategy): the whole-floor difference is what the
 * experiment tries to measure, paired on the same walk-ins. The report
 * gives per arm the mean and 95% interval over replications of its
 * figures; the difference B - A of each replication's experiment, and of
 * all replications pooled as one long experiment; how often a replication's
 * verdict detected a difference (empirical power at this length); and,
 * from the normal approximation (whaco_experiment_walkins_needed), how many
 * walk-ins and business days at this traffic an experiment needs to detect
 * a close-rate difference of --detect points with 80% power at 5%.
 *
 * Beside it, the same two rules split per business day instead (every
 * walk-in of a day under one rule, the day's rule drawn from the seed like
 * a walk-in's arm): a day's outcome is taken from that rule's whole-floor
 * run of the same world (the floor empties every night, so days hardly
 * depend on each other), and the days' close rates are compared with
 * Welch's interval. Its days needed come from the variance of a day's
 * close rate under each rule: n = 7.84 (var_A + var_B) / delta^2 days per arm.
 */
#ifndef WHACO_CLI_SIMEXP_H
#define WHACO_CLI_SIMEXP_H

#include <stdint.h>
#include <stdio.h>

#include "whaco/experiment.h"
#include "whaco/sim.h"
#include "cli/simout.h"

/* The figures reported per arm, over replications. */
enum simexp_figure {
    SIMEXP_WALKINS = 0, /* walk-ins split into the arm */
    SIMEXP_DEALS,       /* deals */
    SIMEXP_CLOSE_RATE,  /* deals / ended */
    SIMEXP_WAIT_MEAN,   /* mean wait, minutes */
    SIMEXP_WAIT_P95,    /* 95th-percentile wait, minutes */
    SIMEXP_FIGURES
};

struct simexp {
    struct whaco_experiment_config cfg; /* the rules; seed: replication r plays seed + r */
    double detect_points;               /* --detect */
    uint64_t reps;                      /* replications */
    double days;                        /* business days, summed over replications */
    uint64_t walkins;                   /* walk-ins, summed over replications */
    struct whaco_sim_stat arm[WHACO_EXP_ARMS][SIMEXP_FIGURES];
    struct whaco_sim_stat close_points; /* each replication's B - A, points */
    struct whaco_sim_stat wait_min;     /* each replication's B - A of the mean wait, minutes */
    struct whaco_sim_stat
        whole_floor;      /* whole floor, rule B - rule A, close rate in points (paired) */
    uint64_t verdicts[4]; /* replications per enum whaco_exp_verdict */
    struct whaco_experiment pooled; /* every replication's counts, as one experiment */
    struct whaco_exp_report pooled_report;
    double walkins_per_day;   /* walkins / days */
    double needed_per_arm;    /* walk-ins per arm to detect detect_points (or +inf) */
    double days_needed;       /* 2 needed_per_arm / walkins_per_day */
    double days_needed_whole; /* the same for the whole-floor difference (or +inf) */
    /* The per-day split. */
    uint64_t day_known;               /* replications with two days or more in each arm */
    uint64_t day_detected;            /* ... whose interval excluded 0 */
    struct whaco_sim_stat day_points; /* each replication's B - A, points */
    /* The variance of a day's close rate under each rule, between the days of
     * a replication (pooled over replications: replay's replications share
     * their days); NAN with fewer than two days per replication. */
    double day_var[WHACO_EXP_ARMS];
    double day_ss[WHACO_EXP_ARMS], day_df[WHACO_EXP_ARMS]; /* its sums of squares, freedom */
    double days_needed_per_day; /* days (both arms) to detect detect_points, split per day */
};

/* The simulator's strategy that plays floor rule `rule` on the whole floor. */
int simexp_strategy_of(int rule);

/*
 * Play cfg (on; its seed the first replication's) on cb's worlds 0..reps-1,
 * with parameters p; detect_points for the days-needed figure. 0, or -1
 * with the reason on err.
 */
int simexp_run(struct simexp *se, const struct whaco_sim_params *p,
               const struct whaco_experiment_config *cfg, double detect_points, simout_world_cb cb,
               void *ctx, uint64_t reps, FILE *err);

/* The report as text, after the strategies' table. */
void simexp_table(const struct simexp *se, FILE *out);

/* The report as one JSON object (no newline): the value of simulate's "experiment" key. */
void simexp_json(const struct simexp *se, FILE *out);

#endif /* WHACO_CLI_SIMEXP_H */

/*
 * whaco/experiment.h: an A/B test of two assignment rules on the real floor
 * (the setting `experiment`, GET experiment; docs/experiment.md).
 *
 * While an experiment runs, every new walk-in on a tracked floor is split at
 * random into arm A or arm B, and the floor's rule of its arm (network,
 * up-rotation, round-robin, least-busy: whaco/floor.h) chooses its
 * salesperson. The split is per walk-in: walk-in number n of the experiment
 * (0, 1, 2, ...) goes to whaco_experiment_arm_of(seed, n), a hash of the
 * seed and n (splitmix64), so the seed in the log gives every walk-in's arm
 * again. When a walk-in's visit ends (customer-left, or a deal-closed linked
 * to it), it is counted in its arm: ended, bought or not, and its wait --
 * from its arrival to its first salesperson, or to its end if it never had
 * one. Every statistic is over the ended walk-ins of an arm.
 *
 * whaco_experiment_report turns the counts into what the endpoint says:
 * per arm the close rate, the mean and 95th-percentile wait; the difference
 * B - A of the close rate in percentage points with its 95% interval
 * (Newcombe's hybrid score interval, from each arm's Wilson interval) and
 * of the mean wait in minutes (Welch); and the verdict:
 *   "not enough data yet"        while either arm has fewer than
 *                                WHACO_EXP_MIN_ENDED ended walk-ins;
 *   "no difference detected"     when the close-rate interval contains 0;
 *   "B closes more: +x [y, z]"   (or "A closes more: ...") otherwise, x the
 *                                winner's lead and [y, z] its interval, in
 *                                percentage points.
 * Waits are kept as a sum, a sum of squares, a maximum and a histogram of
 * whole minutes (0 exactly, then (k-1, k] for k = 1..240, then over 240):
 * the 95th percentile is the upper edge of the bin holding the nearest
 * rank, never above the largest wait -- within a minute above the exact
 * figure.
 *
 * Plain data, no I/O, no clock (time is an argument), no allocation;
 * deterministic, so replaying the log rebuilds it exactly. Not thread-safe:
 * the caller serialises (the engine thread).
 */
#ifndef WHACO_EXPERIMENT_H
#define WHACO_EXPERIMENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/floor.h"
#include "whaco/serial.h"

#define WHACO_EXP_ARMS         2   /* A and B */
#define WHACO_EXP_WAIT_MINUTES 240 /* waits are binned by the minute up to this */
#define WHACO_EXP_BINS         (WHACO_EXP_WAIT_MINUTES + 2) /* 0, (k-1, k] for k = 1..240, > 240 */
#define WHACO_EXP_MIN_ENDED    30 /* ended walk-ins per arm before a verdict */
#define WHACO_EXP_SEED_MAX     UINT64_C(9007199254740991) /* 2^53 - 1: exact in JSON */
#define WHACO_EXP_VERDICT_MAX  96                         /* bytes of a verdict, NUL included */
#define WHACO_EXP_POWER_Z      (1.96 + 0.84) /* z of 5% two-sided plus z of 80% power */

#define WHACO_TAG_EXPERIMENT 0x54505845u /* "EXPT": the experiment's section of a saved state */

/* The setting: off, or two different floor rules and the split's seed. */
struct whaco_experiment_config {
    bool enabled;
    uint8_t rule[WHACO_EXP_ARMS]; /* enum whaco_floor_rule of arm A and arm B; 0 when off */
    uint64_t seed;                /* the split's seed; 0 when off */
};

/* What one arm saw, over its ended walk-ins. */
struct whaco_experiment_arm {
    uint64_t walkins;              /* walk-ins split into the arm */
    uint64_t ended;                /* ... whose visit ended */
    uint64_t deals;                /* ... and who bought */
    double wait_sum;               /* minutes, summed over the ended */
    double wait_sumsq;             /* their squares, summed */
    double wait_max;               /* the longest, minutes */
    uint32_t bins[WHACO_EXP_BINS]; /* the waits' histogram (see above) */
};

struct whaco_experiment {
    struct whaco_experiment_config cfg; /* read-only: change with whaco_experiment_start */
    int64_t since_ms;                   /* when it started (its event's time); 0 when off */
    uint64_t draws;                     /* walk-ins split so far: the next is number draws */
    struct whaco_experiment_arm arm[WHACO_EXP_ARMS];
};

/* The verdict on the close rates. */
enum whaco_exp_verdict {
    WHACO_EXP_NOT_ENOUGH = 0, /* "not enough data yet" */
    WHACO_EXP_NO_DIFFERENCE,  /* "no difference detected" */
    WHACO_EXP_B_MORE,         /* "B closes more: ..." */
    WHACO_EXP_A_MORE,         /* "A closes more: ..." */
};

/* An estimate with its 95% interval; known false while it cannot be computed. */
struct whaco_exp_interval {
    bool known;
    double estimate, low, high;
};

struct whaco_exp_arm_report {
    uint64_t walkins, ended, deals;
    bool has_rate;        /* ended > 0 */
    double close_rate;    /* deals / ended */
    bool has_wait;        /* ended > 0 */
    double wait_mean_min; /* mean wait, minutes */
    double wait_p95_min;  /* 95th percentile (see above), minutes */
};

struct whaco_exp_report {
    struct whaco_exp_arm_report arm[WHACO_EXP_ARMS];
    struct whaco_exp_interval close_points; /* B - A, percentage points: both arms ended > 0 */
    struct whaco_exp_interval wait_min;     /* B - A, minutes: both arms ended >= 2 */
    enum whaco_exp_verdict verdict;
    char verdict_text[WHACO_EXP_VERDICT_MAX];
};

/* ---- Settings ---- */

/*
 * WHACO_OK, or WHACO_E_CONFIG with *field "experiment": enabled with a rule
 * that is not one of the floor's, or the same rule twice; off with any rule
 * or seed set (off is all zero).
 */
int whaco_experiment_config_check(const struct whaco_experiment_config *c, const char **field);

/*
 * Read the setting's text: "off", "A,B" or "A,B,SEED" (A, B the floor's
 * rule names, different; SEED a whole number from 1 to WHACO_EXP_SEED_MAX;
 * without it c->seed is 0: the service then seeds with the start's time).
 * Returns WHACO_OK, or WHACO_E_CONFIG with why[whylen] saying what is wrong
 * and what is allowed (c unchanged).
 */
int whaco_experiment_parse(const char *text, struct whaco_experiment_config *c, char *why,
                           size_t whylen);

/* The setting as text parse reads back: "off", "A,B" or "A,B,SEED" (seed 0: none). */
void whaco_experiment_format(const struct whaco_experiment_config *c, char *buf, size_t cap);

/* "A" or "B" for arm index 0 or 1 (NULL otherwise). */
const char *whaco_experiment_arm_name(int arm);

/* ---- The split and the counts ---- */

/*
 * The arm (0 = A, 1 = B) of walk-in number n of an experiment seeded with
 * seed: the top bit of splitmix64's output n + 1 from seed. Pure.
 */
int whaco_experiment_arm_of(uint64_t seed, uint64_t n);

/* No experiment: all zero. */
void whaco_experiment_init(struct whaco_experiment *x);

/*
 * Start the experiment c at now_ms (c must pass the check): the counts
 * start again from zero and since_ms is now_ms; with c off, the experiment
 * ends and *x is as after init.
 */
void whaco_experiment_start(struct whaco_experiment *x, const struct whaco_experiment_config *c,
                            int64_t now_ms);

/*
 * The next walk-in's arm: 1 (A) or 2 (B), counted in that arm; 0 (and
 * nothing counted) when no experiment runs.
 */
uint8_t whaco_experiment_draw(struct whaco_experiment *x);

/*
 * A walk-in of arm `arm` (1 or 2; anything else is ignored) ended, bought
 * or not, after waiting waited_ms (negative counts as 0) for its first
 * salesperson (or until it left).
 */
void whaco_experiment_observe(struct whaco_experiment *x, int arm, bool sold, int64_t waited_ms);

/* ---- Reading ---- */

/* What the counts say (see the top of this file). Pure. */
void whaco_experiment_report(const struct whaco_experiment *x, struct whaco_exp_report *r);

/*
 * The difference B - A of two means with Welch's 95% interval (unequal
 * variances; the t quantile at Welch-Satterthwaite's degrees of freedom),
 * from each group's size, mean and sample variance. known is false unless
 * both groups have at least 2 values; with both variances 0 the interval
 * is the estimate. Pure.
 */
void whaco_experiment_welch(double n_a, double mean_a, double var_a, double n_b, double mean_b,
                            double var_b, struct whaco_exp_interval *d);

/*
 * Walk-ins needed in each arm to detect a close-rate difference of delta
 * (a share: 0.03 for 3 points) from a rate p_a, with 80% power at a 5%
 * two-sided significance level, by the normal approximation:
 * n = (1.96 + 0.84)^2 (p_a (1 - p_a) + p_b (1 - p_b)) / delta^2, p_b = p_a + delta.
 * Returns +infinity when p_a is not in [0, 1], delta is not positive or p_b
 * is 1 or more. Pure.
 */
double whaco_experiment_walkins_needed(double p_a, double delta);

/* ---- Saved state ---- */

/* Append the experiment's section payload to b (errors: b's sticky flag). */
void whaco_experiment_encode(const struct whaco_experiment *x, struct whaco_buf *b);

/* Decode a payload of whaco_experiment_encode, checking every value. Errors on r. */
void whaco_experiment_decode(struct whaco_experiment *x, struct whaco_reader *r);

/*
 * Whether the floor's open walk-ins agree with the experiment: each one in
 * an arm carries that arm's rule, none is in an arm while no experiment
 * runs, and no arm has more open walk-ins than walk-ins not yet ended.
 */
bool whaco_experiment_fits_floor(const struct whaco_experiment *x, const struct whaco_floor *f);

#endif /* WHACO_EXPERIMENT_H */

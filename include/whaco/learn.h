/*
 * whaco/learn.h: what whaco learns from outcomes -- the chance that a
 * walk-in buys (closeProbability), and each segment's observed close rate.
 *
 * The close model is an online Bayesian logistic regression with a
 * Gaussian posterior N(mean, cov) over its weights, updated one outcome at
 * a time by the extended Kalman filter's step for a logistic observation
 * (an online Newton step; Spiegelhalter and Lauritzen 1990). Its inputs,
 * for a walk-in:
 *
 *   z = [1 | x_j clipped to [-1, 2], or 0 if unknown (8) | 1 if feature j
 *        is unknown (8) | one-hot segment (5) | 1 if an outlier]
 *
 * (x: whaco_features' normalised features). Before any outcome it predicts
 * the prior rate, WHACO_LEARN_PRIOR_RATE (walk-ins close about 20% of the
 * time industry-wide: the long-quoted NADA figure), through the bias's
 * prior mean; every weight's prior is N(mean, 1), independent. Each outcome
 * y (1: the walk-in bought, 0: left without buying) with p = sigmoid(m.z)
 * and h = p(1-p):
 *
 *   cov  <- cov - h (cov z)(cov z)' / (1 + h z' cov z)
 *   mean <- mean + (y - p) cov z          (with the new cov)
 *
 * The full covariance matters: the bias and the one-hot segment are
 * collinear and the features correlate with the segment, and a diagonal
 * posterior overshoots on such inputs (measured: mean error 0.056 against
 * 0.03 here after 5,000 outcomes). A prediction is the posterior mean's,
 * p = sigmoid(m.z): an untaught model predicts the prior rate exactly.
 * (The probit-moderated prediction, which also weighs the weights' spread,
 * would pull an untaught model's 20% towards 50%.)
 *
 * Plain data, no I/O, no clock, no allocation; deterministic (fixed order of
 * sums). Not thread-safe: the caller serialises (the engine thread).
 */
#ifndef WHACO_LEARN_H
#define WHACO_LEARN_H

#include <stdbool.h>
#include <stdint.h>

#include "whaco/segment.h"
#include "whaco/serial.h"
#include "whaco/team.h"

#define WHACO_LEARN_INPUTS     (1 + 2 * WHACO_FEATURES + WHACO_CLUSTERS + 1) /* 23 */
#define WHACO_LEARN_PRIOR_RATE 0.20 /* NADA walk-in close rate */

#define WHACO_TAG_LEARN 0x4e52454cu /* "LERN": the section of a saved state */

/* What the model reads of a walk-in (taken at its analysis). */
struct whaco_walkin_profile {
    double x[WHACO_FEATURES]; /* whaco_features' values; any value where unknown */
    uint8_t known;            /* bit j: feature j is known */
    int8_t cluster;           /* its segment, 0..WHACO_CLUSTERS-1 */
    bool outlier;             /* flagged by the outlier test */
};

struct whaco_learn {
    double mean[WHACO_LEARN_INPUTS];                    /* posterior means of the weights */
    double cov[WHACO_LEARN_INPUTS][WHACO_LEARN_INPUTS]; /* their covariance: symmetric, PD */
    uint64_t outcomes;                                  /* outcomes learned */
    uint64_t seg_outcomes[WHACO_CLUSTERS];              /* outcomes per segment */
    uint64_t seg_sold[WHACO_CLUSTERS];                  /* of which sales */
};

/* The model before any outcome: the prior. */
void whaco_learn_init(struct whaco_learn *l);

/* The profile of a walk-in from its customer (its known features) and segment result. */
void whaco_walkin_profile(struct whaco_walkin_profile *pr, const struct whaco_customer *c,
                          const struct whaco_segment_result *r);

/* closeProbability of a walk-in of profile pr, in (0, 1). Pure. */
double whaco_learn_predict(const struct whaco_learn *l, const struct whaco_walkin_profile *pr);

/*
 * Learn one outcome: the walk-in of profile pr bought (sold) or left
 * without buying. Updates the close model and the segment's counts.
 */
void whaco_learn_outcome(struct whaco_learn *l, const struct whaco_walkin_profile *pr, bool sold);

/*
 * The observed close rate of segment k: *rate (0..1) and *n outcomes;
 * false (and *rate 0) before its first outcome.
 */
bool whaco_learn_segment_rate(const struct whaco_learn *l, int k, double *rate, uint64_t *n);

/*
 * What each salesperson is good at: members[i]'s close rate with walk-ins
 * of segment k, shrunk toward the team's rate for k by empirical Bayes (a
 * beta-binomial): (sold + a p) / (n + a). p is the team's rate for k, itself
 * shrunk toward WHACO_LEARN_PRIOR_RATE as if the team had 20 more outcomes
 * at that rate; a is the prior's strength, estimated by the method of
 * moments from how much the members' own rates spread beyond what chance
 * explains (Kleinman 1973), within [5, 200]; 20 while fewer than two
 * members have outcomes in k. So three lucky sales do not make a star: in
 * a team whose members all sell 20%, 3 of 3 reads about 0.24. *rate
 * receives the shrunk rate and *n the member's outcomes in k; false when
 * they have none (*rate is then the team's). Pure.
 */
bool whaco_observed_skill(const struct whaco_team *t, size_t i, int k, double *rate, uint32_t *n);

/*
 * The skill match the network rule uses for members[i] and a walk-in of
 * segment k and priority p: the seed's 1 - |skill - p| while there is no
 * evidence, moving to the member's observed rate relative to the team's
 * best (whaco_observed_skill / the highest of any member, in [0, 1]) as
 * outcomes in k accumulate: weight n / (n + WHACO_LEARN_EVIDENCE_HALF).
 */
#define WHACO_LEARN_EVIDENCE_HALF 20.0 /* outcomes at which observation weighs as much as entry */
double whaco_skill_match(const struct whaco_team *t, size_t i, int k, double p);

/* Append the model to b (the LERN section's payload). */
void whaco_learn_encode(const struct whaco_learn *l, struct whaco_buf *b);

/* Read a payload of whaco_learn_encode into *l, checking every value (errors on r). */
void whaco_learn_decode(struct whaco_learn *l, struct whaco_reader *r);

/* Append / read a walk-in profile (the floor keeps one per walk-in). */
void whaco_walkin_profile_encode(const struct whaco_walkin_profile *pr, struct whaco_buf *b);
void whaco_walkin_profile_decode(struct whaco_walkin_profile *pr, struct whaco_reader *r);

#endif /* WHACO_LEARN_H */

/*
 * whaco/sim.h: a seeded discrete-event simulation of a dealership's sales
 * floor, to compare lead-assignment strategies (`whaco simulate`) and to
 * re-run a service's recorded history under another strategy (`whaco
 * replay`).
 *
 * A *world* is what every strategy sees: the team, the walk-ins (arrival
 * time, customer, and every random draw that decides their fate, drawn once
 * in advance: common random numbers), the business hours and the clock
 * events (5-minute ticks, midnight resets). whaco_sim_run() plays one
 * strategy on one world and fills a struct whaco_sim_result. Because the
 * draws belong to the customers and not to the run, two strategies differ
 * only by their own decisions. The model (arrivals, service time, chance to
 * close, patience) and the source of every number are in docs/simulation.md.
 *
 * The team network (whaco/intel.h) runs alongside every strategy: it gets
 * the ticks, the midnight resets and a deal-closed event for every deal, at
 * the simulated time, so coherence is measured for every strategy. Only the
 * oscillator strategy also sends analyze-customer events, and uses the
 * assignment whaco_intel_analyze() makes: the same core code as the service.
 *
 * Invariants: every walk-in ends in exactly one of served, abandoned or
 * still waiting at closing time; a salesperson never works more than
 * max_load customers at once. Pure computation like the core: no I/O, no
 * clock, seeded randomness only (whaco/rng.h); the same world, parameters
 * and strategy give bit-identical results. Memory: worlds own heap arrays
 * (release with whaco_sim_world_release); results are plain data. Not
 * thread-safe per world while it is being built; whaco_sim_run() only reads
 * the world, so runs on one world may proceed in parallel.
 */
#ifndef WHACO_SIM_H
#define WHACO_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/event.h"
#include "whaco/experiment.h"
#include "whaco/segment.h"
#include "whaco/team.h"

/* Assignment strategies. */
enum whaco_sim_strategy {
    WHACO_SIM_UP_ROTATION = 0, /* "up-rotation": longest idle first (the up system) */
    WHACO_SIM_ROUND_ROBIN = 1, /* "round-robin": next in a fixed cycle */
    WHACO_SIM_LEAST_BUSY = 2,  /* "least-busy": fewest open customers */
    WHACO_SIM_RANDOM = 3,      /* "random": uniform among the free */
    WHACO_SIM_SKILL_MATCH = 4, /* "skill-match": most skilled for high priority */
    WHACO_SIM_OSCILLATOR = 5, /* "oscillator": the seed's assignment at arrival (untracked floor) */
    /* "network" (once "oscillator-desk"): the service's default on a tracked
     * floor -- walk-ins wait at the desk and go to the free salesperson with
     * the best network score (whaco_team_score). */
    WHACO_SIM_NETWORK = 6,
    WHACO_SIM_STRATEGIES = 7
};

#define WHACO_SIM_HOURS_MAX 24 /* entries of the hourly arrival profile */

/* Model parameters; docs/simulation.md gives the source of each default. */
struct whaco_sim_params {
    uint32_t days;          /* business days simulated (Sundays are closed), 1..365; 5 */
    double arrival_rate;    /* mean weekday walk-ins per open hour, (0, 100]; 4 */
    double saturday_factor; /* Saturday traffic multiplier, [0, 10]; 1.5 */
    uint32_t open_hour;     /* opening hour (UTC of the simulated clock), 0..23; 9 */
    uint32_t close_hour;    /* closing hour, open_hour+1..24; 19 */
    double profile[WHACO_SIM_HOURS_MAX]; /* relative traffic of each open hour, mean 1 */
    uint32_t max_load;   /* customers one salesperson works at once, 1..100 (the floor's strategies:
                            1..WHACO_FLOOR_CUSTOMERS_MAX); 2 */
    double patience_min; /* mean minutes a walk-in waits before leaving; 20 */
    double close_base[WHACO_CLUSTERS]; /* chance to close per segment, before modifiers */
    double close_anomaly;              /* chance to close for an injected anomaly; 0.05 */
    double skill_close_gain; /* close x (1 + g (s - 0.5) 2 p): skill matters with priority; 0.4 */
    double load_close_loss;  /* close x (1 - l (k - 1)) for the k-th customer at once; 0.08 */
    double wait_halfway_min; /* close x 1 / (1 + wait / h): h minutes halve the chance; 30 */
    double skill_time_gain;  /* time x (1 + t (0.5 - s)): skilled staff are quicker; 0.3 */
    double load_time_gain;   /* time x (1 + u (k - 1)): multitasking is slower; 0.25 */
    double high_priority;    /* priority counted as high; WHACO_HIGH_PRIORITY (0.9) */
    /* The walk-in's own intent (engagement, credit, down payment: see
     * docs/simulation.md) moves the segment's chance: logit + g x intent;
     * 0 (the segment alone decides, as before), [0, 3]. */
    double feature_close_gain;
    /* Each member's true skill with each segment, hidden from whaco: their
     * entered skill + N(0, spread^2), clipped to [0, 1]; 0 (the entered
     * skill is the truth), [0, 1]. */
    double hidden_skill_spread;
    /* The network rule learns who sells what from the outcomes
     * (whaco_skill_match); false: the entered skill alone. true. */
    bool observed_skills;
};

/* One salesperson of a simulated team (strings are NUL-terminated copies). */
struct whaco_sim_member {
    char id[WHACO_TEAM_ID_MAX];     /* unique, as whaco_member_spec_check */
    char name[WHACO_TEAM_NAME_MAX]; /* display name */
    double skill;                   /* skillLevel, [0, 1] */
    double omega;                   /* naturalFrequency, rad per 10 minutes */
    double phase;                   /* initial phase, rad */
};

/* One walk-in with its pre-drawn randomness (common random numbers). */
struct whaco_sim_customer {
    int64_t arrive_ms;       /* arrival, Unix ms of the simulated clock */
    struct whaco_customer c; /* the analyze-customer payload */
    int32_t segment;         /* true segment 0..4, -1 anomaly, -2 unknown (use whaco's) */
    double u_close;          /* uniform [0, 1): closes iff u_close < chance */
    double patience_min;     /* minutes this customer will wait, > 0 */
    double u_pick;           /* uniform [0, 1): the random strategy's draw */
    int32_t rec_member;      /* replay: recorded salesperson index, -1 if none */
    int32_t rec_closed;      /* replay: 1 closed, 0 not, -1 unknown */
    int64_t rec_close_ms;    /* replay: time of the recorded deal-closed event */
};

/* Clock events the network receives, in time order. */
enum whaco_sim_clock_type {
    WHACO_SIM_TICK = 1,  /* whaco_intel_tick */
    WHACO_SIM_RESET = 2, /* whaco_intel_daily_reset */
    WHACO_SIM_DEAL = 3,  /* replay: a recorded deal not linked to a walk-in */
    WHACO_SIM_ADD = 4,   /* a salesperson joins (whaco_intel_add_salesperson) */
    WHACO_SIM_REMOVE = 5 /* a salesperson leaves (whaco_intel_remove_salesperson) */
};

struct whaco_sim_clock {
    int64_t t_ms;   /* when */
    uint32_t type;  /* enum whaco_sim_clock_type */
    int32_t member; /* DEAL, ADD, REMOVE: member index */
};

/*
 * A world: the team, the walk-ins in arrival order, business intervals and
 * clock events. All arrays are owned by the world.
 */
struct whaco_sim_world {
    struct whaco_sim_member *members;     /* [n_members] */
    size_t n_members;                     /* >= 1 */
    struct whaco_sim_customer *customers; /* [n_customers], arrive_ms non-decreasing */
    size_t n_customers;
    int64_t *opens;  /* [n_days] opening times */
    int64_t *closes; /* [n_days] closing times: the still-waiting go home */
    size_t n_days;
    struct whaco_sim_clock *clock; /* [n_clock], t_ms non-decreasing */
    size_t n_clock;
    int64_t start_ms;     /* time of the first event */
    unsigned char *state; /* replay: saved whaco_intel state to start from, or NULL */
    size_t state_len;     /* bytes of state */
    size_t n_initial;     /* members[0..n_initial) are in that state's team */
    double *true_skill;   /* [n_members * WHACO_CLUSTERS]: member m's true skill with
                             segment k at [m * WHACO_CLUSTERS + k], or NULL: their entered skill */
    double intent_center[WHACO_CLUSTERS]; /* each segment's mean intent (feature_close_gain) */
};

/* What happened to one walk-in in one run. */
enum whaco_sim_fate {
    WHACO_SIM_SERVED = 1,    /* a salesperson worked with them */
    WHACO_SIM_ABANDONED = 2, /* left after waiting patience_min */
    WHACO_SIM_AT_CLOSE = 3,  /* still waiting at closing time (or the end of a replay) */
};

struct whaco_sim_outcome {
    int32_t member;   /* salesperson index, -1 if never served */
    int32_t fate;     /* enum whaco_sim_fate */
    int32_t closed;   /* 1 if a deal was closed */
    int32_t guessed;  /* replay: 1 if the outcome is the model's, not the record's */
    double wait_min;  /* minutes from arrival to service, abandonment or closing */
    double priority;  /* the segment priority whaco gave the customer */
    int64_t start_ms; /* service start (served only) */
    int64_t end_ms;   /* service end; for the unserved, when they left */
    double close_p;   /* whaco's closeProbability at the walk-in's analysis */
    double chance;    /* their true chance to buy (0 if never served or the record's outcome) */
    int32_t cluster;  /* the segment whaco gave them, 0..4 */
    int32_t outlier;  /* 1 if whaco flagged them as an outlier */
};

/* Metrics of one run. */
struct whaco_sim_result {
    uint32_t walkins;        /* customers who arrived */
    uint32_t served;         /* ... and were worked with */
    uint32_t abandoned;      /* ... and left after waiting */
    uint32_t at_close;       /* ... and were still waiting at closing time */
    uint32_t deals;          /* deals closed */
    uint32_t guessed;        /* replay: served customers whose outcome is modelled */
    uint32_t high_priority;  /* served customers with priority >= high_priority */
    uint32_t high_by_top;    /* ... served by a top-third-skill salesperson */
    uint32_t peak_load;      /* most customers one salesperson had at once (queue included) */
    double close_rate;       /* deals / walkins */
    double wait_mean_min;    /* over all walk-ins, minutes */
    double wait_p95_min;     /* 95th percentile (nearest rank), minutes */
    double leads_per_member; /* served / team size */
    double deals_per_member; /* deals / team size */
    double leads_gini;       /* Gini of leads over salespeople, [0, 1] */
    double deals_gini;       /* Gini of deals over salespeople, [0, 1] */
    double top_skill_share;  /* high_by_top / high_priority (0 if none) */
    double coherence_mean;   /* mean r at the ticks during business hours */
    double coverage_mean;    /* mean whaco_floor_coverage at those ticks */
    double net_active_mean;  /* network's mean activeDeals per member at the end */
};

/* ===== Names and parameters ===== */

/* "up-rotation", ... "oscillator"; NULL if s is out of range. */
const char *whaco_sim_strategy_name(int s);

/* The strategy named `name`, or -1. */
int whaco_sim_strategy_parse(const char *name);

/* Fill p with the defaults documented on each field. */
void whaco_sim_params_default(struct whaco_sim_params *p);

/*
 * Check p. Returns WHACO_OK or WHACO_E_CONFIG / WHACO_E_NOT_FINITE with
 * *field (if not NULL) naming the first bad parameter (static string).
 */
int whaco_sim_params_check(const struct whaco_sim_params *p, const char **field);

/*
 * A default team of n members ("sp1".."spN"): skills evenly spread over
 * [mean - spread/2, mean + spread/2] (clipped to [0, 1]) in a fixed
 * shuffled order (so index and skill are unrelated), omega around 0.9 per
 * 10 minutes (+-0.05) and phases spread around the circle. Deterministic.
 */
void whaco_sim_default_team(struct whaco_sim_member *out, size_t n, double skill_mean,
                            double skill_spread);

/* ===== Worlds ===== */

/*
 * Build a synthetic world: the n members (copied), p->days business days
 * from 2026-01-01 (a Thursday; Sundays closed), Poisson walk-ins with the
 * hourly profile, customers from whaco_gen_customer with its defaults, the
 * per-customer draws, ticks every 5 minutes and resets at midnight, and
 * with p->hidden_skill_spread > 0 the members' true skills (from a stream
 * of their own, so the walk-ins do not change with it). Same seed, same
 * world. p must pass whaco_sim_params_check and n must be
 * >= 1. *w must be zeroed or released; allocates (abort on OOM).
 */
void whaco_sim_world_generate(struct whaco_sim_world *w, const struct whaco_sim_params *p,
                              const struct whaco_sim_member *members, size_t n, uint64_t seed);

/*
 * Build a world from a service's recorded events (decoded, in log order),
 * starting from a saved whaco_intel state (the store's snapshot, when the
 * log before it was compacted away; NULL and 0 for an empty start):
 * the walk-ins are the ANALYZE events with from_ms <= time < to_ms, the
 * team every salesperson added (ADD events; removals are ignored), the
 * clock the recorded ticks and resets. The recorded assignment of each
 * walk-in is recomputed by applying the events in order to a fresh
 * whaco_intel (the service's own deterministic rule); a recorded deal
 * closed by a salesperson is linked to that salesperson's oldest open walk-in
 * (the log does not name the customer), and deals with no open walk-in
 * become WHACO_SIM_DEAL clock events. Customer draws (patience, u_close,
 * u_pick) come from seed. Events outside [from_ms, to_ms) still build the
 * team. A RESET event empties the team: only what follows the last one is
 * replayed. Returns WHACO_OK, WHACO_E_EMPTY_TEAM if nobody was ever added,
 * WHACO_E_STATE_* for a bad state, or the first error of applying an event
 * (the log is then inconsistent; *field as whaco_event_apply); *w is
 * left zeroed on error.
 */
int whaco_sim_world_from_events(struct whaco_sim_world *w, const void *state, size_t state_len,
                                const struct whaco_event *ev, size_t n, int64_t from_ms,
                                int64_t to_ms, uint64_t seed, const char **field);

/* Free what w owns and zero it. Safe on a zeroed world. */
void whaco_sim_world_release(struct whaco_sim_world *w);

/* ===== Runs ===== */

/*
 * Play `strategy` on world w with parameters p; fill *res and, if out is
 * not NULL, out[0..w->n_customers) with each walk-in's outcome. A walk-in
 * with a recorded salesperson (replay) who is given the same salesperson
 * keeps the recorded outcome; any other gets the model's (guessed = 1).
 * Returns WHACO_OK, WHACO_E_INVAL for an unknown strategy, WHACO_E_CONFIG for a
 * floor strategy with max_load above WHACO_FLOOR_CUSTOMERS_MAX, or an error of
 * the team network (an invalid member: *res untouched). Allocates scratch
 * and frees it. Reads *w only.
 */
int whaco_sim_run(const struct whaco_sim_world *w, const struct whaco_sim_params *p, int strategy,
                  struct whaco_sim_result *res, struct whaco_sim_outcome *out);

/*
 * Play the A/B test exp (on, two different rules, its seed) on world w as
 * the service runs it: the core's tracked floor with the experiment started
 * at the world's start, so every walk-in is split into an arm and given out
 * by that arm's rule, and counted in its arm when its visit ends -- served,
 * given up or sent home at closing, so by the end every walk-in has ended.
 * *res as whaco_sim_run's; *exp_out receives the experiment's counts at
 * the end (what GET experiment would report: whaco_experiment_report).
 * Returns WHACO_OK, WHACO_E_CONFIG for exp off or failing its check, or
 * whaco_sim_run's errors. Reads *w only.
 */
int whaco_sim_run_experiment(const struct whaco_sim_world *w, const struct whaco_sim_params *p,
                             const struct whaco_experiment_config *exp,
                             struct whaco_sim_result *res, struct whaco_experiment *exp_out);

/* ===== Metrics and statistics ===== */

enum whaco_sim_metric {
    WHACO_SIM_M_DEALS = 0,
    WHACO_SIM_M_CLOSE_RATE,
    WHACO_SIM_M_WAIT_MEAN,
    WHACO_SIM_M_WAIT_P95,
    WHACO_SIM_M_ABANDONED,
    WHACO_SIM_M_LEADS_PER,
    WHACO_SIM_M_DEALS_PER,
    WHACO_SIM_M_LEADS_GINI,
    WHACO_SIM_M_DEALS_GINI,
    WHACO_SIM_M_PEAK_LOAD,
    WHACO_SIM_M_TOP_SKILL,
    WHACO_SIM_M_COHERENCE,
    WHACO_SIM_M_COVERAGE,
    WHACO_SIM_METRICS
};

/* Short key of metric m ("deals", "closeRate", ...); NULL if out of range. */
const char *whaco_sim_metric_key(int m);

/* Human label of metric m ("deals closed", ...); NULL if out of range. */
const char *whaco_sim_metric_label(int m);

/* Decimals a report shows of metric m (0 if out of range). */
int whaco_sim_metric_decimals(int m);

/* Value of metric m in r (0 if m is out of range). */
double whaco_sim_metric(const struct whaco_sim_result *r, int m);

/* Mean and 95% interval (Student t) of n values. */
struct whaco_sim_stat {
    double mean; /* sample mean */
    double lo;   /* mean - t(0.975, n-1) s / sqrt(n); = mean when n < 2 */
    double hi;   /* mean + ... */
};

/* Summarise x[0..n); n may be 0 (all zero). */
void whaco_sim_stat(const double *x, size_t n, struct whaco_sim_stat *out);

/* Gini coefficient of x[0..n) (non-negative values): 0 equal, -> 1 concentrated. */
double whaco_sim_gini(const double *x, size_t n);

#endif /* WHACO_SIM_H */

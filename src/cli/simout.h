/*
 * cli/simout.h: the runs and reports shared by `whaco simulate` and `whaco
 * replay` (implemented in simout.c): play the chosen strategies on one
 * world per replication, then print a table, JSON or an SVG chart of the
 * mean and 95% interval of every metric, and the paired difference of each
 * strategy from up-rotation (common random numbers make it precise).
 */
#ifndef WHACO_CLI_SIMOUT_H
#define WHACO_CLI_SIMOUT_H

#include <stdint.h>
#include <stdio.h>

#include "whaco/sim.h"

struct simout {
    unsigned mask;                           /* strategies played: bit s for strategy s */
    uint64_t reps;                           /* replications */
    size_t n_members;                        /* team size of the first world */
    uint64_t walkins;                        /* walk-ins summed over replications */
    uint64_t guessed[WHACO_SIM_STRATEGIES];  /* replay: modelled outcomes, summed */
    uint64_t served[WHACO_SIM_STRATEGIES];   /* served walk-ins, summed */
    double net_active[WHACO_SIM_STRATEGIES]; /* network's mean activeDeals at the end */
    struct whaco_sim_stat stat[WHACO_SIM_STRATEGIES][WHACO_SIM_METRICS];
    struct whaco_sim_stat diff[WHACO_SIM_STRATEGIES][WHACO_SIM_METRICS]; /* minus up-rotation */
    int have_diff; /* up-rotation was played */
};

/* Builds replication rep's world into *w (zeroed); returns 0 or -1 (reported on err). */
typedef int (*simout_world_cb)(void *ctx, uint64_t rep, struct whaco_sim_world *w);

/*
 * Play the strategies in mask on cb's worlds; 0, or -1 with the reason on
 * err. With walkins not NULL, every walk-in of every run is also written
 * there as a CSV row (simout_walkins_header's columns; docs/simulation.md).
 */
int simout_run_worlds(struct simout *so, const struct whaco_sim_params *p, simout_world_cb cb,
                      void *ctx, uint64_t reps, unsigned mask, FILE *walkins, FILE *err);

/* The same on synthetic worlds of the given team, seeds seed, seed+1, ... */
int simout_run(struct simout *so, const struct whaco_sim_params *p,
               const struct whaco_sim_member *team, size_t n, uint64_t seed, uint64_t reps,
               unsigned mask, FILE *walkins, FILE *err);

/* Those synthetic worlds, for another pass over them: a simout_world_cb on a struct simout_gen. */
struct simout_gen {
    const struct whaco_sim_params *p;
    const struct whaco_sim_member *team;
    size_t n;
    uint64_t seed; /* replication r's world has seed + r */
};
int simout_gen_world(void *ctx, uint64_t rep, struct whaco_sim_world *w);

/* Write the header row of the walk-ins CSV to f. */
void simout_walkins_header(FILE *f);

void simout_release(struct simout *so);
void simout_table(const struct simout *so, FILE *out);
void simout_json(const struct simout *so, const char *cmdline, FILE *out);

/* simout_json without its closing "}\n", for a caller that adds keys after the strategies. */
void simout_json_open(const struct simout *so, const char *cmdline, FILE *out);
int simout_svg(const struct simout *so, const char *cmdline, const char *file, FILE *err);
void simout_sweep_row(const struct simout *so, const char *label, FILE *out);

/*
 * The strategies named by a --strategy value: "all" or one strategy's name.
 * Returns 0 with *mask set (bit s for strategy s), or -1 (v may be NULL).
 */
int simout_parse_strategies(const char *v, unsigned *mask);

/* "whaco simulate --days 5 ..." from argv (argv[0] is the subcommand). */
void simout_cmdline(int argc, char **argv, const char *prefix, char *buf, size_t cap);

#endif /* WHACO_CLI_SIMOUT_H */

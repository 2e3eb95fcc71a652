/*
 * simulate.c: `whaco simulate` -- compare lead-assignment strategies on a
 * simulated sales floor (whaco/sim.h, docs/simulation.md), with a team
 * given by size or read from a file, and `--sweep`'s table of the ranking
 * over arrival rates, team sizes and skill spreads. The runs and the
 * reports are simout.c's, shared with `whaco replay`.
 *
 * Every replication builds one world (seed + replication number) and plays
 * every chosen strategy on it: common random numbers, so the paired
 * differences against up-rotation are the strategies' own.
 */
#include <stdlib.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/sim.h"
#include "cli/cli.h"
#include "cli/csv.h"
#include "cli/simout.h"
#include "cli/teamfile.h"
#include "banned.h"

static int usage(FILE *err)
{
    fputs("usage: whaco simulate [--strategy NAME|all] [--days N] [--replications N] [--seed S]\n"
          "                      [--team FILE.csv|FILE.json | --team-size N] [--skill-spread X]\n"
          "                      [--arrival-rate X] [--max-load N] [--patience MIN]\n"
          "                      [--json] [--plot FILE.svg] [--sweep]\n"
          "  strategies: up-rotation round-robin least-busy random skill-match oscillator\n"
          "              oscillator-desk\n",
          err);
    return 2;
}

static int parse_num(const char *s, double lo, double hi, double *out)
{
    double v;
    if (!s || csv_parse_double(s, &v) || !(v >= lo) || !(v <= hi))
        return -1;
    *out = v;
    return 0;
}

/* ===== Sweep ===== */

static int sweep(const struct whaco_sim_params *base, size_t team_size, double spread,
                 uint64_t seed, uint64_t reps, FILE *out, FILE *err)
{
    static const double rates[] = {2.0, 4.0, 6.0, 8.0};
    static const size_t sizes[] = {4, 6, 10};
    static const double spreads[] = {0.0, 0.4, 0.8};
    fprintf(out, "| setting | ranking by deals (best first) | oscillator - up-rotation: deals | "
                 "mean wait (min) | lost walk-ins |\n|---|---|---|---|---|\n");
    for (int axis = 0; axis < 3; axis++) {
        size_t nv = axis == 0 ? 4 : 3;
        for (size_t v = 0; v < nv; v++) {
            struct whaco_sim_params p = *base;
            size_t n = team_size;
            double sp = spread;
            char label[64];
            if (axis == 0) {
                p.arrival_rate = rates[v];
                snprintf(label, sizeof label, "arrival %.0f/h", rates[v]);
            } else if (axis == 1) {
                n = sizes[v];
                snprintf(label, sizeof label, "team of %zu", n);
            } else {
                sp = spreads[v];
                snprintf(label, sizeof label, "skill spread %.1f", sp);
            }
            struct whaco_sim_member team[16];
            whaco_sim_default_team(team, n, 0.6, sp);
            struct simout so;
            if (simout_run(&so, &p, team, n, seed, reps, (1u << WHACO_SIM_STRATEGIES) - 1, err))
                return 2;
            simout_sweep_row(&so, label, out);
            simout_release(&so);
        }
    }
    return 0;
}

int whaco_cmd_simulate(int argc, char **argv, FILE *out, FILE *err)
{
    struct whaco_sim_params p;
    uint64_t seed = 1, reps = 20, days = 5, team_size = 6, max_load = 0;
    unsigned mask = (1u << WHACO_SIM_STRATEGIES) - 1;
    const char *team_file = NULL, *plot = NULL;
    double spread = 0.6;
    int json = 0, do_sweep = 0, have_size = 0;
    static struct whaco_sim_member team[TEAM_FILE_MAX];
    size_t n = 0;

    whaco_sim_params_default(&p);
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--strategy")) {
            bad = simout_parse_strategies(v, &mask);
            i++;
        } else if (!strcmp(a, "--days")) {
            bad = csv_parse_u64(v, &days) || days < 1 || days > 365;
            i++;
        } else if (!strcmp(a, "--replications")) {
            bad = csv_parse_u64(v, &reps) || reps < 1 || reps > 10000;
            i++;
        } else if (!strcmp(a, "--seed")) {
            bad = csv_parse_u64(v, &seed);
            i++;
        } else if (!strcmp(a, "--team")) {
            bad = !v;
            team_file = v;
            i++;
        } else if (!strcmp(a, "--team-size")) {
            bad = csv_parse_u64(v, &team_size) || team_size < 1 || team_size > TEAM_FILE_MAX;
            have_size = 1;
            i++;
        } else if (!strcmp(a, "--skill-spread")) {
            bad = parse_num(v, 0.0, 1.0, &spread);
            i++;
        } else if (!strcmp(a, "--arrival-rate")) {
            bad = parse_num(v, 0.01, 100.0, &p.arrival_rate);
            i++;
        } else if (!strcmp(a, "--max-load")) {
            bad = csv_parse_u64(v, &max_load) || max_load < 1 || max_load > 100;
            i++;
        } else if (!strcmp(a, "--patience")) {
            bad = parse_num(v, 0.1, 10000.0, &p.patience_min);
            i++;
        } else if (!strcmp(a, "--json")) {
            json = 1;
        } else if (!strcmp(a, "--plot")) {
            bad = !v;
            plot = v;
            i++;
        } else if (!strcmp(a, "--sweep")) {
            do_sweep = 1;
        } else {
            fprintf(err, "whaco simulate: unknown option %s\n", a);
            return usage(err);
        }
        if (bad) {
            fprintf(err, "whaco simulate: bad value for %s: %s\n", a, v ? v : "(missing)");
            return usage(err);
        }
    }
    if (team_file && have_size) {
        fprintf(err, "whaco simulate: --team and --team-size are exclusive\n");
        return usage(err);
    }
    if (do_sweep && (team_file || json || plot)) {
        fprintf(err, "whaco simulate: --sweep uses default teams and prints a table only\n");
        return usage(err);
    }
    p.days = (uint32_t)days;
    if (max_load)
        p.max_load = (uint32_t)max_load;
    if (team_file) {
        if (team_file_read(team_file, team, &n, err))
            return 2;
    } else {
        n = (size_t)team_size;
        whaco_sim_default_team(team, n, 0.6, spread);
    }
    if (do_sweep)
        return sweep(&p, (size_t)team_size, spread, seed, reps, out, err);

    struct simout so;
    if (simout_run(&so, &p, team, n, seed, reps, mask, err))
        return 2;
    char cmd[512];
    simout_cmdline(argc, argv, "whaco simulate", cmd, sizeof cmd);
    if (json)
        simout_json(&so, cmd, out);
    else
        simout_table(&so, out);
    int rc = 0;
    if (plot && simout_svg(&so, cmd, plot, err))
        rc = 2;
    simout_release(&so);
    return rc;
}

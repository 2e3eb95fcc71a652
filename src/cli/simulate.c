/*
 * simulate.c: `whaco simulate` -- compare lead-assignment strategies on a
 * simulated sales floor (whaco/sim.h, docs/simulation.md), with a team
 * given by size or read from a file, and `--sweep`'s table of the ranking
 * over arrival rates, team sizes and skill spreads; `--experiment A,B`
 * plays an A/B test of two rules as the service runs it and says how many
 * days one needs (simexp.c). The runs and the reports are simout.c's and
 * simexp.c's, shared with `whaco replay`.
 *
 * Every replication builds one world (seed + replication number) and plays
 * every chosen strategy on it: common random numbers, so the paired
 * differences against up-rotation are the strategies' own.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/sim.h"
#include "cli/cli.h"
#include "cli/csv.h"
#include "cli/simexp.h"
#include "cli/simout.h"
#include "cli/teamfile.h"
#include "banned.h"

static int usage(FILE *err)
{
    fputs(
        "usage: whaco simulate [--strategy NAME|all] [--days N] [--replications N] [--seed S]\n"
        "                      [--team FILE.csv|FILE.json | --team-size N] [--skill-spread X]\n"
        "                      [--arrival-rate X] [--max-load N] [--patience MIN]\n"
        "                      [--feature-gain X] [--hidden-skills X] [--observed-skills on|off]\n"
        "                      [--json] [--plot FILE.svg] [--walkins FILE.csv] [--sweep]\n"
        "                      [--experiment A,B[,SEED] [--detect POINTS]]\n"
        "  strategies: up-rotation round-robin least-busy random skill-match oscillator\n"
        "              network (oscillator-desk)\n"
        "  --experiment: an A/B test of two floor rules (network, up-rotation, round-robin,\n"
        "  least-busy), split per walk-in; --detect: the difference to plan for (3 points)\n",
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
    fprintf(out, "| setting | ranking by deals (best first) | network - up-rotation: deals | "
                 "p95 wait (min) | lost walk-ins | Gini of leads | oscillator (the seed) - "
                 "up-rotation: deals |\n|---|---|---|---|---|---|---|\n");
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
            if (simout_run(&so, &p, team, n, seed, reps, (1u << WHACO_SIM_STRATEGIES) - 1, NULL,
                           err))
                return 2;
            simout_sweep_row(&so, label, out);
            simout_release(&so);
        }
    }
    return 0;
}

/* The command line. */
struct options {
    struct whaco_sim_params p; /* the model, with --arrival-rate and --patience */
    uint64_t days;             /* --days */
    uint64_t max_load;         /* --max-load, 0: the model's */
    uint64_t seed;             /* --seed: replication r's world has seed + r */
    uint64_t reps;             /* --replications */
    uint64_t team_size;        /* --team-size */
    int have_size;             /* --team-size was given */
    unsigned mask;             /* --strategy: bit s for strategy s */
    int have_mask;             /* --strategy was given */
    /* --experiment: an A/B test, or off */
    struct whaco_experiment_config exp;
    double detect;         /* --detect: points to plan the A/B test for */
    const char *team_file; /* --team, or NULL */
    const char *plot;      /* --plot: an SVG chart to write, or NULL */
    const char *walkins;   /* --walkins: every walk-in of every run as CSV, or NULL */
    double spread;         /* --skill-spread */
    int json;              /* --json */
    int sweep;             /* --sweep */
};

/*
 * Read option a, whose value (if it takes one) is v, into *o: 0, 1 if v
 * is missing or bad, or -1 if a is no option of simulate. *takes_value
 * says whether a takes v.
 */
static int parse_option(const char *a, const char *v, struct options *o, int *takes_value)
{
    *takes_value = 1;
    if (!strcmp(a, "--strategy")) {
        o->have_mask = 1;
        return simout_parse_strategies(v, &o->mask) != 0;
    }
    if (!strcmp(a, "--experiment")) {
        char why[256];
        return !v || whaco_experiment_parse(v, &o->exp, why, sizeof why) != WHACO_OK;
    }
    if (!strcmp(a, "--detect"))
        return parse_num(v, 0.1, 50.0, &o->detect) != 0;
    if (!strcmp(a, "--days"))
        return csv_parse_u64(v, &o->days) || o->days < 1 || o->days > 365;
    if (!strcmp(a, "--replications"))
        return csv_parse_u64(v, &o->reps) || o->reps < 1 || o->reps > 10000;
    if (!strcmp(a, "--seed"))
        return csv_parse_u64(v, &o->seed) != 0;
    if (!strcmp(a, "--team")) {
        o->team_file = v;
        return !v;
    }
    if (!strcmp(a, "--team-size")) {
        o->have_size = 1;
        return csv_parse_u64(v, &o->team_size) || o->team_size < 1 || o->team_size > TEAM_FILE_MAX;
    }
    if (!strcmp(a, "--skill-spread"))
        return parse_num(v, 0.0, 1.0, &o->spread) != 0;
    if (!strcmp(a, "--arrival-rate"))
        return parse_num(v, 0.01, 100.0, &o->p.arrival_rate) != 0;
    if (!strcmp(a, "--max-load"))
        return csv_parse_u64(v, &o->max_load) || o->max_load < 1 ||
               o->max_load > WHACO_FLOOR_CUSTOMERS_MAX;
    if (!strcmp(a, "--patience"))
        return parse_num(v, 0.1, 10000.0, &o->p.patience_min) != 0;
    if (!strcmp(a, "--feature-gain"))
        return parse_num(v, 0.0, 3.0, &o->p.feature_close_gain) != 0;
    if (!strcmp(a, "--hidden-skills"))
        return parse_num(v, 0.0, 1.0, &o->p.hidden_skill_spread) != 0;
    if (!strcmp(a, "--observed-skills")) {
        o->p.observed_skills = v && !strcmp(v, "on");
        return !v || (strcmp(v, "on") && strcmp(v, "off"));
    }
    if (!strcmp(a, "--plot")) {
        o->plot = v;
        return !v;
    }
    if (!strcmp(a, "--walkins")) {
        o->walkins = v;
        return !v;
    }
    *takes_value = 0;
    if (!strcmp(a, "--json")) {
        o->json = 1;
        return 0;
    }
    if (!strcmp(a, "--sweep")) {
        o->sweep = 1;
        return 0;
    }
    return -1;
}

/* Fill *o from argv: 0, or the usage's exit status after reporting. */
static int parse_options(int argc, char **argv, struct options *o, FILE *err)
{
    memset(o, 0, sizeof *o);
    whaco_sim_params_default(&o->p);
    o->days = 5;
    o->seed = 1;
    o->reps = 20;
    o->team_size = 6;
    o->mask = (1u << WHACO_SIM_STRATEGIES) - 1;
    o->spread = 0.6;
    o->detect = 3.0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int takes_value = 0;
        int bad = parse_option(a, v, o, &takes_value);
        if (bad < 0) {
            fprintf(err, "whaco simulate: unknown option %s\n", a);
            return usage(err);
        }
        if (bad) {
            fprintf(err, "whaco simulate: bad value for %s: %s\n", a, v ? v : "(missing)");
            return usage(err);
        }
        i += takes_value;
    }
    if (o->team_file && o->have_size) {
        fprintf(err, "whaco simulate: --team and --team-size are exclusive\n");
        return usage(err);
    }
    if (o->sweep && (o->team_file || o->json || o->plot || o->walkins || o->exp.enabled)) {
        fprintf(err, "whaco simulate: --sweep uses default teams and prints a table only\n");
        return usage(err);
    }
    if (o->exp.enabled) { /* the two rules on the whole floor too: what the test measures */
        unsigned both =
            1u << simexp_strategy_of(o->exp.rule[0]) | 1u << simexp_strategy_of(o->exp.rule[1]);
        o->mask = o->have_mask ? o->mask | both : both;
        if (!o->exp.seed)
            o->exp.seed = o->seed; /* replication r: --seed + r, like its world */
    }
    o->p.days = (uint32_t)o->days;
    if (o->max_load)
        o->p.max_load = (uint32_t)o->max_load;
    return 0;
}

int whaco_cmd_simulate(int argc, char **argv, FILE *out, FILE *err)
{
    static struct whaco_sim_member team[TEAM_FILE_MAX];
    struct options o;
    size_t n = 0;
    int status = parse_options(argc, argv, &o, err);
    if (status)
        return status;
    if (o.sweep)
        return sweep(&o.p, (size_t)o.team_size, o.spread, o.seed, o.reps, out, err);
    if (o.team_file) {
        if (team_file_read(o.team_file, team, &n, err))
            return 2;
    } else {
        n = (size_t)o.team_size;
        whaco_sim_default_team(team, n, 0.6, o.spread);
    }

    FILE *walkins = NULL;
    if (o.walkins) {
        walkins = fopen(o.walkins, "w");
        if (!walkins) {
            fprintf(err, "whaco simulate: cannot write %s: %s\n", o.walkins, strerror(errno));
            return 2;
        }
        simout_walkins_header(walkins);
    }
    struct simout so;
    int failed = simout_run(&so, &o.p, team, n, o.seed, o.reps, o.mask, walkins, err);
    if (walkins && fclose(walkins) != 0 && !failed) {
        fprintf(err, "whaco simulate: cannot write %s: %s\n", o.walkins, strerror(errno));
        failed = 1;
    }
    static struct simexp se; /* large: not on the stack */
    struct simout_gen gen = {&o.p, team, n, o.seed};
    if (!failed && o.exp.enabled)
        failed = simexp_run(&se, &o.p, &o.exp, o.detect, simout_gen_world, &gen, o.reps, err);
    if (failed)
        return 2;
    char cmd[512];
    simout_cmdline(argc, argv, "whaco simulate", cmd, sizeof cmd);
    if (o.json) {
        simout_json_open(&so, cmd, out);
        if (o.exp.enabled) {
            fputs(",\"experiment\":", out);
            simexp_json(&se, out);
        }
        fputs("}\n", out);
    } else {
        simout_table(&so, out);
        if (o.exp.enabled)
            simexp_table(&se, out);
    }
    if (o.plot && simout_svg(&so, cmd, o.plot, err))
        status = 2;
    simout_release(&so);
    return status;
}

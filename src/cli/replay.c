/*
 * replay.c: `whaco replay --data DIR` -- re-run a service's recorded
 * history under other assignment strategies (whaco_sim_world_from_events)
 * and print the same report as `whaco simulate`, with `--experiment A,B`
 * an A/B test of two rules played on the recorded walk-ins (simexp.c).
 *
 * The store is only read: the command refuses a store that does not exist
 * (WHACO_STORE_MUST_EXIST; opening would create one), and whaco_store_open
 * does not write to an existing database of the current schema. Nothing is appended,
 * snapshotted or compacted. When the log has been compacted behind a
 * snapshot, the replay starts from that snapshot's state.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/sim.h"
#include "whaco/store.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/csv.h"
#include "cli/simexp.h"
#include "cli/simout.h"
#include "banned.h"

static int usage(FILE *err)
{
    fputs("usage: whaco replay --data DIR [--strategy NAME|all] [--from YYYY-MM-DD]\n"
          "                    [--to YYYY-MM-DD] [--replications N] [--seed S] [--max-load N]\n"
          "                    [--json] [--plot FILE.svg]\n"
          "                    [--experiment A,B[,SEED] [--detect POINTS]]\n"
          "  dates are local days (TZ); --to is inclusive\n",
          err);
    return 2;
}

struct log {
    struct whaco_event *ev;
    size_t n, cap;
    uint64_t first_seq, after;
    int bad;
};

static int collect(void *ctx, uint64_t seq, int64_t time_ms, uint32_t type, const void *body,
                   size_t len)
{
    struct log *lg = ctx;
    (void)time_ms;
    (void)type;
    if (seq <= lg->after)
        return 0;
    if (lg->n == lg->cap) {
        size_t cap = lg->cap ? lg->cap * 2 : 1024;
        struct whaco_event *p = whaco_reallocarray(lg->ev, cap, sizeof *p);
        if (!p)
            return -1;
        lg->ev = p;
        lg->cap = cap;
    }
    if (lg->n == 0)
        lg->first_seq = seq;
    if (whaco_event_decode(&lg->ev[lg->n], body, len) != WHACO_OK) {
        lg->bad = 1;
        return 1;
    }
    lg->n++;
    return 0;
}

/* Local midnight of YYYY-MM-DD (plus days), Unix ms; -1 if malformed. */
static int parse_date(const char *s, int plus_days, int64_t *out)
{
    int y, mo, d;
    char tail;
    if (!s || sscanf(s, "%4d-%2d-%2d%c", &y, &mo, &d, &tail) != 3 || mo < 1 || mo > 12 || d < 1 ||
        d > 31)
        return -1;
    struct tm tm;
    memset(&tm, 0, sizeof tm);
    tm.tm_year = y - 1900;
    tm.tm_mon = mo - 1;
    tm.tm_mday = d + plus_days;
    tm.tm_isdst = -1;
    time_t t = mktime(&tm);
    if (t == (time_t)-1)
        return -1;
    *out = (int64_t)t * 1000;
    return 0;
}

struct replay_ctx {
    const struct log *lg;
    const void *state;
    size_t state_len;
    int64_t from, to;
    uint64_t seed;
    FILE *err;
};

static int replay_world(void *ctx, uint64_t rep, struct whaco_sim_world *w)
{
    const struct replay_ctx *c = ctx;
    const char *field = NULL;
    int rc = whaco_sim_world_from_events(w, c->state, c->state_len, c->lg->ev, c->lg->n, c->from,
                                         c->to, c->seed + rep, &field);
    if (rc != WHACO_OK) {
        fprintf(c->err, "whaco replay: the log cannot be replayed: %s%s%s\n", whaco_strerror(rc),
                field ? ", field " : "", field ? field : "");
        return -1;
    }
    return 0;
}

/* The command line. */
struct options {
    const char *dir;   /* --data: the service's data directory */
    const char *plot;  /* --plot: an SVG chart to write, or NULL */
    unsigned mask;     /* --strategy: bit s for strategy s */
    int64_t from, to;  /* --from, --to: the window, Unix ms [from, to) */
    uint64_t reps;     /* --replications */
    uint64_t seed;     /* --seed */
    uint64_t max_load; /* --max-load, 0: the model's */
    int json;          /* --json */
    int have_mask;     /* --strategy was given */
    double detect;     /* --detect: points to plan the A/B test for */
    /* --experiment: an A/B test, or off */
    struct whaco_experiment_config exp;
};

/* --experiment or --detect (a names which) from v; 0, or nonzero if bad. */
static int parse_experiment(const char *a, const char *v, struct options *o)
{
    char why[256];
    if (!strcmp(a, "--experiment"))
        return !v || whaco_experiment_parse(v, &o->exp, why, sizeof why) != WHACO_OK;
    double d;
    int bad = !v || csv_parse_double(v, &d) || !(d >= 0.1 && d <= 50.0);
    if (!bad)
        o->detect = d;
    return bad;
}

/* With an experiment: both rules on the whole floor too, and its seed. */
static void experiment_defaults(struct options *o)
{
    if (!o->exp.enabled)
        return;
    unsigned both =
        1u << simexp_strategy_of(o->exp.rule[0]) | 1u << simexp_strategy_of(o->exp.rule[1]);
    o->mask = o->have_mask ? o->mask | both : both;
    if (!o->exp.seed)
        o->exp.seed = o->seed;
}

/* --replications, --seed or --max-load (a names which) from v; 0, or nonzero if bad. */
static int parse_count(const char *a, const char *v, struct options *o)
{
    uint64_t x = 0;
    int bad = csv_parse_u64(v, &x);
    if (!strcmp(a, "--replications")) {
        bad = bad || x < 1 || x > 10000;
        o->reps = x;
    } else if (!strcmp(a, "--seed")) {
        o->seed = x;
    } else {
        bad = bad || x < 1 || x > WHACO_FLOOR_CUSTOMERS_MAX;
        o->max_load = x;
    }
    return bad;
}

/* Fill *o from argv: 0, or the usage's exit status after reporting. */
static int parse_options(int argc, char **argv, struct options *o, FILE *err)
{
    *o = (struct options){.mask = (1u << WHACO_SIM_STRATEGIES) - 1,
                          .from = INT64_MIN,
                          .to = INT64_MAX,
                          .reps = 20,
                          .seed = 1,
                          .detect = 3.0};
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--data")) {
            bad = !v;
            o->dir = v;
            i++;
        } else if (!strcmp(a, "--strategy")) {
            bad = simout_parse_strategies(v, &o->mask);
            o->have_mask = 1;
            i++;
        } else if (!strcmp(a, "--experiment") || !strcmp(a, "--detect")) {
            bad = parse_experiment(a, v, o);
            i++;
        } else if (!strcmp(a, "--from")) {
            bad = parse_date(v, 0, &o->from);
            i++;
        } else if (!strcmp(a, "--to")) {
            bad = parse_date(v, 1, &o->to);
            i++;
        } else if (!strcmp(a, "--replications") || !strcmp(a, "--seed") ||
                   !strcmp(a, "--max-load")) {
            bad = parse_count(a, v, o);
            i++;
        } else if (!strcmp(a, "--json")) {
            o->json = 1;
        } else if (!strcmp(a, "--plot")) {
            bad = !v;
            o->plot = v;
            i++;
        } else {
            fprintf(err, "whaco replay: unknown option %s\n", a);
            return usage(err);
        }
        if (bad) {
            fprintf(err, "whaco replay: bad value for %s: %s\n", a, v ? v : "(missing)");
            return usage(err);
        }
    }
    if (!o->dir) {
        fprintf(err, "whaco replay: --data DIR is required\n");
        return usage(err);
    }
    if (o->from >= o->to) {
        fprintf(err, "whaco replay: --from must be before --to\n");
        return usage(err);
    }
    experiment_defaults(o);
    return 0;
}

/*
 * Read the events of dir's log into *lg (zeroed); when the log has been
 * compacted, only those after the latest snapshot, whose state goes into
 * *state (the caller frees it with whaco_free; NULL if none). 0, or 2
 * after reporting. The store is opened read-only in effect and closed.
 */
static int read_log(const char *dir, struct log *lg, void **state, size_t *state_len, FILE *err)
{
    struct whaco_store *store = NULL;
    uint64_t snap_seq = 0;
    int64_t snap_ms = 0;
    if (cli_open_existing_store(dir, &store, "whaco replay", err))
        return 2;
    int rc = whaco_store_replay(store, 0, collect, lg);
    if (rc == WHACO_OK && !lg->bad && lg->n > 0 && lg->first_seq != 1) {
        /* Compacted: start from the snapshot and the events after it. */
        rc = whaco_store_latest_snapshot(store, &snap_seq, &snap_ms, state, state_len);
        lg->n = 0;
        lg->after = snap_seq;
        if (rc == WHACO_OK)
            rc = whaco_store_replay(store, 0, collect, lg);
        if (rc == WHACO_OK && *state)
            fprintf(err,
                    "whaco replay: the log before event %llu was compacted; replaying from the "
                    "snapshot there\n",
                    (unsigned long long)snap_seq);
    }
    if (rc != WHACO_OK || lg->bad) {
        fprintf(err, "whaco replay: %s\n",
                lg->bad ? "the log holds an event that does not decode"
                        : whaco_store_errmsg(store));
        whaco_store_close(store);
        return 2;
    }
    whaco_store_close(store);
    return 0;
}

/* What a text report says before its table: how much of it is real. */
static void print_preamble(FILE *out, size_t events)
{
    fprintf(out,
            "Replay of %zu recorded events. Walk-ins and their times are real; the team "
            "is the recorded one.\n"
            "A walk-in given to the same salesperson as in reality keeps the real "
            "outcome (deal or not);\n"
            "one given to someone else gets the model's outcome (a guess; share per "
            "strategy below).\n"
            "Waiting, service times and abandonment are always the model's "
            "(docs/simulation.md).\n\n",
            events);
}

int whaco_cmd_replay(int argc, char **argv, FILE *out, FILE *err)
{
    struct options o;
    int status = parse_options(argc, argv, &o, err);
    if (status)
        return status;
    struct log lg;
    void *state = NULL;
    size_t state_len = 0;
    memset(&lg, 0, sizeof lg);
    status = read_log(o.dir, &lg, &state, &state_len, err);
    if (status) {
        whaco_free(lg.ev);
        whaco_free(state);
        return status;
    }

    struct whaco_sim_params p;
    whaco_sim_params_default(&p);
    if (o.max_load)
        p.max_load = (uint32_t)o.max_load;
    struct replay_ctx ctx = {&lg, state, state_len, o.from, o.to, o.seed, err};
    struct simout so;
    static struct simexp se; /* large: not on the stack */
    if (simout_run_worlds(&so, &p, replay_world, &ctx, o.reps, o.mask, NULL, err) ||
        (o.exp.enabled && simexp_run(&se, &p, &o.exp, o.detect, replay_world, &ctx, o.reps, err))) {
        status = 2;
    } else {
        char cmd[512];
        simout_cmdline(argc, argv, "whaco replay", cmd, sizeof cmd);
        if (o.json) {
            simout_json_open(&so, cmd, out);
            if (o.exp.enabled) {
                fputs(",\"experiment\":", out);
                simexp_json(&se, out);
            }
            fputs("}\n", out);
        } else {
            print_preamble(out, lg.n);
            simout_table(&so, out);
            if (o.exp.enabled)
                simexp_table(&se, out);
        }
        if (o.plot && simout_svg(&so, cmd, o.plot, err))
            status = 2;
    }
    whaco_free(lg.ev);
    whaco_free(state);
    return status;
}

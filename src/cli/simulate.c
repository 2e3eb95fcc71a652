/*
 * simulate.c: `whaco simulate` -- compare lead-assignment strategies on a
 * simulated sales floor (whaco/sim.h, docs/simulation.md), and the shared
 * output of `whaco replay`: a text table (mean and 95% interval over the
 * replications), JSON lines for machines, an SVG chart for people.
 *
 * Every replication builds one world (seed + replication number) and plays
 * every chosen strategy on it: common random numbers, so the paired
 * differences against up-rotation are the strategies' own.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/sim.h"
#include "whaco/team.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "cli/csv.h"
#include "cli/simout.h"
#include "banned.h"

#define TEAM_FILE_MAX 1000

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

/* ===== Team files ===== */

static int check_member(struct whaco_sim_member *m, const char *file, long where, FILE *err)
{
    const char *field = NULL;
    struct whaco_member_spec spec = {m->id, m->name, m->skill, m->omega, 0.0, 0};
    int rc = whaco_member_spec_check(&spec, &field);
    if (rc != WHACO_OK) {
        fprintf(err, "whaco: %s: salesperson %ld: %s: %s\n", file, where, field ? field : "?",
                whaco_strerror(rc));
        return -1;
    }
    return 0;
}

static int copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = strlen(src);
    if (n >= cap)
        return -1;
    memcpy(dst, src, n + 1);
    return 0;
}

static int read_team_csv(FILE *fp, const char *file, struct whaco_sim_member *out, size_t *n,
                         FILE *err)
{
    struct csv_reader r;
    int col[4] = {-1, -1, -1, -1}, rc = 0;
    static const char *const names[4] = {"id", "name", "skillLevel", "naturalFrequency"};
    csv_reader_init(&r, fp);
    if (csv_read(&r) != 1) {
        fprintf(err, "whaco: %s: no header row\n", file);
        csv_reader_release(&r);
        return -1;
    }
    for (int f = 0; f < r.nfields; f++) {
        for (int k = 0; k < 4; k++) {
            if (!strcmp(r.fields[f], names[k]))
                col[k] = f;
        }
    }
    for (int k = 0; k < 4; k++) {
        if (col[k] < 0) {
            fprintf(err, "whaco: %s: the header has no column %s\n", file, names[k]);
            csv_reader_release(&r);
            return -1;
        }
    }
    *n = 0;
    for (;;) {
        int got = csv_read(&r);
        if (got == 0)
            break;
        if (got < 0 || *n == TEAM_FILE_MAX) {
            fprintf(err, "whaco: %s: line %ld: %s\n", file, r.lineno,
                    got < 0 ? (r.error ? r.error : "unreadable") : "too many salespeople");
            rc = -1;
            break;
        }
        struct whaco_sim_member *m = &out[*n];
        memset(m, 0, sizeof *m);
        int maxc = col[0];
        for (int k = 1; k < 4; k++)
            maxc = col[k] > maxc ? col[k] : maxc;
        if (r.nfields <= maxc || copy_str(m->id, sizeof m->id, r.fields[col[0]]) ||
            copy_str(m->name, sizeof m->name, r.fields[col[1]]) ||
            csv_parse_double(r.fields[col[2]], &m->skill) ||
            csv_parse_double(r.fields[col[3]], &m->omega)) {
            fprintf(err, "whaco: %s: line %ld: expected id,name,skillLevel,naturalFrequency\n",
                    file, r.lineno);
            rc = -1;
            break;
        }
        m->phase = whaco_team_spread_phase(*n);
        if (check_member(m, file, r.lineno, err)) {
            rc = -1;
            break;
        }
        (*n)++;
    }
    csv_reader_release(&r);
    return rc;
}

/* A small reader for the one JSON shape accepted: an array of flat objects. */
struct jr {
    const char *p;
};

static void jws(struct jr *j)
{
    while (*j->p == ' ' || *j->p == '\t' || *j->p == '\n' || *j->p == '\r')
        j->p++;
}

static int jstr(struct jr *j, char *out, size_t cap)
{
    size_t n = 0;
    jws(j);
    if (*j->p != '"')
        return -1;
    j->p++;
    while (*j->p && *j->p != '"') {
        char c = *j->p++;
        if (c == '\\') {
            c = *j->p++;
            if (c == 'n')
                c = '\n';
            else if (c == 't')
                c = '\t';
            else if (c != '"' && c != '\\' && c != '/')
                return -1; /* \u escapes are not supported in team files */
        }
        if (n + 1 >= cap)
            return -1;
        out[n++] = c;
    }
    if (*j->p != '"')
        return -1;
    j->p++;
    out[n] = '\0';
    return 0;
}

static int read_team_json(const char *text, const char *file, struct whaco_sim_member *out,
                          size_t *n, FILE *err)
{
    struct jr j = {text};
    char key[64];
    *n = 0;
    jws(&j);
    if (*j.p++ != '[')
        goto bad;
    jws(&j);
    if (*j.p == ']')
        goto empty;
    for (;;) {
        struct whaco_sim_member *m = &out[*n];
        int seen = 0;
        if (*n == TEAM_FILE_MAX)
            goto bad;
        memset(m, 0, sizeof *m);
        jws(&j);
        if (*j.p++ != '{')
            goto bad;
        for (;;) {
            if (jstr(&j, key, sizeof key))
                goto bad;
            jws(&j);
            if (*j.p++ != ':')
                goto bad;
            jws(&j);
            if (!strcmp(key, "id") || !strcmp(key, "name")) {
                int is_id = key[0] == 'i';
                if (jstr(&j, is_id ? m->id : m->name, is_id ? sizeof m->id : sizeof m->name))
                    goto bad;
                seen |= is_id ? 1 : 2;
            } else {
                char *end;
                double v = strtod(j.p, &end);
                if (end == j.p)
                    goto bad;
                j.p = end;
                if (!strcmp(key, "skillLevel")) {
                    m->skill = v;
                    seen |= 4;
                } else if (!strcmp(key, "naturalFrequency")) {
                    m->omega = v;
                    seen |= 8;
                }
            }
            jws(&j);
            if (*j.p == ',') {
                j.p++;
                continue;
            }
            if (*j.p++ == '}')
                break;
            goto bad;
        }
        if (seen != 15) {
            fprintf(err,
                    "whaco: %s: salesperson %zu needs id, name, skillLevel and naturalFrequency\n",
                    file, *n + 1);
            return -1;
        }
        m->phase = whaco_team_spread_phase(*n);
        if (check_member(m, file, (long)*n + 1, err))
            return -1;
        (*n)++;
        jws(&j);
        if (*j.p == ',') {
            j.p++;
            continue;
        }
        if (*j.p++ == ']')
            break;
        goto bad;
    }
empty:
    return 0;
bad:
    fprintf(err,
            "whaco: %s: expected a JSON array of {\"id\", \"name\", \"skillLevel\", "
            "\"naturalFrequency\"} objects (near byte %ld)\n",
            file, (long)(j.p - text));
    return -1;
}

static int read_team(const char *file, struct whaco_sim_member *out, size_t *n, FILE *err)
{
    FILE *fp = fopen(file, "r");
    int rc;
    if (!fp) {
        fprintf(err, "whaco: %s: %s\n", file, strerror(errno));
        return -1;
    }
    size_t len = strlen(file);
    if (len > 5 && !strcmp(file + len - 5, ".json")) {
        static char text[1 << 20];
        size_t got = fread(text, 1, sizeof text - 1, fp);
        text[got] = '\0';
        rc = got == sizeof text - 1 ? -1 : read_team_json(text, file, out, n, err);
    } else {
        rc = read_team_csv(fp, file, out, n, err);
    }
    fclose(fp);
    if (rc == 0 && *n == 0) {
        fprintf(err, "whaco: %s: no salespeople\n", file);
        rc = -1;
    }
    for (size_t i = 0; rc == 0 && i < *n; i++) {
        for (size_t k = 0; k < i; k++) {
            if (!strcmp(out[i].id, out[k].id)) {
                fprintf(err, "whaco: %s: duplicate id %s\n", file, out[i].id);
                rc = -1;
            }
        }
    }
    return rc;
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
        if (read_team(team_file, team, &n, err))
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

/* ===== Runs and reports (cli/simout.h) ===== */

struct gen_ctx {
    const struct whaco_sim_params *p;
    const struct whaco_sim_member *team;
    size_t n;
    uint64_t seed;
};

static int gen_world(void *ctx, uint64_t rep, struct whaco_sim_world *w)
{
    const struct gen_ctx *g = ctx;
    whaco_sim_world_generate(w, g->p, g->team, g->n, g->seed + rep);
    return 0;
}

int simout_run(struct simout *so, const struct whaco_sim_params *p,
               const struct whaco_sim_member *team, size_t n, uint64_t seed, uint64_t reps,
               unsigned mask, FILE *err)
{
    struct gen_ctx g = {p, team, n, seed};
    return simout_run_worlds(so, p, gen_world, &g, reps, mask, err);
}

int simout_run_worlds(struct simout *so, const struct whaco_sim_params *p, simout_world_cb cb,
                      void *ctx, uint64_t reps, unsigned mask, FILE *err)
{
    const char *field = NULL;
    int rc = whaco_sim_params_check(p, &field);
    memset(so, 0, sizeof *so);
    if (rc != WHACO_OK) {
        fprintf(err, "whaco: simulation parameter %s: %s\n", field, whaco_strerror(rc));
        return -1;
    }
    so->mask = mask;
    so->reps = reps;
    so->have_diff = (mask & 1u) != 0;
    size_t per = (size_t)reps * WHACO_SIM_METRICS;
    double *v = whaco_calloc((size_t)WHACO_SIM_STRATEGIES * per, sizeof *v);
    double *col = whaco_calloc((size_t)reps, sizeof *col);
    if (!v || !col) {
        whaco_free(v);
        whaco_free(col);
        fprintf(err, "whaco: out of memory\n");
        return -1;
    }
    for (uint64_t r = 0; r < reps && rc == WHACO_OK; r++) {
        struct whaco_sim_world w;
        memset(&w, 0, sizeof w);
        if (cb(ctx, r, &w)) {
            rc = -1;
            break;
        }
        if (r == 0)
            so->n_members = w.n_members;
        so->walkins += w.n_customers;
        for (int s = 0; s < WHACO_SIM_STRATEGIES && rc == WHACO_OK; s++) {
            struct whaco_sim_result res;
            if (!(mask & (1u << s)))
                continue;
            rc = whaco_sim_run(&w, p, s, &res, NULL);
            if (rc != WHACO_OK) {
                fprintf(err, "whaco: %s: %s\n", whaco_sim_strategy_name(s), whaco_strerror(rc));
                break;
            }
            so->guessed[s] += res.guessed;
            so->served[s] += res.served;
            so->net_active[s] += res.net_active_mean / (double)reps;
            for (int m = 0; m < WHACO_SIM_METRICS; m++)
                v[(size_t)s * per + (size_t)r * WHACO_SIM_METRICS + (size_t)m] =
                    whaco_sim_metric(&res, m);
        }
        whaco_sim_world_release(&w);
    }
    for (int s = 0; s < WHACO_SIM_STRATEGIES && rc == WHACO_OK; s++) {
        if (!(mask & (1u << s)))
            continue;
        for (int m = 0; m < WHACO_SIM_METRICS; m++) {
            for (uint64_t r = 0; r < reps; r++)
                col[r] = v[(size_t)s * per + (size_t)r * WHACO_SIM_METRICS + (size_t)m];
            whaco_sim_stat(col, (size_t)reps, &so->stat[s][m]);
            if (!so->have_diff)
                continue;
            for (uint64_t r = 0; r < reps; r++)
                col[r] -= v[(size_t)r * WHACO_SIM_METRICS + (size_t)m];
            whaco_sim_stat(col, (size_t)reps, &so->diff[s][m]);
        }
    }
    whaco_free(v);
    whaco_free(col);
    return rc == WHACO_OK ? 0 : -1;
}

void simout_release(struct simout *so)
{
    memset(so, 0, sizeof *so);
}

static const int decimals[WHACO_SIM_METRICS] = {1, 3, 1, 1, 1, 1, 2, 3, 3, 1, 3, 3};

static void cell(char *buf, size_t cap, const struct whaco_sim_stat *st, int m, int sign)
{
    int d = decimals[m];
    snprintf(buf, cap, sign ? "%+.*f ±%.*f" : "%.*f ±%.*f", d, st->mean, d,
             (st->hi - st->lo) / 2.0);
}

void simout_table(const struct simout *so, FILE *out)
{
    char buf[64];
    fprintf(out, "%-44s", "metric (mean ±95% half-width)");
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
        if (so->mask & (1u << s))
            fprintf(out, " %16s", whaco_sim_strategy_name(s));
    }
    fputc('\n', out);
    for (int m = 0; m < WHACO_SIM_METRICS; m++) {
        fprintf(out, "%-44s", whaco_sim_metric_label(m));
        for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
            if (!(so->mask & (1u << s)))
                continue;
            cell(buf, sizeof buf, &so->stat[s][m], m, 0);
            fprintf(out, " %16s", buf);
        }
        fputc('\n', out);
    }
    if (so->have_diff) {
        static const int shown[] = {WHACO_SIM_M_DEALS, WHACO_SIM_M_WAIT_MEAN, WHACO_SIM_M_ABANDONED,
                                    WHACO_SIM_M_TOP_SKILL};
        for (size_t k = 0; k < sizeof shown / sizeof shown[0]; k++) {
            int m = shown[k];
            char label[80];
            snprintf(label, sizeof label, "vs up-rotation: %s", whaco_sim_metric_key(m));
            fprintf(out, "%-44s", label);
            for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
                if (!(so->mask & (1u << s)))
                    continue;
                cell(buf, sizeof buf, &so->diff[s][m], m, 1);
                fprintf(out, " %16s", s == 0 ? "-" : buf);
            }
            fputc('\n', out);
        }
    }
    uint64_t guessed = 0;
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++)
        guessed += so->guessed[s];
    if (guessed) {
        fprintf(out, "%-44s", "served with a modelled (guessed) outcome");
        for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
            if (!(so->mask & (1u << s)))
                continue;
            snprintf(buf, sizeof buf, "%.0f%%",
                     so->served[s] ? 100.0 * (double)so->guessed[s] / (double)so->served[s] : 0.0);
            fprintf(out, " %16s", buf);
        }
        fputc('\n', out);
    }
    fprintf(out,
            "%" PRIu64 " replications, team of %zu, %.1f walk-ins per replication; "
            "network's mean activeDeals at the end (oscillator): %.1f\n",
            so->reps, so->n_members, (double)so->walkins / (double)so->reps,
            so->net_active[WHACO_SIM_OSCILLATOR]);
}

void simout_json(const struct simout *so, const char *cmdline, FILE *out)
{
    fputs("{\"command\":", out);
    cli_json_string(out, cmdline);
    fprintf(out, ",\"replications\":%" PRIu64 ",\"teamSize\":%zu,\"walkinsPerReplication\":%.6g",
            so->reps, so->n_members, (double)so->walkins / (double)so->reps);
    fputs(",\"strategies\":[", out);
    int first = 1;
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
        if (!(so->mask & (1u << s)))
            continue;
        fprintf(out, "%s{\"name\":\"%s\",\"metrics\":{", first ? "" : ",",
                whaco_sim_strategy_name(s));
        first = 0;
        for (int m = 0; m < WHACO_SIM_METRICS; m++) {
            const struct whaco_sim_stat *st = &so->stat[s][m];
            fprintf(out, "%s\"%s\":{\"mean\":%.6g,\"lo\":%.6g,\"hi\":%.6g}", m ? "," : "",
                    whaco_sim_metric_key(m), st->mean, st->lo, st->hi);
        }
        fputc('}', out);
        if (so->have_diff) {
            fputs(",\"vsUpRotation\":{", out);
            for (int m = 0; m < WHACO_SIM_METRICS; m++) {
                const struct whaco_sim_stat *st = &so->diff[s][m];
                fprintf(out, "%s\"%s\":{\"mean\":%.6g,\"lo\":%.6g,\"hi\":%.6g}", m ? "," : "",
                        whaco_sim_metric_key(m), st->mean, st->lo, st->hi);
            }
            fputc('}', out);
        }
        fprintf(out,
                ",\"served\":%" PRIu64 ",\"guessedOutcomes\":%" PRIu64
                ",\"networkActiveDealsAtEnd\":%.6g}",
                so->served[s], so->guessed[s], so->net_active[s]);
    }
    fputs("]}\n", out);
}

static void xml_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else if (*s == '&')
            fputs("&amp;", f);
        else
            fputc(*s, f);
    }
}

int simout_svg(const struct simout *so, const char *cmdline, const char *file, FILE *err)
{
    static const char *const colors[WHACO_SIM_STRATEGIES] = {
        "#4e79a7", "#f28e2b", "#59a14f", "#bab0ac", "#b07aa1", "#e15759", "#9c755f"};
    const double cw = 320.0, ch = 230.0, top = 70.0;
    const int cols = 3, rows = (WHACO_SIM_METRICS + cols - 1) / cols;
    FILE *f = fopen(file, "w");
    if (!f) {
        fprintf(err, "whaco: %s: %s\n", file, strerror(errno));
        return -1;
    }
    int ns = 0;
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++)
        ns += (so->mask >> s) & 1u;
    double W = cw * cols, H = top + ch * rows;
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"sans-serif\" font-size=\"11\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n"
            "<text x=\"10\" y=\"22\" font-size=\"15\" font-weight=\"bold\">Lead-assignment "
            "strategies: mean and 95%% interval over %" PRIu64 " replications</text>\n"
            "<text x=\"10\" y=\"40\" fill=\"#555\">",
            W, H, W, H, so->reps);
    xml_text(f, cmdline);
    fputs("</text>\n", f);
    /* Legend */
    double lx = 10.0;
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
        if (!(so->mask & (1u << s)))
            continue;
        fprintf(f,
                "<rect x=\"%.0f\" y=\"50\" width=\"10\" height=\"10\" fill=\"%s\"/>"
                "<text x=\"%.0f\" y=\"59\">%s</text>\n",
                lx, colors[s], lx + 14.0, whaco_sim_strategy_name(s));
        lx += 120.0;
    }
    for (int m = 0; m < WHACO_SIM_METRICS; m++) {
        double x0 = cw * (m % cols), y0 = top + ch * (m / cols);
        double px = x0 + 50.0, py = y0 + 30.0, pw = cw - 65.0, ph = ch - 60.0;
        double vmax = 0.0;
        for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
            if ((so->mask & (1u << s)) && so->stat[s][m].hi > vmax)
                vmax = so->stat[s][m].hi;
        }
        if (!(vmax > 0.0))
            vmax = 1.0;
        vmax *= 1.1;
        fprintf(f, "<text x=\"%.0f\" y=\"%.0f\" font-weight=\"bold\">", x0 + 10.0, y0 + 18.0);
        xml_text(f, whaco_sim_metric_label(m));
        fputs("</text>\n", f);
        for (int g = 0; g <= 4; g++) {
            double gy = py + ph - ph * g / 4.0;
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>"
                    "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\" fill=\"#555\">%.*f</text>\n",
                    px, gy, px + pw, gy, px - 4.0, gy + 4.0, decimals[m], vmax * g / 4.0);
        }
        int k = 0;
        double bw = pw / (ns ? ns : 1);
        for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
            if (!(so->mask & (1u << s)))
                continue;
            const struct whaco_sim_stat *st = &so->stat[s][m];
            double bx = px + bw * k + bw * 0.15, w = bw * 0.7;
            double by = py + ph - ph * (st->mean / vmax);
            double ylo = py + ph - ph * (st->lo / vmax), yhi = py + ph - ph * (st->hi / vmax);
            fprintf(f,
                    "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"%s\">"
                    "<title>%s: %.*f [%.*f, %.*f]</title></rect>\n"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>"
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
                    bx, by, w, py + ph - by, colors[s], whaco_sim_strategy_name(s), decimals[m],
                    st->mean, decimals[m], st->lo, decimals[m], st->hi, bx + w / 2, ylo, bx + w / 2,
                    yhi, bx + w * 0.3, ylo, bx + w * 0.7, ylo, bx + w * 0.3, yhi, bx + w * 0.7,
                    yhi);
            k++;
        }
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333\"/>\n", px,
                py + ph, px + pw, py + ph);
    }
    fputs("</svg>\n", f);
    if (fclose(f) != 0) {
        fprintf(err, "whaco: %s: %s\n", file, strerror(errno));
        return -1;
    }
    return 0;
}

void simout_sweep_row(const struct simout *so, const char *label, FILE *out)
{
    int order[WHACO_SIM_STRATEGIES], n = 0;
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
        if (so->mask & (1u << s))
            order[n++] = s;
    }
    for (int i = 1; i < n; i++) { /* insertion sort by mean deals, descending */
        int s = order[i], j = i;
        while (j > 0 && so->stat[order[j - 1]][WHACO_SIM_M_DEALS].mean <
                            so->stat[s][WHACO_SIM_M_DEALS].mean) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = s;
    }
    fprintf(out, "| %s | ", label);
    for (int i = 0; i < n; i++)
        fprintf(out, "%s%s %.1f", i ? ", " : "", whaco_sim_strategy_name(order[i]),
                so->stat[order[i]][WHACO_SIM_M_DEALS].mean);
    const struct whaco_sim_stat *d = so->diff[WHACO_SIM_OSCILLATOR];
    fprintf(out, " | %+.1f [%+.1f, %+.1f] | %+.1f [%+.1f, %+.1f] | %+.1f [%+.1f, %+.1f] |\n",
            d[WHACO_SIM_M_DEALS].mean, d[WHACO_SIM_M_DEALS].lo, d[WHACO_SIM_M_DEALS].hi,
            d[WHACO_SIM_M_WAIT_MEAN].mean, d[WHACO_SIM_M_WAIT_MEAN].lo, d[WHACO_SIM_M_WAIT_MEAN].hi,
            d[WHACO_SIM_M_ABANDONED].mean, d[WHACO_SIM_M_ABANDONED].lo,
            d[WHACO_SIM_M_ABANDONED].hi);
}

int simout_parse_strategies(const char *v, unsigned *mask)
{
    int s = whaco_sim_strategy_parse(v);
    if (v && !strcmp(v, "all"))
        *mask = (1u << WHACO_SIM_STRATEGIES) - 1;
    else if (s >= 0)
        *mask = 1u << s;
    else
        return -1;
    return 0;
}

void simout_cmdline(int argc, char **argv, const char *prefix, char *buf, size_t cap)
{
    size_t len = (size_t)snprintf(buf, cap, "%s", prefix);
    for (int i = 1; i < argc && len < cap; i++)
        len += (size_t)snprintf(buf + len, cap - len, " %s", argv[i]);
}

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
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/sim.h"
#include "whaco/team.h"
#include "cli/cli.h"
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

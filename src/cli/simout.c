/*
 * simout.c: the runs and reports of `whaco simulate` and `whaco replay`
 * (cli/simout.h) -- every chosen strategy played on one world per
 * replication, then the mean and 95% interval of each metric and its
 * paired difference from up-rotation, written as a text table, one JSON
 * document, an SVG chart or a row of the sweep's Markdown table.
 *
 * Invariants: a strategy's samples and its differences come from the same
 * worlds (common random numbers); every string in the JSON is escaped by
 * cli_json_escape and every one in the SVG as XML text.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/sim.h"
#include "cli/common.h"
#include "cli/simout.h"
#include "banned.h"

int simout_gen_world(void *ctx, uint64_t rep, struct whaco_sim_world *w)
{
    const struct simout_gen *g = ctx;
    whaco_sim_world_generate(w, g->p, g->team, g->n, g->seed + rep);
    return 0;
}

int simout_run(struct simout *so, const struct whaco_sim_params *p,
               const struct whaco_sim_member *team, size_t n, uint64_t seed, uint64_t reps,
               unsigned mask, FILE *walkins, FILE *err)
{
    struct simout_gen g = {p, team, n, seed};
    return simout_run_worlds(so, p, simout_gen_world, &g, reps, mask, walkins, err);
}

void simout_walkins_header(FILE *f)
{
    fputs("replication,strategy,walkin,arriveMs,endMs,fate,salesperson,trueSegment,clusterId,"
          "isOutlier",
          f);
    for (int j = 0; j < WHACO_FEATURES; j++)
        fprintf(f, ",x%d", j);
    fputs(",closeProbability,trueChance,sold\n", f);
}

/* The rows of one run's walk-ins (out[0..w->n_customers)). */
static void walkin_rows(FILE *f, uint64_t rep, int strategy, const struct whaco_sim_world *w,
                        const struct whaco_sim_outcome *out)
{
    static const char *const fates[] = {"", "served", "abandoned", "at_close"};
    for (size_t i = 0; i < w->n_customers; i++) {
        const struct whaco_sim_outcome *o = &out[i];
        double x[WHACO_FEATURES];
        whaco_features(&w->customers[i].c, x);
        fprintf(f, "%" PRIu64 ",%s,%zu,%" PRId64 ",%" PRId64 ",%s,%s,%d,%d,%d", rep,
                whaco_sim_strategy_name(strategy), i, w->customers[i].arrive_ms, o->end_ms,
                o->fate >= 1 && o->fate <= 3 ? fates[o->fate] : "",
                o->member >= 0 ? w->members[o->member].id : "", (int)w->customers[i].segment,
                (int)o->cluster, (int)o->outlier);
        for (int j = 0; j < WHACO_FEATURES; j++)
            fprintf(f, ",%.6g", x[j]);
        fprintf(f, ",%.6g,%.6g,%d\n", o->close_p, o->chance, (int)o->closed);
    }
}

int simout_run_worlds(struct simout *so, const struct whaco_sim_params *p, simout_world_cb cb,
                      void *ctx, uint64_t reps, unsigned mask, FILE *walkins, FILE *err)
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
            struct whaco_sim_outcome *out =
                walkins ? whaco_xcalloc(w.n_customers ? w.n_customers : 1, sizeof *out) : NULL;
            rc = whaco_sim_run(&w, p, s, &res, out);
            if (rc == WHACO_OK && out)
                walkin_rows(walkins, r, s, &w, out);
            whaco_free(out);
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

static void cell(char *buf, size_t cap, const struct whaco_sim_stat *st, int m, int sign)
{
    int d = whaco_sim_metric_decimals(m);
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
    simout_json_open(so, cmdline, out);
    fputs("}\n", out);
}

void simout_json_open(const struct simout *so, const char *cmdline, FILE *out)
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
    fputc(']', out);
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
                    px, gy, px + pw, gy, px - 4.0, gy + 4.0, whaco_sim_metric_decimals(m),
                    vmax * g / 4.0);
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
                    bx, by, w, py + ph - by, colors[s], whaco_sim_strategy_name(s),
                    whaco_sim_metric_decimals(m), st->mean, whaco_sim_metric_decimals(m), st->lo,
                    whaco_sim_metric_decimals(m), st->hi, bx + w / 2, ylo, bx + w / 2, yhi,
                    bx + w * 0.3, ylo, bx + w * 0.7, ylo, bx + w * 0.3, yhi, bx + w * 0.7, yhi);
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
    const struct whaco_sim_stat *d = so->diff[WHACO_SIM_NETWORK];
    const struct whaco_sim_stat *o = so->diff[WHACO_SIM_OSCILLATOR];
    static const struct {
        int metric;
        int decimals;
    } cols[] = {{WHACO_SIM_M_DEALS, 1},
                {WHACO_SIM_M_WAIT_P95, 1},
                {WHACO_SIM_M_ABANDONED, 1},
                {WHACO_SIM_M_LEADS_GINI, 3}};
    for (size_t k = 0; k < sizeof cols / sizeof cols[0]; k++) {
        const struct whaco_sim_stat *x = &d[cols[k].metric];
        int p = cols[k].decimals;
        fprintf(out, " | %+.*f [%+.*f, %+.*f]", p, x->mean, p, x->lo, p, x->hi);
    }
    fprintf(out, " | %+.1f [%+.1f, %+.1f] |\n", o[WHACO_SIM_M_DEALS].mean, o[WHACO_SIM_M_DEALS].lo,
            o[WHACO_SIM_M_DEALS].hi);
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

/*
 * generate.c: `whaco generate` writes synthetic customers (whaco/gen.h) as
 * a CSV that `whaco analyze` and the API accept, optionally with the ground
 * truth columns segment (-1 for an injected anomaly) and isAnomaly.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/gen.h"
#include "cli/cli.h"
#include "cli/csv.h"
#include "banned.h"

static int usage(FILE *err)
{
    fputs("usage: whaco generate [--count N] [--seed S] [--anomaly-rate R]\n"
          "                      [--price-scale X] [--fico-shift F] [--drift-at N] [--labels]\n"
          "  --drift-at N applies --price-scale and --fico-shift from row N on\n",
          err);
    return 2;
}

int whaco_cmd_generate(int argc, char **argv, FILE *out, FILE *err)
{
    uint64_t count = 1000, seed = 1, drift_at = 0;
    int labels = 0;
    struct whaco_gen_params base, drift;
    whaco_gen_params_default(&base);
    drift = base;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        int bad = 0;
        if (!strcmp(a, "--count")) {
            bad = csv_parse_u64(v, &count);
            i++;
        } else if (!strcmp(a, "--seed")) {
            bad = csv_parse_u64(v, &seed);
            i++;
        } else if (!strcmp(a, "--drift-at")) {
            bad = csv_parse_u64(v, &drift_at);
            i++;
        } else if (!strcmp(a, "--anomaly-rate")) {
            bad = !v || csv_parse_double(v, &base.anomaly_rate) || !(base.anomaly_rate >= 0.0) ||
                  base.anomaly_rate > 1.0;
            drift.anomaly_rate = base.anomaly_rate;
            i++;
        } else if (!strcmp(a, "--price-scale")) {
            bad = !v || csv_parse_double(v, &drift.price_scale) || !(drift.price_scale > 0.0) ||
                  drift.price_scale > 100.0;
            i++;
        } else if (!strcmp(a, "--fico-shift")) {
            bad = !v || csv_parse_double(v, &drift.fico_shift) || !(drift.fico_shift > -550.0) ||
                  drift.fico_shift > 550.0;
            i++;
        } else if (!strcmp(a, "--labels")) {
            labels = 1;
        } else {
            bad = 1;
        }
        if (bad) {
            fprintf(err, "whaco generate: bad argument %s%s%s\n", a, v ? " " : "", v ? v : "");
            return usage(err);
        }
    }

    struct whaco_rng rng;
    whaco_rng_seed(&rng, seed);
    fputs("customerId,creditScore,annualIncome,vehiclePrice,downPayment,tradeValue,visitCount,"
          "timeOnLot,engagement",
          out);
    fputs(labels ? ",segment,isAnomaly\n" : "\n", out);
    for (uint64_t i = 0; i < count; i++) {
        struct whaco_customer c;
        int seg = whaco_gen_customer(&rng, i >= drift_at ? &drift : &base, &c, NULL);
        fprintf(out, "g%" PRIu64 "-%06" PRIu64 ",%.0f,%.0f,%.0f,%.0f,%.0f,%d,%.0f,%.3f", seed, i,
                c.credit_score, c.annual_income, c.vehicle_price, c.down_payment, c.trade_value,
                (int)c.visit_count, c.time_on_lot, c.engagement);
        if (labels)
            fprintf(out, ",%d,%d", seg, seg < 0);
        putc('\n', out);
    }
    if (fflush(out) || ferror(out)) {
        fprintf(err, "whaco generate: write error\n");
        return 2;
    }
    return 0;
}

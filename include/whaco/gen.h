/*
 * whaco/gen.h: a seeded generator of synthetic walk-in customers.
 *
 * The tests, the benchmarks, `whaco generate` and (later) the simulator need
 * realistic customers without anybody's real data. Each customer is drawn
 * from one of the five segments, or, with a small probability, is an injected
 * anomaly (fraud-like, inconsistent or extreme values). The distributions
 * and where their shapes come from are in docs/generator.md.
 *
 * Deterministic: the same generator state and parameters give the same
 * customers on every platform. Pure computation; not thread-safe per rng.
 */
#ifndef WHACO_GEN_H
#define WHACO_GEN_H

#include "whaco/rng.h"
#include "whaco/segment.h"

/* Anomaly kinds, for the label of an injected anomaly. */
enum whaco_gen_anomaly {
    WHACO_GEN_NORMAL = 0,
    WHACO_GEN_FRAUD = 1,        /* subprime FICO, very high income, ~0 down */
    WHACO_GEN_INCONSISTENT = 2, /* very engaged, poor credit, luxury price */
    WHACO_GEN_EXTREME = 3,      /* one value far outside normal ranges */
};

struct whaco_gen_params {
    double mix[WHACO_CLUSTERS]; /* segment shares, sum 1 */
    double anomaly_rate;        /* share of injected anomalies, 0..1 */
    double price_scale;         /* multiplies vehicle prices (drift), > 0 */
    double fico_shift;          /* added to FICO scores (drift) */
};

/* Defaults: a typical mix, 2.5% anomalies, no drift. */
void whaco_gen_params_default(struct whaco_gen_params *p);

/*
 * Draw one customer into *out (its id is left empty for the caller to set)
 * and return its true segment (0..4), or -1 for an injected anomaly with
 * *kind (if not NULL) saying which. Every customer drawn passes
 * whaco_customer_check().
 */
int whaco_gen_customer(struct whaco_rng *rng, const struct whaco_gen_params *p,
                       struct whaco_customer *out, int *kind);

#endif /* WHACO_GEN_H */

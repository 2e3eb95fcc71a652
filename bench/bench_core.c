/*
 * bench_core.c: ns/op of the segmentation engine's per-customer path.
 *
 * Works on 4096 realistic customers from whaco/gen.h (default mix, 2.5%
 * anomalies), generated once and cycled through so the branch predictor
 * cannot learn one customer. The segmenter is first warmed up on 20,000
 * other customers so its variances, shares and weights are those of a
 * running service, not of the seed profiles. learn works on a copy of the
 * warmed-up state, so every benchmark sees the same model.
 *
 * The machine is shared and noisy, so next to the absolute figures this
 * prints baselines measured in the same run (a plain loop over the same
 * customers, and whaco_features alone) and the ratios to them: a change in
 * a ratio means more than a change in a figure. Nothing is asserted.
 */
#include <stdio.h>
#include <string.h>

#include "whaco/gen.h"
#include "whaco/segment.h"
#include "whaco/serial.h"
#include "bench.h"

#define N_CUSTOMERS 4096 /* a power of two: the index wraps with a mask */
#define N_WARMUP    20000
#define GOAL_NS     300.0 /* issue 2: segmenting one customer, this machine */

struct ctx {
    struct whaco_customer customers[N_CUSTOMERS];
    struct whaco_segmenter warm; /* warmed-up model, read-only */
    struct whaco_segmenter work; /* learn's copy */
    struct whaco_segmenter scratch;
    struct whaco_buf buf; /* the encoded state */
    uint64_t next;        /* index of the next customer */
};

static struct ctx g_ctx; /* about 170 KiB: keep it off the stack */

static const struct whaco_customer *next_customer(struct ctx *c)
{
    return &c->customers[c->next++ & (N_CUSTOMERS - 1)];
}

/* Baseline: touch each customer's inputs and nothing else. */
static void run_loop(void *p, uint64_t iters)
{
    struct ctx *c = p;
    double acc = 0.0;
    for (uint64_t i = 0; i < iters; i++) {
        const struct whaco_customer *cu = next_customer(c);
        acc += cu->credit_score + cu->annual_income + cu->vehicle_price + cu->engagement;
    }
    bench_consume(&acc);
}

static void run_check(void *p, uint64_t iters)
{
    struct ctx *c = p;
    int acc = 0;
    for (uint64_t i = 0; i < iters; i++)
        acc += whaco_customer_check(next_customer(c), NULL);
    bench_consume(&acc);
}

static void run_features(void *p, uint64_t iters)
{
    struct ctx *c = p;
    double x[WHACO_FEATURES], acc = 0.0;
    for (uint64_t i = 0; i < iters; i++) {
        whaco_features(next_customer(c), x);
        acc += x[0];
    }
    bench_consume(&acc);
}

static void run_classify(void *p, uint64_t iters)
{
    struct ctx *c = p;
    struct whaco_segment_result res;
    int acc = 0;
    for (uint64_t i = 0; i < iters; i++) {
        whaco_segment_classify(&c->warm, next_customer(c), &res, NULL);
        acc += res.cluster_id;
    }
    bench_consume(&acc);
}

static void run_learn(void *p, uint64_t iters)
{
    struct ctx *c = p;
    struct whaco_segment_result res;
    int acc = 0;
    for (uint64_t i = 0; i < iters; i++) {
        whaco_segment_learn(&c->work, next_customer(c), (int64_t)i, &res, NULL);
        acc += res.cluster_id;
    }
    bench_consume(&acc);
}

static void run_encode(void *p, uint64_t iters)
{
    struct ctx *c = p;
    for (uint64_t i = 0; i < iters; i++) {
        c->buf.len = 0; /* keep the allocation: measure encoding, not malloc */
        whaco_segmenter_encode(&c->warm, &c->buf);
    }
    bench_consume(c->buf.data);
}

static void run_decode(void *p, uint64_t iters)
{
    struct ctx *c = p;
    int acc = 0;
    for (uint64_t i = 0; i < iters; i++) {
        struct whaco_reader r;
        whaco_reader_init(&r, c->buf.data, c->buf.len);
        acc += whaco_segmenter_decode(&c->scratch, &r);
    }
    bench_consume(&acc);
}

int main(void)
{
    struct ctx *c = &g_ctx;
    struct whaco_gen_params params;
    struct whaco_rng rng;
    struct whaco_segment_result res;

    whaco_gen_params_default(&params);
    whaco_rng_seed(&rng, 1);
    for (int i = 0; i < N_CUSTOMERS; i++)
        whaco_gen_customer(&rng, &params, &c->customers[i], NULL);

    if (whaco_segmenter_init(&c->warm, NULL, NULL) != 0) {
        fputs("bench_core: cannot initialise the segmenter\n", stderr);
        return 1;
    }
    for (int i = 0; i < N_WARMUP; i++) {
        struct whaco_customer cu;
        whaco_gen_customer(&rng, &params, &cu, NULL);
        whaco_segment_learn(&c->warm, &cu, i, &res, NULL);
    }
    memcpy(&c->work, &c->warm, sizeof c->work);
    whaco_segmenter_encode(&c->warm, &c->buf);

    printf("bench_core: %d customers (default mix, 2.5%% anomalies), model warmed on %d; "
           "state %zu bytes encoded\n",
           N_CUSTOMERS, N_WARMUP, c->buf.len);
    double loop = bench_run("baseline.loop (read inputs)", run_loop, c, N_CUSTOMERS);
    double check = bench_run("customer.check", run_check, c, N_CUSTOMERS);
    double feat = bench_run("features", run_features, c, N_CUSTOMERS);
    double classify = bench_run("segment.classify", run_classify, c, N_CUSTOMERS);
    double learn = bench_run("segment.learn", run_learn, c, N_CUSTOMERS);
    double enc = bench_run("segmenter.encode", run_encode, c, 64);
    double dec = bench_run("segmenter.decode", run_decode, c, 64);

    printf("\nratios (same run): classify/features %.1fx, learn/features %.1fx, "
           "learn/loop %.1fx, check/loop %.1fx\n",
           classify / feat, learn / feat, learn / loop, check / loop);
    printf("state: encode %.1f us, decode %.1f us per %zu-byte state\n", enc / 1000.0, dec / 1000.0,
           c->buf.len);
    printf("goal: segment one customer (segment.learn) <= %.0f ns: %.1f ns, %s\n", GOAL_NS, learn,
           learn <= GOAL_NS ? "met" : "NOT met");
    whaco_buf_release(&c->buf);
    return 0;
}

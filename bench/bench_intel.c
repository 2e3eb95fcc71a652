/*
 * bench_intel.c: the cost of the analyze-customer event (segment + assign +
 * recommended actions) with a team of 50, next to segmentation alone as the
 * in-run baseline, and the cost of saving the whole state.
 */
#include <stdio.h>
#include <string.h>

#include "whaco/gen.h"
#include "whaco/intel.h"
#include "bench.h"

#define N_CUSTOMERS 4096
#define TEAM_SIZE   50
#define T0          1737124200000

static struct whaco_customer customers[N_CUSTOMERS];
static struct whaco_intel intel;
static struct whaco_segmenter seg;

static void bench_analyze(void *ctx, uint64_t iters)
{
    (void)ctx;
    static uint64_t k;
    struct whaco_analysis an;
    for (uint64_t i = 0; i < iters; i++, k++)
        whaco_intel_analyze(&intel, &customers[k % N_CUSTOMERS], T0, &an, NULL);
    bench_consume(&an);
}

static void bench_analyze_minute_apart(void *ctx, uint64_t iters)
{
    (void)ctx;
    static uint64_t k;
    struct whaco_analysis an;
    for (uint64_t i = 0; i < iters; i++, k++)
        whaco_intel_analyze(&intel, &customers[k % N_CUSTOMERS], T0 + (int64_t)k * 60000, &an,
                            NULL);
    bench_consume(&an);
}

static void bench_learn(void *ctx, uint64_t iters)
{
    (void)ctx;
    static uint64_t k;
    struct whaco_segment_result r;
    for (uint64_t i = 0; i < iters; i++, k++)
        whaco_segment_learn(&seg, &customers[k % N_CUSTOMERS], T0, &r, NULL);
    bench_consume(&r);
}

static void bench_save(void *ctx, uint64_t iters)
{
    (void)ctx;
    struct whaco_buf b = WHACO_BUF_INIT;
    for (uint64_t i = 0; i < iters; i++) {
        b.len = 0;
        whaco_intel_save(&intel, &b);
    }
    bench_consume(b.data);
    whaco_buf_release(&b);
}

int main(void)
{
    struct whaco_rng rng;
    struct whaco_gen_params p;
    whaco_rng_seed(&rng, 1);
    whaco_gen_params_default(&p);
    for (int i = 0; i < N_CUSTOMERS; i++)
        whaco_gen_customer(&rng, &p, &customers[i], NULL);

    whaco_intel_init(&intel, NULL, NULL, NULL);
    whaco_segmenter_init(&seg, NULL, NULL);
    for (int i = 0; i < TEAM_SIZE; i++) {
        char id[16];
        snprintf(id, sizeof id, "sp-%02d", i);
        struct whaco_member_spec spec = {id,
                                         id,
                                         whaco_rng_uniform(&rng),
                                         0.8 + 0.2 * whaco_rng_uniform(&rng),
                                         6.28 * whaco_rng_uniform(&rng),
                                         0};
        whaco_intel_add_salesperson(&intel, &spec, T0, NULL);
    }

    printf("== intelligence layer (team of %d) ==\n", TEAM_SIZE);
    double base = bench_run("baseline: segment.learn alone", bench_learn, NULL, 1000);
    double an = bench_run("intel.analyze (same instant)", bench_analyze, NULL, 1000);
    printf("%-36s %12.2f x baseline   (goal: analyze <= 1000 ns)\n", "  ratio", an / base);
    bench_run("intel.analyze (1 min apart, 1 RK4 step)", bench_analyze_minute_apart, NULL, 1000);
    bench_run("intel.save (whole state)", bench_save, NULL, 20);
    whaco_intel_release(&intel);
    return 0;
}

/*
 * bench.c: the harness of bench.h. Each round's time is divided by its
 * iteration count; the median of the rounds is reported.
 */
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#include "bench.h"

uint64_t bench_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Written, never read: the volatile store is what the compiler must keep. */
const void *volatile bench_sink;

void bench_consume(const void *p)
{
    bench_sink = p;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double bench_run(const char *name, bench_fn fn, void *ctx, uint64_t iters)
{
    enum { MAX_ROUNDS = 201, MIN_ROUNDS = 11 };
    double per_op[MAX_ROUNDS];
    int rounds = 0;
    uint64_t start = bench_now_ns();

    fn(ctx, iters); /* warm caches and branch predictors */
    while (rounds < MAX_ROUNDS && (rounds < MIN_ROUNDS || bench_now_ns() - start < 300000000u)) {
        uint64_t t0 = bench_now_ns();
        fn(ctx, iters);
        uint64_t t1 = bench_now_ns();
        per_op[rounds++] = (double)(t1 - t0) / (double)iters;
    }
    qsort(per_op, (size_t)rounds, sizeof per_op[0], cmp_double);
    double median = per_op[rounds / 2];
    printf("%-36s %12.1f ns/op   (median of %d rounds)\n", name, median, rounds);
    fflush(stdout);
    return median;
}

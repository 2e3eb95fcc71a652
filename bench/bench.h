/*
 * bench/bench.h: a tiny in-process benchmark harness.
 *
 * bench_run() times `fn(ctx, iters)` in rounds of `iters` calls, repeated
 * until at least `min_rounds` rounds and about 0.3 s have passed, and prints
 * the median ns per call over the rounds in one aligned line:
 *
 *     segment.classify                 212.4 ns/op   (median of 31 rounds)
 *
 * Medians, not means, because the machines are shared and noisy. The figure
 * is printed, never asserted: benchmarks are not tests.
 */
#ifndef WHACO_BENCH_H
#define WHACO_BENCH_H

#include <stdint.h>

typedef void (*bench_fn)(void *ctx, uint64_t iters);

/* Time fn and print its median ns/op under name. Returns the median. */
double bench_run(const char *name, bench_fn fn, void *ctx, uint64_t iters);

/* Monotonic clock in nanoseconds. */
uint64_t bench_now_ns(void);

/* Keep the compiler from optimising a result away. */
void bench_consume(const void *p);

#endif /* WHACO_BENCH_H */

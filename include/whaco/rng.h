/*
 * whaco/rng.h: a small, seeded, portable pseudo-random generator.
 *
 * xoshiro256** (Blackman and Vigna, "Scrambled linear pseudorandom number
 * generators", ACM TOMS 2021) seeded through splitmix64, so one 64-bit seed
 * gives the same stream on every platform. Used by the customer generator,
 * the tests and the simulator; never by the engines themselves (they are
 * deterministic functions of their inputs).
 *
 * A struct whaco_rng is plain data owned by the caller; functions on one
 * generator are not thread-safe, separate generators are independent.
 */
#ifndef WHACO_RNG_H
#define WHACO_RNG_H

#include <stdint.h>

struct whaco_rng {
    uint64_t s[4]; /* private: generator state, never all zero */
};

/* Seed the generator; any seed (including 0) is valid. */
void whaco_rng_seed(struct whaco_rng *rng, uint64_t seed);

/* Next 64 uniformly distributed bits. */
uint64_t whaco_rng_next(struct whaco_rng *rng);

/* Uniform double in [0, 1), 53 bits of precision. */
double whaco_rng_uniform(struct whaco_rng *rng);

/* Standard normal deviate (Box-Muller; two uniforms per call). */
double whaco_rng_normal(struct whaco_rng *rng);

/* Uniform integer in [0, n); n must be > 0. Unbiased (rejection). */
uint64_t whaco_rng_below(struct whaco_rng *rng, uint64_t n);

#endif /* WHACO_RNG_H */

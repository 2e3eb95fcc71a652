/*
 * rng.c: xoshiro256** seeded with splitmix64 (see whaco/rng.h). Written from
 * the published algorithm description; the constants are the authors'.
 */
#include <math.h>

#include "whaco/rng.h"
#include "core/internal.h"
#include "banned.h"

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15u);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
    return z ^ (z >> 31);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

void whaco_rng_seed(struct whaco_rng *rng, uint64_t seed)
{
    uint64_t x = seed;
    for (int i = 0; i < 4; i++)
        rng->s[i] = splitmix64(&x);
}

uint64_t whaco_rng_next(struct whaco_rng *rng)
{
    uint64_t *s = rng->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double whaco_rng_uniform(struct whaco_rng *rng)
{
    return (double)(whaco_rng_next(rng) >> 11) * 0x1.0p-53;
}

double whaco_rng_normal(struct whaco_rng *rng)
{
    /* 1 - u lies in (0, 1], so the logarithm is finite. */
    double u1 = 1.0 - whaco_rng_uniform(rng);
    double u2 = whaco_rng_uniform(rng);
    return sqrt(-2.0 * log(u1)) * cos(WHACO_TAU * u2);
}

uint64_t whaco_rng_below(struct whaco_rng *rng, uint64_t n)
{
    uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    uint64_t x;
    do {
        x = whaco_rng_next(rng);
    } while (x >= limit);
    return x % n;
}

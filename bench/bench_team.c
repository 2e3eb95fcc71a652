/*
 * bench_team.c: in-process figures for the oscillator network
 * (whaco/team.h): the team-status report, one 5-minute network tick and one
 * lead assignment, at the sizes a dealership (50) and a dealer group (1,000)
 * would run. Printed, never asserted. Goal: team status for 50 members
 * within 20 us.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "whaco/err.h"
#include "whaco/rng.h"
#include "whaco/team.h"
#include "bench.h"

/* A synchronised-looking team: omega ~ N(0.9, 0.05), skills ~ U(0.2, 1). */
static void build(struct whaco_team *t, size_t n, uint64_t seed)
{
    if (whaco_team_init(t, NULL, NULL) != WHACO_OK)
        abort();
    struct whaco_rng rng;
    whaco_rng_seed(&rng, seed);
    for (size_t i = 0; i < n; i++) {
        char id[32];
        snprintf(id, sizeof id, "sp-%zu", i);
        struct whaco_member_spec s = {
            id,
            id,
            0.2 + 0.8 * whaco_rng_uniform(&rng),
            0.9 + 0.05 * whaco_rng_normal(&rng),
            6.283185307179586 * whaco_rng_uniform(&rng),
            (uint32_t)whaco_rng_below(&rng, 8),
        };
        if (whaco_team_add(t, &s, NULL) != WHACO_OK)
            abort();
    }
    /* Let it settle for a business day so the report looks like a real one. */
    for (int k = 0; k < 120; k++)
        whaco_team_advance(t, 5.0 / 60.0);
}

struct ctx {
    struct whaco_team team;
    struct whaco_team_status st;
};

static void bench_status(void *p, uint64_t iters)
{
    struct ctx *c = p;
    for (uint64_t i = 0; i < iters; i++) {
        whaco_team_status_compute(&c->st, &c->team);
        bench_consume(&c->st);
    }
}

static void bench_tick(void *p, uint64_t iters)
{
    struct ctx *c = p;
    for (uint64_t i = 0; i < iters; i++) {
        whaco_team_advance(&c->team, 5.0 / 60.0);
        bench_consume(c->team.members);
    }
}

static void bench_assign(void *p, uint64_t iters)
{
    struct ctx *c = p;
    for (uint64_t i = 0; i < iters; i++) {
        size_t idx;
        /* Close the deal again so the load stays bounded across rounds. */
        whaco_team_assign(&c->team, (double)(i % 10) / 9.0, &idx, NULL);
        c->team.members[idx].active_deals--;
        bench_consume(&idx);
    }
}

static void run_size(size_t n, uint64_t status_iters, uint64_t tick_iters, bool assign)
{
    static struct ctx c;
    build(&c.team, n, 12345 + n);
    whaco_team_status_init(&c.st);
    char name[64];
    snprintf(name, sizeof name, "team.status (%zu)", n);
    bench_run(name, bench_status, &c, status_iters);
    snprintf(name, sizeof name, "team.tick 5 min (%zu)", n);
    bench_run(name, bench_tick, &c, tick_iters);
    if (assign) {
        snprintf(name, sizeof name, "team.assign (%zu)", n);
        bench_run(name, bench_assign, &c, 1000);
    }
    whaco_team_status_release(&c.st);
    whaco_team_release(&c.team);
}

int main(void)
{
    run_size(50, 1000, 100, true);
    run_size(1000, 50, 5, false);
    return 0;
}

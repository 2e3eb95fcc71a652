/*
 * sim/internal.h: helpers shared by the files of libwhaco_sim; not a
 * public interface.
 */
#ifndef WHACO_SIM_INTERNAL_H
#define WHACO_SIM_INTERNAL_H

#include "whaco/rng.h"
#include "whaco/sim.h"

/*
 * Draw a walk-in's own randomness (patience, exponential with mean
 * patience_min and at least half a minute; u_close; u_pick) from rng, in
 * that order, and mark it as having no recorded outcome.
 */
void whaco__sim_draw(struct whaco_sim_customer *c, struct whaco_rng *rng, double patience_min);

/*
 * Append a clock event of `type` at t for member (SIZE_MAX: none) to
 * w->clock, growing it by doubling; *cap is the clock's allocated length.
 */
void whaco__sim_push_clock(struct whaco_sim_world *w, size_t *cap, int64_t t, uint32_t type,
                           size_t member);

/*
 * A walk-in's intent to buy, in rough standard units: engagement (sd 0.2
 * around 0.5), credit (80 points around 680) and the down payment's share
 * of the price (0.1 around 0.12, at most 0.5), weighted 1, 0.6 and 0.4.
 */
double whaco__sim_intent(const struct whaco_customer *c);

/* The index in w->members of the member with this id, or SIZE_MAX if none. */
size_t whaco__sim_find_member(const struct whaco_sim_world *w, const char *id);

#endif /* WHACO_SIM_INTERNAL_H */

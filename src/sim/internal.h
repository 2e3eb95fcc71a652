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

#endif /* WHACO_SIM_INTERNAL_H */

/*
 * http/metrics.h: request counters and the Prometheus text exposition of
 * /metrics. Counters are C11 atomics, so recording costs a few relaxed
 * increments and never takes a lock.
 */
#ifndef WHACO_HTTP_METRICS_H
#define WHACO_HTTP_METRICS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/engine.h"
#include "http/view.h"

#define METRICS_STATUSES 15 /* distinct status codes counted per route */
#define METRICS_BUCKETS  12 /* latency histogram buckets (+Inf last) */

struct metrics {
    size_t n_routes;                                    /* the route table's rows */
    const char *(*route_name)(unsigned route);          /* a row's name in the exposition */
    atomic_uint_fast64_t (*requests)[METRICS_STATUSES]; /* [n_routes] */
    atomic_uint_fast64_t latency[METRICS_BUCKETS];
    atomic_uint_fast64_t latency_sum_us;
    atomic_uint_fast64_t latency_count;
};

/*
 * Counters for n_routes routes, numbered 0..n_routes-1, whose names
 * route_name gives (both from the route table, request.h). Allocates;
 * aborts if it cannot (server start-up). Release with metrics_release.
 */
void metrics_init(struct metrics *m, size_t n_routes, const char *(*route_name)(unsigned route));
void metrics_release(struct metrics *m);

/* Count one finished request of route (< n_routes; others count in latency only). */
void metrics_record(struct metrics *m, unsigned route, unsigned status, uint64_t ns);

/*
 * Render everything (requests, latency, the engine's counters, and gauges
 * from the current view) in the Prometheus text format, version 0.0.4.
 * Returns a malloc'd string.
 */
char *metrics_render(struct metrics *m, const struct whaco_engine_stats *es,
                     const struct http_view *v, size_t *len);

#endif /* WHACO_HTTP_METRICS_H */

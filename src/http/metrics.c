/*
 * metrics.c: the counters of metrics.h and their Prometheus rendering.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "http/metrics.h"
#include "banned.h"

static const unsigned status_codes[METRICS_STATUSES] = {200, 201, 204, 400, 401, 403, 404, 405,
                                                        409, 413, 415, 429, 500, 503, 0};
static const double latency_bounds[METRICS_BUCKETS - 1] = {
    0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 1.0};

void metrics_init(struct metrics *m, size_t n_routes, const char *(*route_name)(unsigned route))
{
    memset(m, 0, sizeof *m);
    m->n_routes = n_routes;
    m->route_name = route_name;
    m->requests = whaco_xcalloc(n_routes, sizeof *m->requests);
}

void metrics_release(struct metrics *m)
{
    whaco_free(m->requests);
    m->requests = NULL;
}

void metrics_record(struct metrics *m, unsigned route, unsigned status, uint64_t ns)
{
    unsigned s = 0;
    while (s < METRICS_STATUSES - 1 && status_codes[s] != status)
        s++; /* the last slot counts any other status */
    if (route < m->n_routes)
        atomic_fetch_add_explicit(&m->requests[route][s], 1, memory_order_relaxed);
    double secs = (double)ns / 1e9;
    unsigned b = 0;
    while (b < METRICS_BUCKETS - 1 && secs > latency_bounds[b])
        b++;
    atomic_fetch_add_explicit(&m->latency[b], 1, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_sum_us, ns / 1000, memory_order_relaxed);
    atomic_fetch_add_explicit(&m->latency_count, 1, memory_order_relaxed);
}

/* A growing text buffer for the exposition. */
struct text {
    char *p;
    size_t len, cap;
};

static void put(struct text *t, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(t->p + t->len, t->cap - t->len, fmt, ap);
        va_end(ap);
        if (n >= 0 && (size_t)n < t->cap - t->len) {
            t->len += (size_t)n;
            return;
        }
        t->cap = t->cap * 2 + (size_t)(n > 0 ? n : 0);
        t->p = whaco_xreallocarray(t->p, t->cap, 1);
    }
}

/* An 8-bucket histogram from per-bucket counts (the last bucket is +Inf). */
static void put_histogram(struct text *t, const char *name, const char *help,
                          const char *const le[8], const uint64_t counts[8], uint64_t total)
{
    uint64_t cum = 0;
    put(t, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name);
    for (int b = 0; b < 8; b++) {
        cum += counts[b];
        put(t, "%s_bucket{le=\"%s\"} %llu\n", name, le[b], (unsigned long long)cum);
    }
    put(t, "%s_count %llu\n", name, (unsigned long long)total);
}

static uint64_t load(atomic_uint_fast64_t *a)
{
    return atomic_load_explicit(a, memory_order_relaxed);
}

char *metrics_render(struct metrics *m, const struct whaco_engine_stats *es,
                     const struct http_view *v, size_t *len)
{
    static const char *const batch_le[8] = {"1", "3", "7", "15", "31", "63", "127", "+Inf"};
    static const char *const commit_le[8] = {"0.0001", "0.00025", "0.0005", "0.001",
                                             "0.0025", "0.005",   "0.01",   "+Inf"};
    struct text t = {whaco_xmalloc(8192), 0, 8192};
    t.p[0] = '\0';

    put(&t, "# HELP whaco_http_requests_total HTTP requests by route and status.\n"
            "# TYPE whaco_http_requests_total counter\n");
    for (unsigned r = 0; r < m->n_routes; r++)
        for (unsigned s = 0; s < METRICS_STATUSES; s++) {
            uint64_t n = load(&m->requests[r][s]);
            if (!n)
                continue;
            if (status_codes[s])
                put(&t, "whaco_http_requests_total{route=\"%s\",status=\"%u\"} %llu\n",
                    m->route_name(r), status_codes[s], (unsigned long long)n);
            else
                put(&t, "whaco_http_requests_total{route=\"%s\",status=\"other\"} %llu\n",
                    m->route_name(r), (unsigned long long)n);
        }

    put(&t, "# HELP whaco_http_request_duration_seconds Time to answer a request.\n"
            "# TYPE whaco_http_request_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (unsigned b = 0; b < METRICS_BUCKETS; b++) {
        cum += load(&m->latency[b]);
        if (b < METRICS_BUCKETS - 1)
            put(&t, "whaco_http_request_duration_seconds_bucket{le=\"%g\"} %llu\n",
                latency_bounds[b], (unsigned long long)cum);
        else
            put(&t, "whaco_http_request_duration_seconds_bucket{le=\"+Inf\"} %llu\n",
                (unsigned long long)cum);
    }
    put(&t, "whaco_http_request_duration_seconds_sum %.6f\n",
        (double)load(&m->latency_sum_us) / 1e6);
    put(&t, "whaco_http_request_duration_seconds_count %llu\n",
        (unsigned long long)load(&m->latency_count));

    put(&t, "# HELP whaco_events_applied_total Events applied to the state, by type.\n"
            "# TYPE whaco_events_applied_total counter\n");
    for (uint32_t e = 1; e <= WHACO_EV_COUNT; e++)
        put(&t, "whaco_events_applied_total{type=\"%s\"} %llu\n", whaco_event_name(e),
            (unsigned long long)es->events[e]);
    put(&t,
        "# HELP whaco_events_rejected_total Events refused (bad field, unknown id, ...).\n"
        "# TYPE whaco_events_rejected_total counter\nwhaco_events_rejected_total %llu\n",
        (unsigned long long)es->rejected);

    put_histogram(&t, "whaco_commit_batch_size", "Events per committed transaction.", batch_le,
                  es->batch_hist, es->batches);
    put_histogram(&t, "whaco_commit_seconds", "Time to commit (and fsync) one batch.", commit_le,
                  es->commit_hist, es->batches);
    put(&t, "whaco_commit_seconds_sum %.6f\n", (double)es->commit_ns_total / 1e9);

    put(&t,
        "# HELP whaco_snapshots_total Snapshots written.\n"
        "# TYPE whaco_snapshots_total counter\nwhaco_snapshots_total %llu\n"
        "# HELP whaco_log_sequence Highest event sequence number in the log.\n"
        "# TYPE whaco_log_sequence gauge\nwhaco_log_sequence %llu\n"
        "# HELP whaco_storage_failed 1 while the store is failing and writes are refused.\n"
        "# TYPE whaco_storage_failed gauge\nwhaco_storage_failed %d\n"
        "# HELP whaco_storage_failures_total Times the store failed (healthy to degraded).\n"
        "# TYPE whaco_storage_failures_total counter\nwhaco_storage_failures_total %llu\n"
        "# HELP whaco_storage_recoveries_total Times the store recovered by itself.\n"
        "# TYPE whaco_storage_recoveries_total counter\nwhaco_storage_recoveries_total %llu\n",
        (unsigned long long)es->snapshots, (unsigned long long)es->last_seq, es->failed ? 1 : 0,
        (unsigned long long)es->storage_failures, (unsigned long long)es->storage_recoveries);

    put(&t,
        "# HELP whaco_customers_processed_total Customers analysed since the last reset.\n"
        "# TYPE whaco_customers_processed_total counter\nwhaco_customers_processed_total %llu\n"
        "# HELP whaco_outliers_detected_total Customers flagged as anomalies.\n"
        "# TYPE whaco_outliers_detected_total counter\nwhaco_outliers_detected_total %llu\n"
        "# HELP whaco_salespeople Salespeople in the network.\n"
        "# TYPE whaco_salespeople gauge\nwhaco_salespeople %zu\n"
        "# HELP whaco_team_coherence Order parameter r of the team, 0..1.\n"
        "# TYPE whaco_team_coherence gauge\nwhaco_team_coherence %.6f\n",
        (unsigned long long)v->in.seg.processed, (unsigned long long)v->in.seg.outliers,
        v->in.team.n, v->has_status ? v->status.r : 0.0);
    *len = t.len;
    return t.p;
}

/*
 * routes.c: the endpoints of the HTTP API (request.h) -- one row per route
 * in the table at the end of this file, each carrying what it does: a read
 * builds its answer from the engine's current view; a write parses the
 * request into an event, which server.c hands to the engine, and builds
 * the reply once the event is committed.
 *
 * Adding an endpoint is a row plus its functions (docs/architecture.md,
 * "Add an endpoint"); server.c does not change. routes_check, run by
 * whaco_server_start, refuses a row that lacks what its kind needs, so a
 * forgotten handler is a failed start, never a request answered by some
 * other route's code.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/outcomes.h"
#include "http/files.h"
#include "http/request.h"
#include "http/view.h"
#include "banned.h"

extern const unsigned char whaco_openapi_json[];
extern const unsigned long whaco_openapi_json_len;

#define API "/api/intelligence/"

/*==== Reads ===============================================================*/

/* Parse a whole-number query argument in [lo, hi]; def if absent. */
static int query_long(struct request *rq, const char *name, long def, long lo, long hi, long *out)
{
    const char *v = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, name);
    char *end;
    if (!v) {
        *out = def;
        return 0;
    }
    long n = strtol(v, &end, 10);
    if (*v == '\0' || *end != '\0' || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

/* Answer with one of the view's pre-rendered bodies. */
static enum MHD_Result read_view(struct request *rq, enum http_body which)
{
    struct whaco_engine *e = rq->srv->engine;
    void *h;
    char *body = NULL;
    size_t len = 0;
    struct http_view *v = whaco_engine_view_acquire(e, &h);
    int rc = http_view_body(v, which, &body, &len);
    whaco_engine_view_release(e, h);
    if (rc == WHACO_E_INVAL)
        return respond_internal_error(rq, "http_view_body", (long)which);
    if (!body)
        return respond_json(rq, 503, NULL);
    return respond(rq, 200, body, len, "application/json");
}

static enum MHD_Result read_team_status(struct request *rq)
{
    return read_view(rq, BODY_TEAM_STATUS);
}

static enum MHD_Result read_segments(struct request *rq)
{
    return read_view(rq, BODY_SEGMENTS);
}

static enum MHD_Result read_insights(struct request *rq)
{
    return read_view(rq, BODY_INSIGHTS);
}

static enum MHD_Result read_salespeople(struct request *rq)
{
    return read_view(rq, BODY_SALESPEOPLE);
}

static enum MHD_Result read_anomalies(struct request *rq)
{
    struct whaco_engine *e = rq->srv->engine;
    long n;
    void *h;
    if (query_long(rq, "limit", 20, 1, WHACO_ANOMALY_RING, &n))
        return respond_fail(rq, 400, "INVALID_QUERY", "limit",
                            "limit must be a whole number from 1 to 256");
    struct http_view *v = whaco_engine_view_acquire(e, &h);
    char *body = json_anomalies(&v->in.seg, (unsigned)n);
    whaco_engine_view_release(e, h);
    return respond_json(rq, 200, body);
}

static enum MHD_Result read_history(struct request *rq)
{
    struct whaco_engine *e = rq->srv->engine;
    long n;
    void *h;
    if (query_long(rq, "hours", 24, 1, 168, &n))
        return respond_fail(rq, 400, "INVALID_QUERY", "hours",
                            "hours must be a whole number from 1 to 168");
    struct whaco_coherence_sample *samples = whaco_malloc(WHACO_TEAM_HISTORY * sizeof *samples);
    char *body = NULL;
    if (samples) {
        struct http_view *v = whaco_engine_view_acquire(e, &h);
        int64_t since = whaco_engine_now(e) - (int64_t)n * 3600000;
        size_t got = whaco_team_history_since(&v->in.team, since, samples, WHACO_TEAM_HISTORY);
        whaco_engine_view_release(e, h);
        body = json_coherence_history((double)n, samples, got);
        whaco_free(samples);
    }
    return respond_json(rq, 200, body);
}

static enum MHD_Result read_healthz(struct request *rq)
{
    struct whaco_engine_stats es;
    whaco_engine_stats(rq->srv->engine, &es);
    const char *status = es.failed                         ? "degraded"
                         : atomic_load(&rq->srv->draining) ? "stopping"
                                                           : "ok";
    char *body = json_health(status, es.last_seq, es.snapshots, es.failed ? es.storage_error : NULL,
                             es.failed_since_ms);
    return respond_json(rq, strcmp(status, "ok") ? 503 : 200, body);
}

static enum MHD_Result read_metrics(struct request *rq)
{
    struct whaco_engine *e = rq->srv->engine;
    struct whaco_engine_stats es;
    size_t len = 0;
    void *h;
    whaco_engine_stats(e, &es);
    struct http_view *v = whaco_engine_view_acquire(e, &h);
    char *body = metrics_render(&rq->srv->metrics, &es, v, &len);
    whaco_engine_view_release(e, h);
    return respond(rq, 200, body, len, "text/plain; version=0.0.4");
}

static enum MHD_Result read_openapi(struct request *rq)
{
    char *copy = whaco_malloc(whaco_openapi_json_len + 1);
    if (!copy)
        return respond_json(rq, 503, NULL);
    memcpy(copy, whaco_openapi_json, whaco_openapi_json_len + 1);
    return respond(rq, 200, copy, whaco_openapi_json_len, "application/json");
}

/* The dashboard's event stream: the connection stays open, fed by the hub. */
static enum MHD_Result read_events(struct request *rq)
{
    struct MHD_Response *r =
        rq->srv->cfg.hub ? sse_stream_new(rq->srv->cfg.hub, rq->conn, rq->token_id) : NULL;
    if (!r)
        return respond_fail(rq, 503, "UNAVAILABLE", NULL, "the event stream is not available");
    MHD_set_connection_option(rq->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u); /* keepalives */
    add_api_headers(rq, r);
    return respond_raw(rq, 200, r);
}

static enum MHD_Result read_static(struct request *rq)
{
    struct MHD_Response *r = files_open(rq->srv->cfg.web_dir, rq->url);
    if (!r)
        return respond_fail(rq, 404, "NOT_FOUND", NULL, "no such file");
    return respond_raw(rq, 200, r);
}

/*==== Writes ==============================================================*/

static const char *body_of(const struct request *rq)
{
    return rq->body ? rq->body : "";
}

static int parse_analyze(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    return json_parse_analyze(body_of(rq), rq->len, ev, e);
}

static char *reply_analyze(struct request *rq)
{
    void *h;
    struct http_view *v = whaco_engine_view_acquire(rq->srv->engine, &h);
    char *body = json_analysis(&rq->ereq.reply.result.analysis, v->team_short);
    whaco_engine_view_release(rq->srv->engine, h);
    return body;
}

static void broadcast(struct sse_hub *hub, const char *event, char *json)
{
    if (json)
        sse_broadcast(hub, event, json);
    free(json);
}

static void announce_analyze(struct request *rq, struct sse_hub *hub)
{
    const struct whaco_engine_reply *rep = &rq->ereq.reply;
    const struct whaco_event *ev = &rq->ereq.event;
    const struct whaco_segment_result *r = &rep->result.analysis.segment;
    /* On a tracked floor the walk-in's id (walk-in-N for one sent without),
     * as the answer and the floor's events name it. */
    const char *id =
        rep->result.analysis.floor_tracked ? rep->result.analysis.customer_id : ev->customer.id;
    broadcast(hub, "analyzed-customer",
              json_event_analyzed(&rep->result.analysis, id, rep->time_ms));
    if (r->is_outlier) {
        struct whaco_anomaly a;
        memset(&a, 0, sizeof a);
        a.timestamp_ms = rep->time_ms;
        a.customer = ev->customer;
        a.cluster_id = r->cluster_id;
        a.score = r->outlier_score;
        memcpy(a.reasons, r->reasons, sizeof a.reasons);
        a.n_reasons = r->n_reasons;
        broadcast(hub, "anomaly", json_anomaly(&a));
    }
}

static int parse_deal_closed(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    return json_parse_deal_closed(body_of(rq), rq->len, ev, e);
}

static char *reply_deal_closed(struct request *rq)
{
    return json_deal_recorded(&rq->ereq.event);
}

static void announce_deal_closed(struct request *rq, struct sse_hub *hub)
{
    broadcast(hub, "deal-closed", json_deal_recorded(&rq->ereq.event));
}

static void announce_floor(struct request *rq, struct sse_hub *hub);

static int parse_add_salesperson(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    return json_parse_add_salesperson(body_of(rq), rq->len, ev, e);
}

static char *reply_add_salesperson(struct request *rq)
{
    return json_salesperson_added(&rq->ereq.event);
}

/* DELETE salesperson/<id>: the id is the rest of the path. */
static int parse_remove_salesperson(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    const char *id = rq->url + strlen(rq->route->path);
    size_t n = strlen(id);
    whaco_event_init(ev, WHACO_EV_REMOVE_SALESPERSON);
    if (n == 0 || n >= sizeof ev->id) {
        api_error_from_whaco(e, WHACO_E_ID_LENGTH, "id");
        return -1;
    }
    memcpy(ev->id, id, n + 1);
    return 0;
}

static char *reply_remove_salesperson(struct request *rq)
{
    return json_salesperson_removed(rq->ereq.event.id);
}

static int parse_reset(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    (void)rq;
    (void)e;
    whaco_event_init(ev, WHACO_EV_RESET);
    return 0;
}

static char *reply_reset(struct request *rq)
{
    return json_reset_done(rq->ereq.reply.time_ms);
}

/*==== The floor ===========================================================*/

static enum MHD_Result read_up_board(struct request *rq)
{
    struct whaco_engine *e = rq->srv->engine;
    void *h;
    struct http_view *v = whaco_engine_view_acquire(e, &h);
    char *body = json_up_board(&v->in, whaco_engine_now(e));
    whaco_engine_view_release(e, h);
    return respond_json(rq, 200, body);
}

/* GET experiment: the A/B test of assignment rules, from the current view. */
static enum MHD_Result read_experiment(struct request *rq)
{
    struct whaco_engine *e = rq->srv->engine;
    void *h;
    struct http_view *v = whaco_engine_view_acquire(e, &h);
    char *body = json_experiment(&v->in, whaco_engine_now(e));
    whaco_engine_view_release(e, h);
    return respond_json(rq, 200, body);
}

static int parse_clock_in(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    return json_parse_member_event(body_of(rq), rq->len, WHACO_EV_CLOCK_IN, ev, e);
}

static int parse_clock_out(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    return json_parse_member_event(body_of(rq), rq->len, WHACO_EV_CLOCK_OUT, ev, e);
}

static int parse_salesperson_status(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    return json_parse_salesperson_status(body_of(rq), rq->len, ev, e);
}

static int parse_customer_left(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    return json_parse_customer_left(body_of(rq), rq->len, ev, e);
}

static int parse_assign(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    return json_parse_assign(body_of(rq), rq->len, ev, e);
}

/* The answer to a floor write, {"status": what} and the rest (json_floor_done). */
static char *floor_done(struct request *rq, const char *what)
{
    return json_floor_done(what, &rq->ereq.event, &rq->ereq.reply.result.news);
}

static char *reply_clock_in(struct request *rq)
{
    return floor_done(rq, "clocked-in");
}

static char *reply_clock_out(struct request *rq)
{
    return floor_done(rq, "clocked-out");
}

static char *reply_salesperson_status(struct request *rq)
{
    return floor_done(rq, "updated");
}

static char *reply_customer_left(struct request *rq)
{
    return floor_done(rq, "recorded");
}

static char *reply_assign(struct request *rq)
{
    return floor_done(rq, "assigned");
}

/* Any floor change: the dashboards refresh their up board ("floor-changed"). */
static void announce_floor(struct request *rq, struct sse_hub *hub)
{
    broadcast(hub, "floor-changed", rq->route->reply(rq));
}

/*==== Outcomes from a CRM (docs/outcomes.md) ==============================*/

/* The file an outcomes request read, kept until it is answered (rq->batch_ctx). */
static void free_outcomes(void *ctx)
{
    struct whaco_outcome_file *f = ctx;
    if (!f)
        return;
    whaco_outcomes_release(f);
    whaco_free(f);
}

/* POST outcomes: the CSV file into one outcome event per valid row, in file order. */
static int parse_outcomes(struct request *rq, struct api_error *e)
{
    struct whaco_outcomes_error fe;
    struct whaco_engine_request *batch = NULL;
    struct whaco_outcome_file *f = whaco_calloc(1, sizeof *f);
    int rc = f ? whaco_outcomes_parse(body_of(rq), rq->len, f, &fe) : WHACO_E_NOMEM;
    size_t n = 0;
    if (rc == WHACO_E_PARSE) {
        api_error_set(e, 400, fe.code, fe.field, "%s", fe.message);
        whaco_free(f);
        return -1;
    }
    for (size_t i = 0; rc == WHACO_OK && i < f->n; i++)
        n += f->lines[i].valid;
    if (rc == WHACO_OK && n > 0 && !(batch = whaco_calloc(n, sizeof *batch)))
        rc = WHACO_E_NOMEM;
    if (rc != WHACO_OK) {
        free_outcomes(f);
        api_error_set(e, 503, "OUT_OF_MEMORY", NULL, "out of memory; the change was not made");
        return -1;
    }
    for (size_t i = 0, j = 0; i < f->n; i++)
        if (f->lines[i].valid)
            whaco_event_outcome(&batch[j++].event, &f->lines[i].r, f->lines[i].row, WHACO_VIA_API);
    rq->batch = batch;
    rq->n_batch = n;
    rq->batch_ctx = f;
    rq->batch_free = free_outcomes;
    return 0;
}

/* The answer: what each row came to (the valid rows' events are rq->batch, in order). */
static char *reply_outcomes(struct request *rq)
{
    const struct whaco_outcome_file *f = rq->batch_ctx;
    struct whaco_outcome_report *reports = whaco_calloc(f->n ? f->n : 1, sizeof *reports);
    const struct whaco_floor_news **news =
        whaco_calloc(rq->n_batch ? rq->n_batch : 1, sizeof *news);
    int64_t time_ms = rq->n_batch ? rq->batch[0].reply.time_ms : whaco_engine_now(rq->srv->engine);
    char *body = NULL;
    if (reports && news) {
        size_t j = 0, n_news = 0;
        for (size_t i = 0; i < f->n; i++) {
            const struct whaco_engine_request *er = f->lines[i].valid ? &rq->batch[j++] : NULL;
            int rc = er ? er->reply.rc : WHACO_OK;
            whaco_outcome_explain(&f->lines[i], rc, er ? &er->reply.result.outcome : NULL,
                                  &reports[i]);
            if (er && rc == WHACO_OK)
                news[n_news++] = &er->reply.result.news;
        }
        body = json_outcomes_done(f, reports, news, n_news, time_ms);
    }
    whaco_free(reports);
    whaco_free(news);
    return body;
}

/*==== The table ===========================================================*/

/* A floor write (JSON body): path, role, parser, reply. */
#define FLOOR_WRITE(path_, role_, parse_, reply_)                                                  \
    {                                                                                              \
        .path = (path_), .match = MATCH_EXACT, .method = "POST", .role = (role_),                  \
        .admin = (role_) == ROLE_ADMIN, .metric = (path_), .kind = ROUTE_WRITE, .json_body = true, \
        .parse = (parse_), .reply = (reply_), .reply_status = 200, .announce = announce_floor,     \
        .id_field = "salespersonId"                                                                \
    }

/* A GET endpoint at an exact path, named by its path in the metrics. */
#define READ(path_, role_, fn)                                                                     \
    {                                                                                              \
        .path = (path_), .match = MATCH_EXACT, .method = "GET", .role = (role_),                   \
        .metric = (path_), .kind = ROUTE_READ, .read = (fn)                                        \
    }

static const struct route routes[] = {
    {.path = API "analyze-customer",
     .match = MATCH_EXACT,
     .method = "POST",
     .role = ROLE_WRITE,
     .metric = API "analyze-customer",
     .kind = ROUTE_WRITE,
     .json_body = true,
     .parse = parse_analyze,
     .reply = reply_analyze,
     .reply_status = 200,
     .announce = announce_analyze},
    READ(API "team-status", ROLE_READ, read_team_status),
    READ(API "customer-segments", ROLE_READ, read_segments),
    READ(API "anomalies", ROLE_READ, read_anomalies),
    {.path = API "deal-closed",
     .match = MATCH_EXACT,
     .method = "POST",
     .role = ROLE_WRITE,
     .metric = API "deal-closed",
     .kind = ROUTE_WRITE,
     .json_body = true,
     .parse = parse_deal_closed,
     .reply = reply_deal_closed,
     .reply_status = 200,
     .announce = announce_deal_closed,
     .id_field = "salespersonId"},
    READ(API "insights", ROLE_READ, read_insights),
    {.path = API "add-salesperson",
     .match = MATCH_EXACT,
     .method = "POST",
     .role = ROLE_ADMIN,
     .admin = true,
     .metric = API "add-salesperson",
     .kind = ROUTE_WRITE,
     .json_body = true,
     .parse = parse_add_salesperson,
     .reply = reply_add_salesperson,
     .reply_status = 201},
    {.path = API "salesperson/",
     .match = MATCH_PREFIX,
     .method = "DELETE",
     .role = ROLE_ADMIN,
     .admin = true,
     .metric = API "salesperson/:id",
     .kind = ROUTE_WRITE,
     .parse = parse_remove_salesperson,
     .reply = reply_remove_salesperson,
     .reply_status = 200,
     .id_field = "id"},
    {.path = API "reset",
     .match = MATCH_EXACT,
     .method = "POST",
     .role = ROLE_ADMIN,
     .admin = true,
     .metric = API "reset",
     .kind = ROUTE_WRITE,
     .parse = parse_reset,
     .reply = reply_reset,
     .reply_status = 200},
    READ(API "salespeople", ROLE_READ, read_salespeople),
    READ(API "coherence-history", ROLE_READ, read_history),
    FLOOR_WRITE(API "clock-in", ROLE_WRITE, parse_clock_in, reply_clock_in),
    FLOOR_WRITE(API "clock-out", ROLE_WRITE, parse_clock_out, reply_clock_out),
    FLOOR_WRITE(API "salesperson-status", ROLE_WRITE, parse_salesperson_status,
                reply_salesperson_status),
    FLOOR_WRITE(API "customer-left", ROLE_WRITE, parse_customer_left, reply_customer_left),
    FLOOR_WRITE(API "assign", ROLE_ADMIN, parse_assign, reply_assign),
    READ(API "up-board", ROLE_READ, read_up_board),
    {.path = API "outcomes",
     .match = MATCH_EXACT,
     .method = "POST",
     .role = ROLE_WRITE,
     .metric = API "outcomes",
     .kind = ROUTE_WRITE,
     .csv_body = true,
     .parse_batch = parse_outcomes,
     .reply = reply_outcomes,
     .reply_status = 200},
    READ(API "experiment", ROLE_READ, read_experiment),
    {.path = "/healthz",
     .match = MATCH_EXACT,
     .method = "GET",
     .role = ROLE_NONE,
     .open = true,
     .metric = "/healthz",
     .kind = ROUTE_READ,
     .read = read_healthz},
    READ("/metrics", ROLE_READ, read_metrics),
    {.path = "/api/openapi.json",
     .match = MATCH_EXACT,
     .method = "GET",
     .role = ROLE_NONE,
     .open = true,
     .metric = "/api/openapi.json",
     .kind = ROUTE_READ,
     .read = read_openapi},
    {.path = API "events",
     .match = MATCH_EXACT,
     .method = "GET",
     .role = ROLE_READ,
     .metric = API "events",
     .kind = ROUTE_READ,
     .read = read_events,
     .token_in_query = true},
    {.match = MATCH_FILES,
     .method = "GET",
     .role = ROLE_NONE,
     .open = true,
     .metric = "static",
     .kind = ROUTE_READ,
     .read = read_static},
    {.match = MATCH_API,
     .method = "GET",
     .role = ROLE_NONE,
     .open = true,
     .metric = "unmatched",
     .kind = ROUTE_NONE},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

const struct route *routes_table(size_t *n)
{
    *n = N_ROUTES;
    return routes;
}

const char *routes_metric(unsigned i)
{
    return i < N_ROUTES ? routes[i].metric : "unknown";
}

/* The row of routes with match kind m (routes_check makes sure there is one). */
static const struct route *row_matching(enum route_match_kind m)
{
    for (size_t i = 0; i < N_ROUTES; i++)
        if (routes[i].match == m)
            return &routes[i];
    return NULL;
}

const struct route *routes_match(const char *url)
{
    for (size_t i = 0; i < N_ROUTES; i++) {
        const struct route *r = &routes[i];
        size_t n = r->path ? strlen(r->path) : 0;
        if (r->match == MATCH_EXACT && strcmp(url, r->path) == 0)
            return r;
        if (r->match == MATCH_PREFIX && strncmp(url, r->path, n) == 0 && url[n] != '\0' &&
            !strchr(url + n, '/'))
            return r;
    }
    /* Everything outside the API is the dashboard's files. */
    return row_matching(strncmp(url, "/api/", 5) == 0 ? MATCH_API : MATCH_FILES);
}

/* What row r lacks for its kind, or NULL if nothing. */
static const char *row_problem(const struct route *r)
{
    bool get = strcmp(r->method, "GET") == 0;
    switch (r->kind) {
    case ROUTE_READ:
        if (!get)
            return "a read route must answer GET";
        return r->read ? NULL : "a read route has no read function";
    case ROUTE_WRITE:
        if (get)
            return "a write route must not answer GET";
        if (!r->parse == !r->parse_batch || !r->reply)
            return "a write route needs reply, and parse or parse_batch (one of them)";
        return r->reply_status ? NULL : "a write route has no reply_status";
    case ROUTE_NONE:
        return r->match == MATCH_API ? NULL : "only the unmatched row may have no behaviour";
    default:
        return "unknown route kind";
    }
}

bool routes_check(const struct route *table, size_t n, char *why, size_t whylen)
{
    size_t api = 0, files = 0;
    for (size_t i = 0; i < n; i++) {
        const struct route *r = &table[i];
        const char *name = r->metric ? r->metric : "(no metric name)";
        const char *problem = NULL;
        if (!r->metric || !r->method)
            problem = "a route needs a metric name and a method";
        else if ((r->match == MATCH_EXACT || r->match == MATCH_PREFIX) && !r->path)
            problem = "an exact or prefix route needs a path";
        else
            problem = row_problem(r);
        for (size_t j = 0; !problem && j < i; j++)
            if (table[j].metric && strcmp(table[j].metric, r->metric) == 0)
                problem = "two routes have this metric name";
        api += r->match == MATCH_API;
        files += r->match == MATCH_FILES;
        if (problem) {
            snprintf(why, whylen, "route %zu (%s): %s", i, name, problem);
            return false;
        }
    }
    if (api != 1 || files != 1) {
        snprintf(why, whylen, "the table needs exactly one unmatched-API row and one files row");
        return false;
    }
    return true;
}

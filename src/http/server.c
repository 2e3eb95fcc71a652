/*
 * server.c: the HTTP API on libmicrohttpd (see server.h).
 *
 * One struct request per HTTP request, through these states:
 *   NEW      first call: a write's route, method, auth, content type and
 *            length are checked (a refusal is sent at once); a read waits
 *            for the second call, so that keep-alive is kept.
 *   BODY     a write's body arrives (capped at body_limit); a read is
 *            checked the same way and answered from the current view.
 *   WAITING  the body is parsed into an event, the connection suspended and
 *            the event queued to the engine (suspend first, so the engine's
 *            resume can never come before it).
 *   DONE     the engine has committed (or refused) it and resumed us: the
 *            answer is built from its reply.
 * The completion callback counts the request in the metrics, writes the log
 * line and frees it. Invariant: every request gets exactly one response,
 * and the engine never touches a request after calling its done callback.
 */
#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <sodium.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "http/auth.h"
#include "http/deadline.h"
#include "http/files.h"
#include "http/json.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "http/server.h"
#include "http/view.h"
#include "banned.h"

extern const unsigned char whaco_openapi_json[];
extern const unsigned long whaco_openapi_json_len;

enum route_id {
    R_ANALYZE,
    R_TEAM_STATUS,
    R_SEGMENTS,
    R_ANOMALIES,
    R_DEAL_CLOSED,
    R_INSIGHTS,
    R_ADD,
    R_REMOVE,
    R_RESET,
    R_SALESPEOPLE,
    R_HISTORY,
    R_HEALTHZ,
    R_METRICS,
    R_OPENAPI,
    R_EVENTS,
    R_STATIC,
    R_UNMATCHED,
};

struct route {
    const char *path;   /* exact path, or prefix when `prefix` */
    bool prefix;        /* path + "<id>" */
    const char *method; /* the one method it answers (GET also answers HEAD) */
    enum role role;     /* role needed when tokens are required */
    bool admin;         /* needs an admin token even on loopback */
    bool open;          /* never needs a token */
};

#define API "/api/intelligence/"
static const struct route routes[] = {
    [R_ANALYZE] = {API "analyze-customer", false, "POST", ROLE_WRITE, false, false},
    [R_TEAM_STATUS] = {API "team-status", false, "GET", ROLE_READ, false, false},
    [R_SEGMENTS] = {API "customer-segments", false, "GET", ROLE_READ, false, false},
    [R_ANOMALIES] = {API "anomalies", false, "GET", ROLE_READ, false, false},
    [R_DEAL_CLOSED] = {API "deal-closed", false, "POST", ROLE_WRITE, false, false},
    [R_INSIGHTS] = {API "insights", false, "GET", ROLE_READ, false, false},
    [R_ADD] = {API "add-salesperson", false, "POST", ROLE_ADMIN, true, false},
    [R_REMOVE] = {API "salesperson/", true, "DELETE", ROLE_ADMIN, true, false},
    [R_RESET] = {API "reset", false, "POST", ROLE_ADMIN, true, false},
    [R_SALESPEOPLE] = {API "salespeople", false, "GET", ROLE_READ, false, false},
    [R_HISTORY] = {API "coherence-history", false, "GET", ROLE_READ, false, false},
    [R_HEALTHZ] = {"/healthz", false, "GET", ROLE_NONE, false, true},
    [R_METRICS] = {"/metrics", false, "GET", ROLE_READ, false, false},
    [R_OPENAPI] = {"/api/openapi.json", false, "GET", ROLE_NONE, false, true},
    [R_EVENTS] = {API "events", false, "GET", ROLE_READ, false, false},
    [R_STATIC] = {"/", true, "GET", ROLE_NONE, false, true},
};
#define N_ROUTES (sizeof routes / sizeof routes[0])

/*
 * Each connection's memory (libmicrohttpd's pool): the request line and
 * headers must fit in it, else 414 (URI Too Long) or 431 (Request Header
 * Fields Too Large). Bodies stream through it and are capped by body_limit.
 */
#define CONNECTION_MEMORY (32 * 1024)

static const char *const route_names[METRICS_ROUTES] = {
    [R_ANALYZE] = API "analyze-customer",
    [R_TEAM_STATUS] = API "team-status",
    [R_SEGMENTS] = API "customer-segments",
    [R_ANOMALIES] = API "anomalies",
    [R_DEAL_CLOSED] = API "deal-closed",
    [R_INSIGHTS] = API "insights",
    [R_ADD] = API "add-salesperson",
    [R_REMOVE] = API "salesperson/:id",
    [R_RESET] = API "reset",
    [R_SALESPEOPLE] = API "salespeople",
    [R_HISTORY] = API "coherence-history",
    [R_HEALTHZ] = "/healthz",
    [R_METRICS] = "/metrics",
    [R_OPENAPI] = "/api/openapi.json",
    [R_EVENTS] = API "events",
    [R_STATIC] = "static",
    [R_UNMATCHED] = "unmatched",
};

struct whaco_server {
    struct whaco_server_config cfg;
    struct whaco_engine *engine; /* borrowed */
    struct MHD_Daemon *daemon;
    struct auth *auth;
    struct authlimit *authlimit; /* failed tokens per client address */
    struct deadlines *deadlines; /* slow clients */
    struct metrics metrics;
    bool on_loopback; /* listening on a loopback address: see needs_token */
    atomic_bool draining;
    atomic_int inflight;  /* requests begun and not completed */
    atomic_int uploading; /* of which still receiving a body: these stop may drop */
    uint16_t port;
};

enum req_state { ST_NEW, ST_BODY, ST_WAITING, ST_DONE, ST_DONE_EARLY };

struct request {
    struct whaco_server *srv;
    struct MHD_Connection *conn;
    enum route_id route;
    const char *method; /* static: for the log */
    enum req_state st;
    const char *url; /* borrowed from libmicrohttpd for the request's life */
    uint64_t start_ns;
    unsigned status;
    char *body;
    size_t len;
    bool too_big;
    bool no_memory;               /* the body could not be stored: answered 503 */
    bool uploading;               /* counted in the server's uploading */
    unsigned retry_after;         /* seconds, for a 429 */
    char token_id[TOKEN_ID_TEXT]; /* the valid token's id, for the log; "" if none */
    struct deadline_conn *dconn;  /* the connection's deadline; NULL if none */
    struct whaco_engine_request ereq;
};

void whaco_server_config_default(struct whaco_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = 8080;
    cfg->body_limit = 64 * 1024;
    cfg->log_requests = true;
    cfg->data_dir = "data";
    cfg->conn_timeout = 30;
    cfg->request_timeout_ms = 30000;
    cfg->max_connections = 4096;
    cfg->max_connections_per_address = 64;
    cfg->auth_failure_limit = 10;
    cfg->auth_failure_window_ms = 60000;
    cors_list_clear(&cfg->cors);
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*==== Responses ===========================================================*/

/* The request's Origin if it is in the CORS allow-list, else NULL. */
static const char *allowed_origin(struct request *rq)
{
    const char *origin = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Origin");
    return cors_allowed(&rq->srv->cfg.cors, origin) ? origin : NULL;
}

/*
 * The headers of every API answer: no sniffing, no framing, no use by
 * other sites' pages (CORP; CORS requests are governed by CORS instead),
 * and, when an allow-list is configured, CORS for the origins in it.
 */
static void add_api_headers(struct request *rq, struct MHD_Response *r)
{
    MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(r, "X-Frame-Options", "DENY");
    MHD_add_response_header(r, "Cross-Origin-Resource-Policy", "same-origin");
    if (rq->srv->cfg.cors.n == 0)
        return;
    MHD_add_response_header(r, "Vary", "Origin");
    const char *origin = allowed_origin(rq);
    if (origin) {
        MHD_add_response_header(r, "Access-Control-Allow-Origin", origin);
        MHD_add_response_header(r, "Access-Control-Expose-Headers",
                                "Retry-After, WWW-Authenticate");
    }
}

/* Queue r with status and record the status for the log; r is destroyed. */
static enum MHD_Result send_response(struct request *rq, unsigned status, struct MHD_Response *r)
{
    rq->status = status;
    enum MHD_Result ret = MHD_queue_response(rq->conn, status, r);
    MHD_destroy_response(r);
    return ret;
}

/* The methods route r answers, for Allow and Access-Control-Allow-Methods. */
static const char *allowed_methods(const struct route *r)
{
    return strcmp(r->method, "GET") ? r->method : "GET, HEAD";
}

/* Add the headers of an API answer to r and queue it with status; r is destroyed. */
static enum MHD_Result queue(struct request *rq, unsigned status, struct MHD_Response *r,
                             const char *type)
{
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, type);
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    add_api_headers(rq, r);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allowed_methods(&routes[rq->route]));
    } else if (status == MHD_HTTP_UNAUTHORIZED) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_WWW_AUTHENTICATE, "Bearer realm=\"whaco\"");
    } else if (status == MHD_HTTP_SERVICE_UNAVAILABLE) {
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, "5");
        MHD_add_response_header(r, MHD_HTTP_HEADER_CONNECTION, "close");
    } else if (status == MHD_HTTP_TOO_MANY_REQUESTS) {
        char secs[16];
        snprintf(secs, sizeof secs, "%u", rq->retry_after);
        MHD_add_response_header(r, MHD_HTTP_HEADER_RETRY_AFTER, secs);
    }
    return send_response(rq, status, r);
}

/* Queue body (malloc'd; ownership passes to libmicrohttpd) with status. */
static enum MHD_Result respond(struct request *rq, unsigned status, char *body, size_t len,
                               const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    return queue(rq, status, r, type);
}

/*
 * Queue json (consumed) with status. NULL means a builder ran out of
 * memory: the answer is then 503 OUT_OF_MEMORY from static storage, since
 * allocating it could fail too.
 */
static enum MHD_Result respond_json(struct request *rq, unsigned status, char *json)
{
    static const char oom[] =
        "{\"error\":{\"code\":\"OUT_OF_MEMORY\",\"message\":\"out of memory\"}}";
    if (json)
        return respond(rq, status, json, strlen(json), "application/json");
    struct MHD_Response *r =
        MHD_create_response_from_buffer(sizeof oom - 1, (void *)oom, MHD_RESPMEM_PERSISTENT);
    if (!r)
        return MHD_NO;
    return queue(rq, MHD_HTTP_SERVICE_UNAVAILABLE, r, "application/json");
}

static enum MHD_Result respond_error(struct request *rq, const struct api_error *e)
{
    return respond_json(rq, (unsigned)e->status, json_error(e));
}

static enum MHD_Result fail(struct request *rq, int status, const char *code, const char *field,
                            const char *message)
{
    struct api_error e;
    api_error_set(&e, status, code, field, "%s", message);
    return respond_error(rq, &e);
}

static enum MHD_Result fail_body_too_large(struct request *rq)
{
    char msg[96];
    snprintf(msg, sizeof msg, "the body must not exceed %zu bytes", rq->srv->cfg.body_limit);
    return fail(rq, 413, "BODY_TOO_LARGE", NULL, msg);
}

/* The HTTP answer to an event that the engine refused. */
static enum MHD_Result respond_event_error(struct request *rq)
{
    const struct whaco_engine_reply *rep = &rq->ereq.reply;
    const struct whaco_event *ev = &rq->ereq.event;
    struct api_error e;
    switch (rep->rc) {
    case WHACO_E_NOT_FOUND:
        api_error_set(&e, 404, "NOT_FOUND", rq->route == R_REMOVE ? "id" : "salespersonId",
                      "no salesperson with id '%s'", ev->id);
        break;
    case WHACO_E_DUPLICATE:
        api_error_set(&e, 409, "DUPLICATE", "id", "a salesperson with id '%s' already exists",
                      ev->id);
        break;
    case WHACO_E_TEAM_FULL:
        api_error_from_whaco(&e, rep->rc, NULL);
        e.status = 409;
        break;
    case WHACO_E_UNAVAILABLE:
        if (rep->storage_failed) {
            struct whaco_engine_stats es;
            whaco_engine_stats(rq->srv->engine, &es);
            api_error_set(&e, 503, "UNAVAILABLE", NULL,
                          "storage failed: %s -- nothing of this request was stored; writes are"
                          " refused until the storage recovers (reads still work)",
                          es.storage_error);
        } else {
            api_error_set(&e, 503, "UNAVAILABLE", NULL, "the service is shutting down");
        }
        break;
    case WHACO_E_NOMEM: /* the event was not applied: state unchanged, retry later */
        api_error_set(&e, 503, "OUT_OF_MEMORY", NULL, "out of memory; the change was not made");
        break;
    case WHACO_E_TIME_BACKWARDS:
    case WHACO_E_IO:
    case WHACO_E_INVAL:
        api_error_from_whaco(&e, rep->rc, NULL);
        e.status = 500;
        break;
    default:
        api_error_from_whaco(&e, rep->rc, rep->field); /* validation: 400 */
        break;
    }
    return respond_error(rq, &e);
}

static void broadcast(struct sse_hub *hub, const char *event, char *json)
{
    if (json)
        sse_broadcast(hub, event, json);
    free(json);
}

/* Tell the dashboards about a committed write (team status comes with the view). */
static void announce(struct request *rq)
{
    struct sse_hub *hub = rq->srv->cfg.hub;
    const struct whaco_engine_reply *rep = &rq->ereq.reply;
    const struct whaco_event *ev = &rq->ereq.event;
    if (!hub || sse_streams(hub) == 0)
        return; /* nobody is watching: build nothing */
    if (rq->route == R_DEAL_CLOSED) {
        broadcast(hub, "deal-closed", json_deal_recorded(ev));
    } else if (rq->route == R_ANALYZE) {
        const struct whaco_segment_result *r = &rep->analysis.segment;
        broadcast(hub, "analyzed-customer",
                  json_event_analyzed(&rep->analysis, ev->customer.id, rep->time_ms));
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
}

static enum MHD_Result respond_event_done(struct request *rq)
{
    const struct whaco_engine_reply *rep = &rq->ereq.reply;
    const struct whaco_event *ev = &rq->ereq.event;
    if (rep->rc != WHACO_OK)
        return respond_event_error(rq);
    announce(rq);
    switch (rq->route) {
    case R_ANALYZE: {
        void *h;
        struct http_view *v = whaco_engine_view_acquire(rq->srv->engine, &h);
        char *body = json_analysis(&rep->analysis, v->team_short);
        whaco_engine_view_release(rq->srv->engine, h);
        return respond_json(rq, 200, body);
    }
    case R_DEAL_CLOSED:
        return respond_json(rq, 200, json_deal_recorded(ev));
    case R_ADD:
        return respond_json(rq, 201, json_salesperson_added(ev));
    case R_REMOVE:
        return respond_json(rq, 200, json_salesperson_removed(ev->id));
    default:
        return respond_json(rq, 200, json_reset_done(rep->time_ms));
    }
}

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

static enum MHD_Result respond_healthz(struct request *rq)
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

static enum MHD_Result respond_static(struct request *rq)
{
    struct MHD_Response *r = files_open(rq->srv->cfg.web_dir, rq->url);
    if (!r)
        return fail(rq, 404, "NOT_FOUND", NULL, "no such file");
    return send_response(rq, 200, r);
}

/* The dashboard's event stream: the connection stays open, fed by the hub. */
static enum MHD_Result respond_events(struct request *rq)
{
    struct MHD_Response *r =
        rq->srv->cfg.hub ? sse_stream_new(rq->srv->cfg.hub, rq->conn, rq->token_id) : NULL;
    if (!r)
        return fail(rq, 503, "UNAVAILABLE", NULL, "the event stream is not available");
    MHD_set_connection_option(rq->conn, MHD_CONNECTION_OPTION_TIMEOUT, 0u); /* keepalives */
    add_api_headers(rq, r);
    return send_response(rq, 200, r);
}

static enum MHD_Result respond_read(struct request *rq)
{
    struct whaco_engine *e = rq->srv->engine;
    void *h;
    struct http_view *v;
    char *body = NULL;
    size_t len = 0;
    long n;
    enum MHD_Result ret;

    switch (rq->route) {
    case R_HEALTHZ:
        return respond_healthz(rq);
    case R_STATIC:
        return respond_static(rq);
    case R_EVENTS:
        return respond_events(rq);
    case R_OPENAPI: {
        char *copy = whaco_malloc(whaco_openapi_json_len + 1);
        if (!copy)
            return respond_json(rq, 503, NULL);
        memcpy(copy, whaco_openapi_json, whaco_openapi_json_len + 1);
        return respond(rq, 200, copy, whaco_openapi_json_len, "application/json");
    }
    case R_ANOMALIES:
        if (query_long(rq, "limit", 20, 1, WHACO_ANOMALY_RING, &n))
            return fail(rq, 400, "INVALID_QUERY", "limit",
                        "limit must be a whole number from 1 to 256");
        break;
    case R_HISTORY:
        if (query_long(rq, "hours", 24, 1, 168, &n))
            return fail(rq, 400, "INVALID_QUERY", "hours",
                        "hours must be a whole number from 1 to 168");
        break;
    default:
        n = 0;
        break;
    }

    v = whaco_engine_view_acquire(e, &h);
    switch (rq->route) {
    case R_TEAM_STATUS:
        body = http_view_body(v, BODY_TEAM_STATUS, &len);
        break;
    case R_SEGMENTS:
        body = http_view_body(v, BODY_SEGMENTS, &len);
        break;
    case R_INSIGHTS:
        body = http_view_body(v, BODY_INSIGHTS, &len);
        break;
    case R_SALESPEOPLE:
        body = http_view_body(v, BODY_SALESPEOPLE, &len);
        break;
    case R_ANOMALIES:
        body = json_anomalies(&v->in.seg, (unsigned)n);
        len = body ? strlen(body) : 0;
        break;
    case R_HISTORY: {
        struct whaco_coherence_sample *samples = whaco_malloc(WHACO_TEAM_HISTORY * sizeof *samples);
        int64_t since = whaco_engine_now(e) - (int64_t)n * 3600000;
        size_t got =
            samples ? whaco_team_history_since(&v->in.team, since, samples, WHACO_TEAM_HISTORY) : 0;
        body = samples ? json_coherence_history((double)n, samples, got) : NULL;
        len = body ? strlen(body) : 0;
        whaco_free(samples);
        break;
    }
    default: { /* R_METRICS */
        struct whaco_engine_stats es;
        whaco_engine_stats(e, &es);
        body = metrics_render(&rq->srv->metrics, &es, v, &len);
        whaco_engine_view_release(e, h);
        return respond(rq, 200, body, len, "text/plain; version=0.0.4");
    }
    }
    whaco_engine_view_release(e, h);
    if (!body)
        return respond_json(rq, 503, NULL);
    ret = respond(rq, 200, body, len, "application/json");
    return ret;
}

/*==== Writes ==============================================================*/

static void engine_done(void *arg)
{
    struct request *rq = arg;
    rq->st = ST_DONE;
    MHD_resume_connection(rq->conn);
}

/* Parse the body (or URL) into an event and hand it to the engine. */
static enum MHD_Result submit_write(struct request *rq, const char *url)
{
    struct whaco_event *ev = &rq->ereq.event;
    struct api_error e;
    int rc = 0;
    switch (rq->route) {
    case R_ANALYZE:
        rc = json_parse_analyze(rq->body ? rq->body : "", rq->len, ev, &e);
        break;
    case R_DEAL_CLOSED:
        rc = json_parse_deal_closed(rq->body ? rq->body : "", rq->len, ev, &e);
        break;
    case R_ADD:
        rc = json_parse_add_salesperson(rq->body ? rq->body : "", rq->len, ev, &e);
        break;
    case R_REMOVE: {
        const char *id = url + strlen(routes[R_REMOVE].path);
        size_t n = strlen(id);
        whaco_event_init(ev, WHACO_EV_REMOVE_SALESPERSON);
        if (n == 0 || n >= sizeof ev->id) {
            api_error_from_whaco(&e, WHACO_E_ID_LENGTH, "id");
            rc = -1;
        } else {
            memcpy(ev->id, id, n + 1);
        }
        break;
    }
    default:
        whaco_event_init(ev, WHACO_EV_RESET);
        break;
    }
    if (rc != 0)
        return respond_error(rq, &e);

    rq->ereq.done = engine_done;
    rq->ereq.arg = rq;
    rq->st = ST_WAITING;
    /* Suspend before queueing: the engine may finish (and resume) at once. */
    MHD_suspend_connection(rq->conn);
    if (whaco_engine_submit(rq->srv->engine, &rq->ereq) != WHACO_OK) {
        rq->ereq.reply.rc = WHACO_E_UNAVAILABLE;
        engine_done(rq);
    }
    return MHD_YES;
}

/*==== The access handler ==================================================*/

static enum route_id match(const char *url)
{
    for (unsigned i = 0; i < N_ROUTES; i++) {
        size_t n = strlen(routes[i].path);
        if (i == R_STATIC)
            continue;
        if (routes[i].prefix
                ? strncmp(url, routes[i].path, n) == 0 && url[n] != '\0' && !strchr(url + n, '/')
                : strcmp(url, routes[i].path) == 0)
            return (enum route_id)i;
    }
    /* Everything outside the API is the dashboard's files. */
    return strncmp(url, "/api/", 5) == 0 ? R_UNMATCHED : R_STATIC;
}

static bool is_json(const char *type)
{
    static const char want[] = "application/json";
    if (!type || strncasecmp(type, want, sizeof want - 1) != 0)
        return false;
    char next = type[sizeof want - 1];
    return next == '\0' || next == ';' || next == ' ';
}

static uint64_t mono_ms(void)
{
    return mono_ns() / 1000000u;
}

/* The client address of rq's connection (family 0 if unknown). */
static struct client_addr client_of(struct request *rq)
{
    struct client_addr a;
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(rq->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    client_addr_from_sockaddr(ci ? ci->client_addr : NULL, &a);
    return a;
}

/* One line on stderr when an address is locked out; never a token. */
static void log_lockout(struct whaco_server *s, const struct client_addr *a)
{
    char addr[64], line[256];
    client_addr_format(a, addr, sizeof addr);
    int n = snprintf(line, sizeof line,
                     "{\"event\":\"auth-lockout\",\"client\":\"%s\",\"failures\":%u,"
                     "\"seconds\":%llu}\n",
                     addr, s->cfg.auth_failure_limit,
                     (unsigned long long)((s->cfg.auth_failure_window_ms + 999) / 1000));
    if (n > 0)
        fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, stderr);
}

/*
 * The token check of a route that needs one: 429 while the client's
 * address is locked out (whatever it presents), 401 for a missing or bad
 * token (a bad one counts towards the lockout), 403 for too low a role.
 * Answers the request and returns true if it is refused.
 */
static bool reject_unauthorized(struct request *rq, enum MHD_Result *ret)
{
    struct whaco_server *s = rq->srv;
    const struct route *r = &routes[rq->route];
    struct client_addr addr = client_of(rq);
    char msg[160];

    rq->retry_after = authlimit_locked(s->authlimit, &addr, mono_ms());
    if (rq->retry_after > 0) {
        snprintf(msg, sizeof msg,
                 "too many failed authentications from this address; try again in %u s",
                 rq->retry_after);
        *ret = fail(rq, 429, "TOO_MANY_AUTH_FAILURES", NULL, msg);
        return true;
    }
    const char *authz =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char bearer[TOKEN_TEXT_MAX + 8];
    const char *qtoken = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "token");
    if (!authz && qtoken && rq->route == R_EVENTS) {
        /* EventSource cannot send headers: the stream takes ?token= too. */
        snprintf(bearer, sizeof bearer, "Bearer %.*s", TOKEN_TEXT_MAX, qtoken);
        authz = bearer;
    }
    enum role have = s->auth ? auth_check(s->auth, authz, rq->token_id) : ROLE_NONE;
    sodium_memzero(bearer, sizeof bearer);
    if (have == ROLE_NONE) {
        if (authz && authlimit_fail(s->authlimit, &addr, mono_ms()))
            log_lockout(s, &addr);
        *ret = fail(rq, 401, "UNAUTHORIZED", NULL,
                    authz ? "the bearer token is not valid"
                          : "this endpoint needs an Authorization: Bearer token");
        return true;
    }
    if (have < r->role) {
        snprintf(msg, sizeof msg, "this endpoint needs the %s role; the token has %s",
                 auth_role_name(r->role), auth_role_name(have));
        *ret = fail(rq, 403, "FORBIDDEN", NULL, msg);
        return true;
    }
    return false;
}

/*
 * Whether a Host header is a name that DNS rebinding could have pointed at
 * this machine: a domain name with a dot (evil.example), other than
 * localhost and names under .localhost. IP literals cannot be rebound (no
 * lookup), and a single-label name (localhost, a hosts-file alias) is not
 * a public domain an attacker's page could be served from; no Host at all
 * (HTTP/1.0) is not a browser.
 */
static bool host_rebindable(const char *host)
{
    char name[256];
    struct in_addr a4;
    if (!host || host[0] == '[') /* none, or an IPv6 literal */
        return false;
    size_t n = strcspn(host, ":");
    if (n >= sizeof name)
        return true;
    memcpy(name, host, n);
    name[n] = '\0';
    if (n > 0 && name[n - 1] == '.')
        name[--n] = '\0'; /* "localhost." is localhost */
    if (!strchr(name, '.') || inet_pton(AF_INET, name, &a4) == 1)
        return false;
    static const char local[] = ".localhost";
    return strcasecmp(name, "localhost") != 0 &&
           !(n > sizeof local - 1 && strcasecmp(name + n - (sizeof local - 1), local) == 0);
}

/*
 * Whether route r needs a token for this request. Admin endpoints always
 * do, every endpoint but the open ones does when tokens are required; on a
 * loopback listener without require-auth the others are open -- but not to
 * a request whose Host is a domain name (host_rebindable): a web page that
 * rebinds its own domain to 127.0.0.1 (DNS rebinding) sends that domain in
 * Host, and so still needs a token it does not have.
 */
static bool needs_token(struct request *rq, const struct route *r)
{
    struct whaco_server *s = rq->srv;
    if (r->open)
        return false;
    if (r->admin || s->cfg.require_auth)
        return true;
    return s->on_loopback &&
           host_rebindable(MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Host"));
}

/* The checks of a request's first call; answers it (and returns true) if one fails. */
static bool reject_early(struct request *rq, const char *url, const char *method,
                         enum MHD_Result *ret)
{
    struct whaco_server *s = rq->srv;
    const struct route *r = &routes[rq->route];
    char msg[160];

    if (atomic_load(&s->draining)) {
        *ret = fail(rq, 503, "UNAVAILABLE", NULL, "the service is shutting down");
        return true;
    }
    if (rq->route == R_UNMATCHED) {
        snprintf(msg, sizeof msg, "no such endpoint: %.100s", url);
        *ret = fail(rq, 404, "NOT_FOUND", NULL, msg);
        return true;
    }
    bool head_ok = !strcmp(method, "HEAD") && !strcmp(r->method, "GET");
    if (strcmp(method, r->method) != 0 && !head_ok) {
        snprintf(msg, sizeof msg, "%s is not allowed here; use %s", method, r->method);
        *ret = fail(rq, 405, "METHOD_NOT_ALLOWED", NULL, msg);
        return true;
    }
    if (needs_token(rq, r) && reject_unauthorized(rq, ret))
        return true;
    if (rq->route == R_ANALYZE || rq->route == R_DEAL_CLOSED || rq->route == R_ADD) {
        const char *type =
            MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
        if (!is_json(type)) {
            *ret = fail(rq, 415, "UNSUPPORTED_MEDIA_TYPE", NULL,
                        "the body must be JSON (Content-Type: application/json)");
            return true;
        }
    }
    const char *clen =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (clen && strtoull(clen, NULL, 10) > s->cfg.body_limit) {
        *ret = fail_body_too_large(rq);
        return true;
    }
    return false;
}

/* The request's body is complete (or abandoned): stop counting it as uploading. */
static void upload_done(struct request *rq)
{
    if (rq->uploading) {
        rq->uploading = false;
        atomic_fetch_sub(&rq->srv->uploading, 1);
    }
}

/*
 * A CORS preflight (OPTIONS with Origin and Access-Control-Request-Method):
 * 204 with the route's method and the headers the API reads, for an origin
 * in the allow-list; 403 without any CORS header for any other origin.
 * Returns false if rq is not a preflight (it then gets the usual 405).
 */
static bool answer_preflight(struct request *rq, enum MHD_Result *ret)
{
    const char *origin = MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Origin");
    const char *want =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, "Access-Control-Request-Method");
    if (!origin || !want || rq->route == R_UNMATCHED || atomic_load(&rq->srv->draining))
        return false;
    if (!allowed_origin(rq)) {
        *ret = fail(rq, 403, "CORS_ORIGIN_NOT_ALLOWED", NULL,
                    "this origin is not in the service's CORS allow-list (cors-origin)");
        return true;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        *ret = MHD_NO;
        return true;
    }
    add_api_headers(rq, r);
    MHD_add_response_header(r, "Access-Control-Allow-Methods", allowed_methods(&routes[rq->route]));
    MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    *ret = send_response(rq, MHD_HTTP_NO_CONTENT, r);
    return true;
}

/* Methods without a body of their own: answered on their second call. */
static bool bodiless(const char *method)
{
    return !strcmp(method, "GET") || !strcmp(method, "HEAD") || !strcmp(method, "OPTIONS");
}

/* The connection's deadline (deadline.h), kept as its socket context. */
static struct deadline_conn *deadline_of(struct MHD_Connection *conn)
{
    const union MHD_ConnectionInfo *ci =
        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_SOCKET_CONTEXT);
    return ci ? ci->socket_context : NULL;
}

static const char *static_method(const char *m)
{
    static const char *const known[] = {"GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"};
    for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
        if (!strcmp(m, known[i]))
            return known[i];
    return "OTHER";
}

static enum MHD_Result handle(void *cls, struct MHD_Connection *conn, const char *url,
                              const char *method, const char *version, const char *upload_data,
                              size_t *upload_data_size, void **con_cls)
{
    struct whaco_server *s = cls;
    struct request *rq = *con_cls;
    enum MHD_Result ret = MHD_YES;
    (void)version;

    if (!rq) {
        rq = whaco_calloc(1, sizeof *rq);
        if (!rq)
            return MHD_NO; /* out of memory: libmicrohttpd closes the connection */
        rq->srv = s;
        rq->conn = conn;
        rq->start_ns = mono_ns();
        rq->method = static_method(method);
        rq->route = match(url);
        rq->url = url;
        rq->dconn = deadline_of(conn);
        *con_cls = rq;
        atomic_fetch_add(&s->inflight, 1);
        rq->st = ST_BODY;
        /*
         * libmicrohttpd closes the connection after a response queued in
         * this first call (it has not read the request through). Requests
         * without a body are answered in the next call, so keep-alive
         * holds; a write is checked now, so that a refused upload (auth,
         * type, length) is not read at all.
         */
        if (bodiless(method))
            return MHD_YES;
        if (reject_early(rq, url, method, &ret)) {
            rq->st = ST_DONE_EARLY;
            deadline_received(rq->dconn);
        } else {
            rq->uploading = true;
            atomic_fetch_add(&s->uploading, 1);
        }
        return ret;
    }
    if (rq->st == ST_BODY && *upload_data_size == 0 && bodiless(method)) {
        rq->st = ST_DONE_EARLY;
        deadline_received(rq->dconn);
        if (!strcmp(method, "OPTIONS") && answer_preflight(rq, &ret))
            return ret;
        if (reject_early(rq, url, method, &ret))
            return ret;
        if (!strcmp(routes[rq->route].method, "GET"))
            return respond_read(rq);
        return fail(rq, 405, "METHOD_NOT_ALLOWED", NULL, "use the route's method");
    }
    switch (rq->st) {
    case ST_BODY:
        if (*upload_data_size > 0) {
            size_t n = *upload_data_size;
            if (rq->too_big || rq->no_memory) {
                /* keep reading, drop the bytes */
            } else if (rq->len + n > s->cfg.body_limit) {
                rq->too_big = true; /* keep reading, drop the bytes */
            } else {
                char *grown = whaco_reallocarray(rq->body, rq->len + n + 1, 1);
                if (!grown) {
                    rq->no_memory = true; /* answered 503 once the body is read */
                } else {
                    rq->body = grown;
                    memcpy(rq->body + rq->len, upload_data, n);
                    rq->len += n;
                    rq->body[rq->len] = '\0';
                }
            }
            *upload_data_size = 0;
            return MHD_YES;
        }
        upload_done(rq);
        deadline_received(rq->dconn);
        if (rq->no_memory)
            return respond_json(rq, 503, NULL);
        if (rq->too_big)
            return fail_body_too_large(rq);
        return submit_write(rq, url);
    case ST_DONE:
        return respond_event_done(rq);
    default:
        return MHD_YES; /* WAITING: a spurious call while suspended */
    }
}

static void completed(void *cls, struct MHD_Connection *conn, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
    struct whaco_server *s = cls;
    struct request *rq = *con_cls;
    (void)conn;
    (void)toe;
    if (!rq)
        return;
    uint64_t ns = mono_ns() - rq->start_ns;
    metrics_record(&s->metrics, (unsigned)rq->route, rq->status, ns);
    if (s->cfg.log_requests) {
        char line[256], token[sizeof rq->token_id + 16] = "";
        if (rq->token_id[0])
            snprintf(token, sizeof token, ",\"token\":\"%s\"", rq->token_id);
        int n = snprintf(line, sizeof line,
                         "{\"event\":\"request\",\"method\":\"%s\",\"route\":\"%s\",\"status\":%u,"
                         "\"ms\":%.3f%s}\n",
                         rq->method, route_names[rq->route], rq->status, (double)ns / 1e6, token);
        if (n > 0)
            fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, stderr);
    }
    upload_done(rq);
    deadline_rearm(s->deadlines, rq->dconn);
    whaco_free(rq->body);
    whaco_free(rq);
    *con_cls = NULL;
    atomic_fetch_sub(&s->inflight, 1);
}

/* Track each connection's request deadline from accept to close. */
static void connection_event(void *cls, struct MHD_Connection *conn, void **socket_context,
                             enum MHD_ConnectionNotificationCode code)
{
    struct whaco_server *s = cls;
    if (code == MHD_CONNECTION_NOTIFY_STARTED) {
        const union MHD_ConnectionInfo *ci =
            MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CONNECTION_FD);
        *socket_context = ci ? deadlines_track(s->deadlines, ci->connect_fd) : NULL;
    } else {
        deadlines_untrack(s->deadlines, *socket_context);
        *socket_context = NULL;
    }
}

/*==== Lifecycle ===========================================================*/

/* The event hub's check of a stream's token (sse.h): still in the table? */
static bool stream_token_valid(void *auth, const char *token_id)
{
    return auth_id_valid(auth, token_id);
}

bool whaco_server_host_is_loopback(const char *host)
{
    struct in_addr a4;
    struct in6_addr a6;
    if (inet_pton(AF_INET, host, &a4) == 1)
        return (ntohl(a4.s_addr) >> 24) == 127;
    return inet_pton(AF_INET6, host, &a6) == 1 && IN6_IS_ADDR_LOOPBACK(&a6);
}

int whaco_server_start(const struct whaco_server_config *cfg, struct whaco_engine *e,
                       struct whaco_server **out, char *errbuf, size_t errlen)
{
    struct sockaddr_in a4;
    struct sockaddr_in6 a6;
    struct sockaddr *addr;
    unsigned flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_ALLOW_SUSPEND_RESUME;
    *out = NULL;

    memset(&a4, 0, sizeof a4);
    memset(&a6, 0, sizeof a6);
    if (inet_pton(AF_INET, cfg->host, &a4.sin_addr) == 1) {
        a4.sin_family = AF_INET;
        a4.sin_port = htons(cfg->port);
        addr = (struct sockaddr *)&a4;
    } else if (inet_pton(AF_INET6, cfg->host, &a6.sin6_addr) == 1) {
        a6.sin6_family = AF_INET6;
        a6.sin6_port = htons(cfg->port);
        addr = (struct sockaddr *)&a6;
        flags |= MHD_USE_IPv6;
    } else {
        snprintf(errbuf, errlen, "cannot listen on '%s': not an IPv4 or IPv6 address", cfg->host);
        return WHACO_E_INVAL;
    }

    struct whaco_server *s = whaco_xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->engine = e;
    s->on_loopback = whaco_server_host_is_loopback(cfg->host);
    metrics_init(&s->metrics, route_names);
    s->auth = auth_open(cfg->data_dir, errbuf, errlen);
    if (!s->auth) {
        free(s);
        return WHACO_E_IO;
    }
    s->authlimit =
        authlimit_new(cfg->auth_failure_limit, cfg->auth_failure_window_ms, AUTHLIMIT_CAPACITY);
    s->deadlines = deadlines_start(cfg->request_timeout_ms);
    if (!s->deadlines) {
        snprintf(errbuf, errlen, "cannot start the request-deadline thread");
        authlimit_free(s->authlimit);
        auth_close(s->auth);
        free(s);
        return WHACO_E_IO;
    }
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    unsigned threads = cfg->threads ? cfg->threads : (unsigned)(ncpu > 0 ? ncpu : 2);
    s->daemon = MHD_start_daemon(
        flags, cfg->port, NULL, NULL, handle, s, MHD_OPTION_SOCK_ADDR, addr,
        MHD_OPTION_THREAD_POOL_SIZE, threads, MHD_OPTION_NOTIFY_COMPLETED, completed, s,
        MHD_OPTION_NOTIFY_CONNECTION, connection_event, s, MHD_OPTION_CONNECTION_TIMEOUT,
        cfg->conn_timeout, MHD_OPTION_CONNECTION_LIMIT, cfg->max_connections,
        MHD_OPTION_PER_IP_CONNECTION_LIMIT, cfg->max_connections_per_address,
        MHD_OPTION_CONNECTION_MEMORY_LIMIT, (size_t)CONNECTION_MEMORY,
        MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024, MHD_OPTION_END);
    if (!s->daemon) {
        snprintf(errbuf, errlen,
                 "cannot listen on %s:%u (address in use, or not allowed to bind it?)", cfg->host,
                 (unsigned)cfg->port);
        deadlines_stop(s->deadlines);
        authlimit_free(s->authlimit);
        auth_close(s->auth);
        free(s);
        return WHACO_E_IO;
    }
    const union MHD_DaemonInfo *info = MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
    s->port = info ? info->port : cfg->port;
    if (cfg->hub)
        sse_hub_set_token_check(cfg->hub, stream_token_valid, s->auth);
    *out = s;
    return WHACO_OK;
}

uint16_t whaco_server_port(const struct whaco_server *s)
{
    return s->port;
}

void whaco_server_drain(struct whaco_server *s)
{
    atomic_store(&s->draining, true);
    if (s->cfg.hub)
        sse_hub_close(s->cfg.hub); /* end the streams, or they would hold the stop */
    MHD_socket fd = MHD_quiesce_daemon(s->daemon);
    if (fd != MHD_INVALID_SOCKET)
        close(fd);
}

void whaco_server_stop(struct whaco_server *s, int timeout_ms)
{
    struct timespec ms = {0, 1000000};
    /* Wait for every request the engine owes an answer (suspended ones must
     * be resumed before the daemon stops) and every answer being written;
     * a client still sending its body -- or one that half-closed mid-body,
     * which libmicrohttpd would keep until its timeout -- is dropped. */
    for (int waited = 0;
         atomic_load(&s->inflight) - atomic_load(&s->uploading) > 0 && waited < timeout_ms;
         waited++)
        nanosleep(&ms, NULL);
    MHD_stop_daemon(s->daemon); /* closes every connection: all untracked */
    if (s->cfg.hub)
        sse_hub_set_token_check(s->cfg.hub, NULL, NULL); /* before auth goes */
    deadlines_stop(s->deadlines);
    authlimit_free(s->authlimit);
    auth_close(s->auth);
    free(s);
}

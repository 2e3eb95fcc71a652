/*
 * server.c: the HTTP API on libmicrohttpd (see server.h) -- the plumbing
 * every endpoint shares: matching the route, the method, token, type and
 * length checks, reading the body, handing a write to the engine, and the
 * answer. What each endpoint does is its row in routes.c (request.h); no
 * code here names an endpoint.
 *
 * One struct request per HTTP request. On its first call the route is
 * matched; a write's method, auth, content type and length are checked then
 * (a refusal is sent at once), a read waits for the second call, so that
 * keep-alive is kept. Then, through these states:
 *   BODY        a write's body arrives (capped at body_limit); a read is
 *               checked the same way and answered by its route's read().
 *   WAITING     the route's parse() has made the event, the connection is
 *               suspended and the event queued to the engine (suspend first,
 *               so the engine's resume can never come before it). A route
 *               of many events (parse_batch) queues them all at once; the
 *               last one done resumes us.
 *   DONE        the engine has committed (or refused) it and resumed us: the
 *               answer is the route's reply() (or the refusal's error).
 *   DONE_EARLY  answered before any body was read (a refusal, or a read), or
 *               a batch route's request that made no event at all.
 * The completion callback counts the request in the metrics, writes the log
 * line and frees it. Invariant: every request gets exactly one response,
 * and the engine never touches a request after calling its (last) done
 * callback.
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
#include "http/json.h"
#include "http/metrics.h"
#include "http/ratelimit.h"
#include "http/request.h"
#include "http/server.h"
#include "banned.h"

/*
 * Each connection's memory (libmicrohttpd's pool): the request line and
 * headers must fit in it, else 414 (URI Too Long) or 431 (Request Header
 * Fields Too Large). Bodies stream through it and are capped by body_limit.
 */
#define CONNECTION_MEMORY (32 * 1024)

void whaco_server_config_default(struct whaco_server_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->host = "127.0.0.1";
    cfg->port = 8080;
    cfg->body_limit = 64 * 1024;
    cfg->log_requests = true;
    cfg->store.kind = WHACO_STORE_SQLITE;
    cfg->store.location = "data";
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
void add_api_headers(struct request *rq, struct MHD_Response *r)
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
enum MHD_Result respond_raw(struct request *rq, unsigned status, struct MHD_Response *r)
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
        MHD_add_response_header(r, MHD_HTTP_HEADER_ALLOW, allowed_methods(rq->route));
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
    return respond_raw(rq, status, r);
}

enum MHD_Result respond(struct request *rq, unsigned status, char *body, size_t len,
                        const char *type)
{
    struct MHD_Response *r = MHD_create_response_from_buffer(len, body, MHD_RESPMEM_MUST_FREE);
    if (!r) {
        free(body);
        return MHD_NO;
    }
    return queue(rq, status, r, type);
}

/* NULL json: the 503 comes from static storage, since allocating it could fail too. */
enum MHD_Result respond_json(struct request *rq, unsigned status, char *json)
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

enum MHD_Result respond_error(struct request *rq, const struct api_error *e)
{
    return respond_json(rq, (unsigned)e->status, json_error(e));
}

enum MHD_Result respond_fail(struct request *rq, int status, const char *code, const char *field,
                             const char *message)
{
    struct api_error e;
    api_error_set(&e, status, code, field, "%s", message);
    return respond_error(rq, &e);
}

enum MHD_Result respond_internal_error(struct request *rq, const char *where, long value)
{
    char line[256];
    int n = snprintf(line, sizeof line,
                     "{\"event\":\"internal-error\",\"where\":\"%s\",\"value\":%ld,"
                     "\"route\":\"%s\"}\n",
                     where, value, rq->route->metric);
    if (n > 0)
        fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, stderr);
    return respond_fail(rq, 500, "INTERNAL", NULL,
                        "internal error; the request was not carried out");
}

static enum MHD_Result respond_body_too_large(struct request *rq)
{
    char msg[96];
    snprintf(msg, sizeof msg, "the body must not exceed %zu bytes", rq->srv->cfg.body_limit);
    return respond_fail(rq, 413, "BODY_TOO_LARGE", NULL, msg);
}

/* The HTTP answer to an event (er: the request's, or one of its batch) that the engine refused. */
static enum MHD_Result respond_event_error(struct request *rq,
                                           const struct whaco_engine_request *er)
{
    const struct whaco_engine_reply *rep = &er->reply;
    const struct whaco_event *ev = &er->event;
    struct api_error e;
    switch (rep->rc) {
    case WHACO_E_NOT_FOUND:
        api_error_set(&e, 404, "NOT_FOUND", rq->route->id_field, "no salesperson with id '%s'",
                      ev->id);
        break;
    case WHACO_E_DUPLICATE:
        api_error_set(&e, 409, "DUPLICATE", "id", "a salesperson with id '%s' already exists",
                      ev->id);
        break;
    case WHACO_E_TEAM_FULL:
    case WHACO_E_FLOOR_OFF:
    case WHACO_E_FLOOR_FULL:
        api_error_from_whaco(&e, rep->rc, NULL);
        e.status = 409;
        break;
    case WHACO_E_CUSTOMER_NOT_FOUND:
        api_error_set(&e, 404, whaco_errname(rep->rc), "customerId",
                      "no walk-in with customerId '%s' is known", ev->customer_id);
        break;
    case WHACO_E_VISIT_ENDED:
        api_error_set(&e, 409, whaco_errname(rep->rc), "customerId",
                      "the walk-in '%s' already left or bought", ev->customer_id);
        break;
    case WHACO_E_OFF_FLOOR:
        api_error_set(&e, 409, whaco_errname(rep->rc), "salespersonId",
                      "salesperson '%s' is not clocked in", ev->id);
        break;
    case WHACO_E_WRONG_SALESPERSON:
        api_error_set(&e, 409, whaco_errname(rep->rc), "salespersonId",
                      "the walk-in '%s' is not with salesperson '%s'", ev->customer_id, ev->id);
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
    case WHACO_E_NOT_FINITE: /* the event's own validation: 400 naming the field */
    case WHACO_E_CREDIT_SCORE_RANGE:
    case WHACO_E_NEGATIVE_MONEY:
    case WHACO_E_VEHICLE_PRICE:
    case WHACO_E_DOWN_EXCEEDS_PRICE:
    case WHACO_E_ENGAGEMENT_RANGE:
    case WHACO_E_NEGATIVE_COUNT:
    case WHACO_E_ID_LENGTH:
    case WHACO_E_SKILL_RANGE:
    case WHACO_E_FREQUENCY_RANGE:
    case WHACO_E_NAME_LENGTH:
    case WHACO_E_NOT_INTEGER:
    case WHACO_E_EMPTY_TEAM:
    case WHACO_E_STATUS_VALUE:
    case WHACO_E_OUTCOME_VALUE:
    case WHACO_E_NO_KNOWN_FEATURE: /* the parser refuses it first; the engine too */
        api_error_from_whaco(&e, rep->rc, rep->field);
        break;
    /* CONFIG, STATE_*, PARSE: no event gives these; ALREADY_RECORDED, OUTCOME_CONFLICT,
     * BEFORE_ARRIVAL, TIME_FUTURE: only outcome events, whose route reports them per row.
     * A new code is listed above. */
    default:
        return respond_internal_error(rq, "engine reply code", rep->rc);
    }
    return respond_error(rq, &e);
}

/* Tell the dashboards of every walk-in a committed event handed out ("customer-assigned"). */
static void announce_assignments(const struct whaco_engine_request *er, struct sse_hub *hub)
{
    const struct whaco_floor_news *news = &er->reply.result.news;
    if (er->reply.rc != WHACO_OK)
        return;
    for (uint32_t k = 0; k < news->n && k < WHACO_FLOOR_NEWS_MAX; k++) {
        char *json = json_customer_assigned(&news->a[k], er->reply.time_ms);
        if (json)
            sse_broadcast(hub, "customer-assigned", json);
        free(json);
    }
}

/*
 * The request refused as a whole, or NULL: its event, or for a batch one
 * the storage refused (then all were: they were one transaction).
 */
static const struct whaco_engine_request *refused_whole(const struct request *rq)
{
    if (!rq->route->parse_batch)
        return rq->ereq.reply.rc != WHACO_OK ? &rq->ereq : NULL;
    for (size_t i = 0; i < rq->n_batch; i++)
        if (rq->batch[i].reply.rc == WHACO_E_UNAVAILABLE)
            return &rq->batch[i];
    return NULL; /* each event's own refusal is part of the route's answer */
}

/* The answer to a write the engine has committed, or refused. */
static enum MHD_Result respond_event_done(struct request *rq)
{
    const struct route *r = rq->route;
    struct sse_hub *hub = rq->srv->cfg.hub;
    const struct whaco_engine_request *refused = refused_whole(rq);
    if (refused)
        return respond_event_error(rq, refused);
    if (hub && sse_streams(hub) > 0) { /* nobody watching: build nothing */
        if (r->announce)
            r->announce(rq, hub);
        if (r->parse_batch)
            for (size_t i = 0; i < rq->n_batch; i++)
                announce_assignments(&rq->batch[i], hub);
        else
            announce_assignments(&rq->ereq, hub);
    }
    return respond_json(rq, r->reply_status, r->reply(rq));
}

/*==== Writes ==============================================================*/

static void engine_done(void *arg)
{
    struct request *rq = arg;
    rq->st = ST_DONE;
    MHD_resume_connection(rq->conn);
}

/* A batch's request is done; the last one resumes the connection. */
static void engine_done_batch(void *arg)
{
    struct request *rq = arg;
    if (atomic_fetch_sub(&rq->batch_left, 1) == 1)
        engine_done(rq);
}

/* A write of many events (route->parse_batch): all handed to the engine at once. */
static enum MHD_Result submit_batch(struct request *rq)
{
    struct api_error e;
    if (rq->route->parse_batch(rq, &e) != 0)
        return respond_error(rq, &e);
    if (rq->n_batch == 0) { /* nothing to apply: the route's answer at once */
        rq->st = ST_DONE_EARLY;
        return respond_event_done(rq);
    }
    for (size_t i = 0; i < rq->n_batch; i++) {
        rq->batch[i].done = engine_done_batch;
        rq->batch[i].arg = rq;
    }
    atomic_store(&rq->batch_left, rq->n_batch);
    rq->st = ST_WAITING;
    MHD_suspend_connection(rq->conn); /* before queueing, as submit_write */
    if (whaco_engine_submit_all(rq->srv->engine, rq->batch, rq->n_batch) != WHACO_OK)
        engine_done(rq); /* every reply says WHACO_E_UNAVAILABLE; no done will come */
    return MHD_YES;
}

/* Parse the request into an event (the route's parser) and hand it to the engine. */
static enum MHD_Result submit_write(struct request *rq)
{
    struct api_error e;
    if (rq->route->parse_batch)
        return submit_batch(rq);
    if (rq->route->parse(rq, &rq->ereq.event, &e) != 0)
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

/* Whether a Content-Type is the media type want (parameters such as charset aside). */
static bool is_type(const char *type, const char *want)
{
    size_t n = strlen(want);
    if (!type || strncasecmp(type, want, n) != 0)
        return false;
    char next = type[n];
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
    const struct route *r = rq->route;
    struct client_addr addr = client_of(rq);
    char msg[160];

    rq->retry_after = authlimit_locked(s->authlimit, &addr, mono_ms());
    if (rq->retry_after > 0) {
        snprintf(msg, sizeof msg,
                 "too many failed authentications from this address; try again in %u s",
                 rq->retry_after);
        *ret = respond_fail(rq, 429, "TOO_MANY_AUTH_FAILURES", NULL, msg);
        return true;
    }
    const char *authz =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_AUTHORIZATION);
    char bearer[TOKEN_TEXT_MAX + 8];
    const char *qtoken = MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, "token");
    if (!authz && qtoken && r->token_in_query) {
        /* EventSource cannot send headers: the stream takes ?token= too. */
        snprintf(bearer, sizeof bearer, "Bearer %.*s", TOKEN_TEXT_MAX, qtoken);
        authz = bearer;
    }
    enum role have = s->auth ? auth_check(s->auth, authz, rq->token_id) : ROLE_NONE;
    sodium_memzero(bearer, sizeof bearer);
    if (have == ROLE_NONE) {
        if (authz && authlimit_fail(s->authlimit, &addr, mono_ms()))
            log_lockout(s, &addr);
        *ret = respond_fail(rq, 401, "UNAUTHORIZED", NULL,
                            authz ? "the bearer token is not valid"
                                  : "this endpoint needs an Authorization: Bearer token");
        return true;
    }
    if (have < r->role) {
        snprintf(msg, sizeof msg, "this endpoint needs the %s role; the token has %s",
                 auth_role_name(r->role), auth_role_name(have));
        *ret = respond_fail(rq, 403, "FORBIDDEN", NULL, msg);
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
    const struct route *r = rq->route;
    char msg[160];

    if (atomic_load(&s->draining)) {
        *ret = respond_fail(rq, 503, "UNAVAILABLE", NULL, "the service is shutting down");
        return true;
    }
    if (r->kind == ROUTE_NONE) {
        snprintf(msg, sizeof msg, "no such endpoint: %.100s", url);
        *ret = respond_fail(rq, 404, "NOT_FOUND", NULL, msg);
        return true;
    }
    bool head_ok = !strcmp(method, "HEAD") && !strcmp(r->method, "GET");
    if (strcmp(method, r->method) != 0 && !head_ok) {
        snprintf(msg, sizeof msg, "%s is not allowed here; use %s", method, r->method);
        *ret = respond_fail(rq, 405, "METHOD_NOT_ALLOWED", NULL, msg);
        return true;
    }
    if (needs_token(rq, r) && reject_unauthorized(rq, ret))
        return true;
    const char *type =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_TYPE);
    if (r->json_body && !is_type(type, "application/json")) {
        *ret = respond_fail(rq, 415, "UNSUPPORTED_MEDIA_TYPE", NULL,
                            "the body must be JSON (Content-Type: application/json)");
        return true;
    }
    if (r->csv_body && !is_type(type, "text/csv")) {
        *ret = respond_fail(rq, 415, "UNSUPPORTED_MEDIA_TYPE", NULL,
                            "the body must be CSV (Content-Type: text/csv)");
        return true;
    }
    const char *clen =
        MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, MHD_HTTP_HEADER_CONTENT_LENGTH);
    if (clen && strtoull(clen, NULL, 10) > s->cfg.body_limit) {
        *ret = respond_body_too_large(rq);
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
    if (!origin || !want || rq->route->kind == ROUTE_NONE || atomic_load(&rq->srv->draining))
        return false;
    if (!allowed_origin(rq)) {
        *ret = respond_fail(rq, 403, "CORS_ORIGIN_NOT_ALLOWED", NULL,
                            "this origin is not in the service's CORS allow-list (cors-origin)");
        return true;
    }
    struct MHD_Response *r = MHD_create_response_from_buffer(0, NULL, MHD_RESPMEM_PERSISTENT);
    if (!r) {
        *ret = MHD_NO;
        return true;
    }
    add_api_headers(rq, r);
    MHD_add_response_header(r, "Access-Control-Allow-Methods", allowed_methods(rq->route));
    MHD_add_response_header(r, "Access-Control-Allow-Headers", "Authorization, Content-Type");
    MHD_add_response_header(r, "Access-Control-Max-Age", "600");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    *ret = respond_raw(rq, MHD_HTTP_NO_CONTENT, r);
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
        rq->route = routes_match(url);
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
        switch (rq->route->kind) {
        case ROUTE_READ:
            return rq->route->read(rq);
        case ROUTE_WRITE: /* reject_early refused the method: routes_check keeps writes off GET */
        case ROUTE_NONE:  /* reject_early answered it */
        default:
            return respond_internal_error(rq, "route kind of a bodiless request",
                                          (long)rq->route->kind);
        }
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
            return respond_body_too_large(rq);
        if (rq->route->kind != ROUTE_WRITE) /* reject_early refused the method */
            return respond_internal_error(rq, "route kind of a request with a body",
                                          (long)rq->route->kind);
        return submit_write(rq);
    case ST_DONE:
        return respond_event_done(rq);
    case ST_WAITING:    /* a spurious call while suspended */
    case ST_DONE_EARLY: /* answered already; libmicrohttpd closes the connection */
        return MHD_YES;
    default:
        return respond_internal_error(rq, "request state", (long)rq->st);
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
    size_t n_routes;
    metrics_record(&s->metrics, (unsigned)(rq->route - routes_table(&n_routes)), rq->status, ns);
    if (s->cfg.log_requests) {
        char line[256], token[sizeof rq->token_id + 16] = "";
        if (rq->token_id[0])
            snprintf(token, sizeof token, ",\"token\":\"%s\"", rq->token_id);
        int n = snprintf(line, sizeof line,
                         "{\"event\":\"request\",\"method\":\"%s\",\"route\":\"%s\",\"status\":%u,"
                         "\"ms\":%.3f%s}\n",
                         rq->method, rq->route->metric, rq->status, (double)ns / 1e6, token);
        if (n > 0)
            fwrite(line, 1, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1, stderr);
    }
    upload_done(rq);
    deadline_rearm(s->deadlines, rq->dconn);
    if (rq->batch_free)
        rq->batch_free(rq->batch_ctx);
    whaco_free(rq->batch);
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

/* Free what start made of s (each part may be missing); the daemon is stopped. */
static void server_free(struct whaco_server *s)
{
    deadlines_stop(s->deadlines);
    authlimit_free(s->authlimit);
    auth_close(s->auth);
    metrics_release(&s->metrics);
    free(s);
}

int whaco_server_start(const struct whaco_server_config *cfg, struct whaco_engine *e,
                       struct whaco_server **out, char *errbuf, size_t errlen)
{
    size_t n_routes;
    const struct route *routes = routes_table(&n_routes);
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
    char why[160];
    if (!routes_check(routes, n_routes, why, sizeof why)) {
        snprintf(errbuf, errlen, "internal error in the route table: %s", why);
        return WHACO_E_INVAL;
    }

    struct whaco_server *s = whaco_xcalloc(1, sizeof *s);
    s->cfg = *cfg;
    s->engine = e;
    s->on_loopback = whaco_server_host_is_loopback(cfg->host);
    metrics_init(&s->metrics, n_routes, routes_metric);
    s->auth = auth_open(&cfg->store, errbuf, errlen);
    if (!s->auth) {
        server_free(s);
        return WHACO_E_IO;
    }
    s->authlimit =
        authlimit_new(cfg->auth_failure_limit, cfg->auth_failure_window_ms, AUTHLIMIT_CAPACITY);
    s->deadlines = deadlines_start(cfg->request_timeout_ms);
    if (!s->deadlines) {
        snprintf(errbuf, errlen, "cannot start the request-deadline thread");
        server_free(s);
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
        server_free(s);
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
    server_free(s);
}

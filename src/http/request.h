/*
 * http/request.h: what server.c (the libmicrohttpd plumbing: a request's
 * states, its checks, its answer) and routes.c (the endpoints: what each
 * one reads or writes) share. Internal to src/http.
 *
 * An endpoint is one row of the route table (routes.c): its path, method
 * and role, its name in /metrics, and its behaviour -- for a read, the
 * function that answers it; for a write, the parser that turns the request
 * into an event and the builder of the reply once the engine has committed
 * it. server.c never names an endpoint: it runs the row it matched.
 *
 * Invariants: every request gets exactly one response (queued through the
 * respond_* functions below, which record its status for the log and the
 * metrics); the engine never touches a request after its done callback.
 */
#ifndef WHACO_HTTP_REQUEST_H
#define WHACO_HTTP_REQUEST_H

#include <microhttpd.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/engine.h"
#include "http/auth.h"
#include "http/json.h"
#include "http/metrics.h"
#include "http/server.h"
#include "http/sse.h"

struct request;

/* How a route's path is matched (routes_match). */
enum route_match_kind {
    MATCH_EXACT,  /* the path itself */
    MATCH_PREFIX, /* the path followed by one segment: "<path><id>", no '/' in <id> */
    MATCH_API,    /* any other path under /api/: no such endpoint (404) */
    MATCH_FILES,  /* any path outside /api/: the dashboard's files */
};

/* What a route does with a request whose method, token and headers passed. */
enum route_kind {
    ROUTE_READ,  /* answered at once by read() */
    ROUTE_WRITE, /* parse() makes an event, the engine commits it, reply() answers */
    ROUTE_NONE,  /* answered 404: no such endpoint */
};

struct route {
    const char *path;            /* MATCH_EXACT/_PREFIX: the path or its prefix; else NULL */
    enum route_match_kind match; /* how the path is matched */
    const char *method;          /* the one method it answers (GET also answers HEAD) */
    enum role role;              /* role needed when tokens are required */
    bool admin;                  /* needs an admin token even on loopback */
    bool open;                   /* never needs a token */
    const char *metric;          /* its name in /metrics and the request log; unique */
    enum route_kind kind;

    /* ROUTE_READ: build and queue the answer (a respond_fail() is an answer too). */
    enum MHD_Result (*read)(struct request *rq);
    bool token_in_query; /* also takes ?token= (EventSource cannot send headers) */

    /* ROUTE_WRITE: */
    bool json_body; /* the body must be JSON (else 415) */
    bool csv_body;  /* the body must be CSV, text/csv (else 415) */
    /* The request into *ev (whaco_event_init'ed by the parser): 0, or -1 with *e filled. */
    int (*parse)(struct request *rq, struct whaco_event *ev, struct api_error *e);
    /*
     * Instead of parse, for a request of many events (a file of rows): set
     * rq->batch (n_batch requests, events filled; may be none), batch_ctx
     * and batch_free. 0, or -1 with *e filled (and nothing set).
     */
    int (*parse_batch)(struct request *rq, struct api_error *e);
    /* The answer to the committed event (rq->ereq), or events (rq->batch): malloc'd JSON,
     * NULL if out of memory. */
    char *(*reply)(struct request *rq);
    unsigned reply_status; /* of that answer: 200, or 201 for a creation */
    /* Tell the dashboards about the committed event (optional; hub not NULL). */
    void (*announce)(struct request *rq, struct sse_hub *hub);
    const char *id_field; /* the field a WHACO_E_NOT_FOUND names */
};

/*
 * The route table's rows, in order; *n receives their number. A row's index
 * is its slot in the metrics. Static storage.
 */
const struct route *routes_table(size_t *n);

/*
 * The row answering url: an exact or prefix row, else the MATCH_API row for
 * a path under "/api/", else the MATCH_FILES row. Never NULL.
 */
const struct route *routes_match(const char *url);

/*
 * Check a route table: every row has a metric name (unique), a kind, the
 * functions its kind needs (read; parse or parse_batch, reply and
 * reply_status; none) and
 * a path its match needs; exactly one MATCH_API and one MATCH_FILES row.
 * Returns true, or false with why[whylen] naming the row and what is wrong.
 * whaco_server_start refuses to start on a table that fails this.
 */
bool routes_check(const struct route *table, size_t n, char *why, size_t whylen);

/* The metric name of route i of routes_table (metrics.h's names callback). */
const char *routes_metric(unsigned i);

/* A request's states (server.c's file comment). */
enum req_state { ST_BODY, ST_WAITING, ST_DONE, ST_DONE_EARLY };

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

struct request {
    struct whaco_server *srv;
    struct MHD_Connection *conn;
    const struct route *route; /* never NULL */
    const char *method;        /* static: for the log */
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
    /*
     * A write of many events (route->parse_batch): queued together, so they
     * commit in one transaction (whaco_engine_submit_all); the last one done
     * resumes the connection. Freed when the request completes.
     */
    struct whaco_engine_request *batch; /* n_batch of them, or NULL */
    size_t n_batch;
    atomic_size_t batch_left;      /* not done yet */
    void *batch_ctx;               /* the route's own data about them */
    void (*batch_free)(void *ctx); /* frees batch_ctx */
};

/* ---- Answers (server.c). Each queues the request's one response. ---- */

/* Queue body (malloc'd; ownership passes to libmicrohttpd) with status and type. */
enum MHD_Result respond(struct request *rq, unsigned status, char *body, size_t len,
                        const char *type);

/*
 * Queue json (consumed) with status. NULL means a builder ran out of
 * memory: the answer is then 503 OUT_OF_MEMORY.
 */
enum MHD_Result respond_json(struct request *rq, unsigned status, char *json);

/* Queue r (destroyed) with status, with no headers added: static files, streams. */
enum MHD_Result respond_raw(struct request *rq, unsigned status, struct MHD_Response *r);

/* The API's error answer {"error":{...}}. */
enum MHD_Result respond_error(struct request *rq, const struct api_error *e);
enum MHD_Result respond_fail(struct request *rq, int status, const char *code, const char *field,
                             const char *message);

/*
 * A case the code does not handle (a default: over a closed set): one line
 * on stderr naming where and the value, and a 500 INTERNAL answer.
 */
enum MHD_Result respond_internal_error(struct request *rq, const char *where, long value);

/* The headers of every API answer (nosniff, framing, CORP, CORS). */
void add_api_headers(struct request *rq, struct MHD_Response *r);

#endif /* WHACO_HTTP_REQUEST_H */

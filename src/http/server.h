/*
 * http/server.h: `whaco serve`'s HTTP server -- the seed's JSON API,
 * /healthz, /metrics and /api/openapi.json on libmicrohttpd. The only code
 * in whaco (with auth.c) that includes microhttpd.h.
 *
 * Requests are handled by a pool of libmicrohttpd threads (epoll). Reads
 * are answered from the engine's current view without waiting for it;
 * writes are parsed and validated, queued to the engine, and the connection
 * is suspended until the engine has applied and committed the event, so a
 * handful of threads keep hundreds of writes in flight and the engine can
 * commit them in large batches.
 *
 * Shutdown: whaco_server_drain stops accepting connections and makes new
 * requests on open ones fail with 503; whaco_server_stop waits (bounded) for
 * requests in flight and frees the server.
 */
#ifndef WHACO_HTTP_SERVER_H
#define WHACO_HTTP_SERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/engine.h"
#include "http/cors.h"
#include "http/sse.h"

struct whaco_server_config {
    const char *host;              /* address to listen on; "127.0.0.1" */
    uint16_t port;                 /* 8080; 0 picks a free port (see whaco_server_port) */
    size_t body_limit;             /* bytes; 65536 */
    unsigned threads;              /* request threads; 0 = number of CPUs */
    bool require_auth;             /* every endpoint needs a token (admin ones always do) */
    bool log_requests;             /* one structured line per request on stderr; true */
    struct whaco_store_spec store; /* where the tokens are (location borrowed) */
    unsigned conn_timeout;         /* seconds an idle or slow connection may live; 30 */
    const char *web_dir;           /* the dashboard's files; NULL serves none */
    struct sse_hub *hub;           /* borrowed: the event stream; NULL disables it */
    /* The limits of docs/security.md: */
    uint64_t request_timeout_ms;          /* a whole request must arrive within; 30000; 0 = none */
    unsigned max_connections;             /* open connections in all; 4096 */
    unsigned max_connections_per_address; /* per client address; 64; 0 = no limit */
    unsigned auth_failure_limit;          /* bad tokens per address per window; 10; 0 = off */
    uint64_t auth_failure_window_ms;      /* the window, and the lockout's length; 60000 */
    struct cors_list cors;                /* origins allowed to call from a browser; empty */
};

struct whaco_server;

void whaco_server_config_default(struct whaco_server_config *cfg);

/*
 * Whether host, an IPv4 or IPv6 address in text, is a loopback address
 * (127.0.0.0/8, ::1 in any spelling). false for anything else, names
 * included. The one definition the server and its configuration share.
 */
bool whaco_server_host_is_loopback(const char *host);

/*
 * Start serving with engine e (which must outlive the server). On failure
 * returns an error with errbuf saying why (address in use, ...).
 */
int whaco_server_start(const struct whaco_server_config *cfg, struct whaco_engine *e,
                       struct whaco_server **out, char *errbuf, size_t errlen);

/* The port actually bound (useful with port 0). */
uint16_t whaco_server_port(const struct whaco_server *s);

/* Stop accepting; new requests on open connections get 503. */
void whaco_server_drain(struct whaco_server *s);

/* Wait up to timeout_ms for requests in flight, then stop and free. */
void whaco_server_stop(struct whaco_server *s, int timeout_ms);

/*
 * The engine's view callbacks (see whaco/engine.h). ctx is the struct
 * sse_hub to announce each new team status on, or NULL.
 */
void *whaco_http_publish(const struct whaco_intel *in, void *ctx);
void whaco_http_view_free(void *view);

#endif /* WHACO_HTTP_SERVER_H */

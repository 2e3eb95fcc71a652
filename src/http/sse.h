/*
 * http/sse.h: Server-Sent Events for the dashboard (GET
 * /api/intelligence/events) -- a hub that fans events out to every
 * connected stream.
 *
 * Each stream is a libmicrohttpd response whose content reader drains the
 * stream's own buffer; when the buffer is empty the reader suspends the
 * connection, and the next broadcast resumes it, so an idle stream costs no
 * thread and no polling. A stream whose buffer would grow past
 * SSE_BUFFER_MAX (a client that stopped reading) is ended rather than
 * allowed to hold memory. A keepalive comment every 15 s lets dead clients
 * be noticed. A stream opened with a token is ended within a second of the
 * hub's token check (sse_hub_set_token_check) saying the token is no longer
 * valid: revoking a token cuts the dashboards that use it. Thread-safe:
 * broadcasts may come from any thread.
 */
#ifndef WHACO_HTTP_SSE_H
#define WHACO_HTTP_SSE_H

#include <stdbool.h>

#include <microhttpd.h>

#define SSE_BUFFER_MAX   (1u << 20) /* bytes queued for one slow client */
#define SSE_TOKEN_ID_MAX 16         /* a token id (auth.h) + NUL fits */

struct sse_hub;

/* A hub with its keepalive thread. */
struct sse_hub *sse_hub_new(void);

/*
 * End every stream (their readers return end-of-stream) and refuse new
 * ones; call before stopping the HTTP daemon. Idempotent.
 */
void sse_hub_close(struct sse_hub *h);

/* Stop the keepalive thread and free the hub; every stream must be gone. */
void sse_hub_free(struct sse_hub *h);

/*
 * Queue "event: <event>\ndata: <json>\n\n" to every stream. json must be a
 * single line (compact JSON is). Never blocks on a client.
 */
void sse_broadcast(struct sse_hub *h, const char *event, const char *json);

/*
 * Whether the token with this id is still valid. Called about once a second
 * per stream opened with a token, from the hub's thread with the hub locked:
 * it must not call back into the hub.
 */
typedef bool (*sse_token_check)(void *ctx, const char *token_id);

/*
 * Check the streams' tokens with fn(ctx, id) from now on (one check per
 * hub: a later call replaces it); fn NULL stops the checks. When this
 * returns no call of the previous fn is running, so its ctx may be freed.
 */
void sse_hub_set_token_check(struct sse_hub *h, sse_token_check fn, void *ctx);

/*
 * A new stream for connection conn, opened with the token whose id is
 * token_id ("" or NULL: none, never checked): returns the response to queue
 * (status 200, text/event-stream), or NULL if the hub is closed.
 */
struct MHD_Response *sse_stream_new(struct sse_hub *h, struct MHD_Connection *conn,
                                    const char *token_id);

/* Streams currently connected (for tests and metrics). */
unsigned sse_streams(struct sse_hub *h);

#endif /* WHACO_HTTP_SSE_H */

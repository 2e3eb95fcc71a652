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
 * be noticed. Thread-safe: broadcasts may come from any thread.
 */
#ifndef WHACO_HTTP_SSE_H
#define WHACO_HTTP_SSE_H

#include <microhttpd.h>

#define SSE_BUFFER_MAX (1u << 20) /* bytes queued for one slow client */

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
 * A new stream for connection conn: returns the response to queue (status
 * 200, text/event-stream), or NULL if the hub is closed.
 */
struct MHD_Response *sse_stream_new(struct sse_hub *h, struct MHD_Connection *conn);

/* Streams currently connected (for tests and metrics). */
unsigned sse_streams(struct sse_hub *h);

#endif /* WHACO_HTTP_SSE_H */

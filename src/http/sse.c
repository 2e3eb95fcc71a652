/*
 * sse.c: the Server-Sent Events hub of sse.h.
 *
 * Locking: one mutex guards the hub's list and every stream's buffer and
 * flags. A stream's reader runs on the connection's thread: it takes bytes
 * under the lock or, finding none, marks the stream suspended and suspends
 * the connection before unlocking; a broadcaster appends under the lock,
 * clears the mark of each suspended stream and, after unlocking, resumes
 * those connections. So a resume never precedes its suspend, no event is
 * lost between the two, and libmicrohttpd is never entered with the hub
 * locked from a broadcaster (a suspended connection cannot close, so its
 * pointer stays valid until that resume).
 */
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whaco/alloc.h"
#include "http/sse.h"
#include "banned.h"

#define KEEPALIVE_SECONDS 15 /* a ping every 15 wakes of the hub's thread, one a second */

struct stream {
    struct sse_hub *hub;
    struct MHD_Connection *conn;
    char *buf; /* queued bytes not yet read: buf[off..len) */
    size_t off, len, cap;
    bool suspended; /* the reader suspended the connection */
    bool ended;     /* overflowed, the hub closed or the token was revoked: end it */
    char token_id[SSE_TOKEN_ID_MAX]; /* "" if opened without a token */
    struct stream *next;
};

struct sse_hub {
    pthread_mutex_t mu;
    pthread_cond_t cv; /* wakes the keepalive thread to quit */
    struct stream *streams;
    unsigned count;
    bool closed;
    bool quit;
    sse_token_check check; /* NULL: tokens are not checked */
    void *check_ctx;
    pthread_t keepalive;
};

/* Append to one stream (mu held); ends it instead of growing past the cap. */
static void append(struct stream *s, const char *p, size_t n)
{
    if (s->ended)
        return;
    if (s->off > 0 && s->off == s->len)
        s->off = s->len = 0;
    if (s->len - s->off + n > SSE_BUFFER_MAX) {
        s->ended = true;
        return;
    }
    if (s->len + n > s->cap) {
        if (s->off > 0) { /* slide the unread bytes to the front first */
            memmove(s->buf, s->buf + s->off, s->len - s->off);
            s->len -= s->off;
            s->off = 0;
        }
        while (s->len + n > s->cap)
            s->cap = s->cap ? 2 * s->cap : 4096;
        s->buf = whaco_xreallocarray(s->buf, s->cap, 1);
    }
    memcpy(s->buf + s->len, p, n);
    s->len += n;
}

/*
 * Connections to resume once the lock is dropped. Streams are counted, so
 * the array is sized under the lock; a hub has at most a few hundred.
 */
struct wakeups {
    struct MHD_Connection **conn;
    size_t n;
};

/* Collect every suspended stream for waking (mu held). */
static void collect(struct sse_hub *h, struct wakeups *w)
{
    w->conn = whaco_xmalloc((h->count + 1) * sizeof *w->conn);
    w->n = 0;
    for (struct stream *s = h->streams; s; s = s->next) {
        if (s->suspended) {
            s->suspended = false;
            w->conn[w->n++] = s->conn;
        }
    }
}

static void wake_all(struct wakeups *w)
{
    for (size_t i = 0; i < w->n; i++)
        MHD_resume_connection(w->conn[i]);
    free(w->conn);
}

static void send_all(struct sse_hub *h, const char *p, size_t n)
{
    struct wakeups w;
    pthread_mutex_lock(&h->mu);
    for (struct stream *s = h->streams; s; s = s->next)
        append(s, p, n);
    collect(h, &w);
    pthread_mutex_unlock(&h->mu);
    wake_all(&w);
}

void sse_broadcast(struct sse_hub *h, const char *event, const char *json)
{
    size_t n = strlen(event) + strlen(json) + 20;
    char *msg = whaco_xmalloc(n);
    int len = snprintf(msg, n, "event: %s\ndata: %s\n\n", event, json);
    if (len > 0)
        send_all(h, msg, (size_t)len);
    free(msg);
}

/* End the streams whose token is no longer valid (mu held); whether any was. */
static bool end_revoked(struct sse_hub *h)
{
    bool any = false;
    if (!h->check)
        return false;
    for (struct stream *s = h->streams; s; s = s->next) {
        if (s->token_id[0] && !s->ended && !h->check(h->check_ctx, s->token_id))
            s->ended = any = true;
    }
    return any;
}

/* The hub's thread: once a second the token checks, every 15 s a ping. */
static void *keepalive_main(void *arg)
{
    struct sse_hub *h = arg;
    static const char ping[] = ": keepalive\n\n";
    unsigned wakes = 0;
    pthread_mutex_lock(&h->mu);
    while (!h->quit) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_sec += 1;
        pthread_cond_timedwait(&h->cv, &h->mu, &ts);
        if (h->quit)
            break;
        bool ping_due = ++wakes % KEEPALIVE_SECONDS == 0;
        struct wakeups w = {NULL, 0};
        if (end_revoked(h))
            collect(h, &w); /* an ended stream's reader must run to end it */
        pthread_mutex_unlock(&h->mu);
        wake_all(&w);
        if (ping_due)
            send_all(h, ping, sizeof ping - 1);
        pthread_mutex_lock(&h->mu);
    }
    pthread_mutex_unlock(&h->mu);
    return NULL;
}

void sse_hub_set_token_check(struct sse_hub *h, sse_token_check fn, void *ctx)
{
    pthread_mutex_lock(&h->mu);
    h->check = fn;
    h->check_ctx = ctx;
    pthread_mutex_unlock(&h->mu);
}

struct sse_hub *sse_hub_new(void)
{
    struct sse_hub *h = whaco_xcalloc(1, sizeof *h);
    pthread_mutex_init(&h->mu, NULL);
    pthread_cond_init(&h->cv, NULL);
    if (pthread_create(&h->keepalive, NULL, keepalive_main, h) != 0)
        abort(); /* no thread for the hub: the process cannot serve anyway */
    return h;
}

void sse_hub_close(struct sse_hub *h)
{
    struct wakeups w;
    pthread_mutex_lock(&h->mu);
    h->closed = true;
    for (struct stream *s = h->streams; s; s = s->next)
        s->ended = true;
    collect(h, &w);
    pthread_mutex_unlock(&h->mu);
    wake_all(&w);
}

void sse_hub_free(struct sse_hub *h)
{
    if (!h)
        return;
    pthread_mutex_lock(&h->mu);
    h->quit = true;
    pthread_cond_signal(&h->cv);
    pthread_mutex_unlock(&h->mu);
    pthread_join(h->keepalive, NULL);
    pthread_mutex_destroy(&h->mu);
    pthread_cond_destroy(&h->cv);
    free(h);
}

unsigned sse_streams(struct sse_hub *h)
{
    pthread_mutex_lock(&h->mu);
    unsigned n = h->count;
    pthread_mutex_unlock(&h->mu);
    return n;
}

static ssize_t reader(void *cls, uint64_t pos, char *out, size_t max)
{
    struct stream *s = cls;
    struct sse_hub *h = s->hub;
    ssize_t n;
    (void)pos;
    pthread_mutex_lock(&h->mu);
    if (s->len > s->off) {
        size_t k = s->len - s->off < max ? s->len - s->off : max;
        memcpy(out, s->buf + s->off, k);
        s->off += k;
        n = (ssize_t)k;
    } else if (s->ended) {
        n = MHD_CONTENT_READER_END_OF_STREAM;
    } else {
        s->suspended = true;
        MHD_suspend_connection(s->conn);
        n = 0;
    }
    pthread_mutex_unlock(&h->mu);
    return n;
}

static void stream_free(void *cls)
{
    struct stream *s = cls;
    struct sse_hub *h = s->hub;
    pthread_mutex_lock(&h->mu);
    for (struct stream **p = &h->streams; *p; p = &(*p)->next) {
        if (*p == s) {
            *p = s->next;
            h->count--;
            break;
        }
    }
    pthread_mutex_unlock(&h->mu);
    free(s->buf);
    free(s);
}

struct MHD_Response *sse_stream_new(struct sse_hub *h, struct MHD_Connection *conn,
                                    const char *token_id)
{
    struct stream *s = whaco_xcalloc(1, sizeof *s);
    static const char hello[] = ": whaco event stream\nretry: 3000\n\n";
    s->hub = h;
    s->conn = conn;
    snprintf(s->token_id, sizeof s->token_id, "%s", token_id ? token_id : "");
    pthread_mutex_lock(&h->mu);
    if (h->closed) {
        pthread_mutex_unlock(&h->mu);
        free(s);
        return NULL;
    }
    append(s, hello, sizeof hello - 1);
    s->next = h->streams;
    h->streams = s;
    h->count++;
    pthread_mutex_unlock(&h->mu);

    struct MHD_Response *r =
        MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096, reader, s, stream_free);
    if (!r) {
        stream_free(s);
        return NULL;
    }
    MHD_add_response_header(r, MHD_HTTP_HEADER_CONTENT_TYPE, "text/event-stream");
    MHD_add_response_header(r, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(r, "X-Accel-Buffering", "no");
    return r;
}

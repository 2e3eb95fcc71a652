/*
 * view.c: building and serving the read views of view.h. Runs the publish
 * callback on the engine thread; everything else on request threads.
 */
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "http/json.h"
#include "http/server.h"
#include "http/view.h"
#include "banned.h"

void *whaco_http_publish(const struct whaco_intel *in, void *ctx)
{
    struct http_view *v = whaco_calloc(1, sizeof *v);
    if (!v)
        return NULL;
    v->in.seg = in->seg;
    v->in.clock_ms = in->clock_ms;
    v->in.clock_set = in->clock_set;
    whaco_floor_copy_for_reading(&v->in.floor, &in->floor); /* no read shows the ended ones */
    v->in.learn = in->learn;
    v->in.exp = in->exp;
    whaco_team_status_init(&v->status);
    int rc = whaco_team_copy(&v->in.team, &in->team);
    if (rc == WHACO_OK) {
        rc = whaco_team_status_compute(&v->status, &v->in.team);
        v->has_status = rc == WHACO_OK;
        if (rc == WHACO_E_EMPTY_TEAM)
            rc = WHACO_OK;
    }
    if (rc == WHACO_OK) {
        v->team_short = json_team_status_short(&v->in.team, v->has_status ? &v->status : NULL);
        if (!v->team_short)
            rc = WHACO_E_NOMEM;
    }
    if (rc != WHACO_OK) { /* out of memory: the engine keeps the previous view */
        whaco_team_status_release(&v->status);
        whaco_intel_release(&v->in);
        whaco_free(v);
        return NULL;
    }
    pthread_mutex_init(&v->mu, NULL);
    if (ctx && v->team_short)
        sse_broadcast(ctx, "team-status", v->team_short);
    return v;
}

void whaco_http_view_free(void *view)
{
    struct http_view *v = view;
    if (!v)
        return;
    whaco_free(v->team_short);
    for (int b = 0; b < HTTP_BODY_COUNT; b++)
        whaco_free(v->bodies[b]);
    whaco_team_status_release(&v->status);
    whaco_intel_release(&v->in);
    pthread_mutex_destroy(&v->mu);
    whaco_free(v);
}

/* The builders of the lazy bodies, by enum http_body. */
static char *build_team_status(const struct http_view *v, const struct whaco_team_status *st)
{
    return json_team_status(&v->in.team, st, &v->in.floor);
}

static char *build_segments(const struct http_view *v, const struct whaco_team_status *st)
{
    (void)st;
    return json_customer_segments(&v->in.seg, &v->in.learn);
}

static char *build_insights(const struct http_view *v, const struct whaco_team_status *st)
{
    return json_insights(&v->in, st, 10);
}

static char *build_salespeople(const struct http_view *v, const struct whaco_team_status *st)
{
    return json_salespeople(&v->in.team, st);
}

static char *(*const builders[HTTP_BODY_COUNT])(const struct http_view *,
                                                const struct whaco_team_status *) = {
    [BODY_TEAM_STATUS] = build_team_status,
    [BODY_SEGMENTS] = build_segments,
    [BODY_INSIGHTS] = build_insights,
    [BODY_SALESPEOPLE] = build_salespeople,
};

int http_view_body(struct http_view *v, enum http_body which, char **out, size_t *len)
{
    const struct whaco_team_status *st = v->has_status ? &v->status : NULL;
    *out = NULL;
    *len = 0;
    if ((unsigned)which >= HTTP_BODY_COUNT || !builders[which])
        return WHACO_E_INVAL;
    pthread_mutex_lock(&v->mu);
    char **slot = &v->bodies[which];
    if (!*slot)
        *slot = builders[which](v, st);
    if (*slot) { /* NULL only if the builder ran out of memory; tried again next time */
        size_t n = strlen(*slot);
        *out = whaco_malloc(n + 1);
        if (*out) {
            memcpy(*out, *slot, n + 1);
            *len = n;
        }
    }
    pthread_mutex_unlock(&v->mu);
    return *out ? WHACO_OK : WHACO_E_NOMEM;
}

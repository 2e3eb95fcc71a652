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
    whaco_free(v->team_status);
    whaco_free(v->segments);
    whaco_free(v->insights);
    whaco_free(v->salespeople);
    whaco_team_status_release(&v->status);
    whaco_intel_release(&v->in);
    pthread_mutex_destroy(&v->mu);
    whaco_free(v);
}

char *http_view_body(struct http_view *v, enum http_body which, size_t *len)
{
    const struct whaco_team_status *st = v->has_status ? &v->status : NULL;
    char **slot;
    pthread_mutex_lock(&v->mu);
    switch (which) {
    case BODY_TEAM_STATUS:
        slot = &v->team_status;
        if (!*slot)
            *slot = json_team_status(&v->in.team, st);
        break;
    case BODY_SEGMENTS:
        slot = &v->segments;
        if (!*slot)
            *slot = json_customer_segments(&v->in.seg);
        break;
    case BODY_INSIGHTS:
        slot = &v->insights;
        if (!*slot)
            *slot = json_insights(&v->in, st, 10);
        break;
    default:
        slot = &v->salespeople;
        if (!*slot)
            *slot = json_salespeople(&v->in.team, st);
        break;
    }
    char *copy = NULL;
    size_t n = 0;
    if (*slot) { /* NULL only if the builder ran out of memory; tried again next time */
        n = strlen(*slot);
        copy = whaco_malloc(n + 1);
        if (copy)
            memcpy(copy, *slot, n + 1);
        else
            n = 0;
    }
    pthread_mutex_unlock(&v->mu);
    *len = n;
    return copy;
}

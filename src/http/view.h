/*
 * http/view.h: the read view the HTTP layer builds from each state the
 * engine publishes -- copies of what the read endpoints show, and their JSON
 * bodies, built once per state change instead of once per request.
 *
 * A view is immutable once published, except for the lazily built bodies,
 * which are filled at most once each under the view's mutex. Readers hold a
 * view through whaco_engine_view_acquire/release.
 */
#ifndef WHACO_HTTP_VIEW_H
#define WHACO_HTTP_VIEW_H

#include <pthread.h>
#include <stdbool.h>

#include "whaco/intel.h"
#include "whaco/team.h"

/* The read endpoints whose whole answer the view builds (once) and keeps. */
enum http_body {
    BODY_TEAM_STATUS, /* GET team-status */
    BODY_SEGMENTS,    /* GET customer-segments */
    BODY_INSIGHTS,    /* GET insights */
    BODY_SALESPEOPLE, /* GET salespeople */
    HTTP_BODY_COUNT
};

struct http_view {
    struct whaco_intel in;           /* copy: segmenter and team (history included), the
                                        floor without its ended walk-ins (reads never show them) */
    struct whaco_team_status status; /* computed when the team is not empty */
    bool has_status;
    char *team_short; /* eager: teamStatus inside analyze-customer answers */

    pthread_mutex_t mu;            /* guards the lazy bodies below */
    char *bodies[HTTP_BODY_COUNT]; /* by enum http_body; NULL until built */
};

/*
 * The body for a read endpoint, built on first use: *out receives a copy
 * the caller frees (libmicrohttpd takes ownership of response buffers) and
 * *len its length. Returns WHACO_OK, WHACO_E_NOMEM (*out NULL: the server
 * answers 503 OUT_OF_MEMORY) or WHACO_E_INVAL for a which outside the enum
 * (a bug: an internal error).
 */
int http_view_body(struct http_view *v, enum http_body which, char **out, size_t *len);

#endif /* WHACO_HTTP_VIEW_H */

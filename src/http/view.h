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

struct http_view {
    struct whaco_intel in;           /* copy: segmenter and team (history included) */
    struct whaco_team_status status; /* computed when the team is not empty */
    bool has_status;
    char *team_short; /* eager: teamStatus inside analyze-customer answers */

    pthread_mutex_t mu; /* guards the lazy bodies below */
    char *team_status;  /* GET team-status */
    char *segments;     /* GET customer-segments */
    char *insights;     /* GET insights */
    char *salespeople;  /* GET salespeople */
};

enum http_body { BODY_TEAM_STATUS, BODY_SEGMENTS, BODY_INSIGHTS, BODY_SALESPEOPLE };

/*
 * The body for a read endpoint, built on first use. Returns a copy the
 * caller frees (libmicrohttpd takes ownership of response buffers), or NULL
 * when out of memory (the server answers 503 OUT_OF_MEMORY).
 */
char *http_view_body(struct http_view *v, enum http_body which, size_t *len);

#endif /* WHACO_HTTP_VIEW_H */

/*
 * http/files.h: the dashboard's static files, served from a web root.
 *
 * Only paths made of [A-Za-z0-9._/-] without ".." and without a leading
 * dot in any segment are served, and only regular files; "/" means
 * index.html. Responses carry the file's content type, a strict
 * Content-Security-Policy, nosniff, no framing (X-Frame-Options DENY as well
 * as frame-ancestors), no referrer, Cross-Origin-Opener-Policy and
 * Cross-Origin-Resource-Policy same-origin, and caching headers (index.html
 * must be revalidated; other assets may be cached for five minutes).
 */
#ifndef WHACO_HTTP_FILES_H
#define WHACO_HTTP_FILES_H

#include <microhttpd.h>

/* The CSP of every page whaco serves: nothing but its own origin. */
#define WHACO_CSP                                                                                  \
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "              \
    "connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; "             \
    "form-action 'self'"

/*
 * A response for url under root, or NULL if there is no such servable file
 * (the caller answers 404). The file is sent with sendfile where possible.
 */
struct MHD_Response *files_open(const char *root, const char *url);

#endif /* WHACO_HTTP_FILES_H */

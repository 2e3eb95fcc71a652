/*
 * http/cors.h: the CORS allow-list -- which other web origins may call the
 * API from a browser (the desking app's pages, when they are not served by
 * whaco itself).
 *
 * Closed by default: with an empty list no response carries any
 * Access-Control-* header, so a browser lets no other origin read an
 * answer. An origin is "scheme://host[:port]" with scheme http or https,
 * compared exactly after normalisation (scheme and host lower-cased, a
 * trailing "/" dropped); "*", "null", paths, queries and user info are
 * refused when the list is configured. Plain data, no I/O: copy it freely.
 */
#ifndef WHACO_HTTP_CORS_H
#define WHACO_HTTP_CORS_H

#include <stdbool.h>
#include <stddef.h>

#define CORS_MAX_ORIGINS 16
#define CORS_ORIGIN_MAX  256 /* bytes, with the NUL */

struct cors_list {
    size_t n;
    char origin[CORS_MAX_ORIGINS][CORS_ORIGIN_MAX]; /* normalised */
};

/* Empty the list (CORS closed). */
void cors_list_clear(struct cors_list *l);

/*
 * Add the origins of text, separated by commas (spaces around them are
 * ignored; an empty text adds nothing). Returns 0, or -1 with errbuf
 * saying which origin is wrong and why; the list then keeps the origins
 * added before the wrong one. A duplicate is added once.
 */
int cors_list_add(struct cors_list *l, const char *text, char *errbuf, size_t errlen);

/* Whether origin (a request's Origin header; NULL = none) is in the list. */
bool cors_allowed(const struct cors_list *l, const char *origin);

#endif /* WHACO_HTTP_CORS_H */

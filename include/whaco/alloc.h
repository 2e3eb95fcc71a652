/*
 * whaco/alloc.h: allocation that never returns NULL.
 *
 * whaco treats running out of memory as fatal, as redis, git, jq and h2o do:
 * the functions below abort() the process instead of returning NULL, so no
 * caller needs an out-of-memory branch that would never be tested. They are
 * used only outside hot paths (growing a team, building a buffer); the
 * per-customer and per-tick code paths do not allocate.
 */
#ifndef WHACO_ALLOC_H
#define WHACO_ALLOC_H

#include <stddef.h>

/* malloc(n) (n == 0 is treated as 1); aborts on failure. Caller frees. */
void *whaco_xmalloc(size_t n);

/* calloc(count, size); aborts on failure or on count*size overflow. */
void *whaco_xcalloc(size_t count, size_t size);

/*
 * realloc(p, count*size); aborts on failure or overflow. On return the old
 * pointer is no longer valid. Caller frees the result.
 */
void *whaco_xreallocarray(void *p, size_t count, size_t size);

#endif /* WHACO_ALLOC_H */

/*
 * whaco/alloc.h: whaco's allocators, and the fault-injection hook that
 * proves every caller survives a failed allocation.
 *
 * Policy, by layer (docs/reliability.md, "Out of memory", lists the places
 * and the test that fails each allocation in turn):
 *   core       whaco_malloc/_calloc/_reallocarray only: out of memory is
 *              WHACO_E_NOMEM with nothing changed and nothing leaked.
 *   decoders   (events, saved states, JSON request bodies and state files,
 *              CSV) and response builders: the same.
 *   engine     the event path the same (the request fails, the service goes
 *              on); the x-functions for its own structs at start-up.
 *   store      the x-functions in its open paths and snapshot copy (process
 *              setup: nothing to fall back to).
 *   http       request bodies and answers fallible (503 OUT_OF_MEMORY);
 *              start-up structures and some plumbing use the x-functions.
 *   cli, sim   the x-functions: the process is the one task (a batch tool
 *              is rerun).
 * The x-functions abort() rather than print (the core does no I/O); a
 * supervisor restarts the service. Everything allocated by a whaco_*
 * function is freed with whaco_free.
 *
 * Fault injection and counting are compiled in always, so a test runs the
 * very code that ships: one relaxed atomic load of a read-mostly flag per
 * allocation until whaco_alloc_fail_after() switches them on; from then,
 * process-wide counters let a test assert "no leak" as "live allocations
 * back where they started" even without a sanitizer.
 */
#ifndef WHACO_ALLOC_H
#define WHACO_ALLOC_H

#include <stddef.h>
#include <stdint.h>

/* malloc(n) (n == 0 is treated as 1); NULL on failure. Free with whaco_free. */
void *whaco_malloc(size_t n);

/* calloc(count, size), zeroed; NULL on failure or on count*size overflow. */
void *whaco_calloc(size_t count, size_t size);

/*
 * realloc(p, count*size) (p may be NULL). On failure or overflow returns
 * NULL and p is untouched and still owned by the caller; on success the old
 * pointer is no longer valid. Free the result with whaco_free.
 */
void *whaco_reallocarray(void *p, size_t count, size_t size);

/* free(p), counted. p may be NULL. Any whaco allocation may be freed with it. */
void whaco_free(void *p);

/* malloc(n) (n == 0 is treated as 1); aborts on failure. Caller frees. */
void *whaco_xmalloc(size_t n);

/* calloc(count, size); aborts on failure or on count*size overflow. */
void *whaco_xcalloc(size_t count, size_t size);

/*
 * realloc(p, count*size); aborts on failure or overflow. On return the old
 * pointer is no longer valid. Caller frees the result.
 */
void *whaco_xreallocarray(void *p, size_t count, size_t size);

/*
 * Test hook: make the allocation n allocations from now fail (n == 0: the
 * very next one), once; n < 0 cancels a pending failure. Every allocator
 * above counts, the x-functions included (they then abort, as documented),
 * and so does jansson once http/json.c has routed it here. The first call
 * switches counting on for the rest of the process. Process-wide;
 * thread-safe, but a test that wants to know which allocation fails runs
 * the operation on one thread.
 */
void whaco_alloc_fail_after(long n);

/* Counters since counting was switched on (all zero before). */
struct whaco_alloc_stats {
    uint64_t allocs; /* successful allocations (a realloc of NULL counts) */
    uint64_t frees;  /* whaco_free calls on a non-NULL pointer */
    uint64_t failed; /* allocations failed on purpose by whaco_alloc_fail_after */
    int64_t live;    /* allocs - frees: exact when every block is freed with whaco_free */
    long pending;    /* allocations left before the injected failure, -1 if none */
};

/* Read the counters (a consistent snapshot when no other thread allocates). */
void whaco_alloc_stats(struct whaco_alloc_stats *out);

/*
 * The number of whaco allocations that have returned NULL on the calling
 * thread (real or injected; always counted, it costs nothing on success).
 * For callers of a library that hides an allocation failure behind another
 * error -- jansson's lexer can report one as a syntax error: compare the
 * value before and after the call.
 */
uint64_t whaco_alloc_failures_here(void);

#endif /* WHACO_ALLOC_H */

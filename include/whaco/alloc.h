/*
 * whaco/alloc.h: whaco's allocators, and the fault-injection hook that
 * proves every caller survives a failed allocation.
 *
 * Policy. The core (src/core), the decoders (events, saved states, the JSON
 * requests and state files, the CSV reader), the response builders and the
 * engine's event path treat out-of-memory as an error like any other: they
 * allocate with whaco_malloc/whaco_calloc/whaco_reallocarray, which return
 * NULL, and give WHACO_E_NOMEM with nothing changed and nothing leaked (a
 * request then fails with 503 "out of memory"; the service goes on).
 * tests/unit/test_oom.c fails each of their allocations in turn to prove it.
 *
 * The abort-on-failure whaco_x* functions remain where giving up the
 * process is the honest answer: process setup, which has nothing to fall
 * back to (the engine's, the server's and the store's own structs at
 * start-up, the store's open paths and its snapshot copy while loading);
 * the CLI subcommands' top level (`whaco analyze`'s model and output
 * buffer, `whaco state`'s file buffer), whose process is the one task; the
 * simulator (src/sim, `whaco simulate` and `whaco replay`), a batch tool;
 * and the server's plumbing not yet converted (sse.c's streams and
 * broadcast messages, metrics.c's text, auth.c's token list, deadline.c's
 * per-connection record, ratelimit.c's table at start-up), listed in
 * docs/reliability.md, "Out of memory". They abort() rather than print:
 * the core does no I/O; the supervisor sees the signal and restarts.
 *
 * Fault injection and counting are compiled in always: a test must run the
 * very code that ships. They cost one relaxed atomic load of a read-mostly
 * flag per allocation until a test switches them on with
 * whaco_alloc_fail_after(); allocation is off the hot paths (growing a team,
 * building a buffer or a JSON document), and the per-customer and per-tick
 * code paths do not allocate. Once on, every whaco_* allocation and
 * whaco_free() updates process-wide relaxed atomic counters, so a test can
 * assert "no leak" as "live allocations back where they started" even
 * without a sanitizer.
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

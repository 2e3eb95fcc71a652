/*
 * alloc.c: the allocators of whaco/alloc.h and their fault-injection hook.
 *
 * Invariants: `counting` only ever goes from false to true; while it is
 * false no counter moves and nothing fails, so production pays one relaxed
 * load per allocation. `countdown` is -1 (no failure pending) or the number
 * of allocations to let through before failing one; the allocation that
 * takes it from 0 to -1 fails. The x-functions share the hook and abort()
 * on any failure: the core may not print (it does no I/O), and the
 * process's supervisor sees the signal.
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "whaco/alloc.h"
/* banned.h bans the unbounded string functions, not malloc and free: this
 * file is where whaco's allocations meet libc's, and must call them. */
#include "banned.h"

static atomic_bool counting;
static atomic_long countdown = -1;
static atomic_uint_least64_t n_allocs, n_frees, n_failed;
static _Thread_local uint64_t failures_here;

/* Record a NULL result on this thread; returns NULL. */
static void *failed(void)
{
    failures_here++;
    return NULL;
}

/* True if this allocation is the one a test asked to fail. */
static bool injected_failure(void)
{
    if (!atomic_load_explicit(&counting, memory_order_relaxed))
        return false;
    if (atomic_load_explicit(&countdown, memory_order_relaxed) < 0)
        return false;
    if (atomic_fetch_sub_explicit(&countdown, 1, memory_order_relaxed) != 0)
        return false;
    atomic_fetch_add_explicit(&n_failed, 1, memory_order_relaxed);
    return true;
}

/* Count a block handed out (p non-NULL). Returns p. */
static void *counted(void *p)
{
    if (p && atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&n_allocs, 1, memory_order_relaxed);
    return p;
}

void *whaco_malloc(size_t n)
{
    if (injected_failure())
        return failed();
    void *p = malloc(n ? n : 1);
    return p ? counted(p) : failed();
}

void *whaco_calloc(size_t count, size_t size)
{
    if (injected_failure())
        return failed();
    void *p = calloc(count ? count : 1, size ? size : 1);
    return p ? counted(p) : failed();
}

void *whaco_reallocarray(void *p, size_t count, size_t size)
{
    if ((size && count > SIZE_MAX / size) || injected_failure())
        return failed();
    size_t n = count * size;
    void *q = realloc(p, n ? n : 1);
    if (!q)
        return failed();
    /* Growing a block moves no count; only a new block (p NULL) is one. */
    return p ? q : counted(q);
}

void whaco_free(void *p)
{
    if (p && atomic_load_explicit(&counting, memory_order_relaxed))
        atomic_fetch_add_explicit(&n_frees, 1, memory_order_relaxed);
    free(p);
}

void *whaco_xmalloc(size_t n)
{
    void *p = whaco_malloc(n);
    if (!p)
        abort();
    return p;
}

void *whaco_xcalloc(size_t count, size_t size)
{
    void *p = whaco_calloc(count, size);
    if (!p)
        abort();
    return p;
}

void *whaco_xreallocarray(void *p, size_t count, size_t size)
{
    void *q = whaco_reallocarray(p, count, size);
    if (!q)
        abort();
    return q;
}

void whaco_alloc_fail_after(long n)
{
    atomic_store_explicit(&counting, true, memory_order_relaxed);
    atomic_store_explicit(&countdown, n < 0 ? -1 : n, memory_order_relaxed);
}

uint64_t whaco_alloc_failures_here(void)
{
    return failures_here;
}

void whaco_alloc_stats(struct whaco_alloc_stats *out)
{
    out->allocs = atomic_load_explicit(&n_allocs, memory_order_relaxed);
    out->frees = atomic_load_explicit(&n_frees, memory_order_relaxed);
    out->failed = atomic_load_explicit(&n_failed, memory_order_relaxed);
    out->live = (int64_t)(out->allocs - out->frees);
    long c = atomic_load_explicit(&countdown, memory_order_relaxed);
    out->pending = c < 0 ? -1 : c;
}

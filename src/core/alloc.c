/*
 * alloc.c: the abort-on-failure allocators of whaco/alloc.h. The core may not
 * print (it does no I/O), so failure is a plain abort(); the process's
 * supervisor sees the signal.
 */
#include <stdint.h>
#include <stdlib.h>

#include "whaco/alloc.h"

void *whaco_xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        abort();
    return p;
}

void *whaco_xcalloc(size_t count, size_t size)
{
    void *p = calloc(count ? count : 1, size ? size : 1);
    if (!p)
        abort();
    return p;
}

void *whaco_xreallocarray(void *p, size_t count, size_t size)
{
    if (size && count > SIZE_MAX / size)
        abort();
    size_t n = count * size;
    void *q = realloc(p, n ? n : 1);
    if (!q)
        abort();
    return q;
}

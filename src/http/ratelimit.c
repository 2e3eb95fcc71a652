/*
 * ratelimit.c: the failed-authentication limit per client address
 * (ratelimit.h). A fixed array of entries, scanned linearly under one
 * mutex: it is empty or nearly so unless someone is guessing tokens, and
 * even full (1024 entries) a scan is about a microsecond.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "http/ratelimit.h"
#include "banned.h"

struct entry {
    struct client_addr addr;
    uint64_t window_start; /* ms of the first failure counted */
    uint64_t locked_until; /* ms; 0 = not locked out */
    uint64_t last_failure; /* ms: for the eviction order */
    unsigned failures;     /* within the window */
};

struct authlimit {
    pthread_mutex_t mu;
    unsigned limit;
    uint64_t window_ms;
    size_t capacity;
    size_t n;              /* mu: entries in use, at the front */
    struct entry *entries; /* mu: capacity of them */
};

int client_addr_from_sockaddr(const struct sockaddr *sa, struct client_addr *out)
{
    static const uint8_t mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    memset(out, 0, sizeof *out);
    if (sa && sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)sa;
        out->family = 4;
        memcpy(out->bytes, &in->sin_addr, 4);
        return 0;
    }
    if (sa && sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;
        const uint8_t *b = in6->sin6_addr.s6_addr;
        if (memcmp(b, mapped, sizeof mapped) == 0) {
            out->family = 4;
            memcpy(out->bytes, b + 12, 4);
        } else {
            out->family = 6;
            memcpy(out->bytes, b, 16);
        }
        return 0;
    }
    return -1;
}

void client_addr_format(const struct client_addr *a, char *buf, size_t len)
{
    const char *ok = NULL;
    if (a->family == 4)
        ok = inet_ntop(AF_INET, a->bytes, buf, (socklen_t)len);
    else if (a->family == 6)
        ok = inet_ntop(AF_INET6, a->bytes, buf, (socklen_t)len);
    if (!ok)
        snprintf(buf, len, "unknown");
}

struct authlimit *authlimit_new(unsigned limit, uint64_t window_ms, size_t capacity)
{
    struct authlimit *l = whaco_xcalloc(1, sizeof *l);
    pthread_mutex_init(&l->mu, NULL);
    l->limit = limit;
    l->window_ms = window_ms;
    l->capacity = capacity ? capacity : 1;
    l->entries = whaco_xcalloc(l->capacity, sizeof *l->entries);
    return l;
}

void authlimit_free(struct authlimit *l)
{
    if (!l)
        return;
    pthread_mutex_destroy(&l->mu);
    free(l->entries);
    free(l);
}

static bool same_addr(const struct client_addr *a, const struct client_addr *b)
{
    size_t n = a->family == 4 ? 4 : 16;
    return a->family == b->family && memcmp(a->bytes, b->bytes, n) == 0;
}

/* The entry of a, or NULL (mu held). */
static struct entry *find(struct authlimit *l, const struct client_addr *a)
{
    for (size_t i = 0; i < l->n; i++)
        if (same_addr(&l->entries[i].addr, a))
            return &l->entries[i];
    return NULL;
}

/* An entry that says nothing any more: no lockout, and its window is over. */
static bool stale(const struct authlimit *l, const struct entry *e, uint64_t now)
{
    return e->locked_until <= now && now - e->window_start >= l->window_ms;
}

/*
 * The slot to reuse when the table is full (mu held): a stale entry if
 * there is one, else the unlocked entry that failed least recently, else
 * the lockout that ends soonest.
 */
static struct entry *victim(struct authlimit *l, uint64_t now)
{
    struct entry *best = NULL;
    for (size_t i = 0; i < l->n; i++) {
        struct entry *e = &l->entries[i];
        bool locked = e->locked_until > now;
        if (stale(l, e, now))
            return e;
        if (!best) {
            best = e;
            continue;
        }
        bool best_locked = best->locked_until > now;
        if (locked != best_locked) {
            if (!locked)
                best = e;
        } else if (locked ? e->locked_until < best->locked_until
                          : e->last_failure < best->last_failure) {
            best = e;
        }
    }
    return best;
}

unsigned authlimit_locked(struct authlimit *l, const struct client_addr *a, uint64_t now_ms)
{
    unsigned seconds = 0;
    if (l->limit == 0 || a->family == 0)
        return 0;
    pthread_mutex_lock(&l->mu);
    const struct entry *e = find(l, a);
    if (e && e->locked_until > now_ms)
        seconds = (unsigned)((e->locked_until - now_ms + 999) / 1000);
    pthread_mutex_unlock(&l->mu);
    return seconds;
}

bool authlimit_fail(struct authlimit *l, const struct client_addr *a, uint64_t now_ms)
{
    bool locked_now = false;
    if (l->limit == 0 || a->family == 0)
        return false;
    pthread_mutex_lock(&l->mu);
    struct entry *e = find(l, a);
    if (!e) {
        e = l->n < l->capacity ? &l->entries[l->n++] : victim(l, now_ms);
        memset(e, 0, sizeof *e);
        e->addr = *a;
        e->window_start = now_ms;
    }
    if (e->locked_until <= now_ms) { /* a failure racing a lockout is not counted */
        if (now_ms - e->window_start >= l->window_ms) {
            e->window_start = now_ms;
            e->failures = 0;
        }
        e->last_failure = now_ms;
        if (++e->failures >= l->limit) {
            e->locked_until = now_ms + (l->window_ms ? l->window_ms : 1);
            e->window_start = now_ms;
            e->failures = 0;
            locked_now = true;
        }
    }
    pthread_mutex_unlock(&l->mu);
    return locked_now;
}

size_t authlimit_size(struct authlimit *l)
{
    pthread_mutex_lock(&l->mu);
    size_t n = l->n;
    pthread_mutex_unlock(&l->mu);
    return n;
}

/*
 * deadline.c: request deadlines (deadline.h). A doubly-linked list of the
 * open connections under one mutex; a sweeper thread wakes every
 * SWEEP_MS, shuts down the sockets whose deadline has passed, and stops
 * at once when told to (condition variable).
 */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <time.h>

#include "whaco/alloc.h"
#include "http/deadline.h"
#include "banned.h"

#define SWEEP_MS 100

struct deadline_conn {
    struct deadline_conn *prev, *next; /* d->mu */
    int fd;
    bool shut;                 /* d->mu: shut down once already */
    _Atomic uint64_t deadline; /* monotonic ms; 0 = none (a request is being answered) */
};

struct deadlines {
    pthread_mutex_t mu;
    pthread_cond_t wake;
    pthread_t sweeper;
    uint64_t timeout_ms;
    bool stopping;              /* mu */
    struct deadline_conn *head; /* mu */
};

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Shut down every connection past its deadline (mu held). */
static void sweep(struct deadlines *d, uint64_t now)
{
    for (struct deadline_conn *c = d->head; c; c = c->next) {
        uint64_t when = atomic_load(&c->deadline);
        if (when != 0 && when <= now && !c->shut) {
            c->shut = true;
            shutdown(c->fd, SHUT_RDWR);
        }
    }
}

static void *sweeper_main(void *arg)
{
    struct deadlines *d = arg;
    pthread_mutex_lock(&d->mu);
    while (!d->stopping) {
        struct timespec until;
        clock_gettime(CLOCK_MONOTONIC, &until);
        until.tv_nsec += SWEEP_MS * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
        int rc = pthread_cond_timedwait(&d->wake, &d->mu, &until);
        if (rc == ETIMEDOUT || rc == 0)
            sweep(d, mono_ms());
    }
    pthread_mutex_unlock(&d->mu);
    return NULL;
}

struct deadlines *deadlines_start(uint64_t timeout_ms)
{
    struct deadlines *d = whaco_xcalloc(1, sizeof *d);
    pthread_condattr_t ca;
    d->timeout_ms = timeout_ms;
    pthread_mutex_init(&d->mu, NULL);
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&d->wake, &ca);
    pthread_condattr_destroy(&ca);
    if (timeout_ms && pthread_create(&d->sweeper, NULL, sweeper_main, d) != 0) {
        pthread_cond_destroy(&d->wake);
        pthread_mutex_destroy(&d->mu);
        free(d);
        return NULL;
    }
    return d;
}

void deadlines_stop(struct deadlines *d)
{
    if (!d)
        return;
    if (d->timeout_ms) {
        pthread_mutex_lock(&d->mu);
        d->stopping = true;
        pthread_cond_signal(&d->wake);
        pthread_mutex_unlock(&d->mu);
        pthread_join(d->sweeper, NULL);
    }
    pthread_cond_destroy(&d->wake);
    pthread_mutex_destroy(&d->mu);
    free(d);
}

struct deadline_conn *deadlines_track(struct deadlines *d, int fd)
{
    if (!d->timeout_ms)
        return NULL;
    struct deadline_conn *c = whaco_xcalloc(1, sizeof *c);
    c->fd = fd;
    atomic_store(&c->deadline, mono_ms() + d->timeout_ms);
    pthread_mutex_lock(&d->mu);
    c->next = d->head;
    if (d->head)
        d->head->prev = c;
    d->head = c;
    pthread_mutex_unlock(&d->mu);
    return c;
}

void deadlines_untrack(struct deadlines *d, struct deadline_conn *c)
{
    if (!c)
        return;
    pthread_mutex_lock(&d->mu);
    if (c->prev)
        c->prev->next = c->next;
    else
        d->head = c->next;
    if (c->next)
        c->next->prev = c->prev;
    pthread_mutex_unlock(&d->mu);
    free(c);
}

void deadline_received(struct deadline_conn *c)
{
    if (c)
        atomic_store(&c->deadline, 0);
}

void deadline_rearm(struct deadlines *d, struct deadline_conn *c)
{
    if (c)
        atomic_store(&c->deadline, mono_ms() + d->timeout_ms);
}

/*
 * engine.c: the engine thread of whaco/engine.h -- the one writer of the
 * core state, group commit to the store, background events and read views.
 *
 * Locking: `mu` guards the request queue, the flags and the stats; `view_mu`
 * guards the current view pointer and every view's reference count. The
 * core state and the store are touched only by the engine thread (and by
 * start and stop, before the thread exists and after it has ended), so they
 * need no lock. The engine thread never holds `mu` while it works on a batch.
 *
 * Storage failures: stats.failed ("degraded") is written only by the engine
 * thread (under `mu`). A view is published only for a committed batch, so
 * readers never see state the log does not hold. After a failed commit,
 * memory is reloaded from the store (snapshot + replay, as at start-up) and
 * the background schedule is put back as it was before the batch; until
 * then `dirty` is set and nothing is built on the state in memory. What a
 * failure means for the storage itself is the store's business: the engine
 * asks whaco_store_health to check (idle, at stop), repair and probe, and
 * learns from it whether the store was re-created; it knows no file name
 * and works the same on any backend (cfg.store).
 *
 * Other processes may append events to the log in transactions of their
 * own (whaco_engine_apply_offline). Memory is the log's state as of
 * e->stats.last_seq: every batch first looks, inside its transaction, for
 * events it did not append (catch_up) and reloads if there are some;
 * snapshots cover e->stats.last_seq, never the store's newer events.
 */
#include <errno.h>
#include <pthread.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whaco/alloc.h"
#include "whaco/store.h"
#include "whaco/engine.h"
#include "whaco/err.h"
#include "banned.h"

#define DAY_MS (24 * 3600 * 1000LL)

/* A published view and the readers holding it (the engine holds one ref). */
struct pub {
    void *view;
    unsigned refs; /* guarded by view_mu */
};

struct whaco_engine {
    struct whaco_engine_config cfg;
    struct whaco_store *store; /* engine thread only */
    struct whaco_intel intel;  /* engine thread only */
    struct whaco_buf scratch;  /* engine thread only: one encoded event */

    pthread_t thread;
    pthread_mutex_t mu;
    pthread_cond_t wake;
    struct whaco_engine_request *head, *tail; /* mu */
    bool stopping;                            /* mu */
    struct whaco_engine_stats stats;          /* mu */

    pthread_mutex_t view_mu;
    struct pub *current; /* view_mu */

    int64_t last_time; /* engine thread: latest stamp given */
    int64_t next_tick; /* engine thread: timers, engine ms */
    int64_t next_midnight;
    int64_t next_snapshot;
    uint64_t snapshot_seq; /* engine thread: last event in the latest snapshot */

    /* Storage failures (engine thread). */
    int64_t next_check;      /* engine ms: next idle file check, or next retry when degraded */
    int64_t retry_delay;     /* current wait between retries */
    uint64_t failed_mono_ns; /* when the current failure began */
    bool dirty;              /* memory may hold a batch the log does not: reload first */

    int64_t sync_due; /* engine thread: fsync the log by then (sync normal); INT64_MAX */

    /* engine thread: the store's change counter when memory was last the log's state */
    int64_t data_version;
};

/* Retries back off from retry_ms, doubling, up to this many times retry_ms. */
#define RETRY_CAP_FACTOR 5

void whaco_engine_config_default(struct whaco_engine_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->store.kind = WHACO_STORE_SQLITE;
    cfg->store.location = "data";
    cfg->store.sync = WHACO_SYNC_FULL;
    cfg->tick_ms = 5 * 60 * 1000;
    cfg->snapshot_ms = 10 * 60 * 1000;
    cfg->retention_ms = 30 * DAY_MS;
    cfg->retry_ms = 1000;
    cfg->sync_interval_ms = 1000;
    cfg->daily_reset = true;
    whaco_segment_config_default(&cfg->seg);
    whaco_team_config_default(&cfg->team);
    whaco_floor_config_default(&cfg->floor);
}

static int64_t real_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int64_t whaco_engine_now(const struct whaco_engine *e)
{
    return real_now_ms() + e->cfg.clock_offset_ms;
}

/* The next local midnight after now_ms (mktime handles DST changes). */
static int64_t next_local_midnight(int64_t now_ms)
{
    time_t t = (time_t)(now_ms / 1000);
    struct tm tm;
    localtime_r(&t, &tm);
    tm.tm_mday += 1;
    tm.tm_hour = tm.tm_min = tm.tm_sec = 0;
    tm.tm_isdst = -1;
    time_t m = mktime(&tm);
    return m == (time_t)-1 ? now_ms + DAY_MS : (int64_t)m * 1000;
}

static void errorf(char *buf, size_t len, const char *fmt, ...)
{
    va_list ap;
    if (!len)
        return;
    va_start(ap, fmt);
    vsnprintf(buf, len, fmt, ap);
    va_end(ap);
}

/* Tell the operator (cfg.log), printf-style. */
static void notef(const struct whaco_engine *e, const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    if (!e->cfg.log)
        return;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    e->cfg.log(line);
}

/*==== Views ===============================================================*/

static void pub_unref(struct whaco_engine *e, struct pub *p)
{
    bool last;
    pthread_mutex_lock(&e->view_mu);
    last = --p->refs == 0;
    pthread_mutex_unlock(&e->view_mu);
    if (last) {
        e->cfg.view_free(p->view);
        whaco_free(p);
    }
}

/*
 * Replace the current view with one of the state now. Out of memory keeps
 * the previous view (readers see the state as of an earlier batch until the
 * next batch publishes again) and returns WHACO_E_NOMEM.
 */
static int publish(struct whaco_engine *e)
{
    struct pub *p = whaco_malloc(sizeof *p), *old;
    if (!p)
        return WHACO_E_NOMEM;
    p->view = e->cfg.publish(&e->intel, e->cfg.ctx);
    if (!p->view) {
        whaco_free(p);
        return WHACO_E_NOMEM;
    }
    p->refs = 1;
    pthread_mutex_lock(&e->view_mu);
    old = e->current;
    e->current = p;
    pthread_mutex_unlock(&e->view_mu);
    if (old)
        pub_unref(e, old);
    return WHACO_OK;
}

void *whaco_engine_view_acquire(struct whaco_engine *e, void **handle)
{
    pthread_mutex_lock(&e->view_mu);
    struct pub *p = e->current;
    p->refs++;
    pthread_mutex_unlock(&e->view_mu);
    *handle = p;
    return p->view;
}

void whaco_engine_view_release(struct whaco_engine *e, void *handle)
{
    pub_unref(e, handle);
}

/*==== Start: snapshot + replay ============================================*/

/* Report that events from..to are missing from the log; returns WHACO_E_STATE_CORRUPT. */
static int missing_events(char *errbuf, size_t errlen, uint64_t from, uint64_t to)
{
    errorf(errbuf, errlen,
           "the log is damaged: events %llu to %llu are missing; restore the data directory "
           "from a backup",
           (unsigned long long)from, (unsigned long long)to);
    return WHACO_E_STATE_CORRUPT;
}

struct replay_ctx {
    struct whaco_engine *e;
    char *errbuf;
    size_t errlen;
};

static int replay_one(void *arg, uint64_t seq, int64_t time_ms, uint32_t type, const void *body,
                      size_t len)
{
    struct replay_ctx *rc = arg;
    struct whaco_event ev;
    int err;
    (void)time_ms;
    (void)type;
    if (seq != rc->e->stats.last_seq + 1) /* sequence numbers are never skipped */
        return missing_events(rc->errbuf, rc->errlen, rc->e->stats.last_seq + 1, seq - 1);
    err = whaco_event_decode(&ev, body, len);
    if (err == WHACO_OK)
        err = whaco_event_apply(&rc->e->intel, &ev, NULL, NULL);
    if (err != WHACO_OK) {
        errorf(rc->errbuf, rc->errlen, "event %llu in the log cannot be replayed (%s): %s",
               (unsigned long long)seq, whaco_event_name(ev.type), whaco_strerror(err));
        return err;
    }
    rc->e->stats.last_seq = seq;
    return 0;
}

/*
 * Load into e->intel the newest snapshot before `before` that decodes, from
 * a fresh model; *seq is the last event it includes. A snapshot that does
 * not decode is reported (cfg.log) and the one before it is tried. With no
 * snapshot left, *seq is 0 and the model is new: that is right only if the
 * log still starts at event 1, which the caller checks.
 */
static int load_snapshot(struct whaco_engine *e, uint64_t *seq, char *errbuf, size_t errlen)
{
    uint64_t before = UINT64_MAX;
    for (;;) {
        void *state = NULL;
        size_t len = 0;
        int64_t snap_time = 0;
        whaco_intel_release(&e->intel);
        int rc = whaco_intel_init(&e->intel, &e->cfg.seg, &e->cfg.team, NULL);
        if (rc != WHACO_OK) {
            errorf(errbuf, errlen, "invalid model configuration: %s", whaco_strerror(rc));
            return rc;
        }
        rc = whaco_store_snapshot_before(e->store, before, seq, &snap_time, &state, &len);
        if (rc != WHACO_OK) {
            errorf(errbuf, errlen, "%s", whaco_store_errmsg(e->store));
            return rc;
        }
        if (!state)
            return WHACO_OK;
        rc = whaco_intel_load(&e->intel, state, len);
        free(state);
        if (rc == WHACO_OK)
            return WHACO_OK;
        if (rc == WHACO_E_NOMEM) { /* not damage: do not fall back, fail the start */
            errorf(errbuf, errlen, "cannot load the snapshot of event %llu: %s",
                   (unsigned long long)*seq, whaco_strerror(rc));
            return rc;
        }
        notef(e, "the snapshot of event %llu is unreadable (%s); trying the one before it",
              (unsigned long long)*seq, whaco_strerror(rc));
        before = *seq;
    }
}

/*
 * The state at start: the newest readable snapshot, then every event after
 * it, which must follow one another without a gap up to the last sequence
 * number the store ever handed out (otherwise events are missing and the
 * start fails: nothing is silently dropped).
 */
static int load_state(struct whaco_engine *e, char *errbuf, size_t errlen)
{
    uint64_t seq = 0, first = 0;
    int rc = load_snapshot(e, &seq, errbuf, errlen);
    if (rc != WHACO_OK)
        return rc;
    if (seq == 0 && (rc = whaco_store_first_seq(e->store, &first)) != WHACO_OK) {
        errorf(errbuf, errlen, "%s", whaco_store_errmsg(e->store));
        return rc;
    }
    if (seq == 0 && first > 1) {
        errorf(errbuf, errlen,
               "no snapshot is readable and the log starts at event %llu, so the state cannot "
               "be rebuilt; restore the data directory from a backup",
               (unsigned long long)first);
        return WHACO_E_STATE_CORRUPT;
    }
    e->snapshot_seq = seq;
    e->stats.last_seq = seq;
    struct replay_ctx ctx = {e, errbuf, errlen};
    /* Another process may append while this runs (`whaco outcomes import`,
     * in its own transaction): replay again while the log has grown, so
     * that only a real gap is reported missing. */
    for (;;) {
        uint64_t from = e->stats.last_seq;
        rc = whaco_store_replay(e->store, from, replay_one, &ctx);
        if (rc > 0)
            rc = WHACO_E_STATE_CORRUPT;
        if (rc != WHACO_OK && errbuf[0] == '\0')
            errorf(errbuf, errlen, "%s", whaco_store_errmsg(e->store));
        uint64_t last = whaco_store_last_seq(e->store);
        if (rc != WHACO_OK || e->stats.last_seq == last)
            return rc;
        if (e->stats.last_seq == from || last < e->stats.last_seq)
            return missing_events(errbuf, errlen, e->stats.last_seq + 1, last);
    }
}

/*==== The engine thread ===================================================*/

/* A stamp for the next event: the engine clock, never going backwards. */
static int64_t stamp(struct whaco_engine *e)
{
    int64_t now = whaco_engine_now(e);
    if (now < e->last_time)
        now = e->last_time;
    e->last_time = now;
    return now;
}

static unsigned bucket(uint64_t v, const uint64_t *bounds, unsigned n)
{
    unsigned i = 0;
    while (i < n && v >= bounds[i])
        i++;
    return i;
}

/*
 * Stamp one event, apply it and append it to the open batch. Returns the
 * event's own result (also in *reply); an event that applied is appended
 * unless *io_failed is already set, and *io_failed is set if the store
 * refuses it; *seq receives its sequence number. The event is encoded
 * before it is applied: an unknown type (WHACO_E_INVAL) or running out of
 * memory (WHACO_E_NOMEM) fails the request with the state unchanged, never
 * leaves the state ahead of what can be logged.
 */
static int apply_and_log(struct whaco_engine *e, struct whaco_event *ev,
                         struct whaco_engine_reply *reply, bool *io_failed, uint64_t *seq)
{
    ev->time_ms = stamp(e);
    reply->time_ms = ev->time_ms;
    reply->field = NULL;
    reply->storage_failed = false;
    whaco_buf_clear(&e->scratch);
    reply->rc = whaco_event_encode(ev, &e->scratch);
    if (reply->rc == WHACO_OK)
        reply->rc = whaco_event_apply(&e->intel, ev, &reply->result, &reply->field);
    if (reply->rc != WHACO_OK)
        return reply->rc;
    if (!*io_failed && whaco_store_append(e->store, ev->time_ms, ev->type, e->scratch.data,
                                          e->scratch.len, seq) != WHACO_OK)
        *io_failed = true;
    return WHACO_OK;
}

/*
 * Snapshot the state if any event was applied since the last snapshot, then
 * compact the log behind it. Returns WHACO_OK or the store's error.
 */
static int take_snapshot(struct whaco_engine *e, int64_t now)
{
    struct whaco_buf b = WHACO_BUF_INIT;
    /* The last event in memory, not the store's: another process may have
     * appended since (the next batch catches up, see catch_up). */
    uint64_t seq = e->stats.last_seq;
    if (seq == e->snapshot_seq)
        return WHACO_OK;                      /* the latest snapshot is the current state */
    int rc = whaco_intel_save(&e->intel, &b); /* out of memory: no snapshot, the log has it all */
    if (rc == WHACO_OK)
        rc = whaco_store_put_snapshot(e->store, seq, now, b.data, b.len);
    whaco_buf_release(&b);
    if (rc != WHACO_OK)
        return rc;
    e->snapshot_seq = seq;
    whaco_store_compact(e->store, WHACO_STORE_KEEP_SNAPSHOTS, now - e->cfg.retention_ms, NULL);
    pthread_mutex_lock(&e->mu);
    e->stats.snapshots++;
    pthread_mutex_unlock(&e->mu);
    return WHACO_OK;
}

/*==== Storage failures ====================================================*/

/*
 * The storage failed (why: the full message): refuse writes, log it if
 * this is a new failure, and schedule the next retry with backoff.
 */
static void enter_degraded(struct whaco_engine *e, const char *why)
{
    int64_t now = whaco_engine_now(e);
    pthread_mutex_lock(&e->mu);
    bool was = e->stats.failed;
    e->stats.failed = true;
    if (!was) {
        e->stats.storage_failures++;
        e->stats.failed_since_ms = now;
    }
    /* Clients see no paths: the location stays in the operator's log. */
    snprintf(e->stats.storage_error, sizeof e->stats.storage_error, "%s",
             whaco_store_strip_location(e->store, why));
    pthread_mutex_unlock(&e->mu);
    if (!was) {
        e->failed_mono_ns = mono_ns();
        e->retry_delay = e->cfg.retry_ms;
        notef(e,
              "storage failed: %s -- writes are refused (503) until it recovers, reads"
              " answer from the last committed state; retrying in %lld ms",
              why, (long long)e->retry_delay);
    } else {
        int64_t cap = RETRY_CAP_FACTOR * e->cfg.retry_ms;
        e->retry_delay = e->retry_delay * 2 < cap ? e->retry_delay * 2 : cap;
    }
    e->next_check = now + e->retry_delay;
}

static void leave_degraded(struct whaco_engine *e)
{
    int64_t now = whaco_engine_now(e);
    pthread_mutex_lock(&e->mu);
    e->stats.failed = false;
    e->stats.storage_recoveries++;
    e->stats.failed_since_ms = 0;
    pthread_mutex_unlock(&e->mu);
    notef(e, "storage recovered after %.1f s: writes are accepted again",
          (double)(mono_ns() - e->failed_mono_ns) / 1e9);
    e->next_check = now + e->cfg.retry_ms;
}

/*
 * Make memory the durable state again: load the latest snapshot and replay
 * the log after it (start-up's path) into a fresh state, and swap it in
 * only if that worked. Clears dirty on success.
 */
static int reload_durable(struct whaco_engine *e, char *errbuf, size_t errlen)
{
    struct whaco_engine *tmp = whaco_xcalloc(1, sizeof *tmp);
    tmp->cfg = e->cfg;
    tmp->store = e->store;
    errbuf[0] = '\0';
    int rc = load_state(tmp, errbuf, errlen);
    if (rc == WHACO_OK) {
        whaco_intel_release(&e->intel);
        e->intel = tmp->intel; /* moves the team's arrays */
        e->snapshot_seq = tmp->snapshot_seq;
        e->dirty = false;
        pthread_mutex_lock(&e->mu);
        e->stats.last_seq = tmp->stats.last_seq;
        pthread_mutex_unlock(&e->mu);
    } else {
        whaco_intel_release(&tmp->intel);
    }
    free(tmp);
    return rc;
}

/*
 * Whether another process has appended events since memory was last the
 * log's state (`whaco outcomes import` on this data directory, in its own
 * transaction). The change counter is cheap and says whether anyone else
 * committed at all; the last sequence number then says whether events
 * came (a token created elsewhere is no event). -1 if the store cannot say
 * (its message on the store).
 */
static int foreign_events(struct whaco_engine *e, int64_t *version)
{
    if (whaco_store_change_counter(e->store, version) != WHACO_OK)
        return -1;
    if (*version == e->data_version)
        return 0;
    return whaco_store_last_seq(e->store) != e->stats.last_seq;
}

/*
 * Inside an open batch, so that nobody can append meanwhile: if another
 * process appended events, reload memory from the log (snapshot + replay,
 * as at start-up) before anything is built on it, and say so. Returns
 * WHACO_OK (memory is the log's state; *reloaded if it was reloaded), or
 * the error with msg saying why.
 */
static int catch_up(struct whaco_engine *e, bool *reloaded, char *msg, size_t msglen)
{
    int64_t version = 0;
    uint64_t ours = e->stats.last_seq;
    *reloaded = false;
    int foreign = foreign_events(e, &version);
    if (foreign < 0) {
        errorf(msg, msglen, "%s", whaco_store_errmsg(e->store));
        return WHACO_E_IO;
    }
    if (foreign) {
        int rc = reload_durable(e, msg, msglen);
        if (rc != WHACO_OK)
            return rc;
        if (e->intel.clock_set && e->intel.clock_ms > e->last_time)
            e->last_time = e->intel.clock_ms; /* their events' times: ours never go before */
        notef(e,
              "events %llu to %llu were appended by another process (whaco outcomes import):"
              " the state was reloaded from the log",
              (unsigned long long)ours + 1, (unsigned long long)e->stats.last_seq);
        *reloaded = true;
    }
    e->data_version = version;
    return WHACO_OK;
}

/*
 * One recovery attempt while degraded: repair the store if it is no longer
 * where it should be (SQLite: re-create a removed database file), reload
 * the durable state if memory may be ahead of it, and write a probe
 * transaction -- in that order. Healthy again only if all of that worked.
 */
static void try_recover(struct whaco_engine *e)
{
    char msg[512];
    unsigned done = 0;
    int rc = whaco_store_health(e->store, WHACO_STORE_REPAIR, 0, &done); /* OK if nothing moved */
    if (done & WHACO_STORE_RECREATED) {
        notef(e,
              "re-created %s from the database whaco had open: every committed event"
              " is in it",
              whaco_store_where(e->store));
        e->dirty = true; /* reload from the new store: proves it reads back */
    }
    if (rc != WHACO_OK) {
        enter_degraded(e, whaco_store_errmsg(e->store));
        return;
    }
    if (e->dirty && reload_durable(e, msg, sizeof msg) != WHACO_OK) {
        enter_degraded(e, msg);
        return;
    }
    if (whaco_store_health(e->store, WHACO_STORE_PROBE, whaco_engine_now(e), NULL) != WHACO_OK) {
        enter_degraded(e, whaco_store_errmsg(e->store));
        return;
    }
    leave_degraded(e);
}

/* Answer requests that arrive while degraded without applying them. */
static void refuse(struct whaco_engine_request *batch)
{
    for (struct whaco_engine_request *r = batch, *next; r; r = next) {
        next = r->next; /* r may be freed by its done callback */
        r->reply.rc = WHACO_E_UNAVAILABLE;
        r->reply.field = NULL;
        r->reply.storage_failed = true;
        r->done(r->arg);
    }
}

/*
 * A batch failed: nothing of it is in the log. Put the background schedule
 * back, go degraded, and bring memory back to the log.
 *
 * If it was the commit that failed (commit_failed), its fsync may have
 * failed after the whole transaction was written to the WAL: SQLite does
 * not count it, but it lies past the WAL's committed end, where a crash
 * before the next commit would let the restart's WAL recovery find it and
 * bring the refused batch back. So a probe transaction is written at once,
 * before the batch is answered: it goes over those frames, even when its
 * own fsync fails too, and what a crash could then bring back is only the
 * probe's time stamp (meta.checked_ms).
 */
static void batch_failed(struct whaco_engine *e, int64_t tick_before, int64_t midnight_before,
                         bool commit_failed)
{
    char msg[512];
    e->next_tick = tick_before;
    e->next_midnight = midnight_before;
    e->dirty = true;
    enter_degraded(e, whaco_store_errmsg(e->store));
    if (commit_failed)
        (void)whaco_store_health(e->store, WHACO_STORE_PROBE, whaco_engine_now(e),
                                 NULL); /* see above; retried later */
    if (reload_durable(e, msg, sizeof msg) != WHACO_OK)
        notef(e, "cannot reload the committed state yet (%s); will retry", msg);
}

/*
 * WHACO_SYNC_NORMAL only: a commit is not fsync'd, so fsync the log once
 * sync_interval_ms has passed since the first commit not yet durable.
 * `committed` says this round committed events. Every acknowledged event
 * is durable within the interval (plus one engine round); a failed fsync
 * is a storage failure (durability unknown: refuse writes until a probe
 * succeeds), and the sync is retried after the recovery.
 */
static void sync_log_if_due(struct whaco_engine *e, bool committed)
{
    if (e->cfg.store.sync != WHACO_SYNC_NORMAL)
        return;
    int64_t now = whaco_engine_now(e);
    if (committed && e->sync_due == INT64_MAX)
        e->sync_due = now + e->cfg.sync_interval_ms;
    if (now < e->sync_due)
        return;
    if (whaco_store_sync(e->store) != WHACO_OK) {
        enter_degraded(e, whaco_store_errmsg(e->store));
        return;
    }
    e->sync_due = INT64_MAX;
    pthread_mutex_lock(&e->mu);
    e->stats.log_syncs++;
    pthread_mutex_unlock(&e->mu);
}

/* One round: the queued requests plus any background events that are due. */
static void run_batch(struct whaco_engine *e, struct whaco_engine_request *batch)
{
    static const uint64_t size_bounds[] = {2, 4, 8, 16, 32, 64, 128};
    static const uint64_t ns_bounds[] = {100000,  250000,  500000,  1000000,
                                         2500000, 5000000, 10000000};
    int64_t now = whaco_engine_now(e);
    int64_t tick_before = e->next_tick, midnight_before = e->next_midnight;
    uint64_t applied[WHACO_EV_COUNT + 1] = {0}, rejected = 0, logged = 0, seq = 0;
    bool io_failed = whaco_store_begin(e->store) != WHACO_OK, reloaded = false;
    struct whaco_event bg;
    struct whaco_engine_reply bg_reply;
    char msg[512];

    if (!io_failed && catch_up(e, &reloaded, msg, sizeof msg) != WHACO_OK) {
        /* Memory may be behind the log and cannot be brought up to it now. */
        whaco_store_rollback(e->store);
        e->dirty = true;
        enter_degraded(e, msg);
        refuse(batch);
        return;
    }

    if (now >= e->next_tick) {
        whaco_event_init(&bg, WHACO_EV_TICK);
        if (apply_and_log(e, &bg, &bg_reply, &io_failed, &seq) == WHACO_OK) {
            applied[WHACO_EV_TICK]++;
            logged++;
        }
        e->next_tick = now + e->cfg.tick_ms;
    }
    if (e->cfg.daily_reset && now >= e->next_midnight) {
        whaco_event_init(&bg, WHACO_EV_DAILY_RESET);
        if (apply_and_log(e, &bg, &bg_reply, &io_failed, &seq) == WHACO_OK) {
            applied[WHACO_EV_DAILY_RESET]++;
            logged++;
        }
        e->next_midnight = next_local_midnight(now);
    }
    for (struct whaco_engine_request *r = batch; r; r = r->next) {
        if (apply_and_log(e, &r->event, &r->reply, &io_failed, &seq) == WHACO_OK) {
            applied[r->event.type]++; /* a valid type: its encode succeeded */
            logged++;
        } else {
            rejected++;
        }
    }

    uint64_t t0 = mono_ns();
    bool commit_failed = !io_failed && whaco_store_commit(e->store) != WHACO_OK;
    io_failed = io_failed || commit_failed;
    uint64_t commit_ns = mono_ns() - t0;
    if (io_failed) {
        whaco_store_rollback(e->store);
        batch_failed(e, tick_before, midnight_before, commit_failed);
        refuse(batch); /* not durable: not acknowledged, whatever apply said */
        return;
    }

    pthread_mutex_lock(&e->mu);
    for (int t = 1; t <= WHACO_EV_COUNT; t++)
        e->stats.events[t] += applied[t];
    e->stats.rejected += rejected;
    if (logged) {
        e->stats.batches++;
        e->stats.batch_hist[bucket(logged, size_bounds, 7)]++;
        e->stats.commit_ns_total += commit_ns;
        e->stats.commit_hist[bucket(commit_ns, ns_bounds, 7)]++;
        e->stats.last_seq = seq;
    }
    pthread_mutex_unlock(&e->mu);
    e->next_check = now + e->cfg.retry_ms; /* the commit checked the file */

    if (logged || reloaded)
        publish(e);
    for (struct whaco_engine_request *r = batch, *next; r; r = next) {
        next = r->next; /* r may be freed by its done callback */
        r->done(r->arg);
    }
    sync_log_if_due(e, logged > 0);
    if (e->stats.failed)
        return; /* the fsync failed: nothing more is written until it recovers */
    if (now >= e->next_snapshot) {
        take_snapshot(e, now); /* on failure the log still has everything */
        e->next_snapshot = now + e->cfg.snapshot_ms;
    }
}

static int64_t next_due(const struct whaco_engine *e)
{
    int64_t due = e->next_tick < e->next_snapshot ? e->next_tick : e->next_snapshot;
    if (e->cfg.daily_reset && e->next_midnight < due)
        due = e->next_midnight;
    if (e->sync_due < due)
        due = e->sync_due;
    return due;
}

/* When the engine thread must wake with no request: due work, a check or a retry. */
static int64_t next_wake(const struct whaco_engine *e)
{
    if (e->stats.failed)
        return e->next_check; /* degraded: nothing but the retry */
    int64_t due = next_due(e);
    return e->next_check < due ? e->next_check : due;
}

/* One wake-up of the engine thread with the requests queued meanwhile. */
static void step(struct whaco_engine *e, struct whaco_engine_request *batch)
{
    int64_t now = whaco_engine_now(e);
    if (e->stats.failed) {
        refuse(batch);
        if (now >= e->next_check)
            try_recover(e);
    } else if (batch || now >= next_due(e)) {
        run_batch(e, batch);
    } else if (now >= e->next_check) {
        /* Idle: is the store still where it should be (SQLite: the file in its directory)?
         * Has another process appended events? A batch of nothing then catches up. */
        int64_t version;
        int foreign = 0;
        if (whaco_store_health(e->store, WHACO_STORE_CHECK, 0, NULL) != WHACO_OK) {
            enter_degraded(e, whaco_store_errmsg(e->store));
        } else if ((foreign = foreign_events(e, &version)) != 0) {
            run_batch(e, NULL); /* also when the store cannot say: the batch finds out */
        } else {
            e->data_version = version; /* a commit without events (a token): nothing to do */
            e->next_check = now + e->cfg.retry_ms;
        }
    }
}

static void *engine_main(void *arg)
{
    struct whaco_engine *e = arg;
    pthread_mutex_lock(&e->mu);
    for (;;) {
        while (!e->head && !e->stopping) {
            int64_t due = next_wake(e), now = whaco_engine_now(e);
            if (now >= due)
                break;
            int64_t wake_ms = real_now_ms() + (due - now);
            struct timespec ts = {(time_t)(wake_ms / 1000), (long)(wake_ms % 1000) * 1000000L};
            pthread_cond_timedwait(&e->wake, &e->mu, &ts);
        }
        struct whaco_engine_request *batch = e->head;
        bool stop = e->stopping && !batch;
        e->head = e->tail = NULL;
        pthread_mutex_unlock(&e->mu);
        if (stop)
            break;
        step(e, batch);
        pthread_mutex_lock(&e->mu);
    }
    return NULL;
}

/*
 * Free an engine from the point its locks exist: the thread is not running
 * (never started, or joined), the view (if one was published) is released.
 */
static void engine_free(struct whaco_engine *e)
{
    if (e->current)
        pub_unref(e, e->current);
    whaco_intel_release(&e->intel);
    whaco_buf_release(&e->scratch);
    whaco_store_close(e->store);
    pthread_mutex_destroy(&e->mu);
    pthread_cond_destroy(&e->wake);
    pthread_mutex_destroy(&e->view_mu);
    free(e);
}

/*
 * The floor settings of cfg (floor-tracking, assignment, max-customers,
 * be-back-to-original) are part of the state, so that a replay decides as
 * the service decided: when the configured ones differ from the state's,
 * the change is an event (FLOOR_SETTINGS), logged and committed before the
 * engine starts. An invalid setting fails the start with a message.
 */
static int apply_floor_settings(struct whaco_engine *e, char *errbuf, size_t errlen)
{
    const struct whaco_floor_config *want = &e->cfg.floor, *have = &e->intel.floor.cfg;
    const char *field = NULL;
    if (want->tracking == have->tracking && want->rule == have->rule &&
        want->max_customers == have->max_customers &&
        want->be_back_to_original == have->be_back_to_original)
        return WHACO_OK;
    if (whaco_floor_config_check(want, &field) != WHACO_OK) {
        errorf(errbuf, errlen, "invalid floor setting %s", field);
        return WHACO_E_CONFIG;
    }
    struct whaco_event ev;
    struct whaco_engine_reply reply;
    uint64_t seq = 0;
    whaco_event_init(&ev, WHACO_EV_FLOOR_SETTINGS);
    ev.floor = *want;
    bool io_failed = whaco_store_begin(e->store) != WHACO_OK;
    int rc = apply_and_log(e, &ev, &reply, &io_failed, &seq);
    if (rc == WHACO_OK && !io_failed && whaco_store_commit(e->store) == WHACO_OK) {
        e->stats.last_seq = seq;
        e->stats.events[WHACO_EV_FLOOR_SETTINGS]++;
        return WHACO_OK;
    }
    whaco_store_rollback(e->store);
    errorf(errbuf, errlen, "cannot record the new floor settings: %s",
           rc != WHACO_OK ? whaco_strerror(rc) : whaco_store_errmsg(e->store));
    return rc != WHACO_OK ? rc : WHACO_E_IO;
}

/*
 * Whether the configured experiment want is the one the state runs (have):
 * both off, or the same rules, and the same seed unless want gives none.
 */
static bool same_experiment(const struct whaco_experiment_config *want,
                            const struct whaco_experiment_config *have)
{
    if (want->enabled != have->enabled)
        return false;
    return !want->enabled || (want->rule[0] == have->rule[0] && want->rule[1] == have->rule[1] &&
                              (want->seed == 0 || want->seed == have->seed));
}

/*
 * The experiment setting, like the floor's (apply_floor_settings): when it
 * differs from the state's, an EXPERIMENT_SETTINGS event starts the new
 * experiment (or ends the running one), logged and committed before the
 * engine starts. Without a seed, the split is seeded with the start's time
 * in ms, which the event records. A restart with the same setting changes
 * nothing: the experiment and its counts go on.
 */
static int apply_experiment_settings(struct whaco_engine *e, char *errbuf, size_t errlen)
{
    const struct whaco_experiment_config *want = &e->cfg.experiment;
    const char *field = NULL;
    if (same_experiment(want, &e->intel.exp.cfg))
        return WHACO_OK;
    if (whaco_experiment_config_check(want, &field) != WHACO_OK) {
        errorf(errbuf, errlen, "invalid setting %s", field);
        return WHACO_E_CONFIG;
    }
    struct whaco_event ev;
    struct whaco_engine_reply reply;
    uint64_t seq = 0;
    whaco_event_init(&ev, WHACO_EV_EXPERIMENT_SETTINGS);
    ev.experiment = *want;
    if (ev.experiment.enabled && ev.experiment.seed == 0) {
        int64_t now = stamp(e); /* apply_and_log stamps the event at this time or later */
        ev.experiment.seed = now > 0 && (uint64_t)now <= WHACO_EXP_SEED_MAX ? (uint64_t)now : 1;
    }
    bool io_failed = whaco_store_begin(e->store) != WHACO_OK;
    int rc = apply_and_log(e, &ev, &reply, &io_failed, &seq);
    if (rc == WHACO_OK && !io_failed && whaco_store_commit(e->store) == WHACO_OK) {
        e->stats.last_seq = seq;
        e->stats.events[WHACO_EV_EXPERIMENT_SETTINGS]++;
        return WHACO_OK;
    }
    whaco_store_rollback(e->store);
    errorf(errbuf, errlen, "cannot record the new experiment: %s",
           rc != WHACO_OK ? whaco_strerror(rc) : whaco_store_errmsg(e->store));
    return rc != WHACO_OK ? rc : WHACO_E_IO;
}

/*==== Public ==============================================================*/

int whaco_engine_start(const struct whaco_engine_config *cfg, struct whaco_engine **out,
                       char *errbuf, size_t errlen)
{
    struct whaco_engine *e = whaco_xcalloc(1, sizeof *e);
    int rc;
    *out = NULL;
    if (errlen)
        errbuf[0] = '\0';
    e->cfg = *cfg;
    rc = whaco_store_open(&cfg->store, &e->store, errbuf, errlen);
    /* The counter before the state: whatever is appended from now on shows as a change. */
    if (rc == WHACO_OK && whaco_store_change_counter(e->store, &e->data_version) != WHACO_OK)
        e->data_version = INT64_MIN; /* unknown: the first batch looks at the log */
    if (rc == WHACO_OK)
        rc = load_state(e, errbuf, errlen);
    if (rc != WHACO_OK) {
        whaco_intel_release(&e->intel);
        whaco_store_close(e->store);
        free(e);
        return rc;
    }
    pthread_mutex_init(&e->mu, NULL);
    pthread_cond_init(&e->wake, NULL);
    pthread_mutex_init(&e->view_mu, NULL);
    e->last_time = e->intel.clock_set ? e->intel.clock_ms : 0;
    int64_t now = whaco_engine_now(e);
    e->next_tick = now + cfg->tick_ms;
    e->next_snapshot = now + cfg->snapshot_ms;
    e->next_midnight = next_local_midnight(now);
    e->next_check = now + cfg->retry_ms;
    e->sync_due = INT64_MAX;
    rc = apply_floor_settings(e, errbuf, errlen);
    if (rc == WHACO_OK)
        rc = apply_experiment_settings(e, errbuf, errlen);
    if (rc != WHACO_OK) {
        engine_free(e);
        return rc;
    }
    if (publish(e) != WHACO_OK) {
        errorf(errbuf, errlen, "cannot build the first read view: %s",
               whaco_strerror(WHACO_E_NOMEM));
        engine_free(e);
        return WHACO_E_NOMEM;
    }
    if (pthread_create(&e->thread, NULL, engine_main, e) != 0) {
        errorf(errbuf, errlen, "cannot start the engine thread: %s", strerror(errno));
        engine_free(e);
        return WHACO_E_IO;
    }
    *out = e;
    return WHACO_OK;
}

int whaco_engine_submit_all(struct whaco_engine *e, struct whaco_engine_request *reqs, size_t n)
{
    int rc = WHACO_OK;
    if (n == 0)
        return WHACO_OK;
    for (size_t i = 0; i < n; i++)
        reqs[i].next = i + 1 < n ? &reqs[i + 1] : NULL;
    pthread_mutex_lock(&e->mu);
    if (e->stopping || e->stats.failed) {
        rc = WHACO_E_UNAVAILABLE;
        for (size_t i = 0; i < n; i++) {
            reqs[i].reply.rc = rc;
            reqs[i].reply.field = NULL;
            reqs[i].reply.storage_failed = !e->stopping;
        }
    } else {
        /* One append under the lock: the engine takes the whole queue at
         * once, so these land in one batch, one transaction. */
        if (e->tail)
            e->tail->next = &reqs[0];
        else
            e->head = &reqs[0];
        e->tail = &reqs[n - 1];
        pthread_cond_signal(&e->wake);
    }
    pthread_mutex_unlock(&e->mu);
    return rc;
}

int whaco_engine_submit(struct whaco_engine *e, struct whaco_engine_request *req)
{
    return whaco_engine_submit_all(e, req, 1);
}

struct waiter {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    bool done;
};

static void wake_waiter(void *arg)
{
    struct waiter *w = arg;
    pthread_mutex_lock(&w->mu);
    w->done = true;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

int whaco_engine_call(struct whaco_engine *e, struct whaco_event *ev,
                      struct whaco_engine_reply *reply)
{
    struct whaco_engine_request req;
    struct waiter w = {PTHREAD_MUTEX_INITIALIZER, PTHREAD_COND_INITIALIZER, false};
    memset(&req, 0, sizeof req);
    req.event = *ev;
    req.done = wake_waiter;
    req.arg = &w;
    int rc = whaco_engine_submit(e, &req);
    if (rc != WHACO_OK)
        return rc;
    pthread_mutex_lock(&w.mu);
    while (!w.done)
        pthread_cond_wait(&w.cv, &w.mu);
    pthread_mutex_unlock(&w.mu);
    *ev = req.event;
    *reply = req.reply;
    return WHACO_OK;
}

void whaco_engine_stats(struct whaco_engine *e, struct whaco_engine_stats *out)
{
    pthread_mutex_lock(&e->mu);
    *out = e->stats;
    out->stopping = e->stopping;
    pthread_mutex_unlock(&e->mu);
}

int whaco_engine_stop(struct whaco_engine *e)
{
    int rc = WHACO_OK;
    pthread_mutex_lock(&e->mu);
    e->stopping = true;
    pthread_cond_signal(&e->wake);
    pthread_mutex_unlock(&e->mu);
    pthread_join(e->thread, NULL);

    /*
     * The thread has drained the queue; now the final snapshot. If the
     * database file was removed, this is the last chance to put it back:
     * the acknowledged events are only in the file still open.
     */
    if (whaco_store_health(e->store, WHACO_STORE_CHECK, 0, NULL) != WHACO_OK)
        try_recover(e);
    if (!e->stats.failed) {
        rc = take_snapshot(e, stamp(e));
        if (rc != WHACO_OK)
            notef(e, "the final snapshot failed (%s); the log still has every event",
                  whaco_store_errmsg(e->store));
    } else if (whaco_store_health(e->store, WHACO_STORE_CHECK, 0, NULL) != WHACO_OK) {
        notef(e,
              "stopping with the database file gone from the data directory and not"
              " re-created (%s): what only the open file held is lost",
              whaco_store_errmsg(e->store));
        rc = WHACO_E_IO;
    } else {
        notef(e, "stopping while the storage is failing: no final snapshot; the log holds"
                 " every acknowledged event");
    }
    engine_free(e);
    return rc;
}

/*==== Export and import ===================================================*/

/*
 * An engine of the store alone, for the offline calls (load, apply): no
 * thread, no view; cfg.store is *store with sync full.
 */
static struct whaco_engine *offline_engine(const struct whaco_store_spec *store)
{
    struct whaco_engine *e = whaco_xcalloc(1, sizeof *e);
    whaco_engine_config_default(&e->cfg);
    e->cfg.store = *store;
    e->cfg.store.sync = WHACO_SYNC_FULL;
    return e;
}

int whaco_engine_load(const struct whaco_store_spec *store, struct whaco_intel *in, char *errbuf,
                      size_t errlen)
{
    struct whaco_engine *e = offline_engine(store);
    int rc;
    if (errlen)
        errbuf[0] = '\0';
    e->cfg.seg = in->seg.cfg;
    e->cfg.team = in->team.cfg;
    rc = whaco_store_open(&e->cfg.store, &e->store, errbuf, errlen);
    if (rc == WHACO_OK)
        rc = load_state(e, errbuf, errlen);
    if (rc == WHACO_OK) {
        whaco_intel_release(in);
        *in = e->intel; /* moves the team's arrays */
    } else {
        whaco_intel_release(&e->intel);
    }
    whaco_store_close(e->store);
    free(e);
    return rc;
}

int whaco_engine_import(const struct whaco_store_spec *store, const struct whaco_intel *in,
                        bool force, int64_t now_ms, char *errbuf, size_t errlen)
{
    struct whaco_store *s = NULL;
    struct whaco_buf b = WHACO_BUF_INIT;
    struct whaco_store_spec spec = *store;
    char where[1024];
    if (errlen)
        errbuf[0] = '\0';
    spec.sync = WHACO_SYNC_FULL;
    int rc = whaco_store_open(&spec, &s, errbuf, errlen);
    if (rc != WHACO_OK)
        return rc;
    uint64_t seq = whaco_store_last_seq(s);
    if (seq > 0 && !force) {
        errorf(errbuf, errlen,
               "%s already holds %llu events; stop the server and pass --force to replace "
               "its state",
               whaco_store_spec_describe(store, where, sizeof where), (unsigned long long)seq);
        whaco_store_close(s);
        return WHACO_E_DUPLICATE;
    }
    rc = whaco_intel_save(in, &b);
    if (rc != WHACO_OK) {
        errorf(errbuf, errlen, "cannot encode the state: %s", whaco_strerror(rc));
        whaco_buf_release(&b);
        whaco_store_close(s);
        return rc;
    }
    rc = whaco_store_put_snapshot(s, seq, now_ms, b.data, b.len);
    if (rc == WHACO_OK)
        rc = whaco_store_compact(s, 1, INT64_MAX, NULL); /* the import replaces everything */
    if (rc != WHACO_OK)
        errorf(errbuf, errlen, "%s", whaco_store_errmsg(s));
    whaco_buf_release(&b);
    whaco_store_close(s);
    return rc;
}

int whaco_engine_apply_offline(const struct whaco_store_spec *store, struct whaco_event *events,
                               struct whaco_engine_reply *replies, size_t n, int64_t now_ms,
                               char *errbuf, size_t errlen)
{
    struct whaco_engine *e = offline_engine(store);
    uint64_t seq = 0;
    bool io_failed = false;
    if (errlen)
        errbuf[0] = '\0';
    int rc = whaco_store_open(&e->cfg.store, &e->store, errbuf, errlen);
    if (rc == WHACO_OK && (rc = whaco_store_begin(e->store)) != WHACO_OK)
        errorf(errbuf, errlen, "%s", whaco_store_errmsg(e->store));
    /* Inside the transaction: a server on the same store cannot append until it ends. */
    if (rc == WHACO_OK)
        rc = load_state(e, errbuf, errlen);
    if (rc == WHACO_OK) {
        e->cfg.clock_offset_ms = now_ms - real_now_ms(); /* stamp() gives now_ms onwards */
        e->last_time =
            e->intel.clock_set && e->intel.clock_ms > now_ms ? e->intel.clock_ms : now_ms;
        for (size_t i = 0; i < n; i++)
            apply_and_log(e, &events[i], &replies[i], &io_failed, &seq);
        if (io_failed || whaco_store_commit(e->store) != WHACO_OK) {
            errorf(errbuf, errlen, "%s", whaco_store_errmsg(e->store));
            rc = WHACO_E_IO;
        }
    }
    if (rc != WHACO_OK && e->store)
        whaco_store_rollback(e->store);
    whaco_intel_release(&e->intel);
    whaco_buf_release(&e->scratch);
    whaco_store_close(e->store);
    free(e);
    return rc;
}

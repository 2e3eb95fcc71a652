/*
 * test_faults.c: storage faults while running, at the engine and store
 * level, with the fault library (tests/fault/libwhacofault.c) linked in:
 *
 *  - every I/O call of a batch in turn fails (N = 1, 2, ... until a batch
 *    with the fault armed goes through): the batch is refused, the engine
 *    recovers by itself, and the state -- live and after a restart -- holds
 *    exactly the acknowledged events;
 *  - a batch committed after the data directory was removed is taken out of
 *    the open file again, and whaco_store_health's repair puts the database
 *    back (refusing to overwrite another file that appeared at its path);
 *  - a database locked by another connection: writes fail with "database is
 *    locked" after the busy timeout, and succeed again once it is released;
 *  - a midnight reset whose batch failed runs after the recovery (the
 *    schedule is put back), and is never shown before it is committed;
 *  - under sync normal, a failed interval fsync stops the batch's due
 *    snapshot too: once degraded, nothing more is written until it recovers.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/gen.h"
#include "whaco/store.h"
#include "fixture.h"
#include "libwhacofault.h"

/* The test's view: what the acknowledged events must add up to. */
struct view {
    uint64_t processed;   /* customers analysed */
    uint64_t deals;       /* deals today, over the team */
    struct whaco_buf all; /* the whole saved state */
};

static void *publish_view(const struct whaco_intel *in, void *ctx)
{
    struct view *v = calloc(1, sizeof *v);
    (void)ctx;
    v->processed = in->seg.processed;
    for (size_t i = 0; i < in->team.n; i++)
        v->deals += in->team.members[i].deals_today;
    whaco_intel_save(in, &v->all);
    return v;
}

static void free_view(void *p)
{
    struct view *v = p;
    whaco_buf_release(&v->all);
    free(v);
}

/* Lines the engine logged (transitions), counted by kind. */
static int logged_failed, logged_recovered;

static void log_line(const char *line)
{
    if (strncmp(line, "storage failed:", 15) == 0)
        __atomic_fetch_add(&logged_failed, 1, __ATOMIC_SEQ_CST);
    else if (strncmp(line, "storage recovered", 17) == 0)
        __atomic_fetch_add(&logged_recovered, 1, __ATOMIC_SEQ_CST);
}

/* The fixture's quiet engine, with this test's view and log. */
static void config(struct whaco_engine_config *cfg)
{
    fixture_engine_config(cfg);
    cfg->publish = publish_view;
    cfg->view_free = free_view;
    cfg->log = log_line;
    cfg->retry_ms = 5; /* recover quickly: the loop below fails many batches */
}

/* A new directory, faults watched in it, none armed, no lines logged yet. */
static int setup(void **state)
{
    fixture_setup(state);
    whacofault_set(fixture_dir, NULL);
    whacofault_arm(0, 0, NULL);
    logged_failed = logged_recovered = 0;
    return 0;
}

static int teardown(void **state)
{
    whacofault_arm(0, 0, NULL);
    return fixture_teardown(state);
}

static struct view current(struct whaco_engine *e)
{
    void *h;
    struct view *v = whaco_engine_view_acquire(e, &h), copy = *v;
    copy.all = (struct whaco_buf)WHACO_BUF_INIT;
    whaco_buf_put(&copy.all, v->all.data, v->all.len);
    whaco_engine_view_release(e, h);
    return copy;
}

static void sleep_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL);
}

/* Wait (up to 20 s: a liveness bound, not a measurement) until healthy. */
static void wait_healthy(struct whaco_engine *e)
{
    struct whaco_engine_stats st;
    for (int i = 0; i < 20000; i++) {
        whaco_engine_stats(e, &st);
        if (!st.failed)
            return;
        sleep_ms(1);
    }
    fail_msg("the engine did not recover: %s", st.storage_error);
}

enum { BATCH = 4 };

/*
 * Submit three customers and one closed deal together (one batch, or more
 * if the engine wakes in between) and wait for every answer.
 */
static void submit_batch(struct whaco_engine *e, struct whaco_rng *rng,
                         struct whaco_engine_request reqs[BATCH])
{
    struct whaco_gen_params gp;
    struct fixture_counter cnt = {0};
    whaco_gen_params_default(&gp);
    for (int i = 0; i < BATCH; i++) {
        memset(&reqs[i], 0, sizeof reqs[i]);
        if (i < BATCH - 1) {
            whaco_event_init(&reqs[i].event, WHACO_EV_ANALYZE);
            whaco_gen_customer(rng, &gp, &reqs[i].event.customer, NULL);
        } else {
            whaco_event_init(&reqs[i].event, WHACO_EV_DEAL_CLOSED);
            snprintf(reqs[i].event.id, sizeof reqs[i].event.id, "sp-1");
        }
        reqs[i].done = fixture_count_done;
        reqs[i].arg = &cnt;
        if (whaco_engine_submit(e, &reqs[i]) != WHACO_OK) {
            /* Refused at once: an earlier part of this batch failed meanwhile. */
            assert_int_equal(reqs[i].reply.rc, WHACO_E_UNAVAILABLE);
            assert_true(reqs[i].reply.storage_failed);
            fixture_count_done(&cnt);
        }
    }
    while (__atomic_load_n(&cnt.done, __ATOMIC_SEQ_CST) < BATCH)
        sleep_ms(1);
}

static void faults__every_io_call_of_a_batch_may_fail(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    struct whaco_engine_request reqs[BATCH];
    struct whaco_rng rng;
    uint64_t acked_customers = 0, acked_deals = 0;
    int injected = 0, refused = 0;
    long n;
    config(&cfg);
    whaco_rng_seed(&rng, 7);
    struct whaco_engine *e = fixture_start(&cfg);
    fixture_add_salesperson(e, "sp-1", 0.7);
    fixture_add_salesperson(e, "sp-2", 0.7);

    for (n = 1; n < 1000; n++) {
        whacofault_arm(n, n % 2 ? EIO : ENOSPC, NULL);
        submit_batch(e, &rng, reqs);
        bool fired = whacofault_failures() > 0;
        whacofault_arm(0, 0, NULL);
        bool any_refused = false;
        for (int i = 0; i < BATCH; i++) {
            if (reqs[i].reply.rc == WHACO_OK) {
                if (reqs[i].event.type == WHACO_EV_ANALYZE)
                    acked_customers++;
                else
                    acked_deals++;
                continue;
            }
            /* Refused: only because the storage failed, and said so. */
            assert_int_equal(reqs[i].reply.rc, WHACO_E_UNAVAILABLE);
            assert_true(reqs[i].reply.storage_failed);
            any_refused = true;
        }
        if (!fired) {
            assert_false(any_refused);
            break; /* the batch needed fewer than n calls: every call has had its turn */
        }
        injected++;
        if (any_refused) {
            refused++;
            whaco_engine_stats(e, &st);
            assert_true(st.storage_error[0] != '\0');
            wait_healthy(e);
        }
        /* Live: exactly the acknowledged events, never a refused one. */
        struct view v = current(e);
        assert_int_equal(v.processed, acked_customers);
        assert_int_equal(v.deals, acked_deals);
        whaco_buf_release(&v.all);
    }
    print_message("%d I/O calls failed in turn, %d batches refused and recovered from\n", injected,
                  refused);
    assert_true(injected > 0);
    assert_true(refused > 0);
    whaco_engine_stats(e, &st);
    assert_false(st.failed);
    assert_int_equal(st.storage_failures, st.storage_recoveries);
    assert_true(st.storage_failures >= (uint64_t)refused);
    /* One line per transition, not one per request or retry. */
    assert_int_equal(logged_failed, (int)st.storage_failures);
    assert_int_equal(logged_recovered, (int)st.storage_recoveries);

    /* Restart: the same state, exactly the acknowledged events. */
    struct view before = current(e);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    e = fixture_start(&cfg);
    struct view after = current(e);
    assert_int_equal(after.processed, acked_customers);
    assert_int_equal(after.deals, acked_deals);
    assert_int_equal(before.all.len, after.all.len);
    assert_memory_equal(before.all.data, after.all.data, before.all.len);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    whaco_buf_release(&before.all);
    whaco_buf_release(&after.all);
}

static int append_batch(struct whaco_store *s, int events)
{
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    for (int i = 0; i < events; i++)
        assert_int_equal(whaco_store_append(s, 1000 + i, 1, "x", 1, NULL), WHACO_OK);
    return whaco_store_commit(s);
}

/* whaco_store_health(s, how) with its report, which must be WHACO_OK or `want`. */
static int health(struct whaco_store *s, enum whaco_store_health how, int64_t now_ms,
                  unsigned *done)
{
    *done = 0xdead;
    int rc = whaco_store_health(s, how, now_ms, done);
    if (rc != WHACO_OK)
        assert_int_equal(*done, 0); /* nothing is reported done by a failed call */
    return rc;
}

static void faults__a_removed_directory_is_detected_and_recreated(void **state)
{
    (void)state;
    struct whaco_store *s = fixture_open_store(WHACO_SYNC_FULL), *other = NULL;
    unsigned done;
    assert_int_equal(append_batch(s, 2), WHACO_OK);
    assert_int_equal(health(s, WHACO_STORE_CHECK, 0, &done), WHACO_OK);
    assert_int_equal(health(s, WHACO_STORE_REPAIR, 0, &done), WHACO_OK);
    assert_int_equal(done, 0); /* nothing to repair */

    assert_int_equal(fixture_remove_dir(), 0);
    assert_int_equal(health(s, WHACO_STORE_CHECK, 0, &done), WHACO_E_IO);
    assert_non_null(strstr(whaco_store_errmsg(s), "no longer there"));
    /* A batch committed into the unlinked file is refused and taken out again. */
    assert_int_equal(append_batch(s, 3), WHACO_E_IO);
    assert_non_null(strstr(whaco_store_errmsg(s), "it was not stored"));
    assert_int_equal(fixture_count_replayed(s, 0), 2);
    assert_int_equal(whaco_store_last_seq(s), 2); /* numbers handed back: no gap */
    assert_int_equal(health(s, WHACO_STORE_PROBE, 1, &done), WHACO_E_IO);

    /* Re-created: the directory, the file, the committed events. */
    assert_int_equal(health(s, WHACO_STORE_REPAIR, 0, &done), WHACO_OK);
    assert_int_equal(done, WHACO_STORE_RECREATED);
    assert_string_equal(whaco_store_errmsg(s), "");
    struct stat sb;
    assert_int_equal(stat(fixture_db_path, &sb), 0);
    assert_string_equal(whaco_store_where(s), fixture_db_path);
    assert_int_equal(health(s, WHACO_STORE_CHECK, 0, &done), WHACO_OK);
    assert_int_equal(health(s, WHACO_STORE_PROBE, 2, &done), WHACO_OK);
    assert_int_equal(done, 0);
    assert_int_equal(fixture_count_replayed(s, 0), 2);
    assert_int_equal(append_batch(s, 1), WHACO_OK);
    whaco_store_close(s);
    s = fixture_open_store(WHACO_SYNC_FULL);
    assert_int_equal(fixture_count_replayed(s, 0), 3);

    /* Removed again, and another database put at the path: never overwritten. */
    assert_int_equal(fixture_remove_dir(), 0);
    other = fixture_open_store(WHACO_SYNC_FULL);
    assert_int_equal(health(s, WHACO_STORE_REPAIR, 0, &done), WHACO_E_IO);
    assert_non_null(strstr(whaco_store_errmsg(s), "another file is now at this path"));
    assert_int_equal(fixture_count_replayed(other, 0), 0);
    /* Moved away, the way is free again. */
    whaco_store_close(other);
    assert_int_equal(fixture_remove_dir(), 0);
    assert_int_equal(health(s, WHACO_STORE_REPAIR, 0, &done), WHACO_OK);
    assert_int_equal(done, WHACO_STORE_RECREATED);
    assert_int_equal(fixture_count_replayed(s, 0), 3);

    /* Not while a batch is open, and not for a request that does not exist. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(health(s, WHACO_STORE_PROBE, 3, &done), WHACO_E_INVAL);
    whaco_store_rollback(s);
    assert_int_equal(health(s, (enum whaco_store_health)7, 3, &done), WHACO_E_INVAL);
    whaco_store_close(s);
}

static void faults__a_locked_database_fails_then_recovers(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    struct whaco_event ev;
    struct whaco_engine_reply r;
    config(&cfg);
    cfg.retry_ms = 100;
    struct whaco_engine *e = fixture_start(&cfg);
    fixture_add_salesperson(e, "sp-1", 0.7);

    /* Another connection takes the write lock and keeps it. */
    struct whaco_store *holder = fixture_open_store(WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_begin(holder), WHACO_OK);
    whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
    snprintf(ev.id, sizeof ev.id, "sp-1");
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
    assert_int_equal(r.rc, WHACO_E_UNAVAILABLE);
    assert_true(r.storage_failed);
    whaco_engine_stats(e, &st);
    assert_true(st.failed);
    assert_non_null(strstr(st.storage_error, "database is locked"));
    /* While degraded, writes are refused at once, without waiting. */
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_E_UNAVAILABLE);

    whaco_store_rollback(holder);
    whaco_store_close(holder);
    wait_healthy(e);
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
    assert_int_equal(r.rc, WHACO_OK);
    struct view v = current(e);
    assert_int_equal(v.deals, 1);
    whaco_buf_release(&v.all);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

/* A copy of the current view's deals today, over the team. */
static uint64_t deals_now(struct whaco_engine *e)
{
    struct view v = current(e);
    whaco_buf_release(&v.all);
    return v.deals;
}

static void faults__a_midnight_reset_in_a_failed_batch_is_not_lost(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    struct whaco_event ev;
    config(&cfg);
    cfg.daily_reset = true;
    fixture_clock_before_midnight(&cfg, 2000); /* 2 s: time to set up */
    struct whaco_engine *e = fixture_start(&cfg);
    fixture_add_salesperson(e, "sp-1", 0.7);
    whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
    snprintf(ev.id, sizeof ev.id, "sp-1");
    fixture_call_ok(e, &ev);
    assert_int_equal(deals_now(e), 1);

    /* The next write is the midnight reset's batch: it fails. */
    whacofault_arm(1, EIO, "write");
    for (int i = 0; i < 20000; i++) {
        whaco_engine_stats(e, &st);
        if (st.storage_failures > 0)
            break;
        sleep_ms(1);
    }
    assert_int_equal(st.storage_failures, 1);
    assert_int_equal(st.events[WHACO_EV_DAILY_RESET], 0);
    assert_int_equal(deals_now(e), 1); /* the failed reset was never published */
    whacofault_arm(0, 0, NULL);
    wait_healthy(e);

    /* Put back on the schedule, it runs at once after the recovery. */
    for (int i = 0; i < 20000 && deals_now(e) != 0; i++)
        sleep_ms(1);
    assert_int_equal(deals_now(e), 0);
    whaco_engine_stats(e, &st);
    assert_int_equal(st.events[WHACO_EV_DAILY_RESET], 1);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

static void faults__no_snapshot_after_a_failed_interval_fsync(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    struct whaco_store_stats ss;
    struct whaco_event ev;
    config(&cfg);
    cfg.store.sync = WHACO_SYNC_NORMAL;
    cfg.sync_interval_ms = 0; /* fsync the log after every batch that committed */
    cfg.snapshot_ms = 0;      /* and a snapshot is due at every batch */
    cfg.retry_ms = 60000;     /* no recovery while the test looks */
    struct whaco_engine *e = fixture_start(&cfg);
    fixture_add_salesperson(e, "sp-1", 0.7); /* seq 1 */
    /* Its answer comes before its fsync and snapshot: wait for both. */
    for (int i = 0; i < 20000; i++) {
        whaco_engine_stats(e, &st);
        if (st.log_syncs == 1 && st.snapshots == 1)
            break;
        sleep_ms(1);
    }
    assert_int_equal(st.log_syncs, 1);
    assert_int_equal(st.snapshots, 1);

    whacofault_arm(1, EIO, "sync");
    whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
    snprintf(ev.id, sizeof ev.id, "sp-1");
    fixture_call_ok(e, &ev); /* seq 2: committed and acknowledged, then its fsync fails */
    for (int i = 0; i < 20000; i++) {
        whaco_engine_stats(e, &st);
        if (st.failed)
            break;
        sleep_ms(1);
    }
    assert_true(st.failed);
    assert_int_equal(whacofault_failures(), 1);
    whacofault_arm(0, 0, NULL);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK); /* joins: the batch is over */

    struct whaco_store *s = fixture_open_store(WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_stats(s, &ss), WHACO_OK);
    assert_int_equal(whaco_store_last_seq(s), 2);
    assert_int_equal(ss.snapshot_seq, 1); /* not 2: written after the fsync failed */
    whaco_store_close(s);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(faults__every_io_call_of_a_batch_may_fail, setup, teardown),
        cmocka_unit_test_setup_teardown(faults__a_removed_directory_is_detected_and_recreated,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(faults__a_locked_database_fails_then_recovers, setup,
                                        teardown),
        cmocka_unit_test_setup_teardown(faults__a_midnight_reset_in_a_failed_batch_is_not_lost,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(faults__no_snapshot_after_a_failed_interval_fsync, setup,
                                        teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

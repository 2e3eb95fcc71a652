/*
 * test_durability.c: when the write-ahead log is fsync'd -- at every commit
 * under WHACO_SYNC_FULL, only by whaco_store_sync (and the engine's sync
 * interval) under WHACO_SYNC_NORMAL.
 *
 * This program defines fsync and fdatasync itself: the dynamic linker binds
 * libsqlite3's calls to these definitions, which count the syncs of files
 * whose name ends in "-wal" and then do the real system call. So the test
 * sees what SQLite asks the kernel for, not what we believe it asks for.
 * Waiting for the engine's interval polls with a generous deadline; the
 * assertions are on counts, never on how long anything took.
 */
#define _GNU_SOURCE /* syscall */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/store.h"
#include "fixture.h"

/*==== Counting syncs ======================================================*/

static volatile int wal_syncs; /* fsync/fdatasync calls on a *-wal file */

static void count_if_wal(int fd)
{
    char link[64], path[512];
    snprintf(link, sizeof link, "/proc/self/fd/%d", fd);
    ssize_t n = readlink(link, path, sizeof path - 1);
    if (n > 4) {
        path[n] = '\0';
        if (strcmp(path + n - 4, "-wal") == 0)
            __atomic_add_fetch(&wal_syncs, 1, __ATOMIC_SEQ_CST);
    }
}

int fsync(int fd);
int fsync(int fd)
{
    count_if_wal(fd);
    return (int)syscall(SYS_fsync, fd);
}

int fdatasync(int fd);
int fdatasync(int fd)
{
    count_if_wal(fd);
    return (int)syscall(SYS_fdatasync, fd);
}

static int syncs(void)
{
    return __atomic_load_n(&wal_syncs, __ATOMIC_SEQ_CST);
}

/*==== Fixtures ============================================================*/

static void commit_one(struct whaco_store *s, int64_t t)
{
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_append(s, t, 1, "body", 4, NULL), WHACO_OK);
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
}

/*==== The store ===========================================================*/

/* The counter sees SQLite's own syncs: under FULL, one per commit at least. */
static void durability__full_syncs_the_wal_at_every_commit(void **state)
{
    (void)state;
    struct whaco_store *s = fixture_open_store(WHACO_SYNC_FULL);
    commit_one(s, 1); /* the first commit may also sync the directory */
    int before = syncs();
    for (int i = 0; i < 5; i++)
        commit_one(s, 2 + i);
    assert_true(syncs() - before >= 5);
    whaco_store_close(s);
}

static void durability__normal_syncs_the_wal_only_when_asked(void **state)
{
    (void)state;
    struct whaco_store *s = fixture_open_store(WHACO_SYNC_NORMAL);
    /* Nothing written since the open: a sync is a harmless no-op. */
    assert_int_equal(whaco_store_sync(s), WHACO_OK);
    int before = syncs();
    for (int i = 0; i < 5; i++)
        commit_one(s, 10 + i);
    assert_int_equal(syncs(), before);
    assert_int_equal(whaco_store_sync(s), WHACO_OK);
    assert_int_equal(syncs(), before + 1);

    /* Not inside a batch: the batch is not committed, so not worth syncing. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_sync(s), WHACO_E_INVAL);
    assert_non_null(strstr(whaco_store_errmsg(s), "a batch is open"));
    whaco_store_rollback(s);
    whaco_store_close(s);
}

/*==== The engine's sync interval ==========================================*/

/* The views are not looked at here: one static non-NULL placeholder (NULL means no memory). */
static void *publish_nothing(const struct whaco_intel *in, void *ctx)
{
    static char placeholder;
    (void)in;
    (void)ctx;
    return &placeholder;
}

static void free_nothing(void *view)
{
    (void)view;
}

static struct whaco_engine *start_engine(enum whaco_sync sync, int64_t interval_ms)
{
    struct whaco_engine_config cfg;
    fixture_engine_config(&cfg);
    cfg.store.sync = sync;
    cfg.sync_interval_ms = interval_ms;
    cfg.publish = publish_nothing;
    cfg.view_free = free_nothing;
    return fixture_start(&cfg);
}

static uint64_t log_syncs(struct whaco_engine *e)
{
    struct whaco_engine_stats st;
    whaco_engine_stats(e, &st);
    return st.log_syncs;
}

/* Poll until the engine has synced the log `want` times; 10 s at most. */
static void wait_for_log_syncs(struct whaco_engine *e, uint64_t want)
{
    struct timespec pause = {0, 5 * 1000 * 1000};
    for (int i = 0; i < 2000 && log_syncs(e) < want; i++)
        nanosleep(&pause, NULL);
    assert_int_equal(log_syncs(e), want);
}

static void durability__engine_syncs_the_log_after_the_interval_when_idle(void **state)
{
    (void)state;
    struct whaco_engine *e = start_engine(WHACO_SYNC_NORMAL, 50);
    int before = syncs();
    fixture_add_salesperson(e, "sp-1", 0.5);
    /* No further request: the idle timer must still make the event durable. */
    wait_for_log_syncs(e, 1);
    assert_true(syncs() > before);
    /* Nothing new committed: no further sync, however long we wait. */
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    assert_int_equal(log_syncs(e), 1);
    fixture_add_salesperson(e, "sp-2", 0.5);
    wait_for_log_syncs(e, 2);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

static void durability__full_needs_no_interval_syncs(void **state)
{
    (void)state;
    struct whaco_engine *e = start_engine(WHACO_SYNC_FULL, 50);
    fixture_add_salesperson(e, "sp-1", 0.5);
    fixture_add_salesperson(e, "sp-2", 0.5);
    struct timespec pause = {0, 200 * 1000 * 1000};
    nanosleep(&pause, NULL);
    assert_int_equal(log_syncs(e), 0);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(durability__full_syncs_the_wal_at_every_commit),
        FIXTURE_TEST(durability__normal_syncs_the_wal_only_when_asked),
        FIXTURE_TEST(durability__engine_syncs_the_log_after_the_interval_when_idle),
        FIXTURE_TEST(durability__full_needs_no_interval_syncs),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

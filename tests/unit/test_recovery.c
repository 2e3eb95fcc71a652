/*
 * test_recovery.c: start-up after damage to the files on disk.
 *
 *  - A torn or corrupted last WAL frame (a crash in the middle of writing a
 *    commit, or the disk returning garbage for it): the store opens, the
 *    damaged transaction is gone as a whole and every earlier one is intact.
 *  - A corrupted latest snapshot: the engine falls back to the snapshot
 *    before it and replays the log from there (compaction keeps two
 *    snapshots and the events after the older one for exactly this), says
 *    so through cfg.log, and ends in the same state as before the damage.
 *  - Damage that cannot be repaired from what is on disk (no readable
 *    snapshot and a compacted log, or events missing from the log) stops
 *    the start with a message instead of silently dropping events.
 *
 * Damage is done with sqlite3 directly or by editing the files' bytes, as a
 * failing disk or a crash would.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork, truncate */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/gen.h"
#include "whaco/store.h"

static char dir[64];
static char db_path[128];

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/whaco-recovery-XXXXXX");
    assert_non_null(mkdtemp(dir));
    snprintf(db_path, sizeof db_path, "%s/whaco.db", dir);
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

/*==== Engine helpers ======================================================*/

static void *publish_saved(const struct whaco_intel *in, void *ctx)
{
    struct whaco_buf *b = calloc(1, sizeof *b);
    (void)ctx;
    whaco_intel_save(in, b);
    return b;
}

static void free_saved(void *view)
{
    whaco_buf_release(view);
    free(view);
}

/* What the engine told the operator, all lines joined. */
static char logged[4096];

static void log_line(const char *line)
{
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof logged - n, "%s\n", line);
}

static void config(struct whaco_engine_config *cfg, int64_t retention_ms)
{
    whaco_engine_config_default(cfg);
    cfg->data_dir = dir;
    cfg->publish = publish_saved;
    cfg->view_free = free_saved;
    cfg->log = log_line;
    cfg->tick_ms = 3600 * 1000;
    cfg->snapshot_ms = 3600 * 1000; /* snapshots only at stop */
    cfg->daily_reset = false;
    cfg->retention_ms = retention_ms;
}

static struct whaco_engine *start(const struct whaco_engine_config *cfg)
{
    struct whaco_engine *e = NULL;
    char msg[512];
    logged[0] = '\0';
    int rc = whaco_engine_start(cfg, &e, msg, sizeof msg);
    if (rc != WHACO_OK)
        fail_msg("engine start: %s", msg);
    return e;
}

static void call_ok(struct whaco_engine *e, struct whaco_event *ev)
{
    struct whaco_engine_reply r;
    assert_int_equal(whaco_engine_call(e, ev, &r), WHACO_OK);
    assert_int_equal(r.rc, WHACO_OK);
}

static void analyze_some(struct whaco_engine *e, uint64_t seed, int n)
{
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    whaco_rng_seed(&rng, seed);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < n; i++) {
        struct whaco_event ev;
        whaco_event_init(&ev, WHACO_EV_ANALYZE);
        whaco_gen_customer(&rng, &gp, &ev.customer, NULL);
        call_ok(e, &ev);
    }
}

static struct whaco_buf current(struct whaco_engine *e)
{
    void *h;
    struct whaco_buf *v = whaco_engine_view_acquire(e, &h), copy = WHACO_BUF_INIT;
    whaco_buf_put(&copy, v->data, v->len);
    whaco_engine_view_release(e, h);
    return copy;
}

static void assert_same_state(const struct whaco_buf *a, const struct whaco_buf *b)
{
    assert_int_equal(a->len, b->len);
    assert_memory_equal(a->data, b->data, a->len);
}

/*
 * Three runs of the engine, each stopped cleanly (a snapshot at each stop):
 * snapshots at events 22, 42 and 52. Returns the final state.
 */
static struct whaco_buf three_runs(const struct whaco_engine_config *cfg)
{
    struct whaco_engine *e = start(cfg);
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
    snprintf(ev.id, sizeof ev.id, "sp-1");
    snprintf(ev.name, sizeof ev.name, "Jane");
    ev.skill_level = 0.8;
    ev.natural_frequency = 0.9;
    call_ok(e, &ev);
    whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
    snprintf(ev.id, sizeof ev.id, "sp-2");
    snprintf(ev.name, sizeof ev.name, "Bob");
    ev.skill_level = 0.4;
    ev.natural_frequency = 1.0;
    call_ok(e, &ev);
    analyze_some(e, 1, 20);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    e = start(cfg);
    analyze_some(e, 2, 20);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    e = start(cfg);
    analyze_some(e, 3, 10);
    struct whaco_buf final = current(e);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    return final;
}

/*==== Raw damage ==========================================================*/

static sqlite3 *raw_open(void)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(db_path, &db), SQLITE_OK);
    return db;
}

static int64_t raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

static void raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg);
}

/* Flip one byte in the middle of the snapshot at seq, as bit rot would. */
static void corrupt_snapshot(sqlite3 *db, int64_t seq)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(
        sqlite3_prepare_v2(db, "SELECT state FROM snapshots WHERE seq = ?1", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_int64(st, 1, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int n = sqlite3_column_bytes(st, 0);
    assert_true(n > 100);
    unsigned char *copy = malloc((size_t)n);
    memcpy(copy, sqlite3_column_blob(st, 0), (size_t)n);
    sqlite3_finalize(st);
    copy[n / 2] ^= 0x10;
    assert_int_equal(
        sqlite3_prepare_v2(db, "UPDATE snapshots SET state = ?1 WHERE seq = ?2", -1, &st, NULL),
        SQLITE_OK);
    sqlite3_bind_blob(st, 1, copy, n, SQLITE_TRANSIENT);
    sqlite3_bind_int64(st, 2, seq);
    assert_int_equal(sqlite3_step(st), SQLITE_DONE);
    sqlite3_finalize(st);
    free(copy);
}

static void expect_start_refused(const struct whaco_engine_config *cfg, const char *says)
{
    struct whaco_engine *e = NULL;
    char msg[512];
    assert_int_equal(whaco_engine_start(cfg, &e, msg, sizeof msg), WHACO_E_STATE_CORRUPT);
    assert_null(e);
    if (!strstr(msg, says))
        fail_msg("expected \"%s\" in: %s", says, msg);
}

/*==== Snapshots ===========================================================*/

/* Compaction keeps the two latest snapshots and the events after the older. */
static void recovery__compaction_keeps_two_snapshots(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    config(&cfg, 0); /* retention 0: compact every event a kept snapshot allows */
    struct whaco_buf final = three_runs(&cfg);
    sqlite3 *db = raw_open();
    assert_int_equal(raw_int(db, "SELECT count(*) FROM snapshots"), 2);
    assert_int_equal(raw_int(db, "SELECT min(seq) FROM snapshots"), 42);
    assert_int_equal(raw_int(db, "SELECT max(seq) FROM snapshots"), 52);
    assert_int_equal(raw_int(db, "SELECT min(seq) FROM events"), 43);
    assert_int_equal(raw_int(db, "SELECT max(seq) FROM events"), 52);
    sqlite3_close(db);
    whaco_buf_release(&final);
}

static void recovery__damaged_latest_snapshot_falls_back_to_the_one_before(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    config(&cfg, 0);
    struct whaco_buf final = three_runs(&cfg);
    sqlite3 *db = raw_open();
    corrupt_snapshot(db, 52);
    sqlite3_close(db);

    struct whaco_engine *e = start(&cfg);
    assert_non_null(strstr(logged, "snapshot of event 52 is unreadable"));
    struct whaco_buf got = current(e);
    assert_same_state(&final, &got);
    struct whaco_engine_stats st;
    whaco_engine_stats(e, &st);
    assert_int_equal(st.last_seq, 52);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK); /* rewrites the snapshot of 52 */
    whaco_buf_release(&got);

    e = start(&cfg);
    assert_string_equal(logged, ""); /* the damaged snapshot was replaced */
    got = current(e);
    assert_same_state(&final, &got);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    whaco_buf_release(&got);
    whaco_buf_release(&final);
}

/* With every snapshot damaged, a complete log rebuilds the state from scratch. */
static void recovery__all_snapshots_damaged_with_a_complete_log_replays_it_all(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    config(&cfg, 30LL * 24 * 3600 * 1000); /* retention: every event stays */
    struct whaco_buf final = three_runs(&cfg);
    sqlite3 *db = raw_open();
    assert_int_equal(raw_int(db, "SELECT min(seq) FROM events"), 1);
    corrupt_snapshot(db, 52);
    corrupt_snapshot(db, 42);
    sqlite3_close(db);

    struct whaco_engine *e = start(&cfg);
    assert_non_null(strstr(logged, "snapshot of event 52 is unreadable"));
    assert_non_null(strstr(logged, "snapshot of event 42 is unreadable"));
    struct whaco_buf got = current(e);
    assert_same_state(&final, &got);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    whaco_buf_release(&got);
    whaco_buf_release(&final);
}

static void recovery__no_readable_snapshot_and_a_compacted_log_refuses_to_start(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    config(&cfg, 0);
    struct whaco_buf final = three_runs(&cfg);
    sqlite3 *db = raw_open();
    corrupt_snapshot(db, 52);
    corrupt_snapshot(db, 42);
    sqlite3_close(db);
    expect_start_refused(&cfg, "no snapshot is readable and the log starts at event 43");
    whaco_buf_release(&final);
}

static void recovery__events_missing_from_the_log_refuse_to_start(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    config(&cfg, 0);
    struct whaco_buf final = three_runs(&cfg);
    sqlite3 *db = raw_open();
    corrupt_snapshot(db, 52); /* so the events after 42 must be replayed */
    raw_exec(db, "DELETE FROM events WHERE seq = 45");
    sqlite3_close(db);
    expect_start_refused(&cfg, "events 45 to 45 are missing");

    db = raw_open();
    raw_exec(db, "DELETE FROM events WHERE seq >= 45");
    sqlite3_close(db);
    expect_start_refused(&cfg, "events 45 to 52 are missing");
    whaco_buf_release(&final);
}

/*==== The WAL =============================================================*/

/* In a child that dies without closing: batch 1 (events 1..10), batch 2 (11..20). */
static void two_batches_then_die(void)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct whaco_store *s = NULL;
        if (whaco_store_open(dir, WHACO_SYNC_FULL, &s, NULL, 0) != WHACO_OK)
            _exit(1);
        for (int b = 0; b < 2; b++) {
            if (whaco_store_begin(s) != WHACO_OK)
                _exit(2);
            for (int i = 0; i < 10; i++)
                if (whaco_store_append(s, b * 10 + i, 1, "event-body", 10, NULL) != WHACO_OK)
                    _exit(3);
            if (whaco_store_commit(s) != WHACO_OK)
                _exit(4);
        }
        _exit(0); /* no close: no checkpoint, both batches only in the WAL */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
}

static uint32_t be32(const unsigned char *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The -wal file's size and frame size (24-byte header + a page). */
static void wal_geometry(const char *wal, off_t *size, off_t *frame)
{
    unsigned char hdr[32];
    FILE *f = fopen(wal, "rb");
    assert_non_null(f);
    assert_int_equal(fread(hdr, 1, sizeof hdr, f), sizeof hdr);
    fclose(f);
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    *size = st.st_size;
    *frame = 24 + (off_t)be32(hdr + 8);
    assert_true(*size >= 32 + 2 * *frame);
    assert_int_equal((*size - 32) % *frame, 0);
}

static int count_event(void *ctx, uint64_t seq, int64_t time_ms, uint32_t type, const void *body,
                       size_t len)
{
    uint64_t *n = ctx;
    (void)time_ms, (void)type, (void)body, (void)len;
    assert_int_equal(seq, *n + 1); /* in order, no gap */
    *n = seq;
    return 0;
}

/* The first batch is all there, the second not at all, and numbering goes on. */
static void expect_only_the_first_batch(void)
{
    struct whaco_store *s = NULL;
    char msg[512];
    if (whaco_store_open(dir, WHACO_SYNC_FULL, &s, msg, sizeof msg) != WHACO_OK)
        fail_msg("open after WAL damage: %s", msg);
    assert_int_equal(whaco_store_last_seq(s), 10);
    uint64_t n = 0;
    assert_int_equal(whaco_store_replay(s, 0, count_event, &n), WHACO_OK);
    assert_int_equal(n, 10);
    uint64_t seq = 0;
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_append(s, 99, 1, "after", 5, &seq), WHACO_OK);
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
    assert_int_equal(seq, 11);
    whaco_store_close(s);
}

static void recovery__torn_last_wal_frame_drops_only_that_transaction(void **state)
{
    (void)state;
    char wal[160];
    off_t size, frame;
    two_batches_then_die();
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    wal_geometry(wal, &size, &frame);
    assert_int_equal(truncate(wal, size - frame / 2), 0); /* half a frame reached the disk */
    expect_only_the_first_batch();
}

static void recovery__corrupted_last_wal_frame_drops_only_that_transaction(void **state)
{
    (void)state;
    char wal[160];
    off_t size, frame;
    two_batches_then_die();
    snprintf(wal, sizeof wal, "%s-wal", db_path);
    wal_geometry(wal, &size, &frame);
    FILE *f = fopen(wal, "r+b");
    assert_non_null(f);
    off_t at = size - frame / 2; /* inside the commit frame's page */
    assert_int_equal(fseeko(f, at, SEEK_SET), 0);
    int c = fgetc(f);
    assert_true(c != EOF);
    assert_int_equal(fseeko(f, at, SEEK_SET), 0);
    assert_true(fputc(c ^ 0x5a, f) != EOF);
    assert_int_equal(fclose(f), 0);
    expect_only_the_first_batch();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(recovery__compaction_keeps_two_snapshots, setup, teardown),
        cmocka_unit_test_setup_teardown(
            recovery__damaged_latest_snapshot_falls_back_to_the_one_before, setup, teardown),
        cmocka_unit_test_setup_teardown(
            recovery__all_snapshots_damaged_with_a_complete_log_replays_it_all, setup, teardown),
        cmocka_unit_test_setup_teardown(
            recovery__no_readable_snapshot_and_a_compacted_log_refuses_to_start, setup, teardown),
        cmocka_unit_test_setup_teardown(recovery__events_missing_from_the_log_refuse_to_start,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(recovery__torn_last_wal_frame_drops_only_that_transaction,
                                        setup, teardown),
        cmocka_unit_test_setup_teardown(
            recovery__corrupted_last_wal_frame_drops_only_that_transaction, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

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
#include "fixture.h"

/*==== Engine helpers ======================================================*/

/* What the engine told the operator, all lines joined. */
static char logged[4096];

static void log_line(const char *line)
{
    size_t n = strlen(logged);
    snprintf(logged + n, sizeof logged - n, "%s\n", line);
}

/* The fixture's quiet engine (snapshots only at stop), logging into `logged`. */
static void config(struct whaco_engine_config *cfg, int64_t retention_ms)
{
    fixture_engine_config(cfg);
    cfg->log = log_line;
    cfg->retention_ms = retention_ms;
}

/* Start with an empty `logged`, so it holds what this start said. */
static struct whaco_engine *start(const struct whaco_engine_config *cfg)
{
    logged[0] = '\0';
    return fixture_start(cfg);
}

/* Start, and the state must be exactly `want`. Returns the running engine. */
static struct whaco_engine *start_with_state(const struct whaco_engine_config *cfg,
                                             const struct whaco_buf *want)
{
    struct whaco_engine *e = start(cfg);
    struct whaco_buf got = fixture_saved_state(e);
    assert_int_equal(want->len, got.len);
    assert_memory_equal(want->data, got.data, want->len);
    whaco_buf_release(&got);
    return e;
}

/*
 * Three runs of the engine, each stopped cleanly (a snapshot at each stop):
 * snapshots at events 22, 42 and 52. Returns the final state.
 */
static struct whaco_buf three_runs(const struct whaco_engine_config *cfg)
{
    struct whaco_engine *e = start(cfg);
    fixture_add_salesperson(e, "sp-1", 0.8);
    fixture_add_salesperson(e, "sp-2", 0.4);
    fixture_analyze_generated(e, 1, 20);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    e = start(cfg);
    fixture_analyze_generated(e, 2, 20);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    e = start(cfg);
    fixture_analyze_generated(e, 3, 10);
    struct whaco_buf final = fixture_saved_state(e);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    return final;
}

/*==== Raw damage ==========================================================*/

/* Flip one byte in the middle of the snapshot at seq in the file, as bit rot would. */
static void corrupt_snapshot(int64_t seq)
{
    sqlite3 *db = fixture_raw_open(fixture_db_path);
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
    sqlite3_close(db);
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
    sqlite3 *db = fixture_raw_open(fixture_db_path);
    assert_int_equal(fixture_raw_int(db, "SELECT count(*) FROM snapshots"), 2);
    assert_int_equal(fixture_raw_int(db, "SELECT min(seq) FROM snapshots"), 42);
    assert_int_equal(fixture_raw_int(db, "SELECT max(seq) FROM snapshots"), 52);
    assert_int_equal(fixture_raw_int(db, "SELECT min(seq) FROM events"), 43);
    assert_int_equal(fixture_raw_int(db, "SELECT max(seq) FROM events"), 52);
    sqlite3_close(db);
    whaco_buf_release(&final);
}

static void recovery__damaged_latest_snapshot_falls_back_to_the_one_before(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    config(&cfg, 0);
    struct whaco_buf final = three_runs(&cfg);
    corrupt_snapshot(52);

    struct whaco_engine *e = start_with_state(&cfg, &final);
    assert_non_null(strstr(logged, "snapshot of event 52 is unreadable"));
    struct whaco_engine_stats st;
    whaco_engine_stats(e, &st);
    assert_int_equal(st.last_seq, 52);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK); /* rewrites the snapshot of 52 */

    e = start_with_state(&cfg, &final);
    assert_string_equal(logged, ""); /* the damaged snapshot was replaced */
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    whaco_buf_release(&final);
}

/* With every snapshot damaged, a complete log rebuilds the state from scratch. */
static void recovery__all_snapshots_damaged_with_a_complete_log_replays_it_all(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    config(&cfg, 30LL * 24 * 3600 * 1000); /* retention: every event stays */
    struct whaco_buf final = three_runs(&cfg);
    sqlite3 *db = fixture_raw_open(fixture_db_path);
    assert_int_equal(fixture_raw_int(db, "SELECT min(seq) FROM events"), 1);
    sqlite3_close(db);
    corrupt_snapshot(52);
    corrupt_snapshot(42);

    struct whaco_engine *e = start_with_state(&cfg, &final);
    assert_non_null(strstr(logged, "snapshot of event 52 is unreadable"));
    assert_non_null(strstr(logged, "snapshot of event 42 is unreadable"));
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    whaco_buf_release(&final);
}

static void recovery__no_readable_snapshot_and_a_compacted_log_refuses_to_start(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    config(&cfg, 0);
    struct whaco_buf final = three_runs(&cfg);
    corrupt_snapshot(52);
    corrupt_snapshot(42);
    expect_start_refused(&cfg, "no snapshot is readable and the log starts at event 43");
    whaco_buf_release(&final);
}

static void recovery__events_missing_from_the_log_refuse_to_start(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    config(&cfg, 0);
    struct whaco_buf final = three_runs(&cfg);
    corrupt_snapshot(52); /* so the events after 42 must be replayed */
    sqlite3 *db = fixture_raw_open(fixture_db_path);
    fixture_raw_exec(db, "DELETE FROM events WHERE seq = 45");
    sqlite3_close(db);
    expect_start_refused(&cfg, "events 45 to 45 are missing");

    db = fixture_raw_open(fixture_db_path);
    fixture_raw_exec(db, "DELETE FROM events WHERE seq >= 45");
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
        struct whaco_store_spec spec = fixture_spec(WHACO_SYNC_FULL);
        if (whaco_store_open(&spec, &s, NULL, 0) != WHACO_OK)
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

/*
 * Two batches written by a process that died (two_batches_then_die); wal
 * receives the -wal file's path, size its size and frame its frame size
 * (24-byte header + a page).
 */
static void crashed_wal(char wal[160], off_t *size, off_t *frame)
{
    unsigned char hdr[32];
    two_batches_then_die();
    snprintf(wal, 160, "%s-wal", fixture_db_path);
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

/* The first batch is all there, the second not at all, and numbering goes on. */
static void expect_only_the_first_batch(void)
{
    struct whaco_store *s = fixture_open_store(WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_last_seq(s), 10);
    assert_int_equal(fixture_count_replayed(s, 0), 10);
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
    crashed_wal(wal, &size, &frame);
    assert_int_equal(truncate(wal, size - frame / 2), 0); /* half a frame reached the disk */
    expect_only_the_first_batch();
}

static void recovery__corrupted_last_wal_frame_drops_only_that_transaction(void **state)
{
    (void)state;
    char wal[160];
    off_t size, frame;
    crashed_wal(wal, &size, &frame);
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
        FIXTURE_TEST(recovery__compaction_keeps_two_snapshots),
        FIXTURE_TEST(recovery__damaged_latest_snapshot_falls_back_to_the_one_before),
        FIXTURE_TEST(recovery__all_snapshots_damaged_with_a_complete_log_replays_it_all),
        FIXTURE_TEST(recovery__no_readable_snapshot_and_a_compacted_log_refuses_to_start),
        FIXTURE_TEST(recovery__events_missing_from_the_log_refuse_to_start),
        FIXTURE_TEST(recovery__torn_last_wal_frame_drops_only_that_transaction),
        FIXTURE_TEST(recovery__corrupted_last_wal_frame_drops_only_that_transaction),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * fixture.h: what the cmocka tests that drive a store or an engine on real
 * files share -- a temporary data directory per case, a quiet engine whose
 * view is a saved copy of the state, a few events, and raw SQLite access
 * for the tests that damage or inspect the file behind the store's back.
 * The store is the SQLite backend's, in fixture_dir (whaco/store_sqlite.h
 * names its file).
 *
 * Invariants: every helper fails the current cmocka test (never returns an
 * error) when something it needs does not work; nothing here changes what
 * a test asserts about the product. Differences between tests (another
 * view type, a log callback, a retention) stay in the tests, which set the
 * fields of the config after fixture_engine_config.
 */
#ifndef WHACO_TEST_FIXTURE_H
#define WHACO_TEST_FIXTURE_H

#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>

#include <sqlite3.h>

#include "whaco/engine.h"
#include "whaco/store.h"
#include "whaco/store_sqlite.h"

/*==== The data directory ==================================================*/

/* The current case's directory (/tmp/whaco-<program>-XXXXXX) and its whaco.db. */
extern char fixture_dir[64];
extern char fixture_db_path[128];

/*
 * cmocka setup: make a new empty fixture_dir and set fixture_db_path in it.
 * Returns 0; fails the test if the directory cannot be made.
 */
int fixture_setup(void **state);

/* cmocka teardown: remove fixture_dir and everything in it. 0 on success. */
int fixture_teardown(void **state);

/* The cmocka test fn, run in a fixture_dir of its own (include cmocka.h first). */
#define FIXTURE_TEST(fn) cmocka_unit_test_setup_teardown(fn, fixture_setup, fixture_teardown)

/* Remove fixture_dir and everything in it now (rm -rf); 0 on success. */
int fixture_remove_dir(void);

/*==== The engine ==========================================================*/

/*
 * Defaults, on fixture_dir, with no background events (ticks and snapshots
 * an hour apart, no daily reset) and views made by fixture_publish_saved.
 */
void fixture_engine_config(struct whaco_engine_config *cfg);

/* Put cfg's clock before_ms before the next UTC midnight (and TZ to UTC). */
void fixture_clock_before_midnight(struct whaco_engine_config *cfg, int64_t before_ms);

/* A view that is a struct whaco_buf holding whaco_intel_save of the state. */
void *fixture_publish_saved(const struct whaco_intel *in, void *ctx);

/* Free a view made by fixture_publish_saved. */
void fixture_free_saved(void *view);

/* Start an engine on cfg; fails the test with the engine's message if it cannot. */
struct whaco_engine *fixture_start(const struct whaco_engine_config *cfg);

/* Call the engine with ev; the call and the event must both succeed. Returns the reply. */
struct whaco_engine_reply fixture_call_ok(struct whaco_engine *e, struct whaco_event *ev);

/* Add salesperson id ("Name <id>", natural frequency 0.9) with that skill. */
void fixture_add_salesperson(struct whaco_engine *e, const char *id, double skill);

/*
 * Analyze n customers generated from seed (whaco_gen defaults); each must
 * be accepted and stamped with a time.
 */
void fixture_analyze_generated(struct whaco_engine *e, uint64_t seed, int n);

/* A copy of the engine's current saved state (views by fixture_publish_saved). */
struct whaco_buf fixture_saved_state(struct whaco_engine *e);

/* Requests answered so far, for whaco_engine_request.done. */
struct fixture_counter {
    int done;
};

/* whaco_engine_request.done: one more answer in the struct fixture_counter arg. */
void fixture_count_done(void *arg);

/*==== The store and its file ==============================================*/

/* The spec of the SQLite store in fixture_dir, with this sync and no flags. */
struct whaco_store_spec fixture_spec(enum whaco_sync sync);

/* Open the store in fixture_dir; fails the test with the store's message if it cannot. */
struct whaco_store *fixture_open_store(enum whaco_sync sync);

/*
 * Replay every event after `after` and count them; they must come in
 * order with no gap, the first being after + 1.
 */
uint64_t fixture_count_replayed(struct whaco_store *s, uint64_t after);

/* A plain sqlite3 connection to path (not through the store). */
sqlite3 *fixture_raw_open(const char *path);

/* The first column of the first row of sql, which must return a row. */
int64_t fixture_raw_int(sqlite3 *db, const char *sql);

/* Run sql; fails the test with SQLite's message if it fails. */
void fixture_raw_exec(sqlite3 *db, const char *sql);

/*==== A `whaco` command in-process ========================================*/

/* What a command returned and printed (each NUL-terminated). */
struct fixture_run {
    int status;
    char out[8192];
    char err[2048];
};

/* A `whaco` subcommand's entry point (src/cli/cli.h). */
typedef int (*fixture_cmd)(int argc, char **argv, FILE *out, FILE *err);

/* Run cmd with argv = name, then the NULL-terminated args in ap (at most 14). */
void fixture_run_command(struct fixture_run *r, fixture_cmd cmd, const char *name, va_list ap);

#endif

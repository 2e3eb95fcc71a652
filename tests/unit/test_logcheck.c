/*
 * test_logcheck.c: `whaco log` and `whaco state verify` (src/cli/logcheck.c),
 * driven in-process with tmpfile() streams.
 *
 * Each case builds a data directory the way the engine does -- events
 * applied to a struct whaco_intel, encoded and appended to the store,
 * snapshots of whaco_intel_save -- so the expected output is computed from
 * the same events, not written down. A mismatch is produced by logging an
 * event the snapshot does not contain, and by logging an event that cannot
 * be applied.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/store.h"
#include "cli/cli.h"
#include "fixture.h"

#define T0 1737124200000LL

/*==== Fixtures ============================================================*/

/* A data directory under construction: the store and the engine's state. */
struct builder {
    struct whaco_store *s;
    struct whaco_intel in;
    int64_t t;
};

static void build_open(struct builder *b)
{
    b->s = fixture_open_store(WHACO_SYNC_FULL);
    assert_int_equal(whaco_intel_init(&b->in, NULL, NULL, NULL), WHACO_OK);
    b->t = T0;
}

/* Log ev as the engine would; if apply, also apply it to the state first. */
static void log_event(struct builder *b, struct whaco_event *ev, int apply)
{
    struct whaco_buf buf = WHACO_BUF_INIT;
    ev->time_ms = b->t += 1000;
    if (apply)
        assert_int_equal(whaco_event_apply(&b->in, ev, NULL, NULL), WHACO_OK);
    whaco_event_encode(ev, &buf);
    assert_int_equal(whaco_store_begin(b->s), WHACO_OK);
    assert_int_equal(whaco_store_append(b->s, ev->time_ms, ev->type, buf.data, buf.len, NULL),
                     WHACO_OK);
    assert_int_equal(whaco_store_commit(b->s), WHACO_OK);
    whaco_buf_release(&buf);
}

static void add_salesperson(struct builder *b, const char *id)
{
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
    snprintf(ev.id, sizeof ev.id, "%s", id);
    snprintf(ev.name, sizeof ev.name, "Name of %s", id);
    ev.skill_level = 0.7;
    ev.natural_frequency = 0.9;
    log_event(b, &ev, 1);
}

static void analyze(struct builder *b, const char *customer_id, int i)
{
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_ANALYZE);
    snprintf(ev.customer.id, sizeof ev.customer.id, "%s", customer_id);
    ev.customer.credit_score = 600 + (i * 37) % 240;
    ev.customer.annual_income = 40000 + (i * 7919) % 90000;
    ev.customer.vehicle_price = 20000 + (i * 104729) % 30000;
    ev.customer.down_payment = 1000 + (i * 13) % 3000;
    ev.customer.trade_value = (i * 611) % 5000;
    ev.customer.visit_count = 1 + i % 4;
    ev.customer.time_on_lot = 15 + (i * 17) % 100;
    ev.customer.engagement = 0.1 + (i % 8) / 10.0;
    log_event(b, &ev, 1);
}

static void deal_closed(struct builder *b, const char *sp, const char *deal, int apply)
{
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
    snprintf(ev.id, sizeof ev.id, "%s", sp);
    snprintf(ev.deal_id, sizeof ev.deal_id, "%s", deal);
    log_event(b, &ev, apply);
}

static void snapshot(struct builder *b)
{
    struct whaco_buf buf = WHACO_BUF_INIT;
    whaco_intel_save(&b->in, &buf);
    assert_int_equal(
        whaco_store_put_snapshot(b->s, whaco_store_last_seq(b->s), b->t, buf.data, buf.len),
        WHACO_OK);
    whaco_buf_release(&buf);
}

static void build_close(struct builder *b)
{
    whaco_store_close(b->s);
    whaco_intel_release(&b->in);
}

/*==== Running a command ===================================================*/

/* Run `whaco <cmd> <args...>` (NULL-terminated) in-process. */
static void run(struct fixture_run *r, const char *cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    fixture_run_command(r, !strcmp(cmd, "log") ? whaco_cmd_log : whaco_cmd_state, cmd, ap);
    va_end(ap);
}

/*==== whaco log ===========================================================*/

static void logcheck__log_prints_every_event_with_its_ids(void **state)
{
    (void)state;
    struct builder b;
    build_open(&b);
    add_salesperson(&b, "sp-\"quoted\\");
    analyze(&b, "c-1", 1);
    deal_closed(&b, "sp-\"quoted\\", "deal-\xc3\xa9t\xc3\xa9", 1);
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_TICK);
    log_event(&b, &ev, 1);
    whaco_event_init(&ev, WHACO_EV_REMOVE_SALESPERSON);
    snprintf(ev.id, sizeof ev.id, "sp-\"quoted\\");
    log_event(&b, &ev, 1);
    /* A walk-in whose credit and engagement are not known yet. */
    whaco_event_init(&ev, WHACO_EV_ANALYZE);
    snprintf(ev.customer.id, sizeof ev.customer.id, "c-2");
    ev.customer.vehicle_price = 30000;
    ev.customer.visit_count = 1;
    ev.customer.missing = WHACO_FIELD_CREDIT_SCORE | WHACO_FIELD_ENGAGEMENT;
    log_event(&b, &ev, 1);
    build_close(&b);

    struct fixture_run r;
    run(&r, "log", "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 0);
    char want[2048];
    snprintf(
        want, sizeof want,
        "{\"seq\":1,\"timeMs\":%lld,\"type\":\"add_salesperson\",\"id\":\"sp-\\\"quoted\\\\\"}\n"
        "{\"seq\":2,\"timeMs\":%lld,\"type\":\"analyze\",\"customerId\":\"c-1\"}\n"
        "{\"seq\":3,\"timeMs\":%lld,\"type\":\"deal_closed\",\"salespersonId\":"
        "\"sp-\\\"quoted\\\\\",\"dealId\":\"deal-\xc3\xa9t\xc3\xa9\"}\n"
        "{\"seq\":4,\"timeMs\":%lld,\"type\":\"tick\"}\n"
        "{\"seq\":5,\"timeMs\":%lld,\"type\":\"remove_salesperson\",\"id\":"
        "\"sp-\\\"quoted\\\\\"}\n"
        "{\"seq\":6,\"timeMs\":%lld,\"type\":\"analyze\",\"customerId\":\"c-2\","
        "\"missingFields\":[\"creditScore\",\"engagement\"]}\n",
        T0 + 1000, T0 + 2000, T0 + 3000, T0 + 4000, T0 + 5000, T0 + 6000);
    assert_string_equal(r.out, want);

    /* --after SEQ: only what follows. */
    run(&r, "log", "--data", fixture_dir, "--after", "3", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, strstr(want, "{\"seq\":4"));
    run(&r, "log", "--data", fixture_dir, "--after", "6", NULL);
    assert_int_equal(r.status, 0);
    assert_string_equal(r.out, "");
}

/* An experiment_settings event: on, with its rules and seed; off, just that. */
static void logcheck__log_prints_an_experiments_rules_and_seed(void **state)
{
    (void)state;
    struct builder b;
    struct whaco_event ev;
    build_open(&b);
    whaco_event_init(&ev, WHACO_EV_EXPERIMENT_SETTINGS);
    ev.experiment.enabled = true;
    ev.experiment.rule[0] = WHACO_RULE_UP_ROTATION;
    ev.experiment.rule[1] = WHACO_RULE_NETWORK;
    ev.experiment.seed = 1795827749783;
    log_event(&b, &ev, 1);
    whaco_event_init(&ev, WHACO_EV_EXPERIMENT_SETTINGS);
    log_event(&b, &ev, 1);
    build_close(&b);

    struct fixture_run r;
    char want[512];
    run(&r, "log", "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 0);
    snprintf(want, sizeof want,
             "{\"seq\":1,\"timeMs\":%lld,\"type\":\"experiment_settings\",\"enabled\":true,"
             "\"assignmentA\":\"up-rotation\",\"assignmentB\":\"network\",\"seed\":1795827749783}\n"
             "{\"seq\":2,\"timeMs\":%lld,\"type\":\"experiment_settings\",\"enabled\":false}\n",
             T0 + 1000, T0 + 2000);
    assert_string_equal(r.out, want);
}

static void logcheck__log_refuses_bad_arguments_and_never_creates_a_database(void **state)
{
    (void)state;
    struct fixture_run r;
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none", fixture_dir);
    run(&r, "log", "--data", missing, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "No such file"));
    struct stat st;
    assert_int_not_equal(stat(missing, &st), 0); /* not even the directory */

    run(&r, "log", "--data", fixture_dir, "--after", "-1", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "--after"));
    run(&r, "log", "--data", fixture_dir, "--after", "12x", NULL);
    assert_int_equal(r.status, 2);
    run(&r, "log", "--bogus", "x", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage"));
}

/*==== whaco state verify ==================================================*/

/* A log of 40 events with a snapshot at event 25: the engine's normal shape. */
static void build_normal(struct builder *b)
{
    build_open(b);
    add_salesperson(b, "sp-1");
    add_salesperson(b, "sp-2");
    for (int i = 0; i < 23; i++) {
        char id[16];
        snprintf(id, sizeof id, "c-%d", i);
        analyze(b, id, i);
    }
    snapshot(b);
    for (int i = 23; i < 36; i++) {
        char id[16];
        snprintf(id, sizeof id, "c-%d", i);
        analyze(b, id, i);
    }
    deal_closed(b, "sp-1", "d-1", 1);
    deal_closed(b, "sp-2", "d-2", 1);
}

static void logcheck__verify_says_yes_for_a_consistent_directory(void **state)
{
    (void)state;
    struct builder b;
    build_normal(&b);
    build_close(&b);
    struct fixture_run r;
    run(&r, "state", "verify", "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "events: 40 (seq 1 to 40)\n"));
    assert_non_null(strstr(r.out, "last seq: 40\n"));
    assert_non_null(strstr(r.out, "snapshots: 1 (latest at seq 25)\n"));
    assert_non_null(strstr(r.out, "start-up state: loads (2 salespeople, 36 customers"));
    assert_non_null(strstr(r.out, "snapshot at seq 25 equals a replay of the log up to it: yes\n"));
    assert_non_null(strstr(r.out, "state equals a full replay of the log: yes\n"));
}

/* An event after the snapshot that the snapshot already contains: replayed twice. */
static void logcheck__verify_catches_a_snapshot_that_disagrees_with_the_log(void **state)
{
    (void)state;
    struct builder b;
    build_normal(&b);
    /* The state moves on without the log knowing, then is snapshotted. */
    struct whaco_member_spec ghost = {"sp-ghost", "Ghost", 0.5, 0.9, 0.0, 0};
    assert_int_equal(whaco_intel_add_salesperson(&b.in, &ghost, b.t, NULL), WHACO_OK);
    analyze(&b, "c-after", 99);
    snapshot(&b);
    build_close(&b);
    struct fixture_run r;
    run(&r, "state", "verify", "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.out, "snapshot at seq 41 equals a replay of the log up to it: NO\n"));
    assert_non_null(strstr(r.out, "state equals a full replay of the log: NO\n"));
}

/* A logged event that cannot be applied: the server would refuse to start. */
static void logcheck__verify_catches_an_event_that_does_not_replay(void **state)
{
    (void)state;
    struct builder b;
    build_normal(&b);
    deal_closed(&b, "sp-nobody", "d-9", 0);
    build_close(&b);
    struct fixture_run r;
    run(&r, "state", "verify", "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "could not start"));
    assert_non_null(strstr(r.err, "event 41"));
}

/* A snapshot at seq 0 is an imported state: the full replay starts from it. */
static void logcheck__verify_replays_an_imported_state_from_its_snapshot(void **state)
{
    (void)state;
    struct builder b;
    build_open(&b);
    struct whaco_member_spec m = {"sp-imported", "Imported", 0.8, 0.9, 1.0, 1};
    assert_int_equal(whaco_intel_add_salesperson(&b.in, &m, b.t, NULL), WHACO_OK);
    snapshot(&b); /* at seq 0, like whaco_engine_import into a new directory */
    analyze(&b, "c-1", 1);
    deal_closed(&b, "sp-imported", "d-1", 1);
    struct fixture_run r;
    whaco_store_close(b.s);
    run(&r, "state", "verify", "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "state equals a full replay of the log: yes\n"));
    /* A later snapshot: the import snapshot is no longer the latest, still the base. */
    b.s = fixture_open_store(WHACO_SYNC_FULL);
    snapshot(&b);
    analyze(&b, "c-2", 2);
    build_close(&b);
    run(&r, "state", "verify", "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "snapshots: 2 (latest at seq 2)\n"));
    assert_non_null(strstr(r.out, "snapshot at seq 2 equals a replay of the log up to it: yes\n"));
    assert_non_null(strstr(r.out, "state equals a full replay of the log: yes\n"));
}

/* Compacted: the comparison cannot be made, and verify says so instead of "yes". */
static void logcheck__verify_does_not_claim_a_full_replay_of_a_compacted_log(void **state)
{
    (void)state;
    struct builder b;
    build_normal(&b);
    assert_int_equal(whaco_store_compact(b.s, 1, INT64_MAX, NULL), WHACO_OK);
    build_close(&b);
    struct fixture_run r;
    run(&r, "state", "verify", "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "events: 15 (seq 26 to 40)\n"));
    assert_non_null(strstr(r.out, "state equals a full replay of the log: not checked"));
    assert_null(strstr(r.out, ": yes"));
}

static void logcheck__verify_refuses_a_missing_directory(void **state)
{
    (void)state;
    struct fixture_run r;
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none", fixture_dir);
    run(&r, "state", "verify", "--data", missing, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "No such file"));
    run(&r, "state", "verify", "--data", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(logcheck__log_prints_every_event_with_its_ids),
        FIXTURE_TEST(logcheck__log_prints_an_experiments_rules_and_seed),
        FIXTURE_TEST(logcheck__log_refuses_bad_arguments_and_never_creates_a_database),
        FIXTURE_TEST(logcheck__verify_says_yes_for_a_consistent_directory),
        FIXTURE_TEST(logcheck__verify_catches_a_snapshot_that_disagrees_with_the_log),
        FIXTURE_TEST(logcheck__verify_catches_an_event_that_does_not_replay),
        FIXTURE_TEST(logcheck__verify_replays_an_imported_state_from_its_snapshot),
        FIXTURE_TEST(logcheck__verify_does_not_claim_a_full_replay_of_a_compacted_log),
        FIXTURE_TEST(logcheck__verify_refuses_a_missing_directory),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

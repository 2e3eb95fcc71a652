/*
 * test_engine.c: the engine (whaco/engine.h) on a real SQLite store in a
 * temporary directory: events in order, group commit, requests submitted
 * together, restart equality, events another process appends (picked up,
 * and left out of the engine's snapshots), background events, refusal of
 * a damaged data file.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/gen.h"
#include "fixture.h"

static void engine__events_persist_across_restart(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    fixture_engine_config(&cfg);
    struct whaco_engine *e = fixture_start(&cfg);
    fixture_add_salesperson(e, "sp-1", 0.9);
    fixture_add_salesperson(e, "sp-2", 0.5);
    fixture_analyze_generated(e, 1, 50);
    whaco_engine_stats(e, &st);
    assert_int_equal(st.events[WHACO_EV_ANALYZE], 50);
    assert_int_equal(st.events[WHACO_EV_ADD_SALESPERSON], 2);
    assert_int_equal(st.last_seq, 52);
    struct whaco_buf before = fixture_saved_state(e);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);

    e = fixture_start(&cfg);
    struct whaco_buf after = fixture_saved_state(e);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    whaco_engine_stats(e, &st);
    assert_int_equal(st.last_seq, 52);
    /* Numbering continues after a restart. */
    fixture_analyze_generated(e, 2, 1);
    whaco_engine_stats(e, &st);
    assert_int_equal(st.last_seq, 53);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    whaco_buf_release(&before);
    whaco_buf_release(&after);
}

static void engine__rejected_events_are_not_logged(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    struct whaco_event ev;
    struct whaco_engine_reply r;
    fixture_engine_config(&cfg);
    struct whaco_engine *e = fixture_start(&cfg);
    whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
    snprintf(ev.id, sizeof ev.id, "nobody");
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
    assert_int_equal(r.rc, WHACO_E_NOT_FOUND);
    whaco_event_init(&ev, WHACO_EV_ANALYZE);
    struct whaco_customer c = {"x", 900, 1, 1, 1, 1, 1, 1, 0.5, 0};
    ev.customer = c;
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
    assert_int_equal(r.rc, WHACO_E_CREDIT_SCORE_RANGE);
    assert_string_equal(r.field, "creditScore");
    whaco_engine_stats(e, &st);
    assert_int_equal(st.last_seq, 0);
    assert_int_equal(st.rejected, 2);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

/*
 * An event whose type is not in the table (a caller's bug) is refused with
 * WHACO_E_INVAL before it is applied or logged, and counted as rejected;
 * the applied counters have one slot per type of the table.
 */
static void engine__an_unknown_event_type_is_refused(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    struct whaco_event ev;
    struct whaco_engine_reply r;
    fixture_engine_config(&cfg);
    struct whaco_engine *e = fixture_start(&cfg);
    fixture_add_salesperson(e, "sp-1", 0.9);
    whaco_event_init(&ev, WHACO_EV_RESET);
    ev.type = WHACO_EV_COUNT + 1;
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
    assert_int_equal(r.rc, WHACO_E_INVAL);
    whaco_engine_stats(e, &st);
    assert_int_equal(st.last_seq, 1);
    assert_int_equal(st.rejected, 1);
    assert_int_equal(sizeof st.events / sizeof st.events[0], WHACO_EV_COUNT + 1);
    for (uint32_t t = 1; t <= WHACO_EV_COUNT; t++)
        assert_int_equal(st.events[t], t == WHACO_EV_ADD_SALESPERSON ? 1 : 0);
    assert_int_equal(st.events[0], 0);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

static void engine__concurrent_requests_share_commits(void **state)
{
    (void)state;
    enum { N = 400 };
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    struct fixture_counter cnt = {0};
    static struct whaco_engine_request reqs[N];
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    fixture_engine_config(&cfg);
    struct whaco_engine *e = fixture_start(&cfg);
    whaco_rng_seed(&rng, 3);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < N; i++) {
        memset(&reqs[i], 0, sizeof reqs[i]);
        whaco_event_init(&reqs[i].event, WHACO_EV_ANALYZE);
        whaco_gen_customer(&rng, &gp, &reqs[i].event.customer, NULL);
        reqs[i].done = fixture_count_done;
        reqs[i].arg = &cnt;
        assert_int_equal(whaco_engine_submit(e, &reqs[i]), WHACO_OK);
    }
    struct timespec ms = {0, 1000000};
    for (int waited = 0; __atomic_load_n(&cnt.done, __ATOMIC_SEQ_CST) < N && waited < 20000;
         waited++)
        nanosleep(&ms, NULL);
    assert_int_equal(cnt.done, N);
    for (int i = 0; i < N; i++)
        assert_int_equal(reqs[i].reply.rc, WHACO_OK);
    whaco_engine_stats(e, &st);
    assert_int_equal(st.events[WHACO_EV_ANALYZE], N);
    assert_int_equal(st.last_seq, N);
    print_message("%d requests in %llu commits\n", N, (unsigned long long)st.batches);
    /* Queued together, they were committed in far fewer transactions. */
    assert_true(st.batches < N / 2);
    /* Times never go backwards, in submission order. */
    for (int i = 1; i < N; i++)
        assert_true(reqs[i].event.time_ms >= reqs[i - 1].event.time_ms);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

/* Requests queued with whaco_engine_submit_all are one batch: one commit, in order. */
static void engine__requests_submitted_together_are_one_transaction(void **state)
{
    (void)state;
    enum { N = 40 };
    struct whaco_engine_config cfg;
    struct whaco_engine_stats before, after;
    struct fixture_counter cnt = {0};
    static struct whaco_engine_request reqs[N];
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    fixture_engine_config(&cfg);
    struct whaco_engine *e = fixture_start(&cfg);
    whaco_rng_seed(&rng, 4);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < N; i++) {
        memset(&reqs[i], 0, sizeof reqs[i]);
        whaco_event_init(&reqs[i].event, WHACO_EV_ANALYZE);
        whaco_gen_customer(&rng, &gp, &reqs[i].event.customer, NULL);
        reqs[i].done = fixture_count_done;
        reqs[i].arg = &cnt;
    }
    reqs[7].event.customer.credit_score = 9000; /* refused alone */
    whaco_engine_stats(e, &before);
    assert_int_equal(whaco_engine_submit_all(e, reqs, 0), WHACO_OK);
    assert_int_equal(whaco_engine_submit_all(e, reqs, N), WHACO_OK);
    struct timespec ms = {0, 1000000};
    for (int waited = 0; __atomic_load_n(&cnt.done, __ATOMIC_SEQ_CST) < N && waited < 20000;
         waited++)
        nanosleep(&ms, NULL);
    assert_int_equal(cnt.done, N);
    whaco_engine_stats(e, &after);
    assert_int_equal(after.batches, before.batches + 1);
    assert_int_equal(after.last_seq, N - 1);
    assert_int_equal(after.rejected, 1);
    for (int i = 0; i < N; i++)
        assert_int_equal(reqs[i].reply.rc, i == 7 ? WHACO_E_CREDIT_SCORE_RANGE : WHACO_OK);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

/* Some generated walk-ins as analyze events, for another process to append. */
static void generated_events(struct whaco_event *evs, int n, uint64_t seed)
{
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    whaco_rng_seed(&rng, seed);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < n; i++) {
        whaco_event_init(&evs[i], WHACO_EV_ANALYZE);
        whaco_gen_customer(&rng, &gp, &evs[i].customer, NULL);
    }
}

static uint64_t customers_in(const struct whaco_buf *saved)
{
    struct whaco_intel in;
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_load(&in, saved->data, saved->len), WHACO_OK);
    uint64_t n = in.seg.processed;
    whaco_intel_release(&in);
    return n;
}

/*
 * Events another process appends (whaco_engine_apply_offline, as `whaco
 * outcomes import` does) while the engine runs: the idle engine reloads
 * within retry_ms, its own events follow them in the log, and a restart
 * gives the state it had.
 */
static void engine__events_appended_by_another_process_are_picked_up(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    struct whaco_event evs[4];
    struct whaco_engine_reply replies[4];
    char msg[512];
    fixture_engine_config(&cfg);
    cfg.retry_ms = 20;
    struct whaco_engine *e = fixture_start(&cfg);
    fixture_add_salesperson(e, "sp-1", 0.9);
    fixture_analyze_generated(e, 1, 5);
    generated_events(evs, 4, 9);
    evs[2].customer.engagement = 7; /* refused, not logged */
    struct whaco_store_spec spec = fixture_spec(WHACO_SYNC_FULL);
    int64_t now = (int64_t)time(NULL) * 1000 + 1000;
    assert_int_equal(whaco_engine_apply_offline(&spec, evs, replies, 4, now, msg, sizeof msg),
                     WHACO_OK);
    for (int i = 0; i < 4; i++) {
        assert_int_equal(replies[i].rc, i == 2 ? WHACO_E_ENGAGEMENT_RANGE : WHACO_OK);
        assert_true(replies[i].time_ms >= now);
    }
    struct timespec ms = {0, 1000000};
    whaco_engine_stats(e, &st);
    for (int waited = 0; st.last_seq < 9 && waited < 5000; waited++) {
        nanosleep(&ms, NULL);
        whaco_engine_stats(e, &st);
    }
    assert_int_equal(st.last_seq, 9);
    struct whaco_buf view = fixture_saved_state(e);
    assert_int_equal(customers_in(&view), 8);
    whaco_buf_release(&view);
    /* The engine's own next event follows them, never before their times. */
    struct whaco_event ev;
    generated_events(&ev, 1, 11);
    assert_true(fixture_call_ok(e, &ev).time_ms >= replies[3].time_ms);
    whaco_engine_stats(e, &st);
    assert_int_equal(st.last_seq, 10);
    struct whaco_buf before = fixture_saved_state(e);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    e = fixture_start(&cfg);
    struct whaco_buf after = fixture_saved_state(e);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    assert_int_equal(customers_in(&after), 9);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    whaco_buf_release(&before);
    whaco_buf_release(&after);
}

/*
 * An engine that has not looked yet (no batch, no idle check) when it stops:
 * its final snapshot covers the events it applied, not the other process's,
 * which the next start replays.
 */
static void engine__a_snapshot_covers_only_what_the_engine_applied(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_event evs[3];
    struct whaco_engine_reply replies[3];
    char msg[512];
    fixture_engine_config(&cfg);
    cfg.retry_ms = 3600 * 1000; /* no idle check during the test */
    struct whaco_engine *e = fixture_start(&cfg);
    fixture_analyze_generated(e, 1, 5);
    generated_events(evs, 3, 9);
    struct whaco_store_spec spec = fixture_spec(WHACO_SYNC_FULL);
    assert_int_equal(whaco_engine_apply_offline(&spec, evs, replies, 3, (int64_t)time(NULL) * 1000,
                                                msg, sizeof msg),
                     WHACO_OK);
    struct whaco_buf view = fixture_saved_state(e);
    assert_int_equal(customers_in(&view), 5); /* not seen yet */
    whaco_buf_release(&view);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    e = fixture_start(&cfg);
    view = fixture_saved_state(e);
    assert_int_equal(customers_in(&view), 8);
    whaco_buf_release(&view);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);

    /* A missing store is not created when the caller says it must exist. */
    char missing[128];
    snprintf(missing, sizeof missing, "%s/none", fixture_dir);
    spec.location = missing;
    spec.flags = WHACO_STORE_MUST_EXIST;
    assert_int_equal(whaco_engine_apply_offline(&spec, evs, replies, 3, 0, msg, sizeof msg),
                     WHACO_E_NOT_FOUND);
    assert_non_null(strstr(msg, "No such file"));
}

static void engine__background_ticks_and_midnight(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    fixture_engine_config(&cfg);
    cfg.tick_ms = 50;
    cfg.snapshot_ms = 100;
    cfg.daily_reset = true;
    fixture_clock_before_midnight(&cfg, 300);
    struct whaco_engine *e = fixture_start(&cfg);
    fixture_add_salesperson(e, "sp-1", 0.7);
    struct timespec wait = {0, 700 * 1000000L};
    nanosleep(&wait, NULL);
    whaco_engine_stats(e, &st);
    print_message("ticks %llu, daily resets %llu, snapshots %llu\n",
                  (unsigned long long)st.events[WHACO_EV_TICK],
                  (unsigned long long)st.events[WHACO_EV_DAILY_RESET],
                  (unsigned long long)st.snapshots);
    assert_true(st.events[WHACO_EV_TICK] >= 5);
    assert_int_equal(st.events[WHACO_EV_DAILY_RESET], 1);
    assert_true(st.snapshots >= 1);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

static void engine__refuses_a_damaged_data_file(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine *e = NULL;
    const char *path = fixture_db_path;
    char msg[512], junk[4096], back[4096];
    fixture_engine_config(&cfg);
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = (char)(i * 7 + 3);
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(junk, 1, sizeof junk, f), sizeof junk);
    fclose(f);
    assert_true(whaco_engine_start(&cfg, &e, msg, sizeof msg) < 0);
    assert_null(e);
    assert_non_null(strstr(msg, "whaco.db"));
    f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fread(back, 1, sizeof back, f), sizeof back);
    fclose(f);
    assert_memory_equal(junk, back, sizeof junk);
}

/* A publish that returns NULL: out of memory for the first view. */
static void *publish_fails(const struct whaco_intel *in, void *ctx)
{
    (void)in;
    (void)ctx;
    return NULL;
}

/* No first view: the start is refused, and everything it made is freed (ASan checks). */
static void engine__refuses_to_start_without_a_first_view(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine *e = (struct whaco_engine *)&e; /* must be overwritten */
    char msg[512];
    fixture_engine_config(&cfg);
    cfg.publish = publish_fails;
    assert_int_equal(whaco_engine_start(&cfg, &e, msg, sizeof msg), WHACO_E_NOMEM);
    assert_null(e);
    assert_non_null(strstr(msg, "cannot build the first read view"));
    /* The directory is usable afterwards: nothing was left open or locked. */
    fixture_engine_config(&cfg);
    e = fixture_start(&cfg);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

/* The experiment the engine's state runs now (loaded from its saved state). */
static struct whaco_experiment running(struct whaco_engine *e)
{
    struct whaco_intel in;
    struct whaco_buf b = fixture_saved_state(e);
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_load(&in, b.data, b.len), WHACO_OK);
    struct whaco_experiment x = in.exp;
    whaco_intel_release(&in);
    whaco_buf_release(&b);
    return x;
}

/* Start on cfg, and return the engine's last sequence number and its experiment; stop. */
static uint64_t start_with(const struct whaco_engine_config *cfg, struct whaco_experiment *x)
{
    struct whaco_engine_stats st;
    struct whaco_engine *e = fixture_start(cfg);
    whaco_engine_stats(e, &st);
    *x = running(e);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    return st.last_seq;
}

/*
 * The experiment setting, like the floor's: a state running another gets an
 * EXPERIMENT_SETTINGS event at start; without a seed it is the start's
 * time, and a restart with the same rules keeps the experiment (and its
 * seed) going; an impossible setting fails the start and names it.
 */
static void engine__the_experiment_setting_is_an_event_at_start(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_experiment x;
    char why[256];
    fixture_engine_config(&cfg);
    assert_int_equal(start_with(&cfg, &x), 0); /* off, as the state: nothing logged */
    assert_false(x.cfg.enabled);

    assert_int_equal(
        whaco_experiment_parse("up-rotation,network", &cfg.experiment, why, sizeof why), WHACO_OK);
    assert_int_equal(start_with(&cfg, &x), 1);
    assert_true(x.cfg.enabled);
    assert_int_equal(x.cfg.rule[0], WHACO_RULE_UP_ROTATION);
    assert_int_equal(x.cfg.rule[1], WHACO_RULE_NETWORK);
    assert_true(x.cfg.seed > 1700000000000u); /* the start's time, in ms */
    assert_true((int64_t)x.cfg.seed <= x.since_ms && x.since_ms - (int64_t)x.cfg.seed < 1000);
    uint64_t seed = x.cfg.seed;
    assert_int_equal(start_with(&cfg, &x), 1); /* the same rules: it goes on */
    assert_int_equal(x.cfg.seed, seed);
    cfg.experiment.seed = seed; /* given, and the same: still nothing */
    assert_int_equal(start_with(&cfg, &x), 1);
    cfg.experiment.seed = 42; /* another seed: a new experiment */
    assert_int_equal(start_with(&cfg, &x), 2);
    assert_int_equal(x.cfg.seed, 42);
    assert_int_equal(whaco_experiment_parse("least-busy,network", &cfg.experiment, why, sizeof why),
                     WHACO_OK);
    assert_int_equal(start_with(&cfg, &x), 3);
    assert_int_equal(x.cfg.rule[0], WHACO_RULE_LEAST_BUSY);
    memset(&cfg.experiment, 0, sizeof cfg.experiment);
    assert_int_equal(start_with(&cfg, &x), 4);
    assert_false(x.cfg.enabled);

    cfg.experiment.enabled = true;
    cfg.experiment.rule[0] = cfg.experiment.rule[1] = WHACO_RULE_NETWORK;
    struct whaco_engine *e = (struct whaco_engine *)&e;
    char msg[512];
    assert_int_equal(whaco_engine_start(&cfg, &e, msg, sizeof msg), WHACO_E_CONFIG);
    assert_null(e);
    assert_string_equal(msg, "invalid setting experiment");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(engine__events_persist_across_restart),
        FIXTURE_TEST(engine__rejected_events_are_not_logged),
        FIXTURE_TEST(engine__an_unknown_event_type_is_refused),
        FIXTURE_TEST(engine__concurrent_requests_share_commits),
        FIXTURE_TEST(engine__requests_submitted_together_are_one_transaction),
        FIXTURE_TEST(engine__events_appended_by_another_process_are_picked_up),
        FIXTURE_TEST(engine__a_snapshot_covers_only_what_the_engine_applied),
        FIXTURE_TEST(engine__background_ticks_and_midnight),
        FIXTURE_TEST(engine__refuses_a_damaged_data_file),
        FIXTURE_TEST(engine__refuses_to_start_without_a_first_view),
        FIXTURE_TEST(engine__the_experiment_setting_is_an_event_at_start),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

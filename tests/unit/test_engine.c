/*
 * test_engine.c: the engine (whaco/engine.h) on a real SQLite store in a
 * temporary directory: events in order, group commit, restart equality,
 * background events, refusal of a damaged data file.
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

/* The test's view: a saved copy of the state. */
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

static char dir[64];

static void config(struct whaco_engine_config *cfg)
{
    whaco_engine_config_default(cfg);
    cfg->data_dir = dir;
    cfg->publish = publish_saved;
    cfg->view_free = free_saved;
    cfg->tick_ms = 3600 * 1000; /* no background events unless a test asks */
    cfg->snapshot_ms = 3600 * 1000;
    cfg->daily_reset = false;
}

static int setup(void **state)
{
    (void)state;
    snprintf(dir, sizeof dir, "/tmp/whaco-engine-XXXXXX");
    assert_non_null(mkdtemp(dir));
    return 0;
}

static int teardown(void **state)
{
    char cmd[128];
    (void)state;
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd) == 0 ? 0 : -1;
}

static struct whaco_engine *start(const struct whaco_engine_config *cfg)
{
    struct whaco_engine *e = NULL;
    char msg[512];
    int rc = whaco_engine_start(cfg, &e, msg, sizeof msg);
    if (rc != WHACO_OK)
        fail_msg("engine start: %s", msg);
    return e;
}

static void add(struct whaco_engine *e, const char *id, double skill)
{
    struct whaco_event ev;
    struct whaco_engine_reply r;
    whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
    snprintf(ev.id, sizeof ev.id, "%s", id);
    snprintf(ev.name, sizeof ev.name, "Name %s", id);
    ev.skill_level = skill;
    ev.natural_frequency = 0.9;
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
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
        struct whaco_engine_reply r;
        whaco_event_init(&ev, WHACO_EV_ANALYZE);
        whaco_gen_customer(&rng, &gp, &ev.customer, NULL);
        assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
        assert_int_equal(r.rc, WHACO_OK);
        assert_true(r.time_ms > 0);
    }
}

/* A copy of the engine's current saved state. */
static struct whaco_buf current(struct whaco_engine *e)
{
    void *h;
    struct whaco_buf *v = whaco_engine_view_acquire(e, &h), copy = WHACO_BUF_INIT;
    whaco_buf_put(&copy, v->data, v->len);
    whaco_engine_view_release(e, h);
    return copy;
}

static void engine__events_persist_across_restart(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    config(&cfg);
    struct whaco_engine *e = start(&cfg);
    add(e, "sp-1", 0.9);
    add(e, "sp-2", 0.5);
    analyze_some(e, 1, 50);
    whaco_engine_stats(e, &st);
    assert_int_equal(st.events[WHACO_EV_ANALYZE], 50);
    assert_int_equal(st.events[WHACO_EV_ADD_SALESPERSON], 2);
    assert_int_equal(st.last_seq, 52);
    struct whaco_buf before = current(e);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);

    e = start(&cfg);
    struct whaco_buf after = current(e);
    assert_int_equal(before.len, after.len);
    assert_memory_equal(before.data, after.data, before.len);
    whaco_engine_stats(e, &st);
    assert_int_equal(st.last_seq, 52);
    /* Numbering continues after a restart. */
    analyze_some(e, 2, 1);
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
    config(&cfg);
    struct whaco_engine *e = start(&cfg);
    whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
    snprintf(ev.id, sizeof ev.id, "nobody");
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
    assert_int_equal(r.rc, WHACO_E_NOT_FOUND);
    whaco_event_init(&ev, WHACO_EV_ANALYZE);
    struct whaco_customer c = {"x", 900, 1, 1, 1, 1, 1, 1, 0.5};
    ev.customer = c;
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
    assert_int_equal(r.rc, WHACO_E_CREDIT_SCORE_RANGE);
    assert_string_equal(r.field, "creditScore");
    whaco_engine_stats(e, &st);
    assert_int_equal(st.last_seq, 0);
    assert_int_equal(st.rejected, 2);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
}

struct counter {
    int done;
};

static void count_done(void *arg)
{
    __atomic_fetch_add(&((struct counter *)arg)->done, 1, __ATOMIC_SEQ_CST);
}

static void engine__concurrent_requests_share_commits(void **state)
{
    (void)state;
    enum { N = 400 };
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    struct counter cnt = {0};
    static struct whaco_engine_request reqs[N];
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    config(&cfg);
    struct whaco_engine *e = start(&cfg);
    whaco_rng_seed(&rng, 3);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < N; i++) {
        memset(&reqs[i], 0, sizeof reqs[i]);
        whaco_event_init(&reqs[i].event, WHACO_EV_ANALYZE);
        whaco_gen_customer(&rng, &gp, &reqs[i].event.customer, NULL);
        reqs[i].done = count_done;
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

static void engine__background_ticks_and_midnight(void **state)
{
    (void)state;
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    config(&cfg);
    cfg.tick_ms = 50;
    cfg.snapshot_ms = 100;
    cfg.daily_reset = true;
    setenv("TZ", "UTC", 1);
    tzset();
    /* Put the engine clock 300 ms before the next UTC midnight. */
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t real = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    cfg.clock_offset_ms = (real / 86400000 + 1) * 86400000 - real - 300;
    struct whaco_engine *e = start(&cfg);
    add(e, "sp-1", 0.7);
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
    char path[128], msg[512], junk[4096], back[4096];
    config(&cfg);
    snprintf(path, sizeof path, "%s/whaco.db", dir);
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

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(engine__events_persist_across_restart, setup, teardown),
        cmocka_unit_test_setup_teardown(engine__rejected_events_are_not_logged, setup, teardown),
        cmocka_unit_test_setup_teardown(engine__concurrent_requests_share_commits, setup, teardown),
        cmocka_unit_test_setup_teardown(engine__background_ticks_and_midnight, setup, teardown),
        cmocka_unit_test_setup_teardown(engine__refuses_a_damaged_data_file, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

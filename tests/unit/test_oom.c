/*
 * test_oom.c: memory fault injection (issue #7). For each operation of the
 * core and the decoders, fail its first allocation, then its second, and
 * so on (whaco_alloc_fail_after), until a run needs no more allocations
 * than it was allowed. Every failing run must give a clean error
 * (WHACO_E_NOMEM, or the documented equivalent: a NULL document, a 503
 * OUT_OF_MEMORY request error, ENOMEM from the CSV reader), must not crash,
 * must leave the allocation counters where they were once the object is
 * released (no leak, even without a sanitizer; under test-asan
 * LeakSanitizer checks too), must leave the object unchanged (compared
 * through whaco_intel_save bytes where there is one), and must leave it
 * usable: the same operation, tried again without a fault, succeeds.
 *
 * Invariants of the harness: the fault is armed only around the operation
 * itself (setup and checks run without one), and a run whose fault was not
 * consumed is the last: it must succeed. A run that consumed the fault yet
 * reports success would be a swallowed failure (a document with a part
 * missing, a state half-updated) and fails the test.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "whaco/alloc.h"
#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/gen.h"
#include "whaco/intel.h"
#include "whaco/outcomes.h"
#include "whaco/serial.h"
#include "cli/csv.h"
#include "http/json.h"
#include "http/server.h"
#include "http/stateio.h"
#include "http/teamjson.h"
#include "http/view.h"

#define T0         1737124200000LL
#define MINUTE     60000LL
#define MAX_POINTS 100000 /* a bound on the loop, far above any operation's count */

/*==== The harness =========================================================*/

/*
 * One operation under test. setup builds the object (no fault armed), run
 * performs the operation and frees whatever it produced itself (strings,
 * buffers), returning WHACO_OK or the error it saw; unchanged asserts that
 * a failed run left the object as setup built it; teardown releases the
 * object. Any of setup, unchanged and teardown may be NULL.
 */
struct op {
    const char *name;
    void (*setup)(void *ctx);
    int (*run)(void *ctx);
    void (*unchanged)(void *ctx);
    void (*teardown)(void *ctx);
};

static int64_t live_now(void)
{
    struct whaco_alloc_stats s;
    whaco_alloc_stats(&s);
    return s.live;
}

static uint64_t failed_now(void)
{
    struct whaco_alloc_stats s;
    whaco_alloc_stats(&s);
    return s.failed;
}

/*
 * Fail the n-th allocation of op->run for n = 0, 1, ...; check every
 * failing run as the file comment says. Returns the number of allocation
 * points: the n of the first run that needed no failure.
 */
static long each_allocation_fails(const struct op *op, void *ctx)
{
    for (long n = 0; n < MAX_POINTS; n++) {
        int64_t live = live_now();
        if (op->setup)
            op->setup(ctx);
        uint64_t failed = failed_now();
        whaco_alloc_fail_after(n);
        int rc = op->run(ctx);
        whaco_alloc_fail_after(-1);
        bool injected = failed_now() != failed;
        if (!injected) {
            if (rc != WHACO_OK)
                fail_msg("%s: no fault injected, yet it failed: %s", op->name, whaco_strerror(rc));
        } else {
            if (rc != WHACO_E_NOMEM)
                fail_msg("%s: allocation %ld failed, result %d (%s), not out of memory", op->name,
                         n, rc, whaco_strerror(rc));
            if (op->unchanged)
                op->unchanged(ctx);
            rc = op->run(ctx); /* still usable */
            if (rc != WHACO_OK)
                fail_msg("%s: after allocation %ld failed, a retry gave %s", op->name, n,
                         whaco_strerror(rc));
        }
        if (op->teardown)
            op->teardown(ctx);
        if (live_now() != live)
            fail_msg("%s: allocation %ld failed: %lld blocks leaked", op->name, n,
                     (long long)(live_now() - live));
        if (!injected) {
            print_message("%-36s %ld allocation points\n", op->name, n);
            return n;
        }
    }
    fail_msg("%s: still allocating after %d points", op->name, MAX_POINTS);
    return -1;
}

/*==== Fixtures ============================================================*/

static struct whaco_member_spec member(int i, char id[16], char name[32])
{
    snprintf(id, 16, "sp-%d", i);
    snprintf(name, 32, "Member Number %d", i);
    struct whaco_member_spec s = {
        id, name, 0.1 + 0.05 * (i % 17), 0.8 + 0.01 * (i % 9), 0.3 * i, (uint32_t)(i % 3)};
    return s;
}

/* A state with n salespeople, a learned model, anomalies and history. */
static void build_state(struct whaco_intel *in, int members, int customers)
{
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    struct whaco_analysis an;
    char id[16], name[32];
    assert_int_equal(whaco_intel_init(in, NULL, NULL, NULL), WHACO_OK);
    for (int i = 0; i < members; i++) {
        struct whaco_member_spec s = member(i, id, name);
        assert_int_equal(whaco_intel_add_salesperson(in, &s, T0, NULL), WHACO_OK);
    }
    whaco_rng_seed(&rng, 7);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < customers; i++) {
        struct whaco_customer c;
        whaco_gen_customer(&rng, &gp, &c, NULL);
        assert_int_equal(whaco_intel_analyze(in, &c, T0 + i * MINUTE, &an, NULL), WHACO_OK);
        if (i % 5 == 0)
            assert_int_equal(whaco_intel_tick(in, T0 + i * MINUTE), WHACO_OK);
    }
    /* One sure anomaly, with an id, for the anomaly feed. */
    struct whaco_customer odd = {"odd-1", 850, 5e6, 1000, 1000, 0, 40, 600, 1, 0};
    assert_int_equal(whaco_intel_analyze(in, &odd, T0 + customers * MINUTE, &an, NULL), WHACO_OK);
}

static struct whaco_buf save(const struct whaco_intel *in)
{
    struct whaco_buf b = WHACO_BUF_INIT;
    assert_int_equal(whaco_intel_save(in, &b), WHACO_OK);
    return b;
}

/* An intel state, its saved bytes before the operation, and one event. */
struct intel_ctx {
    int members;
    int customers;
    struct whaco_intel in;
    struct whaco_buf before;
    struct whaco_event ev;
};

static void intel_setup(void *p)
{
    struct intel_ctx *c = p;
    build_state(&c->in, c->members, c->customers);
    c->before = save(&c->in);
}

static void intel_unchanged(void *p)
{
    struct intel_ctx *c = p;
    struct whaco_buf now = save(&c->in);
    assert_int_equal(now.len, c->before.len);
    assert_memory_equal(now.data, c->before.data, now.len);
    whaco_buf_release(&now);
}

static void intel_teardown(void *p)
{
    struct intel_ctx *c = p;
    whaco_intel_release(&c->in);
    whaco_buf_release(&c->before);
}

/*==== The core ============================================================*/

static int run_intel_init(void *p)
{
    (void)p;
    struct whaco_intel in;
    int rc = whaco_intel_init(&in, NULL, NULL, NULL);
    if (rc == WHACO_OK)
        whaco_intel_release(&in);
    return rc;
}

static void oom__intel_init(void **state)
{
    (void)state;
    struct op op = {"whaco_intel_init", NULL, run_intel_init, NULL, NULL};
    assert_true(each_allocation_fails(&op, NULL) >= 1);
}

static int run_apply(void *p)
{
    struct intel_ctx *c = p;
    struct whaco_event_result res;
    return whaco_event_apply(&c->in, &c->ev, &res, NULL);
}

/* An add-salesperson event for member i, after every event of the fixture. */
static struct whaco_event add_event(int i)
{
    struct whaco_event ev;
    char id[16], name[32];
    struct whaco_member_spec s = member(i, id, name);
    whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
    ev.time_ms = T0 + 1000 * MINUTE;
    memcpy(ev.id, s.id, strlen(s.id) + 1);
    memcpy(ev.name, s.name, strlen(s.name) + 1);
    ev.skill_level = s.skill_level;
    ev.natural_frequency = s.natural_frequency;
    ev.phase = s.phase;
    ev.active_deals = s.active_deals;
    return ev;
}

static void oom__add_salesperson_to_an_empty_team(void **state)
{
    (void)state;
    struct intel_ctx c = {.members = 0, .customers = 20};
    c.ev = add_event(0);
    struct op op = {"add salesperson (first member)", intel_setup, run_apply, intel_unchanged,
                    intel_teardown};
    assert_true(each_allocation_fails(&op, &c) >= 1);
}

static void oom__add_salesperson_that_grows_the_team(void **state)
{
    (void)state;
    /* The team starts with room for 8: the 9th member makes it grow. */
    struct intel_ctx c = {.members = 8, .customers = 20};
    c.ev = add_event(8);
    struct op op = {"add salesperson (team grows)", intel_setup, run_apply, intel_unchanged,
                    intel_teardown};
    assert_true(each_allocation_fails(&op, &c) >= 3); /* members, order, scratch */
}

static void oom__analyze_customer(void **state)
{
    (void)state;
    struct intel_ctx c = {.members = 5, .customers = 20};
    struct whaco_customer cust = {"c-1", 700, 80000, 30000, 5000, 0, 2, 45, 0.7, 0};
    whaco_event_init(&c.ev, WHACO_EV_ANALYZE);
    c.ev.time_ms = T0 + 1000 * MINUTE;
    c.ev.customer = cust;
    struct op op = {"analyze customer", intel_setup, run_apply, intel_unchanged, intel_teardown};
    assert_int_equal(each_allocation_fails(&op, &c),
                     0); /* the per-customer path allocates nothing */
}

static void oom__reset(void **state)
{
    (void)state;
    struct intel_ctx c = {.members = 5, .customers = 20};
    whaco_event_init(&c.ev, WHACO_EV_RESET);
    c.ev.time_ms = T0 + 1000 * MINUTE;
    struct op op = {"reset", intel_setup, run_apply, intel_unchanged, intel_teardown};
    assert_true(each_allocation_fails(&op, &c) >= 1);
}

/* Encode c->ev into a fresh buffer, decode it back and compare. */
static int run_event_codec(void *p)
{
    struct intel_ctx *c = p;
    struct whaco_buf b = WHACO_BUF_INIT, again = WHACO_BUF_INIT;
    struct whaco_event back;
    int rc = whaco_event_encode(&c->ev, &b);
    if (rc == WHACO_OK) {
        assert_int_equal(whaco_event_decode(&back, b.data, b.len), WHACO_OK);
        rc = whaco_event_encode(&back, &again);
        if (rc == WHACO_OK) {
            assert_int_equal(again.len, b.len);
            assert_memory_equal(again.data, b.data, b.len);
        }
    }
    whaco_buf_release(&b);
    whaco_buf_release(&again);
    return rc;
}

static void oom__event_encode_and_decode(void **state)
{
    (void)state;
    static const uint32_t types[] = {WHACO_EV_ANALYZE,
                                     WHACO_EV_DEAL_CLOSED,
                                     WHACO_EV_ADD_SALESPERSON,
                                     WHACO_EV_REMOVE_SALESPERSON,
                                     WHACO_EV_TICK,
                                     WHACO_EV_RESET};
    for (size_t i = 0; i < sizeof types / sizeof types[0]; i++) {
        struct intel_ctx c;
        memset(&c, 0, sizeof c);
        struct whaco_customer cust = {"c-7", 700, 80000, 30000, 5000, 0, 2, 45, 0.7, 0};
        c.ev = add_event(3);
        c.ev.type = types[i];
        c.ev.customer = cust;
        memcpy(c.ev.deal_id, "deal-9", 7);
        struct op op = {"event encode/decode", NULL, run_event_codec, NULL, NULL};
        /* Two fresh buffers, one allocation each; decoding allocates nothing. */
        assert_int_equal(each_allocation_fails(&op, &c), 2);
    }
}

static int run_save(void *p)
{
    struct intel_ctx *c = p;
    struct whaco_buf b = WHACO_BUF_INIT;
    int rc = whaco_intel_save(&c->in, &b);
    if (rc == WHACO_OK) {
        assert_int_equal(b.len, c->before.len);
        assert_memory_equal(b.data, c->before.data, b.len);
    } else {
        assert_true(b.failed);
    }
    whaco_buf_release(&b);
    return rc;
}

static void oom__intel_save(void **state)
{
    (void)state;
    struct intel_ctx c = {.members = 40, .customers = 400};
    struct op op = {"whaco_intel_save", intel_setup, run_save, intel_unchanged, intel_teardown};
    assert_true(each_allocation_fails(&op, &c) >= 2); /* the buffer grows */
}

/* Load a saved real state into c->in, a different state. */
struct load_ctx {
    struct intel_ctx target;
    struct whaco_buf saved;
};

static int run_load(void *p)
{
    struct load_ctx *c = p;
    return whaco_intel_load(&c->target.in, c->saved.data, c->saved.len);
}

/* Every run ends with a successful load: the target is now the saved state. */
static void load_teardown(void *p)
{
    struct load_ctx *c = p;
    struct whaco_buf now = save(&c->target.in);
    assert_int_equal(now.len, c->saved.len);
    assert_memory_equal(now.data, c->saved.data, c->saved.len);
    whaco_buf_release(&now);
    intel_teardown(&c->target);
}

static void oom__intel_load(void **state)
{
    (void)state;
    struct load_ctx c;
    struct whaco_intel src;
    memset(&c, 0, sizeof c);
    c.target.members = 3;
    c.target.customers = 10;
    build_state(&src, 40, 400);
    c.saved = save(&src);
    whaco_intel_release(&src);
    struct op op = {"whaco_intel_load", intel_setup, run_load, intel_unchanged, load_teardown};
    /* The harness hands &c to intel_setup and friends: target is c's first
     * member. Points: scratch segmenter, team arrays, id check, order,
     * history. */
    assert_true(each_allocation_fails(&op, &c) >= 5);
    whaco_buf_release(&c.saved);
}

/*==== The JSON requests ===================================================*/

static const char analyze_body[] =
    "{\"customerId\":\"cust_123\",\"creditScore\":720,\"annualIncome\":85000,"
    "\"vehiclePrice\":35000,\"downPayment\":7000,\"tradeValue\":12000,\"visitCount\":2,"
    "\"timeOnLot\":45,\"engagement\":0.8}";
static const char deal_body[] = "{\"salespersonId\":\"sp-001\",\"dealId\":\"deal-42\"}";
static const char add_body[] = "{\"id\":\"sp-004\",\"name\":\"Mike Chen, a name long enough to "
                               "make the lexer grow its buffer\",\"skillLevel\":0.7,"
                               "\"naturalFrequency\":0.9,\"phase\":1.5,\"activeDeals\":2}";

struct parse_ctx {
    int (*parse)(const char *, size_t, struct whaco_event *, struct api_error *);
    const char *body;
};

static int run_parse(void *p)
{
    struct parse_ctx *c = p;
    struct whaco_event ev;
    struct api_error e;
    if (c->parse(c->body, strlen(c->body), &ev, &e) == 0)
        return WHACO_OK;
    if (e.status == 503 && strcmp(e.code, "OUT_OF_MEMORY") == 0)
        return WHACO_E_NOMEM;
    fail_msg("a valid body was refused: %d %s %s", e.status, e.code, e.message);
    return WHACO_E_INVAL;
}

static void oom__json_requests(void **state)
{
    (void)state;
    struct parse_ctx cases[] = {{json_parse_analyze, analyze_body},
                                {json_parse_deal_closed, deal_body},
                                {json_parse_add_salesperson, add_body}};
    const char *names[] = {"json_parse_analyze", "json_parse_deal_closed",
                           "json_parse_add_salesperson"};
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        struct op op = {names[i], NULL, run_parse, NULL, NULL};
        assert_true(each_allocation_fails(&op, &cases[i]) >= 3);
    }
}

/*==== The JSON responses ==================================================*/

/* The state every builder describes, built once. */
static struct {
    struct whaco_intel in;
    struct whaco_team_status st;
    struct whaco_analysis an;
    struct whaco_event ev;
    struct whaco_coherence_sample hist[64];
    size_t n_hist;
    char *team_short;
} world;

static void world_build(void)
{
    build_state(&world.in, 12, 300);
    whaco_team_status_init(&world.st);
    assert_int_equal(whaco_team_status_compute(&world.st, &world.in.team), WHACO_OK);
    struct whaco_customer odd = {"odd-2", 850, 5e6, 1000, 1000, 0, 40, 600, 1, 0};
    assert_int_equal(whaco_intel_analyze(&world.in, &odd, T0 + 400 * MINUTE, &world.an, NULL),
                     WHACO_OK);
    assert_true(world.an.segment.is_outlier);
    world.ev = add_event(99);
    memcpy(world.ev.deal_id, "deal-1", 7);
    world.n_hist = whaco_team_history_since(&world.in.team, 0, world.hist, 64);
    world.team_short = json_team_status_short(&world.in.team, &world.st);
    assert_non_null(world.team_short);
}

static void world_release(void)
{
    whaco_free(world.team_short);
    whaco_team_status_release(&world.st);
    whaco_intel_release(&world.in);
}

static char *build_error(void)
{
    struct api_error e;
    api_error_set(&e, 400, "CREDIT_SCORE_RANGE", "creditScore", "creditScore %s", "is bad");
    return json_error(&e);
}
static char *build_team_short(void)
{
    return json_team_status_short(&world.in.team, &world.st);
}
static char *build_team_full(void)
{
    return json_team_status(&world.in.team, &world.st, &world.in.floor);
}
static char *build_analysis(void)
{
    return json_analysis(&world.an, world.team_short);
}
static char *build_segments_summary(void)
{
    return json_segments_summary(&world.in.seg, &world.in.learn);
}
static char *build_customer_segments(void)
{
    return json_customer_segments(&world.in.seg, &world.in.learn);
}
static char *build_anomaly(void)
{
    return json_anomaly(whaco_segment_anomaly(&world.in.seg, 0));
}
static char *build_anomalies(void)
{
    return json_anomalies(&world.in.seg, 20);
}
static char *build_insights(void)
{
    return json_insights(&world.in, &world.st, 10);
}
static char *build_salespeople(void)
{
    return json_salespeople(&world.in.team, &world.st);
}
static char *build_history(void)
{
    return json_coherence_history(24, world.hist, world.n_hist);
}
static char *build_deal_recorded(void)
{
    return json_deal_recorded(&world.ev);
}
static char *build_salesperson_added(void)
{
    return json_salesperson_added(&world.ev);
}
static char *build_salesperson_removed(void)
{
    return json_salesperson_removed("sp-3");
}
static char *build_reset_done(void)
{
    return json_reset_done(T0);
}
static char *build_event_analyzed(void)
{
    return json_event_analyzed(&world.an, "odd-2", T0);
}
static char *build_health(void)
{
    return json_health("degraded", 41, 3, "the disk is full (ENOSPC)", T0);
}
static char *build_export_whaco(void)
{
    return stateio_export_whaco(&world.in);
}
static char *build_export_oscillator(void)
{
    return stateio_export_oscillator(&world.in);
}

struct builder_ctx {
    char *(*build)(void);
    char *reference; /* the document built without a fault */
};

static int run_builder(void *p)
{
    struct builder_ctx *c = p;
    char *s = c->build();
    if (!s)
        return WHACO_E_NOMEM;
    assert_string_equal(s, c->reference);
    whaco_free(s);
    return WHACO_OK;
}

static void oom__json_responses_and_state_file_export(void **state)
{
    (void)state;
    static const struct {
        const char *name;
        char *(*build)(void);
    } builders[] = {
        {"json_error", build_error},
        {"json_team_status_short", build_team_short},
        {"json_team_status", build_team_full},
        {"json_analysis", build_analysis},
        {"json_segments_summary", build_segments_summary},
        {"json_customer_segments", build_customer_segments},
        {"json_anomaly", build_anomaly},
        {"json_anomalies", build_anomalies},
        {"json_insights", build_insights},
        {"json_salespeople", build_salespeople},
        {"json_coherence_history", build_history},
        {"json_deal_recorded", build_deal_recorded},
        {"json_salesperson_added", build_salesperson_added},
        {"json_salesperson_removed", build_salesperson_removed},
        {"json_reset_done", build_reset_done},
        {"json_event_analyzed", build_event_analyzed},
        {"json_health", build_health},
        {"stateio_export_whaco", build_export_whaco},
        {"stateio_export_oscillator", build_export_oscillator},
    };
    world_build();
    for (size_t i = 0; i < sizeof builders / sizeof builders[0]; i++) {
        struct builder_ctx c = {builders[i].build, builders[i].build()};
        assert_non_null(c.reference);
        struct op op = {builders[i].name, NULL, run_builder, NULL, NULL};
        assert_true(each_allocation_fails(&op, &c) >= 2);
        whaco_free(c.reference);
    }
    world_release();
}

/*==== The read view the server publishes ==================================*/

static int run_publish(void *p)
{
    struct intel_ctx *c = p;
    struct http_view *v = whaco_http_publish(&c->in, NULL);
    if (!v)
        return WHACO_E_NOMEM;
    assert_int_equal(v->in.team.n, c->in.team.n);
    assert_non_null(v->team_short);
    whaco_http_view_free(v);
    return WHACO_OK;
}

static void oom__read_view(void **state)
{
    (void)state;
    struct intel_ctx c = {.members = 12, .customers = 50};
    struct op op = {"whaco_http_publish", intel_setup, run_publish, intel_unchanged,
                    intel_teardown};
    assert_true(each_allocation_fails(&op, &c) >= 5);
}

/*==== The state-file decoder ==============================================*/

struct import_ctx {
    char *whaco_json, *oscillator_json;
    struct whaco_intel in;
    bool ready;
};

static void import_setup(void *p)
{
    struct import_ctx *c = p;
    assert_int_equal(whaco_intel_init(&c->in, NULL, NULL, NULL), WHACO_OK);
}

static int run_import(void *p)
{
    struct import_ctx *c = p;
    char msg[256];
    int rc = stateio_import(&c->in, c->whaco_json, strlen(c->whaco_json), c->oscillator_json,
                            strlen(c->oscillator_json), msg, sizeof msg);
    if (rc == WHACO_E_NOMEM)
        assert_non_null(strstr(msg, "out of memory"));
    else
        assert_int_equal(rc, WHACO_OK);
    return rc;
}

/* *in is unspecified after an error, to be released only: do that, start afresh. */
static void import_restart(void *p)
{
    struct import_ctx *c = p;
    whaco_intel_release(&c->in);
    assert_int_equal(whaco_intel_init(&c->in, NULL, NULL, NULL), WHACO_OK);
}

static void import_teardown(void *p)
{
    struct import_ctx *c = p;
    whaco_intel_release(&c->in);
}

static void oom__state_file_import(void **state)
{
    (void)state;
    struct import_ctx c;
    struct whaco_intel src;
    memset(&c, 0, sizeof c);
    build_state(&src, 20, 200);
    c.whaco_json = stateio_export_whaco(&src);
    c.oscillator_json = stateio_export_oscillator(&src);
    assert_non_null(c.whaco_json);
    assert_non_null(c.oscillator_json);
    whaco_intel_release(&src);
    struct op op = {"stateio_import", import_setup, run_import, import_restart, import_teardown};
    assert_true(each_allocation_fails(&op, &c) >= 10);
    whaco_free(c.whaco_json);
    whaco_free(c.oscillator_json);
}

/*==== The team-file decoder ==============================================*/

static int count_member(void *ctx, size_t index, const char *id, const char *name,
                        double skill_level, double natural_frequency)
{
    size_t *n = ctx;
    (void)id;
    (void)name;
    (void)skill_level;
    (void)natural_frequency;
    assert_int_equal(index, *n + 1);
    (*n)++;
    return 0;
}

static int run_team_json(void *p)
{
    (void)p;
    static const char text[] =
        "[{\"id\":\"a\",\"name\":\"Jos\\u00e9\",\"skillLevel\":0.9,\"naturalFrequency\":0.9},\n"
        " {\"id\":\"b\",\"name\":\"Bo\",\"skillLevel\":0.4,\"naturalFrequency\":0.85,\"x\":[1]},\n"
        " {\"id\":\"c\",\"name\":\"Cy\",\"skillLevel\":0.6,\"naturalFrequency\":0.88}]";
    char msg[256];
    size_t n = 0;
    int rc = teamjson_parse(text, sizeof text - 1, count_member, &n, msg, sizeof msg);
    if (rc == WHACO_E_NOMEM) {
        assert_string_equal(msg, "out of memory");
    } else {
        assert_int_equal(rc, WHACO_OK);
        assert_int_equal(n, 3);
    }
    return rc;
}

static void oom__team_file_json(void **state)
{
    (void)state;
    struct op op = {"teamjson_parse", NULL, run_team_json, NULL, NULL};
    assert_true(each_allocation_fails(&op, NULL) >= 10);
}

/*==== The CSV reader ======================================================*/

static const char csv_text[] = "customerId,creditScore,annualIncome\n"
                               "c-1,700,80000\n"
                               "\"c,2\",650,\"55000\"\n"
                               "c-3,800,120000\n";

struct csv_ctx {
    FILE *fp;
    struct csv_reader r;
    int records; /* read so far, across runs */
};

static void csv_setup(void *p)
{
    struct csv_ctx *c = p;
    c->fp = fmemopen((void *)csv_text, sizeof csv_text - 1, "r");
    assert_non_null(c->fp);
    csv_reader_init(&c->r, c->fp);
    c->records = 0;
}

/* Read to the end; a failed read is retried by the harness on the same reader. */
static int run_csv(void *p)
{
    struct csv_ctx *c = p;
    for (;;) {
        int got = csv_read(&c->r);
        if (got == 0)
            break;
        if (got == -2) {
            assert_int_equal(errno, ENOMEM);
            return WHACO_E_NOMEM;
        }
        assert_int_equal(got, 1);
        c->records++;
    }
    assert_int_equal(c->records, 4); /* nothing lost, nothing read twice */
    assert_string_equal(c->r.fields[0], "c-3");
    return WHACO_OK;
}

static void csv_teardown(void *p)
{
    struct csv_ctx *c = p;
    csv_reader_release(&c->r);
    fclose(c->fp);
}

static void oom__csv_reader(void **state)
{
    (void)state;
    struct csv_ctx c;
    memset(&c, 0, sizeof c);
    struct op op = {"csv_read", csv_setup, run_csv, NULL, csv_teardown};
    assert_int_equal(each_allocation_fails(&op, &c), 1); /* one buffer */
}

/*==== An outcomes file from a CRM =========================================*/

static const char outcomes_text[] = "customerId,outcome,salespersonId,dealId,time,notes\n"
                                    "c-1,sold,sp-1,d-1,2026-03-01T14:30:00Z,x\n"
                                    "c-2,no_sale,,,2026-03-01T14:31:00Z,\n"
                                    "c-3,won,,,2026-03-01T14:32:00Z,\n";

static struct whaco_outcome_file outcomes_file;
static struct whaco_outcome_report outcomes_reports[3];

static int run_outcomes_parse(void *p)
{
    (void)p;
    struct whaco_outcome_file f;
    struct whaco_outcomes_error e;
    int rc = whaco_outcomes_parse(outcomes_text, sizeof outcomes_text - 1, &f, &e);
    if (rc == WHACO_OK) {
        assert_int_equal(f.n, 3);
        whaco_outcomes_release(&f);
    } else {
        assert_null(f.lines); /* nothing kept */
    }
    return rc;
}

static char *build_outcomes_done(void)
{
    return json_outcomes_done(&outcomes_file, outcomes_reports, NULL, 0, T0);
}

/* Reading the file (the engine's part is the events': oom__event_encode_and_decode), and the
 * answer's document. */
static void oom__outcomes_file(void **state)
{
    (void)state;
    struct op op = {"whaco_outcomes_parse", NULL, run_outcomes_parse, NULL, NULL};
    assert_true(each_allocation_fails(&op, NULL) >= 2); /* the reader, the rows */
    struct whaco_outcomes_error e;
    assert_int_equal(
        whaco_outcomes_parse(outcomes_text, sizeof outcomes_text - 1, &outcomes_file, &e),
        WHACO_OK);
    for (size_t i = 0; i < outcomes_file.n; i++)
        whaco_outcome_explain(&outcomes_file.lines[i], i == 1 ? WHACO_E_CUSTOMER_NOT_FOUND : 0,
                              NULL, &outcomes_reports[i]);
    struct builder_ctx c = {build_outcomes_done, build_outcomes_done()};
    assert_non_null(c.reference);
    struct op doc = {"json_outcomes_done", NULL, run_builder, NULL, NULL};
    assert_true(each_allocation_fails(&doc, &c) >= 2);
    whaco_free(c.reference);
    whaco_outcomes_release(&outcomes_file);
}

/*==== The engine ==========================================================*/

/* The engine's view in this test: the saved state, or NULL out of memory. */
static void *publish_saved(const struct whaco_intel *in, void *ctx)
{
    (void)ctx;
    struct whaco_buf *b = whaco_calloc(1, sizeof *b);
    if (b && whaco_intel_save(in, b) != WHACO_OK) {
        whaco_buf_release(b);
        whaco_free(b);
        b = NULL;
    }
    return b;
}

static void free_saved(void *view)
{
    whaco_buf_release(view);
    whaco_free(view);
}

/* The engine's current view, copied. */
static struct whaco_buf current_view(struct whaco_engine *e)
{
    void *h;
    struct whaco_buf *v = whaco_engine_view_acquire(e, &h), copy = WHACO_BUF_INIT;
    whaco_buf_put(&copy, v->data, v->len);
    whaco_engine_view_release(e, h);
    assert_int_equal(whaco_buf_error(&copy), WHACO_OK);
    return copy;
}

static int engine_add(struct whaco_engine *e, int i)
{
    struct whaco_event ev = add_event(i);
    struct whaco_engine_reply r;
    assert_int_equal(whaco_engine_call(e, &ev, &r), WHACO_OK);
    return r.rc;
}

/*
 * Through the engine: the 9th salesperson, whose add grows the team, with
 * the n-th allocation of the engine thread failing (the test thread only
 * waits meanwhile; SQLite's own allocations are not whaco's). A failure in
 * the event's path refuses the request with WHACO_E_NOMEM and changes
 * nothing -- the view is the same and the same add then succeeds (it was
 * not half-added: no DUPLICATE). A failure in building the read view
 * afterwards acknowledges the committed write and keeps the previous view.
 * A fresh engine and data directory for every n.
 */
static void oom__engine_add_salesperson(void **state)
{
    (void)state;
    long refused = 0, stale = 0, n;
    for (n = 0; n < MAX_POINTS; n++) {
        char dir[64], cmd[128], msg[512];
        struct whaco_engine_config cfg;
        struct whaco_engine *e = NULL;
        snprintf(dir, sizeof dir, "/tmp/whaco-oom-XXXXXX");
        assert_non_null(mkdtemp(dir));
        whaco_engine_config_default(&cfg);
        cfg.store.location = dir;
        cfg.store.sync = WHACO_SYNC_NORMAL;
        cfg.publish = publish_saved;
        cfg.view_free = free_saved;
        cfg.tick_ms = cfg.snapshot_ms = 3600 * 1000; /* no background events */
        cfg.daily_reset = false;
        if (whaco_engine_start(&cfg, &e, msg, sizeof msg) != WHACO_OK)
            fail_msg("engine start: %s", msg);
        for (int i = 0; i < 8; i++)
            assert_int_equal(engine_add(e, i), WHACO_OK);
        struct whaco_buf before = current_view(e);

        uint64_t failed = failed_now();
        whaco_alloc_fail_after(n);
        int rc = engine_add(e, 8);
        whaco_alloc_fail_after(-1);
        bool injected = failed_now() != failed;
        struct whaco_buf after = current_view(e);
        bool same = after.len == before.len && !memcmp(after.data, before.data, after.len);
        if (rc == WHACO_E_NOMEM) {
            assert_true(injected);
            assert_true(same);
            assert_int_equal(engine_add(e, 8), WHACO_OK);
            refused++;
        } else {
            assert_int_equal(rc, WHACO_OK);
            assert_true(injected ? same : !same); /* a failed view keeps the old one */
            stale += injected;
        }
        whaco_buf_release(&before);
        whaco_buf_release(&after);
        assert_int_equal(whaco_engine_stop(e), WHACO_OK);
        snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
        assert_int_equal(system(cmd), 0);
        if (!injected)
            break;
    }
    print_message("%-36s %ld allocation points (%ld refused, %ld kept the old view)\n",
                  "engine add salesperson", n, refused, stale);
    assert_true(refused >= 3); /* members, order, scratch */
    assert_true(stale >= 1);
}

/*==== The harness itself ==================================================*/

/* The hook fails exactly the n-th allocation, once, and counts. */
static void oom__the_hook_fails_exactly_the_nth_allocation(void **state)
{
    (void)state;
    int64_t live = live_now();
    whaco_alloc_fail_after(2);
    void *a = whaco_malloc(8), *b = whaco_calloc(2, 8), *c = whaco_malloc(8);
    void *d = whaco_reallocarray(NULL, 4, 4);
    whaco_alloc_fail_after(-1);
    assert_non_null(a);
    assert_non_null(b);
    assert_null(c);
    assert_non_null(d);
    assert_int_equal(live_now() - live, 3);
    uint64_t here = whaco_alloc_failures_here();
    assert_null(whaco_reallocarray(NULL, SIZE_MAX / 2, 4)); /* overflow */
    assert_int_equal(whaco_alloc_failures_here(), here + 1);
    whaco_free(a);
    whaco_free(b);
    whaco_free(d);
    assert_int_equal(live_now(), live);
}

int main(void)
{
    json_alloc_init();
    whaco_alloc_fail_after(-1); /* start counting */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(oom__the_hook_fails_exactly_the_nth_allocation),
        cmocka_unit_test(oom__intel_init),
        cmocka_unit_test(oom__add_salesperson_to_an_empty_team),
        cmocka_unit_test(oom__add_salesperson_that_grows_the_team),
        cmocka_unit_test(oom__analyze_customer),
        cmocka_unit_test(oom__reset),
        cmocka_unit_test(oom__event_encode_and_decode),
        cmocka_unit_test(oom__intel_save),
        cmocka_unit_test(oom__intel_load),
        cmocka_unit_test(oom__json_requests),
        cmocka_unit_test(oom__json_responses_and_state_file_export),
        cmocka_unit_test(oom__read_view),
        cmocka_unit_test(oom__state_file_import),
        cmocka_unit_test(oom__team_file_json),
        cmocka_unit_test(oom__csv_reader),
        cmocka_unit_test(oom__outcomes_file),
        cmocka_unit_test(oom__engine_add_salesperson),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

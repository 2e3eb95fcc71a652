/*
 * fixture.c: the shared test fixture (fixture.h) -- temporary directories,
 * a quiet engine with saved-state views, events, raw SQLite access.
 *
 * Invariant: one case at a time per program (cmocka runs them in turn), so
 * fixture_dir is a plain global; a helper that fails calls fail_msg or a
 * cmocka assertion, which ends the current case.
 */
#define _GNU_SOURCE /* mkdtemp, setenv, program_invocation_short_name */
#include <errno.h>  /* program_invocation_short_name */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <time.h>
#include <cmocka.h>

#include "whaco/err.h"
#include "whaco/gen.h"
#include "fixture.h"

char fixture_dir[64];
char fixture_db_path[128];

/*==== The data directory ==================================================*/

int fixture_setup(void **state)
{
    (void)state;
    snprintf(fixture_dir, sizeof fixture_dir, "/tmp/whaco-%s-XXXXXX",
             program_invocation_short_name);
    assert_non_null(mkdtemp(fixture_dir));
    snprintf(fixture_db_path, sizeof fixture_db_path, "%s/%s", fixture_dir, WHACO_STORE_FILENAME);
    return 0;
}

int fixture_teardown(void **state)
{
    (void)state;
    return fixture_remove_dir() == 0 ? 0 : -1;
}

int fixture_remove_dir(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", fixture_dir);
    return system(cmd);
}

/*==== The engine ==========================================================*/

void fixture_engine_config(struct whaco_engine_config *cfg)
{
    whaco_engine_config_default(cfg);
    cfg->store = fixture_spec(WHACO_SYNC_FULL);
    cfg->publish = fixture_publish_saved;
    cfg->view_free = fixture_free_saved;
    cfg->tick_ms = 3600 * 1000; /* no background events unless a test asks */
    cfg->snapshot_ms = 3600 * 1000;
    cfg->daily_reset = false;
}

void fixture_clock_before_midnight(struct whaco_engine_config *cfg, int64_t before_ms)
{
    setenv("TZ", "UTC", 1);
    tzset();
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t real = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
    cfg->clock_offset_ms = (real / 86400000 + 1) * 86400000 - real - before_ms;
}

void *fixture_publish_saved(const struct whaco_intel *in, void *ctx)
{
    struct whaco_buf *b = calloc(1, sizeof *b);
    (void)ctx;
    whaco_intel_save(in, b);
    return b;
}

void fixture_free_saved(void *view)
{
    whaco_buf_release(view);
    free(view);
}

struct whaco_engine *fixture_start(const struct whaco_engine_config *cfg)
{
    struct whaco_engine *e = NULL;
    char msg[512];
    if (whaco_engine_start(cfg, &e, msg, sizeof msg) != WHACO_OK)
        fail_msg("engine start: %s", msg);
    return e;
}

struct whaco_engine_reply fixture_call_ok(struct whaco_engine *e, struct whaco_event *ev)
{
    struct whaco_engine_reply r;
    assert_int_equal(whaco_engine_call(e, ev, &r), WHACO_OK);
    assert_int_equal(r.rc, WHACO_OK);
    return r;
}

void fixture_add_salesperson(struct whaco_engine *e, const char *id, double skill)
{
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
    snprintf(ev.id, sizeof ev.id, "%s", id);
    snprintf(ev.name, sizeof ev.name, "Name %s", id);
    ev.skill_level = skill;
    ev.natural_frequency = 0.9;
    fixture_call_ok(e, &ev);
}

void fixture_analyze_generated(struct whaco_engine *e, uint64_t seed, int n)
{
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    whaco_rng_seed(&rng, seed);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < n; i++) {
        struct whaco_event ev;
        whaco_event_init(&ev, WHACO_EV_ANALYZE);
        whaco_gen_customer(&rng, &gp, &ev.customer, NULL);
        assert_true(fixture_call_ok(e, &ev).time_ms > 0);
    }
}

struct whaco_buf fixture_saved_state(struct whaco_engine *e)
{
    void *h;
    struct whaco_buf *v = whaco_engine_view_acquire(e, &h), copy = WHACO_BUF_INIT;
    whaco_buf_put(&copy, v->data, v->len);
    whaco_engine_view_release(e, h);
    return copy;
}

void fixture_count_done(void *arg)
{
    __atomic_fetch_add(&((struct fixture_counter *)arg)->done, 1, __ATOMIC_SEQ_CST);
}

/*==== The store and its file ==============================================*/

struct whaco_store_spec fixture_spec(enum whaco_sync sync)
{
    struct whaco_store_spec spec = {WHACO_STORE_SQLITE, fixture_dir, sync, 0};
    return spec;
}

struct whaco_store *fixture_open_store(enum whaco_sync sync)
{
    struct whaco_store *s = NULL;
    struct whaco_store_spec spec = fixture_spec(sync);
    char msg[512];
    if (whaco_store_open(&spec, &s, msg, sizeof msg) != WHACO_OK)
        fail_msg("open %s: %s", fixture_dir, msg);
    return s;
}

struct replayed {
    uint64_t next; /* the seq the next event must have */
    uint64_t count;
};

static int count_in_order(void *ctx, uint64_t seq, int64_t time_ms, uint32_t type, const void *body,
                          size_t len)
{
    struct replayed *r = ctx;
    (void)time_ms, (void)type, (void)body, (void)len;
    assert_int_equal(seq, r->next); /* in order, no gap */
    r->next++;
    r->count++;
    return 0;
}

uint64_t fixture_count_replayed(struct whaco_store *s, uint64_t after)
{
    struct replayed r = {after + 1, 0};
    assert_int_equal(whaco_store_replay(s, after, count_in_order, &r), WHACO_OK);
    return r.count;
}

sqlite3 *fixture_raw_open(const char *path)
{
    sqlite3 *db = NULL;
    assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
    return db;
}

int64_t fixture_raw_int(sqlite3 *db, const char *sql)
{
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    int64_t v = sqlite3_column_int64(st, 0);
    sqlite3_finalize(st);
    return v;
}

void fixture_raw_exec(sqlite3 *db, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK)
        fail_msg("%s: %s", sql, msg ? msg : "?");
}

/*==== A `whaco` command in-process ========================================*/

/* Read all of tmpfile f into buf[cap] and close it. */
static void slurp(FILE *f, char *buf, size_t cap)
{
    long n = ftell(f);
    assert_true(n >= 0 && (size_t)n < cap);
    rewind(f);
    assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
    buf[n] = '\0';
    fclose(f);
}

void fixture_run_command(struct fixture_run *r, fixture_cmd cmd, const char *name, va_list ap)
{
    char *argv[16];
    int argc = 0;
    argv[argc++] = (char *)name;
    for (char *a = va_arg(ap, char *); a; a = va_arg(ap, char *)) {
        assert_true(argc < 15);
        argv[argc++] = a;
    }
    argv[argc] = NULL;
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    r->status = cmd(argc, argv, out, err);
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
}

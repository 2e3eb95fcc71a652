/*
 * test_outcomes_import.c: `whaco outcomes import` (src/cli/outcomes.c)
 * driven in-process on data directories that a real engine made: usage
 * and bad files (exit 2 and 1, nothing created), an import recording what
 * it matches and reporting the rest, the same import again changing
 * nothing (the log's length and the loaded state byte-identical), and an
 * import while an engine runs on the directory (the engine picks it up;
 * its state and the log agree after a restart).
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
#include <time.h>
#include <cmocka.h>

#include "whaco/engine.h"
#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/outcomes.h"
#include "whaco/store.h"
#include "cli/cli.h"
#include "fixture.h"

/*==== Helpers =============================================================*/

/* Run `whaco <cmd> <args...>` (NULL-terminated) in-process. */
static void run(struct fixture_run *r, const char *cmd, ...)
{
    va_list ap;
    va_start(ap, cmd);
    fixture_run_command(r, !strcmp(cmd, "log") ? whaco_cmd_log : whaco_cmd_outcomes, cmd, ap);
    va_end(ap);
}

static int64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write text to fixture_dir/name; its path into path[128]. */
static void write_file(const char *name, const char *text, char path[128])
{
    snprintf(path, 128, "%s/%s", fixture_dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

/* Engine settings: a tracked floor (floor-tracking on), max-customers 1. */
static void floor_config(struct whaco_engine_config *cfg)
{
    fixture_engine_config(cfg);
    cfg->floor.tracking = WHACO_TRACKING_ON;
    cfg->floor.max_customers = 1;
}

static void clock_in(struct whaco_engine *e, const char *id)
{
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_CLOCK_IN);
    snprintf(ev.id, sizeof ev.id, "%s", id);
    fixture_call_ok(e, &ev);
}

/* A walk-in c-<i>; returns who has it ("" at the desk) into sp[64]. */
static void walk_in(struct whaco_engine *e, int i, char sp[64])
{
    struct whaco_event ev;
    whaco_event_init(&ev, WHACO_EV_ANALYZE);
    struct whaco_customer c = {"", 720, 75000, 28000, 3000, 5000, 1, 45, 0.7, 0};
    snprintf(c.id, sizeof c.id, "c-%d", i);
    ev.customer = c;
    struct whaco_engine_reply r = fixture_call_ok(e, &ev);
    snprintf(sp, 64, "%s", r.result.analysis.assigned_id);
}

/* The data directory's state as a server would load it, saved. */
static struct whaco_buf loaded_state(void)
{
    struct whaco_intel in;
    struct whaco_buf b = WHACO_BUF_INIT;
    struct whaco_store_spec spec = fixture_spec(WHACO_SYNC_FULL);
    char msg[512];
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    if (whaco_engine_load(&spec, &in, msg, sizeof msg) != WHACO_OK)
        fail_msg("load: %s", msg);
    assert_int_equal(whaco_intel_save(&in, &b), WHACO_OK);
    whaco_intel_release(&in);
    return b;
}

static uint64_t logged_events(void)
{
    struct whaco_store *s = fixture_open_store(WHACO_SYNC_FULL);
    uint64_t n = whaco_store_last_seq(s);
    whaco_store_close(s);
    return n;
}

/*
 * A data directory with sp-1 and sp-2 on the floor, c-1 with sp-1, c-2
 * with sp-2, c-3 waiting at the desk. Returns the engine if keep, else
 * stops it and returns NULL.
 */
static struct whaco_engine *busy_directory(const struct whaco_engine_config *cfg, bool keep)
{
    char sp[64];
    struct whaco_engine *e = fixture_start(cfg);
    fixture_add_salesperson(e, "sp-1", 0.9);
    fixture_add_salesperson(e, "sp-2", 0.5);
    clock_in(e, "sp-1");
    clock_in(e, "sp-2");
    walk_in(e, 1, sp);
    assert_string_equal(sp, "sp-1");
    walk_in(e, 2, sp);
    assert_string_equal(sp, "sp-2");
    walk_in(e, 3, sp);
    assert_string_equal(sp, "");
    if (keep)
        return e;
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    return NULL;
}

/* The import file of these tests, its times now. */
static void outcomes_file(char path[128])
{
    char when[32], text[1024];
    whaco_time_format(now_ms(), when);
    snprintf(text, sizeof text,
             "customerId,outcome,salespersonId,dealId,time,notes\n"
             "c-1,sold,sp-1,d-1,%s,paid cash\n"
             "c-2,no_sale,,,%s,\n"
             "c-9,no_sale,,,%s,\n"
             "c-3,be_back,sp-1,,%s,\n"
             "c-2,sold,sp-2,,yesterday,\n",
             when, when, when, when);
    write_file("crm.csv", text, path);
}

/*==== Cases ===============================================================*/

static void outcomes_import__usage_and_files_that_cannot_be_imported(void **state)
{
    (void)state;
    struct fixture_run r;
    char path[128], missing[128];
    run(&r, "outcomes", NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "usage"));
    run(&r, "outcomes", "export", "x.csv", NULL);
    assert_int_equal(r.status, 2);
    run(&r, "outcomes", "import", NULL);
    assert_int_equal(r.status, 2);
    run(&r, "outcomes", "import", "a.csv", "b.csv", NULL);
    assert_int_equal(r.status, 2);
    run(&r, "outcomes", "import", "a.csv", "--data", NULL);
    assert_int_equal(r.status, 2);
    run(&r, "outcomes", "import", "a.csv", "--bogus", NULL);
    assert_int_equal(r.status, 2);

    struct whaco_engine_config cfg;
    floor_config(&cfg);
    busy_directory(&cfg, false);
    uint64_t events = logged_events();
    /* A file that cannot be read, or is not an outcomes file: 1, nothing logged. */
    snprintf(missing, sizeof missing, "%s/none.csv", fixture_dir);
    run(&r, "outcomes", "import", missing, "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "none.csv"));
    write_file("bad.csv", "customerId,outcome\nc-1,sold\n", path);
    run(&r, "outcomes", "import", path, "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "CSV_MISSING_COLUMN"));
    assert_non_null(strstr(r.err, "time"));
    write_file("quote.csv", "customerId,outcome,time\n\"c-1,sold,x\n", path);
    run(&r, "outcomes", "import", path, "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 1);
    assert_non_null(strstr(r.err, "CSV_SYNTAX"));
    assert_int_equal(logged_events(), events);
    /* A data directory that does not exist: 2, and it is not created. */
    outcomes_file(path);
    snprintf(missing, sizeof missing, "%s/none", fixture_dir);
    run(&r, "outcomes", "import", path, "--data", missing, NULL);
    assert_int_equal(r.status, 2);
    assert_non_null(strstr(r.err, "No such file"));
    struct stat st;
    assert_int_not_equal(stat(missing, &st), 0);
}

static void outcomes_import__records_once_and_a_second_import_changes_nothing(void **state)
{
    (void)state;
    struct fixture_run r;
    char path[128];
    struct whaco_engine_config cfg;
    floor_config(&cfg);
    busy_directory(&cfg, false);
    uint64_t before = logged_events();
    outcomes_file(path);
    run(&r, "outcomes", "import", path, "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 0);
    /* c-1 sold: c-3 goes to sp-1, and so its be_back row by sp-1 ends it too. */
    assert_non_null(strstr(r.out, "5 rows: 3 recorded, 0 already recorded, 2 unmatched\n"));
    assert_non_null(strstr(r.out, "ignored 1 column: notes\n"));
    assert_non_null(strstr(r.out, "row 4\tc-9\tUNKNOWN_CUSTOMER\t"));
    assert_non_null(strstr(r.out, "row 6\tc-2\tINVALID_FIELD\ttime must be"));
    assert_int_equal(logged_events(), before + 3);
    struct whaco_buf once = loaded_state();

    run(&r, "log", "--data", fixture_dir, "--after", "7", NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out,
                           "\"type\":\"outcome\",\"customerId\":\"c-1\",\"outcome\":\"sold\","
                           "\"salespersonId\":\"sp-1\",\"dealId\":\"d-1\""));
    assert_non_null(strstr(r.out, "\"via\":\"cli\",\"row\":2}"));

    run(&r, "outcomes", "import", path, "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "5 rows: 0 recorded, 3 already recorded, 2 unmatched\n"));
    assert_int_equal(logged_events(), before + 3);
    struct whaco_buf twice = loaded_state();
    assert_int_equal(once.len, twice.len);
    assert_memory_equal(once.data, twice.data, once.len);
    whaco_buf_release(&once);
    whaco_buf_release(&twice);
}

static void outcomes_import__a_running_server_picks_the_import_up(void **state)
{
    (void)state;
    struct fixture_run r;
    char path[128];
    struct whaco_engine_config cfg;
    struct whaco_engine_stats st;
    floor_config(&cfg);
    cfg.retry_ms = 20;
    struct whaco_engine *e = busy_directory(&cfg, true);
    whaco_engine_stats(e, &st);
    uint64_t before = st.last_seq;
    outcomes_file(path);
    run(&r, "outcomes", "import", path, "--data", fixture_dir, NULL);
    assert_int_equal(r.status, 0);
    assert_non_null(strstr(r.out, "3 recorded"));
    struct timespec ms = {0, 1000000};
    for (int waited = 0; st.last_seq < before + 3 && waited < 5000; waited++) {
        nanosleep(&ms, NULL);
        whaco_engine_stats(e, &st);
    }
    assert_int_equal(st.last_seq, before + 3);
    /* The server's view is the log's state, and its next event follows the import's. */
    struct whaco_buf view = fixture_saved_state(e), log = loaded_state();
    assert_int_equal(view.len, log.len);
    assert_memory_equal(view.data, log.data, view.len);
    char sp[64];
    walk_in(e, 4, sp);
    assert_string_equal(sp, "sp-2"); /* c-2 ended: sp-2 is free */
    struct whaco_buf running = fixture_saved_state(e);
    assert_int_equal(whaco_engine_stop(e), WHACO_OK);
    struct whaco_buf restarted = loaded_state();
    assert_int_equal(running.len, restarted.len);
    assert_memory_equal(running.data, restarted.data, running.len);
    whaco_buf_release(&view);
    whaco_buf_release(&log);
    whaco_buf_release(&running);
    whaco_buf_release(&restarted);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        FIXTURE_TEST(outcomes_import__usage_and_files_that_cannot_be_imported),
        FIXTURE_TEST(outcomes_import__records_once_and_a_second_import_changes_nothing),
        FIXTURE_TEST(outcomes_import__a_running_server_picks_the_import_up),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

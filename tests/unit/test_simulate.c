/*
 * test_simulate.c: the `whaco simulate` and `whaco replay` commands:
 * option validation (exit 2 with a message), the JSON and SVG outputs, and
 * a replay of a store recorded in a mkdtemp directory through the same
 * event code as the service, which must not write to the store.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, open_memstream */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/gen.h"
#include "whaco/intel.h"
#include "whaco/store.h"
#include "whaco/store_sqlite.h"
#include "cli/cli.h"

#define MINUTE 60000LL
#define T0     1767258000000LL /* 2026-01-01T09:00:00Z */

/* Run a command with argv (NULL-terminated); *text gets stdout+stderr. */
static int run(int (*cmd)(int, char **, FILE *, FILE *), char **text, const char *const *args)
{
    char *argv[32];
    int argc = 0;
    size_t len;
    FILE *f = open_memstream(text, &len);
    for (; args[argc]; argc++)
        argv[argc] = (char *)args[argc];
    argv[argc] = NULL;
    int rc = cmd(argc, argv, f, f);
    fclose(f);
    return rc;
}

static void simulate__bad_options_exit_2(void **state)
{
    (void)state;
    static const char *const bad[][5] = {
        {"simulate", "--days", "0", NULL},
        {"simulate", "--strategy", "best", NULL},
        {"simulate", "--arrival-rate", "-1", NULL},
        {"simulate", "--replications", "x", NULL},
        {"simulate", "--team-size", "0", NULL},
        {"simulate", "--frobnicate", NULL, NULL},
        {"simulate", "--team", "/nonexistent.csv", NULL},
        {"simulate", "--observed-skills", "yes", NULL},
        {"simulate", "--hidden-skills", "1.5", NULL},
        {"simulate", "--feature-gain", "-1", NULL},
        {"simulate", "--walkins", "/nonexistent/dir/w.csv", NULL},
        {"simulate", "--sweep", "--walkins", "w.csv", NULL},
        {"simulate", "--experiment", "network,network", NULL},
        {"simulate", "--experiment", "network", NULL},
        {"simulate", "--experiment", NULL, NULL},
        {"simulate", "--detect", "0", NULL},
        {"simulate", "--detect", "51", NULL},
        {"simulate", "--sweep", "--experiment", "network,up-rotation", NULL},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char *text = NULL;
        assert_int_equal(run(whaco_cmd_simulate, &text, bad[i]), 2);
        assert_non_null(strstr(text, "whaco"));
        free(text);
    }
}

static void simulate__json_and_plot(void **state)
{
    (void)state;
    char dir[] = "/tmp/whaco-sim-XXXXXX", svg[64], csv[64];
    assert_non_null(mkdtemp(dir));
    snprintf(svg, sizeof svg, "%s/p.svg", dir);
    snprintf(csv, sizeof csv, "%s/team.csv", dir);
    FILE *f = fopen(csv, "w");
    fputs("id,name,skillLevel,naturalFrequency\na,Ann,0.9,0.9\nb,Bob,0.4,0.85\n", f);
    fclose(f);
    const char *const args[] = {"simulate", "--days", "1", "--replications",
                                "2",        "--team", csv, "--json",
                                "--plot",   svg,      NULL};
    char *text = NULL;
    assert_int_equal(run(whaco_cmd_simulate, &text, args), 0);
    assert_memory_equal(text, "{\"command\":", 11);
    assert_non_null(strstr(text, "\"oscillator\""));
    assert_non_null(strstr(text, "\"teamSize\":2"));
    free(text);
    struct stat st;
    assert_int_equal(stat(svg, &st), 0);
    assert_true(st.st_size > 1000);
    unlink(svg);
    unlink(csv);
    rmdir(dir);
}

/*
 * --experiment: the two rules on the whole floor (the strategies' table has
 * them, and only them unless --strategy adds more), then the A/B test's
 * report; the same run twice gives the same bytes; JSON keeps every key of
 * the strategies' document and adds "experiment".
 */
static void simulate__experiment_reports_the_test_and_the_days_it_needs(void **state)
{
    (void)state;
    const char *const args[] = {
        "simulate", "--days", "2", "--replications", "3", "--experiment", "up-rotation,least-busy",
        NULL};
    char *text = NULL, *again = NULL;
    assert_int_equal(run(whaco_cmd_simulate, &text, args), 0);
    assert_int_equal(run(whaco_cmd_simulate, &again, args), 0);
    assert_string_equal(text, again);
    assert_non_null(strstr(text, "up-rotation"));
    assert_non_null(strstr(text, "least-busy"));
    assert_null(strstr(text, "oscillator "));
    assert_non_null(strstr(text, "A/B test, split per walk-in: A = up-rotation, B = least-busy "
                                 "(3 replications of 2 business days"));
    assert_non_null(strstr(text, "(empirical power "));
    assert_non_null(strstr(text, "to detect 3.0 points (80% power, 5% significance)"));
    assert_non_null(strstr(text, "split per day instead: B - A "));
    assert_non_null(strstr(text, "to detect 3.0 points split per day: "));
    free(text);
    free(again);

    const char *const json[] = {"simulate",
                                "--days",
                                "2",
                                "--replications",
                                "3",
                                "--json",
                                "--experiment",
                                "network,round-robin,7",
                                "--detect",
                                "5",
                                "--strategy",
                                "oscillator",
                                NULL};
    assert_int_equal(run(whaco_cmd_simulate, &text, json), 0);
    assert_memory_equal(text, "{\"command\":", 11);
    assert_non_null(strstr(text, "\"strategies\":[{\"name\":\"round-robin\""));
    assert_non_null(strstr(text, "{\"name\":\"oscillator\""));
    assert_non_null(strstr(text, "{\"name\":\"network\""));
    assert_non_null(strstr(text, "],\"experiment\":{\"assignmentA\":\"network\","
                                 "\"assignmentB\":\"round-robin\",\"split\":\"walk-in\","
                                 "\"replications\":3,"));
    assert_non_null(strstr(text, "\"detectPoints\":5,\"walkinsPerArmNeeded\":"));
    assert_non_null(strstr(text, "\"daysNeeded\":"));
    assert_non_null(strstr(text, ",\"perDay\":{\"closeRatePoints\":{"));
    assert_memory_equal(text + strlen(text) - 2, "}\n", 2);
    free(text);

    /* One day per replication: the per-day split has no day-to-day variance to go on. */
    const char *const one_day[] = {"simulate",
                                   "--days",
                                   "1",
                                   "--replications",
                                   "2",
                                   "--json",
                                   "--experiment",
                                   "up-rotation,network",
                                   NULL};
    assert_int_equal(run(whaco_cmd_simulate, &text, one_day), 0);
    assert_non_null(strstr(text, "\"dayCloseRateSdPoints\":[null,null],\"daysNeeded\":null}}"));
    free(text);
    const char *const one_text[] = {
        "simulate", "--days", "1", "--replications", "2", "--experiment", "up-rotation,network",
        NULL};
    assert_int_equal(run(whaco_cmd_simulate, &text, one_text), 0);
    assert_non_null(strstr(text, "split per day: unknown (fewer than two business days"));
    free(text);
}

/* Write text to dir/name; the path into path[cap]. */
/* --walkins: the header and one row per walk-in of every run, each with its fields. */
static void simulate__walkins_csv(void **state)
{
    (void)state;
    char dir[] = "/tmp/whaco-sim-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/w.csv", dir);
    const char *const args[] = {"simulate", "--days",     "1",       "--replications",
                                "2",        "--strategy", "network", "--walkins",
                                path,       NULL};
    char *text = NULL, line[1024];
    assert_int_equal(run(whaco_cmd_simulate, &text, args), 0);
    free(text);
    FILE *f = fopen(path, "r");
    assert_non_null(f);
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "replication,strategy,walkin,arriveMs,endMs,fate,salesperson,"
                              "trueSegment,clusterId,isOutlier,x0,x1,x2,x3,x4,x5,x6,x7,"
                              "closeProbability,trueChance,sold\n");
    size_t rows[2] = {0, 0};
    while (fgets(line, sizeof line, f)) {
        int commas = 0;
        for (char *c = line; *c; c++)
            commas += *c == ',';
        assert_int_equal(commas, 20);
        assert_true(line[0] == '0' || line[0] == '1');
        assert_memory_equal(line + 1, ",network,", 9);
        rows[line[0] - '0']++;
    }
    fclose(f);
    assert_true(rows[0] > 10 && rows[1] > 10);
    unlink(path);
    rmdir(dir);
}

static void write_file(const char *dir, const char *name, const char *text, char *path, size_t cap)
{
    snprintf(path, cap, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void simulate__json_team_file_decodes_escapes(void **state)
{
    (void)state;
    char dir[] = "/tmp/whaco-sim-XXXXXX", path[96];
    assert_non_null(mkdtemp(dir));
    /* \u escapes in an id ("a", "b") and in names (é, a car as a surrogate pair). */
    write_file(dir, "team.json",
               "[{\"id\": \"\\u0061\", \"name\": \"Jos\\u00e9\", \"skillLevel\": 0.9,\n"
               "  \"naturalFrequency\": 0.9, \"note\": \"ignored\"},\n"
               " {\"id\": \"\\u0062\", \"name\": \"\\ud83d\\ude97 Bob\", \"skillLevel\": 0.4,\n"
               "  \"naturalFrequency\": 0.85}]\n",
               path, sizeof path);
    const char *const args[] = {"simulate", "--days", "1", "--replications", "2", "--team",
                                path,       "--json", NULL};
    char *text = NULL;
    assert_int_equal(run(whaco_cmd_simulate, &text, args), 0);
    assert_non_null(strstr(text, "\"teamSize\":2"));
    free(text);
    unlink(path);
    rmdir(dir);
}

/* Each bad team file: exit 2 and a message naming the file, where, the field and the rule. */
static void simulate__team_file_errors_say_where_and_what(void **state)
{
    (void)state;
#define HEAD "id,name,skillLevel,naturalFrequency\n"
#define M    "\"name\":\"Ann\",\"skillLevel\":0.5,\"naturalFrequency\":0.9"
    static const struct {
        const char *name, *text, *message;
    } rows[] = {
        {"t.csv", "", "t.csv: no header row\n"},
        {"t.csv", "id,name,skillLevel\n", "t.csv: the header has no column naturalFrequency\n"},
        {"t.csv", HEAD, "t.csv: no salespeople\n"},
        {"t.csv", HEAD "a,Ann,x,0.9\n",
         "t.csv: line 2: expected id,name,skillLevel,naturalFrequency\n"},
        {"t.csv", HEAD "a,Ann,0.5,0.9\nb,Bob,1.5,0.9\n",
         "t.csv: salesperson 3: skillLevel: skillLevel must be between 0 and 1\n"},
        {"t.csv", HEAD "a,Ann,0.5,0.9\na,Bob,0.5,0.9\n", "t.csv: duplicate id a\n"},
        {"t.json", "[]", "t.json: no salespeople\n"},
        {"t.json", "[{\"id\":\"a\"," M "},{\"id\":\"a b\"," M "}]",
         "t.json: salesperson 2: id: identifier must be 1 to 63 bytes of printable text\n"},
        {"t.json",
         "[{\"id\":\"a\",\"name\":\"\\u0007\",\"skillLevel\":0.5,\"naturalFrequency\":0.9}]",
         "t.json: salesperson 1: name: "},
        {"t.json", "[{\"id\":\"a\"," M "},{\"id\":\"a\"," M "}]", "t.json: duplicate id a\n"},
        {"t.json", "[{" M "}]",
         "t.json: salesperson 1 needs id, name, skillLevel and naturalFrequency\n"},
        {"t.json",
         "[{\"id\":\"a\",\"name\":\"Ann\",\"skillLevel\":\"high\",\"naturalFrequency\":1}]",
         "t.json: salesperson 1: skillLevel: expected a number, not a string\n"},
        {"t.json", "[{\"id\":\"a\"," M "}\n{\"id\":\"b\"," M "}]",
         "t.json: invalid JSON at line 2, column 1 (byte 66): ']' expected near '{'\n"},
        {"t.json", "{\"id\":\"a\"," M "}",
         "t.json: expected a JSON array of {\"id\", \"name\", \"skillLevel\", "
         "\"naturalFrequency\"} objects, not an object\n"},
    };
#undef HEAD
#undef M
    char dir[] = "/tmp/whaco-sim-XXXXXX", path[96];
    assert_non_null(mkdtemp(dir));
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        write_file(dir, rows[i].name, rows[i].text, path, sizeof path);
        const char *const args[] = {"simulate", "--days", "1",  "--replications",
                                    "2",        "--team", path, NULL};
        char *text = NULL, want[512];
        snprintf(want, sizeof want, "whaco: %s/%s", dir, rows[i].message);
        int rc = run(whaco_cmd_simulate, &text, args);
        if (rc != 2 || strncmp(text, want, strlen(want)) != 0)
            fail_msg("row %zu: exit %d, said: %s\nwanted: %s", i, rc, text, want);
        free(text);
        unlink(path);
    }
    rmdir(dir);
}

static void replay__reads_a_recorded_store_without_writing(void **state)
{
    (void)state;
    char dir[] = "/tmp/whaco-replay-XXXXXX", db[96];
    char *text = NULL;
    assert_non_null(mkdtemp(dir));
    snprintf(db, sizeof db, "%s/%s", dir, WHACO_STORE_FILENAME);

    /* A missing database is refused, not created. */
    const char *const missing[] = {"replay", "--data", dir, NULL};
    assert_int_equal(run(whaco_cmd_replay, &text, missing), 2);
    free(text);
    struct stat st;
    assert_int_not_equal(stat(db, &st), 0);

    /* Record a morning: three salespeople, a walk-in every 6 minutes, ticks, deals. */
    struct whaco_store *s = NULL;
    struct whaco_intel in;
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    char err[256];
    struct whaco_store_spec spec = {WHACO_STORE_SQLITE, dir, WHACO_SYNC_NORMAL, 0};
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_OK);
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    whaco_rng_seed(&rng, 9);
    whaco_gen_params_default(&gp);
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    static const char *const ids[3] = {"ann", "bob", "cy"};
    for (int k = 0; k < 3 + 40; k++) {
        struct whaco_event ev;
        struct whaco_event_result res;
        struct whaco_buf b = WHACO_BUF_INIT;
        if (k < 3) {
            whaco_event_init(&ev, WHACO_EV_ADD_SALESPERSON);
            snprintf(ev.id, sizeof ev.id, "%s", ids[k]);
            snprintf(ev.name, sizeof ev.name, "%s", ids[k]);
            ev.skill_level = 0.3 + 0.3 * k;
            ev.natural_frequency = 0.9;
            ev.time_ms = T0;
        } else if (k % 4 == 0) {
            whaco_event_init(&ev, WHACO_EV_DEAL_CLOSED);
            snprintf(ev.id, sizeof ev.id, "%s", ids[k % 3]);
            ev.time_ms = T0 + k * 6 * MINUTE;
        } else {
            whaco_event_init(&ev, WHACO_EV_ANALYZE);
            whaco_gen_customer(&rng, &gp, &ev.customer, NULL);
            snprintf(ev.customer.id, sizeof ev.customer.id, "c%d", k);
            ev.time_ms = T0 + k * 6 * MINUTE;
        }
        if (whaco_event_apply(&in, &ev, &res, NULL) != WHACO_OK)
            continue; /* e.g. nothing to close yet */
        whaco_event_encode(&ev, &b);
        assert_int_equal(whaco_store_append(s, ev.time_ms, ev.type, b.data, b.len, NULL), WHACO_OK);
        whaco_buf_release(&b);
    }
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
    uint64_t last = whaco_store_last_seq(s);
    whaco_store_close(s);
    whaco_intel_release(&in);

    const char *const args[] = {"replay", "--data", dir, "--replications", "3", NULL};
    assert_int_equal(run(whaco_cmd_replay, &text, args), 0);
    assert_non_null(strstr(text, "guessed"));
    assert_non_null(strstr(text, "oscillator"));
    free(text);
    const char *const one[] = {"replay", "--data", dir, "--strategy", "oscillator", "--json", NULL};
    assert_int_equal(run(whaco_cmd_replay, &text, one), 0);
    assert_non_null(strstr(text, "\"guessedOutcomes\":0"));
    free(text);
    /* The A/B test on the recorded walk-ins, all of one local day. */
    const char *const ab[] = {
        "replay",         "--data", dir, "--experiment", "up-rotation,network",
        "--replications", "2",      NULL};
    assert_int_equal(run(whaco_cmd_replay, &text, ab), 0);
    assert_non_null(strstr(text, "A/B test, split per walk-in: A = up-rotation, B = network "
                                 "(2 replications of 1 business day,"));
    free(text);
    const char *const bad_ab[] = {"replay", "--data", dir, "--experiment", "up-rotation", NULL};
    assert_int_equal(run(whaco_cmd_replay, &text, bad_ab), 2);
    free(text);

    /* Nothing was appended. */
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_OK);
    assert_int_equal(whaco_store_last_seq(s), last);
    whaco_store_close(s);
    char p[128];
    static const char *const files[] = {"whaco.db", "whaco.db-wal", "whaco.db-shm"};
    for (int i = 0; i < 3; i++) {
        snprintf(p, sizeof p, "%s/%s", dir, files[i]);
        unlink(p);
    }
    rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(simulate__bad_options_exit_2),
        cmocka_unit_test(simulate__walkins_csv),
        cmocka_unit_test(simulate__json_and_plot),
        cmocka_unit_test(simulate__experiment_reports_the_test_and_the_days_it_needs),
        cmocka_unit_test(simulate__json_team_file_decodes_escapes),
        cmocka_unit_test(simulate__team_file_errors_say_where_and_what),
        cmocka_unit_test(replay__reads_a_recorded_store_without_writing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

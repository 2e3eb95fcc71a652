/*
 * test_routes.c: the route table of the HTTP API (http/request.h,
 * src/http/routes.c): every row is complete, every path matches its own
 * row, and routes_check -- which whaco_server_start runs -- refuses a table
 * with a row that lacks what its kind needs (a forgotten handler or an
 * unknown kind), so that no request is ever answered by another row's code.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http/request.h"

static enum MHD_Result read_nothing(struct request *rq)
{
    (void)rq;
    return MHD_NO;
}

static int parse_nothing(struct request *rq, struct whaco_event *ev, struct api_error *e)
{
    (void)rq;
    (void)ev;
    (void)e;
    return -1;
}

static int parse_batch_nothing(struct request *rq, struct api_error *e)
{
    (void)rq;
    (void)e;
    return -1;
}

static char *reply_nothing(struct request *rq)
{
    (void)rq;
    return NULL;
}

static void routes__the_table_passes_its_check(void **state)
{
    (void)state;
    size_t n;
    char why[160] = "";
    const struct route *t = routes_table(&n);
    assert_true(routes_check(t, n, why, sizeof why));
    assert_string_equal(why, "");
    for (size_t i = 0; i < n; i++)
        assert_string_equal(routes_metric((unsigned)i), t[i].metric);
    assert_string_equal(routes_metric((unsigned)n), "unknown");
}

static void routes__every_path_matches_its_own_row(void **state)
{
    (void)state;
    size_t n;
    char url[256];
    const struct route *t = routes_table(&n);
    for (size_t i = 0; i < n; i++) {
        if (t[i].match == MATCH_EXACT) {
            assert_ptr_equal(routes_match(t[i].path), &t[i]);
        } else if (t[i].match == MATCH_PREFIX) {
            snprintf(url, sizeof url, "%ssp-1", t[i].path);
            assert_ptr_equal(routes_match(url), &t[i]);
            snprintf(url, sizeof url, "%ssp-1/more", t[i].path);
            assert_int_equal(routes_match(url)->match, MATCH_API);
            assert_int_equal(routes_match(t[i].path)->match, MATCH_API); /* no id */
        }
    }
    assert_int_equal(routes_match("/api/intelligence/nothing")->match, MATCH_API);
    assert_int_equal(routes_match("/api/intelligence/nothing")->kind, ROUTE_NONE);
    assert_int_equal(routes_match("/")->match, MATCH_FILES);
    assert_int_equal(routes_match("/app.js")->match, MATCH_FILES);
    assert_int_equal(routes_match("/api/intelligence/team-status/")->match, MATCH_API);
}

/* A minimal good table, changed by each case below. */
static void good_table(struct route t[4])
{
    memset(t, 0, 4 * sizeof t[0]);
    t[0] = (struct route){.path = "/r",
                          .match = MATCH_EXACT,
                          .method = "GET",
                          .metric = "/r",
                          .kind = ROUTE_READ,
                          .read = read_nothing};
    t[1] = (struct route){.path = "/w",
                          .match = MATCH_EXACT,
                          .method = "POST",
                          .metric = "/w",
                          .kind = ROUTE_WRITE,
                          .parse = parse_nothing,
                          .reply = reply_nothing,
                          .reply_status = 200};
    t[2] = (struct route){.match = MATCH_FILES,
                          .method = "GET",
                          .metric = "static",
                          .kind = ROUTE_READ,
                          .read = read_nothing};
    t[3] = (struct route){
        .match = MATCH_API, .method = "GET", .metric = "unmatched", .kind = ROUTE_NONE};
}

static void expect_refused(const struct route *t, const char *because)
{
    char why[160] = "";
    assert_false(routes_check(t, 4, why, sizeof why));
    if (!strstr(why, because))
        fail_msg("routes_check said '%s', expected it to mention '%s'", why, because);
}

static void routes__a_row_without_its_behaviour_is_refused(void **state)
{
    (void)state;
    struct route t[4];
    char why[160];
    good_table(t);
    assert_true(routes_check(t, 4, why, sizeof why));

    good_table(t);
    t[0].kind = (enum route_kind)42;
    expect_refused(t, "unknown route kind");
    good_table(t);
    t[1].kind = (enum route_kind) - 1;
    expect_refused(t, "unknown route kind");

    good_table(t);
    t[1].parse = NULL; /* a write nobody taught to parse: once, it became a reset */
    expect_refused(t, "parse or parse_batch");
    good_table(t);
    t[1].parse_batch = parse_batch_nothing; /* both: which one would run? */
    expect_refused(t, "parse or parse_batch");
    good_table(t);
    t[1].parse = NULL;
    t[1].parse_batch = parse_batch_nothing;
    assert_true(routes_check(t, 4, why, sizeof why));
    good_table(t);
    t[1].reply = NULL;
    expect_refused(t, "parse or parse_batch");
    good_table(t);
    t[1].reply_status = 0;
    expect_refused(t, "reply_status");
    good_table(t);
    t[0].read = NULL; /* a read nobody taught to answer: once, it served /metrics */
    expect_refused(t, "no read function");
    good_table(t);
    t[0].method = "POST";
    expect_refused(t, "must answer GET");
    good_table(t);
    t[1].method = "GET";
    expect_refused(t, "must not answer GET");
    good_table(t);
    t[0].kind = ROUTE_NONE;
    expect_refused(t, "only the unmatched row");
    good_table(t);
    t[1].metric = "/r";
    expect_refused(t, "metric name");
    good_table(t);
    t[0].metric = NULL;
    expect_refused(t, "metric name");
    good_table(t);
    t[0].path = NULL;
    expect_refused(t, "needs a path");
    good_table(t);
    t[2].match = MATCH_EXACT;
    t[2].path = "/s";
    expect_refused(t, "exactly one");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(routes__the_table_passes_its_check),
        cmocka_unit_test(routes__every_path_matches_its_own_row),
        cmocka_unit_test(routes__a_row_without_its_behaviour_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_stateio.c: the seed-compatible state files (http/stateio.h): an
 * export imports back to the same model and team, and bad files are
 * refused naming the file and field.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "whaco/err.h"
#include "whaco/gen.h"
#include "http/stateio.h"

#define T0 1737124200000

static struct whaco_intel a, b;

static void build(struct whaco_intel *in)
{
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    struct whaco_analysis an;
    assert_int_equal(whaco_intel_init(in, NULL, NULL, NULL), WHACO_OK);
    struct whaco_member_spec s1 = {"sp-1", "Jane Smith", 0.9, 0.95, 1.0, 2};
    struct whaco_member_spec s2 = {"sp-2", "Bob Johnson", 0.4, 0.85, 2.0, 0};
    assert_int_equal(whaco_intel_add_salesperson(in, &s1, T0, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_add_salesperson(in, &s2, T0, NULL), WHACO_OK);
    whaco_rng_seed(&rng, 8);
    whaco_gen_params_default(&gp);
    for (int i = 0; i < 3000; i++) {
        struct whaco_customer c;
        whaco_gen_customer(&rng, &gp, &c, NULL);
        assert_int_equal(whaco_intel_analyze(in, &c, T0 + i, &an, NULL), WHACO_OK);
    }
}

static void stateio__export_imports_back_exactly(void **state)
{
    (void)state;
    char msg[256];
    build(&a);
    char *w = stateio_export_whaco(&a), *o = stateio_export_oscillator(&a);
    assert_non_null(w);
    assert_non_null(o);
    assert_int_equal(whaco_intel_init(&b, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(stateio_import(&b, w, strlen(w), o, strlen(o), msg, sizeof msg), WHACO_OK);
    /* The model is bit for bit the same (17 significant digits round-trip). */
    assert_memory_equal(a.seg.clusters, b.seg.clusters, sizeof a.seg.clusters);
    assert_memory_equal(a.seg.weights, b.seg.weights, sizeof a.seg.weights);
    assert_int_equal(a.seg.processed, b.seg.processed);
    assert_int_equal(a.seg.outliers, b.seg.outliers);
    /* ...and so is the team, but for today's counters. */
    assert_int_equal(b.team.n, 2);
    for (size_t i = 0; i < 2; i++) {
        assert_string_equal(a.team.members[i].id, b.team.members[i].id);
        assert_string_equal(a.team.members[i].name, b.team.members[i].name);
        assert_true(a.team.members[i].phase == b.team.members[i].phase);
        assert_true(a.team.members[i].skill == b.team.members[i].skill);
        assert_true(a.team.members[i].omega == b.team.members[i].omega);
        assert_int_equal(a.team.members[i].active_deals, b.team.members[i].active_deals);
    }
    char *w2 = stateio_export_whaco(&b);
    assert_string_equal(w, w2);
    free(w);
    free(o);
    free(w2);
    whaco_intel_release(&a);
    whaco_intel_release(&b);
}

static void expect_refused(const char *w, const char *o, const char *needle)
{
    char msg[256];
    assert_int_equal(whaco_intel_init(&b, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(stateio_import(&b, w, strlen(w), o, strlen(o), msg, sizeof msg),
                     WHACO_E_PARSE);
    if (!strstr(msg, needle))
        fail_msg("expected '%s' in: %s", needle, msg);
    whaco_intel_release(&b);
}

static void stateio__bad_files_are_refused_by_name(void **state)
{
    (void)state;
    build(&a);
    char *w = stateio_export_whaco(&a), *o = stateio_export_oscillator(&a);
    expect_refused("{", o, "whaco_state.json: not valid JSON");
    expect_refused("[]", o, "whaco_state.json");
    expect_refused("{\"version\":2}", o, "version");
    expect_refused("{\"clusters\":[]}", o, "clusters");
    expect_refused(w, "{\"oscillators\":[{\"id\":\"x\",\"name\":\"X\",\"skillLevel\":2}]}",
                   "oscillator_state.json: oscillators[0].skillLevel");
    expect_refused(w,
                   "{\"oscillators\":[{\"id\":\"x\",\"name\":\"X\",\"skillLevel\":0.5},"
                   "{\"id\":\"x\",\"name\":\"Y\",\"skillLevel\":0.5}]}",
                   "oscillators[1]");
    expect_refused(w, "{\"couplingStrength\":-1}", "couplingStrength");
    /* A negative variance is an impossible model. */
    const char *v = strstr(w, "\"variance\": [");
    assert_non_null(v);
    v += strlen("\"variance\": [");
    const char *comma = strchr(v, ',');
    assert_non_null(comma);
    size_t head = (size_t)(v - w);
    char *neg = malloc(strlen(w) + 16);
    assert_non_null(neg);
    snprintf(neg, strlen(w) + 16, "%.*s -0.5%s", (int)head, w, comma);
    expect_refused(neg, o, "impossible model");
    free(neg);
    free(w);
    free(o);
    whaco_intel_release(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(stateio__export_imports_back_exactly),
        cmocka_unit_test(stateio__bad_files_are_refused_by_name),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

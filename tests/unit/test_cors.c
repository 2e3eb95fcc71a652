/*
 * test_cors.c: the CORS allow-list (http/cors.h): closed when empty, exact
 * matches only, origins normalised, wildcards and paths refused.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http/cors.h"

static struct cors_list l;

static void cors__empty_list_allows_nothing(void **state)
{
    (void)state;
    cors_list_clear(&l);
    assert_false(cors_allowed(&l, "http://127.0.0.1:8080"));
    assert_false(cors_allowed(&l, NULL));
}

static void cors__exact_origins_after_normalising(void **state)
{
    (void)state;
    char err[200];
    cors_list_clear(&l);
    assert_int_equal(
        cors_list_add(&l, " HTTPS://Desk.Example:8443/ , http://10.0.0.5:3000", err, sizeof err),
        0);
    assert_int_equal(cors_list_add(&l, "https://desk.example:8443", err, sizeof err), 0);
    assert_int_equal(l.n, 2); /* the duplicate once */
    assert_true(cors_allowed(&l, "https://desk.example:8443"));
    assert_true(cors_allowed(&l, "http://10.0.0.5:3000"));
    assert_false(cors_allowed(&l, "https://desk.example"));     /* another port */
    assert_false(cors_allowed(&l, "http://desk.example:8443")); /* another scheme */
    assert_false(cors_allowed(&l, "https://desk.example:8443.evil.example"));
    assert_false(cors_allowed(&l, "https://evil.example"));
    assert_false(cors_allowed(&l, "null"));
    assert_false(cors_allowed(&l, NULL));
}

static void cors__wildcards_paths_and_junk_are_refused(void **state)
{
    (void)state;
    static const char *const bad[] = {
        "*",
        "null",
        "desk.example",
        "ftp://desk.example",
        "https://",
        "https://desk/app",
        "https://user@desk.example",
        "https://desk.example?x=1",
        "http://desk example",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        char err[200] = "";
        cors_list_clear(&l);
        assert_int_equal(cors_list_add(&l, bad[i], err, sizeof err), -1);
        assert_non_null(strstr(err, bad[i])); /* the message names it */
        assert_int_equal(l.n, 0);
    }
}

static void cors__list_is_bounded(void **state)
{
    (void)state;
    char err[200], origin[64];
    cors_list_clear(&l);
    for (int i = 0; i < CORS_MAX_ORIGINS; i++) {
        snprintf(origin, sizeof origin, "http://10.0.0.%d", i);
        assert_int_equal(cors_list_add(&l, origin, err, sizeof err), 0);
    }
    assert_int_equal(cors_list_add(&l, "http://10.0.1.1", err, sizeof err), -1);
    assert_int_equal(l.n, CORS_MAX_ORIGINS);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(cors__empty_list_allows_nothing),
        cmocka_unit_test(cors__exact_origins_after_normalising),
        cmocka_unit_test(cors__wildcards_paths_and_junk_are_refused),
        cmocka_unit_test(cors__list_is_bounded),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

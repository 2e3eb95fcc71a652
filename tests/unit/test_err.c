/*
 * test_err.c: the error codes and messages of whaco/err.h.
 *
 * The table is walked through the same X-macro that defines the enum, so a
 * code added later is covered without editing this file.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <limits.h>
#include <string.h>

#include "whaco/err.h"

struct entry {
    int code;
    const char *name; /* the X-macro's name, without the prefix */
};

static const struct entry table[] = {
#define ENTRY(name, value, msg) {WHACO_E_##name, #name},
    WHACO_ERR_MAP(ENTRY)
#undef ENTRY
};

#define N_CODES ((int)(sizeof table / sizeof table[0]))

static void err__codes_are_distinct_and_negative(void **state)
{
    (void)state;
    assert_true(N_CODES > 0);
    for (int i = 0; i < N_CODES; i++) {
        assert_true(table[i].code < 0);
        for (int j = i + 1; j < N_CODES; j++)
            assert_int_not_equal(table[i].code, table[j].code);
    }
}

static void err__every_code_has_message_and_name(void **state)
{
    (void)state;
    for (int i = 0; i < N_CODES; i++) {
        const char *msg = whaco_strerror(table[i].code);
        const char *name = whaco_errname(table[i].code);
        assert_non_null(msg);
        assert_non_null(name);
        assert_true(strlen(msg) > 0);
        assert_string_not_equal(msg, "unknown error");
        assert_string_not_equal(msg, "success");
        assert_string_equal(name, table[i].name);
    }
}

static void err__messages_are_distinct(void **state)
{
    (void)state;
    for (int i = 0; i < N_CODES; i++)
        for (int j = i + 1; j < N_CODES; j++)
            assert_string_not_equal(whaco_strerror(table[i].code), whaco_strerror(table[j].code));
}

static void err__success(void **state)
{
    (void)state;
    assert_int_equal(WHACO_OK, 0);
    assert_string_equal(whaco_strerror(0), "success");
    assert_string_equal(whaco_errname(0), "OK");
}

static void err__unknown_codes(void **state)
{
    (void)state;
    int lowest = 0;
    for (int i = 0; i < N_CODES; i++)
        if (table[i].code < lowest)
            lowest = table[i].code;
    const int unknown[] = {1, 42, lowest - 1, -1000, INT_MIN, INT_MAX};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        assert_string_equal(whaco_strerror(unknown[i]), "unknown error");
        assert_string_equal(whaco_errname(unknown[i]), "UNKNOWN");
    }
}

static void err__known_messages(void **state)
{
    (void)state;
    /* The API contract quotes these messages verbatim. */
    assert_string_equal(whaco_strerror(WHACO_E_EMPTY_TEAM), "No salespeople in network");
    assert_string_equal(whaco_errname(WHACO_E_EMPTY_TEAM), "EMPTY_TEAM");
    assert_string_equal(whaco_errname(WHACO_E_CREDIT_SCORE_RANGE), "CREDIT_SCORE_RANGE");
    assert_int_equal(WHACO_E_INVAL, -1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(err__codes_are_distinct_and_negative),
        cmocka_unit_test(err__every_code_has_message_and_name),
        cmocka_unit_test(err__messages_are_distinct),
        cmocka_unit_test(err__success),
        cmocka_unit_test(err__unknown_codes),
        cmocka_unit_test(err__known_messages),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_teamjson.c: JSON team files (src/http/teamjson.c): the members
 * passed on in order with \u escapes decoded, and one row per malformed
 * document with the code and the message that must come back -- where
 * (line, column and byte; or the member's position), which key, and what
 * is allowed.
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "whaco/err.h"
#include "http/teamjson.h"

/* What the callback saw. */
struct seen {
    size_t n;
    size_t index[8];
    char id[8][96];
    char name[8][160];
    double skill[8], omega[8];
    int stop_at; /* return 7 for this index (from 1); 0: never stop */
};

static int collect(void *ctx, size_t index, const char *id, const char *name, double skill_level,
                   double natural_frequency)
{
    struct seen *s = ctx;
    if (s->stop_at && (size_t)s->stop_at == index)
        return 7;
    assert_true(s->n < 8);
    s->index[s->n] = index;
    snprintf(s->id[s->n], sizeof s->id[0], "%s", id);
    snprintf(s->name[s->n], sizeof s->name[0], "%s", name);
    s->skill[s->n] = skill_level;
    s->omega[s->n] = natural_frequency;
    s->n++;
    return 0;
}

static int parse(const char *text, struct seen *s, char *msg, size_t msglen)
{
    return teamjson_parse(text, strlen(text), collect, s, msg, msglen);
}

static void teamjson__members_in_order_with_escapes_decoded(void **state)
{
    (void)state;
    struct seen s = {0};
    char msg[256] = "junk";
    const char *text =
        "[\n"
        "  {\"id\": \"a\", \"name\": \"Jos\\u00e9 \\ud83d\\ude97\", \"skillLevel\": 0.9,\n"
        "   \"naturalFrequency\": 0.9},\n"
        "  {\"naturalFrequency\": 1, \"skillLevel\": 4e-1, \"name\": \"B \\\"\\/\\\\\\t\",\n"
        "   \"id\": \"\\u0062\", \"phase\": 3, \"note\": {\"any\": [true, null]}, \"id\": \"b2\"}\n"
        "]\n";
    assert_int_equal(parse(text, &s, msg, sizeof msg), 0);
    assert_string_equal(msg, "");
    assert_int_equal(s.n, 2);
    assert_int_equal(s.index[0], 1);
    assert_string_equal(s.id[0], "a");
    assert_string_equal(s.name[0], "Jos\xc3\xa9 \xf0\x9f\x9a\x97"); /* é and U+1F697 in UTF-8 */
    assert_true(s.skill[0] == 0.9 && s.omega[0] == 0.9);
    assert_int_equal(s.index[1], 2);
    assert_string_equal(s.id[1], "b2"); /* a repeated key: its last value */
    assert_string_equal(s.name[1], "B \"/\\\t");
    assert_true(s.skill[1] == 0.4 && s.omega[1] == 1.0); /* integers are numbers too */

    /* An empty array passes nobody; the caller decides it is no team. */
    memset(&s, 0, sizeof s);
    assert_int_equal(parse(" [ ] ", &s, msg, sizeof msg), 0);
    assert_int_equal(s.n, 0);
}

static void teamjson__callback_stops_the_parse(void **state)
{
    (void)state;
    struct seen s = {.stop_at = 2};
    char msg[256];
    const char *m = "{\"id\":\"x\",\"name\":\"X\",\"skillLevel\":0.5,\"naturalFrequency\":0.9}";
    char text[512];
    snprintf(text, sizeof text, "[%s,%s,%s]", m, m, m);
    assert_int_equal(parse(text, &s, msg, sizeof msg), 7);
    assert_string_equal(msg, ""); /* the callback speaks for itself */
    assert_int_equal(s.n, 1);
}

static void teamjson__malformed_documents_say_what_and_where(void **state)
{
    (void)state;
#define M "\"id\":\"a\",\"name\":\"A\",\"skillLevel\":0.5"
    static const struct {
        const char *text;
        int rc;
        const char *msg;
    } rows[] = {
        {"", WHACO_E_PARSE,
         "invalid JSON at line 1, column 0 (byte 0): unexpected token near end of file"},
        {"not json", WHACO_E_PARSE,
         "invalid JSON at line 1, column 3 (byte 3): invalid token near 'not'"},
        {"[{" M ",\"naturalFrequency\":0.9},]", WHACO_E_PARSE,
         "invalid JSON at line 1, column 64 (byte 64): unexpected token near ']'"},
        {"[{" M ",\n\"naturalFrequency\":0.9}", WHACO_E_PARSE,
         "invalid JSON at line 2, column 23 (byte 63): ']' expected near end of file"},
        {"[{" M ",\"naturalFrequency\":0.9}] trailing", WHACO_E_PARSE,
         "invalid JSON at line 1, column 72 (byte 72): end of file expected near 'trailing'"},
        {"[{\"id\":\"\\u0000\"}]", WHACO_E_PARSE,
         "invalid JSON at line 1, column 15 (byte 15): \\u0000 is not allowed"},
        {"[{" M ",\"naturalFrequency\":0.9e}]", WHACO_E_PARSE,
         "invalid JSON at line 1, column 62 (byte 62): invalid token near '0.9e'"},
        {"{\"id\":\"a\"}", WHACO_E_PARSE,
         "expected a JSON array of {\"id\", \"name\", \"skillLevel\", \"naturalFrequency\"} "
         "objects,"
         " not an object"},
        {"42", WHACO_E_PARSE,
         "expected a JSON array of {\"id\", \"name\", \"skillLevel\", "
         "\"naturalFrequency\"} objects, not a number"},
        {"[{" M ",\"naturalFrequency\":0.9}, 1]", WHACO_E_PARSE,
         "salesperson 2: expected an object {\"id\", \"name\", \"skillLevel\", "
         "\"naturalFrequency\"}, not a number"},
        {"[[]]", WHACO_E_PARSE, "salesperson 1: expected an object {"},
        {"[{\"id\":5,\"name\":\"A\",\"skillLevel\":0.5,\"naturalFrequency\":0.9}]", WHACO_E_PARSE,
         "salesperson 1: id: expected a string, not a number"},
        {"[{\"id\":\"a\",\"name\":null,\"skillLevel\":0.5,\"naturalFrequency\":0.9}]",
         WHACO_E_PARSE, "salesperson 1: name: expected a string, not null"},
        {"[{\"id\":\"a\",\"name\":\"A\",\"skillLevel\":\"0.5\",\"naturalFrequency\":0.9}]",
         WHACO_E_PARSE, "salesperson 1: skillLevel: expected a number, not a string"},
        {"[{" M ",\"naturalFrequency\":true}]", WHACO_E_PARSE,
         "salesperson 1: naturalFrequency: expected a number, not true"},
        {"[{" M ",\"naturalFrequency\":0.9},{" M "}]", WHACO_E_PARSE,
         "salesperson 2 needs id, name, skillLevel and naturalFrequency"},
        {"[{}]", WHACO_E_PARSE, "salesperson 1 needs id, name, skillLevel and naturalFrequency"},
    };
#undef M
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        struct seen s = {0};
        char msg[256];
        int rc = parse(rows[i].text, &s, msg, sizeof msg);
        if (rc != rows[i].rc || strncmp(msg, rows[i].msg, strlen(rows[i].msg)) != 0)
            fail_msg("row %zu (%s): got %d \"%s\", want %d \"%s...\"", i, rows[i].text, rc, msg,
                     rows[i].rc, rows[i].msg);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(teamjson__members_in_order_with_escapes_decoded),
        cmocka_unit_test(teamjson__callback_stops_the_parse),
        cmocka_unit_test(teamjson__malformed_documents_say_what_and_where),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

/*
 * test_common.c: the CLI's shared helpers (src/cli/common.c), above all the
 * one JSON string escaping of the command-line output (cli_json_escape):
 * every byte's escape, a round trip through jansson, agreement with
 * jansson's own writer (the HTTP API's) up to the case of hex digits, and
 * cli_json_string across its chunk boundary.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream */
#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include <jansson.h>

#include "cli/common.h"

/* cli_json_escape of the n bytes at s, as a NUL-terminated string in buf. */
static const char *escaped(char *buf, size_t cap, const char *s, size_t n)
{
    assert_true(CLI_JSON_ESCAPED_MAX(n) < cap);
    char *end = cli_json_escape(buf, s, n);
    assert_true((size_t)(end - buf) <= CLI_JSON_ESCAPED_MAX(n));
    *end = '\0';
    return buf;
}

static void common__json_escape_rule_byte_by_byte(void **state)
{
    (void)state;
    /* The escaped bytes: the RFC's short forms, \u00xx for the other C0. */
    static const struct {
        unsigned char c;
        const char *want;
    } special[] = {
        {0x00, "\\u0000"}, {0x01, "\\u0001"}, {0x07, "\\u0007"}, {0x08, "\\b"},  {0x09, "\\t"},
        {0x0a, "\\n"},     {0x0b, "\\u000b"}, {0x0c, "\\f"},     {0x0d, "\\r"},  {0x0e, "\\u000e"},
        {0x1b, "\\u001b"}, {0x1f, "\\u001f"}, {'"', "\\\""},     {'\\', "\\\\"},
    };
    char buf[64];
    for (size_t k = 0; k < sizeof special / sizeof special[0]; k++) {
        char in = (char)special[k].c;
        assert_string_equal(escaped(buf, sizeof buf, &in, 1), special[k].want);
    }
    /* Every other byte passes as it is: '/', DEL and bytes >= 0x80 included. */
    for (unsigned c = 0x20; c <= 0xff; c++) {
        if (c == '"' || c == '\\')
            continue;
        char in = (char)c, want[2] = {(char)c, '\0'};
        assert_string_equal(escaped(buf, sizeof buf, &in, 1), want);
    }
    /* Nothing is written for nothing. */
    assert_string_equal(escaped(buf, sizeof buf, "", 0), "");
}

/* Every byte 0x01..0xff but the bytes >= 0x80, then some UTF-8. */
static size_t sample(char *s)
{
    size_t n = 0;
    for (unsigned c = 1; c < 0x80; c++)
        s[n++] = (char)c;
    static const char utf8[] = "Jos\xc3\xa9 \xf0\x9f\x9a\x97 \xe2\x82\xac";
    memcpy(s + n, utf8, sizeof utf8); /* NUL included */
    return n + sizeof utf8 - 1;
}

static void common__json_escape_round_trips_through_jansson(void **state)
{
    (void)state;
    char s[256], quoted[2048];
    size_t n = sample(s);
    quoted[0] = '"';
    char *end = cli_json_escape(quoted + 1, s, n);
    *end++ = '"';
    *end = '\0';
    json_error_t jerr;
    json_t *v = json_loads(quoted, JSON_DECODE_ANY, &jerr);
    if (!v)
        fail_msg("jansson refused %s: %s", quoted, jerr.text);
    assert_true(json_is_string(v));
    assert_int_equal(json_string_length(v), n);
    assert_memory_equal(json_string_value(v), s, n);

    /* And it is jansson's own text but for the case of the hex digits. */
    char *theirs = json_dumps(v, JSON_ENCODE_ANY);
    assert_non_null(theirs);
    for (char *p = theirs; *p; p++) {
        if (p[0] == '\\' && p[1] == 'u') {
            for (int k = 2; k < 6; k++)
                p[k] = (char)tolower((unsigned char)p[k]);
            p += 5;
        } else if (p[0] == '\\') {
            p++;
        }
    }
    assert_string_equal(theirs, quoted);
    free(theirs);
    json_decref(v);
}

static void common__json_string_writes_long_strings_whole(void **state)
{
    (void)state;
    /* Control characters on both sides of every 256-byte chunk boundary. */
    char s[1001], want[8192];
    for (size_t i = 0; i < sizeof s - 1; i++)
        s[i] = i % 256 == 255 || i % 256 == 0 ? '\n' : (char)('a' + i % 26);
    s[sizeof s - 1] = '\0';
    want[0] = '"';
    char *end = cli_json_escape(want + 1, s, strlen(s));
    *end++ = '"';
    *end = '\0';

    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    cli_json_string(f, s);
    cli_json_string(f, "");
    fclose(f);
    assert_int_equal(len, strlen(want) + 2);
    assert_memory_equal(text, want, strlen(want));
    assert_string_equal(text + strlen(want), "\"\"");
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(common__json_escape_rule_byte_by_byte),
        cmocka_unit_test(common__json_escape_round_trips_through_jansson),
        cmocka_unit_test(common__json_string_writes_long_strings_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

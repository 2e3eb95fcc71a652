/*
 * test_ratelimit.c: the failed-authentication limit (http/ratelimit.h):
 * the limit-th failure locks an address out for the window, other
 * addresses are untouched, the lockout ends, the table never grows past
 * its capacity however many addresses fail, and a locked-out address is
 * not the first one forgotten. Time is an argument: no clock, no sleeps.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "http/ratelimit.h"

static struct client_addr v4(uint32_t host_order)
{
    struct sockaddr_in in;
    struct client_addr a;
    memset(&in, 0, sizeof in);
    in.sin_family = AF_INET;
    in.sin_addr.s_addr = htonl(host_order);
    assert_int_equal(client_addr_from_sockaddr((struct sockaddr *)&in, &a), 0);
    return a;
}

static void ratelimit__locks_out_at_the_limit_for_the_window(void **state)
{
    (void)state;
    struct authlimit *l = authlimit_new(3, 60000, 16);
    struct client_addr a = v4(0x7f000003), b = v4(0x7f000004);
    uint64_t t = 1000000;
    assert_int_equal(authlimit_locked(l, &a, t), 0);
    assert_false(authlimit_fail(l, &a, t));
    assert_false(authlimit_fail(l, &a, t + 10));
    assert_int_equal(authlimit_locked(l, &a, t + 10), 0);
    assert_true(authlimit_fail(l, &a, t + 20)); /* the third: locked now */
    assert_int_equal(authlimit_locked(l, &a, t + 20), 60);
    assert_int_equal(authlimit_locked(l, &a, t + 20 + 59001), 1); /* rounded up */
    assert_int_equal(authlimit_locked(l, &b, t + 20), 0);         /* others unaffected */
    assert_int_equal(authlimit_locked(l, &a, t + 20 + 60000), 0); /* over */
    /* After the lockout the count starts again from zero. */
    assert_false(authlimit_fail(l, &a, t + 20 + 60000));
    assert_false(authlimit_fail(l, &a, t + 20 + 60001));
    assert_true(authlimit_fail(l, &a, t + 20 + 60002));
    authlimit_free(l);
}

static void ratelimit__failures_outside_the_window_do_not_add_up(void **state)
{
    (void)state;
    struct authlimit *l = authlimit_new(3, 1000, 16);
    struct client_addr a = v4(0x0a000001);
    uint64_t t = 5000;
    for (int i = 0; i < 10; i++) { /* two failures per window, never three */
        assert_false(authlimit_fail(l, &a, t));
        assert_false(authlimit_fail(l, &a, t + 500));
        t += 1000;
    }
    assert_int_equal(authlimit_locked(l, &a, t), 0);
    authlimit_free(l);
}

static void ratelimit__zero_limit_is_off(void **state)
{
    (void)state;
    struct authlimit *l = authlimit_new(0, 1000, 16);
    struct client_addr a = v4(0x0a000001);
    for (int i = 0; i < 100; i++)
        assert_false(authlimit_fail(l, &a, 1000));
    assert_int_equal(authlimit_locked(l, &a, 1000), 0);
    assert_int_equal(authlimit_size(l), 0);
    authlimit_free(l);
}

static void ratelimit__table_is_bounded_and_keeps_lockouts(void **state)
{
    (void)state;
    enum { CAP = 64 };
    struct authlimit *l = authlimit_new(2, 60000, CAP);
    struct client_addr locked = v4(0xc0000201);
    uint64_t t = 100000;
    assert_false(authlimit_fail(l, &locked, t));
    assert_true(authlimit_fail(l, &locked, t));
    /* 100 000 other addresses fail once each, all within the window. */
    for (uint32_t i = 0; i < 100000; i++) {
        struct client_addr x = v4(0x0b000000u + i);
        assert_false(authlimit_fail(l, &x, t + 1 + i / 1000));
        assert_true(authlimit_size(l) <= CAP);
    }
    assert_int_equal(authlimit_size(l), CAP);
    /* The locked-out address was never the one forgotten. */
    assert_true(authlimit_locked(l, &locked, t + 200) > 0);
    authlimit_free(l);
}

static void ratelimit__mapped_v6_is_its_v4_address(void **state)
{
    (void)state;
    struct sockaddr_in6 in6;
    struct client_addr m, four = v4(0xc0000207), six;
    char text[64];
    memset(&in6, 0, sizeof in6);
    in6.sin6_family = AF_INET6;
    assert_int_equal(inet_pton(AF_INET6, "::ffff:192.0.2.7", &in6.sin6_addr), 1);
    assert_int_equal(client_addr_from_sockaddr((struct sockaddr *)&in6, &m), 0);
    assert_int_equal(m.family, 4);
    assert_memory_equal(m.bytes, four.bytes, 4);
    client_addr_format(&m, text, sizeof text);
    assert_string_equal(text, "192.0.2.7");
    assert_int_equal(inet_pton(AF_INET6, "2001:db8::1", &in6.sin6_addr), 1);
    assert_int_equal(client_addr_from_sockaddr((struct sockaddr *)&in6, &six), 0);
    assert_int_equal(six.family, 6);
    client_addr_format(&six, text, sizeof text);
    assert_string_equal(text, "2001:db8::1");
    /* An unknown family is never limited. */
    assert_int_equal(client_addr_from_sockaddr(NULL, &m), -1);
    struct authlimit *l = authlimit_new(1, 1000, 4);
    assert_false(authlimit_fail(l, &m, 10));
    assert_int_equal(authlimit_locked(l, &m, 10), 0);
    authlimit_free(l);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(ratelimit__locks_out_at_the_limit_for_the_window),
        cmocka_unit_test(ratelimit__failures_outside_the_window_do_not_add_up),
        cmocka_unit_test(ratelimit__zero_limit_is_off),
        cmocka_unit_test(ratelimit__table_is_bounded_and_keeps_lockouts),
        cmocka_unit_test(ratelimit__mapped_v6_is_its_v4_address),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

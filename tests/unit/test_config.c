/*
 * test_config.c: `whaco serve`'s derived settings -- which listen addresses
 * count as loopback, and so whether tokens are required on every endpoint
 * (serve_config_finish). The server's DNS-rebinding rule uses the same
 * whaco_server_host_is_loopback, so the two cannot disagree. And the store
 * "data" names (a directory: SQLite; a URL this build has no backend for is
 * refused when the setting is read, not when the server starts).
 */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "cli/config.h"

static void config__loopback_is_127_slash_8_and_every_spelling_of_ipv6_one(void **state)
{
    (void)state;
    const char *loopback[] = {"127.0.0.1",       "127.5.6.7", "127.255.255.255", "::1",
                              "0:0:0:0:0:0:0:1", "::0001",    "0000::1"};
    const char *other[] = {
        "0.0.0.0",   "192.168.1.10", "128.0.0.1", "::",        "::2",    "::ffff:127.0.0.1",
        "localhost", "127.1",        "",          "1.2.3.4.5", "fe80::1"};
    for (size_t i = 0; i < sizeof loopback / sizeof *loopback; i++) {
        if (!whaco_server_host_is_loopback(loopback[i]))
            fail_msg("%s is loopback", loopback[i]);
    }
    for (size_t i = 0; i < sizeof other / sizeof *other; i++) {
        if (whaco_server_host_is_loopback(other[i]))
            fail_msg("%s is not a loopback address (or not an address)", other[i]);
    }
}

/* require_auth after finish, for a listen host and the two settings. */
static bool required(const char *listen, const char *allow_anonymous_remote,
                     const char *require_auth)
{
    struct serve_config c;
    serve_config_default(&c);
    assert_int_equal(serve_config_set(&c, "listen", listen, "test", stderr), 0);
    if (allow_anonymous_remote)
        assert_int_equal(
            serve_config_set(&c, "allow-anonymous-remote", allow_anonymous_remote, "test", stderr),
            0);
    if (require_auth)
        assert_int_equal(serve_config_set(&c, "require-auth", require_auth, "test", stderr), 0);
    serve_config_finish(&c);
    return c.server.require_auth;
}

static void config__tokens_are_required_off_loopback_unless_allowed(void **state)
{
    (void)state;
    assert_false(required("127.0.0.1:8080", NULL, NULL));
    assert_false(required("localhost:8080", NULL, NULL));
    assert_false(required("[::1]:8080", NULL, NULL));
    assert_false(required("[0:0:0:0:0:0:0:1]:8080", NULL, NULL)); /* was "required" before */
    assert_true(required("127.0.0.1:8080", NULL, "true"));
    assert_true(required("0.0.0.0:8080", NULL, NULL));
    assert_true(required("[::]:8080", NULL, NULL));
    assert_true(required("192.168.1.10:8080", NULL, NULL));
    assert_false(required("0.0.0.0:8080", "true", NULL));
    assert_true(required("0.0.0.0:8080", "true", "true"));
}

static void config__data_names_the_store_and_refuses_unsupported_backends(void **state)
{
    (void)state;
    struct serve_config c;
    char said[512] = "";
    FILE *err = tmpfile();
    assert_non_null(err);
    serve_config_default(&c);
    assert_int_equal(c.engine.store.kind, WHACO_STORE_SQLITE);
    assert_string_equal(c.engine.store.location, "data");
    assert_int_equal(c.engine.store.sync, WHACO_SYNC_FULL);

    /* The order of the settings does not matter: sync and data are separate. */
    assert_int_equal(serve_config_set(&c, "sync", "normal", "test", err), 0);
    assert_int_equal(serve_config_set(&c, "data", "/srv/whaco", "test", err), 0);
    assert_ptr_equal(c.engine.store.location, c.data_dir); /* the text is kept in c */
    assert_string_equal(c.engine.store.location, "/srv/whaco");
    assert_int_equal(c.engine.store.sync, WHACO_SYNC_NORMAL);

    assert_int_equal(serve_config_set(&c, "data", "postgresql://x", "flags", err), -1);
    rewind(err);
    assert_non_null(fgets(said, sizeof said, err));
    fclose(err);
    assert_non_null(strstr(said, "whaco serve: flags: data = 'postgresql://x': postgresql://"
                                 " storage is not supported by this build of whaco"));
    assert_string_equal(c.engine.store.location, "/srv/whaco"); /* unchanged */
    assert_int_equal(c.engine.store.kind, WHACO_STORE_SQLITE);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config__loopback_is_127_slash_8_and_every_spelling_of_ipv6_one),
        cmocka_unit_test(config__tokens_are_required_off_loopback_unless_allowed),
        cmocka_unit_test(config__data_names_the_store_and_refuses_unsupported_backends),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

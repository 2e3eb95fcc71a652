/*
 * test_config.c: `whaco serve`'s settings -- which listen addresses count
 * as loopback, and so whether tokens are required on every endpoint
 * (serve_config_finish; the server's DNS-rebinding rule uses the same
 * whaco_server_host_is_loopback, so the two cannot disagree); the store
 * "data" names (a directory: SQLite; a URL this build has no backend for is
 * refused when the setting is read, not when the server starts); and the
 * table of settings behind serve_config_set and `whaco serve --help`: every
 * setting listed with a default it accepts back, the same names and
 * defaults as README.md's table, the environment's names; the experiment
 * setting from a flag, the environment and a file.
 */
#define _POSIX_C_SOURCE 200809L /* open_memstream, setenv */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
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

/* One setting as `whaco serve --help` lists it. */
struct listed {
    char name[64];
    char value[64];  /* the placeholder */
    char shown[128]; /* the default as shown */
};

/* Parse serve_config_help's lines ("  --NAME VALUE   default X", help line). */
static size_t listed_settings(struct listed *out, size_t cap)
{
    char *text = NULL, *line, *save = NULL;
    size_t len = 0, n = 0;
    FILE *f = open_memstream(&text, &len);
    serve_config_help(f);
    fclose(f);
    for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        if (strncmp(line, "  --", 4) != 0)
            continue;
        assert_true(n < cap);
        char *def = strstr(line, " default ");
        assert_non_null(def);
        assert_int_equal(sscanf(line, "  --%63s %63s", out[n].name, out[n].value), 2);
        snprintf(out[n].shown, sizeof out[n].shown, "%s", def + strlen(" default "));
        n++;
    }
    free(text);
    return n;
}

static void config__help_lists_every_setting_with_a_default_it_accepts(void **state)
{
    (void)state;
    struct listed l[64];
    size_t n = listed_settings(l, 64);
    assert_int_equal(n, 30); /* 25, the floor's four, and the experiment */
    for (size_t i = 0; i < n; i++) {
        struct serve_config c;
        serve_config_default(&c);
        /* Shown defaults that are not values (none, $TZ, beside the binary) aside,
         * the default as shown is a value the setting takes, and changes nothing. */
        if (strchr(l[i].shown, ' ') || l[i].shown[0] == '$' || !strcmp(l[i].shown, "none"))
            continue;
        if (serve_config_set(&c, l[i].name, l[i].shown, "help", stderr) != 0)
            fail_msg("%s refuses its own default %s", l[i].name, l[i].shown);
        struct listed again[64];
        assert_int_equal(listed_settings(again, 64), n);
        assert_string_equal(again[i].shown, l[i].shown);
    }
}

/* README.md's settings table: "| `name` | `default` | meaning |" rows. */
static void config__readme_lists_the_same_settings_and_defaults(void **state)
{
    (void)state;
    struct listed l[64];
    size_t n = listed_settings(l, 64), found = 0;
    FILE *f = fopen(WHACO_SOURCE_DIR "/README.md", "r");
    assert_non_null(f);
    char row[2048];
    while (fgets(row, sizeof row, f)) {
        char name[64], cell[256], shown[256];
        if (sscanf(row, "| `%63[^`]` | %255[^|]|", name, cell) != 2)
            continue;
        size_t k = 0;
        for (const char *p = cell; *p; p++) /* the default cell without its backticks */
            if (*p != '`')
                shown[k++] = *p;
        while (k > 0 && shown[k - 1] == ' ')
            k--;
        shown[k] = '\0';
        for (size_t i = 0; i < n; i++) {
            if (strcmp(l[i].name, name))
                continue;
            if (strcmp(l[i].shown, shown))
                fail_msg("%s: README says default %s, --help says %s", name, shown, l[i].shown);
            found++;
        }
    }
    fclose(f);
    assert_int_equal(found, n); /* and each setting has its row */
}

static void config__environment_names_and_unknown_settings(void **state)
{
    (void)state;
    struct serve_config c;
    char *text = NULL;
    size_t len = 0;
    serve_config_default(&c);
    setenv("WHACO_MAX_CONNECTIONS_PER_ADDRESS", "7", 1);
    setenv("WHACO_REQUEST_TIMEOUT", "0", 1);
    assert_int_equal(serve_config_env(&c, stderr), 0);
    unsetenv("WHACO_MAX_CONNECTIONS_PER_ADDRESS");
    unsetenv("WHACO_REQUEST_TIMEOUT");
    assert_int_equal(c.server.max_connections_per_address, 7);
    assert_int_equal(c.server.request_timeout_ms, 0);

    FILE *f = open_memstream(&text, &len);
    assert_int_equal(serve_config_set(&c, "tick_interval", "5m", "flag", f), -1);
    assert_int_equal(serve_config_set(&c, "connection-timeout", "90m", "flag", f), -1);
    assert_int_equal(serve_config_set(&c, "connection-timeout", "90s", "flag", f), 0);
    fclose(f);
    assert_string_equal(text, "whaco serve: flag: unknown setting 'tick_interval'\n"
                              "whaco serve: flag: connection-timeout = '90m': expected 1s to 1h\n");
    assert_int_equal(c.server.conn_timeout, 90);
    free(text);
}

/* experiment: a flag, WHACO_EXPERIMENT, a file key; a bad value names the setting and what is
 * allowed. */
static void config__experiment_from_every_source(void **state)
{
    (void)state;
    struct serve_config c;
    char *text = NULL, path[] = "/tmp/whaco-config-XXXXXX";
    size_t len = 0;
    serve_config_default(&c);
    assert_false(c.engine.experiment.enabled);
    assert_int_equal(serve_config_set(&c, "experiment", "up-rotation,network", "flag", stderr), 0);
    assert_true(c.engine.experiment.enabled);
    assert_int_equal(c.engine.experiment.rule[0], WHACO_RULE_UP_ROTATION);
    assert_int_equal(c.engine.experiment.rule[1], WHACO_RULE_NETWORK);
    assert_int_equal(c.engine.experiment.seed, 0);

    setenv("WHACO_EXPERIMENT", "least-busy,round-robin,7", 1);
    assert_int_equal(serve_config_env(&c, stderr), 0);
    unsetenv("WHACO_EXPERIMENT");
    assert_int_equal(c.engine.experiment.rule[0], WHACO_RULE_LEAST_BUSY);
    assert_int_equal(c.engine.experiment.seed, 7);

    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *file = fdopen(fd, "w");
    fputs("experiment = off   # back to none\n", file);
    fclose(file);
    assert_int_equal(serve_config_file(&c, path, stderr), 0);
    unlink(path);
    assert_false(c.engine.experiment.enabled);

    FILE *f = open_memstream(&text, &len);
    assert_int_equal(serve_config_set(&c, "experiment", "network,network", "flag", f), -1);
    assert_int_equal(serve_config_set(&c, "experiment", "network", "flag", f), -1);
    fclose(f);
    assert_non_null(strstr(text, "whaco serve: flag: experiment = 'network,network': the rules A "
                                 "and B must differ (network twice)"));
    assert_non_null(strstr(text, "whaco serve: flag: experiment = 'network': expected off, or two "
                                 "different rules A,B from network, up-rotation, round-robin, "
                                 "least-busy"));
    assert_false(c.engine.experiment.enabled); /* unchanged */
    free(text);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(config__loopback_is_127_slash_8_and_every_spelling_of_ipv6_one),
        cmocka_unit_test(config__tokens_are_required_off_loopback_unless_allowed),
        cmocka_unit_test(config__data_names_the_store_and_refuses_unsupported_backends),
        cmocka_unit_test(config__help_lists_every_setting_with_a_default_it_accepts),
        cmocka_unit_test(config__readme_lists_the_same_settings_and_defaults),
        cmocka_unit_test(config__environment_names_and_unknown_settings),
        cmocka_unit_test(config__experiment_from_every_source),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

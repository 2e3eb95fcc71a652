/*
 * config.c: the settings of `whaco serve` (config.h).
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "whaco/err.h"
#include "cli/config.h"
#include "banned.h"

/* Every setting, for the environment scan and the error on unknown names. */
static const char *const names[] = {
    "listen",
    "max-customers",
    "assignment",
    "floor-tracking",
    "be-back-to-original",
    "data",
    "sync",
    "sync-interval",
    "tick-interval",
    "snapshot-interval",
    "retention",
    "timezone",
    "body-limit",
    "threads",
    "log-requests",
    "require-auth",
    "allow-anonymous-remote",
    "outlier-threshold",
    "coupling",
    "connection-timeout",
    "daily-reset",
    "test-clock-offset",
    "request-timeout",
    "max-connections",
    "max-connections-per-address",
    "auth-failure-limit",
    "auth-failure-window",
    "cors-origin",
    "web-dir",
};

void serve_config_default(struct serve_config *c)
{
    memset(c, 0, sizeof *c);
    whaco_engine_config_default(&c->engine);
    whaco_server_config_default(&c->server);
    snprintf(c->host, sizeof c->host, "127.0.0.1");
    snprintf(c->data_dir, sizeof c->data_dir, "data");
    c->server.host = c->host;
    c->engine.store.location = c->data_dir;
}

long long parse_duration_ms(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || !(v >= 0))
        return -1;
    double unit = 1000;
    if (!strcmp(end, "ms"))
        unit = 1;
    else if (!strcmp(end, "s") || !*end)
        unit = 1000;
    else if (!strcmp(end, "m"))
        unit = 60000;
    else if (!strcmp(end, "h"))
        unit = 3600000;
    else if (!strcmp(end, "d"))
        unit = 86400000;
    else
        return -1;
    double ms = v * unit;
    return ms > 1e15 ? -1 : (long long)ms;
}

static int parse_bool(const char *v, bool *out)
{
    if (!strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "on") || !strcmp(v, "1"))
        *out = true;
    else if (!strcmp(v, "false") || !strcmp(v, "no") || !strcmp(v, "off") || !strcmp(v, "0"))
        *out = false;
    else
        return -1;
    return 0;
}

static int parse_long(const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long n = strtol(v, &end, 10);
    if (end == v || *end || errno || n < lo || n > hi)
        return -1;
    *out = n;
    return 0;
}

static int bad(FILE *err, const char *source, const char *name, const char *value,
               const char *allowed)
{
    fprintf(err, "whaco serve: %s: %s = '%s': %s\n", source, name, value, allowed);
    return -1;
}

/* "HOST:PORT", "[v6]:PORT" or ":PORT". */
static int set_listen(struct serve_config *c, const char *v)
{
    const char *colon = strrchr(v, ':');
    long port;
    if (!colon || parse_long(colon + 1, 0, 65535, &port))
        return -1;
    const char *h = v;
    size_t n = (size_t)(colon - v);
    if (n >= 2 && h[0] == '[' && h[n - 1] == ']') {
        h++;
        n -= 2;
    }
    if (n == 0) {
        h = "127.0.0.1";
        n = strlen(h);
    }
    if (n >= sizeof c->host)
        return -1;
    memcpy(c->host, h, n);
    c->host[n] = '\0';
    c->server.port = (uint16_t)port;
    return 0;
}

int serve_config_set(struct serve_config *c, const char *name, const char *v, const char *source,
                     FILE *err)
{
    long n;
    long long ms;
    bool b;
    if (!strcmp(name, "listen")) {
        if (set_listen(c, v))
            return bad(err, source, name, v, "expected HOST:PORT, e.g. 127.0.0.1:8080");
    } else if (!strcmp(name, "data")) {
        char why[512];
        if (!*v || strlen(v) >= sizeof c->data_dir)
            return bad(err, source, name, v, "expected a directory path");
        if (whaco_store_spec_parse(&c->engine.store, v, why, sizeof why) != WHACO_OK)
            return bad(err, source, name, v, why);
        snprintf(c->data_dir, sizeof c->data_dir, "%s", v);
        c->engine.store.location = c->data_dir; /* v is not kept */
    } else if (!strcmp(name, "sync")) {
        if (!strcmp(v, "full"))
            c->engine.store.sync = WHACO_SYNC_FULL;
        else if (!strcmp(v, "normal"))
            c->engine.store.sync = WHACO_SYNC_NORMAL;
        else
            return bad(err, source, name, v, "expected full or normal");
    } else if (!strcmp(name, "sync-interval")) {
        ms = parse_duration_ms(v);
        if (ms < 10 || ms > 3600000)
            return bad(err, source, name, v, "expected a duration from 10ms to 1h, e.g. 1s");
        c->engine.sync_interval_ms = ms;
    } else if (!strcmp(name, "tick-interval") || !strcmp(name, "snapshot-interval") ||
               !strcmp(name, "retention")) {
        ms = parse_duration_ms(v);
        if (ms < 100)
            return bad(err, source, name, v, "expected a duration of at least 100ms, e.g. 5m");
        if (!strcmp(name, "tick-interval"))
            c->engine.tick_ms = ms;
        else if (!strcmp(name, "snapshot-interval"))
            c->engine.snapshot_ms = ms;
        else
            c->engine.retention_ms = ms;
    } else if (!strcmp(name, "test-clock-offset")) {
        char *end;
        errno = 0;
        long long off = strtoll(v, &end, 10);
        if (end == v || *end || errno)
            return bad(err, source, name, v, "expected milliseconds to add to the clock");
        c->engine.clock_offset_ms = off;
    } else if (!strcmp(name, "web-dir")) {
        if (!*v || strlen(v) >= sizeof c->web_dir)
            return bad(err, source, name, v, "expected a directory path");
        snprintf(c->web_dir, sizeof c->web_dir, "%s", v);
    } else if (!strcmp(name, "timezone")) {
        if (strlen(v) >= sizeof c->timezone)
            return bad(err, source, name, v, "expected a time zone name, e.g. America/Chicago");
        snprintf(c->timezone, sizeof c->timezone, "%s", v);
    } else if (!strcmp(name, "body-limit")) {
        if (parse_long(v, 1024, 64L * 1024 * 1024, &n))
            return bad(err, source, name, v, "expected bytes from 1024 to 67108864");
        c->server.body_limit = (size_t)n;
    } else if (!strcmp(name, "threads")) {
        if (parse_long(v, 0, 256, &n))
            return bad(err, source, name, v, "expected 0 (one per CPU) to 256");
        c->server.threads = (unsigned)n;
    } else if (!strcmp(name, "connection-timeout")) {
        ms = parse_duration_ms(v);
        if (ms < 1000 || ms > 3600000)
            return bad(err, source, name, v, "expected 1s to 1h");
        c->server.conn_timeout = (unsigned)(ms / 1000);
    } else if (!strcmp(name, "request-timeout")) {
        ms = parse_duration_ms(v);
        if (ms != 0 && (ms < 1000 || ms > 86400000))
            return bad(err, source, name, v, "expected 0 (no limit) or 1s to 1d");
        c->server.request_timeout_ms = (uint64_t)ms;
    } else if (!strcmp(name, "auth-failure-window")) {
        ms = parse_duration_ms(v);
        if (ms < 1000 || ms > 86400000)
            return bad(err, source, name, v, "expected 1s to 1d");
        c->server.auth_failure_window_ms = (uint64_t)ms;
    } else if (!strcmp(name, "max-connections")) {
        if (parse_long(v, 16, 1000000, &n))
            return bad(err, source, name, v, "expected 16 to 1000000");
        c->server.max_connections = (unsigned)n;
    } else if (!strcmp(name, "max-connections-per-address")) {
        if (parse_long(v, 0, 1000000, &n))
            return bad(err, source, name, v, "expected 0 (no limit) to 1000000");
        c->server.max_connections_per_address = (unsigned)n;
    } else if (!strcmp(name, "auth-failure-limit")) {
        if (parse_long(v, 0, 1000000, &n))
            return bad(err, source, name, v, "expected 0 (off) to 1000000 failures");
        c->server.auth_failure_limit = (unsigned)n;
    } else if (!strcmp(name, "max-customers")) {
        if (parse_long(v, 1, WHACO_FLOOR_CUSTOMERS_MAX, &n))
            return bad(err, source, name, v, "expected 1 to 16 walk-ins at once");
        c->engine.floor.max_customers = (uint32_t)n;
    } else if (!strcmp(name, "assignment")) {
        int rule = whaco_floor_rule_parse(v);
        if (rule < 0)
            return bad(err, source, name, v,
                       "expected network, up-rotation, round-robin or least-busy");
        c->engine.floor.rule = (enum whaco_floor_rule)rule;
    } else if (!strcmp(name, "floor-tracking")) {
        int tracking = whaco_floor_tracking_parse(v);
        if (tracking < 0)
            return bad(err, source, name, v, "expected auto, on or off");
        c->engine.floor.tracking = (enum whaco_floor_tracking)tracking;
    } else if (!strcmp(name, "be-back-to-original")) {
        if (parse_bool(v, &b))
            return bad(err, source, name, v, "expected true or false");
        c->engine.floor.be_back_to_original = b;
    } else if (!strcmp(name, "cors-origin")) {
        char why[200];
        if (c->cors_stage != c->stage) {
            cors_list_clear(&c->server.cors);
            c->cors_stage = c->stage;
        }
        if (cors_list_add(&c->server.cors, v, why, sizeof why))
            return bad(err, source, name, v, why);
    } else if (!strcmp(name, "log-requests") || !strcmp(name, "require-auth") ||
               !strcmp(name, "allow-anonymous-remote") || !strcmp(name, "daily-reset")) {
        if (parse_bool(v, &b))
            return bad(err, source, name, v, "expected true or false");
        if (!strcmp(name, "log-requests"))
            c->server.log_requests = b;
        else if (!strcmp(name, "require-auth"))
            c->require_auth = b;
        else if (!strcmp(name, "daily-reset"))
            c->engine.daily_reset = b;
        else
            c->allow_anonymous_remote = b;
    } else if (!strcmp(name, "outlier-threshold") || !strcmp(name, "coupling")) {
        char *end;
        double d = strtod(v, &end);
        if (end == v || *end || !(d > 0) || d > 100)
            return bad(err, source, name, v, "expected a number above 0 and at most 100");
        if (!strcmp(name, "coupling"))
            c->engine.team.coupling = d;
        else
            c->engine.seg.outlier_threshold = d;
    } else {
        fprintf(err, "whaco serve: %s: unknown setting '%s'\n", source, name);
        return -1;
    }
    return 0;
}

static char *trim(char *s)
{
    while (isspace((unsigned char)*s))
        s++;
    char *e = s + strlen(s);
    while (e > s && isspace((unsigned char)e[-1]))
        *--e = '\0';
    return s;
}

int serve_config_file(struct serve_config *c, const char *path, FILE *err)
{
    FILE *f = fopen(path, "r");
    char line[4096], source[4200];
    int lineno = 0, rc = 0;
    if (!f) {
        fprintf(err, "whaco serve: cannot read config file %s: %s\n", path, strerror(errno));
        return -1;
    }
    c->stage = 1;
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        snprintf(source, sizeof source, "%s:%d", path, lineno);
        if (!eq) {
            fprintf(err, "whaco serve: %s: expected 'name = value'\n", source);
            rc = -1;
            break;
        }
        *eq = '\0';
        rc = serve_config_set(c, trim(s), trim(eq + 1), source, err);
    }
    fclose(f);
    return rc;
}

int serve_config_env(struct serve_config *c, FILE *err)
{
    c->stage = 2;
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char var[64] = "WHACO_";
        size_t k = 6;
        for (const char *p = names[i]; *p && k < sizeof var - 1; p++)
            var[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        var[k] = '\0';
        const char *v = getenv(var);
        if (v && serve_config_set(c, names[i], v, var, err))
            return -1;
    }
    return 0;
}

/* The "web" directory beside the running binary (build/web). */
static void default_web_dir(struct serve_config *c)
{
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash) {
        *slash = '\0';
        snprintf(c->web_dir, sizeof c->web_dir, "%.4000s/web", exe);
    }
}

void serve_config_finish(struct serve_config *c)
{
    if (!c->web_dir[0])
        default_web_dir(c);
    c->server.web_dir = c->web_dir;
    if (!strcmp(c->host, "localhost"))
        snprintf(c->host, sizeof c->host, "127.0.0.1");
    c->server.require_auth =
        c->require_auth || (!whaco_server_host_is_loopback(c->host) && !c->allow_anonymous_remote);
}

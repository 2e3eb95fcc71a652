/*
 * config.c: the settings of `whaco serve` (config.h), as one table.
 *
 * settings[] holds every setting once: its name (the config-file key, the
 * flag without "--", and WHACO_<NAME> with '-' as '_' in the environment),
 * how its text is read (enum setting_kind) and checked (the range), the
 * field of struct serve_config it sets, what the message says is allowed,
 * and its help line. serve_config_set, the environment scan and
 * serve_config_help all read the table, so a setting cannot be settable and
 * missing from the help, or have a default the help misstates: the help
 * prints the defaults from a default-initialised config.
 *
 * Invariant: each row's field has the C type its enum field_type says;
 * FIELD() checks that at compile time.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "whaco/err.h"
#include "whaco/experiment.h"
#include "whaco/floor.h"
#include "cli/config.h"
#include "banned.h"

/* How a setting's text is read and checked. */
enum setting_kind {
    SET_LISTEN,   /* "HOST:PORT", "[v6]:PORT" or ":PORT": c->host and server.port */
    SET_PATH,     /* a non-empty path that fits the field */
    SET_TEXT,     /* text that fits the field, "" included */
    SET_SYNC,     /* "full" or "normal" */
    SET_DURATION, /* parse_duration_ms, from lo to hi ms (and 0 with SET_ZERO_IS_OFF) */
    SET_INTEGER,  /* a decimal integer from lo to hi */
    SET_OFFSET,   /* any decimal integer (milliseconds) */
    SET_BOOL,     /* true/yes/on/1 or false/no/off/0 */
    SET_NUMBER,   /* a number above lo, at most hi */
    SET_ORIGINS,  /* CORS origins for cors_list_add: a list (see config.h) */
    SET_STORE,    /* the store (whaco_store_spec_parse): engine.store, the text in data_dir */
    SET_CHOICE,   /* one of a closed set: the row's parse gives its value (-1: not one) */
    /* "off", "A,B" or "A,B,SEED" (whaco_experiment_parse) */
    SET_EXPERIMENT,
};

/* The C type of the field a setting is stored in. */
enum field_type {
    F_NONE,   /* SET_LISTEN and SET_ORIGINS store through their own code */
    F_CHARS,  /* char[size] */
    F_SYNC,   /* enum whaco_sync */
    F_I64,    /* int64_t */
    F_U64,    /* uint64_t */
    F_UINT,   /* unsigned */
    F_SIZE,   /* size_t */
    F_BOOL,   /* bool */
    F_DOUBLE, /* double */
    F_ENUM,   /* an enum (unsigned, the compiler's choice for these: checked below) */
    /* struct whaco_experiment_config */
    F_EXPERIMENT,
};

enum setting_flags {
    SET_ZERO_IS_OFF = 1u << 0, /* SET_DURATION: 0 is allowed too, meaning "no limit" */
    SET_IN_SECONDS = 1u << 1,  /* SET_DURATION: the field counts seconds, not ms */
};

struct setting {
    const char *name;                  /* "tick-interval": file key, --flag, WHACO_TICK_INTERVAL */
    enum setting_kind kind;            /* how the text is read */
    double lo, hi;                     /* the range (ms for durations; see the kind) */
    unsigned flags;                    /* enum setting_flags */
    enum field_type type;              /* the field's C type */
    size_t offset;                     /* the field: offsetof(struct serve_config, ...) */
    size_t size;                       /* F_CHARS: the array's size */
    const char *value;                 /* the value's placeholder in the help: "DURATION" */
    const char *shown;                 /* the default as the help shows it; NULL: from the field */
    const char *allowed;               /* the end of the message for a bad value */
    const char *help;                  /* one line for `whaco serve --help` */
    int (*parse)(const char *name);    /* SET_CHOICE: the value of a name, -1 if none */
    const char *(*name_of)(int value); /* SET_CHOICE: the name of a value, for the help */
};

_Static_assert(sizeof(enum whaco_floor_rule) == sizeof(unsigned) &&
                   sizeof(enum whaco_floor_tracking) == sizeof(unsigned),
               "F_ENUM fields are stored as unsigned");

/* The field m of struct serve_config, of C type t (an array: its element
 * pointer) and field type ft; a compile error if m is not a t. */
#define FIELD(m, t, ft)                                                                            \
    .type = (ft),                                                                                  \
    .offset =                                                                                      \
        offsetof(struct serve_config, m) + 0 * _Generic(((struct serve_config *)0)->m, t : 1),     \
    .size = sizeof(((struct serve_config *)0)->m)

#define NO_LIMIT HUGE_VAL
#define MS_1S    1000.0
#define MS_1H    3600000.0
#define MS_1D    86400000.0

/* Every setting; the environment is scanned in this order. */
static const struct setting settings[] = {
    {"listen", SET_LISTEN, .value = "HOST:PORT",
     .allowed = "expected HOST:PORT, e.g. 127.0.0.1:8080",
     .help = "address and port ([::1]:8080 for IPv6, port 0 = any free)"},
    {"data", SET_STORE, FIELD(data_dir, char *, F_CHARS), .value = "DIR",
     .allowed = "expected a directory path", .help = "directory of the database"},
    {"sync", SET_SYNC, FIELD(engine.store.sync, enum whaco_sync, F_SYNC), .value = "full|normal",
     .allowed = "expected full or normal",
     .help = "full: acknowledged events survive power loss; normal: see sync-interval"},
    {"sync-interval", SET_DURATION, 10.0, MS_1H, FIELD(engine.sync_interval_ms, int64_t, F_I64),
     .value = "DURATION", .allowed = "expected a duration from 10ms to 1h, e.g. 1s",
     .help = "with sync normal: fsync the log at least this often (10ms to 1h)"},
    {"tick-interval", SET_DURATION, 100.0, NO_LIMIT, FIELD(engine.tick_ms, int64_t, F_I64),
     .value = "DURATION", .allowed = "expected a duration of at least 100ms, e.g. 5m",
     .help = "network update and coherence sample"},
    {"snapshot-interval", SET_DURATION, 100.0, NO_LIMIT, FIELD(engine.snapshot_ms, int64_t, F_I64),
     .value = "DURATION", .allowed = "expected a duration of at least 100ms, e.g. 5m",
     .help = "snapshot of the whole state"},
    {"retention", SET_DURATION, 100.0, NO_LIMIT, FIELD(engine.retention_ms, int64_t, F_I64),
     .value = "DURATION", .allowed = "expected a duration of at least 100ms, e.g. 5m",
     .help = "keep logged customer data this long"},
    {"timezone", SET_TEXT, FIELD(timezone, char *, F_CHARS), .value = "ZONE", .shown = "$TZ",
     .allowed = "expected a time zone name, e.g. America/Chicago",
     .help = "the dealership's time zone, for midnight"},
    {"body-limit", SET_INTEGER, 1024.0, 64.0 * 1024 * 1024,
     FIELD(server.body_limit, size_t, F_SIZE), .value = "BYTES",
     .allowed = "expected bytes from 1024 to 67108864",
     .help = "largest request body, bytes (1024 to 67108864)"},
    {"threads", SET_INTEGER, 0.0, 256.0, FIELD(server.threads, unsigned, F_UINT), .value = "N",
     .allowed = "expected 0 (one per CPU) to 256", .help = "request threads (0 = one per CPU)"},
    {"log-requests", SET_BOOL, FIELD(server.log_requests, bool, F_BOOL), .value = "true|false",
     .allowed = "expected true or false",
     .help = "one JSON line per request on stderr; --quiet sets it false"},
    {"require-auth", SET_BOOL, FIELD(require_auth, bool, F_BOOL), .value = "true|false",
     .allowed = "expected true or false", .help = "tokens on every endpoint, even on loopback"},
    {"allow-anonymous-remote", SET_BOOL, FIELD(allow_anonymous_remote, bool, F_BOOL),
     .value = "true|false", .allowed = "expected true or false",
     .help = "open endpoints without tokens off loopback"},
    {"outlier-threshold", SET_NUMBER, 0.0, 100.0,
     FIELD(engine.seg.outlier_threshold, double, F_DOUBLE), .value = "X",
     .allowed = "expected a number above 0 and at most 100",
     .help = "outlier threshold of a new state (README, Outlier calibration)"},
    {"coupling", SET_NUMBER, 0.0, 100.0, FIELD(engine.team.coupling, double, F_DOUBLE),
     .value = "K", .allowed = "expected a number above 0 and at most 100",
     .help = "coupling K of the team network, for a new state"},
    {"connection-timeout", SET_DURATION, MS_1S, MS_1H, SET_IN_SECONDS,
     FIELD(server.conn_timeout, unsigned, F_UINT), .value = "DURATION",
     .allowed = "expected 1s to 1h",
     .help = "close a connection on which nothing arrives for this long (1s to 1h)"},
    {"daily-reset", SET_BOOL, FIELD(engine.daily_reset, bool, F_BOOL), .value = "true|false",
     .allowed = "expected true or false", .help = "reset dealsToday at local midnight"},
    {"test-clock-offset", SET_OFFSET, FIELD(engine.clock_offset_ms, int64_t, F_I64), .value = "MS",
     .allowed = "expected milliseconds to add to the clock",
     .help = "milliseconds added to the clock; for tests only"},
    {"request-timeout", SET_DURATION, MS_1S, MS_1D, SET_ZERO_IS_OFF,
     FIELD(server.request_timeout_ms, uint64_t, F_U64), .value = "DURATION",
     .allowed = "expected 0 (no limit) or 1s to 1d",
     .help = "a whole request must arrive within this (0 = no limit; 1s to 1d)"},
    {"max-connections", SET_INTEGER, 16.0, 1000000.0,
     FIELD(server.max_connections, unsigned, F_UINT), .value = "N",
     .allowed = "expected 16 to 1000000", .help = "open connections in all (16 to 1000000)"},
    {"max-connections-per-address", SET_INTEGER, 0.0, 1000000.0,
     FIELD(server.max_connections_per_address, unsigned, F_UINT), .value = "N",
     .allowed = "expected 0 (no limit) to 1000000",
     .help = "open connections per client address (0 = no limit; 0 behind a proxy)"},
    {"auth-failure-limit", SET_INTEGER, 0.0, 1000000.0,
     FIELD(server.auth_failure_limit, unsigned, F_UINT), .value = "N",
     .allowed = "expected 0 (off) to 1000000 failures",
     .help = "bad tokens per address within auth-failure-window before a lockout (0 = off)"},
    {"auth-failure-window", SET_DURATION, MS_1S, MS_1D,
     FIELD(server.auth_failure_window_ms, uint64_t, F_U64), .value = "DURATION",
     .allowed = "expected 1s to 1d",
     .help = "that window, and how long a lockout lasts (1s to 1d)"},
    {"cors-origin", SET_ORIGINS, .value = "URL[,URL...]", .shown = "none",
     .allowed = "expected origins like https://desk.example.com, separated by commas",
     .help = "origins whose browser pages may call the API; repeatable; none = CORS closed"},
    {"web-dir", SET_PATH, FIELD(web_dir, char *, F_CHARS), .value = "DIR",
     .shown = "web beside the binary", .allowed = "expected a directory path",
     .help = "the dashboard's files"},
    {"floor-tracking", SET_CHOICE, FIELD(engine.floor.tracking, enum whaco_floor_tracking, F_ENUM),
     .value = "auto|on|off", .allowed = "expected auto, on or off",
     .help = "track the sales floor: auto = from the first clock-in on (docs/floor.md)",
     .parse = whaco_floor_tracking_parse, .name_of = whaco_floor_tracking_name},
    {"assignment", SET_CHOICE, FIELD(engine.floor.rule, enum whaco_floor_rule, F_ENUM),
     .value = "RULE", .allowed = "expected network, up-rotation, round-robin or least-busy",
     .help = "who among the free gets the next walk-in: network, up-rotation, round-robin, "
             "least-busy",
     .parse = whaco_floor_rule_parse, .name_of = whaco_floor_rule_name},
    {"max-customers", SET_INTEGER, 1.0, WHACO_FLOOR_CUSTOMERS_MAX,
     FIELD(engine.floor.max_customers, uint32_t, F_UINT), .value = "N",
     .allowed = "expected 1 to 16 walk-ins at once",
     .help = "walk-ins one salesperson works at once on a tracked floor (1 to 16)"},
    {"be-back-to-original", SET_BOOL, FIELD(engine.floor.be_back_to_original, bool, F_BOOL),
     .value = "true|false", .allowed = "expected true or false",
     .help = "a returning be-back goes to the salesperson they had, if free"},
    {"experiment", SET_EXPERIMENT,
     FIELD(engine.experiment, struct whaco_experiment_config, F_EXPERIMENT),
     .value = "off|A,B[,SEED]",
     .allowed = "expected off, or two different rules A,B, e.g. up-rotation,network",
     .help = "A/B test: split walk-ins between two assignment rules (docs/experiment.md)"},
};

#define N_SETTINGS (sizeof settings / sizeof settings[0])

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

/* The setting of this name, or NULL. */
static const struct setting *find_setting(const char *name)
{
    for (size_t i = 0; i < N_SETTINGS; i++) {
        if (!strcmp(settings[i].name, name))
            return &settings[i];
    }
    return NULL;
}

/* Store v in s's field of c (a number: SET_DURATION in ms, converted to the field's unit). */
static void store_number(struct serve_config *c, const struct setting *s, long long v)
{
    void *field = (char *)c + s->offset;
    switch (s->type) {
    case F_I64:
        *(int64_t *)field = (int64_t)v;
        break;
    case F_U64:
        *(uint64_t *)field = (uint64_t)v;
        break;
    case F_UINT:
        *(unsigned *)field = (unsigned)v;
        break;
    case F_SIZE:
        *(size_t *)field = (size_t)v;
        break;
    case F_NONE:
    case F_CHARS:
    case F_SYNC:
    case F_BOOL:
    case F_DOUBLE:
    case F_ENUM:
    case F_EXPERIMENT:
        abort(); /* not a number field: a wrong row in settings[] */
    }
}

/* s's numeric field of c, as store_number stored it (durations in ms). */
static long long load_number(const struct serve_config *c, const struct setting *s)
{
    const void *field = (const char *)c + s->offset;
    switch (s->type) {
    case F_I64:
        return *(const int64_t *)field;
    case F_U64:
        return (long long)*(const uint64_t *)field;
    case F_UINT:
        return *(const unsigned *)field;
    case F_SIZE:
        return (long long)*(const size_t *)field;
    case F_NONE:
    case F_CHARS:
    case F_SYNC:
    case F_BOOL:
    case F_DOUBLE:
    case F_ENUM:
    case F_EXPERIMENT:
        break;
    }
    abort(); /* not a number field: a wrong row in settings[] */
}

/* Milliseconds per unit of a SET_DURATION field. */
static long long unit_ms(const struct setting *s)
{
    return s->flags & SET_IN_SECONDS ? 1000 : 1;
}

/* A duration in range for s (see SET_DURATION): ms, or -1. */
static long long parse_duration_setting(const struct setting *s, const char *v)
{
    long long ms = parse_duration_ms(v);
    if ((s->flags & SET_ZERO_IS_OFF) && ms == 0)
        return 0;
    if (ms < s->lo || ms > s->hi)
        return -1;
    return ms;
}

/* cors-origin: the first occurrence in a source replaces the earlier sources' list. */
static int add_origins(struct serve_config *c, const char *v, char *why, size_t whylen)
{
    if (c->cors_stage != c->stage) {
        cors_list_clear(&c->server.cors);
        c->cors_stage = c->stage;
    }
    return cors_list_add(&c->server.cors, v, why, whylen);
}

/*
 * Read v as setting s and store it in c: 0, or -1 with c unchanged but
 * for a cors-origin list cut short (see cors_list_add); why[whylen] then
 * holds the reason when it is not s->allowed.
 */
static int apply(struct serve_config *c, const struct setting *s, const char *v, char *why,
                 size_t whylen)
{
    char *field = (char *)c + s->offset, *end;
    long n;
    long long ms;
    bool b;
    double d;
    switch (s->kind) {
    case SET_LISTEN:
        return set_listen(c, v);
    case SET_PATH:
    case SET_TEXT:
        if ((s->kind == SET_PATH && !*v) || strlen(v) >= s->size)
            return -1;
        snprintf(field, s->size, "%s", v);
        return 0;
    case SET_SYNC:
        if (strcmp(v, "full") && strcmp(v, "normal"))
            return -1;
        *(enum whaco_sync *)(void *)field =
            !strcmp(v, "full") ? WHACO_SYNC_FULL : WHACO_SYNC_NORMAL;
        return 0;
    case SET_DURATION:
        ms = parse_duration_setting(s, v);
        if (ms < 0)
            return -1;
        store_number(c, s, ms / unit_ms(s));
        return 0;
    case SET_INTEGER:
        if (parse_long(v, (long)s->lo, (long)s->hi, &n))
            return -1;
        store_number(c, s, n);
        return 0;
    case SET_OFFSET:
        errno = 0;
        ms = strtoll(v, &end, 10);
        if (end == v || *end || errno)
            return -1;
        store_number(c, s, ms);
        return 0;
    case SET_BOOL:
        if (parse_bool(v, &b))
            return -1;
        *(bool *)(void *)field = b;
        return 0;
    case SET_NUMBER:
        d = strtod(v, &end);
        if (end == v || *end || !(d > s->lo) || d > s->hi)
            return -1;
        *(double *)(void *)field = d;
        return 0;
    case SET_ORIGINS:
        return add_origins(c, v, why, whylen);
    case SET_STORE:
        if (!*v || strlen(v) >= s->size ||
            whaco_store_spec_parse(&c->engine.store, v, why, whylen) != WHACO_OK)
            return -1;
        snprintf(field, s->size, "%s", v);
        c->engine.store.location = c->data_dir; /* v is not kept */
        return 0;
    case SET_CHOICE:
        n = s->parse(v);
        if (n < 0)
            return -1;
        *(unsigned *)(void *)field = (unsigned)n;
        return 0;
    case SET_EXPERIMENT:
        return whaco_experiment_parse(v, (struct whaco_experiment_config *)(void *)field, why,
                                      whylen) == WHACO_OK
                   ? 0
                   : -1;
    }
    abort(); /* not reached: every kind is a case */
}

int serve_config_set(struct serve_config *c, const char *name, const char *v, const char *source,
                     FILE *err)
{
    const struct setting *s = find_setting(name);
    char why[200] = "";
    if (!s) {
        fprintf(err, "whaco serve: %s: unknown setting '%s'\n", source, name);
        return -1;
    }
    if (apply(c, s, v, why, sizeof why))
        return bad(err, source, name, v, why[0] ? why : s->allowed);
    return 0;
}

/* ===== The help ===== */

/* ms as the largest whole unit of parse_duration_ms: "5m", "30d", "1500ms". */
static void format_duration(char *buf, size_t cap, long long ms)
{
    static const struct {
        long long ms;
        const char *suffix;
    } units[] = {{86400000, "d"}, {3600000, "h"}, {60000, "m"}, {1000, "s"}};
    if (ms == 0) {
        snprintf(buf, cap, "0");
        return;
    }
    for (size_t k = 0; k < sizeof units / sizeof units[0]; k++) {
        if (ms % units[k].ms == 0) {
            snprintf(buf, cap, "%lld%s", ms / units[k].ms, units[k].suffix);
            return;
        }
    }
    snprintf(buf, cap, "%lldms", ms);
}

/* The value of s in c, as text a user could give back. */
static void format_value(char *buf, size_t cap, const struct serve_config *c,
                         const struct setting *s)
{
    const char *field = (const char *)c + s->offset;
    switch (s->kind) {
    case SET_LISTEN:
        snprintf(buf, cap, strchr(c->host, ':') ? "[%s]:%u" : "%s:%u", c->host,
                 (unsigned)c->server.port);
        return;
    case SET_PATH:
    case SET_TEXT:
    case SET_STORE:
        snprintf(buf, cap, "%s", field);
        return;
    case SET_SYNC:
        snprintf(buf, cap, "%s", c->engine.store.sync == WHACO_SYNC_FULL ? "full" : "normal");
        return;
    case SET_CHOICE:
        snprintf(buf, cap, "%s", s->name_of((int)*(const unsigned *)(const void *)field));
        return;
    case SET_DURATION:
        format_duration(buf, cap, load_number(c, s) * unit_ms(s));
        return;
    case SET_INTEGER:
    case SET_OFFSET:
        snprintf(buf, cap, "%lld", load_number(c, s));
        return;
    case SET_BOOL:
        snprintf(buf, cap, "%s", *(const bool *)(const void *)field ? "true" : "false");
        return;
    case SET_NUMBER:
        snprintf(buf, cap, "%g", *(const double *)(const void *)field);
        return;
    case SET_ORIGINS:
        snprintf(buf, cap, "%zu origins", c->server.cors.n);
        return;
    case SET_EXPERIMENT:
        whaco_experiment_format((const struct whaco_experiment_config *)(const void *)field, buf,
                                cap);
        return;
    }
    abort(); /* not reached: every kind is a case */
}

void serve_config_help(FILE *out)
{
    struct serve_config c;
    serve_config_default(&c);
    for (size_t i = 0; i < N_SETTINGS; i++) {
        const struct setting *s = &settings[i];
        char flag[96], value[256];
        snprintf(flag, sizeof flag, "--%s %s", s->name, s->value);
        if (s->shown)
            snprintf(value, sizeof value, "%s", s->shown);
        else
            format_value(value, sizeof value, &c, s);
        fprintf(out, "  %-38s default %s\n      %s\n", flag, value, s->help);
    }
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
    for (size_t i = 0; i < N_SETTINGS; i++) {
        char var[64] = "WHACO_";
        size_t k = 6;
        for (const char *p = settings[i].name; *p && k < sizeof var - 1; p++)
            var[k++] = *p == '-' ? '_' : (char)toupper((unsigned char)*p);
        var[k] = '\0';
        const char *v = getenv(var);
        if (v && serve_config_set(c, settings[i].name, v, var, err))
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

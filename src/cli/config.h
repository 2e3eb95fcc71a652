/*
 * cli/config.h: `whaco serve`'s settings, from a config file, the
 * environment and flags (later ones win: defaults < file < environment <
 * flags). Every setting has one name used in all three places: a file line
 * "tick-interval = 5m", the variable WHACO_TICK_INTERVAL=5m and the flag
 * --tick-interval 5m. One table in config.c holds them all; `whaco serve
 * --help` prints it with the defaults, and README.md ("Configuration")
 * explains them (tests/unit/test_config.c checks the two agree).
 */
#ifndef WHACO_CLI_CONFIG_H
#define WHACO_CLI_CONFIG_H

#include <stdbool.h>
#include <stdio.h>

#include "whaco/engine.h"
#include "http/server.h"

struct serve_config {
    struct whaco_engine_config engine;
    struct whaco_server_config server;
    char host[256];              /* storage for server.host */
    char data_dir[4096];         /* the --data text: engine.store.location, server.data_dir */
    char timezone[128];          /* "" = the process's TZ */
    char web_dir[4096];          /* storage for server.web_dir; "" = beside the binary */
    bool allow_anonymous_remote; /* open endpoints without tokens off loopback */
    bool require_auth;           /* tokens on every endpoint even on loopback */
    int stage;                   /* the source being applied: 1 file, 2 environment, 3 flags */
    int cors_stage;              /* the source that set server.cors (a later one replaces it) */
};

/* Defaults for everything. */
void serve_config_default(struct serve_config *c);

/*
 * Apply one setting by name ("listen", "data", "sync", ...). Returns 0, or
 * -1 after writing "whaco serve: <source>: <what is wrong>" to err.
 * "cors-origin" is a list: its occurrences within one source add up
 * (repeated flags, several file lines, commas), and a later source
 * replaces what an earlier one set (see c->stage).
 */
int serve_config_set(struct serve_config *c, const char *name, const char *value,
                     const char *source, FILE *err);

/* Read a config file of "name = value" lines ('#' starts a comment). */
int serve_config_file(struct serve_config *c, const char *path, FILE *err);

/* Apply every WHACO_<NAME> variable of the environment that names a setting. */
int serve_config_env(struct serve_config *c, FILE *err);

/*
 * Decide the derived settings once all sources are in: whether tokens are
 * required (non-loopback listen without allow-anonymous-remote, or
 * require-auth).
 */
void serve_config_finish(struct serve_config *c);

/*
 * Write the settings part of `whaco serve --help` to out: every setting
 * with its value's form, its default and a line on what it does, from the
 * same table serve_config_set reads.
 */
void serve_config_help(FILE *out);

/* Parse "300ms", "10s", "5m", "2h", "30d" (or bare seconds) into ms; -1 if bad. */
long long parse_duration_ms(const char *s);

#endif /* WHACO_CLI_CONFIG_H */

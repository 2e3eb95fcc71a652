/*
 * serve.c: `whaco serve`, the service.
 *
 * serve: settings from --config FILE, the environment and flags; then the
 * engine (store, snapshot, replay), then the HTTP server; then it waits for
 * SIGINT or SIGTERM, stops accepting, lets requests in flight finish (up to
 * 4 s), writes the final snapshot and exits 0 -- within 5 s.
 */
#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "whaco/err.h"
#include "cli/cli.h"
#include "cli/config.h"
#include "http/server.h"
#include "banned.h"

/*
 * The usage line on out, and with settings (--help) every setting with its
 * default (config.c's table); on an error, a pointer to --help. Returns 2.
 */
static int serve_usage(FILE *out, bool settings)
{
    fputs("usage: whaco serve [--config FILE] [--quiet] [--SETTING VALUE]...\n", out);
    if (!settings) {
        fputs("  `whaco serve --help` lists every setting with its default\n", out);
        return 2;
    }
    fputs("\n"
          "Runs the service until SIGINT or SIGTERM. Each setting below is a flag\n"
          "(--tick-interval 5m), a line of the --config file (tick-interval = 5m) and an\n"
          "environment variable (WHACO_TICK_INTERVAL=5m); flags win over the environment,\n"
          "which wins over the file. --quiet is --log-requests false. A DURATION is a\n"
          "number with ms, s, m, h or d (seconds without). README.md, \"Configuration\",\n"
          "says more.\n"
          "\n"
          "settings:\n",
          out);
    serve_config_help(out);
    return 2;
}

/* Defaults < --config file < environment < flags. */
static int load_settings(int argc, char **argv, struct serve_config *c, FILE *err)
{
    serve_config_default(c);
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--config")) {
            if (i + 1 >= argc || serve_config_file(c, argv[i + 1], err))
                return -1;
            i++;
        }
    }
    if (serve_config_env(c, err))
        return -1;
    c->stage = 3;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--config")) {
            i++;
        } else if (!strcmp(a, "--quiet")) {
            c->server.log_requests = false;
        } else if (!strncmp(a, "--", 2) && i + 1 < argc) {
            if (serve_config_set(c, a + 2, argv[++i], "command line", err))
                return -1;
        } else {
            fprintf(err, "whaco serve: unexpected argument '%s'\n", a);
            return -1;
        }
    }
    serve_config_finish(c);
    return 0;
}

/* Thousands of clients need thousands of descriptors: raise the soft limit. */
static void raise_fd_limit(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

/* The engine's notes for the operator, one whole line per write. */
static void log_engine(const char *line)
{
    fprintf(stderr, "whaco: %s\n", line);
}

int whaco_cmd_serve(int argc, char **argv, FILE *out, FILE *err)
{
    struct serve_config c;
    char msg[1024] = "";
    struct whaco_engine *engine = NULL;
    struct whaco_server *server = NULL;
    sigset_t sigs;
    int sig = 0;
    (void)out;

    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h"))
            return serve_usage(stdout, true);
    if (load_settings(argc, argv, &c, err))
        return serve_usage(err, false);
    if (c.timezone[0]) {
        setenv("TZ", c.timezone, 1);
        tzset();
    }
    raise_fd_limit();

    /* Block the stop signals before any thread starts, so only sigwait sees them. */
    sigemptyset(&sigs);
    sigaddset(&sigs, SIGINT);
    sigaddset(&sigs, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &sigs, NULL);
    signal(SIGPIPE, SIG_IGN);

    struct sse_hub *hub = sse_hub_new();
    c.engine.publish = whaco_http_publish;
    c.engine.view_free = whaco_http_view_free;
    c.engine.ctx = hub;
    c.engine.log = log_engine;
    c.server.hub = hub;
    if (whaco_engine_start(&c.engine, &engine, msg, sizeof msg) != WHACO_OK) {
        fprintf(err, "whaco serve: cannot start: %s\n", msg);
        sse_hub_free(hub);
        return 1;
    }
    c.server.store = c.engine.store; /* the tokens are in the engine's store */
    if (whaco_server_start(&c.server, engine, &server, msg, sizeof msg) != WHACO_OK) {
        fprintf(err, "whaco serve: %s\n", msg);
        whaco_engine_stop(engine);
        sse_hub_free(hub);
        return 1;
    }
    fprintf(err, "whaco: listening on http://%s%s%s:%u (data %s, sync %s, tokens %s)\n",
            strchr(c.host, ':') ? "[" : "", c.host, strchr(c.host, ':') ? "]" : "",
            (unsigned)whaco_server_port(server), c.data_dir,
            c.engine.store.sync == WHACO_SYNC_FULL ? "full" : "normal",
            c.server.require_auth ? "required" : "required for admin endpoints only");
    char index[4200];
    snprintf(index, sizeof index, "%s/index.html", c.web_dir);
    if (access(index, R_OK) != 0)
        fprintf(err, "whaco: no dashboard: cannot read %s (%s); set web-dir\n", index,
                strerror(errno));

    while (sigwait(&sigs, &sig) != 0)
        ;
    fprintf(err, "whaco: %s received, stopping\n", sig == SIGINT ? "SIGINT" : "SIGTERM");
    whaco_server_drain(server);
    whaco_server_stop(server, 4000);
    int rc = whaco_engine_stop(engine);
    sse_hub_free(hub);
    if (rc != WHACO_OK) {
        fprintf(err, "whaco: stopped with an error (%s): see the line above\n", whaco_strerror(rc));
        return 1;
    }
    fprintf(err, "whaco: stopped\n");
    return 0;
}

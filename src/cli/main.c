/*
 * main.c: the whaco executable, a thin dispatcher over the subcommands in
 * cli.h (jq's and curl's thin-client shape). One table, commands[], names
 * every command with its handler and its line of `whaco help`, so the help
 * cannot list a command that does not run or miss one that does.
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "http/json.h"
#include "banned.h"

/* A subcommand: argv[0] is its name; returns the exit status (cli.h). */
typedef int (*command_fn)(int argc, char **argv, FILE *out, FILE *err);

struct command {
    const char *name;     /* argv[1]; NULL: one more help line of the row above */
    command_fn run;       /* the handler */
    const char *synopsis; /* the left column of `whaco help`; NULL: not listed (an alias) */
    const char *help;     /* the right column */
};

static int run_help(int argc, char **argv, FILE *out, FILE *err);
static int run_version(int argc, char **argv, FILE *out, FILE *err);

static const struct command commands[] = {
    {"analyze", whaco_cmd_analyze, "analyze FILE.csv|-",
     "segment customers from a CSV, learning online"},
    {"generate", whaco_cmd_generate, "generate", "write synthetic customers as CSV"},
    {"serve", whaco_cmd_serve, "serve", "run the HTTP service (see README.md)"},
    {"token", whaco_cmd_token, "token create|list|revoke",
     "API tokens: make one, list them, revoke one"},
    {"state", whaco_cmd_state, "state export|import", "the state as the seed's two JSON files"},
    {NULL, NULL, "state verify", "check the state equals a replay of the event log"},
    {"log", whaco_cmd_log, "log", "print the event log as JSON lines"},
    {"outcomes", whaco_cmd_outcomes, "outcomes import FILE.csv",
     "record a CRM's sales and other outcomes (docs/outcomes.md)"},
    {"simulate", whaco_cmd_simulate, "simulate",
     "compare lead-assignment strategies on a simulated floor"},
    {"replay", whaco_cmd_replay, "replay --data DIR",
     "re-run a service's history under another strategy"},
    {"help", run_help, "help", "this text"},
    {"--help", run_help, NULL, NULL},
    {"-h", run_help, NULL, NULL},
    {"version", run_version, "version", "print the version"},
    {"--version", run_version, NULL, NULL},
};

#define N_COMMANDS (sizeof commands / sizeof commands[0])
#define SYNOPSIS_W 20 /* the left column's width; a longer synopsis gets a line of its own */

static void usage(FILE *out)
{
    fputs("usage: whaco <command> [args]\n\ncommands:\n", out);
    for (size_t i = 0; i < N_COMMANDS; i++) {
        const struct command *c = &commands[i];
        if (!c->synopsis)
            continue;
        if (strlen(c->synopsis) > SYNOPSIS_W)
            fprintf(out, "  %s\n  %-*s %s\n", c->synopsis, SYNOPSIS_W, "", c->help);
        else
            fprintf(out, "  %-*s %s\n", SYNOPSIS_W, c->synopsis, c->help);
    }
}

static int run_help(int argc, char **argv, FILE *out, FILE *err)
{
    (void)argc;
    (void)argv;
    (void)err;
    usage(out);
    return 0;
}

static int run_version(int argc, char **argv, FILE *out, FILE *err)
{
    (void)argc;
    (void)argv;
    (void)err;
    fprintf(out, "whaco %s\n", WHACO_VERSION);
    return 0;
}

/* The command named name, or NULL. */
static const struct command *find_command(const char *name)
{
    for (size_t i = 0; i < N_COMMANDS; i++) {
        if (commands[i].name && !strcmp(commands[i].name, name))
            return &commands[i];
    }
    return NULL;
}

int main(int argc, char **argv)
{
    static char buf[1 << 16];
    setvbuf(stdout, buf, _IOFBF, sizeof buf);
    json_alloc_init(); /* before any JSON is touched, before any thread */

    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    const struct command *c = find_command(argv[1]);
    if (!c) {
        fprintf(stderr, "whaco: unknown command '%s'\n", argv[1]);
        usage(stderr);
        return 2;
    }
    return c->run(argc - 1, argv + 1, stdout, stderr);
}

/*
 * main.c: the whaco executable, a thin dispatcher over the subcommands in
 * cli.h (jq's and curl's thin-client shape).
 */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "http/json.h"
#include "banned.h"

static void usage(FILE *out)
{
    fputs("usage: whaco <command> [args]\n"
          "\n"
          "commands:\n"
          "  analyze FILE.csv|-   segment customers from a CSV, learning online\n"
          "  generate             write synthetic customers as CSV\n"
          "  serve                run the HTTP service (see README.md)\n"
          "  token create|list|revoke\n"
          "                       API tokens: make one, list them, revoke one\n"
          "  state export|import  the state as the seed's two JSON files\n"
          "  state verify         check the state equals a replay of the event log\n"
          "  log                  print the event log as JSON lines\n"
          "  simulate             compare lead-assignment strategies on a simulated floor\n"
          "  replay --data DIR    re-run a service's history under another strategy\n"
          "  help                 this text\n"
          "  version              print the version\n",
          out);
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
    const char *cmd = argv[1];
    if (!strcmp(cmd, "analyze"))
        return whaco_cmd_analyze(argc - 1, argv + 1, stdout, stderr);
    if (!strcmp(cmd, "generate"))
        return whaco_cmd_generate(argc - 1, argv + 1, stdout, stderr);
    if (!strcmp(cmd, "serve"))
        return whaco_cmd_serve(argc - 1, argv + 1, stdout, stderr);
    if (!strcmp(cmd, "token"))
        return whaco_cmd_token(argc - 1, argv + 1, stdout, stderr);
    if (!strcmp(cmd, "state"))
        return whaco_cmd_state(argc - 1, argv + 1, stdout, stderr);
    if (!strcmp(cmd, "simulate"))
        return whaco_cmd_simulate(argc - 1, argv + 1, stdout, stderr);
    if (!strcmp(cmd, "log"))
        return whaco_cmd_log(argc - 1, argv + 1, stdout, stderr);
    if (!strcmp(cmd, "replay"))
        return whaco_cmd_replay(argc - 1, argv + 1, stdout, stderr);
    if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(cmd, "version") || !strcmp(cmd, "--version")) {
        printf("whaco %s\n", WHACO_VERSION);
        return 0;
    }
    fprintf(stderr, "whaco: unknown command '%s'\n", cmd);
    usage(stderr);
    return 2;
}

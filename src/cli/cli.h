/*
 * cli/cli.h: the whaco subcommands. Each takes the arguments after its own
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 success, 1 some input was rejected (reported on stderr), 2 usage or I/O
 * error.
 */
#ifndef WHACO_CLI_H
#define WHACO_CLI_H

#include <stdio.h>

int whaco_cmd_analyze(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_generate(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_serve(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_token(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_state(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_simulate(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_replay(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_log(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_outcomes(int argc, char **argv, FILE *out, FILE *err);

/* `whaco state verify` (argv[0] is "verify"); called by whaco_cmd_state. */
int whaco_state_verify(int argc, char **argv, FILE *out, FILE *err);

#endif /* WHACO_CLI_H */

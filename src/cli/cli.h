/*
 * cli/cli.h: the whaco subcommands. Each takes the arguments after its own
 * name (argv[0] is the subcommand) and returns the process exit status:
 * 0 success, 1 some input was rejected (reported on stderr), 2 usage or I/O
 * error.
 */
#ifndef WHACO_CLI_H
#define WHACO_CLI_H

#include <stdio.h>

struct whaco_store;
struct whaco_store_spec;

int whaco_cmd_analyze(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_generate(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_serve(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_token(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_state(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_simulate(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_replay(int argc, char **argv, FILE *out, FILE *err);
int whaco_cmd_log(int argc, char **argv, FILE *out, FILE *err);

/* `whaco state verify` (argv[0] is "verify"); called by whaco_cmd_state. */
int whaco_state_verify(int argc, char **argv, FILE *out, FILE *err);

/*
 * Make *spec (zeroed by the caller) the store named by data, the --data
 * text (whaco_store_spec_parse): 0, or 2 after reporting "prefix: why" on
 * err. In logcheck.c.
 */
int cli_store_spec(const char *data, struct whaco_store_spec *spec, const char *prefix, FILE *err);

/*
 * Open the store of dir (the --data text) for reading without creating one
 * (WHACO_STORE_MUST_EXIST; a missing DIR/whaco.db is reported as such): 0
 * with *s open, or 2 after reporting on err (prefix names the command). In
 * logcheck.c.
 */
int cli_open_existing_store(const char *dir, struct whaco_store **s, const char *prefix, FILE *err);

/*
 * Write s to out as a JSON string: quoted; quotes, backslashes and control
 * characters escaped (\n and \t by name); bytes >= 0x80 as they are (the
 * caller passes UTF-8). In logcheck.c.
 */
void cli_json_string(FILE *out, const char *s);

#endif /* WHACO_CLI_H */

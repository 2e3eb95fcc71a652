/*
 * cli/common.h: what several subcommands share -- the default data
 * directory, opening a data directory's existing store, and JSON strings
 * in their output. Implemented in common.c.
 */
#ifndef WHACO_CLI_COMMON_H
#define WHACO_CLI_COMMON_H

#include <stdio.h>

struct whaco_store;

/*
 * The data directory when no --data is given: $WHACO_DATA, else "data".
 * The string is borrowed (the environment's, or a literal).
 */
const char *cli_default_data(void);

/*
 * Open the store of dir for reading without creating one (opening a missing
 * DIR/whaco.db would): 0 with *s open (the caller closes it with
 * whaco_store_close), or 2 after reporting on err (prefix names the
 * command).
 */
int cli_open_existing_store(const char *dir, struct whaco_store **s, const char *prefix, FILE *err);

/*
 * Write s to out as a JSON string: quoted; quotes, backslashes and control
 * characters escaped (\n and \t by name); bytes >= 0x80 as they are (the
 * caller passes UTF-8).
 */
void cli_json_string(FILE *out, const char *s);

#endif /* WHACO_CLI_COMMON_H */

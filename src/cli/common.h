/*
 * cli/common.h: what several subcommands share -- the default data
 * directory, opening a data directory's existing store, and the escaping of
 * JSON strings in their output. Implemented in common.c.
 */
#ifndef WHACO_CLI_COMMON_H
#define WHACO_CLI_COMMON_H

#include <stdio.h>

struct whaco_store;
struct whaco_store_spec;

/*
 * The data directory when no --data is given: $WHACO_DATA, else "data".
 * The string is borrowed (the environment's, or a literal).
 */
const char *cli_default_data(void);

/*
 * Make *spec (zeroed by the caller) the store named by data, the --data
 * text (whaco_store_spec_parse): 0, or 2 after reporting "prefix: why" on
 * err.
 */
int cli_store_spec(const char *data, struct whaco_store_spec *spec, const char *prefix, FILE *err);

/*
 * Open the store of dir (the --data text) for reading without creating one
 * (WHACO_STORE_MUST_EXIST; a missing DIR/whaco.db is reported as such): 0
 * with *s open (the caller closes it with whaco_store_close), or 2 after
 * reporting on err (prefix names the command).
 */
int cli_open_existing_store(const char *dir, struct whaco_store **s, const char *prefix, FILE *err);

/* The most bytes cli_json_escape writes for n input bytes (\u00xx each). */
#define CLI_JSON_ESCAPED_MAX(n) (6 * (size_t)(n))

/*
 * The one JSON string escaping of whaco's command-line output (`whaco
 * analyze --format json`, `whaco log`, `whaco simulate --json`, `whaco
 * replay --json`). Writes the n bytes at s to dst as the inside of a JSON
 * string (RFC 8259, section 7), without the quotes and without a NUL, and
 * returns the end of what it wrote: at most CLI_JSON_ESCAPED_MAX(n) bytes,
 * which dst must have room for. The rule, byte by byte:
 *
 *   "  \                          \"  \\
 *   0x08 0x09 0x0a 0x0c 0x0d      \b \t \n \f \r  (the RFC's short forms)
 *   the other bytes below 0x20    \u00xx, lowercase hex
 *   everything else               as it is: DEL (0x7f), which the RFC lets
 *                                 through, and bytes >= 0x80 (the caller
 *                                 passes UTF-8; nothing is re-encoded)
 *
 * That is exactly what RFC 8259 requires escaping, in its shortest form, and
 * jansson's json_dumps rule (the HTTP API's) but for the case of the hex
 * digits. NUL cannot occur in a C string; s may hold one only through n,
 * and it is written as \u0000. Pure; thread-safe.
 */
char *cli_json_escape(char *dst, const char *s, size_t n);

/* Write s to out as a JSON string: a quote, cli_json_escape's text, a quote. */
void cli_json_string(FILE *out, const char *s);

#endif /* WHACO_CLI_COMMON_H */

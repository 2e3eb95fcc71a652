/*
 * common.c: the helpers of cli/common.h, shared by the subcommands (`whaco
 * log`, `state verify`, `replay`, `token`, the JSON reports).
 *
 * Invariants: nothing here creates or writes a data directory; every
 * string written as JSON is escaped.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "whaco/err.h"
#include "whaco/store.h"
#include "cli/common.h"
#include "banned.h"

const char *cli_default_data(void)
{
    const char *d = getenv("WHACO_DATA");
    return d ? d : "data";
}

int cli_open_existing_store(const char *dir, struct whaco_store **s, const char *prefix, FILE *err)
{
    char path[4096], msg[1024];
    struct stat st;
    snprintf(path, sizeof path, "%s/%s", dir, WHACO_STORE_FILENAME);
    if (stat(path, &st) != 0) {
        fprintf(err, "%s: %s: %s\n", prefix, path, strerror(errno));
        return 2;
    }
    if (whaco_store_open(dir, WHACO_SYNC_FULL, s, msg, sizeof msg) != WHACO_OK) {
        fprintf(err, "%s: %s\n", prefix, msg);
        return 2;
    }
    return 0;
}

void cli_json_string(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20 || *p == 0x7f)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

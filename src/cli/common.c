/*
 * common.c: the helpers of cli/common.h, shared by the subcommands (`whaco
 * log`, `state verify`, `replay`, `token`, the JSON reports).
 *
 * Invariants: nothing here creates or writes a data directory; every
 * string written as JSON is escaped.
 */
#include <stdlib.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/store.h"
#include "cli/common.h"
#include "banned.h"

const char *cli_default_data(void)
{
    const char *d = getenv("WHACO_DATA");
    return d ? d : "data";
}

int cli_store_spec(const char *data, struct whaco_store_spec *spec, const char *prefix, FILE *err)
{
    char msg[1024];
    if (whaco_store_spec_parse(spec, data, msg, sizeof msg) != WHACO_OK) {
        fprintf(err, "%s: %s\n", prefix, msg);
        return 2;
    }
    return 0;
}

int cli_open_existing_store(const char *dir, struct whaco_store **s, const char *prefix, FILE *err)
{
    char msg[1024];
    struct whaco_store_spec spec = {0};
    if (cli_store_spec(dir, &spec, prefix, err))
        return 2;
    spec.flags = WHACO_STORE_MUST_EXIST; /* "DIR/whaco.db: No such file or directory" */
    if (whaco_store_open(&spec, s, msg, sizeof msg) != WHACO_OK) {
        fprintf(err, "%s: %s\n", prefix, msg);
        return 2;
    }
    return 0;
}

/* The RFC 8259 short escapes of the control characters that have one. */
static const char short_escape[0x20] = {
    ['\b'] = 'b', ['\t'] = 't', ['\n'] = 'n', ['\f'] = 'f', ['\r'] = 'r',
};

char *cli_json_escape(char *dst, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    const unsigned char *p = (const unsigned char *)s, *end = p + n;
    for (; p < end; p++) {
        unsigned char c = *p;
        if (c >= 0x20 && c != '"' && c != '\\') {
            *dst++ = (char)c;
            continue;
        }
        *dst++ = '\\';
        if (c >= 0x20) {
            *dst++ = (char)c; /* a quote or a backslash */
        } else if (short_escape[c]) {
            *dst++ = short_escape[c];
        } else {
            memcpy(dst, "u00", 3);
            dst[3] = hex[c >> 4];
            dst[4] = hex[c & 15];
            dst += 5;
        }
    }
    return dst;
}

/* Input bytes escaped at a time by cli_json_string: its buffer is 6 times this. */
#define JSON_STRING_CHUNK 256

void cli_json_string(FILE *out, const char *s)
{
    char buf[CLI_JSON_ESCAPED_MAX(JSON_STRING_CHUNK)];
    size_t left = strlen(s);
    fputc('"', out);
    while (left > 0) {
        size_t n = left < JSON_STRING_CHUNK ? left : JSON_STRING_CHUNK;
        char *end = cli_json_escape(buf, s, n);
        fwrite(buf, 1, (size_t)(end - buf), out);
        s += n;
        left -= n;
    }
    fputc('"', out);
}

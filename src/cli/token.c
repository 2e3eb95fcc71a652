/*
 * token.c: `whaco token create | list | revoke` -- the API tokens of a data
 * directory, managed on the server itself.
 *
 * create prints the new token once (stdout) and its id (stderr); only the
 * token's hash is stored. list prints id, role, creation time and label --
 * never anything a client could present. revoke removes one token by its id
 * (or any unique prefix of it, at least MIN_ID_PREFIX digits); a running
 * server on the same directory refuses it within two seconds (auth.h).
 * list and revoke never create a data directory.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "cli/cli.h"
#include "cli/common.h"
#include "http/auth.h"
#include "banned.h"

#define MIN_ID_PREFIX 6

static int token_usage(FILE *err)
{
    fputs("usage: whaco token create --role admin|write|read [--label TEXT] [--data DIR]\n"
          "       whaco token list [--data DIR]\n"
          "       whaco token revoke ID [--data DIR]\n",
          err);
    return 2;
}

static int token_create(const char *data, const char *role, const char *label, FILE *out, FILE *err)
{
    char msg[1024], token[TOKEN_TEXT_MAX], id[TOKEN_ID_TEXT];
    struct whaco_store *s = NULL;
    enum role r = role ? auth_role_parse(role) : ROLE_NONE;
    if (r == ROLE_NONE || strlen(label) >= WHACO_LABEL_MAX) {
        fprintf(err, "whaco token: --role must be admin, write or read; --label at most %d bytes\n",
                WHACO_LABEL_MAX - 1);
        return 2;
    }
    struct whaco_store_spec spec = {0};
    if (whaco_store_spec_parse(&spec, data, msg, sizeof msg) != WHACO_OK ||
        whaco_store_open(&spec, &s, msg, sizeof msg) != WHACO_OK) {
        fprintf(err, "whaco token: %s\n", msg);
        return 1;
    }
    int rc = auth_token_create(s, r, label, (long long)time(NULL) * 1000, token, id);
    if (rc != WHACO_OK) {
        fprintf(err, "whaco token: cannot store the token: %s\n", whaco_store_errmsg(s));
        whaco_store_close(s);
        return 1;
    }
    whaco_store_close(s);
    fprintf(out, "%s\n", token);
    fprintf(err, "whaco token: created a token with role %s, id %s; it is shown only this once\n",
            role, id);
    return 0;
}

/* The tokens of a store as read for list and revoke. */
struct token_row {
    uint8_t hash[WHACO_TOKEN_HASH_BYTES];
    char id[TOKEN_ID_TEXT];
    char role[WHACO_ROLE_MAX];
    char label[WHACO_LABEL_MAX];
    int64_t created_ms;
};

struct token_rows {
    struct token_row *row;
    size_t n, cap;
};

static void collect(void *ctx, const uint8_t hash[WHACO_TOKEN_HASH_BYTES], const char *role,
                    const char *label, int64_t created_ms)
{
    struct token_rows *t = ctx;
    if (t->n == t->cap) {
        t->cap = t->cap ? 2 * t->cap : 16;
        t->row = whaco_xreallocarray(t->row, t->cap, sizeof *t->row);
    }
    struct token_row *r = &t->row[t->n++];
    memcpy(r->hash, hash, sizeof r->hash);
    auth_token_id(hash, r->id);
    snprintf(r->role, sizeof r->role, "%s", role);
    snprintf(r->label, sizeof r->label, "%s", label);
    r->created_ms = created_ms;
}

/*
 * Open dir's existing store and read its tokens into t (empty): 0 with *s
 * open, or the exit status after a message, with nothing left to free.
 */
static int read_tokens(const char *data, const char *prefix, struct whaco_store **s,
                       struct token_rows *t, FILE *err)
{
    int status = cli_open_existing_store(data, s, prefix, err);
    if (status)
        return status;
    if (whaco_store_tokens(*s, collect, t) != WHACO_OK) {
        fprintf(err, "%s: %s\n", prefix, whaco_store_errmsg(*s));
        whaco_store_close(*s);
        *s = NULL;
        whaco_free(t->row);
        *t = (struct token_rows){0};
        return 2;
    }
    return 0;
}

static int token_list(const char *data, FILE *out, FILE *err)
{
    struct whaco_store *s = NULL;
    struct token_rows t = {0};
    int status = read_tokens(data, "whaco token list", &s, &t, err);
    if (status)
        return status;
    whaco_store_close(s);
    fprintf(out, "%-12s  %-5s  %-20s  %s\n", "ID", "ROLE", "CREATED", "LABEL");
    for (size_t i = 0; i < t.n; i++) {
        char when[32] = "?";
        time_t secs = (time_t)(t.row[i].created_ms / 1000);
        struct tm tm;
        if (gmtime_r(&secs, &tm))
            strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
        fprintf(out, "%-12s  %-5s  %-20s%s%s\n", t.row[i].id, t.row[i].role, when,
                t.row[i].label[0] ? "  " : "", t.row[i].label);
    }
    fprintf(err, "whaco token list: %zu token%s\n", t.n, t.n == 1 ? "" : "s");
    whaco_free(t.row);
    return 0;
}

/* Whether id is MIN_ID_PREFIX to 12 hex digits. */
static int id_ok(const char *id)
{
    size_t n = strlen(id);
    if (n < MIN_ID_PREFIX || n > TOKEN_ID_TEXT - 1)
        return 0;
    for (size_t i = 0; i < n; i++)
        if (!isxdigit((unsigned char)id[i]))
            return 0;
    return 1;
}

static int token_revoke(const char *data, const char *id, FILE *err)
{
    if (!id_ok(id)) {
        fprintf(err,
                "whaco token revoke: ID must be %d to %d hex digits, as `whaco token list` shows"
                " it\n",
                MIN_ID_PREFIX, TOKEN_ID_TEXT - 1);
        return 2;
    }
    char want[TOKEN_ID_TEXT];
    size_t len = strlen(id);
    for (size_t i = 0; i <= len; i++)
        want[i] = (char)tolower((unsigned char)id[i]);

    struct whaco_store *s = NULL;
    struct token_rows t = {0};
    int status = read_tokens(data, "whaco token revoke", &s, &t, err);
    if (status)
        return status;
    size_t found = 0, which = 0;
    for (size_t i = 0; i < t.n; i++) {
        if (!strncmp(t.row[i].id, want, len)) {
            found++;
            which = i;
        }
    }
    if (found != 1) {
        if (found == 0)
            fprintf(err, "whaco token revoke: no token has the id %s (see `whaco token list`)\n",
                    want);
        else
            fprintf(err,
                    "whaco token revoke: %zu tokens have ids starting %s; give all 12 digits\n",
                    found, want);
        status = 1;
    } else if (whaco_store_token_remove(s, t.row[which].hash) != WHACO_OK) {
        fprintf(err, "whaco token revoke: %s\n", whaco_store_errmsg(s));
        status = 2;
    } else {
        fprintf(err,
                "whaco token revoke: revoked the %s token %s%s%s%s; a running server refuses it"
                " within 2 s\n",
                t.row[which].role, t.row[which].id, t.row[which].label[0] ? " (" : "",
                t.row[which].label, t.row[which].label[0] ? ")" : "");
    }
    whaco_store_close(s);
    whaco_free(t.row);
    return status;
}

int whaco_cmd_token(int argc, char **argv, FILE *out, FILE *err)
{
    const char *role = NULL, *label = "", *id = NULL, *data = getenv("WHACO_DATA");
    if (!data)
        data = "data";
    if (argc < 2)
        return token_usage(err);
    const char *verb = argv[1];
    int first = 2;
    if (!strcmp(verb, "revoke")) {
        if (argc < 3 || argv[2][0] == '-')
            return token_usage(err);
        id = argv[2];
        first = 3;
    } else if (strcmp(verb, "create") && strcmp(verb, "list")) {
        return token_usage(err);
    }
    for (int i = first; i < argc; i++) {
        if (i + 1 >= argc)
            return token_usage(err);
        if (!strcmp(argv[i], "--data"))
            data = argv[++i];
        else if (!strcmp(verb, "create") && !strcmp(argv[i], "--role"))
            role = argv[++i];
        else if (!strcmp(verb, "create") && !strcmp(argv[i], "--label"))
            label = argv[++i];
        else
            return token_usage(err);
    }
    if (!strcmp(verb, "create"))
        return token_create(data, role, label, out, err);
    if (!strcmp(verb, "list"))
        return token_list(data, out, err);
    return token_revoke(data, id, err);
}

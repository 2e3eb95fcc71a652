/*
 * auth.c: tokens and roles (auth.h) on libsodium: randombytes_buf for new
 * tokens, crypto_hash_sha256 for the stored hash, sodium_memcmp to compare.
 * The token table is read through a store connection of its own, reloaded
 * when the store's change counter says another process has committed.
 */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "http/auth.h"
#include "banned.h"

#define TOKEN_PREFIX   "whaco_"
#define RELOAD_SECONDS 2

struct token {
    uint8_t hash[WHACO_TOKEN_HASH_BYTES];
    char id[TOKEN_ID_TEXT]; /* auth_token_id(hash) */
    enum role role;
};

struct auth {
    pthread_mutex_t mu;
    struct whaco_store *store; /* mu: a connection of its own */
    struct token *tokens;      /* mu */
    size_t n, cap;             /* mu */
    int64_t version;           /* mu: the store's change counter at the last load */
    time_t checked;            /* mu: when the version was last checked */
};

enum role auth_role_parse(const char *name)
{
    if (!strcmp(name, "admin"))
        return ROLE_ADMIN;
    if (!strcmp(name, "write"))
        return ROLE_WRITE;
    if (!strcmp(name, "read"))
        return ROLE_READ;
    return ROLE_NONE;
}

const char *auth_role_name(enum role r)
{
    switch (r) {
    case ROLE_ADMIN:
        return "admin";
    case ROLE_WRITE:
        return "write";
    case ROLE_READ:
        return "read";
    case ROLE_NONE:
        return "none";
    default:
        return "unknown role"; /* not an enum role: a caller's bug, shown as such */
    }
}

static void add_token(void *ctx, const uint8_t hash[WHACO_TOKEN_HASH_BYTES], const char *role,
                      const char *label, int64_t created_ms)
{
    struct auth *a = ctx;
    (void)label;
    (void)created_ms;
    if (a->n == a->cap) {
        a->cap = a->cap ? 2 * a->cap : 8;
        a->tokens = whaco_xreallocarray(a->tokens, a->cap, sizeof *a->tokens);
    }
    memcpy(a->tokens[a->n].hash, hash, WHACO_TOKEN_HASH_BYTES);
    auth_token_id(hash, a->tokens[a->n].id);
    a->tokens[a->n].role = auth_role_parse(role);
    a->n++;
}

/* Reload the table if another process changed the store (mu held). */
static void refresh(struct auth *a)
{
    time_t now = time(NULL);
    int64_t version;
    if (now - a->checked < RELOAD_SECONDS && a->checked)
        return;
    a->checked = now;
    if (whaco_store_change_counter(a->store, &version) != WHACO_OK || version == a->version)
        return;
    a->n = 0;
    if (whaco_store_tokens(a->store, add_token, a) == WHACO_OK)
        a->version = version;
}

struct auth *auth_open(const struct whaco_store_spec *store, char *errbuf, size_t errlen)
{
    struct whaco_store_spec spec = *store;
    spec.sync = WHACO_SYNC_FULL; /* a token change is durable at once */
    if (sodium_init() < 0) {
        snprintf(errbuf, errlen, "libsodium failed to initialise");
        return NULL;
    }
    struct auth *a = whaco_xcalloc(1, sizeof *a);
    if (whaco_store_open(&spec, &a->store, errbuf, errlen) != WHACO_OK) {
        free(a);
        return NULL;
    }
    pthread_mutex_init(&a->mu, NULL);
    a->version = -1;
    pthread_mutex_lock(&a->mu);
    refresh(a);
    pthread_mutex_unlock(&a->mu);
    return a;
}

void auth_close(struct auth *a)
{
    if (!a)
        return;
    whaco_store_close(a->store);
    free(a->tokens);
    pthread_mutex_destroy(&a->mu);
    free(a);
}

enum role auth_check(struct auth *a, const char *authorization, char id[TOKEN_ID_TEXT])
{
    static const char bearer[] = "Bearer ";
    uint8_t hash[WHACO_TOKEN_HASH_BYTES];
    enum role found = ROLE_NONE;
    size_t at = 0;
    if (id)
        id[0] = '\0';
    if (!authorization || strncmp(authorization, bearer, sizeof bearer - 1) != 0)
        return ROLE_NONE;
    const char *token = authorization + sizeof bearer - 1;
    size_t len = strlen(token);
    if (len == 0 || len >= TOKEN_TEXT_MAX)
        return ROLE_NONE;
    crypto_hash_sha256(hash, (const unsigned char *)token, len);
    pthread_mutex_lock(&a->mu);
    refresh(a);
    /* Compare with every entry, so the time taken does not depend on where
     * (or whether) the token is found. */
    for (size_t i = 0; i < a->n; i++) {
        int same = sodium_memcmp(hash, a->tokens[i].hash, sizeof hash) == 0;
        found = same ? a->tokens[i].role : found;
        at = same ? i : at;
    }
    if (id && found != ROLE_NONE)
        memcpy(id, a->tokens[at].id, TOKEN_ID_TEXT);
    pthread_mutex_unlock(&a->mu);
    return found;
}

void auth_token_id(const uint8_t hash[WHACO_TOKEN_HASH_BYTES], char id[TOKEN_ID_TEXT])
{
    sodium_bin2hex(id, TOKEN_ID_TEXT, hash, (TOKEN_ID_TEXT - 1) / 2);
}

bool auth_id_valid(struct auth *a, const char *id)
{
    bool found = false;
    pthread_mutex_lock(&a->mu);
    refresh(a);
    for (size_t i = 0; i < a->n && !found; i++)
        found = strcmp(a->tokens[i].id, id) == 0;
    pthread_mutex_unlock(&a->mu);
    return found;
}

int auth_token_create(struct whaco_store *s, enum role r, const char *label, long long now_ms,
                      char out[TOKEN_TEXT_MAX], char id[TOKEN_ID_TEXT])
{
    uint8_t raw[32], hash[WHACO_TOKEN_HASH_BYTES];
    size_t prefix = sizeof TOKEN_PREFIX - 1;
    if (sodium_init() < 0 || r == ROLE_NONE)
        return WHACO_E_INVAL;
    randombytes_buf(raw, sizeof raw);
    memcpy(out, TOKEN_PREFIX, prefix);
    sodium_bin2base64(out + prefix, TOKEN_TEXT_MAX - prefix, raw, sizeof raw,
                      sodium_base64_VARIANT_URLSAFE_NO_PADDING);
    crypto_hash_sha256(hash, (const unsigned char *)out, strlen(out));
    sodium_memzero(raw, sizeof raw);
    auth_token_id(hash, id);
    return whaco_store_token_add(s, hash, auth_role_name(r), label, now_ms);
}

/*
 * http/auth.h: API tokens -- creation, hashing, and checking a request's
 * bearer token against the roles.
 *
 * A token is "whaco_" followed by 43 base64url characters (32 random bytes
 * from libsodium). Only its SHA-256 is stored (in the store's tokens
 * table); a presented token is hashed and compared with every stored hash
 * in constant time (sodium_memcmp), so neither the token nor its position in
 * the table leaks through timing. Roles are ordered: admin > write > read.
 *
 * The table is loaded from the store at start and reloaded, at most every
 * two seconds, when another connection (`whaco token create` or `revoke`)
 * has changed the store (whaco_store_change_counter): a revoked token is
 * refused within two seconds.
 * Thread-safe.
 */
#ifndef WHACO_HTTP_AUTH_H
#define WHACO_HTTP_AUTH_H

#include <stdbool.h>
#include <stddef.h>

#include "whaco/store.h"

enum role { ROLE_NONE = 0, ROLE_READ = 1, ROLE_WRITE = 2, ROLE_ADMIN = 3 };

#define TOKEN_TEXT_MAX 64 /* "whaco_" + 43 chars + NUL fits */
#define TOKEN_ID_TEXT  13 /* 12 hex digits + NUL */

struct auth;

/*
 * Open the token table of the store spec names (borrowed for the call
 * only; its sync is ignored: a token change is durable at once). NULL
 * with errbuf on failure.
 */
struct auth *auth_open(const struct whaco_store_spec *spec, char *errbuf, size_t errlen);
void auth_close(struct auth *a);

/*
 * The role of the token in an "Authorization" header value ("Bearer ...").
 * ROLE_NONE for a missing, malformed or unknown token. id (may be NULL)
 * gets the token's id (auth_token_id), or "" for ROLE_NONE: what a request
 * log line may name instead of the token.
 */
enum role auth_check(struct auth *a, const char *authorization, char id[TOKEN_ID_TEXT]);

/*
 * Whether a token with this id (auth_token_id) is in the table, reloaded
 * first if the database changed: false once it has been revoked.
 */
bool auth_id_valid(struct auth *a, const char *id);

/* "admin"/"write"/"read" to a role; ROLE_NONE if unknown. */
enum role auth_role_parse(const char *name);
const char *auth_role_name(enum role r);

/*
 * Create a token of role r with a label in the store s: writes the new
 * token's text into out[TOKEN_TEXT_MAX] and its id into id, and stores only
 * its hash.
 */
int auth_token_create(struct whaco_store *s, enum role r, const char *label, long long now_ms,
                      char out[TOKEN_TEXT_MAX], char id[TOKEN_ID_TEXT]);

/*
 * A token's id: the first 6 bytes of its hash, in lower-case hex. It names
 * the token in `whaco token list` and `whaco token revoke`; being part of a
 * hash of 256 random bits, it tells nothing about the token itself.
 */
void auth_token_id(const uint8_t hash[WHACO_TOKEN_HASH_BYTES], char id[TOKEN_ID_TEXT]);

#endif /* WHACO_HTTP_AUTH_H */

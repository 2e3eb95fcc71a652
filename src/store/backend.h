/*
 * store/backend.h: the seam between whaco/store.h and the backends that
 * keep the data, libuv-style -- one public interface, one table of
 * operations per backend. store.c parses specs, picks the backend and hands
 * every public call to it; a backend (sqlite.c) implements each operation
 * with the contract its public counterpart states in whaco/store.h, errors
 * included. Nothing outside src/store includes this header.
 *
 * Invariants:
 *
 *  - Every handle a backend returns begins with a struct whaco_store: the
 *    backend's own struct embeds it as its first member, so the front and
 *    the backend convert between the two pointers by a cast.
 *  - backend and where are set by the backend's open before it returns,
 *    and where stays valid (and the same text) until close.
 *  - Every message in errmsg begins with "WHERE: " (whaco__store_fail
 *    writes it so), which is what whaco_store_strip_location takes off.
 *
 * Adding a backend: implement every operation (none may be NULL), give it
 * a kind in enum whaco_store_kind and, if its specs are URLs, a scheme;
 * list it in backends[] in store.c. The engine and the CLI need no change.
 */
#ifndef WHACO_STORE_BACKEND_H
#define WHACO_STORE_BACKEND_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/store.h"

/* The part of every handle the front reads. */
struct whaco_store {
    const struct whaco_store_backend *backend; /* the operations; static storage */
    const char *where;                         /* whaco_store_where; owned by the backend part */
    char errmsg[512];                          /* the last failure, "WHERE: ..."; "" if none */
};

/*
 * A backend: each operation is its whaco_store_* counterpart, with the same
 * arguments and contract. The front checks for open (a known kind, a
 * location, a valid sync, out not NULL) and for health (a known how, *done
 * cleared) before calling; every other check is the backend's.
 */
struct whaco_store_backend {
    const char *scheme;         /* the URL scheme of its specs ("postgresql"); NULL: a plain path */
    enum whaco_store_kind kind; /* the specs it opens */

    int (*open)(const struct whaco_store_spec *spec, struct whaco_store **out, char *errbuf,
                size_t errlen);
    void (*close)(struct whaco_store *s);

    int (*begin)(struct whaco_store *s);
    int (*append)(struct whaco_store *s, int64_t time_ms, uint32_t type, const void *body,
                  size_t len, uint64_t *seq);
    int (*commit)(struct whaco_store *s);
    void (*rollback)(struct whaco_store *s);
    uint64_t (*last_seq)(struct whaco_store *s);
    int (*sync)(struct whaco_store *s);
    int (*stats)(struct whaco_store *s, struct whaco_store_stats *out);
    int (*replay)(struct whaco_store *s, uint64_t after, whaco_store_event_cb cb, void *ctx);

    int (*put_snapshot)(struct whaco_store *s, uint64_t seq, int64_t time_ms, const void *state,
                        size_t len);
    int (*snapshot_before)(struct whaco_store *s, uint64_t before, uint64_t *seq, int64_t *time_ms,
                           void **state, size_t *len);
    int (*first_seq)(struct whaco_store *s, uint64_t *first);
    int (*compact)(struct whaco_store *s, unsigned keep_snapshots, int64_t keep_after_ms,
                   uint64_t *deleted);

    int (*token_add)(struct whaco_store *s, const uint8_t hash[WHACO_TOKEN_HASH_BYTES],
                     const char *role, const char *label, int64_t created_ms);
    int (*tokens)(struct whaco_store *s, whaco_store_token_cb cb, void *ctx);
    int (*token_remove)(struct whaco_store *s, const uint8_t hash[WHACO_TOKEN_HASH_BYTES]);
    int (*change_counter)(struct whaco_store *s, int64_t *counter);

    /* *done is 0 on entry; the backend ORs enum whaco_store_repairs into it. */
    int (*health)(struct whaco_store *s, enum whaco_store_health how, int64_t now_ms,
                  unsigned *done);
};

/* The backends of this build (listed in store.c's backends[]). */
extern const struct whaco_store_backend whaco__store_sqlite;

/*
 * Record "WHERE: <formatted>" as the last failure of s and return err. A
 * location too long for the buffer leaves only (the start of) the location:
 * it is all there is room to say.
 */
int whaco__store_fail(struct whaco_store *s, int err, const char *fmt, ...);
int whaco__store_vfail(struct whaco_store *s, int err, const char *fmt, va_list ap);

#endif /* WHACO_STORE_BACKEND_H */

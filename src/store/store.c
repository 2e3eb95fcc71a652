/*
 * store.c: the front of whaco/store.h -- store specs (parsing the user's
 * text, printing one for a message), the choice of backend, the messages
 * every backend shares, and one thin dispatching function per operation
 * (store/backend.h). What the data look like and how they are kept is the
 * backends' (sqlite.c); nothing here does I/O.
 *
 * Invariants:
 *
 *  - A spec's kind is one of backends[] or open refuses it; a text whose
 *    scheme no backend of this build has is refused at parse time, naming
 *    only the scheme (a URL may carry a password).
 *  - Every public function taking a store calls the backend's operation and
 *    nothing else, except the argument checks the backend table says the
 *    front makes (open, health), so a backend sees the same calls whichever
 *    caller made them.
 *
 * Threads: spec functions are pure; the rest inherit the store's rule (one
 * thread at a time per handle).
 */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "whaco/err.h"
#include "whaco/store.h"
#include "store/backend.h"

#include "banned.h"

/*
 * The backends of this build, the one for plain paths first. A build with
 * another backend lists it here (and gives it a kind and a scheme).
 */
static const struct whaco_store_backend *const backends[] = {
    &whaco__store_sqlite,
};

#define N_BACKENDS (sizeof backends / sizeof backends[0])

static const struct whaco_store_backend *backend_of_kind(enum whaco_store_kind kind)
{
    for (size_t i = 0; i < N_BACKENDS; i++)
        if (backends[i]->kind == kind)
            return backends[i];
    return NULL;
}

/*==== Specs ===============================================================*/

/*
 * The length of the URL scheme text begins with when it is followed by
 * "://" (RFC 3986: a letter, then letters, digits, '+', '-' or '.'), else
 * 0: the text is a path. "./x://y" is a path.
 */
static size_t scheme_length(const char *text)
{
    size_t n = 0;
    if (!isalpha((unsigned char)text[0]))
        return 0;
    while (isalnum((unsigned char)text[n]) || text[n] == '+' || text[n] == '-' || text[n] == '.')
        n++;
    return strncmp(text + n, "://", 3) == 0 ? n : 0;
}

static int spec_error(char *errbuf, size_t errlen, const char *fmt, ...)
{
    if (errbuf && errlen > 0) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(errbuf, errlen, fmt, ap);
        va_end(ap);
    }
    return WHACO_E_INVAL;
}

int whaco_store_spec_parse(struct whaco_store_spec *spec, const char *text, char *errbuf,
                           size_t errlen)
{
    if (errbuf && errlen > 0)
        errbuf[0] = '\0';
    if (!spec || !text || !text[0])
        return spec_error(errbuf, errlen, "no store given (an empty --data; it takes a directory)");
    size_t n = scheme_length(text);
    for (size_t i = 0; i < N_BACKENDS; i++) {
        const char *scheme = backends[i]->scheme;
        int match = n == 0 ? scheme == NULL
                           : scheme && strlen(scheme) == n && strncasecmp(scheme, text, n) == 0;
        if (match) {
            spec->kind = backends[i]->kind;
            spec->location = text;
            return WHACO_OK;
        }
    }
    if (n == 0) /* a build whose backends all take URLs */
        return spec_error(errbuf, errlen, "%s: this build of whaco keeps no data in a directory",
                          text);
    return spec_error(errbuf, errlen,
                      "%.*s:// storage is not supported by this build of whaco; it keeps its data"
                      " in SQLite, in a directory (give --data a directory path)",
                      (int)n, text);
}

const char *whaco_store_spec_describe(const struct whaco_store_spec *spec, char *buf, size_t len)
{
    if (!buf || len == 0)
        return buf;
    if (!spec || !spec->location) {
        snprintf(buf, len, "(no store)");
        return buf;
    }
    size_t n = scheme_length(spec->location);
    if (n == 0) {
        snprintf(buf, len, "%s", spec->location);
        return buf;
    }
    /* scheme://[user[:password]@]rest: leave out the user information. */
    const char *auth = spec->location + n + 3;
    const char *end = auth + strcspn(auth, "/?#");
    const char *at = NULL;
    for (const char *p = auth; p < end; p++)
        if (*p == '@')
            at = p;
    snprintf(buf, len, "%.*s://%s", (int)n, spec->location, at ? at + 1 : auth);
    return buf;
}

/*==== Opening, closing, messages ==========================================*/

int whaco_store_open(const struct whaco_store_spec *spec, struct whaco_store **out, char *errbuf,
                     size_t errlen)
{
    if (errbuf && errlen > 0)
        errbuf[0] = '\0';
    if (out)
        *out = NULL;
    const struct whaco_store_backend *be = spec ? backend_of_kind(spec->kind) : NULL;
    if (!spec || !out || !spec->location || !spec->location[0] ||
        (spec->sync != WHACO_SYNC_FULL && spec->sync != WHACO_SYNC_NORMAL)) {
        spec_error(errbuf, errlen, "whaco_store_open: invalid argument (location %s)",
                   spec && spec->location && spec->location[0] ? spec->location : "missing");
        return WHACO_E_INVAL;
    }
    if (!be)
        return spec_error(errbuf, errlen,
                          "whaco_store_open: this build of whaco has no storage backend of kind"
                          " %d (for %s)",
                          (int)spec->kind, spec->location);
    return be->open(spec, out, errbuf, errlen);
}

void whaco_store_close(struct whaco_store *s)
{
    if (s)
        s->backend->close(s);
}

const char *whaco_store_where(const struct whaco_store *s)
{
    return s ? s->where : "";
}

const char *whaco_store_errmsg(const struct whaco_store *s)
{
    return s ? s->errmsg : "";
}

const char *whaco_store_strip_location(const struct whaco_store *s, const char *msg)
{
    if (!msg)
        return "";
    if (!s)
        return msg;
    size_t n = strlen(s->where);
    if (n > 0 && strncmp(msg, s->where, n) == 0 && msg[n] == ':' && msg[n + 1] == ' ')
        return msg + n + 2;
    return msg;
}

int whaco__store_vfail(struct whaco_store *s, int err, const char *fmt, va_list ap)
{
    int n = snprintf(s->errmsg, sizeof s->errmsg, "%s: ", s->where);
    if (n < 0 || (size_t)n >= sizeof s->errmsg)
        return err; /* a location this long leaves no room; it is all we can say */
    vsnprintf(s->errmsg + n, sizeof s->errmsg - (size_t)n, fmt, ap);
    return err;
}

int whaco__store_fail(struct whaco_store *s, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    whaco__store_vfail(s, err, fmt, ap);
    va_end(ap);
    return err;
}

/*==== The operations: one call each =======================================*/

int whaco_store_begin(struct whaco_store *s)
{
    return s->backend->begin(s);
}

int whaco_store_append(struct whaco_store *s, int64_t time_ms, uint32_t type, const void *body,
                       size_t len, uint64_t *seq)
{
    return s->backend->append(s, time_ms, type, body, len, seq);
}

int whaco_store_commit(struct whaco_store *s)
{
    return s->backend->commit(s);
}

void whaco_store_rollback(struct whaco_store *s)
{
    s->backend->rollback(s);
}

uint64_t whaco_store_last_seq(struct whaco_store *s)
{
    return s->backend->last_seq(s);
}

int whaco_store_sync(struct whaco_store *s)
{
    return s->backend->sync(s);
}

int whaco_store_stats(struct whaco_store *s, struct whaco_store_stats *out)
{
    return s->backend->stats(s, out);
}

int whaco_store_replay(struct whaco_store *s, uint64_t after, whaco_store_event_cb cb, void *ctx)
{
    return s->backend->replay(s, after, cb, ctx);
}

int whaco_store_put_snapshot(struct whaco_store *s, uint64_t seq, int64_t time_ms,
                             const void *state, size_t len)
{
    return s->backend->put_snapshot(s, seq, time_ms, state, len);
}

int whaco_store_snapshot_before(struct whaco_store *s, uint64_t before, uint64_t *seq,
                                int64_t *time_ms, void **state, size_t *len)
{
    return s->backend->snapshot_before(s, before, seq, time_ms, state, len);
}

int whaco_store_latest_snapshot(struct whaco_store *s, uint64_t *seq, int64_t *time_ms,
                                void **state, size_t *len)
{
    return s->backend->snapshot_before(s, UINT64_MAX, seq, time_ms, state, len);
}

int whaco_store_first_seq(struct whaco_store *s, uint64_t *first)
{
    return s->backend->first_seq(s, first);
}

int whaco_store_compact(struct whaco_store *s, unsigned keep_snapshots, int64_t keep_after_ms,
                        uint64_t *deleted)
{
    return s->backend->compact(s, keep_snapshots, keep_after_ms, deleted);
}

int whaco_store_token_add(struct whaco_store *s, const uint8_t hash[WHACO_TOKEN_HASH_BYTES],
                          const char *role, const char *label, int64_t created_ms)
{
    return s->backend->token_add(s, hash, role, label, created_ms);
}

int whaco_store_tokens(struct whaco_store *s, whaco_store_token_cb cb, void *ctx)
{
    return s->backend->tokens(s, cb, ctx);
}

int whaco_store_token_remove(struct whaco_store *s, const uint8_t hash[WHACO_TOKEN_HASH_BYTES])
{
    return s->backend->token_remove(s, hash);
}

int whaco_store_change_counter(struct whaco_store *s, int64_t *counter)
{
    return s->backend->change_counter(s, counter);
}

int whaco_store_health(struct whaco_store *s, enum whaco_store_health how, int64_t now_ms,
                       unsigned *done)
{
    unsigned did = 0;
    int err;
    switch (how) {
    case WHACO_STORE_CHECK:
    case WHACO_STORE_REPAIR:
    case WHACO_STORE_PROBE:
        err = s->backend->health(s, how, now_ms, &did);
        break;
    default:
        err =
            whaco__store_fail(s, WHACO_E_INVAL, "whaco_store_health: unknown request %d", (int)how);
        break;
    }
    if (done)
        *done = err == WHACO_OK ? did : 0;
    return err;
}

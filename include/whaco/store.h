/*
 * whaco/store.h: durable state -- the event log, snapshots and API tokens --
 * behind one interface that more than one backend can implement.
 *
 * A store is named by a struct whaco_store_spec: which backend keeps the
 * data, where (a location in the backend's own terms), and how durable a
 * commit is. whaco_store_spec_parse makes one from what the user typed
 * (--data): a plain path is a directory in which the SQLite backend keeps
 * one database file (whaco/store_sqlite.h, docs/store.md); a URL
 * ("postgresql://...") names another backend and is refused, saying so,
 * when this build has none for it. The code above the store (engine, HTTP
 * layer, CLI) includes only this header: it knows no file name, no SQL and
 * no backend's error codes, so a second backend needs no change there.
 *
 * What every backend guarantees is the contract written above each
 * function; in short:
 *
 *  - an event log whose sequence numbers (1, 2, ...) are never reused,
 *    appended in batches that are committed whole or not at all;
 *  - snapshots of the state, compaction of the log behind them, and the
 *    hashes of the API tokens;
 *  - "committed" means durable as the spec's sync says, in the store the
 *    spec names (never only in a copy nobody can reach any more);
 *  - data that is not whaco's, is damaged, or comes from a newer whaco is
 *    refused at open and never written to.
 *
 * Threads: a struct whaco_store is one connection; use it from one thread
 * at a time (the engine thread, or the auth table under its lock). Several
 * processes may open the same store at once (the server and `whaco token
 * create`); the backend serialises them.
 *
 * Errors: functions return WHACO_OK or a negative whaco_err -- WHACO_E_IO
 * for a storage failure, WHACO_E_STATE_CORRUPT for damaged or foreign data,
 * WHACO_E_STATE_VERSION for a newer format, WHACO_E_INVAL for a misuse.
 * whaco_store_errmsg() then holds a message for the operator that begins
 * with the store's location ("DIR/whaco.db: ..."); whaco_store_strip_location
 * takes that off for a reader who should see no paths (an HTTP client).
 */
#ifndef WHACO_STORE_H
#define WHACO_STORE_H

#include <stddef.h>
#include <stdint.h>

/*==== Naming a store ======================================================*/

/* How durable a committed batch is (docs/store.md, "Durability"). */
enum whaco_sync {
    WHACO_SYNC_FULL = 0,   /* survives power loss: synced at every commit */
    WHACO_SYNC_NORMAL = 1, /* survives a crash of the process; whaco_store_sync bounds the rest */
};

/* The backend that keeps the data. 0 is none: a zeroed spec names no store. */
enum whaco_store_kind {
    WHACO_STORE_NONE = 0,
    WHACO_STORE_SQLITE = 1, /* one SQLite database file in a directory (the location) */
};

/* Flags of a spec, ORed into whaco_store_spec.flags. */
enum whaco_store_flags {
    WHACO_STORE_MUST_EXIST = 1u << 0, /* open only a store that exists; never create one */
};

/*
 * Which store, where, and how durable. Plain data the caller owns; a spec
 * with .sync and .flags zero is the default (WHACO_SYNC_FULL, create if
 * missing).
 */
struct whaco_store_spec {
    enum whaco_store_kind kind; /* the backend */
    const char *location;       /* borrowed: the text parsed (SQLite: the directory) */
    enum whaco_sync sync;       /* WHACO_SYNC_FULL (default) or WHACO_SYNC_NORMAL */
    unsigned flags;             /* enum whaco_store_flags */
};

/*
 * Set spec->kind and spec->location from the user's text: a plain path is
 * a directory for the SQLite backend; "scheme://..." names the backend of
 * that scheme, and is refused (WHACO_E_INVAL, errbuf saying that this build
 * does not support it, naming only the scheme: a URL may hold a password)
 * when this build has none. An empty text is refused too. spec->location
 * then points at text, which must outlive the spec; spec->sync and
 * spec->flags are left as they were. On failure *spec is unchanged.
 * errbuf may be NULL. Thread-safe.
 */
int whaco_store_spec_parse(struct whaco_store_spec *spec, const char *text, char *errbuf,
                           size_t errlen);

/*
 * Write spec as the user would recognise it in a message into buf[len]
 * (always NUL-terminated when len > 0): the directory as given, or a URL
 * without its user and password. Returns buf. Thread-safe.
 */
const char *whaco_store_spec_describe(const struct whaco_store_spec *spec, char *buf, size_t len);

/*==== Opening and closing =================================================*/

struct whaco_store;

/*
 * Open the store spec names, creating it if it does not exist (unless
 * WHACO_STORE_MUST_EXIST; the SQLite backend creates the directory, mode
 * 0700, and the file). spec is only read during the call; its location is
 * copied. On success *out is a new store the caller closes. On failure
 * *out is NULL, errbuf[errlen] (may be NULL) holds the reason beginning
 * with the location, and the data are untouched. Errors: WHACO_E_INVAL (a
 * bad spec, or a backend this build lacks), WHACO_E_NOT_FOUND (MUST_EXIST
 * and the store cannot be found; SQLite: "DIR/whaco.db: No such file or
 * directory", or why stat() failed), WHACO_E_STATE_CORRUPT,
 * WHACO_E_STATE_VERSION, WHACO_E_IO.
 */
int whaco_store_open(const struct whaco_store_spec *spec, struct whaco_store **out, char *errbuf,
                     size_t errlen);

/*
 * Close the store: roll back a batch left open, then let the backend tidy
 * up (SQLite checkpoints its WAL, best effort). NULL is a no-op.
 */
void whaco_store_close(struct whaco_store *s);

/*
 * Where the data of s are, for messages: "DIR/whaco.db" for SQLite (the
 * file, with the directory as given less trailing slashes). Owned by s,
 * valid until it is closed; "" for NULL.
 */
const char *whaco_store_where(const struct whaco_store *s);

/*
 * The message of the last failure on s, "WHERE: what happened: the
 * backend's own words"; "" if none (or for NULL). Owned by s, valid until
 * the next call on s.
 */
const char *whaco_store_errmsg(const struct whaco_store *s);

/*
 * msg without the "WHERE: " that begins the messages of s (a copy of
 * whaco_store_errmsg made earlier is fine); msg itself when it does not
 * begin so. Returns a pointer into msg. For what a client may see: the
 * location stays in the operator's log.
 */
const char *whaco_store_strip_location(const struct whaco_store *s, const char *msg);

/*==== The event log: one transaction per batch (group commit) =============*/

/* Begin a batch. Fails (WHACO_E_INVAL) if a batch is already open. */
int whaco_store_begin(struct whaco_store *s);

/*
 * Append one encoded event (whaco/event.h, opaque here) to the open batch;
 * *seq (if not NULL) receives its sequence number (1, 2, ... strictly
 * increasing, never reused, also across restarts and compaction). body is
 * copied. Any failure rolls the whole batch back: no batch is open after.
 */
int whaco_store_append(struct whaco_store *s, int64_t time_ms, uint32_t type, const void *body,
                       size_t len, uint64_t *seq);

/*
 * Commit the batch: one transaction, durable as spec.sync says (SQLite: one
 * fsync of the WAL under WHACO_SYNC_FULL). Committed means in the store the
 * spec names: a batch that could only go into data no longer reachable
 * there (SQLite: a file whose directory was removed) fails and is not
 * kept. Any failure rolls the batch back.
 */
int whaco_store_commit(struct whaco_store *s);

/* Abandon the open batch. Safe when none is open. */
void whaco_store_rollback(struct whaco_store *s);

/*
 * The highest sequence number ever appended (0 for a new store); inside a
 * batch, including its appends. Never fails: on a read error it returns
 * the last value it knew and leaves the message on s.
 */
uint64_t whaco_store_last_seq(struct whaco_store *s);

/*
 * Make every committed batch durable now. Under WHACO_SYNC_FULL every
 * commit already is; under WHACO_SYNC_NORMAL the engine calls this at least
 * every sync interval, which bounds what a power loss can take (SQLite:
 * one fdatasync of the WAL, nothing copied). Fails with WHACO_E_INVAL
 * while a batch is open, WHACO_E_IO if the sync fails (the batches stay
 * committed for the process; their durability is then unknown).
 */
int whaco_store_sync(struct whaco_store *s);

/* What the store holds, for `whaco state verify` and `whaco log`. */
struct whaco_store_stats {
    uint64_t events;       /* events in the log */
    uint64_t first_seq;    /* the oldest event still logged (0 if none) */
    uint64_t last_seq;     /* whaco_store_last_seq */
    uint64_t snapshots;    /* snapshots kept */
    uint64_t snapshot_seq; /* the latest snapshot's seq (0 if none) */
    int has_snapshot;      /* 1 if there is at least one snapshot */
};

/* Fill *out. Reads only; works inside a batch (and sees its appends). */
int whaco_store_stats(struct whaco_store *s, struct whaco_store_stats *out);

/*
 * Call cb(ctx, seq, time_ms, type, body, len) for every event with
 * seq > after, in order. Stops early, returning cb's value, if cb returns
 * non-zero. body is valid only during the call. cb must not call
 * whaco_store_replay on s (WHACO_E_INVAL) nor append.
 */
typedef int (*whaco_store_event_cb)(void *ctx, uint64_t seq, int64_t time_ms, uint32_t type,
                                    const void *body, size_t len);
int whaco_store_replay(struct whaco_store *s, uint64_t after, whaco_store_event_cb cb, void *ctx);

/*==== Snapshots ===========================================================*/

/*
 * Store a snapshot of the state that includes every event up to seq
 * (whaco_intel_save output, copied). Its own transaction: WHACO_E_INVAL
 * while a batch is open, or for a seq beyond whaco_store_last_seq. A
 * second snapshot at the same seq replaces the first. Older snapshots are
 * kept until whaco_store_compact.
 */
int whaco_store_put_snapshot(struct whaco_store *s, uint64_t seq, int64_t time_ms,
                             const void *state, size_t len);

/*
 * The latest snapshot whose seq < before (UINT64_MAX: the latest of all):
 * *state is a malloc'd copy the caller frees, *len its size, *seq the last
 * event it includes. With no such snapshot, returns WHACO_OK with *state
 * NULL, *len 0 and *seq 0. Walking back with before = the previous *seq
 * visits every snapshot, newest first (a damaged latest snapshot is skipped
 * this way). seq and time_ms may be NULL.
 */
int whaco_store_snapshot_before(struct whaco_store *s, uint64_t before, uint64_t *seq,
                                int64_t *time_ms, void **state, size_t *len);

/* whaco_store_snapshot_before(s, UINT64_MAX, ...). */
int whaco_store_latest_snapshot(struct whaco_store *s, uint64_t *seq, int64_t *time_ms,
                                void **state, size_t *len);

/*
 * *first = the lowest seq still in the log, or 0 if the log is empty. The
 * log is complete from the first event when *first is 0 or 1.
 */
int whaco_store_first_seq(struct whaco_store *s, uint64_t *first);

/*
 * Compact behind the snapshots, in one transaction: keep the latest
 * keep_snapshots (>= 1) snapshots and delete the older ones, and delete the
 * events the oldest kept snapshot includes whose time_ms < keep_after_ms
 * (INT64_MAX: all of them). Events after the oldest kept snapshot are
 * always kept, so each kept snapshot can be brought up to date from the
 * log: the engine keeps WHACO_STORE_KEEP_SNAPSHOTS (2), so a damaged latest
 * snapshot still leaves a way back. With fewer snapshots than
 * keep_snapshots nothing is deleted. Sequence numbers are not handed out
 * again. Deleted events must really leave the storage (customer data,
 * retention); customer data then survive only in the snapshots' anomaly
 * rings. *deleted (if not NULL) receives the number of events deleted.
 * WHACO_E_INVAL while a batch is open.
 */
#define WHACO_STORE_KEEP_SNAPSHOTS 2
int whaco_store_compact(struct whaco_store *s, unsigned keep_snapshots, int64_t keep_after_ms,
                        uint64_t *deleted);

/*==== API tokens (only hashes are stored) =================================*/

#define WHACO_TOKEN_HASH_BYTES 32
#define WHACO_ROLE_MAX         16 /* "admin", "write", "read" + NUL */
#define WHACO_LABEL_MAX        64

/*
 * Add a token hash with its role ("admin", "write" or "read") and label
 * (at most WHACO_LABEL_MAX - 1 bytes); all copied. Its own transaction.
 * WHACO_E_DUPLICATE if the hash is there already; WHACO_E_INVAL for a bad
 * argument or while a batch is open.
 */
int whaco_store_token_add(struct whaco_store *s, const uint8_t hash[WHACO_TOKEN_HASH_BYTES],
                          const char *role, const char *label, int64_t created_ms);

/*
 * Call cb(ctx, hash, role, label, created_ms) for every token, oldest
 * first; the arguments are valid only during the call. Used to load them
 * into memory (the hash comparison itself is done by the caller, in
 * constant time) and to list them.
 */
typedef void (*whaco_store_token_cb)(void *ctx, const uint8_t hash[WHACO_TOKEN_HASH_BYTES],
                                     const char *role, const char *label, int64_t created_ms);
int whaco_store_tokens(struct whaco_store *s, whaco_store_token_cb cb, void *ctx);

/*
 * Remove the token with this hash (revoke it): its own transaction, so
 * servers on the same store see it through whaco_store_change_counter.
 * WHACO_E_NOT_FOUND if there is none.
 */
int whaco_store_token_remove(struct whaco_store *s, const uint8_t hash[WHACO_TOKEN_HASH_BYTES]);

/*
 * *counter = a number that changes whenever another connection (another
 * process) has committed to the store since the last call, so a server can
 * reload its tokens only when `whaco token create` or `revoke` has run.
 * It may also change for other reasons (the caller then reloads for
 * nothing), but never stays the same across a commit by someone else.
 * SQLite: PRAGMA data_version, which a connection's own commits leave
 * alone.
 */
int whaco_store_change_counter(struct whaco_store *s, int64_t *counter);

/*==== Health: storage failures while running ==============================*/

/*
 * What whaco_store_health is asked to do. A backend with nothing to check
 * or repair answers WHACO_OK to CHECK and REPAIR; PROBE is always a real
 * write.
 */
enum whaco_store_health {
    /*
     * Cheap (called while idle, every retry interval, and at stop): is the
     * store still where the spec says, so that a commit would land there?
     * SQLite: one stat() that the open file is still DIR/whaco.db (about
     * 1.6 us); WHACO_E_IO "the database file is no longer there ..." if the
     * directory was removed or the file moved or replaced.
     */
    WHACO_STORE_CHECK = 0,
    /*
     * After CHECK failed: put the store back where it should be from what s
     * still holds, if that is possible, reporting WHACO_STORE_RECREATED in
     * *done (the caller should then reload its state from the store, which
     * proves it reads back). WHACO_OK with nothing done if nothing was
     * wrong. SQLite: re-create the directory and copy the open database
     * (every committed batch, snapshot and token) to a new DIR/whaco.db --
     * never overwriting another file that has appeared there.
     */
    WHACO_STORE_REPAIR = 1,
    /*
     * Can the store be written now? One small transaction (SQLite:
     * meta.checked_ms = now_ms) and the CHECK. For a service to learn that
     * a failure (disk full, read-only, locked) has cleared; also written
     * right after a failed commit, over whatever that commit left behind.
     */
    WHACO_STORE_PROBE = 2,
};

/* What whaco_store_health did, ORed into *done. */
enum whaco_store_repairs {
    WHACO_STORE_RECREATED = 1u << 0, /* the store was re-created from the open one: reload */
};

/*
 * Check, repair or probe the store (enum whaco_store_health); now_ms is
 * the time a PROBE records. *done (may be NULL) receives the
 * enum whaco_store_repairs bits of what was done, 0 if nothing or on
 * failure. WHACO_E_INVAL while a batch is open (REPAIR, PROBE) or for an
 * unknown how; otherwise the failure, with its message on s.
 */
int whaco_store_health(struct whaco_store *s, enum whaco_store_health how, int64_t now_ms,
                       unsigned *done);

#endif /* WHACO_STORE_H */

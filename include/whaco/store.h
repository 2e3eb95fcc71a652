/*
 * whaco/store.h: durable state in SQLite -- the event log, snapshots and API
 * tokens. The only code in whaco that includes sqlite3.h.
 *
 * One database file, DIR/whaco.db, in WAL mode. Tables (schema version 1):
 *
 *   meta(key TEXT PRIMARY KEY, value)      application, schema version, created
 *   events(seq INTEGER PRIMARY KEY, time_ms INTEGER, type INTEGER, body BLOB)
 *   snapshots(seq INTEGER PRIMARY KEY, time_ms INTEGER, state BLOB)
 *                                          seq = last event the state includes
 *   tokens(hash BLOB PRIMARY KEY, role TEXT, label TEXT, created_ms INTEGER)
 *
 * The database is marked as whaco's with PRAGMA application_id; a file that
 * is not an SQLite database, belongs to another application, fails
 * PRAGMA quick_check, or has a newer schema version is refused with a clear
 * message and never written to. Older schema versions are migrated forward
 * in one transaction.
 *
 * Durability: WHACO_SYNC_FULL (default) sets synchronous=FULL, so a
 * committed batch survives power loss; WHACO_SYNC_NORMAL sets
 * synchronous=NORMAL, which in WAL mode survives a crash of the process but
 * may lose the last transactions on power loss or an OS crash.
 *
 * Threads: a struct whaco_store is one SQLite connection; use it from one
 * thread at a time (the engine thread). Several processes may open the same
 * directory (the server and `whaco token create`): SQLite's locking and a
 * busy timeout serialise them.
 *
 * Errors: functions return WHACO_OK or a negative whaco_err (WHACO_E_IO for
 * SQLite failures, WHACO_E_STATE_CORRUPT for a damaged or foreign file,
 * WHACO_E_STATE_VERSION for a newer schema); whaco_store_errmsg() then holds a
 * human-readable message naming the file and SQLite's own text.
 */
#ifndef WHACO_STORE_H
#define WHACO_STORE_H

#include <stddef.h>
#include <stdint.h>

enum whaco_sync {
    WHACO_SYNC_FULL = 0,
    WHACO_SYNC_NORMAL = 1,
};

#define WHACO_STORE_SCHEMA     1
#define WHACO_STORE_FILENAME   "whaco.db"
#define WHACO_TOKEN_HASH_BYTES 32
#define WHACO_ROLE_MAX         16 /* "admin", "write", "read" + NUL */
#define WHACO_LABEL_MAX        64

struct whaco_store;

/*
 * Open (creating if needed) DIR/whaco.db. dir must exist or be creatable
 * (mode 0700). On success *out is a new store the caller closes. On failure
 * *out is NULL and errbuf[errlen] holds the reason (also when the failure is
 * a damaged or foreign file, which is left untouched).
 */
int whaco_store_open(const char *dir, enum whaco_sync sync, struct whaco_store **out, char *errbuf,
                     size_t errlen);

/* Close the store (checkpointing the WAL). NULL is a no-op. */
void whaco_store_close(struct whaco_store *s);

/* The message of the last failure on s; "" if none. Owned by s. */
const char *whaco_store_errmsg(const struct whaco_store *s);

/* ---- The event log: one transaction per batch (group commit) ---- */

/* Begin a batch. Fails if a batch is already open. */
int whaco_store_begin(struct whaco_store *s);

/*
 * Append one encoded event (whaco/event.h) to the open batch; *seq (if not
 * NULL) receives its sequence number (1, 2, ... strictly increasing, never
 * reused, also across restarts and compaction).
 */
int whaco_store_append(struct whaco_store *s, int64_t time_ms, uint32_t type, const void *body,
                       size_t len, uint64_t *seq);

/* Commit the batch: one transaction, one fsync under WHACO_SYNC_FULL. */
int whaco_store_commit(struct whaco_store *s);

/* Abandon the open batch. Safe when none is open. */
void whaco_store_rollback(struct whaco_store *s);

/* The highest sequence number ever appended (0 for a new store). */
uint64_t whaco_store_last_seq(struct whaco_store *s);

/*
 * Make every committed batch durable now: fsync the write-ahead log (one
 * fdatasync of DIR/whaco.db-wal, nothing copied). Under WHACO_SYNC_FULL
 * every commit already is; under WHACO_SYNC_NORMAL the engine calls this at
 * least every sync interval, which bounds what a power loss can take.
 * Fails with WHACO_E_INVAL while a batch is open, WHACO_E_IO if the fsync
 * fails (the batches stay committed for the process; their durability is
 * then unknown).
 */
int whaco_store_sync(struct whaco_store *s);

/* What the database holds, for `whaco state verify` and `whaco log`. */
struct whaco_store_stats {
    uint64_t events;       /* rows in the event log */
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
 * non-zero. body is valid only during the call.
 */
typedef int (*whaco_store_event_cb)(void *ctx, uint64_t seq, int64_t time_ms, uint32_t type,
                                    const void *body, size_t len);
int whaco_store_replay(struct whaco_store *s, uint64_t after, whaco_store_event_cb cb, void *ctx);

/* ---- Snapshots ---- */

/*
 * Store a snapshot of the state that includes every event up to seq
 * (whaco_intel_save output). Its own transaction. Older snapshots are kept
 * until whaco_store_compact.
 */
int whaco_store_put_snapshot(struct whaco_store *s, uint64_t seq, int64_t time_ms,
                             const void *state, size_t len);

/*
 * The latest snapshot whose seq < before (UINT64_MAX: the latest of all):
 * *state is a malloc'd copy the caller frees, *len its size, *seq the last
 * event it includes. With no such snapshot, returns WHACO_OK with *state
 * NULL, *len 0 and *seq 0. Walking back with before = the previous *seq
 * visits every snapshot, newest first (a damaged latest snapshot is skipped
 * this way).
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
 * Compact behind the snapshots: keep the latest keep_snapshots (>= 1)
 * snapshots and delete the older ones, and delete the events the oldest
 * kept snapshot includes whose time_ms < keep_after_ms (pass INT64_MAX to
 * delete all of them). Events after the oldest kept snapshot are always
 * kept, so each kept snapshot can be brought up to date from the log: the
 * engine keeps WHACO_STORE_KEEP_SNAPSHOTS (2), so a damaged latest snapshot
 * still leaves a way back. With fewer snapshots than keep_snapshots nothing
 * is deleted. Customer data then survives only in the snapshots' anomaly
 * rings. *deleted (if not NULL) receives the number of events deleted.
 */
#define WHACO_STORE_KEEP_SNAPSHOTS 2
int whaco_store_compact(struct whaco_store *s, unsigned keep_snapshots, int64_t keep_after_ms,
                        uint64_t *deleted);

/* ---- API tokens (only hashes are stored) ---- */

/* Add a token hash with its role ("admin", "write" or "read") and label. */
int whaco_store_token_add(struct whaco_store *s, const uint8_t hash[WHACO_TOKEN_HASH_BYTES],
                          const char *role, const char *label, int64_t created_ms);

/*
 * Call cb(ctx, hash, role, label, created_ms) for every token, oldest
 * first. Used to load them into memory (the hash comparison itself is done
 * by the caller, in constant time) and to list them.
 */
typedef void (*whaco_store_token_cb)(void *ctx, const uint8_t hash[WHACO_TOKEN_HASH_BYTES],
                                     const char *role, const char *label, int64_t created_ms);
int whaco_store_tokens(struct whaco_store *s, whaco_store_token_cb cb, void *ctx);

/*
 * Remove the token with this hash (revoke it): its own transaction, so
 * servers on the same directory see it through whaco_store_data_version.
 * WHACO_E_NOT_FOUND if there is none.
 */
int whaco_store_token_remove(struct whaco_store *s, const uint8_t hash[WHACO_TOKEN_HASH_BYTES]);

/*
 * A number that changes whenever another connection (another process)
 * commits to the database (PRAGMA data_version), so a server can reload its
 * tokens only when `whaco token create` has run.
 */
int whaco_store_data_version(struct whaco_store *s, int64_t *version);

/* ---- Storage failures ---- */

/*
 * Whether the database file is still at DIR/whaco.db: WHACO_E_IO (with the
 * message saying the directory was removed or the file moved or replaced)
 * if not, else WHACO_OK. One stat() (about 1.6 us). whaco_store_commit
 * makes the same check after every commit: a batch committed into a file
 * that is no longer in the directory is deleted from it again and the
 * commit fails, so "committed" always means "in DIR/whaco.db".
 */
int whaco_store_check(struct whaco_store *s);

/*
 * Check that the database can be written now: one small transaction
 * (meta.checked_ms = now_ms) and the whaco_store_check. For a service to
 * find out that a failure (disk full, read-only, locked) has cleared.
 */
int whaco_store_probe(struct whaco_store *s, int64_t now_ms);

/*
 * After the database file was removed from DIR (whaco_store_check fails):
 * re-create DIR if needed, copy the open database (every committed batch,
 * snapshot and token) to a new DIR/whaco.db -- written under a temporary
 * name, fsync'd, then linked into place, so a half-written file is never
 * seen at that name -- and go on with that file. Refuses (WHACO_E_IO) if
 * another file has appeared at DIR/whaco.db: it is never overwritten. A
 * no-op (WHACO_OK) if the file has not moved.
 */
int whaco_store_recreate(struct whaco_store *s);

#endif /* WHACO_STORE_H */

/*
 * store/sqlite.h: what the two files of the SQLite backend share -- the
 * handle, and the few helpers the re-creation of a removed database
 * (sqlite_recreate.c) borrows from the log (sqlite.c). Only these two
 * files include it.
 *
 * Invariant: a struct sqlite_store is a struct whaco_store (its first
 * member, base), so SQ() converts the front's pointer back; base.where is
 * path.
 */
#ifndef WHACO_STORE_SQLITE_INTERNAL_H
#define WHACO_STORE_SQLITE_INTERNAL_H

#include <stdint.h>

#include <sqlite3.h>

#include "whaco/store.h"
#include "store/backend.h"

/* The cached statements (their SQL is in sqlite.c). */
enum stmt_id {
    ST_BEGIN,
    ST_COMMIT,
    ST_ROLLBACK,
    ST_APPEND,
    ST_LAST_SEQ,
    ST_REPLAY,
    ST_PUT_SNAPSHOT,
    ST_SNAPSHOT_BEFORE,
    ST_NTH_SNAPSHOT,
    ST_DELETE_SNAPSHOTS,
    ST_FIRST_SEQ,
    ST_DELETE_EVENTS,
    ST_TOKEN_ADD,
    ST_TOKENS,
    ST_TOKEN_REMOVE,
    ST_DATA_VERSION,
    ST_PROBE,
    ST_UNDO_EVENTS,
    ST_UNDO_SEQUENCE,
    ST_STATS,
    ST_COUNT
};

struct sqlite_store {
    struct whaco_store base;      /* first: the front's part; base.where == path */
    sqlite3 *db;                  /* the read-write connection; owned */
    char *path;                   /* DIR/whaco.db; owned */
    char *dir;                    /* DIR without trailing slashes ("/" stays); owned */
    sqlite3_stmt *stmt[ST_COUNT]; /* prepared on first use; owned */
    int in_batch;                 /* a whaco_store_begin is open */
    int in_replay;                /* inside whaco_store_replay's loop */
    uint64_t last_seq;            /* last value read from sqlite_sequence */
    uint64_t batch_first;         /* seq of the open batch's first event; 0 if none yet */
    uint64_t undo_from;           /* a committed batch to delete again (moved file); 0 if none */
    enum whaco_sync sync;         /* for re-opening after a re-creation */
};

#define SQ(s) ((struct sqlite_store *)(s))

/*==== In sqlite.c =========================================================*/

/* Record "PATH: <formatted>" as the last failure and return err. */
int whaco__sqlite_fail(struct sqlite_store *s, int err, const char *fmt, ...);

/* Record a failed SQLite call on db (what we were doing, SQLite's text); its whaco_err. */
int whaco__sqlite_fail_sql(struct sqlite_store *s, sqlite3 *db, int rc, const char *what);

/* Whether the file s has open is no longer the one at s->path (one stat()). */
int whaco__sqlite_has_moved(struct sqlite_store *s);

/* Delete again the batch committed into a moved file (s->undo_from on). */
int whaco__sqlite_undo_moved_batch(struct sqlite_store *s);

/* Create dir (mode 0700) if missing; an existing one must be a writable directory. */
int whaco__sqlite_ensure_dir(struct sqlite_store *s, const char *dir);

/* Whether anything exists at path. */
int whaco__sqlite_file_exists(const char *path);

/*==== In sqlite_recreate.c ================================================*/

/*
 * WHACO_STORE_REPAIR, no batch open: take out a batch committed into a
 * moved file, then, if the database file was removed from DIR, copy the
 * open database to a new DIR/whaco.db and go on with it (*done gets
 * WHACO_STORE_RECREATED); see the file's comment.
 */
int whaco__sqlite_recreate(struct sqlite_store *s, unsigned *done);

#endif /* WHACO_STORE_SQLITE_INTERNAL_H */

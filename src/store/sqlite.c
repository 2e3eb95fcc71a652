/*
 * sqlite.c: the SQLite backend of whaco/store.h (store/backend.h) -- the
 * event log, snapshots and API tokens in one SQLite database, DIR/whaco.db
 * (whaco/store_sqlite.h). With sqlite_recreate.c, the only code in whaco
 * that includes sqlite3.h; every SQLITE_* code is translated to a whaco_err
 * here.
 *
 * Invariants:
 *
 *  - A file we did not create is never written to. Opening happens in two
 *    phases: a read-only look at an existing file (application_id,
 *    user_version, schema objects, PRAGMA quick_check) on a connection that
 *    cannot write, and only if it is ours (or empty) the read-write
 *    connection that switches on WAL and creates or migrates the schema.
 *    When no -wal and no -journal file sits beside the database (nobody has
 *    it open and no crash is pending), the look uses SQLite's immutable=1,
 *    so not even -wal/-shm side files are created for a refused file.
 *  - The creation or migration transaction re-checks application_id and
 *    user_version under BEGIN IMMEDIATE, so two processes opening the same
 *    new directory at once create the schema exactly once.
 *  - Sequence numbers come from events.seq INTEGER PRIMARY KEY
 *    AUTOINCREMENT: SQLite keeps the largest seq ever committed in
 *    sqlite_sequence, so compaction can delete rows without a number ever
 *    being handed out twice; sq_last_seq reads it from there.
 *  - Committed means committed to DIR/whaco.db: after every COMMIT one
 *    stat() checks that the open file is still at that path; a batch that
 *    went into a file removed meanwhile is deleted from it again and the
 *    commit fails. Putting a removed file back is sqlite_recreate.c's job.
 *  - No transaction outlives a failed call: every error inside a batch or
 *    an internal transaction rolls it back before returning.
 *  - Bad data (a malformed row) is reported as WHACO_E_STATE_CORRUPT, never
 *    asserted on.
 *
 * Threads: one struct sqlite_store is one connection used by one thread at
 * a time (store.h); nothing here is shared between handles.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <sqlite3.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/store.h"
#include "whaco/store_sqlite.h"
#include "store/backend.h"
#include "store/sqlite.h"

#include "banned.h"

/* PRAGMA application_id of a whaco database: "WHCO" in ASCII. */
#define STORE_APP_ID WHACO_STORE_APP_ID

/* How long a writer waits for another process's lock before WHACO_E_IO. */
#define STORE_BUSY_TIMEOUT_MS 5000

/* What to tell the user to do about a file we refuse. */
#define ADVICE_FOREIGN "refusing to touch it -- move it away or choose another --data directory"
#define ADVICE_DAMAGED                                                                             \
    "refusing to touch it -- restore it from a backup, or move it away to start afresh"

/*==== Schema and migrations ===============================================*/

/*
 * migrations[v] takes a database from schema version v to v + 1; the last
 * entry reaches WHACO_STORE_SCHEMA. Step 0 creates the schema in an empty
 * file. All steps needed run in one transaction, together with the new
 * user_version, so a database is always at exactly one version. To change
 * the schema: append a step (never edit a released one) and bump
 * WHACO_STORE_SCHEMA.
 */
static const char *const migrations[] = {
    /* 0 -> 1: the initial schema. */
    "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
    "CREATE TABLE events(seq INTEGER PRIMARY KEY AUTOINCREMENT, time_ms INTEGER NOT NULL,"
    " type INTEGER NOT NULL, body BLOB NOT NULL);"
    "CREATE TABLE snapshots(seq INTEGER PRIMARY KEY, time_ms INTEGER NOT NULL,"
    " state BLOB NOT NULL);"
    "CREATE TABLE tokens(hash BLOB PRIMARY KEY, role TEXT NOT NULL, label TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL);"
    "INSERT INTO meta(key, value) VALUES ('application', 'whaco'),"
    " ('created_ms', CAST(strftime('%s', 'now') AS INTEGER) * 1000);",
};

_Static_assert(sizeof migrations / sizeof migrations[0] == WHACO_STORE_SCHEMA,
               "one migration step per schema version");

/* The tables every version-1 database holds. */
#define STORE_TABLES_SQL                                                                           \
    "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN"                          \
    " ('meta', 'events', 'snapshots', 'tokens')"
#define STORE_TABLES_COUNT 4

/*==== The handle and its statement cache ==================================*/

/* The SQL of each statement of enum stmt_id (store/sqlite.h). */
static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_APPEND] = "INSERT INTO events(time_ms, type, body) VALUES (?1, ?2, ?3)",
    [ST_LAST_SEQ] = "SELECT seq FROM sqlite_sequence WHERE name = 'events'",
    [ST_REPLAY] = "SELECT seq, time_ms, type, body FROM events WHERE seq > ?1 ORDER BY seq",
    [ST_PUT_SNAPSHOT] = "INSERT OR REPLACE INTO snapshots(seq, time_ms, state) VALUES (?1, ?2, ?3)",
    [ST_SNAPSHOT_BEFORE] = "SELECT seq, time_ms, state FROM snapshots WHERE seq < ?1"
                           " ORDER BY seq DESC LIMIT 1",
    [ST_NTH_SNAPSHOT] = "SELECT seq FROM snapshots ORDER BY seq DESC LIMIT 1 OFFSET ?1",
    [ST_DELETE_SNAPSHOTS] = "DELETE FROM snapshots WHERE seq < ?1",
    [ST_FIRST_SEQ] = "SELECT min(seq) FROM events",
    [ST_DELETE_EVENTS] = "DELETE FROM events WHERE seq <= ?1 AND time_ms < ?2",
    [ST_TOKEN_ADD] = "INSERT INTO tokens(hash, role, label, created_ms) VALUES (?1, ?2, ?3, ?4)",
    [ST_TOKENS] = "SELECT hash, role, label, created_ms FROM tokens ORDER BY created_ms, hash",
    [ST_TOKEN_REMOVE] = "DELETE FROM tokens WHERE hash = ?1",
    [ST_DATA_VERSION] = "PRAGMA data_version",
    [ST_PROBE] = "INSERT OR REPLACE INTO meta(key, value) VALUES ('checked_ms', ?1)",
    [ST_UNDO_EVENTS] = "DELETE FROM events WHERE seq >= ?1",
    [ST_UNDO_SEQUENCE] = "UPDATE sqlite_sequence SET seq = ?1 - 1 WHERE name = 'events'",
    [ST_STATS] = "SELECT (SELECT count(*) FROM events), (SELECT coalesce(min(seq), 0) FROM events),"
                 " (SELECT count(*) FROM snapshots), (SELECT max(seq) FROM snapshots)",
};

/*==== Errors ==============================================================*/

/* SQLITE_* (primary or extended) -> whaco_err. */
static int map_sqlite(int rc)
{
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return WHACO_E_STATE_CORRUPT;
    default:
        return WHACO_E_IO;
    }
}

/* Record "PATH: <formatted>" as the last error and return err. */
static int fail(struct sqlite_store *s, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    whaco__store_vfail(&s->base, err, fmt, ap);
    va_end(ap);
    return err;
}

int whaco__sqlite_fail(struct sqlite_store *s, int err, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    whaco__store_vfail(&s->base, err, fmt, ap);
    va_end(ap);
    return err;
}

/*
 * The errno behind an I/O error on db, or 0: SQLite's own record of it when
 * it has one, else the last errno the unix VFS stored on the WAL (or
 * journal) file, else on the database file -- which is where a failed
 * write, fsync or truncate leaves it.
 */
static int io_errno(sqlite3 *db)
{
    int sys = sqlite3_system_errno(db);
    sqlite3_file *f = NULL;
    if (!sys && sqlite3_file_control(db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &f) == SQLITE_OK &&
        f && f->pMethods)
        f->pMethods->xFileControl(f, SQLITE_FCNTL_LAST_ERRNO, &sys);
    if (!sys)
        sqlite3_file_control(db, "main", SQLITE_FCNTL_LAST_ERRNO, &sys);
    return sys;
}

/*
 * Record a failed SQLite call (what we were doing, SQLite's own text) and
 * return its whaco_err. Call before anything else touches db, or the text
 * is lost.
 */
static int fail_sql(struct sqlite_store *s, sqlite3 *db, int rc, const char *what)
{
    const char *text = db ? sqlite3_errmsg(db) : sqlite3_errstr(rc);
    int err = map_sqlite(rc);
    int sys = db && (rc & 0xff) != SQLITE_FULL ? io_errno(db) : 0;
    switch (rc & 0xff) {
    case SQLITE_CORRUPT:
    case SQLITE_NOTADB:
        return fail(s, err, "%s: %s; the database is damaged -- %s", what, text, ADVICE_DAMAGED);
    case SQLITE_BUSY:
    case SQLITE_LOCKED:
        return fail(s, err,
                    "%s: %s (another process holds a lock on it -- an sqlite3 shell, a backup"
                    " tool, a second whaco? -- and whaco gave up after %d s)",
                    what, text, STORE_BUSY_TIMEOUT_MS / 1000);
    case SQLITE_IOERR:
    case SQLITE_FULL:
    case SQLITE_CANTOPEN:
    case SQLITE_READONLY:
        /* The errno of the failing system call says what SQLite's text does not. */
        if (sys)
            return fail(s, err, "%s: %s (%s)", what, text, strerror(sys));
        return fail(s, err, "%s: %s", what, text);
    default:
        return fail(s, err, "%s: %s", what, text);
    }
}

int whaco__sqlite_fail_sql(struct sqlite_store *s, sqlite3 *db, int rc, const char *what)
{
    return fail_sql(s, db, rc, what);
}

/*==== Small SQLite helpers ================================================*/

/* The cached statement id, prepared on first use, reset and unbound. */
static int stmt_get(struct sqlite_store *s, enum stmt_id id, sqlite3_stmt **out)
{
    if (!s->stmt[id]) {
        int rc = sqlite3_prepare_v3(s->db, stmt_sql[id], -1, SQLITE_PREPARE_PERSISTENT,
                                    &s->stmt[id], NULL);
        if (rc != SQLITE_OK)
            return fail_sql(s, s->db, rc, "preparing a statement");
    }
    *out = s->stmt[id];
    return WHACO_OK;
}

/* Make st reusable; its error (already reported) is not looked at again. */
static void stmt_done(sqlite3_stmt *st)
{
    sqlite3_reset(st);
    sqlite3_clear_bindings(st);
}

/* Run a cached statement that returns no rows. */
static int stmt_exec(struct sqlite_store *s, enum stmt_id id, const char *what)
{
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, id, &st);
    if (err < 0)
        return err;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE && rc != SQLITE_ROW)
        err = fail_sql(s, s->db, rc, what);
    stmt_done(st);
    return err;
}

/* Run one SQL text (possibly several statements) on db. */
static int exec_sql(struct sqlite_store *s, sqlite3 *db, const char *sql, const char *what)
{
    int rc = sqlite3_exec(db, sql, NULL, NULL, NULL);
    if (rc != SQLITE_OK)
        return fail_sql(s, db, rc, what);
    return WHACO_OK;
}

/* The first column of the first row of sql, as an integer (0 if no row). */
static int query_int(struct sqlite_store *s, sqlite3 *db, const char *sql, int64_t *out)
{
    sqlite3_stmt *st = NULL;
    int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
    if (rc != SQLITE_OK)
        return fail_sql(s, db, rc, "reading the database header");
    int64_t v = 0;
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        v = sqlite3_column_int64(st, 0);
    else if (rc != SQLITE_DONE) {
        int err = fail_sql(s, db, rc, "reading the database header");
        sqlite3_finalize(st);
        return err;
    }
    sqlite3_finalize(st);
    *out = v;
    return WHACO_OK;
}

/* End a failed transaction, if SQLite has not already done so. */
static void abandon(struct sqlite_store *s)
{
    if (!sqlite3_get_autocommit(s->db))
        sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
    s->in_batch = 0;
}

/*
 * Whether the file s has open is no longer the one at s->path: unlinked
 * (the data directory removed), renamed, or replaced. SQLite's unix VFS
 * answers with one stat() of the path (about 1.6 us on the test machine).
 */
int whaco__sqlite_has_moved(struct sqlite_store *s)
{
    int moved = 0;
    if (sqlite3_file_control(s->db, "main", SQLITE_FCNTL_HAS_MOVED, &moved) != SQLITE_OK)
        return 0;
    return moved != 0;
}

static int moved_error(struct sqlite_store *s, const char *what)
{
    return fail(s, WHACO_E_IO,
                "%s: the database file is no longer there (the data directory was removed, or"
                " the file moved or replaced, while whaco ran)",
                what);
}

/* Run the cached statement id with ?1 = v (no rows expected). */
static int stmt_exec_int(struct sqlite_store *s, enum stmt_id id, int64_t v, const char *what)
{
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, id, &st);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, v);
    int rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        err = fail_sql(s, s->db, rc, what);
    stmt_done(st);
    return err;
}

/*
 * Delete again the events of a batch that was committed into a file that
 * had meanwhile been removed from the directory (s->undo_from on), and hand
 * their sequence numbers back as a rollback would, so the open file holds
 * exactly the batches that were reported committed, numbered without a gap.
 */
int whaco__sqlite_undo_moved_batch(struct sqlite_store *s)
{
    const char *what = "removing a batch that went into a moved file";
    int err = stmt_exec(s, ST_BEGIN, what);
    if (err == WHACO_OK)
        err = stmt_exec_int(s, ST_UNDO_EVENTS, (int64_t)s->undo_from, what);
    if (err == WHACO_OK)
        err = stmt_exec_int(s, ST_UNDO_SEQUENCE, (int64_t)s->undo_from, what);
    if (err == WHACO_OK)
        err = stmt_exec(s, ST_COMMIT, what);
    if (err < 0) {
        abandon(s);
        return err;
    }
    s->undo_from = 0;
    return WHACO_OK;
}

/*==== Opening: is this file ours? =========================================*/

/* What the header and schema of a database say about it. */
struct db_info {
    int64_t app_id;      /* PRAGMA application_id */
    int64_t version;     /* PRAGMA user_version */
    int64_t objects;     /* rows in sqlite_master */
    char first_name[64]; /* name of one schema object, for messages */
};

static int read_info(struct sqlite_store *s, sqlite3 *db, struct db_info *info)
{
    int err = query_int(s, db, "PRAGMA application_id", &info->app_id);
    if (err == WHACO_OK)
        err = query_int(s, db, "PRAGMA user_version", &info->version);
    if (err == WHACO_OK)
        err = query_int(s, db, "SELECT count(*) FROM sqlite_master", &info->objects);
    info->first_name[0] = '\0';
    if (err == WHACO_OK && info->objects > 0) {
        sqlite3_stmt *st = NULL;
        int rc = sqlite3_prepare_v2(
            db, "SELECT name FROM sqlite_master WHERE name NOT LIKE 'sqlite_%' LIMIT 1", -1, &st,
            NULL);
        if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW) {
            const unsigned char *name = sqlite3_column_text(st, 0);
            if (name)
                snprintf(info->first_name, sizeof info->first_name, "%s", (const char *)name);
        }
        sqlite3_finalize(st);
    }
    return err;
}

/*
 * Decide from the header whether the database is ours: WHACO_OK for a whaco
 * database we can read (any version up to ours) or an empty file, otherwise
 * the refusal with its message.
 */
static int judge(struct sqlite_store *s, const struct db_info *info)
{
    if (info->app_id != STORE_APP_ID && info->app_id != 0)
        return fail(s, WHACO_E_STATE_CORRUPT,
                    "is not a whaco database (application_id 0x%08" PRIx32
                    " belongs to another program); %s",
                    (uint32_t)info->app_id, ADVICE_FOREIGN);
    if (info->app_id == 0 && (info->objects > 0 || info->version != 0))
        return fail(s, WHACO_E_STATE_CORRUPT,
                    "is not a whaco database (an SQLite database of another program, with no"
                    " whaco application_id%s%s%s); %s",
                    info->first_name[0] ? " and a table or index \"" : "", info->first_name,
                    info->first_name[0] ? "\"" : "", ADVICE_FOREIGN);
    if (info->version > WHACO_STORE_SCHEMA)
        return fail(s, WHACO_E_STATE_VERSION,
                    "was written by a newer whaco (schema version %" PRId64
                    "; this build reads up to %d); refusing to touch it -- upgrade whaco, or"
                    " choose another --data directory",
                    info->version, WHACO_STORE_SCHEMA);
    if (info->version < 0 || (info->version == 0 && info->objects > 0))
        return fail(s, WHACO_E_STATE_CORRUPT,
                    "is damaged (whaco application_id but schema version %" PRId64 " with %" PRId64
                    " schema objects); %s",
                    info->version, info->objects, ADVICE_DAMAGED);
    return WHACO_OK;
}

int whaco__sqlite_file_exists(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0;
}

/*
 * "file:" URI for path with the given query, percent-encoding everything
 * but unreserved characters and '/'. Caller frees.
 */
static char *file_uri(const char *path, const char *query)
{
    static const char hex[] = "0123456789ABCDEF";
    size_t n = strlen(path);
    char *uri = whaco_xmalloc(5 + 3 * n + strlen(query) + 1);
    char *p = uri;
    memcpy(p, "file:", 5);
    p += 5;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)path[i];
        if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
            c == '/' || c == '-' || c == '.' || c == '_' || c == '~') {
            *p++ = (char)c;
        } else {
            *p++ = '%';
            *p++ = hex[c >> 4];
            *p++ = hex[c & 15];
        }
    }
    memcpy(p, query, strlen(query) + 1);
    return uri;
}

/*
 * The start of a multi-line report (quick_check's) as one line, so the
 * advice after it stays in the message: newlines become "; ", and text
 * that does not fit ends in "...".
 */
static void one_line(char *out, size_t cap, const char *text)
{
    size_t o = 0;
    const char *p = text;
    for (; *p && o + 4 < cap; p++) {
        if (*p == '\n') {
            out[o++] = ';';
            out[o++] = ' ';
        } else {
            out[o++] = *p;
        }
    }
    if (*p) {
        memcpy(out + o, "...", 3);
        o += 3;
    }
    out[o] = '\0';
}

/*
 * Phase one: look at an existing file without the power to write it.
 * *is_empty is set when the file holds no schema yet (a new database).
 */
static int check_existing(struct sqlite_store *s, int *is_empty)
{
    struct stat stbuf;
    if (stat(s->path, &stbuf) != 0) {
        if (errno == ENOENT) {
            *is_empty = 1;
            return WHACO_OK;
        }
        return fail(s, WHACO_E_IO, "cannot examine it: %s", strerror(errno));
    }
    if (!S_ISREG(stbuf.st_mode))
        return fail(s, WHACO_E_IO, "is not a regular file; %s", ADVICE_FOREIGN);

    /*
     * With no -wal or -journal beside it, the file alone is the whole
     * database and nobody has it open: read it as immutable, which creates
     * no side files. Otherwise a plain read-only connection, which sees
     * committed WAL content (after a crash, say) but still never writes the
     * database file.
     */
    size_t n = strlen(s->path);
    char *side = whaco_xmalloc(n + sizeof "-journal");
    memcpy(side, s->path, n);
    memcpy(side + n, "-wal", sizeof "-wal");
    int busy = whaco__sqlite_file_exists(side);
    memcpy(side + n, "-journal", sizeof "-journal");
    busy = busy || whaco__sqlite_file_exists(side);
    free(side);

    char *uri = file_uri(s->path, busy ? "?mode=ro" : "?immutable=1");
    sqlite3 *db = NULL;
    int rc = sqlite3_open_v2(uri, &db, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
    free(uri);
    int err = WHACO_OK;
    if (rc != SQLITE_OK) {
        err = fail_sql(s, db, rc, "cannot open it");
        sqlite3_close(db);
        return err;
    }
    sqlite3_extended_result_codes(db, 1);
    sqlite3_busy_timeout(db, STORE_BUSY_TIMEOUT_MS);

    struct db_info info = {0};
    err = read_info(s, db, &info);
    if (err == WHACO_E_STATE_CORRUPT && (sqlite3_errcode(db) & 0xff) == SQLITE_NOTADB)
        err =
            fail(s, err, "is not a whaco database (not an SQLite file at all); %s", ADVICE_FOREIGN);
    else if (err == WHACO_E_STATE_CORRUPT)
        err = fail(s, err, "is damaged (%s); %s", sqlite3_errmsg(db), ADVICE_DAMAGED);
    if (err == WHACO_OK)
        err = judge(s, &info);

    /* Structural integrity: b-trees, free list, record formats. */
    if (err == WHACO_OK && info.objects > 0) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(db, "PRAGMA quick_check", -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *r = sqlite3_column_text(st, 0);
            if (!r || strcmp((const char *)r, "ok") != 0) {
                char first[160];
                one_line(first, sizeof first, r ? (const char *)r : "no result");
                err = fail(s, WHACO_E_STATE_CORRUPT, "is damaged (PRAGMA quick_check: %s); %s",
                           first, ADVICE_DAMAGED);
            }
        } else {
            err = fail(s, map_sqlite(rc), "is damaged or unreadable (PRAGMA quick_check: %s); %s",
                       sqlite3_errmsg(db), ADVICE_DAMAGED);
        }
        sqlite3_finalize(st);
    }
    sqlite3_close(db);
    if (err == WHACO_OK)
        *is_empty = info.objects == 0;
    return err;
}

/*==== Opening: the read-write connection ==================================*/

static int open_rw(struct sqlite_store *s, enum whaco_sync sync, int is_empty)
{
    int rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL);
    if (rc != SQLITE_OK)
        return fail_sql(s, s->db, rc, "cannot open it for writing");
    sqlite3_extended_result_codes(s->db, 1);
    sqlite3_busy_timeout(s->db, STORE_BUSY_TIMEOUT_MS);
#ifdef SQLITE_DBCONFIG_DEFENSIVE
    /* No writable schema, no journal_mode=OFF tricks from SQL text. */
    sqlite3_db_config(s->db, SQLITE_DBCONFIG_DEFENSIVE, 1, (int *)NULL);
#endif

    int err = WHACO_OK;
    /* Must precede the first page write (journal_mode=WAL writes page 1). */
    if (is_empty)
        err = exec_sql(s, s->db, "PRAGMA auto_vacuum = INCREMENTAL", "setting auto_vacuum");
    if (err == WHACO_OK) {
        sqlite3_stmt *st = NULL;
        rc = sqlite3_prepare_v2(s->db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW) {
            const unsigned char *mode = sqlite3_column_text(st, 0);
            if (!mode || strcmp((const char *)mode, "wal") != 0)
                err = fail(s, WHACO_E_IO,
                           "cannot switch to WAL mode (journal_mode stays %s); the data"
                           " directory must be on a local file system",
                           mode ? (const char *)mode : "unknown");
        } else {
            err = fail_sql(s, s->db, rc, "switching to WAL mode");
        }
        sqlite3_finalize(st);
    }
    if (err == WHACO_OK)
        err = exec_sql(s, s->db,
                       sync == WHACO_SYNC_NORMAL ? "PRAGMA synchronous = NORMAL"
                                                 : "PRAGMA synchronous = FULL",
                       "setting synchronous");
    /*
     * Compaction deletes customer data for the retention setting: zero it
     * in the pages instead of leaving it in free space. Only deletes pay.
     */
    if (err == WHACO_OK)
        err = exec_sql(s, s->db, "PRAGMA secure_delete = ON", "setting secure_delete");
    return err;
}

/*
 * Create or migrate the schema in one write transaction, re-checking the
 * header under the lock (another process may have created it meanwhile).
 */
static int setup_schema(struct sqlite_store *s)
{
    int err = exec_sql(s, s->db, "BEGIN IMMEDIATE", "locking the database");
    if (err < 0)
        return err;
    struct db_info info = {0};
    err = read_info(s, s->db, &info);
    if (err == WHACO_OK)
        err = judge(s, &info);
    for (int64_t v = info.version; err == WHACO_OK && v < WHACO_STORE_SCHEMA; v++)
        err = exec_sql(s, s->db, migrations[v], "migrating the schema");
    if (err == WHACO_OK && info.version < WHACO_STORE_SCHEMA) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "PRAGMA application_id = %d; PRAGMA user_version = %d;"
                 " INSERT OR REPLACE INTO meta(key, value) VALUES ('schema', %d);",
                 STORE_APP_ID, WHACO_STORE_SCHEMA, WHACO_STORE_SCHEMA);
        err = exec_sql(s, s->db, sql, "recording the schema version");
    }
    if (err == WHACO_OK) {
        int64_t tables = 0;
        err = query_int(s, s->db, STORE_TABLES_SQL, &tables);
        if (err == WHACO_OK && tables != STORE_TABLES_COUNT)
            err = fail(s, WHACO_E_STATE_CORRUPT,
                       "is damaged (whaco schema version %d but only %" PRId64
                       " of its %d tables); %s",
                       WHACO_STORE_SCHEMA, tables, STORE_TABLES_COUNT, ADVICE_DAMAGED);
    }
    if (err == WHACO_OK)
        err = exec_sql(s, s->db, "COMMIT", "committing the schema");
    if (err < 0)
        abandon(s);
    return err;
}

/*
 * Create the data directory if missing; an existing one must be a
 * directory we can write (the database, its WAL and -shm live there), or
 * SQLite's own message would be about a file it "cannot open".
 */
int whaco__sqlite_ensure_dir(struct sqlite_store *s, const char *dir)
{
    if (mkdir(dir, 0700) == 0)
        return WHACO_OK;
    int e = errno;
    struct stat st;
    if (e == EEXIST && stat(dir, &st) == 0 && S_ISDIR(st.st_mode)) {
        if (access(dir, W_OK | X_OK) == 0)
            return WHACO_OK;
        return fail(s, WHACO_E_IO,
                    "cannot write in the data directory %s: %s (whaco keeps its database and"
                    " write-ahead log there)",
                    dir, strerror(errno));
    }
    if (e == EEXIST)
        return fail(s, WHACO_E_IO, "the data directory %s exists but is not a directory", dir);
    return fail(s, WHACO_E_IO, "cannot create the data directory %s: %s", dir, strerror(e));
}

static void store_free(struct sqlite_store *s)
{
    for (int i = 0; i < ST_COUNT; i++)
        sqlite3_finalize(s->stmt[i]);
    sqlite3_close(s->db);
    free(s->path);
    free(s->dir);
    free(s);
}

static uint64_t sq_last_seq(struct whaco_store *base);

/*
 * The backend's open (the front has checked spec): DIR is spec->location,
 * the database DIR/whaco.db. With WHACO_STORE_MUST_EXIST a file that cannot
 * be found (stat fails, for whatever reason: the CLI has always reported
 * them all as "not there") is WHACO_E_NOT_FOUND, "DIR/whaco.db: No such
 * file or directory", and nothing is created, not even DIR.
 */
static int sq_open(const struct whaco_store_spec *spec, struct whaco_store **out, char *errbuf,
                   size_t errlen)
{
    const char *dir = spec->location;
    struct sqlite_store *s = whaco_xcalloc(1, sizeof *s);
    size_t n = strlen(dir);
    while (n > 1 && dir[n - 1] == '/')
        n--;
    int root = n == 1 && dir[0] == '/';
    size_t plen = n + (root ? 0 : 1) + sizeof WHACO_STORE_FILENAME;
    s->path = whaco_xmalloc(plen);
    snprintf(s->path, plen, "%.*s%s%s", (int)n, dir, root ? "" : "/", WHACO_STORE_FILENAME);
    s->dir = whaco_xmalloc(n + 1);
    memcpy(s->dir, dir, n);
    s->dir[n] = '\0';
    s->base.backend = &whaco__store_sqlite;
    s->base.where = s->path;

    s->sync = spec->sync;
    int is_empty = 0;
    int err = WHACO_OK;
    struct stat st;
    if ((spec->flags & WHACO_STORE_MUST_EXIST) && stat(s->path, &st) != 0)
        err = fail(s, WHACO_E_NOT_FOUND, "%s", strerror(errno));
    if (err == WHACO_OK)
        err = whaco__sqlite_ensure_dir(s, dir);
    if (err == WHACO_OK)
        err = check_existing(s, &is_empty);
    if (err == WHACO_OK)
        err = open_rw(s, spec->sync, is_empty);
    if (err == WHACO_OK)
        err = setup_schema(s);
    if (err == WHACO_OK)
        s->last_seq = sq_last_seq(&s->base);
    if (err < 0) {
        if (errbuf && errlen > 0)
            snprintf(errbuf, errlen, "%s", s->base.errmsg);
        store_free(s);
        return err;
    }
    s->base.errmsg[0] = '\0';
    *out = &s->base;
    return WHACO_OK;
}

static void sq_close(struct whaco_store *base)
{
    struct sqlite_store *s = SQ(base);
    if (s->in_batch)
        abandon(s);
    for (int i = 0; i < ST_COUNT; i++) {
        sqlite3_finalize(s->stmt[i]);
        s->stmt[i] = NULL;
    }
    /*
     * Fold the WAL back into the database and truncate it (best effort: a
     * reader in another process may hold it; the last connection to close
     * checkpoints anyway).
     */
    sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    store_free(s);
}

/* For the unit tests only (whaco/store_sqlite.h): the connection, to read pragmas. */
sqlite3 *whaco__store_db(struct whaco_store *s)
{
    return SQ(s)->db;
}

/*==== The event log =======================================================*/

static int sq_begin(struct whaco_store *base)
{
    struct sqlite_store *s = SQ(base);
    if (s->in_batch)
        return fail(s, WHACO_E_INVAL, "whaco_store_begin: a batch is already open");
    int err = stmt_exec(s, ST_BEGIN, "beginning a batch");
    if (err < 0) {
        abandon(s);
        return err;
    }
    s->in_batch = 1;
    s->batch_first = 0;
    return WHACO_OK;
}

static int sq_append(struct whaco_store *base, int64_t time_ms, uint32_t type, const void *body,
                     size_t len, uint64_t *seq)
{
    struct sqlite_store *s = SQ(base);
    if (!s->in_batch)
        return fail(s, WHACO_E_INVAL, "whaco_store_append: no batch is open");
    if (!body && len > 0) {
        abandon(s);
        return fail(s, WHACO_E_INVAL, "whaco_store_append: NULL body; batch rolled back");
    }
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, ST_APPEND, &st);
    if (err < 0) {
        abandon(s);
        return err;
    }
    /* A zero-length blob, not NULL, so the column is always a BLOB. */
    int rc = sqlite3_bind_int64(st, 1, time_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, (sqlite3_int64)type);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob64(st, 3, body ? body : "", (sqlite3_uint64)len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE) {
        err = fail_sql(s, s->db, rc, "appending an event (batch rolled back)");
        stmt_done(st);
        abandon(s);
        return err;
    }
    stmt_done(st);
    uint64_t rowid = (uint64_t)sqlite3_last_insert_rowid(s->db);
    if (!s->batch_first)
        s->batch_first = rowid;
    if (seq)
        *seq = rowid;
    return WHACO_OK;
}

static int sq_commit(struct whaco_store *base)
{
    struct sqlite_store *s = SQ(base);
    if (!s->in_batch)
        return fail(s, WHACO_E_INVAL, "whaco_store_commit: no batch is open");
    int err = stmt_exec(s, ST_COMMIT, "committing a batch (nothing of it was stored)");
    if (err < 0) {
        abandon(s);
        return err;
    }
    s->in_batch = 0;
    /*
     * Committed -- but into the file at s->path? If the directory was
     * removed meanwhile the batch went into an unlinked file: take it out
     * again (a failed undo is retried by the next WHACO_STORE_REPAIR) and fail.
     */
    if (whaco__sqlite_has_moved(s)) {
        s->undo_from = s->batch_first;
        if (s->undo_from)
            whaco__sqlite_undo_moved_batch(s);
        return moved_error(s, "committing a batch (it was not stored)");
    }
    return WHACO_OK;
}

static void sq_rollback(struct whaco_store *base)
{
    struct sqlite_store *s = SQ(base);
    if (!s->in_batch)
        return;
    if (stmt_exec(s, ST_ROLLBACK, "rolling back a batch") < 0)
        abandon(s);
    s->in_batch = 0;
}

static uint64_t sq_last_seq(struct whaco_store *base)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = NULL;
    if (stmt_get(s, ST_LAST_SEQ, &st) < 0)
        return s->last_seq;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v = sqlite3_column_int64(st, 0);
        if (v >= 0)
            s->last_seq = (uint64_t)v;
        else
            fail(s, WHACO_E_STATE_CORRUPT, "is damaged (negative sequence number); %s",
                 ADVICE_DAMAGED);
    } else if (rc == SQLITE_DONE) {
        s->last_seq = 0;
    } else {
        fail_sql(s, s->db, rc, "reading the last sequence number");
    }
    stmt_done(st);
    return s->last_seq;
}

static int sq_sync(struct whaco_store *base)
{
    struct sqlite_store *s = SQ(base);
    if (s->in_batch)
        return fail(s, WHACO_E_INVAL, "whaco_store_sync: a batch is open");
    /*
     * In WAL mode the pager's "journal" is the WAL: syncing it is exactly
     * what synchronous=FULL does at each commit. No WAL open yet (nothing
     * written since it was last checkpointed and closed): nothing to sync.
     */
    sqlite3_file *wal = NULL;
    int rc = sqlite3_file_control(s->db, "main", SQLITE_FCNTL_JOURNAL_POINTER, &wal);
    if (rc != SQLITE_OK)
        return fail_sql(s, s->db, rc, "finding the write-ahead log to sync");
    if (!wal || !wal->pMethods)
        return WHACO_OK;
    rc = wal->pMethods->xSync(wal, SQLITE_SYNC_NORMAL);
    if (rc != SQLITE_OK)
        return fail(s, map_sqlite(rc), "syncing the write-ahead log: %s", sqlite3_errstr(rc));
    return WHACO_OK;
}

static int sq_stats(struct whaco_store *base, struct whaco_store_stats *out)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = NULL;
    memset(out, 0, sizeof *out);
    int err = stmt_get(s, ST_STATS, &st);
    if (err < 0)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
        sqlite3_int64 v[4];
        for (int i = 0; i < 4; i++)
            v[i] = sqlite3_column_int64(st, i);
        if (v[0] < 0 || v[1] < 0 || v[2] < 0 || v[3] < 0) {
            err = fail(s, WHACO_E_STATE_CORRUPT, "is damaged (negative sequence number); %s",
                       ADVICE_DAMAGED);
        } else {
            out->events = (uint64_t)v[0];
            out->first_seq = (uint64_t)v[1];
            out->snapshots = (uint64_t)v[2];
            out->snapshot_seq = (uint64_t)v[3];
            out->has_snapshot = sqlite3_column_type(st, 3) != SQLITE_NULL;
        }
    } else {
        err = fail_sql(s, s->db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "counting the log");
    }
    stmt_done(st);
    if (err == WHACO_OK)
        out->last_seq = sq_last_seq(&s->base);
    return err;
}

static int sq_replay(struct whaco_store *base, uint64_t after, whaco_store_event_cb cb, void *ctx)
{
    struct sqlite_store *s = SQ(base);
    if (!cb)
        return fail(s, WHACO_E_INVAL, "whaco_store_replay: no callback");
    if (s->in_replay)
        return fail(s, WHACO_E_INVAL, "whaco_store_replay: called from its own callback");
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, ST_REPLAY, &st);
    if (err < 0)
        return err;
    sqlite3_bind_int64(st, 1, after > (uint64_t)INT64_MAX ? INT64_MAX : (sqlite3_int64)after);
    s->in_replay = 1;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = fail_sql(s, s->db, rc, "replaying the event log");
            break;
        }
        /* Types first: reading a column as another type converts it. */
        int typed = sqlite3_column_type(st, 1) == SQLITE_INTEGER &&
                    sqlite3_column_type(st, 2) == SQLITE_INTEGER &&
                    sqlite3_column_type(st, 3) == SQLITE_BLOB;
        sqlite3_int64 seq = sqlite3_column_int64(st, 0);
        sqlite3_int64 type = typed ? sqlite3_column_int64(st, 2) : -1;
        if (!typed || seq <= 0 || type < 0 || type > (sqlite3_int64)UINT32_MAX) {
            err = fail(s, WHACO_E_STATE_CORRUPT, "is damaged (event %lld is malformed); %s",
                       (long long)seq, ADVICE_DAMAGED);
            break;
        }
        const void *body = sqlite3_column_blob(st, 3);
        size_t len = (size_t)sqlite3_column_bytes(st, 3);
        int r = cb(ctx, (uint64_t)seq, sqlite3_column_int64(st, 1), (uint32_t)type,
                   body ? body : "", len);
        if (r != 0) {
            err = r;
            break;
        }
    }
    s->in_replay = 0;
    stmt_done(st);
    return err;
}

/*==== Snapshots ===========================================================*/

static int sq_put_snapshot(struct whaco_store *base, uint64_t seq, int64_t time_ms,
                           const void *state, size_t len)
{
    struct sqlite_store *s = SQ(base);
    if (s->in_batch)
        return fail(s, WHACO_E_INVAL, "whaco_store_put_snapshot: a batch is open");
    if (!state && len > 0)
        return fail(s, WHACO_E_INVAL, "whaco_store_put_snapshot: NULL state");
    uint64_t last = sq_last_seq(&s->base);
    if (seq > last)
        return fail(s, WHACO_E_INVAL,
                    "whaco_store_put_snapshot: snapshot at event %" PRIu64
                    " but the log ends at %" PRIu64,
                    seq, last);
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, ST_PUT_SNAPSHOT, &st);
    if (err < 0)
        return err;
    int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)seq);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 2, time_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_blob64(st, 3, state ? state : "", (sqlite3_uint64)len, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        err = fail_sql(s, s->db, rc, "storing a snapshot");
    stmt_done(st);
    return err;
}

static int sq_snapshot_before(struct whaco_store *base, uint64_t before, uint64_t *seq,
                              int64_t *time_ms, void **state, size_t *len)
{
    struct sqlite_store *s = SQ(base);
    if (!state || !len)
        return fail(s, WHACO_E_INVAL, "whaco_store_snapshot_before: NULL out-parameter");
    *state = NULL;
    *len = 0;
    if (seq)
        *seq = 0;
    if (time_ms)
        *time_ms = 0;
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, ST_SNAPSHOT_BEFORE, &st);
    if (err < 0)
        return err;
    int rc = sqlite3_bind_int64(st, 1, before > INT64_MAX ? INT64_MAX : (sqlite3_int64)before);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc == SQLITE_DONE) {
        stmt_done(st);
        return WHACO_OK;
    }
    if (rc != SQLITE_ROW) {
        err = fail_sql(s, s->db, rc, "reading a snapshot");
        stmt_done(st);
        return err;
    }
    int typed =
        sqlite3_column_type(st, 1) == SQLITE_INTEGER && sqlite3_column_type(st, 2) == SQLITE_BLOB;
    sqlite3_int64 sseq = sqlite3_column_int64(st, 0);
    if (!typed || sseq < 0) {
        err = fail(s, WHACO_E_STATE_CORRUPT, "is damaged (snapshot %lld is malformed); %s",
                   (long long)sseq, ADVICE_DAMAGED);
        stmt_done(st);
        return err;
    }
    const void *blob = sqlite3_column_blob(st, 2);
    size_t n = (size_t)sqlite3_column_bytes(st, 2);
    void *copy = whaco_xmalloc(n);
    if (n > 0)
        memcpy(copy, blob, n);
    if (seq)
        *seq = (uint64_t)sseq;
    if (time_ms)
        *time_ms = sqlite3_column_int64(st, 1);
    stmt_done(st);
    *state = copy;
    *len = n;
    return WHACO_OK;
}

static int sq_first_seq(struct whaco_store *base, uint64_t *first)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, ST_FIRST_SEQ, &st);
    if (err < 0)
        return err;
    int rc = sqlite3_step(st);
    if (rc != SQLITE_ROW) {
        err = fail_sql(s, s->db, rc, "finding the first event");
        stmt_done(st);
        return err;
    }
    sqlite3_int64 v = sqlite3_column_int64(st, 0); /* NULL (empty log) reads as 0 */
    *first = v > 0 ? (uint64_t)v : 0;
    stmt_done(st);
    return WHACO_OK;
}

static int sq_compact(struct whaco_store *base, unsigned keep_snapshots, int64_t keep_after_ms,
                      uint64_t *deleted)
{
    struct sqlite_store *s = SQ(base);
    if (s->in_batch)
        return fail(s, WHACO_E_INVAL, "whaco_store_compact: a batch is open");
    if (keep_snapshots < 1)
        return fail(s, WHACO_E_INVAL, "whaco_store_compact: must keep at least one snapshot");
    int err = stmt_exec(s, ST_BEGIN, "compacting (locking)");
    if (err < 0) {
        abandon(s);
        return err;
    }
    sqlite3_stmt *st = NULL;
    sqlite3_int64 snap = -1;
    uint64_t n = 0;
    err = stmt_get(s, ST_NTH_SNAPSHOT, &st);
    if (err == WHACO_OK) {
        int rc = sqlite3_bind_int64(st, 1, (sqlite3_int64)keep_snapshots - 1);
        if (rc == SQLITE_OK)
            rc = sqlite3_step(st);
        if (rc == SQLITE_ROW)
            snap = sqlite3_column_int64(st, 0);
        else if (rc != SQLITE_DONE)
            err = fail_sql(s, s->db, rc, "compacting (finding the oldest snapshot to keep)");
        stmt_done(st);
    }
    if (err == WHACO_OK && snap >= 0)
        err = stmt_get(s, ST_DELETE_SNAPSHOTS, &st);
    if (err == WHACO_OK && snap >= 0) {
        sqlite3_bind_int64(st, 1, snap);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            err = fail_sql(s, s->db, rc, "compacting (deleting old snapshots)");
        stmt_done(st);
    }
    if (err == WHACO_OK && snap >= 0)
        err = stmt_get(s, ST_DELETE_EVENTS, &st);
    if (err == WHACO_OK && snap >= 0) {
        sqlite3_bind_int64(st, 1, snap);
        sqlite3_bind_int64(st, 2, keep_after_ms);
        int rc = sqlite3_step(st);
        if (rc != SQLITE_DONE)
            err = fail_sql(s, s->db, rc, "compacting (deleting old events)");
        else
            n = (uint64_t)sqlite3_changes(s->db);
        stmt_done(st);
    }
    if (err == WHACO_OK)
        err = stmt_exec(s, ST_COMMIT, "compacting (committing)");
    if (err < 0) {
        abandon(s);
        return err;
    }
    if (n > 0) {
        /*
         * Best effort: hand the freed pages back to the file system, then
         * fold the WAL (which still holds the deleted rows' old pages) into
         * the database and truncate it. Failures here lose nothing.
         */
        sqlite3_exec(s->db, "PRAGMA incremental_vacuum", NULL, NULL, NULL);
        sqlite3_wal_checkpoint_v2(s->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL, NULL);
    }
    if (deleted)
        *deleted = n;
    return WHACO_OK;
}

/*==== API tokens ==========================================================*/

static int role_ok(const char *role)
{
    return role &&
           (strcmp(role, "admin") == 0 || strcmp(role, "write") == 0 || strcmp(role, "read") == 0);
}

static int sq_token_add(struct whaco_store *base, const uint8_t hash[WHACO_TOKEN_HASH_BYTES],
                        const char *role, const char *label, int64_t created_ms)
{
    struct sqlite_store *s = SQ(base);
    if (s->in_batch)
        return fail(s, WHACO_E_INVAL, "whaco_store_token_add: a batch is open");
    if (!hash || !role_ok(role) || !label || strlen(label) >= WHACO_LABEL_MAX)
        return fail(s, WHACO_E_INVAL,
                    "whaco_store_token_add: need a hash, a role of admin, write or read, and a"
                    " label of at most %d bytes",
                    WHACO_LABEL_MAX - 1);
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, ST_TOKEN_ADD, &st);
    if (err < 0)
        return err;
    int rc = sqlite3_bind_blob(st, 1, hash, WHACO_TOKEN_HASH_BYTES, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 2, role, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_text(st, 3, label, -1, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_bind_int64(st, 4, created_ms);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if ((rc & 0xff) == SQLITE_CONSTRAINT)
        err = fail(s, WHACO_E_DUPLICATE, "a token with this hash already exists");
    else if (rc != SQLITE_DONE)
        err = fail_sql(s, s->db, rc, "adding a token");
    stmt_done(st);
    return err;
}

static int sq_tokens(struct whaco_store *base, whaco_store_token_cb cb, void *ctx)
{
    struct sqlite_store *s = SQ(base);
    if (!cb)
        return fail(s, WHACO_E_INVAL, "whaco_store_tokens: no callback");
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, ST_TOKENS, &st);
    if (err < 0)
        return err;
    for (;;) {
        int rc = sqlite3_step(st);
        if (rc == SQLITE_DONE)
            break;
        if (rc != SQLITE_ROW) {
            err = fail_sql(s, s->db, rc, "reading the tokens");
            break;
        }
        uint8_t hash[WHACO_TOKEN_HASH_BYTES];
        char role[WHACO_ROLE_MAX], label[WHACO_LABEL_MAX];
        const void *h = sqlite3_column_blob(st, 0);
        int hlen = sqlite3_column_bytes(st, 0);
        const unsigned char *r = sqlite3_column_text(st, 1);
        int rlen = sqlite3_column_bytes(st, 1);
        const unsigned char *l = sqlite3_column_text(st, 2);
        int llen = sqlite3_column_bytes(st, 2);
        if (!h || hlen != WHACO_TOKEN_HASH_BYTES || !r || rlen >= WHACO_ROLE_MAX || !l ||
            llen >= WHACO_LABEL_MAX) {
            err = fail(s, WHACO_E_STATE_CORRUPT, "is damaged (a malformed token row); %s",
                       ADVICE_DAMAGED);
            break;
        }
        memcpy(hash, h, WHACO_TOKEN_HASH_BYTES);
        memcpy(role, r, (size_t)rlen + 1);
        memcpy(label, l, (size_t)llen + 1);
        cb(ctx, hash, role, label, sqlite3_column_int64(st, 3));
    }
    stmt_done(st);
    return err;
}

static int sq_token_remove(struct whaco_store *base, const uint8_t hash[WHACO_TOKEN_HASH_BYTES])
{
    struct sqlite_store *s = SQ(base);
    if (s->in_batch)
        return fail(s, WHACO_E_INVAL, "whaco_store_token_remove: a batch is open");
    if (!hash)
        return fail(s, WHACO_E_INVAL, "whaco_store_token_remove: no hash");
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, ST_TOKEN_REMOVE, &st);
    if (err < 0)
        return err;
    int rc = sqlite3_bind_blob(st, 1, hash, WHACO_TOKEN_HASH_BYTES, SQLITE_STATIC);
    if (rc == SQLITE_OK)
        rc = sqlite3_step(st);
    if (rc != SQLITE_DONE)
        err = fail_sql(s, s->db, rc, "removing a token");
    else if (sqlite3_changes(s->db) == 0)
        err = fail(s, WHACO_E_NOT_FOUND, "no token with this hash");
    stmt_done(st);
    return err;
}

/*
 * PRAGMA data_version: changes when another connection commits to the
 * file, never for this connection's own commits.
 */
static int sq_change_counter(struct whaco_store *base, int64_t *counter)
{
    struct sqlite_store *s = SQ(base);
    sqlite3_stmt *st = NULL;
    int err = stmt_get(s, ST_DATA_VERSION, &st);
    if (err < 0)
        return err;
    int rc = sqlite3_step(st);
    if (rc == SQLITE_ROW)
        *counter = sqlite3_column_int64(st, 0);
    else
        err = fail_sql(s, s->db, rc == SQLITE_DONE ? SQLITE_ERROR : rc, "reading data_version");
    stmt_done(st);
    return err;
}

/*==== Health: checking, probing; repairing is sqlite_recreate.c's ========*/

/* WHACO_STORE_CHECK: the open file is still DIR/whaco.db (one stat()). */
static int check(struct sqlite_store *s)
{
    if (s->undo_from || whaco__sqlite_has_moved(s))
        return moved_error(s, "checking the database file");
    return WHACO_OK;
}

/* WHACO_STORE_PROBE: one small transaction (meta.checked_ms), then the check. */
static int probe(struct sqlite_store *s, int64_t now_ms)
{
    if (s->in_batch)
        return fail(s, WHACO_E_INVAL, "whaco_store_health: a batch is open");
    int err = check(s);
    if (err < 0)
        return err;
    err = stmt_exec(s, ST_BEGIN, "checking that the database can be written (locking)");
    if (err == WHACO_OK)
        err = stmt_exec_int(s, ST_PROBE, now_ms, "checking that the database can be written");
    if (err == WHACO_OK)
        err = stmt_exec(s, ST_COMMIT, "checking that the database can be written (committing)");
    if (err < 0) {
        abandon(s);
        return err;
    }
    return check(s);
}

static int sq_health(struct whaco_store *base, enum whaco_store_health how, int64_t now_ms,
                     unsigned *done)
{
    struct sqlite_store *s = SQ(base);
    switch (how) {
    case WHACO_STORE_CHECK:
        return check(s);
    case WHACO_STORE_REPAIR:
        if (s->in_batch)
            return fail(s, WHACO_E_INVAL, "whaco_store_health: a batch is open");
        /* Nothing moved and no batch to take out again: nothing to repair. */
        if (!s->undo_from && !whaco__sqlite_has_moved(s))
            return WHACO_OK;
        return whaco__sqlite_recreate(s, done);
    case WHACO_STORE_PROBE:
        return probe(s, now_ms);
    }
    return fail(s, WHACO_E_INVAL, "whaco_store_health: unknown request %d", (int)how);
}

/*==== The operations table ================================================*/

const struct whaco_store_backend whaco__store_sqlite = {
    .scheme = NULL, /* a plain path: the directory */
    .kind = WHACO_STORE_SQLITE,
    .open = sq_open,
    .close = sq_close,
    .begin = sq_begin,
    .append = sq_append,
    .commit = sq_commit,
    .rollback = sq_rollback,
    .last_seq = sq_last_seq,
    .sync = sq_sync,
    .stats = sq_stats,
    .replay = sq_replay,
    .put_snapshot = sq_put_snapshot,
    .snapshot_before = sq_snapshot_before,
    .first_seq = sq_first_seq,
    .compact = sq_compact,
    .token_add = sq_token_add,
    .tokens = sq_tokens,
    .token_remove = sq_token_remove,
    .change_counter = sq_change_counter,
    .health = sq_health,
};

/*
 * test_store_sqlite.c: what only the SQLite backend of whaco/store.h does,
 * against real files -- the file (DIR/whaco.db, whaco/store_sqlite.h), its
 * PRAGMAs and WAL, refusing files that are not ours, creating the data
 * directory, deleted bytes really leaving the file, PRAGMA data_version as
 * the change counter, and where the store says it is. The behaviour every
 * backend owes is in test_store.c; a removed data directory and its
 * re-creation are in test_faults.c.
 *
 * Every case works in its own mkdtemp directory under /tmp and removes it
 * afterwards. Foreign and damaged databases are built with sqlite3 directly;
 * for each refusal the test compares the file's bytes (and the directory's
 * listing) before and after, so "never written to" is checked, not assumed.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork, dirent */

#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "whaco/err.h"
#include "whaco/store.h"
#include "whaco/store_sqlite.h"
#include "fixture.h"

/*==== Fixtures ============================================================*/

struct tmp {
    char dir[64];   /* the case's own directory */
    char path[128]; /* dir/whaco.db */
};

static void tmp_make(struct tmp *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/whaco-store-XXXXXX");
    assert_non_null(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/%s", t->dir, WHACO_STORE_FILENAME);
}

/* Remove every file in the directory, then the directory. */
/* Remove every file in the directory, then the directory. */
static void tmp_clean(struct tmp *t)
{
    DIR *d = opendir(t->dir);
    if (d) {
        struct dirent *e;
        for (e = readdir(d); e; e = readdir(d)) {
            char p[512];
            if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
                continue;
            snprintf(p, sizeof p, "%s/%s", t->dir, e->d_name);
            unlink(p);
        }
        closedir(d);
    }
    rmdir(t->dir);
}

/* whaco_store_open of the SQLite store in dir. */
static int open_dir(const char *dir, enum whaco_sync sync, struct whaco_store **s, char *err,
                    size_t errlen)
{
    struct whaco_store_spec spec = {WHACO_STORE_SQLITE, dir, sync, 0};
    return whaco_store_open(&spec, s, err, errlen);
}

static struct whaco_store *open_ok(const struct tmp *t, enum whaco_sync sync)
{
    struct whaco_store *s = NULL;
    char err[512];
    int rc = open_dir(t->dir, sync, &s, err, sizeof err);
    if (rc != WHACO_OK)
        fail_msg("open %s: %d %s", t->dir, rc, err);
    assert_non_null(s);
    return s;
}

/* Whole-file contents, malloc'd; *len receives the size. */
/* Whole-file contents, malloc'd; *len receives the size. */
static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    assert_int_equal(fseek(f, 0, SEEK_END), 0);
    long n = ftell(f);
    assert_true(n >= 0);
    rewind(f);
    unsigned char *p = malloc((size_t)n + 1);
    assert_non_null(p);
    assert_int_equal(fread(p, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return p;
}

static void spit(const char *path, const void *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(p, 1, n, f), n);
    assert_int_equal(fclose(f), 0);
}

/* The sorted-enough listing of a directory as one string ("a b c "). */
/* The sorted-enough listing of a directory as one string ("a b c "). */
static void listing(const char *dir, char *out, size_t cap)
{
    char names[16][256];
    int n = 0;
    DIR *d = opendir(dir);
    assert_non_null(d);
    struct dirent *e;
    for (e = readdir(d); e; e = readdir(d)) {
        if (e->d_name[0] == '.')
            continue;
        assert_true(n < 16);
        snprintf(names[n++], sizeof names[0], "%s", e->d_name);
    }
    closedir(d);
    for (int i = 1; i < n; i++) /* insertion sort */
        for (int j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            char x[256];
            memcpy(x, names[j], sizeof x);
            memcpy(names[j], names[j - 1], sizeof x);
            memcpy(names[j - 1], x, sizeof x);
        }
    out[0] = '\0';
    size_t used = 0;
    for (int i = 0; i < n; i++) {
        int w = snprintf(out + used, cap - used, "%s ", names[i]);
        assert_true(w > 0 && (size_t)w < cap - used);
        used += (size_t)w;
    }
}

/* Run SQL on the file through a plain sqlite3 connection. */
/* Run SQL on the file through a plain sqlite3 connection. */
static void raw_exec(const char *path, const char *sql)
{
    sqlite3 *db = fixture_raw_open(path);
    fixture_raw_exec(db, sql);
    assert_int_equal(sqlite3_close(db), SQLITE_OK);
}

/*
 * Open must fail with `want`, name the file in its message, and leave the
 * file's bytes and the directory listing exactly as they were.
 */
/*
 * Open must fail with `want`, name the file in its message, and leave the
 * file's bytes and the directory listing exactly as they were.
 */
static void expect_refused(const struct tmp *t, int want)
{
    size_t n0, n1;
    char list0[512], list1[512];
    unsigned char *before = slurp(t->path, &n0);
    listing(t->dir, list0, sizeof list0);

    struct whaco_store *s = (struct whaco_store *)&s; /* must be overwritten */
    char err[512] = "untouched";
    int rc = open_dir(t->dir, WHACO_SYNC_FULL, &s, err, sizeof err);
    assert_int_equal(rc, want);
    assert_null(s);
    assert_non_null(strstr(err, t->path));
    if (!strstr(err, "refusing to touch it"))
        fail_msg("message: %s", err);

    unsigned char *after = slurp(t->path, &n1);
    listing(t->dir, list1, sizeof list1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    assert_string_equal(list0, list1);
    free(before);
    free(after);
}

static void append_events(struct whaco_store *s, int from, int count, int64_t t0)
{
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    for (int i = from; i < from + count; i++)
        assert_int_equal(whaco_store_append(s, t0 + i, (uint32_t)(i % 7) + 1, "ev", 2, NULL),
                         WHACO_OK);
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
}

/*==== Where the store is ==================================================*/

/*
 * The store is DIR/whaco.db (trailing slashes dropped); MUST_EXIST says
 * "DIR/whaco.db: No such file or directory" -- the CLI prints exactly that
 * -- and creates neither the directory nor the file.
 */
static void store_sqlite__where_is_dir_slash_whaco_db(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    char sub[160], want[200], err[512];
    snprintf(sub, sizeof sub, "%s/data//", t.dir);
    struct whaco_store_spec spec = {WHACO_STORE_SQLITE, sub, WHACO_SYNC_FULL,
                                    WHACO_STORE_MUST_EXIST};
    struct whaco_store *s = NULL;
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_E_NOT_FOUND);
    snprintf(want, sizeof want, "%s/data/%s: %s", t.dir, WHACO_STORE_FILENAME, strerror(ENOENT));
    assert_string_equal(err, want);
    struct stat st;
    snprintf(want, sizeof want, "%s/data", t.dir);
    assert_int_not_equal(stat(want, &st), 0); /* not even the directory */

    spec.flags = 0;
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_OK);
    snprintf(want, sizeof want, "%s/data/%s", t.dir, WHACO_STORE_FILENAME);
    assert_string_equal(whaco_store_where(s), want);
    assert_int_equal(stat(want, &st), 0);
    whaco_store_close(s);
    assert_int_equal(unlink(want), 0);
    snprintf(want, sizeof want, "%s/data", t.dir);
    assert_int_equal(rmdir(want), 0);
    tmp_clean(&t);
}

/*==== Compaction on disk ==================================================*/

/* Compaction leaves one snapshot row and no event rows behind. */
static void store_sqlite__compaction_deletes_the_rows(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    append_events(s, 1, 20, 0);
    assert_int_equal(whaco_store_put_snapshot(s, 5, 1, "five", 4), WHACO_OK);
    assert_int_equal(whaco_store_put_snapshot(s, 20, 2, "twenty", 6), WHACO_OK);
    assert_int_equal(whaco_store_compact(s, 1, INT64_MAX, NULL), WHACO_OK);
    sqlite3 *db = whaco__store_db(s);
    assert_int_equal(fixture_raw_int(db, "SELECT count(*) FROM snapshots"), 1);
    assert_int_equal(fixture_raw_int(db, "SELECT count(*) FROM events"), 0);
    assert_int_equal(fixture_raw_int(db, "SELECT seq FROM sqlite_sequence WHERE name = 'events'"),
                     20);
    whaco_store_close(s);
    tmp_clean(&t);
}

/* Compaction zeroes deleted customer bytes instead of leaving them on disk. */
/* Compaction zeroes deleted customer bytes instead of leaving them on disk. */
static void store_sqlite__compaction_leaves_no_deleted_bytes_in_the_file(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    static const char secret[] = "SECRET-CUSTOMER-4111";
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    for (int i = 1; i <= 200; i++)
        assert_int_equal(whaco_store_append(s, i, 1, secret, sizeof secret, NULL), WHACO_OK);
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
    assert_int_equal(whaco_store_put_snapshot(s, 200, 201, "state", 5), WHACO_OK);
    uint64_t deleted = 0;
    assert_int_equal(whaco_store_compact(s, 1, INT64_MAX, &deleted), WHACO_OK);
    assert_int_equal(deleted, 200);
    whaco_store_close(s);

    size_t n;
    unsigned char *bytes = slurp(t.path, &n);
    for (size_t i = 0; i + sizeof secret - 1 <= n; i++)
        if (memcmp(bytes + i, secret, sizeof secret - 1) == 0)
            fail_msg("deleted event bytes still at offset %zu", i);
    free(bytes);
    tmp_clean(&t);
}

/*==== The change counter is PRAGMA data_version ===========================*/

/* A connection's own commits leave it alone; another's change it. */
static void store_sqlite__own_commits_leave_the_change_counter_alone(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    uint8_t h[WHACO_TOKEN_HASH_BYTES] = {1, 2, 3};
    int64_t v0 = 0, v1 = 0, v2 = 0;
    assert_int_equal(whaco_store_change_counter(s, &v0), WHACO_OK);
    assert_int_equal(whaco_store_token_add(s, h, "admin", "own", 1), WHACO_OK);
    append_events(s, 1, 3, 0);
    assert_int_equal(whaco_store_change_counter(s, &v1), WHACO_OK);
    assert_int_equal(v1, v0);
    assert_int_equal(v0, fixture_raw_int(whaco__store_db(s), "PRAGMA data_version"));
    struct whaco_store *other = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_token_remove(other, h), WHACO_OK);
    whaco_store_close(other);
    assert_int_equal(whaco_store_change_counter(s, &v2), WHACO_OK);
    assert_true(v2 != v1);
    whaco_store_close(s);
    tmp_clean(&t);
}

/*==== Refusing files that are not ours ====================================*/

static void store_sqlite__refuses_random_bytes(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    unsigned char junk[8192];
    uint32_t x = 0x12345678u;
    for (size_t i = 0; i < sizeof junk; i++) {
        x = x * 1664525u + 1013904223u;
        junk[i] = (unsigned char)(x >> 24);
    }
    spit(t.path, junk, sizeof junk);
    expect_refused(&t, WHACO_E_STATE_CORRUPT);

    /* A short text file too. */
    spit(t.path, "hello, not a database\n", 22);
    expect_refused(&t, WHACO_E_STATE_CORRUPT);
    tmp_clean(&t);
}

static void store_sqlite__refuses_another_applications_database(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    /* application_id 0 with a table of its own. */
    raw_exec(t.path, "CREATE TABLE foo(a, b); INSERT INTO foo VALUES (1, 2);");
    expect_refused(&t, WHACO_E_STATE_CORRUPT);
    tmp_clean(&t);

    /* Another application_id, even with no tables. */
    tmp_make(&t);
    raw_exec(t.path, "PRAGMA application_id = 1234; CREATE TABLE foo(a);");
    expect_refused(&t, WHACO_E_STATE_CORRUPT);
    struct whaco_store *s = NULL;
    char err[512];
    assert_int_equal(open_dir(t.dir, WHACO_SYNC_FULL, &s, err, sizeof err), WHACO_E_STATE_CORRUPT);
    assert_non_null(strstr(err, "application_id 0x000004d2"));
    tmp_clean(&t);

    /* Another program's tables named like ours, in WAL mode: still not ours. */
    tmp_make(&t);
    raw_exec(t.path, "PRAGMA journal_mode = WAL; CREATE TABLE events(x);");
    expect_refused(&t, WHACO_E_STATE_CORRUPT);
    tmp_clean(&t);
}

/*
 * Another program's WAL database whose writer died without a checkpoint:
 * neither the database nor its pending -wal may change.
 */
/*
 * Another program's WAL database whose writer died without a checkpoint:
 * neither the database nor its pending -wal may change.
 */
static void store_sqlite__refuses_a_foreign_database_with_a_pending_wal(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        sqlite3 *db = NULL;
        if (sqlite3_open(t.path, &db) != SQLITE_OK ||
            sqlite3_exec(db,
                         "PRAGMA journal_mode = WAL; PRAGMA application_id = 77;"
                         " CREATE TABLE foo(a); INSERT INTO foo VALUES (1);",
                         NULL, NULL, NULL) != SQLITE_OK)
            _exit(1);
        _exit(0); /* no close: the -wal keeps the commits */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", t.path);
    size_t n0, n1;
    unsigned char *before = slurp(wal, &n0);
    assert_true(n0 > 0);
    expect_refused(&t, WHACO_E_STATE_CORRUPT);
    unsigned char *after = slurp(wal, &n1);
    assert_int_equal(n0, n1);
    assert_memory_equal(before, after, n0);
    free(before);
    free(after);
    tmp_clean(&t);
}

static void store_sqlite__refuses_a_newer_schema(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    append_events(s, 1, 3, 0);
    whaco_store_close(s);
    raw_exec(t.path, "PRAGMA user_version = 99;");
    expect_refused(&t, WHACO_E_STATE_VERSION);
    char err[512];
    assert_int_equal(open_dir(t.dir, WHACO_SYNC_FULL, &s, err, sizeof err), WHACO_E_STATE_VERSION);
    assert_non_null(strstr(err, "schema version 99"));
    tmp_clean(&t);
}

static void store_sqlite__refuses_a_damaged_database(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    /* Enough data for many b-tree pages. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    unsigned char big[600];
    memset(big, 0x5a, sizeof big);
    for (int i = 0; i < 400; i++)
        assert_int_equal(whaco_store_append(s, i, 1, big, sizeof big, NULL), WHACO_OK);
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
    whaco_store_close(s);

    size_t n;
    unsigned char *bytes = slurp(t.path, &n);
    assert_true(n > 16 * 4096);
    /* Junk over pages in the middle: b-tree headers and cells alike. */
    for (size_t i = n / 3; i < n / 3 + 3 * 4096; i++)
        bytes[i] = (unsigned char)(i * 131u + 7u);
    spit(t.path, bytes, n);
    free(bytes);
    expect_refused(&t, WHACO_E_STATE_CORRUPT);

    /* Truncated to half: also refused, also untouched. */
    bytes = slurp(t.path, &n);
    spit(t.path, bytes, n / 2);
    free(bytes);
    expect_refused(&t, WHACO_E_STATE_CORRUPT);
    tmp_clean(&t);
}

/* An empty file (say, from `touch`) is a new database, not a foreign one. */
/* An empty file (say, from `touch`) is a new database, not a foreign one. */
static void store_sqlite__empty_file_becomes_a_new_database(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    spit(t.path, "", 0);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_last_seq(s), 0);
    sqlite3 *db = whaco__store_db(s);
    assert_int_equal(fixture_raw_int(db, "PRAGMA application_id"), 0x5748434f);
    assert_int_equal(fixture_raw_int(db, "PRAGMA user_version"), WHACO_STORE_SCHEMA);
    assert_int_equal(fixture_raw_int(db, "PRAGMA auto_vacuum"), 2); /* incremental */
    assert_int_equal(fixture_raw_int(db, "SELECT value FROM meta WHERE key = 'schema'"),
                     WHACO_STORE_SCHEMA);
    whaco_store_close(s);
    tmp_clean(&t);
}

static void store_sqlite__creates_the_directory_mode_0700(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    char sub[160];
    snprintf(sub, sizeof sub, "%s/data/", t.dir); /* trailing slash */
    struct whaco_store *s = NULL;
    char err[512];
    assert_int_equal(open_dir(sub, WHACO_SYNC_FULL, &s, err, sizeof err), WHACO_OK);
    struct stat st;
    sub[strlen(sub) - 1] = '\0';
    assert_int_equal(stat(sub, &st), 0);
    assert_true(S_ISDIR(st.st_mode));
    assert_int_equal(st.st_mode & 0777, 0700);
    whaco_store_close(s);

    char db[200];
    snprintf(db, sizeof db, "%s/%s", sub, WHACO_STORE_FILENAME);
    assert_int_equal(unlink(db), 0);
    rmdir(sub);

    /* A regular file where the directory should be. */
    spit(sub, "x", 1);
    s = (struct whaco_store *)&s;
    assert_int_equal(open_dir(sub, WHACO_SYNC_FULL, &s, err, sizeof err), WHACO_E_IO);
    assert_null(s);
    assert_non_null(strstr(err, "not a directory"));
    unlink(sub);

    tmp_clean(&t);
}

/*==== Durability settings =================================================*/

static void check_modes(enum whaco_sync sync, int64_t want_sync)
{
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, sync);
    append_events(s, 1, 2, 0);
    assert_int_equal(fixture_raw_int(whaco__store_db(s), "PRAGMA synchronous"), want_sync);

    /* The journal mode is a property of the file: a second connection sees WAL. */
    sqlite3 *raw = NULL;
    assert_int_equal(sqlite3_open_v2(t.path, &raw, SQLITE_OPEN_READONLY, NULL), SQLITE_OK);
    sqlite3_stmt *st = NULL;
    assert_int_equal(sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(st), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(st, 0), "wal");
    sqlite3_finalize(st);
    assert_int_equal(fixture_raw_int(raw, "SELECT count(*) FROM events"), 2);
    sqlite3_close(raw);

    whaco_store_close(s);
    tmp_clean(&t);
}

static void store_sqlite__sync_modes_set_synchronous_and_wal(void **state)
{
    (void)state;
    check_modes(WHACO_SYNC_FULL, 2);
    check_modes(WHACO_SYNC_NORMAL, 1);
}

/*
 * A process that dies without closing (kill -9 after a commit) leaves a
 * -wal file holding the commit; the next open recovers it from there.
 */
/*
 * A process that dies without closing (kill -9 after a commit) leaves a
 * -wal file; the next open recovers every committed event.
 */
static void store_sqlite__a_crash_leaves_a_wal_that_the_next_open_recovers(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct whaco_store *s = NULL;
        if (open_dir(t.dir, WHACO_SYNC_FULL, &s, NULL, 0) != WHACO_OK)
            _exit(1);
        if (whaco_store_begin(s) != WHACO_OK)
            _exit(2);
        for (int i = 0; i < 50; i++)
            if (whaco_store_append(s, i, 1, "crash", 5, NULL) != WHACO_OK)
                _exit(3);
        if (whaco_store_commit(s) != WHACO_OK)
            _exit(4);
        /* An uncommitted batch dies with the process. */
        if (whaco_store_begin(s) != WHACO_OK ||
            whaco_store_append(s, 99, 1, "lost", 4, NULL) != WHACO_OK)
            _exit(5);
        _exit(0); /* no close: no checkpoint, the WAL stays */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    char wal[160];
    snprintf(wal, sizeof wal, "%s-wal", t.path);
    struct stat st;
    assert_int_equal(stat(wal, &st), 0);
    assert_true(st.st_size > 0);

    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_last_seq(s), 50);
    assert_int_equal(fixture_count_replayed(s, 40), 10);
    whaco_store_close(s);
    tmp_clean(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store_sqlite__where_is_dir_slash_whaco_db),
        cmocka_unit_test(store_sqlite__compaction_deletes_the_rows),
        cmocka_unit_test(store_sqlite__compaction_leaves_no_deleted_bytes_in_the_file),
        cmocka_unit_test(store_sqlite__own_commits_leave_the_change_counter_alone),
        cmocka_unit_test(store_sqlite__refuses_random_bytes),
        cmocka_unit_test(store_sqlite__refuses_another_applications_database),
        cmocka_unit_test(store_sqlite__refuses_a_foreign_database_with_a_pending_wal),
        cmocka_unit_test(store_sqlite__refuses_a_newer_schema),
        cmocka_unit_test(store_sqlite__refuses_a_damaged_database),
        cmocka_unit_test(store_sqlite__empty_file_becomes_a_new_database),
        cmocka_unit_test(store_sqlite__creates_the_directory_mode_0700),
        cmocka_unit_test(store_sqlite__sync_modes_set_synchronous_and_wal),
        cmocka_unit_test(store_sqlite__a_crash_leaves_a_wal_that_the_next_open_recovers),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

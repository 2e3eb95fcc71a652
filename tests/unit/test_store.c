/*
 * test_store.c: the durable store (whaco/store.h) against real files.
 *
 * Every case works in its own mkdtemp directory under /tmp and removes it
 * afterwards. Foreign and damaged databases are built with sqlite3 directly;
 * for each refusal the test compares the file's bytes (and the directory's
 * listing) before and after, so "never written to" is checked, not assumed.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork, dirent */

#include <dirent.h>
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

/*==== Recording replay callbacks ==========================================*/

struct seen {
    int n;
    uint64_t seq[64];
    int64_t time[64];
    uint32_t type[64];
    size_t len[64];
    unsigned char body[64][16];
    int stop_after; /* return 7 after this many events; 0 = never */
};

static int record(void *ctx, uint64_t seq, int64_t time_ms, uint32_t type, const void *body,
                  size_t len)
{
    struct seen *w = ctx;
    assert_true(w->n < 64);
    assert_non_null(body);
    w->seq[w->n] = seq;
    w->time[w->n] = time_ms;
    w->type[w->n] = type;
    w->len[w->n] = len;
    assert_true(len <= sizeof w->body[0]);
    memcpy(w->body[w->n], body, len);
    w->n++;
    if (w->stop_after && w->n == w->stop_after)
        return 7;
    return 0;
}

/* Event i's body: "ev" + i as a byte, plus i bytes of 0xA5 (binary-safe). */
static size_t body_of(int i, unsigned char *out)
{
    out[0] = 'e';
    out[1] = 0; /* an embedded NUL: bodies are bytes, not strings */
    out[2] = (unsigned char)i;
    size_t n = 3 + (size_t)(i % 8);
    for (size_t k = 3; k < n; k++)
        out[k] = 0xA5;
    return n;
}

static void append_events(struct whaco_store *s, int from, int count, int64_t t0)
{
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    for (int i = from; i < from + count; i++) {
        unsigned char b[16];
        size_t n = body_of(i, b);
        uint64_t seq = 0;
        assert_int_equal(whaco_store_append(s, t0 + i, (uint32_t)(i % 7) + 1, b, n, &seq),
                         WHACO_OK);
        assert_true(seq > 0);
    }
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
}

/*==== Log: create, reopen, replay =========================================*/

static void store__events_persist_and_replay_in_order(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_last_seq(s), 0);
    assert_string_equal(whaco_store_errmsg(s), "");

    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    for (int i = 1; i <= 10; i++) {
        unsigned char b[16];
        size_t n = body_of(i, b);
        uint64_t seq = 0;
        assert_int_equal(whaco_store_append(s, 1000 * i, (uint32_t)i, b, n, &seq), WHACO_OK);
        assert_int_equal(seq, (uint64_t)i);
    }
    /* A zero-length body and a NULL seq pointer are fine. */
    assert_int_equal(whaco_store_append(s, 11000, 11, NULL, 0, NULL), WHACO_OK);
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
    assert_int_equal(whaco_store_last_seq(s), 11);
    whaco_store_close(s);

    s = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_last_seq(s), 11);

    struct seen w = {0};
    assert_int_equal(whaco_store_replay(s, 0, record, &w), WHACO_OK);
    assert_int_equal(w.n, 11);
    for (int i = 1; i <= 10; i++) {
        unsigned char b[16];
        size_t n = body_of(i, b);
        assert_int_equal(w.seq[i - 1], (uint64_t)i);
        assert_int_equal(w.time[i - 1], 1000 * i);
        assert_int_equal(w.type[i - 1], (uint32_t)i);
        assert_int_equal(w.len[i - 1], n);
        assert_memory_equal(w.body[i - 1], b, n);
    }
    assert_int_equal(w.len[10], 0);
    assert_int_equal(w.type[10], 11);

    /* after = k skips the first k. */
    struct seen tail = {0};
    assert_int_equal(whaco_store_replay(s, 4, record, &tail), WHACO_OK);
    assert_int_equal(tail.n, 7);
    assert_int_equal(tail.seq[0], 5);
    assert_int_equal(tail.seq[6], 11);

    struct seen none = {0};
    assert_int_equal(whaco_store_replay(s, 11, record, &none), WHACO_OK);
    assert_int_equal(none.n, 0);
    assert_int_equal(whaco_store_replay(s, UINT64_MAX, record, &none), WHACO_OK);
    assert_int_equal(none.n, 0);

    /* A non-zero return stops the replay and is returned. */
    struct seen early = {0};
    early.stop_after = 3;
    assert_int_equal(whaco_store_replay(s, 0, record, &early), 7);
    assert_int_equal(early.n, 3);

    /* ... and the statement is reusable afterwards. */
    struct seen again = {0};
    assert_int_equal(whaco_store_replay(s, 0, record, &again), WHACO_OK);
    assert_int_equal(again.n, 11);

    whaco_store_close(s);
    tmp_clean(&t);
}

/* A recursive replay from the callback is refused, not undefined. */
static struct whaco_store *nested_store;
static int nested_rc;
static int replay_nested(void *ctx, uint64_t seq, int64_t time_ms, uint32_t type, const void *body,
                         size_t len)
{
    (void)seq, (void)time_ms, (void)type, (void)body, (void)len;
    nested_rc = whaco_store_replay(nested_store, 0, record, ctx);
    return 1;
}

static void store__replay_refuses_reentry(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    append_events(s, 1, 3, 0);
    struct seen w = {0};
    nested_store = s;
    assert_int_equal(whaco_store_replay(s, 0, replay_nested, &w), 1);
    assert_int_equal(nested_rc, WHACO_E_INVAL);
    assert_int_equal(w.n, 0);
    whaco_store_close(s);
    tmp_clean(&t);
}

/*==== Batches =============================================================*/

static void store__batch_commit_rollback_and_misuse(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    unsigned char b[16];
    size_t n = body_of(1, b);

    /* Append and commit without begin fail and say why. */
    assert_int_equal(whaco_store_append(s, 1, 1, b, n, NULL), WHACO_E_INVAL);
    assert_non_null(strstr(whaco_store_errmsg(s), "no batch"));
    assert_int_equal(whaco_store_commit(s), WHACO_E_INVAL);
    whaco_store_rollback(s); /* no batch: a no-op */

    /* Begin twice fails; the first batch is still usable. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_begin(s), WHACO_E_INVAL);
    for (int i = 0; i < 5; i++)
        assert_int_equal(whaco_store_append(s, i, 1, b, n, NULL), WHACO_OK);
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
    assert_int_equal(whaco_store_last_seq(s), 5);

    /* Rollback discards the whole batch. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(whaco_store_append(s, i, 2, b, n, NULL), WHACO_OK);
    whaco_store_rollback(s);
    assert_int_equal(whaco_store_last_seq(s), 5);
    struct seen w = {0};
    assert_int_equal(whaco_store_replay(s, 0, record, &w), WHACO_OK);
    assert_int_equal(w.n, 5);

    /* A failed append abandons the batch: nothing of it is stored. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_append(s, 1, 3, b, n, NULL), WHACO_OK);
    assert_int_equal(whaco_store_append(s, 1, 3, NULL, 4, NULL), WHACO_E_INVAL);
    assert_int_equal(whaco_store_commit(s), WHACO_E_INVAL);
    assert_int_equal(whaco_store_last_seq(s), 5);

    /* Snapshots and compaction are their own transactions: not inside a batch. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_put_snapshot(s, 1, 1, "x", 1), WHACO_E_INVAL);
    assert_int_equal(whaco_store_compact(s, 1, INT64_MAX, NULL), WHACO_E_INVAL);
    whaco_store_rollback(s);

    /* Numbering continues after the discarded batches were rolled back. */
    append_events(s, 0, 1, 0);
    assert_int_equal(whaco_store_last_seq(s), 6);

    /* A batch left open at close is rolled back, not committed. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_append(s, 1, 3, b, n, NULL), WHACO_OK);
    whaco_store_close(s);
    s = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_last_seq(s), 6);
    whaco_store_close(s);
    tmp_clean(&t);
}

/* A second connection sees a batch only once it is committed. */
static void store__batch_is_invisible_until_commit(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *a = open_ok(&t, WHACO_SYNC_FULL);
    struct whaco_store *b = open_ok(&t, WHACO_SYNC_NORMAL);
    assert_int_equal(whaco_store_begin(a), WHACO_OK);
    for (int i = 0; i < 100; i++)
        assert_int_equal(whaco_store_append(a, i, 1, "abc", 3, NULL), WHACO_OK);
    struct seen w = {0};
    assert_int_equal(whaco_store_replay(b, 0, record, &w), WHACO_OK);
    assert_int_equal(w.n, 0);
    assert_int_equal(whaco_store_commit(a), WHACO_OK);
    assert_int_equal(whaco_store_last_seq(b), 100);
    whaco_store_close(a);
    whaco_store_close(b);
    tmp_clean(&t);
}

/*==== Snapshots and compaction ============================================*/

static void store__snapshots_and_compaction(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);

    /* None yet: NULL, 0, 0 and success. */
    uint64_t seq = 99;
    int64_t time_ms = 99;
    void *snap = (void *)&seq;
    size_t len = 99;
    assert_int_equal(whaco_store_latest_snapshot(s, &seq, &time_ms, &snap, &len), WHACO_OK);
    assert_null(snap);
    assert_int_equal(len, 0);
    assert_int_equal(seq, 0);

    /* Events 1..20 at time 1000..20000. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    for (int i = 1; i <= 20; i++)
        assert_int_equal(whaco_store_append(s, 1000 * i, 1, "ev", 2, NULL), WHACO_OK);
    assert_int_equal(whaco_store_commit(s), WHACO_OK);

    /* A snapshot beyond the end of the log is a caller bug. */
    assert_int_equal(whaco_store_put_snapshot(s, 21, 1, "x", 1), WHACO_E_INVAL);

    assert_int_equal(whaco_store_put_snapshot(s, 5, 5500, "state-five", 10), WHACO_OK);
    assert_int_equal(whaco_store_put_snapshot(s, 12, 12500, "state-twelve", 12), WHACO_OK);
    assert_int_equal(whaco_store_latest_snapshot(s, &seq, &time_ms, &snap, &len), WHACO_OK);
    assert_int_equal(seq, 12);
    assert_int_equal(time_ms, 12500);
    assert_int_equal(len, 12);
    assert_memory_equal(snap, "state-twelve", 12);
    free(snap);

    /*
     * Compact keeping events from 8000 on: deletes seq 1..7 (all <= 12 and
     * older than 8000), keeps 8..12 (included but recent) and 13..20 (after
     * the snapshot).
     */
    uint64_t deleted = 99;
    assert_int_equal(whaco_store_compact(s, 1, 8000, &deleted), WHACO_OK);
    assert_int_equal(deleted, 7);
    struct seen w = {0};
    assert_int_equal(whaco_store_replay(s, 0, record, &w), WHACO_OK);
    assert_int_equal(w.n, 13);
    assert_int_equal(w.seq[0], 8);
    assert_int_equal(w.seq[12], 20);

    /* Only the latest snapshot survives; it still reads back. */
    sqlite3 *db = whaco__store_db(s);
    assert_int_equal(fixture_raw_int(db, "SELECT count(*) FROM snapshots"), 1);
    assert_int_equal(whaco_store_latest_snapshot(s, &seq, &time_ms, &snap, &len), WHACO_OK);
    assert_int_equal(seq, 12);
    assert_memory_equal(snap, "state-twelve", 12);
    free(snap);

    /* INT64_MAX deletes every included event but never one after it. */
    assert_int_equal(whaco_store_compact(s, 1, INT64_MAX, &deleted), WHACO_OK);
    assert_int_equal(deleted, 5);
    memset(&w, 0, sizeof w);
    assert_int_equal(whaco_store_replay(s, 0, record, &w), WHACO_OK);
    assert_int_equal(w.n, 8);
    assert_int_equal(w.seq[0], 13);

    /* A snapshot at the very end, then compaction empties the log ... */
    assert_int_equal(whaco_store_put_snapshot(s, 20, 20500, "state-20", 8), WHACO_OK);
    assert_int_equal(whaco_store_compact(s, 1, INT64_MAX, &deleted), WHACO_OK);
    assert_int_equal(deleted, 8);
    assert_int_equal(fixture_raw_int(db, "SELECT count(*) FROM events"), 0);
    /* ... but last_seq remembers, also across a restart, */
    assert_int_equal(whaco_store_last_seq(s), 20);
    whaco_store_close(s);
    s = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_last_seq(s), 20);
    /* and new appends continue after the old maximum. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_append(s, 30000, 1, "new", 3, &seq), WHACO_OK);
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
    assert_int_equal(seq, 21);

    /* Compaction with no snapshot at all deletes nothing. */
    whaco_store_close(s);
    tmp_clean(&t);
    tmp_make(&t);
    s = open_ok(&t, WHACO_SYNC_FULL);
    append_events(s, 1, 5, 0);
    assert_int_equal(whaco_store_compact(s, 1, INT64_MAX, &deleted), WHACO_OK);
    assert_int_equal(deleted, 0);
    assert_int_equal(whaco_store_last_seq(s), 5);
    memset(&w, 0, sizeof w);
    assert_int_equal(whaco_store_replay(s, 0, record, &w), WHACO_OK);
    assert_int_equal(w.n, 5);
    whaco_store_close(s);
    tmp_clean(&t);
}

/* whaco_store_stats counts what the file holds, through compaction and batches. */
static void expect_stats(struct whaco_store *s, uint64_t events, uint64_t first, uint64_t last,
                         uint64_t snapshots, int has_snapshot, uint64_t snapshot_seq)
{
    struct whaco_store_stats st;
    memset(&st, 0xA5, sizeof st);
    assert_int_equal(whaco_store_stats(s, &st), WHACO_OK);
    assert_int_equal(st.events, events);
    assert_int_equal(st.first_seq, first);
    assert_int_equal(st.last_seq, last);
    assert_int_equal(st.snapshots, snapshots);
    assert_int_equal(st.has_snapshot, has_snapshot);
    assert_int_equal(st.snapshot_seq, snapshot_seq);
}

static void store__stats_count_events_and_snapshots(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    expect_stats(s, 0, 0, 0, 0, 0, 0);
    append_events(s, 1, 10, 0);
    expect_stats(s, 10, 1, 10, 0, 0, 0);
    /* A snapshot at seq 0 (an imported state) is still a snapshot. */
    assert_int_equal(whaco_store_put_snapshot(s, 0, 1, "s0", 2), WHACO_OK);
    assert_int_equal(whaco_store_put_snapshot(s, 4, 2, "s4", 2), WHACO_OK);
    expect_stats(s, 10, 1, 10, 2, 1, 4);
    assert_int_equal(whaco_store_compact(s, 1, INT64_MAX, NULL), WHACO_OK);
    expect_stats(s, 6, 5, 10, 1, 1, 4);
    /* Inside a batch the stats see its appends; a rollback takes them back. */
    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_append(s, 99, 1, "x", 1, NULL), WHACO_OK);
    expect_stats(s, 7, 5, 11, 1, 1, 4);
    whaco_store_rollback(s);
    expect_stats(s, 6, 5, 10, 1, 1, 4);
    whaco_store_close(s);
    tmp_clean(&t);
}

/* Compaction zeroes deleted customer bytes instead of leaving them on disk. */
static void store__compaction_leaves_no_deleted_bytes_in_the_file(void **state)
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

/*==== Tokens ==============================================================*/

struct token_seen {
    int n;
    uint8_t hash[4][WHACO_TOKEN_HASH_BYTES];
    char role[4][WHACO_ROLE_MAX];
    char label[4][WHACO_LABEL_MAX];
    int64_t created_ms[4];
};

static void token_record(void *ctx, const uint8_t hash[WHACO_TOKEN_HASH_BYTES], const char *role,
                         const char *label, int64_t created_ms)
{
    struct token_seen *w = ctx;
    assert_true(w->n < 4);
    memcpy(w->hash[w->n], hash, WHACO_TOKEN_HASH_BYTES);
    snprintf(w->role[w->n], WHACO_ROLE_MAX, "%s", role);
    snprintf(w->label[w->n], WHACO_LABEL_MAX, "%s", label);
    w->created_ms[w->n] = created_ms;
    w->n++;
}

static void store__tokens_add_list_remove_duplicate_and_data_version(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    uint8_t h1[WHACO_TOKEN_HASH_BYTES], h2[WHACO_TOKEN_HASH_BYTES];
    for (int i = 0; i < WHACO_TOKEN_HASH_BYTES; i++) {
        h1[i] = (uint8_t)i;
        h2[i] = (uint8_t)(255 - i);
    }
    h1[5] = 0; /* hashes are bytes, NULs included */

    int64_t v0 = 0, v1 = 0, v2 = 0;
    assert_int_equal(whaco_store_change_counter(s, &v0), WHACO_OK);

    assert_int_equal(whaco_store_token_add(s, h1, "admin", "ops laptop", 1000), WHACO_OK);
    /* Own commits do not change data_version (PRAGMA data_version). */
    assert_int_equal(whaco_store_change_counter(s, &v1), WHACO_OK);
    assert_int_equal(v1, v0);

    assert_int_equal(whaco_store_token_add(s, h1, "read", "again", 1001), WHACO_E_DUPLICATE);
    assert_non_null(strstr(whaco_store_errmsg(s), t.path));
    assert_int_equal(whaco_store_token_add(s, h2, "boss", "x", 1), WHACO_E_INVAL);
    assert_int_equal(whaco_store_token_add(s, h2, "read", NULL, 1), WHACO_E_INVAL);
    char longlabel[WHACO_LABEL_MAX + 1];
    memset(longlabel, 'x', WHACO_LABEL_MAX);
    longlabel[WHACO_LABEL_MAX] = '\0';
    assert_int_equal(whaco_store_token_add(s, h2, "read", longlabel, 1), WHACO_E_INVAL);
    longlabel[WHACO_LABEL_MAX - 1] = '\0'; /* 63 bytes fit */

    /* Another connection (as `whaco token create` would be) adds one. */
    struct whaco_store *other = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_token_add(other, h2, "write", longlabel, 2000), WHACO_OK);
    whaco_store_close(other);
    assert_int_equal(whaco_store_change_counter(s, &v2), WHACO_OK);
    assert_true(v2 != v1);

    struct token_seen w = {0};
    assert_int_equal(whaco_store_tokens(s, token_record, &w), WHACO_OK);
    assert_int_equal(w.n, 2);
    assert_memory_equal(w.hash[0], h1, WHACO_TOKEN_HASH_BYTES);
    assert_string_equal(w.role[0], "admin");
    assert_string_equal(w.label[0], "ops laptop");
    assert_memory_equal(w.hash[1], h2, WHACO_TOKEN_HASH_BYTES);
    assert_string_equal(w.role[1], "write");
    assert_string_equal(w.label[1], longlabel);
    assert_int_equal(w.created_ms[0], 1000);
    assert_int_equal(w.created_ms[1], 2000);

    /* Revoked by another connection: gone, and data_version says so. */
    other = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_token_remove(other, h1), WHACO_OK);
    assert_int_equal(whaco_store_token_remove(other, h1), WHACO_E_NOT_FOUND);
    assert_non_null(strstr(whaco_store_errmsg(other), "no token"));
    whaco_store_close(other);
    int64_t v3 = 0;
    assert_int_equal(whaco_store_change_counter(s, &v3), WHACO_OK);
    assert_true(v3 != v2);
    memset(&w, 0, sizeof w);
    assert_int_equal(whaco_store_tokens(s, token_record, &w), WHACO_OK);
    assert_int_equal(w.n, 1);
    assert_memory_equal(w.hash[0], h2, WHACO_TOKEN_HASH_BYTES);
    whaco_store_close(s);
    /* Still gone after a reopen. */
    s = open_ok(&t, WHACO_SYNC_FULL);
    memset(&w, 0, sizeof w);
    assert_int_equal(whaco_store_tokens(s, token_record, &w), WHACO_OK);
    assert_int_equal(w.n, 1);
    whaco_store_close(s);
    tmp_clean(&t);
}

/*==== Refusing files that are not ours ====================================*/

static void store__refuses_random_bytes(void **state)
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

static void store__refuses_another_applications_database(void **state)
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
static void store__refuses_a_foreign_database_with_a_pending_wal(void **state)
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

static void store__refuses_a_newer_schema(void **state)
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

static void store__refuses_a_damaged_database(void **state)
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
static void store__empty_file_becomes_a_new_database(void **state)
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

static void store__creates_the_directory_and_rejects_bad_arguments(void **state)
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

    assert_int_equal(whaco_store_open(NULL, &s, err, sizeof err), WHACO_E_INVAL);
    assert_int_equal(open_dir("", WHACO_SYNC_FULL, &s, err, sizeof err), WHACO_E_INVAL);
    assert_int_equal(open_dir(t.dir, (enum whaco_sync)7, &s, NULL, 0), WHACO_E_INVAL);
    whaco_store_close(NULL);
    assert_string_equal(whaco_store_errmsg(NULL), "");
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

static void store__sync_modes_set_synchronous_and_wal(void **state)
{
    (void)state;
    check_modes(WHACO_SYNC_FULL, 2);
    check_modes(WHACO_SYNC_NORMAL, 1);
}

/*
 * A process that dies without closing (kill -9 after a commit) leaves a
 * -wal file; the next open recovers every committed event.
 */
static void store__committed_events_survive_a_crash(void **state)
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
    struct seen w = {0};
    assert_int_equal(whaco_store_replay(s, 40, record, &w), WHACO_OK);
    assert_int_equal(w.n, 10);
    assert_int_equal(w.seq[9], 50);
    whaco_store_close(s);
    tmp_clean(&t);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(store__events_persist_and_replay_in_order),
        cmocka_unit_test(store__replay_refuses_reentry),
        cmocka_unit_test(store__batch_commit_rollback_and_misuse),
        cmocka_unit_test(store__batch_is_invisible_until_commit),
        cmocka_unit_test(store__snapshots_and_compaction),
        cmocka_unit_test(store__stats_count_events_and_snapshots),
        cmocka_unit_test(store__compaction_leaves_no_deleted_bytes_in_the_file),
        cmocka_unit_test(store__tokens_add_list_remove_duplicate_and_data_version),
        cmocka_unit_test(store__refuses_random_bytes),
        cmocka_unit_test(store__refuses_another_applications_database),
        cmocka_unit_test(store__refuses_a_foreign_database_with_a_pending_wal),
        cmocka_unit_test(store__refuses_a_newer_schema),
        cmocka_unit_test(store__refuses_a_damaged_database),
        cmocka_unit_test(store__empty_file_becomes_a_new_database),
        cmocka_unit_test(store__creates_the_directory_and_rejects_bad_arguments),
        cmocka_unit_test(store__sync_modes_set_synchronous_and_wal),
        cmocka_unit_test(store__committed_events_survive_a_crash),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

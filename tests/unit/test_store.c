/*
 * test_store.c: the store interface (whaco/store.h) -- what every backend
 * owes its callers: the log and its sequence numbers, batches, snapshots
 * and compaction, tokens and the change counter, health on a healthy store,
 * opening only what exists, messages that begin with the location; and the
 * front's own part, store specs.
 *
 * The backend cases use nothing but the interface, so that a second
 * backend runs the very same cases: each case runs once per row of
 * targets[], which makes a fresh empty store location (SQLite: a mkdtemp
 * directory under /tmp) and removes it afterwards. What only the SQLite
 * backend does (its file format, PRAGMAs, WAL, refusing foreign files, a
 * removed directory) is tested in test_store_sqlite.c and test_faults.c.
 */
#define _POSIX_C_SOURCE 200809L /* mkdtemp, fork */

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#include <setjmp.h>
#include <cmocka.h>

#include "whaco/err.h"
#include "whaco/store.h"

/*==== Targets: the backends the cases run against =========================*/

/* One store location for one case. */
struct tmp {
    char location[128];           /* the target's own text for it */
    struct whaco_store_spec spec; /* names it; sync and flags set per open */
};

struct target {
    const char *name;
    void (*make)(struct tmp *t);  /* a fresh location where no store exists yet */
    void (*clean)(struct tmp *t); /* remove the store and whatever the location holds */
};

static void sqlite_make(struct tmp *t)
{
    snprintf(t->location, sizeof t->location, "/tmp/whaco-store-XXXXXX");
    assert_non_null(mkdtemp(t->location));
    struct whaco_store_spec spec = {WHACO_STORE_SQLITE, t->location, WHACO_SYNC_FULL, 0};
    t->spec = spec;
}

static void sqlite_clean(struct tmp *t)
{
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", t->location);
    assert_int_equal(system(cmd), 0);
}

static const struct target targets[] = {
    {"store (SQLite)", sqlite_make, sqlite_clean},
};

static const struct target *target; /* the one the cases run against now */

static void tmp_make(struct tmp *t)
{
    memset(t, 0, sizeof *t);
    target->make(t);
}

static void tmp_clean(struct tmp *t)
{
    target->clean(t);
}

/* Open t's store with this sync (creating it if needed); fails the test if it cannot. */
static struct whaco_store *open_ok(const struct tmp *t, enum whaco_sync sync)
{
    struct whaco_store *s = NULL;
    struct whaco_store_spec spec = t->spec;
    char err[512];
    spec.sync = sync;
    int rc = whaco_store_open(&spec, &s, err, sizeof err);
    if (rc != WHACO_OK)
        fail_msg("open %s: %d %s", t->location, rc, err);
    assert_non_null(s);
    return s;
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
    struct whaco_store_stats st;
    assert_int_equal(whaco_store_stats(s, &st), WHACO_OK);
    assert_int_equal(st.snapshots, 1);
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
    assert_int_equal(whaco_store_stats(s, &st), WHACO_OK);
    assert_int_equal(st.events, 0);
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

/* whaco_store_stats counts what the store holds, through compaction and batches. */
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

static void store__tokens_add_list_remove_duplicate_and_change_counter(void **state)
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

    int64_t v1 = 0, v2 = 0;
    assert_int_equal(whaco_store_token_add(s, h1, "admin", "ops laptop", 1000), WHACO_OK);
    assert_int_equal(whaco_store_change_counter(s, &v1), WHACO_OK);

    assert_int_equal(whaco_store_token_add(s, h1, "read", "again", 1001), WHACO_E_DUPLICATE);
    assert_non_null(strstr(whaco_store_errmsg(s), whaco_store_where(s)));
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

    /* Revoked by another connection: gone, and the change counter says so. */
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

/*==== Crashes =============================================================*/

/*
 * A process that dies without closing (kill -9 after a commit): the next
 * open has every committed event and nothing of the batch left open.
 */
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
        if (whaco_store_open(&t.spec, &s, NULL, 0) != WHACO_OK)
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
        _exit(0); /* no close: nothing tidied up */
    }
    int status = 0;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);

    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    assert_int_equal(whaco_store_last_seq(s), 50);
    struct seen w = {0};
    assert_int_equal(whaco_store_replay(s, 40, record, &w), WHACO_OK);
    assert_int_equal(w.n, 10);
    assert_int_equal(w.seq[9], 50);
    whaco_store_close(s);
    tmp_clean(&t);
}

/*==== Opening, health and messages ========================================*/

/* Open with bad arguments: WHACO_E_INVAL, *out NULL, a message. */
static void store__open_rejects_bad_arguments(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = (struct whaco_store *)&s; /* must be overwritten */
    struct whaco_store_spec spec = t.spec;
    char err[512];
    assert_int_equal(whaco_store_open(NULL, &s, err, sizeof err), WHACO_E_INVAL);
    assert_null(s);
    assert_true(err[0] != '\0');
    assert_int_equal(whaco_store_open(&spec, NULL, err, sizeof err), WHACO_E_INVAL);
    spec.location = NULL;
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_E_INVAL);
    spec.location = "";
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_E_INVAL);
    spec = t.spec;
    spec.sync = (enum whaco_sync)7;
    assert_int_equal(whaco_store_open(&spec, &s, NULL, 0), WHACO_E_INVAL);
    spec = t.spec;
    spec.kind = WHACO_STORE_NONE; /* a zeroed spec names no store */
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_E_INVAL);
    spec.kind = (enum whaco_store_kind)99;
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_E_INVAL);
    assert_non_null(strstr(err, "no storage backend"));
    assert_null(s);
    whaco_store_close(NULL);
    assert_string_equal(whaco_store_errmsg(NULL), "");
    assert_string_equal(whaco_store_where(NULL), "");
    tmp_clean(&t);
}

/* WHACO_STORE_MUST_EXIST opens only a store that is there, and creates none. */
static void store__must_exist_opens_only_an_existing_store(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = (struct whaco_store *)&s;
    struct whaco_store_spec spec = t.spec;
    char err[512] = "untouched";
    spec.flags = WHACO_STORE_MUST_EXIST;
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_E_NOT_FOUND);
    assert_null(s);
    assert_non_null(strstr(err, t.location)); /* the message names where it looked */
    /* ... and the failed attempt created nothing. */
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_E_NOT_FOUND);

    s = open_ok(&t, WHACO_SYNC_FULL); /* without the flag: created */
    append_events(s, 1, 3, 0);
    whaco_store_close(s);
    assert_int_equal(whaco_store_open(&spec, &s, err, sizeof err), WHACO_OK);
    assert_int_equal(whaco_store_last_seq(s), 3);
    whaco_store_close(s);
    tmp_clean(&t);
}

/*
 * On a store that is where it should be: CHECK and REPAIR succeed having
 * done nothing, PROBE writes without adding an event. Neither REPAIR nor
 * PROBE runs inside a batch; an unknown request is refused.
 */
static void store__health_of_a_healthy_store(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    append_events(s, 1, 2, 0);
    unsigned done = 0xdead;
    assert_int_equal(whaco_store_health(s, WHACO_STORE_CHECK, 0, &done), WHACO_OK);
    assert_int_equal(done, 0);
    done = 0xdead;
    assert_int_equal(whaco_store_health(s, WHACO_STORE_REPAIR, 0, &done), WHACO_OK);
    assert_int_equal(done, 0);
    done = 0xdead;
    assert_int_equal(whaco_store_health(s, WHACO_STORE_PROBE, 1234, &done), WHACO_OK);
    assert_int_equal(done, 0);
    assert_int_equal(whaco_store_health(s, WHACO_STORE_PROBE, 1235, NULL), WHACO_OK);
    assert_int_equal(whaco_store_last_seq(s), 2);
    struct seen w = {0};
    assert_int_equal(whaco_store_replay(s, 0, record, &w), WHACO_OK);
    assert_int_equal(w.n, 2);

    assert_int_equal(whaco_store_begin(s), WHACO_OK);
    assert_int_equal(whaco_store_health(s, WHACO_STORE_PROBE, 1, NULL), WHACO_E_INVAL);
    assert_int_equal(whaco_store_health(s, WHACO_STORE_REPAIR, 1, NULL), WHACO_E_INVAL);
    assert_int_equal(whaco_store_append(s, 1, 1, "x", 1, NULL), WHACO_OK); /* still open */
    assert_int_equal(whaco_store_commit(s), WHACO_OK);
    done = 0xdead;
    assert_int_equal(whaco_store_health(s, (enum whaco_store_health)7, 1, &done), WHACO_E_INVAL);
    assert_int_equal(done, 0);
    assert_non_null(strstr(whaco_store_errmsg(s), "unknown request"));
    whaco_store_close(s);
    tmp_clean(&t);
}

/*
 * Messages begin with the location (for the operator), and
 * whaco_store_strip_location takes exactly that off (for a client).
 */
static void store__messages_begin_with_the_location(void **state)
{
    (void)state;
    struct tmp t;
    tmp_make(&t);
    struct whaco_store *s = open_ok(&t, WHACO_SYNC_FULL);
    const char *where = whaco_store_where(s);
    assert_true(where[0] != '\0');
    assert_string_equal(whaco_store_errmsg(s), "");
    assert_int_equal(whaco_store_commit(s), WHACO_E_INVAL); /* no batch */
    const char *msg = whaco_store_errmsg(s);
    size_t n = strlen(where);
    assert_int_equal(strncmp(msg, where, n), 0);
    assert_int_equal(strncmp(msg + n, ": ", 2), 0);
    const char *bare = whaco_store_strip_location(s, msg);
    assert_ptr_equal(bare, msg + n + 2);
    assert_null(strstr(bare, where));
    assert_non_null(strstr(bare, "no batch"));
    /* A copy strips the same; a message without the location is kept whole. */
    char copy[512];
    snprintf(copy, sizeof copy, "%s", msg);
    assert_string_equal(whaco_store_strip_location(s, copy), bare);
    assert_string_equal(whaco_store_strip_location(s, "events 4 to 5 are missing"),
                        "events 4 to 5 are missing");
    assert_string_equal(whaco_store_strip_location(NULL, "as is"), "as is");
    assert_string_equal(whaco_store_strip_location(s, NULL), "");
    whaco_store_close(s);
    tmp_clean(&t);
}

/*==== Specs (the front: no backend involved) ==============================*/

/* Rows: the text, what parse returns, the kind it gives. */
static const struct {
    const char *text;
    int rc;
    enum whaco_store_kind kind;
    const char *says; /* in the message when refused */
} spec_rows[] = {
    {"data", WHACO_OK, WHACO_STORE_SQLITE, NULL},
    {"/var/lib/whaco/", WHACO_OK, WHACO_STORE_SQLITE, NULL},
    {"./a://b", WHACO_OK, WHACO_STORE_SQLITE, NULL}, /* a path that looks like a URL later on */
    {"1x://y", WHACO_OK, WHACO_STORE_SQLITE, NULL},  /* a scheme begins with a letter */
    {"postgresql://x", WHACO_E_INVAL, WHACO_STORE_NONE, "not supported by this build"},
    {"POSTGRESQL://db.example/whaco", WHACO_E_INVAL, WHACO_STORE_NONE, "not supported"},
    {"sqlite://x", WHACO_E_INVAL, WHACO_STORE_NONE, "give --data a directory"},
    {"", WHACO_E_INVAL, WHACO_STORE_NONE, "empty"},
};

static void store__spec_parse_takes_directories_and_refuses_other_backends(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof spec_rows / sizeof spec_rows[0]; i++) {
        struct whaco_store_spec spec = {WHACO_STORE_NONE, "before", WHACO_SYNC_NORMAL,
                                        WHACO_STORE_MUST_EXIST};
        char err[512] = "untouched";
        int rc = whaco_store_spec_parse(&spec, spec_rows[i].text, err, sizeof err);
        if (rc != spec_rows[i].rc)
            fail_msg("%s: %d, want %d (%s)", spec_rows[i].text, rc, spec_rows[i].rc, err);
        /* sync and flags are the caller's: never touched. */
        assert_int_equal(spec.sync, WHACO_SYNC_NORMAL);
        assert_int_equal(spec.flags, WHACO_STORE_MUST_EXIST);
        if (rc == WHACO_OK) {
            assert_int_equal(spec.kind, spec_rows[i].kind);
            assert_ptr_equal(spec.location, spec_rows[i].text); /* borrowed, not copied */
            assert_string_equal(err, "");
        } else {
            assert_int_equal(spec.kind, WHACO_STORE_NONE); /* unchanged on failure */
            assert_string_equal(spec.location, "before");
            if (!strstr(err, spec_rows[i].says))
                fail_msg("%s: message %s", spec_rows[i].text, err);
        }
    }
    /* A URL is never echoed whole: it may carry a password. */
    struct whaco_store_spec spec = {0};
    char err[512];
    assert_int_equal(
        whaco_store_spec_parse(&spec, "postgresql://ops:s3cret@db/whaco", err, sizeof err),
        WHACO_E_INVAL);
    assert_non_null(strstr(err, "postgresql"));
    assert_null(strstr(err, "s3cret"));
    assert_int_equal(whaco_store_spec_parse(&spec, NULL, NULL, 0), WHACO_E_INVAL);
    assert_int_equal(whaco_store_spec_parse(NULL, "data", err, sizeof err), WHACO_E_INVAL);
}

static void store__spec_describe_names_the_store_without_secrets(void **state)
{
    (void)state;
    char buf[128];
    struct whaco_store_spec spec = {0};
    assert_int_equal(whaco_store_spec_parse(&spec, "data/", NULL, 0), WHACO_OK);
    assert_string_equal(whaco_store_spec_describe(&spec, buf, sizeof buf), "data/"); /* as given */
    spec.location = "postgresql://ops:s3cret@db.example:5432/whaco?sslmode=require";
    assert_string_equal(whaco_store_spec_describe(&spec, buf, sizeof buf),
                        "postgresql://db.example:5432/whaco?sslmode=require");
    spec.location = "postgresql://db/whaco@2"; /* an '@' after the host is not user information */
    assert_string_equal(whaco_store_spec_describe(&spec, buf, sizeof buf),
                        "postgresql://db/whaco@2");
    assert_string_equal(whaco_store_spec_describe(NULL, buf, sizeof buf), "(no store)");
    /* Truncated, and NUL-terminated. */
    assert_string_equal(whaco_store_spec_describe(&spec, buf, 5), "post");
}

int main(void)
{
    const struct CMUnitTest backend_tests[] = {
        cmocka_unit_test(store__events_persist_and_replay_in_order),
        cmocka_unit_test(store__replay_refuses_reentry),
        cmocka_unit_test(store__batch_commit_rollback_and_misuse),
        cmocka_unit_test(store__batch_is_invisible_until_commit),
        cmocka_unit_test(store__snapshots_and_compaction),
        cmocka_unit_test(store__stats_count_events_and_snapshots),
        cmocka_unit_test(store__tokens_add_list_remove_duplicate_and_change_counter),
        cmocka_unit_test(store__committed_events_survive_a_crash),
        cmocka_unit_test(store__open_rejects_bad_arguments),
        cmocka_unit_test(store__must_exist_opens_only_an_existing_store),
        cmocka_unit_test(store__health_of_a_healthy_store),
        cmocka_unit_test(store__messages_begin_with_the_location),
    };
    const struct CMUnitTest spec_tests[] = {
        cmocka_unit_test(store__spec_parse_takes_directories_and_refuses_other_backends),
        cmocka_unit_test(store__spec_describe_names_the_store_without_secrets),
    };
    int failed = cmocka_run_group_tests_name("store specs", spec_tests, NULL, NULL);
    for (size_t i = 0; i < sizeof targets / sizeof targets[0]; i++) {
        target = &targets[i];
        failed += cmocka_run_group_tests_name(targets[i].name, backend_tests, NULL, NULL);
    }
    return failed;
}

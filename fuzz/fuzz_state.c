/*
 * fuzz_state.c: libFuzzer target for the decoders of durable state -- the
 * event log's records (whaco_event_decode) and the snapshot / saved-state
 * format (whaco_intel_load, whaco/serial.h).
 *
 * Input: byte 0 picks the mode (modulo 3), the rest is the data:
 *   0  an event record for whaco_event_decode;
 *   1  a saved state for whaco_intel_load, as is (the CRC must match);
 *   2  a saved state without its CRC: the harness appends the right one,
 *      so mutations get past the checksum to the section decoders.
 *
 * Invariants checked beyond "no crash":
 *   - a decoded event re-encodes to exactly the input bytes (the format
 *     has one encoding per event; an older format re-encodes to bytes
 *     that decode and encode back to themselves), and applying it to a
 *     fresh state either
 *     succeeds or fails with the state unchanged (saved bytes equal);
 *   - a failed load leaves the state unchanged (saved bytes equal);
 *   - a loaded state saves to exactly the input bytes (an older layout:
 *     to bytes that load and save back to themselves), and then works:
 *     its status, read views (the JSON builders) and every kind of event
 *     run on it without a sanitizer report.
 * A broken invariant aborts, which libFuzzer reports as a crash.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/intel.h"
#include "whaco/serial.h"
#include "http/json.h"

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "fuzz_state: invariant failed: %s (%s:%d)\n", #cond, __FILE__,         \
                    __LINE__);                                                                     \
            abort();                                                                               \
        }                                                                                          \
    } while (0)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void init_intel(struct whaco_intel *in)
{
    const char *field = NULL;
    CHECK(whaco_intel_init(in, NULL, NULL, &field) == WHACO_OK);
}

/* The state's saved bytes, for comparisons. */
static void save(const struct whaco_intel *in, struct whaco_buf *b)
{
    b->len = 0;
    whaco_intel_save(in, b);
}

static int same_bytes(const struct whaco_buf *b, const uint8_t *p, size_t n)
{
    return b->len == n && (n == 0 || memcmp(b->data, p, n) == 0);
}

/* Exactly n bytes on the heap, so that any over-read is an ASan report. */
static uint8_t *heap_copy(const uint8_t *p, size_t n, size_t extra)
{
    uint8_t *c = malloc(n + extra ? n + extra : 1);
    if (c && n)
        memcpy(c, p, n);
    return c;
}

static void fuzz_event(const uint8_t *p, size_t n)
{
    struct whaco_event ev;
    struct whaco_buf b = WHACO_BUF_INIT, before = WHACO_BUF_INIT, after = WHACO_BUF_INIT;
    int rc = whaco_event_decode(&ev, p, n);
    CHECK(rc == WHACO_OK || rc == WHACO_E_STATE_VERSION || rc == WHACO_E_STATE_CORRUPT);
    if (rc != WHACO_OK)
        return;
    whaco_event_encode(&ev, &b);
    if (b.len > 0 && p[0] == b.data[0]) {
        CHECK(same_bytes(&b, p, n)); /* the current format: byte for byte */
    } else {
        /* An older format (read, never written): it re-encodes in the current
         * one, which decodes back to an event that encodes the same. */
        struct whaco_event again;
        struct whaco_buf b2 = WHACO_BUF_INIT;
        CHECK(whaco_event_decode(&again, b.data, b.len) == WHACO_OK);
        whaco_event_encode(&again, &b2);
        CHECK(same_bytes(&b2, b.data, b.len));
        whaco_buf_release(&b2);
    }

    /* Replay applies what the log holds: it must succeed or change nothing. */
    struct whaco_intel *in = calloc(1, sizeof *in);
    struct whaco_event_result res;
    const char *field = NULL;
    CHECK(in != NULL);
    init_intel(in);
    save(in, &before);
    if (whaco_event_apply(in, &ev, &res, &field) != WHACO_OK) {
        save(in, &after);
        CHECK(after.len == before.len && memcmp(after.data, before.data, after.len) == 0);
    }
    whaco_intel_release(in);
    free(in);
    whaco_buf_release(&b);
    whaco_buf_release(&before);
    whaco_buf_release(&after);
}

/* Render every read view of the state, as the HTTP layer would. */
static void render_views(const struct whaco_intel *in)
{
    struct whaco_team_status st;
    whaco_team_status_init(&st);
    int have = whaco_team_status_compute(&st, &in->team) == WHACO_OK;
    const struct whaco_team_status *stp = have ? &st : NULL;
    char *bodies[6] = {
        json_team_status(&in->team, stp, &in->floor),
        json_team_status_short(&in->team, stp),
        json_salespeople(&in->team, stp),
        json_customer_segments(&in->seg, &in->learn),
        json_anomalies(&in->seg, WHACO_ANOMALY_RING),
        json_insights(in, stp, 20),
    };
    for (size_t i = 0; i < sizeof bodies / sizeof bodies[0]; i++) {
        CHECK(bodies[i] != NULL);
        free(bodies[i]);
    }
    whaco_team_status_release(&st);
}

/* Run one event of each kind on the loaded state, at times after its clock. */
static void exercise(struct whaco_intel *in)
{
    struct whaco_customer c = {"fuzz", 720, 85000, 32000, 6000, 0, 2, 45, 0.7, 0};
    struct whaco_member_spec spec = {"fuzz-sp", "Fuzz", 0.5, 0.9, 0.0, 1};
    struct whaco_analysis an;
    const char *field = NULL;
    char first[WHACO_TEAM_ID_MAX] = "";
    int64_t t = in->clock_set ? in->clock_ms : 0;
    if (in->team.n > 0)
        memcpy(first, in->team.members[0].id, sizeof first);

    (void)whaco_intel_tick(in, t + 300000);
    (void)whaco_intel_analyze(in, &c, t + 301000, &an, &field);
    struct whaco_customer lead = {.id = "fuzz-lead", .visit_count = 1};
    lead.missing = WHACO_FIELDS_ALL & ~WHACO_FIELD_VISIT_COUNT; /* a web lead */
    (void)whaco_intel_analyze(in, &lead, t + 301500, &an, &field);
    if (first[0])
        (void)whaco_intel_deal_closed(in, first, NULL, t + 302000, NULL);
    (void)whaco_intel_add_salesperson(in, &spec, t + 303000, &field);
    (void)whaco_intel_daily_reset(in, t + 304000);
    /* The floor a decoded state holds must take the floor's events too. */
    (void)whaco_intel_clock_in(in, "fuzz-sp", t + 304100, NULL);
    (void)whaco_intel_analyze(in, &c, t + 304200, &an, &field);
    (void)whaco_intel_customer_left(in, "fuzz", WHACO_OUTCOME_NO_SALE, NULL, t + 304300, NULL);
    /* A CRM's outcome of a new visit, then the same row again (already recorded). */
    struct whaco_outcome_row row = {"fuzz", WHACO_OUTCOME_SOLD, "fuzz-sp", "d-1", t + 304315};
    (void)whaco_intel_analyze(in, &c, t + 304310, &an, &field);
    (void)whaco_intel_outcome(in, &row, t + 304320, NULL, NULL);
    (void)whaco_intel_outcome(in, &row, t + 304330, NULL, NULL);
    (void)whaco_intel_clock_out(in, "fuzz-sp", t + 304400, NULL);
    if (first[0])
        (void)whaco_intel_remove_salesperson(in, first, t + 305000, NULL);
    (void)whaco_intel_tick(in, t + 13 * 3600000LL);
}

/*
 * The first 8 bytes of the SEGM section's payload in the saved state p[0..n)
 * into head (zeros if there is none): its layout mark (whaco/segment.h),
 * or in layout 1, which had none, alpha.
 */
static void segm_head(const uint8_t *p, size_t n, uint8_t head[8])
{
    struct whaco_reader r, sec;
    uint32_t count = 0, tag = 0;
    memset(head, 0, 8);
    if (whaco_state_open(&r, p, n, &count) != WHACO_OK)
        return;
    for (uint32_t i = 0; i < count && whaco_state_section(&r, &tag, &sec) == WHACO_OK; i++) {
        if (tag == WHACO_TAG_SEGMENT) {
            whaco_reader_get(&sec, head, 8);
            return;
        }
    }
}

/* 1 if a state that loaded was saved in the current layout: as many
 * sections as a save writes now (before the floor: fewer), and a SEGM
 * section that begins like the current one (layout 1 had no mark). */
static int current_layout(const uint8_t *p, size_t n, const struct whaco_buf *saved)
{
    uint8_t a[8], b[8];
    if (n < 16 || saved->len < 16 || memcmp(p + 12, saved->data + 12, 4) != 0)
        return 0;
    segm_head(p, n, a);
    segm_head(saved->data, saved->len, b);
    return memcmp(a, b, 8) == 0;
}

static void fuzz_load(const uint8_t *p, size_t n, int fix_crc)
{
    size_t total = n + (fix_crc ? 4 : 0);
    uint8_t *bytes = heap_copy(p, n, fix_crc ? 4 : 0);
    struct whaco_buf before = WHACO_BUF_INIT, after = WHACO_BUF_INIT;
    struct whaco_intel *in = calloc(1, sizeof *in);
    CHECK(bytes != NULL && in != NULL);
    if (fix_crc) {
        uint32_t crc = whaco_crc32(bytes, n);
        for (int i = 0; i < 4; i++)
            bytes[n + (size_t)i] = (uint8_t)(crc >> (8 * i));
    }
    init_intel(in);
    save(in, &before);
    int rc = whaco_intel_load(in, bytes, total);
    CHECK(rc == WHACO_OK || rc == WHACO_E_STATE_VERSION || rc == WHACO_E_STATE_CORRUPT);
    save(in, &after);
    if (rc != WHACO_OK) {
        CHECK(same_bytes(&after, before.data, before.len));
    } else {
        if (current_layout(bytes, total, &after)) {
            CHECK(same_bytes(&after, bytes, total)); /* the current layout: byte for byte */
        } else {
            /* A state saved before the floor (fewer sections) or before
             * unknown fields (SEGM layout 1): it saves in the current
             * layout, which loads back to the same bytes. */
            struct whaco_intel *again = calloc(1, sizeof *again);
            struct whaco_buf resaved = WHACO_BUF_INIT;
            CHECK(again != NULL);
            init_intel(again);
            CHECK(whaco_intel_load(again, after.data, after.len) == WHACO_OK);
            save(again, &resaved);
            CHECK(same_bytes(&resaved, after.data, after.len));
            whaco_intel_release(again);
            free(again);
            whaco_buf_release(&resaved);
        }
        render_views(in);
        exercise(in);
        render_views(in);
    }
    whaco_intel_release(in);
    free(in);
    free(bytes);
    whaco_buf_release(&before);
    whaco_buf_release(&after);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    const uint8_t *p = data + 1;
    size_t n = size - 1;
    switch (data[0] % 3u) {
    case 0: {
        uint8_t *copy = heap_copy(p, n, 0);
        CHECK(copy != NULL);
        fuzz_event(copy, n);
        free(copy);
        break;
    }
    case 1:
        fuzz_load(p, n, 0);
        break;
    default:
        fuzz_load(p, n, 1);
        break;
    }
    return 0;
}

/*
 * event.c: the service's events (whaco/event.h): applying one to the core
 * state, and its byte encoding in the durable log.
 *
 * Each type has its own three operations, named after its row in
 * WHACO_EVENT_MAP: encode_<name> writes its payload, decode_<name> reads it
 * back (checking what the event alone allows), apply_<name> changes the
 * state. The operations table below is generated from the same map, so a
 * row without its operations does not compile, and nothing here switches
 * over the types.
 *
 * Encoding, format 3, little-endian (whaco/serial.h):
 *   u8 format (3) | u32 type | i64 time_ms | the type's payload:
 *     analyze             the customer (whaco_customer_encode: layout
 *                         WHACO_CUSTOMER_PARTIAL, its unknown fields left out)
 *     deal_closed         str salespersonId, str dealId, str customerId ("" none)
 *     add_salesperson     str id, str name, f64 skillLevel, f64 naturalFrequency,
 *                         f64 phase, u32 activeDeals
 *     remove_salesperson  str id
 *     tick, daily_reset, reset: nothing
 *     clock_in, clock_out str id
 *     status              str id, u8 status (enum whaco_seat_status)
 *     customer_left       str customerId, u8 outcome (enum whaco_outcome), str id ("" none)
 *     override            str customerId, str id
 *     floor_settings      u8 tracking, u8 rule, u32 maxCustomers, u8 beBackToOriginal
 *     outcome             str customerId, u8 outcome (enum whaco_outcome), str salespersonId
 *                         ("" none), str dealId ("" none), i64 the outcome's time (ms), u8 via
 *                         (enum whaco_outcome_via), u32 row
 *     experiment_settings u8 enabled, u8 rule A, u8 rule B, u64 seed (all 0 when off)
 *   Formats 1 and 2 are read too. Format 2 (the floor, before unknown
 *   fields, the outcome and the experiment_settings events) is the same but for analyze, whose
 *   customer was complete (WHACO_CUSTOMER_COMPLETE: every field, no missing
 *   set), and has neither of those types. Format 1 (before the floor) is format 2
 *   but for deal_closed, which had no customerId.
 * The payload is exactly consumed; anything left over is corruption.
 */
#include <math.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "banned.h"

/* 3: customers may have unknown fields; the outcome event. Still read: 2, every customer
 * complete and no outcome event; 1, before the floor (deal_closed without customerId). An
 * older whaco meeting a format-3 record says "unsupported format version". */
#define EVENT_FORMAT 3

/* The table's numbers are 1, 2, 3, ... in order: types index the table below. */
enum {
#define EVENT_POSITION(NAME, number, name) EVENT_POS_##NAME,
    WHACO_EVENT_MAP(EVENT_POSITION)
#undef EVENT_POSITION
};
#define EVENT_NUMBERED(NAME, number, name)                                                         \
    _Static_assert((number) == EVENT_POS_##NAME + 1, "event types are numbered 1, 2, 3, ...");
WHACO_EVENT_MAP(EVENT_NUMBERED)
#undef EVENT_NUMBERED

/*==== Each type's operations ==============================================*/

static void encode_analyze(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_customer_encode(&ev->customer, b);
}

/* Formats 1 and 2 knew every field of every customer. */
static void decode_analyze(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)
{
    whaco_customer_decode(&ev->customer, r,
                          format >= 3 ? WHACO_CUSTOMER_PARTIAL : WHACO_CUSTOMER_COMPLETE);
}

static int apply_analyze(struct whaco_intel *in, const struct whaco_event *ev,
                         struct whaco_event_result *out, const char **field)
{
    return whaco_intel_analyze(in, &ev->customer, ev->time_ms, &out->analysis, field);
}

static void encode_deal_closed(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_str(b, ev->id);
    whaco_buf_put_str(b, ev->deal_id);
    whaco_buf_put_str(b, ev->customer_id);
}

/* Format 1 had no walk-in: such a deal links to nothing given. */
static void decode_deal_closed(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)
{
    whaco_reader_str(r, ev->id, sizeof ev->id);
    whaco_reader_str(r, ev->deal_id, sizeof ev->deal_id);
    if (format >= 2)
        whaco_reader_str(r, ev->customer_id, sizeof ev->customer_id);
}

static int apply_deal_closed(struct whaco_intel *in, const struct whaco_event *ev,
                             struct whaco_event_result *out, const char **field)
{
    (void)field;
    return whaco_intel_deal_closed(in, ev->id, ev->customer_id[0] ? ev->customer_id : NULL,
                                   ev->time_ms, &out->news);
}

static void encode_add_salesperson(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_str(b, ev->id);
    whaco_buf_put_str(b, ev->name);
    whaco_buf_put_f64(b, ev->skill_level);
    whaco_buf_put_f64(b, ev->natural_frequency);
    whaco_buf_put_f64(b, ev->phase);
    whaco_buf_put_u32(b, ev->active_deals);
}

static void decode_add_salesperson(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)
{
    (void)format;
    whaco_reader_str(r, ev->id, sizeof ev->id);
    whaco_reader_str(r, ev->name, sizeof ev->name);
    ev->skill_level = whaco_reader_f64(r);
    ev->natural_frequency = whaco_reader_f64(r);
    ev->phase = whaco_reader_f64(r);
    ev->active_deals = whaco_reader_u32(r);
    if (!isfinite(ev->skill_level) || !isfinite(ev->natural_frequency) || !isfinite(ev->phase))
        whaco_reader_fail(r);
}

static int apply_add_salesperson(struct whaco_intel *in, const struct whaco_event *ev,
                                 struct whaco_event_result *out, const char **field)
{
    struct whaco_member_spec spec = {
        ev->id, ev->name, ev->skill_level, ev->natural_frequency, ev->phase, ev->active_deals};
    (void)out;
    return whaco_intel_add_salesperson(in, &spec, ev->time_ms, field);
}

static void encode_remove_salesperson(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_str(b, ev->id);
}

static void decode_remove_salesperson(struct whaco_event *ev, struct whaco_reader *r,
                                      uint8_t format)
{
    (void)format;
    whaco_reader_str(r, ev->id, sizeof ev->id);
}

static int apply_remove_salesperson(struct whaco_intel *in, const struct whaco_event *ev,
                                    struct whaco_event_result *out, const char **field)
{
    (void)field;
    return whaco_intel_remove_salesperson(in, ev->id, ev->time_ms, &out->news);
}

/* The encode and decode of a type whose event is its type and time alone. */
#define NO_PAYLOAD(name)                                                                           \
    static void encode_##name(const struct whaco_event *ev, struct whaco_buf *b)                   \
    {                                                                                              \
        (void)ev;                                                                                  \
        (void)b;                                                                                   \
    }                                                                                              \
    static void decode_##name(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)      \
    {                                                                                              \
        (void)ev;                                                                                  \
        (void)r;                                                                                   \
        (void)format;                                                                              \
    }

NO_PAYLOAD(tick)
NO_PAYLOAD(daily_reset)
NO_PAYLOAD(reset)

static int apply_tick(struct whaco_intel *in, const struct whaco_event *ev,
                      struct whaco_event_result *out, const char **field)
{
    (void)out;
    (void)field;
    return whaco_intel_tick(in, ev->time_ms);
}

static int apply_daily_reset(struct whaco_intel *in, const struct whaco_event *ev,
                             struct whaco_event_result *out, const char **field)
{
    (void)out;
    (void)field;
    return whaco_intel_daily_reset(in, ev->time_ms);
}

static int apply_reset(struct whaco_intel *in, const struct whaco_event *ev,
                       struct whaco_event_result *out, const char **field)
{
    (void)out;
    (void)field;
    return whaco_intel_reset(in, ev->time_ms);
}

/* clock_in and clock_out: the salesperson's id. */
#define MEMBER_ONLY(name, act)                                                                     \
    static void encode_##name(const struct whaco_event *ev, struct whaco_buf *b)                   \
    {                                                                                              \
        whaco_buf_put_str(b, ev->id);                                                              \
    }                                                                                              \
    static void decode_##name(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)      \
    {                                                                                              \
        (void)format;                                                                              \
        whaco_reader_str(r, ev->id, sizeof ev->id);                                                \
    }                                                                                              \
    static int apply_##name(struct whaco_intel *in, const struct whaco_event *ev,                  \
                            struct whaco_event_result *out, const char **field)                    \
    {                                                                                              \
        (void)field;                                                                               \
        return act(in, ev->id, ev->time_ms, &out->news);                                           \
    }

MEMBER_ONLY(clock_in, whaco_intel_clock_in)
MEMBER_ONLY(clock_out, whaco_intel_clock_out)

static void encode_status(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_str(b, ev->id);
    whaco_buf_put_u8(b, ev->status);
}

static void decode_status(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)
{
    (void)format;
    whaco_reader_str(r, ev->id, sizeof ev->id);
    ev->status = whaco_reader_u8(r);
}

static int apply_status(struct whaco_intel *in, const struct whaco_event *ev,
                        struct whaco_event_result *out, const char **field)
{
    (void)field;
    return whaco_intel_set_status(in, ev->id, ev->status, ev->time_ms, &out->news);
}

static void encode_customer_left(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_str(b, ev->customer_id);
    whaco_buf_put_u8(b, ev->outcome);
    whaco_buf_put_str(b, ev->id);
}

static void decode_customer_left(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)
{
    (void)format;
    whaco_reader_str(r, ev->customer_id, sizeof ev->customer_id);
    ev->outcome = whaco_reader_u8(r);
    whaco_reader_str(r, ev->id, sizeof ev->id);
}

static int apply_customer_left(struct whaco_intel *in, const struct whaco_event *ev,
                               struct whaco_event_result *out, const char **field)
{
    (void)field;
    return whaco_intel_customer_left(in, ev->customer_id, ev->outcome, ev->id[0] ? ev->id : NULL,
                                     ev->time_ms, &out->news);
}

static void encode_override(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_str(b, ev->customer_id);
    whaco_buf_put_str(b, ev->id);
}

static void decode_override(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)
{
    (void)format;
    whaco_reader_str(r, ev->customer_id, sizeof ev->customer_id);
    whaco_reader_str(r, ev->id, sizeof ev->id);
}

static int apply_override(struct whaco_intel *in, const struct whaco_event *ev,
                          struct whaco_event_result *out, const char **field)
{
    (void)field;
    return whaco_intel_override(in, ev->customer_id, ev->id, ev->time_ms, &out->news);
}

static void encode_floor_settings(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_u8(b, (uint8_t)ev->floor.tracking);
    whaco_buf_put_u8(b, (uint8_t)ev->floor.rule);
    whaco_buf_put_u32(b, ev->floor.max_customers);
    whaco_buf_put_u8(b, ev->floor.be_back_to_original ? 1u : 0u);
}

static void decode_floor_settings(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)
{
    (void)format;
    ev->floor.tracking = (enum whaco_floor_tracking)whaco_reader_u8(r);
    ev->floor.rule = (enum whaco_floor_rule)whaco_reader_u8(r);
    ev->floor.max_customers = whaco_reader_u32(r);
    uint8_t be_back = whaco_reader_u8(r);
    ev->floor.be_back_to_original = be_back != 0;
    if (be_back > 1 || whaco_floor_config_check(&ev->floor, NULL) != WHACO_OK)
        whaco_reader_fail(r);
}

static int apply_floor_settings(struct whaco_intel *in, const struct whaco_event *ev,
                                struct whaco_event_result *out, const char **field)
{
    (void)field;
    return whaco_intel_configure_floor(in, &ev->floor, ev->time_ms, &out->news);
}

static void encode_outcome(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_str(b, ev->customer_id);
    whaco_buf_put_u8(b, ev->outcome);
    whaco_buf_put_str(b, ev->id);
    whaco_buf_put_str(b, ev->deal_id);
    whaco_buf_put_i64(b, ev->outcome_ms);
    whaco_buf_put_u8(b, ev->via);
    whaco_buf_put_u32(b, ev->row);
}

/* Format 3 brought the type: an older record of it is not one whaco wrote. */
static void decode_outcome(struct whaco_event *ev, struct whaco_reader *r, uint8_t format)
{
    if (format < 3)
        whaco_reader_fail(r);
    whaco_reader_str(r, ev->customer_id, sizeof ev->customer_id);
    ev->outcome = whaco_reader_u8(r);
    whaco_reader_str(r, ev->id, sizeof ev->id);
    whaco_reader_str(r, ev->deal_id, sizeof ev->deal_id);
    ev->outcome_ms = whaco_reader_i64(r);
    ev->via = whaco_reader_u8(r);
    ev->row = whaco_reader_u32(r);
    if (!whaco_outcome_name(ev->outcome) || (ev->via != WHACO_VIA_API && ev->via != WHACO_VIA_CLI))
        whaco_reader_fail(r);
}

static int apply_outcome(struct whaco_intel *in, const struct whaco_event *ev,
                         struct whaco_event_result *out, const char **field)
{
    struct whaco_outcome_row row;
    memset(&row, 0, sizeof row);
    memcpy(row.customer_id, ev->customer_id, sizeof row.customer_id);
    row.outcome = ev->outcome;
    memcpy(row.salesperson_id, ev->id, sizeof row.salesperson_id);
    memcpy(row.deal_id, ev->deal_id, sizeof row.deal_id);
    row.time_ms = ev->outcome_ms;
    int rc = whaco_intel_outcome(in, &row, ev->time_ms, &out->news, &out->outcome);
    if (field)
        *field = out->outcome.field;
    return rc;
}

static void encode_experiment_settings(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_u8(b, ev->experiment.enabled ? 1u : 0u);
    whaco_buf_put_u8(b, ev->experiment.rule[0]);
    whaco_buf_put_u8(b, ev->experiment.rule[1]);
    whaco_buf_put_u64(b, ev->experiment.seed);
}

static void decode_experiment_settings(struct whaco_event *ev, struct whaco_reader *r,
                                       uint8_t format)
{
    if (format < 3) /* format 3 brought the type */
        whaco_reader_fail(r);
    uint8_t enabled = whaco_reader_u8(r);
    ev->experiment.enabled = enabled != 0;
    ev->experiment.rule[0] = whaco_reader_u8(r);
    ev->experiment.rule[1] = whaco_reader_u8(r);
    ev->experiment.seed = whaco_reader_u64(r);
    if (enabled > 1 || whaco_experiment_config_check(&ev->experiment, NULL) != WHACO_OK)
        whaco_reader_fail(r);
}

static int apply_experiment_settings(struct whaco_intel *in, const struct whaco_event *ev,
                                     struct whaco_event_result *out, const char **field)
{
    (void)out;
    int rc = whaco_intel_configure_experiment(in, &ev->experiment, ev->time_ms);
    if (rc == WHACO_E_CONFIG && field)
        *field = "experiment";
    return rc;
}

/*==== The table ===========================================================*/

struct event_ops {
    const char *name;
    void (*encode)(const struct whaco_event *ev, struct whaco_buf *b);
    /* fails r on bad values; format is the record's (1..EVENT_FORMAT) */
    void (*decode)(struct whaco_event *ev, struct whaco_reader *r, uint8_t format);
    /* out is never NULL; field as whaco_event_apply's */
    int (*apply)(struct whaco_intel *in, const struct whaco_event *ev,
                 struct whaco_event_result *out, const char **field);
};

static const struct event_ops ops[WHACO_EV_COUNT + 1] = {
#define EVENT_OPS(NAME, number, name)                                                              \
    [WHACO_EV_##NAME] = {#name, encode_##name, decode_##name, apply_##name},
    WHACO_EVENT_MAP(EVENT_OPS)
#undef EVENT_OPS
};

/*==== Public ==============================================================*/

void whaco_event_init(struct whaco_event *ev, enum whaco_event_type type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = (uint32_t)type;
}

void whaco_event_outcome(struct whaco_event *ev, const struct whaco_outcome_row *r, uint32_t row,
                         uint8_t via)
{
    whaco_event_init(ev, WHACO_EV_OUTCOME);
    memcpy(ev->customer_id, r->customer_id, sizeof ev->customer_id);
    ev->outcome = r->outcome;
    memcpy(ev->id, r->salesperson_id, sizeof ev->id);
    memcpy(ev->deal_id, r->deal_id, sizeof ev->deal_id);
    ev->outcome_ms = r->time_ms;
    ev->via = via;
    ev->row = row;
}

bool whaco_event_type_valid(uint32_t type)
{
    return type >= 1 && type <= WHACO_EV_COUNT;
}

const char *whaco_event_name(uint32_t type)
{
    return whaco_event_type_valid(type) ? ops[type].name : "unknown";
}

int whaco_event_apply(struct whaco_intel *in, const struct whaco_event *ev,
                      struct whaco_event_result *out, const char **field)
{
    struct whaco_event_result scratch;
    if (!whaco_event_type_valid(ev->type))
        return WHACO_E_INVAL;
    if (!out)
        out = &scratch;
    memset(&out->news, 0, sizeof out->news);
    memset(&out->outcome, 0, sizeof out->outcome);
    return ops[ev->type].apply(in, ev, out, field);
}

int whaco_event_encode(const struct whaco_event *ev, struct whaco_buf *b)
{
    if (!whaco_event_type_valid(ev->type))
        return WHACO_E_INVAL;
    whaco_buf_put_u8(b, EVENT_FORMAT);
    whaco_buf_put_u32(b, ev->type);
    whaco_buf_put_i64(b, ev->time_ms);
    ops[ev->type].encode(ev, b);
    return whaco_buf_error(b);
}

int whaco_event_decode(struct whaco_event *ev, const void *p, size_t len)
{
    struct whaco_reader r;
    whaco_reader_init(&r, p, len);
    uint8_t version = whaco_reader_u8(&r);
    if (r.err == WHACO_OK && version > EVENT_FORMAT)
        return WHACO_E_STATE_VERSION;
    if (version < 1)
        return WHACO_E_STATE_CORRUPT;
    whaco_event_init(ev, WHACO_EV_TICK);
    ev->type = whaco_reader_u32(&r);
    ev->time_ms = whaco_reader_i64(&r);
    if (r.err != WHACO_OK || !whaco_event_type_valid(ev->type))
        return WHACO_E_STATE_CORRUPT;
    ops[ev->type].decode(ev, &r, version);
    if (r.err != WHACO_OK || r.off != r.len)
        return WHACO_E_STATE_CORRUPT;
    return WHACO_OK;
}

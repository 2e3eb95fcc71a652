/*
 * event.c: the service's events (whaco/event.h): applying one to the core
 * state, and its byte encoding in the durable log.
 *
 * Encoding, version 1, little-endian (whaco/serial.h):
 *   u8 version (1) | u32 type | i64 time_ms | payload by type:
 *     ANALYZE      the customer (whaco_customer_encode)
 *     DEAL_CLOSED  str salespersonId, str dealId
 *     ADD          str id, str name, f64 skillLevel, f64 naturalFrequency,
 *                  f64 phase, u32 activeDeals
 *     REMOVE       str id
 *     TICK, DAILY_RESET, RESET: nothing
 * The payload is exactly consumed; anything left over is corruption.
 */
#include <math.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "banned.h"

#define EVENT_FORMAT 1

void whaco_event_init(struct whaco_event *ev, enum whaco_event_type type)
{
    memset(ev, 0, sizeof *ev);
    ev->type = (uint32_t)type;
}

const char *whaco_event_name(uint32_t type)
{
    switch (type) {
    case WHACO_EV_ANALYZE:
        return "analyze";
    case WHACO_EV_DEAL_CLOSED:
        return "deal_closed";
    case WHACO_EV_ADD_SALESPERSON:
        return "add_salesperson";
    case WHACO_EV_REMOVE_SALESPERSON:
        return "remove_salesperson";
    case WHACO_EV_TICK:
        return "tick";
    case WHACO_EV_DAILY_RESET:
        return "daily_reset";
    case WHACO_EV_RESET:
        return "reset";
    }
    return "unknown";
}

int whaco_event_apply(struct whaco_intel *in, const struct whaco_event *ev,
                      struct whaco_analysis *out, const char **field)
{
    struct whaco_analysis scratch;
    switch (ev->type) {
    case WHACO_EV_ANALYZE:
        return whaco_intel_analyze(in, &ev->customer, ev->time_ms, out ? out : &scratch, field);
    case WHACO_EV_DEAL_CLOSED:
        return whaco_intel_deal_closed(in, ev->id, ev->time_ms);
    case WHACO_EV_ADD_SALESPERSON: {
        struct whaco_member_spec spec = {
            ev->id, ev->name, ev->skill_level, ev->natural_frequency, ev->phase, ev->active_deals};
        return whaco_intel_add_salesperson(in, &spec, ev->time_ms, field);
    }
    case WHACO_EV_REMOVE_SALESPERSON:
        return whaco_intel_remove_salesperson(in, ev->id, ev->time_ms);
    case WHACO_EV_TICK:
        return whaco_intel_tick(in, ev->time_ms);
    case WHACO_EV_DAILY_RESET:
        return whaco_intel_daily_reset(in, ev->time_ms);
    case WHACO_EV_RESET:
        return whaco_intel_reset(in, ev->time_ms);
    }
    return WHACO_E_INVAL;
}

int whaco_event_encode(const struct whaco_event *ev, struct whaco_buf *b)
{
    whaco_buf_put_u8(b, EVENT_FORMAT);
    whaco_buf_put_u32(b, ev->type);
    whaco_buf_put_i64(b, ev->time_ms);
    switch (ev->type) {
    case WHACO_EV_ANALYZE:
        whaco_customer_encode(&ev->customer, b);
        break;
    case WHACO_EV_DEAL_CLOSED:
        whaco_buf_put_str(b, ev->id);
        whaco_buf_put_str(b, ev->deal_id);
        break;
    case WHACO_EV_ADD_SALESPERSON:
        whaco_buf_put_str(b, ev->id);
        whaco_buf_put_str(b, ev->name);
        whaco_buf_put_f64(b, ev->skill_level);
        whaco_buf_put_f64(b, ev->natural_frequency);
        whaco_buf_put_f64(b, ev->phase);
        whaco_buf_put_u32(b, ev->active_deals);
        break;
    case WHACO_EV_REMOVE_SALESPERSON:
        whaco_buf_put_str(b, ev->id);
        break;
    default:
        break;
    }
    return whaco_buf_error(b);
}

int whaco_event_decode(struct whaco_event *ev, const void *p, size_t len)
{
    struct whaco_reader r;
    whaco_reader_init(&r, p, len);
    uint8_t version = whaco_reader_u8(&r);
    if (r.err == WHACO_OK && version > EVENT_FORMAT)
        return WHACO_E_STATE_VERSION;
    if (version != EVENT_FORMAT)
        return WHACO_E_STATE_CORRUPT;
    whaco_event_init(ev, WHACO_EV_TICK);
    ev->type = whaco_reader_u32(&r);
    ev->time_ms = whaco_reader_i64(&r);
    switch (ev->type) {
    case WHACO_EV_ANALYZE:
        whaco_customer_decode(&ev->customer, &r);
        break;
    case WHACO_EV_DEAL_CLOSED:
        whaco_reader_str(&r, ev->id, sizeof ev->id);
        whaco_reader_str(&r, ev->deal_id, sizeof ev->deal_id);
        break;
    case WHACO_EV_ADD_SALESPERSON:
        whaco_reader_str(&r, ev->id, sizeof ev->id);
        whaco_reader_str(&r, ev->name, sizeof ev->name);
        ev->skill_level = whaco_reader_f64(&r);
        ev->natural_frequency = whaco_reader_f64(&r);
        ev->phase = whaco_reader_f64(&r);
        ev->active_deals = whaco_reader_u32(&r);
        if (!isfinite(ev->skill_level) || !isfinite(ev->natural_frequency) || !isfinite(ev->phase))
            whaco_reader_fail(&r);
        break;
    case WHACO_EV_REMOVE_SALESPERSON:
        whaco_reader_str(&r, ev->id, sizeof ev->id);
        break;
    case WHACO_EV_TICK:
    case WHACO_EV_DAILY_RESET:
    case WHACO_EV_RESET:
        break;
    default:
        whaco_reader_fail(&r);
        break;
    }
    if (r.err != WHACO_OK || r.off != r.len)
        return WHACO_E_STATE_CORRUPT;
    return WHACO_OK;
}

/*
 * whaco/event.h: the state-changing events of the service, as plain data.
 *
 * Every change to the core state is one of these events: a walk-in
 * analysed, a deal closed, a salesperson added or removed, the network tick,
 * the daily reset, a reset. The engine applies them in order to a struct
 * whaco_intel and appends the ones that succeeded to the durable log; after
 * a restart it replays the log onto the latest snapshot. Because applying
 * an event is a pure function of (state, event) -- time is inside the
 * event -- the replayed state is byte-identical to the one before the stop.
 *
 * An event encodes to a compact, versioned byte string (whaco/serial.h
 * conventions: little-endian, doubles by bit pattern) that the store keeps
 * as an opaque blob. Decoding checks every field, so a damaged log is
 * detected instead of replayed into a wrong state.
 *
 * Plain data; only encoding allocates (it grows the caller's buffer).
 * Thread-safe in the sense that separate events are independent.
 */
#ifndef WHACO_EVENT_H
#define WHACO_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/intel.h"
#include "whaco/serial.h"

/*
 * The event types, one row each: X(NAME, number, name).
 *   NAME    gives WHACO_EV_NAME;
 *   number  the type as the log stores it: 1, 2, 3, ... in table order
 *           (event.c checks this at compile time), never reused or renumbered;
 *   name    the identifier used in logs and metrics ("analyze"), and the stem
 *           of the type's own operations in src/core/event.c: encode_<name>,
 *           decode_<name> and apply_<name>.
 * A new event is a new row at the end plus those three functions
 * (docs/architecture.md, "Add an event").
 */
#define WHACO_EVENT_MAP(X)                                                                         \
    X(ANALYZE, 1, analyze)                       /* analyze-customer: customer */                  \
    X(DEAL_CLOSED, 2, deal_closed)               /* deal-closed: id (salesperson), deal_id */      \
    X(ADD_SALESPERSON, 3, add_salesperson)       /* add-salesperson: id, name, skill, ... */       \
    X(REMOVE_SALESPERSON, 4, remove_salesperson) /* DELETE salesperson/:id: id */                  \
    X(TICK, 5, tick)                             /* the network update (5 minutes) */              \
    X(DAILY_RESET, 6, daily_reset)               /* local midnight */                              \
    X(RESET, 7, reset)                           /* POST reset (admin) */                          \
    X(CLOCK_IN, 8, clock_in)                     /* clock-in: id */                                \
    X(CLOCK_OUT, 9, clock_out)                   /* clock-out: id */                               \
    X(STATUS, 10, status)                        /* salesperson-status: id, status */              \
    X(CUSTOMER_LEFT, 11, customer_left)          /* customer-left: customer_id, outcome, id? */    \
    X(OVERRIDE, 12, override)                    /* assign (admin): customer_id, id */             \
    X(FLOOR_SETTINGS, 13, floor_settings)        /* the server's floor settings changed: floor */  \
    X(OUTCOME, 14, outcome)                      /* outcomes import: customer_id, outcome, ... */  \
    X(EXPERIMENT_SETTINGS, 15, experiment_settings) /* the A/B test changed: experiment */

enum whaco_event_type {
#define WHACO_EVENT_ENUM(NAME, number, name) WHACO_EV_##NAME = (number),
    WHACO_EVENT_MAP(WHACO_EVENT_ENUM)
#undef WHACO_EVENT_ENUM
};

/*
 * The number of event types. The valid types are 1..WHACO_EV_COUNT, so an
 * array indexed by type has WHACO_EV_COUNT + 1 slots (slot 0 unused).
 */
enum {
#define WHACO_EVENT_ONE(NAME, number, name) +1
    WHACO_EV_COUNT = 0 WHACO_EVENT_MAP(WHACO_EVENT_ONE)
#undef WHACO_EVENT_ONE
};

/* Where an outcome event came from (WHACO_EV_OUTCOME's via). */
enum whaco_outcome_via {
    WHACO_VIA_API = 1, /* POST /api/intelligence/outcomes */
    WHACO_VIA_CLI = 2, /* whaco outcomes import */
};

struct whaco_event {
    uint32_t type;                   /* enum whaco_event_type */
    int64_t time_ms;                 /* Unix ms; set by the engine */
    struct whaco_customer customer;  /* ANALYZE */
    char id[WHACO_TEAM_ID_MAX];      /* DEAL_CLOSED, ADD, REMOVE, the floor's: salesperson id,
                                        "" for none (CUSTOMER_LEFT's is optional) */
    char deal_id[WHACO_DEAL_ID_MAX]; /* DEAL_CLOSED, OUTCOME: optional, "" if none */
    char customer_id[WHACO_ID_MAX];  /* DEAL_CLOSED (optional), CUSTOMER_LEFT, OVERRIDE, OUTCOME */
    uint8_t status;                  /* STATUS: enum whaco_seat_status */
    uint8_t outcome;                 /* CUSTOMER_LEFT, OUTCOME: enum whaco_outcome */
    int64_t outcome_ms;              /* OUTCOME: when it happened, as the CRM says (Unix ms) */
    uint8_t via;                     /* OUTCOME: enum whaco_outcome_via */
    uint32_t row;                    /* OUTCOME: its row in the imported file (header: 1) */
    struct whaco_floor_config floor; /* FLOOR_SETTINGS */
    struct whaco_experiment_config experiment; /* EXPERIMENT_SETTINGS */
    char name[WHACO_TEAM_NAME_MAX];            /* ADD */
    double skill_level;                        /* ADD */
    double natural_frequency;                  /* ADD */
    double phase;                              /* ADD: initial phase, rad */
    uint32_t active_deals;                     /* ADD: deals carried in */
};

/* Reset *ev to an empty event of the given type (all other fields zero). */
void whaco_event_init(struct whaco_event *ev, enum whaco_event_type type);

/*
 * Reset *ev to the WHACO_EV_OUTCOME event of an outcome row r (row number
 * row of its file) that came via (enum whaco_outcome_via).
 */
void whaco_event_outcome(struct whaco_event *ev, const struct whaco_outcome_row *r, uint32_t row,
                         uint8_t via);

/* true if type is one of the table's (1..WHACO_EV_COUNT). */
bool whaco_event_type_valid(uint32_t type);

/*
 * The event's name for logs and metrics ("analyze", "deal_closed", ...), or
 * "unknown" for a type outside the table. Static storage; never NULL.
 */
const char *whaco_event_name(uint32_t type);

/* What applying an event gave. */
struct whaco_event_result {
    struct whaco_analysis analysis; /* ANALYZE */
    struct whaco_floor_news news;   /* the walk-ins the floor assigned (any floor event) */
    struct whaco_outcome_detail
        outcome; /* OUTCOME: why it was not recorded (whaco_intel_outcome) */
};

/*
 * Apply ev to in at ev->time_ms; *out (if not NULL) receives what it gave.
 * Returns WHACO_OK, or the event's error (validation with *field set,
 * WHACO_E_NOT_FOUND, WHACO_E_DUPLICATE, the floor's (whaco/floor.h),
 * WHACO_E_TIME_BACKWARDS, WHACO_E_INVAL for an unknown type, WHACO_E_NOMEM
 * when adding a salesperson or resetting runs out of memory) with *in
 * unchanged. Deterministic.
 */
int whaco_event_apply(struct whaco_intel *in, const struct whaco_event *ev,
                      struct whaco_event_result *out, const char **field);

/*
 * Append the event's encoding to b. Equal events give identical bytes.
 * Returns WHACO_E_INVAL (b unchanged) for a type outside the table, else
 * whaco_buf_error(b): WHACO_OK, or WHACO_E_NOMEM when b has failed (now or
 * before; see whaco/serial.h).
 */
int whaco_event_encode(const struct whaco_event *ev, struct whaco_buf *b);

/*
 * Decode p[0..len) into *ev. Never allocates. Returns WHACO_OK,
 * WHACO_E_STATE_VERSION for an encoding of a newer format, or
 * WHACO_E_STATE_CORRUPT (*ev then undefined).
 * Field values are checked as far as the event alone allows (strings
 * terminated and within bounds, numbers finite where the API requires).
 */
int whaco_event_decode(struct whaco_event *ev, const void *p, size_t len);

#endif /* WHACO_EVENT_H */

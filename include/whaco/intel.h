/*
 * whaco/intel.h: the intelligence layer, both engines behind one state.
 *
 * struct whaco_intel holds the segmentation engine (whaco/segment.h) and the
 * team network (whaco/team.h) and applies the service's events to them:
 * analyze-customer (segment the customer, assign the lead, recommend
 * actions), deal-closed, add/remove salesperson, the network tick, the daily
 * reset and reset. Every event carries its time (Unix ms) as an argument;
 * the layer advances the network from the previous event's time to this
 * one's before applying it, so the same events with the same timestamps
 * always produce the same state, and whaco_intel_save() serialises that
 * state to identical bytes. That is the property the durable store relies on
 * when it replays its event log after a snapshot.
 *
 * Time: timestamps must not go backwards (WHACO_E_TIME_BACKWARDS); the
 * caller (the engine thread) makes them monotonic. A gap longer than
 * WHACO_INTEL_GAP_MAX_HOURS (the dealership was closed, the server was off)
 * advances the network by that maximum only: the model describes business
 * activity, and a weekend of spinning phases would mean nothing.
 *
 * Every event function either succeeds or returns an error with the state
 * unchanged, running out of memory (WHACO_E_NOMEM) included. Memory: the
 * struct is caller-owned; it holds heap arrays (the team) and must be
 * released with whaco_intel_release(). Not thread-safe:
 * the caller serialises every call that takes a non-const whaco_intel.
 */
#ifndef WHACO_INTEL_H
#define WHACO_INTEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/experiment.h"
#include "whaco/floor.h"
#include "whaco/learn.h"
#include "whaco/segment.h"
#include "whaco/serial.h"
#include "whaco/team.h"

#define WHACO_INTEL_GAP_MAX_HOURS 12.0 /* longest gap the network advances across */
#define WHACO_ACTIONS_MAX         8    /* recommended actions per customer */
#define WHACO_HIGH_PRIORITY       0.9  /* priorityScore at or above which a lead is top priority */
#define WHACO_DEAL_ID_MAX         64   /* bytes of a deal id, NUL included */
/* How far a CRM's clock may be from whaco's: an outcome's time may be this
 * much after the import, or before the walk-in's arrival. */
#define WHACO_OUTCOME_SKEW_MS (5 * 60 * 1000)

#define WHACO_TAG_INTEL 0x4c544e49u /* "INTL": the layer's own fields */

struct whaco_intel {
    struct whaco_segmenter seg;  /* read-only for callers */
    struct whaco_team team;      /* read-only for callers */
    struct whaco_floor floor;    /* read-only for callers */
    struct whaco_learn learn;    /* read-only for callers: what the outcomes taught */
    struct whaco_experiment exp; /* read-only for callers: the A/B test of assignment rules */
    int64_t clock_ms;            /* read-only: time of the latest event */
    bool clock_set;              /* read-only: false until the first event */
};

/* The answer to analyze-customer. */
struct whaco_analysis {
    struct whaco_segment_result segment; /* customerAnalysis */
    /* A walk-in waiting at the desk (queue_position > 0) is not an error:
     * assign_rc is WHACO_OK (unless the team is empty), assigned_id "" and
     * assigned means nothing -- a caller tests assigned_id or queue_position. */
    int assign_rc;                          /* WHACO_OK or WHACO_E_EMPTY_TEAM */
    size_t assigned;                        /* index into team.members if assigned_id != "" */
    char assigned_id[WHACO_TEAM_ID_MAX];    /* assignedTo, "" if nobody */
    unsigned n_actions;                     /* 1..WHACO_ACTIONS_MAX */
    const char *actions[WHACO_ACTIONS_MAX]; /* recommendedActions, static strings */
    double close_probability;               /* closeProbability (whaco/learn.h) */
    /* A tracked floor (whaco/floor.h); all zero on an untracked one: */
    bool floor_tracked;             /* the walk-in is one of the floor's */
    bool returning;                 /* it was still in the store: not a new walk-in */
    uint32_t queue_position;        /* 1 = next at the desk; 0 when assigned */
    char customer_id[WHACO_ID_MAX]; /* the walk-in's id ("walk-in-N" if it came without) */
};

/*
 * Initialise both engines; either config may be NULL for its defaults.
 * Returns WHACO_OK, or the first configuration error (*field names it) or
 * WHACO_E_NOMEM, with *in needing no release.
 */
int whaco_intel_init(struct whaco_intel *in, const struct whaco_segment_config *seg_cfg,
                     const struct whaco_team_config *team_cfg, const char **field);

/* Free what *in owns. Safe on a zeroed struct. */
void whaco_intel_release(struct whaco_intel *in);

/*
 * The analyze-customer event: validate the customer, advance the network to
 * now_ms, segment and learn (whaco_segment_learn), then assign the lead:
 * on an untracked floor to the best-fit salesperson of the whole team (the
 * seed's rule); on a tracked one the walk-in arrives on the floor
 * (whaco_floor_arrive: a free salesperson by the rule, or the desk's line,
 * out->queue_position). An empty team is not an error of the event: the
 * customer is still analysed and learned, and out->assign_rc says
 * WHACO_E_EMPTY_TEAM ("No salespeople in network"). Returns WHACO_OK, a
 * customer validation error (*field set), WHACO_E_FLOOR_FULL or
 * WHACO_E_TIME_BACKWARDS, with *in and *out unchanged on error.
 */
int whaco_intel_analyze(struct whaco_intel *in, const struct whaco_customer *c, int64_t now_ms,
                        struct whaco_analysis *out, const char **field);

/*
 * The recommended actions for a segment result (what analyze fills in):
 * the segment's three actions, "🔥 HIGH PRIORITY - Assign experienced
 * salesperson" when its priority is at least WHACO_HIGH_PRIORITY, and extra
 * verification and manager approval for an outlier. Returns the count;
 * actions[] gets static strings. Pure.
 */
unsigned whaco_recommended_actions(const struct whaco_segment_result *r,
                                   const char *actions[WHACO_ACTIONS_MAX]);

/*
 * The deal-closed event for salesperson `id`, linked to the walk-in
 * customer_id if not NULL (whaco_floor_deal_closed after advancing to
 * now_ms; the seed's whaco_team_deal_closed on an untracked floor).
 * Returns WHACO_OK, its errors, or WHACO_E_TIME_BACKWARDS.
 */
int whaco_intel_deal_closed(struct whaco_intel *in, const char *id, const char *customer_id,
                            int64_t now_ms, struct whaco_floor_news *news);

/* One outcome a CRM recorded: a row of an outcomes import (docs/outcomes.md). */
struct whaco_outcome_row {
    char customer_id[WHACO_ID_MAX];         /* the walk-in: 1..63 bytes, printable */
    uint8_t outcome;                        /* enum whaco_outcome, SOLD..APPOINTMENT */
    char salesperson_id[WHACO_TEAM_ID_MAX]; /* required for SOLD; "" for none otherwise */
    char deal_id[WHACO_DEAL_ID_MAX];        /* "" for none; kept for audit, not used */
    int64_t time_ms;                        /* when it happened, Unix ms (>= 0) */
};

/* Why whaco_intel_outcome did not record a row: what its report needs. */
struct whaco_outcome_detail {
    const char *field;               /* the row's field at fault ("time", ...), or NULL */
    uint8_t recorded;                /* ALREADY_RECORDED, OUTCOME_CONFLICT: how it ended */
    char with_id[WHACO_TEAM_ID_MAX]; /* WRONG_SALESPERSON: who has the walk-in, "" the desk */
    int64_t arrived_ms;              /* BEFORE_ARRIVAL: when the open walk-in arrived */
};

/*
 * An outcome from the CRM, applied at now_ms (the import's time). The
 * open walk-in row->customer_id on the tracked floor, if it arrived no
 * later than row->time_ms + WHACO_OUTCOME_SKEW_MS (and, when an earlier
 * visit of the customer ended with this outcome, no later than
 * row->time_ms: the row is then about that visit), ends as the desk's own
 * call would: SOLD as whaco_intel_deal_closed(row->salesperson_id,
 * row->customer_id), the others as whaco_intel_customer_left(outcome,
 * salesperson_id or NULL) -- the same effects on the floor and the
 * network, and the same lesson for the close model. row->time_ms is not
 * when the walk-in ends (that is now_ms): it only picks the visit.
 * Returns WHACO_OK (recorded, *news as those calls fill it), or, with *in
 * unchanged and *detail (if not NULL) saying what it can:
 *   WHACO_E_ALREADY_RECORDED   no open visit matches, and the floor remembers
 *                              the walk-in ending with this outcome (an import
 *                              run again: not an error of the row)
 *   WHACO_E_OUTCOME_CONFLICT   ... ending with another one (detail->recorded)
 *   WHACO_E_BEFORE_ARRIVAL     the walk-in is in the store but arrived after
 *                              the outcome (detail->arrived_ms): another visit
 *   WHACO_E_CUSTOMER_NOT_FOUND never seen on a tracked floor, or forgotten
 *                              (the floor remembers WHACO_FLOOR_RECENT ends)
 *   WHACO_E_NOT_FOUND          salesperson_id is not on the team
 *   WHACO_E_WRONG_SALESPERSON  the walk-in is with someone else, or waits at
 *                              the desk (detail->with_id)
 *   WHACO_E_FLOOR_OFF          the floor is not tracked
 *   WHACO_E_TIME_FUTURE        time_ms is after now_ms + WHACO_OUTCOME_SKEW_MS
 *   WHACO_E_ID_LENGTH, WHACO_E_OUTCOME_VALUE, WHACO_E_INVAL  a field that no
 *                              outcomes file gives (detail->field names it)
 *   WHACO_E_TIME_BACKWARDS
 */
int whaco_intel_outcome(struct whaco_intel *in, const struct whaco_outcome_row *row, int64_t now_ms,
                        struct whaco_floor_news *news, struct whaco_outcome_detail *detail);

/*
 * ---- The floor's events (whaco/floor.h, which gives their errors):
 * advance the network to now_ms, then the floor's function. news may be
 * NULL. Errors leave *in unchanged; WHACO_E_TIME_BACKWARDS too. ----
 */
int whaco_intel_clock_in(struct whaco_intel *in, const char *id, int64_t now_ms,
                         struct whaco_floor_news *news);
int whaco_intel_clock_out(struct whaco_intel *in, const char *id, int64_t now_ms,
                          struct whaco_floor_news *news);
int whaco_intel_set_status(struct whaco_intel *in, const char *id, int status, int64_t now_ms,
                           struct whaco_floor_news *news);
int whaco_intel_customer_left(struct whaco_intel *in, const char *customer_id, int outcome,
                              const char *salesperson_id, int64_t now_ms,
                              struct whaco_floor_news *news);
int whaco_intel_override(struct whaco_intel *in, const char *customer_id,
                         const char *salesperson_id, int64_t now_ms, struct whaco_floor_news *news);
int whaco_intel_configure_floor(struct whaco_intel *in, const struct whaco_floor_config *cfg,
                                int64_t now_ms, struct whaco_floor_news *news);

/*
 * Start the A/B test cfg at now_ms, or end the one running (cfg off)
 * (whaco/experiment.h): its counts start from zero and the walk-ins in the
 * store leave their arms (they arrived before it). From then on every new
 * walk-in on a tracked floor is split into an arm and given out by that
 * arm's rule. WHACO_OK, WHACO_E_CONFIG (cfg fails the check) or
 * WHACO_E_TIME_BACKWARDS, with *in unchanged on error.
 */
int whaco_intel_configure_experiment(struct whaco_intel *in,
                                     const struct whaco_experiment_config *cfg, int64_t now_ms);

/*
 * Add a salesperson (whaco_team_add after advancing); errors as there,
 * WHACO_E_NOMEM included: the team grows before anything changes, so *in
 * is unchanged on every error.
 */
int whaco_intel_add_salesperson(struct whaco_intel *in, const struct whaco_member_spec *spec,
                                int64_t now_ms, const char **field);

/*
 * Remove a salesperson; WHACO_OK, WHACO_E_NOT_FOUND or WHACO_E_TIME_BACKWARDS.
 * On a tracked floor their walk-ins go back to the desk first (news).
 */
int whaco_intel_remove_salesperson(struct whaco_intel *in, const char *id, int64_t now_ms,
                                   struct whaco_floor_news *news);

/*
 * The network tick (every 5 minutes in the service): advance to now_ms and
 * record the coherence in the history (when the team is not empty).
 * Returns WHACO_OK or WHACO_E_TIME_BACKWARDS.
 */
int whaco_intel_tick(struct whaco_intel *in, int64_t now_ms);

/* The daily reset at midnight: advance, then whaco_team_daily_reset. */
int whaco_intel_daily_reset(struct whaco_intel *in, int64_t now_ms);

/*
 * Reset both engines to their initial state (same configurations): the
 * model forgets what it learned, the team is emptied, the floor too (its
 * settings kept), a running A/B test starts its counts again (its rules
 * and seed kept), the clock restarts at now_ms. Returns WHACO_OK, WHACO_E_TIME_BACKWARDS or
 * WHACO_E_NOMEM (*in unchanged).
 */
int whaco_intel_reset(struct whaco_intel *in, int64_t now_ms);

/*
 * Append the whole state as a saved-state file (whaco/serial.h: sections
 * SEGM, TEAM, INTL, FLOR, LERN and EXPT, then the CRC) to b. A state saved
 * before the floor existed (no FLOR) loads with an untracked floor of
 * default settings; one saved before the experiment (no EXPT), with none. Equal states give
 * identical bytes. Returns WHACO_OK, or WHACO_E_NOMEM with b failed (see whaco/serial.h: its bytes
 * are not a state; clear or release it).
 */
int whaco_intel_save(const struct whaco_intel *in, struct whaco_buf *b);

/*
 * Replace *in (initialised) with the state in p[0..len). Checks magic,
 * version, CRC and every value. Returns WHACO_OK, WHACO_E_STATE_VERSION,
 * WHACO_E_STATE_CORRUPT or WHACO_E_NOMEM; on error *in is unchanged.
 */
int whaco_intel_load(struct whaco_intel *in, const void *p, size_t len);

#endif /* WHACO_INTEL_H */

/*
 * whaco/floor.h: the sales floor -- who is on it and free, the walk-ins in
 * the store (waiting at the desk or with a salesperson), the up order, and
 * the rule that hands the next walk-in to a free salesperson.
 *
 * The floor is *tracked* once it is told what happens on it: with the
 * setting floor-tracking = auto (the default) from the first clock-in on,
 * with = on always, with = off never. An untracked floor changes nothing:
 * analyze-customer assigns among the whole team at arrival, as the seed
 * does (whaco_team_assign). On a tracked floor:
 *   - a salesperson is free when clocked in, available (not on a break, a
 *     delivery or an appointment) and with fewer than max_customers
 *     walk-ins; a walk-in goes to a free salesperson chosen by the rule, or
 *     waits at the desk (first come, first served) until one is free;
 *   - whenever a slot frees (a customer leaves or buys, a clock-in, a
 *     return from a break, an override moving a customer away), the head of
 *     the line is assigned at once, and the event reports it (news);
 *   - the up order is the order of the clocked-in salespeople by the time
 *     they last went to its back: clocking in, and taking a walk-in by the
 *     rule, send a salesperson to the back; breaks, deliveries,
 *     appointments, a manager's override and a be-back coming back to
 *     them keep their place (none of these is a turn). Every rule
 *     breaks ties by the up order, so no fixed order of people is favoured;
 *   - activeDeals is the number of walk-ins a salesperson is with, and
 *     phases follow what is reported (docs/floor.md): taking a first
 *     customer sets pi/2 (negotiating), a sale 3pi/2 (paperwork), a
 *     customer leaving with nobody else waiting on them 0 (ready); a
 *     salesperson off the floor or on a break holds their phase and neither
 *     moves nor pulls the others (whaco_member.held).
 *
 * Plain data, no I/O, no clock (time is an argument), no allocation: the
 * open walk-ins and the remembered ones are fixed-size tables, so a copy
 * is a struct assignment. Deterministic, like the rest of the core. Not
 * thread-safe: the caller serialises (the engine thread).
 */
#ifndef WHACO_FLOOR_H
#define WHACO_FLOOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/learn.h"
#include "whaco/segment.h"
#include "whaco/serial.h"
#include "whaco/team.h"

#define WHACO_FLOOR_OPEN_MAX 128 /* walk-ins in the store at once: waiting or served */
/* Walk-ins that ended, remembered: a second end is 409, and an outcomes
 * import (whaco_intel_outcome) knows them as already recorded. A week or
 * more of a busy store's walk-ins; 84 bytes each in a snapshot plus the two ids
 * (about 95 with ids like c-123 and sp-1; 210 at most). */
#define WHACO_FLOOR_RECENT        1024
#define WHACO_FLOOR_BE_BACKS      256 /* be-back walk-ins remembered for their return */
#define WHACO_FLOOR_NEWS_MAX      16  /* assignments one event reports */
#define WHACO_FLOOR_CUSTOMERS_MAX 16  /* the largest max-customers */

#define WHACO_TAG_FLOOR 0x524f4c46u /* "FLOR": the floor's section of a saved state */

/* Whether the floor is tracked (floor-tracking). */
enum whaco_floor_tracking {
    WHACO_TRACKING_AUTO = 0, /* "auto": from the first clock-in on */
    WHACO_TRACKING_ON = 1,   /* "on" */
    WHACO_TRACKING_OFF = 2,  /* "off": the seed's assignment at arrival, always */
};

/* Who among the free gets the next walk-in (assignment). */
enum whaco_floor_rule {
    WHACO_RULE_NETWORK = 0,     /* "network": the best network score (whaco_team_score) */
    WHACO_RULE_UP_ROTATION = 1, /* "up-rotation": the first in the up order */
    WHACO_RULE_ROUND_ROBIN = 2, /* "round-robin": the next after the last one, in team order */
    WHACO_RULE_LEAST_BUSY = 3,  /* "least-busy": the fewest walk-ins now */
};

/* How a walk-in ended. */
enum whaco_outcome {
    WHACO_OUTCOME_SOLD = 1,        /* "sold": deal-closed */
    WHACO_OUTCOME_NO_SALE = 2,     /* "no_sale" */
    WHACO_OUTCOME_BE_BACK = 3,     /* "be_back": will return; their next visit is a return */
    WHACO_OUTCOME_APPOINTMENT = 4, /* "appointment": booked to come back */
};

struct whaco_floor_config {
    enum whaco_floor_tracking tracking; /* floor-tracking; auto */
    enum whaco_floor_rule rule;         /* assignment; network */
    uint32_t max_customers;             /* max-customers, 1..WHACO_FLOOR_CUSTOMERS_MAX; 2 */
    bool be_back_to_original;           /* be-back-to-original; true */
};

/* A walk-in in the store. */
struct whaco_visit {
    char customer_id[WHACO_ID_MAX];         /* unique among the open ones */
    char salesperson_id[WHACO_TEAM_ID_MAX]; /* "" while waiting at the desk */
    char original_id[WHACO_TEAM_ID_MAX];    /* a be-back's salesperson of last time, or "" */
    int64_t arrived_ms;                     /* Unix ms of the analyze */
    int64_t assigned_ms;                    /* when it was assigned; 0 while waiting */
    int32_t cluster_id;                     /* its segment, 0..4 */
    double priority;                        /* its priorityScore */
    bool override;                          /* assigned by a manager, not by the rule */
    /* An A/B test's arm (whaco/experiment.h): 0 none, 1 A, 2 B; in an arm,
     * arm_rule (enum whaco_floor_rule) chooses its salesperson instead of
     * cfg.rule. */
    uint8_t arm, arm_rule;
    int64_t first_wait_ms;               /* arrival to its first salesperson; -1 while none yet */
    struct whaco_walkin_profile profile; /* what its latest analysis saw (whaco/learn.h) */
    struct whaco_customer customer;      /* its latest analysis's input (docs/learning.md) */
    bool learned;                        /* the segmenter has learned it (whaco_intel's rule) */
};

/* A walk-in that ended. */
struct whaco_visit_end {
    char customer_id[WHACO_ID_MAX];
    char salesperson_id[WHACO_TEAM_ID_MAX]; /* who had them; "" if nobody */
    int64_t ended_ms;
    uint8_t outcome;                     /* enum whaco_outcome */
    struct whaco_walkin_profile profile; /* as the open walk-in had it */
};

struct whaco_floor {
    struct whaco_floor_config cfg;   /* read-only for callers: change with whaco_floor_configure */
    bool tracked;                    /* read-only */
    uint64_t next_up;                /* private: the next up-order number */
    uint64_t walkins;                /* walk-ins ever, for the ids of those without one */
    char last_rr[WHACO_TEAM_ID_MAX]; /* private: round-robin's last choice, "" if none */
    /* The walk-ins in the store, in arrival order except that those sent
     * back to the desk by a clock-out or a removal are moved ahead of the
     * others (the desk's line is the waiting ones, in this order). */
    struct whaco_visit open[WHACO_FLOOR_OPEN_MAX];
    uint32_t n_open;
    struct whaco_visit_end recent[WHACO_FLOOR_RECENT]; /* ring, newest at recent_head - 1 */
    uint32_t recent_head, recent_count;
    struct whaco_visit_end be_backs[WHACO_FLOOR_BE_BACKS]; /* ring, outcome be_back only */
    uint32_t be_back_head, be_back_count;
    /* Not saved, false after init and load: the network rule ignores the
     * observed skills (the simulator's baseline for what learning adds). */
    bool entered_skills_only;
};

/* One assignment an event made: who got which walk-in, after what wait. */
struct whaco_assignment {
    char customer_id[WHACO_ID_MAX];
    char salesperson_id[WHACO_TEAM_ID_MAX];
    int64_t waited_ms; /* from arrival to this assignment */
    bool override;     /* a manager's (whaco_floor_override) */
};

/* What an event did on the floor, for the event stream. */
struct whaco_floor_news {
    uint32_t n;     /* assignments in a[] */
    bool truncated; /* more were made than a[] holds (the up board has them all) */
    struct whaco_assignment a[WHACO_FLOOR_NEWS_MAX];
    bool ended;                 /* the event ended a walk-in (customer-left, a linked sale) */
    struct whaco_visit_end end; /* ... which one, how, and its profile */
    uint8_t end_arm;            /* ... its A/B test's arm (struct whaco_visit) */
    int64_t end_waited_ms;      /* ... its wait: to its first salesperson, or to its end if none */
    struct whaco_customer end_customer; /* ... its latest analysis's input (struct whaco_visit) */
    bool end_learned;                   /* ... whether the segmenter has learned it */
};

/* Fill cfg with the defaults noted on each field. */
void whaco_floor_config_default(struct whaco_floor_config *cfg);

/*
 * WHACO_OK, or WHACO_E_CONFIG with *field naming the setting
 * ("floorTracking", "assignment", "maxCustomers") outside its values.
 */
int whaco_floor_config_check(const struct whaco_floor_config *cfg, const char **field);

/* An empty, untracked floor (tracked at once if cfg says on); cfg must pass the check. */
void whaco_floor_init(struct whaco_floor *f, const struct whaco_floor_config *cfg);

/*
 * Names of the enums as the API spells them, and back. The _parse
 * functions return -1 for a name that is not one of them.
 */
const char *whaco_floor_tracking_name(int tracking);
int whaco_floor_tracking_parse(const char *name);
const char *whaco_floor_rule_name(int rule);
int whaco_floor_rule_parse(const char *name);
const char *whaco_outcome_name(int outcome);
int whaco_outcome_parse(const char *name);
const char *whaco_seat_status_name(int status);
int whaco_seat_status_parse(const char *name);

/*
 * ---- Events. Each takes the team the floor belongs to and the event's
 * time, returns WHACO_OK or an error with both unchanged, and appends the
 * assignments it made to *news (which may be NULL). ----
 */

/*
 * Change the settings (a configured server whose settings differ from the
 * state's). Tracking turned on starts tracking now; turned off stops it
 * (every walk-in in the store is forgotten, held phases are released).
 * A lower max_customers takes effect for the next assignments only.
 * WHACO_E_CONFIG if cfg fails the check.
 */
int whaco_floor_configure(struct whaco_floor *f, struct whaco_team *t,
                          const struct whaco_floor_config *cfg, int64_t now_ms,
                          struct whaco_floor_news *news);

/*
 * Clock member id in: available, at the back of the up order, phase 0.
 * Starts tracking under auto (the open leads of the untracked floor are
 * forgotten: activeDeals then counts the walk-ins a salesperson is with).
 * Idempotent: clocking in a clocked-in member changes nothing.
 * WHACO_E_NOT_FOUND, WHACO_E_FLOOR_OFF (tracking off).
 */
int whaco_floor_clock_in(struct whaco_floor *f, struct whaco_team *t, const char *id,
                         int64_t now_ms, struct whaco_floor_news *news);

/*
 * Clock member id out: off the floor, out of the up order, phase 0 and
 * held. The walk-ins they were with go back to the desk's line, each in
 * its place by arrival time (ahead of everyone who came after it), and are
 * assigned at once to whoever is free. Idempotent. WHACO_E_NOT_FOUND, WHACO_E_FLOOR_OFF.
 */
int whaco_floor_clock_out(struct whaco_floor *f, struct whaco_team *t, const char *id,
                          int64_t now_ms, struct whaco_floor_news *news);

/*
 * Set a clocked-in member's status (WHACO_SEAT_AVAILABLE, _BREAK,
 * _DELIVERY, _APPOINTMENT): the last three make them unavailable and hold
 * their phase, keeping their place in the up order and the walk-ins they
 * are with; available brings them back (phase 0 if they are with nobody).
 * WHACO_E_NOT_FOUND, WHACO_E_OFF_FLOOR (clocked out), WHACO_E_STATUS_VALUE,
 * WHACO_E_FLOOR_OFF.
 */
int whaco_floor_set_status(struct whaco_floor *f, struct whaco_team *t, const char *id, int status,
                           int64_t now_ms, struct whaco_floor_news *news);

/*
 * A walk-in arrives (analyze-customer on a tracked floor), or comes back
 * to the desk: c is the analysed customer (c->id may be "": the walk-in
 * is then named "walk-in-N"), r its segment result. If c->id is a walk-in
 * still in the store, nothing changes (not a new walk-in; arm is ignored).
 * Otherwise a new visit in the A/B test's arm `arm` (0 none, 1 A, 2 B),
 * whose rule is arm_rule (ignored with arm 0): a returning be-back goes to
 * their salesperson of last time if that one is free (and
 * be_back_to_original), else the rule -- the arm's, or cfg.rule -- picks
 * among the free; with nobody free it waits at the desk. *visit receives
 * its index in f->open. WHACO_E_FLOOR_FULL with WHACO_FLOOR_OPEN_MAX in
 * the store; WHACO_E_CONFIG for an arm above 2 or an arm_rule that is no
 * rule. The floor must be tracked (WHACO_E_FLOOR_OFF otherwise).
 */
int whaco_floor_arrive(struct whaco_floor *f, struct whaco_team *t, const struct whaco_customer *c,
                       const struct whaco_segment_result *r, int64_t now_ms, uint8_t arm,
                       uint8_t arm_rule, uint32_t *visit, struct whaco_floor_news *news);

/*
 * An A/B test started or ended: every walk-in in the store leaves its arm
 * (it arrived before: it is not in the new experiment) and is assigned by
 * cfg.rule from now on.
 */
void whaco_floor_clear_arms(struct whaco_floor *f);

/*
 * The walk-in customer_id ended without a sale (outcome NO_SALE, BE_BACK
 * or APPOINTMENT). salesperson_id, if not NULL, must be the one they were
 * with (WHACO_E_WRONG_SALESPERSON). Their salesperson's slot frees (phase
 * 0 if they are with nobody now) and the desk's line moves.
 * WHACO_E_CUSTOMER_NOT_FOUND (never seen), WHACO_E_VISIT_ENDED (left or
 * bought already), WHACO_E_OUTCOME_VALUE, WHACO_E_FLOOR_OFF.
 */
int whaco_floor_customer_left(struct whaco_floor *f, struct whaco_team *t, const char *customer_id,
                              int outcome, const char *salesperson_id, int64_t now_ms,
                              struct whaco_floor_news *news);

/*
 * A deal closed by salesperson_id. On an untracked floor, the seed's rule
 * (whaco_team_deal_closed; customer_id is ignored). On a tracked one: linked to the walk-in
 * customer_id (which must be with salesperson_id: WHACO_E_WRONG_SALESPERSON
 * otherwise; errors as customer_left) or, when customer_id is NULL or "",
 * to salesperson_id's oldest walk-in, if any. The walk-in ends as sold,
 * the deal is counted (dealsToday) and the phase set to 3pi/2; with no
 * walk-in to link, the seed's rule (whaco_team_deal_closed) applies.
 * WHACO_E_NOT_FOUND for an unknown salesperson.
 */
int whaco_floor_deal_closed(struct whaco_floor *f, struct whaco_team *t, const char *salesperson_id,
                            const char *customer_id, int64_t now_ms, struct whaco_floor_news *news);

/*
 * A manager hands the walk-in customer_id (waiting or with someone) to
 * salesperson_id: recorded as an override, not as a turn taken (their up
 * order place is kept), allowed beyond max_customers, never to someone
 * clocked out (WHACO_E_OFF_FLOOR). The previous salesperson's slot frees.
 * Errors as customer_left; WHACO_E_NOT_FOUND for the salesperson.
 */
int whaco_floor_override(struct whaco_floor *f, struct whaco_team *t, const char *customer_id,
                         const char *salesperson_id, int64_t now_ms, struct whaco_floor_news *news);

/*
 * Salesperson id is about to leave the team (removed): their walk-ins go
 * back to the desk as on a clock-out. Call before whaco_team_remove; a
 * no-op on an untracked floor or for an unknown id.
 */
void whaco_floor_member_leaving(struct whaco_floor *f, struct whaco_team *t, const char *id,
                                int64_t now_ms, struct whaco_floor_news *news);

/* The daily reset: walk-ins taken and overrides today go back to 0. */
void whaco_floor_daily_reset(struct whaco_floor *f, struct whaco_team *t);

/* ---- Reading ---- */

/* true if member i can take a walk-in now (tracked floor). */
bool whaco_floor_is_free(const struct whaco_floor *f, const struct whaco_team *t, size_t i);

/* Mark open walk-in `visit` as learned by the segmenter (struct whaco_visit's learned). */
void whaco_floor_mark_learned(struct whaco_floor *f, uint32_t visit);

/* Whether customer_id is a remembered walk-in that ended (left or bought). */
bool whaco_floor_ended(const struct whaco_floor *f, const char *customer_id);

/*
 * The newest remembered end of customer_id whose outcome is `outcome`, or
 * of any outcome when outcome is 0; NULL if none. Points into f.
 */
const struct whaco_visit_end *whaco_floor_last_end(const struct whaco_floor *f,
                                                   const char *customer_id, int outcome);

/* The open walk-in customer_id: its index in f->open, or -1. */
int32_t whaco_floor_find(const struct whaco_floor *f, const char *customer_id);

/* Its place in the desk's line (1 = next), or 0 if it is with a salesperson. */
uint32_t whaco_floor_queue_position(const struct whaco_floor *f, uint32_t visit);

/*
 * The up order: the indices into t->members of the clocked-in members,
 * first up first, into order[] (room for t->n); returns how many.
 */
size_t whaco_floor_up_order(const struct whaco_team *t, uint32_t *order);

/*
 * The share of the cycle in which at least one salesperson who can move
 * (on the floor and available, or anyone on an untracked floor) is ready:
 * the measure of the union of [theta_i - pi/4, theta_i + pi/4] over 2pi,
 * in [0, 1]; 0 with nobody. docs/team.md, "Coverage".
 */
double whaco_floor_coverage(const struct whaco_team *t);

/*
 * Copy what a read of the floor shows (the up board, team-status) from src
 * to dst: the settings, the walk-ins in the store, the counters -- but not
 * the memory of ended walk-ins, whose rings dst gets empty. For read views,
 * built after every change: it copies n_open walk-ins and no ring. dst's
 * open[] beyond n_open and its rings are not written (zero it first if
 * they must be).
 */
void whaco_floor_copy_for_reading(struct whaco_floor *dst, const struct whaco_floor *src);

/* ---- Saved state ---- */

/* Append the floor's section payload to b (errors: b's sticky flag). */
void whaco_floor_encode(const struct whaco_floor *f, struct whaco_buf *b);

/*
 * Decode a payload of whaco_floor_encode into *f, checking every value
 * against the team it belongs to (every salesperson named exists).
 * Errors on r (whaco_reader_fail).
 */
void whaco_floor_decode(struct whaco_floor *f, const struct whaco_team *t, struct whaco_reader *r);

#endif /* WHACO_FLOOR_H */

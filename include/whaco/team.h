/*
 * whaco/team.h: the sales team as a network of coupled oscillators.
 *
 * Each salesperson is an oscillator whose phase theta (rad, [0, 2pi)) is
 * their place in the sales cycle: 0 ready for a new customer, pi/2
 * negotiating, pi closing, 3pi/2 paperwork. Phases advance by a Kuramoto
 * model with skill-weighted coupling and a workload term, integrated with
 * fixed-step RK4 in O(N) per step; coherence is its order parameter r.
 * The model, its units (time in, hours; the model's unit, 10 minutes, so
 * omega and K are per 10 minutes), the status report's rules, lead
 * assignment and the serialised layout are in docs/team.md.
 *
 * Invariants:
 *   - No I/O, no clock, no environment: elapsed time is an argument.
 *   - Deterministic: the same calls give bit-identical state (no fast-math,
 *     fixed summation order), so a replayed log rebuilds the state exactly.
 *   - A struct whaco_team is owned by the caller; its heap arrays (members
 *     and integration scratch) grow, through whaco/alloc.h, only when a
 *     member is added or a state decoded, and running out of memory then is
 *     WHACO_E_NOMEM with the team unchanged. Advancing, assigning, recording
 *     deals, coherence and (once its arrays are big enough) the status
 *     report never allocate.
 *   - Functions taking a const team only read it and may run concurrently
 *     with each other; every other call needs the caller to serialise.
 */
#ifndef WHACO_TEAM_H
#define WHACO_TEAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "whaco/serial.h"

#define WHACO_TEAM_ID_MAX           64          /* bytes of a salesperson id, NUL included */
#define WHACO_TEAM_NAME_MAX         128         /* bytes of a name, NUL included */
#define WHACO_TEAM_MAX              10000       /* members in one network */
#define WHACO_TEAM_OMEGA_MAX        100.0       /* rad per 10 minutes: nonsense beyond */
#define WHACO_TEAM_LEADS_MAX        32          /* open leads whose start is tracked, per member */
#define WHACO_TEAM_ACTIVE_DEALS_MAX 1000000u    /* activeDeals a new member may carry in */
#define WHACO_TEAM_TIME_UNIT_HOURS  (1.0 / 6.0) /* hours in one unit of model time */
#define WHACO_TEAM_ADVANCE_MAX      24.0        /* hours one whaco_team_advance may cover */
#define WHACO_TEAM_HISTORY          2016        /* coherence samples: 7 days at 5 minutes */
#define WHACO_TEAM_HISTORY_STEP     300000      /* ms between samples the ring is sized for */

/* Coherence bands of the team-status "status" field. */
enum whaco_team_band {
    WHACO_BAND_EXCELLENT = 0,       /* r > 0.8  "excellent"        */
    WHACO_BAND_GOOD = 1,            /* r >= 0.6 "good"             */
    WHACO_BAND_NEEDS_ATTENTION = 2, /* r >= 0.4 "needs_attention"  */
    WHACO_BAND_CRITICAL = 3,        /* r < 0.4  "critical"         */
};

/* Bottleneck issues, most important first (a member reports only one). */
enum whaco_team_issue {
    WHACO_ISSUE_NONE = 0,
    WHACO_ISSUE_OVERLOADED = 1, /* "Overloaded - too many active deals" */
    WHACO_ISSUE_BEHIND = 2,     /* "Significantly behind team rhythm"   */
    WHACO_ISSUE_SLOW_DAY = 3,   /* "Slow day - no deals closed yet"     */
};

/* Member states of the team-status "teamMembers[].status" field. */
enum whaco_member_state {
    WHACO_MEMBER_OVERLOADED = 0,  /* "overloaded"  */
    WHACO_MEMBER_BEHIND = 1,      /* "behind"      */
    WHACO_MEMBER_SLOW_DAY = 2,    /* "slow_day"    */
    WHACO_MEMBER_CRUSHING_IT = 3, /* "crushing_it" */
    WHACO_MEMBER_READY = 4,       /* "ready"       */
    WHACO_MEMBER_ON_TRACK = 5,    /* "on_track"    */
};

/*
 * Tunables; the field comments give the API name, unit, valid range and
 * default. Validated by whaco_team_config_check().
 */
struct whaco_team_config {
    double coupling;         /* "coupling" K, per 10 minutes, [0, 100]; 0.3 */
    double dt_max;           /* "dtMax" RK4 step bound, h, [1e-4, 1]; 1/60 */
    bool workload;           /* "workload" apply f(a); true */
    double workload_gain;    /* "workloadGain" beta, [0, 10]; 0.25 */
    double nominal_deals;    /* "nominalDeals" n0, deals, [0.1, 1000]; 3 */
    uint32_t overload_deals; /* "overloadDeals" active deals that overload, [1, 1e6]; 6 */
    double slow_day_hours;   /* "slowDayHours" day length before "Slow day", [0, 24]; 4 */
    double behind_phase;     /* "behindPhase" lag behind psi that is "behind", rad, (0, pi]; pi/4 */
    double behind_pace;      /* "behindPace" pace ratio below which "behind", [0, 1]; 0.5 */
    double ready_level;      /* "readyLevel" (1+cos theta)/2 that is "ready", [0, 1]; 0.85 */
    uint32_t crushing_deals; /* "crushingDeals" deals today that is "crushing_it", [1, 1e6]; 2 */
    double mentor_gap;       /* "mentorGap" minimum skill gap of a mentor, (0, 1]; 0.2 */
    uint32_t mentoring_max;  /* "mentoringMax" pairs reported, [0, WHACO_TEAM_MAX]; 5 */
    double lead_hours;       /* "leadHours" an open lead ends after this, h, [0.1, 168]; 4 */
    double assign_phase;     /* "assignPhase" weight of readiness in the score, [0, 1]; 0.4 */
    double assign_load;      /* "assignLoad" weight of free capacity, [0, 1]; 0.3 */
    double assign_skill;     /* "assignSkill" weight of skill match, [0, 1]; 0.3 */
};

/* One salesperson. Read-only for callers: change members through the API. */
/*
 * Where a salesperson is on the floor. The floor (whaco/floor.h) keeps it;
 * the team only stores and saves it with the member.
 */
enum whaco_seat_status {
    WHACO_SEAT_OFF = 0,         /* "off": clocked out (and everyone on an untracked floor) */
    WHACO_SEAT_AVAILABLE = 1,   /* "available" */
    WHACO_SEAT_BREAK = 2,       /* "break" */
    WHACO_SEAT_DELIVERY = 3,    /* "delivery" */
    WHACO_SEAT_APPOINTMENT = 4, /* "appointment" */
};

struct whaco_seat {
    uint8_t status;           /* enum whaco_seat_status */
    uint64_t up;              /* place in the up order, smaller is earlier; 0 when off */
    int64_t since_ms;         /* when status last changed; 0 never */
    uint32_t walkins_today;   /* walk-ins given by the rule since the daily reset (turns: not
                                 a be-back returning to them, not an override) */
    uint32_t overrides_today; /* walk-ins given by a manager's override since then */
};

struct whaco_member {
    char id[WHACO_TEAM_ID_MAX];     /* 1..63 printable ASCII bytes, unique */
    char name[WHACO_TEAM_NAME_MAX]; /* 1..127 bytes, no control characters */
    double skill;                   /* skillLevel, [0, 1] */
    double omega;                   /* naturalFrequency, rad/unit, [0, OMEGA_MAX] */
    double phase;                   /* rad, [0, 2pi) */
    double readiness;               /* (1 + cos phase) / 2, kept with the phase; 1 = ready */
    uint32_t active_deals; /* activeDeals: open leads (assigned, not closed, not expired) */
    uint32_t n_timed;      /* private: open leads with a recorded start */
    double lead_start[WHACO_TEAM_LEADS_MAX]; /* private: their starts (total_hours), oldest first */
    uint32_t deals_today;                    /* dealsToday, since the last daily reset */
    uint32_t leads_today;                    /* leads assigned since the last daily reset */
    uint64_t deals_total;                    /* deals closed since the member was added */
    uint64_t leads_total;                    /* leads assigned since the member was added */
    bool held;                /* phase held: neither moves nor pulls the others (the floor's) */
    struct whaco_seat seat;   /* the floor's record (whaco/floor.h) */
    uint32_t seg_outcomes[5]; /* walk-ins with an outcome, by the walk-in's segment */
    uint32_t seg_sold[5];     /* ... of which they sold */
};

/* What whaco_team_add() needs to create a member. Strings are borrowed. */
struct whaco_member_spec {
    const char *id;           /* "id", 1..63 printable ASCII bytes */
    const char *name;         /* "name", 1..127 bytes, no control characters */
    double skill_level;       /* "skillLevel", [0, 1] */
    double natural_frequency; /* "naturalFrequency", rad/unit, [0, WHACO_TEAM_OMEGA_MAX] */
    double phase;             /* "phase", any finite rad, wrapped to [0, 2pi); 0 = ready */
    uint32_t active_deals;    /* "activeDeals" carried in, [0, WHACO_TEAM_ACTIVE_DEALS_MAX] */
};

/* One coherence sample of the history ring. */
struct whaco_coherence_sample {
    int64_t timestamp_ms; /* Unix ms, as given to whaco_team_record */
    double r;             /* order parameter at that time, [0, 1] */
};

/*
 * The network. Fields marked read-only may be read directly (e.g. to show
 * members[i].id); private fields belong to team.c.
 */
struct whaco_team {
    struct whaco_team_config cfg;        /* read-only: validated configuration */
    struct whaco_member *members;        /* read-only: [n], insertion order */
    size_t n;                            /* read-only: number of members */
    double day_hours;                    /* read-only: hours advanced since the daily reset */
    double total_hours;                  /* read-only: hours advanced since init */
    uint32_t hist_head;                  /* private: next ring slot */
    uint32_t hist_count;                 /* private: valid samples, <= WHACO_TEAM_HISTORY */
    struct whaco_coherence_sample *hist; /* private: ring of WHACO_TEAM_HISTORY */
    size_t cap;                          /* private: members allocated */
    uint32_t *order;                     /* private: member indices sorted by skill */
    double *scratch;                     /* private: RK4 work space, 8 * cap doubles */
};

/* One member in the status report; index i describes members[i]. */
struct whaco_member_status {
    int state;               /* enum whaco_member_state */
    int issue;               /* enum whaco_team_issue, WHACO_ISSUE_NONE if fine */
    double phase_difference; /* |wrap(theta_i - psi)|, rad, [0, pi] */
    double phase_offset;     /* wrap(theta_i - psi), rad, [-pi, pi); < 0 is behind */
    double readiness;        /* (1 + cos theta_i) / 2, [0, 1]; 1 = ready */
    double pace;             /* omega_i f(a_i), rad/unit: the member's own speed */
};

/* A bottleneck: the member at members[member] and its most important issue. */
struct whaco_bottleneck {
    uint32_t member;         /* index into team->members (salespersonId, name) */
    int issue;               /* enum whaco_team_issue, never NONE */
    double phase_difference; /* phaseDifference, rad, [0, pi] */
    uint32_t active_deals;   /* activeDeals */
};

/* A mentoring opportunity: members[mentor] can help members[mentee]. */
struct whaco_mentoring {
    uint32_t mentor;   /* index into team->members (mentorId, mentorName) */
    uint32_t mentee;   /* index into team->members (menteeId, menteeName) */
    double skill_gap;  /* skillGap = s_mentor - s_mentee, >= cfg.mentor_gap */
    double phase_lead; /* phaseLead = wrap(theta_mentor - theta_mentee), (0, pi) */
};

/*
 * The team-status report. Caller-owned: whaco_team_status_init() it, let
 * whaco_team_status_compute() fill it (any number of times; its arrays grow
 * to the team's size on the heap when needed, and are reused otherwise),
 * then whaco_team_status_release() it.
 */
struct whaco_team_status {
    double r;                             /* coherence, [0, 1] */
    double psi;                           /* mean phase, rad, [0, 2pi) */
    int band;                             /* enum whaco_team_band */
    double day_hours;                     /* hours into the business day */
    size_t n_members;                     /* = team->n (totalSalespeople) */
    struct whaco_member_status *members;  /* [n_members], owned */
    size_t n_bottlenecks;                 /* <= n_members */
    struct whaco_bottleneck *bottlenecks; /* [n_bottlenecks], member order, owned */
    size_t n_mentoring;                   /* <= cfg.mentoring_max */
    struct whaco_mentoring *mentoring;    /* [n_mentoring], best first, owned */
    size_t cap;                           /* private: entries allocated per array */
};

/* ===== Configuration ===== */

/* Fill cfg with the defaults documented on each field. */
void whaco_team_config_default(struct whaco_team_config *cfg);

/*
 * Check a configuration. Returns WHACO_OK, or WHACO_E_NOT_FINITE (a NaN or
 * infinite number) or WHACO_E_CONFIG (out of range), with *field (if field
 * is not NULL) naming the first bad member in declaration order
 * ("coupling", "dtMax", ...; static storage). Thread-safe.
 */
int whaco_team_config_check(const struct whaco_team_config *cfg, const char **field);

/* ===== Lifecycle ===== */

/*
 * Initialise an empty team. cfg may be NULL for the defaults; it is copied.
 * Returns WHACO_OK, or an error of whaco_team_config_check() or
 * WHACO_E_NOMEM, with *t untouched (and needing no release). Allocates the
 * coherence ring (WHACO_TEAM_HISTORY samples); release with
 * whaco_team_release().
 */
int whaco_team_init(struct whaco_team *t, const struct whaco_team_config *cfg, const char **field);

/* Free everything *t owns and leave it zeroed. Safe on a zeroed team. */
void whaco_team_release(struct whaco_team *t);

/*
 * Make *dst an independent copy of *src (e.g. the read-only copy the engine
 * publishes for readers). dst must be initialised (or zeroed); its previous
 * contents are released. Allocates: WHACO_OK, or WHACO_E_NOMEM with *dst
 * untouched. Reads *src only.
 */
int whaco_team_copy(struct whaco_team *dst, const struct whaco_team *src);

/* ===== Members ===== */

/*
 * Check a member spec without adding it. Returns WHACO_OK or the first
 * error, with *field (if not NULL) the API name of the bad field:
 *   WHACO_E_ID_LENGTH        "id" NULL, empty, longer than 63 bytes, or
 *                            holding a byte outside printable ASCII 0x21..0x7e
 *   WHACO_E_NAME_LENGTH      "name" NULL, empty, longer than 127 bytes, or
 *                            holding a control character (< 0x20 or 0x7f)
 *   WHACO_E_NOT_FINITE       "skillLevel", "naturalFrequency" or "phase" NaN/inf
 *   WHACO_E_SKILL_RANGE      "skillLevel" outside [0, 1]
 *   WHACO_E_FREQUENCY_RANGE  "naturalFrequency" outside [0, WHACO_TEAM_OMEGA_MAX]
 *   WHACO_E_INVAL            "activeDeals" above WHACO_TEAM_ACTIVE_DEALS_MAX
 * Nothing is clamped. The one home of these rules: requests, the event log,
 * state files and the simulator all pass through it. Thread-safe.
 */
int whaco_member_spec_check(const struct whaco_member_spec *spec, const char **field);

/*
 * true if id is a valid salesperson id: 1..63 bytes of printable ASCII
 * without spaces (0x21..0x7e), NUL-terminated. NULL is not. Thread-safe.
 */
bool whaco_member_id_valid(const char *id);

/*
 * Where phase theta (rad, any finite value; NaN/inf count as 0) is in the
 * sales cycle: the quarter cycle centred on each of the seed's marks --
 * "ready" (0), "negotiating" (pi/2), "closing" (pi), "paperwork" (3pi/2).
 * Static storage. Thread-safe.
 */
const char *whaco_phase_label(double theta);

/*
 * Add a member at the end of the insertion order. Returns WHACO_OK, a
 * whaco_member_spec_check() error, WHACO_E_DUPLICATE ("id") if the id is
 * taken, WHACO_E_TEAM_FULL if the team has WHACO_TEAM_MAX members, or
 * WHACO_E_NOMEM; on error *t is unchanged. May allocate (amortised
 * doubling; never after whaco_team_reserve(t, t->n + 1) succeeded);
 * strings are copied. O(N).
 */
int whaco_team_add(struct whaco_team *t, const struct whaco_member_spec *spec, const char **field);

/*
 * Make room for n members, so that adding up to n never allocates (a caller
 * that must not fail after a point reserves before it). Returns WHACO_OK,
 * WHACO_E_TEAM_FULL if n > WHACO_TEAM_MAX, or WHACO_E_NOMEM; the members
 * are unchanged either way. Never shrinks.
 */
int whaco_team_reserve(struct whaco_team *t, size_t n);

/*
 * Remove the member with this id; the others keep their relative order (so
 * indices after it shift down by one). Returns WHACO_OK or
 * WHACO_E_NOT_FOUND. Never allocates. O(N).
 */
int whaco_team_remove(struct whaco_team *t, const char *id);

/*
 * Find a member by id: WHACO_OK with *index set, or WHACO_E_NOT_FOUND with
 * *index untouched. id may be NULL (not found). O(N). Reads *t only.
 */
int whaco_team_find(const struct whaco_team *t, const char *id, size_t *index);

/* ===== Dynamics ===== */

/*
 * Advance every phase by `hours` of elapsed business time (the 5-minute
 * tick passes 5/60), with n = ceil(hours / cfg.dt_max) equal RK4 steps, and
 * add hours to day_hours and total_hours. Returns WHACO_OK,
 * WHACO_E_NOT_FINITE if hours is NaN or infinite, WHACO_E_TIME_BACKWARDS if
 * it is negative, or WHACO_E_CONFIG if it exceeds WHACO_TEAM_ADVANCE_MAX
 * (split longer gaps into several calls); on error *t is unchanged. An
 * empty team only counts the hours. Never allocates. O(N) per step.
 */
int whaco_team_advance(struct whaco_team *t, double hours);

/*
 * The order parameter: *r = |1/N sum e^{i theta_j}| in [0, 1] and *psi its
 * argument in [0, 2pi) (0 when r is 0). Returns WHACO_OK, or
 * WHACO_E_EMPTY_TEAM with *r and *psi untouched. Reads *t only. O(N).
 */
int whaco_team_coherence(const struct whaco_team *t, double *r, double *psi);

/* The band of a coherence value (enum whaco_team_band); NaN is critical. */
int whaco_team_band(double r);

/* "excellent", "good", "needs_attention" or "critical"; NULL if unknown. */
const char *whaco_team_band_name(int band);

/* ===== Events ===== */

/*
 * The deal-closed event: the member's phase advances by pi/2 (wrapped to
 * [0, 2pi)), activeDeals decreases by one (not below 0), dealsToday and the
 * member's total deals increase by one (saturating). Returns WHACO_OK or
 * WHACO_E_NOT_FOUND (*t unchanged). Never allocates.
 */
int whaco_team_deal_closed(struct whaco_team *t, const char *id);

/*
 * Assign a new lead of priority lead_priority (0 low .. 1 high, e.g. the
 * customer segment's priority) to the best-fit member and count it against
 * them (activeDeals, leadsToday and total leads + 1). The score of member i
 * is
 *     assign_phase (1 + cos theta_i)/2
 *   + assign_load  (1 - min(a_i / overload_deals, 1))
 *   + assign_skill (1 - |s_i - lead_priority|)
 * over the members below the overload threshold (all members if everyone
 * is overloaded); the highest score wins, ties going to the lowest index.
 * Returns WHACO_OK with *index (if not NULL) set to the chosen member,
 * WHACO_E_EMPTY_TEAM, or for a bad priority WHACO_E_NOT_FINITE or
 * WHACO_E_INVAL with *field = "leadPriority"; on error nothing changes.
 * Never allocates. O(N).
 */
int whaco_team_assign(struct whaco_team *t, double lead_priority, size_t *index,
                      const char **field);

/*
 * Preview whaco_team_assign() without counting the lead: same result and
 * errors, *t only read.
 */
int whaco_team_pick(const struct whaco_team *t, double lead_priority, size_t *index,
                    const char **field);

/*
 * The assignment score of members[i] for a lead of priority lead_priority
 * (the sum in whaco_team_assign's contract). i < t->n and lead_priority in
 * [0, 1] are the caller's to ensure. Pure.
 */
double whaco_team_score(const struct whaco_team *t, size_t i, double lead_priority);

/*
 * ---- For the floor (whaco/floor.h), which knows who is with whom. i <
 * t->n is the caller's to ensure. ----
 */

/* Set members[i]'s phase (any finite rad, wrapped) and its readiness. */
void whaco_team_set_phase(struct whaco_team *t, size_t i, double phase);

/*
 * Count a walk-in members[i] is now with: activeDeals + 1 (without the
 * leadHours expiry: the floor ends it), leadsToday and the total + 1.
 */
void whaco_team_take_customer(struct whaco_team *t, size_t i);

/* A walk-in members[i] was with is gone: activeDeals - 1 (not below 0). */
void whaco_team_drop_customer(struct whaco_team *t, size_t i);

/* Count a sale for members[i] (dealsToday and the total + 1), nothing else. */
void whaco_team_count_deal(struct whaco_team *t, size_t i);

/*
 * Count an outcome of a walk-in of segment k (0..4) that members[i] had: a
 * sale or not. Out-of-range k counts nothing.
 */
void whaco_team_count_outcome(struct whaco_team *t, size_t i, int k, bool sold);

/* Forget every open lead (activeDeals 0): the floor starts counting walk-ins. */
void whaco_team_forget_leads(struct whaco_team *t);

/* Forget members[i]'s open leads (a member carrying leads onto a tracked floor). */
void whaco_team_forget_leads_of(struct whaco_team *t, size_t i);

/*
 * Count a lead against members[i] exactly as whaco_team_assign counts its
 * choice, for a caller that chose the member itself (e.g. among the
 * salespeople free right now). WHACO_OK, or WHACO_E_NOT_FOUND if i >= n.
 */
int whaco_team_assign_to(struct whaco_team *t, size_t i);

/*
 * The daily reset (at midnight): dealsToday and leadsToday of every member
 * and day_hours go to 0. Phases, active deals, totals and the coherence
 * history are kept. Never fails, never allocates.
 */
void whaco_team_daily_reset(struct whaco_team *t);

/* ===== Coherence history ===== */

/*
 * Record the current coherence with timestamp now_ms in the history ring
 * (the oldest sample is dropped once WHACO_TEAM_HISTORY are held: 7 days of
 * 5-minute samples). Returns WHACO_OK, WHACO_E_TIME_BACKWARDS if now_ms is
 * earlier than the newest sample, or WHACO_E_EMPTY_TEAM (nothing recorded).
 * Never allocates.
 */
int whaco_team_record(struct whaco_team *t, int64_t now_ms);

/* Number of samples held, 0..WHACO_TEAM_HISTORY. */
size_t whaco_team_history_len(const struct whaco_team *t);

/*
 * Copy the samples with timestamp_ms >= since_ms into out[0..cap), oldest
 * first; if more than cap qualify, the newest cap of them. Returns the
 * number copied. out may be NULL when cap is 0. Reads *t only.
 */
size_t whaco_team_history_since(const struct whaco_team *t, int64_t since_ms,
                                struct whaco_coherence_sample *out, size_t cap);

/* ===== Status report ===== */

/* Initialise an empty report (no allocation). */
void whaco_team_status_init(struct whaco_team_status *st);

/* Free the report's arrays and leave it as after init. */
void whaco_team_status_release(struct whaco_team_status *st);

/*
 * Fill *st with the team's status: coherence, band, per-member status,
 * bottlenecks (one per member with an issue, in member order) and the best
 * mentoring pairs (docs/team.md gives every rule). Returns WHACO_OK, or
 * WHACO_E_EMPTY_TEAM or WHACO_E_NOMEM with *st's contents untouched.
 * Allocates only to grow st's arrays to t->n entries. Reads *t only. O(N) typically: the mentor
 * search stops at the first more-skilled member ahead in phase, so it only approaches O(N^2) when
 * most skilled members are behind everyone else.
 */
int whaco_team_status_compute(struct whaco_team_status *st, const struct whaco_team *t);

/* The seed's issue text of an enum whaco_team_issue; "" for NONE, NULL if unknown. */
const char *whaco_team_issue_text(int issue);

/* "overloaded", "behind", "slow_day", "crushing_it", "ready", "on_track"; NULL if unknown. */
const char *whaco_member_state_name(int state);

/*
 * Write the pair's recommendation, "<Mentor> can help <Mentee> move deals
 * faster", into buf[cap] like snprintf: at most cap bytes, NUL-terminated
 * when cap > 0; returns the length the full text needs. m must come from a
 * status report of this team, unchanged since.
 */
size_t whaco_team_recommendation(const struct whaco_team *t, const struct whaco_mentoring *m,
                                 char *buf, size_t cap);

/* ===== Serialisation ===== */

/*
 * Append the team as a WHACO_TAG_TEAM section payload (docs/team.md,
 * "Serialised layout") to b: the configuration, the members in insertion
 * order, the hour counters and the coherence ring oldest first. Equal
 * states give identical bytes. Allocates (grows b; out of memory sets
 * b->failed, see whaco/serial.h).
 */
void whaco_team_encode(const struct whaco_team *t, struct whaco_buf *b);

/*
 * Decode a payload written by whaco_team_encode into *t, which must be
 * initialised (or zeroed). Every value is checked: finite numbers in range,
 * valid and unique ids, valid names, counts consistent, history timestamps
 * non-decreasing. Returns WHACO_OK (the old contents of
 * *t released and replaced), WHACO_E_STATE_CORRUPT with *t untouched and
 * r marked failed, or WHACO_E_NOMEM with *t untouched. Allocates.
 */
int whaco_team_decode(struct whaco_team *t, struct whaco_reader *r);

/* ===== Starting phases ===== */

/*
 * The starting phase of member i (from 0) of a team that has not
 * synchronised yet: i golden angles, wrapped to [0, 2pi). The golden angle
 * divides the turn in the golden ratio: 2pi (1 - 1/phi) = pi (3 - sqrt 5)
 * ~ 2.3999632 rad, 137.5 degrees. Its ratio to the turn is the irrational
 * number worst approximated by fractions, so its multiples never line up:
 * the first n phases cut the circle into gaps of at most three lengths
 * (the three-distance theorem), within a factor phi^2 ~ 2.6 of each other,
 * for every n -- the sunflower's seed pattern (Vogel, 1979). Any prefix of
 * the team is thus spread nearly evenly and starts with a low coherence r,
 * whatever its size. The simulator's default teams and team files use it.
 * Pure, deterministic (the same bits on every IEEE 754 platform) and
 * thread-safe.
 */
double whaco_team_spread_phase(size_t i);

#endif /* WHACO_TEAM_H */

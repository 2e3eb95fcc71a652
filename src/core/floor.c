/*
 * floor.c: the sales floor of whaco/floor.h -- seats, walk-ins, the desk's
 * line and the assignment rules.
 *
 * Invariants (checked again by whaco_floor_decode):
 *   - f->open[0..n_open) are the walk-ins in the store, in arrival order
 *     (a walk-in a clock-out sends back to the desk keeps its place). The
 *     waiting ones (salesperson_id "") form the desk's line in that order;
 *     customer ids are unique among them.
 *   - On a tracked floor a member's activeDeals is the number of open
 *     walk-ins with them; a member is held (whaco_member.held) exactly when
 *     the floor is tracked and they are not available (off the floor, on a
 *     break, a delivery or an appointment).
 *   - Clocked-in members have distinct up numbers below f->next_up;
 *     clocked-out members have 0.
 *   - After every event, either nobody waits or nobody is free: the line
 *     moves the moment a slot frees (dispatch).
 *   - A walk-in in an A/B test's arm (arm 1 or 2, whaco/experiment.h) is
 *     given out by its arm_rule, every other one by cfg.rule: with no
 *     experiment the floor decides exactly as it did before arms existed.
 * Every event checks everything it can refuse before it changes anything,
 * so an error leaves the floor and the team as they were.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "whaco/err.h"
#include "whaco/floor.h"
#include "core/internal.h"
#include "banned.h"

#define PHASE_READY       0.0
#define PHASE_NEGOTIATING (WHACO_PI / 2.0)
#define PHASE_PAPERWORK   (3.0 * WHACO_PI / 2.0)
#define READY_HALF_WIDTH  (WHACO_PI / 4.0) /* the ready quarter: theta within pi/4 of 0 */

/*==== Names ===============================================================*/

static const char *const tracking_names[] = {"auto", "on", "off"};
static const char *const rule_names[] = {"network", "up-rotation", "round-robin", "least-busy"};
static const char *const outcome_names[] = {NULL, "sold", "no_sale", "be_back", "appointment"};
static const char *const status_names[] = {"off", "available", "break", "delivery", "appointment"};

static const char *name_of(const char *const *names, size_t n, int v)
{
    return v >= 0 && (size_t)v < n && names[v] ? names[v] : NULL;
}

static int parse_name(const char *const *names, size_t n, const char *name)
{
    for (size_t i = 0; name && i < n; i++)
        if (names[i] && strcmp(names[i], name) == 0)
            return (int)i;
    return -1;
}

const char *whaco_floor_tracking_name(int v)
{
    return name_of(tracking_names, WHACO_ARRAY_LEN(tracking_names), v);
}

int whaco_floor_tracking_parse(const char *name)
{
    return parse_name(tracking_names, WHACO_ARRAY_LEN(tracking_names), name);
}

const char *whaco_floor_rule_name(int v)
{
    return name_of(rule_names, WHACO_ARRAY_LEN(rule_names), v);
}

int whaco_floor_rule_parse(const char *name)
{
    return parse_name(rule_names, WHACO_ARRAY_LEN(rule_names), name);
}

const char *whaco_outcome_name(int v)
{
    return name_of(outcome_names, WHACO_ARRAY_LEN(outcome_names), v);
}

int whaco_outcome_parse(const char *name)
{
    return parse_name(outcome_names, WHACO_ARRAY_LEN(outcome_names), name);
}

const char *whaco_seat_status_name(int v)
{
    return name_of(status_names, WHACO_ARRAY_LEN(status_names), v);
}

int whaco_seat_status_parse(const char *name)
{
    return parse_name(status_names, WHACO_ARRAY_LEN(status_names), name);
}

/*==== Configuration =======================================================*/

void whaco_floor_config_default(struct whaco_floor_config *cfg)
{
    cfg->tracking = WHACO_TRACKING_AUTO;
    cfg->rule = WHACO_RULE_NETWORK;
    cfg->max_customers = 2;
    cfg->be_back_to_original = true;
}

int whaco_floor_config_check(const struct whaco_floor_config *cfg, const char **field)
{
    const char *f = NULL;
    int rc = WHACO_OK;
    WHACO_CHECK(whaco_floor_tracking_name((int)cfg->tracking), "floorTracking", WHACO_E_CONFIG);
    WHACO_CHECK(whaco_floor_rule_name((int)cfg->rule), "assignment", WHACO_E_CONFIG);
    WHACO_CHECK(cfg->max_customers >= 1 && cfg->max_customers <= WHACO_FLOOR_CUSTOMERS_MAX,
                "maxCustomers", WHACO_E_CONFIG);
    if (rc != WHACO_OK && field)
        *field = f;
    return rc;
}

void whaco_floor_init(struct whaco_floor *f, const struct whaco_floor_config *cfg)
{
    struct whaco_floor_config keep = *cfg; /* cfg may be f's own */
    memset(f, 0, sizeof *f);
    f->cfg = keep;
    f->tracked = keep.tracking == WHACO_TRACKING_ON;
    f->next_up = 1;
}

/*==== Small helpers =======================================================*/

static void copy_id(char *dst, size_t cap, const char *src)
{
    const char *end = memchr(src, '\0', cap - 1);
    size_t n = end ? (size_t)(end - src) : cap - 1;
    memcpy(dst, src, n);
    memset(dst + n, 0, cap - n); /* no stale bytes: states compare byte for byte */
}

static bool waiting(const struct whaco_visit *v)
{
    return v->salesperson_id[0] == '\0';
}

/* Hold or release member i's phase from the seat it has now. */
static void sync_held(const struct whaco_floor *f, struct whaco_team *t, size_t i)
{
    t->members[i].held = f->tracked && t->members[i].seat.status != WHACO_SEAT_AVAILABLE;
}

/* Send member i to the back of the up order. */
static void to_back(struct whaco_floor *f, struct whaco_team *t, size_t i)
{
    t->members[i].seat.up = f->next_up++;
}

static void news_add(struct whaco_floor_news *news, const struct whaco_visit *v, int64_t now_ms)
{
    if (!news)
        return;
    if (news->n == WHACO_FLOOR_NEWS_MAX) {
        news->truncated = true;
        return;
    }
    struct whaco_assignment *a = &news->a[news->n++];
    memset(a, 0, sizeof *a);
    copy_id(a->customer_id, sizeof a->customer_id, v->customer_id);
    copy_id(a->salesperson_id, sizeof a->salesperson_id, v->salesperson_id);
    a->waited_ms = now_ms - v->arrived_ms;
    a->override = v->override;
}

/* Index of the member a visit is with; SIZE_MAX if waiting (or unknown). */
static size_t member_of(const struct whaco_team *t, const struct whaco_visit *v)
{
    size_t i;
    if (waiting(v) || whaco_team_find(t, v->salesperson_id, &i) != WHACO_OK)
        return SIZE_MAX;
    return i;
}

/* Member i's oldest open walk-in (the earliest arrival; of equal ones the first), or -1. */
static int32_t first_visit_of(const struct whaco_floor *f, const struct whaco_team *t, size_t i)
{
    int32_t oldest = -1;
    for (uint32_t k = 0; k < f->n_open; k++)
        if (!waiting(&f->open[k]) && strcmp(f->open[k].salesperson_id, t->members[i].id) == 0 &&
            (oldest < 0 || f->open[k].arrived_ms < f->open[oldest].arrived_ms))
            oldest = (int32_t)k;
    return oldest;
}

const struct whaco_visit_end *whaco_floor_last_end(const struct whaco_floor *f,
                                                   const char *customer_id, int outcome)
{
    if (!customer_id)
        return NULL;
    for (uint32_t k = 0; k < f->recent_count; k++) {
        uint32_t at = (f->recent_head + WHACO_FLOOR_RECENT - 1 - k) % WHACO_FLOOR_RECENT;
        const struct whaco_visit_end *e = &f->recent[at];
        if (strcmp(e->customer_id, customer_id) == 0 && (outcome == 0 || e->outcome == outcome))
            return e;
    }
    return NULL;
}

bool whaco_floor_ended(const struct whaco_floor *f, const char *customer_id)
{
    return whaco_floor_last_end(f, customer_id, 0) != NULL;
}

/*
 * The salesperson customer_id is a be-back of -- who had them when their
 * latest visit ended as be_back -- or NULL: never a be-back, nobody had
 * them, or a later visit ended otherwise (the recent ring says how their
 * latest visit ended; the be-back ring, which keeps only be-backs, answers
 * once it forgot).
 */
static const char *be_back_of(const struct whaco_floor *f, const char *customer_id)
{
    for (uint32_t k = 0; k < f->recent_count; k++) {
        uint32_t at = (f->recent_head + WHACO_FLOOR_RECENT - 1 - k) % WHACO_FLOOR_RECENT;
        const struct whaco_visit_end *e = &f->recent[at];
        if (strcmp(e->customer_id, customer_id) == 0)
            return e->outcome == WHACO_OUTCOME_BE_BACK && e->salesperson_id[0] ? e->salesperson_id
                                                                               : NULL;
    }
    for (uint32_t k = 0; k < f->be_back_count; k++) {
        uint32_t at = (f->be_back_head + WHACO_FLOOR_BE_BACKS - 1 - k) % WHACO_FLOOR_BE_BACKS;
        if (strcmp(f->be_backs[at].customer_id, customer_id) == 0)
            return f->be_backs[at].salesperson_id[0] ? f->be_backs[at].salesperson_id : NULL;
    }
    return NULL;
}

/* How open walk-in v ended, as the rings and the news keep it. */
static void visit_end(struct whaco_visit_end *e, const struct whaco_visit *v, int outcome,
                      int64_t now_ms)
{
    memset(e, 0, sizeof *e);
    copy_id(e->customer_id, sizeof e->customer_id, v->customer_id);
    copy_id(e->salesperson_id, sizeof e->salesperson_id, v->salesperson_id);
    e->ended_ms = now_ms;
    e->outcome = (uint8_t)outcome;
    e->profile = v->profile;
}

static void remember(struct whaco_visit_end *ring, uint32_t cap, uint32_t *head, uint32_t *count,
                     const struct whaco_visit *v, int outcome, int64_t now_ms)
{
    visit_end(&ring[*head], v, outcome, now_ms);
    *head = (*head + 1) % cap;
    if (*count < cap)
        (*count)++;
}

/*==== Choosing among the free =============================================*/

bool whaco_floor_is_free(const struct whaco_floor *f, const struct whaco_team *t, size_t i)
{
    const struct whaco_member *m = &t->members[i];
    return f->tracked && m->seat.status == WHACO_SEAT_AVAILABLE &&
           m->active_deals < f->cfg.max_customers;
}

/* Whether member a comes before member b in the up order (the tie-break). */
static bool earlier(const struct whaco_team *t, size_t a, size_t b)
{
    return t->members[a].seat.up < t->members[b].seat.up;
}

/*
 * The network rule's weight of the up order, beside the seed's score
 * (whaco_team_score: readiness, free capacity, skill match, weights 0.4,
 * 0.3, 0.3). Without it the best-matched salesperson takes most walk-ins
 * when many are free, and leads are shared unevenly (Gini of leads +0.13
 * against up-rotation at 2 walk-ins an hour). Chosen by measurement
 * (docs/simulation.md, "The network on the floor", 2026-12-08: `whaco
 * simulate --sweep --replications 100` at 0, 0.15, 0.3, 0.5, 0.8): 0.3 keeps
 * the Gini within +0.05 of up-rotation's in every setting while keeping
 * most of the deals skill matching brings.
 */
#define TURN_WEIGHT 0.3

/*
 * Member i's turn among the free: 1 for the first free in the up order,
 * falling evenly to 0 for the last (1 when alone).
 */
static double turn(const struct whaco_floor *f, const struct whaco_team *t, size_t i)
{
    size_t ahead = 0, nfree = 0;
    for (size_t j = 0; j < t->n; j++) {
        if (!whaco_floor_is_free(f, t, j))
            continue;
        nfree++;
        ahead += earlier(t, j, i);
    }
    return nfree > 1 ? 1.0 - (double)ahead / (double)(nfree - 1) : 1.0;
}

/*
 * The network rule's score of free member i for walk-in v: the seed's
 * whaco_team_score, its skill match replaced by whaco_skill_match (the
 * observed close rates once outcomes are in), plus the turn.
 */
static double network_score(const struct whaco_floor *f, const struct whaco_team *t, size_t i,
                            const struct whaco_visit *v)
{
    double seed_match = 1.0 - fabs(t->members[i].skill - v->priority);
    double match =
        f->entered_skills_only ? seed_match : whaco_skill_match(t, i, v->cluster_id, v->priority);
    return whaco_team_score(t, i, v->priority) + t->cfg.assign_skill * (match - seed_match) +
           TURN_WEIGHT * turn(f, t, i);
}

/*
 * The free member the rule gives walk-in v, or SIZE_MAX if nobody is free:
 * the rule of v's A/B test arm if it is in one, else the floor's. Ties go
 * to the earlier in the up order.
 */
static size_t pick(const struct whaco_floor *f, const struct whaco_team *t,
                   const struct whaco_visit *v)
{
    size_t best = SIZE_MAX;
    double best_score = 0.0;
    enum whaco_floor_rule rule = v->arm ? (enum whaco_floor_rule)v->arm_rule : f->cfg.rule;
    if (rule == WHACO_RULE_ROUND_ROBIN) {
        /* The next free member after the last one chosen, in team order. */
        size_t last, n = t->n;
        size_t start = whaco_team_find(t, f->last_rr, &last) == WHACO_OK ? last + 1 : 0;
        for (size_t k = 0; k < n; k++) {
            size_t i = (start + k) % n;
            if (whaco_floor_is_free(f, t, i))
                return i;
        }
        return SIZE_MAX;
    }
    for (size_t i = 0; i < t->n; i++) {
        if (!whaco_floor_is_free(f, t, i))
            continue;
        double score;
        switch (rule) {
        case WHACO_RULE_NETWORK:
            score = network_score(f, t, i, v);
            break;
        case WHACO_RULE_LEAST_BUSY:
            score = -(double)t->members[i].active_deals;
            break;
        case WHACO_RULE_UP_ROTATION:
            score = 0.0; /* the up order alone decides */
            break;
        case WHACO_RULE_ROUND_ROBIN: /* handled above */
        default:
            return SIZE_MAX; /* whaco_floor_config_check refuses any other rule */
        }
        if (best == SIZE_MAX || score > best_score ||
            (!(score < best_score) && earlier(t, i, best))) {
            best = i;
            best_score = score;
        }
    }
    return best;
}

/* How a walk-in came to a salesperson. */
enum how_given {
    BY_RULE,  /* the rule's choice: a turn (to the back, walkins_today, round-robin's last) */
    BE_BACK,  /* a be-back to their salesperson of last time: not a turn, nothing counted */
    OVERRIDE, /* a manager's: not a turn, overrides_today */
};

/* Give open walk-in k to member i. */
static void give(struct whaco_floor *f, struct whaco_team *t, uint32_t k, size_t i,
                 enum how_given how, int64_t now_ms, struct whaco_floor_news *news)
{
    struct whaco_visit *v = &f->open[k];
    struct whaco_member *m = &t->members[i];
    copy_id(v->salesperson_id, sizeof v->salesperson_id, m->id);
    v->assigned_ms = now_ms;
    v->override = how == OVERRIDE;
    if (v->first_wait_ms < 0)
        v->first_wait_ms = now_ms - v->arrived_ms;
    if (m->active_deals == 0)
        whaco_team_set_phase(t, i, PHASE_NEGOTIATING);
    whaco_team_take_customer(t, i);
    if (how == BY_RULE) {
        to_back(f, t, i);
        m->seat.walkins_today++;
        copy_id(f->last_rr, sizeof f->last_rr, m->id);
    } else if (how == OVERRIDE) {
        m->seat.overrides_today++;
    }
    news_add(news, v, now_ms);
}

/* Member i let go of one walk-in (it left, bought or moved). */
static void let_go(struct whaco_team *t, size_t i)
{
    whaco_team_drop_customer(t, i);
}

/*
 * Move the desk's line: while someone waits and someone is free, the head
 * of the line goes to its be-back salesperson if that one is free, else
 * to the rule's choice.
 */
static void dispatch(struct whaco_floor *f, struct whaco_team *t, int64_t now_ms,
                     struct whaco_floor_news *news)
{
    for (uint32_t k = 0; k < f->n_open; k++) {
        struct whaco_visit *v = &f->open[k];
        if (!waiting(v))
            continue;
        size_t i = SIZE_MAX, orig;
        enum how_given how = BY_RULE;
        if (f->cfg.be_back_to_original && v->original_id[0] &&
            whaco_team_find(t, v->original_id, &orig) == WHACO_OK &&
            whaco_floor_is_free(f, t, orig)) {
            i = orig;
            how = BE_BACK;
        }
        if (i == SIZE_MAX)
            i = pick(f, t, v);
        if (i == SIZE_MAX)
            return; /* nobody is free: nobody behind it can be served either */
        give(f, t, k, i, how, now_ms, news);
    }
}

/* Remove open walk-in k, keeping the others in arrival order. */
static void remove_open(struct whaco_floor *f, uint32_t k)
{
    memmove(&f->open[k], &f->open[k + 1], (f->n_open - k - 1) * sizeof f->open[0]);
    f->n_open--;
    memset(&f->open[f->n_open], 0, sizeof f->open[0]);
}

/*
 * End open walk-in k with an outcome: its salesperson lets go (ready again
 * if they are now with nobody, unless it was a sale: paperwork), and it is
 * remembered.
 */
static void end_visit(struct whaco_floor *f, struct whaco_team *t, uint32_t k, int outcome,
                      int64_t now_ms, struct whaco_floor_news *news)
{
    struct whaco_visit *v = &f->open[k];
    size_t i = member_of(t, v);
    if (news) {
        news->ended = true;
        visit_end(&news->end, v, outcome, now_ms);
        news->end_arm = v->arm;
        news->end_waited_ms = v->first_wait_ms >= 0 ? v->first_wait_ms : now_ms - v->arrived_ms;
        news->end_customer = v->customer;
        news->end_learned = v->learned;
    }
    if (i != SIZE_MAX) {
        let_go(t, i);
        if (outcome == WHACO_OUTCOME_SOLD) {
            whaco_team_count_deal(t, i);
            whaco_team_set_phase(t, i, PHASE_PAPERWORK);
        } else if (t->members[i].active_deals == 0) {
            whaco_team_set_phase(t, i, PHASE_READY);
        }
    }
    remember(f->recent, WHACO_FLOOR_RECENT, &f->recent_head, &f->recent_count, v, outcome, now_ms);
    if (outcome == WHACO_OUTCOME_BE_BACK)
        remember(f->be_backs, WHACO_FLOOR_BE_BACKS, &f->be_back_head, &f->be_back_count, v, outcome,
                 now_ms);
    remove_open(f, k);
}

/*
 * Member i leaves the floor (clock-out or removal): their walk-ins are back
 * at the desk. open[] stays in arrival order, so they wait in their place
 * by arrival: ahead of everyone who came after them, behind anyone who has
 * been in the store longer.
 */
static void return_to_desk(struct whaco_floor *f, struct whaco_team *t, size_t i)
{
    for (uint32_t k = 0; k < f->n_open; k++) {
        struct whaco_visit *v = &f->open[k];
        if (!waiting(v) && strcmp(v->salesperson_id, t->members[i].id) == 0) {
            memset(v->salesperson_id, 0, sizeof v->salesperson_id);
            v->assigned_ms = 0;
            v->override = false;
            let_go(t, i);
        }
    }
}

/*==== Tracking ============================================================*/

/* Start tracking: nobody is on the floor yet, open leads are forgotten. */
static void start_tracking(struct whaco_floor *f, struct whaco_team *t)
{
    f->tracked = true;
    whaco_team_forget_leads(t);
    for (size_t i = 0; i < t->n; i++)
        sync_held(f, t, i);
}

/* Stop tracking: the walk-ins are forgotten, seats cleared, phases free. */
static void stop_tracking(struct whaco_floor *f, struct whaco_team *t)
{
    f->tracked = false;
    memset(f->open, 0, sizeof f->open);
    f->n_open = 0;
    for (size_t i = 0; i < t->n; i++) {
        struct whaco_member *m = &t->members[i];
        m->seat.status = WHACO_SEAT_OFF;
        m->seat.up = 0;
        m->held = false;
    }
    whaco_team_forget_leads(t);
}

int whaco_floor_configure(struct whaco_floor *f, struct whaco_team *t,
                          const struct whaco_floor_config *cfg, int64_t now_ms,
                          struct whaco_floor_news *news)
{
    int rc = whaco_floor_config_check(cfg, NULL);
    if (rc != WHACO_OK)
        return rc;
    f->cfg = *cfg;
    if (cfg->tracking == WHACO_TRACKING_OFF && f->tracked)
        stop_tracking(f, t);
    else if (cfg->tracking == WHACO_TRACKING_ON && !f->tracked)
        start_tracking(f, t);
    if (f->tracked)
        dispatch(f, t, now_ms, news);
    return WHACO_OK;
}

/*==== Seats ===============================================================*/

/* The member named id, on a floor that may be tracked. */
static int seat_of(const struct whaco_floor *f, const struct whaco_team *t, const char *id,
                   size_t *i)
{
    if (f->cfg.tracking == WHACO_TRACKING_OFF)
        return WHACO_E_FLOOR_OFF;
    return whaco_team_find(t, id, i);
}

int whaco_floor_clock_in(struct whaco_floor *f, struct whaco_team *t, const char *id,
                         int64_t now_ms, struct whaco_floor_news *news)
{
    size_t i;
    int rc = seat_of(f, t, id, &i);
    if (rc != WHACO_OK)
        return rc;
    if (!f->tracked)
        start_tracking(f, t);
    struct whaco_member *m = &t->members[i];
    if (m->seat.status != WHACO_SEAT_OFF)
        return WHACO_OK; /* already on the floor */
    m->seat.status = WHACO_SEAT_AVAILABLE;
    m->seat.since_ms = now_ms;
    to_back(f, t, i);
    whaco_team_set_phase(t, i, PHASE_READY);
    sync_held(f, t, i);
    dispatch(f, t, now_ms, news);
    return WHACO_OK;
}

int whaco_floor_clock_out(struct whaco_floor *f, struct whaco_team *t, const char *id,
                          int64_t now_ms, struct whaco_floor_news *news)
{
    size_t i;
    int rc = seat_of(f, t, id, &i);
    if (rc != WHACO_OK)
        return rc;
    struct whaco_member *m = &t->members[i];
    if (!f->tracked || m->seat.status == WHACO_SEAT_OFF)
        return WHACO_OK; /* not on the floor */
    return_to_desk(f, t, i);
    m->seat.status = WHACO_SEAT_OFF;
    m->seat.up = 0;
    m->seat.since_ms = now_ms;
    whaco_team_set_phase(t, i, PHASE_READY);
    sync_held(f, t, i);
    dispatch(f, t, now_ms, news);
    return WHACO_OK;
}

int whaco_floor_set_status(struct whaco_floor *f, struct whaco_team *t, const char *id, int status,
                           int64_t now_ms, struct whaco_floor_news *news)
{
    size_t i;
    if (status < WHACO_SEAT_AVAILABLE || status > WHACO_SEAT_APPOINTMENT)
        return WHACO_E_STATUS_VALUE;
    int rc = seat_of(f, t, id, &i);
    if (rc != WHACO_OK)
        return rc;
    struct whaco_member *m = &t->members[i];
    if (!f->tracked || m->seat.status == WHACO_SEAT_OFF)
        return WHACO_E_OFF_FLOOR;
    if (m->seat.status == (uint8_t)status)
        return WHACO_OK;
    m->seat.status = (uint8_t)status;
    m->seat.since_ms = now_ms;
    if (status == WHACO_SEAT_AVAILABLE && m->active_deals == 0)
        whaco_team_set_phase(t, i, PHASE_READY);
    sync_held(f, t, i);
    dispatch(f, t, now_ms, news);
    return WHACO_OK;
}

void whaco_floor_member_leaving(struct whaco_floor *f, struct whaco_team *t, const char *id,
                                int64_t now_ms, struct whaco_floor_news *news)
{
    size_t i;
    if (!f->tracked || whaco_team_find(t, id, &i) != WHACO_OK)
        return;
    return_to_desk(f, t, i);
    t->members[i].seat.status = WHACO_SEAT_OFF;
    t->members[i].seat.up = 0;
    /* The line moves once the member is gone: whaco_team_remove is next, so
     * the dispatch must not choose them -- they are off the floor now. */
    dispatch(f, t, now_ms, news);
    /* Round-robin's turn goes on after them: from the one before them in
     * the team (once they are removed, the next after that one is the one
     * after them), or from the start if they were the first. */
    if (strcmp(f->last_rr, t->members[i].id) == 0) {
        memset(f->last_rr, 0, sizeof f->last_rr);
        if (i > 0)
            copy_id(f->last_rr, sizeof f->last_rr, t->members[i - 1].id);
    }
}

void whaco_floor_daily_reset(struct whaco_floor *f, struct whaco_team *t)
{
    (void)f;
    for (size_t i = 0; i < t->n; i++) {
        t->members[i].seat.walkins_today = 0;
        t->members[i].seat.overrides_today = 0;
    }
}

/*==== Walk-ins ============================================================*/

void whaco_floor_mark_learned(struct whaco_floor *f, uint32_t visit)
{
    if (visit < f->n_open)
        f->open[visit].learned = true;
}

int32_t whaco_floor_find(const struct whaco_floor *f, const char *customer_id)
{
    if (!customer_id || !customer_id[0])
        return -1;
    for (uint32_t k = 0; k < f->n_open; k++)
        if (strcmp(f->open[k].customer_id, customer_id) == 0)
            return (int32_t)k;
    return -1;
}

uint32_t whaco_floor_queue_position(const struct whaco_floor *f, uint32_t visit)
{
    if (visit >= f->n_open || !waiting(&f->open[visit]))
        return 0;
    uint32_t pos = 1;
    for (uint32_t k = 0; k < visit; k++)
        pos += waiting(&f->open[k]);
    return pos;
}

/*
 * Name a walk-in that came without an id "walk-in-N", N the walk-in count,
 * skipping any N whose name a customer already goes by here (in the store,
 * ended, or a be-back): a customer may have been given such an id, and two
 * open walk-ins with one id would make the state unloadable. There are at
 * most WHACO_FLOOR_OPEN_MAX + WHACO_FLOOR_RECENT + WHACO_FLOOR_BE_BACKS
 * such names, so this ends.
 */
static void name_walk_in(struct whaco_floor *f, struct whaco_visit *v)
{
    for (;;) {
        memset(v->customer_id, 0, sizeof v->customer_id);
        snprintf(v->customer_id, sizeof v->customer_id, "walk-in-%llu",
                 (unsigned long long)f->walkins);
        if (whaco_floor_find(f, v->customer_id) < 0 && !whaco_floor_ended(f, v->customer_id) &&
            !be_back_of(f, v->customer_id))
            return;
        f->walkins++;
    }
}

int whaco_floor_arrive(struct whaco_floor *f, struct whaco_team *t, const struct whaco_customer *c,
                       const struct whaco_segment_result *r, int64_t now_ms, uint8_t arm,
                       uint8_t arm_rule, uint32_t *visit, struct whaco_floor_news *news)
{
    if (!f->tracked)
        return WHACO_E_FLOOR_OFF;
    if (arm > 2 || (arm && !whaco_floor_rule_name(arm_rule)))
        return WHACO_E_CONFIG;
    int32_t open = whaco_floor_find(f, c->id);
    if (open >= 0) {
        /* Still in the store: not a new walk-in, but what is known of it now. */
        struct whaco_visit *v = &f->open[open];
        v->cluster_id = r->cluster_id;
        v->priority = r->priority;
        whaco_walkin_profile(&v->profile, c, r);
        v->customer = *c;
        *visit = (uint32_t)open;
        return WHACO_OK;
    }
    if (f->n_open == WHACO_FLOOR_OPEN_MAX)
        return WHACO_E_FLOOR_FULL;
    struct whaco_visit *v = &f->open[f->n_open];
    memset(v, 0, sizeof *v);
    f->walkins++;
    if (c->id[0])
        copy_id(v->customer_id, sizeof v->customer_id, c->id);
    else
        name_walk_in(f, v);
    const char *orig = be_back_of(f, v->customer_id);
    if (orig)
        copy_id(v->original_id, sizeof v->original_id, orig);
    v->arrived_ms = now_ms;
    v->cluster_id = r->cluster_id;
    v->priority = r->priority;
    v->arm = arm;
    v->arm_rule = arm ? arm_rule : 0;
    v->first_wait_ms = -1;
    whaco_walkin_profile(&v->profile, c, r);
    v->customer = *c;
    *visit = f->n_open++;
    /* Only this walk-in can be waiting with someone free: the line was empty
     * or nobody was free (dispatch's invariant), so dispatch serves it or
     * leaves everything as it is. */
    dispatch(f, t, now_ms, news);
    return WHACO_OK;
}

void whaco_floor_clear_arms(struct whaco_floor *f)
{
    for (uint32_t k = 0; k < f->n_open; k++)
        f->open[k].arm = f->open[k].arm_rule = 0;
}

/* The open walk-in customer_id, or the error that says why there is none. */
static int find_open(const struct whaco_floor *f, const char *customer_id, uint32_t *k)
{
    if (f->cfg.tracking == WHACO_TRACKING_OFF || !f->tracked)
        return WHACO_E_FLOOR_OFF;
    int32_t at = whaco_floor_find(f, customer_id);
    if (at >= 0) {
        *k = (uint32_t)at;
        return WHACO_OK;
    }
    return customer_id && whaco_floor_ended(f, customer_id) ? WHACO_E_VISIT_ENDED
                                                            : WHACO_E_CUSTOMER_NOT_FOUND;
}

int whaco_floor_customer_left(struct whaco_floor *f, struct whaco_team *t, const char *customer_id,
                              int outcome, const char *salesperson_id, int64_t now_ms,
                              struct whaco_floor_news *news)
{
    uint32_t k;
    if (outcome != WHACO_OUTCOME_NO_SALE && outcome != WHACO_OUTCOME_BE_BACK &&
        outcome != WHACO_OUTCOME_APPOINTMENT)
        return WHACO_E_OUTCOME_VALUE;
    int rc = find_open(f, customer_id, &k);
    if (rc != WHACO_OK)
        return rc;
    if (salesperson_id && strcmp(salesperson_id, f->open[k].salesperson_id) != 0)
        return WHACO_E_WRONG_SALESPERSON;
    end_visit(f, t, k, outcome, now_ms, news);
    dispatch(f, t, now_ms, news);
    return WHACO_OK;
}

int whaco_floor_deal_closed(struct whaco_floor *f, struct whaco_team *t, const char *salesperson_id,
                            const char *customer_id, int64_t now_ms, struct whaco_floor_news *news)
{
    size_t i;
    uint32_t k;
    int32_t at;
    if (whaco_team_find(t, salesperson_id, &i) != WHACO_OK)
        return WHACO_E_NOT_FOUND;
    if (!f->tracked) /* no walk-ins to link (a customerId is then ignored): the seed's rule */
        return whaco_team_deal_closed(t, salesperson_id);
    if (customer_id && customer_id[0]) {
        int rc = find_open(f, customer_id, &k);
        if (rc != WHACO_OK)
            return rc;
        if (strcmp(f->open[k].salesperson_id, salesperson_id) != 0)
            return WHACO_E_WRONG_SALESPERSON;
        at = (int32_t)k;
    } else {
        at = first_visit_of(f, t, i);
    }
    if (at < 0)
        return whaco_team_deal_closed(t, salesperson_id); /* nothing to link: the seed's rule */
    end_visit(f, t, (uint32_t)at, WHACO_OUTCOME_SOLD, now_ms, news);
    dispatch(f, t, now_ms, news);
    return WHACO_OK;
}

int whaco_floor_override(struct whaco_floor *f, struct whaco_team *t, const char *customer_id,
                         const char *salesperson_id, int64_t now_ms, struct whaco_floor_news *news)
{
    size_t i;
    uint32_t k;
    int rc = find_open(f, customer_id, &k);
    if (rc != WHACO_OK)
        return rc;
    if (whaco_team_find(t, salesperson_id, &i) != WHACO_OK)
        return WHACO_E_NOT_FOUND;
    if (t->members[i].seat.status == WHACO_SEAT_OFF)
        return WHACO_E_OFF_FLOOR;
    struct whaco_visit *v = &f->open[k];
    if (strcmp(v->salesperson_id, salesperson_id) == 0)
        return WHACO_OK; /* already theirs */
    size_t from = member_of(t, v);
    if (from != SIZE_MAX) {
        let_go(t, from);
        if (t->members[from].active_deals == 0)
            whaco_team_set_phase(t, from, PHASE_READY);
    }
    give(f, t, k, i, OVERRIDE, now_ms, news);
    dispatch(f, t, now_ms, news);
    return WHACO_OK;
}

/*==== Reading =============================================================*/

size_t whaco_floor_up_order(const struct whaco_team *t, uint32_t *order)
{
    size_t n = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (t->members[i].seat.status == WHACO_SEAT_OFF)
            continue;
        /* Insertion sort by up number: teams are small, and this stays O(n) when sorted. */
        size_t p = n++;
        while (p > 0 && earlier(t, i, order[p - 1])) {
            order[p] = order[p - 1];
            p--;
        }
        order[p] = (uint32_t)i;
    }
    return n;
}

/*
 * The union of the ready windows is measured on COVERAGE_BINS equal arcs of
 * the circle: an arc counts when a window covers its start. A window is a
 * quarter of the circle, so the union has at most 4 separate pieces, 8
 * ends, each off by less than one arc: the figure is within 8/720 (1.1%)
 * of the exact measure, in O(members x 180) without sorting or memory.
 */
#define COVERAGE_BINS  720
#define COVERAGE_SLACK 1e-6 /* of an arc: far above rounding, far below the figure's error */

double whaco_floor_coverage(const struct whaco_team *t)
{
    unsigned char covered[COVERAGE_BINS];
    const double arc = WHACO_TAU / COVERAGE_BINS;
    const int width = COVERAGE_BINS / 4; /* arcs in 2 * READY_HALF_WIDTH */
    bool any = false;
    memset(covered, 0, sizeof covered);
    for (size_t i = 0; i < t->n; i++) {
        const struct whaco_member *m = &t->members[i];
        if (m->held)
            continue;
        double start = fmod(m->phase - READY_HALF_WIDTH + WHACO_TAU, WHACO_TAU);
        /* The first arc whose start is inside. A start a rounding error past an
         * arc's start counts as on it: windows a quarter turn apart then tile
         * exactly, instead of losing the arc between them. */
        int first = (int)ceil(start / arc - COVERAGE_SLACK);
        for (int k = 0; k < width; k++)
            covered[(first + k) % COVERAGE_BINS] = 1;
        any = true;
    }
    if (!any)
        return 0.0;
    int sum = 0;
    for (int b = 0; b < COVERAGE_BINS; b++)
        sum += covered[b];
    return (double)sum / COVERAGE_BINS;
}

void whaco_floor_copy_for_reading(struct whaco_floor *dst, const struct whaco_floor *src)
{
    dst->cfg = src->cfg;
    dst->tracked = src->tracked;
    dst->next_up = src->next_up;
    dst->walkins = src->walkins;
    memcpy(dst->last_rr, src->last_rr, sizeof dst->last_rr);
    memcpy(dst->open, src->open, src->n_open * sizeof src->open[0]);
    dst->n_open = src->n_open;
    dst->recent_head = 0;
    dst->recent_count = 0;
    dst->be_back_head = 0;
    dst->be_back_count = 0;
}

/*==== Saved state =========================================================*/

/*
 * Layout (little-endian, whaco/serial.h): u32 layout version (1); config:
 * u8 tracking, u8 rule, u32 max_customers, u8 be_back_to_original; u8
 * tracked; u64 next_up, u64 walkins; str last_rr; u32 n_open, then each
 * open walk-in (str customer, str salesperson, str original, i64 arrived,
 * i64 assigned, i32 cluster, f64 priority, u8 override, u8 arm, u8
 * arm_rule, i64 first_wait, its profile, its customer in layout
 * WHACO_CUSTOMER_PARTIAL, u8 learned);
 * the two rings, each u32 count then its entries oldest first (str
 * customer, str salesperson, i64 ended, u8 outcome, its profile). A profile
 * is whaco_walkin_profile_encode's.
 */
#define FLOOR_LAYOUT_VERSION 1u

static void encode_ring(struct whaco_buf *b, const struct whaco_visit_end *ring, uint32_t cap,
                        uint32_t head, uint32_t count)
{
    whaco_buf_put_u32(b, count);
    for (uint32_t k = 0; k < count; k++) {
        const struct whaco_visit_end *e = &ring[(head + cap - count + k) % cap];
        whaco_buf_put_str(b, e->customer_id);
        whaco_buf_put_str(b, e->salesperson_id);
        whaco_buf_put_i64(b, e->ended_ms);
        whaco_buf_put_u8(b, e->outcome);
        whaco_walkin_profile_encode(&e->profile, b);
    }
}

void whaco_floor_encode(const struct whaco_floor *f, struct whaco_buf *b)
{
    whaco_buf_put_u32(b, FLOOR_LAYOUT_VERSION);
    whaco_buf_put_u8(b, (uint8_t)f->cfg.tracking);
    whaco_buf_put_u8(b, (uint8_t)f->cfg.rule);
    whaco_buf_put_u32(b, f->cfg.max_customers);
    whaco_buf_put_u8(b, f->cfg.be_back_to_original ? 1u : 0u);
    whaco_buf_put_u8(b, f->tracked ? 1u : 0u);
    whaco_buf_put_u64(b, f->next_up);
    whaco_buf_put_u64(b, f->walkins);
    whaco_buf_put_str(b, f->last_rr);
    whaco_buf_put_u32(b, f->n_open);
    for (uint32_t k = 0; k < f->n_open; k++) {
        const struct whaco_visit *v = &f->open[k];
        whaco_buf_put_str(b, v->customer_id);
        whaco_buf_put_str(b, v->salesperson_id);
        whaco_buf_put_str(b, v->original_id);
        whaco_buf_put_i64(b, v->arrived_ms);
        whaco_buf_put_i64(b, v->assigned_ms);
        whaco_buf_put_u32(b, (uint32_t)v->cluster_id);
        whaco_buf_put_f64(b, v->priority);
        whaco_buf_put_u8(b, v->override ? 1u : 0u);
        whaco_buf_put_u8(b, v->arm);
        whaco_buf_put_u8(b, v->arm_rule);
        whaco_buf_put_i64(b, v->first_wait_ms);
        whaco_walkin_profile_encode(&v->profile, b);
        whaco_customer_encode(&v->customer, b);
        whaco_buf_put_u8(b, v->learned ? 1u : 0u);
    }
    encode_ring(b, f->recent, WHACO_FLOOR_RECENT, f->recent_head, f->recent_count);
    encode_ring(b, f->be_backs, WHACO_FLOOR_BE_BACKS, f->be_back_head, f->be_back_count);
}

/* A ring of whaco_floor_encode's; entries land at 0..count-1, head = count % cap. */
static void decode_ring(struct whaco_reader *r, struct whaco_visit_end *ring, uint32_t cap,
                        uint32_t *head, uint32_t *count)
{
    uint32_t n = whaco_reader_u32(r);
    if (r->err != WHACO_OK || n > cap) {
        whaco_reader_fail(r);
        return;
    }
    for (uint32_t k = 0; k < n && r->err == WHACO_OK; k++) {
        struct whaco_visit_end *e = &ring[k];
        whaco_reader_str(r, e->customer_id, sizeof e->customer_id);
        whaco_reader_str(r, e->salesperson_id, sizeof e->salesperson_id);
        e->ended_ms = whaco_reader_i64(r);
        e->outcome = whaco_reader_u8(r);
        whaco_walkin_profile_decode(&e->profile, r);
        if (!whaco_outcome_name(e->outcome))
            whaco_reader_fail(r);
    }
    *count = n;
    *head = n % cap;
}

/*
 * The invariants between the seats and the walk-ins: clocked-in members
 * have distinct up numbers below next_up, held is as the seat says, and on
 * a tracked floor activeDeals counts the member's walk-ins.
 */
static bool seats_consistent(const struct whaco_floor *f, const struct whaco_team *t)
{
    for (size_t i = 0; i < t->n; i++) {
        const struct whaco_member *m = &t->members[i];
        bool off = m->seat.status == WHACO_SEAT_OFF;
        uint32_t with = 0;
        for (uint32_t k = 0; k < f->n_open; k++)
            with += !waiting(&f->open[k]) && strcmp(f->open[k].salesperson_id, m->id) == 0;
        if (m->seat.up >= f->next_up || (!f->tracked && !off) ||
            m->held != (f->tracked && m->seat.status != WHACO_SEAT_AVAILABLE) ||
            (f->tracked && m->active_deals != with))
            return false;
        for (size_t j = 0; j < i && !off; j++)
            if (t->members[j].seat.up == m->seat.up)
                return false;
    }
    return true;
}

void whaco_floor_decode(struct whaco_floor *f, const struct whaco_team *t, struct whaco_reader *r)
{
    memset(f, 0, sizeof *f);
    uint32_t version = whaco_reader_u32(r);
    f->cfg.tracking = (enum whaco_floor_tracking)whaco_reader_u8(r);
    f->cfg.rule = (enum whaco_floor_rule)whaco_reader_u8(r);
    f->cfg.max_customers = whaco_reader_u32(r);
    uint8_t be_back = whaco_reader_u8(r), tracked = whaco_reader_u8(r);
    f->cfg.be_back_to_original = be_back != 0;
    f->tracked = tracked != 0;
    f->next_up = whaco_reader_u64(r);
    f->walkins = whaco_reader_u64(r);
    whaco_reader_str(r, f->last_rr, sizeof f->last_rr);
    f->n_open = whaco_reader_u32(r);
    /* Tracking on means tracked, off untracked (whaco_floor_configure). */
    bool tracked_as_set = !(f->cfg.tracking == WHACO_TRACKING_ON && !f->tracked) &&
                          !(f->cfg.tracking == WHACO_TRACKING_OFF && f->tracked);
    if (r->err != WHACO_OK || version != FLOOR_LAYOUT_VERSION || be_back > 1 || tracked > 1 ||
        whaco_floor_config_check(&f->cfg, NULL) != WHACO_OK || !tracked_as_set || f->next_up == 0 ||
        f->n_open > WHACO_FLOOR_OPEN_MAX || (f->n_open > 0 && !f->tracked)) {
        whaco_reader_fail(r);
        return;
    }
    for (uint32_t k = 0; k < f->n_open && r->err == WHACO_OK; k++) {
        struct whaco_visit *v = &f->open[k];
        size_t i;
        whaco_reader_str(r, v->customer_id, sizeof v->customer_id);
        whaco_reader_str(r, v->salesperson_id, sizeof v->salesperson_id);
        whaco_reader_str(r, v->original_id, sizeof v->original_id);
        v->arrived_ms = whaco_reader_i64(r);
        v->assigned_ms = whaco_reader_i64(r);
        v->cluster_id = (int32_t)whaco_reader_u32(r);
        v->priority = whaco_reader_f64(r);
        uint8_t override = whaco_reader_u8(r);
        v->override = override != 0;
        v->arm = whaco_reader_u8(r);
        v->arm_rule = whaco_reader_u8(r);
        v->first_wait_ms = whaco_reader_i64(r);
        whaco_walkin_profile_decode(&v->profile, r);
        whaco_customer_decode(&v->customer, r, WHACO_CUSTOMER_PARTIAL);
        uint8_t learned = whaco_reader_u8(r);
        v->learned = learned == 1;
        if (learned > 1)
            whaco_reader_fail(r);
        bool known = waiting(v) || whaco_team_find(t, v->salesperson_id, &i) == WHACO_OK;
        /* In an arm with a rule, or in none with 0; served means it had a first salesperson. */
        bool arm_ok =
            v->arm <= 2 && (v->arm ? whaco_floor_rule_name(v->arm_rule) != NULL : v->arm_rule == 0);
        bool wait_ok = v->first_wait_ms >= -1 && (waiting(v) || v->first_wait_ms >= 0);
        if (r->err != WHACO_OK || !v->customer_id[0] || !known || override > 1 || !arm_ok ||
            !wait_ok || v->cluster_id < 0 || v->cluster_id >= WHACO_CLUSTERS ||
            !isfinite(v->priority) || whaco_floor_find(f, v->customer_id) != (int32_t)k)
            whaco_reader_fail(r);
    }
    decode_ring(r, f->recent, WHACO_FLOOR_RECENT, &f->recent_head, &f->recent_count);
    decode_ring(r, f->be_backs, WHACO_FLOOR_BE_BACKS, &f->be_back_head, &f->be_back_count);
    if (r->err == WHACO_OK && !seats_consistent(f, t))
        whaco_reader_fail(r);
}

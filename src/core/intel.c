/*
 * intel.c: the intelligence layer of whaco/intel.h: events applied to both
 * engines, recommended actions, and the whole-state save format.
 *
 * Every event function validates everything it can before it changes
 * anything, so an error leaves the state exactly as it was: customer fields
 * and timestamps first, then the network is advanced, then the engines run.
 */
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/floor.h"
#include "whaco/intel.h"
#include "whaco/utf8.h"
#include "core/internal.h"
#include "banned.h"

#define MS_PER_HOUR 3600000.0

/* Per segment, in the seed's style ("Show premium inventory", ...). */
static const char *const segment_actions[WHACO_CLUSTERS][3] = {
    {"Show premium inventory", "Offer competitive financing rates",
     "Quick close approach - minimal back and forth"},
    {"Focus on value and total cost of ownership", "Offer flexible financing terms",
     "Build rapport - schedule a test drive"},
    {"Keep the visit short - capture contact info", "Offer a brochure and price sheet",
     "Add to follow-up campaign"},
    {"Discuss a larger down payment", "Pre-qualify with subprime lenders",
     "Set realistic vehicle expectations"},
    {"Leverage the cash position in negotiation", "Focus on deal structure and total price",
     "Present trade-in and cash incentives"},
};

static const char high_priority_action[] = "🔥 HIGH PRIORITY - Assign experienced salesperson";
static const char verify_action[] = "⚠️ ANOMALY - Verify identity, income and documents";
static const char approval_action[] = "Require manager approval before structuring the deal";

int whaco_intel_init(struct whaco_intel *in, const struct whaco_segment_config *seg_cfg,
                     const struct whaco_team_config *team_cfg, const char **field)
{
    static const struct whaco_intel zero;
    int rc;
    struct whaco_floor_config floor_cfg;
    *in = zero;
    whaco_floor_config_default(&floor_cfg);
    whaco_floor_init(&in->floor, &floor_cfg);
    whaco_learn_init(&in->learn);
    whaco_experiment_init(&in->exp);
    rc = whaco_segmenter_init(&in->seg, seg_cfg, field);
    if (rc == WHACO_OK)
        rc = whaco_team_init(&in->team, team_cfg, field);
    return rc;
}

void whaco_intel_release(struct whaco_intel *in)
{
    whaco_team_release(&in->team);
}

/* WHACO_OK if the clock may move to now_ms. */
static int check_time(const struct whaco_intel *in, int64_t now_ms)
{
    return in->clock_set && now_ms < in->clock_ms ? WHACO_E_TIME_BACKWARDS : WHACO_OK;
}

/*
 * Advance the network to now_ms (check_time must have passed). Gaps beyond
 * WHACO_INTEL_GAP_MAX_HOURS advance by that maximum.
 */
static void advance_to(struct whaco_intel *in, int64_t now_ms)
{
    if (in->clock_set && now_ms > in->clock_ms) {
        double hours = (double)(now_ms - in->clock_ms) / MS_PER_HOUR;
        if (hours > WHACO_INTEL_GAP_MAX_HOURS)
            hours = WHACO_INTEL_GAP_MAX_HOURS;
        /* Cannot fail: hours is finite, positive and below the team's cap. */
        int rc = whaco_team_advance(&in->team, hours);
        (void)rc;
    }
    in->clock_ms = now_ms;
    in->clock_set = true;
}

unsigned whaco_recommended_actions(const struct whaco_segment_result *r,
                                   const char *actions[WHACO_ACTIONS_MAX])
{
    unsigned n = 0;
    if (r->is_outlier)
        actions[n++] = verify_action;
    for (int i = 0; i < 3; i++)
        actions[n++] = segment_actions[r->cluster_id][i];
    if (r->priority >= WHACO_HIGH_PRIORITY)
        actions[n++] = high_priority_action;
    if (r->is_outlier)
        actions[n++] = approval_action;
    return n;
}

/*
 * A walk-in on a tracked floor (whaco_floor_arrive; room was checked): its
 * salesperson (assign_rc, assigned) or its place at the desk. A new one is
 * split into an arm of the A/B test, if one runs, and given out by its rule.
 */
static void arrive(struct whaco_intel *in, const struct whaco_customer *c, int64_t now_ms,
                   bool learned, struct whaco_analysis *a)
{
    uint32_t k = 0;
    uint8_t arm = 0, rule = 0;
    a->returning = whaco_floor_find(&in->floor, c->id) >= 0;
    if (!a->returning) {
        arm = whaco_experiment_draw(&in->exp);
        rule = arm ? in->exp.cfg.rule[arm - 1] : 0;
    }
    int rc = whaco_floor_arrive(&in->floor, &in->team, c, &a->segment, now_ms, arm, rule, &k, NULL);
    (void)rc; /* cannot fail: the floor is tracked and has room or knows c; the arm is drawn */
    if (learned)
        whaco_floor_mark_learned(&in->floor, k);
    const struct whaco_visit *v = &in->floor.open[k];
    a->floor_tracked = true;
    memcpy(a->customer_id, v->customer_id, sizeof a->customer_id);
    a->queue_position = whaco_floor_queue_position(&in->floor, k);
    if (in->team.n == 0)
        a->assign_rc = WHACO_E_EMPTY_TEAM;
    else if (!a->queue_position)
        a->assign_rc = whaco_team_find(&in->team, v->salesperson_id, &a->assigned);
}

int whaco_intel_analyze(struct whaco_intel *in, const struct whaco_customer *c, int64_t now_ms,
                        struct whaco_analysis *out, const char **field)
{
    struct whaco_analysis a;
    int rc = whaco_customer_check(c, field);
    if (rc == WHACO_OK)
        rc = check_time(in, now_ms);
    if (rc != WHACO_OK)
        return rc;

    if (in->floor.tracked && in->floor.n_open == WHACO_FLOOR_OPEN_MAX &&
        whaco_floor_find(&in->floor, c->id) < 0)
        return WHACO_E_FLOOR_FULL; /* checked first: after learning nothing may fail */

    memset(&a, 0, sizeof a);
    advance_to(in, now_ms);
    bool learn_now = true, remember = true;
    if (in->floor.tracked) {
        /* One walk-in teaches the segmenter once (docs/learning.md): at its
         * first complete analysis, else when its visit ends (learn_ended);
         * every other analysis of it is only observed. */
        int32_t open = whaco_floor_find(&in->floor, c->id);
        bool learned = open >= 0 && in->floor.open[open].learned;
        remember = !(open >= 0 && in->floor.open[open].profile.outlier);
        learn_now = !learned && whaco_features_known(c) == WHACO_FIELDS_ALL;
    }
    if (learn_now && remember) { /* the common case, in one pass: observe + fit */
        rc = whaco_segment_learn(&in->seg, c, now_ms, &a.segment, field);
    } else {
        rc = whaco_segment_observe(&in->seg, c, now_ms, remember, &a.segment, field);
        struct whaco_segment_result fitted; /* = a.segment: nothing learned since */
        if (rc == WHACO_OK && learn_now)
            rc = whaco_segment_fit(&in->seg, c, &fitted, field);
    }
    if (rc != WHACO_OK)
        return rc; /* unreachable: the customer was checked above */
    if (in->floor.tracked)
        arrive(in, c, now_ms, learn_now, &a);
    else
        a.assign_rc = whaco_team_assign(&in->team, a.segment.priority, &a.assigned, NULL);
    if (a.assign_rc == WHACO_OK && !a.queue_position) {
        const char *id = in->team.members[a.assigned].id;
        memcpy(a.assigned_id, id, strlen(id) + 1);
    }
    a.n_actions = whaco_recommended_actions(&a.segment, a.actions);
    struct whaco_walkin_profile profile;
    whaco_walkin_profile(&profile, c, &a.segment);
    a.close_probability = whaco_learn_predict(&in->learn, &profile);
    *out = a;
    return WHACO_OK;
}

/* Check that the clock may move to now_ms and that salesperson id exists. */
static int check_member(const struct whaco_intel *in, const char *id, int64_t now_ms)
{
    size_t index;
    int rc = check_time(in, now_ms);
    if (rc == WHACO_OK)
        rc = whaco_team_find(&in->team, id, &index);
    return rc;
}

/* The refusals of an event about open walk-in customer_id, before anything changes. */
static int check_visit(const struct whaco_intel *in, const char *customer_id, int64_t now_ms)
{
    int rc = check_time(in, now_ms);
    if (rc == WHACO_OK && (in->floor.cfg.tracking == WHACO_TRACKING_OFF || !in->floor.tracked))
        rc = WHACO_E_FLOOR_OFF;
    if (rc == WHACO_OK && whaco_floor_find(&in->floor, customer_id) < 0)
        rc = whaco_floor_ended(&in->floor, customer_id) ? WHACO_E_VISIT_ENDED
                                                        : WHACO_E_CUSTOMER_NOT_FOUND;
    return rc;
}

/*
 * A walk-in ended (news->ended): the segmenter learns it from its latest
 * analysis unless it did at a complete one; the close model and the
 * segment's rate learn its outcome, and so does its salesperson's record
 * (whaco_team_count_outcome); the A/B test counts it in its arm, if it is in one.
 */
static void learn_ended(struct whaco_intel *in, const struct whaco_floor_news *news)
{
    size_t i;
    if (!news->ended)
        return;
    const struct whaco_visit_end *e = &news->end;
    struct whaco_segment_result fitted;
    if (!news->end_learned) /* never complete: learned from its latest analysis */
        (void)whaco_segment_fit(&in->seg, &news->end_customer, &fitted, NULL);
    bool sold = e->outcome == WHACO_OUTCOME_SOLD;
    whaco_experiment_observe(&in->exp, news->end_arm, sold, news->end_waited_ms);
    whaco_learn_outcome(&in->learn, &e->profile, sold);
    if (e->salesperson_id[0] && whaco_team_find(&in->team, e->salesperson_id, &i) == WHACO_OK)
        whaco_team_count_outcome(&in->team, i, e->profile.cluster, sold);
}

int whaco_intel_deal_closed(struct whaco_intel *in, const char *id, const char *customer_id,
                            int64_t now_ms, struct whaco_floor_news *news)
{
    int rc = check_member(in, id, now_ms);
    if (rc == WHACO_OK && in->floor.tracked && customer_id && customer_id[0]) {
        rc = check_visit(in, customer_id, now_ms);
        if (rc == WHACO_OK &&
            strcmp(in->floor.open[whaco_floor_find(&in->floor, customer_id)].salesperson_id, id))
            rc = WHACO_E_WRONG_SALESPERSON;
    }
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    struct whaco_floor_news local, *nw = news ? news : &local;
    if (!news)
        memset(&local, 0, sizeof local);
    nw->ended = false;
    rc = whaco_floor_deal_closed(&in->floor, &in->team, id, customer_id, now_ms, nw);
    if (rc == WHACO_OK)
        learn_ended(in, nw);
    return rc;
}

int whaco_intel_add_salesperson(struct whaco_intel *in, const struct whaco_member_spec *spec,
                                int64_t now_ms, const char **field)
{
    size_t index;
    int rc = check_time(in, now_ms);
    if (rc == WHACO_OK)
        rc = whaco_member_spec_check(spec, field);
    if (rc == WHACO_OK && whaco_team_find(&in->team, spec->id, &index) == WHACO_OK) {
        if (field)
            *field = "id";
        rc = WHACO_E_DUPLICATE;
    }
    if (rc == WHACO_OK && in->team.n >= WHACO_TEAM_MAX)
        rc = WHACO_E_TEAM_FULL;
    /* Grow before advancing: after advance_to nothing may fail. */
    if (rc == WHACO_OK)
        rc = whaco_team_reserve(&in->team, in->team.n + 1);
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    rc = whaco_team_add(&in->team, spec, field);
    if (rc == WHACO_OK && in->floor.tracked) {
        /* A new member is off the floor until they clock in. */
        struct whaco_member *m = &in->team.members[in->team.n - 1];
        m->held = true;
        whaco_team_forget_leads_of(&in->team, in->team.n - 1); /* the floor counts walk-ins */
    }
    return rc;
}

int whaco_intel_remove_salesperson(struct whaco_intel *in, const char *id, int64_t now_ms,
                                   struct whaco_floor_news *news)
{
    int rc = check_member(in, id, now_ms);
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    whaco_floor_member_leaving(&in->floor, &in->team, id, now_ms, news);
    return whaco_team_remove(&in->team, id);
}

/*
 * The floor's events: every refusal is found first (time, the member, the
 * walk-in, the values), then the network advances, then the floor acts --
 * which, with the same checks passed, cannot fail.
 */
/* Clock-in and clock-out: the member, tracking not off, then act. */
static int clock_event(struct whaco_intel *in, const char *id, int64_t now_ms,
                       struct whaco_floor_news *news,
                       int (*act)(struct whaco_floor *, struct whaco_team *, const char *, int64_t,
                                  struct whaco_floor_news *))
{
    int rc = check_member(in, id, now_ms);
    if (rc == WHACO_OK && in->floor.cfg.tracking == WHACO_TRACKING_OFF)
        rc = WHACO_E_FLOOR_OFF;
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    return act(&in->floor, &in->team, id, now_ms, news);
}

int whaco_intel_clock_in(struct whaco_intel *in, const char *id, int64_t now_ms,
                         struct whaco_floor_news *news)
{
    return clock_event(in, id, now_ms, news, whaco_floor_clock_in);
}

int whaco_intel_clock_out(struct whaco_intel *in, const char *id, int64_t now_ms,
                          struct whaco_floor_news *news)
{
    return clock_event(in, id, now_ms, news, whaco_floor_clock_out);
}

int whaco_intel_set_status(struct whaco_intel *in, const char *id, int status, int64_t now_ms,
                           struct whaco_floor_news *news)
{
    size_t i;
    int rc = check_member(in, id, now_ms);
    if (rc == WHACO_OK && (status < WHACO_SEAT_AVAILABLE || status > WHACO_SEAT_APPOINTMENT))
        rc = WHACO_E_STATUS_VALUE;
    if (rc == WHACO_OK && in->floor.cfg.tracking == WHACO_TRACKING_OFF)
        rc = WHACO_E_FLOOR_OFF;
    if (rc == WHACO_OK && whaco_team_find(&in->team, id, &i) == WHACO_OK &&
        (!in->floor.tracked || in->team.members[i].seat.status == WHACO_SEAT_OFF))
        rc = WHACO_E_OFF_FLOOR;
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    return whaco_floor_set_status(&in->floor, &in->team, id, status, now_ms, news);
}

int whaco_intel_customer_left(struct whaco_intel *in, const char *customer_id, int outcome,
                              const char *salesperson_id, int64_t now_ms,
                              struct whaco_floor_news *news)
{
    int rc = WHACO_OK;
    if (outcome != WHACO_OUTCOME_NO_SALE && outcome != WHACO_OUTCOME_BE_BACK &&
        outcome != WHACO_OUTCOME_APPOINTMENT)
        rc = WHACO_E_OUTCOME_VALUE;
    if (rc == WHACO_OK)
        rc = check_visit(in, customer_id, now_ms);
    if (rc == WHACO_OK && salesperson_id) {
        int32_t k = whaco_floor_find(&in->floor, customer_id);
        if (strcmp(in->floor.open[k].salesperson_id, salesperson_id) != 0)
            rc = WHACO_E_WRONG_SALESPERSON;
    }
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    struct whaco_floor_news local, *nw = news ? news : &local;
    if (!news)
        memset(&local, 0, sizeof local);
    nw->ended = false;
    rc = whaco_floor_customer_left(&in->floor, &in->team, customer_id, outcome, salesperson_id,
                                   now_ms, nw);
    if (rc == WHACO_OK)
        learn_ended(in, nw);
    return rc;
}

/* A printable id of 1..cap-1 bytes (min_len 0: may be empty), NUL-terminated within cap. */
static bool text_id_ok(const char *s, size_t cap, size_t min_len)
{
    const char *end = memchr(s, '\0', cap);
    return end && (size_t)(end - s) >= min_len && whaco_text_printable(s, (size_t)(end - s));
}

/* The checks of an outcome row that need no state (whaco_intel_outcome's last errors). */
static int outcome_row_check(const struct whaco_outcome_row *row, const char **field)
{
    int rc = WHACO_OK;
    const char *f = NULL;
    WHACO_CHECK(text_id_ok(row->customer_id, sizeof row->customer_id, 1), "customerId",
                WHACO_E_ID_LENGTH);
    WHACO_CHECK(row->outcome >= WHACO_OUTCOME_SOLD && row->outcome <= WHACO_OUTCOME_APPOINTMENT,
                "outcome", WHACO_E_OUTCOME_VALUE);
    WHACO_CHECK(memchr(row->salesperson_id, '\0', sizeof row->salesperson_id) &&
                    (row->salesperson_id[0] ? whaco_member_id_valid(row->salesperson_id)
                                            : row->outcome != WHACO_OUTCOME_SOLD),
                "salespersonId", WHACO_E_ID_LENGTH);
    WHACO_CHECK(text_id_ok(row->deal_id, sizeof row->deal_id, 0), "dealId", WHACO_E_ID_LENGTH);
    WHACO_CHECK(row->time_ms >= 0, "time", WHACO_E_INVAL);
    *field = f;
    return rc;
}

/*
 * Which visit an outcome row is about (docs/outcomes.md, "Matching"): the
 * open walk-in if it arrived before the outcome, give or take the skew
 * (WHACO_OK, *k its index) -- unless the outcome is before its arrival and
 * an earlier visit ended that way, which it then is about -- else a
 * remembered end, else none. Changes nothing.
 */
static int outcome_match(const struct whaco_intel *in, const struct whaco_outcome_row *row,
                         uint32_t *k, struct whaco_outcome_detail *d)
{
    const struct whaco_floor *f = &in->floor;
    int32_t at = whaco_floor_find(f, row->customer_id);
    const struct whaco_visit_end *same = whaco_floor_last_end(f, row->customer_id, row->outcome);
    const struct whaco_visit_end *last = whaco_floor_last_end(f, row->customer_id, 0);
    size_t i;
    if (at >= 0 && row->time_ms >= f->open[at].arrived_ms - WHACO_OUTCOME_SKEW_MS &&
        !(same && row->time_ms < f->open[at].arrived_ms)) {
        const struct whaco_visit *v = &f->open[at];
        if (row->salesperson_id[0] &&
            whaco_team_find(&in->team, row->salesperson_id, &i) != WHACO_OK) {
            d->field = "salespersonId";
            return WHACO_E_NOT_FOUND;
        }
        if ((row->outcome == WHACO_OUTCOME_SOLD || row->salesperson_id[0]) &&
            strcmp(v->salesperson_id, row->salesperson_id) != 0) {
            d->field = "salespersonId";
            memcpy(d->with_id, v->salesperson_id, sizeof d->with_id);
            return WHACO_E_WRONG_SALESPERSON;
        }
        *k = (uint32_t)at;
        return WHACO_OK;
    }
    if (same || last) {
        d->recorded = same ? same->outcome : last->outcome;
        d->field = same ? NULL : "outcome";
        return same ? WHACO_E_ALREADY_RECORDED : WHACO_E_OUTCOME_CONFLICT;
    }
    d->field = "customerId";
    if (at >= 0) {
        d->arrived_ms = f->open[at].arrived_ms;
        d->field = "time";
        return WHACO_E_BEFORE_ARRIVAL;
    }
    return WHACO_E_CUSTOMER_NOT_FOUND;
}

int whaco_intel_outcome(struct whaco_intel *in, const struct whaco_outcome_row *row, int64_t now_ms,
                        struct whaco_floor_news *news, struct whaco_outcome_detail *detail)
{
    struct whaco_outcome_detail d;
    uint32_t k = 0;
    memset(&d, 0, sizeof d);
    int rc = check_time(in, now_ms);
    if (rc == WHACO_OK)
        rc = outcome_row_check(row, &d.field);
    if (rc == WHACO_OK && row->time_ms > now_ms + WHACO_OUTCOME_SKEW_MS) {
        rc = WHACO_E_TIME_FUTURE;
        d.field = "time";
    }
    if (rc == WHACO_OK && (in->floor.cfg.tracking == WHACO_TRACKING_OFF || !in->floor.tracked))
        rc = WHACO_E_FLOOR_OFF;
    if (rc == WHACO_OK)
        rc = outcome_match(in, row, &k, &d);
    if (detail)
        *detail = d;
    if (rc != WHACO_OK)
        return rc;
    /* The desk's own calls, whose checks the match has passed: they cannot fail. */
    if (row->outcome == WHACO_OUTCOME_SOLD)
        return whaco_intel_deal_closed(in, row->salesperson_id, row->customer_id, now_ms, news);
    return whaco_intel_customer_left(in, row->customer_id, row->outcome,
                                     row->salesperson_id[0] ? row->salesperson_id : NULL, now_ms,
                                     news);
}

int whaco_intel_override(struct whaco_intel *in, const char *customer_id,
                         const char *salesperson_id, int64_t now_ms, struct whaco_floor_news *news)
{
    size_t i;
    int rc = check_visit(in, customer_id, now_ms);
    if (rc == WHACO_OK)
        rc = whaco_team_find(&in->team, salesperson_id, &i);
    if (rc == WHACO_OK && in->team.members[i].seat.status == WHACO_SEAT_OFF)
        rc = WHACO_E_OFF_FLOOR;
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    return whaco_floor_override(&in->floor, &in->team, customer_id, salesperson_id, now_ms, news);
}

int whaco_intel_configure_floor(struct whaco_intel *in, const struct whaco_floor_config *cfg,
                                int64_t now_ms, struct whaco_floor_news *news)
{
    int rc = check_time(in, now_ms);
    if (rc == WHACO_OK)
        rc = whaco_floor_config_check(cfg, NULL);
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    return whaco_floor_configure(&in->floor, &in->team, cfg, now_ms, news);
}

int whaco_intel_configure_experiment(struct whaco_intel *in,
                                     const struct whaco_experiment_config *cfg, int64_t now_ms)
{
    int rc = check_time(in, now_ms);
    if (rc == WHACO_OK)
        rc = whaco_experiment_config_check(cfg, NULL);
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    whaco_experiment_start(&in->exp, cfg, now_ms);
    whaco_floor_clear_arms(&in->floor);
    return WHACO_OK;
}

int whaco_intel_tick(struct whaco_intel *in, int64_t now_ms)
{
    int rc = check_time(in, now_ms);
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    if (in->team.n > 0) {
        /* Cannot fail: the team is not empty and now_ms is the newest time. */
        rc = whaco_team_record(&in->team, now_ms);
        (void)rc;
    }
    return WHACO_OK;
}

int whaco_intel_daily_reset(struct whaco_intel *in, int64_t now_ms)
{
    int rc = check_time(in, now_ms);
    if (rc != WHACO_OK)
        return rc;
    advance_to(in, now_ms);
    whaco_team_daily_reset(&in->team);
    whaco_floor_daily_reset(&in->floor, &in->team);
    return WHACO_OK;
}

int whaco_intel_reset(struct whaco_intel *in, int64_t now_ms)
{
    struct whaco_segment_config seg_cfg = in->seg.cfg;
    struct whaco_team_config team_cfg = in->team.cfg;
    struct whaco_team fresh;
    int rc = check_time(in, now_ms);
    if (rc == WHACO_OK)
        rc = whaco_team_init(&fresh, &team_cfg, NULL);
    if (rc != WHACO_OK)
        return rc;
    whaco_team_release(&in->team);
    in->team = fresh;
    whaco_segmenter_init(&in->seg, &seg_cfg, NULL);
    whaco_floor_init(&in->floor, &in->floor.cfg);
    whaco_learn_init(&in->learn);
    whaco_experiment_start(&in->exp, &in->exp.cfg, now_ms);
    in->clock_ms = now_ms;
    in->clock_set = true;
    return WHACO_OK;
}

/*==== Saved state =========================================================*/

int whaco_intel_save(const struct whaco_intel *in, struct whaco_buf *b)
{
    struct whaco_state_writer w;
    size_t s;
    whaco_state_begin(&w, b);

    s = whaco_state_section_begin(&w, WHACO_TAG_SEGMENT);
    whaco_segmenter_encode(&in->seg, b);
    whaco_state_section_end(&w, s);

    s = whaco_state_section_begin(&w, WHACO_TAG_TEAM);
    whaco_team_encode(&in->team, b);
    whaco_state_section_end(&w, s);

    s = whaco_state_section_begin(&w, WHACO_TAG_INTEL);
    whaco_buf_put_u8(b, in->clock_set);
    whaco_buf_put_i64(b, in->clock_set ? in->clock_ms : 0);
    whaco_state_section_end(&w, s);

    s = whaco_state_section_begin(&w, WHACO_TAG_FLOOR);
    whaco_floor_encode(&in->floor, b);
    whaco_state_section_end(&w, s);

    s = whaco_state_section_begin(&w, WHACO_TAG_LEARN);
    whaco_learn_encode(&in->learn, b);
    whaco_state_section_end(&w, s);

    s = whaco_state_section_begin(&w, WHACO_TAG_EXPERIMENT);
    whaco_experiment_encode(&in->exp, b);
    whaco_state_section_end(&w, s);

    whaco_state_finish(&w);
    return whaco_buf_error(b);
}

int whaco_intel_load(struct whaco_intel *in, const void *p, size_t len)
{
    struct whaco_reader r, sec;
    uint32_t n, tag, seen = 0;
    int rc = whaco_state_open(&r, p, len, &n);
    /* Decode into scratch engines; *in changes only if everything is valid. */
    struct whaco_segmenter *seg = whaco_malloc(sizeof *seg);
    struct whaco_floor *floor = whaco_malloc(sizeof *floor);
    struct whaco_team team;
    struct whaco_learn learn;
    struct whaco_experiment exp;
    uint8_t clock_set = 0;
    int64_t clock_ms = 0;
    /* Sections seen: bits 1 SEGM, 2 TEAM, 4 INTL, 8 FLOR, 16 LERN, 32 EXPT;
     * the last three are newer than the others and may be missing (defaults). */
    const uint32_t required = 7, floor_bit = 8, learn_bit = 16, exp_bit = 32;

    memset(&team, 0, sizeof team);
    if (!seg || !floor) {
        whaco_free(seg);
        whaco_free(floor);
        return WHACO_E_NOMEM;
    }
    whaco_learn_init(&learn);
    whaco_experiment_init(&exp);
    if (rc == WHACO_OK && (n < 3 || n > 6))
        rc = WHACO_E_STATE_CORRUPT;
    for (uint32_t i = 0; rc == WHACO_OK && i < n; i++) {
        rc = whaco_state_section(&r, &tag, &sec);
        if (rc != WHACO_OK)
            break;
        if (tag == WHACO_TAG_SEGMENT && !(seen & 1)) {
            rc = whaco_segmenter_decode(seg, &sec);
            seen |= 1;
        } else if (tag == WHACO_TAG_TEAM && !(seen & 2)) {
            rc = whaco_team_decode(&team, &sec);
            seen |= 2;
        } else if (tag == WHACO_TAG_INTEL && !(seen & 4)) {
            clock_set = whaco_reader_u8(&sec);
            clock_ms = whaco_reader_i64(&sec);
            if (clock_set > 1 || (!clock_set && clock_ms != 0))
                whaco_reader_fail(&sec);
            rc = sec.err;
            seen |= 4;
        } else if (tag == WHACO_TAG_FLOOR && (seen & 2) && !(seen & 8)) {
            whaco_floor_decode(floor, &team, &sec); /* after TEAM: it names the team's members */
            rc = sec.err;
            seen |= 8;
        } else if (tag == WHACO_TAG_LEARN && !(seen & learn_bit)) {
            whaco_learn_decode(&learn, &sec);
            rc = sec.err;
            seen |= learn_bit;
        } else if (tag == WHACO_TAG_EXPERIMENT && !(seen & exp_bit)) {
            whaco_experiment_decode(&exp, &sec);
            rc = sec.err;
            seen |= exp_bit;
        } else {
            rc = WHACO_E_STATE_CORRUPT; /* unknown or repeated section */
        }
        if (rc == WHACO_OK && sec.off != sec.len)
            rc = WHACO_E_STATE_CORRUPT; /* trailing bytes in a section */
    }
    if (rc == WHACO_OK && ((seen & required) != required || r.off != r.len))
        rc = WHACO_E_STATE_CORRUPT;
    if (rc == WHACO_OK && !(seen & floor_bit)) { /* saved before the floor: untracked */
        struct whaco_floor_config cfg;
        whaco_floor_config_default(&cfg);
        whaco_floor_init(floor, &cfg);
        /* ... so nobody may be on it or held (a TEAM section of layout 2
         * always comes with its FLOR section). */
        for (size_t i = 0; i < team.n; i++)
            if (team.members[i].held || team.members[i].seat.status != WHACO_SEAT_OFF)
                rc = WHACO_E_STATE_CORRUPT;
    }
    /* The walk-ins in the store are in the running experiment's arms, or in none. */
    if (rc == WHACO_OK && !whaco_experiment_fits_floor(&exp, floor))
        rc = WHACO_E_STATE_CORRUPT;
    if (rc == WHACO_OK) {
        in->seg = *seg;
        in->floor = *floor;
        in->learn = learn;
        in->exp = exp;
        whaco_team_release(&in->team);
        in->team = team;
        in->clock_set = clock_set;
        in->clock_ms = clock_ms;
    } else {
        whaco_team_release(&team);
    }
    whaco_free(seg);
    whaco_free(floor);
    return rc;
}

/*
 * run.c: the discrete-event engine of the sales-floor simulation
 * (whaco/sim.h): one strategy played on one world.
 *
 * Events, in time order (ties in this order, then by customer index):
 * service ends (a slot frees), clock events (network tick, midnight reset,
 * team changes, recorded deals), closing time, abandonments, arrivals. The
 * floor: each salesperson works at most max_load walk-ins at once; a
 * walk-in nobody can take waits in one first-come-first-served line (the
 * oscillator strategy instead assigns at arrival, as the service does, and
 * the walk-in waits for *that* salesperson); a waiting walk-in leaves after
 * its patience, and everybody still waiting at closing time goes home.
 *
 * Invariants: load[m] <= max_load; each walk-in gets exactly one fate;
 * every random number comes from the world (common random numbers), so the
 * run is a deterministic function of (world, params, strategy). The model
 * formulas are documented in docs/simulation.md and in whaco/sim.h.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/intel.h"
#include "whaco/sim.h"
#include "sim/internal.h"
#include "banned.h"

#define MS_PER_MIN 60000.0
/* A replayed walk-in whose timeOnLot was unknown when it was analysed: the
 * median of the generator's customers (100,000 of seed 3: 93 minutes). */
#define UNKNOWN_TIME_ON_LOT_MIN 93.0

enum cstate { PENDING = 0, QUEUED = 1, IN_SERVICE = 2, DONE = 3 };
enum hkind { H_END = 0, H_ABANDON = 1 };

struct hev {
    int64_t t;
    uint32_t kind; /* enum hkind */
    uint32_t idx;  /* customer */
};

struct run {
    const struct whaco_sim_world *w;
    const struct whaco_sim_params *p;
    int strategy;
    const struct whaco_experiment_config *exp; /* an A/B test on the floor, or NULL */
    bool floor; /* played on the core's tracked floor (every strategy but the oscillator) */
    struct whaco_intel in;
    struct whaco_sim_outcome *out;
    size_t n; /* members */
    bool *present;
    bool *top;
    uint32_t *load, *pq_len, *leads, *deals;
    int64_t *free_since, *idle_since;
    int32_t *qhead, *qtail; /* personal lines (oscillator) */
    int32_t ghead, gtail;   /* the shared line */
    int32_t *next;          /* per customer: next in its line */
    int32_t *qm;            /* per customer: personal line's member, -1 shared */
    unsigned char *state;   /* per customer: enum cstate */
    int32_t *wseg;          /* per customer: whaco's segment, -1 for an outlier */
    struct hev *heap;
    size_t heap_n, heap_cap;
    size_t rr;
    double r_sum, cov_sum; /* coherence and coverage summed over business-hours ticks */
    size_t r_n;
    uint32_t peak;
    int64_t last_t;
    size_t next_arrival; /* cursors into the world's sorted sources: customers[] */
    size_t next_clock;   /* clock[] */
    size_t next_close;   /* closes[] */
};

/* ===== The event heap ===== */

static bool hev_less(const struct hev *a, const struct hev *b)
{
    if (a->t != b->t)
        return a->t < b->t;
    if (a->kind != b->kind)
        return a->kind < b->kind;
    return a->idx < b->idx;
}

static void heap_push(struct run *r, int64_t t, uint32_t kind, size_t idx)
{
    if (r->heap_n == r->heap_cap) {
        r->heap_cap = r->heap_cap ? r->heap_cap * 2 : 64;
        r->heap = whaco_xreallocarray(r->heap, r->heap_cap, sizeof *r->heap);
    }
    size_t i = r->heap_n++;
    r->heap[i].t = t;
    r->heap[i].kind = kind;
    r->heap[i].idx = (uint32_t)idx;
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!hev_less(&r->heap[i], &r->heap[parent]))
            break;
        struct hev tmp = r->heap[i];
        r->heap[i] = r->heap[parent];
        r->heap[parent] = tmp;
        i = parent;
    }
}

static struct hev heap_pop(struct run *r)
{
    struct hev top = r->heap[0];
    r->heap[0] = r->heap[--r->heap_n];
    size_t i = 0;
    for (;;) {
        size_t l = 2 * i + 1, rt = l + 1, m = i;
        if (l < r->heap_n && hev_less(&r->heap[l], &r->heap[m]))
            m = l;
        if (rt < r->heap_n && hev_less(&r->heap[rt], &r->heap[m]))
            m = rt;
        if (m == i)
            break;
        struct hev tmp = r->heap[i];
        r->heap[i] = r->heap[m];
        r->heap[m] = tmp;
        i = m;
    }
    return top;
}

/* ===== Lines ===== */

static void line_push(int32_t *head, int32_t *tail, int32_t *next, size_t i)
{
    next[i] = -1;
    if (*tail >= 0)
        next[*tail] = (int32_t)i;
    else
        *head = (int32_t)i;
    *tail = (int32_t)i;
}

/* Pop the first walk-in still waiting (abandoned ones are skipped lazily); -1 if none. */
static int32_t line_pop(struct run *r, int32_t *head, int32_t *tail)
{
    while (*head >= 0) {
        int32_t i = *head;
        *head = r->next[i];
        if (*head < 0)
            *tail = -1;
        if (r->state[i] == QUEUED)
            return i;
    }
    return -1;
}

/* ===== Strategies ===== */

/*
 * The core's rule a strategy plays on the tracked floor. random and
 * skill-match are the simulator's own baselines: the floor runs
 * up-rotation and the simulator hands each walk-in to its own choice as a
 * manager's override would (choose). The oscillator plays the seed's
 * untracked floor.
 */
static enum whaco_floor_rule floor_rule(int strategy)
{
    switch (strategy) {
    case WHACO_SIM_ROUND_ROBIN:
        return WHACO_RULE_ROUND_ROBIN;
    case WHACO_SIM_LEAST_BUSY:
        return WHACO_RULE_LEAST_BUSY;
    case WHACO_SIM_NETWORK:
        return WHACO_RULE_NETWORK;
    case WHACO_SIM_UP_ROTATION:
    case WHACO_SIM_RANDOM:
    case WHACO_SIM_SKILL_MATCH:
    case WHACO_SIM_OSCILLATOR:
        return WHACO_RULE_UP_ROTATION;
    default:
        return WHACO_RULE_UP_ROTATION; /* not reached: whaco_sim_run refuses other strategies */
    }
}

/* The floor's name of walk-in i, and back. */
static void walkin_id(char id[WHACO_ID_MAX], size_t i)
{
    snprintf(id, WHACO_ID_MAX, "w%zu", i);
}

static size_t walkin_index(const char *id)
{
    return (size_t)strtoull(id + 1, NULL, 10);
}

/* Whether member m can take a walk-in now (the floor's answer on a floor run). */
static bool is_free(const struct run *r, size_t m)
{
    size_t ti;
    if (!r->floor)
        return r->present[m] && r->load[m] < r->p->max_load;
    return r->present[m] && whaco_team_find(&r->in.team, r->w->members[m].id, &ti) == WHACO_OK &&
           whaco_floor_is_free(&r->in.floor, &r->in.team, ti);
}

/*
 * random and skill-match: the member to give walk-in i of priority prio,
 * among the free and `also` (the member the floor just gave it, whose slot
 * this is). random: uniform, with the walk-in's own draw; skill-match: a
 * high priority to the most skilled, everyone else to the least skilled
 * (keeping the best free for the next high priority); ties to the lowest
 * index.
 */
static size_t choose(const struct run *r, size_t i, double prio, size_t also)
{
    const struct whaco_sim_world *w = r->w;
    size_t best = SIZE_MAX, nfree = 0, k;
    for (size_t m = 0; m < r->n; m++)
        nfree += m == also || is_free(r, m);
    if (nfree == 0)
        return SIZE_MAX;
    k = (size_t)(w->customers[i].u_pick * (double)nfree);
    if (k >= nfree)
        k = nfree - 1;
    for (size_t m = 0; m < r->n; m++) {
        if (m != also && !is_free(r, m))
            continue;
        if (r->strategy == WHACO_SIM_RANDOM) {
            if (k-- == 0)
                return m;
        } else if (best == SIZE_MAX ||
                   (prio >= r->p->high_priority ? w->members[m].skill > w->members[best].skill
                                                : w->members[m].skill < w->members[best].skill)) {
            best = m;
        }
    }
    return best;
}

/* ===== The model ===== */

static double clamp01(double x)
{
    return x < 0.0 ? 0.0 : (x > 1.0 ? 1.0 : x);
}

/* The chance walk-in i closes with member m (skill s_entered) as its k-th customer at once. */
static double close_chance(const struct run *r, size_t i, size_t m, uint32_t k)
{
    const struct whaco_sim_params *p = r->p;
    const struct whaco_sim_customer *cu = &r->w->customers[i];
    const struct whaco_sim_outcome *o = &r->out[i];
    int seg = cu->segment;
    if (seg < -1) /* replay: the segment whaco gave, an outlier as an anomaly */
        seg = r->wseg[i];
    double base = seg >= 0 && seg < WHACO_CLUSTERS ? p->close_base[seg] : p->close_anomaly;
    if (p->feature_close_gain > 0.0 && base > 0.0 && base < 1.0) {
        double lift = whaco__sim_intent(&cu->c) -
                      (seg >= 0 && seg < WHACO_CLUSTERS ? r->w->intent_center[seg] : 0.0);
        base = 1.0 / (1.0 + exp(-(log(base / (1.0 - base)) + p->feature_close_gain * lift)));
    }
    double s = r->w->members[m].skill;
    if (r->w->true_skill && seg >= 0 && seg < WHACO_CLUSTERS)
        s = r->w->true_skill[m * WHACO_CLUSTERS + (size_t)seg];
    return clamp01(base * (1.0 + p->skill_close_gain * (s - 0.5) * 2.0 * o->priority) *
                   clamp01(1.0 - p->load_close_loss * (double)(k - 1)) /
                   (1.0 + o->wait_min / p->wait_halfway_min));
}

static void note_peak(struct run *r, size_t m)
{
    uint32_t l = r->load[m] + r->pq_len[m];
    if (l > r->peak)
        r->peak = l;
}

static void start_service(struct run *r, size_t i, size_t m, int64_t t)
{
    const struct whaco_sim_params *p = r->p;
    const struct whaco_sim_customer *cu = &r->w->customers[i];
    struct whaco_sim_outcome *o = &r->out[i];
    double s = r->w->members[m].skill;
    uint32_t k = ++r->load[m];

    r->leads[m]++;
    r->state[i] = IN_SERVICE;
    o->member = (int32_t)m;
    o->fate = WHACO_SIM_SERVED;
    o->start_ms = t;
    o->wait_min = (double)(t - cu->arrive_ms) / MS_PER_MIN;

    /* Time with the customer: their own time on the lot (the generator's
     * per-segment figure; a typical one when it was unknown), quicker with
     * skill, slower when multitasking. */
    double own =
        cu->c.missing & WHACO_FIELD_TIME_ON_LOT ? UNKNOWN_TIME_ON_LOT_MIN : cu->c.time_on_lot;
    double base = own < 5.0 ? 5.0 : (own > 240.0 ? 240.0 : own);
    double minutes =
        base * (1.0 + p->skill_time_gain * (0.5 - s)) * (1.0 + p->load_time_gain * (double)(k - 1));
    int64_t end = t + (int64_t)(minutes * MS_PER_MIN);

    if (cu->rec_member == (int32_t)m && cu->rec_closed >= 0) {
        /* Replay, same salesperson as in reality: the recorded outcome. */
        o->closed = cu->rec_closed;
        o->guessed = 0;
        if (o->closed)
            end = cu->rec_close_ms > t ? cu->rec_close_ms : t + (int64_t)MS_PER_MIN;
    } else {
        o->chance = close_chance(r, i, m, k);
        o->closed = cu->u_close < o->chance;
        o->guessed = cu->rec_closed >= 0 || cu->rec_member >= 0;
    }
    o->end_ms = end;
    note_peak(r, m);
    heap_push(r, end, H_END, i);
}

static void apply_news(struct run *r, const struct whaco_floor_news *news, int64_t t);

/*
 * The floor gave walk-in i to sim member m (by its rule, or a manager's
 * override). random and skill-match hand it to their own choice instead,
 * as an override, whose news comes back here as final.
 */
static void floor_gave(struct run *r, size_t i, size_t m, bool override, int64_t t)
{
    if (!override && (r->strategy == WHACO_SIM_RANDOM || r->strategy == WHACO_SIM_SKILL_MATCH)) {
        size_t want = choose(r, i, r->out[i].priority, m);
        if (want != SIZE_MAX && want != m) {
            struct whaco_floor_news news;
            char id[WHACO_ID_MAX];
            memset(&news, 0, sizeof news);
            walkin_id(id, i);
            if (whaco_intel_override(&r->in, id, r->w->members[want].id, t, &news) == WHACO_OK) {
                apply_news(r, &news, t);
                return;
            }
        }
    }
    start_service(r, i, m, t);
}

/*
 * What the floor did (whaco_floor_news): a waiting walk-in given to someone
 * starts its service; one already in service moved (its salesperson left
 * the team) goes on with the new one.
 */
static void apply_news(struct run *r, const struct whaco_floor_news *news, int64_t t)
{
    for (uint32_t k = 0; k < news->n; k++) {
        const struct whaco_assignment *a = &news->a[k];
        size_t i = walkin_index(a->customer_id);
        size_t m = whaco__sim_find_member(r->w, a->salesperson_id);
        if (i >= r->w->n_customers || m == SIZE_MAX)
            continue;
        if (r->state[i] == QUEUED) {
            floor_gave(r, i, m, a->override, t);
        } else if (r->state[i] == IN_SERVICE && r->out[i].member != (int32_t)m) {
            r->load[r->out[i].member]--;
            r->load[m]++;
            r->out[i].member = (int32_t)m;
        }
    }
}

/* Service of walk-in i ends at t: a sale or not, told to the floor (floor runs). */
static int end_on_floor(struct run *r, size_t i, int64_t t)
{
    struct whaco_floor_news news;
    char id[WHACO_ID_MAX];
    size_t m = (size_t)r->out[i].member;
    int rc;
    memset(&news, 0, sizeof news);
    walkin_id(id, i);
    if (r->out[i].closed)
        rc = whaco_intel_deal_closed(&r->in, r->w->members[m].id, id, t, &news);
    else
        rc = whaco_intel_customer_left(&r->in, id, WHACO_OUTCOME_NO_SALE, NULL, t, &news);
    if (rc == WHACO_E_NOT_FOUND || rc == WHACO_E_CUSTOMER_NOT_FOUND)
        rc = WHACO_OK; /* the salesperson left the team: the floor forgot the walk-in */
    if (rc == WHACO_OK)
        apply_news(r, &news, t);
    return rc;
}

static int end_service(struct run *r, size_t i, int64_t t)
{
    size_t m = (size_t)r->out[i].member;
    r->state[i] = DONE;
    r->load[m]--;
    r->free_since[m] = t;
    if (r->load[m] == 0)
        r->idle_since[m] = t;
    if (r->out[i].closed)
        r->deals[m]++;
    if (r->floor)
        return end_on_floor(r, i, t);
    if (r->out[i].closed && r->present[m]) {
        int rc = whaco_intel_deal_closed(&r->in, r->w->members[m].id, NULL, t, NULL);
        if (rc != WHACO_OK)
            return rc;
    }
    if (!r->present[m])
        return WHACO_OK;
    /* The oscillator's walk-ins wait for the one salesperson they were given. */
    int32_t j = line_pop(r, &r->qhead[m], &r->qtail[m]);
    if (j >= 0) {
        r->pq_len[m]--;
        start_service(r, (size_t)j, m, t);
    }
    return WHACO_OK;
}

static int arrive(struct run *r, size_t i, int64_t t)
{
    const struct whaco_sim_customer *cu = &r->w->customers[i];
    struct whaco_sim_outcome *o = &r->out[i];
    struct whaco_customer c = cu->c;
    struct whaco_analysis an;
    const char *field = NULL;
    size_t m = SIZE_MAX;

    if (r->floor)
        walkin_id(c.id, i); /* the floor's name for it (customer-left, deal-closed) */
    int rc = whaco_intel_analyze(&r->in, &c, t, &an, &field);
    if (rc != WHACO_OK)
        return rc;
    o->priority = an.segment.priority;
    o->close_p = an.close_probability;
    o->cluster = an.segment.cluster_id;
    o->outlier = an.segment.is_outlier;
    r->wseg[i] = an.segment.is_outlier ? -1 : an.segment.cluster_id;
    if (an.assigned_id[0])
        m = whaco__sim_find_member(r->w, an.assigned_id);

    if (r->floor && m != SIZE_MAX) {
        r->state[i] = QUEUED; /* until floor_gave starts the service */
        floor_gave(r, i, m, false, t);
        return WHACO_OK;
    }
    if (!r->floor && m != SIZE_MAX) {
        if (r->load[m] < r->p->max_load) {
            start_service(r, i, m, t);
            return WHACO_OK;
        }
        r->qm[i] = (int32_t)m; /* the oscillator: wait for that salesperson */
        line_push(&r->qhead[m], &r->qtail[m], r->next, i);
        r->pq_len[m]++;
        note_peak(r, m);
    }
    r->state[i] = QUEUED; /* at the desk: the floor's line (or nobody on the team) */
    heap_push(r, t + (int64_t)(cu->patience_min * MS_PER_MIN), H_ABANDON, i);
    return WHACO_OK;
}

/* Walk-in i, still waiting at t, leaves: told to the floor on a floor run. */
static int leave_waiting(struct run *r, size_t i, int64_t t, int fate)
{
    r->state[i] = DONE;
    r->out[i].fate = fate;
    r->out[i].wait_min = (double)(t - r->w->customers[i].arrive_ms) / MS_PER_MIN;
    r->out[i].end_ms = t;
    if (r->qm[i] >= 0)
        r->pq_len[r->qm[i]]--;
    if (!r->floor)
        return WHACO_OK;
    char id[WHACO_ID_MAX];
    walkin_id(id, i);
    int rc = whaco_intel_customer_left(&r->in, id, WHACO_OUTCOME_NO_SALE, NULL, t, NULL);
    return rc == WHACO_E_CUSTOMER_NOT_FOUND ? WHACO_OK : rc;
}

static int abandon(struct run *r, size_t i, int64_t t)
{
    return r->state[i] == QUEUED ? leave_waiting(r, i, t, WHACO_SIM_ABANDONED) : WHACO_OK;
}

/* Everyone still waiting goes home (closing time, or the end of a replay). */
static int send_home(struct run *r, int64_t t)
{
    int rc = WHACO_OK;
    for (size_t i = 0; i < r->w->n_customers && rc == WHACO_OK; i++)
        if (r->state[i] == QUEUED)
            rc = leave_waiting(r, i, t, WHACO_SIM_AT_CLOSE);
    r->ghead = r->gtail = -1;
    for (size_t m = 0; m < r->n; m++) {
        r->qhead[m] = r->qtail[m] = -1;
        r->pq_len[m] = 0;
    }
    return rc;
}

static bool business_hours(const struct whaco_sim_world *w, int64_t t)
{
    if (w->n_days == 0)
        return true;
    for (size_t d = 0; d < w->n_days; d++) {
        if (t > w->opens[d] && t <= w->closes[d])
            return true;
    }
    return false;
}

static int clock_event(struct run *r, const struct whaco_sim_clock *k)
{
    int rc = WHACO_OK;
    const char *field = NULL;
    struct whaco_floor_news news;
    switch (k->type) {
    case WHACO_SIM_TICK:
        rc = whaco_intel_tick(&r->in, k->t_ms);
        if (rc == WHACO_OK && r->in.team.n > 0 && business_hours(r->w, k->t_ms)) {
            double cr, psi;
            whaco_team_coherence(&r->in.team, &cr, &psi);
            r->r_sum += cr;
            r->cov_sum += whaco_floor_coverage(&r->in.team);
            r->r_n++;
        }
        return rc;
    case WHACO_SIM_RESET:
        return whaco_intel_daily_reset(&r->in, k->t_ms);
    case WHACO_SIM_DEAL:
        /* A recorded deal linked to no walk-in of the world: on a floor run it
         * would close that salesperson's oldest simulated walk-in, so only
         * the seed's floor hears it. */
        if (r->floor)
            return WHACO_OK;
        rc = whaco_intel_deal_closed(&r->in, r->w->members[k->member].id, NULL, k->t_ms, NULL);
        return rc == WHACO_E_NOT_FOUND ? WHACO_OK : rc;
    case WHACO_SIM_ADD: {
        const struct whaco_sim_member *mm = &r->w->members[k->member];
        struct whaco_member_spec spec = {mm->id, mm->name, mm->skill, mm->omega, mm->phase, 0};
        rc = whaco_intel_add_salesperson(&r->in, &spec, k->t_ms, &field);
        if (rc == WHACO_OK) {
            r->present[k->member] = true;
            r->idle_since[k->member] = r->free_since[k->member] = k->t_ms;
        }
        if (rc == WHACO_OK && r->floor)
            rc = whaco_intel_clock_in(&r->in, mm->id, k->t_ms, NULL);
        return rc;
    }
    case WHACO_SIM_REMOVE:
        r->present[k->member] = false;
        memset(&news, 0, sizeof news);
        rc = whaco_intel_remove_salesperson(&r->in, r->w->members[k->member].id, k->t_ms, &news);
        if (rc == WHACO_OK)
            apply_news(r, &news, k->t_ms);
        return rc == WHACO_E_NOT_FOUND ? WHACO_OK : rc;
    default:
        return WHACO_E_INVAL;
    }
}

/* ===== Metrics ===== */

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static void finish(struct run *r, struct whaco_sim_result *res)
{
    const struct whaco_sim_world *w = r->w;
    size_t nc = w->n_customers;
    double *waits = whaco_xmalloc((nc ? nc : 1) * sizeof *waits);
    double *v = whaco_xmalloc(r->n * sizeof *v);
    double wsum = 0.0;

    memset(res, 0, sizeof *res);
    res->walkins = (uint32_t)nc;
    for (size_t i = 0; i < nc; i++) {
        const struct whaco_sim_outcome *o = &r->out[i];
        waits[i] = o->wait_min;
        wsum += o->wait_min;
        if (o->fate == WHACO_SIM_SERVED) {
            res->served++;
            res->deals += o->closed ? 1u : 0u;
            res->guessed += o->guessed ? 1u : 0u;
            if (o->priority >= r->p->high_priority) {
                res->high_priority++;
                res->high_by_top += r->top[o->member] ? 1u : 0u;
            }
        } else if (o->fate == WHACO_SIM_ABANDONED) {
            res->abandoned++;
        } else {
            res->at_close++;
        }
    }
    if (nc > 0) {
        qsort(waits, nc, sizeof *waits, cmp_double);
        size_t rank = (size_t)ceil(0.95 * (double)nc);
        res->wait_p95_min = waits[rank > 0 ? rank - 1 : 0];
        res->wait_mean_min = wsum / (double)nc;
        res->close_rate = (double)res->deals / (double)nc;
    }
    res->peak_load = r->peak;
    res->leads_per_member = (double)res->served / (double)r->n;
    res->deals_per_member = (double)res->deals / (double)r->n;
    for (size_t m = 0; m < r->n; m++)
        v[m] = (double)r->leads[m];
    res->leads_gini = whaco_sim_gini(v, r->n);
    for (size_t m = 0; m < r->n; m++)
        v[m] = (double)r->deals[m];
    res->deals_gini = whaco_sim_gini(v, r->n);
    res->top_skill_share =
        res->high_priority ? (double)res->high_by_top / (double)res->high_priority : 0.0;
    res->coherence_mean = r->r_n ? r->r_sum / (double)r->r_n : 0.0;
    res->coverage_mean = r->r_n ? r->cov_sum / (double)r->r_n : 0.0;
    double act = 0.0;
    for (size_t m = 0; m < r->in.team.n; m++)
        act += (double)r->in.team.members[m].active_deals;
    res->net_active_mean = r->in.team.n ? act / (double)r->in.team.n : 0.0;
    whaco_free(waits);
    whaco_free(v);
}

static void run_release(struct run *r)
{
    whaco_intel_release(&r->in);
    whaco_free(r->present);
    whaco_free(r->top);
    whaco_free(r->load);
    whaco_free(r->pq_len);
    whaco_free(r->leads);
    whaco_free(r->deals);
    whaco_free(r->free_since);
    whaco_free(r->idle_since);
    whaco_free(r->qhead);
    whaco_free(r->qtail);
    whaco_free(r->next);
    whaco_free(r->qm);
    whaco_free(r->state);
    whaco_free(r->wseg);
    whaco_free(r->heap);
}

/* Top third by skill: fewer than ceil(n/3) colleagues are more skilled. */
static void mark_top_third(struct run *r)
{
    const struct whaco_sim_member *members = r->w->members;
    for (size_t m = 0; m < r->n; m++) {
        size_t above = 0;
        for (size_t k = 0; k < r->n; k++)
            above += members[k].skill > members[m].skill;
        r->top[m] = above < (r->n + 2) / 3;
    }
}

/*
 * Set up *r (zeroed, with w, p, strategy and n set) for a run: the network
 * (w->state, or empty), the per-member and per-customer arrays (out, or
 * allocated when NULL), the empty lines, the team present at the start.
 * WHACO_OK, or the network's error with r->in released.
 */
static int run_init(struct run *r, struct whaco_sim_outcome *out)
{
    const struct whaco_sim_world *w = r->w;
    size_t n = r->n, nc = w->n_customers, ncs = nc ? nc : 1;
    int rc = whaco_intel_init(&r->in, NULL, NULL, NULL);
    if (rc == WHACO_OK && w->state)
        rc = whaco_intel_load(&r->in, w->state, w->state_len);
    if (rc != WHACO_OK) {
        whaco_intel_release(&r->in);
        return rc;
    }
    r->out = out ? out : whaco_xcalloc(ncs, sizeof *r->out);
    memset(r->out, 0, ncs * sizeof *r->out);
    r->present = whaco_xcalloc(n, sizeof *r->present);
    r->top = whaco_xcalloc(n, sizeof *r->top);
    r->load = whaco_xcalloc(n, sizeof *r->load);
    r->pq_len = whaco_xcalloc(n, sizeof *r->pq_len);
    r->leads = whaco_xcalloc(n, sizeof *r->leads);
    r->deals = whaco_xcalloc(n, sizeof *r->deals);
    r->free_since = whaco_xcalloc(n, sizeof *r->free_since);
    r->idle_since = whaco_xcalloc(n, sizeof *r->idle_since);
    r->qhead = whaco_xmalloc(n * sizeof *r->qhead);
    r->qtail = whaco_xmalloc(n * sizeof *r->qtail);
    r->next = whaco_xmalloc(ncs * sizeof *r->next);
    r->qm = whaco_xmalloc(ncs * sizeof *r->qm);
    r->state = whaco_xcalloc(ncs, 1);
    r->wseg = whaco_xcalloc(ncs, sizeof *r->wseg);
    r->ghead = r->gtail = -1;
    for (size_t m = 0; m < n; m++)
        r->qhead[m] = r->qtail[m] = -1;
    for (size_t i = 0; i < nc; i++) {
        r->qm[i] = -1;
        r->out[i].member = -1;
    }
    mark_top_third(r);
    r->floor = r->strategy != WHACO_SIM_OSCILLATOR;
    struct whaco_floor_config fc;
    whaco_floor_config_default(&fc);
    fc.tracking = r->floor ? WHACO_TRACKING_ON : WHACO_TRACKING_OFF;
    fc.rule = floor_rule(r->strategy);
    fc.max_customers = r->floor ? r->p->max_load : 1; /* the oscillator keeps its own lines */
    rc = whaco_intel_configure_floor(&r->in, &fc, w->start_ms, NULL);
    /* An experiment run splits every walk-in and gives it out by its arm's
     * rule; any other plays its own rule, even from a recorded state that
     * ran an experiment (replay). */
    struct whaco_experiment_config off;
    memset(&off, 0, sizeof off);
    if (rc == WHACO_OK)
        rc = whaco_intel_configure_experiment(&r->in, r->exp ? r->exp : &off, w->start_ms);
    for (size_t m = 0; m < w->n_initial && m < n && rc == WHACO_OK; m++) {
        r->present[m] = true;
        r->idle_since[m] = r->free_since[m] = w->start_ms;
        if (r->floor)
            rc = whaco_intel_clock_in(&r->in, w->members[m].id, w->start_ms, NULL);
    }
    if (rc != WHACO_OK)
        run_release(r);
    else
        r->in.floor.entered_skills_only = !r->p->observed_skills;
    return rc;
}

/* The sources of events, merged in time order; at equal times in this order:
 * heap END < clock < closing < heap ABANDON < arrival. */
enum source { SRC_NONE = -1, SRC_END, SRC_CLOCK, SRC_CLOSE, SRC_ABANDON, SRC_ARRIVAL };

/* The source whose next event comes first, its time in *t; SRC_NONE when all are done. */
static enum source next_source(const struct run *r, int64_t *t)
{
    const struct whaco_sim_world *w = r->w;
    int64_t best = INT64_MAX;
    enum source src = SRC_NONE;
    if (r->heap_n > 0 && r->heap[0].kind == H_END) {
        best = r->heap[0].t;
        src = SRC_END;
    }
    if (r->next_clock < w->n_clock && w->clock[r->next_clock].t_ms < best) {
        best = w->clock[r->next_clock].t_ms;
        src = SRC_CLOCK;
    }
    if (r->next_close < w->n_days && w->closes[r->next_close] < best) {
        best = w->closes[r->next_close];
        src = SRC_CLOSE;
    }
    if (r->heap_n > 0 && r->heap[0].kind == H_ABANDON && r->heap[0].t < best) {
        best = r->heap[0].t;
        src = SRC_ABANDON;
    }
    if (r->next_arrival < w->n_customers && w->customers[r->next_arrival].arrive_ms < best) {
        best = w->customers[r->next_arrival].arrive_ms;
        src = SRC_ARRIVAL;
    }
    *t = best;
    return src;
}

/* Play every event of the world in time order; WHACO_OK or the network's error. */
static int play(struct run *r)
{
    const struct whaco_sim_world *w = r->w;
    int rc = WHACO_OK;
    while (rc == WHACO_OK) {
        int64_t t;
        struct hev e;
        enum source src = next_source(r, &t);
        if (src == SRC_NONE)
            break;
        /* The network's clock must not go backwards: service may end past the
         * last clock event, but the deal is recorded at its own time. */
        if (t > r->last_t)
            r->last_t = t;
        switch (src) {
        case SRC_END:
            e = heap_pop(r);
            rc = end_service(r, e.idx, e.t);
            break;
        case SRC_CLOCK:
            rc = clock_event(r, &w->clock[r->next_clock++]);
            break;
        case SRC_CLOSE:
            rc = send_home(r, w->closes[r->next_close++]);
            break;
        case SRC_ABANDON:
            e = heap_pop(r);
            rc = abandon(r, e.idx, e.t);
            break;
        case SRC_ARRIVAL:
            rc = arrive(r, r->next_arrival, w->customers[r->next_arrival].arrive_ms);
            r->next_arrival++;
            break;
        case SRC_NONE:
            break; /* not reached: the loop ended above */
        }
    }
    return rc;
}

/*
 * Play strategy on w, with the A/B test exp on the floor if not NULL
 * (whose counts at the end go to *exp_out); see whaco_sim_run.
 */
static int run_one(const struct whaco_sim_world *w, const struct whaco_sim_params *p, int strategy,
                   const struct whaco_experiment_config *exp, struct whaco_sim_result *res,
                   struct whaco_sim_outcome *out, struct whaco_experiment *exp_out)
{
    struct run r;
    if (strategy < 0 || strategy >= WHACO_SIM_STRATEGIES || w->n_members == 0)
        return WHACO_E_INVAL;
    if (strategy != WHACO_SIM_OSCILLATOR && p->max_load > WHACO_FLOOR_CUSTOMERS_MAX)
        return WHACO_E_CONFIG; /* the floor holds at most that many walk-ins per salesperson */
    memset(&r, 0, sizeof r);
    r.w = w;
    r.p = p;
    r.strategy = strategy;
    r.exp = exp;
    r.n = w->n_members;
    int rc = run_init(&r, out);
    if (rc != WHACO_OK)
        return rc;
    rc = play(&r);
    if (rc == WHACO_OK)
        rc = send_home(&r, r.last_t);
    if (rc == WHACO_OK)
        finish(&r, res);
    if (rc == WHACO_OK && exp_out)
        *exp_out = r.in.exp;
    if (!out)
        whaco_free(r.out);
    run_release(&r);
    return rc;
}

int whaco_sim_run(const struct whaco_sim_world *w, const struct whaco_sim_params *p, int strategy,
                  struct whaco_sim_result *res, struct whaco_sim_outcome *out)
{
    return run_one(w, p, strategy, NULL, res, out, NULL);
}

int whaco_sim_run_experiment(const struct whaco_sim_world *w, const struct whaco_sim_params *p,
                             const struct whaco_experiment_config *exp,
                             struct whaco_sim_result *res, struct whaco_experiment *exp_out)
{
    if (!exp->enabled || whaco_experiment_config_check(exp, NULL) != WHACO_OK)
        return WHACO_E_CONFIG;
    /* The floor's own rule gives out only what no arm does (none: everyone arrives after the
     * start). */
    return run_one(w, p, WHACO_SIM_UP_ROTATION, exp, res, NULL, exp_out);
}

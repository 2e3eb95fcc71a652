/*
 * replay.c: a simulated world from a service's recorded event log
 * (whaco_sim_world_from_events in whaco/sim.h), for `whaco replay`.
 *
 * The recorded events are applied in order to a fresh whaco_intel (or the
 * saved state the log continues from): that recomputes, with the service's
 * own deterministic code, the salesperson each walk-in was assigned to.
 * The state just before the window's first event becomes the world's
 * starting state, so a run of the oscillator strategy on the world sees
 * exactly the network the service had.
 *
 * What the log does not say, and how it is filled in: a deal-closed event
 * names the salesperson but not the customer, so it is linked to that
 * salesperson's oldest walk-in without a deal yet (first in, first closed);
 * a walk-in with no linked deal did not buy. Nobody recorded how long each
 * walk-in was worked or how long they would wait: those come from the
 * model (docs/simulation.md).
 */
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/intel.h"
#include "whaco/rng.h"
#include "whaco/serial.h"
#include "whaco/sim.h"
#include "sim/internal.h"
#include "banned.h"

/* An open lead: a walk-in assigned and not yet linked to a deal. */
struct lead {
    int32_t cust; /* world customer index, -1 if before the window */
    int32_t next; /* next lead of the same salesperson, -1 at the end */
};

struct builder {
    struct whaco_sim_world *w;
    size_t mcap, ccap, kcap, lcap, nleads;
    struct lead *leads;
    int32_t *head, *tail; /* per member: open leads, oldest first */
    struct whaco_rng rng; /* the walk-ins' own randomness, drawn in log order */
    double patience_min;  /* the model's mean patience (whaco_sim_params_default) */
    bool in_window;       /* the world has started: events become its walk-ins and clock */
};

static size_t add_member(struct builder *b, const char *id, const char *name, double skill,
                         double omega, double phase)
{
    struct whaco_sim_world *w = b->w;
    size_t m = whaco__sim_find_member(w, id);
    if (m == SIZE_MAX) {
        if (w->n_members == b->mcap) {
            b->mcap = b->mcap ? b->mcap * 2 : 16;
            w->members = whaco_xreallocarray(w->members, b->mcap, sizeof *w->members);
            b->head = whaco_xreallocarray(b->head, b->mcap, sizeof *b->head);
            b->tail = whaco_xreallocarray(b->tail, b->mcap, sizeof *b->tail);
        }
        m = w->n_members++;
        b->head[m] = b->tail[m] = -1;
    }
    struct whaco_sim_member *sm = &w->members[m];
    memset(sm, 0, sizeof *sm);
    memcpy(sm->id, id, strlen(id) + 1);
    memcpy(sm->name, name, strlen(name) + 1);
    sm->skill = skill;
    sm->omega = omega;
    sm->phase = phase;
    return m;
}

static void push_lead(struct builder *b, size_t m, int32_t cust)
{
    if (b->nleads == b->lcap) {
        b->lcap = b->lcap ? b->lcap * 2 : 256;
        b->leads = whaco_xreallocarray(b->leads, b->lcap, sizeof *b->leads);
    }
    int32_t l = (int32_t)b->nleads++;
    b->leads[l].cust = cust;
    b->leads[l].next = -1;
    if (b->tail[m] >= 0)
        b->leads[b->tail[m]].next = l;
    else
        b->head[m] = l;
    b->tail[m] = l;
}

/* Pop member m's oldest open lead: its customer index, -1 (before the window) or -2 (none). */
static int32_t pop_lead(struct builder *b, size_t m)
{
    int32_t l = b->head[m];
    if (l < 0)
        return -2;
    b->head[m] = b->leads[l].next;
    if (b->head[m] < 0)
        b->tail[m] = -1;
    return b->leads[l].cust;
}

/* Take walk-in cust out of member m's open leads (it left or bought, or moved). */
static void drop_lead(struct builder *b, size_t m, int32_t cust)
{
    int32_t prev = -1;
    for (int32_t l = b->head[m]; l >= 0; prev = l, l = b->leads[l].next) {
        if (b->leads[l].cust != cust)
            continue;
        if (prev >= 0)
            b->leads[prev].next = b->leads[l].next;
        else
            b->head[m] = b->leads[l].next;
        if (b->tail[m] == l)
            b->tail[m] = prev;
        return;
    }
}

/* The window's walk-in the floor calls id (the latest of that name), or -1. */
static int32_t walkin_named(const struct builder *b, const char *id)
{
    const struct whaco_sim_world *w = b->w;
    for (size_t i = w->n_customers; id[0] && i-- > 0;)
        if (strcmp(w->customers[i].c.id, id) == 0)
            return (int32_t)i;
    return -1;
}

/* Save the network's state as the world's starting state (the buffer's bytes
 * become the world's). The simulator aborts on out-of-memory (whaco/alloc.h). */
static void keep_state(struct whaco_sim_world *w, const struct whaco_intel *in)
{
    struct whaco_buf buf = WHACO_BUF_INIT;
    if (whaco_intel_save(in, &buf) != WHACO_OK)
        abort();
    w->state = buf.data ? buf.data : whaco_xmalloc(1);
    w->state_len = buf.len;
}

/* The index of the first event after the log's last RESET (0 if none). */
static size_t after_last_reset(const struct whaco_event *ev, size_t n)
{
    size_t first = 0;
    for (size_t i = 0; i < n; i++) {
        if (ev[i].type == WHACO_EV_RESET)
            first = i + 1;
    }
    return first;
}

/*
 * The run takes the first n_initial members as the team at the start: move
 * the network's members to the front, in its order (members removed before
 * the window stay in the list, behind them), their open leads with them.
 */
static void team_members_first(struct builder *b, const struct whaco_intel *in)
{
    struct whaco_sim_world *w = b->w;
    for (size_t k = 0; k < in->team.n; k++) {
        size_t m = whaco__sim_find_member(w, in->team.members[k].id);
        if (m == k)
            continue;
        struct whaco_sim_member tmp = w->members[k];
        int32_t th = b->head[k], tt = b->tail[k];
        w->members[k] = w->members[m];
        b->head[k] = b->head[m];
        b->tail[k] = b->tail[m];
        w->members[m] = tmp;
        b->head[m] = th;
        b->tail[m] = tt;
    }
}

/* The world starts at t_ms, from the network the service had just before. */
static void start_window(struct builder *b, const struct whaco_intel *in, int64_t t_ms)
{
    struct whaco_sim_world *w = b->w;
    keep_state(w, in);
    w->start_ms = t_ms;
    w->n_initial = in->team.n;
    if (w->n_initial != w->n_members)
        team_members_first(b, in);
    b->in_window = true;
}

/*
 * An analyze event: the service assigned the walk-in to member m (SIZE_MAX:
 * nobody). In the window it becomes a walk-in of the world, with its
 * recorded salesperson and no deal yet; either way it opens a lead.
 */
static void record_walkin(struct builder *b, const struct whaco_event *e,
                          const struct whaco_analysis *an, size_t m)
{
    struct whaco_sim_world *w = b->w;
    int32_t cust = -1;
    if (an->returning)
        return; /* still in the store: not a new walk-in */
    if (b->in_window) {
        if (w->n_customers == b->ccap) {
            b->ccap = b->ccap ? b->ccap * 2 : 256;
            w->customers = whaco_xreallocarray(w->customers, b->ccap, sizeof *w->customers);
        }
        struct whaco_sim_customer *cu = &w->customers[w->n_customers];
        memset(cu, 0, sizeof *cu);
        cu->arrive_ms = e->time_ms;
        cu->c = e->customer;
        if (an->floor_tracked) /* the floor's name for it, which its later events use */
            memcpy(cu->c.id, an->customer_id, sizeof cu->c.id);
        cu->segment = -2;
        whaco__sim_draw(cu, &b->rng, b->patience_min);
        cu->rec_member = m == SIZE_MAX ? -1 : (int32_t)m;
        cu->rec_closed = 0;
        cust = (int32_t)w->n_customers++;
    }
    if (m != SIZE_MAX)
        push_lead(b, m, cust);
}

/*
 * A deal-closed event for e->id: it closes that salesperson's oldest open
 * lead. In the window, the lead's walk-in gets the deal; a deal with no
 * walk-in of the window to link (its lead came before, or none is open)
 * becomes a clock event, so the network still counts it.
 */
static void record_deal(struct builder *b, const struct whaco_event *e)
{
    struct whaco_sim_world *w = b->w;
    size_t m = whaco__sim_find_member(w, e->id);
    int32_t named = walkin_named(b, e->customer_id);
    int32_t cust;
    if (named >= 0 && m != SIZE_MAX) { /* the floor's deal names its walk-in */
        drop_lead(b, m, named);
        cust = named;
    } else {
        cust = m == SIZE_MAX ? -2 : pop_lead(b, m);
    }
    if (!b->in_window)
        return;
    if (cust >= 0) {
        w->customers[cust].rec_closed = 1;
        w->customers[cust].rec_close_ms = e->time_ms;
    } else if (m != SIZE_MAX) {
        whaco__sim_push_clock(w, &b->kcap, e->time_ms, WHACO_SIM_DEAL, m);
    }
}

/*
 * The walk-ins a floor event handed out (a waiting one served, one moved by
 * an override or a clock-out): each has a new recorded salesperson, and its
 * open lead moves with it.
 */
static void record_assignments(struct builder *b, const struct whaco_floor_news *news)
{
    struct whaco_sim_world *w = b->w;
    for (uint32_t k = 0; k < news->n; k++) {
        int32_t cust = walkin_named(b, news->a[k].customer_id);
        size_t m = whaco__sim_find_member(w, news->a[k].salesperson_id);
        if (cust < 0 || m == SIZE_MAX)
            continue; /* before the window */
        struct whaco_sim_customer *cu = &w->customers[cust];
        if (cu->rec_member >= 0)
            drop_lead(b, (size_t)cu->rec_member, cust);
        cu->rec_member = (int32_t)m;
        push_lead(b, m, cust);
    }
}

/* A walk-in that left without buying: its lead ends, no deal. */
static void record_left(struct builder *b, const struct whaco_event *e)
{
    int32_t cust = walkin_named(b, e->customer_id);
    if (cust >= 0 && b->w->customers[cust].rec_member >= 0)
        drop_lead(b, (size_t)b->w->customers[cust].rec_member, cust);
}

/* What event e, just applied (res: what it gave), adds to the world. */
static void record_event(struct builder *b, const struct whaco_event *e,
                         const struct whaco_event_result *res)
{
    const struct whaco_analysis *an = &res->analysis;
    struct whaco_sim_world *w = b->w;
    size_t m;
    switch (e->type) {
    case WHACO_EV_ADD_SALESPERSON:
        m = add_member(b, e->id, e->name, e->skill_level, e->natural_frequency, e->phase);
        if (b->in_window)
            whaco__sim_push_clock(w, &b->kcap, e->time_ms, WHACO_SIM_ADD, m);
        break;
    case WHACO_EV_REMOVE_SALESPERSON:
        if (b->in_window)
            whaco__sim_push_clock(w, &b->kcap, e->time_ms, WHACO_SIM_REMOVE,
                                  whaco__sim_find_member(w, e->id));
        break;
    case WHACO_EV_TICK:
        if (b->in_window)
            whaco__sim_push_clock(w, &b->kcap, e->time_ms, WHACO_SIM_TICK, SIZE_MAX);
        break;
    case WHACO_EV_DAILY_RESET:
        if (b->in_window)
            whaco__sim_push_clock(w, &b->kcap, e->time_ms, WHACO_SIM_RESET, SIZE_MAX);
        break;
    case WHACO_EV_ANALYZE:
        m = an->assigned_id[0] ? whaco__sim_find_member(w, an->assigned_id) : SIZE_MAX;
        record_walkin(b, e, an, m);
        break;
    case WHACO_EV_DEAL_CLOSED:
        record_deal(b, e);
        break;
    case WHACO_EV_RESET:
        break; /* not reached: the replay starts after the last one */
    case WHACO_EV_CUSTOMER_LEFT:
        record_left(b, e);
        break;
    case WHACO_EV_OUTCOME: /* a CRM's: what the desk's deal-closed or customer-left records */
        if (e->outcome == WHACO_OUTCOME_SOLD)
            record_deal(b, e);
        else
            record_left(b, e);
        break;
    case WHACO_EV_CLOCK_IN:
    case WHACO_EV_CLOCK_OUT:
    case WHACO_EV_STATUS:
    case WHACO_EV_OVERRIDE:
    case WHACO_EV_FLOOR_SETTINGS:
        break; /* the floor's own: the world's team is on the floor all day */
    default:
        break; /* not reached: whaco_event_apply refuses other types */
    }
    record_assignments(b, &res->news);
}

int whaco_sim_world_from_events(struct whaco_sim_world *w, const void *state, size_t state_len,
                                const struct whaco_event *ev, size_t n, int64_t from_ms,
                                int64_t to_ms, uint64_t seed, const char **field)
{
    struct whaco_intel in;
    struct builder b;
    struct whaco_sim_params p;

    memset(w, 0, sizeof *w);
    memset(&b, 0, sizeof b);
    b.w = w;
    whaco_sim_params_default(&p);
    b.patience_min = p.patience_min;
    whaco_rng_seed(&b.rng, seed);
    /* A reset empties the team and forgets everything: replay what follows the last. */
    size_t first = after_last_reset(ev, n);
    if (first > 0)
        state = NULL;
    int rc = whaco_intel_init(&in, NULL, NULL, field);
    if (rc == WHACO_OK && state)
        rc = whaco_intel_load(&in, state, state_len);
    for (size_t m = 0; rc == WHACO_OK && m < in.team.n; m++) {
        const struct whaco_member *tm = &in.team.members[m];
        add_member(&b, tm->id, tm->name, tm->skill, tm->omega, tm->phase);
    }

    for (size_t i = first; i < n && rc == WHACO_OK; i++) {
        const struct whaco_event *e = &ev[i];
        struct whaco_event_result res;
        if (e->time_ms >= to_ms)
            break;
        if (!b.in_window && e->time_ms >= from_ms)
            start_window(&b, &in, e->time_ms);
        rc = whaco_event_apply(&in, e, &res, field);
        if (rc == WHACO_OK)
            record_event(&b, e, &res);
    }
    if (rc == WHACO_OK && w->n_members == 0)
        rc = WHACO_E_EMPTY_TEAM;
    if (rc == WHACO_OK && !b.in_window) {
        /* Nothing in the window: an empty world starting from the final state. */
        keep_state(w, &in);
        w->n_initial = in.team.n;
    }
    whaco_intel_release(&in);
    whaco_free(b.leads);
    whaco_free(b.head);
    whaco_free(b.tail);
    if (rc != WHACO_OK)
        whaco_sim_world_release(w);
    return rc;
}

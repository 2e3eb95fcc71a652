/*
 * test_sim.c: the sales-floor simulation (whaco/sim.h): determinism for a
 * seed, conservation of walk-ins, each strategy's defining property, the
 * common random numbers, and a replay of a recorded log that reproduces
 * the recorded assignments under the strategy that made them.
 */
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <cmocka.h>

#include "whaco/err.h"
#include "whaco/event.h"
#include "whaco/gen.h"
#include "whaco/intel.h"
#include "whaco/rng.h"
#include "whaco/sim.h"
#include "whaco/team.h"

#define MINUTE 60000LL
#define T0     1767225600000LL /* 2026-01-01T00:00:00Z */

static struct whaco_sim_params params(void)
{
    struct whaco_sim_params p;
    whaco_sim_params_default(&p);
    p.days = 2;
    return p;
}

static void world(struct whaco_sim_world *w, const struct whaco_sim_params *p, size_t n,
                  uint64_t seed)
{
    struct whaco_sim_member team[12];
    whaco_sim_default_team(team, n, 0.6, 0.6);
    whaco_sim_world_generate(w, p, team, n, seed);
}

/* Same seed, same world, same strategy: bit-identical results and outcomes. */
static void sim__same_seed_same_results(void **state)
{
    (void)state;
    struct whaco_sim_params p = params();
    struct whaco_sim_world a, b;
    world(&a, &p, 6, 42);
    world(&b, &p, 6, 42);
    assert_int_equal(a.n_customers, b.n_customers);
    assert_true(a.n_customers > 50);
    assert_memory_equal(a.customers, b.customers, a.n_customers * sizeof *a.customers);
    struct whaco_sim_outcome *oa = calloc(a.n_customers, sizeof *oa);
    struct whaco_sim_outcome *ob = calloc(a.n_customers, sizeof *ob);
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
        struct whaco_sim_result ra, rb;
        memset(&ra, 0, sizeof ra);
        memset(&rb, 0, sizeof rb);
        assert_int_equal(whaco_sim_run(&a, &p, s, &ra, oa), WHACO_OK);
        assert_int_equal(whaco_sim_run(&b, &p, s, &rb, ob), WHACO_OK);
        assert_memory_equal(&ra, &rb, sizeof ra);
        assert_memory_equal(oa, ob, a.n_customers * sizeof *oa);
    }
    /* Another seed gives another world. */
    struct whaco_sim_world c;
    world(&c, &p, 6, 43);
    assert_true(c.n_customers != a.n_customers ||
                memcmp(c.customers, a.customers, a.n_customers * sizeof *a.customers) != 0);
    whaco_sim_world_release(&c);
    free(oa);
    free(ob);
    whaco_sim_world_release(&a);
    whaco_sim_world_release(&b);
}

/* Customers in service at time t on member m, counting those started before i. */
static unsigned load_at(const struct whaco_sim_outcome *o, size_t n, size_t i, int32_t m)
{
    unsigned k = 0;
    int64_t t = o[i].start_ms;
    for (size_t j = 0; j < n; j++) {
        if (j == i || o[j].fate != WHACO_SIM_SERVED || o[j].member != m)
            continue;
        if ((o[j].start_ms < t || (o[j].start_ms == t && j < i)) && o[j].end_ms > t)
            k++;
    }
    return k;
}

/*
 * Every walk-in is served, abandons or is still waiting at closing time,
 * and the counts add up; nobody works more than max_load at once. Busy
 * enough (8 walk-ins an hour, 4 salespeople) that all three fates occur.
 */
static void sim__every_walkin_accounted_for(void **state)
{
    (void)state;
    struct whaco_sim_params p = params();
    p.arrival_rate = 8.0;
    struct whaco_sim_world w;
    world(&w, &p, 4, 7);
    struct whaco_sim_outcome *o = calloc(w.n_customers, sizeof *o);
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
        struct whaco_sim_result r;
        unsigned fates[4] = {0, 0, 0, 0}, deals = 0;
        assert_int_equal(whaco_sim_run(&w, &p, s, &r, o), WHACO_OK);
        assert_int_equal(r.walkins, w.n_customers);
        assert_int_equal(r.served + r.abandoned + r.at_close, r.walkins);
        for (size_t i = 0; i < w.n_customers; i++) {
            assert_true(o[i].fate >= WHACO_SIM_SERVED && o[i].fate <= WHACO_SIM_AT_CLOSE);
            fates[o[i].fate]++;
            assert_true(o[i].wait_min >= 0.0);
            if (o[i].fate == WHACO_SIM_SERVED) {
                assert_true(o[i].member >= 0 && (size_t)o[i].member < w.n_members);
                assert_true(o[i].end_ms > o[i].start_ms);
                assert_true(load_at(o, w.n_customers, i, o[i].member) < p.max_load);
                deals += (unsigned)o[i].closed;
            } else {
                assert_int_equal(o[i].member, -1);
                assert_int_equal(o[i].closed, 0);
            }
        }
        assert_int_equal(fates[WHACO_SIM_SERVED], r.served);
        assert_int_equal(fates[WHACO_SIM_ABANDONED], r.abandoned);
        assert_int_equal(fates[WHACO_SIM_AT_CLOSE], r.at_close);
        assert_int_equal(deals, r.deals);
        assert_true(r.abandoned > 0);
    }
    free(o);
    whaco_sim_world_release(&w);
}

/* A hand-made world: n members of equal skill, customers at given minutes
 * staying given minutes (time on the lot), nobody closes, one long day. */
static void handmade(struct whaco_sim_world *w, size_t n, const int *arrive_min,
                     const int *stay_min, size_t nc, const double *skills)
{
    struct whaco_sim_member team[8];
    struct whaco_sim_params p = params();
    p.days = 1;
    p.arrival_rate = 1e-9; /* no generated walk-ins: ours replace them */
    whaco_sim_default_team(team, n, 0.5, 0.0);
    for (size_t m = 0; m < n && skills; m++)
        team[m].skill = skills[m];
    whaco_sim_world_generate(w, &p, team, n, 1);
    free(w->customers);
    w->customers = calloc(nc, sizeof *w->customers);
    w->n_customers = nc;
    for (size_t i = 0; i < nc; i++) {
        struct whaco_sim_customer *c = &w->customers[i];
        struct whaco_customer prime = {"", 760, 120000, 43000, 5500, 0, 2, 0, 0.7, 0};
        c->c = prime;
        snprintf(c->c.id, sizeof c->c.id, "h%zu", i);
        c->c.time_on_lot = stay_min[i];
        c->arrive_ms = w->opens[0] + arrive_min[i] * MINUTE;
        c->segment = WHACO_PRIME_BUYERS;
        c->u_close = 0.999;
        c->patience_min = 1000.0;
        c->u_pick = 0.5;
        c->rec_member = -1;
        c->rec_closed = -1;
    }
}

/*
 * Up-rotation is the service's up order (docs/floor.md): each free
 * salesperson gets the next customer in turn, and taking one sends them to
 * the back -- the order is by when they last took a walk-in, not by when
 * their last customer left.
 */
static void sim__up_rotation_longest_idle_first(void **state)
{
    (void)state;
    static const int arrive[] = {0, 1, 2, 3, 50, 51, 52, 53};
    static const int stay[] = {40, 10, 30, 20, 60, 60, 60, 60};
    struct whaco_sim_world w;
    struct whaco_sim_params p = params();
    struct whaco_sim_outcome o[8];
    struct whaco_sim_result r;
    p.max_load = 1;
    handmade(&w, 4, arrive, stay, 8, NULL);
    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_UP_ROTATION, &r, o), WHACO_OK);
    /* All idle since opening: in turn, 0 1 2 3. */
    for (int i = 0; i < 4; i++)
        assert_int_equal(o[i].member, i);
    /* All free again by 50: the up order is the order they took theirs. */
    for (int i = 4; i < 8; i++)
        assert_int_equal(o[i].member, i - 4);
    whaco_sim_world_release(&w);
}

/*
 * A walk-in whose timeOnLot was unknown when it was analysed (a replayed
 * log) is served for a typical time on the lot, not for the 5-minute floor
 * its stored 0 would give.
 */
static void sim__unknown_time_on_the_lot_is_a_typical_visit(void **state)
{
    (void)state;
    static const int arrive[] = {0, 0};
    static const int stay[] = {93, 0};
    struct whaco_sim_world w;
    struct whaco_sim_params p = params();
    struct whaco_sim_outcome o[2];
    struct whaco_sim_result r;
    handmade(&w, 2, arrive, stay, 2, NULL);
    w.customers[1].c.missing = WHACO_FIELD_TIME_ON_LOT;
    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_UP_ROTATION, &r, o), WHACO_OK);
    assert_true(o[0].end_ms > o[0].start_ms);
    assert_true(o[1].end_ms - o[1].start_ms == o[0].end_ms - o[0].start_ms);
    whaco_sim_world_release(&w);
}

static void sim__round_robin_cycles(void **state)
{
    (void)state;
    static const int arrive[] = {0, 1, 2, 3, 4, 5, 6};
    static const int stay[] = {100, 5, 100, 100, 100, 100, 100};
    struct whaco_sim_world w;
    struct whaco_sim_params p = params();
    struct whaco_sim_outcome o[7];
    struct whaco_sim_result r;
    p.max_load = 3;
    handmade(&w, 3, arrive, stay, 7, NULL);
    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_ROUND_ROBIN, &r, o), WHACO_OK);
    for (int i = 0; i < 7; i++)
        assert_int_equal(o[i].member, i % 3);
    whaco_sim_world_release(&w);
}

/* Least-busy never picks a busier salesperson when a freer one exists;
 * skill-match gives each high-priority walk-in the most skilled free one. */
static void sim__least_busy_and_skill_match_properties(void **state)
{
    (void)state;
    struct whaco_sim_params p = params();
    p.arrival_rate = 7.0;
    p.max_load = 3;
    struct whaco_sim_world w;
    world(&w, &p, 5, 11);
    size_t n = w.n_customers;
    struct whaco_sim_outcome *o = calloc(n, sizeof *o);
    struct whaco_sim_result r;
    unsigned checked = 0, high = 0;

    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_LEAST_BUSY, &r, o), WHACO_OK);
    for (size_t i = 0; i < n; i++) {
        if (o[i].fate != WHACO_SIM_SERVED)
            continue;
        unsigned mine = load_at(o, n, i, o[i].member);
        for (size_t m = 0; m < w.n_members; m++) {
            unsigned other = load_at(o, n, i, (int32_t)m);
            if (other < p.max_load)
                assert_true(mine <= other);
        }
        checked += mine > 0;
    }
    assert_true(checked > 10); /* the busy case was exercised */

    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_SKILL_MATCH, &r, o), WHACO_OK);
    for (size_t i = 0; i < n; i++) {
        if (o[i].fate != WHACO_SIM_SERVED || o[i].priority < p.high_priority)
            continue;
        high++;
        for (size_t m = 0; m < w.n_members; m++) {
            if (load_at(o, n, i, (int32_t)m) < p.max_load)
                assert_true(w.members[o[i].member].skill >= w.members[m].skill);
        }
    }
    assert_true(high > 10);
    free(o);
    whaco_sim_world_release(&w);
}

/*
 * network: a walk-in goes to a salesperson free at that moment, the one the
 * network scores best (the seed's score plus 0.3 x the turn in the up
 * order: docs/floor.md) -- for a Prime Buyer (priority 0.95) with all three
 * free and ready, the most skilled even though last up (0.3 of skill match
 * outweighs the 0.3 of turn here: 0.9 skill's term is 0.285 against 0.3
 * skill's 0.105).
 */
static void sim__oscillator_desk_picks_the_best_free(void **state)
{
    (void)state;
    static const int arrive[] = {0, 1, 2, 3};
    static const int stay[] = {30, 30, 30, 30};
    static const double skills[] = {0.3, 0.9, 0.6};
    struct whaco_sim_world w;
    struct whaco_sim_params p = params();
    struct whaco_sim_outcome o[4];
    struct whaco_sim_result r;
    p.max_load = 1;
    handmade(&w, 3, arrive, stay, 4, skills);
    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_NETWORK, &r, o), WHACO_OK);
    assert_int_equal(o[0].member, 1); /* 0.9: the closest skill to 0.95 */
    /* 1 is busy. 0 is up (turn 1) and 2 is last (turn 0): 0.3 x 1 of turn
     * outweighs 2's better skill match, 0.3 x (0.65 - 0.35) = 0.09 */
    assert_int_equal(o[1].member, 0);
    assert_int_equal(o[2].member, 2); /* the only one free */
    assert_int_equal(o[3].member, 1); /* nobody free: waits at the desk for the first free */
    assert_true(o[3].wait_min > 5.0); /* it waited for a slot, not on a busy person */
    whaco_sim_world_release(&w);
}

/* Common random numbers: every strategy sees the same walk-ins and gives
 * them the same priorities (the oscillator's come from whaco_intel_analyze,
 * the others' from a segmenter fed the same sequence). */
static void sim__strategies_share_customers_and_priorities(void **state)
{
    (void)state;
    struct whaco_sim_params p = params();
    struct whaco_sim_world w;
    world(&w, &p, 6, 5);
    size_t n = w.n_customers;
    struct whaco_sim_outcome *a = calloc(n, sizeof *a), *b = calloc(n, sizeof *b);
    struct whaco_sim_result ra, rb;
    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_UP_ROTATION, &ra, a), WHACO_OK);
    for (int s = 1; s < WHACO_SIM_STRATEGIES; s++) {
        assert_int_equal(whaco_sim_run(&w, &p, s, &rb, b), WHACO_OK);
        assert_int_equal(ra.walkins, rb.walkins);
        for (size_t i = 0; i < n; i++)
            assert_memory_equal(&a[i].priority, &b[i].priority, sizeof(double));
    }
    assert_int_equal(whaco_sim_run(&w, &p, 99, &rb, b), WHACO_E_INVAL);
    free(a);
    free(b);
    whaco_sim_world_release(&w);
}

/* Gini and the 95% interval on known values. */
static void sim__statistics(void **state)
{
    (void)state;
    const double eq[4] = {3, 3, 3, 3}, one[4] = {0, 0, 0, 8}, x[3] = {1, 2, 3};
    struct whaco_sim_stat st;
    assert_true(whaco_sim_gini(eq, 4) < 1e-12);
    assert_true(whaco_sim_gini(one, 4) > 0.749 && whaco_sim_gini(one, 4) < 0.751);
    whaco_sim_stat(x, 3, &st);
    assert_true(st.mean > 1.999 && st.mean < 2.001);
    /* s = 1, se = 1/sqrt(3), t(0.975, 2) = 4.303 */
    assert_true(st.hi - 2.0 > 2.484 && st.hi - 2.0 < 2.486);
    assert_int_equal(whaco_sim_strategy_parse("oscillator"), WHACO_SIM_OSCILLATOR);
    assert_int_equal(whaco_sim_strategy_parse("nope"), -1);
}

/* ===== Replay ===== */

struct item {
    int64_t t;
    int kind; /* 0 tick, 1 analyze, 2 deal */
    int k;
};

static int item_cmp(const void *a, const void *b)
{
    const struct item *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind - y->kind;
    return x->k - y->k;
}

/*
 * Record a day of the service in-process (events applied through
 * whaco_event_apply, as the engine does), build a replay world from the
 * log, and check that the oscillator strategy -- the one that made the
 * recorded assignments -- reproduces every one of them, with the real
 * outcomes and nothing guessed, while another strategy has to guess.
 */
static void sim__replay_reproduces_recorded_assignments(void **state)
{
    (void)state;
    enum { NC = 40, NI = 40 + 150 + 20 };
    static struct whaco_event ev[3 + NI];
    static struct item items[NI];
    static int32_t assigned[NC];
    static const char *const ids[3] = {"ann", "bob", "cy"};
    static const double skills[3] = {0.9, 0.5, 0.3};
    struct whaco_intel in;
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    struct whaco_customer cust[NC];
    size_t ne = 0, ni = 0;

    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    for (int m = 0; m < 3; m++) {
        struct whaco_event *e = &ev[ne++];
        whaco_event_init(e, WHACO_EV_ADD_SALESPERSON);
        e->time_ms = T0 + 9 * 60 * MINUTE;
        snprintf(e->id, sizeof e->id, "%s", ids[m]);
        snprintf(e->name, sizeof e->name, "Person %s", ids[m]);
        e->skill_level = skills[m];
        e->natural_frequency = 0.9;
        e->phase = m * 2.0;
        assert_int_equal(whaco_event_apply(&in, e, NULL, NULL), WHACO_OK);
    }
    whaco_rng_seed(&rng, 3);
    whaco_gen_params_default(&gp);
    for (int k = 0; k < NC; k++) {
        whaco_gen_customer(&rng, &gp, &cust[k], NULL);
        snprintf(cust[k].id, sizeof cust[k].id, "c%d", k);
        items[ni++] = (struct item){T0 + (9 * 60 + 7 * k + 1) * MINUTE, 1, k};
        if (k % 3 == 0)
            items[ni++] = (struct item){T0 + (9 * 60 + 7 * k + 25) * MINUTE, 2, k};
    }
    for (int k = 1; k <= 150 && ni < NI; k++)
        items[ni++] = (struct item){T0 + 9 * 60 * MINUTE + 5 * k * MINUTE, 0, k};
    qsort(items, ni, sizeof *items, item_cmp);
    for (size_t i = 0; i < ni; i++) {
        struct whaco_event *e = &ev[ne++];
        struct whaco_event_result res;
        whaco_event_init(e, items[i].kind == 0   ? WHACO_EV_TICK
                            : items[i].kind == 1 ? WHACO_EV_ANALYZE
                                                 : WHACO_EV_DEAL_CLOSED);
        e->time_ms = items[i].t;
        if (items[i].kind == 1)
            e->customer = cust[items[i].k];
        if (items[i].kind == 2)
            snprintf(e->id, sizeof e->id, "%s", ids[assigned[items[i].k]]);
        assert_int_equal(whaco_event_apply(&in, e, &res, NULL), WHACO_OK);
        if (items[i].kind == 1) {
            assert_int_equal(res.analysis.assign_rc, WHACO_OK);
            assigned[items[i].k] = (int32_t)res.analysis.assigned;
        }
    }
    whaco_intel_release(&in);

    struct whaco_sim_world w;
    struct whaco_sim_params p;
    struct whaco_sim_result r;
    struct whaco_sim_outcome o[NC];
    int distinct = 0;
    whaco_sim_params_default(&p);
    p.max_load = 100; /* the service has no capacity limit: nobody waits */
    assert_int_equal(
        whaco_sim_world_from_events(&w, NULL, 0, ev, ne, INT64_MIN, INT64_MAX, 1, NULL), WHACO_OK);
    assert_int_equal(w.n_customers, NC);
    assert_int_equal(w.n_members, 3);
    /* The log does not name the customer of a deal: each is linked to one of
     * the salesperson's walk-ins; the deals per salesperson must match. */
    int want[3] = {0, 0, 0}, got[3] = {0, 0, 0};
    for (int k = 0; k < NC; k++) {
        assert_int_equal(w.customers[k].rec_member, assigned[k]);
        want[assigned[k]] += k % 3 == 0;
        got[assigned[k]] += w.customers[k].rec_closed;
    }
    assert_memory_equal(want, got, sizeof want);
    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_OSCILLATOR, &r, o), WHACO_OK);
    for (int k = 0; k < NC; k++) {
        assert_int_equal(o[k].member, assigned[k]);
        assert_int_equal(o[k].guessed, 0);
        distinct |= 1 << assigned[k];
    }
    assert_int_equal(r.deals, (NC + 2) / 3);
    assert_int_equal(r.guessed, 0);
    assert_true(distinct == 7); /* the log used everyone: a real test of the rule */

    /* A window: only the afternoon's walk-ins, from the state the service had. */
    whaco_sim_world_release(&w);
    int64_t from = T0 + (9 * 60 + 7 * 20) * MINUTE;
    assert_int_equal(whaco_sim_world_from_events(&w, NULL, 0, ev, ne, from, INT64_MAX, 1, NULL),
                     WHACO_OK);
    assert_int_equal(w.n_customers, NC - 20);
    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_OSCILLATOR, &r, o), WHACO_OK);
    for (int k = 20; k < NC; k++)
        assert_int_equal(o[k - 20].member, assigned[k]);

    /* Round-robin gives some walk-ins to someone else: those outcomes are guesses.
     * It runs on the floor, which holds at most 16 walk-ins per salesperson. */
    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_ROUND_ROBIN, &r, o), WHACO_E_CONFIG);
    p.max_load = WHACO_FLOOR_CUSTOMERS_MAX;
    assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_ROUND_ROBIN, &r, o), WHACO_OK);
    assert_true(r.guessed > 0 && r.guessed < r.served);
    whaco_sim_world_release(&w);
}

/*
 * The default team's phases are whaco_team_spread_phase's: i golden angles
 * wrapped to [0, 2pi), bit for bit the formula the simulator used before it
 * had a name; and the spread its contract promises -- n phases cut the
 * circle into gaps within a factor phi^2 of each other, for every n.
 */
static void sim__default_team_phases_spread_by_the_golden_angle(void **state)
{
    (void)state;
    struct whaco_sim_member team[12];
    whaco_sim_default_team(team, 12, 0.6, 0.6);
    for (size_t i = 0; i < 12; i++) {
        double want = fmod((double)i * 2.399963229728653, 6.283185307179586);
        assert_memory_equal(&team[i].phase, &want, sizeof want);
        assert_memory_equal(&team[i].phase, &(double){whaco_team_spread_phase(i)}, sizeof want);
    }
    const double phi = (1.0 + sqrt(5.0)) / 2.0, tau = 6.283185307179586;
    double sorted[64];
    for (size_t n = 2; n <= 64; n++) {
        for (size_t i = 0; i < n; i++) {
            double p = whaco_team_spread_phase(i), *at = sorted + i;
            assert_true(p >= 0.0 && p < tau);
            while (at > sorted && at[-1] > p) { /* insertion sort */
                *at = at[-1];
                at--;
            }
            *at = p;
        }
        double lo = tau - sorted[n - 1] + sorted[0], hi = lo;
        for (size_t i = 1; i < n; i++) {
            double gap = sorted[i] - sorted[i - 1];
            lo = gap < lo ? gap : lo;
            hi = gap > hi ? gap : hi;
        }
        if (hi / lo > phi * phi + 1e-6)
            fail_msg("%zu phases: gaps from %g to %g rad", n, lo, hi);
    }
}

/* One event of a recorded floor day (the engine stamps the time). */
static void log_event(struct whaco_event *ev, size_t *n, uint32_t type, int64_t t, const char *id,
                      const char *customer)
{
    struct whaco_event *e = &ev[(*n)++];
    whaco_event_init(e, (enum whaco_event_type)type);
    e->time_ms = t;
    if (id)
        snprintf(e->id, sizeof e->id, "%s", id);
    if (customer)
        snprintf(e->customer_id, sizeof e->customer_id, "%s", customer);
}

/*
 * A log of a tracked floor: the recorded salesperson of a walk-in who
 * waited at the desk is the one the floor later gave it to (its news), a
 * deal names its walk-in, and one who left bought nothing.
 */
static void sim__replay_follows_the_floor(void **state)
{
    (void)state;
    struct whaco_event ev[16];
    size_t n = 0;
    struct whaco_customer prime = {"", 760, 120000, 43000, 5500, 0, 2, 30, 0.7, 0};
    int64_t t = T0 + 9 * 60 * MINUTE;
    for (int k = 0; k < 2; k++) {
        struct whaco_event *e = &ev[n++];
        whaco_event_init(e, WHACO_EV_ADD_SALESPERSON);
        snprintf(e->id, sizeof e->id, "sp-%d", k);
        snprintf(e->name, sizeof e->name, "Sp %d", k);
        e->skill_level = 0.5;
        e->natural_frequency = 0.9;
        e->time_ms = t;
    }
    log_event(ev, &n, WHACO_EV_CLOCK_IN, t, "sp-0", NULL);
    for (int k = 0; k < 3; k++) { /* max 2 at once: the third waits */
        struct whaco_event *e = &ev[n++];
        whaco_event_init(e, WHACO_EV_ANALYZE);
        e->customer = prime;
        snprintf(e->customer.id, sizeof e->customer.id, "c%d", k);
        e->time_ms = t + (k + 1) * MINUTE;
    }
    log_event(ev, &n, WHACO_EV_DEAL_CLOSED, t + 10 * MINUTE, "sp-0", "c1");
    log_event(ev, &n, WHACO_EV_CLOCK_IN, t + 11 * MINUTE, "sp-1", NULL);
    log_event(ev, &n, WHACO_EV_CUSTOMER_LEFT, t + 12 * MINUTE, NULL, "c0");
    ev[n - 1].outcome = WHACO_OUTCOME_NO_SALE;
    struct whaco_sim_world w;
    assert_int_equal(whaco_sim_world_from_events(&w, NULL, 0, ev, n, INT64_MIN, INT64_MAX, 1, NULL),
                     WHACO_OK);
    assert_int_equal(w.n_customers, 3);
    assert_int_equal(w.customers[0].rec_member, 0);
    assert_int_equal(w.customers[0].rec_closed, 0); /* left without buying */
    assert_int_equal(w.customers[1].rec_member, 0);
    assert_int_equal(w.customers[1].rec_closed, 1); /* the deal named it */
    assert_int_equal(w.customers[1].rec_close_ms, t + 10 * MINUTE);
    /* c2 waited; the deal freed sp-0's slot and the floor gave it to sp-0 */
    assert_int_equal(w.customers[2].rec_member, 0);
    assert_int_equal(w.customers[2].rec_closed, 0);
    whaco_sim_world_release(&w);
}

/*
 * A log recorded while an A/B test ran: the replay's recorded assignments
 * follow the arms (the log applied as the service did), but a strategy
 * plays its own rule from the recorded state -- exactly as from the same
 * state with no experiment.
 */
static void sim__a_recorded_experiment_does_not_steer_a_replayed_strategy(void **state)
{
    (void)state;
    struct whaco_event ev[80];
    size_t n = 0;
    struct whaco_rng rng;
    struct whaco_gen_params gp;
    whaco_rng_seed(&rng, 3);
    whaco_gen_params_default(&gp);
    int64_t t = T0 + 9 * 60 * MINUTE;
    for (int k = 0; k < 3; k++) {
        struct whaco_event *e = &ev[n++];
        whaco_event_init(e, WHACO_EV_ADD_SALESPERSON);
        snprintf(e->id, sizeof e->id, "sp-%d", k);
        snprintf(e->name, sizeof e->name, "Sp %d", k);
        e->skill_level = 0.3 + 0.3 * k;
        e->natural_frequency = 0.9;
        e->time_ms = t;
        log_event(ev, &n, WHACO_EV_CLOCK_IN, t, e->id, NULL);
    }
    struct whaco_event *x = &ev[n++];
    whaco_event_init(x, WHACO_EV_EXPERIMENT_SETTINGS);
    x->experiment.enabled = true;
    x->experiment.rule[0] = WHACO_RULE_LEAST_BUSY;
    x->experiment.rule[1] = WHACO_RULE_NETWORK;
    x->experiment.seed = 5;
    x->time_ms = t;
    for (int k = 0; k < 30; k++) { /* light traffic: often several free, so the rule matters */
        struct whaco_event *e = &ev[n++];
        whaco_event_init(e, WHACO_EV_ANALYZE);
        whaco_gen_customer(&rng, &gp, &e->customer, NULL);
        snprintf(e->customer.id, sizeof e->customer.id, "c%d", k);
        e->time_ms = t + 60 * MINUTE + k * 20 * MINUTE;
    }
    /* From 10:00 on, when the walk-ins come: the state there runs the experiment. */
    struct whaco_sim_world w, plain;
    int64_t from = T0 + 10 * 60 * MINUTE;
    assert_int_equal(whaco_sim_world_from_events(&w, NULL, 0, ev, n, from, INT64_MAX, 1, NULL),
                     WHACO_OK);
    assert_non_null(w.state);
    struct whaco_intel in;
    assert_int_equal(whaco_intel_init(&in, NULL, NULL, NULL), WHACO_OK);
    assert_int_equal(whaco_intel_load(&in, w.state, w.state_len), WHACO_OK);
    assert_true(in.exp.cfg.enabled);
    /* The same world from the same state without the experiment. */
    struct whaco_experiment_config off;
    memset(&off, 0, sizeof off);
    assert_int_equal(whaco_intel_configure_experiment(&in, &off, in.clock_ms), WHACO_OK);
    struct whaco_buf b = WHACO_BUF_INIT;
    assert_int_equal(whaco_intel_save(&in, &b), WHACO_OK);
    whaco_intel_release(&in);
    assert_int_equal(whaco_sim_world_from_events(&plain, NULL, 0, ev, n, from, INT64_MAX, 1, NULL),
                     WHACO_OK);
    free(plain.state);
    plain.state = b.data;
    plain.state_len = b.len;
    struct whaco_sim_params p = params();
    for (int s = 0; s < WHACO_SIM_STRATEGIES; s++) {
        struct whaco_sim_result ra, rb;
        struct whaco_sim_outcome oa[40], ob[40];
        assert_int_equal(whaco_sim_run(&w, &p, s, &ra, oa), WHACO_OK);
        assert_int_equal(whaco_sim_run(&plain, &p, s, &rb, ob), WHACO_OK);
        assert_memory_equal(&ra, &rb, sizeof ra);
        assert_memory_equal(oa, ob, w.n_customers * sizeof oa[0]);
        assert_true(ra.served > 20);
    }
    whaco_sim_world_release(&w);
    whaco_sim_world_release(&plain);
}

/*
 * Hidden skills come from a stream of their own: the walk-ins are the same
 * with and without them; each true skill is in [0, 1] and they differ from
 * the entered ones.
 */
static void sim__hidden_skills_leave_the_walkins_alone(void **state)
{
    (void)state;
    struct whaco_sim_params p = params(), q = params();
    struct whaco_sim_world a, b;
    q.hidden_skill_spread = 0.3;
    world(&a, &p, 6, 5);
    world(&b, &q, 6, 5);
    assert_null(a.true_skill);
    assert_non_null(b.true_skill);
    assert_int_equal(a.n_customers, b.n_customers);
    assert_memory_equal(a.customers, b.customers, a.n_customers * sizeof *a.customers);
    size_t differ = 0;
    for (size_t m = 0; m < b.n_members; m++)
        for (size_t k = 0; k < WHACO_CLUSTERS; k++) {
            double s = b.true_skill[m * WHACO_CLUSTERS + k];
            assert_true(s >= 0.0 && s <= 1.0);
            differ += fabs(s - b.members[m].skill) > 0.01;
        }
    assert_true(differ > b.n_members * WHACO_CLUSTERS / 2);
    whaco_sim_world_release(&a);
    whaco_sim_world_release(&b);
}

/* Pearson correlation of x and y over the n pairs. */
static double correlation(const double *x, const double *y, size_t n)
{
    double mx = 0, my = 0, sxy = 0, sxx = 0, syy = 0;
    for (size_t i = 0; i < n; i++) {
        mx += x[i] / (double)n;
        my += y[i] / (double)n;
    }
    for (size_t i = 0; i < n; i++) {
        sxy += (x[i] - mx) * (y[i] - my);
        sxx += (x[i] - mx) * (x[i] - mx);
        syy += (y[i] - my) * (y[i] - my);
    }
    return sxy / sqrt(sxx * syy);
}

/*
 * With a feature gain the walk-in's own engagement moves its chance within
 * its segment (without one it does not); every walk-in carries whaco's
 * closeProbability, and a served one its true chance.
 */
static void sim__feature_gain_moves_the_chance_within_a_segment(void **state)
{
    (void)state;
    for (int gain = 0; gain <= 1; gain++) {
        struct whaco_sim_params p = params();
        struct whaco_sim_world w;
        p.days = 20;
        p.feature_close_gain = gain;
        world(&w, &p, 6, 11);
        struct whaco_sim_outcome *o = calloc(w.n_customers, sizeof *o);
        double *eng = calloc(w.n_customers, sizeof *eng), *ch = calloc(w.n_customers, sizeof *ch);
        struct whaco_sim_result res;
        assert_int_equal(whaco_sim_run(&w, &p, WHACO_SIM_NETWORK, &res, o), WHACO_OK);
        size_t n = 0;
        for (size_t i = 0; i < w.n_customers; i++) {
            assert_true(o[i].close_p > 0.0 && o[i].close_p < 1.0);
            assert_true(o[i].end_ms >= w.customers[i].arrive_ms);
            if (o[i].fate != WHACO_SIM_SERVED || w.customers[i].segment != WHACO_PRIME_BUYERS)
                continue;
            assert_true(o[i].chance > 0.0 && o[i].chance < 1.0);
            /* Divide out what is not the walk-in's own: wait, load, skill. */
            eng[n] = w.customers[i].c.engagement;
            ch[n++] = o[i].chance * (1.0 + o[i].wait_min / p.wait_halfway_min);
        }
        assert_true(n > 100);
        double r = correlation(eng, ch, n);
        if (gain ? r < 0.5 : fabs(r) > 0.15)
            fail_msg("gain %d: engagement and chance correlate %.3f over %zu", gain, r, n);
        free(o);
        free(eng);
        free(ch);
        whaco_sim_world_release(&w);
    }
}

/* Outcomes imported from a CRM count as the desk's deal-closed and customer-left. */
static void sim__replay_follows_outcomes_from_a_crm(void **state)
{
    (void)state;
    struct whaco_event ev[16];
    size_t n = 0;
    struct whaco_customer prime = {"", 760, 120000, 43000, 5500, 0, 2, 30, 0.7, 0};
    int64_t t = T0 + 9 * 60 * MINUTE;
    struct whaco_event *e = &ev[n++];
    whaco_event_init(e, WHACO_EV_ADD_SALESPERSON);
    snprintf(e->id, sizeof e->id, "sp-0");
    snprintf(e->name, sizeof e->name, "Sp 0");
    e->skill_level = 0.5;
    e->natural_frequency = 0.9;
    e->time_ms = t;
    log_event(ev, &n, WHACO_EV_CLOCK_IN, t, "sp-0", NULL);
    for (int k = 0; k < 2; k++) {
        e = &ev[n++];
        whaco_event_init(e, WHACO_EV_ANALYZE);
        e->customer = prime;
        snprintf(e->customer.id, sizeof e->customer.id, "c%d", k);
        e->time_ms = t + (k + 1) * MINUTE;
    }
    log_event(ev, &n, WHACO_EV_OUTCOME, t + 10 * MINUTE, "sp-0", "c1");
    ev[n - 1].outcome = WHACO_OUTCOME_SOLD;
    ev[n - 1].outcome_ms = t + 5 * MINUTE;
    ev[n - 1].via = WHACO_VIA_API;
    log_event(ev, &n, WHACO_EV_OUTCOME, t + 10 * MINUTE, NULL, "c0");
    ev[n - 1].outcome = WHACO_OUTCOME_BE_BACK;
    ev[n - 1].outcome_ms = t + 6 * MINUTE;
    ev[n - 1].via = WHACO_VIA_CLI;
    struct whaco_sim_world w;
    assert_int_equal(whaco_sim_world_from_events(&w, NULL, 0, ev, n, INT64_MIN, INT64_MAX, 1, NULL),
                     WHACO_OK);
    assert_int_equal(w.n_customers, 2);
    assert_int_equal(w.customers[0].rec_member, 0);
    assert_int_equal(w.customers[0].rec_closed, 0); /* left without buying */
    assert_int_equal(w.customers[1].rec_member, 0);
    assert_int_equal(w.customers[1].rec_closed, 1); /* the CRM's sale, when it was imported */
    assert_int_equal(w.customers[1].rec_close_ms, t + 10 * MINUTE);
    whaco_sim_world_release(&w);
}

/*
 * An A/B test played as the service runs it: every walk-in is split by the
 * seed (walk-in number = arrival order), every one ends by the end of the
 * run (served, gone or sent home), the experiment's deals are the run's,
 * and the same world and seed give the same bytes.
 */
static void sim__an_experiment_splits_every_walk_in_and_counts_it(void **state)
{
    (void)state;
    struct whaco_sim_params p = params();
    p.arrival_rate = 6.0;
    struct whaco_sim_world w;
    world(&w, &p, 4, 11);
    struct whaco_experiment_config cfg;
    memset(&cfg, 0, sizeof cfg);
    struct whaco_sim_result r, again;
    struct whaco_experiment x, y;
    assert_int_equal(whaco_sim_run_experiment(&w, &p, &cfg, &r, &x), WHACO_E_CONFIG); /* off */
    cfg.enabled = true;
    cfg.rule[0] = cfg.rule[1] = WHACO_RULE_NETWORK;
    assert_int_equal(whaco_sim_run_experiment(&w, &p, &cfg, &r, &x), WHACO_E_CONFIG); /* the same */
    cfg.rule[0] = WHACO_RULE_UP_ROTATION;
    cfg.seed = 99;
    assert_int_equal(whaco_sim_run_experiment(&w, &p, &cfg, &r, &x), WHACO_OK);
    assert_int_equal(x.draws, w.n_customers);
    uint64_t in_b = 0;
    for (size_t i = 0; i < w.n_customers; i++)
        in_b += (uint64_t)whaco_experiment_arm_of(99, i);
    assert_int_equal(x.arm[1].walkins, in_b);
    assert_int_equal(x.arm[0].walkins, w.n_customers - in_b);
    for (int k = 0; k < WHACO_EXP_ARMS; k++)
        assert_int_equal(x.arm[k].ended, x.arm[k].walkins);
    assert_int_equal(x.arm[0].deals + x.arm[1].deals, r.deals);
    assert_true(r.abandoned + r.at_close > 0); /* some never had a salesperson: their wait counts */
    assert_int_equal(whaco_sim_run_experiment(&w, &p, &cfg, &again, &y), WHACO_OK);
    assert_memory_equal(&x, &y, sizeof x);
    assert_memory_equal(&r, &again, sizeof r);
    /* Another seed, another split, the same walk-ins. */
    cfg.seed = 100;
    assert_int_equal(whaco_sim_run_experiment(&w, &p, &cfg, &again, &y), WHACO_OK);
    assert_int_equal(again.walkins, r.walkins);
    assert_true(memcmp(&x.arm, &y.arm, sizeof x.arm) != 0);
    whaco_sim_world_release(&w);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(sim__an_experiment_splits_every_walk_in_and_counts_it),
        cmocka_unit_test(sim__a_recorded_experiment_does_not_steer_a_replayed_strategy),
        cmocka_unit_test(sim__same_seed_same_results),
        cmocka_unit_test(sim__every_walkin_accounted_for),
        cmocka_unit_test(sim__up_rotation_longest_idle_first),
        cmocka_unit_test(sim__round_robin_cycles),
        cmocka_unit_test(sim__unknown_time_on_the_lot_is_a_typical_visit),
        cmocka_unit_test(sim__least_busy_and_skill_match_properties),
        cmocka_unit_test(sim__oscillator_desk_picks_the_best_free),
        cmocka_unit_test(sim__strategies_share_customers_and_priorities),
        cmocka_unit_test(sim__statistics),
        cmocka_unit_test(sim__replay_reproduces_recorded_assignments),
        cmocka_unit_test(sim__replay_follows_the_floor),
        cmocka_unit_test(sim__replay_follows_outcomes_from_a_crm),
        cmocka_unit_test(sim__default_team_phases_spread_by_the_golden_angle),
        cmocka_unit_test(sim__hidden_skills_leave_the_walkins_alone),
        cmocka_unit_test(sim__feature_gain_moves_the_chance_within_a_segment),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}

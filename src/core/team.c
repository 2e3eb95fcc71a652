/*
 * team.c: the oscillator network of whaco/team.h.
 *
 * Invariants kept by every function that changes a team:
 *   - members[0..n) are valid (whaco_member_spec_check), ids are unique,
 *     phases lie in [0, 2pi), deals_total >= deals_today and
 *     leads_total >= leads_today;
 *   - order[0..n) is a permutation of 0..n-1 sorted by (skill ascending,
 *     index descending). It is a pure function of the member list, so an
 *     incrementally maintained order and one rebuilt by decode are the same,
 *     and the floating-point summation order (hence every bit of the state)
 *     does not depend on how the team was built;
 *   - cap >= n, and order/scratch hold cap entries, so advancing never
 *     allocates;
 *   - the coherence ring holds hist_count samples with non-decreasing
 *     timestamps, the newest just before hist_head.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/team.h"
#include "whaco/utf8.h"
#include "core/internal.h"
#include "banned.h"

#define TEAM_LAYOUT_VERSION 2u /* first u32 of the TEAM payload; 1 is read too (no floor) */
#define SCRATCH_ARRAYS      9u /* doubles per member in scratch */
#define MAX_COUNT_CFG       1000000u

/*==== Small helpers ====*/

/* x wrapped to [0, 2pi); x must be finite. -0 becomes +0. */
static double wrap_tau(double x)
{
    double y = fmod(x, WHACO_TAU);
    if (y < 0.0)
        y += WHACO_TAU;
    if (y >= WHACO_TAU) /* y was a tiny negative number: y + 2pi rounded up */
        y = 0.0;
    return y + 0.0;
}

/* a - b wrapped to [-pi, pi), for phases a and b already in [0, 2pi). */
static double phase_diff(double a, double b)
{
    double d = a - b;
    if (d >= WHACO_PI)
        d -= WHACO_TAU;
    else if (d < -WHACO_PI)
        d += WHACO_TAU;
    return d;
}

static uint32_t sat_inc32(uint32_t v)
{
    return v == UINT32_MAX ? v : v + 1u;
}

static uint64_t sat_inc64(uint64_t v)
{
    return v == UINT64_MAX ? v : v + 1u;
}

/* Length of s if it is NUL-terminated within max bytes, else max. */
static size_t bounded_len(const char *s, size_t max)
{
    const char *end = memchr(s, '\0', max);
    return end ? (size_t)(end - s) : max;
}

/* 1..63 bytes of printable ASCII without space (0x21..0x7e). */
bool whaco_member_id_valid(const char *id)
{
    if (!id)
        return false;
    size_t len = bounded_len(id, WHACO_TEAM_ID_MAX);
    if (len == 0 || len >= WHACO_TEAM_ID_MAX)
        return false;
    for (size_t i = 0; i < len; i++) {
        unsigned char c = (unsigned char)id[i];
        if (c < 0x21 || c > 0x7e)
            return false;
    }
    return true;
}

const char *whaco_phase_label(double theta)
{
    if (!isfinite(theta))
        return "ready";
    theta = wrap_tau(theta);
    if (theta < WHACO_PI / 4.0 || theta >= 7.0 * WHACO_PI / 4.0)
        return "ready";
    if (theta < 3.0 * WHACO_PI / 4.0)
        return "negotiating";
    if (theta < 5.0 * WHACO_PI / 4.0)
        return "closing";
    return "paperwork";
}

/* Set a member's phase and the readiness derived from it (never one alone). */
static void set_phase(struct whaco_member *m, double phase)
{
    m->phase = phase;
    m->readiness = 0.5 * (1.0 + cos(phase));
}

/*==== Open leads ====
 * A lead is open from its assignment until its deal closes or leadHours of
 * business time pass (a walk-in who leaves without buying must not count as
 * an active deal for ever: after a day every salesperson would look
 * overloaded). Starts are kept per member, oldest first; active_deals counts
 * every open lead, and any beyond n_timed (set up without a start) only end
 * with a deal.
 */

/* Open a lead that started at hours (total_hours); the oldest tracked one
 * ends early if the member already tracks WHACO_TEAM_LEADS_MAX. */
static void lead_open(struct whaco_member *m, double hours)
{
    if (m->n_timed == WHACO_TEAM_LEADS_MAX) {
        memmove(m->lead_start, m->lead_start + 1, (WHACO_TEAM_LEADS_MAX - 1) * sizeof(double));
        m->n_timed--;
        m->active_deals--;
    }
    m->lead_start[m->n_timed++] = hours;
    m->active_deals++;
}

/* A deal closed: the oldest open lead ends (untracked ones are the oldest). */
static void lead_close(struct whaco_member *m)
{
    if (m->active_deals == 0)
        return;
    if (m->active_deals == m->n_timed) {
        memmove(m->lead_start, m->lead_start + 1, (m->n_timed - 1) * sizeof(double));
        m->n_timed--;
    }
    m->active_deals--;
}

/* End the tracked leads that started at or before cutoff. */
static void leads_expire(struct whaco_member *m, double cutoff)
{
    uint32_t k = 0;
    while (k < m->n_timed && m->lead_start[k] <= cutoff)
        k++;
    if (k == 0)
        return;
    memmove(m->lead_start, m->lead_start + k, (m->n_timed - k) * sizeof(double));
    m->n_timed -= k;
    m->active_deals -= k;
}

/*
 * 1..127 bytes of well-formed UTF-8 without control characters (C0 and DEL):
 * names go into JSON and onto the dashboard as they are.
 */
static bool name_ok(const char *name)
{
    if (!name)
        return false;
    size_t len = bounded_len(name, WHACO_TEAM_NAME_MAX);
    if (len == 0 || len >= WHACO_TEAM_NAME_MAX)
        return false;
    return whaco_text_printable(name, len) && whaco_utf8_valid(name, len);
}

static void copy_str(char *dst, const char *src, size_t cap)
{
    size_t len = bounded_len(src, cap - 1);
    memcpy(dst, src, len);
    memset(dst + len, 0, cap - len); /* no stale bytes after the NUL */
}

/* The workload factor f(a) of whaco/team.h. */
static double workload_factor(const struct whaco_team_config *cfg, uint32_t active)
{
    if (!cfg->workload)
        return 1.0;
    double b = cfg->workload_gain;
    return (1.0 + b) / (1.0 + b * (double)active / cfg->nominal_deals);
}

/*==== Configuration ====*/

void whaco_team_config_default(struct whaco_team_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->coupling = 0.3;
    cfg->dt_max = 1.0 / 60.0;
    cfg->workload = true;
    cfg->workload_gain = 0.25;
    cfg->nominal_deals = 3.0;
    cfg->overload_deals = 6;
    cfg->slow_day_hours = 4.0;
    cfg->behind_phase = WHACO_PI / 4.0;
    cfg->behind_pace = 0.5;
    cfg->ready_level = 0.85;
    cfg->crushing_deals = 2;
    cfg->mentor_gap = 0.2;
    cfg->mentoring_max = 5;
    cfg->lead_hours = 4.0;
    cfg->assign_phase = 0.4;
    cfg->assign_load = 0.3;
    cfg->assign_skill = 0.3;
}

/* One double field: finite and lo <= v <= hi (lo_open: lo < v). */
static int check_range(double v, double lo, bool lo_open, double hi, const char *name,
                       const char **field)
{
    int rc = WHACO_OK;
    if (!isfinite(v))
        rc = WHACO_E_NOT_FINITE;
    else if (v < lo || (lo_open && !(v > lo)) || v > hi)
        rc = WHACO_E_CONFIG;
    if (rc != WHACO_OK && field)
        *field = name;
    return rc;
}

static int check_count(uint32_t v, uint32_t lo, uint32_t hi, const char *name, const char **field)
{
    if (v >= lo && v <= hi)
        return WHACO_OK;
    if (field)
        *field = name;
    return WHACO_E_CONFIG;
}

int whaco_team_config_check(const struct whaco_team_config *cfg, const char **field)
{
    int rc = check_range(cfg->coupling, 0.0, false, 100.0, "coupling", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->dt_max, 1e-4, false, 1.0, "dtMax", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->workload_gain, 0.0, false, 10.0, "workloadGain", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->nominal_deals, 0.1, false, 1000.0, "nominalDeals", field);
    if (rc == WHACO_OK)
        rc = check_count(cfg->overload_deals, 1, MAX_COUNT_CFG, "overloadDeals", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->slow_day_hours, 0.0, false, 24.0, "slowDayHours", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->behind_phase, 0.0, true, WHACO_PI, "behindPhase", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->behind_pace, 0.0, false, 1.0, "behindPace", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->ready_level, 0.0, false, 1.0, "readyLevel", field);
    if (rc == WHACO_OK)
        rc = check_count(cfg->crushing_deals, 1, MAX_COUNT_CFG, "crushingDeals", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->mentor_gap, 0.0, true, 1.0, "mentorGap", field);
    if (rc == WHACO_OK)
        rc = check_count(cfg->mentoring_max, 0, WHACO_TEAM_MAX, "mentoringMax", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->lead_hours, 0.1, false, 168.0, "leadHours", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->assign_phase, 0.0, false, 1.0, "assignPhase", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->assign_load, 0.0, false, 1.0, "assignLoad", field);
    if (rc == WHACO_OK)
        rc = check_range(cfg->assign_skill, 0.0, false, 1.0, "assignSkill", field);
    return rc;
}

/*==== Lifecycle and storage ====*/

int whaco_team_init(struct whaco_team *t, const struct whaco_team_config *cfg, const char **field)
{
    struct whaco_team_config c;
    if (cfg) {
        int rc = whaco_team_config_check(cfg, field);
        if (rc != WHACO_OK)
            return rc;
        c = *cfg;
    } else {
        whaco_team_config_default(&c);
    }
    struct whaco_coherence_sample *hist = whaco_calloc(WHACO_TEAM_HISTORY, sizeof hist[0]);
    if (!hist)
        return WHACO_E_NOMEM;
    memset(t, 0, sizeof *t);
    t->cfg = c;
    t->hist = hist;
    return WHACO_OK;
}

void whaco_team_release(struct whaco_team *t)
{
    whaco_free(t->members);
    whaco_free(t->hist);
    whaco_free(t->order);
    whaco_free(t->scratch);
    memset(t, 0, sizeof *t);
}

/*
 * Make room for at least `need` members (cap, members, order, scratch).
 * On out-of-memory the arrays that did grow keep their new size, but cap,
 * n and every member are unchanged: the team is the same team.
 */
static int reserve(struct whaco_team *t, size_t need)
{
    if (t->cap >= need)
        return WHACO_OK;
    size_t cap = t->cap ? t->cap : 8;
    while (cap < need)
        cap *= 2;
    if (cap > WHACO_TEAM_MAX)
        cap = WHACO_TEAM_MAX;
    struct whaco_member *members = whaco_reallocarray(t->members, cap, sizeof t->members[0]);
    if (!members)
        return WHACO_E_NOMEM;
    t->members = members;
    uint32_t *order = whaco_reallocarray(t->order, cap, sizeof t->order[0]);
    if (!order)
        return WHACO_E_NOMEM;
    t->order = order;
    double *scratch = whaco_reallocarray(t->scratch, cap, SCRATCH_ARRAYS * sizeof(double));
    if (!scratch)
        return WHACO_E_NOMEM;
    t->scratch = scratch;
    t->cap = cap;
    return WHACO_OK;
}

int whaco_team_reserve(struct whaco_team *t, size_t n)
{
    if (n > WHACO_TEAM_MAX)
        return WHACO_E_TEAM_FULL;
    return reserve(t, n);
}

struct skill_key {
    double skill;
    uint32_t index;
};

/* Sort key of order[]: skill ascending, then index descending. */
static int cmp_skill_key(const void *a, const void *b)
{
    const struct skill_key *x = a, *y = b;
    if (x->skill < y->skill)
        return -1;
    if (x->skill > y->skill)
        return 1;
    return (x->index < y->index) - (x->index > y->index);
}

/*
 * Rebuild order[] from the member list (decode). Allocates a temporary:
 * WHACO_OK, or WHACO_E_NOMEM with order[] untouched.
 */
static int rebuild_order(struct whaco_team *t)
{
    struct skill_key *keys = whaco_calloc(t->n ? t->n : 1, sizeof keys[0]);
    if (!keys)
        return WHACO_E_NOMEM;
    for (size_t i = 0; i < t->n; i++) {
        keys[i].skill = t->members[i].skill;
        keys[i].index = (uint32_t)i;
    }
    if (t->n > 1)
        qsort(keys, t->n, sizeof keys[0], cmp_skill_key);
    for (size_t i = 0; i < t->n; i++)
        t->order[i] = keys[i].index;
    whaco_free(keys);
    return WHACO_OK;
}

int whaco_team_copy(struct whaco_team *dst, const struct whaco_team *src)
{
    struct whaco_team c;
    memset(&c, 0, sizeof c);
    c.cfg = src->cfg;
    c.day_hours = src->day_hours;
    c.total_hours = src->total_hours;
    c.hist_head = src->hist_head;
    c.hist_count = src->hist_count;
    c.hist = whaco_calloc(WHACO_TEAM_HISTORY, sizeof c.hist[0]);
    if (!c.hist || reserve(&c, src->n ? src->n : 1) != WHACO_OK) {
        whaco_team_release(&c);
        return WHACO_E_NOMEM;
    }
    if (src->hist)
        memcpy(c.hist, src->hist, WHACO_TEAM_HISTORY * sizeof c.hist[0]);
    if (src->n) {
        memcpy(c.members, src->members, src->n * sizeof c.members[0]);
        memcpy(c.order, src->order, src->n * sizeof c.order[0]);
    }
    c.n = src->n;
    whaco_team_release(dst);
    *dst = c;
    return WHACO_OK;
}

/*==== Members ====*/

int whaco_member_spec_check(const struct whaco_member_spec *spec, const char **field)
{
    const char *f = NULL;
    int rc = WHACO_OK;
    WHACO_CHECK(whaco_member_id_valid(spec->id), "id", WHACO_E_ID_LENGTH);
    WHACO_CHECK(name_ok(spec->name), "name", WHACO_E_NAME_LENGTH);
    WHACO_CHECK(isfinite(spec->skill_level), "skillLevel", WHACO_E_NOT_FINITE);
    WHACO_CHECK(spec->skill_level >= 0.0 && spec->skill_level <= 1.0, "skillLevel",
                WHACO_E_SKILL_RANGE);
    WHACO_CHECK(isfinite(spec->natural_frequency), "naturalFrequency", WHACO_E_NOT_FINITE);
    WHACO_CHECK(spec->natural_frequency >= 0.0 && spec->natural_frequency <= WHACO_TEAM_OMEGA_MAX,
                "naturalFrequency", WHACO_E_FREQUENCY_RANGE);
    WHACO_CHECK(isfinite(spec->phase), "phase", WHACO_E_NOT_FINITE);
    WHACO_CHECK(spec->active_deals <= WHACO_TEAM_ACTIVE_DEALS_MAX, "activeDeals", WHACO_E_INVAL);
    if (rc != WHACO_OK && field)
        *field = f;
    return rc;
}

int whaco_team_find(const struct whaco_team *t, const char *id, size_t *index)
{
    if (!id)
        return WHACO_E_NOT_FOUND;
    for (size_t i = 0; i < t->n; i++) {
        if (strncmp(t->members[i].id, id, WHACO_TEAM_ID_MAX) == 0) {
            *index = i;
            return WHACO_OK;
        }
    }
    return WHACO_E_NOT_FOUND;
}

int whaco_team_add(struct whaco_team *t, const struct whaco_member_spec *spec, const char **field)
{
    int rc = whaco_member_spec_check(spec, field);
    if (rc != WHACO_OK)
        return rc;
    size_t dummy;
    if (whaco_team_find(t, spec->id, &dummy) == WHACO_OK) {
        if (field)
            *field = "id";
        return WHACO_E_DUPLICATE;
    }
    if (t->n >= WHACO_TEAM_MAX)
        return WHACO_E_TEAM_FULL;
    rc = reserve(t, t->n + 1);
    if (rc != WHACO_OK)
        return rc;

    struct whaco_member *m = &t->members[t->n];
    memset(m, 0, sizeof *m);
    copy_str(m->id, spec->id, sizeof m->id);
    copy_str(m->name, spec->name, sizeof m->name);
    m->skill = spec->skill_level + 0.0;
    m->omega = spec->natural_frequency + 0.0;
    set_phase(m, wrap_tau(spec->phase));
    /* Carried-in leads start now; those beyond what a member tracks are
     * counted without a start (a loop over all of them would take seconds
     * for a count near UINT32_MAX, as a replayed log record may carry). */
    uint32_t timed =
        spec->active_deals < WHACO_TEAM_LEADS_MAX ? spec->active_deals : WHACO_TEAM_LEADS_MAX;
    for (uint32_t k = 0; k < timed; k++)
        lead_open(m, t->total_hours);
    m->active_deals += spec->active_deals - timed;

    /* The newest index sorts before every older member of equal skill. */
    size_t pos = 0;
    while (pos < t->n && t->members[t->order[pos]].skill < m->skill)
        pos++;
    memmove(&t->order[pos + 1], &t->order[pos], (t->n - pos) * sizeof t->order[0]);
    t->order[pos] = (uint32_t)t->n;
    t->n++;
    return WHACO_OK;
}

int whaco_team_remove(struct whaco_team *t, const char *id)
{
    size_t k;
    if (whaco_team_find(t, id, &k) != WHACO_OK)
        return WHACO_E_NOT_FOUND;
    memmove(&t->members[k], &t->members[k + 1], (t->n - k - 1) * sizeof t->members[0]);
    size_t w = 0;
    for (size_t p = 0; p < t->n; p++) {
        uint32_t i = t->order[p];
        if (i == k)
            continue;
        t->order[w++] = i > k ? i - 1u : i;
    }
    t->n--;
    return WHACO_OK;
}

/*==== Dynamics ====*/

/*
 * The right-hand side in skill order: out[p] = w[p] + (K/N) sum_q
 * (1 - |s[p] - s[q]|) sin(th[q] - th[p]), for s sorted ascending.
 *
 * Why O(N): sin(th_q - th_p) = sin th_q cos th_p - cos th_q sin th_p, and
 * with the members sorted by skill, 1 - |s_p - s_q| is (1 - s_p) + s_q for
 * q <= p and (1 + s_p) - s_q for q > p (either form gives 1 for equal
 * skills, so ties may split anywhere). Hence
 *
 *   sum_q w_pq sin th_q = (1 - s_p) S_lo + SS_lo + (1 + s_p) S_hi - SS_hi
 *
 * with S = sum sin th_q, SS = sum s_q sin th_q over q <= p (lo) and q > p
 * (hi), and the same for cosines; prefix sums give all of them in one
 * pass. The self term q = p contributes sin 0 = 0 up to rounding.
 * Rounding: the sums are O(N) in size, so the error of one coupling term is
 * O(N eps) before the K/N factor, i.e. O(K eps) after it.
 */
static void rhs(size_t n, double k_over_n, const double *s, const double *w, const double *mv,
                const double *th, double *sn, double *cs, double *out)
{
    double S = 0.0, C = 0.0, SS = 0.0, SC = 0.0;
    for (size_t p = 0; p < n; p++) {
        sn[p] = mv[p] * sin(th[p]);
        cs[p] = mv[p] * cos(th[p]);
        S += sn[p];
        C += cs[p];
        SS += s[p] * sn[p];
        SC += s[p] * cs[p];
    }
    double ps = 0.0, pc = 0.0, pss = 0.0, psc = 0.0;
    for (size_t p = 0; p < n; p++) {
        ps += sn[p];
        pc += cs[p];
        pss += s[p] * sn[p];
        psc += s[p] * cs[p];
        double lo = 1.0 - s[p], hi = 1.0 + s[p];
        double a = lo * ps + pss + hi * (S - ps) - (SS - pss);
        double b = lo * pc + psc + hi * (C - pc) - (SC - psc);
        out[p] = w[p] + k_over_n * (cs[p] * a - sn[p] * b);
    }
}

/* Members whose phase moves and pulls: all but the held, or all if every one is held. */
static size_t moving_members(const struct whaco_team *t)
{
    size_t k = 0;
    for (size_t i = 0; i < t->n; i++)
        k += !t->members[i].held;
    return k;
}

/* Whether member m counts in the order parameter: moving, or everyone is held. */
static bool counted(const struct whaco_member *m, size_t moving)
{
    return !m->held || moving == 0;
}

int whaco_team_advance(struct whaco_team *t, double hours)
{
    if (!isfinite(hours))
        return WHACO_E_NOT_FINITE;
    if (hours < 0.0)
        return WHACO_E_TIME_BACKWARDS;
    if (hours > WHACO_TEAM_ADVANCE_MAX)
        return WHACO_E_CONFIG;
    t->day_hours += hours;
    t->total_hours += hours;
    size_t n = t->n;
    if (n == 0 || !(hours > 0.0))
        return WHACO_OK;
    /* The workload of the step is that of its start; leads that end within
     * it stop counting from the next one. */
    double cutoff = t->total_hours - t->cfg.lead_hours;

    /* Work in skill order: s, w, th, y (stage), acc, k, sn, cs, mv (1 moves, 0 held). */
    double *s = t->scratch, *w = s + n, *th = w + n, *y = th + n, *acc = y + n, *k = acc + n;
    double *sn = k + n, *cs = sn + n, *mv = cs + n;
    size_t moving = moving_members(t);
    for (size_t p = 0; p < n; p++) {
        const struct whaco_member *m = &t->members[t->order[p]];
        s[p] = m->skill;
        mv[p] = m->held ? 0.0 : 1.0;
        w[p] = m->held ? 0.0 : m->omega * workload_factor(&t->cfg, m->active_deals);
        th[p] = m->phase;
    }

    double steps = ceil(hours / t->cfg.dt_max);
    uint64_t nsteps = (uint64_t)steps;                     /* <= 24 / 1e-4 */
    double h = hours / WHACO_TEAM_TIME_UNIT_HOURS / steps; /* in model units */
    /* Coupling over the moving members only (the held neither move nor pull). */
    double kn = t->cfg.coupling / (double)(moving > 0 ? moving : 1);
    for (uint64_t step = 0; step < nsteps; step++) {
        rhs(n, kn, s, w, mv, th, sn, cs, k);
        for (size_t p = 0; p < n; p++) {
            acc[p] = k[p];
            y[p] = th[p] + 0.5 * h * k[p];
        }
        rhs(n, kn, s, w, mv, y, sn, cs, k);
        for (size_t p = 0; p < n; p++) {
            acc[p] += 2.0 * k[p];
            y[p] = th[p] + 0.5 * h * k[p];
        }
        rhs(n, kn, s, w, mv, y, sn, cs, k);
        for (size_t p = 0; p < n; p++) {
            acc[p] += 2.0 * k[p];
            y[p] = th[p] + h * k[p];
        }
        rhs(n, kn, s, w, mv, y, sn, cs, k);
        for (size_t p = 0; p < n; p++) {
            double v = th[p] + (h / 6.0) * (acc[p] + k[p]);
            th[p] = (v >= 0.0 && v < WHACO_TAU) ? v : wrap_tau(v);
        }
    }
    for (size_t p = 0; p < n; p++)
        set_phase(&t->members[t->order[p]], th[p]);
    for (size_t i = 0; i < n; i++)
        leads_expire(&t->members[i], cutoff);
    return WHACO_OK;
}

/*
 * r and psi of the team; n must be > 0. Sums in insertion order, over the
 * moving members (all of them when every one is held).
 */
static void order_param(const struct whaco_team *t, double *r, double *psi)
{
    double S = 0.0, C = 0.0;
    size_t moving = moving_members(t), k = 0;
    for (size_t i = 0; i < t->n; i++) {
        if (!counted(&t->members[i], moving))
            continue;
        S += sin(t->members[i].phase);
        C += cos(t->members[i].phase);
        k++;
    }
    double rr = hypot(S, C) / (double)k;
    *r = rr > 1.0 ? 1.0 : rr; /* rounding only */
    *psi = wrap_tau(atan2(S, C));
}

int whaco_team_coherence(const struct whaco_team *t, double *r, double *psi)
{
    if (t->n == 0)
        return WHACO_E_EMPTY_TEAM;
    order_param(t, r, psi);
    return WHACO_OK;
}

int whaco_team_band(double r)
{
    if (r > 0.8)
        return WHACO_BAND_EXCELLENT;
    if (r >= 0.6)
        return WHACO_BAND_GOOD;
    if (r >= 0.4)
        return WHACO_BAND_NEEDS_ATTENTION;
    return WHACO_BAND_CRITICAL;
}

const char *whaco_team_band_name(int band)
{
    static const char *const names[] = {"excellent", "good", "needs_attention", "critical"};
    if (band < 0 || (size_t)band >= WHACO_ARRAY_LEN(names))
        return NULL;
    return names[band];
}

/*==== Events ====*/

int whaco_team_deal_closed(struct whaco_team *t, const char *id)
{
    size_t i;
    if (whaco_team_find(t, id, &i) != WHACO_OK)
        return WHACO_E_NOT_FOUND;
    struct whaco_member *m = &t->members[i];
    set_phase(m, wrap_tau(m->phase + WHACO_PI / 2.0));
    lead_close(m);
    m->deals_today = sat_inc32(m->deals_today);
    m->deals_total = sat_inc64(m->deals_total);
    return WHACO_OK;
}

double whaco_team_score(const struct whaco_team *t, size_t i, double lead_priority)
{
    const struct whaco_team_config *cfg = &t->cfg;
    const struct whaco_member *m = &t->members[i];
    double load = (double)m->active_deals / (double)cfg->overload_deals;
    return cfg->assign_phase * m->readiness + cfg->assign_load * (1.0 - (load < 1.0 ? load : 1.0)) +
           cfg->assign_skill * (1.0 - fabs(m->skill - lead_priority));
}

int whaco_team_pick(const struct whaco_team *t, double lead_priority, size_t *index,
                    const char **field)
{
    if (!isfinite(lead_priority) || lead_priority < 0.0 || lead_priority > 1.0) {
        if (field)
            *field = "leadPriority";
        return isfinite(lead_priority) ? WHACO_E_INVAL : WHACO_E_NOT_FINITE;
    }
    if (t->n == 0)
        return WHACO_E_EMPTY_TEAM;
    const struct whaco_team_config *cfg = &t->cfg;
    bool any_free = false;
    for (size_t i = 0; i < t->n && !any_free; i++)
        any_free = t->members[i].active_deals < cfg->overload_deals;

    size_t best = 0;
    double best_score = -1.0;
    for (size_t i = 0; i < t->n; i++) {
        if (any_free && t->members[i].active_deals >= cfg->overload_deals)
            continue;
        double score = whaco_team_score(t, i, lead_priority);
        if (score > best_score) {
            best_score = score;
            best = i;
        }
    }
    if (index)
        *index = best;
    return WHACO_OK;
}

int whaco_team_assign(struct whaco_team *t, double lead_priority, size_t *index, const char **field)
{
    size_t i;
    int rc = whaco_team_pick(t, lead_priority, &i, field);
    if (rc != WHACO_OK)
        return rc;
    whaco_team_assign_to(t, i);
    if (index)
        *index = i;
    return WHACO_OK;
}

int whaco_team_assign_to(struct whaco_team *t, size_t i)
{
    if (i >= t->n)
        return WHACO_E_NOT_FOUND;
    struct whaco_member *m = &t->members[i];
    if (m->active_deals < UINT32_MAX)
        lead_open(m, t->total_hours);
    m->leads_today = sat_inc32(m->leads_today);
    m->leads_total = sat_inc64(m->leads_total);
    return WHACO_OK;
}

/*==== For the floor ====*/

void whaco_team_set_phase(struct whaco_team *t, size_t i, double phase)
{
    set_phase(&t->members[i], wrap_tau(phase));
}

void whaco_team_take_customer(struct whaco_team *t, size_t i)
{
    struct whaco_member *m = &t->members[i];
    m->active_deals = sat_inc32(m->active_deals);
    m->leads_today = sat_inc32(m->leads_today);
    m->leads_total = sat_inc64(m->leads_total);
}

void whaco_team_drop_customer(struct whaco_team *t, size_t i)
{
    lead_close(&t->members[i]);
}

void whaco_team_count_deal(struct whaco_team *t, size_t i)
{
    struct whaco_member *m = &t->members[i];
    m->deals_today = sat_inc32(m->deals_today);
    m->deals_total = sat_inc64(m->deals_total);
}

void whaco_team_count_outcome(struct whaco_team *t, size_t i, int k, bool sold)
{
    if (k < 0 || k >= 5)
        return;
    struct whaco_member *m = &t->members[i];
    m->seg_outcomes[k] = sat_inc32(m->seg_outcomes[k]);
    if (sold)
        m->seg_sold[k] = sat_inc32(m->seg_sold[k]);
}

void whaco_team_forget_leads_of(struct whaco_team *t, size_t i)
{
    t->members[i].active_deals = 0;
    t->members[i].n_timed = 0;
}

void whaco_team_forget_leads(struct whaco_team *t)
{
    for (size_t i = 0; i < t->n; i++)
        whaco_team_forget_leads_of(t, i);
}

void whaco_team_daily_reset(struct whaco_team *t)
{
    for (size_t i = 0; i < t->n; i++) {
        t->members[i].deals_today = 0;
        t->members[i].leads_today = 0;
    }
    t->day_hours = 0.0;
}

/*==== Coherence history ====*/

static const struct whaco_coherence_sample *hist_at(const struct whaco_team *t, uint32_t age_rank)
{
    /* age_rank 0 is the oldest sample held. */
    uint32_t start = (t->hist_head + WHACO_TEAM_HISTORY - t->hist_count) % WHACO_TEAM_HISTORY;
    return &t->hist[(start + age_rank) % WHACO_TEAM_HISTORY];
}

int whaco_team_record(struct whaco_team *t, int64_t now_ms)
{
    if (t->hist_count > 0 && now_ms < hist_at(t, t->hist_count - 1)->timestamp_ms)
        return WHACO_E_TIME_BACKWARDS;
    if (t->n == 0)
        return WHACO_E_EMPTY_TEAM;
    double r, psi;
    order_param(t, &r, &psi);
    t->hist[t->hist_head].timestamp_ms = now_ms;
    t->hist[t->hist_head].r = r;
    t->hist_head = (t->hist_head + 1) % WHACO_TEAM_HISTORY;
    if (t->hist_count < WHACO_TEAM_HISTORY)
        t->hist_count++;
    return WHACO_OK;
}

size_t whaco_team_history_len(const struct whaco_team *t)
{
    return t->hist_count;
}

size_t whaco_team_history_since(const struct whaco_team *t, int64_t since_ms,
                                struct whaco_coherence_sample *out, size_t cap)
{
    uint32_t first = 0;
    while (first < t->hist_count && hist_at(t, first)->timestamp_ms < since_ms)
        first++;
    size_t avail = t->hist_count - first;
    if (avail > cap)
        first += (uint32_t)(avail - cap), avail = cap;
    for (size_t k = 0; k < avail; k++)
        out[k] = *hist_at(t, first + (uint32_t)k);
    return avail;
}

/*==== Status report ====*/

void whaco_team_status_init(struct whaco_team_status *st)
{
    memset(st, 0, sizeof *st);
}

void whaco_team_status_release(struct whaco_team_status *st)
{
    whaco_free(st->members);
    whaco_free(st->bottlenecks);
    whaco_free(st->mentoring);
    memset(st, 0, sizeof *st);
}

const char *whaco_team_issue_text(int issue)
{
    static const char *const texts[] = {
        "",
        "Overloaded - too many active deals",
        "Significantly behind team rhythm",
        "Slow day - no deals closed yet",
    };
    if (issue < 0 || (size_t)issue >= WHACO_ARRAY_LEN(texts))
        return NULL;
    return texts[issue];
}

const char *whaco_member_state_name(int state)
{
    static const char *const names[] = {"overloaded",  "behind", "slow_day",
                                        "crushing_it", "ready",  "on_track"};
    if (state < 0 || (size_t)state >= WHACO_ARRAY_LEN(names))
        return NULL;
    return names[state];
}

/* Mentoring pairs within one urgency class: larger gap first, then mentee index. */
static int cmp_mentoring(const void *a, const void *b)
{
    const struct whaco_mentoring *x = a, *y = b;
    if (x->skill_gap > y->skill_gap)
        return -1;
    if (x->skill_gap < y->skill_gap)
        return 1;
    return (x->mentee > y->mentee) - (x->mentee < y->mentee);
}

/*
 * Put the best `want` of a[0..n) first, in cmp_mentoring order (the rest in
 * any order). A few passes of selection when few are wanted (the usual 5),
 * qsort otherwise: O(n min(want, log n)).
 */
static void sort_best(struct whaco_mentoring *a, size_t n, size_t want)
{
    if (want >= n || want > 16) {
        if (n > 1)
            qsort(a, n, sizeof a[0], cmp_mentoring);
        return;
    }
    for (size_t k = 0; k < want; k++) {
        size_t best = k;
        for (size_t j = k + 1; j < n; j++)
            if (cmp_mentoring(&a[j], &a[best]) < 0)
                best = j;
        struct whaco_mentoring tmp = a[k];
        a[k] = a[best];
        a[best] = tmp;
    }
}

/*
 * The best mentor of mentee e: the most skilled member (lowest index among
 * equals) with skill_gap >= mentor_gap, a phase lead in (0, pi) and no
 * overload. Scans order[] from the top, so it usually stops at once.
 */
static bool find_mentor(const struct whaco_team *t, uint32_t e, struct whaco_mentoring *out)
{
    const struct whaco_member *me = &t->members[e];
    for (size_t p = t->n; p-- > 0;) {
        uint32_t m = t->order[p];
        const struct whaco_member *mm = &t->members[m];
        double gap = mm->skill - me->skill;
        if (!(gap >= t->cfg.mentor_gap))
            return false;
        if (mm->active_deals >= t->cfg.overload_deals)
            continue;
        double lead = phase_diff(mm->phase, me->phase);
        if (lead > 0.0 && lead < WHACO_PI) {
            out->mentor = m;
            out->mentee = e;
            out->skill_gap = gap;
            out->phase_lead = lead;
            return true;
        }
    }
    return false;
}

/* Grow the report's arrays to n entries; WHACO_E_NOMEM leaves cap and the contents as they were. */
static int status_reserve(struct whaco_team_status *st, size_t n)
{
    if (st->cap >= n)
        return WHACO_OK;
    struct whaco_member_status *members = whaco_reallocarray(st->members, n, sizeof members[0]);
    if (!members)
        return WHACO_E_NOMEM;
    st->members = members;
    struct whaco_bottleneck *bottlenecks =
        whaco_reallocarray(st->bottlenecks, n, sizeof bottlenecks[0]);
    if (!bottlenecks)
        return WHACO_E_NOMEM;
    st->bottlenecks = bottlenecks;
    struct whaco_mentoring *mentoring = whaco_reallocarray(st->mentoring, n, sizeof mentoring[0]);
    if (!mentoring)
        return WHACO_E_NOMEM;
    st->mentoring = mentoring;
    st->cap = n;
    return WHACO_OK;
}

/* What the whole team's figures say a member is measured against. */
struct team_norms {
    double pace_floor;     /* behind_pace x the team's mean pace */
    bool phase_meaningful; /* coherence is above critical: phase offsets mean something */
    bool day_long;         /* the business day is past slow_day_hours */
    bool team_sold;        /* someone closed a deal today */
};

/*
 * A member's issue and state (docs/team.md, "Team status"), from its status
 * so far. A held member (off the floor, on a break) is no bottleneck and
 * not ready: only overload and a great day are said of them.
 */
static void classify(const struct whaco_team_config *cfg, const struct team_norms *nm,
                     const struct whaco_member *m, struct whaco_member_status *ms)
{
    int issue = WHACO_ISSUE_NONE;
    if (m->held)
        issue = m->active_deals >= cfg->overload_deals ? WHACO_ISSUE_OVERLOADED : WHACO_ISSUE_NONE;
    else if (m->active_deals >= cfg->overload_deals)
        issue = WHACO_ISSUE_OVERLOADED;
    else if (ms->pace < nm->pace_floor ||
             (nm->phase_meaningful && ms->phase_offset <= -cfg->behind_phase))
        issue = WHACO_ISSUE_BEHIND;
    else if (m->deals_today == 0 && nm->day_long && nm->team_sold)
        issue = WHACO_ISSUE_SLOW_DAY;
    ms->issue = issue;

    if (issue == WHACO_ISSUE_OVERLOADED)
        ms->state = WHACO_MEMBER_OVERLOADED;
    else if (issue == WHACO_ISSUE_BEHIND)
        ms->state = WHACO_MEMBER_BEHIND;
    else if (issue == WHACO_ISSUE_SLOW_DAY)
        ms->state = WHACO_MEMBER_SLOW_DAY;
    else if (m->deals_today >= cfg->crushing_deals)
        ms->state = WHACO_MEMBER_CRUSHING_IT;
    else if (ms->readiness >= cfg->ready_level && !m->held)
        ms->state = WHACO_MEMBER_READY;
    else
        ms->state = WHACO_MEMBER_ON_TRACK;
}

int whaco_team_status_compute(struct whaco_team_status *st, const struct whaco_team *t)
{
    if (t->n == 0)
        return WHACO_E_EMPTY_TEAM;
    const struct whaco_team_config *cfg = &t->cfg;
    size_t n = t->n;
    if (status_reserve(st, n) != WHACO_OK)
        return WHACO_E_NOMEM;

    /* One pass for the sums of r e^{i psi} (as order_param), paces and cosines. */
    double S = 0.0, C = 0.0, pace_sum = 0.0;
    uint64_t team_deals = 0;
    size_t moving = moving_members(t), counted_n = 0;
    for (size_t i = 0; i < n; i++) {
        const struct whaco_member *m = &t->members[i];
        double c = cos(m->phase);
        double pace = m->omega * workload_factor(cfg, m->active_deals);
        if (counted(m, moving)) { /* the moving team: held members are off the floor */
            S += sin(m->phase);
            C += c;
            pace_sum += pace;
            counted_n++;
        }
        st->members[i].readiness = 0.5 * (1.0 + c);
        st->members[i].pace = pace;
        team_deals += m->deals_today;
    }
    double r = hypot(S, C) / (double)counted_n;
    r = r > 1.0 ? 1.0 : r;
    double psi = wrap_tau(atan2(S, C));
    st->r = r;
    st->psi = psi;
    st->band = whaco_team_band(r);
    st->day_hours = t->day_hours;
    st->n_members = n;

    double pace_floor = cfg->behind_pace * (pace_sum / (double)counted_n);
    bool phase_meaningful = st->band != WHACO_BAND_CRITICAL;
    bool day_long = !(t->day_hours < cfg->slow_day_hours);

    struct team_norms norms = {pace_floor, phase_meaningful, day_long, team_deals > 0};
    st->n_bottlenecks = 0;
    for (size_t i = 0; i < n; i++) {
        const struct whaco_member *m = &t->members[i];
        struct whaco_member_status *ms = &st->members[i];
        double off = phase_diff(m->phase, psi);
        ms->phase_offset = off;
        ms->phase_difference = fabs(off);
        classify(cfg, &norms, m, ms);
        int issue = ms->issue;

        if (issue != WHACO_ISSUE_NONE) {
            struct whaco_bottleneck *b = &st->bottlenecks[st->n_bottlenecks++];
            b->member = (uint32_t)i;
            b->issue = issue;
            b->phase_difference = ms->phase_difference;
            b->active_deals = m->active_deals;
        }
    }

    /*
     * Mentees with an issue come first (they need the help most), each class
     * sorted by gap; only the first mentoring_max pairs are reported.
     */
    size_t nm = 0;
    if (cfg->mentoring_max > 0) {
        for (int pass = 0; pass < 2; pass++) {
            size_t from = nm;
            for (size_t e = 0; e < n; e++) {
                bool urgent = st->members[e].issue != WHACO_ISSUE_NONE;
                if (urgent == (pass == 0))
                    nm += find_mentor(t, (uint32_t)e, &st->mentoring[nm]);
            }
            sort_best(&st->mentoring[from], nm - from, cfg->mentoring_max - from);
            if (nm >= cfg->mentoring_max)
                break;
        }
        if (nm > cfg->mentoring_max)
            nm = cfg->mentoring_max;
    }
    st->n_mentoring = nm;
    return WHACO_OK;
}

size_t whaco_team_recommendation(const struct whaco_team *t, const struct whaco_mentoring *m,
                                 char *buf, size_t cap)
{
    const char *parts[4] = {t->members[m->mentor].name, " can help ", t->members[m->mentee].name,
                            " move deals faster"};
    size_t len = 0;
    for (size_t k = 0; k < WHACO_ARRAY_LEN(parts); k++) {
        size_t l = strlen(parts[k]);
        if (cap > 0 && len < cap - 1) {
            size_t room = cap - 1 - len;
            memcpy(buf + len, parts[k], l < room ? l : room);
        }
        len += l;
    }
    if (cap > 0)
        buf[len < cap - 1 ? len : cap - 1] = '\0';
    return len;
}

/*==== Serialisation ====*/

/*
 * Layout (all little-endian, see docs/team.md): u32 layout version; the
 * configuration field by field; f64 day_hours, f64 total_hours; u32 member
 * count, then each member; u32 sample count, then each sample, oldest
 * first. Padding never reaches the bytes: every field is written on its own.
 */
void whaco_team_encode(const struct whaco_team *t, struct whaco_buf *b)
{
    const struct whaco_team_config *c = &t->cfg;
    whaco_buf_put_u32(b, TEAM_LAYOUT_VERSION);
    whaco_buf_put_f64(b, c->coupling);
    whaco_buf_put_f64(b, c->dt_max);
    whaco_buf_put_u8(b, c->workload ? 1u : 0u);
    whaco_buf_put_f64(b, c->workload_gain);
    whaco_buf_put_f64(b, c->nominal_deals);
    whaco_buf_put_u32(b, c->overload_deals);
    whaco_buf_put_f64(b, c->slow_day_hours);
    whaco_buf_put_f64(b, c->behind_phase);
    whaco_buf_put_f64(b, c->behind_pace);
    whaco_buf_put_f64(b, c->ready_level);
    whaco_buf_put_u32(b, c->crushing_deals);
    whaco_buf_put_f64(b, c->mentor_gap);
    whaco_buf_put_u32(b, c->mentoring_max);
    whaco_buf_put_f64(b, c->assign_phase);
    whaco_buf_put_f64(b, c->assign_load);
    whaco_buf_put_f64(b, c->assign_skill);
    whaco_buf_put_f64(b, c->lead_hours);

    whaco_buf_put_f64(b, t->day_hours);
    whaco_buf_put_f64(b, t->total_hours);

    whaco_buf_put_u32(b, (uint32_t)t->n);
    for (size_t i = 0; i < t->n; i++) {
        const struct whaco_member *m = &t->members[i];
        whaco_buf_put_str(b, m->id);
        whaco_buf_put_str(b, m->name);
        whaco_buf_put_f64(b, m->skill);
        whaco_buf_put_f64(b, m->omega);
        whaco_buf_put_f64(b, m->phase);
        whaco_buf_put_u32(b, m->active_deals);
        whaco_buf_put_u32(b, m->n_timed);
        for (uint32_t k = 0; k < m->n_timed; k++)
            whaco_buf_put_f64(b, m->lead_start[k]);
        whaco_buf_put_u32(b, m->deals_today);
        whaco_buf_put_u32(b, m->leads_today);
        whaco_buf_put_u64(b, m->deals_total);
        whaco_buf_put_u64(b, m->leads_total);
        whaco_buf_put_u8(b, m->held ? 1u : 0u);
        whaco_buf_put_u8(b, m->seat.status);
        whaco_buf_put_u64(b, m->seat.up);
        whaco_buf_put_i64(b, m->seat.since_ms);
        whaco_buf_put_u32(b, m->seat.walkins_today);
        whaco_buf_put_u32(b, m->seat.overrides_today);
        for (int k = 0; k < 5; k++) {
            whaco_buf_put_u32(b, m->seg_outcomes[k]);
            whaco_buf_put_u32(b, m->seg_sold[k]);
        }
    }

    whaco_buf_put_u32(b, t->hist_count);
    for (uint32_t k = 0; k < t->hist_count; k++) {
        const struct whaco_coherence_sample *smp = hist_at(t, k);
        whaco_buf_put_i64(b, smp->timestamp_ms);
        whaco_buf_put_f64(b, smp->r);
    }
}

/* Compare ids through an index array (unique-id check in decode). */
struct id_key {
    const char *id;
};

static int cmp_id_key(const void *a, const void *b)
{
    return strcmp(((const struct id_key *)a)->id, ((const struct id_key *)b)->id);
}

/* WHACO_OK if the ids are unique, WHACO_E_DUPLICATE if not, or WHACO_E_NOMEM. */
static int ids_unique(const struct whaco_member *members, size_t n)
{
    if (n < 2)
        return WHACO_OK;
    struct id_key *keys = whaco_calloc(n, sizeof keys[0]);
    if (!keys)
        return WHACO_E_NOMEM;
    for (size_t i = 0; i < n; i++)
        keys[i].id = members[i].id;
    qsort(keys, n, sizeof keys[0], cmp_id_key);
    bool ok = true;
    for (size_t i = 1; i < n && ok; i++)
        ok = strcmp(keys[i - 1].id, keys[i].id) != 0;
    whaco_free(keys);
    return ok ? WHACO_OK : WHACO_E_DUPLICATE;
}

static bool finite_nonneg(double v)
{
    return isfinite(v) && v >= 0.0;
}

/* Layout 2's per-member floor fields and outcome counts; false if they are not whaco's. */
static bool decode_floor_fields(struct whaco_member *m, struct whaco_reader *r)
{
    uint8_t held = whaco_reader_u8(r);
    m->held = held != 0;
    m->seat.status = whaco_reader_u8(r);
    m->seat.up = whaco_reader_u64(r);
    m->seat.since_ms = whaco_reader_i64(r);
    m->seat.walkins_today = whaco_reader_u32(r);
    m->seat.overrides_today = whaco_reader_u32(r);
    bool counts_ok = true;
    for (int k = 0; k < 5; k++) {
        m->seg_outcomes[k] = whaco_reader_u32(r);
        m->seg_sold[k] = whaco_reader_u32(r);
        counts_ok = counts_ok && m->seg_sold[k] <= m->seg_outcomes[k];
    }
    bool off = m->seat.status == WHACO_SEAT_OFF;
    return r->err == WHACO_OK && held <= 1 && m->seat.status <= WHACO_SEAT_APPOINTMENT &&
           off == (m->seat.up == 0) && counts_ok;
}

/* The configuration field by field; false if a value is not one whaco writes. */
static bool decode_config(struct whaco_team_config *c, struct whaco_reader *r)
{
    c->coupling = whaco_reader_f64(r);
    c->dt_max = whaco_reader_f64(r);
    uint8_t workload = whaco_reader_u8(r);
    c->workload = workload != 0;
    c->workload_gain = whaco_reader_f64(r);
    c->nominal_deals = whaco_reader_f64(r);
    c->overload_deals = whaco_reader_u32(r);
    c->slow_day_hours = whaco_reader_f64(r);
    c->behind_phase = whaco_reader_f64(r);
    c->behind_pace = whaco_reader_f64(r);
    c->ready_level = whaco_reader_f64(r);
    c->crushing_deals = whaco_reader_u32(r);
    c->mentor_gap = whaco_reader_f64(r);
    c->mentoring_max = whaco_reader_u32(r);
    c->assign_phase = whaco_reader_f64(r);
    c->assign_load = whaco_reader_f64(r);
    c->assign_skill = whaco_reader_f64(r);
    c->lead_hours = whaco_reader_f64(r);
    return r->err == WHACO_OK && workload <= 1 && whaco_team_config_check(c, NULL) == WHACO_OK;
}

/*
 * One member of layout `version` into *m, within a team whose clock is at
 * total_hours; false if it is not one whaco writes.
 */
static bool decode_member(struct whaco_member *m, uint32_t version, double total_hours,
                          struct whaco_reader *r)
{
    memset(m, 0, sizeof *m);
    whaco_reader_str(r, m->id, sizeof m->id);
    whaco_reader_str(r, m->name, sizeof m->name);
    m->skill = whaco_reader_f64(r);
    m->omega = whaco_reader_f64(r);
    set_phase(m, whaco_reader_f64(r));
    m->active_deals = whaco_reader_u32(r);
    m->n_timed = whaco_reader_u32(r);
    if (r->err != WHACO_OK || m->n_timed > WHACO_TEAM_LEADS_MAX || m->n_timed > m->active_deals)
        return false;
    for (uint32_t k = 0; k < m->n_timed; k++) {
        m->lead_start[k] = whaco_reader_f64(r);
        if (!isfinite(m->lead_start[k]) || m->lead_start[k] > total_hours ||
            (k > 0 && m->lead_start[k] < m->lead_start[k - 1]))
            return false;
    }
    m->deals_today = whaco_reader_u32(r);
    m->leads_today = whaco_reader_u32(r);
    m->deals_total = whaco_reader_u64(r);
    m->leads_total = whaco_reader_u64(r);
    if (version >= 2 && !decode_floor_fields(m, r))
        return false;
    struct whaco_member_spec spec = {m->id, m->name, m->skill, m->omega, m->phase, 0};
    return r->err == WHACO_OK && whaco_member_spec_check(&spec, NULL) == WHACO_OK &&
           m->phase >= 0.0 && m->phase < WHACO_TAU && m->deals_total >= m->deals_today &&
           m->leads_total >= m->leads_today;
}

int whaco_team_decode(struct whaco_team *t, struct whaco_reader *r)
{
    struct whaco_team d;
    memset(&d, 0, sizeof d);

    uint32_t version = whaco_reader_u32(r);
    bool config_ok = decode_config(&d.cfg, r);
    d.day_hours = whaco_reader_f64(r);
    d.total_hours = whaco_reader_f64(r);
    uint32_t n = whaco_reader_u32(r);
    if (r->err != WHACO_OK || version < 1 || version > TEAM_LAYOUT_VERSION || !config_ok ||
        !finite_nonneg(d.day_hours) || !finite_nonneg(d.total_hours) || n > WHACO_TEAM_MAX)
        goto corrupt;

    int rc = reserve(&d, n ? n : 1);
    if (rc != WHACO_OK)
        goto out_of_memory;
    for (uint32_t i = 0; i < n; i++) {
        if (!decode_member(&d.members[i], version, d.total_hours, r))
            goto corrupt;
        d.n = i + 1u;
    }
    rc = ids_unique(d.members, d.n);
    if (rc == WHACO_E_DUPLICATE)
        goto corrupt;
    if (rc == WHACO_OK)
        rc = rebuild_order(&d);
    if (rc != WHACO_OK)
        goto out_of_memory;

    uint32_t count = whaco_reader_u32(r);
    if (r->err != WHACO_OK || count > WHACO_TEAM_HISTORY)
        goto corrupt;
    d.hist = whaco_calloc(WHACO_TEAM_HISTORY, sizeof d.hist[0]);
    if (!d.hist)
        goto out_of_memory;
    for (uint32_t k = 0; k < count; k++) {
        d.hist[k].timestamp_ms = whaco_reader_i64(r);
        d.hist[k].r = whaco_reader_f64(r);
        if (r->err != WHACO_OK || !(d.hist[k].r >= 0.0 && d.hist[k].r <= 1.0) ||
            (k > 0 && d.hist[k].timestamp_ms < d.hist[k - 1].timestamp_ms))
            goto corrupt;
    }
    d.hist_count = count;
    d.hist_head = count % WHACO_TEAM_HISTORY;

    whaco_team_release(t);
    *t = d;
    return WHACO_OK;

corrupt:
    whaco_team_release(&d);
    whaco_reader_fail(r);
    return WHACO_E_STATE_CORRUPT;

out_of_memory:
    whaco_team_release(&d);
    return WHACO_E_NOMEM;
}

/*==== Starting phases ====*/

double whaco_team_spread_phase(size_t i)
{
    static const double golden_angle = 2.399963229728653; /* pi (3 - sqrt 5) rad */
    static const double turn = 6.283185307179586;         /* 2 pi rad */
    return fmod((double)i * golden_angle, turn);
}

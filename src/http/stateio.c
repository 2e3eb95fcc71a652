/*
 * stateio.c: the seed-compatible state files of stateio.h, on jansson.
 *
 * whaco_state.json:
 *   {"version":1, "learningRate", "outlierThreshold", "totalProcessed",
 *    "outliersDetected", "featureNames":[8], "featureWeights":[8],
 *    "clusters":[{"id","name","centroid":[8],"variance":[8],"share","size"}]}
 * oscillator_state.json:
 *   {"version":1, "couplingStrength",
 *    "oscillators":[{"id","name","skillLevel","naturalFrequency","phase",
 *                    "activeDeals","dealsToday"}]}
 * Centroids and variances are in whaco's feature units (README, "Feature
 * normalisation"). The anomaly feed and the coherence history are not part
 * of the files: they describe the past, not the model. dealsToday is
 * exported for reading but not imported: an import starts a new day.
 *
 * Import builds the state through the engines' own decoders (encode the
 * assembled structs, decode them back), so it accepts exactly the states
 * those accept.
 *
 * Out of memory: export returns NULL rather than a file with a part
 * missing (every constructor's result is checked through put/push); import
 * returns WHACO_E_NOMEM, never a parse error, when an allocation failed --
 * jansson included, whose lexer may report a failed allocation as a syntax
 * error (see json.c's load_object).
 */
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "whaco/alloc.h"
#include "whaco/err.h"
#include "whaco/segment.h"
#include "whaco/team.h"
#include "http/stateio.h"
#include "banned.h"

#define FILE_VERSION 1
#define DUMP_FLAGS   (JSON_INDENT(2) | JSON_REAL_PRECISION(17))

/* json_object_set_new, recording a failure (out of memory) in *oom. Consumes v. */
static void put(json_t *o, const char *key, json_t *v, bool *oom)
{
    if (json_object_set_new(o, key, v) != 0)
        *oom = true;
}

/* json_array_append_new with the same bookkeeping. Consumes v. */
static void push(json_t *a, json_t *v, bool *oom)
{
    if (json_array_append_new(a, v) != 0)
        *oom = true;
}

static json_t *reals(const double *v, int n, bool *oom)
{
    json_t *a = json_array();
    for (int i = 0; i < n; i++)
        push(a, json_real(v[i]), oom);
    return a;
}

/*
 * The document's text, or NULL if anything failed. Consumes root. A failed
 * allocation during json_dumps discards its text, which may be damaged (see
 * json.c's finish).
 */
static char *dump(json_t *root, bool oom)
{
    uint64_t failures = whaco_alloc_failures_here();
    char *s = root && !oom ? json_dumps(root, DUMP_FLAGS) : NULL;
    if (s && whaco_alloc_failures_here() != failures) {
        whaco_free(s);
        s = NULL;
    }
    json_decref(root);
    return s;
}

char *stateio_export_whaco(const struct whaco_intel *in)
{
    const struct whaco_segmenter *s = &in->seg;
    bool oom = false;
    json_t *root = json_object(), *names = json_array(), *clusters = json_array();
    put(root, "version", json_integer(FILE_VERSION), &oom);
    put(root, "learningRate", json_real(s->cfg.alpha), &oom);
    put(root, "outlierThreshold", json_real(s->cfg.outlier_threshold), &oom);
    put(root, "totalProcessed", json_integer((json_int_t)s->processed), &oom);
    put(root, "outliersDetected", json_integer((json_int_t)s->outliers), &oom);
    for (int j = 0; j < WHACO_FEATURES; j++)
        push(names, json_string(whaco_feature_name(j)), &oom);
    put(root, "featureNames", names, &oom);
    put(root, "featureWeights", reals(s->weights, WHACO_FEATURES, &oom), &oom);
    for (int k = 0; k < WHACO_CLUSTERS; k++) {
        const struct whaco_cluster *c = &s->clusters[k];
        json_t *o = json_object();
        put(o, "id", json_integer(k), &oom);
        put(o, "name", json_string(whaco_profile(k)->name), &oom);
        put(o, "centroid", reals(c->centroid, WHACO_FEATURES, &oom), &oom);
        put(o, "variance", reals(c->variance, WHACO_FEATURES, &oom), &oom);
        put(o, "share", json_real(c->share), &oom);
        put(o, "size", json_integer((json_int_t)c->size), &oom);
        push(clusters, o, &oom);
    }
    put(root, "clusters", clusters, &oom);
    return dump(root, oom);
}

char *stateio_export_oscillator(const struct whaco_intel *in)
{
    const struct whaco_team *t = &in->team;
    bool oom = false;
    json_t *root = json_object(), *list = json_array();
    put(root, "version", json_integer(FILE_VERSION), &oom);
    put(root, "couplingStrength", json_real(t->cfg.coupling), &oom);
    for (size_t i = 0; i < t->n; i++) {
        const struct whaco_member *m = &t->members[i];
        json_t *o = json_object();
        put(o, "id", json_string(m->id), &oom);
        put(o, "name", json_string(m->name), &oom);
        put(o, "skillLevel", json_real(m->skill), &oom);
        put(o, "naturalFrequency", json_real(m->omega), &oom);
        put(o, "phase", json_real(m->phase), &oom);
        put(o, "activeDeals", json_integer(m->active_deals), &oom);
        put(o, "dealsToday", json_integer(m->deals_today), &oom);
        push(list, o, &oom);
    }
    put(root, "oscillators", list, &oom);
    return dump(root, oom);
}

/*==== Import ==============================================================*/

struct ctx {
    const char *file;
    char *errbuf;
    size_t errlen;
    int failed; /* an error is in errbuf */
    int rc;     /* WHACO_E_PARSE, or WHACO_E_NOMEM, once failed */
};

/* Out of memory: fail the import with WHACO_E_NOMEM rather than blame the file. */
static void out_of_memory(struct ctx *c)
{
    if (!c->failed || c->rc != WHACO_E_NOMEM)
        snprintf(c->errbuf, c->errlen, "%s: out of memory", c->file);
    c->failed = 1;
    c->rc = WHACO_E_NOMEM;
}

static int bad(struct ctx *c, const char *field, const char *what)
{
    if (!c->failed)
        snprintf(c->errbuf, c->errlen, "%s: %s %s", c->file, field, what);
    if (!c->failed)
        c->rc = WHACO_E_PARSE;
    c->failed = 1;
    return -1;
}

static double number(struct ctx *c, json_t *o, const char *key, double dflt, int required)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v)) {
        if (required)
            bad(c, key, "is required");
        return dflt;
    }
    if (!json_is_number(v)) {
        bad(c, key, "must be a number");
        return dflt;
    }
    return json_number_value(v);
}

static long long whole(struct ctx *c, json_t *o, const char *key, long long lo, long long hi)
{
    json_t *v = json_object_get(o, key);
    if (!v || json_is_null(v))
        return lo;
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
        bad(c, key, "must be a whole number in range");
        return lo;
    }
    return (long long)json_integer_value(v);
}

static void vector(struct ctx *c, json_t *o, const char *key, double *out, int n, int required)
{
    json_t *a = json_object_get(o, key);
    if (!a || json_is_null(a)) {
        if (required)
            bad(c, key, "is required");
        return;
    }
    if (!json_is_array(a) || (int)json_array_size(a) != n) {
        bad(c, key, "must be an array of 8 numbers");
        return;
    }
    for (int i = 0; i < n; i++) {
        json_t *v = json_array_get(a, (size_t)i);
        if (!json_is_number(v) || !isfinite(json_number_value(v))) {
            bad(c, key, "must hold finite numbers");
            return;
        }
        out[i] = json_number_value(v);
    }
}

static json_t *load(struct ctx *c, const char *text, size_t len)
{
    json_error_t err;
    uint64_t failures = whaco_alloc_failures_here();
    json_t *root = json_loadb(text, len, JSON_REJECT_DUPLICATES, &err);
    if (whaco_alloc_failures_here() != failures ||
        (!root && json_error_code(&err) == json_error_out_of_memory)) {
        json_decref(root);
        out_of_memory(c);
        return NULL;
    }
    if (!root) {
        snprintf(c->errbuf, c->errlen, "%s: not valid JSON (line %d, column %d): %s", c->file,
                 err.line, err.column, err.text);
        c->failed = 1;
        c->rc = WHACO_E_PARSE;
        return NULL;
    }
    if (!json_is_object(root)) {
        bad(c, "the document", "must be a JSON object");
        json_decref(root);
        return NULL;
    }
    if (whole(c, root, "version", 0, FILE_VERSION) > FILE_VERSION)
        bad(c, "version", "is newer than this whaco understands");
    return root;
}

/* Fill the segmenter from whaco_state.json and check it through its decoder. */
static void import_segments(struct ctx *c, json_t *root, struct whaco_segmenter *s)
{
    double total = 0, weight_sum = 0;
    uint64_t sizes = 0;
    json_t *clusters = json_object_get(root, "clusters");
    s->cfg.alpha = number(c, root, "learningRate", s->cfg.alpha, 0);
    s->cfg.outlier_threshold = number(c, root, "outlierThreshold", s->cfg.outlier_threshold, 0);
    vector(c, root, "featureWeights", s->weights, WHACO_FEATURES, 0);
    if (!json_is_array(clusters) || json_array_size(clusters) != WHACO_CLUSTERS) {
        bad(c, "clusters", "must be an array of the 5 segments");
        return;
    }
    for (int k = 0; k < WHACO_CLUSTERS && !c->failed; k++) {
        json_t *o = json_array_get(clusters, (size_t)k);
        struct whaco_cluster *cl = &s->clusters[k];
        if (!json_is_object(o) || whole(c, o, "id", 0, WHACO_CLUSTERS - 1) != k) {
            bad(c, "clusters[].id", "must list the segments 0..4 in order");
            return;
        }
        vector(c, o, "centroid", cl->centroid, WHACO_FEATURES, 1);
        vector(c, o, "variance", cl->variance, WHACO_FEATURES, 1);
        cl->share = number(c, o, "share", 1.0 / WHACO_CLUSTERS, 0);
        cl->size = (uint64_t)whole(c, o, "size", 0, (long long)1 << 53);
        total += cl->share;
        sizes += cl->size;
    }
    if (c->failed)
        return;
    /* Shares must sum to 1 and weights to 8; a file may use another scale
     * (the seed's weights summed to 1). Values already on whaco's scale are
     * kept bit for bit. */
    for (int j = 0; j < WHACO_FEATURES; j++)
        weight_sum += s->weights[j];
    if (fabs(total - 1.0) > 1e-12)
        for (int k = 0; k < WHACO_CLUSTERS; k++)
            s->clusters[k].share = total > 0 ? s->clusters[k].share / total : 1.0 / WHACO_CLUSTERS;
    if (fabs(weight_sum - WHACO_FEATURES) > 1e-12)
        for (int j = 0; j < WHACO_FEATURES; j++)
            s->weights[j] = weight_sum > 0 ? s->weights[j] * WHACO_FEATURES / weight_sum : 1.0;
    s->outliers = (uint64_t)whole(c, root, "outliersDetected", 0, (long long)1 << 53);
    s->processed = sizes + s->outliers;

    struct whaco_buf b = WHACO_BUF_INIT;
    struct whaco_reader r;
    whaco_segmenter_encode(s, &b);
    whaco_reader_init(&r, b.data, b.len);
    if (whaco_buf_error(&b) != WHACO_OK)
        out_of_memory(c);
    else if (whaco_segmenter_decode(s, &r) != WHACO_OK)
        bad(c, "clusters",
            "describe an impossible model (a variance below its floor, a "
            "negative share or weight, or a non-finite value)");
    whaco_buf_release(&b);
}

static void import_team(struct ctx *c, json_t *root, struct whaco_intel *in)
{
    json_t *list = json_object_get(root, "oscillators");
    char field[64];
    double k = number(c, root, "couplingStrength", in->team.cfg.coupling, 0);
    if (!c->failed) {
        struct whaco_team_config cfg = in->team.cfg;
        cfg.coupling = k;
        if (whaco_team_config_check(&cfg, NULL) != WHACO_OK) {
            bad(c, "couplingStrength", "is out of range (0 to 100)");
            return;
        }
        in->team.cfg.coupling = k;
    }
    if (!list || json_is_null(list))
        return;
    if (!json_is_array(list)) {
        bad(c, "oscillators", "must be an array");
        return;
    }
    for (size_t i = 0; i < json_array_size(list) && !c->failed; i++) {
        json_t *o = json_array_get(list, i);
        json_t *id = json_object_get(o, "id"), *name = json_object_get(o, "name");
        struct whaco_member_spec spec;
        const char *f = NULL;
        snprintf(field, sizeof field, "oscillators[%zu]", i);
        if (!json_is_object(o) || !json_is_string(id) || !json_is_string(name)) {
            bad(c, field, "needs a string id and name");
            return;
        }
        spec.id = json_string_value(id);
        spec.name = json_string_value(name);
        spec.skill_level = number(c, o, "skillLevel", 0.5, 1);
        spec.natural_frequency = number(c, o, "naturalFrequency", 0.9, 0);
        spec.phase = number(c, o, "phase", 0.0, 0);
        spec.active_deals = (uint32_t)whole(c, o, "activeDeals", 0, WHACO_TEAM_ACTIVE_DEALS_MAX);
        if (c->failed)
            return;
        int rc = whaco_team_add(&in->team, &spec, &f);
        if (rc == WHACO_E_NOMEM) {
            out_of_memory(c);
            return;
        }
        if (rc != WHACO_OK) {
            snprintf(field, sizeof field, "oscillators[%zu].%s", i, f ? f : "id");
            bad(c, field, whaco_strerror(rc));
            return;
        }
    }
}

int stateio_import(struct whaco_intel *in, const char *whaco_json, size_t whaco_len,
                   const char *oscillator_json, size_t oscillator_len, char *errbuf, size_t errlen)
{
    struct ctx c = {"whaco_state.json", errbuf, errlen, 0, WHACO_OK};
    json_t *root = load(&c, whaco_json, whaco_len);
    if (root)
        import_segments(&c, root, &in->seg);
    json_decref(root);
    if (c.failed)
        return c.rc;
    c.file = "oscillator_state.json";
    root = load(&c, oscillator_json, oscillator_len);
    if (root)
        import_team(&c, root, in);
    json_decref(root);
    return c.failed ? c.rc : WHACO_OK;
}

/*
 * http/json.h: the JSON mapping of the HTTP API -- request bodies to core
 * structs, core structs to response bodies. jansson is included only in
 * src/http (here, and in the state-file and team-file readers), so the JSON
 * library can change in one layer.
 *
 * Parsing is strict (jansson with JSON_REJECT_DUPLICATES: no NaN, no
 * numbers beyond range such as 1e999, no invalid UTF-8, no "\u0000", no
 * duplicate keys, bounded nesting) and validates every field, so a request
 * that parses is one the engine can apply. A failure fills a struct
 * api_error naming the field and what is allowed. Unknown fields are
 * ignored (forward compatibility with newer clients).
 *
 * Builders return a NUL-terminated, malloc'd string the caller frees with
 * free() or whaco_free() (or NULL only if out of memory -- they otherwise
 * always succeed; never a document with a part missing). Field names
 * are the seed's camelCase contract (INTELLIGENCE_README.md, "API
 * Reference"); additions are documented in api/openapi.json. Reals are
 * printed with at most 6 significant digits; timestamps are ISO 8601 UTC
 * with milliseconds ("2025-01-17T14:30:00.000Z").
 *
 * All functions are thread-safe (no shared state).
 */
#ifndef WHACO_HTTP_JSON_H
#define WHACO_HTTP_JSON_H

#include <stddef.h>
#include <stdint.h>

#include "whaco/event.h"
#include "whaco/intel.h"
#include "whaco/outcomes.h"
#include "whaco/team.h"

/*
 * Route jansson's allocations through whaco/alloc.h (json_set_alloc_funcs
 * with whaco_malloc and whaco_free), so that the fault-injection hook and
 * the allocation counters cover JSON parsing and building too. Call once at
 * process start, before any other jansson call and before threads start
 * (main() does; tests do). Idempotent and thread-safe.
 */
void json_alloc_init(void);

/* A request that cannot be served, as the API reports it. */
struct api_error {
    int status;        /* HTTP status, e.g. 400 */
    const char *code;  /* machine-readable, e.g. "INVALID_JSON", "CREDIT_SCORE_RANGE" */
    char message[512]; /* for people: names the field and what is allowed */
    const char *field; /* API field name, or NULL; static storage */
};

/*
 * Fill *e with status 400 and the whaco_err's name as code
 * (whaco_errname), its message (whaco_strerror, e.g. "creditScore must be
 * between 300 and 850") and field.
 */
void api_error_from_whaco(struct api_error *e, int whaco_err, const char *field);

/* Fill *e with the given status, code, field and printf-style message. */
void api_error_set(struct api_error *e, int status, const char *code, const char *field,
                   const char *fmt, ...);

/* {"error":{"code":"...","message":"...","field":"..."}} ("field" omitted if NULL). */
char *json_error(const struct api_error *e);

/*
 * ---- Requests: return 0, or -1 with *e filled (status 400; 503 with code
 * OUT_OF_MEMORY when the server ran out of memory reading the body) ----
 */

/*
 * POST analyze-customer: {"customerId"?, "creditScore", "annualIncome",
 * "vehiclePrice", "downPayment", "tradeValue"? (default 0), "visitCount",
 * "timeOnLot", "engagement"}. Numbers must be JSON numbers; visitCount a
 * whole number (1 and 1.0 both accepted); customerId a string of 1..63
 * printable bytes. Values are checked with whaco_customer_check. Fills an
 * event of type WHACO_EV_ANALYZE.
 * Codes: INVALID_JSON (with line and column), NOT_AN_OBJECT, MISSING_FIELD,
 * WRONG_TYPE, and the whaco_err names (CREDIT_SCORE_RANGE, NOT_INTEGER, ...).
 */
int json_parse_analyze(const char *body, size_t len, struct whaco_event *ev, struct api_error *e);

/*
 * POST deal-closed: {"salespersonId", "dealId"?, "customerId"?}. Fills
 * WHACO_EV_DEAL_CLOSED. Ids: salespersonId 1..63 printable ASCII bytes
 * without spaces; dealId 0..63, customerId 1..63 bytes without control
 * characters (ID_LENGTH otherwise).
 */
int json_parse_deal_closed(const char *body, size_t len, struct whaco_event *ev,
                           struct api_error *e);

/* POST clock-in and clock-out: {"salespersonId"}. Fills an event of type (CLOCK_IN or _OUT). */
int json_parse_member_event(const char *body, size_t len, uint32_t type, struct whaco_event *ev,
                            struct api_error *e);

/*
 * POST salesperson-status: {"salespersonId", "status"}; status one of
 * available, break, delivery, appointment (STATUS_VALUE otherwise).
 */
int json_parse_salesperson_status(const char *body, size_t len, struct whaco_event *ev,
                                  struct api_error *e);

/*
 * POST customer-left: {"customerId", "outcome", "salespersonId"?}; outcome
 * one of no_sale, be_back, appointment (OUTCOME_VALUE otherwise).
 */
int json_parse_customer_left(const char *body, size_t len, struct whaco_event *ev,
                             struct api_error *e);

/* POST assign (a manager's override): {"customerId", "salespersonId"}. */
int json_parse_assign(const char *body, size_t len, struct whaco_event *ev, struct api_error *e);

/*
 * POST add-salesperson: {"id", "name", "skillLevel", "naturalFrequency"?
 * (default 0.9), "phase"? (default 0), "activeDeals"? (default 0)}; checked
 * with whaco_member_spec_check. Fills WHACO_EV_ADD_SALESPERSON.
 */
int json_parse_add_salesperson(const char *body, size_t len, struct whaco_event *ev,
                               struct api_error *e);

/* ---- Responses ---- */

/*
 * The short team status used inside analyze-customer's "teamStatus":
 * {"coherence","status","totalSalespeople","bottlenecks":[...],
 *  "mentoringOpportunities":[...]}. st may be NULL for an empty team, which
 * gives coherence 0, status "critical", totalSalespeople 0, empty arrays and
 * "message":"No salespeople in network".
 */
char *json_team_status_short(const struct whaco_team *t, const struct whaco_team_status *st);

/*
 * GET team-status: the short form plus "teamMembers":[{"id","name","phase",
 * "phaseLabel","activeDeals","dealsToday","leadsToday","skillLevel",
 * "naturalFrequency","status"}], "meanPhase", "floorTracked" (floor not
 * NULL and tracked) and "coverage" (whaco_floor_coverage). st NULL as above.
 */
char *json_team_status(const struct whaco_team *t, const struct whaco_team_status *st,
                       const struct whaco_floor *floor);

/*
 * POST analyze-customer's answer: {"customerAnalysis":{"clusterId",
 * "clusterName","clusterDescription","isOutlier","outlierReason" (null or
 * the seed's reason text),"confidence","recommendedApproach",
 * "priorityScore","outlierScore"},"assignedTo" (id or null),"teamStatus"
 * (team_status_short, spliced in verbatim: it must be valid JSON, as
 * json_team_status_short makes it),"recommendedActions":[...]}.
 * With an empty team, also "warning":"No salespeople in network".
 */
char *json_analysis(const struct whaco_analysis *an, const char *team_status_short);
/* (On a tracked floor the answer also has "queuePosition" -- 1 = next at the
 * desk, null when assigned -- and "customerId", the walk-in's id.) */

/* The segments summary object: {"totalCustomersProcessed","outliersDetected",
 * "clusters":[{"id","profile":{"name","description","approach","priority"},
 * "centroid":[8],"sizeEstimate","share"}],"featureNames":[8],"featureWeights":[8]}. */
char *json_segments_summary(const struct whaco_segmenter *s, const struct whaco_learn *learn);

/* GET customer-segments: {"segments": <summary>}. */
char *json_customer_segments(const struct whaco_segmenter *s, const struct whaco_learn *learn);

/*
 * One anomaly: {"timestamp","customerId","features":{"ficoScore","income",
 * "vehiclePrice","downPayment","downPaymentPercent","tradeValue",
 * "visitCount","timeOnLot","engagement"},"clusterId","clusterName",
 * "outlierScore","reason"}.
 */
char *json_anomaly(const struct whaco_anomaly *a);

/* GET anomalies: {"anomalies":[newest first, at most limit],"total": ring count}. */
char *json_anomalies(const struct whaco_segmenter *s, unsigned limit);

/* GET insights: {"teamStatus":<full>,"customerSegments":<summary>,"recentAnomalies":[...]}. */
char *json_insights(const struct whaco_intel *in, const struct whaco_team_status *st,
                    unsigned anomaly_limit);

/* GET salespeople: {"salespeople":[{"id","name","skillLevel","naturalFrequency",
 * "phase","activeDeals","dealsToday","leadsToday","status"}],"total"}. */
char *json_salespeople(const struct whaco_team *t, const struct whaco_team_status *st);

/* GET coherence-history: {"hours","samples":[{"timestamp","coherence"}]}. */
char *json_coherence_history(double hours, const struct whaco_coherence_sample *samples, size_t n);

/* deal-closed: {"status":"recorded","salespersonId","dealId","timestamp"}. */
char *json_deal_recorded(const struct whaco_event *ev);

/* add-salesperson: {"status":"added","id","name"}; remove: {"status":"removed","id"}. */
char *json_salesperson_added(const struct whaco_event *ev);
char *json_salesperson_removed(const char *id);

/* reset: {"status":"reset","timestamp"}. */
char *json_reset_done(int64_t time_ms);

/*
 * GET /healthz: {"status","lastSeq","snapshots"} plus, while degraded,
 * "reason" (why the storage failed) and "since" (ISO time it began).
 */
char *json_health(const char *status, uint64_t last_seq, uint64_t snapshots, const char *reason,
                  int64_t since_ms);

/*
 * The dashboard's "analyzed-customer" event: {"customerId","clusterId",
 * "clusterName","isOutlier","priorityScore","assignedTo","timestamp"}.
 */
char *json_event_analyzed(const struct whaco_analysis *an, const char *customer_id,
                          int64_t time_ms);

/*
 * A floor write's answer: {"status", "customerId" (when the event names
 * one), "outcome" (customer-left), "salespersonId" (null for a
 * customer-left without one), "floorStatus" (salesperson-status),
 * "assignments":[{"customerId","salespersonId","waitSeconds","override"}]
 * (the walk-ins the event handed out), "timestamp"}.
 */
char *json_floor_done(const char *status, const struct whaco_event *ev,
                      const struct whaco_floor_news *news);

/*
 * POST outcomes' answer: {"rows" (data rows read), "recorded",
 * "alreadyRecorded", "unmatched":[{"row","customerId","reason","field"
 * (null if none),"message"}] (in file order), "ignoredColumns":[names],
 * "assignments":[as json_floor_done's, of every recorded row],
 * "timestamp"}. reports[i] is what f->lines[i] came to (whaco_outcome_explain);
 * news[0..n_news) the floor news of the events.
 */
char *json_outcomes_done(const struct whaco_outcome_file *f,
                         const struct whaco_outcome_report *reports,
                         const struct whaco_floor_news *const *news, size_t n_news,
                         int64_t time_ms);

/*
 * The event stream's "customer-assigned":
 * {"customerId","salespersonId","waitSeconds","override","timestamp"}.
 */
char *json_customer_assigned(const struct whaco_assignment *a, int64_t time_ms);

/*
 * GET up-board at now_ms: {"floorTracked","floorTracking","assignment",
 * "maxCustomers","upOrder":[ids, first up first],"salespeople":[{"id",
 * "name","state" (off, available, with_customer, break, delivery,
 * appointment),"position" (in the up order; null when off),"since",
 * "customers":[{"customerId","since","override"}],"freeSlots",
 * "walkInsToday","overridesToday"}] (the up order, then those off the
 * floor),"waiting":[{"customerId","position","arrived","waitSeconds",
 * "clusterId","clusterName","priorityScore","returningTo" (a be-back's
 * salesperson, or null)}],"timestamp"}.
 */
char *json_up_board(const struct whaco_intel *in, int64_t now_ms);

/*
 * GET experiment: {"enabled":false} with no A/B test; while one runs
 * {"enabled":true,"since","seed","floorTracked","minimumEnded","arms":[{"name"
 * ("A", "B"),"assignment","walkIns","ended","deals","closeRate",
 * "waitMeanMinutes","waitP95Minutes"}] (the last three null before an arm's
 * first ended walk-in),"difference":{"closeRatePoints","waitMeanMinutes"}
 * (each {"estimate","low","high"}, B - A, or null while it cannot be
 * computed),"verdict","timestamp"} (whaco/experiment.h).
 */
char *json_experiment(const struct whaco_intel *in, int64_t now_ms);

/* Write Unix ms as "2025-01-17T14:30:00.000Z" into buf (>= 25 bytes). */
void json_iso8601(int64_t ms, char buf[32]);

#endif /* WHACO_HTTP_JSON_H */
